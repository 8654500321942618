"""The bundled CIFAR-10 subset: the first 4,000 images of the official ``data_batch_1``.

Exact pixels, 32x32 RGB, classes airplane .. truck, read from ``resources/cifar10_4k.npz``
(made once by ``resources/make_cifar10_4k.py`` from the ConvNetJS sprite sheets of Andrej
Karpathy; CIFAR-10 by A. Krizhevsky, 2009; see resources/DATASETS.md). No download, no folder:
the usual val/test fractions split the 4,000 images, and subsample/preprocessing apply as for
every image set. ``preprocess="scale"`` divides by 255.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..safeio import read_npz
from ..resources import resource_path
from .base import Dataset, DatasetError, check_arrays
from .cifar import DEFAULT_NAMES
from .preprocess import build_dataset

CIFAR10_4K_PATH = resource_path("cifar10_4k.npz")
CIFAR10_4K_COUNT = 4000
IMAGE_SHAPE = (32, 32, 3)
MAX_CIFAR10_4K_BYTES = 16 << 20     # the bundled arrays: 12.3 MB decompressed


def read_cifar10_4k(path: str | Path = CIFAR10_4K_PATH) -> tuple[np.ndarray, np.ndarray]:
    """``images: (4000, 32, 32, 3)`` uint8 HWC and ``labels: (4000,)`` int64 in 0..9."""
    path = Path(path)
    what = "the bundled CIFAR-10 subset"
    if not path.exists():
        raise DatasetError(f"{path}: {what} is missing (reinstall the application)")
    z = read_npz(path, DatasetError, max_bytes=MAX_CIFAR10_4K_BYTES, what=what)
    if "images" not in z or "labels" not in z:
        raise DatasetError(f"{path}: {what} is unreadable (no arrays images and labels; "
                           "reinstall the application)")
    images, labels = z["images"], z["labels"]
    if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
        raise DatasetError(f"{path}: {what} is unreadable (images of shape {images.shape}, dtype "
                           f"{images.dtype}; expected uint8 32x32x3)")
    check_arrays(images.reshape(len(images), -1), labels, str(path), len(DEFAULT_NAMES))
    return images, labels.astype(np.int64)


def load_cifar10_4k(cfg, progress=None) -> Dataset:
    if progress:
        progress(0.1, "reading the bundled CIFAR-10 subset")
    images, labels = read_cifar10_4k()
    return build_dataset("cifar10-4k", images, labels, list(DEFAULT_NAMES), IMAGE_SHAPE, cfg,
                         scale=255.0, progress=progress)
