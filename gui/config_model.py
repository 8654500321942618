"""The window's configuration as an evented model (napari's evented models are the example).

Every change goes through :meth:`ConfigModel.set` (one field, by its dotted path) or
:meth:`ConfigModel.replace` (a whole configuration: a preset, an opened experiment), and each
says so with a signal.  Panels bind to the sections they show and reload when one of them
changes; undo commands change the model; the window reacts to ``changed`` (a live setting, a
new dataset, a rebuilt network).  Nothing else writes the configuration.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QObject, Signal

from engine.config import ExperimentConfig, get_path, set_path


def section(path: str) -> str:
    """The top-level part of a dotted path: ``"optim.lr"`` → ``"optim"``, ``"seed"`` → ``"seed"``."""
    return path.split(".", 1)[0]


class ConfigModel(QObject):
    changed = Signal(str, object)   # a dotted path and its new value
    replaced = Signal(bool)         # a whole configuration; True: it reverts to the loaded one
                                    # (its dataset and network are already there: nothing to load)

    def __init__(self, cfg: ExperimentConfig, parent=None):
        super().__init__(parent)
        self._cfg = cfg.copy()

    @property
    def current(self) -> ExperimentConfig:
        """The configuration itself, to read (write through set / replace)."""
        return self._cfg

    def copy(self) -> ExperimentConfig:
        return self._cfg.copy()

    def get(self, path: str):
        return copy.deepcopy(get_path(self._cfg, path))

    def with_edits(self, edits: dict) -> ExperimentConfig:
        """A copy with ``edits`` ({path: value}) applied: to validate before changing anything."""
        trial = self._cfg.copy()
        for p, v in edits.items():
            set_path(trial, p, v)
        return trial

    def set(self, path: str, value) -> None:
        set_path(self._cfg, path, value)
        self.changed.emit(path, copy.deepcopy(value))

    def replace(self, cfg: ExperimentConfig, *, revert: bool = False) -> None:
        self._cfg = cfg.copy()
        self.replaced.emit(revert)

    def bind(self, sections: tuple[str, ...], slot) -> None:
        """Call ``slot(config)`` now and whenever a field in ``sections`` changes or the whole
        configuration is replaced."""
        self.changed.connect(lambda path, _v: slot(self._cfg) if section(path) in sections else None)
        self.replaced.connect(lambda _r: slot(self._cfg))
        slot(self._cfg)
