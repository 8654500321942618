"""Loss & regularization panel: softmax or multiclass SVM (margin); none / L1 / L2 / elastic net
with lambda (log slider plus exact entry); the formula of each choice beside it."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QLabel

from engine.config import LOSSES, REGULARIZERS

from ..widgets.log_slider import LogSlider
from .base import Panel, dspin, form

LOSS_FORMULA = {
    "softmax": "<b>Softmax (cross-entropy)</b><br>"
               "L<sub>i</sub> = −log( e<sup>s<sub>y<sub>i</sub></sub></sup> / Σ<sub>j</sub> e<sup>s<sub>j</sub></sup> )",
    "svm": "<b>Multiclass SVM (hinge)</b><br>"
           "L<sub>i</sub> = Σ<sub>j≠y<sub>i</sub></sub> max(0, s<sub>j</sub> − s<sub>y<sub>i</sub></sub> + Δ)",
}
REG_FORMULA = {
    "none": "R(W) = 0",
    "l1": "R(W) = Σ<sub>k</sub>Σ<sub>l</sub> |W<sub>k,l</sub>|",
    "l2": "R(W) = Σ<sub>k</sub>Σ<sub>l</sub> W<sub>k,l</sub><sup>2</sup>",
    "elastic": "R(W) = Σ<sub>k</sub>Σ<sub>l</sub> ( r |W<sub>k,l</sub>| + (1−r) W<sub>k,l</sub><sup>2</sup> )",
}


class LossPanel(Panel):
    sections = ("loss",)

    def __init__(self, window, parent=None):
        super().__init__(window, parent)
        box = QGroupBox("Data loss")
        f = form()
        self.loss = QComboBox()
        self.loss.addItems(LOSSES)
        self.loss.currentTextChanged.connect(lambda t: self.edit("loss.loss", t))
        self.margin = dspin(0.0, 100.0, 0.5)
        self.margin.valueChanged.connect(lambda v: self.edit("loss.margin", v))
        f.addRow("Loss", self.loss)
        f.addRow("Margin Δ", self.margin)
        box.setLayout(f)
        self.outer.addWidget(box)
        box = QGroupBox("Regularization")
        f = form()
        self.reg = QComboBox()
        self.reg.addItems(REGULARIZERS)
        self.reg.currentTextChanged.connect(lambda t: self.edit("loss.reg", t))
        self.strength = LogSlider(1e-6, 10.0, 1e-3, allow_zero=True)
        self.strength.valueEdited.connect(lambda v: self.edit("loss.reg_strength", v, True))
        self.l1_ratio = dspin(0.0, 1.0, 0.1, 2)
        self.l1_ratio.valueChanged.connect(lambda v: self.edit("loss.l1_ratio", v))
        self.reg_bias = QCheckBox("regularize biases too")
        self.reg_bias.toggled.connect(lambda on: self.edit("loss.reg_bias", on))
        f.addRow("Penalty", self.reg)
        f.addRow("Strength λ", self.strength)
        f.addRow("L1 ratio r", self.l1_ratio)
        f.addRow("", self.reg_bias)
        box.setLayout(f)
        self.outer.addWidget(box)
        self.formula = QLabel()
        self.formula.setObjectName("formula")
        self.formula.setWordWrap(True)
        self.outer.addWidget(self.formula)
        self.outer.addStretch(1)

    def _load(self, cfg) -> None:
        lc = cfg.loss
        self.loss.setCurrentText(lc.loss)
        self.margin.setValue(lc.margin)
        self.margin.setEnabled(lc.loss == "svm")
        self.reg.setCurrentText(lc.reg)
        self.strength.setValue(lc.reg_strength)
        self.strength.setEnabled(lc.reg != "none")
        self.l1_ratio.setValue(lc.l1_ratio)
        self.l1_ratio.setEnabled(lc.reg == "elastic")
        self.reg_bias.setChecked(lc.reg_bias)
        total = ("L = (1/N) Σ<sub>i</sub> L<sub>i</sub>" +
                 (" + λ R(W)" if lc.reg != "none" else ""))
        self.formula.setText(f"{LOSS_FORMULA[lc.loss]}<br><br><b>Regularization</b><br>{REG_FORMULA[lc.reg]}"
                             f"<br><br><b>Total</b><br>{total}"
                             + (f"&nbsp;&nbsp;&nbsp;(λ = {lc.reg_strength:g})" if lc.reg != "none" else ""))
