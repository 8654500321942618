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
        self.grid = None          # newest decision-region probabilities (G, G, C) and extent
        self.grid_extent = None
        self.grid_version = 0
        self.preds = None         # newest live validation predictions (N, C), from the snapshots
        self.preds_version = 0

    def take(self, snap) -> None:
        """Keep the newest snapshot (and the newest region grid, which not every snapshot has)."""
        self.snap = snap
        if snap.grid is not None:
            self.grid, self.grid_extent = snap.grid, snap.grid_extent
            self.grid_version += 1
        if snap.preds is not None:
            self.preds = snap.preds
            self.preds_version += 1

    @property
    def params(self):
        return None if self.snap is None else self.snap.params
