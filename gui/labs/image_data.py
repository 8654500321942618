"""The image set behind the labs' image parts (score function, random search, numerical
gradient, loss landscape).

The lecture's pictures are CIFAR-10, so that is what these parts use by default: the window's
dataset when it is an image set (digits, CIFAR-10, MNIST, an image folder…), and otherwise the
bundled ``cifar10-4k`` (4,000 exact CIFAR-10 images, decoded in about 0.2 s, loaded once and
shared by every lab).  Pure data plumbing: no widgets here.
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_bundled = None

BUNDLED_NAME = "CIFAR-10 (4,000 bundled images)"


def is_image_set(dataset) -> bool:
    """True for images (``input_shape`` H×W or H×W×C), False for 2-D points or feature tables."""
    return dataset is not None and len(getattr(dataset, "input_shape", ())) >= 2


def bundled_cifar():
    """The bundled cifar10-4k, raw pixels 0–255 (no preprocessing), 2,400 / 800 / 800 split.
    Loaded once (thread-safe) and shared: callers must not modify its arrays."""
    global _bundled
    with _lock:
        if _bundled is None:
            from engine.config import DatasetConfig
            from engine.datasets import load_dataset
            _bundled = load_dataset(DatasetConfig(name="cifar10-4k", preprocess="none"))
        return _bundled


def image_set_for(dataset) -> tuple[object, str]:
    """``(image dataset, note)``: ``dataset`` itself when it is an image set (note ""), else the
    bundled CIFAR-10 with a note saying why (for a caption beside the image parts)."""
    if is_image_set(dataset):
        return dataset, ""
    what = f"The loaded {dataset.name} is {dataset.num_features}-D points" if dataset is not None \
        else "No dataset is loaded"
    return bundled_cifar(), f"{what}; the image parts use {BUNDLED_NAME}."
