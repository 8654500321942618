"""Lab 4 — optimization with a linear classifier: random search (the lecture's setting: 1000 tries
of W = 0.0001·randn on CIFAR-10, over a few seeds), the numerical gradient (the slide's numbers,
then real images: its table, its cost, the gradient check) and gradient descent at three learning
rates picked by a short sweep on the loaded data.

The image parts (random search, the numerical gradient) use :func:`image_set_for` — the window's
dataset when it is an image set, else the bundled CIFAR-10 4k, raw pixels — and say which in a
caption.  The learning-rate curves use the loaded data.  Every computation runs off the GUI thread
(the labs' QThreadPool), is drawn progressively and is seeded; the default result of every part
is computed when the lab is first shown (``has_result`` / ``first_result`` once all three parts
have drawn)."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from engine import labs as L

from ..jobs import JobRunner
from .base import BackgroundLab
from ..style import SERIES_COLORS
from .common import (big_font, fill_table, fg, label,
                     make_plot, on_restyle, pen, px, readonly_table, row, set_title, slip_style)
from .image_data import image_set_for, is_image_set

NG_LECTURE, NG_REAL = 0, 1
LR_NAMES = ("too low", "good", "too high")
COST_DIMS = (1, 10, 100)
LR_COLORS = (SERIES_COLORS[0], SERIES_COLORS[2], SERIES_COLORS[1])


def _float_text(edit: QLineEdit, what: str) -> float:
    try:
        v = float(edit.text().replace("−", "-"))
    except ValueError:
        raise ValueError(f"{what} must be a number, got {edit.text()!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{what} must be a positive number, got {edit.text()!r}")
    return v


def _image_key(dataset):
    """What the image parts run on: the dataset itself if it is an image set, else the bundled one."""
    return dataset if is_image_set(dataset) else image_set_for


def _eval_split(d):
    """The image set's test split (the lecture scores the best W on the test set), else val/train."""
    for X, y, name in ((d.X_test, d.y_test, "test"), (d.X_val, d.y_val, "validation"),
                       (d.X_train, d.y_train, "training")):
        if len(y):
            return X, y, name
    return d.X_train, d.y_train, "training"


