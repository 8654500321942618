"""Layer-sized operations with hand-derived vectorised backward passes.

CS231n style: ``*_forward`` returns ``(out, cache)`` and ``*_backward(dout, cache)``
returns the gradients.  Shapes: a minibatch ``x: (N, D)``, weights ``W: (D, M)``,
biases ``b: (M,)``, class scores ``s: (N, C)``, integer labels ``y: (N,)``.
Each operation is also registered (:func:`engine.ops.register`) as an :class:`~engine.ops.Op`
whose forward and backward call these functions, so a network's graph is a handful of nodes
(affine, activation, ..., loss, regularization) applied by name: ``g.apply("affine", x, W, b)``.
"""
from __future__ import annotations

import numpy as np

from .ops import Op, register

# --------------------------------------------------------------------------- affine

_ONES: dict[tuple, np.ndarray] = {}


def _ones(n: int, dtype) -> np.ndarray:
    """``np.ones(n, dtype)``, cached (read only): ``np.dot(_ones(N), a)`` sums ``a`` over its rows
    in one BLAS call, several times faster than ``a.sum(axis=0)`` on a small minibatch."""
    key = (n, dtype)
    r = _ONES.get(key)
    if r is None:
        if len(_ONES) > 64:
            _ONES.clear()
        r = _ONES[key] = np.ones(n, dtype)
        r.flags.writeable = False
    return r



def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """``out = x W + b``: x (N, D), W (D, M), b (M,) -> ``(out (N, M), cache)``."""
    out = x @ W
    out += b
    return out, (x, W)


def affine_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """Returns ``(dx (N, D) or None, dW (D, M), db (M,))``."""
    x, W = cache
    dx = dout @ W.T if need_dx else None
    return dx, x.T @ dout, np.dot(_ones(len(dout), dout.dtype), dout)    # db: Σ over the batch, one BLAS call


register(Op("affine", 3, lambda v, a: affine_forward(*v),
            backward=lambda up, n: affine_backward(up, n.cache, n.parents[0].requires_grad),
            symbol="xW+b", describe="affine layer x·W + b: dx = up·Wᵀ, dW = xᵀ·up, db = Σ up over the batch"))

# --------------------------------------------------------------------------- losses

_ROWS: dict[int, np.ndarray] = {}


def _rows(n: int) -> np.ndarray:
    """``np.arange(n)``, cached (minibatches have one or two sizes)."""
    r = _ROWS.get(n)
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[n] = np.arange(n)
    return r


def softmax_loss_forward(scores: np.ndarray, y: np.ndarray):
    """Softmax cross-entropy, numerically stable (scores shifted by their row max).

    Returns ``(mean loss, cache)``; ``cache["losses"]`` holds the per-example losses
    ``L_i = -log(e^{s_yi} / Σ_j e^{s_j})`` and ``cache["probs"]`` the probabilities.
    """
    N = scores.shape[0]
    rows = _rows(N)
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = np.dot(exp, _ones(exp.shape[1], exp.dtype))     # Σ_j e^{s_j} per row, as one BLAS call
    losses = np.log(sums) - shifted[rows, y]
    probs = exp / sums[:, None]
    return losses.sum() / N, {"probs": probs, "losses": losses, "y": y, "rows": rows}


def softmax_loss_backward(dout, cache):
    d, y = cache["probs"].copy(), cache["y"]
    N = d.shape[0]
    d[cache["rows"], y] -= 1
    d *= dout / N
    return d


def hinge_loss_forward(scores: np.ndarray, y: np.ndarray, margin: float = 1.0):
    """Multiclass SVM: ``L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + Δ)``; returns ``(mean, cache)``.

    ``cache["margins"]`` holds every ``max(0, ...)`` term (0 at the correct class).
    """
    N = scores.shape[0]
    rows = np.arange(N)
    correct = scores[rows, y][:, None]
    margins = np.maximum(0, scores - correct + margin)
    margins[rows, y] = 0
    losses = margins.sum(axis=1)
    return losses.mean(), {"margins": margins, "losses": losses, "y": y}


