"""Readable labels at any font scale: a grid of equal tiles with names under them, and an axis
that names categories (class names) without overprinting them.

* :class:`TileGrid` lays out ``n`` square tiles of one size in a ViewBox whose coordinates are
  its pixels, each with a label (one or more lines) under or above it.  The grid is chosen for
  the space there is — for a linear classifier's ten templates the slide's 2×5 (or 1×10 when the
  view is wide) — and a label wider than its column is shortened with "…", its full text in the
  tooltip.  Tile content lives in unit coordinates ``[0, 1]²`` inside each tile's group.
* :class:`CategoryAxis` draws one name per category (integer positions ``k + 0.5`` or ``k``):
  horizontally where they fit, turned upright on a bottom axis where they do not, shortened
  with "…" only when even that has no room; it keeps the rectangles it drew
  (:attr:`CategoryAxis.drawn`) in scene coordinates, which the tests measure.
"""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QTransform

from .. import style


def label_font(extra: float = -1.0) -> QFont:
    f = QFont()
    f.setPointSizeF(style.font_pt(extra))
    return f


def grid_candidates(n: int, slide: bool) -> list[int]:
    """Column counts to consider for ``n`` tiles.  ``slide``: landscape grids with no empty cell
    (10 → 2×5 or 1×10, like the lecture's templates) when there are such grids."""
    if n <= 1:
        return [1]
    if slide:
        exact = [c for c in range(1, n + 1) if n % c == 0 and n // c <= c]
        if len(exact) >= 2 or n <= 3:
            return exact
        return [c for c in range(1, n + 1) if math.ceil(n / c) <= c]
    return list(range(1, n + 1))


def grid_layout(n: int, width: float, height: float, label_h: float, gap: float,
                slide: bool = False) -> tuple[int, int, float]:
    """``(cols, rows, tile)``: the grid of ``n`` square tiles of side ``tile`` (each with a label
    of height ``label_h`` under it and ``gap`` around) that gives the largest tiles in
    ``width`` × ``height`` pixels."""
    best = (1, max(1, n), 0.0)
    for cols in grid_candidates(n, slide):
        rows = math.ceil(n / cols)
        tile = min((width - (cols + 1) * gap) / cols, (height - rows * (label_h + gap) - gap) / rows)
        if tile > best[2]:
            best = (cols, rows, tile)
    return best[0], best[1], max(0.0, best[2])


class TileGrid:
    """``n`` equal square tiles with labels in ``vb`` (pixel coordinates, y down).

    ``label_lines``: lines each label holds; ``label_above``: labels over the tiles (the
    gallery's predictions) instead of under them (the templates' names)."""

    GAP = 10.0

    def __init__(self, vb: pg.ViewBox, n: int, *, label_lines: int = 1, label_above: bool = False,
                 slide: bool = False, font_extra: float = -1.0, min_col_width: float = 0.0,
                 one_row: bool = False, one_column: bool = False, min_tile: float = 0.0):
        self.vb = vb
        self.n = n
        self.label_lines = label_lines
        self.label_above = label_above
        self.slide = slide
        self.min_col_width = min_col_width
        self.one_row = one_row      # as many tiles as fit in one row (min_col_width each), the rest hidden
        self.one_column = one_column  # as many as fit in one column (tiles at least min_tile high)
        self.min_tile = min_tile
        self.shown = n
        self.font = label_font(font_extra)
        self.fm = QFontMetricsF(self.font)
        self.groups: list[pg.ItemGroup] = []
        self.labels: list[pg.TextItem] = []
        self.texts: list[str] = [""] * n
        self.colors: list[str] = [style.FG] * n
        self.rects: list[QRectF] = []
        self.cols = self.rows = 0
        self.tile = self.colw = 0.0
        vb.setMouseEnabled(False, False)
        vb.setMenuEnabled(False)
        vb.invertY(True)
        for _ in range(n):
            g = pg.ItemGroup()
            vb.addItem(g)
            t = pg.TextItem("", color=style.FG, anchor=(0.5, 1.0 if label_above else 0.0))
            t.setFont(self.font)
            vb.addItem(t)
            style.cache_static(t)   # painted from a pixmap while the tiles beside it change every frame
            self.groups.append(g)
            self.labels.append(t)
        vb.sigResized.connect(self.relayout)
        self.relayout()

    @property
    def label_h(self) -> float:
        return self.fm.lineSpacing() * self.label_lines + 4

    def relayout(self, *_):
        r = self.vb.boundingRect()
        w, h = max(1.0, r.width()), max(1.0, r.height())
        self.vb.setRange(xRange=(0, w), yRange=(0, h), padding=0)
        gap = self.GAP
        if self.one_row:
            cols = max(1, min(self.n, int((w - gap) // (max(self.min_col_width, 1.0) + gap))))
            rows = 1
            tile = max(0.0, min((w - (cols + 1) * gap) / cols, h - self.label_h - 2 * gap))
        elif self.one_column:
            cols = 1
            rows = max(1, min(self.n, int((h - gap) // (self.label_h + max(self.min_tile, 1.0) + gap))))
            tile = max(0.0, min(w - 2 * gap, (h - gap) / rows - self.label_h - gap))
        else:
            cols, rows, tile = grid_layout(self.n, w, h, self.label_h, gap, self.slide)
        self.shown = min(self.n, cols * rows)
        self.cols, self.rows, self.tile = cols, rows, tile
        self.colw = max(tile, (w - (cols + 1) * gap) / cols) if (self.one_row or self.one_column) else tile
        cell_w = self.colw + gap
        cell_h = tile + self.label_h + gap
        x0 = (w - cols * cell_w + gap) / 2
        y0 = max(0.0, (h - rows * cell_h + gap) / 2)
        self.rects = []
        for i, (g, t) in enumerate(zip(self.groups, self.labels)):
            g.setVisible(i < self.shown)
            t.setVisible(i < self.shown)
            r_, c_ = divmod(i, cols)
            x = x0 + c_ * cell_w + (self.colw - tile) / 2
            y = y0 + r_ * cell_h + (self.label_h if self.label_above else 0.0)
            rect = QRectF(x, y, tile, tile)
            self.rects.append(rect)
            tr = QTransform()
            tr.translate(x, y)
            tr.scale(max(tile, 1e-6), max(tile, 1e-6))
            g.setTransform(tr)
            t.setPos(x + tile / 2, y - 2 if self.label_above else y + tile + 2)
        self._show_labels()

    def column_width(self) -> float:
        return self.colw + self.GAP - 2

    def set_label(self, i: int, text: str, color: str | None = None) -> None:
        if self.texts[i] == text and (color is None or self.colors[i] == color):
            return                      # (a live view sets the same labels frame after frame)
        self.texts[i] = text
        if color is not None:
            self.colors[i] = color
        self._show_label(i)

    def _show_labels(self) -> None:
        for i in range(self.n):
            self._show_label(i)

    def _show_label(self, i: int) -> None:
        width = max(8.0, self.column_width())
        full = self.texts[i]
        lines = [self.fm.elidedText(line, Qt.ElideRight, width) for line in full.split("\n")]
        shown = "\n".join(lines[:self.label_lines])
        t = self.labels[i]
        t.setToolTip(full if shown != full else "")
        t.setColor(self.colors[i])
        if t.textItem.toPlainText() != shown:
            t.setText(shown)

    def label_rects(self) -> list[QRectF]:
        """Each label's drawn rectangle in scene coordinates (tests)."""
        out = []
        for t in self.labels[:self.shown]:
            ti = t.textItem
            out.append(ti.mapRectToScene(ti.boundingRect()))
        return out

    def tile_rects(self) -> list[QRectF]:
        """Each tile's rectangle in scene coordinates."""
        return [self.vb.mapViewToScene(r).boundingRect() for r in self.rects[:self.shown]]


class CategoryAxis(pg.AxisItem):
    """An axis that names categories at given positions, never overprinting them.

    Left/right: names horizontally, one per row, the axis as wide as the longest name.  Bottom:
    horizontal names where each fits its column, otherwise turned upright (the axis as tall as
    the longest name).  A name longer than ``max_chars`` characters' room is shortened with "…"
    (the axis's tooltip lists them all)."""

    def __init__(self, orientation: str, max_chars: int = 14, **kw):
        super().__init__(orientation, **kw)
        self.positions: list[float] = []
        self.names: list[str] = []
        self.max_chars = max_chars
        self.drawn: list[tuple[QRectF, str]] = []     # scene rectangles and the text drawn there
        self.upright = False
        self.setStyle(showValues=False)

    def set_categories(self, positions, names) -> None:
        self.positions = [float(p) for p in positions]
        self.names = [str(n) for n in names]
        self.upright = self._needs_upright(QFontMetricsF(self._font()))
        self.setTicks([[(p, "") for p in self.positions]])
        self.setToolTip(", ".join(self.names))
        self.refit()

    def _font(self) -> QFont:
        return self.style["tickFont"] or QFont()

    def _room(self, fm: QFontMetricsF) -> float:
        return fm.horizontalAdvance("m" * self.max_chars)

    def refit(self) -> None:
        """Axis size for the names in the current font (call after a font change)."""
        fm = QFontMetricsF(self._font())
        longest = min(max((fm.horizontalAdvance(n) for n in self.names), default=0.0), self._room(fm))
        offset = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][0 if self.orientation in ("left", "right") else 1]
        label = self.label.boundingRect().height() * 0.8 if self.label.isVisible() else 0.0
        if self.orientation in ("left", "right"):
            self.setWidth(longest + offset + label + 6)
        else:
            # upright names when they would crowd each other (decided again when drawn)
            self.setHeight(longest + offset + label + 6 if self.upright else fm.height() + offset + label + 4)
        self.picture = None
        self.update()

    def _pixel_positions(self) -> list[float]:
        view = self.linkedView()
        if view is None:
            return []
        out = []
        for v in self.positions:
            pt = QPointF(v, 0.0) if self.orientation in ("top", "bottom") else QPointF(0.0, v)
            s = self.mapFromScene(view.mapViewToScene(pt))
            out.append(s.x() if self.orientation in ("top", "bottom") else s.y())
        return out

    def _spacing(self) -> float:
        px = self._pixel_positions()
        if len(px) < 2:
            return self.width() if self.orientation in ("top", "bottom") else self.height()
        return min(abs(b - a) for a, b in zip(px, px[1:]))

    def _needs_upright(self, fm: QFontMetricsF) -> bool:
        """Names turned upright when, side by side, they would touch (before the axis is laid out:
        when they are longer than a few characters)."""
        if self.orientation != "bottom" or not self.names:
            return False
        widest = max(fm.horizontalAdvance(n) for n in self.names)
        if self.linkedView() is None or len(self.positions) < 2 or self._spacing() <= 1:
            return widest > 5 * fm.averageCharWidth()
        return widest + 8 > self._spacing()

    def linkedViewChanged(self, view, newRange=None):
        super().linkedViewChanged(view, newRange)
        self.picture = None
        if self.orientation == "bottom" and self.names:
            upright = self._needs_upright(QFontMetricsF(self._font()))
            if upright != self.upright:      # the names turn: the axis takes the height they need
                self.upright = upright
                self.refit()

    def resizeEvent(self, ev=None):
        super().resizeEvent(ev)
        self.picture = None

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):
        super().drawPicture(p, axisSpec, tickSpecs, [])
        font = self._font()
        p.setFont(font)
        p.setPen(self.textPen())
        fm = QFontMetricsF(font)
        offset = max(0, self.style["tickLength"]) + 5
        rect = self.boundingRect()
        h = fm.height()
        drawn = []
        px = self._pixel_positions()
        room = self._room(fm)
        if self.orientation in ("left", "right"):
            avail = min(room, rect.width() - offset - 2)
            for y, name in zip(px, self.names):
                text = fm.elidedText(name, Qt.ElideRight, avail)
                tw = fm.horizontalAdvance(text)
                if self.orientation == "left":
                    r = QRectF(rect.right() - offset - tw, y - h / 2, tw, h)
                else:
                    r = QRectF(rect.left() + offset, y - h / 2, tw, h)
                p.drawText(r, int(Qt.AlignCenter), text)
                drawn.append((r, text))
        else:
            label = self.label.boundingRect().height() * 0.8 if self.label.isVisible() else 0.0
            if self.upright:
                avail = min(room, rect.height() - offset - label - 2)
                for x, name in zip(px, self.names):
                    text = fm.elidedText(name, Qt.ElideRight, avail)
                    tw = fm.horizontalAdvance(text)
                    p.save()
                    p.translate(x, rect.top() + offset)
                    p.rotate(-90)        # reads bottom to top, its end at the axis
                    p.drawText(QRectF(-tw, -h / 2, tw, h), int(Qt.AlignCenter), text)
                    p.restore()
                    drawn.append((QRectF(x - h / 2, rect.top() + offset, h, tw), text))
            else:
                for x, name in zip(px, self.names):
                    tw = fm.horizontalAdvance(name)
                    r = QRectF(x - tw / 2, rect.top() + offset, tw, h)
                    p.drawText(r, int(Qt.AlignCenter), name)
                    drawn.append((r, name))
        self.drawn = [(self.mapRectToScene(r), t) for r, t in drawn]
