"""Lab 1 — the score function f(x) = W x + b (the lecture's 2x2 cat/dog/bird image)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QSpinBox, QVBoxLayout

from engine import labs as L

from .base import Lab
from .common import (COLORS, MatrixEditor, big_font, export_button, fmt, label, make_plot, row)


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
        self.pixels.setMaximumWidth(220)
        self.img_plot = pg.PlotWidget(background="w")
        self.img_plot.setFixedSize(200, 200)
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
        self.b.setMaximumWidth(200)
        wb = QVBoxLayout()
        wb.addWidget(label("W (3×4: one row per class)   and   b", -1))
        wb.addLayout(row(self.W, self.b, stretch=False))
        wb.addStretch(1)
        top.addLayout(wb, 1, 2)

        self.scores_label = label("", 3)
        self.slip = label("", 0)
        self.slip.setStyleSheet("color: #b35900; background: #fff3e0; padding: 6px;")
        sc = QVBoxLayout()
        sc.addWidget(label("Scores  W x + b:", -1))
        sc.addWidget(self.scores_label)
        sc.addWidget(self.slip)
        sc.addStretch(1)
        top.addLayout(sc, 1, 3)
        top.setColumnStretch(2, 2)
        top.setColumnStretch(3, 2)

        # a real image of the loaded dataset, scored by the current linear model
        box = QGroupBox("A real image of the loaded dataset, scored with the current model's W")
        box.setFont(big_font(-1))
        bl = QGridLayout(box)
        self.index = QSpinBox()
        self.index.setFont(big_font())
        self.index.setRange(0, 0)
        self.index.valueChanged.connect(self._update_real)
        self.real_info = label("", -1)
        bl.addLayout(row(label("Training image #"), self.index), 0, 0)
        bl.addWidget(self.real_info, 0, 1)
        self.real_img = pg.PlotWidget(background="w")
        self.real_img.setFixedSize(220, 220)
        self.real_img.hideAxis("left")
        self.real_img.hideAxis("bottom")
        self.real_img.getViewBox().invertY(True)
        self.real_img.getViewBox().setAspectLocked(True)
        self.real_item = pg.ImageItem(axisOrder="row-major")
        self.real_img.addItem(self.real_item)
        bl.addWidget(self.real_img, 1, 0)
        self.real_scores = make_plot("Class scores", "class", "score")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=COLORS[0])
        self.real_scores.addItem(self.bars)
        self.plots["real_scores"] = self.real_scores
        bl.addWidget(self.real_scores, 1, 1)
        bl.addWidget(export_button(self.real_scores, "real_image_scores"), 2, 1)
        bl.setColumnStretch(1, 1)
        self.body.addWidget(box, 1)

        for ed in (self.pixels, self.W, self.b):
            ed.edited.connect(self._on_edit)
        self._applying = False
        self.reset()

    # ------------------------------------------------------------------ the 2x2 example
    def reset(self) -> None:
        self.preset.setCurrentIndex(0)
        self._apply_preset(0)
        self.index.setValue(0)
        self._update_real()

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
        n = 0 if dataset is None else len(dataset.y_train)
        self.index.setRange(0, max(0, n - 1))
        self._update_real()

    def set_model(self, network) -> None:
        super().set_model(network)
        self._update_real()

    def _update_real(self) -> None:
        d, m = self.dataset, self.model
        if d is None or len(d.y_train) == 0:
            self.real_info.setText("No dataset loaded.")
            self.real_item.clear()
            self.bars.setOpts(x=[], height=[])
            return
        i = min(self.index.value(), len(d.y_train) - 1)
        x = d.X_train[i]
        yi = int(d.y_train[i])
        names = list(d.class_names)
        info = f"label: <b>{names[yi]}</b>"
        if len(d.input_shape) == 3:
            raw = d.raw_train[i] if d.raw_train is not None else x.reshape(d.input_shape)
            img = np.asarray(raw, dtype=np.float32)
            if img.shape[-1] == 1:
                img = img[..., 0]
            lo, hi = float(img.min()), float(img.max())
            self.real_item.setImage(np.ascontiguousarray(img), levels=(lo, hi if hi > lo else lo + 1))
            self.real_img.getViewBox().autoRange(padding=0)
            info += f"; {d.input_shape[0]}×{d.input_shape[1]}×{d.input_shape[2]} → a column of {x.size} numbers"
        else:
            self.real_item.clear()
            info += f"; point x = ({', '.join(fmt(float(v), 3) for v in x)})"
        if m is None:
            info += ". <i>No model yet: train or create one to see its scores.</i>"
            self.bars.setOpts(x=[], height=[])
        elif not m.is_linear:
            info += (f". <i>The current model is not linear ({m.describe()}); this lab scores with a "
                     "single W — choose a linear classifier (no hidden layers).</i>")
            self.bars.setOpts(x=[], height=[])
        elif m.input_dim != x.size:
            info += f". <i>The model takes {m.input_dim} inputs, this image has {x.size}.</i>"
            self.bars.setOpts(x=[], height=[])
        else:
            s = m.scores(x[None, :].astype(m.dtype))[0].astype(np.float64)
            k = int(np.argmax(s))
            info += (f"; predicted: <b>{names[k] if k < len(names) else k}</b> (score {s[k]:.4g}); "
                     "green bar: the correct class")
            brushes = [pg.mkBrush(COLORS[2] if j == yi else COLORS[0]) for j in range(len(s))]
            self.bars.setOpts(x=np.arange(len(s)), height=s, brushes=brushes)
            ax = self.real_scores.getPlotItem().getAxis("bottom")
            ax.setTicks([[(j, names[j] if j < len(names) else str(j)) for j in range(len(s))]])
            self.real_scores.getPlotItem().enableAutoRange()
        self.real_info.setText(info)
