"""View > Theme reaches everything drawn with a fixed colour (issue 13, part 3, follow-ups): the
Loss view's curves, the Dataset panel's scatter, the Regions view's points, shading and legend
marker, the Predictions view's counts and gallery marks, the labs' slide-slip boxes and image
plots; the Activations lab's legends stay off the curves at scale 1.5; the Optimization lab's
deferred caption fit does not outlive the lab."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

import gui  # noqa: E402,F401  (before NumPy, as in the app)
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF  # noqa: E402


# the themes' colours, written out: what the user sees, not what the code happens to read
CURVES = {"dark": {"loss": "#4fc3f7", "reg": "#ba68c8", "train": "#81c784", "val": "#ff8a65"},
          "light": {"loss": "#0277bd", "reg": "#8e24aa", "train": "#2e7d32", "val": "#e64a19"}}
CLASSES = {"dark": ["#4fc3f7", "#ff8a65", "#81c784"], "light": ["#0277bd", "#e64a19", "#2e7d32"]}
FG = {"dark": "#e8eaed", "light": "#111418"}
BG = {"dark": "#15181e", "light": "#fbfbfa"}
SLIP = {"dark": ("#ffcc80", "#3a2a17"), "light": ("#8a4300", "#fff3e0")}


@pytest.fixture(autouse=True)
def default_look():
    """The look is process-wide (gui.style): every test starts and ends dark at scale 1."""
    from gui import style
    style.set_theme("dark")
    style.set_scale(1.0)
    style.apply()
    yield
    style.set_theme("dark")
    style.set_scale(1.0)
    style.apply()


def _name(c) -> str:
    """A colour, a brush or a pen's colour as "#rrggbb"."""
    from PySide6.QtGui import QBrush, QPen
    if isinstance(c, (QBrush, QPen)):
        c = c.color()
    return pg.mkColor(c).name()


def _pen_color(pen) -> str:
    return pg.mkPen(pen).color().name()


def _loss_colors(v) -> dict:
    return {"smooth": _pen_color(v.c_smooth.opts["pen"]), "reg": _pen_color(v.c_reg.opts["pen"]),
            "train": _pen_color(v.c_tr.opts["pen"]), "val": _pen_color(v.c_va.opts["pen"]),
            "acc_train": _pen_color(v.a_tr.opts["pen"]), "acc_val": _pen_color(v.a_va.opts["pen"]),
            "initial": _name(v.c_initial.opts["symbolBrush"]),
            "band": v.c_band.brush.color().name()}


def _expected_loss(theme) -> dict:
    c = CURVES[theme]
    return {"smooth": c["loss"], "reg": c["reg"], "train": c["train"], "val": c["val"],
            "acc_train": c["train"], "acc_val": c["val"], "initial": c["loss"]}


def _scatter_colors(panel) -> list[str]:
    sc = panel.scatter
    assert sc is not None and shiboken_valid(sc)
    return [b.color().name() for b in sc.data["brush"]]


def shiboken_valid(obj) -> bool:
    import shiboken6
    return shiboken6.isValid(obj)


def _regions_state(v):
    """(the test points' outline, the legend's test-point marker's outline, the mean brightness
    0-1 of the region image, the training points' brushes)."""
    marker = next(s for s, lab in v.legend.items if lab.text == "test point")
    img = v.img.image
    return (_pen_color(v.test_pts.opts["pen"]), _pen_color(marker.item.opts["pen"]),
            float(img[..., :3].mean()) / 255.0 if img is not None else None,
            sorted({b.color().name() for b in v.train_pts.data["brush"]}))


