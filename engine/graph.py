"""The computational graph: one engine for training and for teaching.

A :class:`Node` holds a NumPy value (a 0-d array for scalars), its gradient, its parents
and its operation.  Each operation (:class:`Op`) defines its forward value and its
backward rule.  Scalar primitives (add, mul, exp, ...) define a *local gradient* per input,
so the backward rule is the lecture's ``downstream = local × upstream``; layer-sized
operations (affine, the losses, the regularizers) define a hand-derived vectorised
backward instead.

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
from typing import Any, Callable

import numpy as np

__all__ = ["Node", "Op", "Graph", "Trace", "ForwardStep", "BackwardStep", "OPS", "GraphError"]


class GraphError(ValueError):
    """A graph was built or used wrongly (unknown op, wrong number of inputs, ...)."""


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
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
    local: Callable[["Node"], tuple] | None = None
    backward: Callable[[np.ndarray, "Node"], tuple] | None = None
    symbol: str = ""                # how the gate is drawn: "+", "×", "exp", "1/x" ...
    describe: str = ""              # one line for narration: what the gate computes

    def vjp(self, upstream: np.ndarray, node: "Node") -> tuple:
        if self.backward is not None:
            return self.backward(upstream, node)
        out = []
        for p, loc in zip(node.parents, self.local(node)):
            out.append(None if loc is None else _unbroadcast(loc * upstream, p.value.shape))
        return tuple(out)


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
    _seed: np.ndarray | None = field(default=None, repr=False)                # d(output)/d(output)

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
        out = {self.output: self._seed}
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
        self._order_cache: dict[int, list[Node]] = {}
        self.trace: Trace | None = None

    # leaves -----------------------------------------------------------------
    def _leaf(self, kind: str, name: str, value, requires_grad: bool, dtype=None) -> Node:
        v = np.asarray(value, dtype=dtype if dtype is not None else self.dtype)
        node = Node(self, len(self.nodes), name, kind, None, (), v, {}, requires_grad)
        self.nodes.append(node)
        self._order_cache.clear()
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
        self._order_cache.clear()
        return node

    def const(self, value, name: str = "", dtype=None) -> Node:
        if not name:
            v = np.asarray(value)
            name = f"{v.item():g}" if v.ndim == 0 and v.dtype.kind in "fiub" else "const"
        return self._leaf("const", name, value, False, dtype)

    # operations ---------------------------------------------------------------
    def apply(self, op_name: str, *parents: Node, name: str = "", **attrs) -> Node:
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
        self._order_cache.clear()
        return node

    def __getattr__(self, op_name: str):
        # g.add(a, b), g.affine(x, W, b), g.softmax_loss(s, y) ...
        if op_name in OPS:
            return lambda *parents, name="", **attrs: self.apply(op_name, *parents, name=name, **attrs)
        raise AttributeError(op_name)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    # passes ---------------------------------------------------------------------
    def ancestors(self, output: Node) -> list[Node]:
        """The nodes ``output`` depends on, in topological order (output last)."""
        order = self._order_cache.get(output.id)
        if order is None:
            seen = set()
            stack = [output]
            while stack:
                n = stack.pop()
                if n.id in seen:
                    continue
                seen.add(n.id)
                stack.extend(n.parents)
            order = [n for n in self.nodes if n.id in seen]  # creation order is topological
            self._order_cache[output.id] = order
        return order

    def forward(self, output: Node | None = None, trace: bool = False) -> np.ndarray:
        """Re-evaluate the operations (all, or those ``output`` depends on) in topological order."""
        nodes = self.nodes if output is None else self.ancestors(output)
        out = output if output is not None else nodes[-1]
        if trace:
            self.trace = Trace(nodes=[], output=out.id)
        for n in nodes:
            if n.op is not None:
                n.value, n.cache = n.op.forward([p.value for p in n.parents], n.attrs)
                if trace:
                    self.trace.steps.append(ForwardStep(
                        n.id, n.op.name, tuple(p.id for p in n.parents),
                        tuple(_copy(p.value) for p in n.parents), _copy(n.value)))
            if trace:
                self.trace._values[n.id] = _copy(n.value)
        if trace:
            self.trace.nodes = [self._info(n) for n in nodes]  # after the pass: shapes are current
        return out.value

    def backward(self, output: Node, seed: np.ndarray | None = None, trace: bool = False) -> None:
        """Fill ``grad`` of every node ``output`` depends on with d(output)/d(node)."""
        nodes = self.ancestors(output)
        for n in nodes:
            n.grad = None
        output.grad = np.ones_like(output.value) if seed is None else np.asarray(seed, dtype=output.value.dtype)
        if trace:
            self._backward_traced(output, nodes)
            return
        for n in reversed(nodes):
            up = n.grad
            if up is None or n.op is None or not n.requires_grad:
                continue
            for p, g in zip(n.parents, n.op.vjp(up, n)):
                if g is not None and p.requires_grad:
                    p.grad = g if p.grad is None else p.grad + g

    def _backward_traced(self, output: Node, nodes: list[Node]) -> None:
        tr = self.trace
        if tr is None or tr.output != output.id:
            raise GraphError("run forward(output, trace=True) before backward(..., trace=True)")
        tr._seed = _copy(output.grad)
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


# --------------------------------------------------------------------------- primitives
# Each works elementwise on arrays of any shape (0-d for the walkthroughs).

OPS: dict[str, Op] = {}


def _register(op: Op) -> Op:
    OPS[op.name] = op
    return op


def _fw(fn):
    """Forward for ops that need no cache."""
    return lambda v, a: (np.asarray(fn(*v, **a)), None)


def _add_bw(up, n):
    a, b = n.parents
    return _unbroadcast(up, a.value.shape), _unbroadcast(up, b.value.shape)


_register(Op("add", 2, _fw(lambda a, b: a + b),
             local=lambda n: (np.ones_like(n.parents[0].value), np.ones_like(n.parents[1].value)),
             backward=_add_bw,
             symbol="+", describe="add gate: distributes the upstream gradient unchanged to both inputs"))
_register(Op("sub", 2, _fw(lambda a, b: a - b),
             local=lambda n: (np.ones_like(n.parents[0].value), -np.ones_like(n.parents[1].value)),
             symbol="−", describe="subtract gate: local gradients +1 and −1"))
_register(Op("mul", 2, _fw(lambda a, b: a * b),
             local=lambda n: (n.parents[1].value, n.parents[0].value),
             symbol="×", describe="mul gate: swaps the inputs — each input's local gradient is the other input"))
_register(Op("div", 2, _fw(lambda a, b: a / b),
             local=lambda n: (1.0 / n.parents[1].value,
                              -n.parents[0].value / n.parents[1].value ** 2),
             symbol="÷", describe="divide gate: d(a/b)/da = 1/b, d(a/b)/db = −a/b²"))
_register(Op("neg", 1, _fw(lambda a: -a), local=lambda n: (-np.ones_like(n.value),),
             symbol="−x", describe="negate gate: local gradient −1"))


def _pow_local(n):
    a, b = n.parents[0].value, n.parents[1].value
    with np.errstate(divide="ignore", invalid="ignore"):
        # aᵇ with b = 0 is the constant 1: its slope is 0, also at a = 0 (where b·aᵇ⁻¹ is 0·∞)
        da = np.where(b == 0, 0.0, b * np.power(a, b - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        db = np.where(a > 0, n.value * np.log(np.where(a > 0, a, 1.0)), 0.0)
    return da, db


_register(Op("pow", 2, _fw(lambda a, b: np.power(a, b)), local=_pow_local, symbol="^",
             describe="power gate: d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a"))
_register(Op("exp", 1, _fw(np.exp), local=lambda n: (n.value,), symbol="exp",
             describe="exp gate: local gradient eˣ (the gate's own output)"))
_register(Op("log", 1, _fw(np.log), local=lambda n: (1.0 / n.parents[0].value,), symbol="log",
             describe="log gate: local gradient 1/x"))
_register(Op("max", 2, _fw(np.maximum),
             local=lambda n: ((n.parents[0].value >= n.parents[1].value).astype(n.value.dtype),
                              (n.parents[0].value < n.parents[1].value).astype(n.value.dtype)),
             symbol="max", describe="max gate: routes the whole gradient to the larger input, 0 to the other "
                      "(on a tie, all of it to the first input)"))
_register(Op("min", 2, _fw(np.minimum),
             local=lambda n: ((n.parents[0].value <= n.parents[1].value).astype(n.value.dtype),
                              (n.parents[0].value > n.parents[1].value).astype(n.value.dtype)),
             symbol="min", describe="min gate: routes the whole gradient to the smaller input, 0 to the other "
                      "(on a tie, all of it to the first input)"))
_register(Op("abs", 1, _fw(np.abs), local=lambda n: (np.sign(n.parents[0].value),), symbol="|x|",
             describe="abs gate: local gradient sign(x)"))
_register(Op("recip", 1, _fw(lambda a: 1.0 / a), local=lambda n: (-1.0 / n.parents[0].value ** 2,),
             symbol="1/x", describe="1/x gate: local gradient −1/x²"))
_register(Op("addc", 1, _fw(lambda a, c: a + c), local=lambda n: (np.ones_like(n.value),),
             symbol="+c", describe="add-constant gate: local gradient 1"))
_register(Op("mulc", 1, _fw(lambda a, c: a * c),
             local=lambda n: (np.full_like(n.value, n.attrs["c"]),),
             symbol="×c", describe="multiply-by-constant gate: local gradient is the constant"))
_register(Op("copy", 1, _fw(lambda a: np.array(a, copy=True)), local=lambda n: (np.ones_like(n.value),),
             symbol="copy", describe="copy gate: one value used twice; the gradients coming back are added"))

# activations (also the network's layer-sized activations: they are elementwise)


def _sigmoid(x):
    # numerically stable for large |x|
    out = np.empty_like(x, dtype=np.result_type(x, np.float32))
    pos = x >= 0
    np.divide(1.0, 1.0 + np.exp(-x, where=pos, out=np.zeros_like(out)), out=out, where=pos)
    ex = np.exp(x, where=~pos, out=np.zeros_like(out))
    np.divide(ex, 1.0 + ex, out=out, where=~pos)
    return out


def _relu_fw(v, a):
    return np.maximum(v[0], 0), None


def _relu_bw(up, n):
    return (up * (n.value > 0),)


def _leaky_fw(v, a):
    x = v[0]
    return np.where(x > 0, x, a.get("slope", 0.2) * x), None


def _elu_fw(v, a):
    x = v[0]
    alpha = a.get("alpha", 1.0)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), None


_register(Op("relu", 1, _relu_fw, local=lambda n: ((n.parents[0].value > 0).astype(n.value.dtype),),
             backward=_relu_bw, symbol="ReLU", describe="ReLU gate max(0, x): passes the gradient where x > 0"))
_register(Op("sigmoid", 1, lambda v, a: (_sigmoid(v[0]), None),
             local=lambda n: ((1.0 - n.value) * n.value,),
             symbol="σ", describe="sigmoid gate: local gradient (1 − σ(x)) σ(x)"))
_register(Op("tanh", 1, lambda v, a: (np.tanh(v[0]), None), local=lambda n: (1.0 - n.value ** 2,),
             symbol="tanh", describe="tanh gate: local gradient 1 − tanh²(x)"))
_register(Op("leaky_relu", 1, _leaky_fw,
             local=lambda n: (np.where(n.parents[0].value > 0, 1.0, n.attrs.get("slope", 0.2)).astype(n.value.dtype),),
             symbol="LReLU", describe="leaky ReLU gate max(αx, x): gradient 1 for x > 0, α otherwise"))
def _elu_local(n):
    """α·eˣ for x ≤ 0, computed as such: the shortcut value + α (= α(eˣ − 1) + α) cancels to
    nothing in float32 below x ≈ −17, where PyTorch still returns α·eˣ."""
    x = n.parents[0].value
    with np.errstate(under="ignore"):
        g = np.where(x > 0, 1.0, n.attrs.get("alpha", 1.0) * np.exp(np.minimum(x, 0)))
    return (g.astype(n.value.dtype),)


_register(Op("elu", 1, _elu_fw, local=_elu_local,
             symbol="ELU", describe="ELU gate: gradient 1 for x > 0, α·eˣ otherwise"))
_register(Op("identity", 1, lambda v, a: (v[0], None), local=lambda n: (np.ones_like(n.value),),
             backward=lambda up, n: (up,), symbol="id", describe="identity: no nonlinearity"))


# layer-sized operations live in engine.layers and register themselves on import
from . import layers as _layers  # noqa: E402,F401  pylint: disable=unused-import
