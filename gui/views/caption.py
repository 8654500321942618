"""A one-line caption whose text changes every frame without re-laying out its view.

A ``QLabel`` in a layout asks for a new layout whenever its text changes; Qt then repaints the
whole view around it, plot included, on every frame of a live run.  Here the label sits in a
holder of fixed height with no layout of its own, so a new text repaints the label only.
"""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class LiveCaption(QWidget):
    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.label = QLabel(text, self)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.refit()

    def refit(self) -> None:
        """Height for one line of the current font (call after a font change)."""
        self.setFixedHeight(self.label.fontMetrics().height() + 6)
        self.label.setGeometry(self.rect())

    def resizeEvent(self, event) -> None:
        self.label.setGeometry(self.rect())
        super().resizeEvent(event)

    def setText(self, text: str) -> None:
        if text != self.label.text():
            self.label.setText(text)

    def text(self) -> str:
        return self.label.text()
