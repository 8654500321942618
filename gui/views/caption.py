"""A one-line caption whose text changes every frame without re-laying out its view.

A ``QLabel`` in a layout asks for a new layout whenever its text changes; Qt then repaints the
whole view around it, plot included, on every frame of a live run.  Here the label sits in a
holder of fixed height with no layout of its own, so a new text repaints the label only.  Text
wider than the caption ends in "…"; the tooltip has all of it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class LiveCaption(QWidget):
    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._text = text
        self.label = QLabel(text, self)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.refit()

    def refit(self) -> None:
        """Height for one line of the current font (call after a font change)."""
        self.setFixedHeight(self.label.fontMetrics().height() + 6)
        self._show()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.FontChange:    # projector scaling (Ctrl+= / Ctrl+-)
            self.refit()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        self._show()
        super().resizeEvent(event)

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.setToolTip(text)
            self._show()

    def text(self) -> str:
        return self._text

    def _show(self) -> None:
        self.label.setGeometry(self.rect())
        shown = self.label.fontMetrics().elidedText(self._text, Qt.ElideRight,
                                                    max(0, self.width() - 4))
        if shown != self.label.text():
            self.label.setText(shown)
