"""Lab 1 — the score function f(x) = W x + b (the lecture's 2x2 cat/dog/bird image)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QSpinBox, QVBoxLayout

from engine import labs as L

from ..jobs import JobRunner
from .. import style
from .base import Lab
from ..style import SERIES_COLORS
from .common import (MatrixEditor, big_font, export_button, fmt, label, make_plot,
                     on_restyle, px, row, slip_style)

IMG_PX, REAL_PX = 200, 300      # the 2×2 image's and the real image's side at scale 1


class ScoreLab(Lab):
    title = "Score function"
    blurb = "f(x) = W x + b: stretch the image into a column, multiply by W, add b."

    def __init__(self, parent=None):
        super().__init__(parent)
        top = QGridLayout()
        self.body.addLayout(top)

        self.preset = QComboBox()
        self.preset.setFont(big_font())
        for p in L.SCORE_PRESETS:
            self.preset.addItem(f"{p.name}: W, b from the lecture")
        self.preset.addItem("Custom (edited)")
        self.preset.activated.connect(self._apply_preset)
        top.addLayout(row(label("Preset:"), self.preset), 0, 0, 1, 4)

        # the image: 2x2 pixels, editable, shown in grayscale and as a column
        self.pixels = MatrixEditor(L.SCORE_X.reshape(2, 2), digits=6)
        self.img_plot = pg.PlotWidget(background=style.BG)
        self.img_plot.hideAxis("left")
        self.img_plot.hideAxis("bottom")
        self.img_plot.setMouseEnabled(False, False)
        self.img_plot.getViewBox().invertY(True)
        self.img_item = pg.ImageItem(axisOrder="row-major")
        self.img_plot.addItem(self.img_item)
        self.img_texts = [pg.TextItem(color="r", anchor=(0.5, 0.5)) for _ in range(4)]
        for k, t in enumerate(self.img_texts):
            t.setFont(big_font(2, True))
            t.setPos(k % 2 + 0.5, k // 2 + 0.5)
            self.img_plot.addItem(t)
        self.column = label("", 2)
        left = QVBoxLayout()
        left.addWidget(label("Input image x (2×2, edit the pixels):", -1))
        left.addWidget(self.pixels)
        left.addWidget(self.img_plot)
        left.addStretch(1)
        top.addLayout(left, 1, 0)
        colbox = QVBoxLayout()
        colbox.addWidget(label("stretched\ninto a column:", -1))
        colbox.addWidget(self.column)
        colbox.addStretch(1)
        top.addLayout(colbox, 1, 1)

        p0 = L.SCORE_PRESETS[0]
        self.W = MatrixEditor(p0.W, row_names=L.SCORE_CLASSES, col_names=["x₁", "x₂", "x₃", "x₄"])
        self.b = MatrixEditor(p0.b.reshape(3, 1), row_names=L.SCORE_CLASSES, col_names=["b"])
        wb = QVBoxLayout()
        wb.addWidget(label("W (3×4: one row per class)   and   b", -1))
        wb.addLayout(row(self.W, self.b, stretch=False))
        wb.addStretch(1)
        top.addLayout(wb, 1, 2)

        self.scores_label = label("", 3)
        self.slip = label("", 0)
        sc = QVBoxLayout()
        sc.addWidget(label("Scores  W x + b:", -1))
        sc.addWidget(self.scores_label)
        sc.addWidget(self.slip)
        sc.addStretch(1)
        top.addLayout(sc, 1, 3)
        top.setColumnStretch(2, 2)
        top.setColumnStretch(3, 2)

        # a real image (CIFAR-10 by default), scored by a 10×3072 W — computed in the background
        self.real_box = QGroupBox("A real image: f(x) = W x + b")
        box = self.real_box
        box.setFont(big_font(-1))
        bl = QGridLayout(box)
        self.index = QSpinBox()
        self.index.setFont(big_font())
        self.index.setRange(0, 0)
        self.index.valueChanged.connect(self._show_real)
        self.index.valueChanged.connect(lambda _v: setattr(self, "_index_touched", True))
        self._index_touched = False
        self.shape_label = label("", 2, True)
        self.real_info = label("", -1)
        self.image_note = label("", -1)
        bl.addLayout(row(label("Training image #"), self.index), 0, 0)
        bl.addWidget(self.shape_label, 0, 1)
        self.real_img = pg.PlotWidget(background=style.BG)
        self.real_img.hideAxis("left")
        self.real_img.hideAxis("bottom")
        self.real_img.setMouseEnabled(False, False)
        self.real_img.getViewBox().invertY(True)
        self.real_img.getViewBox().setAspectLocked(True)
        self.real_item = pg.ImageItem(axisOrder="row-major")
        self.real_img.addItem(self.real_item)
        bl.addWidget(self.real_img, 1, 0, 2, 1)
        self.real_scores = make_plot("The class scores W x + b", "", "score")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=SERIES_COLORS[0])
        self.real_scores.addItem(self.bars)
        self.plots["real_scores"] = self.real_scores
        bl.addWidget(self.real_scores, 1, 1)
        self.score_list = label("", -1)
        bl.addWidget(self.score_list, 1, 2)
        bl.addWidget(self.real_info, 2, 1, 1, 2)
        bl.addWidget(self.image_note, 3, 0, 1, 3)
        bl.addWidget(export_button(self.real_scores, "real_image_scores"), 4, 1)
        bl.setColumnStretch(1, 1)
        self.body.addWidget(box, 1)
        self.runner = JobRunner(self)
        self.runners = [self.runner]
        self.runner.finished.connect(self._scorer_ready)
        self.runner.failed.connect(lambda m: self.real_info.setText(
            "" if m == "cancelled" else f"Could not prepare the image part: {m}"))
        self._pending = None
        self._first_right = None    # the first training image the W scores right
        self.scorer = None          # (image set, W (C, D), b, transform, how) once computed
        self.real = None            # the image shown: dict(x=, scores=, label=, ...)

        for ed in (self.pixels, self.W, self.b):
            ed.edited.connect(self._on_edit)
        self._applying = False
        self.restyle()
        on_restyle(self.restyle)
        self.reset()

    def restyle(self) -> None:
        """The theme's colours (the image plots' background, the slide-slip box) and sizes at the
        current scale (the image plots and the narrow tables grow with the text around them)."""
        for plot, side in ((self.img_plot, IMG_PX), (self.real_img, REAL_PX)):
            plot.setBackground(style.BG)
            plot.setFixedSize(int(round(px(side))), int(round(px(side))))
        self.pixels.setMaximumWidth(int(round(px(220))))
        self.b.setMaximumWidth(int(round(px(200))))
        self.slip.setStyleSheet(slip_style())
        self.image_note.setStyleSheet(f"color: {style.color('slip_fg')};")

    # ------------------------------------------------------------------ the 2x2 example
    def reset(self) -> None:
        self.preset.setCurrentIndex(0)
        self._apply_preset(0)
        self.index.setValue(self._first_right or 0)
        self._index_touched = False
        if self.scorer is None and not self.runner.busy:
            # the default result, computed in the background — after the current event, so a lab
            # being built gets its dataset first (one job, not a cancelled one still loading)
            QTimer.singleShot(0, self, self._prepare_real)

    def _apply_preset(self, i: int) -> None:
        if i >= len(L.SCORE_PRESETS):
            return
        p = L.SCORE_PRESETS[i]
        self._applying = True
        try:
            self.pixels.set_values(L.SCORE_X.reshape(2, 2))
            self.W.set_values(p.W)
            self.b.set_values(p.b.reshape(3, 1))
        finally:
            self._applying = False
        self.preset.setCurrentIndex(i)
        self._update()

    def _on_edit(self) -> None:
        if self._applying:
            return
        # still equal to a preset? then keep it selected (so its note shows)
        x, W, b = self.values()
        match = len(L.SCORE_PRESETS)
        for k, p in enumerate(L.SCORE_PRESETS):
            if np.array_equal(x, L.SCORE_X) and np.array_equal(W, p.W) and np.array_equal(b, p.b):
                match = k
        self.preset.setCurrentIndex(match)
        self._update()

    def values(self):
        return self.pixels.values().ravel(), self.W.values(), self.b.values().ravel()

    def scores(self) -> np.ndarray:
        x, W, b = self.values()
        return L.score_function(W, x, b)

    def _update(self) -> None:
        x, W, b = self.values()
        img = np.nan_to_num(x.reshape(2, 2)).astype(np.float32)
        self.img_item.setImage(img, levels=(0, 255))
        self.img_plot.getViewBox().setRange(xRange=(0, 2), yRange=(0, 2), padding=0)
        for t, v in zip(self.img_texts, x):
            t.setText(fmt(v, 6))
        self.column.setText("<br>".join(f"[{fmt(v, 6)}]" for v in x))
        s = L.score_function(W, x, b)
        lines = []
        best = int(np.nanargmax(s)) if np.any(np.isfinite(s)) else -1
        for k, (c, v) in enumerate(zip(L.SCORE_CLASSES, s)):
            txt = f"{c}: <b>{v:.6g}</b>" if np.isfinite(v) else f"{c}: (fix the red cells)"
            if k == best:
                txt += "  ← highest"
            lines.append(txt)
        self.scores_label.setText("<br>".join(lines))
        i = self.preset.currentIndex()
        notes = []
        if i < len(L.SCORE_PRESETS):
            p = L.SCORE_PRESETS[i]
            notes.append("Slide prints: " + ", ".join(f"{v:g}" for v in p.printed))
            if p.note:
                notes.append("⚠ " + p.note)
            else:
                notes.append("✓ matches the slide.")
        self.slip.setText("<br>".join(notes))
        self.slip.setVisible(bool(notes))

    # ------------------------------------------------------------------ a real image
    def set_dataset(self, dataset) -> None:
        super().set_dataset(dataset)
        self._prepare_real()

    def set_model(self, network) -> None:
        super().set_model(network)
        self._prepare_real()

    def _prepare_real(self) -> None:
        """In the background: the image set (the window's if it is one, else the bundled
        CIFAR-10) and the W, b to score it with — the current model's when it is a linear
        classifier of that image set, else one made from the class means."""
        dataset, model = self.dataset, self.model
        key = (id(dataset), id(model) if getattr(model, "is_linear", False) else None)
        if (self.scorer is not None and self.scorer[5] == key) or (self.runner.busy and self._pending == key):
            return
        self._pending = key
        self.real_info.setText("Preparing the image part…")

        def work(job):
            from engine import lecture_tables as T
            from .image_data import image_set_for
            d, note = image_set_for(dataset)
            if job.cancelled:
                from engine.labs import Cancelled
                raise Cancelled("cancelled")
            D, C = d.num_features, d.num_classes
            if (model is not None and d is dataset and getattr(model, "is_linear", False)
                    and model.input_dim == D and model.num_classes == C):
                W = np.asarray(model.params["W1"], dtype=np.float64).T      # the lecture's (C, D)
                b = np.asarray(model.params["b1"], dtype=np.float64).ravel()
                return dict(d=d, note=note, W=W, b=b, mu=None, scale=1.0, key=key,
                            how="W, b: the current model's (a linear classifier of this image set).")
            raw = d.preprocess == "none" and float(np.max(d.X_train[:200])) > 16.5     # 0–255 pixels
            scale = 255.0 if raw else 1.0
            W, b, mu = T.class_mean_classifier(d.X_train, d.y_train, C, scale=scale)
            why = ("" if model is None or getattr(model, "is_linear", False) and d is dataset
                   else " (the window's model does not take these images)")
            xs = "the pixels / 255" if raw else "the image's numbers"
            how = (f"W, b{why}: each row of W is a class's mean training image minus the mean image, "
                   f"b = −½‖row‖², x = {xs} minus the mean image — so the highest score is the "
                   "nearest class mean. Train a linear classifier on an image set to score with its W.")
            # open on an image this W gets right (the point: the correct class scores highest)
            n = min(len(d.y_train), 200)
            _, s = T.class_mean_scores(W, b, mu, d.X_train[:n], scale=scale)
            right = np.flatnonzero(s.argmax(axis=1) == d.y_train[:n])
            return dict(d=d, note=note, W=W, b=b, mu=mu, scale=scale, key=key, how=how,
                        first_right=int(right[0]) if len(right) else None)

        self.runner.start(work)

    def _scorer_ready(self, r: dict) -> None:
        d = r["d"]
        self.scorer = (d, r["W"], r["b"], (r["mu"], r["scale"]), r["how"], r["key"])
        self.image_note.setText(r["note"])
        self.image_note.setVisible(bool(r["note"]))
        n = len(d.y_train)
        self.index.blockSignals(True)
        self.index.setRange(0, max(0, n - 1))
        self._first_right = r.get("first_right")
        if not self._index_touched and r.get("first_right") is not None:
            self.index.setValue(r["first_right"])
        self.index.blockSignals(False)
        self._show_real()
        self._mark_result()

    def _show_real(self) -> None:
        if self.scorer is None:
            return
        d, W, b, (mu, scale), how, _ = self.scorer
        if len(d.y_train) == 0:
            self.real_info.setText("The image set has no training images.")
            return
        i = min(self.index.value(), len(d.y_train) - 1)
        x = np.asarray(d.X_train[i], dtype=np.float64)
        xp = x if mu is None else (x - mu) / scale
        s = W @ xp + b
        yi = int(d.y_train[i])
        names = list(d.class_names)
        C, D = W.shape
        shape = "×".join(str(v) for v in d.input_shape)
        self.real_box.setTitle(f"A real image of {d.name}: f(x) = W x + b")
        self.shape_label.setText(f"{shape} → x of {D} numbers, W of {C}×{D}, b of {C} → {C} scores")
        raw = d.raw_train[i] if d.raw_train is not None else x.reshape(d.input_shape)
        img = np.asarray(raw, dtype=np.float32)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        lo, hi = (0.0, 255.0) if np.asarray(raw).dtype == np.uint8 else (float(img.min()), float(img.max()))
        self.real_item.setImage(np.ascontiguousarray(img), levels=(lo, hi if hi > lo else lo + 1))
        self.real_img.getViewBox().setRange(xRange=(0, img.shape[1]), yRange=(0, img.shape[0]), padding=0)
        k = int(np.argmax(s))
        brushes = [pg.mkBrush(SERIES_COLORS[2] if j == yi else (SERIES_COLORS[1] if j == k else SERIES_COLORS[0])) for j in range(C)]
        self.bars.setOpts(x=np.arange(C), height=s, brushes=brushes)
        ax = self.real_scores.getPlotItem().getAxis("bottom")
        ax.setTicks([[(j, names[j][:5] if j < len(names) else str(j)) for j in range(C)]])
        self.real_scores.getPlotItem().enableAutoRange()
        order = np.argsort(-s)
        lines = []
        for j in order:
            mark = " ← correct" if j == yi else ""
            txt = f"{names[j]}: {s[j]:.2f}{mark}"
            lines.append(f"<b>{txt}</b>" if j == k else txt)
        self.score_list.setText("<br>".join(lines))
        verdict = "right" if k == yi else "wrong"
        self.real_info.setText(f"label: <b>{names[yi]}</b>; highest score: <b>{names[k]}</b> ({verdict}; "
                               f"green bar: the correct class, red: the highest if it is another).<br>{how}")
        self.real = dict(index=i, x=xp, scores=s, label=yi, predicted=k, W=W, b=b, names=names)
