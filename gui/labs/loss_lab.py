"""Lab 2 — loss functions (multiclass SVM, softmax) and regularization (L1, L2)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QPushButton, QSpinBox, QTextBrowser, QVBoxLayout)

from engine import labs as L
from engine import lecture_tables as T

from .. import style
from .base import Lab
from ..style import SERIES_COLORS
from .common import MatrixEditor, big_font, export_button, label, make_plot, on_restyle, row


def _n(v: float, d: int = 3) -> str:
    """A number as the slide writes it (2 decimals-ish), minus sign kept readable."""
    if not np.isfinite(v):
        return "∞" if v > 0 else ("−∞" if v < 0 else "NaN")
    s = f"{v:.{d}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
    return s.replace("-", "−")


class LossLab(Lab):
    title = "Losses & regularization"
    blurb = "scores → per-example loss → mean; then L = data loss + λ R(W)."

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout()
        self.body.addLayout(grid, 1)

        # ---- score table: rows = classes, columns = examples (as on the slide)
        self.n_examples = QSpinBox()
        self.n_classes = QSpinBox()
        for sb, lo, hi in ((self.n_examples, 1, 8), (self.n_classes, 2, 10)):
            sb.setRange(lo, hi)
            sb.setFont(big_font())
        self.n_examples.setValue(3)
        self.n_classes.setValue(3)
        self.n_examples.valueChanged.connect(self._resize)
        self.n_classes.valueChanged.connect(self._resize)
        self.preset = QComboBox()
        self.preset.setFont(big_font())
        for p in T.LOSS_PRESETS:
            self.preset.addItem(p.name)
        self.preset.addItem("Custom (edited)")
        self.preset.activated.connect(self.apply_preset)
        self._classes = list(T.LOSS_3CLASS.classes)     # class names of the current table
        self._loading = False
        self.table = MatrixEditor(T.LOSS_3CLASS.scores.T, row_names=T.LOSS_3CLASS.classes,
                                  col_names=T.LOSS_3CLASS.example_names, digits=6)
        self.table.edited.connect(self._update)
        self.table.installEventFilter(self)
        self.labels_row = QHBoxLayout()
        self.label_boxes: list[QComboBox] = []
        self.loss_kind = QComboBox()
        self.loss_kind.setFont(big_font())
        self.loss_kind.addItems(["Multiclass SVM (hinge) loss", "Softmax (cross-entropy) loss"])
        self.loss_kind.currentIndexChanged.connect(self._update)
        left = QVBoxLayout()
        left.addLayout(row(label("Table:"), self.preset))
        left.addLayout(row(label("Examples:"), self.n_examples, label("Classes:"), self.n_classes,
                           label("Loss:"), self.loss_kind))
        left.addWidget(label("Scores s = f(xᵢ; W)   (one column per example — edit any cell):", -1))
        left.addWidget(self.table)
        left.addLayout(self.labels_row)
        self.mean_label = label("", 3)
        left.addWidget(self.mean_label)
        self.loss_plot = make_plot("Per-example loss Lᵢ", "example", "Lᵢ")
        self.loss_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=SERIES_COLORS[1])
        self.loss_plot.addItem(self.loss_bars)
        self.plots["losses"] = self.loss_plot
        left.addWidget(self.loss_plot, 1)
        left.addWidget(export_button(self.loss_plot, "per_example_loss"))
        grid.addLayout(left, 0, 0)

        self.steps = QTextBrowser()
        self.steps.setFont(big_font())
        self.steps.setMinimumWidth(520)
        grid.addWidget(self.steps, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        # ---- regularization
        box = QGroupBox("Regularization: R(W), L1 = Σ|W|, L2 = Σ W²")
        box.setFont(big_font(-1))
        bl = QGridLayout(box)
        self.reg_x = MatrixEditor(L.REG_X[None, :], row_names=["x"], col_names=["1", "2", "3", "4"])
        self.reg_w = MatrixEditor(L.REG_W1[None, :], row_names=["W"], col_names=["1", "2", "3", "4"])
        self.lam = QDoubleSpinBox()
        self.lam.setFont(big_font())
        self.lam.setDecimals(4)
        self.lam.setRange(0, 100)
        self.lam.setSingleStep(0.1)
        self.lam.setValue(1.0)
        b1 = QPushButton("W₁ = [1, 0, 0, 0]")
        b2 = QPushButton("W₂ = [0.25, 0.25, 0.25, 0.25]")
        for b in (b1, b2):
            b.setFont(big_font(-1))
        b1.clicked.connect(lambda: self.reg_w.set_values(L.REG_W1[None, :]))
        b2.clicked.connect(lambda: self.reg_w.set_values(L.REG_W2[None, :]))
        bl.addWidget(self.reg_x, 0, 0)
        bl.addWidget(self.reg_w, 1, 0)
        bl.addLayout(row(b1, b2, label("λ:"), self.lam), 2, 0)
        self.reg_label = label("", 1)
        bl.addWidget(self.reg_label, 0, 1, 3, 1)
        self.reg_compare = label(self._compare_text(), -1)
        bl.addWidget(self.reg_compare, 0, 2, 3, 1)
        for ed in (self.reg_x, self.reg_w):
            ed.edited.connect(self._update_reg)
        self.lam.valueChanged.connect(self._update_reg)
        self.body.addWidget(box)
        on_restyle(self._update)       # (the slide's slip in the theme's slip colour)
        self.reset()

    @staticmethod
    def _compare_text() -> str:
        out = ["<b>The lecture's example</b> (x = [1, 1, 1, 1]):"]
        for name, W in (("W₁", L.REG_W1), ("W₂", L.REG_W2)):
            l1, l2 = L.penalties(W)
            out.append(f"{name}: score W·x = {_n(W @ L.REG_X)}, L2 R = {_n(l2)}, L1 R = {_n(l1)}")
        out.append("Same scores, so the same data loss — L2 prefers the spread-out W₂.")
        return "<br>".join(out)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        self.loss_kind.setCurrentIndex(0)
        self.apply_preset(0)
        self.reg_x.set_values(L.REG_X[None, :])
        self.reg_w.set_values(L.REG_W1[None, :])
        self.lam.setValue(1.0)
        self._update_reg()
        self._mark_result()

    def preset_at(self, i: int):
        return T.LOSS_PRESETS[i] if 0 <= i < len(T.LOSS_PRESETS) else None

    def apply_preset(self, i: int) -> None:
        """One of the lecture's tables: its scores, classes and labels (examples named by label)."""
        p = self.preset_at(i)
        if p is None:
            return
        self._loading = True
        try:
            self._classes = list(p.classes)
            N, C = p.scores.shape
            for sb, v in ((self.n_examples, N), (self.n_classes, C)):
                sb.blockSignals(True)
                sb.setValue(v)
                sb.blockSignals(False)
            self.table.set_values(p.scores.T)
            self.table.setVerticalHeaderLabels(self._classes)
            self._rebuild_labels(list(p.labels))
            self._whole_table()
        finally:
            self._loading = False
        self.preset.setCurrentIndex(i)
        self._update()

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self._whole_table()         # (the header's real height is known once shown)

    def eventFilter(self, obj, event):  # noqa: N802
        # a new font or style (Ctrl+= / Ctrl+−, a theme) changes the rows' heights
        if event.type() in (QEvent.FontChange, QEvent.StyleChange) and obj is self.table:
            QTimer.singleShot(0, self, self._whole_table)
        return super().eventFilter(obj, event)

    def _whole_table(self) -> None:
        """Every row of the score table visible (up to 10 classes), no inner scroll bar."""
        t = self.table
        h = (max(t.horizontalHeader().height(), t.horizontalHeader().sizeHint().height())
             + t.verticalHeader().length() + 2 * t.frameWidth() + 2)
        t.setMinimumHeight(h)
        t.setMaximumHeight(h)

    def class_names(self) -> list[str]:
        C = self.n_classes.value()
        base = self._classes
        return [base[k] if k < len(base) else f"class {k}" for k in range(C)]

    def example_names(self) -> list[str]:
        """Each example named by its correct class ("cat image"), as the labels say now."""
        return T.example_names(self.class_names(), [cb.currentIndex() for cb in self.label_boxes])

    def _rebuild_labels(self, labels: list[int]) -> None:
        while self.labels_row.count():
            it = self.labels_row.takeAt(0)
            w = it.widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.label_boxes = []
        self.labels_row.addWidget(label("correct class:", -1, wrap=False))
        names = self.class_names()
        for i, y in enumerate(labels):
            cb = QComboBox()
            cb.setFont(big_font(-1))
            cb.addItems(names)
            cb.setCurrentIndex(min(int(y), len(names) - 1))
            cb.currentIndexChanged.connect(self._update)
            self.label_boxes.append(cb)
            self.labels_row.addWidget(cb)
        self.labels_row.addStretch(1)

    def _resize(self) -> None:
        N, C = self.n_examples.value(), self.n_classes.value()
        old = self.table.values()
        new = np.zeros((C, N))
        r, c = min(C, old.shape[0]), min(N, old.shape[1])
        new[:r, :c] = old[:r, :c]
        labels = [cb.currentIndex() for cb in self.label_boxes][:N]
        labels += [min(len(labels), C - 1)] * (N - len(labels))
        labels = [min(y, C - 1) for y in labels]
        self._loading = True
        try:
            self.table.set_values(new)
            self.table.setVerticalHeaderLabels(self.class_names())
            self._rebuild_labels(labels)
            self._whole_table()
        finally:
            self._loading = False
        self._update()

    def scores_and_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scores (N, C), labels (N,))`` as edited."""
        return self.table.values().T, np.array([cb.currentIndex() for cb in self.label_boxes], dtype=int)

    # ------------------------------------------------------------------ the tables
    def _matching_preset(self, S, y):
        for k, p in enumerate(T.LOSS_PRESETS):
            if (S.shape == p.scores.shape and np.allclose(S, p.scores) and np.array_equal(y, p.labels)
                    and self.class_names() == list(p.classes)):
                return k, p
        return len(T.LOSS_PRESETS), None

    def _update(self) -> None:
        if self._loading or len(self.label_boxes) != self.table.columnCount():
            return
        S, y = self.scores_and_labels()
        ex_names = self.example_names()
        self.table.setHorizontalHeaderLabels(ex_names)
        if not np.all(np.isfinite(S)):
            self.mean_label.setText("Fix the red cells (numbers only).")
            return
        names = self.class_names()
        k, preset = self._matching_preset(S, y)
        self.preset.setCurrentIndex(k)
        lecture3 = preset is T.LOSS_3CLASS
        N = len(y)
        if self.loss_kind.currentIndex() == 0:
            t = L.hinge_table(S, y)
            losses, mean = t.losses, t.mean
            html = ["<h3>Multiclass SVM: Lᵢ = Σ<sub>j≠yᵢ</sub> max(0, s<sub>j</sub> − s<sub>yᵢ</sub> + 1)</h3>"]
            for i in range(N):
                sy = S[i, y[i]]
                html.append(f"<p><b>{i + 1}. {ex_names[i]}</b> (correct class {names[y[i]]}, "
                            f"s<sub>y</sub> = {_n(sy, 4)})<br>")
                syp = f"({_n(sy, 4)})" if sy < 0 else _n(sy, 4)
                parts = [f"max(0, {_n(S[i, j], 4)} − {syp} + 1) = {_n(t.terms[i, j], 4)}"
                         for j in range(S.shape[1]) if j != y[i]]
                html.append("<br>".join("&nbsp;&nbsp;" + p for p in parts))
                html.append(f"<br>&nbsp;&nbsp;<b>L<sub>{i + 1}</sub> = "
                            f"{' + '.join(_n(t.terms[i, j], 4) for j in range(S.shape[1]) if j != y[i])}"
                            f" = {_n(losses[i], 4)}</b></p>")
        else:
            t = L.softmax_table(S, y)
            losses, mean = t.losses, t.mean
            html = ["<h3>Softmax: Lᵢ = −ln( e<sup>s<sub>yᵢ</sub></sup> / Σ<sub>j</sub> e<sup>s<sub>j</sub></sup> )</h3>"]
            for i in range(N):
                html.append(f"<p><b>{i + 1}. {ex_names[i]}</b> (correct class {names[y[i]]})</p>")
                html.append("<table border='1' cellpadding='4' cellspacing='0'><tr><th>class</th><th>score s</th>"
                            "<th>exp: eˢ</th><th>normalise: eˢ / Σ</th></tr>")
                for j in range(S.shape[1]):
                    mark = " ←" if j == y[i] else ""
                    html.append(f"<tr><td>{names[j]}{mark}</td><td>{_n(S[i, j], 4)}</td><td>{_n(t.exp[i, j], 4)}</td>"
                                f"<td>{t.probs[i, j]:.2f}</td></tr>")
                html.append(f"</table><p>Σ eˢ = {_n(t.sums[i], 5)};&nbsp; <b>L<sub>{i + 1}</sub> = "
                            f"−ln({t.probs[i, y[i]]:.4g}) = {_n(losses[i], 4)}</b>&nbsp; "
                            f"(log₁₀ would give {_n(t.losses_log10[i], 3)})</p>")
            if lecture3:
                html.append(f"<p style='color:{style.color('slip_fg')}'>⚠ The slide writes L = −log(0.13) = 0.89 for the cat image: "
                            "that is the base-10 logarithm. The softmax loss uses the natural log: "
                            f"−ln(0.13) = {_n(losses[0], 3)}.</p>")
        terms = " + ".join(_n(v, 4) for v in losses)
        html.append(f"<h3>The loss over the {N} examples: the mean</h3><p><b>L = (1/N) Σ Lᵢ = ({terms}) / {N} "
                    f"= {_n(mean, 4)}</b></p>")
        if preset is not None and self.loss_kind.currentIndex() == 0 and lecture3:
            html.append("<p>✓ The slide's values: 2.9, 0, 12.9; mean (2.9 + 0 + 12.9) / 3 ≈ 5.27.</p>")
        elif preset is T.LOSS_CIFAR10:
            html.append(f"<p>{preset.note}</p>")
        self.steps.setHtml("".join(html))
        self.losses, self.mean = losses, mean
        self.mean_label.setText(f"L = (1/N) Σ Lᵢ = ({terms}) / {N} = <b>{_n(mean, 4)}</b>")
        self.loss_bars.setOpts(x=np.arange(N), height=losses)
        self.loss_plot.getPlotItem().getAxis("bottom").setTicks([[(i, ex_names[i]) for i in range(N)]])
        self.loss_plot.getPlotItem().enableAutoRange()

    def _update_reg(self) -> None:
        x = self.reg_x.values().ravel()
        W = self.reg_w.values().ravel()
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(W))):
            self.reg_label.setText("Fix the red cells.")
            return
        l1, l2 = L.penalties(W)
        lam = self.lam.value()
        self.reg_values = (float(W @ x), l1, l2)
        self.reg_label.setText(
            f"score W·x = <b>{_n(W @ x, 4)}</b><br>L1: R(W) = Σ|W| = <b>{_n(l1, 4)}</b><br>"
            f"L2: R(W) = Σ W² = <b>{_n(l2, 4)}</b><br>λ·R (L2) = {_n(lam * l2, 4)}")
