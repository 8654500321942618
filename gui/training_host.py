"""The training process: runs ``Trainer.step()`` loops outside the GUI process.

Why a process: the default live demo trains a tiny network, where every step is mostly Python
bytecode.  In a thread of the GUI process it would take the GIL turn about with every redraw
(pyqtgraph paints in Python), and both would crawl.  A child process has its own interpreter,
so on two cores the window redraws at full rate while training runs at headless speed.

Protocol over one ``multiprocessing`` pipe (our own processes only; nothing from users is
unpickled here):

- parent → child: ``("data", token, Dataset, raw)`` once per dataset (see :func:`_send_arrays`
  for ``raw``); ``("run", token, config, state,
  run_id, publish_interval, hook)`` starts a run from a :meth:`Trainer.state_dict` (``hook``:
  :attr:`TrainingHost.between_steps`);
  during a run ``("set", name, value)`` and ``("stop",)``; ``("quit",)``.
- child → parent: ``("snap", Snapshot)`` at most ~40 times a second (sent as a
  :class:`~gui.snapshots.WireSnapshot`, received as the Snapshot); ``("stopped", Snapshot,
  state)`` when the run ends (stop, epoch budget, divergence); ``("error", text)``.

The run itself is :func:`engine.runloop.run`, with hooks that read the pipe and send snapshots.

This module imports no Qt: the child process only needs NumPy and the engine.
"""
from __future__ import annotations

import atexit
import dataclasses
import multiprocessing as mp
import os
import select
import threading
import traceback

import numpy as np

from engine import runloop
from engine.config import ExperimentConfig
from engine.trainer import Trainer, apply_setting

from .snapshots import SnapshotMaker


class HostError(RuntimeError):
    """The training process could not be started or ended unexpectedly."""


