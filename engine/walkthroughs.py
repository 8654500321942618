"""Backprop walkthroughs: data files that describe a small computational graph to click through.

A walkthrough is a JSON file (format in ``resources/walkthroughs/FORMAT.md``) giving either an
``expression`` (parsed by :func:`engine.expr.parse_expression`, never ``eval``) or an explicit
``nodes`` list (so the lecture's gate choices ``+1``, ``×-1``, ``1/x`` are possible), the input
values, optional display names and narration per node and phase.  :func:`load_walkthrough`
validates the file and builds an :class:`engine.graph.Graph`; :meth:`Walkthrough.run` records the
forward and backward :class:`~engine.graph.Trace` that the GUI animates.

:func:`build_frames` turns any trace (a walkthrough's or a network's) into the list of animation
frames and :func:`narrate` writes the narration of a frame in the lecture's words.  Everything
here is formatting of numbers the engine computed; nothing is recomputed.

Pure NumPy + standard library (no Qt).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .expr import ExpressionError, not_finite_problem, parse_expression, parse_values
from .gradcheck import numerical_gradient, relative_error
from .graph import OPS, BackwardStep, ForwardStep, Graph, GraphError, Node, Trace
from .ops import op_names
from .resources import resource_path
from .safeio import parse_json, read_capped

__all__ = ["Walkthrough", "WalkthroughError", "Frame", "GradCheckRow", "load_walkthrough",
           "walkthrough_from_dict", "graph_gradient_check", "walkthrough_from_expression", "builtin_walkthrough_paths",
           "load_builtin_walkthroughs", "build_frames", "narrate", "fmt", "gate_label",
           "BUILTIN_DIR"]

BUILTIN_DIR = resource_path("walkthroughs")
# Limits (documented in FORMAT.md): a walkthrough is for teaching, so they are generous for
# that and small for a machine.  Every value's size is known before it is computed.
MAX_FILE_BYTES = 1_000_000
MAX_JSON_DEPTH = 16            # the format nests 3 levels plus a tensor's dimensions
MAX_NODES = 500
MAX_ELEMENTS = 10_000          # numbers in one node's value (a 100×100 matrix)
MAX_TOTAL_ELEMENTS = 100_000   # numbers in all nodes' values together
MAX_NDIM = 4                   # dimensions of one value
MAX_ID_CHARS = 100             # node ids, names and display names
MAX_TITLE_CHARS = 300
GRADCHECK_ENTRIES = 16         # a larger leaf's gradient check samples this many entries
TOP_KEYS = {"format", "name", "title", "description", "order", "expression", "nodes", "values",
            "output", "names", "narration"}
NODE_KEYS = {"id", "op", "inputs", "attrs", "name", "value"}
LEAF_OPS = {"input", "param", "const"}
PHASES = {"forward", "backward"}
SPECIAL_NARRATION = {"intro", "forward_done", "seed", "outro"}
# The gates a file may use, by how their output shape follows from their inputs' shapes: every
# scalar gate and activation (engine.scalar_ops: all elementwise), and four layer-sized ones.
ELEMENTWISE_OPS = set(op_names("gate", "activation"))
LOSS_OPS = set(op_names("loss"))
GATE_OPS = set(op_names("gate", "activation", "loss", "layer"))   # the layers: affine, regularization
# Each gate's attributes (engine.ops: name -> required?).  All are finite numbers except regularization's kind.
GATE_ATTRS: dict[str, dict[str, bool]] = {name: dict(OPS[name].attrs) for name in GATE_OPS if OPS[name].attrs}
REG_KINDS = ("none", "l1", "l2", "elastic")


class WalkthroughError(ValueError):
    """A walkthrough file or expression is malformed; the message names the file and the problem."""


# --------------------------------------------------------------------------- formatting

def fmt(value, digits: int = 2) -> str:
    """A number as the lecture prints it: two decimals (``-0.53``), scientific when tiny.

    Arrays print their shape; this is formatting only, nothing is computed.
    """
    a = np.asarray(value)
    if a.size != 1:
        return "×".join(str(s) for s in a.shape) if a.ndim else "?"
    v = float(a.reshape(()))
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-4:
        return f"{v:.{max(digits - 1, 1)}e}"
    if abs(v) < 0.1:
        return f"{v:.{digits}g}"
    return f"{v:.{digits}f}"


def fmtp(value) -> str:
    """:func:`fmt`, with negative numbers in parentheses (for products and sums)."""
    s = fmt(value)
    return f"({s})" if s.startswith("-") else s


MAX_SHOWN_DIGITS = 6


def _shown(text: str) -> float | None:
    """The number a :func:`fmt` string shows (None for ∞, nan, shapes)."""
    try:
        return float(text.strip("()"))
    except ValueError:
        return None


def _exact_at(value, digits: int) -> bool:
    """Whether ``value`` is shown exactly with ``digits`` (2.00, -4.00, 0.5: no rounding)."""
    v = float(np.asarray(value).reshape(()))
    shown = _shown(fmt(v, digits))
    return shown is not None and math.isclose(shown, v, rel_tol=1e-12, abs_tol=1e-15)


def checked_formula(operands, result, op: str = "×") -> str:
    """``"a × b = c"`` (or ``"a + b = c"``) with enough digits that a student who works the shown
    operands out gets the shown result at its shown precision: the lecture's 2 × 0.1966 is
    "2.00 × 0.197 = 0.39", not "2.00 × 0.20 = 0.39".  An operand shown exactly keeps the lecture's
    two decimals; the others get more digits as needed (up to 6), then the result too; if no
    precision works (a result right at a rounding boundary) it says "(rounded)"."""
    vals = [float(np.asarray(v).reshape(())) for v in operands]
    res = float(np.asarray(result).reshape(()))

    def text(d_ops: int, d_res: int) -> tuple[list[str], str]:
        ops = [fmt(v, 2 if _exact_at(v, 2) else d_ops) for v in vals]
        # negative operands in parentheses (a sum's first term needs none)
        ops = [f"({o})" if o.startswith("-") and (op == "×" or i > 0) else o for i, o in enumerate(ops)]
        return ops, fmt(res, d_res)

    def adds_up(ops: list[str], shown_res: str, d_res: int) -> bool:
        nums = [_shown(o) for o in ops]
        if any(n is None for n in nums) or _shown(shown_res) is None:
            return True                       # ∞ / nan: nothing a student can check
        out = nums[0]
        for n in nums[1:]:
            out = out * n if op == "×" else out + n
        return fmt(out, d_res) == shown_res

    for d_res in range(2, MAX_SHOWN_DIGITS + 1):
        for d_ops in range(max(2, d_res), MAX_SHOWN_DIGITS + 2):
            ops, shown_res = text(d_ops, d_res)
            if adds_up(ops, shown_res, d_res):
                return f" {op} ".join(ops) + f" = {shown_res}"
    ops, shown_res = text(2, 2)
    return f" {op} ".join(ops) + f" = {shown_res} (rounded)"


def _p(name: str) -> str:
    return f"({name})" if any(c in name for c in "+−-·×/^ ") else name


def shape_str(shape) -> str:
    shape = tuple(shape)
    return "scalar" if not shape else "×".join(str(s) for s in shape)


def gate_label(node: Node) -> str:
    """The symbol drawn in a gate: ``+``, ``×``, ``exp``, ``1/x``; ``+1`` / ``×-1`` for constants."""
    if node.op is None:
        return node.label
    c = node.attrs.get("c")
    if node.op.name == "addc" and c is not None:
        return f"+{c:g}" if c >= 0 else f"−{-c:g}"
    if node.op.name == "mulc" and c is not None:
        return f"×{c:g}"
    return node.op.symbol or node.op.name


# --------------------------------------------------------------------------- the walkthrough

@dataclass
class GradCheckRow:
    """One leaf's analytic (backprop) gradient against the centered-difference one."""
    node: int
    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: float


