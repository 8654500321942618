"""Lean plot items for curves that change 30 times a second.

pyqtgraph's ``PlotDataItem`` does a lot per ``setData`` that a live curve never uses (symbols,
downsampling, clipping, bounds caches rebuilt through several layers) and its ``PlotCurveItem``
builds a fresh path on every paint, for each of eight curves a frame, all on the GUI thread.
These items keep only what is drawn: line segments (or, for a thin pen, one polyline per finite
run of points) or, for the noisy per-step loss, a min–max bar per block painted as filled
rectangles, the cheapest primitive Qt's raster engine has.  They map their points to device
pixels with NumPy and draw with an identity transform (Qt strokes a 3-pixel line through a
scaling transform several times slower), through public API only: ``QPainter.drawLines`` and
``drawRects`` on lists of ``QLineF`` / ``QRectF`` made from the NumPy rows (kept from one paint
to the next while the view stays, so a frame makes only those of the changed tail), and
``drawPolyline`` on ``pyqtgraph.functions.arrayToQPolygonF``.  Both keep the ``opts`` a
``LegendItem`` reads, and follow the plot's logarithmic y axis.

A live curve changes only at its right end from one frame to the next (new points, the mean of
the unfinished block).  ``setData`` compares the new data with what is drawn and asks Qt to
repaint only the strip from the first changed point to the end (and nothing at all when the
data is the same), so a frame repaints a few columns of pixels instead of the whole plot; the
bounding rectangle (the visible range: the view clips its items) stays the same while the
view does, so growing data never forces a repaint of everything.
"""
from __future__ import annotations

from itertools import starmap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QPainter, QTransform


def _axis_map(p: QPainter):
    """``(sx, dx, sy, dy)`` when the painter's transform only scales and translates (a plot's
    view always does), so device = data · s + d; None otherwise."""
    t = p.transform()
    if t.type().value > QTransform.TxScale.value:
        return None
    return t.m11(), t.dx(), t.m22(), t.dy()


def _first_change(old: tuple, new: tuple) -> int | None:
    """The first row at which the parallel arrays ``old`` and ``new`` differ (NaN equals NaN;
    a longer or shorter array differs at its old end), or None when they are the same."""
    n_old, n_new = len(old[0]), len(new[0])
    n = min(n_old, n_new)
    diff = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for a, b in zip(old, new):
            a, b = a[:n], b[:n]
            diff |= (a != b) & ~(np.isnan(a) & np.isnan(b))
    first = np.flatnonzero(diff)
    if len(first):
        return int(first[0])
    return None if n_old == n_new else n


