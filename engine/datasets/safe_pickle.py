"""A restricted unpickler for the CIFAR-10 Python batches: data, never code.

The official ``cifar-10-batches-py`` files are Python 2 pickles (protocol 2) of dicts
holding lists, byte strings, ints and one NumPy uint8 array, rebuilt through
``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``
(Python 3 writers of protocol 2 add ``_codecs.encode`` for bytes, ``bytes()`` for b""). Those globals, wrapped
so that they can only build plain numeric arrays, are the only ones admitted; anything
else (``os.system``, ``builtins.eval``, ``subprocess``...) is refused before it is called.

Memory is bounded too. Before anything is unpickled the opcodes are scanned
(as :func:`pickletools.genops` does, skipping the strings): every length a byte string declares must be present in the
file (CPython allocates ``BINBYTES8`` / ``BYTEARRAY8`` buffers at the declared size before
reading them), memo indices are bounded (a ``LONG_BINPUT`` of 10^8 would grow the memo to
that many slots) and so is the number of opcodes, hence of objects built. An array is
created empty (the shape ``(0,)`` numpy pickles) and its bytes must arrive through
``__setstate__``, where numpy requires exactly as many as the shape declares: an array
never holds more than the file does, and never uninitialised memory.
"""
from __future__ import annotations

import io
import pickle
import pickletools
import struct

import numpy as np

from .base import DatasetError

# An official batch has about 20,000 opcodes (10,000 labels and file names); a Python 3
# protocol-2 rewrite of one about 90,000. Each opcode builds at most one small object.
MAX_PICKLE_OPS = 250_000
_MEMO_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}


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
    # numpy pickles every array as an empty one, then __setstate__ with the shape and bytes;
    # any other shape here would allocate memory the file does not hold (uninitialised)
    if not (shape == 0 or (isinstance(shape, (tuple, list)) and len(shape) == 1 and shape[0] == 0
                           and type(shape[0]) is int)):
        raise pickle.UnpicklingError(f"refusing an array created with shape {shape!r}; numpy pickles "
                                     "arrays as (0,) and then sets their contents")
    return np.ndarray.__new__(np.ndarray, (0,), _safe_dtype(typecode))


def _safe_encode(obj, encoding="utf-8", errors="strict"):
    if not isinstance(obj, str) or str(encoding).lower().replace("-", "") not in ("latin1", "utf8", "ascii"):
        raise pickle.UnpicklingError("refusing _codecs.encode other than text to latin1 bytes")
    return obj.encode(encoding, errors)


def _safe_empty_bytes(*args):
    """Python 3 writes an empty ``bytes`` at protocol 2 as ``bytes()``: only that is allowed
    (``bytes(10**9)`` would allocate a gigabyte)."""
    if args:
        raise pickle.UnpicklingError("refusing bytes() with arguments (only the empty bytes b'' is allowed)")
    return b""


_ALLOWED = {
    ("__builtin__", "bytes"): _safe_empty_bytes,
    ("builtins", "bytes"): _safe_empty_bytes,
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


_NO_ARG = -100
# opcode byte -> (name, argument size or kind, memo op?, two lines?)
_OPS = {ord(op.code): (op.name, _NO_ARG if op.arg is None else op.arg.n, op.name in _MEMO_OPS,
                       op.arg is not None and op.arg.name == "stringnl_noescape_pair")
        for op in pickletools.opcodes}
_COUNTED = {pickletools.TAKEN_FROM_ARGUMENT1: ("<B", 1), pickletools.TAKEN_FROM_ARGUMENT4: ("<i", 4),
            pickletools.TAKEN_FROM_ARGUMENT4U: ("<I", 4), pickletools.TAKEN_FROM_ARGUMENT8U: ("<Q", 8)}


def _prescan(data: bytes, source: str) -> None:
    """Refuse, before unpickling, a pickle whose opcodes would allocate more than it holds.

    Walks the opcodes as :func:`pickletools.genops` does, but skips counted strings instead
    of reading (and decoding) them: an official batch is scanned in a few milliseconds.
    """
    def corrupt(why: str):
        return DatasetError(f"{source}: corrupt or truncated pickle ({why})")

    pos, end, ops = 0, len(data), 0
    while True:
        if pos >= end:
            raise corrupt("it ends before its STOP opcode")
        op = _OPS.get(data[pos])
        if op is None:
            raise corrupt(f"unknown opcode {data[pos:pos + 1]!r} at byte {pos}")
        ops += 1
        if ops > MAX_PICKLE_OPS:
            raise DatasetError(f"{source}: more than {MAX_PICKLE_OPS:,} pickle operations; not a CIFAR-10 batch")
        name, n, is_memo, pair = op
        at, pos, memo = pos, pos + 1, None
        if n >= 0:
            if is_memo:
                memo = int.from_bytes(data[pos:pos + n], "little")
            pos += n
        elif n == _NO_ARG:
            if name == "STOP":
                return
        elif n == pickletools.UP_TO_NEWLINE:
            for _ in range(2 if pair else 1):
                nl = data.find(b"\n", pos)
                if nl < 0:
                    raise corrupt(f"{name} at byte {at} has no end of line")
                if is_memo:
                    try:
                        memo = int(data[pos:nl])
                    except ValueError:
                        raise corrupt(f"PUT at byte {at} has no index") from None
                pos = nl + 1
        else:
            fmt, size = _COUNTED[n]
            if pos + size > end:
                raise corrupt(f"{name} at byte {at} is cut off")
            length = struct.unpack_from(fmt, data, pos)[0]
            pos += size
            # CPython allocates a BINBYTES8 / BYTEARRAY8 buffer of this length before reading it
            if length < 0 or length > end - pos:
                raise corrupt(f"{name} at byte {at} declares {length:,} bytes but only {end - pos:,} remain")
            pos += length
        if pos > end:
            raise corrupt(f"{name} at byte {at} is cut off")
        if memo is not None and not 0 <= memo <= MAX_PICKLE_OPS:
            raise DatasetError(f"{source}: unsafe or corrupt pickle: memo index {memo} at byte {at} "
                               f"(at most {MAX_PICKLE_OPS:,})")


def safe_loads(data: bytes, source: str):
    """Unpickle ``data`` (the contents of ``source``) or raise :class:`DatasetError` naming it."""
    _prescan(data, source)
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        raise DatasetError(f"{source}: unsafe or corrupt pickle: {e}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, UnicodeError, RecursionError) as e:
        raise DatasetError(f"{source}: corrupt or truncated pickle ({type(e).__name__}: {e})") from None
