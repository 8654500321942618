"""The bundled 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits").

1,797 images, 10 classes, pixel values 0..16; see resources/DATASETS.md for attribution.
``preprocess="scale"`` divides by 16 (the set's maximum); ``raw_train``/``raw_val`` are the
images stretched to 0..255 for display.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..safeio import read_npz
from ..resources import resource_path
from .base import Dataset, DatasetError, check_arrays
from .preprocess import build_dataset

DIGITS_PATH = resource_path("digits.npz")
DIGITS_MAX = 16
MAX_DIGITS_BYTES = 16 << 20     # the bundled arrays: 117 KB


def read_digits(path: str | Path = DIGITS_PATH) -> tuple[np.ndarray, np.ndarray]:
    """``images: (1797, 8, 8, 1)`` uint8 in 0..16 and ``labels: (1797,)`` int64."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: the bundled digits file is missing (reinstall the application)")
    z = read_npz(path, DatasetError, max_bytes=MAX_DIGITS_BYTES, what="the bundled digits file")
    if "images" not in z or "labels" not in z:
        raise DatasetError(f"{path}: the bundled digits file is unreadable (no arrays images and labels; "
                           "reinstall the application)")
    images, labels = z["images"], z["labels"]
    if images.ndim < 1 or images.dtype.kind not in "iu" or images.size != len(images) * 64:
        raise DatasetError(f"{path}: the bundled digits file is unreadable (images of shape {images.shape}, "
                           f"dtype {images.dtype}; expected 8x8 integers)")
    check_arrays(images.reshape(len(images), -1), labels, str(path), 10)
    if images.min() < 0 or images.max() > DIGITS_MAX:
        raise DatasetError(f"{path}: the bundled digits file is unreadable (pixel values "
                           f"{images.min()}..{images.max()}, expected 0..{DIGITS_MAX})")
    return images.reshape(-1, 8, 8, 1).astype(np.uint8), labels.astype(np.int64)


def _display(images: np.ndarray) -> np.ndarray:
    return ((images.astype(np.uint16) * 255 + DIGITS_MAX // 2) // DIGITS_MAX).astype(np.uint8)


def load_digits(cfg, progress=None) -> Dataset:
    images, labels = read_digits()
    return build_dataset("digits", images, labels, [str(k) for k in range(10)], (8, 8, 1), cfg,
                         scale=DIGITS_MAX, display=_display, progress=progress)
