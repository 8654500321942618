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
"""
from __future__ import annotations

import tarfile
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from .base import DatasetError
from .safe_pickle import safe_loads

DEFAULT_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PY_DIR, BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
ARCHIVES = {"python": "cifar-10-python.tar.gz", "binary": "cifar-10-binary.tar.gz"}
LAYOUT = {
    "python": (PY_DIR, [f"data_batch_{i}" for i in range(1, 6)], "test_batch", "batches.meta"),
    "binary": (BIN_DIR, [f"data_batch_{i}.bin" for i in range(1, 6)], "test_batch.bin", "batches.meta.txt"),
}
RECORD = 1 + 3072


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
                with tarfile.open(self.archive, "r:*") as tar:
                    for m in tar:
                        base = m.name.rsplit("/", 1)[-1]
                        if m.isfile() and base in wanted and base not in members:
                            f = tar.extractfile(m)
                            data = f.read() if f else b""
                            if len(data) != m.size:
                                raise EOFError("member shorter than its header says")
                            members[base] = data
            except FileNotFoundError:
                raise DatasetError(f"{self.archive}: no such file") from None
            except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
                raise DatasetError(f"{self.archive}: corrupt or truncated archive ({e})") from None
            self._members = members
        return self._members

    def read(self, name: str, required: bool = True) -> bytes | None:
        if self.directory is not None:
            path = self.directory / name
            try:
                return path.read_bytes()
            except FileNotFoundError:
                if required:
                    raise DatasetError(f"{path}: missing CIFAR-10 file") from None
                return None
            except OSError as e:
                raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
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
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DatasetError(f"{where}: 'labels' must be a list of integers") from None
    if y.ndim != 1 or len(y) != len(X):
        raise DatasetError(f"{where}: {len(X)} images but {y.size} labels")
    _check_labels(y, where, num_classes)
    return X.reshape(-1, 3, 32, 32), y


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
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names]
    if len(names) < 2:
        raise DatasetError(f"{where}: expected the class names, found {len(names)}")
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
        with open(p, "rb") as f:
            head = f.read(2)
        if head != b"\x1f\x8b" and not tarfile.is_tarfile(p):
            raise DatasetError(f"{p}: not a CIFAR-10 .tar.gz archive (not gzip or tar data)")
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
