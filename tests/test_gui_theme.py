"""Projector-ready in every tab (issue 13, part 3): Ctrl+= / Ctrl+- scale the text, lines and
markers of the Backprop and Labs tabs too; View > Theme (dark / light) recolours every tab at
once and is remembered; all six tabs stay visible beside the docks at 1600×1000."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QKeySequence, QPalette  # noqa: E402


STEP = 1.15     # one Ctrl+=


@pytest.fixture(autouse=True)
def default_look():
    """The look is process-wide (gui.style): every test starts and ends dark at scale 1."""
    from gui import style
    style.set_theme("dark")
    style.set_scale(1.0)
    yield
    style.set_theme("dark")
    style.set_scale(1.0)
    style.apply()


def _action(w, keys: str):
    """The window's QAction bound to ``keys`` (the real menu entry a key press triggers)."""
    seq = QKeySequence(keys)
    found = [a for a in w.actions() if seq in a.shortcuts()]
    assert len(found) == 1, keys
    return found[0]


def _on_screen_height(view, item, rect) -> float:
    """Height in viewport pixels of ``rect`` (item coordinates) as the graph view draws it."""
    return view.mapFromScene(item.mapRectToScene(rect)).boundingRect().height()


def _backprop_text(w):
    v = w.backprop_view
    sc = v.scene
    ids = {n.name: n.id for n in v.spec.trace.nodes}
    lab = sc.val_labels[(ids["x"], ids["q"])]
    return {"value_px": lab.font.pixelSize(),
            "value_on_screen": _on_screen_height(v.graph_view, lab, lab._rect),
            "edge_width": sc.edges[(ids["x"], ids["q"])].pen().widthF(),
            "headline_px": v.headline.fontInfo().pixelSize(),
            "narration_px": v.narration.fontInfo().pixelSize()}


def _text_height(text_item) -> float:
    """The height of the text a QGraphicsTextItem draws (without its document's margins)."""
    return text_item.boundingRect().height() - 2 * text_item.document().documentMargin()


def _labs_text(w, qtbot):
    from gui import style
    from gui.labs import common
    from PySide6.QtWidgets import QLabel
    lab = w.labs_widget.lab("ScoreLab")
    # a plot of the lab with a title and a y-axis label (make_plot's)
    plot = next(p for p in lab.plots.values()
                if p.getPlotItem().titleLabel.text and p.getPlotItem().getAxis("left").labelText)
    item = plot.getPlotItem()
    if not hasattr(lab, "_probe_curve"):   # a line drawn the way the labs draw theirs
        lab._probe_curve = plot.plot([0, 1], [0, 1], pen=common.pen(style.SERIES_COLORS[0], 4))
    head = next(q for q in lab.findChildren(QLabel) if q.property("bs_delta") == "1")  # label(.., 1)
    body = next(q for q in lab.findChildren(QLabel) if q.property("bs_delta") is None and q.text())
    table = lab.findChildren(common.MatrixEditor)[0]
    qtbot.wait(20)
    return {"title_h": _text_height(item.titleLabel.item),
            "axis_label_h": _text_height(item.getAxis("left").label),
            "tick_pt": item.getAxis("left").style["tickFont"].pointSizeF(),
            "curve_width": lab._probe_curve.opts["pen"].widthF(),
            "head_px": head.fontInfo().pixelSize(),
            "body_px": body.fontInfo().pixelSize(),
            "table_px": table.fontInfo().pixelSize(),
            "row_h": table.rowHeight(0)}


def test_ctrl_plus_scales_the_backprop_and_labs_tabs(qtbot, window):
    w = window
    w.tabs.setCurrentWidget(w.backprop_view)
    w.backprop_view.select_walkthrough("simple")
    w.backprop_view.go_to_frame(3)
    qtbot.wait(50)
    bp0 = _backprop_text(w)
    w.tabs.setCurrentWidget(w.labs_widget)
    labs0 = _labs_text(w, qtbot)

    _action(w, "Ctrl+=").trigger()
    qtbot.wait(50)
    labs1 = _labs_text(w, qtbot)
    w.tabs.setCurrentWidget(w.backprop_view)
    qtbot.wait(50)
    bp1 = _backprop_text(w)

    # the Backprop tab: the scene's text and lines by the factor, the side text too
    assert abs(bp1["value_px"] - bp0["value_px"] * STEP) <= 1, (bp0, bp1)
    assert bp1["edge_width"] == pytest.approx(bp0["edge_width"] * STEP)
    assert abs(bp1["headline_px"] - bp0["headline_px"] * STEP) <= 1.5, (bp0, bp1)
    assert abs(bp1["narration_px"] - bp0["narration_px"] * STEP) <= 1.5, (bp0, bp1)
    assert w.backprop_view.frame == 3                     # the same step, drawn again
    # ... and on screen, where the graph is fitted to the view: still clearly larger
    assert bp1["value_on_screen"] >= 1.07 * bp0["value_on_screen"], (bp0, bp1)
    # the Labs tab: plot text, lines, labels and tables by the factor
    for key in ("title_h", "axis_label_h"):
        assert labs1[key] == pytest.approx(labs0[key] * STEP, rel=0.06), (key, labs0, labs1)
    assert labs1["tick_pt"] == pytest.approx(labs0["tick_pt"] * STEP)
    assert labs1["curve_width"] == pytest.approx(labs0["curve_width"] * STEP)
    for key in ("head_px", "body_px", "table_px", "row_h"):
        assert abs(labs1[key] - labs0[key] * STEP) <= 1.5, (key, labs0, labs1)
    assert labs1["head_px"] > labs1["body_px"]            # label(..., delta=1) stays larger

    _action(w, "Ctrl+-").trigger()                        # and back
    qtbot.wait(50)
    assert _backprop_text(w)["value_px"] == bp0["value_px"]
    assert _labs_text(w, qtbot)["curve_width"] == pytest.approx(labs0["curve_width"])


