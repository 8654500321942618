"""The GUI-side copy of the training history, grown from snapshot deltas (amortised O(1))."""
from __future__ import annotations

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
