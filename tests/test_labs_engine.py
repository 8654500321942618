"""engine.labs: the lecture's worked numbers, checked against the engine (no Qt)."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # (before numpy: its extra BLAS threads only spin on 2 shared cores)

import numpy as np
import pytest

from engine import labs as L
from engine.config import DatasetConfig
from engine.datasets import load_dataset
from engine.layers import hinge_loss_forward, softmax_loss_forward
from engine.trainer import Trainer


@pytest.fixture(scope="module")
def toy():
    return load_dataset(DatasetConfig(name="spiral", samples=20, classes=3, seed=1))


def test_score_presets_match_lecture_and_flag_the_slip():
    s1 = L.score_function(L.SCORE_PRESETS[0].W, L.SCORE_X, L.SCORE_PRESETS[0].b)
    np.testing.assert_allclose(s1, [-96.8, 437.9, 60.75], atol=1e-9)
    assert L.preset_discrepancies(L.SCORE_PRESETS[0]) == [(2, 61.95, pytest.approx(60.75))]
    assert "61.95" in L.SCORE_PRESETS[0].note and "-1.2" in L.SCORE_PRESETS[0].note.replace("−", "-")
    s2 = L.score_function(L.SCORE_PRESETS[1].W, L.SCORE_X, L.SCORE_PRESETS[1].b)
    np.testing.assert_allclose(s2, [447.2, 44.9, 12.85], atol=1e-9)
    assert L.preset_discrepancies(L.SCORE_PRESETS[1]) == []
    # the engine's row convention: x @ W.T + b is the same
    np.testing.assert_allclose(L.SCORE_X @ L.SCORE_PRESETS[0].W.T + L.SCORE_PRESETS[0].b, s1)


def test_hinge_table_lecture_numbers_and_engine():
    t = L.hinge_table(L.LOSS_SCORES, L.LOSS_LABELS)
    np.testing.assert_allclose(t.losses, [2.9, 0.0, 12.9], atol=1e-12)
    assert t.mean == pytest.approx(5.27, abs=5e-3)
    assert t.terms[0, 1] == pytest.approx(2.9) and t.terms[0, 2] == 0.0
    assert t.raw[0, 2] == pytest.approx(-3.9) and t.raw[2, 0] == pytest.approx(6.3)
    assert t.terms[2, 1] == pytest.approx(6.6) and np.isnan(t.terms[1, 1])
    mean, cache = hinge_loss_forward(L.LOSS_SCORES, L.LOSS_LABELS)
    assert t.mean == pytest.approx(mean)
    np.testing.assert_allclose(t.losses, cache["losses"])


def test_softmax_table_lecture_numbers_and_engine():
    t = L.softmax_table(L.LOSS_SCORES, L.LOSS_LABELS)
    np.testing.assert_allclose(t.exp[0], [24.5, 164.0, 0.18], atol=0.05)
    assert t.sums[0] == pytest.approx(188.68, abs=0.1)  # the slide sums the rounded 24.5 + 164.0 + 0.18
    np.testing.assert_allclose(t.probs[0], [0.13, 0.87, 0.00], atol=0.005)
    assert t.losses[0] == pytest.approx(2.04, abs=5e-3)          # natural log
    assert t.losses_log10[0] == pytest.approx(0.89, abs=5e-3)    # the slide's value is log10
    mean, cache = softmax_loss_forward(L.LOSS_SCORES, L.LOSS_LABELS)
    assert t.mean == pytest.approx(mean)
    np.testing.assert_allclose(t.probs, cache["probs"])
    # large scores do not overflow the probabilities or the loss
    big = L.softmax_table(np.array([[1000.0, 0.0]]), np.array([1]))
    assert big.losses[0] == pytest.approx(1000.0)


def test_regularization_example():
    assert L.REG_W1 @ L.REG_X == L.REG_W2 @ L.REG_X == 1.0
    assert L.penalties(L.REG_W1) == (1.0, 1.0)
    assert L.penalties(L.REG_W2) == (1.0, 0.25)


def test_activation_curves_are_the_engines_and_derivatives_match_numeric():
    x = np.linspace(-3, 3, 13) + 0.05  # avoid the kink at 0
    for name, attrs in [("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {"slope": 0.1}),
                        ("elu", {"alpha": 0.7})]:
        y, dy = L.activation_curve(name, x, **attrs)
        h = 1e-6
        num = (L.activation_curve(name, x + h, **attrs)[0] - L.activation_curve(name, x - h, **attrs)[0]) / (2 * h)
        np.testing.assert_allclose(dy, num, atol=1e-6)
    np.testing.assert_allclose(L.activation_curve("tanh", x)[0], np.tanh(x))
    np.testing.assert_allclose(L.activation_curve("leaky_relu", np.array([-1.0]), slope=0.2)[0], [-0.2])


def test_linear_collapse(toy):
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=3)
    W, b = L.collapse_linear(W1, b1, W2, b2)
    X = rng.normal(size=(7, 5))
    np.testing.assert_allclose((X @ W1 + b1) @ W2 + b2, X @ W + b)
    # the lecture's column form: W2_l W1_l and W2_l b1 + b2 with W_l = W.T
    np.testing.assert_allclose(W.T, W2.T @ W1.T)
    np.testing.assert_allclose(b, W2.T @ b1 + b2)
    r = L.collapse_demo(toy.X_train, toy.num_classes, hidden=8)
    assert r.max_abs_diff < 1e-10
    assert r.W.shape == (2, 3) and r.b.shape == (3,)


def test_random_search_reproducible_and_improving(toy):
    args = (toy.X_train, toy.y_train, toy.X_val, toy.y_val, toy.num_classes)
    a = L.run_random_search(*args, trials=30, seed=5)
    b = L.run_random_search(*args, trials=30, seed=5)
    assert a.losses == b.losses and a.accuracy == b.accuracy
    assert a.best == list(np.minimum.accumulate(a.losses))
    assert a.best_loss == min(a.losses)
    c = L.run_random_search(*args, trials=30, seed=6)
    assert c.losses != a.losses
    loc = L.run_random_search(*args, trials=30, seed=5, local=True, step=1e-2)
    assert all(x >= y for x, y in zip(loc.best, loc.best[1:]))
    stopped = L.run_random_search(*args, trials=30, seed=5, cancel=lambda: True)
    assert len(stopped.losses) == 1
    seen = []
    L.run_random_search(*args, trials=5, seed=5, progress=lambda t, ls, bs: seen.append((t, list(ls), list(bs))))
    assert seen[-1] == (5, a.losses[:5], a.best[:5]) and [t for t, *_ in seen] == [1, 2, 3, 4, 5]


def test_gradient_descent_three_rates_reproducible(toy):
    X, y = toy.X_train, toy.y_train
    r1 = L.gradient_descent_runs(X, y, 3, lrs=(1e-4, 1.0, 1e4), steps=20, seed=3)
    r2 = L.gradient_descent_runs(X, y, 3, lrs=(1e-4, 1.0, 1e4), steps=20, seed=3)
    assert r1 == r2
    assert r1[1.0][-1] < r1[1e-4][-1] < r1[1e-4][0] + 1e-12
    # the same seeded start for every rate
    assert r1[1e-4][0] == r1[1.0][0] == r1[1e4][0]
    with pytest.raises(L.Cancelled):
        L.gradient_descent_runs(X, y, 3, steps=5, cancel=lambda: True)


def test_numerical_gradient_table_and_check(toy):
    X, y = toy.X_train, toy.y_train
    m = L.linear_model_for(X, 3, loss="softmax", seed=0, scale=0.1)
    rows = L.numerical_gradient_table(m, X, y, rows=4, h=1e-4)
    assert [r[0] for r in rows] == [0, 1, 2, 3]
    m.loss(X, y, grads=True)
    g = m.grads["W1"].ravel()
    for k, w, wh, base, lp, slope in rows:
        assert wh == pytest.approx(w + 1e-4)
        assert slope == pytest.approx((lp - base) / 1e-4)
        assert slope == pytest.approx(g[k], abs=1e-3)
    table = L.gradient_check_table(m, X, y, count=3)
    assert {r[0] for r in table} == {"W1", "b1"}
    assert max(r[4] for r in table) < 1e-6
    cost, analytic, n = L.numerical_gradient_cost(m, X, y, dims=(2, 6))
    assert [c[0] for c in cost] == [2, 6] and analytic > 0 and n == m.num_params


def test_landscape_matches_direct_evaluation(toy):
    X, y = toy.X_train, toy.y_train
    m = L.linear_model_for(X, 3, loss="svm", seed=0, scale=0.5)
    before = m.copy_params()
    s1 = L.loss_landscape(m, X, y, dims=1, span=2.0, steps=9, seed=4)
    for k, v in before.items():
        np.testing.assert_array_equal(m.params[k], v)
    d = s1.directions[0]["W1"]
    for j in (0, 4, 7):
        probe = L.linear_model_for(X, 3, loss="svm")
        probe.set_params({"W1": before["W1"] + s1.alphas[j] * d, "b1": before["b1"]})
        assert s1.losses[j] == pytest.approx(probe.loss(X, y, grads=False)[0], rel=1e-12)
    assert s1.losses[4] == pytest.approx(s1.center)
    seen = []
    s2 = L.loss_landscape(m, X, y, dims=2, span=1.0, steps=5, seed=4, progress=seen.append)
    assert s2.losses.shape == (5, 5) and seen[-1] == pytest.approx(1.0)
    d1, d2 = s2.directions[0]["W1"], s2.directions[1]["W1"]
    for i, j in [(0, 0), (1, 3), (4, 2)]:
        probe = L.linear_model_for(X, 3, loss="svm")
        probe.set_params({"W1": before["W1"] + s2.alphas[j] * d1 + s2.betas[i] * d2, "b1": before["b1"]})
        assert s2.losses[i, j] == pytest.approx(probe.loss(X, y, grads=False)[0], rel=1e-12)
    with pytest.raises(L.Cancelled):
        L.loss_landscape(m, X, y, dims=2, steps=5, cancel=lambda: True)
    for k, v in before.items():
        np.testing.assert_array_equal(m.params[k], v)


def test_overfit_presets_build_and_train():
    from engine import lecture_tables as T
    for name in T.OVERFIT_PRESETS:
        cfg = T.overfit_config(name, epochs=2)
        cfg.validate()
    cfg = T.overfit_config("good fit", epochs=3)
    data = load_dataset(cfg.dataset)
    tr = Trainer.from_config(cfg, data)
    tr.fit(3)
    assert len(tr.history.train_acc) == 3
    xs, ys, lab = L.decision_grid(tr.model, (-1, -1), (1, 1), n=10)
    assert lab.shape == (10, 10) and lab.max() < 3


# ---------------------------------------------------------------- optimization: issue 13

BUNDLED = ("spiral", "circles", "xor", "gaussians", "moons", "digits", "cifar10-4k")


@pytest.fixture(scope="module")
def cifar():
    return load_dataset(DatasetConfig(name="cifar10-4k"))


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_picked_learning_rates_do_what_their_names_say(name, loss, cifar):
    d = cifar if name == "cifar10-4k" else load_dataset(DatasetConfig(name=name))
    n = 120 if name == "cifar10-4k" else 200
    X, y = d.X_train[:n].astype(np.float64), d.y_train[:n]
    p = L.pick_learning_rates(X, y, d.num_classes, loss=loss, steps=100)
    assert p.low < p.good < p.high
    low, good, high = (p.final(r) for r in p.rates)
    assert good == min(p.final(r) for r in p.runs)            # good ends lowest of every rate tried
    assert low > good                                          # too low ends above good
    assert high > good                                         # too high diverges (inf) or ends above
    assert 30 <= p.good / p.low <= 1000
    assert p.label(p.high).startswith(("diverged at step", "oscillates", "ends at"))
    # the curves are real gradient-descent runs from the same start
    again = L.gradient_descent_runs(X, y, d.num_classes, lrs=(p.good,), steps=100, loss=loss,
                                    reg_strength=p.reg_strength)[p.good]
    assert again == p.runs[p.good]
    assert p.runs[p.low][0] == p.runs[p.good][0] == p.runs[p.high][0]


def test_curve_labels():
    assert L.describe_curve([2.0, 1.0, 5.0, 300.0], 10) == "diverged at step 3"
    assert L.describe_curve([2.0, 1.0, 1.5, 0.9], 4) == "oscillates, ends at 0.9"
    assert L.describe_curve(list(np.linspace(2.3, 2.21, 100)), 100) == "still falling slowly: 2.21"
    assert L.describe_curve([2.0, 0.5, 0.41, 0.41, 0.41], 5) == "ends at 0.41"
    assert L.gd_reg_strength(np.full((4, 2), 10.0)) == pytest.approx(2e-3)


def test_batched_random_search_is_the_same_search(cifar):
    """Trials scored 7 at a time by one float32 product: the same draws and choices as one by one."""
    X, y = cifar.X_train[:60], cifar.y_train[:60]
    for loss in ("svm", "softmax"):
        a = L.run_random_search(X, y, cifar.X_test, cifar.y_test, 10, trials=23, seed=3, batch=7, loss=loss)
        b = L.run_random_search(X.astype(np.float64), y, cifar.X_test.astype(np.float64), cifar.y_test, 10,
                                trials=23, seed=3, loss=loss)
        np.testing.assert_allclose(a.losses, b.losses, rtol=1e-6)
        assert a.best == list(np.minimum.accumulate(a.losses))
        np.testing.assert_allclose(a.params["W1"], b.params["W1"])
        assert a.accuracy == b.accuracy
    seen = []
    c = L.run_random_search(X, y, X, y, 10, trials=30, batch=10, cancel=lambda: True,
                            progress=lambda t, ls, bs: seen.append(t))
    assert seen == [10] and len(c.losses) == 10


@pytest.mark.slow
def test_random_search_on_cifar_beats_chance(cifar):
    """The lecture's setting (1000 tries of 0.0001·randn on raw CIFAR-10 pixels, SVM): the
    best W's test accuracy is above chance (10 %) on average over seeds."""
    X, y = cifar.X_train[:200], cifar.y_train[:200]
    accs = [L.run_random_search(X, y, cifar.X_test, cifar.y_test, 10, trials=L.LECTURE_SEARCH_TRIALS,
                                scale=L.LECTURE_SEARCH_SCALE, seed=s, batch=100).accuracy for s in range(3)]
    mean, sd = L.mean_sd(accs)
    assert mean > 0.11, accs
    assert sd > 0