@dataclass
class Walkthrough:
    name: str
    title: str
    graph: Graph
    output: Node
    description: str = ""
    source: str = "<memory>"
    display: dict[int, str] = field(default_factory=dict)   # node id -> label to draw
    narration: dict[str, Any] = field(default_factory=dict)  # special key or '#<node id>' -> text(s)
    expression: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    order: int = 1000
    trace: Trace | None = None

    def run(self) -> Trace:
        """Forward and backward from the output with a recorded trace (also kept in ``trace``)."""
        with np.errstate(all="ignore"):
            self.trace = self.graph.run(self.output, trace=True)
        return self.trace

    def nodes(self) -> list[Node]:
        return self.graph.ancestors(self.output)

    def node(self, name: str) -> Node:
        return self.graph.node(name)

    def label(self, node_id: int) -> str:
        return self.display.get(node_id) or self.graph.nodes[node_id].label

    def gate_labels(self) -> dict[int, str]:
        return {n.id: (gate_label(n) if n.op is not None else self.label(n.id)) for n in self.nodes()}

    def narration_for(self, node: Node, phase: str) -> str:
        """The file's own narration for ``node`` in ``phase`` (empty if none)."""
        entry = self.narration.get(f"#{node.id}")
        return entry.get(phase, "") if isinstance(entry, dict) else ""

    def gradient_check(self, h: float = 1e-5) -> list[GradCheckRow]:
        """Every input/param leaf's gradient against ``engine.gradcheck.numerical_gradient``.

        Re-runs ``graph.forward`` for each nudge; the recorded trace and all values are
        restored afterwards.  A leaf of more than :data:`GRADCHECK_ENTRIES` numbers is checked
        at that many random entries (so the check stays quick however large the file's tensors).
        """
        trace = self.trace if self.trace is not None else self.run()
        labels = {n.id: self.label(n.id) for n in self.nodes()}
        return graph_gradient_check(self.graph, self.output, trace, labels, h=h,
                                    max_per_leaf=GRADCHECK_ENTRIES, rng=np.random.default_rng(0))


