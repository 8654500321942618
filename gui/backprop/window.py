"""The backprop view in its own window (File > Open walkthrough, Export, Close)."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from .view import BackpropView, create_open_walkthrough_action


class BackpropWindow(QMainWindow):
    """A top-level window around a :class:`BackpropView` (``.view``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Backprop Studio — computational graph")
        self.view = BackpropView(self)
        self.setCentralWidget(self.view)
        menu = self.menuBar().addMenu("&File")
        self.open_action = create_open_walkthrough_action(self.view, self)
        self.open_action.setShortcut(QKeySequence.Open)
        menu.addAction(self.open_action)
        export = QAction("&Export frame…", self)
        export.triggered.connect(self.view.export_dialog)
        menu.addAction(export)
        menu.addSeparator()
        close = QAction("&Close", self)
        close.setShortcut(QKeySequence.Close)
        close.triggered.connect(self.close)
        menu.addAction(close)
        self.resize(1400, 860)

    def open_walkthrough(self, path) -> bool:
        return self.view.open_walkthrough(path)


def show_backprop_window(parent=None) -> BackpropWindow:
    w = BackpropWindow(parent)
    w.show()
    return w
