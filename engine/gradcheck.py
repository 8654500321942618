"""The numerical gradient and the gradient check.

``numerical_gradient`` nudges one dimension at a time, exactly as the lecture does:
``(L(W + h) − L(W)) / h`` (forward) or ``(L(W + h) − L(W − h)) / 2h`` (centered, more accurate).
Its cost is one or two loss evaluations per parameter — O(#dimensions).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np


def numerical_gradient_steps(f: Callable[[], float], x: np.ndarray, h: float = 1e-4, indices=None,
                             method: str = "forward") -> Iterator[tuple[object, float, float, float, float]]:
    """The one finite-difference loop, one dimension at a time as the lecture's table: yields
    ``(index, x[index], L₀, L(x + h e_index), slope)`` with ``L₀ = L(x)`` and slope
    ``(L(x+h) − L(x)) / h`` (``method="forward"``), or ``L₀ = L(x − h e_index)`` and slope
    ``(L(x+h) − L(x−h)) / 2h`` (``"centered"``).  ``f()`` reads ``x`` (nudged in place, restored
    before each yield); ``indices``: the indices to visit (default every one, in order)."""
    if method not in ("centered", "forward"):
        raise ValueError(f"method must be 'centered' or 'forward', got {method!r}")
    centered = method == "centered"
    base = None if centered else float(f())
    for ix in (indices if indices is not None else np.ndindex(*x.shape)):
        old = x[ix].copy()
        x[ix] = old + h
        fp = float(f())
        if centered:
            x[ix] = old - h
            f0 = float(f())
            slope = (fp - f0) / (2 * h)
        else:
            f0 = base
            slope = (fp - base) / h
        x[ix] = old
        yield ix, float(old), f0, fp, slope


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5,
                       method: str = "centered", indices=None) -> np.ndarray:
    """d f / d x by finite differences.  ``f()`` reads ``x`` (modified in place and restored).

    ``indices``: optional iterable of index tuples to evaluate (others stay 0).
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix, _, _, _, slope in numerical_gradient_steps(f, x, h, indices, method):
        grad[ix] = slope
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, eps: float = 1e-12,
                   floor: float = 0.0) -> float:
    """max over elements of ``|a − n| / max(|a| + |n|, eps)`` (0 where both are 0) — the project's
    one definition. Elements where both values are below ``floor`` count as agreeing (0): there a
    finite difference measures only rounding noise."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if not a.size:
        return 0.0
    err = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), eps)
    if floor > 0:
        err = np.where(np.maximum(np.abs(a), np.abs(n)) < floor, 0.0, err)
    return float(np.max(err))


def gradient_check_entries(model, X: np.ndarray, y: np.ndarray, h: float = 1e-5, count: int | None = None,
                           rng: np.random.Generator | None = None, floor: float = 0.0
                           ) -> list[tuple[str, tuple, float, float, float]]:
    """The gradient check: the analytic gradient of ``model``'s total loss against the centered
    numerical one, entry by entry: ``[(param, index, analytic, numeric, relative error)]``.

    Works on any :class:`~engine.models.Network` (run it in float64 for meaningful errors:
    ``model.astype("float64")``).  ``count``: check that many randomly chosen entries of each
    parameter (in index order; all of a parameter no larger), else every entry; ``floor`` as
    in :func:`relative_error`.
    """
    model.loss(X, y, grads=True)
    analytic = {k: np.array(v, dtype=np.float64) for k, v in model.grads.items()}
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    rng = rng or np.random.default_rng(0)
    out = []
    for name, p in model.params.items():
        if count is not None and p.size > count:
            flat = np.sort(rng.choice(p.size, count, replace=False))
            idx = [tuple(int(i) for i in np.unravel_index(i, p.shape)) for i in flat]
        else:
            idx = list(np.ndindex(*p.shape))
        for ix, _, _, _, num in numerical_gradient_steps(f, p, h, idx, "centered"):
            a = float(analytic[name][ix])
            out.append((name, ix, a, num, relative_error(a, num, floor=floor)))
    return out


def gradient_check(model, X: np.ndarray, y: np.ndarray, h: float = 1e-5, max_per_param: int | None = None,
                   rng: np.random.Generator | None = None) -> dict[str, float]:
    """:func:`gradient_check_entries` summed up: ``{param name: largest relative error}``."""
    errors: dict[str, list[float]] = {name: [] for name in model.params}
    for name, _, _, _, err in gradient_check_entries(model, X, y, h, max_per_param, rng):
        errors[name].append(err)
    return {name: float(np.max(e)) if e else 0.0 for name, e in errors.items()}   # (a NaN stays NaN)