def graph_gradient_check(graph: Graph, output: Node, trace: Trace, labels: dict[int, str] | None = None,
                         h: float = 1e-5, max_per_leaf: int | None = None,
                         rng: np.random.Generator | None = None) -> list[GradCheckRow]:
    """Each input/param leaf's recorded gradient (``trace.grads()``) against the centered
    difference of the output (``engine.gradcheck.numerical_gradient``, re-running
    ``graph.forward``).  With ``max_per_leaf`` only that many random entries per leaf are
    checked (``analytic``/``numeric`` then hold just those entries).  Values are restored.
    """
    labels = labels or {}
    grads = trace.grads()
    rows = []
    f = lambda: float(np.sum(graph.forward(output)))  # noqa: E731
    rng = rng or np.random.default_rng(0)
    try:
        with np.errstate(all="ignore"):
            for n in graph.ancestors(output):
                if n.op is not None or not n.requires_grad or n.kind == "const" or n.value.dtype.kind != "f":
                    continue
                ana = grads.get(n.id)
                ana = np.zeros(n.value.shape) if ana is None else np.asarray(ana, dtype=np.float64)
                if max_per_leaf is not None and n.value.size > max_per_leaf:
                    flat = rng.choice(n.value.size, max_per_leaf, replace=False)
                    idx = [np.unravel_index(i, n.value.shape) for i in flat]
                    num = numerical_gradient(f, n.value, h, indices=idx)
                    sel = tuple(np.array(idx).T)
                    ana, num = ana[sel], num[sel]
                else:
                    num = numerical_gradient(f, n.value, h)
                rows.append(GradCheckRow(n.id, labels.get(n.id, n.label), ana, num, relative_error(ana, num)))
    finally:
        with np.errstate(all="ignore"):
            graph.forward(output)
    return rows


# --------------------------------------------------------------------------- loading

def _fail(source: str, problem: str):
    raise WalkthroughError(f"{source}: {problem}")


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _q(text) -> str:
    """An id or key for a message: quoted, and shortened if long."""
    return repr(_clip(text)) if isinstance(text, str) else _what(text)


def _what(x) -> str:
    """What a JSON value is, for a message (never the whole of a large value)."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return f"the string {_clip(x)!r}"
    if isinstance(x, dict):
        return "an object {…}"
    if isinstance(x, list):
        return "a list [...]"
    if isinstance(x, int) and abs(x) < 10**15:
        return f"the integer {x}"
    if isinstance(x, int):
        return f"an integer of {len(str(abs(x))) if x.bit_length() < 10_000 else 'thousands of'} digits"
    return _clip(repr(x))


def _number(source: str, where: str, x) -> float:
    """A finite JSON number as a float; anything else is refused, naming ``where``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        _fail(source, f"{where} must be a number, got {_what(x)}")
    try:
        v = float(x)
    except OverflowError:
        _fail(source, f"{where} is too large for a number ({_what(x)})")
    if not math.isfinite(v):
        _fail(source, f"{where} must be a finite number, got {v}")
    return v


