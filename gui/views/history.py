"""The GUI-side copy of the training history, grown from snapshot deltas (amortised O(1))."""
from __future__ import annotations

import warnings

import numpy as np

from ..snapshots import EVAL_KEYS, STEP_KEYS


class Growable:
    def __init__(self):
        self.buf = np.empty(1024, np.float64)
        self.n = 0

    def extend(self, a: np.ndarray) -> None:
        m = self.n + len(a)
        if m > len(self.buf):
            nb = np.empty(max(m, 2 * len(self.buf)), np.float64)
            nb[:self.n] = self.buf[:self.n]
            self.buf = nb
        self.buf[self.n:m] = a
        self.n = m

    @property
    def data(self) -> np.ndarray:
        return self.buf[:self.n]


class HistoryBuffer:
    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.steps = {k: Growable() for k in STEP_KEYS}
        self.evals = {k: Growable() for k in EVAL_KEYS}
        self.version = 0

    def add(self, snap) -> None:
        """Append a snapshot's new entries (deltas are contiguous within one run)."""
        if snap.history_start == self.steps["step"].n:
            for k in STEP_KEYS:
                self.steps[k].extend(snap.hist[k])
        if snap.eval_start == self.evals["eval_step"].n:
            for k in EVAL_KEYS:
                self.evals[k].extend(snap.evals[k])
        self.version += 1

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self.steps:
            return self.steps[key].data
        return self.evals[key].data

    def to_csv(self) -> str:
        lines = ["step,loss,data_loss,reg_loss,lr,train_loss,train_acc,val_loss,val_acc"]
        ev = {int(s): i for i, s in enumerate(self["eval_step"])}
        for i, s in enumerate(self["step"]):
            row = [f"{int(s)}"] + [f"{self[k][i]:.8g}" for k in ("loss", "data_loss", "reg_loss", "lr")]
            j = ev.get(int(s))
            row += ([f"{self[k][j]:.8g}" for k in ("train_loss", "train_acc", "val_loss", "val_acc")]
                    if j is not None else ["", "", "", ""])
            lines.append(",".join(row))
        return "\n".join(lines) + "\n"


class Decimated:
    """A bounded-size picture of a growing curve, kept up to date incrementally.

    Consecutive points are grouped into blocks of ``b`` (a power of two that doubles whenever
    there would be more than ``cap`` blocks); each block keeps its first x, its min, max and
    mean.  Drawing each block's (min, max) is what pyqtgraph's "peak" downsampling shows, but
    it costs O(new points) per frame and at most ~2·cap points to stroke, however long the
    run: the window stays as fast after an hour of training as after a second.
    """

    def __init__(self, cap: int = 256):
        self.cap = cap
        self.clear()

    def clear(self) -> None:
        self.b = 1
        self.used = 0                      # source points folded into complete blocks
        self.x = np.empty(0)
        self.lo = np.empty(0)
        self.hi = np.empty(0)
        self.mean = np.empty(0)

    def update(self, xs: np.ndarray, ys: np.ndarray) -> None:
        if len(xs) < self.used:            # the history was cleared
            self.clear()
        b = self.b
        k = (len(xs) - self.used) // b
        if k > 0:
            seg = ys[self.used:self.used + k * b].reshape(k, b)
            if b == 1:                     # (early in a run: blocks are single points)
                lo = hi = mean = seg[:, 0]
            elif not np.isnan(seg).any():  # the usual case, at a third of the nan-functions' cost
                lo, hi, mean = seg.min(axis=1), seg.max(axis=1), seg.mean(axis=1)
            else:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    lo, hi, mean = np.nanmin(seg, axis=1), np.nanmax(seg, axis=1), np.nanmean(seg, axis=1)
            self.x = np.concatenate([self.x, xs[self.used:self.used + k * b:b]])
            self.lo = np.concatenate([self.lo, lo])
            self.hi = np.concatenate([self.hi, hi])
            self.mean = np.concatenate([self.mean, mean])
            self.used += k * b
        while len(self.x) > self.cap:      # merge pairs of blocks: twice as coarse
            m = len(self.x) // 2
            if len(self.x) % 2:            # an odd last block is re-read at the new size
                self.used -= self.b
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.lo = np.fmin(self.lo[0:2 * m:2], self.lo[1:2 * m:2])
                self.hi = np.fmax(self.hi[0:2 * m:2], self.hi[1:2 * m:2])
                self.mean = np.nanmean(np.stack([self.mean[0:2 * m:2], self.mean[1:2 * m:2]]), axis=0)
            self.x = self.x[0:2 * m:2]
            self.b *= 2
            self.update(xs, ys)            # fold in what the coarser blocks can now take

    def blocks(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each block's first x, min and max, then the raw points not yet in a block
        (their own min and max)."""
        self.update(xs, ys)
        tail_x, tail_y = xs[self.used:], ys[self.used:]
        return (np.concatenate([self.x, tail_x]), np.concatenate([self.lo, tail_y]),
                np.concatenate([self.hi, tail_y]))

    def means(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block means (a running mean over b points), then the mean of the points not yet in a
        block, as one more point (raw points there would end every smooth curve in a spike)."""
        self.update(xs, ys)
        tail = ys[self.used:]
        if len(tail) == 0:
            return self.x, self.mean
        finite = tail[np.isfinite(tail)]
        last = finite.mean() if len(finite) else np.nan
        return np.append(self.x, xs[self.used]), np.append(self.mean, last)
