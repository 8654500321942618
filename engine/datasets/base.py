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
    """Raise :class:`DatasetError` naming ``source`` when X / y are unusable."""
    if X.ndim < 2:
        raise DatasetError(f"{source}: features must be a 2-D array (N, D) or images, got shape {X.shape}")
    if y.ndim != 1:
        raise DatasetError(f"{source}: labels must be a 1-D array, got shape {y.shape}")
    if len(X) == 0:
        raise DatasetError(f"{source}: the dataset is empty")
    if len(X) != len(y):
        raise DatasetError(f"{source}: {len(X)} examples but {len(y)} labels")
    if np.issubdtype(X.dtype, np.floating) and not np.all(np.isfinite(X)):
        raise DatasetError(f"{source}: features contain NaN or infinite values")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            pass
        else:
            raise DatasetError(f"{source}: labels must be integers, got dtype {y.dtype}")
    if y.min() < 0:
        raise DatasetError(f"{source}: labels out of range (minimum {int(y.min())} < 0)")
    if num_classes is not None and y.max() >= num_classes:
        raise DatasetError(f"{source}: labels out of range (maximum {int(y.max())} "
                           f">= {num_classes} classes)")