def _number_array(source: str, where: str, v) -> np.ndarray:
    """A number or (nested, rectangular) list of numbers as a float64 array.

    Walked without recursion; at most :data:`MAX_NDIM` dimensions and :data:`MAX_ELEMENTS`
    numbers, each finite and representable as a float.
    """
    count = 0
    stack = [(v, 0)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, list):
            if depth >= MAX_NDIM:
                _fail(source, f"{where} has lists nested more than {MAX_NDIM} deep "
                              f"(a walkthrough value has at most {MAX_NDIM} dimensions)")
            if not x:
                _fail(source, f"{where} contains an empty list")
            if len(x) > MAX_ELEMENTS:
                _fail(source, f"{where} holds more than {MAX_ELEMENTS:,} numbers (at most {MAX_ELEMENTS:,} "
                              "per value in a walkthrough)")
            stack.extend((e, depth + 1) for e in x)
            continue
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            _fail(source, f"{where} must be a finite number (or a list of numbers), got {_what(x)}")
        _number(source, where, x)
        count += 1
        if count > MAX_ELEMENTS:
            _fail(source, f"{where} holds more than {MAX_ELEMENTS:,} numbers (at most {MAX_ELEMENTS:,} "
                          "per value in a walkthrough)")
    try:
        return np.asarray(v, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        _fail(source, f"{where}: the nested lists are not rectangular (every row must have the same length)")


class _ReadError(Exception):
    pass


def load_walkthrough(path: str | os.PathLike) -> Walkthrough:
    """Read, validate and build a walkthrough file; raises :class:`WalkthroughError`.

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read (a FIFO or device is
    refused at once, never waited on); JSON nesting, integer length and non-finite numbers
    are bounded by :func:`engine.safeio.parse_json`.
    """
    p = Path(path)
    source = p.name or str(p)
    try:
        data = read_capped(p, MAX_FILE_BYTES, _ReadError, "a walkthrough file (.json)")
    except _ReadError as e:
        msg = str(e)
        prefix = f"{p}: "
        raise WalkthroughError(f"{source}: {msg[len(prefix):] if msg.startswith(prefix) else msg}") from None
    doc = parse_json(data, source, WalkthroughError, max_depth=MAX_JSON_DEPTH)
    wt = walkthrough_from_dict(doc, source=source)
    wt.source = str(p)
    return wt


def walkthrough_from_dict(data: Any, source: str = "<walkthrough>") -> Walkthrough:
    """Validate and build a walkthrough from parsed JSON; every problem is a one-line
    :class:`WalkthroughError` starting with ``source``."""
    try:
        return _walkthrough_from_dict(data, source)
    except WalkthroughError:
        raise
    except RecursionError:
        raise WalkthroughError(f"{source}: nested too deeply to read") from None
    except MemoryError:
        raise WalkthroughError(f"{source}: not enough memory to build it") from None
    except Exception as e:  # noqa: BLE001 — a bug shown as one line, never a traceback in the view
        raise WalkthroughError(f"{source}: could not be built ({type(e).__name__}: "
                               f"{_clip(' '.join(str(e).split()), 200)})") from None


def _walkthrough_from_dict(data: Any, source: str) -> Walkthrough:
    if not isinstance(data, dict):
        _fail(source, "the file must contain one JSON object {...}")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        _fail(source, f"unknown key {_q(unknown[0])} (known keys: {', '.join(sorted(TOP_KEYS))})")
    fmt_version = data.get("format", 1)
    if isinstance(fmt_version, bool) or fmt_version != 1:
        _fail(source, f"format {_what(fmt_version)} is not supported (this program reads format 1)")
    for key in ("name", "title"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            _fail(source, f"{key!r} is required and must be a non-empty string")
    if len(data["name"]) > MAX_ID_CHARS or len(data["title"]) > MAX_TITLE_CHARS:
        _fail(source, f"'name' or 'title' is too long (at most {MAX_ID_CHARS} and {MAX_TITLE_CHARS} characters)")
    for key in ("description", "expression", "output"):
        if key in data and not isinstance(data[key], str):
            _fail(source, f"{key!r} must be a string")
    order = data.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, int):
        _fail(source, "'order' must be an integer")
    has_expr, has_nodes = "expression" in data, "nodes" in data
    if has_expr == has_nodes:
        _fail(source, "give either 'expression' or 'nodes' (exactly one of them)")
    values = data.get("values", {})
    if not isinstance(values, dict):
        _fail(source, "'values' must be an object like {\"x\": -2, \"y\": 5}")
    names = data.get("names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        _fail(source, "'names' must map node names to display names (strings)")
    if any(len(v) > MAX_ID_CHARS for v in names.values()):
        _fail(source, f"a display name in 'names' is longer than {MAX_ID_CHARS} characters")
    narration = data.get("narration", {})
    if not isinstance(narration, dict):
        _fail(source, "'narration' must be an object")

    if has_expr:
        graph, output = _build_from_expression(source, data["expression"], values)
        ids = {}
    else:
        graph, output, ids = _build_from_nodes(source, data["nodes"], values, data.get("output"))

    on_path = set(n.id for n in graph.ancestors(output))
    by_name = {n.name: n for n in graph.nodes}
    by_name.update({k: n for k, n in ids.items()})
    by_name = {k: n for k, n in by_name.items() if n.id in on_path or k in ids}
    display = {}
    for key, label in names.items():
        if key not in by_name:
            _fail(source, f"'names' refers to {_q(key)}, which is not a node of the graph")
        display[by_name[key].id] = label
    per_node: dict[str, dict] = {}
    for key, entry in narration.items():
        if key in SPECIAL_NARRATION:
            if not isinstance(entry, str):
                _fail(source, f"narration {_q(key)} must be a string")
            continue
        if key not in by_name:
            known = ", ".join(_clip(k, 20) for k in list(by_name)[:20]) + (", …" if len(by_name) > 20 else "")
            _fail(source, f"narration for {_q(key)}, which is not a node of the graph "
                          f"(nodes: {known}; or one of {', '.join(sorted(SPECIAL_NARRATION))})")
        if isinstance(entry, str):
            entry = {"forward": entry}
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            _fail(source, f"narration for {_q(key)} must be an object {{\"forward\": \"...\", \"backward\": \"...\"}}")
        bad = sorted(set(entry) - PHASES)
        if bad:
            _fail(source, f"narration for {_q(key)}: unknown phase {_q(bad[0])} (use 'forward' or 'backward')")
        per_node[f"#{by_name[key].id}"] = entry
    narration = {k: v for k, v in narration.items() if k in SPECIAL_NARRATION}
    narration.update(per_node)

    wt = Walkthrough(name=data["name"], title=data["title"], graph=graph, output=output,
                     description=data.get("description", ""), source=source, display=display,
                     narration=narration, expression=data.get("expression"),
                     values=dict(values), order=order)
    wt.run()
    _check_finite(source, wt)
    return wt


def _check_finite(source: str, wt: Walkthrough) -> None:
    problem = not_finite_problem(wt.nodes())
    if problem:
        _fail(source, problem)


def _build_from_expression(source: str, text: str, values: dict) -> tuple[Graph, Node]:
    vals = {}
    for k, v in values.items():
        a = _number_array(source, f"value of {_q(k)}", v)
        if a.ndim:
            _fail(source, f"value of {_q(k)}: an expression takes scalar values")
        vals[k] = float(a)
    try:
        parsed = parse_expression(text, vals)
    except ExpressionError as e:
        raise WalkthroughError(f"{source}: expression {_clip(text, 60)!r}: {e}") from None
    _auto_names(parsed.graph, parsed.output)
    return parsed.graph, parsed.output


def _auto_names(graph: Graph, output: Node) -> None:
    """Unnamed intermediate gates get q1, q2, ... (in forward order), so narration can name them."""
    taken = {n.name for n in graph.nodes if n.name}
    k = 0
    for n in graph.ancestors(output):
        if n.kind == "op" and not n.name:
            k += 1
            while f"q{k}" in taken:
                k += 1
            n.name = f"q{k}"
            taken.add(n.name)


def _gate_attrs(source: str, where: str, op: str, attrs: Any) -> dict:
    """The gate's attributes, checked against :data:`GATE_ATTRS` (numbers as floats)."""
    if not isinstance(attrs, dict):
        _fail(source, f"{where}: 'attrs' must be an object such as {{\"c\": -1}}, got {_what(attrs)}")
    allowed = GATE_ATTRS.get(op, {})
    for key in attrs:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) if allowed else "none"
            _fail(source, f"{where}: unknown attr {_q(key)} for {op} (its attrs: {known})")
    out = {}
    for key, required in allowed.items():
        if key not in attrs:
            if required:
                example = '"l2"' if key == "kind" else "1"
                _fail(source, f"{where}: missing attr {key!r} (e.g. \"attrs\": {{\"{key}\": {example}}})")
            continue
        v = attrs[key]
        if key == "kind":
            if v not in REG_KINDS or not isinstance(v, str):
                _fail(source, f"{where}: attr 'kind' must be one of {', '.join(REG_KINDS)}, got {_what(v)}")
            out[key] = v
        else:
            out[key] = _number(source, f"{where}: attr {key!r}", v)
    return out


def _shape_or_fail(source: str, where: str, shapes: list[tuple]) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        _fail(source, f"{where}: the input shapes {' and '.join(shape_str(s) for s in shapes)} "
                      "do not broadcast together")


def _out_shape(source: str, where: str, op: str, parents: list[Node]) -> tuple:
    """The shape the gate's value will have, from its inputs' shapes, before it is computed.

    Also checks what the layer-sized gates need (matrix shapes, labels), so a bad file is a
    clear error rather than a NumPy exception or a silently wrong result.
    """
    shapes = [tuple(p.value.shape) for p in parents]
    if op in ELEMENTWISE_OPS:
        return _shape_or_fail(source, where, shapes)
    if op == "affine":
        x, W, b = shapes
        if len(x) != 2 or len(W) != 2 or x[1] != W[0]:
            _fail(source, f"{where}: needs x (N×D), W (D×M) and b (M), got x {shape_str(x)} and W {shape_str(W)}")
        out = (x[0], W[1])
        if _shape_or_fail(source, where, [out, b]) != out:
            _fail(source, f"{where}: b ({shape_str(b)}) does not fit the output {shape_str(out)}")
        return out
    if op in LOSS_OPS:
        scores, labels = parents
        if scores.value.ndim != 2:
            _fail(source, f"{where}: the scores must be a matrix N×C (one row of class scores per example), "
                          f"got {shape_str(shapes[0])}")
        n, c = shapes[0]
        if labels.op is not None or labels.kind == "param":
            _fail(source, f"{where}: the labels must be an input or const node, not {labels.op_name} {_q(labels.label)}")
        if shapes[1] != (n,):
            _fail(source, f"{where}: the labels must be a list of {n} class indices (one per row of the "
                          f"{shape_str(shapes[0])} scores), got {shape_str(shapes[1])}")
        y = labels.value
        bad = y[(y != np.round(y)) | (y < 0) | (y >= c)]
        if bad.size:
            _fail(source, f"{where}: label {bad[0]:g} is not a class index (the scores have {c} "
                          f"classes: labels are whole numbers 0 to {c - 1})")
        return ()
    if op == "regularization":
        return ()
    raise AssertionError(op)        # GATE_OPS lists only the ops handled above


def _build_from_nodes(source: str, nodes: Any, values: dict, output_name: str | None
                      ) -> tuple[Graph, Node, dict[str, Node]]:
    if not isinstance(nodes, list) or not nodes:
        _fail(source, "'nodes' must be a non-empty list")
    if len(nodes) > MAX_NODES:
        _fail(source, f"too many nodes ({len(nodes)}; at most {MAX_NODES})")
    specs: dict[str, dict] = {}
    order: list[str] = []
    shown: dict[str, str] = {}
    known_ops = ", ".join(sorted(LEAF_OPS | GATE_OPS))
    for i, spec in enumerate(nodes):
        where = f"node {i + 1}"
        if not isinstance(spec, dict):
            _fail(source, f"{where} must be an object with 'id' and 'op', got {_what(spec)}")
        bad = sorted(set(spec) - NODE_KEYS)
        if bad:
            _fail(source, f"{where}: unknown key {_q(bad[0])} (known: {', '.join(sorted(NODE_KEYS))})")
        nid = spec.get("id")
        if not isinstance(nid, str) or not nid.strip():
            _fail(source, f"{where}: 'id' is required and must be a non-empty string")
        if len(nid) > MAX_ID_CHARS:
            _fail(source, f"{where}: 'id' {_q(nid)} is longer than {MAX_ID_CHARS} characters")
        where = f"node {nid!r}"
        if nid in specs:
            _fail(source, f"duplicate node id {nid!r}")
        op = spec.get("op")
        if not isinstance(op, str):
            _fail(source, f"{where}: 'op' is required (a gate such as add, mul, exp, recip, addc, mulc, "
                          "or input/param/const)")
        if op not in LEAF_OPS and (op not in GATE_OPS or op not in OPS):
            _fail(source, f"{where}: unknown op {_q(op)} (known: {known_ops})")
        label = spec.get("name", nid)
        if not isinstance(label, str) or not label:
            _fail(source, f"{where}: 'name' must be a non-empty string")
        if len(label) > MAX_ID_CHARS:
            _fail(source, f"{where}: 'name' is longer than {MAX_ID_CHARS} characters")
        if label in shown:
            _fail(source, f"{where}: duplicate name {label!r} (also used by node {shown[label]!r})")
        shown[label] = nid
        inputs = spec.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(x, str) for x in inputs):
            _fail(source, f"{where}: 'inputs' must be a list of node ids")
        if op in LEAF_OPS:
            if inputs:
                _fail(source, f"{where}: an {op} has no inputs")
            if "attrs" in spec:
                _fail(source, f"{where}: an {op} has no attrs")
            if "value" in spec and nid in values:
                _fail(source, f"{where}: value given both in the node and in 'values'")
            if "value" not in spec and nid not in values:
                _fail(source, f"{where}: missing value (give \"value\" or an entry in 'values')")
        else:
            if "value" in spec:
                _fail(source, f"{where}: only input, param and const nodes take a 'value'")
            arity = OPS[op].arity
            if arity >= 0 and len(inputs) != arity:
                _fail(source, f"{where}: {op} takes {arity} input(s), got {len(inputs)}")
            if arity < 0 and not inputs:
                _fail(source, f"{where}: {op} needs at least one input")
            _gate_attrs(source, where, op, spec.get("attrs", {}))
        specs[nid] = spec
        order.append(nid)
    for k in values:
        if k not in specs:
            _fail(source, f"'values' gives {_q(k)}, which is not a node id")
    for nid in order:
        for inp in specs[nid].get("inputs", []):
            if inp not in specs:
                _fail(source, f"node {nid!r}: missing input {_q(inp)} (no node has that id)")
    # a loss gate's labels carry no gradient: an input used as labels is made without one
    label_ids = {specs[nid]["inputs"][1] for nid in order if specs[nid]["op"] in LOSS_OPS}

    # topological order (the file may list nodes in any order); a cycle is an error
    state: dict[str, int] = {}
    topo: list[str] = []
    for start in order:
        if state.get(start):
            continue
        stack = [(start, iter(specs[start].get("inputs", [])))]
        state[start] = 1
        path = [start]
        while stack:
            nid, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[nid] = 2
                topo.append(nid)
            elif state.get(nxt) == 1:
                cyc = path[path.index(nxt):] + [nxt]
                _fail(source, "the graph has a cycle: " + " → ".join(reversed(cyc)))
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(specs[nxt].get("inputs", []))))

    g = Graph(np.float64)
    built: dict[str, Node] = {}
    total = 0
    for nid in topo:
        spec = specs[nid]
        op = spec["op"]
        label = spec.get("name", nid)
        where = f"node {nid!r} ({op})"
        if op in LEAF_OPS:
            v = _number_array(source, f"value of {nid!r}", spec["value"] if "value" in spec else values[nid])
            shape = v.shape
        else:
            parents = [built[i] for i in spec.get("inputs", [])]
            shape = _out_shape(source, where, op, parents)
        size = math.prod(shape)
        if size > MAX_ELEMENTS:
            _fail(source, f"{where} would hold {shape_str(shape)} = {size:,} numbers; a walkthrough value "
                          f"holds at most {MAX_ELEMENTS:,}")
        total += size
        if total > MAX_TOTAL_ELEMENTS:
            _fail(source, f"{where}, {shape_str(shape)}: the graph's values would hold more than "
                          f"{MAX_TOTAL_ELEMENTS:,} numbers in all (the most a walkthrough may hold)")
        if op in LEAF_OPS:
            if op == "input":
                built[nid] = g.input(label, v, requires_grad=nid not in label_ids)
            elif op == "param":
                built[nid] = g.param(label, v)
            else:
                built[nid] = g.const(v, name=label)
            continue
        attrs = _gate_attrs(source, where, op, spec.get("attrs", {}))
        try:
            with np.errstate(all="ignore"):
                built[nid] = g.apply(op, *parents, name=label, **attrs)
        except (GraphError, TypeError, KeyError, ValueError, IndexError, ArithmeticError) as e:
            _fail(source, f"{where}: {_clip(' '.join(str(e).split()), 200)}")
        if built[nid].value.shape != shape:      # the rule above and the op must agree
            _fail(source, f"{where}: computed a value of shape {shape_str(built[nid].value.shape)}, "
                          f"expected {shape_str(shape)}")
    if output_name is None:
        out = built[order[-1]]
    else:
        if output_name not in built:
            _fail(source, f"'output' is {_q(output_name)}, which is not a node id")
        out = built[output_name]
    if out.op is None:
        _fail(source, "the output must be a gate, not an input")
    used = {n.id for n in g.ancestors(out)}
    unused = [nid for nid in order if built[nid].kind in ("input", "param") and built[nid].id not in used]
    if unused:
        _fail(source, f"node {unused[0]!r} is not used by the output")
    return g, out, built


