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
- the decision-region grid of the Overfitting lab (its presets: :mod:`engine.lecture_tables`);
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

from .config import LossConfig, ModelConfig
from .gradcheck import gradient_check_entries, numerical_gradient, numerical_gradient_steps
from .graph import Graph
from .layers import hinge_loss_forward, softmax_loss_forward
from .models import LinearClassifier, Network
from .ops import OPS, op_names
from .optim import SGD, random_local_search, random_search

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


# =========================================================================== decision regions

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
                      seed: int = 0, loss: str = "svm", local: bool = False, step: float = 1e-4, batch: int = 1,
                      progress: Callable[[int, list[float], list[float]], None] | None = None,
                      cancel: CancelFn | None = None) -> SearchResult:
    """The lecture's random search (``local=False``: ``W = scale · randn`` each trial, the bias
    drawn after W — the lecture's ``randn(10, 3073) · 0.0001`` with the bias as its last column)
    or random local search (``W + step · randn``, kept if the loss falls) of a linear classifier,
    by :func:`engine.optim.random_search` / :func:`engine.optim.random_local_search`.

    ``batch`` > 1 (random search): that many trials scored by one matrix product, in float32
    (the search only compares losses: the same losses up to float32 rounding, the same draws).
    ``progress(trials done, losses, best so far)`` after each batch (each trial with
    ``batch=1``); ``cancel()`` True stops after it (the best so far is kept)."""
    model = linear_model_for(X, num_classes, loss, seed, scale)
    rng = np.random.default_rng(seed)
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731

    def cb(done, hist):
        if progress is not None:
            progress(done, [h[0] for h in hist], [h[1] for h in hist])
        return bool(cancel and cancel())

    if local:
        best, hist = random_local_search(f, model.param_list(), trials, step, rng, cb)
    else:
        scorer = _linear_batch_losses(X, y, loss) if batch > 1 else None
        best, hist = random_search(f, model.param_list(), trials, scale, rng, cb, batch=batch, batch_losses=scorer)
    acc = model.accuracy(X_eval, y_eval)
    return SearchResult([h[0] for h in hist], [h[1] for h in hist], float(best), float(acc),
                        model.copy_params())


def _linear_batch_losses(X, y, loss: str, margin: float = 1.0):
    """``losses(candidates) -> (k,)``: the mean data loss of ``k`` linear classifiers
    ``[W (D, C), b (C,)]`` on ``(X, y)`` from one float32 matrix product (the bias trick), the
    engine's multiclass SVM or softmax evaluated for many W at once."""
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.intp)
    N, D = X.shape
    Xa = np.empty((N, D + 1), dtype=np.float32)
    Xa[:, :D] = X
    Xa[:, D] = 1.0

    def losses(cands) -> np.ndarray:
        k = len(cands)
        Ws = np.empty((k, D + 1, cands[0][0].shape[1]), dtype=np.float32)
        for i, (W, b) in enumerate(cands):
            Ws[i, :D] = W
            Ws[i, D] = b
        C = Ws.shape[2]
        S = (Xa @ Ws.transpose(1, 0, 2).reshape(D + 1, k * C)).reshape(N, k, C).transpose(1, 0, 2)
        S = S.astype(np.float64)
        sy = np.take_along_axis(S, np.broadcast_to(y[None, :, None], (k, N, 1)), axis=2)
        with np.errstate(over="ignore", invalid="ignore"):
            if loss == "svm":
                m = np.maximum(0.0, S - sy + margin)
                return (m.sum(axis=2) - margin).mean(axis=1)       # the j = y_i term is exactly margin
            mx = S.max(axis=2, keepdims=True)
            lse = np.log(np.exp(S - mx).sum(axis=2)) + mx[..., 0]
            return (lse - sy[..., 0]).mean(axis=1)

    return losses


#: the lecture's random-search setting (CS231n's: 1000 tries of ``W = 0.0001 · randn(10, 3073)``,
#: raw CIFAR-10 pixels with the bias trick, multiclass SVM; the best W scored 15.5 % on the test set)
LECTURE_SEARCH_TRIALS = 1000
LECTURE_SEARCH_SCALE = 1e-4
LECTURE_SEARCH_ACCURACY = 0.155

