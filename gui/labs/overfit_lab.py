"""Lab 3 — overfitting: the same kind of MLP on a small noisy 2-D set, under-fit / good fit /
over-fit (with and without L2); training vs validation curves beside the decision regions.

Training runs on the labs' QThreadPool (never the GUI thread), publishing copies of the
history and the decision grid about four times a second (the first after a few epochs), so the
curves grow while it trains.  The default preset ("over-fitting") trains when the lab is first
shown; choosing another preset trains it.  Presets: :mod:`engine.lecture_tables` (each a
fraction of a second of training on one core; ``benchmarks/bench_labs.py`` measures it)."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QGridLayout, QProgressBar, QPushButton, QSpinBox

from engine import labs as L
from engine import lecture_tables as T
from engine.datasets import load_dataset
from engine.trainer import Trainer

from ..jobs import JobRunner
from .base import Lab
from ..style import SERIES_COLORS
from .common import (big_font, export_button, fg, label, make_plot, on_restyle, pen, px,
                     row)

GRID_N = 100


def _region_lut(k: int) -> np.ndarray:
    lut = []
    for c in SERIES_COLORS[:k]:
        q = pg.mkColor(c)
        # pale versions of the class colours
        lut.append([int(255 - 0.35 * (255 - v)) for v in (q.red(), q.green(), q.blue())] + [255])
    return np.array(lut, dtype=np.ubyte)


class OverfitLab(Lab):
    title = "Overfitting"
    blurb = "low training loss is not the goal: watch the validation curve and the decision regions."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.preset = QComboBox()
        self.preset.setFont(big_font())
        self.preset.addItems(list(T.OVERFIT_PRESETS))
        self.preset.setCurrentText("over-fitting")
        self.seed = QSpinBox()
        self.seed.setFont(big_font())
        self.seed.setRange(0, 10_000)
        self.train_button = QPushButton("Train")
        self.stop_button = QPushButton("Stop")
        for b in (self.train_button, self.stop_button):
            b.setFont(big_font(0, True))
        self.stop_button.setEnabled(False)
        self.train_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setFont(big_font(-1))
        self.status = label("", 0)
        self.body.addLayout(row(label("Preset:"), self.preset, label("seed:"), self.seed,
                                self.train_button, self.stop_button, self.progress))
        self.desc = label("", -1)
        self.body.addWidget(self.desc)
        self.preset.currentTextChanged.connect(self._describe)
        self.preset.activated.connect(lambda _i: self.start())     # a preset chosen → it trains

        grid = QGridLayout()
        # the curves' names in the titles, in their colours: a legend would sit on some preset's curves
        tr, va = (f"<span style='color:{c}'>{t}</span>" for c, t in ((SERIES_COLORS[0], "training"), (SERIES_COLORS[1], "validation")))
        self.curves = make_plot(f"Loss: {tr} vs {va}", "epoch", "loss")
        self.train_curve = self.curves.plot([], [], pen=pen(SERIES_COLORS[0]), name="training loss")
        self.val_curve = self.curves.plot([], [], pen=pen(SERIES_COLORS[1]), name="validation loss")
        self.val_min = pg.ScatterPlotItem(size=px(16), symbol="o", brush=pg.mkBrush(SERIES_COLORS[1]),
                                          pen=pen(fg(), 1.5))
        self.curves.addItem(self.val_min)
        self.acc = make_plot(f"Accuracy: {tr} vs {va} (dashed)", "epoch", "accuracy")
        self.train_acc = self.acc.plot([], [], pen=pen(SERIES_COLORS[0]), name="training")
        self.val_acc = self.acc.plot([], [], pen=pen(SERIES_COLORS[1], style=pg.QtCore.Qt.DashLine), name="validation")
        self.acc.setYRange(0, 1.02)
        self.regions = make_plot("Decision regions (● training, ○ validation)", "x₁", "x₂")
        self.regions.getViewBox().setAspectLocked(True)
        self.region_img = pg.ImageItem(axisOrder="row-major")
        self.regions.addItem(self.region_img)
        # (a black outline: the points sit on the pale region colours, in either theme)
        self.train_pts = pg.ScatterPlotItem(size=px(11), pen=pen("#000", 1.5))
        self.val_pts = pg.ScatterPlotItem(size=px(11), brush=pg.mkBrush(255, 255, 255, 0))
        self.regions.addItem(self.train_pts)
        self.regions.addItem(self.val_pts)
        self.plots.update(curves=self.curves, accuracy=self.acc, regions=self.regions)
        grid.addWidget(self.curves, 0, 0)
        grid.addWidget(self.acc, 1, 0)
        grid.addWidget(self.regions, 0, 1, 2, 1)
        grid.addLayout(row(export_button(self.curves, "overfit_loss"), export_button(self.acc, "overfit_accuracy")), 2, 0)
        grid.addWidget(export_button(self.regions, "overfit_regions"), 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid, 1)
        self.body.addWidget(self.status)

        self.runner = JobRunner(self)
        self.runners = [self.runner]
        self.runner.partial.connect(self._show)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.progress.connect(lambda f, m: self.progress.setValue(int(100 * f)))
        self.last = None
        self.point = None
        self._started = False
        self._describe()
        on_restyle(self.restyle)

    def restyle(self) -> None:
        """The lowest validation loss's ring in the theme's text colour (the plots restyle themselves)."""
        self.val_min.setPen(pen(fg(), 1.5))

    def _describe(self) -> None:
        name = self.preset.currentText()
        hidden, reg, strength, epochs, _opt, _lr = T.OVERFIT_PRESETS[name]
        regs = "no regularization" if reg == "none" else f"{reg.upper()} regularization λ = {strength:g}"
        self.desc.setText(f"<b>{name}</b>: MLP 2 → {' → '.join(str(h) + ' (ReLU)' for h in hidden)} → 3, "
                          f"{regs}, {epochs} epochs full-batch, on a noisy spiral with 30 points per class "
                          "(60 % training, 40 % validation).")

    # ------------------------------------------------------------------ training
    def reset(self) -> None:
        self.stop()
        self.preset.setCurrentText("over-fitting")
        self.seed.setValue(0)
        self.progress.setValue(0)
        for c in (self.train_curve, self.val_curve, self.train_acc, self.val_acc):
            c.setData([], [])
        self.region_img.clear()
        self.train_pts.setData([])
        self.val_pts.setData([])
        self.val_min.setData([])
        self.status.setText("Choose a preset: it trains (Train runs it again, with the seed).")
        self.last = None
        self.point = None

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        if not self._started:       # the default result, when the lab is first shown
            self._started = True
            self.start()

    def start(self, epochs: int | None = None) -> None:
        name = self.preset.currentText()
        cfg = T.overfit_config(name, seed=self.seed.value(), epochs=epochs or None)
        total = cfg.optim.epochs

        def work(job):
            data = load_dataset(cfg.dataset)
            tr = Trainer.from_config(cfg, data)
            X = np.concatenate([data.X_train, data.X_val])
            lo, hi = X.min(axis=0) - 0.25, X.max(axis=0) + 0.25
            last_pub = time.perf_counter()

            def publish(final=False):
                h = tr.history
                xs, ys, lab = L.decision_grid(tr.model, tuple(lo), tuple(hi), GRID_N)
                job.partial(dict(preset=name, epoch=list(h.eval_epoch), train_loss=list(h.train_loss),
                                 val_loss=list(h.val_loss), train_acc=list(h.train_acc), val_acc=list(h.val_acc),
                                 lo=lo, hi=hi, grid=lab.astype(np.int32), classes=data.num_classes,
                                 Xtr=data.X_train.copy(), ytr=data.y_train.copy(),
                                 Xva=data.X_val.copy(), yva=data.y_val.copy(), final=final))

            first = True
            while tr.epoch < total and not job.cancelled:
                res = tr.step()
                if res.diverged:
                    raise RuntimeError(res.reason)
                # the first frame after a few epochs, then about four a second
                if (first and tr.epoch >= 5) or time.perf_counter() - last_pub > 0.25:
                    first = False
                    last_pub = time.perf_counter()
                    publish()
                    job.progress(tr.epoch / total)
            publish(final=True)
            job.progress(1.0)
            return dict(epochs=tr.epoch, stopped=job.cancelled, point=T.overfit_point(tr.history))

        self._started = True
        self.point = None
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"Training “{name}”…")
        self.runner.start(work)

    def stop(self) -> None:
        self.runner.cancel()

    def _show(self, p: dict) -> None:
        self.last = p
        ep = p["epoch"]
        self.train_curve.setData(ep, p["train_loss"])
        self.val_curve.setData(ep, p["val_loss"])
        self.train_acc.setData(ep, p["train_acc"])
        self.val_acc.setData(ep, p["val_acc"])
        lo, hi = p["lo"], p["hi"]
        self.region_img.setImage(p["grid"], levels=(0, p["classes"] - 1), lut=_region_lut(p["classes"]))
        self.region_img.setRect(pg.QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]))
        brushes = [pg.mkBrush(SERIES_COLORS[int(k)]) for k in p["ytr"]]
        self.train_pts.setData(pos=p["Xtr"], brush=brushes)
        self.val_pts.setData(pos=p["Xva"], pen=[pg.mkPen(SERIES_COLORS[int(k)], width=3) for k in p["yva"]])
        if ep:
            j = int(np.argmin(p["val_loss"]))
            self.val_min.setData([ep[j]], [p["val_loss"][j]])
            self._mark_result()
        if ep:
            self.status.setText(
                f"epoch {ep[-1]:.0f}: training loss {p['train_loss'][-1]:.3f}, validation loss {p['val_loss'][-1]:.3f} "
                f"(lowest {min(p['val_loss']):.3f}); accuracy {p['train_acc'][-1]:.0%} training, "
                f"{p['val_acc'][-1]:.0%} validation")

    def _done(self, result) -> None:
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.setValue(100)
        msg = self.status.text()
        if result.get("stopped"):
            msg += " — stopped."
        else:
            self.point = q = result["point"]
            msg = (f"<b>{self.preset.currentText()}</b>, after {result['epochs']:.0f} epochs: accuracy "
                   f"<b>{q['train_acc']:.0%}</b> training vs <b>{q['val_acc']:.0%}</b> validation; loss "
                   f"{q['train_loss']:.3f} training vs {q['val_loss']:.3f} validation (lowest {q['min_val_loss']:.3f}, "
                   "● on the curve).<br>" + self._verdict(q))
        self.status.setText(msg)

    @staticmethod
    def _verdict(q: dict) -> str:
        if q["train_acc"] < 0.75:
            return "Under-fitting: the model cannot even fit its training points."
        if q["val_rise"] > 1.3 and q["loss_gap"] > 0.5:
            return (f"Over-fitting: the training loss keeps falling while the validation loss rose to "
                    f"{q['val_rise']:.1f}× its lowest — the regions bend around single noisy points.")
        return ("The validation loss stays near its lowest: the model fits the pattern, not the noise "
                f"(training − validation loss gap {q['loss_gap']:.2f}).")

    def _failed(self, msg: str) -> None:
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status.setText("Stopped." if msg == "cancelled" else f"Training failed: {msg}")

    def demo(self, app) -> None:
        """For screenshots: train the current preset to the end."""
        self.start()
        self.runner.wait(60)
        for _ in range(20):
            app.processEvents()
