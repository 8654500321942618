"""The linear classifier you can grab (issue 15, part 1): a multiclass linear classifier on 2-D
points, as in the CS231n interactive demo.  Pure NumPy; the GUI lab ``gui/labs/linear_lab.py``
draws what this computes.

The lecture's convention: ``W`` is ``(C, 2)`` (one row per class), ``b`` is ``(C,)`` and the
scores of a point ``x`` are ``s = W x + b``.  The losses are the engine's own
(:func:`engine.layers.hinge_loss_forward` / :func:`engine.layers.softmax_loss_forward` and their
backward passes), the regularization is the engine's L2 ``R(W) = Σ W²`` (the bias is not
regularized), so the numbers shown are the engine's numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layers

LOSSES = ("svm", "softmax")


@dataclass
class LinearResult:
    """Everything the lab shows for one (X, y, W, b, loss, λ)."""
    scores: np.ndarray          # (N, C)  s = X Wᵀ + b
    terms: np.ndarray           # (N, C)  SVM: max(0, s_j − s_y + Δ) (0 at y); softmax: −log p_y at y, 0 elsewhere
    losses: np.ndarray          # (N,)    L_i
    probs: np.ndarray | None    # (N, C)  softmax probabilities (None for the SVM)
    data_loss: float            # (1/N) Σ L_i
    reg_loss: float             # λ R(W)
    total: float                # data_loss + reg_loss
    dW: np.ndarray              # (C, 2)
    db: np.ndarray              # (C,)

    @property
    def predictions(self) -> np.ndarray:
        return self.scores.argmax(axis=1) if self.scores.size else np.zeros(0, dtype=np.int64)


def scores(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, C)`` scores ``s_i = W x_i + b`` (W is ``(C, 2)``, one row per class)."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    return X @ np.asarray(W, dtype=np.float64).T + np.asarray(b, dtype=np.float64)


def evaluate(X, y, W, b, loss: str = "svm", reg: float = 0.0, margin: float = 1.0) -> LinearResult:
    """Scores, per-example loss terms, the data loss, λR(W), the total and the gradient
    ``(dW, db)`` of the total — forward and backward through :mod:`engine.layers`."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r} (one of {', '.join(LOSSES)})")
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    y = np.asarray(y, dtype=np.intp).ravel()
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).ravel()
    C = W.shape[0]
    s = scores(X, W, b)
    R = layers.regularization([W], "l2")
    reg_loss = float(reg) * R
    dWreg = layers.regularization_grad(W, "l2", scale=float(reg))
    if len(y) == 0:
        z = np.zeros((0, C))
        return LinearResult(s, z, np.zeros(0), None if loss == "svm" else z, 0.0, reg_loss, reg_loss,
                            dWreg, np.zeros(C))
    if loss == "svm":
        data, cache = layers.hinge_loss_forward(s, y, margin)
        ds = layers.hinge_loss_backward(1.0, cache)
        terms, probs = cache["margins"], None
    else:
        data, cache = layers.softmax_loss_forward(s, y)
        ds = layers.softmax_loss_backward(1.0, cache)
        probs = cache["probs"]
        terms = np.zeros_like(s)
        terms[np.arange(len(y)), y] = cache["losses"]
    # the affine layer's backward (x: (N, 2), its W: (2, C) = our Wᵀ)
    _, acache = layers.affine_forward(X, W.T, b)
    _dx, dWT, db = layers.affine_backward(ds, acache, need_dx=False)
    dW = np.asarray(dWT).T + dWreg
    data = float(data)
    return LinearResult(s, terms, np.asarray(cache["losses"], dtype=np.float64), probs, data, reg_loss,
                        data + reg_loss, dW, np.asarray(db, dtype=np.float64).ravel())


def total_loss(X, y, W, b, loss: str = "svm", reg: float = 0.0, margin: float = 1.0) -> float:
    return evaluate(X, y, W, b, loss, reg, margin).total


def gradient_step(W, b, result: LinearResult, lr: float):
    """``W ← W − α dW``, ``b ← b − α db`` (new arrays)."""
    return np.asarray(W, dtype=np.float64) - lr * result.dW, np.asarray(b, dtype=np.float64) - lr * result.db


def regions(W, b, xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), n: int = 60) -> np.ndarray:
    """The argmax class on an ``n × n`` grid: ``(n, n)`` ints, row ``i`` at ``y = ylim`` spaced,
    column ``j`` at ``x`` (row-major, y upwards from ``ylim[0]``)."""
    xs = np.linspace(xlim[0], xlim[1], n)
    ys = np.linspace(ylim[0], ylim[1], n)
    gx, gy = np.meshgrid(xs, ys)
    s = scores(np.c_[gx.ravel(), gy.ravel()], W, b)
    return s.argmax(axis=1).reshape(n, n)


def zero_line(w, bk: float):
    """The line ``w·x + b = 0``: its point closest to the origin ``p0 = −b w / ‖w‖²`` and its unit
    direction (``w`` turned 90°); None when ``w`` is 0."""
    w = np.asarray(w, dtype=np.float64)
    nn = float(w @ w)
    if nn < 1e-18:
        return None
    p0 = -float(bk) * w / nn
    d = np.array([-w[1], w[0]]) / np.sqrt(nn)
    return p0, d


def toy_points(name: str = "gaussians", classes: int = 3, samples: int = 15, seed: int = 0, noise: float | None = None):
    """A 2-D toy set from the registry's generators (``X (N, 2)``, ``y (N,)``)."""
    from .datasets.registry import dataset_info
    info = dataset_info(name)
    if info is None or not info.is_toy:
        raise ValueError(f"{name!r} is not a toy 2-D dataset")
    gen = info.resolve()
    if noise is None:
        noise = 0.2 if name == "spiral" else 0.1
    X, y = gen(samples, classes, noise, np.random.default_rng(seed))
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def random_params(classes: int = 3, seed: int | None = None, scale: float = 1.0):
    """A random ``W (C, 2)`` and ``b (C,)`` (the "Randomize" button)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((classes, 2)) * scale, rng.standard_normal(classes) * 0.3 * scale


def default_params(classes: int = 3):
    """Rows of W pointing at evenly spaced angles (a start that classifies the blobs somewhat),
    b = 0, rotated a little so there is something to learn."""
    a = 2 * np.pi * np.arange(classes) / classes + 1.0
    W = 1.5 * np.c_[np.cos(a), np.sin(a)]
    return W, np.zeros(classes)
