"""CIFAR-10 in both official formats, from a directory or the official ``.tar.gz``.

- Python version (``cifar-10-python.tar.gz`` → ``cifar-10-batches-py/``): ``data_batch_1..5``,
  ``test_batch`` and ``batches.meta``, pickled dicts read with :mod:`.safe_pickle`
  (``b"data"``: uint8 ``(10000, 3072)`` in CHW order, ``b"labels"``: list of ints,
  ``b"label_names"`` in the meta file).
- Binary version (``cifar-10-binary.tar.gz`` → ``cifar-10-batches-bin/``):
  ``data_batch_1..5.bin``, ``test_batch.bin`` (records of 1 label byte + 3072 pixel bytes)
  and ``batches.meta.txt`` (one class name per line).

Images come back as uint8 ``(N, 32, 32, 3)`` (HWC), read with ``np.frombuffer`` and one
vectorised transpose per batch.

Every size is checked before it is read: a batch file (or archive member) may hold at most
:data:`MAX_BATCH_BYTES`, a meta file :data:`MAX_META_BYTES`; an archive is scanned for at
most :data:`MAX_ARCHIVE_MEMBERS` members and :data:`MAX_ARCHIVE_BYTES` of uncompressed data
(so a bomb of members that are skipped cannot take minutes), and its long-name / pax headers
are bounded. A Python batch's ``labels`` must be a flat list of ints, one per image, checked
before any conversion.
"""
from __future__ import annotations

import tarfile
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from ..safeio import read_capped
from .base import MAX_CLASSES, DatasetError
from .safe_pickle import safe_loads

try:
    from lzma import LZMAError
except ImportError:     # a Python built without lzma cannot open .tar.xz anyway
    class LZMAError(Exception):
        pass

DEFAULT_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PY_DIR, BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
ARCHIVES = {"python": "cifar-10-python.tar.gz", "binary": "cifar-10-binary.tar.gz"}
LAYOUT = {
    "python": (PY_DIR, [f"data_batch_{i}" for i in range(1, 6)], "test_batch", "batches.meta"),
    "binary": (BIN_DIR, [f"data_batch_{i}.bin" for i in range(1, 6)], "test_batch.bin", "batches.meta.txt"),
}
RECORD = 1 + 3072
# An official Python batch is 31,035,704 bytes, a binary one 30,730,000; a Python 3 rewrite of a
# Python batch (protocol 2 stores the pixel bytes as UTF-8 text) up to about 62 MB.
MAX_BATCH_BYTES = 64 << 20
MAX_META_BYTES = 1 << 20            # the official meta files: 158 and 61 bytes
MAX_ARCHIVE_MEMBERS = 256           # the official archives: 9 entries
MAX_ARCHIVE_BYTES = 6 * MAX_BATCH_BYTES + (16 << 20)   # official: about 186 MB uncompressed
MAX_TAR_HEADER_BYTES = 64 << 10     # a GNU long name or a pax header


class _ArchiveLimit(Exception):
    """An archive's header asks for more than we read; becomes a DatasetError."""


class _BoundedTarInfo(tarfile.TarInfo):
    """TarInfo whose extended headers (GNU long names, pax) are refused beyond a few KB before
    tarfile reads them whole; sparse members (never in a CIFAR-10 archive) are refused."""

    def _proc_member(self, tf):
        if self.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                         tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE) and self.size > MAX_TAR_HEADER_BYTES:
            raise _ArchiveLimit(f"an extended tar header of {self.size:,} bytes (at most "
                                f"{MAX_TAR_HEADER_BYTES:,})")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _ArchiveLimit("a sparse member (not an official CIFAR-10 archive)")
        return super()._proc_member(tf)


