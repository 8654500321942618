"""The training process: runs ``Trainer.step()`` loops outside the GUI process.

Why a process: the default live demo trains a tiny network, where every step is mostly Python
bytecode.  In a thread of the GUI process it would take the GIL turn about with every redraw
(pyqtgraph paints in Python), and both would crawl.  A child process has its own interpreter,
so on two cores the window redraws at full rate while training runs at headless speed.

Protocol over one ``multiprocessing`` pipe (our own processes only; nothing from users is
unpickled here):

- parent → child: ``("data", token, Dataset, segment, layout)`` once per dataset: its large
  arrays are not in the pickled Dataset but in the shared-memory ``segment`` (its name, or None),
  one copy for both processes (see :func:`_share_arrays`); ``("run", token, config, state,
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
import math
import multiprocessing as mp
import os
import select
import shutil
import sys
import threading
import traceback
from multiprocessing import shared_memory

import numpy as np

from engine import runloop
from engine.config import ExperimentConfig
from engine.trainer import Trainer, apply_setting

from .snapshots import SnapshotMaker


class HostError(RuntimeError):
    """The training process could not be started or ended unexpectedly."""


def _child_main(conn) -> None:  # pragma: no cover - runs in the child process
    datasets, segments = {}, []        # (segments: mapped here, closed once no array views them)
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
            data, shm_name, layout = msg[2:]
            segments = [shm for shm in segments if not _release(shm, unlink=False)]  # (the window unlinks)
            try:
                if shm_name is not None:
                    data, shm = _attach_arrays(data, shm_name, layout)
                    segments.append(shm)
                datasets = {msg[1]: data}
            except OSError as e:               # reported by the run that wanted it
                datasets = {msg[1]: e}
        elif kind == "run":
            try:
                data = datasets[msg[1]]
                if isinstance(data, OSError):
                    raise RuntimeError(f"the dataset did not reach the training process ({data})")
                _run(conn, data, *msg[2:])
            except (EOFError, OSError, BrokenPipeError):
                return
            except Exception as e:  # noqa: BLE001 - reported to the window
                conn.send(("error", f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}"))


_BIG = 1 << 20     # arrays from this many bytes are shared, not pickled
_ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
_ALIGN = 64


class _Segment(shared_memory.SharedMemory):
    """A shared-memory segment that, dropped while arrays still view it (at exit), leaves its
    mapping to them instead of complaining."""

    def __del__(self):
        try:
            self.close()
        except BufferError:
            pass


def _share_arrays(data) -> tuple[_Segment | None, list]:
    """Move ``data``'s large arrays (CIFAR-10's training images are 600 MB of float32) into one
    new shared-memory segment, which the training process maps (:func:`_attach_arrays`): one copy
    of them for both processes.  ``data``'s arrays become views of the segment (their values
    unchanged; its own copies are freed once nothing else holds them).  Returns the segment and
    its layout ``[(name, dtype, shape, offset)]``; ``(None, [])`` if no array is large or shared
    memory has no room for them."""
    big = [(name, getattr(data, name)) for name in _ARRAYS if getattr(data, name).nbytes >= _BIG]
    layout, end = [], 0
    for name, a in big:
        offset = -(-end // _ALIGN) * _ALIGN
        layout.append((name, a.dtype.str, a.shape, offset))
        end = offset + a.nbytes
    if not big or end > _shm_free():
        return None, []          # (then the arrays are pickled with the Dataset)
    shm = _Segment(create=True, size=end)
    for (name, dtype, shape, offset), (_, a) in zip(layout, big):
        view = _view(shm, dtype, shape, offset)
        view[...] = a
        setattr(data, name, view)
    return shm, layout


def _shm_free() -> float:
    """Bytes free for shared memory: on Linux /dev/shm, often small in containers, where writing
    past its end would kill the process (SIGBUS) instead of raising."""
    try:
        return shutil.disk_usage("/dev/shm").free if sys.platform.startswith("linux") else math.inf
    except OSError:
        return math.inf


def _attach_arrays(data, shm_name: str, layout: list):  # pragma: no cover - runs in the child process
    """The training process's side of :func:`_share_arrays`: ``(data with its large arrays
    viewing the segment, the segment)``."""
    shm = _Segment(name=shm_name)
    arrays = {name: _view(shm, dtype, shape, offset) for name, dtype, shape, offset in layout}
    return dataclasses.replace(data, **arrays), shm


def _view(shm: shared_memory.SharedMemory, dtype: str, shape: tuple, offset: int) -> np.ndarray:
    """An array in ``shm``.  (np.frombuffer, not np.ndarray(buffer=...): only the former keeps
    the segment's buffer exported, so that closing the segment under it fails instead of
    unmapping memory an array still points into.)"""
    dt = np.dtype(dtype)
    return np.frombuffer(shm.buf, dtype=dt, count=math.prod(shape), offset=offset).reshape(shape)


def _release(shm: shared_memory.SharedMemory, unlink: bool) -> bool:
    """Close (and with ``unlink`` remove the name of) a segment; False while arrays still view
    it (the mapping stays until they are gone: try again later)."""
    if unlink:
        try:
            shm.unlink()               # (the name only: processes that mapped it keep it)
        except FileNotFoundError:
            pass
    try:
        shm.close()
    except BufferError:
        return False
    return True


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
        self._segment = None    # the shared memory its large arrays are in (this process owns it)
        self._retired: list = []   # earlier segments, closed once no array views them
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
        self._retired = [shm for shm in self._retired if not _release(shm, unlink=False)]
        if self._data is trainer.data:
            return
        self._token += 1
        self._data = None
        self._retire()
        data = trainer.data
        try:
            self._segment, layout = _share_arrays(data)
        except OSError as e:     # no shared memory (e.g. /dev/shm full): say why
            raise HostError(f"could not share the dataset with the training process ({e})") from None
        if layout:
            # the model's graph keeps its last input, a view of the old training array (the
            # initial loss's examples): a row of the new one instead lets the old copy go
            with np.errstate(all="ignore"):
                trainer.model.scores(data.X_train[:1])
        lean = dataclasses.replace(data, raw_train=None, raw_val=None,     # (display-only)
                                   **{name: None for name, _, _, _ in layout})
        self.send(("data", self._token, lean, self._segment.name if self._segment else None, layout))
        self._data = data

    def _retire(self) -> None:
        """Unlink the current segment, then close the old ones no array views any more."""
        if self._segment is not None:
            self._retired.append(self._segment)
            self._segment = None
        self._retired = [shm for shm in self._retired if not _release(shm, unlink=True)]

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
        with self._lock:
            self._data = None
            self._retire()
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
        if _host is not None:
            _host.close()       # (its shared memory)
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