#: the slide's printout ``(attempt, loss, best as printed)``
RANDOM_SEARCH_PRINTOUT = (
    (0, 9.401632, 9.401632),
    (1, 8.959668, 8.959668),
    (2, 8.044034, 8.959668),
    (3, 8.278948, 8.959668),
    (4, 8.857370, 8.857370),
)
RANDOM_SEARCH_NOTE = (
    "The slide's printout keeps “best 8.959668” after attempts 2 and 3 although their losses "
    "(8.044034, 8.278948) are lower, and then “improves” to 8.857370. With its own code "
    "(if loss < bestloss: bestloss = loss) the best after attempt 2 is 8.044034 and stays 8.044034.")


def printout_corrected(printout=RANDOM_SEARCH_PRINTOUT) -> list[tuple[int, float, float, float]]:
    """``[(attempt, loss, best as printed, best as the code computes it)]``."""
    out, best = [], math.inf
    for n, loss, printed in printout:
        best = min(best, loss)
        out.append((n, loss, printed, best))
    return out


def printout_slips(printout=RANDOM_SEARCH_PRINTOUT) -> list[int]:
    """The attempts whose printed best differs from the running minimum of the losses."""
    return [n for n, _, printed, best in printout_corrected(printout) if abs(printed - best) > 5e-7]


def mean_sd(values) -> tuple[float, float]:
    """Mean and (sample, ``ddof=1``) standard deviation; sd 0 for a single value."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def gradient_descent_runs(X, y, num_classes: int, lrs=(1e-7, 1e-5, 1e-3), steps: int = 50,
                          seed: int = 0, loss: str = "softmax", scale: float = 1e-4,
                          progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                          reg_strength: float = 0.0,
                          on_losses: Callable[[float, list[float]], None] | None = None,
                          every: int = 10) -> dict[float, list[float]]:
    """Full-batch gradient descent ``W ← W − α ∇L`` (:class:`engine.optim.SGD`) from the same
    seeded start for each learning rate; returns ``{lr: losses}`` (a list stops early when the loss diverges: not
    finite, above 1e12, or above 100× its start).  ``reg_strength`` > 0 adds ``λ Σ W²``;
    ``on_losses(lr, losses so far)`` every ``every`` steps (to draw a long run as it goes)."""
    out: dict[float, list[float]] = {}
    total = len(lrs) * steps
    done = 0
    reg = "l2" if reg_strength > 0 else "none"
    sgd = SGD()
    for lr in lrs:
        model = linear_model_for(X, num_classes, loss, seed, scale, reg=reg, reg_strength=reg_strength)
        losses: list[float] = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(steps):
                _check_cancel(cancel)
                L = model.loss(X, y, grads=True)[0]
                losses.append(L)
                done += 1
                if progress is not None:
                    progress(done / total)
                if on_losses is not None and len(losses) % every == 0 and len(losses) < steps:
                    on_losses(lr, list(losses))
                if not math.isfinite(L) or L > 1e12 or L > DIVERGED_FACTOR * max(abs(losses[0]), 1e-6):
                    break
                sgd.update(model.param_list(), model.grad_list(), lr)
        out[lr] = losses
    return out


#: a run whose loss climbs above this many times its start is stopped as diverged
DIVERGED_FACTOR = 100.0


def curve_state(losses, steps: int) -> tuple[str, float]:
    """What a gradient-descent curve did: ``(kind, value)`` with kind ``"diverged"`` (value: the
    step it was stopped at), ``"oscillates"`` (rose by more than 5 % of its start at some step;
    value: its end), ``"falling"`` (fell by more than 0.1 % of its start over its last tenth;
    value: its end) or ``"ends"`` (value: its end)."""
    a = np.asarray(losses, dtype=np.float64)
    if len(a) == 0:
        return "diverged", 0.0
    if len(a) < steps or not np.all(np.isfinite(a)):
        return "diverged", float(len(a) - 1)
    start = max(abs(float(a[0])), 1e-12)
    d = np.diff(a)
    if len(d) and float(d.max()) > 0.05 * start:
        return "oscillates", float(a[-1])
    tail = a[-max(2, len(a) // 10):]
    if len(a) > 1 and float(tail[0] - tail[-1]) > 1e-3 * start:
        return "falling", float(a[-1])
    return "ends", float(a[-1])


def describe_curve(losses, steps: int) -> str:
    """A short label for a gradient-descent curve: "diverged at step 12", "oscillates, ends at
    1.72", "still falling slowly: 2.21", "ends at 0.41"."""
    kind, v = curve_state(losses, steps)
    if kind == "diverged":
        return f"diverged at step {int(v)}"
    if kind == "oscillates":
        return f"oscillates, ends at {v:.3g}"
    if kind == "falling":
        return f"still falling slowly: {v:.3g}"
    return f"ends at {v:.3g}"


