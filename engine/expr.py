"""A safe expression parser: text such as ``(x+y)*z`` into a computational graph.

No ``eval``: a small tokenizer and a recursive-descent parser that knows numbers, names,
``+ - * / ^ **``, parentheses and the engine's primitives as functions
(``exp log max min abs relu sigmoid tanh pow``).  Anything else is an
:class:`ExpressionError` naming the problem and its position.

Bounds: the text is at most :data:`MAX_LENGTH` characters (a ``--values`` list too), and
nesting (parentheses, function calls, unary signs, powers: every recursive production
below) is at most :data:`MAX_NESTING` levels deep, far below Python's recursion limit, so
a hostile ``------x``, ``x^x^x^…`` or ``exp(exp(…))`` is an :class:`ExpressionError`, never
a ``RecursionError``.  The graph built from an accepted expression is walked without
recursion (``engine.graph`` sorts and back-propagates with loops).

Grammar::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := '-' unary | power
    power  := atom (('^' | '**') unary)?
    atom   := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .graph import Graph, Node

FUNCTIONS = {"exp": 1, "log": 1, "abs": 1, "relu": 1, "sigmoid": 1, "tanh": 1,
             "max": 2, "min": 2, "pow": 2}
MAX_LENGTH = 2000            # characters of an expression, and of a values list
MAX_NESTING = 64            # open parentheses + calls + unary signs + powers at any point
                            # (≤ 6 parser frames each: ≤ ~400 frames, Python allows 1000)
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z_0-9]*)|(\*\*|[-+*/^(),]))")


class ExpressionError(ValueError):
    """The expression could not be parsed or evaluated."""


def _clip(text: str, n: int = 30) -> str:
    """``text`` shortened for a message (a token may be a 2,000-digit number)."""
    return text if len(text) <= n else text[:n] + "…"


@dataclass
class ParsedExpression:
    graph: Graph
    output: Node
    inputs: dict[str, Node]


def tokenize(text: str) -> list[tuple[str, str, int]]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})")
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            col = len(text) - len(text[pos:].lstrip()) + 1
            raise ExpressionError(f"unexpected character {bad!r} at position {col}")
        start = m.start(m.lastindex)
        if m.group(1):
            tokens.append(("num", m.group(1), start))
        elif m.group(2):
            tokens.append(("name", m.group(2), start))
        else:
            tokens.append(("op", m.group(3), start))
        pos = m.end()
    if not tokens:
        raise ExpressionError("the expression is empty")
    return tokens


class _Parser:
    def __init__(self, text: str, values: dict[str, float], graph: Graph):
        self.tokens = tokenize(text)
        self.i = 0
        self.values = values
        self.g = graph
        self.inputs: dict[str, Node] = {}
        self.depth = 0

    def enter(self) -> None:
        """One more level of nesting (a parenthesis, call, sign or power); refused past the limit."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            tok = self.peek()
            where = f" at position {tok[2] + 1}" if tok[0] != "end" else ""
            raise ExpressionError(f"the expression is nested too deeply{where} (more than {MAX_NESTING} "
                                  "levels of parentheses, function calls, signs and powers)")

    def leave(self) -> None:
        self.depth -= 1

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", -1)

    def take(self, kind=None, text=None):
        tok = self.peek()
        if (kind and tok[0] != kind) or (text and tok[1] != text):
            want = repr(text) if text else kind
            got = "the end of the expression" if tok[0] == "end" else f"{_clip(tok[1])!r} at position {tok[2] + 1}"
            raise ExpressionError(f"expected {want} but found {got}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        if self.peek()[0] != "end":
            tok = self.peek()
            raise ExpressionError(f"unexpected {_clip(tok[1])!r} at position {tok[2] + 1}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.term()
            node = self.g.apply("add" if op == "+" else "sub", node, rhs)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.unary()
            node = self.g.apply("mul" if op == "*" else "div", node, rhs)
        return node

    def unary(self) -> Node:
        if self.peek()[0:2] == ("op", "-"):
            self.take()
            self.enter()
            operand = self.unary()
            self.leave()
            if operand.kind == "const":        # a negative number, not a gate
                operand.value = -operand.value
                operand.name = f"{operand.value.item():g}"
                return operand
            return self.g.apply("neg", operand)
        if self.peek()[0:2] == ("op", "+"):
            self.take()
            self.enter()
            operand = self.unary()
            self.leave()
            return operand
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek()[1] in ("^", "**") and self.peek()[0] == "op":
            self.take()
            self.enter()
            exponent = self.unary()
            self.leave()
            return self.g.apply("pow", base, exponent)
        return base

    def atom(self) -> Node:
        kind, text, pos = self.peek()
        if kind == "num":
            self.take()
            v = float(text)
            if not math.isfinite(v):
                raise ExpressionError(f"the number {_clip(text)} at position {pos + 1} is too large")
            return self.g.const(v, name=text)
        if kind == "name":
            self.take()
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(text, pos)
            if text in FUNCTIONS:
                raise ExpressionError(f"{text} is a function: write {text}(...)")
            if text in self.inputs:
                return self.inputs[text]
            if text not in self.values:
                raise ExpressionError(f"no value given for {_clip(text)!r} (give it as {_clip(text)}=<number>)")
            node = self.g.input(text, float(self.values[text]))
            self.inputs[text] = node
            return node
        if (kind, text) == ("op", "("):
            self.take()
            self.enter()
            node = self.expr()
            self.leave()
            self.take("op", ")")
            return node
        if kind == "end":
            raise ExpressionError("the expression ends too early")
        raise ExpressionError(f"unexpected {_clip(text)!r} at position {pos + 1}")

    def call(self, fname: str, pos: int) -> Node:
        if fname not in FUNCTIONS:
            raise ExpressionError(f"unknown function {_clip(fname)!r} at position {pos + 1} "
                                  f"(known: {', '.join(sorted(FUNCTIONS))})")
        self.take("op", "(")
        self.enter()
        args = [self.expr()]
        while self.peek()[0:2] == ("op", ","):
            self.take()
            args.append(self.expr())
        self.leave()
        self.take("op", ")")
        if len(args) != FUNCTIONS[fname]:
            raise ExpressionError(f"{fname} takes {FUNCTIONS[fname]} argument(s), got {len(args)}")
        return self.g.apply(fname, *args)


def parse_expression(text: str, values: dict[str, float]) -> ParsedExpression:
    """Build the graph of ``text`` with the named inputs set from ``values``.

    Input nodes are created in order of first appearance; values for names that do not
    occur are an error too (likely a typo).
    """
    g = Graph(np.float64)
    with np.errstate(all="ignore"):
        p = _Parser(text, values, g)
        try:
            out = p.parse()
        except RecursionError:      # only if the caller's own stack is already deep
            raise ExpressionError("the expression is nested too deeply for the parser") from None
    if out.kind == "op" and not out.name:
        out.name = "f"
    unused = sorted(set(values) - set(p.inputs))
    if unused:
        raise ExpressionError(f"a value was given for {_clip(unused[0])!r}, which the expression does not use")
    return ParsedExpression(g, out, p.inputs)


def parse_values(text: str) -> dict[str, float]:
    """``"x=-2,y=5,z=-4"`` -> ``{"x": -2.0, "y": 5.0, "z": -4.0}``."""
    out: dict[str, float] = {}
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the values are too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        return out
    for part in text.split(","):
        name, eq, val = part.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", name):
            raise ExpressionError(f"values must look like x=-2,y=5; could not read {_clip(part.strip())!r}")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function name and cannot be an input")
        try:
            v = float(val)
        except ValueError:
            raise ExpressionError(f"the value of {_clip(name)} is not a number: {_clip(val.strip())!r}") from None
        if not math.isfinite(v):
            raise ExpressionError(f"the value of {_clip(name)} must be finite, got {_clip(val.strip())}")
        if name in out:
            raise ExpressionError(f"{_clip(name)} is given twice")
        out[name] = v
    return out


def evaluate(text: str, values: dict[str, float]):
    """Parse, run forward and backward; returns ``(ParsedExpression, Trace)``.

    A non-finite result (e.g. ``log(-1)``, division by zero) is an :class:`ExpressionError`.
    """
    p = parse_expression(text, values)
    with np.errstate(all="ignore"):
        trace = p.graph.run(p.output, trace=True)
    problem = not_finite_problem(p.graph.ancestors(p.output))
    if problem:
        raise ExpressionError(problem)
    return p, trace


#: why a gate's value is not finite, by op
_NOT_FINITE = {
    "exp": "exp overflowed: eˣ is beyond the largest float for x above about 709",
    "log": "log of a number that is not positive",
    "div": "division by zero (or an overflow)",
    "recip": "1/x at x = 0",
    "pow": "the power overflowed or is undefined (a negative base to a fractional power?)",
    "mul": "the product overflowed",
}


def not_finite_problem(nodes) -> str:
    """"" if every value and gradient of ``nodes`` (in forward order) is finite; else one line
    naming the first gate whose value is not, and why (an exp overflow is called one), or the
    first gradient that is not."""
    nodes = list(nodes)
    for n in nodes:
        if not np.all(np.isfinite(n.value)):
            why = _NOT_FINITE.get(n.op_name, "an overflow, a log of a non-positive number or a division by zero?")
            return f"{n.label} = {n.op_name}(...) is not a finite number: {why}"
    for n in nodes:
        if n.grad is not None and not np.all(np.isfinite(n.grad)):
            return f"the gradient at {n.label} is not finite (a local gradient overflowed, e.g. exp or 1/x²)"
    return ""
