"""A restricted unpickler for the CIFAR-10 Python batches: data, never code.

The official ``cifar-10-batches-py`` files are Python 2 pickles (protocol 2) of dicts
holding lists, byte strings, ints and one NumPy uint8 array, rebuilt through
``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``
(Python 3 writers of protocol 2 add ``_codecs.encode`` for bytes). Those globals, wrapped
so that they can only build plain numeric arrays, are the only ones admitted; anything
else (``os.system``, ``builtins.eval``, ``subprocess``...) is refused before it is called.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

from .base import DatasetError


def _text(x):
    return x.decode("latin1") if isinstance(x, (bytes, bytearray)) else x


def _safe_dtype(obj, align=False, copy=False):
    dt = np.dtype(_text(obj))
    if dt.hasobject or dt.kind not in "biuf":
        raise pickle.UnpicklingError(f"refusing an array of dtype {dt} (only plain numbers are allowed)")
    return dt


class _NdarrayOnly:
    """Stands in for ``numpy.ndarray``: only usable as the first argument of ``_reconstruct``."""


def _safe_reconstruct(subtype, shape, typecode):
    if subtype is not _NdarrayOnly:
        raise pickle.UnpicklingError("refusing to rebuild an array of a type other than numpy.ndarray")
    return np.ndarray.__new__(np.ndarray, shape, _safe_dtype(typecode))


def _safe_encode(obj, encoding="utf-8", errors="strict"):
    if not isinstance(obj, str) or str(encoding).lower().replace("-", "") not in ("latin1", "utf8", "ascii"):
        raise pickle.UnpicklingError("refusing _codecs.encode other than text to latin1 bytes")
    return obj.encode(encoding, errors)


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy", "ndarray"): _NdarrayOnly,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Admits only the globals the official CIFAR-10 batches use (see module docstring)."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: the file may contain code, "
                                         "not only data") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing persistent references")


def safe_loads(data: bytes, source: str):
    """Unpickle ``data`` (the contents of ``source``) or raise :class:`DatasetError` naming it."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        raise DatasetError(f"{source}: unsafe or corrupt pickle: {e}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, UnicodeError, RecursionError) as e:
        raise DatasetError(f"{source}: corrupt or truncated pickle ({type(e).__name__}: {e})") from None
