"""The bundled 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits").

1,797 images, 10 classes, pixel values 0..16; see resources/DATASETS.md for attribution.
``preprocess="scale"`` divides by 16 (the set's maximum); ``raw_train``/``raw_val`` are the
images stretched to 0..255 for display.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, check_arrays
from .preprocess import build_dataset

DIGITS_PATH = Path(__file__).resolve().parents[2] / "resources" / "digits.npz"
DIGITS_MAX = 16


def read_digits(path: str | Path = DIGITS_PATH) -> tuple[np.ndarray, np.ndarray]:
    """``images: (1797, 8, 8, 1)`` uint8 in 0..16 and ``labels: (1797,)`` int64."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
    except FileNotFoundError:
        raise DatasetError(f"{path}: the bundled digits file is missing (reinstall the application)") from None
    except (OSError, ValueError, KeyError) as e:
        raise DatasetError(f"{path}: the bundled digits file is unreadable ({e})") from None
    check_arrays(images.reshape(len(images), -1), labels, str(path), 10)
    return images.reshape(-1, 8, 8, 1).astype(np.uint8), labels.astype(np.int64)


def _display(images: np.ndarray) -> np.ndarray:
    return ((images.astype(np.uint16) * 255 + DIGITS_MAX // 2) // DIGITS_MAX).astype(np.uint8)


def load_digits(cfg, progress=None) -> Dataset:
    images, labels = read_digits()
    return build_dataset("digits", images, labels, [str(k) for k in range(10)], (8, 8, 1), cfg,
                         scale=DIGITS_MAX, display=_display, progress=progress)