def gd_reg_strength(X) -> float:
    """The small L2 strength the learning-rate demo adds, ``1e-5 · mean ‖x‖²`` rounded to one
    significant digit (about 5e-6 for the toy sets, 0.04 for digits, 500 for raw CIFAR pixels).

    It barely changes the loss, but it gives the loss a bottom: without it a linear classifier on
    separable data (gaussians, digits) keeps lowering the loss by growing W, so the largest
    rate "wins" and nothing is ever too high."""
    X = np.asarray(X, dtype=np.float64)
    v = 1e-5 * float(np.mean(np.sum(X * X, axis=1))) if len(X) else 0.0
    if v <= 0 or not math.isfinite(v):
        return 0.0
    e = math.floor(math.log10(v))
    return round(v / 10 ** e) * 10 ** e


def _end_loss(losses, steps: int) -> float:
    """A run's final loss, or inf if it stopped early (diverged) or ended non-finite."""
    return float(losses[-1]) if len(losses) == steps and math.isfinite(losses[-1]) else math.inf


@dataclass
class RatePick:
    """The result of :func:`pick_learning_rates`: the three rates, every run of the sweep
    ``{lr: losses}``, the L2 strength used and each chosen curve's label."""
    low: float
    good: float
    high: float
    runs: dict[float, list[float]]
    reg_strength: float
    steps: int

    @property
    def rates(self) -> tuple[float, float, float]:
        return self.low, self.good, self.high

    def final(self, lr: float) -> float:
        return _end_loss(self.runs[lr], self.steps)

    def label(self, lr: float) -> str:
        return describe_curve(self.runs[lr], self.steps)


def pick_learning_rates(X, y, num_classes: int, loss: str = "svm", steps: int = 100, seed: int = 0,
                        scale: float = 1e-4, reg_strength: float | None = None,
                        on_run: Callable[[float, list[float]], None] | None = None,
                        progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                        on_step: Callable[[float, list[float]], None] | None = None) -> RatePick:
    """Pick "too low / good / too high" learning rates for full-batch gradient descent on
    ``(X, y)`` by a short sweep over the log grid ``g₀ · 10^(k/2)``, ``g₀ = 1 / mean ‖x‖²``
    (so the grid follows the data's scale: raw pixels and 2-D points alike).

    - good: the rate whose loss after ``steps`` steps is lowest;
    - too low: 100× smaller (up to 1000× if 100× smaller still ends as low as good);
    - too high: the smallest larger rate that diverges, or ends clearly above good (it gave
      back at least 10 % of good's progress from the start), else the largest one tried.

    Every run starts from the same seeded W (``scale · randn``) and is a real run of
    :func:`gradient_descent_runs` with ``steps`` steps, so the three curves the lab draws are
    the sweep's own.  The sweep walks up from ``g₀`` until a rate diverges, down until the end
    loss stops improving, then adds the "too low" run; ``on_run(lr, losses)`` after each run,
    ``on_step(lr, losses so far)`` every 10 steps within one.
    """
    X = np.asarray(X, dtype=np.float64)
    if reg_strength is None:
        reg_strength = gd_reg_strength(X)
    ms = float(np.mean(np.sum(X * X, axis=1))) if len(X) else 1.0
    g0 = 1.0 / max(ms, 1e-12)
    runs: dict[int, list[float]] = {}
    expected = 14

    def rate(k: int) -> float:
        return float(g0 * 10 ** (k / 2))

    def run(k: int) -> list[float]:
        if k not in runs:
            lr = rate(k)
            r = gradient_descent_runs(X, y, num_classes, lrs=(lr,), steps=steps, seed=seed, loss=loss,
                                      scale=scale, cancel=cancel, reg_strength=reg_strength,
                                      on_losses=on_step)[lr]
            runs[k] = r
            if on_run is not None:
                on_run(lr, r)
            if progress is not None:
                progress(min(len(runs) / expected, 0.99))
        return runs[k]

    def final(k: int) -> float:
        return _end_loss(run(k), steps)

    # walk up until a rate diverges (at most 10^6 · g0), then down while the end keeps improving
    k = 0
    while k < 12:
        if curve_state(run(k), steps)[0] == "diverged":
            break
        k += 1
    best = min(runs, key=lambda j: (final(j), j))
    k = min(runs) - 1
    worse = 0
    while k >= -12 and worse < 2:
        if final(k) < final(best):
            best, worse = k, 0
        else:
            worse += 1
        k -= 1
    best = min(runs, key=lambda j: (final(j), j))
    start = run(best)[0]
    clearly = final(best) + 0.1 * max(start - final(best), 0.0)
    low = best - 4
    while not final(low) > clearly and low > best - 6:   # (good/100 still got there: go lower)
        low -= 1
    high = None
    for j in sorted(runs):
        if j > best and (final(j) == math.inf or final(j) > clearly):
            high = j
            break
    if high is None:
        high = max(runs)
    out = {rate(j): runs[j] for j in sorted(runs)}
    if progress is not None:
        progress(1.0)
    return RatePick(rate(low), rate(best), rate(high), out, reg_strength, steps)


