"""Lab 5 — the loss landscape: 1-D and 2-D slices of the loss around W along random
directions (the lecture's SVM landscape figures), computed off the GUI thread."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QProgressBar, QPushButton,
                               QSpinBox)

from engine import labs as L

from .base import Lab
from .common import COLORS, JobRunner, big_font, export_button, label, make_plot, pen, row

N_CONTOURS = 8


class LandscapeLab(Lab):
    title = "Loss landscape"
    blurb = "L(W + a·d₁) and L(W + a·d₁ + b·d₂) along random directions d₁, d₂."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source = QComboBox()
        self.source.addItems(["random linear W, SVM loss (the lecture's figure)", "the current model"])
        self.examples = QSpinBox()
        self.examples.setRange(1, 100_000)
        self.span = QDoubleSpinBox()
        self.span.setRange(0.01, 100)
        self.span.setDecimals(2)
        self.steps1 = QSpinBox()
        self.steps1.setRange(3, 2001)
        self.steps2 = QSpinBox()
        self.steps2.setRange(3, 201)
        self.seed = QSpinBox()
        self.seed.setRange(0, 100_000)
        self.b1 = QPushButton("Compute 1-D slice")
        self.b2 = QPushButton("Compute 2-D slice")
        self.cancel = QPushButton("Cancel")
        self.progress = QProgressBar()
        for w in (self.source, self.examples, self.span, self.steps1, self.steps2, self.seed, self.b1,
                  self.b2, self.cancel, self.progress):
            w.setFont(big_font(-1))
        self.body.addLayout(row(label("W:", -1), self.source, label("examples:", -1), self.examples,
                                label("range ±", -1), self.span, label("seed:", -1), self.seed))
        self.body.addLayout(row(label("points 1-D:", -1), self.steps1, self.b1, label("points per side 2-D:", -1),
                                self.steps2, self.b2, self.cancel, self.progress))
        self.info = label("", -1)
        self.body.addWidget(self.info)

        grid = QGridLayout()
        self.plot1 = make_plot("1-D slice", "a  (W + a·d₁)", "loss")
        self.curve = self.plot1.plot([], [], pen=pen(COLORS[0], 4))
        self.center_pt = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(COLORS[1]))
        self.plot1.addItem(self.center_pt)
        self.plot2 = make_plot("2-D slice (blue: low loss, red: high)", "a  (d₁)", "b  (d₂)")
        self.plot2.getViewBox().setAspectLocked(True)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setColorMap(pg.colormap.get("CET-D1"))
        self.plot2.addItem(self.heat)
        self.isos: list[pg.IsocurveItem] = []
        for _ in range(N_CONTOURS):
            iso = pg.IsocurveItem(pen=pen("#000", 2))
            iso.setParentItem(self.heat)
            self.isos.append(iso)
        self.star = pg.ScatterPlotItem(size=16, symbol="star", brush=pg.mkBrush("w"), pen=pen("#000", 2))
        self.plot2.addItem(self.star)
        self.plots.update(slice_1d=self.plot1, slice_2d=self.plot2)
        grid.addWidget(self.plot1, 0, 0)
        grid.addWidget(self.plot2, 0, 1)
        grid.addWidget(export_button(self.plot1, "loss_landscape_1d"), 1, 0)
        grid.addWidget(export_button(self.plot2, "loss_landscape_2d"), 1, 1)
        self.body.addLayout(grid, 1)

        self.runner = JobRunner(self)
        self.runners = [self.runner]
        self.runner.progress.connect(lambda f, m: self.progress.setValue(int(100 * f)))
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(lambda m: self.info.setText("Cancelled." if m == "cancelled" else f"Failed: {m}"))
        self.b1.clicked.connect(lambda: self.compute(1))
        self.b2.clicked.connect(lambda: self.compute(2))
        self.cancel.clicked.connect(self.runner.cancel)
        self.result = None
        self.reset()

    def reset(self) -> None:
        self.runner.cancel()
        self.source.setCurrentIndex(0)
        self.examples.setValue(100)
        self.span.setValue(1.0)
        self.steps1.setValue(101)
        self.steps2.setValue(41)
        self.seed.setValue(0)
        self.progress.setValue(0)
        self.curve.setData([], [])
        self.center_pt.setData([])
        self.heat.clear()
        for iso in self.isos:
            iso.setData(None)
        self.star.setData([])
        self.info.setText("The lecture: the loss landscape of the multiclass SVM (no regularization) for a hundred "
                          "CIFAR-10 examples — piecewise linear, bowl-shaped.  A step of 1 along dᵢ is as long as W.")
        self.result = None

    def set_model(self, network) -> None:
        super().set_model(network)

    def _model_and_data(self):
        d = self.dataset
        if d is None:
            raise RuntimeError("no dataset loaded")
        n = min(self.examples.value(), len(d.y_train))
        X, y = d.X_train[:n].astype(np.float64), d.y_train[:n]
        if self.source.currentIndex() == 1:
            m = self.model
            if m is None:
                raise RuntimeError("there is no current model yet — train or create one, or use a random W")
            if m.input_dim != d.num_features:
                raise RuntimeError(f"the current model takes {m.input_dim} inputs; {d.name} has {d.num_features}")
            return m.astype("float64"), X, y, m.describe()
        m = L.linear_model_for(X, d.num_classes, loss="svm", seed=self.seed.value(), scale=1e-3)
        return m, X, y, f"random linear W (0.001·randn, seed {self.seed.value()}), SVM loss"

    def compute(self, dims: int) -> None:
        try:
            model, X, y, what = self._model_and_data()
        except RuntimeError as exc:
            self.info.setText(str(exc))
            return
        span, seed = self.span.value(), self.seed.value()
        steps = self.steps1.value() if dims == 1 else self.steps2.value()

        def work(job):
            return L.loss_landscape(model, X, y, dims=dims, span=span, steps=steps, seed=seed,
                                    progress=job.progress, cancel=lambda: job.cancelled)

        self._what = f"{what}; {len(y)} examples"
        self.info.setText(f"Computing the {dims}-D slice ({steps if dims == 1 else steps * steps:,} loss evaluations)…")
        self.progress.setValue(0)
        self.runner.start(work)

    def _done(self, s: L.LandscapeSlice) -> None:
        self.result = s
        self.progress.setValue(100)
        if s.betas is None:
            self.curve.setData(s.alphas, s.losses)
            self.center_pt.setData([0.0], [s.center])
            self.info.setText(f"1-D slice of {self._what}: L(W) = {s.center:.4f} (red dot); "
                              f"range {np.nanmin(s.losses):.4f} … {np.nanmax(s.losses):.4f}")
            return
        Z = np.ascontiguousarray(s.losses, dtype=np.float32)
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1e-6
        self.heat.setImage(Z, levels=(lo, hi))
        a, b = s.alphas, s.betas
        da = (a[-1] - a[0]) / max(len(a) - 1, 1)
        db = (b[-1] - b[0]) / max(len(b) - 1, 1)
        # pixel (i, j) is centred on (a[j], b[i])
        self.heat.setRect(pg.QtCore.QRectF(a[0] - da / 2, b[0] - db / 2, da * len(a), db * len(b)))
        levels = np.linspace(lo, hi, N_CONTOURS + 2)[1:-1]
        Zc = np.where(finite, Z, hi)
        for iso, lev in zip(self.isos, levels):
            # IsocurveItem works in the image's pixel coordinates; the image item maps them
            iso.setData(Zc.T.copy(), level=float(lev))
        self.star.setData([0.0], [0.0])
        self.plot2.autoRange()
        self.info.setText(f"2-D slice of {self._what}: L(W) = {s.center:.4f} (star); contours at "
                          f"{', '.join(f'{v:.3g}' for v in levels[:4])}, …; range {lo:.4f} … {hi:.4f}")

    def demo(self, app) -> None:
        self.steps1.setValue(61)
        self.compute(1)
        self.runner.wait(60)
        for _ in range(5):
            app.processEvents()
        self.steps2.setValue(31)
        self.compute(2)
        self.runner.wait(60)
        for _ in range(20):
            app.processEvents()
