"""The dataset container every loader returns, and the seeded train/val/test split.

A :class:`Dataset` holds already-split, already-preprocessed feature matrices
``X_*: (N, D)`` (float32) and integer labels ``y_*: (N,)`` plus what is needed
to show and to reproduce it: class names, the shape of one example before it
was stretched into a row (``input_shape``, e.g. ``(2,)`` for toy points,
``(8, 8, 1)`` for digits, ``(32, 32, 3)`` for CIFAR-10) and the preprocessing
statistics (kept with the experiment so a saved model predicts the same later).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The most classes a dataset may have (CIFAR-100 has 100, ImageNet 1,000). Class names are
# made for every index below the largest label, so a label of 10^8 must not be believed.
MAX_CLASSES = 1000


class DatasetError(ValueError):
    """A dataset could not be made or read; the message names the file and the problem."""


@dataclass
class Dataset:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    input_shape: tuple[int, ...]
    # preprocessing applied (name) and its statistics, e.g. {"mean": (D,) array}
    preprocess: str = "none"
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    # raw (unpreprocessed) images for display, optional: (N, *input_shape) uint8 or float
    raw_train: np.ndarray | None = None
    raw_val: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def is_2d(self) -> bool:
        return self.num_features == 2

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(X, y)`` of ``"train"``, ``"val"`` or ``"test"``."""
        try:
            return {"train": (self.X_train, self.y_train),
                    "val": (self.X_val, self.y_val),
                    "test": (self.X_test, self.y_test)}[which]
        except KeyError:
            raise ValueError(f"unknown split {which!r}; use train, val or test") from None

    def summary(self) -> str:
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} val / "
                f"{len(self.y_test)} test, {self.num_classes} classes, "
                f"{self.num_features} features, preprocess={self.preprocess}")


def split_indices(n: int, val_fraction: float, test_fraction: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``rng`` and cut it into train / val / test index arrays."""
    if not (0.0 <= val_fraction < 1.0 and 0.0 <= test_fraction < 1.0
            and val_fraction + test_fraction < 1.0):
        raise DatasetError(
            f"validation fraction {val_fraction} and test fraction {test_fraction} "
            "must each be in [0, 1) and leave some training data")
    perm = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    n_test = int(round(n * test_fraction))
    if n - n_val - n_test < 1:
        raise DatasetError(f"{n} examples are too few to split off {n_val} validation "
                           f"and {n_test} test examples")
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]


def check_arrays(X: np.ndarray, y: np.ndarray, source: str, num_classes: int | None = None) -> None:
    """Raise :class:`DatasetError` naming ``source`` when X / y are unusable.

    Labels must be whole numbers in ``0 .. num_classes - 1``; without ``num_classes`` (class
    names made from the labels) below the number of examples and :data:`MAX_CLASSES`. Each
    range is checked on the values as they are, before any cast (a uint64 label does not
    wrap to -1, a float 1.5 is not truncated, 1e300 does not overflow).
    """
    if X.ndim < 2:
        raise DatasetError(f"{source}: features must be a 2-D array (N, D) or images, got shape {X.shape}")
    if y.ndim != 1:
        raise DatasetError(f"{source}: labels must be a 1-D array, got shape {y.shape}")
    if len(X) == 0:
        raise DatasetError(f"{source}: the dataset is empty")
    if len(X) != len(y):
        raise DatasetError(f"{source}: {len(X)} examples but {len(y)} labels")
    if X.size == 0:
        raise DatasetError(f"{source}: the examples have no features (shape {X.shape})")
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"{source}: features must be numbers, got dtype {X.dtype}")
    if X.dtype.kind == "f":
        _check_values(X.reshape(len(X), -1), source)
    check_labels(y, source, num_classes)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_values(rows: np.ndarray, source: str) -> None:
    """Float features must be finite and within float32 (training's type: 1e300 would become
    inf). Checked a few million values at a time, so no full-size temporary is made."""
    step = max(1, (1 << 22) // rows.shape[1])
    for start in range(0, len(rows), step):
        part = rows[start:start + step]
        if not np.isfinite(part).all():
            i = start + int(np.flatnonzero(~np.isfinite(part).all(axis=1))[0])
            raise DatasetError(f"{source}: features contain NaN or infinite values (example x[{i}])")
        if part.dtype.itemsize > 4 and (part.max() > FLOAT32_MAX or part.min() < -FLOAT32_MAX):
            i, j = (int(v[0]) for v in np.nonzero(np.abs(part) > FLOAT32_MAX))
            raise DatasetError(f"{source}: x[{start + i}, {j}] = {part[i, j]:g} is beyond the float32 range "
                               f"training uses (±{FLOAT32_MAX:.3g})")


def check_labels(y: np.ndarray, source: str, num_classes: int | None = None, name: str = "y") -> None:
    """Labels ``y`` (1-D) are whole numbers in range; see :func:`check_arrays`. Errors name
    ``source``, the offending value and its index ``name[i]``."""
    if y.dtype.kind not in "iuf":
        raise DatasetError(f"{source}: labels must be integers, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        finite = np.isfinite(y)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise DatasetError(f"{source}: label {name}[{i}] = {y[i].item()} is not a number of a class "
                               "(NaN or infinite)")
        whole = y == np.round(y)
        if not whole.all():
            i = int(np.flatnonzero(~whole)[0])
            raise DatasetError(f"{source}: label {name}[{i}] = {_num(y[i].item())} is not a whole number")
    lo_i, hi_i = int(np.argmin(y)), int(np.argmax(y))
    lo, hi = y[lo_i].item(), y[hi_i].item()        # Python numbers: no wrap-around, no overflow
    if lo < 0:
        raise DatasetError(f"{source}: labels out of range: {name}[{lo_i}] = {_num(lo)} < 0")
    if num_classes is not None:
        if hi >= num_classes:
            raise DatasetError(f"{source}: labels out of range: {name}[{hi_i}] = {_num(hi)} >= "
                               f"{num_classes} classes")
        return
    limit = min(len(y), MAX_CLASSES)
    if hi >= limit:
        why = (f"more than the {len(y):,} examples" if len(y) <= MAX_CLASSES
               else f"more than the {MAX_CLASSES:,} allowed")
        raise DatasetError(f"{source}: label {name}[{hi_i}] = {_num(hi)} would make {_num(hi + 1)} "
                           f"classes, {why} (labels are class indices 0, 1, 2, ...)")


def _num(v) -> str:
    """A label value as the user wrote it: 7, 1.5, 1e+300."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return f"{v:,}" if isinstance(v, int) and abs(v) < 10**15 else f"{v:g}" if isinstance(v, float) else str(v)