@pytest.mark.slow
def test_views_and_panels_take_the_light_palette_and_back(qtbot, window):
    from gui import style
    w = window
    t = w.controller.trainer
    while t.steps < 12:
        w.step_once()
    w.controller.publish_now()
    d = w.current_dataset()
    y = d.y_train
    for tab in (w.loss_view, w.regions_view, w.predictions_view):
        w.tabs.setCurrentWidget(tab)
        qtbot.waitUntil(lambda: w.state.grid is not None or tab is not w.regions_view, timeout=5000)
        w._redraw(force=True)
        qtbot.wait(30)
    v, rv, pv, panel = w.loss_view, w.regions_view, w.predictions_view, w.dataset_panel

    def check(theme):
        got = _loss_colors(v)
        band = got.pop("band")
        assert got == _expected_loss(theme)
        # the per-minibatch band: quieter than the loss line, on the theme's side of it
        lum = pg.mkColor(band).lightnessF()
        assert (lum < 0.5) if theme == "dark" else (lum > 0.7), band
        assert _pen_color(v.c_initial.opts["symbolPen"]) == FG[theme]
        # the Dataset panel's preview: each training point in its class's colour of the theme
        assert _scatter_colors(panel) == [CLASSES[theme][k] for k in y]
        assert panel.preview.backgroundBrush().color().name() == BG[theme]
        # the Regions view: test points and their legend marker ringed in the theme's text colour
        w.tabs.setCurrentWidget(rv)
        w._redraw(force=True)
        qtbot.wait(30)
        test_pen, marker_pen, brightness, train = _regions_state(rv)
        assert test_pen == FG[theme] and marker_pen == FG[theme]
        assert train == sorted(set(CLASSES[theme]))
        # dark: dim regions on the dark background; light: pale regions (the points stay readable)
        assert brightness is not None
        assert (brightness < 0.45) if theme == "dark" else (brightness > 0.65), brightness
        # the Predictions view: the counts and the gallery's ✓ / ✗ lines in the theme's colours
        w.tabs.setCurrentWidget(pv)
        w._redraw(force=True)
        qtbot.wait(30)
        _, _, counts = pv.confusion
        assert counts.color.name() == FG[theme] and counts.strong_color.name() == BG[theme]
        grid = pv.gallery_grid
        shown = [i for i in range(grid.n) if grid.texts[i]]
        assert shown
        for i in shown:
            ok = grid.texts[i].startswith("✓")
            assert grid.colors[i] == CURVES[theme]["train" if ok else "val"], (grid.texts[i], grid.colors[i])
            assert _name(grid.labels[i].color) == CURVES[theme]["train" if ok else "val"]
        w.tabs.setCurrentWidget(v)
        w._redraw(force=True)
        qtbot.wait(30)

    check("dark")
    w.theme_actions["light"].trigger()            # View > Theme > Light
    qtbot.wait(30)
    assert style.THEME == "light"
    check("light")
    w.theme_actions["dark"].trigger()             # and back
    qtbot.wait(30)
    check("dark")


@pytest.fixture
def labs(qtbot):
    from engine.config import DatasetConfig
    from engine.datasets import load_dataset
    from gui.labs import LabsWidget
    w = LabsWidget(dataset=load_dataset(DatasetConfig(name="spiral", samples=20, classes=3, seed=2)))
    qtbot.addWidget(w)
    w.resize(1590, 900)
    w.show()
    yield w
    w.shutdown()


def other(theme: str) -> str:
    return "light" if theme == "dark" else "dark"


def _pixel(widget, x, y) -> str:
    return widget.grab().toImage().pixelColor(x, y).name()


def _slip_colors(lab_slip) -> tuple[str, str]:
    """(the text colour, the box colour) the slip is drawn with: its background as a grabbed pixel
    of its padding, the text colour from its style sheet."""
    import re
    text = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", lab_slip.styleSheet()).group(1)
    return text.lower(), _pixel(lab_slip, 2, 2)


