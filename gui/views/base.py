"""What a tab of the window is: the protocol the window calls, declared once.

The window calls these methods on every tab and nothing else (no probing for attributes, no
reaching into a view's state); a view overrides what it has.  Adding a view is one subclass
and one line in the window's list of tabs.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class View(QWidget):
    title = ""                # the tab's name
    uses_dataset = False      # set_dataset is called with each newly loaded dataset
    uses_model = False        # set_model is called with a copy of the network (when paused; while
    live_model = False        # training only if live_model: a copy per second costs the run time)
    shows_regions = False     # snapshots carry the decision-region grid while this view is shown
    shows_predictions = False  # ... and the validation predictions

    def refresh(self) -> bool:
        """Draw the window's newest state (called every frame while the tab is shown); True when
        something was drawn."""
        return False

    def invalidate(self) -> None:
        """Forget what was drawn: the next refresh draws everything (a reset, a new run)."""

    def restyle(self) -> None:
        """A new font scale or theme (gui.style): take it on at once or at the next refresh."""

    def export_item(self):
        """The pyqtgraph item File › Export saves (None: the whole widget)."""
        return None

    def set_dataset(self, dataset) -> None:
        """A newly loaded dataset (only if uses_dataset)."""

    def set_model(self, network) -> None:
        """A copy of the current network, safe to keep (only if uses_model)."""

    def shutdown(self) -> None:
        """The window is closing: stop background work."""
