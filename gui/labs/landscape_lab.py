"""Lab 5 — the loss landscape: 1-D and 2-D slices of the loss around W along random
directions (the lecture's SVM landscape figures: a linear SVM, no regularization, a hundred
CIFAR-10 examples), computed off the GUI thread and drawn progressively.

The random-W slices run on :func:`image_set_for` (the window's image set, else the bundled
CIFAR-10 4k, raw pixels); "the current model" runs on the loaded dataset.  Both slices are
computed when the lab is first shown (``has_result`` / ``first_result`` once the 1-D slice and
the first rows of the 2-D slice are drawn)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QProgressBar, QPushButton,
                               QSpinBox)

from engine import labs as L

from ..jobs import JobRunner
from .base import BackgroundLab
from ..style import SERIES_COLORS
from .common import big_font, export_button, fg, label, make_plot, pen, px, row, set_title
from .image_data import image_set_for, is_image_set

N_CONTOURS = 8
SOURCE_RANDOM, SOURCE_MODEL = 0, 1


class LandscapeLab(BackgroundLab):
    title = "Loss landscape"
    blurb = "L(W + a·d₁) and L(W + a·d₁ + b·d₂) along random directions d₁, d₂."

    def __init__(self, parent=None):
        super().__init__(parent)
        self._drawn_parts: set[int] = set()
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
        self.curve = self.plot1.plot([], [], pen=pen(SERIES_COLORS[0], 4))
        self.center_pt = pg.ScatterPlotItem(size=px(14), brush=pg.mkBrush(SERIES_COLORS[1]))
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
        self.star = pg.ScatterPlotItem(size=px(16), symbol="star", brush=pg.mkBrush("w"), pen=pen("#000", 2))
        self.plot2.addItem(self.star)
        self.plots.update(slice_1d=self.plot1, slice_2d=self.plot2)
        grid.addWidget(self.plot1, 0, 0)
        grid.addWidget(self.plot2, 0, 1)
        self.info1 = label("", -1)
        self.info2 = label("", -1)
        grid.addWidget(self.info1, 1, 0)
        grid.addWidget(self.info2, 1, 1)
        grid.addWidget(export_button(self.plot1, "loss_landscape_1d"), 2, 0)
        grid.addWidget(export_button(self.plot2, "loss_landscape_2d"), 2, 1)
        grid.setRowStretch(0, 1)
        self.body.addLayout(grid, 1)

        # one runner per slice, so both defaults compute side by side
        self.runner1, self.runner2 = JobRunner(self), JobRunner(self)
        self.runner = self.runner1          # (the 1-D slice's; kept for callers of the old name)
        self.runners = [self.runner1, self.runner2]
        for dims, r in ((1, self.runner1), (2, self.runner2)):
            r.progress.connect(lambda f, m: self.progress.setValue(int(100 * f)))
            r.partial.connect(self._show)
            r.finished.connect(self._done)
            r.failed.connect(lambda m, dims=dims: self._failed(dims, m))
        self.b1.clicked.connect(lambda: self.compute(1))
        self.b2.clicked.connect(lambda: self.compute(2))
        self.cancel.clicked.connect(self._cancel)
        self.result = None      # the last finished slice
        self.result1 = None     # the last 1-D and 2-D slices
        self.result2 = None
        self.reset()

    def _cancel(self) -> None:
        for r in self.runners:
            r.cancel()

    def _failed(self, dims: int, msg: str) -> None:
        target = self.info1 if dims == 1 else self.info2
        target.setText("Cancelled." if msg == "cancelled" else f"Failed: {msg}")

    def reset(self) -> None:
        self._cancel()
        self.source.setCurrentIndex(SOURCE_RANDOM)
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
                          "CIFAR-10 examples — piecewise linear, bowl-shaped (convex).  dᵢ: random directions as "
                          "long as W (at least 1).")
        self.info1.setText("")
        self.info2.setText("")
        self.result = self.result1 = self.result2 = None
        if self._started:
            self.run_defaults()

    def background_jobs(self) -> dict:
        """Off screen, the lab's running slices stop (the labs share two worker threads)."""
        return {1: self.runner1, 2: self.runner2}

    def resume_jobs(self, names: set) -> None:
        for dims in sorted(names):
            self.compute(dims)

    def run_defaults(self) -> None:
        self._started = True
        self.compute(1)
        self.compute(2)

    def set_dataset(self, dataset) -> None:
        old = self.dataset
        super().set_dataset(dataset)
        if self._defaults_pending:
            self._start_defaults()
            return
        if self._started and dataset is not old:
            same_images = (old if is_image_set(old) else None) is (dataset if is_image_set(dataset) else None)
            if self.source.currentIndex() == SOURCE_MODEL or not same_images:
                self.run_defaults()

    def set_model(self, network) -> None:
        super().set_model(network)

    def _model_and_data(self):
        """``(what to compute on, a description)``: a callable run in the background that returns
        ``(model, X, y, description, note)`` (loading the bundled CIFAR-10 there if needed)."""
        n, seed = self.examples.value(), self.seed.value()
        d = self.dataset
        if self.source.currentIndex() == SOURCE_MODEL:
            m = self.model
            if d is None:
                raise RuntimeError("no dataset loaded")
            if m is None:
                raise RuntimeError("there is no current model yet — train or create one, or use a random W")
            if m.input_dim != d.num_features:
                raise RuntimeError(f"the current model takes {m.input_dim} inputs; {d.name} has {d.num_features}")
            m64 = m.astype("float64")
            k = min(n, len(d.y_train))
            X, y = d.X_train[:k].astype(np.float64), d.y_train[:k]
            return lambda: (m64, X, y, f"{m.describe()} on {k} {d.name} examples", "")

        def load():
            img, note = image_set_for(d)
            k = min(n, len(img.y_train))
            X, y = img.X_train[:k].astype(np.float64), img.y_train[:k]
            m = L.linear_model_for(X, img.num_classes, loss="svm", seed=seed, scale=1e-3)
            pixels = "raw pixels" if getattr(img, "preprocess", "none") == "none" else img.preprocess
            return m, X, y, (f"random linear W (0.001·randn, seed {seed}), SVM loss, no regularization, "
                             f"{k} {img.name} examples ({pixels})"), note
        return load

    def compute(self, dims: int) -> None:
        try:
            load = self._model_and_data()
        except RuntimeError as exc:
            self.info.setText(str(exc))
            return
        span, seed = self.span.value(), self.seed.value()
        steps = self.steps1.value() if dims == 1 else self.steps2.value()

        def work(job):
            model, X, y, what, note = load()
            job.partial((dims, None, what, note))

            def partial(s):
                job.partial((dims, s, what, note))
            s = L.loss_landscape(model, X, y, dims=dims, span=span, steps=steps, seed=seed,
                                 progress=job.progress, cancel=lambda: job.cancelled, partial=partial)
            return dims, s, what, note

        target = self.info1 if dims == 1 else self.info2
        target.setText(f"Computing the {dims}-D slice ({steps if dims == 1 else steps * steps:,} loss evaluations)…")
        self.progress.setValue(0)
        (self.runner1 if dims == 1 else self.runner2).start(work)

    def _show(self, payload) -> None:
        dims, s, what, note = payload
        self.info.setText((f"<i>{note}</i> " if note else "") + f"W: {what}.  dᵢ: random directions as long as W "
                          "(at least 1); the lecture's figure is this SVM on a hundred CIFAR-10 examples.")
        if s is None:
            return
        if dims == 1:
            ok = np.isfinite(s.losses)
            self.curve.setData(s.alphas[ok], s.losses[ok])
            self.center_pt.setData([0.0], [s.center])
        else:
            self._draw_2d(s, final=False)
        self._drawn(dims)

    def _draw_2d(self, s: L.LandscapeSlice, final: bool):
        Z = np.ascontiguousarray(s.losses, dtype=np.float32)
        finite = np.isfinite(Z)
        lo, hi = (float(Z[finite].min()), float(Z[finite].max())) if finite.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1e-6
        Zc = np.where(finite, Z, hi)          # rows not computed yet: drawn as "high"
        self.heat.setImage(Zc, levels=(lo, hi))
        a, b = s.alphas, s.betas
        da = (a[-1] - a[0]) / max(len(a) - 1, 1)
        db = (b[-1] - b[0]) / max(len(b) - 1, 1)
        # pixel (i, j) is centred on (a[j], b[i])
        self.heat.setRect(pg.QtCore.QRectF(a[0] - da / 2, b[0] - db / 2, da * len(a), db * len(b)))
        levels = np.linspace(lo, hi, N_CONTOURS + 2)[1:-1]
        for iso, lev in zip(self.isos, levels):
            # IsocurveItem works in the image's pixel coordinates; the image item maps them
            iso.setPen(pen(fg(), 2))
            iso.setData(Zc.T.copy() if final else None, level=float(lev))
        self.star.setPen(pen(fg(), 2))
        self.star.setData([0.0], [0.0])
        self.plot2.autoRange()
        return lo, hi, levels

    def _drawn(self, dims: int) -> None:
        self._drawn_parts.add(dims)
        if {1, 2} <= self._drawn_parts:
            self._mark_result()

    def _done(self, res) -> None:
        dims, s, what, note = res
        self.result = s
        self.progress.setValue(100)
        self._show((dims, None, what, note))
        if dims == 1:
            self.result1 = s
            ok = np.isfinite(s.losses)
            self.curve.setData(s.alphas[ok], s.losses[ok])
            self.center_pt.setData([0.0], [s.center])
            j = int(np.nanargmin(s.losses))
            set_title(self.plot1, f"1-D slice: L(W) = {s.center:.4g}, lowest {s.losses[j]:.4g} "
                                  f"at a = {s.alphas[j]:.2f}")
            self.info1.setText(f"L(W) = {s.center:.4f} (red dot); range {np.nanmin(s.losses):.4f} … "
                               f"{np.nanmax(s.losses):.4f}: straight pieces joined at kinks (the hinge's max(0, ·)).")
            self._drawn(1)
            return
        self.result2 = s
        lo, hi, levels = self._draw_2d(s, final=True)
        set_title(self.plot2, f"2-D slice: L(W) = {s.center:.4g} (star); blue low, red high")
        self.info2.setText(f"L(W) = {s.center:.4f} (star); contours at "
                           f"{', '.join(f'{v:.3g}' for v in levels[:4])}, …; range {lo:.4f} … {hi:.4f}.")
        self._drawn(2)

    def demo(self, app) -> None:
        if not self._started:
            self.run_defaults()
        for r in self.runners:
            r.wait(60)
        for _ in range(20):
            app.processEvents()
