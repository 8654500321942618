"""Computations behind the lecture labs (pure NumPy + standard library; never Qt).

Shapes follow the engine: a minibatch of rows ``X: (N, D)`` flows ``X @ W + b`` with
``W: (D, C)``.  Where the lecture writes ``W ∈ R^{C×D}`` acting on a column ``x``
(the score-function example) this module says so and keeps the lecture's orientation,
because that is what the slide shows.

Contents, in the lecture's order:

- the score function's 2x2-image cat/dog/bird example and both of the slide's W/b sets;
- loss tables: every hinge term ``max(0, s_j − s_yi + 1)`` and softmax's exp → normalise →
  −log steps, per example, with the mean;
- L1 / L2 penalties and the ``W1`` vs ``W2`` example;
- overfitting presets (the same MLP, different capacity / regularization / data);
- random search, gradient descent at three learning rates, the numerical gradient's cost,
  a per-entry gradient-check table;
- loss-landscape slices along random directions (progress callback, cancellation);
- activations and their derivatives through the engine's graph, and the linear collapse
  ``W = W1 @ W2``, ``b = b1 @ W2 + b2``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import DatasetConfig, ExperimentConfig, LossConfig, ModelConfig, OptimConfig
from .gradcheck import numerical_gradient
from .graph import Graph
from .layers import hinge_loss_forward, softmax_loss_forward
from .models import LinearClassifier, Network
from .optim import random_local_search, random_search

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """A long computation was cancelled through its ``cancel()`` callback."""


def _check_cancel(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


# =========================================================================== score function

SCORE_CLASSES = ("cat", "dog", "bird")
#: the lecture's 2x2 input image, row-major, stretched into a column
SCORE_X = np.array([56.0, 231.0, 24.0, 2.0])


@dataclass(frozen=True)
class ScorePreset:
    """One of the slide's W/b sets.  ``W`` is the lecture's ``(C, D) = (3, 4)``."""
    name: str
    W: np.ndarray
    b: np.ndarray
    printed: tuple[float, ...]     # the scores as the slide prints them
    note: str = ""                 # a slip on the slide, pointed out in the UI


SCORE_PRESETS = (
    ScorePreset(
        "Slide 1",
        np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]]),
        np.array([1.1, 3.2, -1.2]),
        (-96.8, 437.9, 61.95),
        "The slide prints 61.95 for bird: that is W·x without the bias −1.2. "
        "With the bias the score is 61.95 − 1.2 = 60.75."),
    ScorePreset(
        "Slide 2",
        np.array([[1.2, 1.5, 1.1, 2.0], [-0.5, 0.3, 0.1, 0.0], [0.1, 0.05, -0.1, -0.2]]),
        np.array([3.1, 1.2, -1.5]),
        (447.2, 44.9, 12.85)),
)


def score_function(W_cd: np.ndarray, x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The lecture's ``f(x) = W x + b`` with ``W: (C, D)``, column ``x: (D,)``, ``b: (C,)`` → ``(C,)``."""
    W_cd = np.asarray(W_cd, dtype=np.float64)
    return W_cd @ np.asarray(x, dtype=np.float64) + np.asarray(b, dtype=np.float64)


def preset_discrepancies(preset: ScorePreset, atol: float = 1e-6) -> list[tuple[int, float, float]]:
    """``[(class index, printed, computed)]`` where the slide's printed score is wrong."""
    s = score_function(preset.W, SCORE_X, preset.b)
    return [(k, p, float(c)) for k, (p, c) in enumerate(zip(preset.printed, s)) if abs(p - c) > atol]


# =========================================================================== loss tables

LOSS_CLASSES = ("cat", "dog", "bird")
#: the lecture's table, one row per example (the slide's columns: cat image, car image, frog image)
LOSS_SCORES = np.array([[3.2, 5.1, -1.7],
                        [1.3, 4.9, 2.0],
                        [2.2, 2.5, -3.1]])
LOSS_LABELS = np.array([0, 1, 2])
LOSS_EXAMPLE_NAMES = ("cat image", "car image", "frog image")


@dataclass
class HingeTable:
    """``terms[i, j] = max(0, s_j − s_yi + Δ)`` (NaN at j = y_i), ``losses: (N,)``, ``mean``."""
    terms: np.ndarray
    raw: np.ndarray         # s_j − s_yi + Δ before the max (NaN at j = y_i)
    losses: np.ndarray
    mean: float


