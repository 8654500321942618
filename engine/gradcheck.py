"""The numerical gradient and the gradient check.

``numerical_gradient`` nudges one dimension at a time, exactly as the lecture does:
``(L(W + h) − L(W)) / h`` (forward) or ``(L(W + h) − L(W − h)) / 2h`` (centered, more accurate).
Its cost is one or two loss evaluations per parameter — O(#dimensions).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5,
                       method: str = "centered", indices=None) -> np.ndarray:
    """d f / d x by finite differences.  ``f()`` reads ``x`` (modified in place and restored).

    ``indices``: optional iterable of index tuples to evaluate (others stay 0).
    """
    if method not in ("centered", "forward"):
        raise ValueError(f"method must be 'centered' or 'forward', got {method!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    fx = None if method == "centered" else float(f())
    it = indices if indices is not None else np.ndindex(*x.shape)
    for ix in it:
        old = x[ix].copy()
        x[ix] = old + h
        fp = float(f())
        if method == "centered":
            x[ix] = old - h
            fm = float(f())
            grad[ix] = (fp - fm) / (2 * h)
        else:
            grad[ix] = (fp - fx) / h
        x[ix] = old
    return grad


def numerical_gradient_steps(f: Callable[[], float], x: np.ndarray, h: float = 1e-4
                             ) -> Iterator[tuple[tuple, float, float, float, float]]:
    """The lecture's table, one dimension at a time: yields
    ``(index, W[index], loss(W), loss(W + h e_index), (L(W+h) − L(W)) / h)``."""
    base = float(f())
    for ix in np.ndindex(*x.shape):
        old = x[ix].copy()
        x[ix] = old + h
        lp = float(f())
        x[ix] = old
        yield ix, float(old), base, lp, (lp - base) / h


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


def gradient_check(model, X: np.ndarray, y: np.ndarray, h: float = 1e-5, max_per_param: int | None = None,
                   rng: np.random.Generator | None = None) -> dict[str, float]:
    """Compare the analytic gradient of ``model``'s total loss with the centered numerical one.

    Works on any :class:`~engine.models.Network` (run it in float64 for meaningful errors:
    ``model.astype("float64")``).  Returns ``{param name: relative error}``; with
    ``max_per_param`` only that many randomly chosen entries of each parameter are checked.
    """
    model.loss(X, y, grads=True)
    analytic = {k: np.array(v, dtype=np.float64) for k, v in model.grads.items()}
    f = lambda: model.loss(X, y, grads=False)[0]  # noqa: E731
    rng = rng or np.random.default_rng(0)
    out = {}
    for name, p in model.params.items():
        if max_per_param is not None and p.size > max_per_param:
            flat = rng.choice(p.size, max_per_param, replace=False)
            idx = [np.unravel_index(i, p.shape) for i in flat]
            num = numerical_gradient(f, p, h, indices=idx)
            sel = tuple(np.array(idx).T)
            out[name] = relative_error(analytic[name][sel], num[sel])
        else:
            out[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return out
