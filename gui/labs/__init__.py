"""The lecture labs: one sub-tab per lab (issue 6).

The main window creates one :class:`LabsWidget` and calls ``set_dataset(dataset)`` and
``set_model(network_snapshot)`` whenever those change; ``shutdown()`` when closing.
"""
try:  # PySide6 6.12 on Python 3.11 drops a reference to True per emit(): see gui/qt_compat.py
    from .. import qt_compat  # noqa: F401
except ImportError:  # pragma: no cover - the shared module is not there yet
    import ctypes
    import sys

    if sys.version_info < (3, 12):
        for _obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(_obj)).value += 1 << 40

from .labs import LabsWidget

__all__ = ["LabsWidget"]
