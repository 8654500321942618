"""Lean plot items for curves that change 30 times a second.

pyqtgraph's ``PlotDataItem`` does a lot per ``setData`` that a live curve never uses (symbols,
downsampling, clipping, bounds caches rebuilt through several layers) and its ``PlotCurveItem``
builds a fresh path on every paint: together ~1.2 ms per curve per frame, eight curves a frame,
all on the GUI thread.  These items keep only what is drawn: one ``QPolygonF`` per finite run of
points (built from NumPy in one copy) or, for the noisy per-step loss, a min–max bar per block
painted as filled rectangles, the cheapest primitive Qt's raster engine has.  Both keep the
``opts`` a ``LegendItem`` reads, and follow the plot's logarithmic y axis.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter


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
        self._y = np.empty(0)
        self._log = False
        self._bounds = QRectF()
        self._pad = None

    def name(self) -> str | None:
        return self.opts["name"]

    def setLogMode(self, _x: bool, y: bool) -> None:   # called by PlotItem.setLogMode
        if y != self._log:
            self._log = y
            self._rebuild()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

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
    """A polyline through (x, y); non-finite points break the line (like ``connect="finite"``)."""

    def __init__(self, pen, name: str | None = None):
        super().__init__(pen, name)
        self._polys: list = []

    def setData(self, x, y) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)
        self._rebuild()

    def _rebuild(self) -> None:
        x, y = self._x, _log_y(self._y, self._log)
        ok = np.isfinite(x) & np.isfinite(y)
        self._polys = []
        if ok.all():
            runs = [(0, len(x))] if len(x) else []
        else:
            edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))
            runs = list(zip(edges[0::2], edges[1::2]))
        for a, b in runs:
            if b - a >= 2:
                self._polys.append(pg.functions.arrayToQPolygonF(x[a:b], y[a:b]))
            elif b - a == 1:      # a lone point: a zero-length line still shows the pen's dot
                self._polys.append(pg.functions.arrayToQPolygonF(x[a:b].repeat(2), y[a:b].repeat(2)))
        self._set_bounds(x[ok], y[ok])

    def paint(self, p: QPainter, *_args) -> None:
        if not self._polys:
            return
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(self.opts["pen"])
        for poly in self._polys:
            p.drawPolyline(poly)


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
        self._y = (self._lo + self._hi) / 2
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
            ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
            g = np.stack([x, np.minimum(lo, hi), right - x, np.abs(hi - lo)], axis=1)[ok]
        else:
            g = np.empty((0, 4))
        self._geom = g
        self._set_bounds(np.concatenate([g[:, 0], g[:, 0] + g[:, 2]]), np.concatenate([g[:, 1], g[:, 1] + g[:, 3]]))

    def paint(self, p: QPainter, *_args) -> None:
        g = self._geom
        if not len(g):
            return
        # at least two device pixels high (the painter maps data to pixels: m22 is px per unit)
        px_h = 2.0 / max(1e-300, abs(p.transform().m22()))
        self._rects.resize(len(g))
        r = self._rects.ndarray()
        r[:] = g
        np.maximum(r[:, 3], px_h, out=r[:, 3])
        r[:, 1] -= np.maximum(0.0, px_h - g[:, 3]) / 2
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(Qt.NoPen)
        p.setBrush(self.brush)
        p.drawRects(*self._rects.drawargs())


__all__ = ["FastCurve", "BandItem"]
