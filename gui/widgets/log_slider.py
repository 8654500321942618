"""A logarithmic slider with an exact entry beside it (learning rate, lambda)."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QWidget

TICKS = 1000


class LogSlider(QWidget):
    """Emits ``valueEdited(float)`` when the user moves the slider or commits the entry."""

    valueEdited = Signal(float)

    def __init__(self, lo: float, hi: float, value: float, allow_zero: bool = False, parent=None):
        super().__init__(parent)
        self.lo, self.hi, self.allow_zero = lo, hi, allow_zero
        self._value = value
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, TICKS)
        self.entry = QLineEdit()
        self.entry.setValidator(QDoubleValidator(0.0, 1e9, 12))
        self.entry.setMaximumWidth(110)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.entry)
        self.slider.valueChanged.connect(self._slid)
        self.entry.editingFinished.connect(self._typed)
        self.setValue(value)

    def _to_tick(self, v: float) -> int:
        if v <= 0:
            return 0
        f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return int(round(min(max(f, 0.0), 1.0) * TICKS))

    def _from_tick(self, t: int) -> float:
        if t == 0 and self.allow_zero:
            return 0.0
        v = 10 ** (math.log10(self.lo) + t / TICKS * (math.log10(self.hi) - math.log10(self.lo)))
        return float(f"{v:.3g}")

    def value(self) -> float:
        return self._value

    def setValue(self, v: float) -> None:
        self._value = float(v)
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_tick(v))
        self.slider.blockSignals(False)
        self.entry.setText(f"{v:g}")

    def _slid(self, t: int) -> None:
        v = self._from_tick(t)
        self._value = v
        self.entry.setText(f"{v:g}")
        self.valueEdited.emit(v)

    def _typed(self) -> None:
        try:
            v = float(self.entry.text())
        except ValueError:
            self.entry.setText(f"{self._value:g}")
            return
        if v == self._value:
            return
        self._value = v
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_tick(v))
        self.slider.blockSignals(False)
        self.valueEdited.emit(v)
