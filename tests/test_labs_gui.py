"""The lecture labs' GUI (pytest-qt, offscreen): numbers shown match the engine and the
lecture; background jobs finish without blocking; each lab renders to a PNG under tmp_path.
(The Optimization and Loss landscape labs are tested in tests/test_labs_optim.py.)"""
import pytest

pytest.importorskip("pytestqt")

import gui  # noqa: E402,F401  (before NumPy, as in the app: one BLAS thread — the labs' small products
#                               run several times slower with OpenBLAS threads fighting on 2 cores)
import numpy as np  # noqa: E402

from engine import labs as L  # noqa: E402
from engine.config import DatasetConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from gui.labs import LabsWidget  # noqa: E402
from gui.labs.common import export_plot  # noqa: E402


@pytest.fixture(scope="module")
def spiral():
    return load_dataset(DatasetConfig(name="spiral", samples=20, classes=3, seed=2))


@pytest.fixture
def labs(qtbot, spiral):
    w = LabsWidget(dataset=spiral)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.shutdown()


def _render(w, lab, tmp_path, name):
    w.tabs.setCurrentWidget(lab)
    path = tmp_path / f"labs_{name}.png"
    assert w.grab().save(str(path))
    assert path.stat().st_size > 1000


def test_default_dataset_loads_without_argument(qtbot):
    w = LabsWidget()
    qtbot.addWidget(w)
    assert w.dataset is not None and w.dataset.name in ("digits", "spiral")
    assert [lab.title for lab in w.labs] == ["Score function", "Linear classifier", "Losses & regularization",
                                             "Overfitting", "Optimization", "Loss landscape", "Activations"]
    w.shutdown()
    qtbot.wait(50)      # (callbacks the labs queued for themselves run while they still exist)


def _lab_texts(lab) -> str:
    from PySide6.QtWidgets import QLabel
    return "\n".join(w.text() for w in lab.findChildren(QLabel))


def test_labs_in_the_window_get_its_dataset_while_the_demo_trains(qtbot, window):
    """Issue 13: opened while the start-up demo (the spiral) trains, every lab said "no dataset
    loaded" — the window holds its hooks back from tabs while training runs, and the labs are
    created without a dataset.  Every sub-tab, shown through the window, has the window's set."""
    w = window
    w.toggle_training()
    assert w.controller.running
    w.tabs.setCurrentWidget(w.labs_widget)
    lw = w.labs_widget
    ds = w.current_dataset()
    assert ds.name == "spiral"
    for i in range(lw.tabs.count()):
        lw.tabs.setCurrentIndex(i)
        lab = lw._built[i]
        assert lab is not None and lab.isVisible()
        assert lab.dataset is ds, type(lab).__name__
        text = _lab_texts(lab).lower()
        assert "no dataset" not in text and "load a dataset" not in text, type(lab).__name__
    assert lw.model is not None     # a snapshot of the window's network
    # the image-only part says the loaded set is 2-D points and shows bundled CIFAR-10 instead
    score = lw.lab("ScoreLab")
    qtbot.waitUntil(lambda: score.has_result, timeout=20_000)
    assert "spiral is 2-D points" in score.image_note.text() and score.scorer[0].name == "cifar10-4k"
    w.toggle_training()
    lw.shutdown()


def _plot_has_data(lab) -> bool:
    import pyqtgraph as pg
    for p in lab.plots.values():
        for it in p.getPlotItem().items:
            if isinstance(it, pg.PlotDataItem) and it.xData is not None and len(it.xData):
                return True
            if isinstance(it, pg.BarGraphItem) and len(it.opts.get("height") if it.opts.get("height") is not None else []):
                return True
    return False


@pytest.mark.parametrize("name", ["ScoreLab", "LossLab", "OverfitLab", "ActivationLab"])
def test_lab_shows_its_default_result_when_first_shown(labs, qtbot, name):
    """No empty axes waiting for a click: shown once, each lab draws its default result (in the
    background) and says so through ``first_result`` / ``has_result``."""
    i = [c.__name__ for c in labs._classes].index(name)
    assert labs._built[i] is None or i == labs.tabs.currentIndex()   # (the shown one is built)
    labs.tabs.setCurrentIndex(i)
    lab = labs._built[i]
    qtbot.waitUntil(lambda: lab.has_result, timeout=20_000)
    assert _plot_has_data(lab)


def test_activation_lab_without_a_dataset_uses_cifar(qtbot):
    from gui.labs.activation_lab import ActivationLab
    lab = ActivationLab()
    qtbot.addWidget(lab)
    with qtbot.waitSignal(lab.first_result, timeout=20_000):
        lab.show()
    assert lab.has_result and "On cifar10-4k: D = 3072" in lab.collapse_label.text()
    assert lab.collapse.max_abs_diff < 1e-6 * max(1.0, float(np.abs(lab.collapse.two_layer_scores).max()))
    lab.shutdown()


