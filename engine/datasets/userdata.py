"""The user's own data: an image folder, a CSV file or an NPZ file.

- Folder (``cfg.data_dir``): one sub-folder per class (class names = folder names, sorted),
  PNG / baseline JPEG / PPM / PGM images, each resized to ``cfg.image_size`` square.
  Every image must have the same size as the first one (a mixed folder is usually a
  mistake — a stray screenshot among photos); ``mixed_sizes="resize"`` accepts them.
  Grey images are made RGB when the folder also holds colour images.
- CSV (``cfg.data_file``, at most :data:`MAX_CSV_BYTES`): a label column plus numeric
  feature columns, with or without a header (a first row whose cells are all non-numeric;
  a first row mixing numbers and other text is data, so a typo in it is an error, not a
  header). The label column is the first, or the one named label / class / y / target when
  there is a header. Integer labels are class indices (names "0", "1", ...); other labels
  are class names, numbered in sorted order. Rows are converted as they are read.
- NPZ (``cfg.data_file``): arrays ``x`` (N, D) or (N, H, W[, C]) and ``y`` (N,), optional
  ``class_names``; read with :func:`engine.safeio.read_npz` (each array's size checked
  before it is allocated, at most :data:`MAX_NPZ_BYTES` in all, no pickled objects). uint8
  images of shape (N, H, W[, C]) are treated as images (display copies kept); everything
  else as feature rows.

Labels are checked before any cast: whole numbers (1.5 is an error, not 1), at least 0, and
class indices below the number of examples and :data:`~.base.MAX_CLASSES`.
"""
from __future__ import annotations

import csv
import math
from array import array
from pathlib import Path
from typing import Callable

import numpy as np

from ..safeio import read_capped
from ..safeio import read_npz as read_npz_arrays
from .base import FLOAT32_MAX, MAX_CLASSES, Dataset, DatasetError, check_arrays
from .imageio import IMAGE_EXTENSIONS, read_image_scaled
from .preprocess import build_dataset

LABEL_COLUMNS = ("label", "class", "y", "target")
MAX_CSV_BYTES = 256 << 20
MAX_CSV_ROW_CHARS = 1 << 20     # one row (a 3,072-pixel image is about 12,000 characters)
MAX_NPZ_BYTES = 2 << 30


