"""Lab 6 — activation functions and their derivatives (computed by the engine's graph:
``apply(act)`` then ``backward``), and the collapse of a network without nonlinearity (computed in
the background on the loaded dataset, or the bundled CIFAR-10 when none is loaded)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QGroupBox, QPushButton, QSizePolicy, QSlider, QSpinBox, QVBoxLayout

from engine import labs as L

from ..jobs import JobRunner
from .base import Lab
from ..style import SERIES_COLORS
from .common import (big_font, export_button, label, make_plot, on_restyle, pen,
                     px, restyle_plot, row, set_title)

X_RANGE = (-5.0, 5.0)
MAX_ROWS = 5000          # the collapse is compared on at most this many training examples
N_POINTS = 401
PLOT_MIN_H = 215         # a plot's minimum height at scale 1 (pixels)


def legend_above(plot: pg.PlotWidget) -> pg.LegendItem:
    """A legend in one row between ``plot``'s title and its data area (the cell of the hidden top
    axis): the curves cannot reach it, at any scale (inside the plot it covered part of them at
    scale 1.5).  The plot restyles it with its title (gui.labs.common)."""
    item = plot.getPlotItem()
    leg = pg.LegendItem(offset=None, colCount=2, verSpacing=-4)
    leg.layout.setContentsMargins(4, 0, 4, 0)
    leg.setParentItem(item)
    leg.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
    item.layout.removeItem(item.getAxis("top"))      # (hidden: the row is the legend's)
    item.layout.addItem(leg, 1, 1)
    item.layout.setAlignment(leg, Qt.AlignHCenter)
    item.legend = leg
    return leg


class ActivationLab(Lab):
    title = "Activations"
    blurb = "each nonlinearity and its derivative (the engine's own forward and backward)."

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout()
        self.body.addLayout(grid, 3)
        self.x = np.linspace(*X_RANGE, N_POINTS)
        self.curves = {}
        self.legends = {}
        for k, name in enumerate(L.ACTIVATION_NAMES):
            title, formula = L.activation_formula(name)
            p = make_plot(f"{title}: {formula}", "x", "")
            leg = legend_above(p)
            f = p.plot([], [], pen=pen(SERIES_COLORS[0], 4))
            d = p.plot([], [], pen=pen(SERIES_COLORS[1], 3, Qt.DashLine))
            leg.addItem(f, "f(x)")
            leg.addItem(d, "f′(x)")
            self.legends[name] = leg
            restyle_plot(p)      # (the legend's text in the theme's colour and the scaled size)
            p.setMinimumHeight(self._plot_min_height())
            p.setYRange(-1.5, 2.0)
            self.curves[name] = (f, d)
            self.plots[name] = p
            cell = QVBoxLayout()
            cell.addWidget(p, 1)
            cell.addWidget(export_button(p, f"activation_{name}"))
            grid.addLayout(cell, k // 3, k % 3)
        # sliders for leaky ReLU's slope and ELU's alpha
        sl = QVBoxLayout()
        self.slope = QSlider(Qt.Horizontal)
        self.slope.setRange(0, 100)   # 0.00 … 1.00
        self.alpha = QSlider(Qt.Horizontal)
        self.alpha.setRange(0, 300)   # 0.00 … 3.00
        self.slope_label = label("", 0)
        self.alpha_label = label("", 0)
        sl.addWidget(self.slope_label)
        sl.addWidget(self.slope)
        sl.addWidget(self.alpha_label)
        sl.addWidget(self.alpha)
        sl.addWidget(label("Solid: the activation; dashed: its derivative, from the engine's backward pass "
                           "(upstream gradient 1). Where f′ is 0 no gradient flows back.", -1))
        sl.addStretch(1)
        k = len(L.ACTIVATION_NAMES)       # the cell after the last plot
        grid.addLayout(sl, k // 3, k % 3)
        self.slope.valueChanged.connect(self.update_curves)
        self.alpha.valueChanged.connect(self.update_curves)
        #: the slider that sets each activation attribute (an activation whose parameter has
        #: no slider here is drawn with its default)
        self.sliders = {"slope": self.slope, "alpha": self.alpha}

        # collapse demonstration
        box = QGroupBox("Without a nonlinearity two layers collapse into one: "
                        "W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂)")
        box.setFont(big_font(-1))
        bl = QVBoxLayout(box)
        self.hidden = QSpinBox()
        self.hidden.setRange(1, 512)
        self.seed = QSpinBox()
        self.seed.setRange(0, 100_000)
        self.collapse_button = QPushButton("Build a 2-layer network with identity activation and collapse it")
        for w in (self.hidden, self.seed, self.collapse_button):
            w.setFont(big_font(-1))
        self.collapse_button.clicked.connect(self.run_collapse)
        bl.addLayout(row(label("hidden units H:", -1), self.hidden, label("seed:", -1), self.seed,
                         self.collapse_button))
        self.collapse_label = label("", 0)
        bl.addWidget(self.collapse_label)
        self.body.addWidget(box)
        self.collapse = None
        self.runner = JobRunner(self)
        self.runners = [self.runner]
        self.runner.finished.connect(self._collapse_done)
        self.runner.failed.connect(self._collapse_failed)
        self._collapse_key = None
        on_restyle(self.restyle)
        self.reset()

    @staticmethod
    def _plot_min_height() -> int:
        """Title, legend row and axis grow with the scale: so does the plot, and the curves keep
        a data area about as high as at scale 1 (the lab scrolls in a low window)."""
        return int(round(px(PLOT_MIN_H)))

    def restyle(self) -> None:
        """After a scale change (the plots' own restyle sets a smaller minimum)."""
        for p in self.plots.values():
            p.setMinimumHeight(self._plot_min_height())

    def reset(self) -> None:
        self.slope.setValue(20)
        self.alpha.setValue(100)
        self.hidden.setValue(16)
        self.seed.setValue(0)
        self.update_curves()
        self._collapse_key = None
        # after the current event: a lab being built gets its dataset first (no wasted job)
        QTimer.singleShot(0, self, self.run_collapse)

    def attrs(self, name: str) -> dict:
        return {a: self.sliders[a].value() / 100 for a in L.activation_params(name) if a in self.sliders}

    def update_curves(self) -> None:
        self.slope_label.setText(f"Leaky ReLU slope α = <b>{self.slope.value() / 100:.2f}</b> (lecture: 0.2)")
        self.alpha_label.setText(f"ELU α = <b>{self.alpha.value() / 100:.2f}</b>")
        self.values = {}
        for name in L.ACTIVATION_NAMES:
            y, dy = L.activation_curve(name, self.x, **self.attrs(name))
            self.values[name] = (y, dy)
            f, d = self.curves[name]
            f.setData(self.x, y)
            d.setData(self.x, dy)
        for name in L.ACTIVATION_NAMES:
            attrs = self.attrs(name)
            if attrs:               # (the formulas call their one parameter α)
                title, formula = L.activation_formula(name)
                a = list(attrs.values())[0]
                set_title(self.plots[name], f"{title}: {formula.replace('α', f'{a:g}')}")

    def run_collapse(self) -> None:
        """Build the two identity-activation layers and their collapse in the background, on the
        loaded dataset's training inputs (or the bundled CIFAR-10 when none is loaded)."""
        dataset, H, seed = self.dataset, self.hidden.value(), self.seed.value()
        key = (id(dataset), H, seed)
        if key == self._collapse_key:
            return          # (already computed or computing)
        self._collapse_key = key
        self.collapse_label.setText("Building the two layers and collapsing them…")

        def work(job):
            d = dataset
            if d is None:
                from .image_data import image_set_for
                d, _ = image_set_for(None)
            X = d.X_train[:MAX_ROWS]        # (a 50,000-image set would be a 1.2 GB float64 copy)
            return d, H, L.collapse_demo(X, d.num_classes, hidden=H, seed=seed)

        self.runner.start(work)

    def _collapse_failed(self, msg: str) -> None:
        self._collapse_key = None
        if msg != "cancelled":
            self.collapse_label.setText(f"Could not build it: {msg}")

    def _collapse_done(self, result) -> None:
        d, H, r = result
        self.collapse = r
        X = d.X_train
        D, C = X.shape[1], d.num_classes
        what = "training images" if len(d.input_shape) >= 2 else "training points"
        which = f"all {len(X):,} {what}"
        if len(X) > MAX_ROWS:
            which = f"the first {MAX_ROWS:,} of the {len(X):,} {what}"
            X = X[:MAX_ROWS]
        self.collapse_label.setText(
            f"On {d.name}: D = {D} inputs, H = {H} hidden units, C = {C} classes.  Our layers are W₁ ({D}×{H}), "
            f"W₂ ({H}×{C}) acting on rows x, so the single layer is W = W₁W₂ ({D}×{C}) and b = b₁W₂ + b₂ "
            f"(the lecture's W₂W₁ and W₂b₁ + b₂, transposed).<br>"
            f"Scores of {which}, two layers vs the one collapsed layer: max |difference| = "
            f"<b>{r.max_abs_diff:.2e}</b> (rounding only; scores up to {np.abs(r.two_layer_scores).max():.3g}).  "
            f"b = [{', '.join(f'{v:.3g}' for v in r.b[:6])}{', …' if len(r.b) > 6 else ''}].<br>"
            "So a deeper network without activation functions is still just a linear classifier.")
        self._mark_result()

    def set_dataset(self, dataset) -> None:
        super().set_dataset(dataset)
        self.run_collapse()
