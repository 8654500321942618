"""Lab 4 — optimization on the loaded dataset with a linear classifier: random search,
random local search, the numerical gradient (the lecture's table, its cost, the gradient
check) and gradient descent at three learning rates.  Every computation runs off the GUI
thread (the labs' QThreadPool) with progress; everything is seeded."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QComboBox, QGridLayout, QGroupBox, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from engine import labs as L

from .base import Lab
from .common import (COLORS, JobRunner, add_legend, big_font, export_button, fill_table, label,
                     make_plot, pen, readonly_table, row)


def _nice(v: float) -> float:
    """Round to one significant digit."""
    if v <= 0 or not math.isfinite(v):
        return v
    e = math.floor(math.log10(v))
    return round(v / 10 ** e) * 10 ** e


class OptimLab(Lab):
    title = "Optimization"
    blurb = "find the W that minimises the loss: random search, the gradient, gradient descent."

    def __init__(self, parent=None):
        super().__init__(parent)
        # ---- shared settings
        self.loss = QComboBox()
        self.loss.addItems(["svm", "softmax"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 100_000)
        self.n_train = QSpinBox()
        self.n_train.setRange(10, 100_000)
        self.n_train.setValue(500)
        self.n_train.setSingleStep(100)
        for w in (self.loss, self.seed, self.n_train):
            w.setFont(big_font())
        self.data_info = label("", -1)
        self.body.addLayout(row(label("Loss:"), self.loss, label("seed:"), self.seed,
                                label("training examples used:"), self.n_train, self.data_info))
        grid = QGridLayout()
        self.body.addLayout(grid, 1)

        # ---- random search
        box = QGroupBox("Random search: try random W = scale · randn, keep the best")
        box.setFont(big_font(-1))
        bl = QVBoxLayout(box)
        self.trials = QSpinBox()
        self.trials.setRange(1, 100_000)
        self.trials.setValue(200)
        self.scale = QLineEdit("1e-4")
        self.scale.setMaximumWidth(90)
        self.rs_button = QPushButton("Random search")
        self.rls_button = QPushButton("Random local search")
        self.rs_stop = QPushButton("Stop")
        self.rs_progress = QProgressBar()
        for w in (self.trials, self.scale, self.rs_button, self.rls_button, self.rs_stop):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("trials:", -1), self.trials, label("scale / step:", -1), self.scale,
                         self.rs_button, self.rls_button, self.rs_stop))
        bl.addWidget(self.rs_progress)
        self.rs_plot = make_plot("", "trial", "loss")
        add_legend(self.rs_plot)
        self.rs_points = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(120, 120, 120, 150), pen=None, name="loss of trial")
        self.rs_plot.addItem(self.rs_points)
        self.rs_best = self.rs_plot.plot([], [], pen=pen(COLORS[1]), name="best so far")
        bl.addWidget(self.rs_plot, 1)
        self.rs_label = label("", 0)
        bl.addWidget(self.rs_label)
        bl.addWidget(export_button(self.rs_plot, "random_search"))
        grid.addWidget(box, 0, 0)

        # ---- gradient descent at three learning rates
        box = QGroupBox("Gradient descent W ← W − α∇L at three learning rates")
        box.setFont(big_font(-1))
        bl = QVBoxLayout(box)
        self.lrs = [QLineEdit() for _ in range(3)]
        for e in self.lrs:
            e.setMaximumWidth(100)
            e.setFont(big_font(-1))
        self.gd_steps = QSpinBox()
        self.gd_steps.setRange(1, 10_000)
        self.gd_steps.setValue(100)
        self.gd_button = QPushButton("Run")
        self.gd_progress = QProgressBar()
        for w in (self.gd_steps, self.gd_button):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("α too low:", -1), self.lrs[0], label("good:", -1), self.lrs[1],
                         label("too high:", -1), self.lrs[2], label("steps:", -1), self.gd_steps, self.gd_button))
        bl.addWidget(self.gd_progress)
        self.gd_plot = make_plot("", "step", "loss")
        add_legend(self.gd_plot)
        names = ["too low", "good", "too high"]
        cols = [COLORS[0], COLORS[2], COLORS[1]]
        self.gd_curves = [self.gd_plot.plot([], [], pen=pen(c), name=n) for c, n in zip(cols, names)]
        bl.addWidget(self.gd_plot, 1)
        self.gd_label = label("", 0)
        bl.addWidget(self.gd_label)
        bl.addWidget(export_button(self.gd_plot, "gradient_descent"))
        grid.addWidget(box, 0, 1)

        # ---- numerical gradient
        box = QGroupBox("The numerical gradient, one dimension at a time: (L(W + h) − L(W)) / h")
        box.setFont(big_font(-1))
        bl = QGridLayout(box)
        self.h = QLineEdit("1e-4")
        self.h.setMaximumWidth(90)
        self.start_index = QSpinBox()
        self.start_index.setRange(0, 10 ** 8)
        self.ng_button = QPushButton("Numerical gradient (table)")
        self.cost_button = QPushButton("Time it: 10, 100, 1000 dims")
        self.cost_button.setToolTip("Capped at the number of entries in W")
        self.check_button = QPushButton("Gradient check")
        self.ng_progress = QProgressBar()
        for w in (self.h, self.start_index, self.ng_button, self.cost_button, self.check_button):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("h:", -1), self.h, label("from W index:", -1), self.start_index, self.ng_button,
                         self.cost_button, self.check_button, self.ng_progress), 0, 0, 1, 2)
        self.ng_table = readonly_table(0, 7, ["W index", "W", "W + h", "L(W)", "L(W + h)",
                                              "(L(W+h) − L(W))/h", "analytic dL/dW"])
        bl.addWidget(self.ng_table, 1, 0)
        self.cost_plot = make_plot("Cost: numerical vs analytic", "dimensions nudged", "seconds")
        self.cost_plot.getPlotItem().setLogMode(True, True)
        add_legend(self.cost_plot)
        self.cost_num = self.cost_plot.plot([], [], pen=pen(COLORS[1]), symbol="o", symbolSize=10,
                                            symbolBrush=COLORS[1], name="numerical")
        self.cost_ana = self.cost_plot.plot([], [], pen=pen(COLORS[2], style=pg.QtCore.Qt.DashLine),
                                            name="analytic (all parameters)")
        bl.addWidget(self.cost_plot, 1, 1)
        self.ng_label = label("", -1)
        bl.addWidget(self.ng_label, 2, 0)
        bl.addWidget(export_button(self.cost_plot, "numerical_gradient_cost"), 2, 1)
        bl.setColumnStretch(0, 3)
        bl.setColumnStretch(1, 2)
        grid.addWidget(box, 1, 0, 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.plots.update(random_search=self.rs_plot, gradient_descent=self.gd_plot, cost=self.cost_plot)

        # ---- jobs
        self.rs_runner, self.gd_runner, self.ng_runner = JobRunner(self), JobRunner(self), JobRunner(self)
        self.runners = [self.rs_runner, self.gd_runner, self.ng_runner]
        self.rs_button.clicked.connect(lambda: self.run_search(local=False))
        self.rls_button.clicked.connect(lambda: self.run_search(local=True))
        self.rs_stop.clicked.connect(self.rs_runner.cancel)
        self.rs_runner.partial.connect(self._rs_partial)
        self.rs_runner.finished.connect(self._rs_done)
        self.rs_runner.failed.connect(lambda m: self.rs_label.setText(f"Random search: {m}"))
        self.rs_runner.progress.connect(lambda f, m: self.rs_progress.setValue(int(100 * f)))
        self.gd_button.clicked.connect(self.run_gd)
        self.gd_runner.partial.connect(self._gd_show)
        self.gd_runner.finished.connect(self._gd_show)
        self.gd_runner.failed.connect(lambda m: self.gd_label.setText(f"Gradient descent: {m}"))
        self.gd_runner.progress.connect(lambda f, m: self.gd_progress.setValue(int(100 * f)))
        self.ng_button.clicked.connect(self.run_numerical)
        self.cost_button.clicked.connect(self.run_cost)
        self.check_button.clicked.connect(self.run_check)
        self.ng_runner.finished.connect(self._ng_done)
        self.ng_runner.failed.connect(lambda m: self.ng_label.setText(f"Numerical gradient: {m}"))
        self.ng_runner.progress.connect(lambda f, m: self.ng_progress.setValue(int(100 * f)))
        self.search_result = None
        self.gd_result = None
        self.ng_result = None
        self.reset()

    # ------------------------------------------------------------------ data
    def set_dataset(self, dataset) -> None:
        super().set_dataset(dataset)
        self._default_lrs()
        if dataset is not None:
            self.data_info.setText(f"{dataset.name}: {len(dataset.y_train)} training images, "
                                   f"{dataset.num_features} features, {dataset.num_classes} classes; "
                                   f"W has {dataset.num_features * dataset.num_classes + dataset.num_classes:,} "
                                   "parameters (with b)")
        else:
            self.data_info.setText("No dataset.")

    def data(self):
        d = self.dataset
        if d is None:
            raise RuntimeError("no dataset loaded")
        n = min(self.n_train.value(), len(d.y_train))
        X = d.X_train[:n].astype(np.float64)
        y = d.y_train[:n]
        Xe, ye = (d.X_val, d.y_val) if len(d.y_val) else (d.X_train, d.y_train)
        return X, y, Xe.astype(np.float64), ye, d.num_classes

    def _default_lrs(self) -> None:
        if self.dataset is None:
            vals = (1e-6, 1e-4, 1e-2)
        else:
            X = self.dataset.X_train[:500].astype(np.float64)
            g = 1.0 / max(float(np.mean(np.sum(X * X, axis=1))), 1e-12)
            vals = (_nice(g / 30), _nice(4 * g), _nice(300 * g))
        for e, v in zip(self.lrs, vals):
            e.setText(f"{v:g}")

    def reset(self) -> None:
        for r in self.runners:
            r.cancel()
        self.loss.setCurrentText("svm")
        self.seed.setValue(0)
        self.n_train.setValue(500)
        self.trials.setValue(200)
        self.scale.setText("1e-4")
        self.h.setText("1e-4")
        self.start_index.setValue(0)
        self.gd_steps.setValue(100)
        self._default_lrs()
        for p in (self.rs_progress, self.gd_progress, self.ng_progress):
            p.setValue(0)
        self.rs_points.setData([])
        self.rs_best.setData([], [])
        for c in self.gd_curves:
            c.setData([], [])
        self.cost_num.setData([], [])
        self.cost_ana.setData([], [])
        self.ng_table.setRowCount(0)
        self.rs_label.setText("The lecture: 1000 random W on CIFAR-10 gave about 15.5 % test accuracy "
                              "(chance: 10 %).")
        self.gd_label.setText("")
        self.ng_label.setText("Numeric gradient: slow — O(#dimensions) — and approximate.")

    @staticmethod
    def _float(edit: QLineEdit, what: str) -> float:
        try:
            v = float(edit.text())
        except ValueError:
            raise ValueError(f"{what} must be a number, got {edit.text()!r}") from None
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{what} must be a positive number, got {edit.text()!r}")
        return v

    # ------------------------------------------------------------------ random search
    def run_search(self, local: bool = False) -> None:
        try:
            X, y, Xe, ye, C = self.data()
            scale = self._float(self.scale, "scale")
        except (ValueError, RuntimeError) as exc:
            self.rs_label.setText(str(exc))
            return
        trials, seed, loss = self.trials.value(), self.seed.value(), self.loss.currentText()
        self.rs_points.setData([])
        self.rs_best.setData([], [])
        self.rs_plot.getPlotItem().setTitle("Random local search" if local else "Random search",
                                            color="#000", size="14pt")

        def work(job):
            losses, best = [], []
            every = max(1, trials // 50)

            def cb(t, l, b):
                losses.append(l)
                best.append(b)
                if t % every == 0 or t == trials - 1:
                    job.partial((list(losses), list(best)))
                    job.progress((t + 1) / trials)

            return L.run_random_search(X, y, Xe, ye, C, trials=trials, scale=scale, seed=seed, loss=loss,
                                       local=local, step=scale, progress=cb, cancel=lambda: job.cancelled)

        self._rs_local = local
        self.rs_label.setText("Searching…")
        self.rs_runner.start(work)

    def _rs_partial(self, p) -> None:
        losses, best = p
        t = np.arange(len(losses))
        self.rs_points.setData(t, losses)
        self.rs_best.setData(t, best)
        if best:
            self.rs_label.setText(f"trial {len(losses)}: loss {losses[-1]:.4f}, best so far {best[-1]:.4f}")

    def _rs_done(self, r) -> None:
        self.search_result = r
        self._rs_partial((r.losses, r.best))
        self.rs_progress.setValue(100)
        chance = 1.0 / max(self.dataset.num_classes, 1) if self.dataset else float("nan")
        what = "random local search" if self._rs_local else "random search"
        self.rs_label.setText(
            f"{what}: {len(r.losses)} trials, best loss <b>{r.best_loss:.4f}</b>; accuracy of the best W on the "
            f"validation images: <b>{r.accuracy:.1%}</b> (chance {chance:.0%}; the lecture: ≈15.5 % on CIFAR-10).")

    # ------------------------------------------------------------------ gradient descent
    def run_gd(self) -> None:
        try:
            X, y, _, _, C = self.data()
            lrs = tuple(self._float(e, f"learning rate {i + 1}") for i, e in enumerate(self.lrs))
        except (ValueError, RuntimeError) as exc:
            self.gd_label.setText(str(exc))
            return
        steps, seed, loss = self.gd_steps.value(), self.seed.value(), self.loss.currentText()
        for c in self.gd_curves:
            c.setData([], [])

        def work(job):
            out = {}
            for k, lr in enumerate(lrs):
                def prog(f, k=k):
                    job.progress((k + f) / 3)
                r = L.gradient_descent_runs(X, y, C, lrs=(lr,), steps=steps, seed=seed, loss=loss,
                                            progress=prog, cancel=lambda: job.cancelled)
                out[lr] = r[lr]
                job.partial(dict(out))
            return out

        self.gd_label.setText("Running…")
        self.gd_runner.start(work)

    def _gd_show(self, out: dict) -> None:
        self.gd_result = out
        msgs = []
        names = ["too low", "good", "too high"]
        ymax = 0.0
        for c, (lr, losses), n in zip(self.gd_curves, out.items(), names):
            arr = np.array(losses, dtype=np.float64)
            ok = np.isfinite(arr)
            c.setData(np.arange(len(arr))[ok], arr[ok])
            c.opts["name"] = f"α = {lr:g} ({n})"
            if ok.any():
                ymax = max(ymax, float(arr[ok][0]) * 3)
            end = arr[-1] if len(arr) else float("nan")
            state = "diverged" if (not np.isfinite(end) or end > 1e12 or (len(arr) and end > 2 * arr[0])) else f"{end:.4g}"
            msgs.append(f"α = {lr:g}: {state}")
        # legend text follows the learning rates
        leg = self.gd_plot.getPlotItem().legend
        if leg is not None:
            leg.clear()
            for c in self.gd_curves[:len(out)]:
                leg.addItem(c, c.opts["name"])
        if ymax > 0:
            self.gd_plot.setYRange(0, ymax)
        self.gd_label.setText("final loss — " + "; ".join(msgs))

    # ------------------------------------------------------------------ numerical gradient
    def _model(self, X, C):
        return L.linear_model_for(X, C, self.loss.currentText(), self.seed.value(), scale=1e-2)

    def run_numerical(self) -> None:
        try:
            X, y, _, _, C = self.data()
            h = self._float(self.h, "h")
        except (ValueError, RuntimeError) as exc:
            self.ng_label.setText(str(exc))
            return
        model = self._model(X, C)
        start = self.start_index.value()

        def work(job):
            rows = L.numerical_gradient_table(model, X, y, rows=10, h=h, start=start)
            model.loss(X, y, grads=True)
            g = model.grads["W1"].ravel()
            return ("table", [r + (float(g[r[0]]),) for r in rows])

        self.ng_runner.start(work)

    def run_cost(self) -> None:
        try:
            X, y, _, _, C = self.data()
        except RuntimeError as exc:
            self.ng_label.setText(str(exc))
            return
        model = self._model(X, C)

        def work(job):
            rows = []
            for k, n in enumerate((10, 100, 1000)):
                r, ana, P = L.numerical_gradient_cost(model, X, y, dims=(n,), cancel=lambda: job.cancelled)
                rows += r
                job.progress((k + 1) / 3)
            return ("cost", (rows, ana, P))

        self.ng_label.setText("Timing…")
        self.ng_runner.start(work)

    def run_check(self) -> None:
        try:
            X, y, _, _, C = self.data()
        except RuntimeError as exc:
            self.ng_label.setText(str(exc))
            return
        model = self._model(X, C)
        seed = self.seed.value()  # read widgets on the GUI thread only

        def work(job):
            return ("check", L.gradient_check_table(model, X, y, count=8, seed=seed))

        self.ng_runner.start(work)

    def _ng_done(self, res) -> None:
        kind, data = res
        self.ng_result = res
        self.ng_progress.setValue(100)
        if kind == "table":
            fill_table(self.ng_table, [(str(r[0]),) + tuple(r[1:]) for r in data],
                       ["W index", "W", "W + h", "L(W)", "L(W + h)", "(L(W+h) − L(W))/h", "analytic dL/dW"])
            self.ng_label.setText("Each row costs one more loss evaluation over the whole training set — "
                                  "the numerical gradient is O(#dimensions) and only approximate "
                                  "(forward difference; compare the analytic column).")
        elif kind == "cost":
            rows, ana, P = data
            n = np.array([r[0] for r in rows], dtype=float)
            t = np.array([max(r[1], 1e-7) for r in rows])
            self.cost_num.setData(n, t)
            self.cost_ana.setData([n.min(), n.max()], [max(ana, 1e-7)] * 2)
            per = t[-1] / n[-1]
            self.ng_label.setText(
                f"numerical: {', '.join(f'{int(a)} dims {b * 1e3:.1f} ms' for a, b in zip(n, t))}; "
                f"the analytic gradient of all {P:,} parameters: {ana * 1e3:.2f} ms. All {P:,} dims numerically "
                f"≈ {per * P:.2f} s (CIFAR-10's 30,730: ≈ {per * 30730:.1f} s per step at this data size).")
        else:
            fill_table(self.ng_table, [(f"{p}{list(ix)}", a, n, e, "✓" if e < 1e-6 else "check")
                                       for p, ix, a, n, e in data],
                       ["parameter", "analytic", "numerical (centered)", "relative error", ""])
            worst = max(r[4] for r in data) if data else 0.0
            self.ng_label.setText(f"Gradient check: largest relative error {worst:.2e} "
                                  "(|a − n| / (|a| + |n|); below 1e-7 is excellent in float64; kinks of "
                                  "max(0, ·) can raise it for the SVM).")

    def demo(self, app) -> None:
        self.trials.setValue(100)
        self.run_search()
        self.rs_runner.wait(60)
        self.run_gd()
        self.gd_runner.wait(60)
        self.run_cost()
        self.ng_runner.wait(60)
        for _ in range(10):
            app.processEvents()
        self.start_index.setValue(20)
        self.run_numerical()
        self.ng_runner.wait(60)
        for _ in range(20):
            app.processEvents()
