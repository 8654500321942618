"""What a training run publishes for the views, and its form on the pipe from the training
process; without Qt (also imported by the training process, see :mod:`gui.training_host`).

A frozen :class:`Snapshot` carries the run id, the step, the *new* history entries since the
previous snapshot and *copies* of the parameters (plus the decision-region probabilities on a
grid for 2-D data and the live predictions, from :mod:`gui.scorers`), so the GUI never touches
arrays the trainer is still writing.  :class:`SnapshotMaker` builds them from a trainer;
:class:`WireSnapshot` is a snapshot as it crosses the pipe.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from array import array
from dataclasses import dataclass

import numpy as np

from engine.trainer import Trainer

from .scorers import GridScorer, LivePredictions, grid_extent, grid_points

PUBLISH_INTERVAL = 1.0 / 40.0   # snapshots a second: enough that each of the ~33 redraw ticks has a fresh one
GRID_INTERVAL = 1.0 / 10.0   # decision regions: at most 10 grid evaluations a second (thread mode)


@dataclass(frozen=True)
class Snapshot:
    """What the views need after some steps; every array is a private copy."""
    run_id: int
    step: int
    epoch: float
    lr: float
    batch_size: int
    loss: float
    steps_per_sec: float
    history_start: int                       # index in the per-step history of hist['step'][0]
    hist: dict                               # new per-step entries (np arrays)
    eval_start: int
    evals: dict                              # new per-epoch entries (np arrays)
    params: dict                             # copies of the weights
    grid: np.ndarray | None = None           # (G, G, C) class probabilities, when freshly computed
    grid_extent: tuple | None = None         # (x0, x1, y0, y1)
    preds: np.ndarray | None = None          # (N, C) class probabilities (SVM: scores) of the first N
    #                                          validation examples (training ones if there are none)
    running: bool = True
    diverged: bool = False
    reason: str = ""
    finished: bool = False                   # the epoch budget is spent
    time: float = 0.0                        # time.perf_counter() when it was made (a system-wide clock)


def _pack_lists(history, keys: tuple, start: int, stop: int):
    """``history``'s lists under ``keys``, entries ``start:stop``, as ``(length, float64 bytes)``."""
    buf = array("d")
    for k in keys:
        buf.extend(getattr(history, k)[start:stop])
    return stop - start, buf.tobytes()


def _pack_params(params: dict) -> tuple:
    return tuple((k, v.dtype.str, v.shape, v.tobytes()) for k, v in params.items())


def _unpack(packed, keys: tuple) -> dict:
    n, raw = packed
    a = np.frombuffer(raw, dtype=np.float64).reshape(len(keys), n).copy()
    return {k: a[i] for i, k in enumerate(keys)}


def _unpack_snapshot(fields: dict, wire: dict) -> "Snapshot":
    params = {k: np.frombuffer(raw, dtype=np.dtype(dt)).reshape(shape).copy()
              for k, dt, shape, raw in wire["params"]}
    return Snapshot(hist=_unpack(wire["hist"], STEP_KEYS), evals=_unpack(wire["evals"], EVAL_KEYS),
                    params=params, **fields)


class WireSnapshot:
    """A snapshot in the form it crosses the pipe; it unpickles as the :class:`Snapshot`.

    The training process sends these (:meth:`SnapshotMaker.make_wire`): building them straight
    from the trainer's history lists skips making a dozen arrays and a Snapshot only to take
    them apart again for pickling.  With the caches cold from training steps, making and
    pickling a snapshot took ~0.4 ms that way and ~0.25 ms this way, 40 times a second."""
    __slots__ = ("fields", "wire")

    def __init__(self, fields: dict, wire: dict):
        self.fields, self.wire = fields, wire

    def __reduce__(self):
        return _unpack_snapshot, (self.fields, self.wire)

    def snapshot(self) -> Snapshot:
        return _unpack_snapshot(self.fields, self.wire)


STEP_KEYS = ("step", "loss", "data_loss", "reg_loss", "lr")
EVAL_KEYS = ("eval_step", "eval_epoch", "train_loss", "train_acc", "val_loss", "val_acc")


