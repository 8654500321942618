"""Create the QApplication and the main window (the factory main.py and the tests use)."""
from __future__ import annotations

import os
import sys
import time

# NumPy and the engine before PySide6: PySide6 reads the source of every module imported after
# it (to see whether it uses PySide's __feature__ switches), and NumPy alone brings a hundred
# and fifty modules.
import numpy  # noqa: F401,E402  (gui/__init__ has set the BLAS thread count)
import engine.experiment  # noqa: F401,E402
import engine.trainer  # noqa: F401,E402

from PySide6.QtWidgets import QApplication


SWITCH_INTERVAL = 0.0005


def ensure_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("Backprop Studio")
    app.setOrganizationName("BackpropStudio")
    return app


def create_window(restore: bool = True):
    """The main window, ready to train: spiral set and a small MLP (or the last choices)."""
    from . import style
    from .main_window import MainWindow
    app = ensure_app()
    # The GUI thread shares the GIL with the worker thread (which relays snapshots and computes
    # the decision regions, or trains, with BACKPROP_STUDIO_TRAINING=thread): when it wants the
    # GIL it must not wait Python's default switch interval each time (a frame would stutter).
    sys.setswitchinterval(SWITCH_INTERVAL)
    # pyqtgraph's defaults, the font, palette and style sheet of the current theme and scale
    # (only what changed: re-polishing every widget is slow); the window then restores the
    # remembered theme and scale
    style.apply(app, notify=False)
    return MainWindow(restore=restore)


def run(argv: list[str]) -> int:
    app = ensure_app(argv)
    w = create_window()
    if os.environ.get("BACKPROP_STUDIO_STARTUP_PROBE"):
        _probe_first_paint(app, w)
    w.show()
    return app.exec()


def _probe_first_paint(app, w) -> None:
    """For ``benchmarks/bench_startup.py``: once the window has painted, print the wall-clock
    time and quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Probe(QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Paint and not self.done:
                self.done = True
                QTimer.singleShot(0, lambda: (print(f"painted {time.time():.6f}", flush=True), app.quit()))
            return False

    probe = Probe(w)
    probe.done = False
    w.installEventFilter(probe)