def hinge_table(scores: np.ndarray, y: np.ndarray, margin: float = 1.0) -> HingeTable:
    """The multiclass SVM loss, term by term (the lecture's 2.9, 0, 12.9; mean 5.27).

    The terms and losses are the engine's own (``hinge_loss_forward``); ``raw`` adds the
    value inside each max for display.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    if len(y) == 0:
        empty = np.zeros((0, s.shape[1] if s.ndim == 2 else 0))
        return HingeTable(empty, empty, np.zeros(0), float("nan"))
    mean, cache = hinge_loss_forward(s, y, margin)
    rows = np.arange(len(y))
    raw = s - s[rows, y][:, None] + margin
    raw[rows, y] = np.nan
    terms = cache["margins"].copy()
    terms[rows, y] = np.nan
    return HingeTable(terms, raw, cache["losses"], float(mean))


@dataclass
class SoftmaxTable:
    """Softmax step by step: ``exp: (N, C)`` (unnormalised probabilities), ``sums: (N,)``,
    ``probs: (N, C)``, ``losses: (N,)`` (natural log), ``losses_log10: (N,)``, ``mean``."""
    exp: np.ndarray
    sums: np.ndarray
    probs: np.ndarray
    losses: np.ndarray
    losses_log10: np.ndarray
    mean: float


def softmax_table(scores: np.ndarray, y: np.ndarray) -> SoftmaxTable:
    """exp → normalise → −log (the lecture's 24.5, 164.0, 0.18 → 0.13, 0.87, 0.00 → 2.04).

    The exponentials are shown unshifted, as on the slide; probabilities and losses are the
    engine's (``softmax_loss_forward``, shifted by the row max so large scores cannot overflow).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    with np.errstate(over="ignore"):
        exp = np.exp(s)
    if len(y) == 0:
        return SoftmaxTable(exp, exp.sum(axis=1), exp.copy(), np.zeros(0), np.zeros(0), float("nan"))
    mean, cache = softmax_loss_forward(s, y)
    losses = cache["losses"]
    return SoftmaxTable(exp, exp.sum(axis=1), cache["probs"], losses, losses / math.log(10), float(mean))


def penalties(W: np.ndarray) -> tuple[float, float]:
    """``(L1, L2)`` = ``(Σ|W|, Σ W²)``."""
    W = np.asarray(W, dtype=np.float64)
    return float(np.abs(W).sum()), float(np.vdot(W, W))


#: the lecture's L2 example: same score w·x = 1, different penalties (1 vs 0.25)
REG_X = np.array([1.0, 1.0, 1.0, 1.0])
REG_W1 = np.array([1.0, 0.0, 0.0, 0.0])
REG_W2 = np.array([0.25, 0.25, 0.25, 0.25])


# =========================================================================== overfitting presets

OVERFIT_PRESETS = {
    # name: (hidden, reg, reg_strength, epochs, lr)
    "under-fitting": ([2], "none", 0.0, 150, 0.5),
    "good fit": ([32], "l2", 1e-3, 300, 0.5),
    "over-fitting": ([200, 200], "none", 0.0, 600, 0.5),
    "over-fitting + L2": ([200, 200], "l2", 3e-3, 600, 0.5),
}


def overfit_config(preset: str, seed: int = 0, samples: int = 30, noise: float = 0.4,
                   dataset: str = "spiral", epochs: int | None = None) -> ExperimentConfig:
    """The config of one overfitting preset: a small, noisy 2-D toy set (``samples`` per
    class, 40 % held out for validation), full-batch training of an MLP."""
    hidden, reg, strength, ep, lr = OVERFIT_PRESETS[preset]
    ds = DatasetConfig(name=dataset, classes=3, samples=samples, noise=noise, seed=seed,
                       val_fraction=0.4, test_fraction=0.0)
    cfg = ExperimentConfig(
        dataset=ds,
        model=ModelConfig(hidden=list(hidden), activations=["relu"] * len(hidden), init="he", dtype="float64"),
        loss=LossConfig(loss="softmax", reg=reg, reg_strength=strength),
        optim=OptimConfig(optimizer="adam" if len(hidden) > 1 else "sgd", lr=0.01 if len(hidden) > 1 else lr,
                          batch_size=10_000, epochs=ep if epochs is None else epochs),
        seed=seed)
    return cfg


def decision_grid(model: Network, lo: tuple[float, float], hi: tuple[float, float], n: int = 120):
    """Predicted class on an ``n × n`` grid over ``[lo, hi]``: returns ``(xs, ys, labels (n, n))``
    with ``labels[i, j]`` the class at ``(xs[j], ys[i])``."""
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.c_[gx.ravel(), gy.ravel()].astype(model.dtype)
    return xs, ys, model.predict(pts).reshape(n, n)


# =========================================================================== optimization

def linear_model_for(X: np.ndarray, num_classes: int, loss: str = "svm", seed: int = 0,
                     scale: float = 1e-4, reg: str = "none", reg_strength: float = 0.0) -> LinearClassifier:
    """A float64 linear classifier ``W: (D, C)`` initialised at ``scale · randn`` from ``seed``."""
    return LinearClassifier(X.shape[1], num_classes, LossConfig(loss=loss, reg=reg, reg_strength=reg_strength),
                            rng=np.random.default_rng(seed), init="small", init_scale=scale, dtype="float64")


@dataclass
class SearchResult:
    losses: list[float]          # loss of each trial
    best: list[float]            # best loss so far after each trial
    best_loss: float
    accuracy: float              # accuracy of the best W on the evaluation split
    params: dict[str, np.ndarray]


def run_random_search(X, y, X_eval, y_eval, num_classes: int, trials: int = 100, scale: float = 1e-4,
                      seed: int = 0, loss: str = "svm", local: bool = False, step: float = 1e-4,
                      progress: Callable[[int, float, float], None] | None = None,
                      cancel: CancelFn | None = None) -> SearchResult:
    """The lecture's random search (``local=False``: ``W = scale · randn`` each trial) or random
    local search (``W + step · randn``, kept if the loss falls), via :mod:`engine.optim`.
    ``progress(trial, loss, best)`` after each trial; ``cancel()`` True stops early (the best
    so far is kept)."""
    model = linear_model_for(X, num_classes, loss, seed, scale)
    rng = np.random.default_rng(seed)
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731

    def cb(t, l, b):
        if progress is not None:
            progress(t, l, b)
        return bool(cancel and cancel())

    if local:
        best, hist = random_local_search(f, model.param_list(), trials, step, rng, cb)
    else:
        best, hist = random_search(f, model.param_list(), trials, scale, rng, cb)
    acc = model.accuracy(X_eval, y_eval)
    return SearchResult([h[0] for h in hist], [h[1] for h in hist], float(best), float(acc),
                        model.copy_params())


def gradient_descent_runs(X, y, num_classes: int, lrs=(1e-7, 1e-5, 1e-3), steps: int = 50,
                          seed: int = 0, loss: str = "softmax", scale: float = 1e-4,
                          progress: ProgressFn | None = None, cancel: CancelFn | None = None
                          ) -> dict[float, list[float]]:
    """Full-batch gradient descent ``W ← W − α ∇L`` from the same seeded start for each
    learning rate; returns ``{lr: losses}`` (a list stops early when the loss diverges)."""
    out: dict[float, list[float]] = {}
    total = len(lrs) * steps
    done = 0
    for lr in lrs:
        model = linear_model_for(X, num_classes, loss, seed, scale)
        losses: list[float] = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(steps):
                _check_cancel(cancel)
                L = model.loss(X, y, grads=True)[0]
                losses.append(L)
                done += 1
                if progress is not None:
                    progress(done / total)
                if not math.isfinite(L) or L > 1e12:
                    break
                for name, g in model.grads.items():
                    model.params[name] -= lr * g
        out[lr] = losses
    return out


def numerical_gradient_table(model: Network, X, y, rows: int = 10, h: float = 1e-4, param: str = "W1",
                             start: int = 0):
    """The lecture's table for ``rows`` entries of ``param`` from flat index ``start`` on:
    ``[(flat index, W, W + h, L(W), L(W + h), (L(W+h) − L(W)) / h)]`` (forward differences)."""
    from .gradcheck import numerical_gradient_steps
    p = model.params[param]
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    flat = p.reshape(-1)  # a view: nudging it nudges the model's weights
    start = max(0, min(int(start), flat.size - 1))
    view = flat[start:start + rows]
    out = []
    for (k,), w, base, lp, slope in numerical_gradient_steps(f, view, h):
        out.append((start + k, w, w + h, base, lp, slope))
    return out


def numerical_gradient_cost(model: Network, X, y, dims=(10, 100, 1000), h: float = 1e-5,
                            param: str = "W1", cancel: CancelFn | None = None):
    """Time the centered numerical gradient over the first ``n`` entries of ``param`` for each
    ``n`` in ``dims`` (capped at its size) and one analytic gradient of all parameters.
    Returns ``(rows [(n, seconds)], analytic seconds, num_params)``."""
    p = model.params[param]
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    rows = []
    for n in dims:
        _check_cancel(cancel)
        n = min(int(n), p.size)
        idx = [np.unravel_index(i, p.shape) for i in range(n)]
        t0 = time.perf_counter()
        numerical_gradient(f, p, h, indices=idx)
        rows.append((n, time.perf_counter() - t0))
    t0 = time.perf_counter()
    model.loss(X, y, grads=True)
    return rows, time.perf_counter() - t0, model.num_params


def gradient_check_table(model: Network, X, y, count: int = 10, h: float = 1e-5, seed: int = 0):
    """Analytic vs centered numerical gradient at ``count`` random entries of each parameter:
    ``[(param, index tuple, analytic, numeric, relative error)]``; run the model in float64."""
    model.loss(X, y, grads=True)
    analytic = {k: np.array(v, dtype=np.float64) for k, v in model.grads.items()}
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    rng = np.random.default_rng(seed)
    out = []
    for name, p in model.params.items():
        k = min(count, p.size)
        flat = np.sort(rng.choice(p.size, k, replace=False))
        idx = [tuple(int(i) for i in np.unravel_index(i, p.shape)) for i in flat]
        num = numerical_gradient(f, p, h, indices=idx)
        for ix in idx:
            a, n = float(analytic[name][ix]), float(num[ix])
            # both (numerically) zero: finite-difference noise, not a disagreement
            err = 0.0 if max(abs(a), abs(n)) < 1e-8 else abs(a - n) / (abs(a) + abs(n))
            out.append((name, ix, a, n, err))
    return out


# =========================================================================== loss landscape

def clone_network(net: Network) -> Network:
    """An independent copy (own parameters, own graph) in the same precision."""
    return net.astype(net.dtype)


def random_directions(params: dict[str, np.ndarray], count: int, rng: np.random.Generator,
                      names: list[str] | None = None) -> list[dict[str, np.ndarray]]:
    """``count`` random directions over the weight arrays ``names`` (default every ``W*``).

    Each direction's block for ``W`` is Gaussian, rescaled to the norm of ``W`` (so a step
    of 1 is "as large as the weights") — or to norm 1 while ``W`` is still (nearly) zero.
    """
    names = names or [k for k in params if k.startswith("W")]
    out = []
    for _ in range(count):
        d = {}
        for k in names:
            r = rng.standard_normal(params[k].shape)
            norm_w = float(np.linalg.norm(params[k]))
            r *= max(norm_w, 1.0) / max(float(np.linalg.norm(r)), 1e-12)
            d[k] = r
        out.append(d)
    return out


@dataclass
class LandscapeSlice:
    """``alphas: (A,)``, (2-D: ``betas: (B,)``), ``losses``: ``(A,)`` or ``(B, A)`` with
    ``losses[i, j] = L(W + alphas[j] d1 + betas[i] d2)``; ``center`` is L(W)."""
    alphas: np.ndarray
    losses: np.ndarray
    center: float
    directions: list[dict[str, np.ndarray]]
    betas: np.ndarray | None = None


def loss_at(model: Network, X, y, base: dict[str, np.ndarray], dirs, coeffs) -> float:
    """``L(W + Σ c_k d_k)`` (data + regularization); ``model``'s weights are left at that point."""
    for k, W0 in base.items():
        v = W0.astype(np.float64, copy=True)
        for d, c in zip(dirs, coeffs):
            if k in d:
                v += c * d[k]
        model.params[k][...] = v
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return model.loss(X, y, grads=False)[0]


def loss_landscape(model: Network, X, y, dims: int = 1, span: float = 1.0, steps: int = 41,
                   seed: int = 0, progress: ProgressFn | None = None,
                   cancel: CancelFn | None = None) -> LandscapeSlice:
    """A 1-D (``dims=1``) or 2-D slice of the loss around ``model``'s weights along random
    directions (the lecture's SVM landscape figures); coefficients in ``[-span, span]``.

    ``model`` is not modified (its weights are restored).  ``progress(fraction)`` after each
    point; ``cancel()`` True raises :class:`Cancelled`.
    """
    if dims not in (1, 2):
        raise ValueError(f"a landscape slice has 1 or 2 dimensions, got {dims}")
    rng = np.random.default_rng(seed)
    base = model.copy_params()
    dirs = random_directions(base, dims, rng)
    alphas = np.linspace(-span, span, steps)
    try:
        center = loss_at(model, X, y, base, dirs, [0.0] * dims)
        if dims == 1:
            losses = np.empty(steps)
            for j, a in enumerate(alphas):
                _check_cancel(cancel)
                losses[j] = loss_at(model, X, y, base, dirs, [a])
                if progress:
                    progress((j + 1) / steps)
            return LandscapeSlice(alphas, losses, center, dirs)
        losses = np.empty((steps, steps))
        total = steps * steps
        for i, b in enumerate(alphas):
            for j, a in enumerate(alphas):
                _check_cancel(cancel)
                losses[i, j] = loss_at(model, X, y, base, dirs, [a, b])
            if progress:
                progress((i + 1) * steps / total)
        return LandscapeSlice(alphas, losses, center, dirs, betas=alphas.copy())
    finally:
        for k, v in base.items():
            model.params[k][...] = v


# =========================================================================== activations

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")


def activation_curve(name: str, x: np.ndarray, **attrs) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` computed by the engine's graph: ``g.apply(name, x)`` then backward
    with an upstream gradient of ones (elementwise, so the input's grad is the derivative)."""
    g = Graph(np.float64)
    xn = g.input("x", np.asarray(x, dtype=np.float64))
    out = g.apply(name, xn, name=name, **attrs)
    g.backward(out)
    return np.array(out.value, copy=True), np.array(xn.grad, copy=True)


def collapse_linear(W1, b1, W2, b2) -> tuple[np.ndarray, np.ndarray]:
    """Two affine layers with no nonlinearity in our row convention are one:
    ``(x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2)`` — the lecture's ``W2 W1`` and
    ``W2 b1 + b2`` transposed."""
    return np.asarray(W1) @ np.asarray(W2), np.asarray(b1) @ np.asarray(W2) + np.asarray(b2)


@dataclass
class CollapseResult:
    W: np.ndarray            # (D, C) = W1 @ W2
    b: np.ndarray            # (C,)   = b1 @ W2 + b2
    two_layer_scores: np.ndarray
    linear_scores: np.ndarray
    max_abs_diff: float
    params: dict[str, np.ndarray] = field(default_factory=dict)


def collapse_demo(X: np.ndarray, num_classes: int, hidden: int = 16, seed: int = 0) -> CollapseResult:
    """Build a 2-layer network with the identity activation (He init, random biases), collapse
    it, and compare its scores on ``X`` with the single linear layer's (both engine models)."""
    rng = np.random.default_rng(seed)
    D = X.shape[1]
    net = Network(D, num_classes, ModelConfig(hidden=[hidden], activations=["identity"], init="he",
                                              dtype="float64"), LossConfig(), rng=rng)
    net.params["b1"][...] = rng.standard_normal(hidden) * 0.5
    net.params["b2"][...] = rng.standard_normal(num_classes) * 0.5
    W, b = collapse_linear(net.params["W1"], net.params["b1"], net.params["W2"], net.params["b2"])
    lin = LinearClassifier(D, num_classes, dtype="float64", params={"W1": W, "b1": b})
    Xf = np.asarray(X, dtype=np.float64)
    s2 = net.scores(Xf)
    s1 = lin.scores(Xf)
    return CollapseResult(W, b, s2, s1, float(np.max(np.abs(s2 - s1))) if len(Xf) else 0.0,
                          net.copy_params())
