"""The GUI's one background-job runner: run a callable off the GUI thread, deliver its progress,
partial results and its result or error on the GUI thread, cancel or supersede the previous job.

Used by the labs (each part of a lab has a :class:`JobRunner`; they share a small pool so the
labs never take every core) and by the window's dataset loader (on Qt's global pool, so a lab's
computation never delays a dataset). Training has its own worker (``gui.worker``): it is a
long-lived loop with its own protocol, not a job.
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from engine.labs import Cancelled


class _JobSignals(QObject):
    progress = Signal(int, float, str)     # run id, fraction, message
    partial = Signal(int, object)          # run id, payload
    finished = Signal(int, object)         # run id, result
    failed = Signal(int, str)              # run id, message (also "cancelled")


def describe_error(exc: BaseException) -> str:
    """The default failure message: ``"TypeName: message"`` (the traceback goes to stderr)."""
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    return f"{type(exc).__name__}: {exc}"


class Job:
    """One background computation ``fn(job) -> result``.  Inside ``fn``:
    ``job.progress(fraction, message)``, ``job.partial(payload)`` (throttled by the caller),
    ``job.cancelled``.  Its signals arrive on the GUI thread (queued)."""

    def __init__(self, run_id: int, fn: Callable[["Job"], Any], signals: _JobSignals,
                 describe: Callable[[BaseException], str]):
        self.run_id = run_id
        self.fn = fn
        self.signals = signals
        self.describe = describe
        self._cancel = threading.Event()
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def _emit(self, sig, *args) -> None:
        try:
            sig.emit(*args)
        except RuntimeError:  # the receiving objects are gone (application closing)
            pass

    def progress(self, fraction: float, message: str = "") -> None:
        self._emit(self.signals.progress, self.run_id, float(fraction), message)

    def partial(self, payload) -> None:
        self._emit(self.signals.partial, self.run_id, payload)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except Exception as exc:  # noqa: BLE001 - every failure is delivered as a message
            msg = "cancelled" if isinstance(exc, Cancelled) or self.cancelled else self.describe(exc)
            self._emit(self.signals.failed, self.run_id, msg)
        else:
            self._emit(self.signals.finished, self.run_id, result)
        finally:
            self.done.set()


class _Runnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job.run()


class JobRunner(QObject):
    """Runs at most one job at a time for its owner; starting a new job cancels the previous
    one, whose results are then ignored (run id).  ``progress``, ``partial``, ``finished`` and
    ``failed`` (the message; ``"cancelled"`` for a cancelled job) are emitted on the GUI thread.

    ``pool``: the QThreadPool to run on (default: the labs' shared pool of two threads);
    ``describe(exception) -> message`` for a failure (default :func:`describe_error`)."""
    progress = Signal(float, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    _pool: QThreadPool | None = None

    @classmethod
    def pool(cls) -> QThreadPool:
        """The labs' shared pool (two threads: a lab never takes every core)."""
        if cls._pool is None:
            # owned by the application so it outlives every lab and is destroyed by Qt
            cls._pool = QThreadPool(QCoreApplication.instance())
            cls._pool.setMaxThreadCount(2)
        return cls._pool

    def __init__(self, parent=None, pool: QThreadPool | None = None,
                 describe: Callable[[BaseException], str] = describe_error):
        super().__init__(parent)
        self._own_pool = pool
        self._describe = describe
        self._run_id = 0
        self._job: Job | None = None
        self._pending = False     # the current job's outcome is not delivered yet
        self._signals = _JobSignals()
        self._signals.progress.connect(self._on_progress)
        self._signals.partial.connect(self._on_partial)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        """A job was started and its result or error has not been delivered yet."""
        return self._pending

    @property
    def running(self) -> bool:
        """The current job is still computing (its outcome may still be on its way)."""
        return self._job is not None and not self._job.done.is_set()

    def start(self, fn: Callable[[Job], Any], now: bool = False) -> Job:
        """Run ``fn(job)`` in the pool (cancelling the previous job), or with ``now`` at once on
        this thread (a job known to take a moment: its outcome is delivered before this returns)."""
        self.cancel()
        self._run_id += 1
        self._job = Job(self._run_id, fn, self._signals, self._describe)
        self._pending = True
        if now:
            self._job.run()
        else:
            (self._own_pool or self.pool()).start(_Runnable(self._job))
        return self._job

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the current job has finished computing (its outcome is delivered later,
        by the event loop)."""
        return self._job is None or self._job.done.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.cancel()
        self.wait(timeout)

    def _current(self, run_id: int) -> bool:
        return run_id == self._run_id

    def _on_progress(self, run_id, frac, msg):
        if self._current(run_id):
            self.progress.emit(frac, msg)

    def _on_partial(self, run_id, payload):
        if self._current(run_id):
            self.partial.emit(payload)

    def _on_finished(self, run_id, result):
        if self._current(run_id):
            self._pending = False
            self.finished.emit(result)

    def _on_failed(self, run_id, msg):
        if self._current(run_id):
            self._pending = False
            self.failed.emit(msg)
