"""Every configuration edit is a QUndoCommand (Ctrl+Z / Ctrl+Shift+Z).

A command stores the dotted path (``"optim.lr"``), the old and the new value; applying it
writes the value into the window's ExperimentConfig and lets the window react (live change,
rebuild, reload).  Consecutive slider moves on the same field merge into one command.
"""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

_MERGE_ID = 4242


class SetConfigValue(QUndoCommand):
    def __init__(self, window, path: str, old, new, mergeable: bool = False):
        super().__init__(f"change {path} to {new!r}")
        self.window, self.path = window, path
        self.old, self.new = copy.deepcopy(old), copy.deepcopy(new)
        self.mergeable = mergeable

    def id(self) -> int:
        return _MERGE_ID if self.mergeable else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetConfigValue) or other.path != self.path or not other.mergeable:
            return False
        self.new = other.new
        self.setText(f"change {self.path} to {self.new!r}")
        return True

    def redo(self) -> None:
        self.window.apply_config_value(self.path, self.new)

    def undo(self) -> None:
        self.window.apply_config_value(self.path, self.old)


class ReplaceConfig(QUndoCommand):
    """The whole configuration replaced at once (a preset): undo brings back the previous one."""

    def __init__(self, window, old, new, text: str):
        super().__init__(text)
        self.window = window
        self.old, self.new = old.copy(), new.copy()

    def redo(self) -> None:
        self.window.apply_whole_config(self.new)

    def undo(self) -> None:
        self.window.apply_whole_config(self.old)
