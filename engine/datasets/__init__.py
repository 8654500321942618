"""Datasets: toy 2-D sets and (see the loaders in this package) real image sets.

``load_dataset(cfg)`` is the one entry point the CLI, the GUI and the tests use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..config import TOY_DATASETS, DatasetConfig
from .base import Dataset, DatasetError, check_arrays, split_indices
from .download import data_cache_dir
from .preprocess import apply_preprocess
from .toy import GENERATORS, make_toy

ProgressFn = Callable[[float, str], None]  # (fraction 0..1, message)

__all__ = ["Dataset", "DatasetError", "load_dataset", "make_toy", "GENERATORS",
           "split_indices", "check_arrays", "ProgressFn", "apply_preprocess", "data_cache_dir"]


def load_toy(cfg: DatasetConfig) -> Dataset:
    X, y = make_toy(cfg.name, cfg.samples, cfg.classes, cfg.noise, cfg.seed)
    tr, va, te = split_indices(len(y), cfg.val_fraction, cfg.test_fraction,
                               np.random.default_rng(cfg.seed + 1))
    f32 = np.float32
    return Dataset(name=cfg.name, X_train=X[tr].astype(f32), y_train=y[tr],
                   X_val=X[va].astype(f32), y_val=y[va], X_test=X[te].astype(f32), y_test=y[te],
                   class_names=[f"class {k}" for k in range(cfg.classes)], input_shape=(2,))


def load_dataset(cfg: DatasetConfig, progress: ProgressFn | None = None, *,
                 cache_dir: str | None = None, base_url: str | None = None) -> Dataset:
    """Build or read the dataset ``cfg`` names; raises :class:`DatasetError` with a clear message.

    ``cache_dir`` overrides the download cache (else ``$BACKPROP_STUDIO_DATA``, else the
    platform's cache directory); ``base_url`` overrides the download server (else
    ``$BACKPROP_STUDIO_MIRROR``, else the official addresses).
    """
    if cfg.name in TOY_DATASETS:
        return load_toy(cfg)
    if cfg.name == "digits":
        from .digits import load_digits
        return load_digits(cfg, progress)
    if cfg.name == "cifar10-4k":
        from .cifar10_4k import load_cifar10_4k
        return load_cifar10_4k(cfg, progress)
    if cfg.name == "cifar10":
        from .official import load_cifar10
        return load_cifar10(cfg, progress, cache_dir, base_url)
    if cfg.name in ("mnist", "fashion-mnist"):
        from .official import load_mnist
        return load_mnist(cfg, progress, cache_dir, base_url)
    if cfg.name in ("folder", "csv", "npz"):
        from . import userdata
        return userdata.LOADERS[cfg.name](cfg, progress)
    raise DatasetError(f"dataset {cfg.name!r} is not available in this version")