def _tar_mode(path: Path) -> str:
    """The tarfile mode for ``path``'s compression, from its first bytes (``r:*`` would try each
    and report all four failures)."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return "r:*"            # tarfile.open says why
    if head[:2] == b"\x1f\x8b":
        return "r:gz"
    if head[:3] == b"BZh":
        return "r:bz2"
    if head == b"\xfd7zXZ\x00":
        return "r:xz"
    return "r:"


def _cap(name: str) -> int:
    return MAX_META_BYTES if name.startswith("batches.meta") else MAX_BATCH_BYTES


class _Source:
    """Reads the layout's files from a directory or from a tar archive."""

    def __init__(self, fmt: str, directory: Path | None = None, archive: Path | None = None):
        self.fmt, self.directory, self.archive = fmt, directory, archive
        self._members: dict[str, bytes] | None = None

    def where(self, name: str) -> str:
        if self.directory is not None:
            return str(self.directory / name)
        return f"{self.archive}:{LAYOUT[self.fmt][0]}/{name}"

    def _load_archive(self) -> dict[str, bytes]:
        if self._members is None:
            wanted = set(LAYOUT[self.fmt][1]) | {LAYOUT[self.fmt][2], LAYOUT[self.fmt][3]}
            members: dict[str, bytes] = {}
            try:
                with tarfile.open(self.archive, _tar_mode(self.archive), tarinfo=_BoundedTarInfo) as tar:
                    for count, m in enumerate(tar, 1):
                        base = m.name.rsplit("/", 1)[-1]
                        if m.isfile() and base in wanted and base not in members:
                            if m.size > _cap(base):
                                raise DatasetError(
                                    f"{self.archive}: {m.name} declares {m.size:,} bytes, more than a "
                                    f"CIFAR-10 {'meta file' if _cap(base) == MAX_META_BYTES else 'batch'} "
                                    f"holds (at most {_cap(base):,})")
                            f = tar.extractfile(m)
                            data = f.read(m.size) if f else b""
                            if len(data) != m.size:
                                raise EOFError("member shorter than its header says")
                            members[base] = data
                            if len(members) == len(wanted):
                                break
                        # the next member is found by decompressing past this one: bound both
                        if count >= MAX_ARCHIVE_MEMBERS:
                            raise _ArchiveLimit(f"more than {MAX_ARCHIVE_MEMBERS} members before the "
                                                "CIFAR-10 files")
                        if tar.offset > MAX_ARCHIVE_BYTES:
                            raise _ArchiveLimit(f"more than {MAX_ARCHIVE_BYTES >> 20} MB of members "
                                                "before the CIFAR-10 files")
            except FileNotFoundError:
                raise DatasetError(f"{self.archive}: no such file") from None
            except _ArchiveLimit as e:
                raise DatasetError(f"{self.archive}: not a CIFAR-10 archive: {e}") from None
            except RecursionError:
                raise DatasetError(f"{self.archive}: corrupt archive (extended headers nested too deep)") from None
            except (tarfile.TarError, EOFError, zlib.error, LZMAError, OSError) as e:
                detail = " ".join(str(e).split())       # tarfile's messages may span lines
                raise DatasetError(f"{self.archive}: corrupt or truncated archive ({detail})") from None
            self._members = members
        return self._members

    def read(self, name: str, required: bool = True) -> bytes | None:
        if self.directory is not None:
            path = self.directory / name
            if not path.exists():
                if required:
                    raise DatasetError(f"{path}: missing CIFAR-10 file")
                return None
            what = "a CIFAR-10 meta file" if _cap(name) == MAX_META_BYTES else "a CIFAR-10 batch"
            return read_capped(path, _cap(name), DatasetError, what)
        data = self._load_archive().get(name)
        if data is None and required:
            raise DatasetError(f"{self.archive}: the archive has no {LAYOUT[self.fmt][0]}/{name} "
                               "(not an official CIFAR-10 archive?)")
        return data


