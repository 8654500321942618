"""The base of every lab tab: a title, a Reset button, dataset / model hooks, and the
``first_result`` signal (the lab's first meaningful frame is drawn)."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from .common import big_font, label, row


class Lab(QWidget):
    """One lab.  Subclasses build their body into ``self.body`` (a QVBoxLayout), keep
    their plots in ``self.plots`` ({name: PlotWidget}) and implement :meth:`reset`.

    A lab shows its default result when it is first shown (computed in the background where it
    takes time) and calls :meth:`_mark_result` once that first meaningful frame is drawn:
    ``has_result`` becomes True and ``first_result`` is emitted (once).  Tests and
    ``benchmarks/bench_labs.py`` wait on it."""

    title = "Lab"
    first_result = Signal()
    blurb = ""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset = None
        self.model = None
        self.plots: dict = {}
        self.has_result = False
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

    def _mark_result(self) -> None:
        """The first meaningful frame is drawn: set ``has_result`` and emit ``first_result``
        (once; later calls do nothing)."""
        if not self.has_result:
            self.has_result = True
            self.first_result.emit()

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


class BackgroundLab(Lab):
    """A lab whose default result is computed by background jobs on the labs' two shared worker
    threads.  It starts them when first shown (:meth:`run_defaults`); while hidden its running
    jobs stop and they start again when it is shown (:meth:`resume_jobs`), so a lab off screen
    never holds the workers another lab needs.

    Subclasses implement :meth:`run_defaults`, :meth:`background_jobs` (``{name: gui.jobs.JobRunner}``)
    and :meth:`resume_jobs`; a ``set_dataset`` that arrives while the first start is pending
    calls :meth:`_start_defaults` itself (the dataset comes right after the first show)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._started = False            # the defaults have been started once
        self._defaults_pending = False   # first shown; the defaults start with the dataset or next turn
        self._resume: set = set()        # jobs stopped while hidden

    def run_defaults(self) -> None:  # pragma: no cover - overridden
        self._started = True

    def background_jobs(self) -> dict:  # pragma: no cover - overridden
        return {}

    def resume_jobs(self, names: set) -> None:  # pragma: no cover - overridden
        pass

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        if not self._started:
            self._started = True
            # a lab being built is shown before it gets the window's dataset: start on that (at once,
            # before the first paint), or after the current event when no dataset follows
            self._defaults_pending = True
            QTimer.singleShot(0, self, self._start_defaults)
        elif self._resume:
            QTimer.singleShot(0, self, self._resume_jobs)

    def hideEvent(self, event):  # noqa: N802
        super().hideEvent(event)
        for name, r in self.background_jobs().items():
            if r.running:
                self._resume.add(name)
                r.cancel()

    def _resume_jobs(self) -> None:
        todo, self._resume = self._resume, set()
        self.resume_jobs(todo)

    def _start_defaults(self) -> None:
        if self._defaults_pending:
            self._defaults_pending = False
            self.run_defaults()
