"""Optimization: gradient descent and its variants, learning-rate schedules, random search.

Update rules work in place on lists of parameter arrays so the model's graph sees them:
``W ← W − α ∇W L`` (SGD), momentum, Adam.  Random search and random local search are the
lecture's first ideas: try random weights and keep the best.
"""
from __future__ import annotations

import math

import numpy as np

from .config import OptimConfig


class SGD:
    """Vanilla minibatch gradient descent: ``W ← W − α·dW``."""
    name = "sgd"

    def __init__(self, cfg: OptimConfig | None = None):
        self.cfg = cfg or OptimConfig()

    def update(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        for p, g in zip(params, grads):
            if g is not None:
                p -= lr * g

    def reset(self) -> None:
        pass

    def state(self) -> dict:
        """Everything the next update depends on (copies), for :meth:`load_state`."""
        return {k: ([a.copy() for a in v] if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "cfg"}

    def load_state(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, [a.copy() for a in v] if isinstance(v, list) else v)


class Momentum(SGD):
    """``v ← μ v − α dW;  W ← W + v``."""
    name = "momentum"

    def __init__(self, cfg: OptimConfig | None = None):
        super().__init__(cfg)
        self.v: list[np.ndarray] | None = None

    def reset(self) -> None:
        self.v = None

    def update(self, params, grads, lr):
        if self.v is None:
            self.v = [np.zeros_like(p) for p in params]
        mu = self.cfg.momentum
        for p, g, v in zip(params, grads, self.v):
            if g is None:
                continue
            v *= mu
            v -= lr * g
            p += v


class Adam(SGD):
    """Adam with bias correction (Kingma & Ba), ``eps = 1e-8`` added to √v̂ (after the bias
    correction, as PyTorch's ``torch.optim.Adam`` and the CS231n notes do)."""
    name = "adam"

    def __init__(self, cfg: OptimConfig | None = None):
        super().__init__(cfg)
        self.reset()

    def reset(self) -> None:
        self.m = self.v = None
        self.t = 0

    def update(self, params, grads, lr):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        b1, b2 = self.cfg.beta1, self.cfg.beta2
        self.t += 1
        # ε is added after the bias correction, as in PyTorch and the CS231n notes:
        # p ← p − lr · m̂ / (√v̂ + ε), m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
        step = lr / (1 - b1 ** self.t)
        root_bc2 = math.sqrt(1 - b2 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            if g is None:
                continue
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= root_bc2
            denom += 1e-8
            p -= step * m / denom


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(cfg: OptimConfig) -> SGD:
    try:
        return OPTIMIZERS[cfg.optimizer](cfg)
    except KeyError:
        raise ValueError(f"{cfg.optimizer!r} is not a gradient-based optimizer") from None


def scheduled_lr(cfg: OptimConfig, base_lr: float, epoch: float) -> float:
    """The learning rate at (fractional) ``epoch``: constant, step (× gamma every
    ``step_every`` epochs) or exponential (``lr0 · gammaᵉᵖᵒᶜʰ``)."""
    if cfg.schedule == "step":
        return base_lr * cfg.gamma ** int(epoch // cfg.step_every)
    if cfg.schedule == "exponential":
        return base_lr * cfg.gamma ** epoch
    return base_lr


# --------------------------------------------------------------------------- random search

def random_weights_like(params: list[np.ndarray], scale: float, rng: np.random.Generator) -> list[np.ndarray]:
    """``W = scale · randn`` for every array (the lecture: ``np.random.randn(10, 3073) * 0.0001``)."""
    return [(rng.standard_normal(p.shape) * scale).astype(p.dtype) for p in params]


def random_search(loss_fn, params: list[np.ndarray], trials: int, scale: float,
                  rng: np.random.Generator, callback=None, *, batch: int = 1, batch_losses=None):
    """The lecture's random search: try ``trials`` random W (:func:`random_weights_like`), keep
    the lowest loss.  The project's one random search (the labs' runs use it).

    ``loss_fn()`` evaluates the loss of the current contents of ``params``.  With ``batch_losses``
    the trials go ``batch`` at a time (the first batch at most 10, so the first report comes
    quickly) and ``batch_losses(candidates) -> losses`` scores a list of candidate weight lists at
    once (a linear classifier: one matrix product); the draws are the same either way.
    ``callback(trials done, history)`` after each batch may return True to stop.  On return
    ``params`` hold the best weights found.  Returns ``(best_loss, history of (loss, best))``.
    """
    batch = max(1, int(batch)) if batch_losses is not None else 1
    best = math.inf
    best_w = [p.copy() for p in params]
    history = []
    t = 0
    while t < trials:
        k = min(batch if t else min(batch, 10), trials - t)
        cands = [random_weights_like(params, scale, rng) for _ in range(k)]
        if batch_losses is not None:
            losses = [float(v) for v in batch_losses(cands)]
        else:
            losses = []
            for w in cands:
                for p, v in zip(params, w):
                    p[...] = v
                losses.append(float(loss_fn()))
        for w, loss in zip(cands, losses):
            if loss < best:
                best, best_w = loss, w
            history.append((loss, best))
        t += k
        if callback is not None and callback(t, history):
            break
    for p, w in zip(params, best_w):
        p[...] = w
    return best, history


def random_local_search(loss_fn, params: list[np.ndarray], trials: int, step: float,
                        rng: np.random.Generator, callback=None):
    """Random local search: try ``W + step · randn``; move there only if the loss falls.
    ``callback(trials done, history)`` after each trial may return True to stop."""
    best = float(loss_fn())
    history = []
    for t in range(trials):
        old = [p.copy() for p in params]
        for p in params:
            p += (rng.standard_normal(p.shape) * step).astype(p.dtype)
        loss = float(loss_fn())
        if loss < best:
            best = loss
        else:
            for p, w in zip(params, old):
                p[...] = w
        history.append((loss, best))
        if callback is not None and callback(t + 1, history):
            break
    return best, history
