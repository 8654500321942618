"""Practice mode for the backprop walkthroughs: the student types each value before it is shown.

For a frame of :func:`engine.walkthroughs.build_frames` (a gate's forward value, or the gradient
along one edge in the backward pass), :func:`expected` says what is asked and the number the
engine recorded; :func:`check` accepts an answer that is right to the displayed precision
(:func:`engine.walkthroughs.fmt`: it formats the same, or lies within half a unit of the last
digit shown); :func:`hint` writes the hint given after a miss (forward: the gate's rule with its
inputs; backward: "downstream = local × upstream" with the gate's local gradient rule and the
numbers).  :class:`Score` counts the answers right first time.

Pure NumPy + standard library (no Qt).  Only scalar values are asked: a tensor-valued frame
(the network walkthrough's layers) gives ``None``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .graph import OPS, BackwardStep, ForwardStep, Trace
from .ops import op_names
from .walkthroughs import Frame, fmt

__all__ = ["Question", "expected", "parse_answer", "check", "tolerance", "hint", "Score"]


class Question(NamedTuple):
    """What the student is asked (``"q = +(x, y)"``, ``"∂f/∂q"``), the engine's value, and how it
    is displayed (``fmt``)."""
    what: str
    value: float
    display: str


def _p(name: str) -> str:
    return f"({name})" if any(c in name for c in "+−-·×/^ ") else name


def _name(trace: Trace, labels: dict[int, str], nid: int) -> str:
    return labels.get(nid) or trace.node(nid).name


def _scalar(a) -> float | None:
    a = np.asarray(a)
    return float(a.reshape(())) if a.size == 1 else None


def expected(frame: Frame, trace: Trace, labels: dict[int, str],
             gates: dict[int, str] | None = None) -> Question | None:
    """The question for ``frame``: a forward frame asks the gate's new value, a backward frame
    the gradient it sends along its edge (the downstream gradient).  ``None`` for the start and
    seed frames and for tensor values (not asked)."""
    if frame.kind not in ("forward", "backward") or not 0 <= frame.step < len(trace.steps):
        return None
    s = trace.steps[frame.step]
    out = _name(trace, labels, trace.output)
    if isinstance(s, ForwardStep):
        v = _scalar(s.value)
        if v is None:
            return None
        gate = (gates or {}).get(s.node) or trace.node(s.node).symbol or s.op
        ins = ", ".join(_name(trace, labels, i) for i in s.inputs)
        return Question(f"{_name(trace, labels, s.node)} = {gate}({ins})", v, fmt(v))
    assert isinstance(s, BackwardStep)
    v = _scalar(s.downstream)
    if v is None:
        return None
    parent = _name(trace, labels, s.parent)
    what = f"∂{out}/∂{_p(parent)}"
    if s.contribution > 1:
        what += f" (through {_name(trace, labels, s.node)})"
    return Question(what, v, fmt(v))


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$")


def parse_answer(text: str) -> float | None:
    """The number typed (``-4``, ``−4.00``, ``0,5``, ``(−4)``, ``1e-3``); None if it is not one."""
    t = (text or "").strip().replace("−", "-").replace("–", "-").replace(" ", "").lower()
    if t.startswith("(") and t.endswith(")"):
        t = t[1:-1]
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    if not _NUMBER.match(t):
        return None
    v = float(t)
    return v if math.isfinite(v) else None


def tolerance(value: float) -> float:
    """Half a unit of the last digit :func:`fmt` shows for ``value`` (``3.00`` → 0.005)."""
    shown = fmt(value)
    mant, _, exp = shown.partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    unit = 10.0 ** (-decimals) * (10.0 ** int(exp) if exp else 1.0)
    if shown == "0":
        unit = 0.01
    return 0.5 * unit


def check(answer_text: str, value: float) -> bool:
    """Whether the answer is right to the displayed precision: it formats as ``fmt(value)`` does,
    or is within half a unit of the last displayed digit."""
    a = parse_answer(answer_text)
    if a is None or not math.isfinite(value):
        return False
    if fmt(a) == fmt(value):
        return True
    return abs(a - value) <= tolerance(value) * (1 + 1e-9)


# the forward rule of each gate: (words, how the numbers combine)
_INFIX = {"add": ("add its inputs", " + "), "sub": ("subtract the second input from the first", " − "),
          "mul": ("multiply its inputs", " × "), "div": ("divide the first input by the second", " ÷ "),
          "pow": ("raise the first input to the power of the second", " ^ ")}
_UNARY = {"exp": ("e to the power of its input", "e^{0}"), "log": ("the natural log of its input", "ln {0}"),
          "neg": ("flip the sign of its input", "−({0})"), "abs": ("the absolute value of its input", "|{0}|"),
          "recip": ("one over its input", "1 / {0}"), "copy": ("pass its input on unchanged", "{0}")}
# ... and every activation by its registered formula (engine.scalar_ops): σ(x) = 1 / (1 + e⁻ˣ), max(0, x), ...
_UNARY.update({name: (OPS[name].formula or "pass its input on unchanged",
                      f"{OPS[name].symbol}({{0}})" if OPS[name].formula else "{0}")
               for name in op_names("activation")})


def _num(v) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def hint(frame: Frame, trace: Trace, labels: dict[int, str], gates: dict[int, str] | None = None) -> str:
    """The hint after a miss: the gate's rule with the numbers it works on."""
    if frame.kind not in ("forward", "backward"):
        return ""
    s = trace.steps[frame.step]
    info = trace.node(s.node)
    gate = (gates or {}).get(s.node) or info.symbol or info.op
    op = OPS.get(info.op)
    if isinstance(s, ForwardStep):
        args = [fmt(v) for v in s.input_values]
        c = info.attrs.get("c")
        if info.op in _INFIX:
            words, sep = _INFIX[info.op]
            return f"{gate} gate: {words}: " + sep.join(_num(v) for v in s.input_values)
        if info.op == "addc" and c is not None:
            return f"{gate} gate: add the constant {c:g}: {args[0]} + {c:g}"
        if info.op == "mulc" and c is not None:
            return f"{gate} gate: multiply by the constant {c:g}: {_num(s.input_values[0])} × {c:g}"
        if info.op in ("max", "min"):
            return f"{gate} gate: the {'larger' if info.op == 'max' else 'smaller'} of its inputs: {info.op}({', '.join(args)})"
        if info.op in _UNARY:
            words, form = _UNARY[info.op]
            return f"{gate} gate: {words}: {form.format(args[0])}"
        rule = op.describe if op is not None and op.describe else f"the {gate} gate"
        return f"{gate} gate ({rule}) of {', '.join(args)}"
    assert isinstance(s, BackwardStep)
    out = _name(trace, labels, trace.output)
    name, parent = _name(trace, labels, s.node), _name(trace, labels, s.parent)
    rule = op.describe if op is not None and op.describe else f"the {gate} gate"
    text = f"downstream = local × upstream. The {rule}."
    if s.local is not None and np.size(s.local) == 1:
        text += (f"\nlocal ∂{_p(name)}/∂{_p(parent)} = {fmt(s.local)}, "
                 f"upstream ∂{out}/∂{_p(name)} = {fmt(s.upstream)}: "
                 f"{_num(s.local)} × {_num(s.upstream)}")
    else:
        text += f"\nupstream ∂{out}/∂{_p(name)} = {fmt(s.upstream)}"
    return text


@dataclass
class Score:
    """Each asked frame's outcome: right first time or not (a frame answered again after
    stepping back keeps its first outcome)."""
    first: dict[int, bool] = field(default_factory=dict)

    def record(self, frame_index: int, right_first_time: bool) -> None:
        self.first.setdefault(frame_index, right_first_time)

    @property
    def right(self) -> int:
        return sum(self.first.values())

    @property
    def asked(self) -> int:
        return len(self.first)

    def text(self) -> str:
        return f"{self.right} / {self.asked} right first time"
