"""The lecture labs: one sub-tab per lab (issue 6).

The main window creates one :class:`LabsWidget` and calls ``set_dataset(dataset)`` and
``set_model(network_snapshot)`` whenever those change; ``shutdown()`` when closing.
"""
from .labs import LabsWidget

__all__ = ["LabsWidget"]
