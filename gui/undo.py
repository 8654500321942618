"""Every configuration edit is a QUndoCommand (Ctrl+Z / Ctrl+Shift+Z) on the window's
:class:`gui.config_model.ConfigModel`.

A command stores the dotted path (``"optim.lr"``), the old and the new value; applying it sets
the value in the model, whose ``changed`` signal lets the panels and the window react (a live
change, a rebuild, a reload).  Consecutive slider moves on the same field merge into one command.
"""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

_MERGE_ID = 4242


class SetConfigValue(QUndoCommand):
    def __init__(self, model, path: str, old, new, mergeable: bool = False):
        super().__init__(f"change {path} to {new!r}")
        self.model, self.path = model, path
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
        self.model.set(self.path, self.new)

    def undo(self) -> None:
        self.model.set(self.path, self.old)


class ReplaceConfig(QUndoCommand):
    """The whole configuration replaced at once (a preset): undo brings back the previous one."""

    def __init__(self, model, old, new, text: str):
        super().__init__(text)
        self.model = model
        self.old, self.new = old.copy(), new.copy()

    def redo(self) -> None:
        self.model.replace(self.new)

    def undo(self) -> None:
        self.model.replace(self.old)
