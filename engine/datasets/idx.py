"""MNIST and Fashion-MNIST from the four IDX files, gzipped or not.

IDX: a big-endian header ``0x00 0x00 <type> <ndim>`` then ``ndim`` 32-bit sizes, then the
data. Images are type 0x08 (uint8) with 3 dimensions (magic 2051), labels 1 dimension (2049).
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from .base import DatasetError

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_NAMES = [str(k) for k in range(10)]
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain); ``ndim`` checks the number of dimensions."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing file") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DatasetError(f"{path}: corrupt or truncated gzip data ({e})") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
        raise DatasetError(f"{path}: wrong magic number {magic} (not an IDX file)")
    dims = raw[3]
    if ndim is not None and dims != ndim:
        expected = 2049 if ndim == 1 else 2051
        raise DatasetError(f"{path}: wrong magic number {int.from_bytes(raw[:4], 'big')} "
                           f"(expected {expected}: {ndim}-dimensional {'labels' if ndim == 1 else 'images'})")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    dtype = np.dtype(_DTYPES[raw[2]])
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != need:
        raise DatasetError(f"{path}: {'truncated' if len(raw) - header < need else 'corrupt'}: header says "
                           f"{shape} ({need} bytes of data) but the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def find_idx_files(directory: str | Path) -> list[Path]:
    """The four files in ``directory`` (``name.gz`` or ``name``, also ``name.idx3-ubyte``-style dots)."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise DatasetError(f"{d}: no such directory")
    found = []
    for name in FILES:
        candidates = [name + ".gz", name, name.replace("-idx", ".idx") + ".gz", name.replace("-idx", ".idx")]
        for c in candidates:
            if (d / c).is_file():
                found.append(d / c)
                break
        else:
            raise DatasetError(f"{d / (name + '.gz')}: missing file (need {', '.join(f + '[.gz]' for f in FILES)})")
    return found


def read_mnist(directory: str | Path, progress: Callable[[float, str], None] | None = None):
    """``(X_train, y_train, X_test, y_test)``: uint8 ``(N, 28, 28, 1)`` images and int64 labels."""
    paths = find_idx_files(directory)
    out = []
    for i, (img_path, lab_path) in enumerate([(paths[0], paths[1]), (paths[2], paths[3])]):
        if progress:
            progress(0.4 * i, f"reading {img_path.name}")
        X = read_idx(img_path, 3)
        y = read_idx(lab_path, 1)
        if X.dtype != np.uint8 or y.dtype != np.uint8:
            raise DatasetError(f"{img_path if X.dtype != np.uint8 else lab_path}: expected unsigned bytes")
        if len(X) != len(y):
            raise DatasetError(f"{img_path}: {len(X)} images but {lab_path.name} has {len(y)} labels")
        if len(X) == 0:
            raise DatasetError(f"{img_path}: the file holds no images")
        if y.max() > 9:
            raise DatasetError(f"{lab_path}: labels out of range (maximum {int(y.max())}, expected 0..9)")
        out += [X.reshape(*X.shape, 1), y.astype(np.int64)]
    return tuple(out)
