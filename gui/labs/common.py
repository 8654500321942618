"""Shared pieces of the lecture labs: projector-friendly plots, export buttons, matrix
editors (background jobs: :class:`gui.jobs.JobRunner`).

Theme and scale (View > Theme, Ctrl+= / Ctrl+-) reach a lab through this module:

* plots made by :func:`make_plot` (and legends by :func:`add_legend`) restyle themselves when
  ``gui.style.apply()`` emits ``gui.style.notifier().changed``: background, axes, title (any
  ``setTitle`` call takes the theme's colour and the scaled size), legend text, tick fonts, and
  the widths and sizes of the lines and markers already drawn (by the ratio of the scales);
* :func:`pen` and :func:`px` give widths and marker sizes at the current scale, :func:`big_font`
  a font at the current scale (TextItems), :func:`fg` the plots' text colour;
* :func:`label` text (``delta`` included) and the tables follow the window's style sheet;
* anything drawn with a fixed colour (a "#000" text, a "#fff3e0" box) should read the theme
  (``gui.style.FG``, ``gui.style.color("slip_bg")``) and re-apply it in a slot connected to
  ``gui.style.notifier().changed``.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QWidget)

from .. import style
from .. import style as _style

# Sizes follow gui.style.SCALE (Ctrl+= / Ctrl+-) and colours the window's theme (View > Theme).
# Plots made by make_plot (and legends by add_legend) restyle themselves when either changes:
# style.apply() emits style.notifier().changed, connected to restyle_all().
_plots: "weakref.WeakSet" = weakref.WeakSet()
_made_at: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # plot -> the scale its sizes are for
_tables: "weakref.WeakSet" = weakref.WeakSet()
_connected = False


def _ensure_connected() -> None:
    global _connected
    if not _connected:
        style.notifier().changed.connect(restyle_all)
        _connected = True


def px(size: float) -> float:
    """A marker or symbol size in pixels at the current scale (``size`` at scale 1)."""
    return size * style.SCALE


def fg() -> str:
    """The plots' text colour in the current theme."""
    return style.FG


def slip_style() -> str:
    """The style sheet of a "the slide prints ..." box in the current theme (dark text on a pale box
    in the light theme, light text on a dark box in the dark one); re-apply it in :func:`on_restyle`."""
    return f"color: {style.color('slip_fg')}; background: {style.color('slip_bg')}; padding: 6px;"


def on_restyle(fn: Callable[[], Any]) -> None:
    """Call the bound method ``fn`` of a widget after every theme or scale change
    (``style.notifier().changed``), as long as its widget lives: the connection holds the method
    weakly and drops itself once the widget is gone."""
    ref = weakref.WeakMethod(fn)
    sig = style.notifier().changed

    def slot():
        f = ref()
        try:
            alive = f is not None and shiboken6.isValid(f.__self__)
        except RuntimeError:
            alive = False
        if not alive:
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
            return
        f()
    sig.connect(slot)


def big_font(delta: int = 0, bold: bool = False) -> QFont:
    """The labs' font, ``delta`` points larger, at the current scale.  (A widget's font set with it
    is overridden by the window's style sheet; for text use :func:`label`, which follows the scale.)"""
    f = QFont()
    f.setPointSizeF((style.LAB_FONT_PT + delta) * style.SCALE)
    f.setBold(bold)
    return f


def label(text: str = "", delta: int = 0, bold: bool = False, wrap: bool = True) -> QLabel:
    """Selectable text, ``delta`` points larger than the body text; it follows the scale and theme."""
    lab = QLabel(text)
    lab.setFont(big_font(delta, bold))
    if delta:   # the style sheet's QLabel[bs_delta="..."] rule sizes it (and re-sizes on Ctrl+=)
        lab.setProperty("bs_delta", str(max(-4, min(6, int(delta)))))
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return lab


def pen(color: str, width: float = _style.BASE_LINE_PX, style=None) -> Any:
    """A line ``width`` pixels wide at scale 1 (wider on a projector scale)."""
    kw = {"color": color, "width": width * _style.SCALE}
    if style is not None:
        kw["style"] = style
    return pg.mkPen(**kw)


def _axis_style(size_delta: int = 1) -> dict:
    return {"color": style.FG, "font-size": f"{(style.LAB_FONT_PT + size_delta) * style.SCALE:.1f}pt"}