@pytest.mark.slow
def test_slip_boxes_and_score_lab_plots_follow_the_theme(qtbot, labs):
    from gui import style
    score = labs.lab("ScoreLab")
    labs.tabs.setCurrentIndex(0)
    optim = labs.lab("OptimLab")          # (built, not shown: its jobs do not start)
    optim.slip.setText(optim._slip_text())
    losslab = labs.lab("LossLab")
    losslab.loss_kind.setCurrentIndex(1)   # softmax on the lecture's table: the slide's log₁₀ slip
    qtbot.wait(30)
    assert "The slide writes L = −log(0.13)" in losslab.steps.toPlainText()
    assert score.slip.isVisible() and score.slip.text()

    def check(theme):
        assert _slip_colors(score.slip) == SLIP[theme]
        assert _slip_colors(optim.slip) == SLIP[theme]
        # the 2×2 image plot and the real image's plot: the theme's background, as drawn (the
        # plots' corner, outside the image)
        for plot in (score.img_plot, score.real_img):
            assert plot.backgroundBrush().color().name() == BG[theme]
            assert _pixel(plot.viewport(), 0, 0) == BG[theme]
        assert _name(optim.acc_points.opts["pen"].color()) == FG[theme]
        html = losslab.steps.toHtml()
        assert f"color:{SLIP[theme][0]}" in html and f"color:{SLIP[other(theme)][0]}" not in html

    check("dark")
    style.set_theme("light")
    style.apply()                                  # what View > Theme does for the labs
    qtbot.wait(30)
    check("light")
    style.set_theme("dark")
    style.apply()
    qtbot.wait(30)
    check("dark")


def test_score_lab_image_plots_grow_with_the_scale_inside_their_boxes(qtbot, labs):
    from gui import style
    score = labs.lab("ScoreLab")
    qtbot.wait(30)
    assert score.img_plot.width() == 200 and score.real_img.width() == 300
    style.set_scale(1.5)
    style.apply()
    qtbot.wait(50)
    assert score.img_plot.size().toTuple() == (300, 300)
    assert score.real_img.size().toTuple() == (450, 450)
    # the real image lies inside its group box, and the 2×2 image above that box
    box = score.real_box
    r = QRect(score.real_img.mapTo(box, QPoint(0, 0)), score.real_img.size())
    assert box.rect().contains(r), (box.rect(), r)
    top = score.img_plot.mapTo(score, score.img_plot.rect().bottomLeft()).y()
    assert top <= box.mapTo(score, box.rect().topLeft()).y()


def _visible_points_in(plot, rect_scene: QRectF) -> int:
    """How many of ``plot``'s curve points that lie in the view's range are inside ``rect_scene``."""
    vb = plot.getPlotItem().vb
    (x0, x1), (y0, y1) = vb.viewRange()
    n = 0
    for item in plot.getPlotItem().listDataItems():
        xs, ys = item.getData()
        for x, y in zip(xs, ys):
            if x0 <= x <= x1 and y0 <= y <= y1 and rect_scene.contains(vb.mapViewToScene(QPointF(x, y))):
                n += 1
    return n


def test_activation_legends_do_not_cover_the_curves_at_scale_1_5(qtbot, labs):
    from gui import style
    style.set_scale(1.5)
    style.apply()
    lab = labs.lab("ActivationLab")
    labs.tabs.setCurrentIndex(labs._classes.index(type(lab)))
    qtbot.wait(100)
    labs.grab()
    assert set(lab.legends) == set(lab.plots)
    for name, plot in lab.plots.items():
        item = plot.getPlotItem()
        leg = lab.legends[name]
        assert leg.isVisible() and [lab_.text for _, lab_ in leg.items] == ["f(x)", "f′(x)"]
        box = leg.sceneBoundingRect()
        data = item.vb.sceneBoundingRect()
        assert box.height() > 10 and box.width() > 40
        assert not box.intersects(data), (name, box, data)           # beside the data area, not on it
        assert _visible_points_in(plot, box) == 0, name
        assert item.sceneBoundingRect().contains(box), name          # and not cut off
        # the legend's text is at the scale's size (restyled with the plot)
        assert leg.items[0][1].opts["size"] == f"{12 * 1.5:.1f}pt"
    # the curves keep a data area as high as at scale 1's minimum, or more
    assert all(p.getPlotItem().vb.height() >= 100 for p in lab.plots.values())


def test_optimization_lab_deferred_fit_does_not_outlive_the_lab(qtbot):
    """_refit() waits for the next event; the lab deleted meanwhile, nothing runs on it."""
    import shiboken6
    from gui.labs.optim_lab import OptimLab
    errors = []
    import sys
    old = sys.excepthook
    sys.excepthook = lambda *a: errors.append(a)
    try:
        lab = OptimLab()
        lab._refit()
        shiboken6.delete(lab)
        qtbot.wait(50)
    finally:
        sys.excepthook = old
    assert errors == []