def _span(*xs: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values in ``xs``, or None when there are none."""
    v = np.concatenate(xs)
    v = v[np.isfinite(v)]
    return (float(v.min()), float(v.max())) if len(v) else None


def _clip_run(xs: np.ndarray, ys: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of a polyline within x in [lo, hi], with one point more on either side (the
    whole run when its x is not in order, where a slice could join points that are not
    neighbours)."""
    inside = np.flatnonzero((xs >= lo) & (xs <= hi))
    if len(inside) == 0:
        a = int(np.searchsorted(xs, lo)) if xs[0] <= xs[-1] else 0   # a segment may still cross
        return xs[max(0, a - 1):a + 1], ys[max(0, a - 1):a + 1]
    a, b = max(0, inside[0] - 1), min(len(xs), inside[-1] + 2)
    if inside[-1] - inside[0] + 1 != len(inside):
        return xs, ys
    return xs[a:b], ys[a:b]


def _log_y(y: np.ndarray, on: bool) -> np.ndarray:
    if not on:
        return y
    with np.errstate(all="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)


class _DeviceRows:
    """The Qt objects (``QLineF`` or ``QRectF``) a paint draws for the rows of an (n, 4) array,
    in device pixels, kept from one paint to the next: new data makes only the rows after its
    first change again, a new transform (a zoom, a new range) all of them."""

    def __init__(self, kind):
        self.kind = kind
        self.key = None
        self.objs: list = []

    def keep(self, n: int) -> None:
        """The data changed from row ``n`` on."""
        del self.objs[n:]

    def get(self, key, rows: np.ndarray, to_device) -> list:
        """One object per row of ``rows`` through ``to_device`` (rows -> device rows), which
        ``key`` identifies."""
        if key != self.key:
            self.key, self.objs = key, []
        if len(self.objs) < len(rows):
            self.objs.extend(starmap(self.kind, to_device(rows[len(self.objs):]).tolist()))
        return self.objs


class _LiveItem(pg.GraphicsObject):
    """Shared parts: legend opts, log mode, bounds, partial repaints and the pixel padding of a
    thick pen."""

    def __init__(self, pen, name: str | None = None):
        super().__init__()
        self.opts = {"pen": pen, "name": name, "antialias": False, "symbol": None, "fillLevel": None}
        self._x = np.empty(0)
        self._log = False
        self._finite = (np.empty(0), np.empty(0))   # the finite points drawn (x, y as shown)
        self._bounds = QRectF()     # their bounds (what dataBounds reports), worked out on demand
        self._box = QRectF()        # the visible range (or the bounds, outside a view)
        self._pad = None
        # paint() is told which part of the item is exposed, and draws only what crosses it
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def name(self) -> str | None:
        return self.opts["name"]

    def setPen(self, pen) -> None:  # noqa: N802 (pyqtgraph's name)
        """A new pen (a new theme or scale): laid out again for its width, repainted whole."""
        self.opts["pen"] = pg.mkPen(pen)
        self._pad = None
        self.prepareGeometryChange()
        self._rebuild()
        self.update()

    def setLogMode(self, _x: bool, y: bool) -> None:   # called by PlotItem.setLogMode
        if y != self._log:
            self._log = y
            self._rebuild()

    def _data_bounds(self) -> QRectF:
        if self._bounds is None:
            xs, ys = self._finite
            x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        return self._bounds

    def _box_now(self) -> QRectF:
        """The visible range: the view clips its items, so nothing outside it is ever drawn
        (and the data's extremes need not be found 30 times a second)."""
        if not len(self._finite[0]):
            return QRectF()
        view = self.viewRect()
        return self._data_bounds() if view is None else view

    def _set_bounds(self, xs: np.ndarray, ys: np.ndarray, dirty: tuple[float, float] | None = None) -> None:
        """New finite points; repaint the x range ``dirty`` (data units), or everything if None."""
        self._finite = (xs, ys)
        self._bounds = None if len(xs) and len(ys) else QRectF()
        box = self._box_now()
        if box != self._box:                # (the first data, or none any more)
            self.prepareGeometryChange()
            self._box = box
            self.update()
        elif dirty is None or box.isNull():
            self.update()
        else:
            whole = self.boundingRect()     # (this also works out the pen's padding)
            px = self._pad[0]
            x0, x1 = dirty
            self.update(QRectF(x0 - px, whole.top(), x1 - x0 + 2 * px, whole.height()))

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        b = self._data_bounds()
        if b.isNull():
            return None, None
        return (b.left(), b.right()) if ax == 0 else (b.top(), b.bottom())

    def viewTransformChanged(self) -> None:   # a zoom changes how much data a pixel covers
        super().viewTransformChanged()
        self._pad = None
        self.prepareGeometryChange()
        self._box = self._box_now()

    def boundingRect(self) -> QRectF:
        if self._box.isNull():
            return QRectF()
        if self._pad is None:
            px, py = self.pixelVectors()
            w = max(1.0, self.opts["pen"].widthF()) + 1.0
            self._pad = (0.0 if px is None else px.length() * w, 0.0 if py is None else py.length() * w)
        dx, dy = self._pad
        return self._box.adjusted(-dx, -dy, dx, dy)

    def _exposed_x(self, opt) -> tuple[float, float] | None:
        """The x range (data units, widened by the pen) that a paint with style option ``opt``
        shows, or None when it shows most of the item (then culling would not pay)."""
        if opt is None:
            return None
        ex, box = opt.exposedRect, self.boundingRect()
        if ex.isEmpty() or ex.width() >= 0.5 * box.width():
            return None
        px = self._pad[0] if self._pad is not None else 0.0
        return ex.left() - px, ex.right() + px

    def _rebuild(self) -> None:
        """Recompute what is drawn from the data (after a log-mode change: all of it)."""
        raise NotImplementedError


class FastCurve(_LiveItem):
    """A line through (x, y); non-finite points break the line (like ``connect="finite"``).

    A pen wider than one pixel is drawn as separate segments (square caps close the joints):
    Qt strokes a long, jagged polyline with a thick pen through its path stroker, several times
    slower than the same segments."""

    def __init__(self, pen, name: str | None = None):
        super().__init__(pen, name)
        self._seg = np.empty((0, 4))          # thick pen: segments (x0, y0, x1, y1), data units
        self._runs: list = []                 # thin pen: (xs, ys) per finite run of 2+ points
        self._dots = (np.empty(0), np.empty(0))
        self._lines = _DeviceRows(QLineF)     # thick pen: the segments as drawn
        self._y = np.empty(0)

    def setData(self, x, y) -> None:
        # (copies: the next data is compared with these, and a caller may change its buffer in place)
        x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
        i = _first_change((self._x, self._y), (x, y))
        if i is None:
            return                          # the same curve: nothing to repaint
        j = max(0, i - 1)                   # (the segment into the first changed point changes too)
        dirty = _span(self._x[j:], x[j:])
        self._x, self._y = x, y
        self._rebuild(dirty, i)

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def _thick(self) -> bool:
        return self.opts["pen"].widthF() > 1.0

    def _rebuild(self, dirty: tuple[float, float] | None = None, first: int = 0) -> None:
        """(``first``: the first point that changed; the segments before it stay as drawn.)"""
        x, y = self._x, _log_y(self._y, self._log)
        n = len(x)
        if n and np.isfinite(x).all() and np.isfinite(y).all():   # the usual case, in fewer steps
            none = np.empty(0)
            if self._thick():
                seg = self._seg = np.empty((n - 1, 4))
                seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3] = x[:-1], y[:-1], x[1:], y[1:]
                self._lines.keep(max(0, first - 1))
                self._runs = []
            else:
                self._runs = [(x, y)] if n > 1 else []
                self._seg = np.empty((0, 4))
            self._dots = (x, y) if n == 1 else (none, none)
            self._set_bounds(x, y, dirty)
            return
        ok = np.isfinite(x) & np.isfinite(y)
        both = ok[:-1] & ok[1:]
        lone = np.flatnonzero(ok & ~np.concatenate([[False], both]) & ~np.concatenate([both, [False]]))
        self._dots = (x[lone], y[lone])
        if self._thick():
            a = np.flatnonzero(both)
            self._seg = np.stack([x[a], y[a], x[a + 1], y[a + 1]], axis=1)
            self._lines.keep(int(np.searchsorted(a, first - 1)))   # (segment k ends at point a[k] + 1)
            self._runs = []
        else:
            edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))
            self._runs = [(x[a:b], y[a:b]) for a, b in zip(edges[0::2], edges[1::2]) if b - a >= 2]
            self._seg = np.empty((0, 4))
        self._set_bounds(x[ok], y[ok], dirty)

    def paint(self, p: QPainter, opt=None, _widget=None) -> None:
        m = _axis_map(p)
        sx, dx, sy, dy = m if m is not None else (1.0, 0.0, 1.0, 0.0)
        seg, runs, (dots_x, dots_y) = self._seg, self._runs, self._dots
        lines = []
        if len(seg):
            scale, shift = np.array([sx, sy, sx, sy]), np.array([dx, dy, dx, dy])
            lines = self._lines.get((sx, dx, sy, dy), seg, lambda rows: rows * scale + shift)
        cut = self._exposed_x(opt)
        if cut is not None:                  # only a strip is repainted: draw what crosses it
            lo, hi = cut
            crossing = np.flatnonzero((np.maximum(seg[:, 0], seg[:, 2]) >= lo)
                                      & (np.minimum(seg[:, 0], seg[:, 2]) <= hi))
            lines = [lines[k] for k in crossing.tolist()]
            keep = (dots_x >= lo) & (dots_x <= hi)
            dots_x, dots_y = dots_x[keep], dots_y[keep]
            runs = [_clip_run(xs, ys, lo, hi) for xs, ys in runs]
        p.save()
        if m is not None:
            p.resetTransform()               # (the view's clip stays: it is kept in device space)
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(self.opts["pen"])
        if self._thick():
            if len(dots_x):                  # a zero-length segment: the pen's square
                dev_x, dev_y = (dots_x * sx + dx).tolist(), (dots_y * sy + dy).tolist()
                lines = lines + [QLineF(a, b, a, b) for a, b in zip(dev_x, dev_y)]
            if lines:
                p.drawLines(lines)
        else:
            for xs, ys in runs:
                if len(xs) >= 2:
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
        self._geom = np.empty((0, 4))
        self._rects = _DeviceRows(QRectF)     # the bars as drawn

    def setData(self, x, lo, hi) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._lo = np.asarray(lo, dtype=np.float64)
        self._hi = np.asarray(hi, dtype=np.float64)
        self._rebuild(partial=True)

    def getData(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._x, self._lo, self._hi

    def setBrush(self, brush) -> None:  # noqa: N802
        self.brush = pg.mkBrush(brush)
        self.update()

    def _rebuild(self, partial: bool = False) -> None:
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
        dirty, i = None, 0
        if partial:                         # repaint from the first bar that changed to the end
            old = self._geom
            i = _first_change(tuple(old.T), tuple(g.T))
            if i is None:
                return
            dirty = _span(old[i:, 0], old[i:, 0] + old[i:, 2], g[i:, 0], g[i:, 0] + g[i:, 2])
        self._rects.keep(i)
        self._geom = g
        self._set_bounds(np.concatenate([g[:, 0], g[:, 0] + g[:, 2]]), np.concatenate([g[:, 1], g[:, 1] + g[:, 3]]),
                         dirty)

    def paint(self, p: QPainter, opt=None, _widget=None) -> None:
        g = self._geom
        if not len(g):
            return
        m = _axis_map(p)
        sx, dx, sy, dy = m if m is not None else (1.0, 0.0, 1.0, 0.0)
        # at least two device pixels high (in data units when the transform is not a plain scale)
        min_h = 2.0 if m is not None else 2.0 / max(1e-300, abs(p.transform().m22()))

        def to_device(g: np.ndarray) -> np.ndarray:
            r = np.empty((len(g), 4))
            r[:, 0] = g[:, 0] * sx + dx
            r[:, 2] = g[:, 2] * sx
            r[:, 1] = g[:, 1] * sy + dy
            r[:, 3] = g[:, 3] * sy
            for pos, size in ((0, 2), (1, 3)):     # a flipped axis (y grows upwards): normal rects
                flip = r[:, size] < 0
                r[flip, pos] += r[flip, size]
                np.abs(r[:, size], out=r[:, size])
            short = np.maximum(0.0, min_h - r[:, 3])
            r[:, 1] -= short / 2
            r[:, 3] += short
            return r

        rects = self._rects.get((sx, dx, sy, dy, min_h), g, to_device)
        cut = self._exposed_x(opt)
        if cut is not None:                  # only a strip is repainted: draw the bars in it
            crossing = np.flatnonzero((g[:, 0] + g[:, 2] >= cut[0]) & (g[:, 0] <= cut[1]))
            rects = [rects[k] for k in crossing.tolist()]
        if not rects:
            return
        p.save()
        if m is not None:
            p.resetTransform()
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(Qt.NoPen)
        p.setBrush(self.brush)
        p.drawRects(rects)
        p.restore()


__all__ = ["FastCurve", "BandItem"]
