"""engine.optim: the one random search (one by one or scored in batches: the same draws, the same
choices) and the labs' gradient descent through optim.SGD."""
import numpy as np
import pytest

from engine import labs as L
from engine.config import DatasetConfig
from engine.datasets import load_dataset
from engine.models import LinearClassifier
from engine.optim import random_local_search, random_search


@pytest.fixture(scope="module")
def toy():
    return load_dataset(DatasetConfig(name="gaussians", classes=3, samples=40, seed=1))


def test_random_search_in_batches_is_the_same_search(toy):
    X, y = toy.X_train, toy.y_train

    def run(batch):
        net = LinearClassifier(2, 3, dtype="float64")
        f = lambda: net.loss(X, y, grads=False)[0]  # noqa: E731

        def scored(cands):                      # the same loss, k candidates at a time
            out = []
            for w in cands:
                for p, v in zip(net.param_list(), w):
                    p[...] = v
                out.append(f())
            return out
        reports = []
        best, hist = random_search(f, net.param_list(), 25, 0.5, np.random.default_rng(3),
                                   lambda t, h: reports.append((t, len(h))), batch=batch,
                                   batch_losses=scored if batch > 1 else None)
        return best, hist, reports, net.copy_params(), f()

    one, six = run(1), run(6)
    assert one[0] == six[0] and one[1] == six[1]
    assert all(np.array_equal(one[3][k], six[3][k]) for k in one[3])
    assert one[4] == one[0]                                       # the params hold the best W
    assert one[2] == [(t, t) for t in range(1, 26)]
    assert six[2] == [(6, 6), (12, 12), (18, 18), (24, 24), (25, 25)]
    net = LinearClassifier(2, 3, dtype="float64")
    f = lambda: net.loss(X, y, grads=False)[0]  # noqa: E731
    _, hist = random_search(f, net.param_list(), 25, 0.5, np.random.default_rng(3), lambda t, h: t >= 3)
    assert len(hist) == 3
    _, hist = random_local_search(f, net.param_list(), 25, 0.1, np.random.default_rng(3), lambda t, h: t >= 4)
    assert len(hist) == 4 and all(a >= b for (_, a), (_, b) in zip(hist, hist[1:]))


def test_the_labs_gradient_descent_is_sgd(toy):
    X, y = toy.X_train.astype(np.float64), toy.y_train
    runs = L.gradient_descent_runs(X, y, 3, lrs=(0.05,), steps=12, seed=2, loss="softmax")
    m = L.linear_model_for(X, 3, "softmax", 2, 1e-4)
    expected = []
    for _ in range(12):
        expected.append(m.loss(X, y, grads=True)[0])
        for name, g in m.grads.items():
            m.params[name] -= 0.05 * g
    assert runs[0.05] == expected
