"""Work around a reference-count bug of PySide6 6.12 on Python 3.11.

With PySide6/shiboken6 6.12.0 on CPython 3.11, every call of a Qt method returning ``void``
(``setPos``, ``update``, ``setText`` …) hands back ``None`` without taking a reference, so
``None``'s reference count drops by one per call; after a few thousand calls CPython aborts with
"Fatal Python error: none_dealloc: deallocating None".  (From Python 3.12 on, ``None`` is
immortal and the bug is harmless.)  An animated view makes thousands of such calls.

The guard gives ``None`` a huge reference count once, so it can never reach zero.  ``None`` is a
static object that is never freed, so an over-count is harmless.  It does nothing on 3.12+.
Remove it when PySide6 is fixed or the project moves to Python ≥ 3.12.
"""
from __future__ import annotations

import ctypes
import sys

_BUMP = 1 << 50


def install() -> bool:
    if sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):   # immortal None / debug build
        return False
    rc = ctypes.c_ssize_t.from_address(id(None))   # ob_refcnt is the first field of PyObject
    if rc.value < _BUMP // 2:
        rc.value += _BUMP
    return True