def set_title(plot, title: str) -> None:
    """Set a plot's title in the theme's text colour and the scaled title size (a plot made by
    :func:`make_plot` does this for any ``setTitle`` call, whatever colour and size it asks for)."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    pg.PlotItem.setTitle(item, title or None, color=style.FG, size=f"{(style.LAB_FONT_PT + 2) * style.SCALE:.1f}pt")
    if title:        # pyqtgraph's title row is 30 px high: room for the scaled text
        h = max(30, int(item.titleLabel.item.boundingRect().height()) + 2)
        item.titleLabel.setMaximumHeight(h)
        item.layout.setRowFixedHeight(0, h)


class _ThemedPlotItem(pg.PlotItem):
    """A PlotItem whose title always takes the theme's colour and the scaled size (a lab's
    ``setTitle(text, color="#000", size="14pt")`` was written for white plots)."""

    def setTitle(self, title=None, **args):  # noqa: N802 (pyqtgraph's name)
        set_title(self, title)


def make_plot(title: str = "", xlabel: str = "", ylabel: str = "") -> pg.PlotWidget:
    """A plot in the window's theme with large axis text (readable from the back of a room); it
    follows later theme and scale changes (see :func:`restyle_plot`)."""
    w = pg.PlotWidget(background=style.BG, plotItem=_ThemedPlotItem())
    _made_at[w] = style.SCALE
    item = w.getPlotItem()
    if title:
        item.setTitle(title)
    for side, text in (("bottom", xlabel), ("left", ylabel)):
        if text:
            item.getAxis(side).setLabel(text)
    _plots.add(w)
    _ensure_connected()
    restyle_plot(w)
    return w


def add_legend(plot: pg.PlotWidget) -> pg.LegendItem:
    leg = plot.getPlotItem().addLegend(offset=(10, 10))
    _style_legend(leg)
    return leg


def _style_legend(leg: pg.LegendItem) -> None:
    bg = pg.mkColor(style.BG)
    bg.setAlpha(200)
    leg.setBrush(pg.mkBrush(bg))
    leg.setPen(pg.mkPen(style.MUTED, width=1))
    leg.opts["labelTextSize"] = f"{(style.LAB_FONT_PT - 1) * style.SCALE:.1f}pt"
    leg.opts["labelTextColor"] = pg.mkColor(style.FG)
    for _sample, lab in leg.items:
        lab.setAttr("size", leg.opts["labelTextSize"])
        lab.setAttr("color", leg.opts["labelTextColor"])
        lab.setText(lab.text)          # re-render with the new size and colour
    leg.updateSize()


def _scale_pen(p, ratio: float):
    if p is None:
        return None
    q = pg.mkPen(p)
    if q.widthF() > 0:
        q.setWidthF(q.widthF() * ratio)
    return q


def _rescale_item(it, ratio: float) -> None:
    """Line widths and marker sizes of one plotted item times ``ratio``."""
    if isinstance(it, pg.PlotDataItem):
        o = it.opts
        kw = {}
        if o.get("pen") is not None:
            kw["pen"] = _scale_pen(o["pen"], ratio)
        if o.get("symbol") is not None:
            kw["symbolSize"] = o.get("symbolSize", 10) * ratio
            if o.get("symbolPen") is not None:
                kw["symbolPen"] = _scale_pen(o["symbolPen"], ratio)
        if kw:
            if "pen" in kw:
                it.setPen(kw["pen"])
            if "symbolSize" in kw:
                it.setSymbolSize(kw["symbolSize"])
            if "symbolPen" in kw:
                it.setSymbolPen(kw["symbolPen"])
    elif isinstance(it, pg.ScatterPlotItem):
        it.setSize(it.opts["size"] * ratio)
        it.setPen(_scale_pen(it.opts["pen"], ratio))
    elif isinstance(it, (pg.PlotCurveItem, pg.InfiniteLine, pg.IsocurveItem)):
        p = it.opts["pen"] if isinstance(it, pg.PlotCurveItem) else it.pen
        it.setPen(_scale_pen(p, ratio))
    elif isinstance(it, pg.TextItem):
        f = it.textItem.font()
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * ratio)
            it.setFont(f)
    for child in (it.childItems() if isinstance(it, pg.ImageItem) else ()):
        if isinstance(child, pg.IsocurveItem):
            _rescale_item(child, ratio)


def restyle_plot(w: pg.PlotWidget) -> None:
    """Give a plot the current theme (background, axes, title, legend text) and scale (fonts, and
    line widths and marker sizes of what it draws, by the ratio to the scale they were made for)."""
    w.setBackground(style.BG)
    # room for the larger text: the plot keeps its share instead of being squeezed by it
    w.setMinimumSize(int(260 * min(style.SCALE, 1.5)), int(170 * min(style.SCALE, 1.5)))
    item = w.getPlotItem()
    tick = big_font(-1)
    for side in ("bottom", "left", "top", "right"):
        ax = item.getAxis(side)
        ax.setPen(pg.mkPen(style.MUTED, width=max(1.0, style.SCALE)))
        ax.setTextPen(style.FG)        # (after setPen, which recolours the label too)
        ax.setTickFont(tick)
        if ax.labelText or ax.labelUnits:
            ax.setLabel(ax.labelText, ax.labelUnits, **_axis_style(1))
    if item.titleLabel.text:
        set_title(item, item.titleLabel.text)
    if item.legend is not None:
        _style_legend(item.legend)
    ratio = style.SCALE / _made_at.get(w, style.SCALE)
    if abs(ratio - 1.0) > 1e-9:
        for it in item.items:
            _rescale_item(it, ratio)
    _made_at[w] = style.SCALE
    grid = 0.35 if style.THEME == "dark" else 0.25
    item.showGrid(x=True, y=True, alpha=grid)


def restyle_all() -> None:
    """Restyle every living plot made by :func:`make_plot` and table made here (connected to
    ``style.notifier().changed``; a lab need not call it)."""
    for w in list(_plots):
        try:
            if shiboken6.isValid(w):
                restyle_plot(w)
        except RuntimeError:    # deleted underneath
            pass
    for t in list(_tables):
        try:
            if shiboken6.isValid(t):
                _style_table(t)
        except RuntimeError:
            pass


def _style_table(t: QTableWidget) -> None:
    """Row heights at the current scale (cells and headers take the style sheet's font, which
    follows the scale: a font set here would hold only until the sheet is next applied)."""
    t.verticalHeader().setDefaultSectionSize(int(round(QFontMetrics(big_font()).height() * 1.6)))
    if isinstance(t, MatrixEditor):
        t.fit_height()


def export_plot(plot: pg.PlotWidget, path: str) -> None:
    """Write ``plot`` to ``path``: SVG when it ends in .svg, else PNG (gui.export, the window's exporter)."""
    from ..export import export_plots
    export_plots(plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot, path, min_width=800)


def export_button(plot: pg.PlotWidget, name: str, parent: QWidget | None = None) -> QPushButton:
    """An explicit "Export…" button (PNG or SVG) beside a plot."""
    b = QPushButton("Export plot…", parent)
    b.setFont(big_font(-2))

    def go():
        path, _ = QFileDialog.getSaveFileName(b, "Export plot", f"{name}.png",
                                              "PNG image (*.png);;SVG vector image (*.svg)")
        if path:
            try:
                export_plot(plot, path)
            except Exception as exc:  # noqa: BLE001  (a user-caused failure: say so, keep going)
                from PySide6.QtWidgets import QMessageBox
                QMessageBox.warning(b, "Export failed", f"Could not write {path}:\n{exc}")
    b.clicked.connect(go)
    return b


def row(*widgets, stretch: bool = True) -> QHBoxLayout:
    lay = QHBoxLayout()
    for w in widgets:
        if isinstance(w, QWidget):
            lay.addWidget(w)
        else:
            lay.addLayout(w)
    if stretch:
        lay.addStretch(1)
    return lay


def fmt(v: float, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:.{digits}g}"


class MatrixEditor(QTableWidget):
    """An editable numeric table; ``values()`` → ``(rows, cols)`` float array.  Cells that are
    not numbers are shown red and read as NaN; ``edited`` fires after each valid edit."""
    edited = Signal()

    def __init__(self, values: np.ndarray, row_names=None, col_names=None, digits: int = 6, parent=None):
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        super().__init__(values.shape[0], values.shape[1], parent)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self._digits = digits
        self._loading = False
        if row_names:
            self.setVerticalHeaderLabels(list(row_names))
        if col_names:
            self.setHorizontalHeaderLabels(list(col_names))
        self.set_values(values)
        self.itemChanged.connect(self._changed)
        _tables.add(self)
        _ensure_connected()
        _style_table(self)

    def fit_height(self) -> None:
        h = self.horizontalHeader().sizeHint().height() + 4
        h += sum(self.rowHeight(i) for i in range(self.rowCount()))
        self.setMinimumHeight(min(h, 400))
        self.setMaximumHeight(h + 2 if self.rowCount() <= 12 else 16777215)

    def set_values(self, values: np.ndarray) -> None:
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        self._loading = True
        try:
            if values.shape != (self.rowCount(), self.columnCount()):
                self.setRowCount(values.shape[0])
                self.setColumnCount(values.shape[1])
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    it = QTableWidgetItem(f"{values[i, j]:.{self._digits}g}")
                    it.setTextAlignment(Qt.AlignCenter)
                    self.setItem(i, j, it)
        finally:
            self._loading = False
        self.fit_height()
        self.edited.emit()

    def values(self) -> np.ndarray:
        out = np.full((self.rowCount(), self.columnCount()), np.nan)
        for i in range(self.rowCount()):
            for j in range(self.columnCount()):
                it = self.item(i, j)
                try:
                    out[i, j] = float(it.text().replace("−", "-")) if it is not None else np.nan
                except ValueError:
                    pass
        return out

    def _changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        try:
            float(item.text().replace("−", "-"))
            item.setBackground(Qt.transparent)
            item.setToolTip("")
        except ValueError:
            item.setBackground(Qt.red)
            item.setToolTip("not a number")
            return
        self.edited.emit()


def readonly_table(rows: int, cols: int, headers=None) -> QTableWidget:
    t = QTableWidget(rows, cols)
    _tables.add(t)
    _ensure_connected()
    _style_table(t)
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    if headers:
        t.setHorizontalHeaderLabels(list(headers))
    return t


def fill_table(t: QTableWidget, rows: list, headers=None) -> None:
    t.setRowCount(len(rows))
    if rows:
        t.setColumnCount(len(rows[0]))
    if headers:
        t.setHorizontalHeaderLabels(list(headers))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            text = v if isinstance(v, str) else fmt(float(v), 6)
            it = QTableWidgetItem(text)
            it.setTextAlignment(Qt.AlignCenter)
            t.setItem(i, j, it)