def walkthrough_from_expression(expression: str, values: str | dict, title: str | None = None) -> Walkthrough:
    """Custom mode: ``("(x+y)*z", "x=-2, y=5, z=-4")``; raises :class:`ExpressionError`."""
    vals = parse_values(values) if isinstance(values, str) else dict(values)
    if not expression.strip():
        raise ExpressionError("type an expression, e.g. (x + y) * z")
    parsed = parse_expression(expression, vals)
    _auto_names(parsed.graph, parsed.output)
    wt = Walkthrough(name="custom", title=title or f"f = {expression.strip()}", graph=parsed.graph,
                     output=parsed.output, description="Your own expression.", source="<custom>",
                     expression=expression, values=vals)
    wt.run()
    try:
        _check_finite("the expression", wt)
    except WalkthroughError as e:
        raise ExpressionError(str(e).split(": ", 1)[1]) from None
    return wt


def builtin_walkthrough_paths() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.json"))


def load_builtin_walkthroughs() -> list[Walkthrough]:
    """All bundled walkthroughs, in their ``order``."""
    out = [load_walkthrough(p) for p in builtin_walkthrough_paths()]
    out.sort(key=lambda w: (w.order, w.name))
    return out


# --------------------------------------------------------------------------- frames and narration

@dataclass(frozen=True)
class Frame:
    """One click of the animation.

    ``kind``: "start" (leaf values given), "forward" (one gate computed), "seed" (df/df = 1 at the
    output), "backward" (one gradient along one edge).  ``step`` is the index into ``trace.steps``
    (-1 for start and seed).  The state shown at a frame is everything up to and including it.
    """
    index: int
    kind: str
    step: int