#: the slide's W (its first nine entries), its loss, and h
LECTURE_W = np.array([0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33])
LECTURE_LOSS = 1.25347
LECTURE_H = 1e-4
#: what the slide prints for +h in dimensions 1, 2, 3: ``(L(W + h), slope)``
LECTURE_PRINTED = ((1.25322, -2.5), (1.25353, 0.6), (1.25347, 0.0))
#: the gradient of the built example at W: the slide's three slopes, then six of our own
LECTURE_GRAD = np.array([-2.5, 0.6, 0.0, 1.2, -0.4, 0.9, 0.0, -1.7, 0.25])
LECTURE_CURVATURE = 1.0
LECTURE_EXAMPLE_NOTE = (
    "The slide's losses are illustrative (no data set behind them). This example is built to "
    "reproduce them: L(W) = 1.25347 + g·(W − W₀) + ½‖W − W₀‖², with W₀ the slide's W and "
    "g = (−2.5, 0.6, 0.0, …) — the slide's three slopes (the other six are ours). So L(W₀) is "
    "1.25347 and every L(W + h) in the table is computed, not copied; the ½‖W − W₀‖² term makes "
    "the forward difference differ from the exact slope by h/2 = 0.00005, the “approximate” of "
    "the slide.")


def lecture_loss(W) -> float:
    """The built example's loss ``1.25347 + g·(W − W₀) + ½ κ ‖W − W₀‖²`` (see
    :data:`LECTURE_EXAMPLE_NOTE`); its gradient at ``W₀`` is exactly :data:`LECTURE_GRAD`."""
    d = np.asarray(W, dtype=np.float64) - LECTURE_W
    return float(LECTURE_LOSS + LECTURE_GRAD @ d + 0.5 * LECTURE_CURVATURE * (d @ d))


def lecture_gradient_table(h: float = LECTURE_H):
    """The slide's table for the built example, one dimension at a time:
    ``[(dim, W, W + h, L(W), L(W + h), L(W+h) − L(W), (L(W+h) − L(W)) / h, analytic)]``."""
    W = LECTURE_W.copy()
    return [(k, w, w + h, base, lp, lp - base, slope, float(LECTURE_GRAD[k]))
            for (k,), w, base, lp, slope in numerical_gradient_steps(lambda: lecture_loss(W), W, h)]


def largest_gradient_indices(model: Network, X, y, count: int = 10, param: str = "W1") -> list[int]:
    """Flat indices of the ``count`` entries of ``param`` with the largest ``|analytic dL/dW|``
    (largest first): where nudging W changes the loss most (a CIFAR-10 W starts with pixels
    every image has, never a blank corner)."""
    model.loss(X, y, grads=True)
    g = np.abs(np.asarray(model.grads[param], dtype=np.float64)).ravel()
    count = max(0, min(int(count), g.size))
    idx = np.argsort(-g, kind="stable")[:count]
    return [int(i) for i in idx]