class SnapshotMaker:
    """Builds snapshots from a trainer, remembering what history it has already sent."""

    def __init__(self, trainer: Trainer, run_id: int):
        self.trainer = trainer
        self.run_id = run_id
        self.sent_steps = len(trainer.history.step)
        self.sent_evals = len(trainer.history.eval_step)
        d = trainer.data
        self.extent = grid_extent(np.concatenate([d.X_train, d.X_val, d.X_test])) if d.is_2d else None
        self.pts = grid_points(self.extent) if d.is_2d else None
        self._scorer = None                  # (made on first use: the training process never uses it)
        self.want_grid = threading.Event()   # set by the window while the regions view is shown
        self.want_grid.set()
        self._grid_t = 0.0
        self.want_preds = threading.Event()  # set by the window while the predictions view is shown
        self._live_preds: LivePredictions | None = None

    @property
    def scorer(self) -> GridScorer | None:
        if self._scorer is None and self.pts is not None:
            self._scorer = GridScorer(self.pts)
        return self._scorer

    def with_grid(self, snap: Snapshot) -> Snapshot:
        """``snap`` with the decision regions of its weights if the regions view wants them, and
        the validation predictions if the predictions view wants them.

        In process mode the training process never spends its core on these: the window
        process's relay thread calls this (on the other core) for the newest snapshot."""
        if snap.diverged:
            return snap
        extra = {}
        with np.errstate(all="ignore"):
            if self.pts is not None and self.want_grid.is_set():
                extra.update(grid=self.scorer.probabilities(snap.params, self.trainer.model),
                             grid_extent=self.extent)
            if self.want_preds.is_set():
                extra["preds"] = self.predictions(snap.params)
        return dataclasses.replace(snap, **extra) if extra else snap

    def predictions(self, params: dict) -> np.ndarray:
        """The live validation predictions for ``params`` (see :class:`LivePredictions`)."""
        if self._live_preds is None:
            self._live_preds = LivePredictions(self.trainer.data, scores=self.trainer.cfg.loss.loss == "svm")
        return self._live_preds.update(params, self.trainer.model)

    def sync_sent(self) -> None:
        """Mark the trainer's whole history as sent (it arrived from the training process)."""
        h = self.trainer.history
        self.sent_steps, self.sent_evals = len(h.step), len(h.eval_step)

    def make_wire(self, *, running: bool, sps: float, finished: bool = False) -> WireSnapshot:
        """The next snapshot, without decision regions, ready for the pipe."""
        t = self.trainer
        h = t.history
        n, e = len(h.step), len(h.eval_step)
        wire = {"hist": _pack_lists(h, STEP_KEYS, self.sent_steps, n),
                "evals": _pack_lists(h, EVAL_KEYS, self.sent_evals, e),
                "params": _pack_params(t.model.params)}
        fields = {"run_id": self.run_id, "step": t.steps, "epoch": t.epoch, "lr": t.lr,
                  "batch_size": t.batch_size, "loss": h.loss[-1] if h.loss else math.nan,
                  "steps_per_sec": sps, "history_start": self.sent_steps, "eval_start": self.sent_evals,
                  "grid": None, "grid_extent": self.extent, "running": running, "diverged": t.diverged,
                  "reason": t.reason, "finished": finished, "time": time.perf_counter()}
        self.sent_steps, self.sent_evals = n, e
        return WireSnapshot(fields, wire)

    def make(self, *, running: bool, sps: float, finished: bool = False) -> Snapshot:
        """The next snapshot; with the decision regions of the weights if they are wanted and
        the last grid is older than GRID_INTERVAL (only a fresh grid is sent; the views keep
        the last one)."""
        w = self.make_wire(running=running, sps=sps, finished=finished)
        t, now = self.trainer, w.fields["time"]
        if (self.pts is not None and not t.diverged and self.want_grid.is_set()
                and (not running or now - self._grid_t >= GRID_INTERVAL)):
            with np.errstate(all="ignore"):
                w.fields["grid"] = self.scorer.probabilities(t.model.params, t.model)
            self._grid_t = now
        if not t.diverged and self.want_preds.is_set():
            with np.errstate(all="ignore"):
                w.fields["preds"] = self.predictions(t.model.params)
        return w.snapshot()
