"""The views at CIFAR scale (issue 13): with cifar10-4k loaded and a linear SVM trained a little,
the ten weight templates have one size and readable names, and the confusion matrix, the
accuracy bars and the gallery never overprint a label — at font scale 1 and 2."""
from __future__ import annotations

import itertools

import pytest

pytest.importorskip("pytestqt")



def _overlaps(rects):
    """Pairs of rectangles (with their names) that overlap by more than half a pixel."""
    out = []
    for (a, na), (b, nb) in itertools.combinations(rects, 2):
        i = a.intersected(b)
        if i.width() > 0.5 and i.height() > 0.5:
            out.append((na, nb))
    return out


def _load_cifar_linear_svm(qtbot, w, steps=40):
    cfg = w.config()
    cfg.dataset.name, cfg.dataset.preprocess = "cifar10-4k", "mean"
    cfg.model.hidden, cfg.model.activations, cfg.model.init = [], [], "small"
    cfg.loss.loss, cfg.loss.reg_strength = "svm", 1e3
    cfg.optim.lr, cfg.optim.batch_size = 1e-7, 100
    with qtbot.waitSignal(w.dataset_changed, timeout=20000):
        w.set_config(cfg, "a linear SVM on CIFAR")
    t = w.controller.trainer
    for _ in range(steps):
        t.step()
    w.controller.publish_now()


def _show(qtbot, w, view):
    w.tabs.setCurrentWidget(view)
    qtbot.wait(30)
    w._redraw(force=True)
    qtbot.wait(30)
    w.grab()          # paints every item (the axes draw, and measure, their names when painted)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_cifar_templates_one_size_and_labels_apart_at_scale(qtbot, window, scale):
    from gui import style
    w = window
    _load_cifar_linear_svm(qtbot, w)
    names = list(w.current_dataset().class_names)
    try:
        w.set_scale(scale)
        _show(qtbot, w, w.templates_view)
        v = w.templates_view
        grid = v.grid
        assert grid is not None and len(v.items) == 10
        assert (grid.rows, grid.cols) in ((2, 5), (1, 10))            # the slide's grid
        tiles = grid.tile_rects()
        assert len(tiles) == 10 and tiles[0].width() > 40
        for r in tiles:      # one size for all, square
            assert abs(r.width() - tiles[0].width()) < 0.5 and abs(r.height() - tiles[0].height()) < 0.5
            assert abs(r.width() - r.height()) < 0.5
        labels = grid.label_rects()
        rects = [(r, f"tile {i}") for i, r in enumerate(tiles)] + [(r, names[i]) for i, r in enumerate(labels)]
        assert not _overlaps(rects)
        for i, t in enumerate(grid.labels):                # each name under its own tile
            assert labels[i].top() >= tiles[i].bottom() - 0.5
            assert abs(labels[i].center().x() - tiles[i].center().x()) < 1.0
            shown = t.textItem.toPlainText()
            assert shown == names[i] or (shown.endswith("…") and t.toolTip() == names[i]
                                         and names[i].startswith(shown[:-1]))
        if scale == 1.0:
            assert [t.textItem.toPlainText() for t in grid.labels] == names
        # the images themselves fill the tiles
        for item, r in zip(v.items, tiles):
            assert abs(item.sceneBoundingRect().width() - r.width()) < 1.0
    finally:
        w.set_scale(1.0)
    assert style.SCALE == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_cifar_confusion_matrix_and_accuracy_labels_do_not_overprint(qtbot, window, scale):
    w = window
    _load_cifar_linear_svm(qtbot, w)
    names = list(w.current_dataset().class_names)
    try:
        w.set_scale(scale)
        _show(qtbot, w, w.predictions_view)
        v = w.predictions_view
        cm = v.confusion[0]
        left, bottom = cm.getAxis("left"), cm.getAxis("bottom")
        for ax in (left, bottom):
            assert [t for _, t in ax.drawn] == names          # every name, whole
            assert not _overlaps(ax.drawn), ax.orientation
        assert bottom.upright                                  # CIFAR's names stand up under the columns
        # every name sits at its own row / column of the matrix
        img = v.confusion[1]
        box = img.sceneBoundingRect()
        cell = box.width() / 10
        for k, (r, _) in enumerate(bottom.drawn):
            assert abs(r.center().x() - (box.left() + (k + 0.5) * cell)) < 1.5
        for k, (r, _) in enumerate(left.drawn):
            assert abs(r.center().y() - (box.top() + (k + 0.5) * cell)) < 1.5
            assert r.right() <= box.left()
        # the accuracy bars: one per row, their values apart from each other and from the names
        _, bars, values = v.accuracy
        vr = [(t.textItem.mapRectToScene(t.textItem.boundingRect()), t.textItem.toPlainText()) for t in values]
        assert all(s.endswith("%") for _, s in vr)
        assert not _overlaps(vr + left.drawn + bottom.drawn)
        # the gallery: labels apart, tiles of one size, nothing over a picture
        g = v.gallery_grid
        assert g.shown >= 2
        tiles = g.tile_rects()
        assert all(abs(r.width() - tiles[0].width()) < 0.5 for r in tiles)
        assert not _overlaps([(r, f"tile {i}") for i, r in enumerate(tiles)] +
                             [(r, f"label {i}") for i, r in enumerate(g.label_rects())])
        # an SVM's gallery shows its scores (what the hinge loss works on), not softmax percentages
        import re
        assert "not probabilities" in v.caption.text()
        for t in g.labels[:g.shown]:
            lines = t.textItem.toPlainText().split("\n")
            assert len(lines) == 4 and all(re.search(r" [+-]\d+\.\d\d$", line) for line in lines[1:]), lines
    finally:
        w.set_scale(1.0)


