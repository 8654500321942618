"""The lean live plot items the loss view draws with: what they paint, pixel by pixel."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import pyqtgraph as pg  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402

from gui.views.fastcurve import BandItem, FastCurve  # noqa: E402

RED, BLUE = "#ff0000", "#0000ff"


@pytest.fixture
def plot(qtbot):
    pw = pg.PlotWidget(background="k")
    qtbot.addWidget(pw)
    pw.resize(420, 420)
    pi = pw.getPlotItem()
    for ax in ("left", "bottom"):
        pi.hideAxis(ax)
    pi.disableAutoRange()
    pi.setXRange(0, 10, padding=0)
    pi.setYRange(0, 10, padding=0)
    pw.show()
    qtbot.waitExposed(pw)
    return pw


def _near(pw, x, y, colour: str) -> bool:
    """``colour`` is painted within a pixel of data point (x, y)."""
    vb = pw.getPlotItem().vb
    px = pw.mapFromScene(vb.mapViewToScene(pg.Point(x, y)))
    img = pw.grab().toImage()
    r = pw.devicePixelRatioF()
    return any(img.pixelColor(int(px.x() * r) + dx, int(px.y() * r) + dy).name() == colour
               for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def _colour_at(pw, x, y) -> QColor:
    """The colour painted at data point (x, y)."""
    vb = pw.getPlotItem().vb
    scene_pt = vb.mapViewToScene(pg.Point(x, y))
    px = pw.mapFromScene(scene_pt)
    img = pw.grab().toImage()
    r = pw.devicePixelRatioF()
    return img.pixelColor(int(px.x() * r), int(px.y() * r))


@pytest.mark.parametrize("width", [1, 3])      # a polyline, and thick segments
def test_curve_draws_its_points_and_breaks_at_nan(plot, width):
    c = FastCurve(pg.mkPen(RED, width=width), "c")
    plot.addItem(c)
    c.setData([1, 4, 5, 6, 8, 8.5, 9], [5, 5, np.nan, 5, 5, np.nan, 8])
    assert _colour_at(plot, 2.5, 5).name() == RED      # on the first run
    assert _colour_at(plot, 7.5, 5).name() == RED      # on the second run
    assert _colour_at(plot, 5.0, 5).name() != RED      # the gap around the NaN stays empty
    assert _colour_at(plot, 2.5, 8).name() != RED
    assert _near(plot, 9, 8, RED)                      # a lone point between gaps shows as a dot
    lo, hi = c.dataBounds(1)
    assert (lo, hi) == (5.0, 8.0) and c.dataBounds(0) == (1.0, 9.0)


def test_curve_follows_the_plots_log_axis(plot):
    c = FastCurve(pg.mkPen(RED, width=3), "c")
    plot.addItem(c)
    c.setData([1, 9], [100.0, 100.0])
    plot.getPlotItem().setLogMode(y=True)              # the item draws log10(y) = 2
    plot.getPlotItem().disableAutoRange()
    plot.getPlotItem().setXRange(0, 10, padding=0)
    plot.getPlotItem().setYRange(0, 10, padding=0)
    assert _colour_at(plot, 5, 2).name() == RED
    c.setData([1, 9], [0.0, -1.0])                     # nothing to draw on a log axis, no error
    assert c.boundingRect().isNull()


def test_band_fills_each_block_from_min_to_max_and_at_least_two_pixels(plot):
    b = BandItem(pg.mkPen(BLUE), BLUE, "band")
    plot.addItem(b)
    # block 0: x 1..3, 2..6; block 1: x 3..5, a flat block (min == max); block 2: x 5..7, 7..8
    b.setData([1, 3, 5], [2, 4, 7], [6, 4, 8])
    assert _colour_at(plot, 2, 3).name() == BLUE
    assert _colour_at(plot, 2, 5.5).name() == BLUE
    assert _colour_at(plot, 2, 7).name() != BLUE       # above block 0's maximum
    assert _colour_at(plot, 4, 4).name() == BLUE       # a flat block still shows, two pixels high
    assert _colour_at(plot, 4, 5).name() != BLUE
    assert _colour_at(plot, 6, 7.5).name() == BLUE     # the last block is as wide as the one before
    assert _colour_at(plot, 7.5, 7.5).name() != BLUE
    assert b.dataBounds(0) == (1.0, 7.0) and b.dataBounds(1) == (2.0, 8.0)


def test_items_appear_in_a_legend(plot):
    legend = plot.getPlotItem().addLegend()
    c = FastCurve(pg.mkPen(RED, width=3), "a curve")
    b = BandItem(pg.mkPen(BLUE), BLUE, "a band")
    for item in (c, b):
        plot.addItem(item)
        legend.addItem(item, item.name())
    assert [label.text for _, label in legend.items] == ["a curve", "a band"]
    plot.grab()    # the legend samples paint from the items' opts


def _on_screen(pw) -> np.ndarray:
    """What the widget shows now: the window's pixels as the partial repaints left them."""
    from PySide6.QtWidgets import QApplication
    img = QApplication.primaryScreen().grabWindow(pw.winId()).toImage()
    return _pixels(img)


