"""Renders the 1600x1000 window with each main view to PNG files anyone can open.

Set BACKPROP_STUDIO_SHOTS=/some/dir to keep them; otherwise they go to pytest's tmp dir."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")



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


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_loss_legends_sit_outside_the_plotted_data(qtbot, window, scale):
    """The legends are rows above their plots: never over the data area, so never over a curve,
    as training starts (when the curves fill the top of the plot) and later; and they fit their
    view (no entry cut off) at font scale 1 and 2."""
    import numpy as np
    w = window
    v = w.loss_view
    try:
        w.set_scale(scale)
        w.tabs.setCurrentWidget(v)
        for n in (3, 40):
            t = w.controller.trainer
            while t.steps < n:
                w.step_once()
            w._redraw(force=True)
            qtbot.wait(30)
            w.grab()
            for plot, legend, view in ((v.loss_plot, v.loss_legend, v.loss_w), (v.acc_plot, v.acc_legend, v.acc_w)):
                assert legend.items
                data = plot.vb.sceneBoundingRect()
                box = legend.sceneBoundingRect()
                assert box.height() > 0 and not box.intersects(data), (box, data)
                assert box.bottom() <= data.top() and 0 <= box.left() and box.right() <= view.width() + 0.5
                for _, label in legend.items:        # every entry inside the legend's own box
                    r = label.sceneBoundingRect()
                    assert box.contains(r.center()) and r.right() <= view.width() + 0.5
            # the curves' points are inside the data area (and so nowhere near the legend)
            x, y = v.c_smooth.getData()
            assert x is not None and len(x) >= 2
            for xi, yi in zip(x, y):
                if np.isfinite(yi):
                    p = v.loss_plot.vb.mapViewToScene(pg_point(xi, yi))
                    assert v.loss_plot.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(p)
                    assert not v.loss_legend.sceneBoundingRect().contains(p)
    finally:
        w.set_scale(1.0)


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(float(x), float(y))


def test_decision_regions_legend_sits_above_the_plot(qtbot, window):
    """The regions view's legend (classes and the test-point mark) is a row above the plot, in
    one line when the view is wide enough, never over the regions or the points."""
    w = window
    w.step_once()
    w.tabs.setCurrentWidget(w.regions_view)
    w._redraw(force=True)
    qtbot.wait(30)
    w.grab()
    v = w.regions_view
    assert len(v.legend.items) == w.current_dataset().num_classes + 1
    box, data = v.legend.sceneBoundingRect(), v.plot.vb.sceneBoundingRect()
    assert box.height() > 0 and not box.intersects(data) and box.bottom() <= data.top()
    assert v.legend.columnCount == len(v.legend.items)          # 1600 px wide: one row
    for pts in (v.train_pts, v.test_pts):                        # every point is in the data area
        for p in pts.points():
            assert data.contains(v.plot.vb.mapViewToScene(p.pos()))


def test_regions_legend_follows_the_font_scale(qtbot, window):
    """Ctrl+= grows the regions legend's text with everything else, and it stays above the plot."""
    w = window
    w.tabs.setCurrentWidget(w.regions_view)
    w._redraw(force=True)
    v = w.regions_view
    h1 = v.legend.items[0][1].boundingRect().height()
    try:
        w.set_scale(2.0)
        w._redraw(force=True)
        qtbot.wait(30)
        h2 = v.legend.items[0][1].boundingRect().height()
        assert h2 > 1.6 * h1
        assert v.legend.sceneBoundingRect().bottom() <= v.plot.vb.sceneBoundingRect().top()
    finally:
        w.set_scale(1.0)
