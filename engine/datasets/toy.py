"""Toy 2-D multiclass datasets: spiral (the CS231n case study), circles, XOR, Gaussian blobs, moons.

Each generator returns ``X: (N, 2)`` float64 and ``y: (N,)`` int64 with ``samples`` points
per class and ``classes`` classes, drawn from the given ``np.random.Generator``; the registry
(:mod:`engine.datasets.registry`) names each one. :func:`load_toy` makes the points and then
goes the way of every other set (:func:`~engine.datasets.preprocess.build_dataset`): the seeded
split, the training subsample, the preprocessing and the bias trick all apply.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .base import Dataset
from .preprocess import build_dataset

Generator = Callable[[int, int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def spiral(samples: int, classes: int, noise: float, rng: np.random.Generator):
    """K interleaved spiral arms, as in the CS231n neural-network case study (noise 0.2 there)."""
    n = samples
    X = np.zeros((n * classes, 2))
    y = np.zeros(n * classes, dtype=np.int64)
    for k in range(classes):
        ix = slice(n * k, n * (k + 1))
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n) * (3.0 / classes) + rng.standard_normal(n) * noise
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = k
    return X, y


def circles(samples: int, classes: int, noise: float, rng: np.random.Generator):
    """Concentric rings, one class per ring (radius k+1 scaled into [0, 1])."""
    X, y = [], []
    for k in range(classes):
        angle = rng.uniform(0, 2 * np.pi, samples)
        radius = (k + 1) / classes + rng.standard_normal(samples) * noise * 0.25
        X.append(np.c_[radius * np.cos(angle), radius * np.sin(angle)])
        y.append(np.full(samples, k))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


def xor(samples: int, classes: int, noise: float, rng: np.random.Generator):
    """XOR: a checkerboard of the quadrants for 2 classes; for K > 2 a K x K board labelled (i + j) mod K."""
    n = samples * classes
    cells = 2 if classes == 2 else classes
    P = rng.uniform(-1, 1, size=(n, 2))
    ij = np.clip(((P + 1) / 2 * cells).astype(int), 0, cells - 1)
    y = (ij[:, 0] + ij[:, 1]) % classes
    X = P + rng.standard_normal(P.shape) * noise * 0.25
    return X, y.astype(np.int64)


def gaussians(samples: int, classes: int, noise: float, rng: np.random.Generator):
    """One Gaussian blob per class, centres evenly spaced on a circle of radius 0.7."""
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = 0.7 * np.c_[np.cos(angles), np.sin(angles)]
    spread = 0.1 + noise * 0.5
    X = np.concatenate([c + rng.standard_normal((samples, 2)) * spread for c in centres])
    y = np.repeat(np.arange(classes), samples).astype(np.int64)
    return X, y


def moons(samples: int, classes: int, noise: float, rng: np.random.Generator):
    """Interleaved half-moons; with K > 2 classes, K moons alternate up and down along x."""
    X, y = [], []
    for k in range(classes):
        t = rng.uniform(0, np.pi, samples)
        up = k % 2 == 0
        cx = k * 1.0
        pts = np.c_[cx + np.cos(t), (np.sin(t) if up else 0.5 - np.sin(t))]
        X.append(pts + rng.standard_normal(pts.shape) * noise * 0.3)
        y.append(np.full(samples, k))
    X = np.concatenate(X)
    X = (X - X.mean(axis=0)) / np.abs(X).max()
    return X, np.concatenate(y).astype(np.int64)


def load_toy(cfg, generate: Generator, progress=None) -> Dataset:
    """The toy set ``cfg.name``: ``generate``'s points (drawn with a Generator seeded by ``cfg.seed``)
    split, subsampled and preprocessed as ``cfg`` says (``preprocess="scale"`` divides by the
    largest absolute training value)."""
    X, y = generate(cfg.samples, cfg.classes, cfg.noise, np.random.default_rng(cfg.seed))
    return build_dataset(cfg.name, X, y, [f"class {k}" for k in range(cfg.classes)], (2,), cfg,
                         is_image=False, progress=progress)