def _pixels(img) -> np.ndarray:
    from PySide6.QtGui import QImage
    img = img.convertToFormat(QImage.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return a[:, :img.width() * 4].reshape(img.height(), img.width(), 4)[..., :3].astype(int)


class _Spy:
    """Records the exposed rectangle (x range, data units) of every paint of an item."""

    def __init__(self, item):
        self.exposed: list[tuple[float, float]] = []
        paint = type(item).paint

        def spy(p, opt=None, w=None):
            self.exposed.append((opt.exposedRect.left(), opt.exposedRect.right()))
            paint(item, p, opt, w)
        item.paint = spy


@pytest.mark.parametrize("kind", ["thick", "thin", "band"])
def test_partial_repaints_leave_the_picture_a_full_repaint_draws(qtbot, plot, kind):
    """Growing data with a changing tail is repainted strip by strip: the pixels on screen must
    be what a fresh full render shows (no stale line where the tail used to be)."""
    if kind == "band":
        item = BandItem(pg.mkPen(BLUE), BLUE, "b")
    else:
        item = FastCurve(pg.mkPen(RED, width=3 if kind == "thick" else 1), "c")
    spy = _Spy(item)
    plot.addItem(item)
    rng = np.random.default_rng(0)
    x = np.arange(0.5, 9.6, 0.25)
    y = 5 + rng.normal(0, 1, len(x))
    for n in range(4, len(x), 3):
        tail = y[:n].copy()
        tail[-1] = 9.0 if n % 2 else 1.0        # the last point jumps about, as a block mean can
        if kind == "band":
            item.setData(x[:n], tail - 0.5, tail + 0.5)
        else:
            item.setData(x[:n], tail)
        qtbot.wait(5)
    qtbot.waitUntil(lambda: len(spy.exposed) > 5)
    qtbot.wait(50)
    live, fresh = _on_screen(plot), _pixels(plot.grab().toImage())
    differ = (np.abs(live - fresh).sum(axis=2) > 60).sum()
    assert differ <= 6, f"{differ} pixels differ between the live picture and a full render"
    # and most repaints covered a narrow strip at the right end, not the whole plot
    narrow = [r - left for left, r in spy.exposed if r - left < 3.0]
    assert len(narrow) >= len(spy.exposed) // 2


def test_the_same_data_again_repaints_nothing(qtbot, plot):
    c = FastCurve(pg.mkPen(RED, width=3), "c")
    spy = _Spy(c)
    plot.addItem(c)
    c.setData([1, 2, 3], [1, np.nan, 3])
    qtbot.waitUntil(lambda: len(spy.exposed) > 0)
    qtbot.wait(30)
    n = len(spy.exposed)
    for _ in range(3):
        c.setData([1, 2, 3], [1, np.nan, 3])       # NaN equals NaN here
        qtbot.wait(30)
    assert len(spy.exposed) == n
    c.setData([1, 2, 3], [1, np.nan, 4])
    qtbot.waitUntil(lambda: len(spy.exposed) > n)


def test_data_beyond_the_view_is_drawn_where_visible_and_bounded_in_full(qtbot, plot):
    c = FastCurve(pg.mkPen(RED, width=3), "c")
    plot.addItem(c)
    c.setData([-5, 15], [5, 5])                        # a line wider than the view (0..10)
    assert _colour_at(plot, 5, 5).name() == RED
    assert c.dataBounds(0) == (-5.0, 15.0) and c.dataBounds(1) == (5.0, 5.0)
    c.setData([-5, 15, 20], [5, 5, 50])                # grows outside: the visible part stays
    qtbot.wait(20)
    assert _colour_at(plot, 5, 5).name() == RED
    assert c.dataBounds(1) == (5.0, 50.0)


def _private_pyqtgraph_uses(src: str) -> list[str]:
    """The private pyqtgraph modules and attributes ``src`` reaches: ``pyqtgraph.Qt.internals``
    or any dotted part that starts with an underscore (dunders aside), whether imported
    (``from pyqtgraph.Qt import internals``) or reached through the module's name (``pg.Qt.internals``)."""
    import ast

    def private(parts: list[str]) -> bool:
        return any(p == "internals" or (p.startswith("_") and not p.endswith("__")) for p in parts[1:])

    found, names = [], set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "pyqtgraph":
                    names.add((a.asname or a.name).split(".")[0])
                    if private(a.name.split(".")):
                        found.append(a.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pyqtgraph":
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if private(full.split(".")):
                    found.append(full)
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Attribute):
            parts, n = [], node
            while isinstance(n, ast.Attribute):
                parts.insert(0, n.attr)
                n = n.value
            if isinstance(n, ast.Name) and n.id in names and private([n.id, *parts]):
                found.append(".".join([n.id, *parts]))
    return found


def test_the_finder_of_private_pyqtgraph_uses_finds_them():
    assert _private_pyqtgraph_uses("from pyqtgraph.Qt import internals") == ["pyqtgraph.Qt.internals"]
    assert _private_pyqtgraph_uses("import pyqtgraph.Qt.internals as i") == ["pyqtgraph.Qt.internals"]
    assert _private_pyqtgraph_uses("from pyqtgraph.graphicsItems import _private") != []
    assert _private_pyqtgraph_uses("import pyqtgraph as pg\na = pg.Qt.internals.PrimitiveArray") != []
    assert _private_pyqtgraph_uses("import pyqtgraph as pg\nimport pyqtgraph.exporters\n"
                                   "pg.mkPen(); pg.PlotItem.__init__; pg.functions.arrayToQPolygonF") == []


def test_no_gui_module_uses_a_private_pyqtgraph_module():
    """The window relies on pyqtgraph's public API only (its version is bounded in pyproject, and
    a private module may change or go in any release)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "gui"
    files = sorted(root.rglob("*.py"))
    assert any(f.name == "fastcurve.py" for f in files)
    uses = {str(f.relative_to(root)): u for f in files if (u := _private_pyqtgraph_uses(f.read_text(encoding="utf-8")))}
    assert uses == {}


def _painted(item, size=(200, 100), view=(0.0, 10.0, 0.0, 10.0)) -> np.ndarray:
    """``item`` painted alone into an image of ``size`` pixels through the transform a plot's
    view uses (data ``view`` = x0, x1, y0, y1 on the whole image, y upwards): RGB per pixel."""
    from PySide6.QtGui import QImage, QPainter, QTransform
    w, h = size
    x0, x1, y0, y1 = view
    img = QImage(w, h, QImage.Format_RGB32)
    img.fill(QColor("black"))
    p = QPainter(img)
    sx, sy = w / (x1 - x0), -h / (y1 - y0)
    p.setTransform(QTransform(sx, 0, 0, sy, -x0 * sx, -y1 * sy))
    item.paint(p, None, None)
    p.end()
    return _pixels(img)


def _red(px) -> np.ndarray:
    return (px[..., 2] > 200) & (px[..., 1] < 60) & (px[..., 0] < 60)


@pytest.mark.parametrize("width", [1, 3])
def test_curve_paints_a_line_through_every_point(qtbot, width):
    """Every point of a jagged 40-point curve is painted, in its own pixel column, and nothing
    far from the line is: the device coordinates are each point's, in order."""
    c = FastCurve(pg.mkPen(RED, width=width), "c")
    x = np.linspace(0.5, 9.5, 40)
    y = 5 + 3 * np.sin(np.arange(40) * 1.3)
    c.setData(x, y)
    px = _red(_painted(c))
    cols, rows = np.round(x * 20).astype(int), np.round((10 - y) * 10).astype(int)
    for cx, ry in zip(cols, rows):
        assert px[max(0, ry - 1):ry + 2, max(0, cx - 1):cx + 2].any(), (cx, ry)
    # between neighbouring points the line stays within the pair's y range (with the pen's width)
    for i in range(len(x) - 1):
        a, b = cols[i] + 2, cols[i + 1] - 2
        if a >= b:
            continue
        lo, hi = sorted((rows[i], rows[i + 1]))
        hit = np.flatnonzero(px[:, a:b].any(axis=1))
        assert len(hit) and hit.min() >= lo - 3 and hit.max() <= hi + 3, i


def test_curve_leaves_out_segments_next_to_non_finite_points(qtbot):
    c = FastCurve(pg.mkPen(RED, width=3), "c")
    c.setData([1, 3, 5, 7, 9], [2, 8, np.inf, 8, 2])
    px = _red(_painted(c))
    assert px[:, 40:60].any() and px[:, 140:160].any()     # 1→3 and 7→9 are drawn
    assert not px[:, 70:130].any()                           # 3→5 and 5→7 are not


def test_band_paints_every_block_between_its_minimum_and_maximum(qtbot):
    b = BandItem(pg.mkPen(RED), RED, "b")
    n = 30
    x = np.linspace(0, 9, n)
    lo = 2 + 2 * (np.arange(n) % 3)
    hi = lo + 1 + (np.arange(n) % 4)
    b.setData(x, lo, hi)
    px = _red(_painted(b))
    w = 20 * (x[1] - x[0])
    for i in range(n):
        col = int(x[i] * 20 + w / 2)
        painted = np.flatnonzero(px[:, col])
        assert len(painted), i
        top, bottom = (10 - hi[i]) * 10, (10 - lo[i]) * 10
        assert abs(painted.min() - top) <= 1 and abs(painted.max() + 1 - bottom) <= 1, i


@pytest.mark.parametrize("kind", ["thick", "thin", "band"])
def test_an_item_paints_what_a_fresh_one_does_after_any_change(qtbot, kind):
    """What an item keeps from one paint to the next (the device-pixel segments or bars) never
    shows stale data: after growth, a change in the middle, a gap, shrinking, a zoom, the log
    axis, a new pen, it paints exactly what a new item given the same data paints."""
    def make():
        if kind == "band":
            return BandItem(pg.mkPen(RED), RED, "b")
        return FastCurve(pg.mkPen(RED, width=1 if kind == "thin" else 3), "c")

    def put(item, x, y):
        if kind == "band":
            item.setData(x, y - 0.4, y + 0.4)
        else:
            item.setData(x, y)

    rng = np.random.default_rng(1)
    x = np.linspace(0.5, 9.5, 60)
    y = 5 + rng.normal(0, 1.5, 60)
    item, view = make(), (0.0, 10.0, 0.0, 10.0)
    steps = [("grow", 30), ("grow", 45), ("middle", 45), ("gap", 45), ("grow", 60), ("zoom", 60),
             ("middle", 60), ("shrink", 20), ("log", 20), ("grow", 50), ("pen", 50), ("middle", 50)]
    for step, (what, n) in enumerate(steps):
        if what == "middle":
            y[10 + step:14 + step] += 2
        elif what == "gap":
            y[25] = np.nan
        elif what == "zoom":
            view = (2.0, 8.0, 1.0, 9.0)
        put(item, x[:n], y[:n])
        if what == "log":
            item.setLogMode(False, True)
        if what == "pen":
            item.setPen(pg.mkPen(RED, width=2))
        if what == "log":
            view = (view[0], view[1], -1.0, 1.2)
        fresh = make()
        fresh.setLogMode(False, item._log)
        fresh.setPen(item.opts["pen"])
        put(fresh, x[:n], y[:n])
        a, b = _painted(item, view=view), _painted(fresh, view=view)
        assert _red(a).sum() > 20, what
        assert (a == b).all(), f"step {step} ({what}): {(a != b).any(axis=2).sum()} pixels differ"