# ------------------------------------------------------------------------------ folder
def read_image_folder(directory: str | Path, size: int, mixed_sizes: str = "error", progress=None):
    """``(images uint8 (N, size, size, C), labels int64 (N,), class_names)``."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{root}: no class sub-folders (expected one folder of images per class)")
    files: list[tuple[Path, int]] = []
    for k, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_EXTENSIONS:
                files.append((f, k))
    if not files:
        raise DatasetError(f"{root}: the dataset is empty (no {', '.join(IMAGE_EXTENSIONS)} images "
                           "in the class folders)")
    empty = [c for k, c in enumerate(classes) if not any(lab == k for _, lab in files)]
    if empty:
        raise DatasetError(f"{root / empty[0]}: class folder holds no images")
    images, first = [], None
    for i, (f, _) in enumerate(files):
        if progress and i % 50 == 0:
            progress(0.8 * i / len(files), f"reading {f.name}")
        img, full = read_image_scaled(f, size, size)     # decoded straight to size x size
        if first is None:
            first = (f, full)
        elif full != first[1] and mixed_sizes == "error":
            raise DatasetError(f"{f}: images of mixed sizes: this one is {full[1]}x{full[0]} "
                               f"but {first[0]} is {first[1][1]}x{first[1][0]}; make them all the same size")
        images.append(img)
    channels = max(im.shape[2] for im in images)
    out = np.empty((len(images), size, size, channels), dtype=np.uint8)
    for i, im in enumerate(images):
        out[i] = im if im.shape[2] == channels else np.repeat(im, channels, axis=2)
    labels = np.array([k for _, k in files], dtype=np.int64)
    return out, labels, classes


def load_folder(cfg, progress=None, mixed_sizes: str = "error") -> Dataset:
    if not cfg.data_dir:
        raise DatasetError("the folder dataset needs --data-dir: a folder with one sub-folder of images per class")
    X, y, names = read_image_folder(cfg.data_dir, cfg.image_size, mixed_sizes, progress)
    return build_dataset("folder", X, y, names, X.shape[1:], cfg, scale=255.0, progress=progress)


# --------------------------------------------------------------------------------- CSV
def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _labels_to_classes(distinct: list[str], inverse: np.ndarray, source: str,
                       where: Callable[[int], str]) -> tuple[np.ndarray, list[str]]:
    """Class indices and names from the ``distinct`` label texts and each example's index into them.

    All numeric: class indices (whole numbers, 0 or more, fewer classes than examples and
    than :data:`MAX_CLASSES`); otherwise class names in sorted order. ``where(k)`` says where
    ``distinct[k]`` first occurs (``line 7``, ``y[6]``) for the error messages.
    """
    n = len(inverse)
    if len(distinct) > MAX_CLASSES:
        raise DatasetError(f"{source}: {len(distinct):,} different labels (at most {MAX_CLASSES:,} classes)")
    if all(_is_number(v) for v in distinct):
        vals = [float(v) for v in distinct]
        for k, v in enumerate(vals):
            if not math.isfinite(v) or not v.is_integer():
                raise DatasetError(f"{source}: label {distinct[k]!r} ({where(k)}) is not a whole number "
                                   "or a class name")
            if v < 0:
                raise DatasetError(f"{source}: labels out of range: label {distinct[k]!r} ({where(k)}) < 0")
        top = max(range(len(vals)), key=vals.__getitem__)
        limit = min(n, MAX_CLASSES)
        if vals[top] >= limit:       # compared as a float: 1e300 is not cast first
            why = f"more than the {n:,} examples" if n <= MAX_CLASSES else f"more than the {MAX_CLASSES:,} allowed"
            raise DatasetError(f"{source}: label {distinct[top]!r} ({where(top)}) would make "
                               f"{_count(vals[top] + 1)} classes, {why} (numeric labels are class indices "
                               "0, 1, 2, ...)")
        lut = np.array([int(v) for v in vals], dtype=np.int64)
        return lut[inverse], [str(k) for k in range(int(vals[top]) + 1)]
    names = sorted(distinct)
    index = {v: k for k, v in enumerate(names)}
    lut = np.array([index[v] for v in distinct], dtype=np.int64)
    return lut[inverse], names


def _count(v: float) -> str:
    return f"{v:,.0f}" if v < 1e15 else f"{v:g}"


class _Lines:
    """The lines of ``text`` with their endings, one at a time (no copy of the whole text).

    Lines end at ``\n`` (``\r\n`` included), or at ``\r`` in a file that has no ``\n``.
    ``row`` counts the characters handed out since the caller last reset it: the csv module
    builds a whole row (a list of strings) before returning it, so a row of millions of
    cells is refused while it is being read, not after.
    """

    def __init__(self, text: str, path: Path):
        self.text, self.path = text, path
        self.sep = "\n" if "\n" in text or "\r" not in text else "\r"
        self.start = self.row = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.start >= len(self.text):
            raise StopIteration
        end = self.text.find(self.sep, self.start)
        end = len(self.text) if end < 0 else end + 1
        line = self.text[self.start:end]
        self.start = end
        self.row += len(line)
        if self.row > MAX_CSV_ROW_CHARS:
            raise DatasetError(f"{self.path}: line {self.text.count(self.sep, 0, end - 1) + 1}: a row of more than "
                               f"{MAX_CSV_ROW_CHARS:,} characters (not a CSV of numbers?)")
        return line


def read_csv(path: str | Path):
    """``(X float64 (N, D), y int64 (N,), class_names)`` from a CSV file."""
    path = Path(path).expanduser()
    data = read_capped(path, MAX_CSV_BYTES, DatasetError, "a CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not a text CSV file (not UTF-8: byte {e.start:,})") from None
    del data
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = _Lines(text, path)
    reader = csv.reader(lines, dialect)
    width, label_col, header = 0, 0, False
    values = array("d")             # the features, row after row (8 bytes a value, no str objects)
    ids = array("H")                # each row's label, an index into label_ids
    label_ids: dict[str, int] = {}
    first_line: list[int] = []      # where each label first occurs
    try:
        for raw in reader:
            lines.row = 0
            row = [c.strip() for c in raw]
            if not any(row):
                continue
            line = reader.line_num
            if not width:
                width = len(row)
                if all(not _is_number(c) for c in row):     # a header: names only
                    header = True
                    lower = [c.lower() for c in row]
                    label_col = next((lower.index(c) for c in LABEL_COLUMNS if c in lower), 0)
                    continue
                if width < 2:
                    raise DatasetError(f"{path}: needs a label column and at least one feature column")
            if len(row) != width:
                raise DatasetError(f"{path}: line {line}: ragged row with {len(row)} columns, expected {width}")
            feats = row[:label_col] + row[label_col + 1:]
            try:
                vals = [float(c) for c in feats]
            except ValueError:
                j = next(j for j, c in enumerate(feats) if not _is_number(c))
                raise DatasetError(f"{path}: line {line}, column {j + (j >= label_col) + 1}: {_cell(feats[j])} "
                                   "is not a number") from None
            if not all(map(math.isfinite, vals)):
                j = next(j for j, v in enumerate(vals) if not math.isfinite(v))
                raise DatasetError(f"{path}: line {line}: NaN or infinite value in column {j + (j >= label_col) + 1}"
                                   f" ({_cell(feats[j])})")
            if vals and max(map(abs, vals)) > FLOAT32_MAX:
                j = next(j for j, v in enumerate(vals) if abs(v) > FLOAT32_MAX)
                raise DatasetError(f"{path}: line {line}, column {j + (j >= label_col) + 1}: {_cell(feats[j])} is "
                                   f"beyond the float32 range training uses (±{FLOAT32_MAX:.3g})")
            values.extend(vals)
            label = row[label_col]
            k = label_ids.get(label)
            if k is None:
                if len(label_ids) >= MAX_CLASSES:
                    raise DatasetError(f"{path}: line {line}: label {_cell(label)} makes more than "
                                       f"{MAX_CLASSES:,} different labels (at most {MAX_CLASSES:,} classes)")
                k = label_ids[label] = len(label_ids)
                first_line.append(line)
            ids.append(k)
    except csv.Error as e:
        what = (f"a field longer than {csv.field_size_limit():,} characters (not a CSV of numbers?)"
                if "field larger than field limit" in str(e) else f"not valid CSV ({e})")
        raise DatasetError(f"{path}: line {reader.line_num}: {what}") from None
    if not width:
        raise DatasetError(f"{path}: the dataset is empty")
    if not ids:
        raise DatasetError(f"{path}: the dataset is empty (only a header)")
    if width < 2:
        raise DatasetError(f"{path}: needs a label column and at least one feature column")
    distinct = list(label_ids)
    if (not header and len(distinct) > 1 and not _is_number(distinct[0]) and ids.count(0) == 1
            and all(_is_number(v) for v in distinct[1:])):
        # the first row is data, but its label alone is not a number: a header with numbers in it
        raise DatasetError(f"{path}: line {first_line[0]}, column {label_col + 1}: {_cell(distinct[0])} is not a "
                           "number while every other label is; a header row must hold only names "
                           "(e.g. x1, not 1)")
    X = np.frombuffer(values, dtype=np.float64).reshape(len(ids), width - 1)
    inverse = np.frombuffer(ids, dtype=np.uint16).astype(np.intp)
    y, names = _labels_to_classes(distinct, inverse, str(path), lambda k: f"line {first_line[k]}")
    return X, y, names


def _cell(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


def load_csv(cfg, progress=None) -> Dataset:
    if not cfg.data_file:
        raise DatasetError("the csv dataset needs --data-file: a CSV with a label column and feature columns")
    X, y, names = read_csv(cfg.data_file)
    return _finish_rows("csv", X, y, names, cfg, progress)


def _check_classes(names, cfg) -> None:
    if len(names) < 2:
        found = f"only one class ({names[0]!r})" if names else "no classes"
        raise DatasetError(f"{cfg.data_file}: {found}; a classifier needs at least two")


def _finish_rows(name, X, y, names, cfg, progress) -> Dataset:
    _check_classes(names, cfg)
    return build_dataset(name, X, y, names, (X.shape[1],), cfg, is_image=False, progress=progress)


# --------------------------------------------------------------------------------- NPZ
def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def read_npz(path: str | Path):
    """``(X, y int64, class_names, is_image)`` from an NPZ with arrays x, y[, class_names]."""
    path = Path(path).expanduser()
    z = read_npz_arrays(path, DatasetError, max_bytes=MAX_NPZ_BYTES, what="an NPZ dataset")
    keys = {k.lower(): k for k in z}
    if "x" not in keys or "y" not in keys:
        found = ", ".join(list(z)[:10]) + (", ..." if len(z) > 10 else "")
        raise DatasetError(f"{path}: needs arrays named x and y (found: {found or 'none'})")
    X, y = z[keys["x"]], z[keys["y"]]
    names = z[keys["class_names"]] if "class_names" in keys else None
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: x must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise DatasetError(f"{path}: x must have one row per example, got shape {X.shape}")
    if y.ndim != 1:
        raise DatasetError(f"{path}: y must be a 1-D array of labels, got shape {y.shape}")
    if len(X) == 0:
        raise DatasetError(f"{path}: the dataset is empty")
    if names is not None:
        if names.size > MAX_CLASSES:
            raise DatasetError(f"{path}: {names.size:,} class_names (at most {MAX_CLASSES:,} classes)")
        names = [_text(n) for n in names.reshape(-1).tolist()]
    if y.dtype.kind in "US":
        if names is not None:
            raise DatasetError(f"{path}: y holds strings and class_names is given; use integer y")
        if len(y) != len(X):
            raise DatasetError(f"{path}: {len(X)} examples but {len(y)} labels")
        distinct, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        if len(distinct) > MAX_CLASSES:
            raise DatasetError(f"{path}: {len(distinct):,} different labels in y (at most {MAX_CLASSES:,} classes)")
        y, names = _labels_to_classes([_text(v) for v in distinct.tolist()], inverse.reshape(-1), str(path),
                                      lambda k: f"y[{first[k]}]")
    elif y.dtype.kind not in "iuf":
        raise DatasetError(f"{path}: y must hold integer labels, got dtype {y.dtype}")
    is_image = X.dtype == np.uint8 and X.ndim in (3, 4)
    if X.ndim == 3:
        X = X[..., None] if is_image else X
    if X.ndim > 2 and not is_image:
        X = X.reshape(len(X), -1)
    # labels: range checked on the values as stored, before the cast (check_arrays)
    check_arrays(X.reshape(len(X), -1) if X.ndim > 2 else X, y, str(path),
                 len(names) if names is not None else None)
    y = y.astype(np.int64)
    if names is None:
        names = [str(k) for k in range(int(y.max()) + 1)]
    return X, y, names, is_image


def load_npz(cfg, progress=None) -> Dataset:
    if not cfg.data_file:
        raise DatasetError("the npz dataset needs --data-file: an NPZ with arrays x and y")
    X, y, names, is_image = read_npz(cfg.data_file)
    if is_image:
        _check_classes(names, cfg)
        return build_dataset("npz", X, y, names, X.shape[1:], cfg, scale=255.0, progress=progress)
    return _finish_rows("npz", X, y, names, cfg, progress)


LOADERS = {"folder": load_folder, "csv": load_csv, "npz": load_npz}