def hinge_loss_backward(dout, cache):
    margins, y = cache["margins"], cache["y"]
    N = margins.shape[0]
    d = (margins > 0).astype(margins.dtype)
    d[np.arange(N), y] = -d.sum(axis=1)
    d *= dout / N
    return d


def _softmax_op_fw(v, a):
    scores, y = v
    loss, cache = softmax_loss_forward(scores, y.astype(np.intp, copy=False))
    return np.asarray(loss, dtype=scores.dtype), cache


def _hinge_op_fw(v, a):
    scores, y = v
    loss, cache = hinge_loss_forward(scores, y.astype(np.intp, copy=False), a.get("margin", 1.0))
    return np.asarray(loss, dtype=scores.dtype), cache


register(Op("softmax_loss", 2, _softmax_op_fw, backward=lambda up, n: (softmax_loss_backward(up, n.cache), None),
            symbol="softmax", kind="loss",
            describe="softmax loss: mean of −log(e^{s_y}/Σe^{s_j}); d/ds = (p − onehot(y)) / N"))
register(Op("hinge_loss", 2, _hinge_op_fw, backward=lambda up, n: (hinge_loss_backward(up, n.cache), None),
            symbol="SVM", kind="loss", attrs={"margin": False},
            describe="multiclass SVM loss: mean of Σ max(0, s_j − s_y + Δ); d/ds_j = 1 per positive margin, "
                     "−count at y, / N"))

# --------------------------------------------------------------------------- regularizers


def regularization(weights: list[np.ndarray], kind: str, l1_ratio: float = 0.5) -> float:
    """``R(W)`` summed over the given weight arrays: l1 Σ|W|, l2 Σ W², elastic r·L1 + (1−r)·L2."""
    total = 0.0
    for W in weights:
        if kind == "l1":
            total += float(np.abs(W).sum())
        elif kind == "l2":
            total += float(np.vdot(W, W))
        elif kind == "elastic":
            total += l1_ratio * float(np.abs(W).sum()) + (1 - l1_ratio) * float(np.vdot(W, W))
        elif kind != "none":
            raise ValueError(f"unknown regularization {kind!r}")
    return total


def regularization_grad(W: np.ndarray, kind: str, l1_ratio: float = 0.5, scale: float = 1.0) -> np.ndarray:
    """``scale · dR/dW`` for one weight array (the L1 subgradient is sign(W), 0 at 0)."""
    if kind == "l1":
        return np.sign(W) * scale
    if kind == "l2":
        return W * (2 * scale)
    if kind == "elastic":
        return np.sign(W) * (l1_ratio * scale) + W * ((1 - l1_ratio) * 2 * scale)
    return np.zeros_like(W)


def _reg_fw(v, a):
    strength = a.get("strength", 0.0)
    if strength == 0.0:
        dt = v[0].dtype if v else np.float64
        return np.zeros((), dtype=dt), 0.0
    R = regularization(v, a["kind"], a.get("l1_ratio", 0.5))
    return np.asarray(strength * R, dtype=v[0].dtype), R


def _reg_bw(up, n):
    strength = n.attrs.get("strength", 0.0)
    if strength == 0.0:
        return (None,) * len(n.parents)
    kind, r = n.attrs["kind"], n.attrs.get("l1_ratio", 0.5)
    scale = float(up) * strength            # R(W) is a number: its upstream gradient is one too
    return tuple([regularization_grad(p.value, kind, r, scale) for p in n.parents])


register(Op("regularization", -1, _reg_fw, backward=_reg_bw, symbol="λR(W)",
            attrs={"kind": True, "strength": False, "l1_ratio": False},
            describe="regularization λ·R(W): L2 gives 2λW, L1 gives λ·sign(W)"))
