"""Preprocessing the lecture uses, and the one function every real-data loader ends with.

Rows are images stretched into column vectors (HWC order, so ``x.reshape(input_shape)``
gives the image back). Statistics are computed on the training split only and applied
to every split; they are returned in ``Dataset.stats`` so that a saved model can call
:func:`apply_preprocess` on new inputs and see exactly what it was trained on.

- ``none``: the raw values as float32 (0..255 for 8-bit images, 0..16 for digits).
- ``mean``: subtract the mean training image from the raw values (CS231n style, so the
  assignments' learning rates and regularization strengths carry over). ``stats["mean"]: (D,)``.
- ``scale``: divide by the value range: 255 for 8-bit images, 16 for the bundled digits,
  for CSV/NPZ features the largest absolute training value. ``stats["scale"]``: a 0-d array.
- ``standardize``: per-feature zero mean, unit variance from the training split;
  features with (near) zero variance are divided by 1 instead. ``stats["mean"]``, ``stats["std"]``.

``bias_trick`` appends a constant-1 column so that ``W`` absorbs ``b``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .base import Dataset, DatasetError, split_indices

PREPROCESS_NAMES = ("none", "mean", "scale", "standardize")
_CHUNK = 4096  # rows per chunk, keeps float64 temporaries small for 50,000 x 3,072 images


def _rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 1:
        return X.reshape(1, -1)
    return X.reshape(len(X), int(np.prod(X.shape[1:], dtype=np.int64)))


def compute_stats(X_train_rows: np.ndarray, preprocess: str, scale: float | None = None) -> dict[str, np.ndarray]:
    """Statistics of ``preprocess`` from the training rows ``X_train_rows: (N, D)``.

    ``scale`` is the value range used by ``scale`` (255 for images, 16 for digits);
    ``None`` means the largest absolute training value.
    """
    X = _rows(X_train_rows)
    if preprocess == "none":
        return {}
    if preprocess not in PREPROCESS_NAMES:
        raise DatasetError(f"unknown preprocessing {preprocess!r}; use one of {', '.join(PREPROCESS_NAMES)}")
    n = len(X)
    if n == 0:
        raise DatasetError("cannot compute preprocessing statistics of an empty training split")
    if preprocess == "scale":
        if scale is None:
            scale = float(np.abs(X).max()) if X.size else 1.0
        if not np.isfinite(scale) or scale <= 0:
            scale = 1.0
        return {"scale": np.array(scale, dtype=np.float64)}
    total = np.zeros(X.shape[1], dtype=np.float64)
    for i in range(0, n, _CHUNK):
        total += X[i:i + _CHUNK].sum(axis=0, dtype=np.float64)
    mean = total / n
    if preprocess == "mean":
        return {"mean": mean.astype(np.float32)}
    sq = np.zeros(X.shape[1], dtype=np.float64)
    for i in range(0, n, _CHUNK):
        d = X[i:i + _CHUNK].astype(np.float64) - mean
        sq += np.einsum("ij,ij->j", d, d)
    std = np.sqrt(sq / n)
    std[~(std > 1e-8 * np.maximum(1.0, np.abs(mean)))] = 1.0   # constant features: leave unscaled
    return {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}


def apply_preprocess(X_raw_rows: np.ndarray, preprocess: str, stats: dict[str, np.ndarray],
                     bias_trick: bool = False) -> np.ndarray:
    """Preprocess raw rows ``(N, D)`` (or images ``(N, H, W, C)``) exactly as in training.

    Returns float32 ``(N, D)``, or ``(N, D + 1)`` with the bias trick's constant-1 column last.
    """
    X = _rows(X_raw_rows)
    n, d = X.shape
    out = np.empty((n, d + (1 if bias_trick else 0)), dtype=np.float32)
    body = out[:, :d]
    for i in range(0, n, _CHUNK):   # chunked: casts and subtracts in place, no full-size temporaries
        part = body[i:i + _CHUNK]
        part[...] = X[i:i + _CHUNK]
        if preprocess in ("mean", "standardize"):
            part -= np.asarray(stats["mean"], dtype=np.float32)
        if preprocess == "standardize":
            part /= np.asarray(stats["std"], dtype=np.float32)
        elif preprocess == "scale":
            part *= np.float32(1.0 / float(stats["scale"]))
    if preprocess not in PREPROCESS_NAMES:
        raise DatasetError(f"unknown preprocessing {preprocess!r}; use one of {', '.join(PREPROCESS_NAMES)}")
    if bias_trick:
        out[:, d] = 1.0
    return out


def build_dataset(name: str, X: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                  input_shape: tuple[int, ...], cfg, *, X_test: np.ndarray | None = None,
                  y_test: np.ndarray | None = None, scale: float | None = None,
                  display: Callable[[np.ndarray], np.ndarray] | None = None,
                  is_image: bool = True,
                  progress: Callable[[float, str], None] | None = None) -> Dataset:
    """Split, subsample, preprocess and package already-validated raw data.

    ``X``: ``(N, *input_shape)`` raw values (uint8 images or float features), ``y``: ``(N,)``.
    With ``X_test``/``y_test`` (an official test split) validation is carved out of ``X``
    with ``cfg.val_fraction``; otherwise ``X`` is split into train/val/test.
    ``cfg.subsample > 0`` keeps that many (seeded) training examples.
    ``display`` maps raw images to uint8 0..255 for ``raw_train``/``raw_val`` (identity for uint8).
    """
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(cfg.seed + 1)
    if X_test is not None:
        tr, va, _ = split_indices(len(y), cfg.val_fraction, 0.0, rng)
        te = None
    else:
        tr, va, te = split_indices(len(y), cfg.val_fraction, cfg.test_fraction, rng)
    if cfg.subsample and cfg.subsample < len(tr):
        tr = tr[np.random.default_rng(cfg.seed + 2).permutation(len(tr))[:cfg.subsample]]
    if progress:
        progress(0.9, f"preprocessing ({cfg.preprocess})")
    Xtr, Xva = X[tr], X[va]
    Xte, yte = (X[te], y[te]) if te is not None else (X_test, np.asarray(y_test, dtype=np.int64))
    stats = compute_stats(_rows(Xtr), cfg.preprocess, scale)
    prep = lambda A: apply_preprocess(A, cfg.preprocess, stats, cfg.bias_trick)  # noqa: E731
    raw_train = raw_val = None
    if is_image:
        show = display or (lambda A: A)
        raw_train, raw_val = show(Xtr), show(Xva)
    ds = Dataset(name=name, X_train=prep(Xtr), y_train=y[tr], X_val=prep(Xva), y_val=y[va],
                 X_test=prep(Xte), y_test=yte, class_names=[str(c) for c in class_names],
                 input_shape=tuple(int(s) for s in input_shape), preprocess=cfg.preprocess,
                 stats=stats, raw_train=raw_train, raw_val=raw_val)
    if progress:
        progress(1.0, ds.summary())
    return ds
