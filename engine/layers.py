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


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    """``out = x W + b``: x (N, D), W (D, M), b (M,) -> ``(out (N, M), cache)``."""
    out = x @ W
    out += b
    return out, (x, W)


def affine_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """Returns ``(dx (N, D) or None, dW (D, M), db (M,))``."""
    x, W = cache
    dx = dout @ W.T if need_dx else None
    return dx, x.T @ dout, dout.sum(axis=0)


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
    sums = exp.sum(axis=1)
    losses = np.log(sums) - shifted[rows, y]
    probs = exp / sums[:, None]
    return losses.sum() / N, {"probs": probs, "losses": losses, "y": y, "rows": rows}


def softmax_loss_backward(dout, cache):
    d, y = cache["probs"].copy(), cache["y"]
    N = d.shape[0]
    d[cache.get("rows", _rows(N)), y] -= 1
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


def _loss_op(name, fw, bw, symbol, describe):
    def forward(v, a):
        scores, y = v
        if name == "hinge_loss":
            loss, cache = fw(scores, y.astype(np.intp, copy=False), a.get("margin", 1.0))
        else:
            loss, cache = fw(scores, y.astype(np.intp, copy=False))
        return np.asarray(loss, dtype=scores.dtype), cache

    def backward(up, n):
        return bw(up, n.cache), None

    register(Op(name, 2, forward, backward=backward, symbol=symbol, describe=describe))


_loss_op("softmax_loss", softmax_loss_forward, softmax_loss_backward, "softmax",
         "softmax loss: mean of −log(e^{s_y}/Σe^{s_j}); d/ds = (p − onehot(y)) / N")
_loss_op("hinge_loss", hinge_loss_forward, hinge_loss_backward, "SVM",
         "multiclass SVM loss: mean of Σ max(0, s_j − s_y + Δ); d/ds_j = 1 per positive margin, −count at y, / N")

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


def regularization_grad(W: np.ndarray, kind: str, l1_ratio: float = 0.5) -> np.ndarray:
    """``dR/dW`` for one weight array (the L1 subgradient is sign(W), 0 at 0)."""
    if kind == "l1":
        return np.sign(W)
    if kind == "l2":
        return 2 * W
    if kind == "elastic":
        return l1_ratio * np.sign(W) + (1 - l1_ratio) * 2 * W
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
        return tuple(None for _ in n.parents)
    kind, r = n.attrs["kind"], n.attrs.get("l1_ratio", 0.5)
    scale = up * strength
    return tuple(scale * regularization_grad(p.value, kind, r) for p in n.parents)


register(Op("regularization", -1, _reg_fw, backward=_reg_bw, symbol="λR(W)",
            describe="regularization λ·R(W): L2 gives 2λW, L1 gives λ·sign(W)"))