def _python_batch(data: bytes, where: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    d = safe_loads(data, where)
    if not isinstance(d, dict):
        raise DatasetError(f"{where}: not a CIFAR-10 batch (a pickled {type(d).__name__}, expected a dict)")
    d = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}
    if "data" not in d or "labels" not in d:
        raise DatasetError(f"{where}: not a CIFAR-10 batch (no 'data' and 'labels' entries)")
    X, labels = d["data"], d["labels"]
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 3072:
        shape = getattr(X, "shape", None)
        raise DatasetError(f"{where}: 'data' must be a uint8 array of shape (N, 3072), got "
                           f"{type(X).__name__} {getattr(X, 'dtype', '')} {shape}")
    if X.nbytes > min(len(data), MAX_BATCH_BYTES):   # cannot happen with safe_loads; never trust it
        raise DatasetError(f"{where}: 'data' declares {len(X):,} images ({X.nbytes:,} bytes) but the "
                           f"file holds {len(data):,} bytes")
    if len(X) == 0:
        raise DatasetError(f"{where}: the batch is empty")
    # labels: checked as a flat list before numpy sees it (nested lists sharing references
    # would expand to billions of elements in np.asarray)
    if not isinstance(labels, list):
        raise DatasetError(f"{where}: 'labels' must be a list of integers, got {type(labels).__name__}")
    if len(labels) != len(X):
        raise DatasetError(f"{where}: {len(X)} images but {len(labels)} labels")
    for i, v in enumerate(labels):
        if type(v) is not int:
            raise DatasetError(f"{where}: 'labels'[{i}] is {_short(v)}, expected an integer")
    lo, hi = min(labels), max(labels)
    if lo < 0 or hi >= num_classes:
        bad = labels.index(lo if lo < 0 else hi)
        raise DatasetError(f"{where}: labels out of range ('labels'[{bad}] = {_short(labels[bad])}, "
                           f"expected 0..{num_classes - 1})")
    return X.reshape(-1, 3, 32, 32), np.array(labels, dtype=np.int64)


def _short(v) -> str:
    """``v`` for a message, never expanded: a nested list's repr could be billions of items
    long (shared references) and a pickled int millions of digits."""
    if isinstance(v, int) and not isinstance(v, bool):
        return repr(v) if v.bit_length() <= 64 else f"an integer of {v.bit_length():,} bits"
    if isinstance(v, (float, bool)) or v is None:
        return f"{type(v).__name__} {v!r}"
    if isinstance(v, (str, bytes)):
        return f"{type(v).__name__} {v[:37]!r}" + ("..." if len(v) > 37 else "")
    return type(v).__name__ + (f" of {len(v):,} items" if hasattr(v, "__len__") else "")


