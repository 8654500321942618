"""The operation registry: what an operation is (:class:`Op`) and the table of them (``OPS``).

Every operation a :class:`~engine.graph.Graph` can apply is registered here by name with
:func:`register`: the scalar gates and the activations in :mod:`engine.scalar_ops`, the
layer-sized operations (affine, the losses, the regularizers) in :mod:`engine.layers`.
Code applies one by name: ``graph.apply("affine", x, W, b)``.  This module imports nothing
else from the engine, so both register into it without an import circle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Op", "OPS", "register", "op_names", "unbroadcast", "KINDS"]

#: what an op is: a scalar gate, an activation (both elementwise), or a layer-sized operation
KINDS = ("gate", "activation", "layer", "loss")


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

    What the rest of the program needs to know about an op lives here too, so adding one is a
    single :func:`register`: its ``kind`` (gates and activations may appear in walkthrough files;
    the activations are what a hidden layer, the command line and the labs offer), the ``attrs``
    a walkthrough file may give it (name -> required?), for an activation its ``title`` and the
    ``formula`` the activation lab shows, and ``config_attrs``: which
    :class:`~engine.config.ModelConfig` field sets each attribute in a network.
    """
    name: str
    arity: int                      # -1: any number of inputs
    forward: Callable[[list, dict], tuple[np.ndarray, Any]]
    local: Callable[[Any], tuple] | None = None
    backward: Callable[[np.ndarray, Any], tuple] | None = None
    symbol: str = ""                # how the gate is drawn: "+", "×", "exp", "1/x" ...
    describe: str = ""              # one line for narration: what the gate computes
    kind: str = "layer"             # one of KINDS (a "loss" takes scores and labels)
    attrs: dict[str, bool] = field(default_factory=dict)         # attr -> required in a walkthrough file?
    config_attrs: dict[str, str] = field(default_factory=dict)  # attr -> the ModelConfig field that sets it
    title: str = ""                 # activations: their name in the labs ("Leaky ReLU")
    formula: str = ""               # activations: the activation lab's formula ("" = not plotted)

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
    if op.kind not in KINDS:
        raise ValueError(f"operation {op.name!r}: kind {op.kind!r} is not one of {', '.join(KINDS)}")
    if not set(op.config_attrs) <= set(op.attrs):
        raise ValueError(f"operation {op.name!r}: config_attrs names attributes it does not take")
    OPS[op.name] = op
    return op


def op_names(*kinds: str) -> tuple[str, ...]:
    """The names of the registered ops of these kinds, in the order they were registered."""
    return tuple(name for name, op in OPS.items() if op.kind in kinds)