def build_frames(trace: Trace) -> list[Frame]:
    frames = [Frame(0, "start", -1)]
    seeded = False
    for i, s in enumerate(trace.steps):
        if isinstance(s, BackwardStep) and not seeded:
            frames.append(Frame(len(frames), "seed", -1))
            seeded = True
        frames.append(Frame(len(frames), "forward" if isinstance(s, ForwardStep) else "backward", i))
    if not seeded and trace.seed is not None:
        frames.append(Frame(len(frames), "seed", -1))
    return frames


def _prev_accumulated(trace: Trace, step_index: int, parent: int):
    for s in reversed(trace.steps[:step_index]):
        if isinstance(s, BackwardStep) and s.parent == parent:
            return s.accumulated
    return None


def fanout_sum(trace: Trace, step_index: int) -> str:
    """``"a + b = total"`` for a backward step whose parent fans out (contribution > 1)."""
    s = trace.steps[step_index]
    if not isinstance(s, BackwardStep) or s.contribution < 2:
        return ""
    prev = _prev_accumulated(trace, step_index, s.parent)
    if np.size(prev) != 1 or np.size(s.downstream) != 1:
        return f"{fmt(prev)} + {fmtp(s.downstream)} = {fmt(s.accumulated)}"
    return checked_formula([prev, s.downstream], s.accumulated, "+")