def _binary_batch(data: bytes, where: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0:
        raise DatasetError(f"{where}: empty file")
    if len(data) % RECORD:
        raise DatasetError(f"{where}: truncated or corrupt: {len(data)} bytes is not a whole number of "
                           f"{RECORD}-byte records (1 label byte + 3072 pixel bytes)")
    rec = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    y = rec[:, 0].astype(np.int64)
    _check_labels(y, where, num_classes)
    return rec[:, 1:].reshape(-1, 3, 32, 32), y


def _check_labels(y: np.ndarray, where: str, num_classes: int) -> None:
    if len(y) == 0:
        raise DatasetError(f"{where}: the batch is empty")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= num_classes:
        raise DatasetError(f"{where}: labels out of range ({lo}..{hi}, expected 0..{num_classes - 1})")


def _class_names(src: _Source) -> list[str]:
    name = LAYOUT[src.fmt][3]
    data = src.read(name, required=False)
    if data is None:
        return list(DEFAULT_NAMES)
    where = src.where(name)
    if src.fmt == "binary":
        names = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    else:
        meta = safe_loads(data, where)
        names = meta.get(b"label_names", meta.get("label_names")) if isinstance(meta, dict) else None
        if not isinstance(names, list):
            raise DatasetError(f"{where}: no 'label_names' list in the meta file")
        for i, n in enumerate(names):
            if not isinstance(n, (bytes, str)):
                raise DatasetError(f"{where}: 'label_names'[{i}] is {_short(n)}, expected a name")
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
    if len(names) < 2:
        raise DatasetError(f"{where}: expected the class names, found {len(names)}")
    if len(names) > MAX_CLASSES:
        raise DatasetError(f"{where}: {len(names):,} class names (at most {MAX_CLASSES:,} classes)")
    return names


def _to_hwc(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate CHW batches ``(n, 3, 32, 32)`` into one HWC array ``(N, 32, 32, 3)``.

    One strided copy per colour plane: about 4x faster than a generic 4-D transpose.
    """
    n = sum(len(p) for p in parts)
    out = np.empty((n, 32 * 32, 3), dtype=np.uint8)
    i = 0
    for p in parts:
        planes = p.reshape(len(p), 3, 32 * 32)
        for c in range(3):
            out[i:i + len(p), :, c] = planes[:, c]
        i += len(p)
    return out.reshape(n, 32, 32, 3)


def find_cifar10(path: str | Path, prefer: str = "python") -> _Source:
    """Locate CIFAR-10 at ``path``: a ``.tar.gz``, a ``cifar-10-batches-*`` directory, or a directory
    holding one of those (``prefer`` picks the format when both are present)."""
    p = Path(path).expanduser()
    order = [prefer] + [f for f in ("python", "binary") if f != prefer]
    if p.is_file():
        # recognised by its first bytes: tarfile.is_tarfile would parse the first header with
        # the stock TarInfo, reading a GNU long name of any size (from a bz2/xz bomb) whole
        try:
            with open(p, "rb") as f:
                head = f.read(512)
        except OSError as e:
            raise DatasetError(f"{p}: cannot read ({e.strerror or e})") from None
        if _tar_mode(p) == "r:" and head[257:262] != b"ustar":
            raise DatasetError(f"{p}: not a CIFAR-10 .tar.gz archive (not gzip, bzip2, xz or tar data)")
        fmt = "binary" if "bin" in p.name else "python"
        return _Source(fmt, archive=p)
    if not p.exists():
        raise DatasetError(f"{p}: no such file or directory")
    for fmt in order:
        layout = LAYOUT[fmt]
        if (p / layout[1][0]).is_file() or (p / layout[2]).is_file():
            return _Source(fmt, directory=p)
    for fmt in order:
        if (p / LAYOUT[fmt][0]).is_dir():
            return _Source(fmt, directory=p / LAYOUT[fmt][0])
    for fmt in order:
        if (p / ARCHIVES[fmt]).is_file():
            return _Source(fmt, archive=p / ARCHIVES[fmt])
    raise DatasetError(f"{p}: no CIFAR-10 found (looked for {PY_DIR}/, {BIN_DIR}/, data_batch_1, "
                       f"data_batch_1.bin, {ARCHIVES['python']} and {ARCHIVES['binary']})")


def read_cifar10(path: str | Path, prefer: str = "python",
                 progress: Callable[[float, str], None] | None = None):
    """Read CIFAR-10 from ``path`` (see :func:`find_cifar10`).

    Returns ``(X_train, y_train, X_test, y_test, class_names)`` with ``X_*`` uint8
    ``(N, 32, 32, 3)`` and ``y_*`` int64.
    """
    src = find_cifar10(path, prefer)
    _, train_names, test_name, _ = LAYOUT[src.fmt]
    names = _class_names(src)
    parse = _python_batch if src.fmt == "python" else _binary_batch
    parts, labels = [], []
    for i, name in enumerate(train_names + [test_name]):
        if progress:
            progress(0.8 * i / 6, f"reading {src.where(name)}")
        X, y = parse(src.read(name), src.where(name), len(names))
        parts.append(X)
        labels.append(y)
    X_train, X_test = _to_hwc(parts[:5]), _to_hwc(parts[5:])
    return X_train, np.concatenate(labels[:5]), X_test, labels[5], names
