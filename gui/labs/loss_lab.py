"""Lab 2 — loss functions (multiclass SVM, softmax) and regularization (L1, L2)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QPushButton, QSpinBox, QTextBrowser, QVBoxLayout)

from engine import labs as L

from .base import Lab
from .common import COLORS, MatrixEditor, big_font, export_button, label, make_plot, row


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
        for sb, lo, hi in ((self.n_examples, 1, 8), (self.n_classes, 2, 6)):
            sb.setRange(lo, hi)
            sb.setFont(big_font())
        self.n_examples.setValue(3)
        self.n_classes.setValue(3)
        self.n_examples.valueChanged.connect(self._resize)
        self.n_classes.valueChanged.connect(self._resize)
        self.table = MatrixEditor(L.LOSS_SCORES.T, row_names=L.LOSS_CLASSES,
                                  col_names=L.LOSS_EXAMPLE_NAMES, digits=6)
        self.table.edited.connect(self._update)
        self.labels_row = QHBoxLayout()
        self.label_boxes: list[QComboBox] = []
        self.loss_kind = QComboBox()
        self.loss_kind.setFont(big_font())
        self.loss_kind.addItems(["Multiclass SVM (hinge) loss", "Softmax (cross-entropy) loss"])
        self.loss_kind.currentIndexChanged.connect(self._update)
        left = QVBoxLayout()
        left.addLayout(row(label("Examples:"), self.n_examples, label("Classes:"), self.n_classes,
                           label("Loss:"), self.loss_kind))
        left.addWidget(label("Scores s = f(xᵢ; W)   (one column per example — edit any cell):", -1))
        left.addWidget(self.table)
        left.addLayout(self.labels_row)
        self.mean_label = label("", 3)
        left.addWidget(self.mean_label)
        self.loss_plot = make_plot("Per-example loss Lᵢ", "example", "Lᵢ")
        self.loss_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=COLORS[1])
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
        for sb in (self.n_examples, self.n_classes):
            sb.blockSignals(True)
            sb.setValue(3)
            sb.blockSignals(False)
        self.table.set_values(L.LOSS_SCORES.T)
        self.table.setVerticalHeaderLabels(list(L.LOSS_CLASSES))
        self.table.setHorizontalHeaderLabels(list(L.LOSS_EXAMPLE_NAMES))
        self._rebuild_labels(list(L.LOSS_LABELS))
        self.loss_kind.setCurrentIndex(0)
        self.reg_x.set_values(L.REG_X[None, :])
        self.reg_w.set_values(L.REG_W1[None, :])
        self.lam.setValue(1.0)
        self._update()
        self._update_reg()

    def class_names(self) -> list[str]:
        C = self.n_classes.value()
        base = list(L.LOSS_CLASSES)
        return [base[k] if k < len(base) else f"class {k}" for k in range(C)]

    def _rebuild_labels(self, labels: list[int]) -> None:
        while self.labels_row.count():
            it = self.labels_row.takeAt(0)
            if it.widget():
                it.widget().deleteLater()
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

    def _resize(self) -> None:
        N, C = self.n_examples.value(), self.n_classes.value()
        old = self.table.values()
        new = np.zeros((C, N))
        r, c = min(C, old.shape[0]), min(N, old.shape[1])
        new[:r, :c] = old[:r, :c]
        labels = [cb.currentIndex() for cb in self.label_boxes][:N]
        labels += [0] * (N - len(labels))
        labels = [min(y, C - 1) for y in labels]
        self.table.set_values(new)
        self.table.setVerticalHeaderLabels(self.class_names())
        names = list(L.LOSS_EXAMPLE_NAMES)
        self.table.setHorizontalHeaderLabels([names[i] if i < len(names) else f"example {i + 1}" for i in range(N)])
        self._rebuild_labels(labels)
        self._update()

    def scores_and_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scores (N, C), labels (N,))`` as edited."""
        return self.table.values().T, np.array([cb.currentIndex() for cb in self.label_boxes], dtype=int)

    # ------------------------------------------------------------------ the tables
    def _update(self) -> None:
        if len(self.label_boxes) != self.table.columnCount():
            return
        S, y = self.scores_and_labels()
        if not np.all(np.isfinite(S)):
            self.mean_label.setText("Fix the red cells (numbers only).")
            return
        names = self.class_names()
        lecture = S.shape == L.LOSS_SCORES.shape and np.allclose(S, L.LOSS_SCORES) and np.array_equal(y, L.LOSS_LABELS)
        ex_names = [self.table.horizontalHeaderItem(i).text() for i in range(S.shape[0])]
        if self.loss_kind.currentIndex() == 0:
            t = L.hinge_table(S, y)
            losses, mean = t.losses, t.mean
            html = ["<h3>Multiclass SVM: Lᵢ = Σ<sub>j≠yᵢ</sub> max(0, s<sub>j</sub> − s<sub>yᵢ</sub> + 1)</h3>"]
            for i in range(len(y)):
                sy = S[i, y[i]]
                html.append(f"<p><b>{ex_names[i]}</b> (correct: {names[y[i]]}, s<sub>y</sub> = {_n(sy)})<br>")
                syp = f"({_n(sy)})" if sy < 0 else _n(sy)
                parts = [f"max(0, {_n(S[i, j])} − {syp} + 1) = {_n(t.terms[i, j])}"
                         for j in range(S.shape[1]) if j != y[i]]
                html.append("<br>".join("&nbsp;&nbsp;" + p for p in parts))
                html.append(f"<br>&nbsp;&nbsp;<b>Lᵢ = {' + '.join(_n(t.terms[i, j]) for j in range(S.shape[1]) if j != y[i])}"
                            f" = {_n(losses[i])}</b></p>")
        else:
            t = L.softmax_table(S, y)
            losses, mean = t.losses, t.mean
            html = ["<h3>Softmax: Lᵢ = −ln( e<sup>s<sub>yᵢ</sub></sup> / Σ<sub>j</sub> e<sup>s<sub>j</sub></sup> )</h3>"]
            for i in range(len(y)):
                html.append(f"<p><b>{ex_names[i]}</b> (correct: {names[y[i]]})</p>")
                html.append("<table border='1' cellpadding='4' cellspacing='0'><tr><th>class</th><th>score s</th>"
                            "<th>exp: eˢ</th><th>normalise: eˢ / Σ</th></tr>")
                for j in range(S.shape[1]):
                    mark = " ←" if j == y[i] else ""
                    html.append(f"<tr><td>{names[j]}{mark}</td><td>{_n(S[i, j])}</td><td>{_n(t.exp[i, j], 4)}</td>"
                                f"<td>{t.probs[i, j]:.2f}</td></tr>")
                html.append(f"</table><p>Σ eˢ = {_n(t.sums[i], 5)};&nbsp; <b>Lᵢ = −ln({t.probs[i, y[i]]:.4g}) = "
                            f"{_n(losses[i], 4)}</b>&nbsp; (log₁₀ would give {_n(t.losses_log10[i], 3)})</p>")
            if lecture:
                html.append("<p style='color:#b35900'>⚠ The slide writes L = −log(0.13) = 0.89 for the cat image: "
                            "that is the base-10 logarithm. The softmax loss uses the natural log: "
                            f"−ln(0.13) = {_n(losses[0], 3)}.</p>")
        if lecture and self.loss_kind.currentIndex() == 0:
            html.append("<p>✓ The slide's values: 2.9, 0, 12.9; mean (2.9 + 0 + 12.9) / 3 ≈ 5.27.</p>")
        self.steps.setHtml("".join(html))
        self.losses, self.mean = losses, mean
        self.mean_label.setText(f"L = (1/N) Σ Lᵢ = ({' + '.join(_n(v) for v in losses)}) / {len(losses)} "
                                f"= <b>{_n(mean, 4)}</b>")
        self.loss_bars.setOpts(x=np.arange(len(losses)), height=losses)
        self.loss_plot.getPlotItem().getAxis("bottom").setTicks([[(i, ex_names[i]) for i in range(len(losses))]])
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
