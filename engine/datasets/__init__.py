"""Datasets: toy 2-D sets and (see the loaders in this package) real image sets.

``load_dataset(cfg)`` is the one entry point the CLI, the GUI and the tests use; the registry
(:mod:`engine.datasets.registry`) names every dataset and the loader that makes it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .base import Dataset, DatasetError, check_arrays, split_indices
from .download import data_cache_dir
from .preprocess import apply_preprocess
from .registry import REGISTRY, DatasetInfo, dataset_info, dataset_names, is_toy
from .toy import load_toy

if TYPE_CHECKING:       # engine.config reads the registry: no import of it here at run time
    from ..config import DatasetConfig

ProgressFn = Callable[[float, str], None]  # (fraction 0..1, message)

__all__ = ["Dataset", "DatasetError", "DatasetInfo", "REGISTRY", "load_dataset", "dataset_info",
           "dataset_names", "is_toy", "split_indices", "check_arrays", "ProgressFn", "apply_preprocess",
           "data_cache_dir"]


def load_dataset(cfg: DatasetConfig, progress: ProgressFn | None = None, *,
                 cache_dir: str | None = None, base_url: str | None = None) -> Dataset:
    """Build or read the dataset ``cfg`` names; raises :class:`DatasetError` with a clear message.

    ``cache_dir`` overrides the download cache (else ``$BACKPROP_STUDIO_DATA``, else the
    platform's cache directory); ``base_url`` overrides the download server (else
    ``$BACKPROP_STUDIO_MIRROR``, else the official addresses).
    """
    info = dataset_info(cfg.name)
    if info is None:
        raise DatasetError(f"dataset {cfg.name!r} is not available in this version")
    load = info.resolve()
    if info.is_toy:
        return load_toy(cfg, load, progress)
    if info.downloads:
        return load(cfg, progress, cache_dir, base_url)
    return load(cfg, progress)
