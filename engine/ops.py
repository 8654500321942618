"""The operation registry: what an operation is (:class:`Op`) and the table of them (``OPS``).

Every operation a :class:`~engine.graph.Graph` can apply is registered here by name with
:func:`register`: the scalar gates and the activations in :mod:`engine.scalar_ops`, the
layer-sized operations (affine, the losses, the regularizers) in :mod:`engine.layers`.
Code applies one by name: ``graph.apply("affine", x, W, b)``.  This module imports nothing
else from the engine, so both register into it without an import circle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Op", "OPS", "register", "unbroadcast"]


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes along which a value of ``shape`` was broadcast."""
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


@dataclass(frozen=True)
class Op:
    """An operation: ``forward(values, attrs) -> (out, cache)``.

    Either ``local(node) -> tuple of local gradients`` (elementwise primitives: the
    downstream gradient is ``local * upstream``), or ``backward(upstream, node) -> tuple of
    downstream gradients`` (layer-sized operations with a vectorised backward).  A
    ``None`` entry means "no gradient flows to that input" (labels, constants).
    """
    name: str
    arity: int                      # -1: any number of inputs
    forward: Callable[[list, dict], tuple[np.ndarray, Any]]
    local: Callable[[Any], tuple] | None = None
    backward: Callable[[np.ndarray, Any], tuple] | None = None
    symbol: str = ""                # how the gate is drawn: "+", "×", "exp", "1/x" ...
    describe: str = ""              # one line for narration: what the gate computes

    def vjp(self, upstream: np.ndarray, node) -> tuple:
        """The downstream gradients for ``node``'s inputs, given the ``upstream`` gradient."""
        if self.backward is not None:
            return self.backward(upstream, node)
        out = []
        for p, loc in zip(node.parents, self.local(node)):
            out.append(None if loc is None else unbroadcast(loc * upstream, p.value.shape))
        return tuple(out)


#: every registered operation by name; filled by :func:`register` only
OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to :data:`OPS` under its name (a second op of the same name is an error)."""
    if op.name in OPS:
        raise ValueError(f"operation {op.name!r} is registered twice")
    if op.local is None and op.backward is None:
        raise ValueError(f"operation {op.name!r} needs a local gradient or a backward rule")
    OPS[op.name] = op
    return op