def _child_main(conn) -> None:  # pragma: no cover - runs in the child process
    datasets = {}
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        kind = msg[0]
        if kind == "quit":
            return
        if kind == "data":
            datasets = {}                      # keep only the newest dataset
            try:
                datasets = {msg[1]: _receive_arrays(conn, msg[2], msg[3])}
            except (EOFError, OSError, BrokenPipeError):
                return
        elif kind == "run":
            try:
                _run(conn, datasets[msg[1]], *msg[2:])
            except (EOFError, OSError, BrokenPipeError):
                return
            except Exception as e:  # noqa: BLE001 - reported to the window
                conn.send(("error", f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}"))


_BIG = 1 << 20     # arrays from this many bytes cross as raw bytes, not pickled
_ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def _send_arrays(conn, token: int, data) -> None:
    """Send a Dataset; its large arrays (CIFAR-10's training images are 600 MB of float32) go
    as raw bytes written straight from their memory and read straight into the child's arrays.
    Pickled, they were copied four times and took ~4 s before the first step."""
    raw, src = [], data
    if os.name == "posix":
        for name in _ARRAYS:
            a = getattr(data, name)
            if a.nbytes >= _BIG:
                raw.append((name, a.dtype.str, a.shape))
        data = dataclasses.replace(data, **{name: None for name, _, _ in raw})
    conn.send(("data", token, data, raw))
    for name, _, _ in raw:
        a = np.ascontiguousarray(getattr(src, name))
        view = memoryview(a).cast("B")
        while len(view):
            view = view[os.write(conn.fileno(), view):]


def _receive_arrays(conn, data, raw):  # pragma: no cover - runs in the child process
    """The child's side of :func:`_send_arrays`."""
    arrays = {}
    for name, dtype, shape in raw:
        a = np.empty(shape, dtype=np.dtype(dtype))
        view = memoryview(a).cast("B")
        while len(view):
            n = os.readv(conn.fileno(), [view])
            if n == 0:
                raise EOFError("the window process closed the pipe")
            view = view[n:]
        arrays[name] = a
    return dataclasses.replace(data, **arrays) if arrays else data


def _trainer(data, cfg_dict, state) -> Trainer:  # pragma: no cover
    trainer = Trainer.from_config(ExperimentConfig.from_dict(cfg_dict), data)
    trainer.load_state_dict(state)
    return trainer


def _waiting(conn):
    """A cheap "is a message waiting?" for the run loop.  ``conn.poll()`` builds a selector on
    every call (~8 µs); polled every 2 ms it cost the run loop 2–3% of its steps."""
    try:
        p = select.poll()
        p.register(conn.fileno(), select.POLLIN)
    except (AttributeError, OSError):   # no poll() for this pipe (Windows)
        return conn.poll
    return lambda: bool(p.poll(0))


class _Sender:  # pragma: no cover - runs in the child process
    """Sends the run's snapshots from a thread of the training process.

    A CIFAR-sized network's snapshot is over a megabyte: more than the pipe holds, so a send
    returns only once the window's relay thread has read it all — and that thread waits for the
    window's interpreter lock while the GUI thread paints.  Sent from the run loop, every such
    wait was a pause in training.  The loop hands a snapshot over only when the previous one is
    out (a snapshot carries the history since the one before, so none may be dropped) and goes
    on training meanwhile."""

    def __init__(self, conn):
        self.conn = conn
        self.error: BaseException | None = None
        self._msg = None
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="snapshot-sender", daemon=True)
        self._thread.start()

    def idle(self) -> bool:
        return self._msg is None

    def put(self, msg) -> None:
        with self._cv:
            self._msg = msg
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._msg is None and not self._closed:
                    self._cv.wait()
                if self._msg is None:
                    return
                msg = self._msg
            try:
                self.conn.send(msg)
            except BaseException as e:     # the window went away: the run loop stops on it
                self.error = e
            with self._cv:
                self._msg = None
                self._cv.notify_all()
            if self.error is not None:
                return

    def close(self) -> None:
        """Wait until the last snapshot is out (the run's final messages follow it, in order)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join()
        if self.error is not None:
            raise self.error


def _run(conn, data, cfg_dict, state, run_id, publish_interval, hook=None) -> None:  # pragma: no cover
    trainer = _trainer(data, cfg_dict, state)
    sender = _Sender(conn)
    try:
        _run_loop(conn, sender, trainer, run_id, publish_interval, hook)
    finally:
        sender.close()


POLL_INTERVAL = 0.002     # seconds between looks at the pipe for settings and stop


def _run_loop(conn, sender, trainer, run_id, publish_interval, hook_spec=None) -> None:  # pragma: no cover
    maker = SnapshotMaker(trainer, run_id)
    maker.want_grid.clear()    # the window process adds decision regions (ProcessTrainingWorker)
    waiting = _waiting(conn)

    def check() -> bool:
        stop = False
        while waiting():
            m = conn.recv()
            if m[0] == "stop":
                stop = True
            elif m[0] == "set":
                apply_setting(trainer, m[1], m[2])
        return stop

    def publish(sps: float) -> None:
        if sender.error is not None:
            raise sender.error
        sender.put(("snap", maker.make_wire(running=True, sps=sps)))

    hook = runloop.load_hook(hook_spec, trainer)
    try:
        end = runloop.run(trainer, check=check, check_interval=POLL_INTERVAL, publish=publish,
                          publish_interval=publish_interval, ready=sender.idle, between_steps=hook)
    finally:
        runloop.close_hook(hook)
    sender.close()              # the snapshots first, then the run's end, in order
    conn.send(("stopped", maker.make_wire(running=False, sps=end.steps_per_sec, finished=end.finished),
               trainer.state_dict()))


class TrainingHost:
    """One long-lived training process (started on first use, shared by the windows)."""

    def __init__(self):
        ctx = mp.get_context("spawn")   # never fork a process that runs Qt threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child_main, args=(child,), daemon=True,
                                 name="backprop-studio-training")
        self._proc.start()
        child.close()
        self._data = None       # the Dataset object the child holds
        self._token = 0
        self._lock = threading.Lock()
        #: ``("module:factory", kwargs)`` or None: a hook the next runs call between steps in the
        #: training process (:func:`engine.runloop.load_hook`; benchmarks/bench_gui.py's schedule)
        self.between_steps: tuple[str, dict] | None = None

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def send(self, msg) -> None:
        try:
            self._conn.send(msg)
        except (OSError, BrokenPipeError, EOFError) as e:
            raise HostError(f"the training process has ended unexpectedly ({e})") from None

    def receive(self, timeout: float):
        try:
            if self._conn.poll(timeout):
                return self._conn.recv()
        except (OSError, EOFError) as e:
            raise HostError(f"the training process has ended unexpectedly ({e or 'no more data'})") from None
        if not self._proc.is_alive():
            raise HostError(f"the training process has ended unexpectedly (exit code {self._proc.exitcode})")
        return None

    def pending(self) -> bool:
        """A message from the training process is waiting."""
        try:
            return self._conn.poll(0)
        except (OSError, EOFError):
            return False

    def data_to_send(self, trainer: Trainer) -> int:
        """Bytes of dataset the next run of ``trainer`` must first hand over (0 if already there)."""
        if self._data is trainer.data:
            return 0
        return sum(getattr(trainer.data, name).nbytes for name in _ARRAYS)

    def _send_data(self, trainer: Trainer) -> None:
        if self._data is not trainer.data:
            self._token += 1
            lean = dataclasses.replace(trainer.data, raw_train=None, raw_val=None)  # display-only
            self._data = None
            try:
                _send_arrays(self._conn, self._token, lean)
            except (OSError, BrokenPipeError, EOFError) as e:
                raise HostError(f"the training process has ended unexpectedly ({e})") from None
            self._data = trainer.data

    def start_run(self, trainer: Trainer, run_id: int, publish_interval: float) -> None:
        with self._lock:
            self._send_data(trainer)
            self.send(("run", self._token, trainer.cfg.to_dict(), trainer.state_dict(), run_id,
                       publish_interval, self.between_steps))

    def close(self, timeout: float = 2.0) -> None:
        try:
            self._conn.send(("quit",))
        except (OSError, BrokenPipeError):
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(1.0)
        self._conn.close()


_host: TrainingHost | None = None


def use_process() -> bool:
    """Training runs in the child process unless BACKPROP_STUDIO_TRAINING=thread."""
    return os.environ.get("BACKPROP_STUDIO_TRAINING", "process").lower() != "thread"


#: why the training process could not start ("" if it did or was not asked for)
start_error = ""


def get_host() -> TrainingHost | None:
    """The shared host, started on first call; None (train in a thread) if it cannot start — then
    :data:`start_error` says why."""
    global _host, start_error
    if not use_process():
        return None
    if _host is None or not _host.alive:
        try:
            _host = TrainingHost()
            start_error = ""
        except Exception as e:  # noqa: BLE001 - fall back to the in-thread worker, and say so
            _host = None
            start_error = f"{type(e).__name__}: {e}"
    return _host


@atexit.register
def shutdown_host() -> None:
    global _host
    if _host is not None:
        _host.close()
        _host = None
