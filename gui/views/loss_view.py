"""Loss and accuracy curves, live: total / data / regularization loss per step, training and
validation loss and accuracy per epoch; hover read-out of exact values; log-scale toggle."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout

from .. import style
from .base import View
from .caption import LiveCaption
from .fastcurve import BandItem, FastCurve
from .history import Decimated, HistoryBuffer


def _add(plot: pg.PlotItem, item):
    """``item`` on ``plot``, with its entry in the plot's legend."""
    plot.addItem(item)
    plot.legend_row.addItem(item, item.name())
    return item


def _curve(plot: pg.PlotItem, color: str, name: str, factor=1.0) -> FastCurve:
    return _add(plot, FastCurve(style.pen(color, factor), name))


#: the per-minibatch band and the thin data-loss line: quieter than the curves drawn over them
#: (a dim tint of the loss colour on the dark background, a pale one on the light background)
_QUIET = {"dark": {"band": "#2f6f8f", "data": "#b8a456"},
          "light": {"band": "#a6cfe8", "data": "#a07a10"}}


def quiet_color(name: str) -> str:
    """"band" or "data" in the current theme."""
    return _QUIET.get(style.THEME, _QUIET["dark"])[name]


def legend_above(glw: pg.GraphicsLayoutWidget, plot: pg.PlotItem, row: int = 1) -> pg.LegendItem:
    """A legend in its own row of ``glw``'s layout (``row``, above the plot's): outside the data
    area, so it never covers a curve.  :func:`fit_legend` sets how many entries share a row."""
    leg = pg.LegendItem(offset=None, colCount=1, labelTextSize=f"{style.font_pt(-1):.0f}pt",
                        horSpacing=int(style.font_pt(2)), verSpacing=-2)
    glw.addItem(leg, row=row, col=0)
    plot.legend_row = leg
    return leg