class OptimLab(BackgroundLab):
    title = "Optimization"
    blurb = "find the W that minimises the loss: random search, the gradient, gradient descent."

    def __init__(self, parent=None):
        super().__init__(parent)
        self._refit_pending = False
        self._rs_local = False
        self._gd_kind = "pick"
        self._parts_drawn: set[str] = set()
        # ---- shared settings
        self.loss = QComboBox()
        self.loss.addItems(["svm", "softmax"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 100_000)
        self.n_train = QSpinBox()
        self.n_train.setRange(10, 100_000)
        self.n_train.setSingleStep(100)
        for w in (self.loss, self.seed, self.n_train):
            w.setFont(big_font())
        self.data_info = label("", -1)
        self.body.addLayout(row(label("Loss:"), self.loss, label("seed:"), self.seed,
                                label("training examples used:"), self.n_train, self.data_info))
        grid = QGridLayout()
        self.body.addLayout(grid, 1)

        # ---- random search
        box = QGroupBox("Random search: try random W = scale · randn, keep the lowest loss, test the best W")
        box.setFont(big_font(-1))
        bl = QVBoxLayout(box)
        self.trials = QSpinBox()
        self.trials.setRange(1, 100_000)
        self.scale = QLineEdit()
        self.scale.setMaximumWidth(90)
        self.n_seeds = QSpinBox()
        self.n_seeds.setRange(1, 20)
        self.rs_button = QPushButton("Random search")
        self.rls_button = QPushButton("Random local search")
        self.rs_stop = QPushButton("Stop")
        self.rs_progress = QProgressBar()
        for w in (self.trials, self.scale, self.n_seeds, self.rs_button, self.rls_button, self.rs_stop):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("tries:", -1), self.trials, label("scale / step:", -1), self.scale,
                         label("seeds:", -1), self.n_seeds, self.rs_button, self.rls_button, self.rs_stop,
                         self.rs_progress))
        plots = QHBoxLayout()
        self.rs_plot = make_plot("", "try", "loss")
        self.rs_plot.setToolTip("Grey: the loss of each try (the current seed); lines: the best so far, one per seed")
        self.rs_points = pg.ScatterPlotItem(size=px(5), brush=pg.mkBrush(138, 143, 152, 150), pen=None)
        self.rs_plot.addItem(self.rs_points)
        self.rs_best: list = []
        plots.addWidget(self.rs_plot, 3)
        self.acc_plot = make_plot("", "seed", "test accuracy (%)")
        self.acc_points = pg.ScatterPlotItem(size=px(12), brush=pg.mkBrush(SERIES_COLORS[2]), pen=pen(fg(), 1))
        self.acc_plot.addItem(self.acc_points)
        self.acc_band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                            brush=pg.mkBrush(48, 164, 108, 50), pen=pg.mkPen(None))
        self.acc_band.setZValue(-10)
        self.acc_plot.addItem(self.acc_band)
        self.acc_lines = {}
        for key, y, col, style_ in (("chance", 10.0, SERIES_COLORS[9], Qt.DashLine),
                                    ("lecture", 100 * L.LECTURE_SEARCH_ACCURACY, SERIES_COLORS[3], Qt.DashLine),
                                    ("mean", float("nan"), SERIES_COLORS[2], Qt.SolidLine)):
            right = key == "mean"
            ln = pg.InfiniteLine(pos=0 if not math.isfinite(y) else y, angle=0, movable=False,
                                 pen=pen(col, 2, style_), label=" ",
                                 labelOpts={"position": 0.98 if right else 0.02, "color": col,
                                            "anchors": [(1, 1), (1, 1)] if right else [(0, 1), (0, 1)]})
            self.acc_plot.addItem(ln)
            self.acc_lines[key] = ln
        self.acc_lines["chance"].label.setFormat("chance 10 %")
        self.acc_lines["lecture"].label.setFormat(f"lecture {100 * L.LECTURE_SEARCH_ACCURACY:.1f} %")
        self.acc_lines["mean"].setVisible(False)
        self.acc_plot.setYRange(0, 25)
        plots.addWidget(self.acc_plot, 2)
        bl.addLayout(plots, 1)
        self.rs_label = label("", -2)
        bl.addWidget(self.rs_label)
        self.slip = label("", -2)
        self.slip.setStyleSheet(slip_style())
        bl.addWidget(self.slip)
        grid.addWidget(box, 0, 0)

        # ---- gradient descent at three learning rates
        box = QGroupBox("Gradient descent W ← W − α∇L at three learning rates (the loaded data)")
        box.setFont(big_font(-1))
        bl = QVBoxLayout(box)
        self.lrs = [QLineEdit() for _ in range(3)]
        for e in self.lrs:
            e.setMaximumWidth(100)
            e.setFont(big_font(-1))
        self.gd_steps = QSpinBox()
        self.gd_steps.setRange(2, 10_000)
        self.pick_button = QPushButton("Pick rates (sweep)")
        self.pick_button.setToolTip("Try a log grid of rates for the same number of steps: the lowest end is "
                                    "'good', 100× smaller 'too low', the smallest larger one that diverges "
                                    "or ends clearly higher 'too high'")
        self.gd_button = QPushButton("Run these rates")
        self.gd_progress = QProgressBar()
        for w in (self.gd_steps, self.pick_button, self.gd_button):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("α too low:", -1), self.lrs[0], label("good:", -1), self.lrs[1],
                         label("too high:", -1), self.lrs[2], label("steps:", -1), self.gd_steps))
        bl.addLayout(row(self.pick_button, self.gd_button, self.gd_progress))
        self.gd_plot = make_plot("", "step", "loss")
        self.gd_sweep_items: list = []
        self.gd_curves = [self.gd_plot.plot([], [], pen=pen(c), name=n) for c, n in zip(LR_COLORS, LR_NAMES)]
        bl.addWidget(self.gd_plot, 1)
        self.gd_label = label("", -2)
        bl.addWidget(self.gd_label)
        grid.addWidget(box, 0, 1)

        # ---- numerical gradient
        box = QGroupBox("The numerical gradient, one dimension at a time: (L(W + h) − L(W)) / h")
        box.setFont(big_font(-1))
        bl = QGridLayout(box)
        self.ng_example = QComboBox()
        self.ng_example.addItems(["the lecture's numbers", "real images: the 10 largest-gradient entries of W"])
        self.h = QLineEdit()
        self.h.setMaximumWidth(90)
        self.ng_button = QPushButton("Numerical gradient (table)")
        self.cost_button = QPushButton("Time it: 1, 10, 100 dims")
        self.cost_button.setToolTip("Capped at the number of entries in W")
        self.check_button = QPushButton("Gradient check")
        self.ng_progress = QProgressBar()
        for w in (self.ng_example, self.h, self.ng_button, self.cost_button, self.check_button):
            w.setFont(big_font(-1))
        bl.addLayout(row(label("example:", -1), self.ng_example, label("h:", -1), self.h, self.ng_button,
                         self.cost_button, self.check_button, self.ng_progress), 0, 0, 1, 2)
        self.ng_table = readonly_table(0, 8)
        bl.addWidget(self.ng_table, 1, 0)
        self.cost_plot = make_plot("Cost: numerical (red) vs analytic (green)", "dimensions nudged", "seconds")
        self.cost_plot.getPlotItem().setLogMode(True, True)
        self.cost_plot.getAxis("bottom").setTicks([[(float(np.log10(d)), f"{d:g}") for d in (1, 10, 100, 1000)]])
        self.cost_num = self.cost_plot.plot([], [], pen=pen(SERIES_COLORS[1]), symbol="o", symbolSize=px(10),
                                            symbolBrush=SERIES_COLORS[1], name="numerical")
        self.cost_ana = self.cost_plot.plot([], [], pen=pen(SERIES_COLORS[2], style=Qt.DashLine),
                                            name="analytic (all parameters)")
        bl.addWidget(self.cost_plot, 1, 1)
        self.ng_label = label("", -2)
        bl.addWidget(self.ng_label, 2, 0)
        self.cost_label = label("", -2)
        bl.addWidget(self.cost_label, 2, 1)
        bl.setColumnStretch(0, 3)
        bl.setColumnStretch(1, 2)
        grid.addWidget(box, 1, 0, 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.plots.update(random_search=self.rs_plot, random_search_accuracy=self.acc_plot,
                          gradient_descent=self.gd_plot, cost=self.cost_plot)

        # ---- jobs
        self.rs_runner, self.gd_runner = JobRunner(self), JobRunner(self)
        self.ng_runner, self.cost_runner = JobRunner(self), JobRunner(self)
        self.runners = [self.rs_runner, self.gd_runner, self.ng_runner, self.cost_runner]
        self.rs_button.clicked.connect(lambda: self.run_search(local=False))
        self.rls_button.clicked.connect(lambda: self.run_search(local=True))
        self.rs_stop.clicked.connect(self.rs_runner.cancel)
        self.rs_runner.partial.connect(self._rs_partial)
        self.rs_runner.finished.connect(self._rs_done)
        self.rs_runner.failed.connect(lambda m: self.rs_label.setText(f"Random search: {m}"))
        self.rs_runner.progress.connect(lambda f, m: self.rs_progress.setValue(int(100 * f)))
        self.pick_button.clicked.connect(self.run_pick)
        self.loss.currentIndexChanged.connect(lambda _i: self._started and self.run_pick())
        self.gd_button.clicked.connect(self.run_gd)
        self.gd_runner.partial.connect(self._gd_partial)
        self.gd_runner.finished.connect(self._gd_done)
        self.gd_runner.failed.connect(lambda m: self.gd_label.setText(f"Gradient descent: {m}"))
        self.gd_runner.progress.connect(lambda f, m: self.gd_progress.setValue(int(100 * f)))
        self.ng_example.currentIndexChanged.connect(lambda _i: self.run_numerical())
        self.ng_button.clicked.connect(self.run_numerical)
        self.cost_button.clicked.connect(self.run_cost)
        self.check_button.clicked.connect(self.run_check)
        self.ng_runner.finished.connect(self._ng_done)
        self.ng_runner.failed.connect(lambda m: self.ng_label.setText(f"Numerical gradient: {m}"))
        self.ng_runner.progress.connect(lambda f, m: self.ng_progress.setValue(int(100 * f)))
        self.cost_runner.partial.connect(self._cost_show)
        self.cost_runner.finished.connect(self._cost_show)
        self.cost_runner.failed.connect(lambda m: self.cost_label.setText(f"Timing: {m}"))
        self.search_runs: list = []     # [(seed, SearchResult)] of the last search
        self.pick = None                # the last RatePick
        self.gd_result = None           # {lr: losses} of the three curves
        self.ng_result = None
        self.cost_result = None
        self.image_note = ""
        on_restyle(self.restyle)
        self.reset()

    def restyle(self) -> None:
        """The theme's colours for what is drawn with them (the slide-slip box, the accuracy
        points' outline); the plots restyle themselves (gui.labs.common)."""
        self.slip.setStyleSheet(slip_style())
        self.acc_points.setPen(pen(fg(), 1))

    # ------------------------------------------------------------------ layout
    def _captions(self):
        return (self.rs_label, self.slip, self.gd_label, self.ng_label, self.cost_label)

    def _fit_captions(self) -> None:
        """Give each word-wrapped caption the height its text needs at its width (a layout asks a
        wrapped label for too little, and the caption would be drawn over the plot above it); the
        scroll area holding the lab is asked to fit it again."""
        changed = False
        for lab in self._captions():
            w = lab.width()
            if w > 50:
                h = lab.heightForWidth(w)
                if h > 0 and h != lab.minimumHeight():
                    lab.setMinimumHeight(h)
                    changed = True
        holder = self.parentWidget().parentWidget() if self.parentWidget() is not None else None
        if changed and hasattr(holder, "fit"):
            holder.fit()

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._fit_captions()

    def _refit(self) -> None:
        """Re-fit the captions once the layout has taken a changed text into account."""
        if not self._refit_pending:
            self._refit_pending = True

            def go():
                self._refit_pending = False
                self._fit_captions()
            QTimer.singleShot(0, self, go)      # (not after the lab is deleted)

    # ------------------------------------------------------------------ defaults
    def background_jobs(self) -> dict:
        """A lab off screen does not hold the labs' two shared worker threads."""
        return {"gd": self.gd_runner, "search": self.rs_runner, "cost": self.cost_runner}

    def resume_jobs(self, todo: set) -> None:
        if "gd" in todo:
            (self.run_gd if self._gd_kind == "curves" else self.run_pick)()
        cost_done = self.cost_result is not None and len(self.cost_result[0]) == len(COST_DIMS)
        if "search" in todo:
            self.run_search(local=self._rs_local, with_cost=not cost_done and "cost" not in todo)
        if "cost" in todo:
            self.run_cost()

    def run_defaults(self) -> None:
        """Compute every part's default result in the background (quick ones first)."""
        self._started = True
        # the labs share two worker threads: the sweep in one, the search (timing the numerical
        # gradient on the same images first) in the other
        self.run_pick()
        self.run_search(with_cost=True)

    def _drawn(self, part: str) -> None:
        self._refit()
        self._parts_drawn.add(part)
        if {"search", "gd", "cost"} <= self._parts_drawn:
            self._mark_result()

    # ------------------------------------------------------------------ data
    def set_dataset(self, dataset) -> None:
        old = self.dataset
        super().set_dataset(dataset)
        if dataset is not None:
            self.data_info.setText(f"loaded: {dataset.name} ({len(dataset.y_train)} training examples, "
                                   f"{dataset.num_features} features, {dataset.num_classes} classes)")
        else:
            self.data_info.setText("No dataset loaded.")
        if self._defaults_pending:
            self._start_defaults()
            return
        if self._started and dataset is not old:
            self.run_pick()
            if _image_key(old) is not _image_key(dataset):      # the image parts' data changed
                self.run_search(with_cost=True)
                if self.ng_example.currentIndex() == NG_REAL:
                    self.run_numerical()

    def data(self):
        """``load() -> (X, y, num_classes, name)`` for the learning-rate curves, to call in a worker:
        the loaded data (its first "training examples used"), or the bundled CIFAR-10 when no
        dataset is loaded."""
        dataset, n = self.dataset, self.n_train.value()

        def load():
            d = dataset if dataset is not None else image_set_for(None)[0]
            k = min(n, len(d.y_train))
            return d.X_train[:k].astype(np.float64), d.y_train[:k], d.num_classes, d.name
        return load

    def reset(self) -> None:
        for r in self.runners:
            r.cancel()
        self.loss.blockSignals(True)        # (run_defaults below re-runs everything once)
        self.loss.setCurrentText("svm")
        self.loss.blockSignals(False)
        self.seed.setValue(0)
        self.n_train.setValue(500)
        self.trials.setValue(L.LECTURE_SEARCH_TRIALS)
        self.scale.setText(f"{L.LECTURE_SEARCH_SCALE:g}")
        self.n_seeds.setValue(5)
        self.h.setText(f"{L.LECTURE_H:g}")
        self.gd_steps.setValue(100)
        for e in self.lrs:
            e.setText("")
        for p in (self.rs_progress, self.gd_progress, self.ng_progress):
            p.setValue(0)
        self._clear_search()
        self._clear_gd()
        self.cost_num.setData([], [])
        self.cost_ana.setData([], [])
        self.rs_label.setText(f"The lecture: {L.LECTURE_SEARCH_TRIALS} random W = 0.0001·randn(10, 3073) on "
                              "CIFAR-10 gave about 15.5 % test accuracy (chance: 10 %).")
        self.slip.setText(self._slip_text())
        self.slip.setToolTip(self._slip_tooltip())
        self.gd_label.setText("")
        self.cost_label.setText("Numeric gradient: slow — O(#dimensions) — and approximate.")
        self.ng_example.blockSignals(True)
        self.ng_example.setCurrentIndex(NG_LECTURE)
        self.ng_example.blockSignals(False)
        self.show_lecture_table()
        if self._started:
            self.run_defaults()

    @staticmethod
    def _slip_text() -> str:
        """The slide's printout with the correction (as the Score function lab flags its slip)."""
        fixed = L.printout_corrected()
        printed = ", ".join(f"{p:.6f}" for _n, _l, p, _b in fixed)
        right = ", ".join(f"<b>{b:.6f}</b>" if abs(p - b) > 5e-7 else f"{b:.6f}" for _n, _l, p, b in fixed)
        return (f"⚠ Slide's printout, “best” after attempts 0–4: {printed}; by its own code: {right} — "
                "attempts 2 and 3 lower the loss (8.044034, 8.278948) but the slide keeps 8.959668.")

    @staticmethod
    def _slip_tooltip() -> str:
        rows = []
        for n, loss, printed, best in L.printout_corrected():
            mark = "✓" if abs(printed - best) <= 5e-7 else f"✗ → {best:.6f}"
            rows.append(f"in attempt {n} the loss was {loss:.6f}, best {printed:.6f}   {mark}")
        return "The slide's printout, corrected:\n" + "\n".join(rows) + "\n\n" + L.RANDOM_SEARCH_NOTE

    # ------------------------------------------------------------------ random search
    def _clear_search(self) -> None:
        self.rs_points.setData([])
        for c in self.rs_best:
            self.rs_plot.removeItem(c)
        self.rs_best = []
        self.acc_points.setData([])
        self.acc_lines["mean"].setVisible(False)
        self.acc_band.setRegion((0, 0))
        self.acc_band.setVisible(False)
        self.search_runs = []

    def run_search(self, local: bool = False, with_cost: bool = False) -> None:
        """Random search over the seeds (or one random local search) on the image set, drawn every
        50 tries.  ``with_cost``: the job also times the numerical gradient (1 and 10 dimensions
        before the search, 100 after its first seed), so that the lab's first frame does not wait
        for a third worker thread (the labs share two)."""
        try:
            scale = _float_text(self.scale, "scale")
        except ValueError as exc:
            self.rs_label.setText(str(exc))
            return
        dataset = self.dataset
        trials, seed0, loss = self.trials.value(), self.seed.value(), self.loss.currentText()
        n, seeds = self.n_train.value(), (1 if local else self.n_seeds.value())
        self._clear_search()
        if with_cost:
            self.cost_runner.cancel()
            self._reset_cost()
        cost = self._cost_steps(dataset, n, loss, seed0) if with_cost else None
        set_title(self.rs_plot, "Random local search" if local else "Random search")
        self._rs_local = local

        def work(job):
            d, note = image_set_for(dataset)
            m = min(n, len(d.y_train))
            X, y = d.X_train[:m], d.y_train[:m]
            Xe, ye, split = _eval_split(d)
            info = {"name": d.name, "note": note, "n": m, "D": d.num_features, "C": d.num_classes,
                    "split": split, "n_eval": len(ye), "trials": trials, "seeds": seeds, "scale": scale,
                    "loss": loss, "raw": getattr(d, "preprocess", "none") == "none"}
            runs = []
            if cost is not None:
                for res in cost(job, (1, 10)):
                    job.partial(("cost", res))
            for k in range(seeds):
                seed = seed0 + k

                def prog(t, losses, best, k=k, seed=seed):
                    job.partial(("search", info, list(runs), seed, list(losses), list(best)))
                    job.progress((k + t / trials) / seeds)

                if local:
                    def cb(t, ls, bs):
                        if t % 20 == 0 or t == trials:
                            prog(t, ls, bs)
                    r = L.run_random_search(X.astype(np.float64), y, np.asarray(Xe, np.float64), ye, d.num_classes,
                                            trials=trials, scale=scale, seed=seed, loss=loss, local=True,
                                            step=scale, progress=cb, cancel=lambda: job.cancelled)
                else:
                    r = L.run_random_search(X, y, Xe, ye, d.num_classes, trials=trials, scale=scale, seed=seed,
                                            loss=loss, batch=50, progress=prog, cancel=lambda: job.cancelled)
                runs.append((seed, r))
                job.partial(("search", info, list(runs), None, [], []))
                if job.cancelled:
                    break
                if cost is not None and k == 0:
                    for res in cost(job, (100,)):
                        job.partial(("cost", res))
            return info, runs

        self.rs_label.setText("Searching…")
        self.rs_runner.start(work)

    def _show_runs(self, info, runs, seed, losses, best) -> None:
        # best-so-far curve of every finished seed, and the current one's tries
        while len(self.rs_best) < len(runs) + (1 if seed is not None else 0):
            k = len(self.rs_best)
            c = self.rs_plot.plot([], [], pen=pen(SERIES_COLORS[(1 + k) % len(SERIES_COLORS)], 2))
            self.rs_best.append(c)
        for c, (_s, r) in zip(self.rs_best, runs):
            c.setData(np.arange(len(r.best)), r.best)
        if seed is not None and losses:
            t = np.arange(len(losses))
            self.rs_points.setData(t, losses)
            self.rs_best[len(runs)].setData(t, best)
        elif runs:
            r = runs[-1][1]
            self.rs_points.setData(np.arange(len(r.losses)), r.losses)
        accs = [100 * r.accuracy for _s, r in runs]
        self.acc_points.setData([s for s, _r in runs], accs)
        if accs:
            mean, sd = L.mean_sd(accs)
            self.acc_lines["mean"].setPos(mean)
            self.acc_lines["mean"].label.setFormat(f"mean {mean:.1f} %")
            self.acc_lines["mean"].setVisible(True)
            self.acc_band.setRegion((mean - sd, mean + sd))
            self.acc_band.setVisible(len(accs) > 1)
            s0 = runs[0][0]
            self.acc_plot.setXRange(s0 - 0.5, s0 + max(info["seeds"], len(runs)) - 0.5, padding=0)
            self.acc_plot.setYRange(0, max(25.0, max(accs) + 3))
            set_title(self.acc_plot, f"test accuracy {mean:.1f} %" + (f" ± {sd:.1f}" if len(accs) > 1 else ""))

    def _rs_caption(self, info, runs, done: bool) -> str:
        what = "Random local search" if self._rs_local else "Random search"
        head = (f"{what}: {info['trials']:,} tries of {info['scale']:g}·randn, {info['loss'].upper()}, "
                f"{info['n']:,} {info['name']} training images ({'raw pixels' if info['raw'] else 'as loaded'}); "
                f"W {info['D']}×{info['C']} + b = the lecture's {info['C']}×{info['D'] + 1} with the bias trick.")
        if info["note"]:
            head = f"<i>{info['note']}</i> " + head
        if not runs:
            return head
        accs = [100 * r.accuracy for _s, r in runs]
        mean, sd = L.mean_sd(accs)
        spread = f"{mean:.1f} % ± {sd:.1f}" if len(accs) > 1 else f"{mean:.1f} %"
        chance = 100.0 / max(info["C"], 1)
        return (head + f" Best W on the {info['n_eval']:,} {info['split']} images: <b>{spread}</b> "
                f"({len(accs)} seed{'s' if len(accs) > 1 else ''}{'' if done else ' so far'}) — chance {chance:.0f} %, "
                "the lecture 15.5 % (50,000 images, one run).")

    def _rs_partial(self, p) -> None:
        if p[0] == "cost":
            self._cost_show(p[1])
            return
        _, info, runs, seed, losses, best = p
        self._show_runs(info, runs, seed, losses, best)
        self.rs_label.setText(self._rs_caption(info, runs, False))
        if seed is not None and best:
            set_title(self.rs_plot, f"seed {seed}: try {len(losses)}, best loss {best[-1]:.4f}")
        if runs or len(losses) > 0:
            self._drawn("search")

    def _rs_done(self, res) -> None:
        info, runs = res
        self.search_runs = runs
        self._show_runs(info, runs, None, [], [])
        self.rs_progress.setValue(100)
        self.rs_label.setText(self._rs_caption(info, runs, True))
        if runs:
            set_title(self.rs_plot, f"{'Random local search' if self._rs_local else 'Random search'}: "
                                    f"best loss {min(r_.best_loss for _s, r_ in runs):.4f}")
        self._drawn("search")

    # ------------------------------------------------------------------ gradient descent
    def _clear_gd(self) -> None:
        for it in self.gd_sweep_items:
            self.gd_plot.removeItem(it)
        self.gd_sweep_items = []
        for c in self.gd_curves:
            c.setData([], [])

    def run_pick(self) -> None:
        """Sweep a log grid of learning rates on the loaded data and pick the three (drawn progressively)."""
        load = self.data()
        steps, seed, loss = self.gd_steps.value(), self.seed.value(), self.loss.currentText()
        self._clear_gd()

        def work(job):
            X, y, C, name = load()
            job.partial(("info", name, len(y)))
            def on_run(lr, losses):
                job.partial(("run", lr, list(losses)))

            last = [time.perf_counter()]

            def on_step(lr, losses):        # a long run (big data) is drawn as it goes, 5 times a second
                now = time.perf_counter()
                if now - last[0] > 0.2:
                    last[0] = now
                    job.partial(("step", lr, losses))
            return ("pick", L.pick_learning_rates(X, y, C, loss=loss, steps=steps, seed=seed, on_run=on_run,
                                                  on_step=on_step, progress=job.progress,
                                                  cancel=lambda: job.cancelled))

        self._gd_kind = "pick"
        self.gd_label.setText(f"Sweeping learning rates ({steps} steps each)…")
        self.gd_runner.start(work)

    def run_gd(self) -> None:
        """Run the three rates typed in (the same small L2 as the sweep)."""
        try:
            lrs = tuple(_float_text(e, f"learning rate {i + 1}") for i, e in enumerate(self.lrs))
        except ValueError as exc:
            self.gd_label.setText(str(exc))
            return
        load = self.data()
        steps, seed, loss = self.gd_steps.value(), self.seed.value(), self.loss.currentText()
        self._clear_gd()

        def work(job):
            X, y, C, name = load()
            job.partial(("info", name, len(y)))
            reg = L.gd_reg_strength(X)
            out = {}
            for k, lr in enumerate(lrs):
                def prog(f, k=k):
                    job.progress((k + f) / 3)
                r = L.gradient_descent_runs(X, y, C, lrs=(lr,), steps=steps, seed=seed, loss=loss,
                                            progress=prog, cancel=lambda: job.cancelled, reg_strength=reg)
                out[lr] = r[lr]
                job.partial(("curves", dict(out), steps, reg))
            return ("curves", out, steps, reg)

        self._gd_kind = "curves"
        self.gd_label.setText("Running…")
        self.gd_runner.start(work)

    def _gd_partial(self, p) -> None:
        if p[0] == "info":
            self._gd_info = p[1:]
            return
        if p[0] in ("run", "step"):         # a sweep run, finished or (a long one) as it goes
            kind, lr, losses = p
            arr = np.asarray(losses, dtype=np.float64)
            ok = np.isfinite(arr)
            live = getattr(self, "_gd_live", None)
            if live is not None and live[0] == lr and live[1] in self.gd_sweep_items:
                it = live[1]
                it.setData(np.arange(len(arr))[ok], arr[ok])
            else:
                it = self.gd_plot.plot(np.arange(len(arr))[ok], arr[ok], pen=pen(SERIES_COLORS[9], 1))
                it.setZValue(-5)
                self.gd_sweep_items.append(it)
            self._gd_live = (lr, it) if kind == "step" else None
            self._gd_fit_y()
            self._drawn("gd")
        else:
            self._gd_curves(*p[1:])

    def _gd_fit_y(self) -> None:
        starts = [float(it.yData[0]) for it in self.gd_sweep_items + self.gd_curves
                  if it.yData is not None and len(it.yData)]
        if starts:
            self.gd_plot.setYRange(0, 1.5 * max(starts))

    def _gd_curves(self, out: dict, steps: int, reg: float, labels=None) -> None:
        self.gd_result = out
        texts = []
        for k, (c, (lr, losses)) in enumerate(zip(self.gd_curves, out.items())):
            arr = np.asarray(losses, dtype=np.float64)
            ok = np.isfinite(arr)
            c.setData(np.arange(len(arr))[ok], arr[ok])
            text = labels[k] if labels else L.describe_curve(losses, steps)
            c.opts["name"] = f"{LR_NAMES[k]}: α = {lr:.2g} — {text}"
            texts.append(f"<span style='color:{LR_COLORS[k]}'>■ <b>{LR_NAMES[k]}</b></span> α = {lr:.2g}: {text}")
        self._gd_fit_y()
        name, n = getattr(self, "_gd_info", ("", 0))
        self.gd_label.setText("<br>".join(texts) + f"<br>{name}, {n} examples; L = data loss + λ‖W‖², "
                              f"λ = {reg:g} (small: 1e-5·mean ‖x‖²).")
        self.gd_label.setToolTip("The small L2 term gives the loss a bottom: without it a linear classifier on "
                                 "separable data (gaussians, digits) keeps lowering the loss by growing W, so the "
                                 "largest step would end lowest and nothing would be too high.")
        self._drawn("gd")

    def _gd_done(self, res) -> None:
        self.gd_progress.setValue(100)
        if res[0] == "pick":
            p = res[1]
            self.pick = p
            for e, v in zip(self.lrs, p.rates):
                e.setText(f"{v:.3g}")
            out = {lr: p.runs[lr] for lr in p.rates}
            self._gd_curves(out, p.steps, p.reg_strength, [p.label(lr) for lr in p.rates])
            self.gd_label.setText(self.gd_label.text() + f" Rates from a sweep of {len(p.runs)} (grey): good "
                                  "ends lowest, too low is 100× smaller, too high the next larger one that diverges "
                                  "or ends clearly higher.")
        else:
            self._gd_curves(*res[1:])

    # ------------------------------------------------------------------ numerical gradient
    def show_lecture_table(self) -> None:
        """The slide's table, computed from the built example (instant, on the GUI thread)."""
        rows = L.lecture_gradient_table()
        printed = {k: v for k, v in enumerate(L.LECTURE_PRINTED)}
        out = []
        for k, w, wh, base, lp, dl, slope, ana in rows:
            slide = f"{printed[k][0]:.5f} → {printed[k][1]:.1f}" if k in printed else "?"
            out.append((f"{k + 1}", f"{w:g}", f"{wh:.4f}", f"{lp:.5f}", f"{dl:+.4e}", f"{slope:.4f}", f"{ana:g}",
                        slide))
        fill_table(self.ng_table, out, ["dim", "W", "W + h", "L(W + h)", "ΔL = L(W+h) − L(W)", "ΔL / h",
                                        "analytic", "the slide"])
        self._fit_columns()
        self.ng_result = ("lecture", rows)
        self.ng_progress.setValue(100)
        self.ng_label.setText(
            f"<b>The lecture's numbers</b>: W = [0.34, −1.11, 0.78, …], L(W) = {rows[0][3]:.5f}, h = 0.0001 → "
            "slopes −2.5, 0.6, 0.0, as on the slide.  <i>The slide's losses are illustrative; this example is built "
            "to reproduce them: L(W) = 1.25347 + g·(W − W₀) + ½‖W − W₀‖² with g = (−2.5, 0.6, 0.0, …) (the other "
            "six slopes are ours), so ΔL/h misses the exact slope by h/2 — “approximate”.</i>")
        self.ng_label.setToolTip(L.LECTURE_EXAMPLE_NOTE)
        self._refit()

    def _fit_columns(self) -> None:
        hh = self.ng_table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeToContents)
        hh.setStretchLastSection(True)

    def _image_data(self, dataset, n):
        d, note = image_set_for(dataset)
        m = min(n, len(d.y_train))
        return d, note, d.X_train[:m].astype(np.float64), d.y_train[:m]

    def run_numerical(self) -> None:
        if self.ng_example.currentIndex() == NG_LECTURE:
            self.ng_runner.cancel()
            self.show_lecture_table()
            return
        try:
            h = _float_text(self.h, "h")
        except ValueError as exc:
            self.ng_label.setText(str(exc))
            return
        dataset, n, loss, seed = self.dataset, self.n_train.value(), self.loss.currentText(), self.seed.value()

        def work(job):
            d, note, X, y = self._image_data(dataset, n)
            model = L.linear_model_for(X, d.num_classes, loss, seed, scale=1e-4)
            idx = L.largest_gradient_indices(model, X, y, count=10)
            rows = L.numerical_gradient_table(model, X, y, h=h, indices=idx)
            g = model.grads["W1"].ravel()
            shape = model.params["W1"].shape
            return ("table", [r + (float(g[r[0]]),) for r in rows], shape, d.name, note, len(y), h,
                    getattr(d, "input_shape", ()))

        self.ng_label.setText("Computing the table on real images…")
        self.ng_progress.setValue(0)
        self.ng_runner.start(work)

    def run_check(self) -> None:
        dataset, n, loss, seed = self.dataset, self.n_train.value(), self.loss.currentText(), self.seed.value()

        def work(job):
            d, note, X, y = self._image_data(dataset, n)
            model = L.linear_model_for(X, d.num_classes, loss, seed, scale=1e-4)
            return ("check", L.gradient_check_table(model, X, y, count=8, seed=seed), d.name, note)

        self.ng_label.setText("Checking the gradient…")
        self.ng_runner.start(work)

    def _pixel_name(self, flat: int, shape, input_shape) -> str:
        """``W[i, c] (row, col, channel)`` for an image set's flat index into ``W: (D, C)``."""
        i, c = divmod(flat, shape[1])
        if len(input_shape) == 3:
            _H, W_, ch = input_shape
            r, rest = divmod(i, W_ * ch)
            col, k = divmod(rest, ch)
            return f"W[{i}, {c}] ({r},{col},{'RGB'[k] if ch == 3 else k})"
        if len(input_shape) == 2:
            r, col = divmod(i, input_shape[1])
            return f"W[{i}, {c}] ({r},{col})"
        return f"W[{i}, {c}]"

    def _ng_done(self, res) -> None:
        self._refit()
        kind = res[0]
        self.ng_result = res
        self.ng_progress.setValue(100)
        if kind == "table":
            _, data, shape, name, note, n, h, input_shape = res
            rows = [(self._pixel_name(r[0], shape, input_shape), f"{r[1]:.3g}", f"{r[4]:.8f}",
                     f"{r[4] - r[3]:+.4e}", f"{r[5]:.5g}", f"{r[6]:.5g}") for r in data]
            fill_table(self.ng_table, rows, ["entry of W", "W", "L(W + h)", "ΔL = L(W+h) − L(W)", "ΔL / h",
                                             "analytic"])
            self._fit_columns()
            base = data[0][3] if data else float("nan")
            self.ng_label.setText(
                (f"<i>{note}</i> " if note else "") +
                f"{name}, {n} training images, W = 0.0001·randn, L(W) = {base:.8f}, h = {h:g}: the 10 entries "
                "with the largest analytic gradient. Each row is one more loss over the whole training set: "
                "O(#dimensions), and approximate (an SVM's kinks can make ΔL/h differ from the analytic value).")
        elif kind == "check":
            _, data, name, note = res
            fill_table(self.ng_table, [(f"{p}{list(ix)}", a, n_, e, "✓" if e < 1e-6 else "check")
                                       for p, ix, a, n_, e in data],
                       ["parameter", "analytic", "numerical (centered)", "relative error", ""])
            self._fit_columns()
            worst = max(r[4] for r in data) if data else 0.0
            self.ng_label.setText((f"<i>{note}</i><br>" if note else "") +
                                  f"Gradient check on {name}: largest relative error {worst:.2e} "
                                  "(|a − n| / (|a| + |n|); below 1e-7 is excellent in float64; kinks of "
                                  "max(0, ·) can raise it for the SVM).")

    # ------------------------------------------------------------------ cost
    def _reset_cost(self) -> None:
        self.cost_num.setData([], [])
        self.cost_ana.setData([], [])
        self.cost_result = None
        self.cost_label.setText("Timing the numerical gradient…")

    def _cost_steps(self, dataset, n, loss, seed):
        """``steps(job, dims) -> iterator of results``: times the centered numerical gradient over the
        first ``d`` entries of W for each ``d`` in ``dims`` (run in a worker; results accumulate)."""
        state = {"rows": [], "model": None}

        def steps(job, dims):
            if state["model"] is None:
                d, _note, X, y = self._image_data(dataset, n)
                state.update(model=L.linear_model_for(X, d.num_classes, loss, seed, scale=1e-4),
                             X=X, y=y, name=d.name)
            model, X, y = state["model"], state["X"], state["y"]
            for k in dims:
                r, ana, P = L.numerical_gradient_cost(model, X, y, dims=(k,), cancel=lambda: job.cancelled)
                state["rows"] += r
                yield (list(state["rows"]), ana, P, state["name"], len(y))
        return steps

    def run_cost(self) -> None:
        dataset, n, loss, seed = self.dataset, self.n_train.value(), self.loss.currentText(), self.seed.value()
        self._reset_cost()
        steps = self._cost_steps(dataset, n, loss, seed)

        def work(job):
            res = None
            for k, res in enumerate(steps(job, COST_DIMS)):
                job.progress((k + 1) / len(COST_DIMS))
                if k < len(COST_DIMS) - 1:
                    job.partial(res)
            return res

        self.cost_runner.start(work)

    def _cost_show(self, res) -> None:
        rows, ana, P, name, n = res
        self.cost_result = res
        nn = np.array([r[0] for r in rows], dtype=float)
        t = np.array([max(r[1], 1e-7) for r in rows])
        self.cost_num.setData(nn, t)
        self.cost_ana.setData([1.0, max(float(COST_DIMS[-1]), nn.max())], [max(ana, 1e-7)] * 2)
        per = t[-1] / nn[-1]
        timings = ", ".join(f"{int(a)} dim{'s' if a != 1 else ''} {b * 1e3:.0f} ms" for a, b in zip(nn, t))
        self.cost_label.setText(
            f"On {name} ({n} images): numerical {timings}; "
            f"the analytic gradient of all {P:,} parameters: {ana * 1e3:.1f} ms. All {P:,} numerically "
            f"≈ {per * P:.0f} s per step.")
        self._drawn("cost")

    def demo(self, app) -> None:
        if not self._started:
            self.run_defaults()
        for r in (self.gd_runner, self.rs_runner, self.cost_runner):
            r.wait(120)
        for _ in range(20):
            app.processEvents()
        self.ng_example.setCurrentIndex(NG_REAL)
        self.ng_runner.wait(60)
        for _ in range(20):
            app.processEvents()
