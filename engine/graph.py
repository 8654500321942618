"""The computational graph: one engine for training and for teaching.

A :class:`Node` holds a NumPy value (a 0-d array for scalars), its gradient, its parents
and its operation.  Each operation (:class:`Op`, registered by name in :data:`engine.ops.OPS`)
defines its forward value and its backward rule; a graph applies one by name:
``g.apply("affine", x, W, b)``, ``g.apply("mul", a, b)`` (``a * b`` on nodes does the same).
Scalar primitives (add, mul, exp, ...; :mod:`engine.scalar_ops`) define a *local gradient* per
input, so the backward rule is the lecture's ``downstream = local × upstream``; layer-sized
operations (affine, the losses, the regularizers; :mod:`engine.layers`) define a hand-derived
vectorised backward instead.

Nodes are created eagerly (the value is computed when the node is made), so creation
order is a topological order.  ``Graph.forward()`` re-evaluates every operation node in
that order after leaf values have been replaced (that is how a model's graph is built
once and then run for every minibatch), and ``Graph.backward(output)`` walks the output's
ancestors in reverse topological order, multiplying upstream by local gradients and
*adding* where a value fans out (the copy gate).

With ``trace=True`` both passes record a :class:`Trace`: per node its value, per edge the
upstream, local and downstream gradient and the parent's accumulated gradient, in the
order they were computed.  The trace is plain data the GUI animates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The operations a graph applies by name live in the registry engine.ops.OPS; these two
# modules fill it (scalar gates and activations; affine, losses, regularization).
from . import layers, scalar_ops  # noqa: F401  (imported for their registrations)
from .ops import OPS, Op

__all__ = ["Node", "Op", "Graph", "Trace", "ForwardStep", "BackwardStep", "OPS", "GraphError"]


class GraphError(ValueError):
    """A graph was built or used wrongly (unknown op, wrong number of inputs, ...)."""


class Node:
    """One value in a graph.  ``kind`` is "input", "param", "const" or "op"."""
    __slots__ = ("id", "name", "kind", "op", "parents", "value", "grad", "attrs", "cache",
                 "requires_grad", "graph")

    def __init__(self, graph: "Graph", id: int, name: str, kind: str, op: Op | None,
                 parents: tuple["Node", ...], value: np.ndarray, attrs: dict, requires_grad: bool):
        self.graph = graph
        self.id = id
        self.name = name
        self.kind = kind
        self.op = op
        self.parents = parents
        self.value = value
        self.grad: np.ndarray | None = None
        self.attrs = attrs
        self.cache: Any = None
        self.requires_grad = requires_grad

    @property
    def op_name(self) -> str:
        return self.op.name if self.op is not None else self.kind

    @property
    def label(self) -> str:
        return self.name or f"n{self.id}"

    def __repr__(self) -> str:
        return f"Node({self.label}, {self.op_name}, value={np.array2string(np.asarray(self.value), precision=4)})"

    # Operator overloading so expressions read like the lecture: (x + y) * z
    def _wrap(self, other) -> "Node":
        return other if isinstance(other, Node) else self.graph.const(other)

    def __add__(self, other): return self.graph.apply("add", self, self._wrap(other))
    def __radd__(self, other): return self.graph.apply("add", self._wrap(other), self)
    def __sub__(self, other): return self.graph.apply("sub", self, self._wrap(other))
    def __rsub__(self, other): return self.graph.apply("sub", self._wrap(other), self)
    def __mul__(self, other): return self.graph.apply("mul", self, self._wrap(other))
    def __rmul__(self, other): return self.graph.apply("mul", self._wrap(other), self)
    def __truediv__(self, other): return self.graph.apply("div", self, self._wrap(other))
    def __rtruediv__(self, other): return self.graph.apply("div", self._wrap(other), self)
    def __pow__(self, other): return self.graph.apply("pow", self, self._wrap(other))
    def __neg__(self): return self.graph.apply("neg", self)


# --------------------------------------------------------------------------- trace

@dataclass(frozen=True)
class NodeInfo:
    id: int
    name: str
    kind: str
    op: str
    symbol: str
    parents: tuple[int, ...]
    shape: tuple[int, ...]
    attrs: dict = field(default_factory=dict)   # the gate's constants: {"c": 1.0} for "+1", ...


@dataclass(frozen=True)
class ForwardStep:
    """The forward pass computed ``node`` (an op node) from its ``inputs``."""
    node: int
    op: str
    inputs: tuple[int, ...]
    input_values: tuple[np.ndarray, ...]
    value: np.ndarray
    phase: str = "forward"


@dataclass(frozen=True)
class BackwardStep:
    """Along the edge ``parent -> node``: downstream = local × upstream, added into parent's grad.

    ``local`` is None for layer-sized operations, whose local gradient is a Jacobian applied
    by a vectorised rule rather than a number.  ``accumulated`` is the parent's gradient after
    this contribution was added; ``contribution`` counts the contributions so far (> 1 where the
    parent's value fans out: the copy gate adds).
    """
    node: int
    parent: int
    upstream: np.ndarray
    local: np.ndarray | None
    downstream: np.ndarray
    accumulated: np.ndarray
    contribution: int
    phase: str = "backward"


@dataclass
class Trace:
    nodes: list[NodeInfo]
    output: int
    steps: list[ForwardStep | BackwardStep] = field(default_factory=list)
    _values: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # every node's forward value
    seed: np.ndarray | None = field(default=None, repr=False)    # d(output)/d(output), where the backward pass starts

    @property
    def forward_steps(self) -> list[ForwardStep]:
        return [s for s in self.steps if isinstance(s, ForwardStep)]

    @property
    def backward_steps(self) -> list[BackwardStep]:
        return [s for s in self.steps if isinstance(s, BackwardStep)]

    def node(self, id_or_name: int | str) -> NodeInfo:
        for n in self.nodes:
            if n.id == id_or_name or n.name == id_or_name:
                return n
        raise KeyError(id_or_name)

    def values(self) -> dict[int, np.ndarray]:
        """Each node's forward value as recorded (leaves from the node table, ops from steps)."""
        return dict(self._values)

    def grads(self) -> dict[int, np.ndarray]:
        """Each node's final gradient of the output as recorded."""
        out = {self.output: self.seed}
        for s in self.backward_steps:
            out[s.parent] = s.accumulated
        return out

    def to_dict(self) -> dict:
        def arr(a):
            return None if a is None else np.asarray(a).tolist()
        steps = []
        for s in self.steps:
            if isinstance(s, ForwardStep):
                steps.append({"phase": "forward", "node": s.node, "op": s.op, "inputs": list(s.inputs),
                              "value": arr(s.value)})
            else:
                steps.append({"phase": "backward", "node": s.node, "parent": s.parent,
                              "upstream": arr(s.upstream), "local": arr(s.local),
                              "downstream": arr(s.downstream), "accumulated": arr(s.accumulated),
                              "contribution": s.contribution})
        return {"output": self.output,
                "nodes": [{"id": n.id, "name": n.name, "kind": n.kind, "op": n.op, "symbol": n.symbol,
                           "parents": list(n.parents), "shape": list(n.shape), "attrs": dict(n.attrs)}
                          for n in self.nodes],
                "steps": steps}


def _copy(a):
    return None if a is None else np.array(a, copy=True)


# --------------------------------------------------------------------------- graph

class Graph:
    """A computational graph.  Build it with ``input``/``param``/``const`` and ``apply``."""

    def __init__(self, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        self.nodes: list[Node] = []
        self._plans: dict[int, _Plan] = {}     # by output id (-1: all nodes)
        self.trace: Trace | None = None

    # leaves -----------------------------------------------------------------
    def _leaf(self, kind: str, name: str, value, requires_grad: bool, dtype=None) -> Node:
        v = np.asarray(value, dtype=dtype if dtype is not None else self.dtype)
        node = Node(self, len(self.nodes), name, kind, None, (), v, {}, requires_grad)
        self.nodes.append(node)
        self._plans.clear()
        return node

    def input(self, name: str, value, requires_grad: bool = True, dtype=None) -> Node:
        """A named input (a walkthrough's x, y, z; a network's minibatch with requires_grad=False)."""
        return self._leaf("input", name, value, requires_grad, dtype)

    def param(self, name: str, value) -> Node:
        """A learnable parameter.  Its value array is used as is (not copied), so in-place
        updates by an optimizer are seen by the next forward pass."""
        v = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=self.dtype)
        node = Node(self, len(self.nodes), name, "param", None, (), v, {}, True)
        self.nodes.append(node)
        self._plans.clear()
        return node

    def const(self, value, name: str = "", dtype=None) -> Node:
        if not name:
            v = np.asarray(value)
            name = f"{v.item():g}" if v.ndim == 0 and v.dtype.kind in "fiub" else "const"
        return self._leaf("const", name, value, False, dtype)

    # operations ---------------------------------------------------------------
    def apply(self, op_name: str, *parents: Node, name: str = "", **attrs) -> Node:
        """A new node: the registered operation ``op_name`` applied to ``parents`` (computed now)."""
        try:
            op = OPS[op_name]
        except KeyError:
            raise GraphError(f"unknown operation {op_name!r}") from None
        if op.arity >= 0 and len(parents) != op.arity:
            raise GraphError(f"{op_name} takes {op.arity} input(s), got {len(parents)}")
        for p in parents:
            if not isinstance(p, Node) or p.graph is not self:
                raise GraphError(f"{op_name}: inputs must be nodes of the same graph")
        value, cache = op.forward([p.value for p in parents], attrs)
        node = Node(self, len(self.nodes), name, "op", op, tuple(parents), value, attrs,
                    any(p.requires_grad for p in parents))
        node.cache = cache
        self.nodes.append(node)
        self._plans.clear()
        return node

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    # passes ---------------------------------------------------------------------
    def _plan(self, output: Node | None) -> "_Plan":
        """The passes for ``output`` (None: every node), worked out once per graph shape."""
        key = -1 if output is None else output.id
        plan = self._plans.get(key)
        if plan is None:
            if output is None:
                order = list(self.nodes)
            else:
                seen = set()
                stack = [output]
                while stack:
                    n = stack.pop()
                    if n.id in seen:
                        continue
                    seen.add(n.id)
                    stack.extend(n.parents)
                order = [n for n in self.nodes if n.id in seen]  # creation order is topological
            plan = self._plans[key] = _Plan(order)
        return plan

    def ancestors(self, output: Node) -> list[Node]:
        """The nodes ``output`` depends on, in topological order (output last)."""
        return self._plan(output).order

    def forward(self, output: Node | None = None, trace: bool = False) -> np.ndarray:
        """Re-evaluate the operations (all, or those ``output`` depends on) in topological order."""
        plan = self._plan(output)
        nodes = plan.order
        out = output if output is not None else nodes[-1]
        if not trace:
            for n, fw, parents, attrs in plan.forward:
                n.value, n.cache = fw([p.value for p in parents], attrs)
            return out.value
        self.trace = Trace(nodes=[], output=out.id)
        for n in nodes:
            if n.op is not None:
                n.value, n.cache = n.op.forward([p.value for p in n.parents], n.attrs)
                self.trace.steps.append(ForwardStep(
                    n.id, n.op.name, tuple(p.id for p in n.parents),
                    tuple(_copy(p.value) for p in n.parents), _copy(n.value)))
            self.trace._values[n.id] = _copy(n.value)
        self.trace.nodes = [self._info(n) for n in nodes]  # after the pass: shapes are current
        return out.value

    def backward(self, output: Node, seed: np.ndarray | None = None, trace: bool = False) -> None:
        """Fill ``grad`` of every node ``output`` depends on with d(output)/d(node)."""
        plan = self._plan(output)
        for n in plan.order:
            n.grad = None
        v = output.value
        if seed is not None:
            output.grad = np.asarray(seed, dtype=v.dtype)
        else:
            output.grad = np.array(1, v.dtype) if v.ndim == 0 else np.ones(v.shape, v.dtype)
        if trace:
            self._backward_traced(output, plan.order)
            return
        for n, vjp, targets in plan.backward:
            up = n.grad
            if up is None:
                continue
            downs = vjp(up, n)
            for i, p in targets:
                g = downs[i]
                if g is not None:
                    p.grad = g if p.grad is None else p.grad + g     # a value used twice: add

    def _backward_traced(self, output: Node, nodes: list[Node]) -> None:
        tr = self.trace
        if tr is None or tr.output != output.id:
            raise GraphError("run forward(output, trace=True) before backward(..., trace=True)")
        tr.seed = _copy(output.grad)
        counts: dict[int, int] = {}
        for n in reversed(nodes):
            if n.op is None or n.grad is None or not n.requires_grad:
                continue
            downs = n.op.vjp(n.grad, n)
            locs = n.op.local(n) if n.op.local is not None else None
            for i, (p, g) in enumerate(zip(n.parents, downs)):
                if g is None or not p.requires_grad:
                    continue
                p.grad = g if p.grad is None else p.grad + g
                counts[p.id] = counts.get(p.id, 0) + 1
                loc = None if locs is None else _copy(np.broadcast_to(locs[i], np.shape(n.value)))
                tr.steps.append(BackwardStep(n.id, p.id, _copy(n.grad), loc, _copy(g),
                                             _copy(p.grad), counts[p.id]))

    def run(self, output: Node, trace: bool = True) -> Trace | None:
        """Forward then backward from ``output``; returns the trace when ``trace``."""
        self.forward(output, trace=trace)
        self.backward(output, trace=trace)
        return self.trace if trace else None

    @staticmethod
    def _info(n: Node) -> NodeInfo:
        return NodeInfo(n.id, n.label, n.kind, n.op_name, n.op.symbol if n.op else "",
                        tuple(p.id for p in n.parents), tuple(np.shape(n.value)),
                        {k: v for k, v in n.attrs.items() if isinstance(v, (int, float, str, bool))})


class _Plan:
    """One output's passes, unrolled: the ancestors in topological order, what the forward
    pass evaluates (``(node, forward, parents, attrs)`` per operation) and what the backward
    pass visits (``(node, vjp, [(input index, input) that takes a gradient])`` per operation a
    gradient flows through, output first).  Worked out once; a network's step then spends its
    time in NumPy, not in this bookkeeping."""
    __slots__ = ("order", "forward", "backward")

    def __init__(self, order: list[Node]):
        self.order = order
        ops = [n for n in order if n.op is not None]
        self.forward = [(n, n.op.forward, n.parents, n.attrs) for n in ops]
        self.backward = [(n, n.op.backward or n.op.vjp, [(i, p) for i, p in enumerate(n.parents) if p.requires_grad])
                         for n in reversed(ops) if n.requires_grad]
