"""What the training loop publishes for the views, without Qt (also imported by the
training process, see :mod:`gui.training_host`).

A frozen :class:`Snapshot` carries the run id, the step, the *new* history entries since the
previous snapshot and *copies* of the parameters (plus the decision-region probabilities on a
grid for 2-D data), so the GUI never touches arrays the trainer is still writing.
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

PUBLISH_INTERVAL = 1.0 / 40.0   # snapshots a second: enough that each of the ~33 redraw ticks has a fresh one
GRID_SIZE = 90
GRID_INTERVAL = 1.0 / 10.0   # decision regions: at most 10 grid evaluations a second
PRED_MAX = 3000              # live predictions: at most this many validation examples
PRED_CHUNK = 200             # … re-predicted this many per snapshot, in turn (a full pass every few frames)


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


def grid_extent(X: np.ndarray, pad: float = 0.15) -> tuple[float, float, float, float]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def grid_points(extent, n: int = GRID_SIZE) -> np.ndarray:
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, n, dtype=np.float32)
    ys = np.linspace(y0, y1, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)           # row = y, column = x
    return np.column_stack([gx.ravel(), gy.ravel()])


def _activate(h: np.ndarray, name: str, cfg) -> np.ndarray:
    """The activation, in place where NumPy allows it (``h`` is a scratch buffer)."""
    if name == "relu":
        return np.maximum(h, 0, out=h)
    if name == "leaky_relu":
        return np.where(h > 0, h, cfg.leaky_slope * h)
    if name == "elu":
        return np.where(h > 0, h, cfg.elu_alpha * np.expm1(np.minimum(h, 0)))
    if name == "sigmoid":
        np.negative(h, out=h)
        np.exp(h, out=h)
        h += 1.0
        return np.reciprocal(h, out=h)
    if name == "tanh":
        return np.tanh(h, out=h)
    return h


class GridScorer:
    """A network's class probabilities on a fixed grid of points (the decision regions).

    Runs 30 times a second while the regions view is shown, so it reuses its layer buffers
    (a fresh 1 MB array per layer per call costs page faults as much as the arithmetic) and
    works in float32: plain NumPy, none of the graph's bookkeeping.  It works on the transposed
    layers, a row per unit and a column per point: adding a bias, finding the largest score
    and the softmax sums then run along rows of 8,100 points, where NumPy is several times
    faster than along rows of 32 units or 3 classes."""

    def __init__(self, pts: np.ndarray, n: int = GRID_SIZE):
        self.pts = np.ascontiguousarray(pts, dtype=np.float32)
        self._pts_t = np.ascontiguousarray(self.pts.T)
        self.n = n
        self._bufs: dict[int, np.ndarray] = {}

    def _buf(self, i: int, shape: tuple) -> np.ndarray:
        b = self._bufs.get(i)
        if b is None or b.shape != shape:
            b = self._bufs[i] = np.empty(shape, dtype=np.float32)
        return b

    def scores_t(self, params: dict, model_cfg) -> np.ndarray:
        """``(C, G·G)`` scores, transposed; the array is a buffer reused by the next call."""
        h = self._pts_t
        n_layers = len(params) // 2
        for i in range(1, n_layers + 1):
            W = params[f"W{i}"].astype(np.float32, copy=False)
            out = self._buf(i, (W.shape[1], h.shape[1]))
            np.matmul(W.T, h, out=out)
            out += params[f"b{i}"].astype(np.float32, copy=False)[:, None]
            h = _activate(out, model_cfg.activations[i - 1], model_cfg) if i < n_layers else out
        return h

    def probabilities(self, params: dict, model_cfg) -> np.ndarray:
        """Softmax of the scores, ``(n, n, C)`` float32, a new array (shading by confidence)."""
        return self.probabilities_flat(params, model_cfg).reshape(self.n, self.n, -1)

    def probabilities_flat(self, params: dict, model_cfg) -> np.ndarray:
        """Softmax of the scores, ``(points, C)`` float32, a new array."""
        s = self.scores_t(params, model_cfg)
        top = s[0].copy()
        for row in s[1:]:
            np.maximum(top, row, out=top)
        s -= top
        np.exp(s, out=s)
        total = s[0].copy()
        for row in s[1:]:
            total += row
        s /= total
        return np.ascontiguousarray(s.T)


class LivePredictions:
    """Class probabilities (for an SVM its class scores) of the first :data:`PRED_MAX` validation
    examples (training ones if there is no validation split), for the Predictions view while it is
    shown and training runs.

    A full pass on CIFAR-sized inputs (800 × 3,072 through an MLP) costs about as much as a
    couple of training steps, too much 30 times a second; so each call re-predicts the next
    :data:`PRED_CHUNK` examples in turn and returns all of them, every prediction at most a
    few frames old.  The first call predicts them all."""

    def __init__(self, data, scores: bool = False):
        self.scores = scores         # an SVM's raw class scores instead of softmax probabilities
        X, y = data.X_val[:PRED_MAX], data.y_val[:PRED_MAX]
        if len(y) == 0:
            X, y = data.X_train[:PRED_MAX], data.y_train[:PRED_MAX]
        self.y = np.asarray(y)
        self._chunks = [GridScorer(X[i:i + PRED_CHUNK], n=0) for i in range(0, len(y), PRED_CHUNK)]
        self._probs: np.ndarray | None = None
        self._next = 0

    def update(self, params: dict, model_cfg) -> np.ndarray:
        """``(N, C)`` float32 probabilities (a new array), ``PRED_CHUNK`` of them from ``params``."""
        if not self._chunks:
            return np.zeros((0, 0), np.float32)
        def of(chunk):
            return chunk.scores_t(params, model_cfg).T.copy() if self.scores \
                else chunk.probabilities_flat(params, model_cfg)
        if self._probs is None or self._probs.shape[1] != params[f"b{len(params) // 2}"].shape[0]:
            self._probs = np.concatenate([of(c) for c in self._chunks])
            self._next = 0
        else:
            k = self._next
            self._probs[k * PRED_CHUNK:k * PRED_CHUNK + len(self._chunks[k].pts)] = of(self._chunks[k])
            self._next = (k + 1) % len(self._chunks)
        return self._probs.copy()


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
                extra.update(grid=self.scorer.probabilities(snap.params, self.trainer.model.model_cfg),
                             grid_extent=self.extent)
            if self.want_preds.is_set():
                extra["preds"] = self.predictions(snap.params)
        return dataclasses.replace(snap, **extra) if extra else snap

    def predictions(self, params: dict) -> np.ndarray:
        """The live validation predictions for ``params`` (see :class:`LivePredictions`)."""
        if self._live_preds is None:
            self._live_preds = LivePredictions(self.trainer.data, scores=self.trainer.cfg.loss.loss == "svm")
        return self._live_preds.update(params, self.trainer.model.model_cfg)

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
                w.fields["grid"] = self.scorer.probabilities(t.model.params, t.model.model_cfg)
            self._grid_t = now
        if not t.diverged and self.want_preds.is_set():
            with np.errstate(all="ignore"):
                w.fields["preds"] = self.predictions(t.model.params)
        return w.snapshot()
