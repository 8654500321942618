"""The base of every lab tab: a title, a Reset button, dataset / model hooks."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from .common import big_font, label, row


class Lab(QWidget):
    """One lab.  Subclasses build their body into ``self.body`` (a QVBoxLayout), keep
    their plots in ``self.plots`` ({name: PlotWidget}) and implement :meth:`reset`."""

    title = "Lab"
    blurb = ""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset = None
        self.model = None
        self.plots: dict = {}
        outer = QVBoxLayout(self)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setFont(big_font(-1))
        self.reset_button.setToolTip("Put this lab back to its starting state")
        self.reset_button.clicked.connect(self.reset)
        self.reset_button.setFixedWidth(140)
        head = label(f"<b>{self.title}</b> — {self.blurb}", 1)
        outer.addLayout(row(head, self.reset_button, stretch=False))
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)

    # hooks ------------------------------------------------------------------
    def reset(self) -> None:  # pragma: no cover - overridden
        pass

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset

    def set_model(self, network) -> None:
        self.model = network

    def shutdown(self) -> None:
        """Cancel and wait for background jobs (called when the window closes)."""
        for r in getattr(self, "runners", []):
            r.shutdown()