def _product(local, upstream, downstream) -> str:
    """``local × upstream = downstream`` as the narration prints it, adding up as shown."""
    if np.size(local) == 1 and np.size(upstream) == 1 and np.size(downstream) == 1:
        return checked_formula([local, upstream], downstream, "×")
    return f"{fmtp(local)} × {fmtp(upstream)} = {fmt(downstream)}"


def narrate(trace: Trace, frame: Frame, labels: dict[int, str], *, gates: dict[int, str] | None = None,
            describe: dict[int, str] | None = None, wt: Walkthrough | None = None) -> tuple[str, str]:
    """``(headline, body)`` for a frame, in the lecture's words.

    ``labels``: node id -> name to print; ``gates``: node id -> gate symbol; ``describe``: node id
    -> the op's one-line description.  A walkthrough's own narration text (``wt``) is added.
    """
    gates = gates or {}
    describe = describe or {}
    info = {n.id: n for n in trace.nodes}
    out_name = labels.get(trace.output, info[trace.output].name)
    special = (wt.narration if wt is not None else {})
    nsteps = len(trace.forward_steps)
    if frame.kind == "start":
        leaves = [n for n in trace.nodes if not n.parents and n.kind != "const"]
        vals = trace.values()
        given = ", ".join(f"{labels.get(n.id, n.name)} = {fmt(vals[n.id])}" for n in leaves)
        body = special.get("intro") or (wt.description if wt is not None else "")
        text = (f"The inputs are given: {given}. Press → (or Step) to run the forward pass: "
                f"{nsteps} gate(s), each computing its output from its inputs, left to right.")
        return "Start", (body + "\n\n" + text).strip()
    if frame.kind == "seed":
        head = f"Backward pass starts: ∂{out_name}/∂{out_name} = 1"
        extra = special.get("forward_done", "") + ("\n\n" if special.get("forward_done") else "")
        body = (f"{extra}The forward pass is done: {out_name} = {fmt(trace.values()[trace.output])}. "
                f"The gradient of {out_name} with respect to itself is 1 — the first upstream gradient. "
                "Now we walk the graph backwards (right to left); at each gate, by the chain rule, "
                "downstream gradient = local gradient × upstream gradient.")
        if special.get("seed"):
            body = special["seed"] + "\n\n" + body
        return head, body
    s = trace.steps[frame.step]
    name = labels.get(s.node, info[s.node].name)
    gate = gates.get(s.node, info[s.node].symbol)
    own = ""
    if wt is not None:
        own = wt.narration_for(wt.graph.nodes[s.node], frame.kind)
    if isinstance(s, ForwardStep):
        args = ", ".join(fmt(v) for v in s.input_values)
        ins = ", ".join(labels.get(i, info[i].name) for i in s.inputs)
        head = f"Forward: {name} = {gate}({ins})"
        body = f"{name} = {gate}({args}) = {fmt(s.value)}."
        if describe.get(s.node):
            body += f"\nThe {describe[s.node]}."
        if own:
            body = own + "\n\n" + body
        if frame.index == nsteps:
            body += f"\n\nThis is the output: {name} = {fmt(s.value)}. " + special.get("forward_done", "")
        return head, body.strip()
    parent = labels.get(s.parent, info[s.parent].name)
    head = f"Backward through {gate}: ∂{out_name}/∂{_p(parent)}"
    if s.local is not None:
        body = (f"downstream = local × upstream\n"
                f"∂{out_name}/∂{_p(parent)} = ∂{_p(name)}/∂{_p(parent)} × ∂{out_name}/∂{_p(name)}\n"
                f"          = {_product(s.local, s.upstream, s.downstream)}")
    else:
        body = (f"A layer-sized gate: its local gradient is a Jacobian, applied by the gate's own vectorised "
                f"backward rule (the chain rule for whole arrays).\n\n"
                f"downstream = Jᵀ · upstream\n"
                f"upstream   ∂{out_name}/∂{_p(name)}: {shape_str(np.shape(s.upstream))}, "
                f"‖·‖ = {fmt(np.linalg.norm(s.upstream))}\n"
                f"downstream ∂{out_name}/∂{_p(parent)}: {shape_str(np.shape(s.downstream))}, "
                f"‖·‖ = {fmt(np.linalg.norm(s.downstream))}")
    if describe.get(s.node):
        body += f"\n\nThe {describe[s.node]}."
    if s.contribution > 1:
        body += (f"\n\n{parent} fans out (its value is used {s.contribution} times so far): the copy gate "
                 f"adds the gradients coming back — {fanout_sum(trace, frame.step)}.")
    if own:
        body = own + "\n\n" + body
    if frame.index == frame_count(trace) - 1:
        body += "\n\nDone: every input now has its gradient. " + special.get("outro", "")
    return head, body.strip()


def frame_count(trace: Trace) -> int:
    return len(build_frames(trace))