def test_random_search_printout_slip_is_flagged():
    fixed = L.printout_corrected()
    assert [b for *_, b in fixed] == [9.401632, 8.959668, 8.044034, 8.044034, 8.044034]
    assert L.printout_slips() == [2, 3, 4]
    for v in ("8.959668", "8.044034", "8.278948"):
        assert v in L.RANDOM_SEARCH_NOTE


def test_lecture_numerical_gradient_reproduces_the_slide():
    rows = L.lecture_gradient_table()
    assert len(rows) == 9
    np.testing.assert_allclose([r[1] for r in rows], [0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33])
    for r, (printed_loss, printed_slope) in zip(rows, L.LECTURE_PRINTED):
        assert round(r[3], 5) == 1.25347
        assert round(r[4], 5) == printed_loss
        assert round(r[6], 1) == printed_slope
        assert (round(r[4], 5) - round(r[3], 5)) / 1e-4 == pytest.approx(printed_slope, abs=1e-9)
        assert r[5] == pytest.approx(r[4] - r[3])
        assert abs(r[6] - r[7]) == pytest.approx(0.5e-4, rel=1e-6)   # forward difference: off by h/2


def test_numerical_gradient_starts_where_the_gradient_is_largest(cifar):
    X, y = cifar.X_train[:50].astype(np.float64), cifar.y_train[:50]
    m = L.linear_model_for(X, 10, loss="svm", seed=0, scale=1e-4)
    idx = L.largest_gradient_indices(m, X, y, count=5)
    m.loss(X, y, grads=True)
    g = np.abs(m.grads["W1"]).ravel()
    assert g[idx[0]] == g.max() and all(g[a] >= g[b] for a, b in zip(idx, idx[1:]))
    rows = L.numerical_gradient_table(m, X, y, h=1e-4, indices=idx)
    assert [r[0] for r in rows] == idx
    for r in rows:
        assert abs(r[4] - r[3]) > 1e-4                     # the nudge visibly changes the loss
        assert r[5] == pytest.approx(m.grads["W1"].ravel()[r[0]], rel=0.05)   # (SVM kinks: approximate)


def test_landscape_partial_results(toy):
    X, y = toy.X_train, toy.y_train
    m = L.linear_model_for(X, 3, loss="svm", seed=0, scale=0.5)
    parts = []
    s = L.loss_landscape(m, X, y, dims=2, steps=10, seed=1, partial=parts.append)
    assert parts and np.isnan(parts[0].losses[-1]).all() and not np.isnan(parts[0].losses[0]).any()
    np.testing.assert_array_equal(parts[-1].losses[:len(parts)], s.losses[:len(parts)])
    assert not np.isnan(s.losses).any()


def test_gradient_descent_reports_long_runs_as_they_go(toy):
    seen = []
    r = L.gradient_descent_runs(toy.X_train, toy.y_train, 3, lrs=(0.5,), steps=35,
                                on_losses=lambda lr, ls: seen.append((lr, ls)))
    assert [len(ls) for _, ls in seen] == [10, 20, 30]
    assert all(lr == 0.5 and ls == r[0.5][:len(ls)] for lr, ls in seen)