def fit_legend(leg: pg.LegendItem, width: float) -> None:
    """As many entries a row as fit ``width`` pixels (at least one); in a view too narrow for
    even one, the names are shortened with "…" (the legend's tooltip has them whole)."""
    if not leg.items:
        return
    for _, lab in leg.items:
        if not hasattr(lab, "full_text"):
            lab.full_text = lab.text
    full = [lab.full_text for _, lab in leg.items]
    leg.setToolTip("\n".join(full))
    font = QFont()
    size = leg.opts.get("labelTextSize") or f"{style.font_pt(-1):.0f}pt"
    font.setPointSizeF(float(str(size).rstrip("pt")))
    fm = QFontMetricsF(font)
    sample = max(s.boundingRect().width() for s, _ in leg.items)
    pad = leg.layout.horizontalSpacing() + 16
    widest = max(fm.horizontalAdvance(n) for n in full) + sample + pad
    cols = max(1, min(len(leg.items), int(width // widest)))
    room = max(20.0, width - sample - pad)
    for (_, lab), name in zip(leg.items, full):
        shown = name if cols > 1 or fm.horizontalAdvance(name) <= room else fm.elidedText(name, Qt.ElideRight, room)
        if shown != lab.text:
            lab.setText(shown)
    leg.setColumnCount(cols)
    leg.updateSize()


class LossView(View):
    title = "Loss"

    def __init__(self, history: HistoryBuffer, parent=None):
        super().__init__(parent)
        self.history = history
        self._drawn_version = -1
        # bounded-size, incrementally updated pictures of each curve (see history.Decimated)
        self._dec = {k: Decimated() for k in ("loss", "data_loss", "reg_loss", "train_loss", "val_loss",
                                              "train_acc", "val_acc")}
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.log_box = QCheckBox("Logarithmic loss axis")
        self.log_box.toggled.connect(self._set_log)
        self.readout = QLabel("Hover over a curve to read exact values.")
        self.readout.setObjectName("muted")
        top.addWidget(self.log_box)
        top.addStretch(1)
        top.addWidget(self.readout)
        lay.addLayout(top)
        # step 0: the loss of the weights before any update, and the lecture's sanity check of it
        # (two lines at most, each shortened with "…" in a narrow view; the tooltip has it all)
        self.initial_label = LiveCaption("", lines=2)
        lay.addWidget(self.initial_label)
        self.initial = None
        self.sanity = ""
        # Two views side by side, not two plots in one: a frame repaints only the strip at the
        # right end of each plot's curves, and one view would repaint the whole span between
        # the two strips (its update region is one rectangle around everything that changed).
        plots = QHBoxLayout()
        plots.setSpacing(0)
        self.loss_w = style.live_view(pg.GraphicsLayoutWidget())
        self.acc_w = style.live_view(pg.GraphicsLayoutWidget())
        plots.addWidget(self.loss_w, 3)
        plots.addWidget(self.acc_w, 2)
        lay.addLayout(plots, 1)
        # title, legend and plot in three rows: the legend sits above its plot, where no curve
        # can go (inside the plot it covered the curves as training started)
        self.loss_title = self.loss_w.addLabel("Loss", row=0, col=0)
        self.acc_title = self.acc_w.addLabel("Accuracy", row=0, col=0)
        self.loss_plot = self.loss_w.addPlot(row=2, col=0)
        self.acc_plot = self.acc_w.addPlot(row=2, col=0)
        lp, ap = self.loss_plot, self.acc_plot
        self.loss_legend = legend_above(self.loss_w, lp)
        self.acc_legend = legend_above(self.acc_w, ap)
        self.restyle()
        for view in (self.loss_w, self.acc_w):
            view.installEventFilter(self)
        # The per-step loss is noisy: its range per block is a band of bars (filled rectangles,
        # the cheapest thing to paint), with a thick running mean on top that reads well on a
        # projector; data loss is a thin line of block means (it differs from the total only by
        # the regularization loss, drawn on its own).
        self.c_band = _add(lp, BandItem(style.pen(quiet_color("band"), 0.0), quiet_color("band"),
                                        "loss per minibatch (range)"))
        self.c_data = _curve(lp, quiet_color("data"), "data loss", 0.0)
        self.c_reg = _curve(lp, style.CURVE["reg"], "regularization loss", 1.0)
        self.c_smooth = _curve(lp, style.CURVE["loss"], "loss (running mean)", 1.2)
        # (solid lines: dashed thick lines cost Qt's raster engine several times more per frame)
        self.c_tr = _curve(lp, style.CURVE["train"], "training loss (epoch)", 0.8)
        self.c_va = _curve(lp, style.CURVE["val"], "validation loss (epoch)", 0.8)
        self.c_initial = _add(lp, pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=style.line_px(4),
                                                  symbolBrush=style.CURVE["loss"], symbolPen=style.FG,
                                                  name="initial loss (step 0)"))
        self.a_tr = _curve(ap, style.CURVE["train"], "training accuracy", 1.0)
        self.a_va = _curve(ap, style.CURVE["val"], "validation accuracy", 1.0)
        # Ranges change in jumps (x doubles, y grows), not every frame: redrawing the axes and
        # re-laying out the plots at 30 Hz would cost more than the curves themselves.
        for p in (lp, ap):
            p.disableAutoRange()
        ap.setYRange(0, 1.02, padding=0)
        self._xmax = 0.0
        self._ymax = 0.0
        for leg in (self.loss_legend, self.acc_legend):   # they never change: paint them from a cache
            style.cache_static(leg)
        self.vline = pg.InfiniteLine(angle=90, pen=pg.mkPen(style.MUTED, width=1))
        lp.addItem(self.vline, ignoreBounds=True)
        self.vline.hide()
        self._recolor()
        self._proxy = pg.SignalProxy(lp.scene().sigMouseMoved, rateLimit=30, slot=self._hover)

    def restyle(self) -> None:
        style.style_plot(self.loss_plot, "", "loss", "step")
        style.style_plot(self.acc_plot, "", "accuracy", "step")
        for p in (self.loss_plot, self.acc_plot):   # grids are repainted every frame: too costly live
            p.showGrid(x=False, y=False)
        for label, text in ((self.loss_title, "Loss"), (self.acc_title, "Accuracy")):
            label.setText(text, color=style.FG, size=f"{style.font_pt(2):.0f}pt")
        size = f"{style.font_pt(-1):.0f}pt"
        for leg in (self.loss_legend, self.acc_legend):
            leg.setLabelTextSize(size)
            for _, label in leg.items:       # (the size applies to new text only)
                label.setText(getattr(label, "full_text", label.text), size=size, color=style.FG)
            leg.updateSize()
        self.fit_legends()
        if hasattr(self, "c_smooth"):       # (the first call comes before the curves exist)
            self._recolor()

    def curve_colors(self) -> dict:
        """Each curve's (colour, width factor) in the current theme and scale; the band's fill too."""
        c = style.CURVE
        return {"c_band": (quiet_color("band"), 0.0), "c_data": (quiet_color("data"), 0.0),
                "c_reg": (c["reg"], 1.0), "c_smooth": (c["loss"], 1.2), "c_tr": (c["train"], 0.8),
                "c_va": (c["val"], 0.8), "a_tr": (c["train"], 1.0), "a_va": (c["val"], 1.0)}

    def _recolor(self) -> None:
        """The curves, the step-0 point and the hover line in the current theme's colours and the
        current scale's widths (their legend samples draw with the same pens)."""
        for attr, (color, factor) in self.curve_colors().items():
            getattr(self, attr).setPen(style.pen(color, factor))
        self.c_band.setBrush(quiet_color("band"))
        self.c_initial.setSymbolBrush(style.CURVE["loss"])
        self.c_initial.setSymbolPen(style.FG)
        self.c_initial.setSymbolSize(style.line_px(4))
        self.vline.setPen(pg.mkPen(style.MUTED, width=1))
        for leg in (self.loss_legend, self.acc_legend):
            for sample, _ in leg.items:
                sample.update()
            leg.update()

    def fit_legends(self) -> None:
        """Entries per legend row for the widths there are."""
        for leg, view in ((self.loss_legend, self.loss_w), (self.acc_legend, self.acc_w)):
            fit_legend(leg, view.width() - 20)

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize:
            self.fit_legends()
        return False

    def set_initial(self, initial, sanity: str = "") -> None:
        """The loss before any update, ``(total, data, reg)`` (``Trainer.initial``), and the
        sanity-check line: shown above the plots and as the curve's point at step 0."""
        self.initial = None if initial is None else tuple(float(v) for v in initial)
        self.sanity = sanity
        if self.initial is None:
            self.initial_label.setText("")
            self.c_initial.setData([], [])
        else:
            loss, data, reg = self.initial
            self.initial_label.setText(f"Step 0 (before any update): loss {loss:.4f} = data {data:.4f} + "
                                       f"regularization {reg:.4f}" + (f"\n{sanity}" if sanity else ""))
            self.c_initial.setData([0.0], [loss] if np.isfinite(loss) else [])
        self._drawn_version = -1
        self._ymax = 0.0

    def invalidate(self) -> None:
        self._drawn_version = -1

    def _set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._drawn_version = -1
        self._ymax = 0.0
        self.refresh()

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        h = self.history
        return {"loss": (h["step"], h["loss"]), "data_loss": (h["step"], h["data_loss"]),
                "reg_loss": (h["step"], h["reg_loss"]), "train_loss": (h["eval_step"], h["train_loss"]),
                "val_loss": (h["eval_step"], h["val_loss"]), "train_acc": (h["eval_step"], h["train_acc"]),
                "val_acc": (h["eval_step"], h["val_acc"])}

    def refresh(self) -> bool:
        """Redraw if the history changed; True when something was drawn."""
        h = self.history
        if h.version == self._drawn_version:
            return False
        self._drawn_version = h.version
        x = h["step"]
        log = self.log_box.isChecked()

        d = self._dec
        # (log mode is applied by the items themselves; they skip values <= 0 and non-finite ones)
        loss = d["loss"]
        bx, blo, bhi = loss.blocks(x, h["loss"])
        self.c_band.setData(bx, blo, bhi)
        self.c_data.setData(*d["data_loss"].means(x, h["data_loss"]))
        self.c_reg.setData(*d["reg_loss"].means(x, h["reg_loss"]))
        sx, sm = loss.means(x, h["loss"])
        self.c_smooth.setData(sx, self._smoothed(sm))
        ex = h["eval_step"]
        self.c_tr.setData(*d["train_loss"].means(ex, h["train_loss"]))
        self.c_va.setData(*d["val_loss"].means(ex, h["val_loss"]))
        self.a_tr.setData(*d["train_acc"].means(ex, h["train_acc"]))
        self.a_va.setData(*d["val_acc"].means(ex, h["val_acc"]))
        ly = np.concatenate([[self.initial[0]] if self.initial is not None else [], blo, bhi])
        self._update_ranges(x, ly, log)   # the blocks hold every step's min and max
        return True

    def _smoothed(self, loss: np.ndarray) -> np.ndarray:
        """A running mean over ~1% of the displayed points (at least 5), on the block means."""
        n = len(loss)
        if n == 0:
            return loss
        k = max(5, n // 100)
        c = np.cumsum(np.where(np.isfinite(loss), loss, 0.0))
        out = np.empty(n)
        out[:k] = c[:k] / np.arange(1, min(k, n) + 1)
        out[k:] = (c[k:] - c[:-k]) / k
        return out

    def _update_ranges(self, x, loss, log: bool) -> None:
        n = float(x[-1]) if len(x) else 0.0
        if n > self._xmax or self._xmax == 0.0 or n < self._xmax / 8:
            self._xmax = max(100.0, 2.0 ** np.ceil(np.log2(max(n, 1.0) * 1.25)))
            for p in (self.loss_plot, self.acc_plot):
                p.setXRange(-0.02 * self._xmax, self._xmax, padding=0)   # (the step-0 point whole)
        finite = loss[np.isfinite(loss)]
        top = float(finite.max()) if len(finite) else 1.0
        recent = float(finite[-200:].max()) if len(finite) else 1.0
        if log:
            lo = float(np.min(finite[finite > 0])) if np.any(finite > 0) else 1e-3
            if top > self._ymax or self._ymax == 0.0 or lo < getattr(self, "_ylo", 1e9):
                self._ymax, self._ylo = top * 2, lo / 2
                self.loss_plot.setYRange(np.log10(self._ylo), np.log10(self._ymax), padding=0)
        elif top > self._ymax or self._ymax == 0.0 or recent < self._ymax / 6:
            self._ymax = top * 1.1 if self._ymax == 0.0 or top > self._ymax else recent * 1.5
            self.loss_plot.setYRange(0, self._ymax, padding=0)

    def reset_ranges(self) -> None:
        """A new history: forget the ranges and the decimated curves."""
        self._xmax = self._ymax = 0.0
        for dec in self._dec.values():
            dec.clear()

    def _hover(self, evt) -> None:
        pos = evt[0]
        vb = self.loss_plot.vb
        if not self.loss_plot.sceneBoundingRect().contains(pos):
            return
        x = vb.mapSceneToView(pos).x()
        steps = self.history["step"]
        if len(steps) == 0:
            return
        i = int(np.clip(np.searchsorted(steps, x), 0, len(steps) - 1))
        h = self.history
        txt = (f"step {int(steps[i])}:  loss {h['loss'][i]:.5g}  =  data {h['data_loss'][i]:.5g}"
               f"  +  reg {h['reg_loss'][i]:.5g}   (lr {h['lr'][i]:.3g})")
        ev = h["eval_step"]
        if len(ev):
            j = int(np.clip(np.searchsorted(ev, steps[i]), 0, len(ev) - 1))
            txt += f"   |  epoch eval @ {int(ev[j])}: train acc {h['train_acc'][j]:.1%}, val acc {h['val_acc'][j]:.1%}"
        self.readout.setText(txt)
        self.vline.setPos(steps[i])
        self.vline.show()

    def export_item(self):
        """Both plots with their titles and legends, side by side."""
        return [self.loss_w.ci, self.acc_w.ci]
