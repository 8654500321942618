"""A caption of a fixed number of lines whose text changes every frame without re-laying out
the window.

A ``QLabel`` in a layout asks for a new layout whenever its text changes (and a word-wrapped
one may change its height as the numbers in it change); Qt then repaints everything around it,
on every frame of a live run.  Here the label sits in a holder of fixed height with no layout of
its own, so a new text repaints the label only.  A line wider than the caption ends in "…"; the
tooltip has all of it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class LiveCaption(QWidget):
    def __init__(self, text: str = "", parent=None, lines: int = 1):
        super().__init__(parent)
        self._text = text
        self._lines = lines
        self.label = QLabel(text, self)
        self.label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.refit()

    def refit(self) -> None:
        """Height for its lines in the current font (call after a font change)."""
        fm = self.label.fontMetrics()
        self.setFixedHeight(fm.height() + (self._lines - 1) * fm.lineSpacing() + 6)
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
        fm, width = self.label.fontMetrics(), max(0, self.width() - 4)
        shown = "\n".join(fm.elidedText(line, Qt.ElideRight, width)
                          for line in self._text.split("\n")[:self._lines])
        if shown != self.label.text():
            self.label.setText(shown)
