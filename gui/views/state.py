"""What the views draw from: the newest snapshot and the current dataset (GUI thread only)."""
from __future__ import annotations

from .history import HistoryBuffer


class ViewState:
    def __init__(self):
        self.history = HistoryBuffer()
        self.dataset = None
        self.snap = None          # newest worker.Snapshot
        self.model_cfg = None     # engine ModelConfig of the current model
        self.loss_cfg = None
        self.version = 0          # bumped for every new snapshot / dataset

    @property
    def params(self):
        return None if self.snap is None else self.snap.params
