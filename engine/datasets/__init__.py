"""Datasets: toy 2-D sets and (see the loaders in this package) real image sets.

``load_dataset(cfg)`` is the one entry point the CLI, the GUI and the tests use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..config import TOY_DATASETS, DatasetConfig
from .base import Dataset, DatasetError, check_arrays, split_indices
from .toy import GENERATORS, make_toy

ProgressFn = Callable[[float, str], None]  # (fraction 0..1, message)

__all__ = ["Dataset", "DatasetError", "load_dataset", "make_toy", "GENERATORS",
           "split_indices", "check_arrays", "ProgressFn"]


def load_toy(cfg: DatasetConfig) -> Dataset:
    X, y = make_toy(cfg.name, cfg.samples, cfg.classes, cfg.noise, cfg.seed)
    tr, va, te = split_indices(len(y), cfg.val_fraction, cfg.test_fraction,
                               np.random.default_rng(cfg.seed + 1))
    f32 = np.float32
    return Dataset(name=cfg.name, X_train=X[tr].astype(f32), y_train=y[tr],
                   X_val=X[va].astype(f32), y_val=y[va], X_test=X[te].astype(f32), y_test=y[te],
                   class_names=[f"class {k}" for k in range(cfg.classes)], input_shape=(2,))


def load_dataset(cfg: DatasetConfig, progress: ProgressFn | None = None) -> Dataset:
    """Build or read the dataset ``cfg`` names; raises :class:`DatasetError` with a clear message."""
    if cfg.name in TOY_DATASETS:
        return load_toy(cfg)
    raise DatasetError(f"dataset {cfg.name!r} is not available in this version")