def test_score_lab(labs, qtbot, tmp_path, spiral):
    lab = labs.lab("ScoreLab")
    np.testing.assert_allclose(lab.scores(), [-96.8, 437.9, 60.75])
    assert "61.95" in lab.slip.text() and "60.75" in lab.slip.text()
    lab._apply_preset(1)
    np.testing.assert_allclose(lab.scores(), [447.2, 44.9, 12.85])
    assert "matches" in lab.slip.text()
    # editing a pixel updates the scores at once
    lab.pixels.item(0, 0).setText("0")
    x = L.SCORE_X.copy()
    x[0] = 0
    np.testing.assert_allclose(lab.scores(), L.score_function(L.SCORE_PRESETS[1].W, x, L.SCORE_PRESETS[1].b))
    assert lab.preset.currentText().startswith("Custom")
    # the real-image part: on the spiral (2-D points) it says so and shows a bundled CIFAR-10 image,
    # 32×32×3 → 3072 numbers, scored by a 10×3072 W into 10 scores (computed in the background)
    qtbot.waitUntil(lambda: lab.has_result, timeout=20_000)
    assert lab.scorer[0].name == "cifar10-4k"
    assert "2-D points" in lab.image_note.text() and "CIFAR-10" in lab.image_note.text()
    assert "32×32×3 → x of 3072 numbers, W of 10×3072" in lab.shape_label.text()
    r = lab.real
    assert r["W"].shape == (10, 3072) and r["x"].shape == (3072,)
    np.testing.assert_allclose(r["scores"], r["W"] @ r["x"] + r["b"])
    np.testing.assert_allclose(lab.bars.opts["height"], r["scores"])
    assert r["predicted"] == int(np.argmax(r["scores"])) == r["label"]   # it opens on an image it gets right
    assert lab.real_img.isVisible() and lab.real_item.image.shape == (32, 32, 3)
    lab.index.setValue(r["index"] + 1)
    assert lab.real["index"] == r["index"] + 1
    # a linear model of the loaded image set: its own W scores the image
    digits = load_dataset(DatasetConfig(name="digits"))
    m = L.linear_model_for(digits.X_train, 10, scale=0.01)
    labs.set_dataset(digits)
    labs.set_model(m)
    qtbot.waitUntil(lambda: lab.scorer is not None and lab.scorer[0] is digits and "current model" in lab.real_info.text(),
                    timeout=20_000)
    i = lab.index.value()
    np.testing.assert_allclose(lab.real["scores"], m.scores(digits.X_train[i:i + 1].astype(m.dtype))[0], rtol=1e-5)
    assert not lab.image_note.isVisible()
    lab.reset()
    np.testing.assert_allclose(lab.scores(), [-96.8, 437.9, 60.75])
    _render(labs, lab, tmp_path, "score")


