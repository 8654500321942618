"""One finite-difference loop and one gradient check (engine.gradcheck): the numerical gradient,
the lecture's tables and the labs' gradient-check table all go through them."""
import numpy as np
import pytest

from engine import labs as L
from engine.config import LossConfig, ModelConfig
from engine.gradcheck import (gradient_check, gradient_check_entries, numerical_gradient,
                              numerical_gradient_steps, relative_error)
from engine.models import Network


def test_the_steps_are_the_numerical_gradient():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    f = lambda: float(np.sum(np.sin(x)) + x[0, 0] * x[1, 1])  # noqa: E731
    for method, h in (("centered", 1e-5), ("forward", 1e-4)):
        rows = list(numerical_gradient_steps(f, x, h, method=method))
        assert [r[0] for r in rows] == list(np.ndindex(2, 2))
        grad = numerical_gradient(f, x, h, method=method)
        assert [r[4] for r in rows] == [grad[ix] for ix in np.ndindex(2, 2)]
    before = x.copy()
    ix, w, base, lp, slope = next(numerical_gradient_steps(f, x, 1e-4))   # stopped early: x is restored
    assert np.array_equal(x, before) and w == 0.3 and slope == (lp - base) / 1e-4
    (ix, w, lm, lp, slope), = numerical_gradient_steps(f, x, 1e-5, indices=[(1, 0)], method="centered")
    assert ix == (1, 0) and slope == (lp - lm) / 2e-5 and slope == pytest.approx(np.cos(2.0))
    with pytest.raises(ValueError):
        numerical_gradient(f, x, method="backward")


def _net():
    net = Network(4, 3, ModelConfig(hidden=[5], activations=["tanh"], dtype="float64"),
                  LossConfig(reg="l2", reg_strength=0.1), rng=np.random.default_rng(1))
    X = np.random.default_rng(0).normal(size=(6, 4))
    return net, X, np.array([0, 1, 2, 0, 1, 2])


def test_one_gradient_check_entry_by_entry_and_per_parameter():
    net, X, y = _net()
    rows = gradient_check_entries(net, X, y)
    assert [(n, ix) for n, ix, *_ in rows] == [(n, ix) for n, p in net.params.items() for ix in np.ndindex(*p.shape)]
    for name, ix, a, num, err in rows:
        assert err == relative_error(a, num) and err < 1e-7
    summary = gradient_check(net, X, y)
    assert summary == {n: max(e for m, *_, e in rows if m == n) for n in net.params}
    some = gradient_check_entries(net, X, y, count=3, rng=np.random.default_rng(4))
    per = {n: [ix for m, ix, *_ in some if m == n] for n in net.params}
    assert all(len(v) == min(3, net.params[n].size) and v == sorted(v) for n, v in per.items())
    # the labs' table is the same check, with a noise floor for both-zero entries
    table = L.gradient_check_table(net, X, y, count=3, seed=4)
    assert [r[:4] for r in table] == [r[:4] for r in some]


def test_a_nan_gradient_is_not_hidden():
    class Broken:
        """A model whose backward gives NaN for ``b``."""
        def __init__(self):
            self.params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
            self.grads = {}

        def loss(self, X, y, grads=True):
            w, b = self.params["w"], self.params["b"]
            v = float(w @ w + 3 * b[0])
            if grads:
                self.grads = {"w": 2 * w, "b": np.array([np.nan])}
            return v, v, 0.0

    errs = gradient_check(Broken(), None, None)
    assert np.isnan(errs["b"]) and errs["w"] < 1e-7
