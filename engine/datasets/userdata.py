"""The user's own data: an image folder, a CSV file or an NPZ file.

- Folder (``cfg.data_dir``): one sub-folder per class (class names = folder names, sorted),
  PNG / baseline JPEG / PPM / PGM images, each resized to ``cfg.image_size`` square.
  Every image must have the same size as the first one (a mixed folder is usually a
  mistake — a stray screenshot among photos); ``mixed_sizes="resize"`` accepts them.
  Grey images are made RGB when the folder also holds colour images.
- CSV (``cfg.data_file``): a label column plus numeric feature columns, with or without a
  header (a first row with a non-numeric cell where the second row has a number). The label
  column is the first, or the one named label / class / y / target when there is a header.
  Integer labels are class indices (names "0", "1", ...); other labels are class names,
  numbered in sorted order.
- NPZ (``cfg.data_file``): arrays ``x`` (N, D) or (N, H, W[, C]) and ``y`` (N,), optional
  ``class_names``; read with ``allow_pickle=False``. uint8 images of shape (N, H, W[, C]) are
  treated as images (display copies kept); everything else as feature rows.
"""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, check_arrays
from .imageio import IMAGE_EXTENSIONS, read_image_scaled
from .preprocess import build_dataset

LABEL_COLUMNS = ("label", "class", "y", "target")


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


def _labels_to_classes(labels: list[str], source: str) -> tuple[np.ndarray, list[str]]:
    try:
        vals = np.array([float(v) for v in labels])
    except ValueError:
        vals = None
    if vals is not None:
        if not np.all(np.isfinite(vals)) or np.any(vals != np.round(vals)):
            bad = int(np.flatnonzero(~np.isfinite(vals) | (vals != np.round(vals)))[0])
            raise DatasetError(f"{source}: label {labels[bad]!r} (example {bad + 1}) is not a whole number "
                               "or a class name")
        y = vals.astype(np.int64)
        if y.min() < 0:
            raise DatasetError(f"{source}: labels out of range (minimum {int(y.min())} < 0)")
        return y, [str(k) for k in range(int(y.max()) + 1)]
    names = sorted(set(labels))
    index = {n: k for k, n in enumerate(names)}
    return np.array([index[v] for v in labels], dtype=np.int64), names


def read_csv(path: str | Path):
    """``(X float64 (N, D), y int64 (N,), class_names)`` from a CSV file."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text CSV file (not UTF-8)") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [(i + 1, [c.strip() for c in r]) for i, r in enumerate(csv.reader(io.StringIO(text), dialect))]
    rows = [(n, r) for n, r in rows if any(r)]
    if not rows:
        raise DatasetError(f"{path}: the dataset is empty")
    first = rows[0][1]
    second = rows[1][1] if len(rows) > 1 else None
    has_header = all(not _is_number(c) for c in first) or (
        second is not None and any(not _is_number(a) and _is_number(b) for a, b in zip(first, second)))
    label_col = 0
    if has_header:
        lower = [c.lower() for c in first]
        for name in LABEL_COLUMNS:
            if name in lower:
                label_col = lower.index(name)
                break
        rows = rows[1:]
    if not rows:
        raise DatasetError(f"{path}: the dataset is empty (only a header)")
    width = len(first)
    if width < 2:
        raise DatasetError(f"{path}: needs a label column and at least one feature column")
    for line, r in rows:
        if len(r) != width:
            raise DatasetError(f"{path}: line {line}: ragged row with {len(r)} columns, expected {width}")
    labels = [r[label_col] for _, r in rows]
    feats = [r[:label_col] + r[label_col + 1:] for _, r in rows]
    try:
        X = np.array(feats, dtype=np.float64)
    except ValueError:
        for (line, r), f in zip(rows, feats):
            for j, c in enumerate(f):
                if not _is_number(c):
                    col = j + (1 if j >= label_col else 0) + 1
                    raise DatasetError(f"{path}: line {line}, column {col}: {c!r} is not a number") from None
        raise
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DatasetError(f"{path}: line {rows[i][0]}: NaN or infinite value in column "
                           f"{j + (1 if j >= label_col else 0) + 1}")
    y, names = _labels_to_classes(labels, str(path))
    return X, y, names


def load_csv(cfg, progress=None) -> Dataset:
    if not cfg.data_file:
        raise DatasetError("the csv dataset needs --data-file: a CSV with a label column and feature columns")
    X, y, names = read_csv(cfg.data_file)
    return _finish_rows("csv", X, y, names, cfg, progress)


def _finish_rows(name, X, y, names, cfg, progress) -> Dataset:
    if len(names) < 2:
        raise DatasetError(f"{cfg.data_file}: only one class ({names[0]!r}); a classifier needs at least two")
    return build_dataset(name, X, y, names, (X.shape[1],), cfg, is_image=False, progress=progress)


# --------------------------------------------------------------------------------- NPZ
def read_npz(path: str | Path):
    """``(X, y int64, class_names, is_image)`` from an NPZ with arrays x, y[, class_names]."""
    path = Path(path).expanduser()
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = {k.lower(): k for k in z.files}
            if "x" not in keys or "y" not in keys:
                raise DatasetError(f"{path}: needs arrays named x and y (found: {', '.join(z.files) or 'none'})")
            X, y = z[keys["x"]], z[keys["y"]]
            names = z[keys["class_names"]] if "class_names" in keys else None
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except DatasetError:
        raise
    except ValueError as e:
        msg = str(e)
        if "pickle" in msg.lower():
            raise DatasetError(f"{path}: holds Python objects (pickled arrays), which are refused; "
                               "save plain numeric arrays") from None
        raise DatasetError(f"{path}: corrupt NPZ file ({msg})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise DatasetError(f"{path}: corrupt or truncated NPZ file ({e})") from None
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: x must be numeric, got dtype {X.dtype}")
    if y.dtype.kind not in "biuf":
        if y.dtype.kind in "US" and y.ndim == 1 and len(y):
            if names is not None:
                raise DatasetError(f"{path}: y holds strings and class_names is given; use integer y")
            y, names = _labels_to_classes([str(v) for v in y], str(path))
        else:
            raise DatasetError(f"{path}: y must hold integer labels, got dtype {y.dtype}")
    is_image = X.dtype == np.uint8 and X.ndim in (3, 4)
    if X.ndim == 3:
        X = X[..., None] if is_image else X
    if X.ndim > 2 and not is_image:
        X = X.reshape(len(X), -1)
    if X.ndim == 1:
        raise DatasetError(f"{path}: x must have one row per example, got shape {X.shape}")
    check_arrays(X.reshape(len(X), -1) if X.ndim > 2 else X, y, str(path),
                 len(names) if names is not None else None)
    y = y.astype(np.int64)
    if names is None:
        names = [str(k) for k in range(int(y.max()) + 1)]
    else:
        names = [str(n) for n in np.asarray(names).reshape(-1)]
    return X, y, names, is_image


def load_npz(cfg, progress=None) -> Dataset:
    if not cfg.data_file:
        raise DatasetError("the npz dataset needs --data-file: an NPZ with arrays x and y")
    X, y, names, is_image = read_npz(cfg.data_file)
    if is_image:
        return build_dataset("npz", X, y, names, X.shape[1:], cfg, scale=255.0, progress=progress)
    return _finish_rows("npz", X, y, names, cfg, progress)


LOADERS = {"folder": load_folder, "csv": load_csv, "npz": load_npz}
