"""Choosing an image set in the Dataset panel brings the settings that train on it (the engine's
dataset_defaults), shown in the panels, as one undoable step; a first run then learns."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("pytestqt")



def _loaded(w, name):
    return lambda: not w.loading() and w.current_dataset() is not None and w.current_dataset().name == name \
        and w.controller.trainer is not None and w.controller.trainer.data is w.current_dataset()


def test_an_image_set_comes_with_the_defaults_that_train_on_it(qtbot, window):
    from engine.config import dataset_defaults
    w = window
    expect = dataset_defaults("cifar10-4k")
    assert expect, "cifar10-4k has image-set defaults"
    w.dataset_panel.name.setCurrentText("cifar10-4k")
    qtbot.waitUntil(_loaded(w, "cifar10-4k"), timeout=20000)
    cfg = w.config()
    assert cfg.dataset.preprocess == expect["dataset.preprocess"]
    assert cfg.optim.lr == pytest.approx(expect["optim.lr"])
    assert w.dataset_panel.preprocess.currentText() == expect["dataset.preprocess"]   # shown in the panel
    assert w.controller.trainer.base_lr == pytest.approx(expect["optim.lr"])
    assert "cifar10-4k" in w.status.text() and expect["dataset.preprocess"] in w.status.text()
    # it trains: 150 minibatches lower the loss well below its start (ln 10 ≈ 2.30 region)
    t = w.controller.trainer
    start = t.initial[1]
    for _ in range(150):
        w.controller.step()
    qtbot.waitUntil(lambda: t.steps >= 150, timeout=30000)
    recent = t.history.data_loss[-20:]
    assert all(math.isfinite(v) for v in recent) and not t.diverged
    assert sum(recent) / len(recent) < 0.9 * start
    # one undo takes back the dataset and its defaults together
    w.undo_stack.undo()
    qtbot.waitUntil(_loaded(w, "spiral"), timeout=20000)
    cfg = w.config()
    assert (cfg.dataset.name, cfg.dataset.preprocess, cfg.optim.lr) == ("spiral", "none", pytest.approx(0.5))


def test_back_to_a_toy_set_restores_the_demo_learning_rate(qtbot, window):
    w = window
    w.dataset_panel.name.setCurrentText("digits")
    qtbot.waitUntil(_loaded(w, "digits"), timeout=20000)
    w.dataset_panel.name.setCurrentText("moons")
    qtbot.waitUntil(_loaded(w, "moons"), timeout=20000)
    from gui.main_window import default_config
    demo = default_config()
    cfg = w.config()
    assert cfg.optim.lr == pytest.approx(demo.optim.lr) and cfg.dataset.preprocess == demo.dataset.preprocess


@pytest.mark.slow
def test_the_lecture_preset_in_one_click_trains_the_slides_classifier(qtbot, window):
    """Presets ▸ Lecture: linear classifier on CIFAR-10 — every setting of the preset, its dataset
    loaded, the Weight templates tab in front; trained through the window it beats chance by far
    and every template is a 32×32×3 picture; one undo brings the spiral demo back."""
    from engine.presets import PRESETS
    w = window
    before = w.config()
    w.preset_actions["lecture-linear-cifar10"].trigger()
    qtbot.waitUntil(_loaded(w, "cifar10-4k"), timeout=20000)
    assert w.config().to_dict() == PRESETS["lecture-linear-cifar10"].config().to_dict()
    assert w.tabs.currentWidget() is w.templates_view
    t = w.controller.trainer
    assert list(t.model.params) == ["W1", "b1"] and t.model.params["W1"].shape == (3072, 10)
    w.start_training()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=60000)   # the preset's 15 epochs
    assert t.history.val_acc and t.history.val_acc[-1] > 0.25           # chance is 0.10
    qtbot.waitUntil(lambda: len(w.templates_view.items) == 10, timeout=5000)   # the ten class templates
    img = w.templates_view.items[0].image
    assert img is not None and img.shape[:2] == (32, 32)
    w.undo_stack.undo()
    qtbot.waitUntil(_loaded(w, "spiral"), timeout=20000)
    assert w.config().to_dict() == before.to_dict()
