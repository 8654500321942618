"""The training process: runs ``Trainer.step()`` loops outside the GUI process.

Why a process: the default live demo trains a tiny network, where every step is mostly Python
bytecode.  In a thread of the GUI process it would take the GIL turn about with every redraw
(pyqtgraph paints in Python), and both would crawl.  A child process has its own interpreter,
so on two cores the window redraws at full rate while training runs at headless speed.

Protocol over one ``multiprocessing`` pipe (our own processes only; nothing from users is
unpickled here):

- parent → child: ``("data", token, Dataset)`` once per dataset; ``("run", token, config, state,
  run_id, publish_interval)`` starts a run from a :meth:`Trainer.state_dict`;
  during a run ``("set", name, value)`` and ``("stop",)``; ``("quit",)``;
  ``("headless", token, config, state, seconds)`` times a plain ``trainer.step()`` loop (for
  ``benchmarks/bench_gui.py``: the same process, with no window and no snapshots).
- child → parent: ``("snap", Snapshot)`` at most ~40 times a second; ``("stopped", Snapshot,
  state)`` when the run ends (stop, epoch budget, divergence); ``("error", text)``;
  ``("headless", steps per second)``.

This module imports no Qt: the child process only needs NumPy and the engine.
"""
from __future__ import annotations

import atexit
import dataclasses
import multiprocessing as mp
import os
import threading
import time
import traceback

from engine.config import ExperimentConfig
from engine.trainer import Trainer

from .snapshots import SnapshotMaker, apply_setting


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
            datasets = {msg[1]: msg[2]}        # keep only the newest dataset
        elif kind in ("run", "headless"):
            try:
                (_run if kind == "run" else _headless)(conn, datasets[msg[1]], *msg[2:])
            except (EOFError, OSError, BrokenPipeError):
                return
            except Exception as e:  # noqa: BLE001 - reported to the window
                conn.send(("error", f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}"))


def _trainer(data, cfg_dict, state) -> Trainer:  # pragma: no cover
    trainer = Trainer.from_config(ExperimentConfig.from_dict(cfg_dict), data)
    trainer.load_state_dict(state)
    return trainer


def _headless(conn, data, cfg_dict, state, seconds) -> None:  # pragma: no cover
    """Steps per second of a plain ``trainer.step()`` loop, started as a run is (after 0.2 s)."""
    trainer = _trainer(data, cfg_dict, state)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.2:
        trainer.step()
    n0, t0 = trainer.steps, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        trainer.step()
    conn.send(("headless", (trainer.steps - n0) / (time.perf_counter() - t0)))


def _run(conn, data, cfg_dict, state, run_id, publish_interval) -> None:  # pragma: no cover
    trainer = _trainer(data, cfg_dict, state)
    maker = SnapshotMaker(trainer, run_id)
    maker.want_grid.clear()    # the window process adds decision regions (ProcessTrainingWorker)
    last_pub = last_poll = rate_t = time.perf_counter()
    rate_steps, sps, finished = trainer.steps, 0.0, False
    while True:
        now = time.perf_counter()
        if now - last_poll >= 0.002:
            last_poll = now
            stop = False
            while conn.poll():
                m = conn.recv()
                if m[0] == "stop":
                    stop = True
                elif m[0] == "set":
                    apply_setting(trainer, m[1], m[2])
            if stop:
                break
        epochs = trainer.cfg.optim.epochs
        if epochs >= 0 and trainer.epoch >= epochs - 1e-9:
            finished = True
            break
        if trainer.step().diverged:
            break
        now = time.perf_counter()
        if now - last_pub >= publish_interval:
            if now - rate_t >= 0.5:
                sps = (trainer.steps - rate_steps) / (now - rate_t)
                rate_t, rate_steps = now, trainer.steps
            conn.send(("snap", maker.make(running=True, sps=sps)))
            last_pub = now
    conn.send(("stopped", maker.make(running=False, sps=sps, finished=finished), trainer.state_dict()))


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

    def _send_data(self, trainer: Trainer) -> None:
        if self._data is not trainer.data:
            self._token += 1
            lean = dataclasses.replace(trainer.data, raw_train=None, raw_val=None)  # display-only
            self.send(("data", self._token, lean))
            self._data = trainer.data

    def start_run(self, trainer: Trainer, run_id: int, publish_interval: float) -> None:
        with self._lock:
            self._send_data(trainer)
            self.send(("run", self._token, trainer.cfg.to_dict(), trainer.state_dict(), run_id,
                       publish_interval))

    def time_headless(self, trainer: Trainer, seconds: float) -> float:
        """Steps per second of a plain ``trainer.step()`` loop in the training process, on a copy
        of ``trainer`` (between runs; the benchmark's reference)."""
        with self._lock:
            self._send_data(trainer)
            self.send(("headless", self._token, trainer.cfg.to_dict(), trainer.state_dict(), seconds))
            while True:
                msg = self.receive(seconds + 30.0)
                if msg is None:
                    raise HostError("the training process did not answer")
                if msg[0] == "headless":
                    return float(msg[1])
                if msg[0] == "error":
                    raise HostError(msg[1])

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


def get_host() -> TrainingHost | None:
    """The shared host, started on first call; None (train in a thread) if it cannot start."""
    global _host
    if not use_process():
        return None
    if _host is None or not _host.alive:
        try:
            _host = TrainingHost()
        except Exception:  # noqa: BLE001 - fall back to the in-thread worker
            _host = None
    return _host


@atexit.register
def shutdown_host() -> None:
    global _host
    if _host is not None:
        _host.close()
        _host = None