def test_loss_lab(labs, tmp_path):
    from engine import lecture_tables as T
    lab = labs.lab("LossLab")
    assert lab.has_result
    S, y = lab.scores_and_labels()
    np.testing.assert_allclose(S, L.LOSS_SCORES)
    np.testing.assert_array_equal(y, [0, 1, 2])
    # examples are named by their correct class (the slide's classes: cat, dog, bird)
    heads = [lab.table.horizontalHeaderItem(i).text() for i in range(3)]
    assert heads == ["cat image", "dog image", "bird image"]
    np.testing.assert_allclose(lab.losses, [2.9, 0, 12.9])
    assert lab.mean == pytest.approx(5.2667, abs=1e-4)
    assert "5.267" in lab.mean_label.text()
    # the hinge walkthrough covers every example and the mean
    text = lab.steps.toPlainText()
    for name, li in (("cat image", "2.9"), ("dog image", "0"), ("bird image", "12.9")):
        assert name in text
    assert "L1 = 2.9 + 0 = 2.9" in text and "L2 = 0 + 0 = 0" in text and "L3 = 6.3 + 6.6 = 12.9" in text
    assert "(2.9 + 0 + 12.9) / 3 = 5.267" in text
    lab.loss_kind.setCurrentIndex(1)
    assert lab.losses[0] == pytest.approx(2.04, abs=5e-3)
    html = lab.steps.toPlainText()
    assert "0.89" in html and "log" in html and "24.53" in html
    assert html.count("normalise") == 3 and "L3 = −ln(" in html and "/ 3 = " + f"{lab.mean:.4g}" in html
    # the lecture's 10-class CIFAR table: three images, scores −3.45 … 6.14, named by their labels
    lab.loss_kind.setCurrentIndex(0)
    lab.apply_preset(1)
    S, y = lab.scores_and_labels()
    assert S.shape == (3, 10) and S[0, 0] == -3.45 and S[2, 9] == 6.14
    np.testing.assert_array_equal(y, [3, 1, 6])
    assert [lab.table.horizontalHeaderItem(i).text() for i in range(3)] == \
        ["cat image", "automobile image", "frog image"]
    assert lab.table.verticalHeaderItem(9).text() == "truck"
    np.testing.assert_allclose(lab.losses, T.walkthrough(T.LOSS_CIFAR10.scores, y, "svm")["losses"])
    np.testing.assert_allclose(lab.losses, [10.58, 0.27, 71.91], atol=1e-9)
    text = lab.steps.toPlainText()
    assert "max(0, 6.14 − (−4.34) + 1) = 11.48" in text and "/ 3 = 27.59" in text
    assert lab.preset.currentIndex() == 1
    # relabelling an example renames it and leaves the preset
    lab.label_boxes[0].setCurrentIndex(5)
    assert lab.table.horizontalHeaderItem(0).text() == "dog image"
    assert lab.preset.currentText().startswith("Custom")
    lab.apply_preset(0)
    # edit a score → the table follows the engine
    lab.loss_kind.setCurrentIndex(1)
    lab.table.item(0, 0).setText("10")
    S, y = lab.scores_and_labels()
    assert lab.mean == pytest.approx(L.softmax_table(S, y).mean)
    # regularization example
    assert lab.reg_values == (1.0, 1.0, 1.0)
    lab.reg_w.set_values(L.REG_W2[None, :])
    assert lab.reg_values == (1.0, 1.0, 0.25)
    lab.n_examples.setValue(4)
    assert lab.scores_and_labels()[0].shape == (4, 3)
    lab.n_classes.setValue(10)
    assert lab.scores_and_labels()[0].shape == (4, 10)
    lab.reset()
    np.testing.assert_allclose(lab.losses, [2.9, 0, 12.9])
    _render(labs, lab, tmp_path, "losses")


def test_overfit_lab_trains_off_thread(labs, qtbot, tmp_path):
    i = [c.__name__ for c in labs._classes].index("OverfitLab")
    # first shown: the default preset ("over-fitting") trains at once, drawing partial results
    labs.tabs.setCurrentIndex(i)
    lab = labs._built[i]
    assert lab.preset.currentText() == "over-fitting" and lab.runner.busy
    qtbot.waitUntil(lambda: lab.has_result, timeout=20_000)
    assert len(lab.last["epoch"]) >= 5 and lab.last["grid"].shape == (100, 100)
    qtbot.waitUntil(lambda: lab.point is not None, timeout=30_000)
    over = lab.point
    assert lab.last["final"] and len(lab.last["train_loss"]) == 400
    # the point: training fitted, validation clearly worse, its loss rising again after its lowest
    assert over["train_acc"] - over["val_acc"] >= 0.1 and over["val_rise"] > 1.5
    assert "Over-fitting" in lab.status.text() and lab.train_button.isEnabled()
    # the same network with L2: the train/validation loss gap at least halved, validation loss lower
    lab.preset.setCurrentText("over-fitting + L2")
    with qtbot.waitSignal(lab.runner.finished, timeout=30_000):
        lab.start()
    l2 = lab.point
    assert l2["loss_gap"] <= 0.55 * over["loss_gap"] and l2["val_loss"] < over["val_loss"]
    lab.preset.setCurrentText("good fit")
    with qtbot.waitSignal(lab.runner.finished, timeout=30_000):
        lab.start(epochs=20)
    assert len(lab.last["train_loss"]) == 20
    _render(labs, lab, tmp_path, "overfit")
    lab.reset()
    assert lab.last is None


def test_activation_lab(labs, qtbot, tmp_path, spiral):
    lab = labs.lab("ActivationLab")
    qtbot.waitUntil(lambda: lab.has_result, timeout=20_000)     # the collapse, computed in the background
    assert lab.dataset is spiral and f"all {len(spiral.y_train)} training points" in lab.collapse_label.text()
    x = lab.x
    y, dy = lab.values["sigmoid"]
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(dy, y * (1 - y))
    lab.slope.setValue(10)
    y, dy = lab.values["leaky_relu"]
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(dy, np.where(x > 0, 1, 0.1))
    lab.alpha.setValue(50)
    y, dy = lab.values["elu"]
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0))))
    assert lab.collapse.max_abs_diff < 1e-10
    assert "max |difference|" in lab.collapse_label.text()
    _render(labs, lab, tmp_path, "activations")
    export_plot(lab.plots["relu"], str(tmp_path / "relu.png"))
    assert (tmp_path / "relu.png").stat().st_size > 1000