def _pixel(widget, x, y):
    return widget.grab().toImage().pixelColor(x, y).name()


@pytest.mark.slow
def test_theme_switches_every_tab_at_once_and_is_remembered(qtbot, window, settings_env):
    from gui import style
    from gui.app import create_window
    w = window
    dark, light = style.THEMES["dark"], style.THEMES["light"]
    w.tabs.setCurrentWidget(w.labs_widget)
    plot = w.labs_widget.lab("ScoreLab").plots["real_scores"]
    w.tabs.setCurrentWidget(w.backprop_view)
    scene, gv = w.backprop_view.scene, w.backprop_view.graph_view
    qtbot.wait(50)
    assert w.palette().color(QPalette.Window).name() == dark["bg"]
    assert plot.backgroundBrush().color().name() == dark["bg"]
    assert _pixel(gv.viewport(), 3, 3) == dark["graph_bg"]
    loss_bg = w.loss_view.findChildren(__import__("pyqtgraph").GraphicsView)[0]

    w.theme_actions["light"].trigger()                   # View > Theme > Light
    qtbot.wait(50)
    assert style.THEME == "light" and w.theme_actions["light"].isChecked()
    assert not w.theme_actions["dark"].isChecked()
    assert w.palette().color(QPalette.Window).name() == light["bg"]
    assert plot.backgroundBrush().color().name() == light["bg"]
    assert plot.getPlotItem().getAxis("bottom").textPen().color().name() == light["fg"]
    assert scene.backgroundBrush().color().name() == light["graph_bg"]
    assert _pixel(gv.viewport(), 3, 3) == light["graph_bg"]           # as drawn
    assert loss_bg.backgroundBrush().color().name() == light["bg"]     # the training views too
    w.tabs.setCurrentWidget(w.labs_widget)
    qtbot.wait(50)
    assert _pixel(plot.viewport(), 3, 3) == light["bg"]
    w.close()                                            # remembered in the settings
    assert "theme=light" in settings_env.read_text()

    style.set_theme("dark")                              # a new start: the default look ...
    style.apply()
    w2 = create_window()                                 # ... until the settings are read
    qtbot.addWidget(w2)
    w2.resize(1600, 1000)
    w2.show()
    assert style.THEME == "light" and w2.theme_actions["light"].isChecked()
    assert w2.palette().color(QPalette.Window).name() == light["bg"]
    assert w2.backprop_view.scene.backgroundBrush().color().name() == light["graph_bg"]
    w2.tabs.setCurrentWidget(w2.labs_widget)
    p2 = w2.labs_widget.lab("ScoreLab").plots["real_scores"]
    assert p2.backgroundBrush().color().name() == light["bg"]
    w2.controller.stop_and_wait()
    w2.close()


def _tabs_fit(w) -> list[str]:
    """The tabs whose title is cut (elided) or that lie outside the tab bar."""
    bar = w.tabs.tabBar()
    bad = []
    for i in range(bar.count()):
        r = bar.tabRect(i)
        if not bar.rect().contains(r) or r.width() < bar.tabSizeHint(i).width():
            bad.append(w.tabs.tabText(i))
    return bad


def test_all_tabs_visible_beside_the_docks_at_1600x1000(qtbot, window):
    w = window
    w.resize(1600, 1000)
    w.tabs.setCurrentWidget(w.loss_view)                  # a training tab: the docks are shown
    qtbot.wait(50)
    assert all(d.isVisible() for d in (w.docks["dataset"], w.docks["training"], w.docks["loss"]))
    assert w.tabs.tabBar().width() < 1000                 # the docks take their share
    assert w.tabs.count() == 7
    assert _tabs_fit(w) == []
    _action(w, "Ctrl+=").trigger()
    qtbot.wait(50)
    assert _tabs_fit(w) == []
    assert not w.tabs.usesScrollButtons()


def test_lab_plots_take_the_theme_whatever_colour_a_lab_asks_for(qtbot):
    """make_plot's plots: the theme's background and text, a title set later with the old
    white-plot colour ("#000") still in the theme's text colour, and a legend that follows."""
    from gui import style
    from gui.labs import common
    p = common.make_plot("t", "x", "y")
    qtbot.addWidget(p)
    leg = common.add_legend(p)
    p.plot([0, 1], [1, 0], pen=common.pen(style.SERIES_COLORS[0]), name="curve")
    p.getPlotItem().setTitle("Leaky ReLU", color="#000", size="14pt")   # as the labs call it
    title = p.getPlotItem().titleLabel
    assert title.opts["color"] == style.THEMES["dark"]["fg"] and title.text == "Leaky ReLU"
    assert p.backgroundBrush().color().name() == style.THEMES["dark"]["bg"]
    style.set_theme("light")
    style.apply()                                  # what View > Theme does for the labs
    assert p.backgroundBrush().color().name() == style.THEMES["light"]["bg"]
    assert title.opts["color"] == style.THEMES["light"]["fg"] and title.text == "Leaky ReLU"
    assert leg.items[0][1].opts["color"] == pg_color(style.THEMES["light"]["fg"])
    assert p.getPlotItem().getAxis("left").labelStyle["color"] == style.THEMES["light"]["fg"]


def pg_color(name):
    import pyqtgraph as pg
    return pg.mkColor(name)
