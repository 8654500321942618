"""Lean plot items for curves that change 30 times a second.

pyqtgraph's ``PlotDataItem`` does a lot per ``setData`` that a live curve never uses (symbols,
downsampling, clipping, bounds caches rebuilt through several layers) and its ``PlotCurveItem``
builds a fresh path on every paint: together ~1.2 ms per curve per frame, eight curves a frame,
all on the GUI thread.  These items keep only what is drawn: line segments (or, for a thin pen,
one polyline per finite run of points) or, for the noisy per-step loss, a min–max bar per block
painted as filled rectangles, the cheapest primitive Qt's raster engine has.  They map their
points to device pixels with NumPy and draw with an identity transform: Qt strokes a 3-pixel
line through a scaling transform several times slower (0.5 against 0.14 ms for 256 segments).
Both keep the ``opts`` a ``LegendItem`` reads, and follow the plot's logarithmic y axis.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QPainter, QTransform


def _axis_map(p: QPainter):
    """``(sx, dx, sy, dy)`` when the painter's transform only scales and translates (a plot's
    view always does), so device = data · s + d; None otherwise."""
    t = p.transform()
    if t.type().value > QTransform.TxScale.value:
        return None
    return t.m11(), t.dx(), t.m22(), t.dy()


def _log_y(y: np.ndarray, on: bool) -> np.ndarray:
    if not on:
        return y
    with np.errstate(all="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)


class _LiveItem(pg.GraphicsObject):
    """Shared parts: legend opts, log mode, bounds and the pixel padding of a thick pen."""

    def __init__(self, pen, name: str | None = None):
        super().__init__()
        self.opts = {"pen": pen, "name": name, "antialias": False, "symbol": None, "fillLevel": None}
        self._x = np.empty(0)
        self._log = False
        self._bounds = QRectF()
        self._pad = None

    def name(self) -> str | None:
        return self.opts["name"]

    def setLogMode(self, _x: bool, y: bool) -> None:   # called by PlotItem.setLogMode
        if y != self._log:
            self._log = y
            self._rebuild()

    def _set_bounds(self, xs: np.ndarray, ys: np.ndarray) -> None:
        self.prepareGeometryChange()
        if len(xs) and len(ys):
            x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        b = self._bounds
        if b.isNull():
            return None, None
        return (b.left(), b.right()) if ax == 0 else (b.top(), b.bottom())

    def viewTransformChanged(self) -> None:   # a zoom changes how much data a pixel covers
        self._pad = None
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull():
            return QRectF()
        if self._pad is None:
            px, py = self.pixelVectors()
            w = max(1.0, self.opts["pen"].widthF()) + 1.0
            self._pad = (0.0 if px is None else px.length() * w, 0.0 if py is None else py.length() * w)
        dx, dy = self._pad
        return self._bounds.adjusted(-dx, -dy, dx, dy)

    def _rebuild(self) -> None:
        raise NotImplementedError


class FastCurve(_LiveItem):
    """A line through (x, y); non-finite points break the line (like ``connect="finite"``).

    A pen wider than one pixel is drawn as separate segments (square caps close the joints):
    Qt strokes a long, jagged polyline with a thick pen through its path stroker, ~1 ms for a
    noisy 256-point curve, against ~0.2 ms for the same segments."""

    def __init__(self, pen, name: str | None = None):
        super().__init__(pen, name)
        self._seg = np.empty((0, 4))          # thick pen: segments (x0, y0, x1, y1), data units
        self._runs: list = []                 # thin pen: (xs, ys) per finite run of 2+ points
        self._dots = (np.empty(0), np.empty(0))
        self._prims = internals.PrimitiveArray(QLineF, 4)
        self._y = np.empty(0)

    def setData(self, x, y) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)
        self._rebuild()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def _thick(self) -> bool:
        return self.opts["pen"].widthF() > 1.0

    def _rebuild(self) -> None:
        x, y = self._x, _log_y(self._y, self._log)
        ok = np.isfinite(x) & np.isfinite(y)
        both = ok[:-1] & ok[1:]
        lone = np.flatnonzero(ok & ~np.concatenate([[False], both]) & ~np.concatenate([both, [False]]))
        self._dots = (x[lone], y[lone])
        if self._thick():
            a = np.flatnonzero(both)
            self._seg = np.stack([x[a], y[a], x[a + 1], y[a + 1]], axis=1)
            self._runs = []
        else:
            edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))
            self._runs = [(x[a:b], y[a:b]) for a, b in zip(edges[0::2], edges[1::2]) if b - a >= 2]
            self._seg = np.empty((0, 4))
        self._set_bounds(x[ok], y[ok])

    def paint(self, p: QPainter, *_args) -> None:
        m = _axis_map(p)
        sx, dx, sy, dy = m if m is not None else (1.0, 0.0, 1.0, 0.0)
        p.save()
        if m is not None:
            p.resetTransform()               # (the view's clip stays: it is kept in device space)
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(self.opts["pen"])
        dots_x, dots_y = self._dots
        if self._thick():
            seg, n = self._seg, len(self._seg)
            self._prims.resize(n + len(dots_x))
            dev = self._prims.ndarray()
            dev[:n, 0::2] = seg[:, 0::2] * sx + dx
            dev[:n, 1::2] = seg[:, 1::2] * sy + dy
            dev[n:, 0::2] = (dots_x * sx + dx)[:, None]   # a zero-length segment: the pen's square
            dev[n:, 1::2] = (dots_y * sy + dy)[:, None]
            if len(dev):
                p.drawLines(*self._prims.drawargs())
        else:
            for xs, ys in self._runs:
                p.drawPolyline(pg.functions.arrayToQPolygonF(xs * sx + dx, ys * sy + dy))
            if len(dots_x):
                p.drawPoints(pg.functions.arrayToQPolygonF(dots_x * sx + dx, dots_y * sy + dy))
        p.restore()


class BandItem(_LiveItem):
    """Blocks of a noisy curve as bars from each block's minimum to its maximum.

    ``setData(x, lo, hi)``: block ``i`` spans ``x[i]`` to ``x[i+1]`` (the last one as wide as
    the one before).  A block whose range is under two pixels is still drawn two pixels high, so
    a quiet stretch reads as a line.
    """

    def __init__(self, pen, brush, name: str | None = None):
        super().__init__(pen, name)
        self.brush = pg.mkBrush(brush)
        self._lo = self._hi = np.empty(0)
        self._rects = internals.PrimitiveArray(QRectF, 4)
        self._geom = np.empty((0, 4))

    def setData(self, x, lo, hi) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._lo = np.asarray(lo, dtype=np.float64)
        self._hi = np.asarray(hi, dtype=np.float64)
        self._rebuild()

    def getData(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._x, self._lo, self._hi

    def _rebuild(self) -> None:
        x, lo, hi = self._x, _log_y(self._lo, self._log), _log_y(self._hi, self._log)
        n = len(x)
        if n:
            right = np.empty(n)
            right[:-1] = x[1:]
            right[-1] = x[-1] + (x[-1] - x[-2] if n > 1 else 1.0)
            ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(right)
            x, lo, hi, right = x[ok], lo[ok], hi[ok], right[ok]   # (a diverged run has inf in it)
            g = np.stack([x, np.minimum(lo, hi), right - x, np.abs(hi - lo)], axis=1)
        else:
            g = np.empty((0, 4))
        self._geom = g
        self._set_bounds(np.concatenate([g[:, 0], g[:, 0] + g[:, 2]]), np.concatenate([g[:, 1], g[:, 1] + g[:, 3]]))

    def paint(self, p: QPainter, *_args) -> None:
        g = self._geom
        if not len(g):
            return
        m = _axis_map(p)
        sx, dx, sy, dy = m if m is not None else (1.0, 0.0, 1.0, 0.0)
        self._rects.resize(len(g))
        r = self._rects.ndarray()
        r[:, 0] = g[:, 0] * sx + dx
        r[:, 2] = g[:, 2] * sx
        r[:, 1] = g[:, 1] * sy + dy
        r[:, 3] = g[:, 3] * sy
        for pos, size in ((0, 2), (1, 3)):     # a flipped axis (y grows upwards): normal rects
            flip = r[:, size] < 0
            r[flip, pos] += r[flip, size]
            np.abs(r[:, size], out=r[:, size])
        # at least two device pixels high (in data units when the transform is not a plain scale)
        min_h = 2.0 if m is not None else 2.0 / max(1e-300, abs(p.transform().m22()))
        short = np.maximum(0.0, min_h - r[:, 3])
        r[:, 1] -= short / 2
        r[:, 3] += short
        p.save()
        if m is not None:
            p.resetTransform()
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(Qt.NoPen)
        p.setBrush(self.brush)
        p.drawRects(*self._rects.drawargs())
        p.restore()


__all__ = ["FastCurve", "BandItem"]
