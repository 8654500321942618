"""Fixtures for the GUI tests: an isolated settings file, no modal dialogs, a tiny config."""
from __future__ import annotations

import pytest

TINY = {"dataset.samples": 40, "model.hidden": None}


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("BACKPROP_STUDIO_SETTINGS", str(path))
    monkeypatch.setenv("BACKPROP_STUDIO_NO_DIALOGS", "1")
    return path


def make_tiny(window) -> None:
    """A tiny spiral problem and a small MLP (fast steps, visible learning)."""
    cfg = window.config()
    cfg.dataset.samples = 40
    cfg.model.hidden, cfg.model.activations = [16], ["relu"]
    cfg.optim.batch_size, cfg.optim.lr, cfg.optim.epochs = 32, 0.5, -1
    window.set_config(cfg, "tiny test problem")     # one undoable step, as a preset is
    window.undo_stack.clear()


@pytest.fixture
def window(qtbot, settings_env):
    from gui.app import create_window
    w = create_window()
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitUntil(lambda: w.current_dataset() is not None and w.controller.trainer is not None, timeout=5000)
    make_tiny(w)
    qtbot.waitUntil(lambda: w.current_dataset().summary().startswith("spiral: 72"), timeout=5000)
    yield w
    w.controller.stop_and_wait()
    w.close()