def test_2d_gallery_shows_each_example_as_its_point_on_the_data(qtbot, window):
    """On the spiral the gallery's tiles are small scatters of the training data, each with its
    validation example ringed where it lies, in its true class's colour — not colour swatches."""
    import numpy as np
    import pyqtgraph as pg
    from gui import style
    w = window
    for _ in range(20):
        w.step_once()
    _show(qtbot, w, w.predictions_view)
    v = w.predictions_view
    d = w.current_dataset()
    g = v.gallery_grid
    assert g.shown >= 2
    assert all(not im.isVisible() or im.image is None for im in v.gallery)     # no swatches
    idx = np.linspace(0, len(d.y_val) - 1, min(6, len(d.y_val))).astype(int)
    tiles = g.tile_rects()
    for k in range(g.shown):
        scatters = [c for c in g.groups[k].childItems() if isinstance(c, pg.ScatterPlotItem)]
        assert len(scatters) == 2
        data, me = sorted(scatters, key=lambda s: -len(s.data))
        assert len(data.data) == len(d.y_train) and len(me.data) == 1
        # the example is drawn where it lies relative to the data: the same map takes the
        # training points and the example to the tile
        bx, by = data.getData()
        ex, ey = me.getData()
        sx = (bx[0] - bx[1]) / (d.X_train[0, 0] - d.X_train[1, 0])
        assert ex[0] == pytest.approx(bx[0] + sx * (d.X_val[idx[k], 0] - d.X_train[0, 0]), abs=1e-6)
        assert 0 < ex[0] < 1 and 0 < ey[0] < 1
        p = g.groups[k].mapToScene(pg.Point(ex[0], ey[0]))
        assert tiles[k].contains(p)
        colour = me.opts["brush"].color().name()
        assert colour == pg.mkColor(style.class_color(int(d.y_val[idx[k]]))).name()
        label = g.labels[k].textItem.toPlainText().split("\n")
        assert label[0][2:] == d.class_names[d.y_val[idx[k]]] and len(label) == 4
    assert "ringed" in v.caption.text()