def numerical_gradient_table(model: Network, X, y, rows: int = 10, h: float = 1e-4, param: str = "W1",
                             start: int = 0, indices=None):
    """The lecture's table for ``rows`` entries of ``param`` from flat index ``start`` on (or at
    the flat ``indices`` given): ``[(flat index, W, W + h, L(W), L(W + h), (L(W+h) − L(W)) / h)]``
    (forward differences, :func:`engine.gradcheck.numerical_gradient_steps`)."""
    flat = model.params[param].reshape(-1)  # a view: nudging it nudges the model's weights
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    if indices is None:
        start = max(0, min(int(start), flat.size - 1))
        indices = range(start, min(start + rows, flat.size))
    return [(i, w, w + h, base, lp, slope)
            for i, w, base, lp, slope in numerical_gradient_steps(f, flat, h, [int(i) for i in indices])]


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
    """Analytic vs centered numerical gradient at ``count`` random entries of each parameter
    (:func:`engine.gradcheck.gradient_check_entries`): ``[(param, index tuple, analytic, numeric,
    relative error)]``; run the model in float64.  Entries where both gradients are below 1e-8
    count as agreeing: there the finite difference measures only rounding noise."""
    return gradient_check_entries(model, X, y, h, count, np.random.default_rng(seed), floor=1e-8)


# =========================================================================== loss landscape

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
                   cancel: CancelFn | None = None,
                   partial: Callable[[LandscapeSlice], None] | None = None) -> LandscapeSlice:
    """A 1-D (``dims=1``) or 2-D slice of the loss around ``model``'s weights along random
    directions (the lecture's SVM landscape figures); coefficients in ``[-span, span]``.

    ``model`` is not modified (its weights are restored).  ``progress(fraction)`` after each
    point (1-D) or row (2-D); ``partial(slice so far)`` (points or rows not computed yet are NaN)
    after the first point or row, then about every tenth of the work, to draw it progressively;
    ``cancel()`` True raises :class:`Cancelled`.
    """
    if dims not in (1, 2):
        raise ValueError(f"a landscape slice has 1 or 2 dimensions, got {dims}")
    rng = np.random.default_rng(seed)
    base = model.copy_params()
    dirs = random_directions(base, dims, rng)
    alphas = np.linspace(-span, span, steps)
    try:
        center = loss_at(model, X, y, base, dirs, [0.0] * dims)
        every = max(1, steps // 10)
        if dims == 1:
            losses = np.full(steps, np.nan)
            for j, a in enumerate(alphas):
                _check_cancel(cancel)
                losses[j] = loss_at(model, X, y, base, dirs, [a])
                if progress:
                    progress((j + 1) / steps)
                if partial and ((j + 1) % every == 0 or j == 0) and j + 1 < steps:
                    partial(LandscapeSlice(alphas, losses.copy(), center, dirs))
            return LandscapeSlice(alphas, losses, center, dirs)
        losses = np.full((steps, steps), np.nan)
        total = steps * steps
        for i, b in enumerate(alphas):
            for j, a in enumerate(alphas):
                _check_cancel(cancel)
                losses[i, j] = loss_at(model, X, y, base, dirs, [a, b])
            if progress:
                progress((i + 1) * steps / total)
            if partial and ((i + 1) % every == 0 or i == 0) and i + 1 < steps:
                partial(LandscapeSlice(alphas, losses.copy(), center, dirs, betas=alphas.copy()))
        return LandscapeSlice(alphas, losses, center, dirs, betas=alphas.copy())
    finally:
        for k, v in base.items():
            model.params[k][...] = v


# =========================================================================== activations

#: the activations the lab plots: every registered one with a formula to show (identity has
#: none: the lab shows it in the collapse demonstration instead), in engine.scalar_ops's order
ACTIVATION_NAMES = tuple(name for name in op_names("activation") if OPS[name].formula)


def activation_formula(name: str) -> tuple[str, str]:
    """The activation's title and formula as the lab shows them: ``("Leaky ReLU", "max(αx, x)")``."""
    return OPS[name].title, OPS[name].formula


def activation_params(name: str) -> tuple[str, ...]:
    """The attributes (parameters) the activation takes: ``("slope",)`` for leaky ReLU."""
    return tuple(OPS[name].attrs)


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
