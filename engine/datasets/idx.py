"""MNIST and Fashion-MNIST from the four IDX files, gzipped or not.

IDX: a big-endian header ``0x00 0x00 <type> <ndim>`` then ``ndim`` 32-bit sizes, then the
data. Images are type 0x08 (uint8) with 3 dimensions (magic 2051), labels 1 dimension (2049).

Sizes are checked before anything is allocated: the header is read first (from the first
few KB of a ``.gz``), the size it declares is computed exactly (Python integers: dimensions
whose product overflows 64 bits are caught) and refused above :data:`MAX_IDX_BYTES`; a plain
file must be exactly header + data long, a gzipped one is inflated with a cap of exactly
that many bytes and must produce all of them. The four headers are cross-checked (types,
28x28 images, as many labels as images) before any data is read.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..safeio import BOMB_MIN_BYTES, BOMB_RATIO, gunzip_capped, gzip_prefix, read_capped, regular_file_size
from .base import DatasetError

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_NAMES = [str(k) for k in range(10)]
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TYPE_NAMES = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "16-bit integers",
               0x0C: "32-bit integers", 0x0D: "32-bit floats", 0x0E: "64-bit floats"}
MAX_IDX_BYTES = 1 << 30         # MNIST's training images: 47 MB
IMAGE_SIZE = (28, 28)
_HEAD_READ = 64 << 10           # compressed bytes read to find a .gz file's header
_MAX_HEADER = 4 + 4 * 255


def _mb(n: int) -> str:
    return f"{n:,} bytes" if n < 1 << 20 else f"{n / 2**20:,.0f} MB"


@dataclass
class _Idx:
    """What an IDX file's header declares, checked against the file's size."""
    path: Path
    gz: bool
    size: int               # of the file on disk
    type_byte: int
    shape: tuple[int, ...]
    offset: int             # header length
    nbytes: int             # declared data length

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(_DTYPES[self.type_byte])


def _read_header(path: Path, ndim: int | None = None) -> _Idx:
    if not path.exists():
        raise DatasetError(f"{path}: missing file")
    size = regular_file_size(path, DatasetError, "an IDX file")
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_READ)
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    gz = head[:2] == b"\x1f\x8b"
    raw = gzip_prefix(head, _MAX_HEADER, str(path), DatasetError) if gz else head[:_MAX_HEADER]
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
        if magic is None and gz:
            raise DatasetError(f"{path}: truncated or corrupt gzip data (no IDX header in it)")
        raise DatasetError(f"{path}: wrong magic number {magic} (not an IDX file)")
    dims = raw[3]
    if ndim is not None and dims != ndim:
        expected = 2049 if ndim == 1 else 2051
        raise DatasetError(f"{path}: wrong magic number {int.from_bytes(raw[:4], 'big')} "
                           f"(expected {expected}: {ndim}-dimensional {'labels' if ndim == 1 else 'images'})")
    offset = 4 + 4 * dims
    if len(raw) < offset:
        raise DatasetError(f"{path}: truncated header ({len(raw)} of {offset} bytes)")
    shape = struct.unpack(f">{dims}I", raw[4:offset])
    h = _Idx(path, gz, size, raw[2], shape, offset, math.prod(shape) * np.dtype(_DTYPES[raw[2]]).itemsize)
    if h.nbytes > MAX_IDX_BYTES:
        raise DatasetError(f"{path}: the header declares shape {shape} of {_TYPE_NAMES[h.type_byte]}: "
                           f"{_mb(h.nbytes)} of data, more than an IDX file may hold (at most {_mb(MAX_IDX_BYTES)})")
    if not gz:
        if size != offset + h.nbytes:
            raise DatasetError(f"{path}: {'truncated' if size < offset + h.nbytes else 'corrupt'}: header says "
                               f"{shape} ({h.nbytes} bytes of data) but the file has {size - offset}")
    elif h.nbytes > BOMB_MIN_BYTES and h.nbytes > BOMB_RATIO * size:
        raise DatasetError(f"{path}: declares {_mb(h.nbytes)} of data from {_mb(size)} of gzip data "
                           "(a decompression bomb?)")
    elif size > _gz_bound(h):
        raise DatasetError(f"{path}: corrupt: {_mb(size)} of gzip data, but the header declares only "
                           f"{shape} ({h.nbytes} bytes of data)")
    return h


def _gz_bound(h: _Idx) -> int:
    """The most gzip bytes ``h``'s data can take (deflate's stored blocks add 5 bytes per 64 KB)."""
    n = h.offset + h.nbytes
    return n + n // 100 + (1 << 16)


def _read_data(h: _Idx) -> np.ndarray:
    total = h.offset + h.nbytes
    if h.gz:
        data = read_capped(h.path, _gz_bound(h), DatasetError, "this IDX file")
        try:
            raw = gunzip_capped(data, total, str(h.path), DatasetError)
        except DatasetError as e:
            if "decompresses to more than" not in str(e):
                raise
            raise DatasetError(f"{h.path}: corrupt: header says {h.shape} ({h.nbytes} bytes of data) but "
                               "the file holds more") from None
        del data
    else:
        raw = read_capped(h.path, total, DatasetError, "this IDX file")
    if len(raw) != total:
        raise DatasetError(f"{h.path}: truncated: header says {h.shape} ({h.nbytes} bytes of data) but the "
                           f"file has {max(len(raw) - h.offset, 0)}")
    return np.frombuffer(raw, dtype=h.dtype, offset=h.offset).reshape(h.shape)


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain); ``ndim`` checks the number of dimensions."""
    return _read_data(_read_header(Path(path), ndim))


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
    pairs = []
    for img_path, lab_path in [(paths[0], paths[1]), (paths[2], paths[3])]:
        img, lab = _read_header(img_path, 3), _read_header(lab_path, 1)
        for h in (img, lab):
            if h.type_byte != 0x08:
                raise DatasetError(f"{h.path}: holds {_TYPE_NAMES[h.type_byte]} (type byte 0x{h.type_byte:02X}), "
                                   "expected unsigned bytes (0x08)")
        if img.shape[1:] != IMAGE_SIZE:
            raise DatasetError(f"{img_path}: images of {img.shape[1]}x{img.shape[2]} pixels, expected "
                               f"{IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}")
        if img.shape[0] != lab.shape[0]:
            raise DatasetError(f"{img_path}: {img.shape[0]} images but {lab_path.name} has {lab.shape[0]} labels")
        if img.shape[0] == 0:
            raise DatasetError(f"{img_path}: the file holds no images")
        pairs.append((img, lab))
    out = []
    for i, (img, lab) in enumerate(pairs):
        if progress:
            progress(0.4 * i, f"reading {img.path.name}")
        y = _read_data(lab)
        hi = int(np.argmax(y))
        if y[hi] > 9:
            raise DatasetError(f"{lab.path}: labels out of range (label[{hi}] = {int(y[hi])}, expected 0..9)")
        X = _read_data(img)
        out += [X.reshape(*X.shape, 1), y.astype(np.int64)]
    return tuple(out)
