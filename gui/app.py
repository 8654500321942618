"""Create the QApplication and the main window (the factory main.py and the tests use)."""
from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def create_window() -> QMainWindow:
    w = QMainWindow()
    w.setWindowTitle("Backprop Studio")
    w.setCentralWidget(QLabel("Backprop Studio — the training window arrives with the window issue."))
    w.resize(1200, 800)
    return w


def run(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    w = create_window()
    w.show()
    return app.exec()
