"""Common plumbing: a panel edits the config only through ``window.edit_config`` (undoable)
and shows a config through ``load`` (with its controls' signals blocked)."""
from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QSpinBox, QVBoxLayout, QWidget


class Panel(QWidget):
    # the configuration's sections the panel shows: it reloads when one of them changes (ConfigModel.bind)
    sections: tuple[str, ...] = ("dataset", "model", "loss", "optim", "seed")

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self._loading = False
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(8, 8, 8, 8)

    def edit(self, path: str, value, mergeable: bool = False) -> None:
        if not self._loading:
            self.window.edit_config(path, value, mergeable)

    def load(self, cfg) -> None:
        self._loading = True
        try:
            self._load(cfg)
        finally:
            self._loading = False

    def _load(self, cfg) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def spin(lo: int, hi: int, step: int = 1, special: str | None = None) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setKeyboardTracking(False)
    if special:
        s.setSpecialValueText(special)
    return s


def dspin(lo: float, hi: float, step: float, decimals: int = 3) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setKeyboardTracking(False)
    return s


def form() -> QFormLayout:
    f = QFormLayout()
    f.setLabelAlignment(f.labelAlignment())
    f.setRowWrapPolicy(QFormLayout.DontWrapRows)
    return f
