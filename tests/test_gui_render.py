"""Renders the 1600x1000 window with each main view to PNG files anyone can open.

Set BACKPROP_STUDIO_SHOTS=/some/dir to keep them; otherwise they go to pytest's tmp dir."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from tests.gui_fixtures import settings_env, window  # noqa: F401,E402


def test_render_each_view_to_png(qtbot, window, tmp_path):
    from PySide6.QtGui import QImage
    w = window
    out = Path(os.environ.get("BACKPROP_STUDIO_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    w.resize(1600, 1000)
    w.toggle_training()
    qtbot.waitUntil(lambda: len(w.state.history["val_acc"]) > 30, timeout=20000)
    w.toggle_training()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=5000)
    written = []
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        w._redraw(force=True)
        qtbot.wait(50)   # let the layout settle (no sleep: the event loop runs)
        path = out / f"window_{i}_{w.tabs.tabText(i).lower().replace(' ', '_')}.png"
        assert w.grab().save(str(path))
        img = QImage(str(path))
        assert (img.width(), img.height()) == (1600, 1000)
        written.append(path)
    assert len(written) >= 4