@pytest.mark.parametrize("loss,expected,check", [("softmax", 2.3026, "ln 10 = 2.30"), ("svm", 9.0, "(C−1)·Δ = 9.00")])
def test_step_0_shows_the_initial_loss_and_the_sanity_check(qtbot, window, loss, expected, check):
    """Right after cifar10-4k is loaded with a small-init linear classifier, the training status
    and the Loss view show the loss before any update (≈ ln 10 for softmax, ≈ (C−1)·Δ for the
    SVM), not "nan", with the lecture's sanity check beside it."""
    import math
    w = window
    cfg = w.config()
    cfg.dataset.name, cfg.dataset.preprocess = "cifar10-4k", "mean"
    cfg.model.hidden, cfg.model.activations, cfg.model.init = [], [], "small"
    cfg.loss.loss, cfg.loss.reg_strength = loss, 1e-3
    with qtbot.waitSignal(w.dataset_changed, timeout=20000):
        w.set_config(cfg, "a linear classifier on CIFAR")
    t = w.controller.trainer
    assert t.steps == 0 and t.initial[1] == pytest.approx(expected, rel=0.1)      # the check's own "near"
    w.tabs.setCurrentWidget(w.loss_view)
    w._redraw(force=True)
    stats = w.training_panel.stats.text()
    assert "nan" not in stats and f"loss {t.initial[0]:.4f}" in stats and "step 0" in stats
    v = w.loss_view
    text = v.initial_label.text()
    assert f"loss {t.initial[0]:.4f}" in text and check in text and "sanity check" in text
    assert f"here {t.initial[1]:.2f}" in text and "far from it" not in text
    x, y = v.c_initial.getData()
    assert list(x) == [0.0] and y[0] == pytest.approx(t.initial[0])
    lo, hi = v.loss_plot.vb.viewRange()[1]
    assert lo <= y[0] <= hi                                   # the point is on the plot
    assert "sanity check" in w.status.text() and check in w.status.text()
    w.step_once()                                             # the point stays at step 0
    assert math.isfinite(w.state.history["loss"][0]) and v.c_initial.getData()[1][0] == pytest.approx(t.initial[0])


@pytest.mark.slow
def test_cifar_predictions_fit_a_projector_at_scale_2_without_scrolling(qtbot, window):
    """At font scale 2 with the panels hidden (a projector), the whole Predictions view fits the
    1600×1000 window: the gallery moves beside the matrix, no scroll bar, nothing overprinted."""
    w = window
    _load_cifar_linear_svm(qtbot, w)
    try:
        w.set_scale(2.0)
        for d in w.docks.values():
            d.hide()
        _show(qtbot, w, w.predictions_view)
        v = w.predictions_view
        qtbot.waitUntil(lambda: v._key is not None and v._key[-1], timeout=3000)   # side by side
        w._redraw(force=True)
        w.grab()
        vp = v.scroll.viewport()
        assert v.glw.minimumWidth() <= vp.width() and v.glw.minimumHeight() <= vp.height()
        assert not v.scroll.verticalScrollBar().isVisible() and not v.scroll.horizontalScrollBar().isVisible()
        cm = v.confusion[0]
        g = v.gallery_grid
        assert g.shown >= 2 and g.cols == 1
        drawn = cm.getAxis("left").drawn + cm.getAxis("bottom").drawn
        assert len(drawn) == 20 and not _overlaps(drawn)
        for r, _ in drawn:                                   # every name inside the visible view
            top_left = v.glw.mapFromScene(r.topLeft())
            bottom_right = v.glw.mapFromScene(r.bottomRight())
            assert 0 <= top_left.x() and bottom_right.x() <= vp.width() + 1
            assert 0 <= top_left.y() and bottom_right.y() <= vp.height() + 1
        tiles = g.tile_rects()
        assert not _overlaps([(r, f"tile {i}") for i, r in enumerate(tiles)] +
                             [(r, f"label {i}") for i, r in enumerate(g.label_rects())] + drawn)
    finally:
        w.set_scale(1.0)
