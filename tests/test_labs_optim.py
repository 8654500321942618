"""The Optimization and Loss landscape labs (pytest-qt, offscreen): each shows its default result
when first shown (``has_result``), the image parts run on CIFAR-10 when the window has 2-D points,
the learning rates do what their names say, the slide's numbers and slip are shown."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # (before numpy: its extra BLAS threads only spin on 2 shared cores)

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from engine import labs as L  # noqa: E402
from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from gui.labs import LabsWidget  # noqa: E402
from gui.labs.image_data import bundled_cifar  # noqa: E402


@pytest.fixture(scope="module")
def spiral():
    return load_dataset(DatasetConfig(name="spiral", samples=40, classes=3, seed=2))


@pytest.fixture
def labs(qtbot, spiral):
    w = LabsWidget(dataset=spiral)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    yield w
    w.shutdown()


def _show(labs, name):
    i = [c.__name__ for c in labs._classes].index(name)
    assert labs._built[i] is None
    labs.tabs.setCurrentIndex(i)
    return labs._built[i]


def _cell(table, r, c):
    return table.item(r, c).text()


def test_optim_lab_shows_every_part_when_first_shown(labs, qtbot, spiral):
    lab = _show(labs, "OptimLab")
    qtbot.waitUntil(lambda: lab.has_result, timeout=30_000)
    # the lecture's numbers are in the table at once, with the slide's digits
    assert lab.ng_result[0] == "lecture"
    heads = [lab.ng_table.horizontalHeaderItem(j).text() for j in range(lab.ng_table.columnCount())]
    col = {h: j for j, h in enumerate(heads)}
    assert [_cell(lab.ng_table, r, col["L(W + h)"]) for r in range(3)] == ["1.25322", "1.25353", "1.25347"]
    assert [round(float(_cell(lab.ng_table, r, col["ΔL / h"])), 1) for r in range(3)] == [-2.5, 0.6, 0.0]
    assert _cell(lab.ng_table, 0, col["ΔL = L(W+h) − L(W)"]).startswith("-2.4999")
    assert "built" in lab.ng_label.text() and "1.25347" in lab.ng_label.text()
    # the slide's random-search slip, flagged
    assert "8.044034" in lab.slip.text() and "8.959668" in lab.slip.text() and lab.slip.isVisible()
    # every part has drawn something: sweep curves, random-search tries, the cost points
    assert lab.gd_sweep_items or lab.gd_result
    assert len(lab.rs_points.data) > 0
    assert lab.cost_num.xData is not None and len(lab.cost_num.xData) >= 1
    # the image parts say they use CIFAR-10 because the spiral is 2-D points
    assert "2-D points" in lab.rs_label.text() and "CIFAR-10" in lab.rs_label.text()
    assert lab.trials.value() == 1000 and lab.scale.text() == "0.0001" and lab.n_seeds.value() == 5
    # the learning-rate sweep on the loaded spiral: the names hold
    qtbot.waitUntil(lambda: lab.pick is not None, timeout=30_000)
    p = lab.pick
    assert list(lab.gd_result) == list(p.rates)
    assert p.final(p.good) < p.final(p.low) and p.final(p.good) < p.final(p.high)
    assert [float(e.text()) for e in lab.lrs] == pytest.approx(p.rates, rel=1e-2)
    text = lab.gd_label.text()
    assert "too low" in text and "good" in text and "too high" in text
    assert any(s in text for s in ("diverged at step", "oscillates", "ends at"))
    ref = L.pick_learning_rates(spiral.X_train[:500].astype(np.float64), spiral.y_train[:500], 3, loss="svm",
                                steps=100)
    assert ref.rates == p.rates


def test_optim_random_search_on_cifar_over_seeds(labs, qtbot):
    lab = labs.lab("OptimLab")           # built, not shown: no default jobs
    lab.trials.setValue(60)
    lab.n_seeds.setValue(2)
    lab.n_train.setValue(80)
    with qtbot.waitSignal(lab.rs_runner.finished, timeout=30_000):
        lab.run_search()
    d = bundled_cifar()
    assert [s for s, _ in lab.search_runs] == [0, 1]
    for s, r in lab.search_runs:
        ref = L.run_random_search(d.X_train[:80], d.y_train[:80], d.X_test, d.y_test, 10, trials=60, seed=s,
                                  batch=50)
        assert r.losses == pytest.approx(ref.losses) and r.accuracy == ref.accuracy
    accs = [100 * r.accuracy for _, r in lab.search_runs]
    mean, sd = L.mean_sd(accs)
    assert f"{mean:.1f} % ± {sd:.1f}" in lab.rs_label.text()
    assert "chance 10 %" in lab.rs_label.text() and "15.5 %" in lab.rs_label.text()
    assert list(lab.acc_points.data["y"]) == pytest.approx(accs)
    assert lab.acc_lines["mean"].value() == pytest.approx(mean)


def test_optim_numerical_gradient_on_real_images(labs, qtbot):
    lab = labs.lab("OptimLab")
    lab.n_train.setValue(100)
    with qtbot.waitSignal(lab.ng_runner.finished, timeout=30_000):
        lab.ng_example.setCurrentIndex(1)
    kind, rows = lab.ng_result[0], lab.ng_result[1]
    assert kind == "table" and len(rows) == 10
    d = bundled_cifar()
    X, y = d.X_train[:100].astype(np.float64), d.y_train[:100]
    m = L.linear_model_for(X, 10, "svm", 0, scale=1e-4)
    assert [r[0] for r in rows] == L.largest_gradient_indices(m, X, y, count=10)
    for r in rows:
        assert abs(r[6]) > 1.0                       # a slope you can see, not a blank pixel's 0
        assert abs(r[4] - r[3]) > 1e-5
    heads = [lab.ng_table.horizontalHeaderItem(j).text() for j in range(lab.ng_table.columnCount())]
    dl = lab.ng_table.item(0, heads.index("ΔL = L(W+h) − L(W)")).text()
    assert "e-0" in dl and len(dl.split("e")[0].replace("-", "").replace("+", "").replace(".", "")) >= 4
    assert "CIFAR-10" in lab.ng_label.text()
    lab.ng_example.setCurrentIndex(0)
    assert lab.ng_result[0] == "lecture"


def test_optim_uses_an_image_set_when_loaded(labs, qtbot):
    lab = labs.lab("OptimLab")
    lab.n_seeds.setValue(1)
    lab.trials.setValue(50)
    lab.n_train.setValue(200)
    lab._started = True                  # (as if shown: a new dataset re-runs the parts it feeds)
    digits = load_dataset(DatasetConfig(name="digits"))
    with qtbot.waitSignal(lab.gd_runner.finished, timeout=30_000):
        labs.set_dataset(digits)
    p = lab.pick
    assert p.final(p.good) < p.final(p.low) and p.final(p.good) < p.final(p.high)
    qtbot.waitUntil(lambda: bool(lab.search_runs), timeout=30_000)
    assert "digits" in lab.rs_label.text() and "2-D points" not in lab.rs_label.text()
    lab.cost_runner.cancel()


def test_landscape_lab_shows_the_lectures_figure_when_first_shown(labs, qtbot):
    lab = _show(labs, "LandscapeLab")
    partials = []
    lab.runner2.partial.connect(partials.append)
    qtbot.waitUntil(lambda: lab.has_result, timeout=30_000)
    qtbot.waitUntil(lambda: lab.result1 is not None and lab.result2 is not None, timeout=30_000)
    s1, s2 = lab.result1, lab.result2
    # the slide's setting: a random linear W, SVM without regularization, 100 CIFAR-10 examples
    d = bundled_cifar()
    X, y = d.X_train[:100].astype(np.float64), d.y_train[:100]
    m = L.linear_model_for(X, 10, loss="svm", seed=0, scale=1e-3)
    base = m.copy_params()
    for j in (0, 50, 100):
        assert s1.losses[j] == pytest.approx(L.loss_at(m, X, y, base, s1.directions, [s1.alphas[j]]), rel=1e-12)
    assert s1.losses[50] == pytest.approx(s1.center)
    assert s2.losses.shape == (41, 41)
    assert s2.losses[7, 30] == pytest.approx(
        L.loss_at(m, X, y, base, s2.directions, [s2.alphas[30], s2.betas[7]]), rel=1e-12)
    # the point of the figure: the SVM loss is convex (a bowl) and piecewise linear
    assert np.all(np.diff(s1.losses, 2) >= -1e-9 * np.abs(s1.losses).max())
    assert np.all(np.diff(s2.losses, 2, axis=0) >= -1e-9 * s2.losses.max())
    assert s1.losses.min() < s1.center                # W itself is not at the bottom
    text = lab.info.text()
    assert "2-D points" in text and "CIFAR-10" in text and "100 cifar10-4k examples" in text
    assert "SVM" in text and "no regularization" in text
    assert any(np.isnan(p[1].losses).any() for p in partials if p[1] is not None)   # drawn progressively
    assert lab.heat.image is not None and lab.curve.xData is not None and len(lab.curve.xData) == 101


def test_landscape_lab_current_model_and_image_sets(labs, qtbot, spiral):
    lab = labs.lab("LandscapeLab")           # built, not shown: nothing computed yet
    assert lab.result is None and not lab.has_result
    lab.source.setCurrentIndex(1)
    labs.set_model(None)
    lab.compute(1)
    assert "no current model" in lab.info.text()
    m = L.linear_model_for(spiral.X_train, 3, loss="softmax", seed=1, scale=0.5)
    labs.set_model(m)
    lab.examples.setValue(30)
    lab.steps1.setValue(11)
    with qtbot.waitSignal(lab.runner1.finished, timeout=20_000):
        lab.compute(1)
    X, y = spiral.X_train[:30].astype(np.float64), spiral.y_train[:30]
    s = lab.result1
    ref = m.astype("float64")
    assert s.center == pytest.approx(ref.loss(X, y, grads=False)[0], rel=1e-12)
    # an image set loaded in the window is used as it is
    digits = load_dataset(DatasetConfig(name="digits"))
    labs.set_dataset(digits)
    lab.source.setCurrentIndex(0)
    lab.steps1.setValue(5)
    with qtbot.waitSignal(lab.runner1.finished, timeout=20_000):
        lab.compute(1)
    assert "digits" in lab.info.text() and "CIFAR" not in lab.info.text().split("W:")[0]


def test_a_hidden_lab_frees_the_workers_and_resumes_when_shown(labs, qtbot):
    optim = _show(labs, "OptimLab")
    qtbot.waitUntil(lambda: optim.has_result, timeout=30_000)
    assert optim.rs_runner.busy                       # five seeds of 1000 tries take a while
    land = _show(labs, "LandscapeLab")
    qtbot.waitUntil(lambda: not optim.rs_runner.busy, timeout=10_000)
    assert "search" in optim._resume
    qtbot.waitUntil(lambda: land.has_result, timeout=30_000)
    labs.tabs.setCurrentWidget(optim.parentWidget().parentWidget())
    qtbot.waitUntil(lambda: optim.rs_runner.busy, timeout=5_000)
    assert not optim._resume


def test_optim_lab_without_a_dataset_still_shows_every_part(qtbot):
    from gui.labs.optim_lab import OptimLab
    lab = OptimLab()
    qtbot.addWidget(lab)
    lab.n_train.setValue(100)
    lab.n_seeds.setValue(1)
    lab.gd_steps.setValue(30)
    lab.resize(1600, 1000)
    with qtbot.waitSignal(lab.first_result, timeout=30_000):
        lab.show()
    assert lab.has_result and "No dataset is loaded" in lab.rs_label.text()
    qtbot.waitUntil(lambda: lab.pick is not None, timeout=30_000)
    assert "cifar10-4k" in lab.gd_label.text()
    p = lab.pick
    assert p.final(p.good) < p.final(p.low) and p.final(p.good) < p.final(p.high)
    lab.shutdown()


def test_optim_local_search_gradient_check_and_cost_buttons(labs, qtbot):
    lab = labs.lab("OptimLab")
    lab.trials.setValue(30)
    lab.n_train.setValue(50)
    lab.scale.setText("1e-3")
    with qtbot.waitSignal(lab.rs_runner.finished, timeout=30_000):
        lab.run_search(local=True)
    (seed, r), = lab.search_runs
    assert len(r.losses) == 30 and all(a >= b for a, b in zip(r.best, r.best[1:]))
    assert "Random local search" in lab.rs_label.text()
    with qtbot.waitSignal(lab.ng_runner.finished, timeout=30_000):
        lab.run_check()
    assert lab.ng_result[0] == "check" and "largest relative error" in lab.ng_label.text()
    with qtbot.waitSignal(lab.cost_runner.finished, timeout=30_000):
        lab.run_cost()
    rows, ana, P = lab.cost_result[:3]
    assert [n for n, _ in rows] == [1, 10, 100] and P == 3072 * 10 + 10
    assert rows[-1][1] > rows[0][1]                  # more dimensions nudged, more time
    lab.scale.setText("x")
    lab.run_search()
    assert "must be a number" in lab.rs_label.text()
