"""Work around a reference-counting bug of PySide6 6.12 on Python 3.11.

On this combination every ``Signal.emit()`` drops one reference to ``True`` and every pass of
the event loop drops one reference to ``None`` (measured: ``sys.getrefcount`` falls by one per
call).  Python 3.12+ makes these singletons immortal, which hides the bug; on 3.11 the count
reaches zero after a few thousand events and the interpreter aborts with
"Fatal Python error: none_dealloc" / "bool_dealloc".

``install()`` gives None, True and False a huge extra reference count (what 3.12's immortality
does), so the count can never reach zero in any realistic session.  The proper fix is a
PySide6 release without the bug (pin ``PySide6-Essentials<6.12`` on Python 3.11, or use 3.12+).
"""
from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40
_done = False


def affected() -> bool:
    if sys.version_info >= (3, 12):
        return False
    try:
        import PySide6
        major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    except Exception:
        return False
    return (major, minor) >= (6, 12)


def install() -> bool:
    """Idempotent; returns True when the workaround was applied."""
    global _done
    if _done or not affected():
        return _done
    for obj in (None, True, False):
        ref = ctypes.c_ssize_t.from_address(id(obj))   # ob_refcnt is the first field
        ref.value += _EXTRA
    _done = True
    return True


install()
