"""Hostile input to the expression parser and the walkthrough loader, generated on the fly.

Every bad input must end in one clear line — an ExpressionError / WalkthroughError naming the
file — bounded in memory and time: never a RecursionError, a NumPy exception, a hang on a FIFO
or an 8000×8000 tensor built from two vectors.
"""
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import cli_harness
import numpy as np
import pytest

from engine import expr as E
from engine import walkthroughs as W
from engine.expr import ExpressionError, evaluate, parse_values
from engine.walkthroughs import WalkthroughError, load_walkthrough, walkthrough_from_dict, walkthrough_from_expression

ROOT = Path(__file__).resolve().parents[1]


def one_line(msg: str, limit: int = 500) -> str:
    assert "\n" not in msg and len(msg) < limit, msg
    return msg


@contextlib.contextmanager
def recursion_headroom(frames: int):
    """Lower Python's recursion limit to the current depth + ``frames`` for the block."""
    depth = 0
    f = sys._getframe()
    while f is not None:
        depth += 1
        f = f.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# ============================================================================ expressions

def chain(kind: str, levels: int) -> str:
    """``levels`` nested recursive productions of one kind around ``x``."""
    if kind == "unary-":
        return "-" * levels + "x"
    if kind == "unary+":
        return "+" * levels + "x"
    if kind == "pow^":
        return "x^" * levels + "x"
    if kind == "pow**":
        return "x**" * levels + "x"
    if kind == "call":
        return "exp(" * levels + "x" + ")" * levels
    if kind == "call2":                       # the nesting in the first argument of a binary call
        return "max(" * levels + "x" + ", x)" * levels
    if kind == "paren":
        return "(" * levels + "x" + ")" * levels
    if kind == "mixed":                       # -( exp( ... ) ) ^ ... : every production in turn
        parts = ["-", "(", "exp(", "x^"]
        opened = [parts[i % 4] for i in range(levels)]
        closing = {"-": "", "(": ")", "exp(": ")", "x^": ""}
        return "".join(opened) + "x" + "".join(closing[p] for p in reversed(opened))
    raise ValueError(kind)


KINDS = ["unary-", "unary+", "pow^", "pow**", "call", "call2", "paren", "mixed"]


def deepest_fitting(kind: str) -> int:
    """The most levels of ``kind`` that still fit in the length limit."""
    n = 1
    while len(chain(kind, n + 1)) <= E.MAX_LENGTH:
        n += 1
    return n


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("levels", [E.MAX_NESTING + 1, 200, 1000, 10_000, "fit"])
def test_deep_chains_are_an_expression_error(kind, levels):
    n = deepest_fitting(kind) if levels == "fit" else levels
    text = chain(kind, n)
    with pytest.raises(ExpressionError) as e:
        evaluate(text, {"x": 1.0})
    msg = one_line(str(e.value))
    if len(text) > E.MAX_LENGTH:
        assert "too long" in msg
    else:
        assert "nested too deeply" in msg and f"more than {E.MAX_NESTING}" in msg
    # the custom mode of the view reaches the same parser
    with pytest.raises(ExpressionError):
        walkthrough_from_expression(text, "x=1")


def test_chains_within_the_length_limit_reach_past_200_levels():
    """The old guard (200 levels of expr()) missed these; they must fit in the length limit."""
    for kind in ("unary-", "unary+", "pow^", "paren"):
        assert deepest_fitting(kind) >= 200, kind
    assert deepest_fitting("unary-") >= 1000


@pytest.mark.parametrize("kind", KINDS)
def test_deepest_accepted_nesting_builds_evaluates_and_backprops(kind):
    """MAX_NESTING levels are accepted and need far fewer frames than Python allows."""
    text = chain(kind, E.MAX_NESTING).replace("exp(", "tanh(")     # exp(exp(…)) overflows
    with recursion_headroom(450):
        p, trace = evaluate(text, {"x": 0.5})
    assert p.output.value.shape == ()
    assert p.inputs["x"].grad is not None
    assert trace.backward_steps or kind in ("unary+", "paren")    # +++x and ((x)) are x: no gate
    with recursion_headroom(450), pytest.raises(ExpressionError, match="nested too deeply"):
        evaluate(chain(kind, E.MAX_NESTING + 1), {"x": 1.0})


def test_longest_flat_expressions_have_no_recursion_anywhere():
    """A 1,000-gate chain (the most the length limit allows) sorts, runs and backprops in loops."""
    for text, grad in (("+".join(["x"] * 1000), 1000.0), ("*".join(["x"] * 1000), 1000.0),
                       ("-".join(["x"] * 1000), -998.0)):
        assert len(text) <= E.MAX_LENGTH
        with recursion_headroom(120):
            p, trace = evaluate(text, {"x": 1.0})
            wt = walkthrough_from_expression(text, "x=1")
            wt.gradient_check()
        assert len(p.graph.nodes) >= 1000
        assert float(p.inputs["x"].grad) == grad
        assert len(trace.backward_steps) >= 999


def test_random_nesting_never_escapes_as_another_exception():
    rng = np.random.default_rng(7)
    pieces = ["-", "+", "(", ")", "exp(", "max(", ",", "x", "^", "**", "*", "/", "2", " "]
    seen = 0
    for _ in range(300):
        n = int(rng.integers(1, 700))
        text = "".join(pieces[i] for i in rng.integers(0, len(pieces), n))[:E.MAX_LENGTH]
        try:
            with np.errstate(all="ignore"):
                evaluate(text, {"x": 0.5})
        except ExpressionError as e:
            one_line(str(e))
            seen += 1
    assert seen > 250      # almost all random strings are malformed


@pytest.mark.parametrize("text, values, needle", [
    ("9" * 400 + "*x", {"x": 1.0}, "too large"),
    ("1e999+x", {"x": 1.0}, "too large"),
    ("x*" + "9" * 1990, {"x": 1.0}, "too large"),
    ("x" * (E.MAX_LENGTH + 1), {}, "too long"),
    ("exp(exp(exp(exp(x))))", {"x": 10.0}, "finite"),
    ("1e308*x*10", {"x": 10.0}, "finite"),
    ("q" * 1500 + "+x", {"x": 1.0}, "no value given for 'qqqq"),
])
def test_huge_numbers_and_names_in_expressions(text, values, needle):
    with pytest.raises(ExpressionError) as e:
        evaluate(text, values)
    assert needle in one_line(str(e.value), limit=300)


@pytest.mark.parametrize("values, needle", [
    ("x=" + "9" * 5000, "too long"),
    ("x=" + "9" * 1990, "must be finite"),
    ("x=1e999", "must be finite"),
    ("x=-1e999", "must be finite"),
    ("x=nan", "must be finite"),
    ("x=inf", "must be finite"),
    (",".join(f"x{i}=1" for i in range(2000)), "too long"),
    ("x=1," * 600, "too long"),
    ("x=" + "1" * 1000 + "e", "not a number"),
    ("x=1,x=2", "given twice"),
    ("exp=1", "function name"),
    ("=1", "could not read"),
])
def test_value_lists(values, needle):
    with pytest.raises(ExpressionError) as e:
        parse_values(values)
    assert needle in one_line(str(e.value), limit=300)


def test_value_lists_at_the_length_limit_are_read():
    text = ",".join(f"x{i}=1" for i in range(300))
    assert len(text) <= E.MAX_LENGTH and len(parse_values(text)) == 300


def run_cli(*args):
    """The CLI under the address-space limit and timeout every hostile input gets."""
    return cli_harness.run_cli(*args, env={"QT_QPA_PLATFORM": "offscreen"})


CLI_CASES = [
    (chain("unary-", 1999), "x=1"),
    (chain("pow^", 999), "x=1"),
    (chain("call", 399), "x=1"),
    (chain("paren", 999), "x=1"),
    (chain("mixed", 300), "x=1"),
    (chain("unary-", 10_000), "x=1"),
    ("x", "x=" + "9" * 5000),
    ("9" * 1999, ""),
]


@pytest.mark.parametrize("expression, values", CLI_CASES, ids=[f"cli{i}" for i in range(len(CLI_CASES))])
def test_cli_prints_one_line_and_exits_2(expression, values):
    # --expr=… : a value starting with '-' would be taken for an option after a separate --expr
    r = run_cli("walkthrough", f"--expr={expression}", f"--values={values}")
    assert r.code == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop-studio walkthrough: error: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("kind", ["pow^", "call", "paren", "unary-"])
def test_cli_separate_expr_argument(kind):
    """The form ``--expr "<deep>" --values x=1``: one line, exit 2 (a leading '-' is argparse's)."""
    r = run_cli("walkthrough", "--expr", chain(kind, 999 if kind != "call" else 399), "--values", "x=1")
    assert r.code == 2 and len(r.stderr.splitlines()) == 1 and r.stdout == "", r.stderr
    assert r.stderr.startswith("backprop-studio walkthrough: ")
    assert "nested too deeply" in r.stderr


# ============================================================================ walkthrough files

GOOD_X = {"id": "x", "op": "input", "value": 1}


def doc(nodes, **extra) -> dict:
    return dict({"name": "t", "title": "T", "nodes": nodes}, **extra)


def write(tmp_path, name: str, content) -> Path:
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return p


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(WalkthroughError) as e:
        load_walkthrough(path)
    msg = one_line(str(e.value))
    assert msg.startswith(f"{path.name}: "), msg
    for n in needles:
        assert n in msg, msg
    return msg


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


@pytest.mark.parametrize("text, needle", [
    (nested(W.MAX_JSON_DEPTH + 1), "nested more than"),
    (nested(1000), "nested more than"),
    (nested(100_000), "nested more than"),
    ('{"name": "t", "title": "T", "nodes": ' + nested(5000) + "}", "nested more than"),
    ('{"name": "t", "title": "T", "narration": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}", "nested more than"),
    ('{"name": "t", "title": "T", "expression": "x", "values": {"x": ' + nested(12) + "}}", "nested more than 4"),
    ('{"name": "t", "title": "T", "nodes": [{"id": "x", "op": "input", "value": ' + nested(8) + '}, '
     '{"id": "f", "op": "exp", "inputs": ["x"]}]}', "at most 4 dimensions"),
])
def test_deep_json(tmp_path, text, needle):
    refused(write(tmp_path, "deep.json", text), needle)


@pytest.mark.parametrize("where", ["value", "attr", "order", "format", "values", "label"])
def test_400_digit_integers(tmp_path, where):
    big = "9" * 400
    nodes = '[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "exp", "inputs": ["x"]}]'
    text = {"value": nodes.replace('"value": 1', f'"value": {big}'),
            "attr": nodes.replace('"op": "exp", "inputs": ["x"]', f'"op": "addc", "inputs": ["x"], "attrs": {{"c": {big}}}'),
            "order": nodes + f', "order": {big}',
            "format": nodes + f', "format": {big}',
            "values": nodes.replace(', "value": 1', "") + f', "values": {{"x": [1, -{big}]}}',
            "label": nodes + f', "names": {{"x": {big}}}'}[where]
    refused(write(tmp_path, "big.json", '{"name": "t", "title": "T", "nodes": ' + text + "}"),
            "integer of 400 digits")


@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 400), [1, 10 ** 309], [[2 ** 1024]]])
def test_integers_too_large_for_a_float_given_as_python_objects(value):
    with pytest.raises(WalkthroughError, match="^py.json: value of 'x' is too large for a number"):
        walkthrough_from_dict(doc([{"id": "x", "op": "input", "value": value},
                                   {"id": "f", "op": "exp", "inputs": ["x"]}]), source="py.json")


@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 309), 2 ** 1024])
def test_attrs_too_large_for_a_float_given_as_python_objects(value):
    with pytest.raises(WalkthroughError, match="^py.json: node 'f': attr 'c' is too large for a number"):
        walkthrough_from_dict(doc([GOOD_X, {"id": "f", "op": "mulc", "inputs": ["x"], "attrs": {"c": value}}]),
                              source="py.json")


def test_deep_python_lists_do_not_recurse():
    v = 1.0
    for _ in range(50_000):
        v = [v]
    with pytest.raises(WalkthroughError, match="at most 4 dimensions"):
        walkthrough_from_dict(doc([{"id": "x", "op": "input", "value": v}, {"id": "f", "op": "exp", "inputs": ["x"]}]))


WRONG_ATTRS = [
    ("addc", {"c": "1"}, "attr 'c' must be a number, got the string '1'"),
    ("addc", {"c": [1, 2]}, "attr 'c' must be a number, got a list"),
    ("addc", {"c": {"v": 1}}, "attr 'c' must be a number, got an object"),
    ("addc", {"c": None}, "attr 'c' must be a number, got null"),
    ("addc", {"c": True}, "attr 'c' must be a number, got true"),
    ("addc", {}, "missing attr 'c'"),
    ("addc", {"c": 1, "d": 2}, "unknown attr 'd' for addc"),
    ("mulc", {"c": "-1"}, "attr 'c' must be a number"),
    ("mulc", {"c": [[-1]]}, "attr 'c' must be a number, got a list"),
    ("mulc", [1], "'attrs' must be an object"),
    ("mulc", "c=1", "'attrs' must be an object"),
    ("leaky_relu", {"slope": "0.1"}, "attr 'slope' must be a number"),
    ("leaky_relu", {"slope": {}}, "attr 'slope' must be a number, got an object"),
    ("elu", {"alpha": [1.0]}, "attr 'alpha' must be a number, got a list"),
    ("exp", {"where": False}, "unknown attr 'where' for exp"),
    ("exp", {"out": [0.0]}, "unknown attr 'out' for exp"),
    ("exp", {"dtype": "int8"}, "unknown attr 'dtype' for exp"),
    ("neg", {"c": 1}, "unknown attr 'c' for neg"),
    ("regularization", {"kind": 2, "strength": 1}, "attr 'kind' must be one of none, l1, l2, elastic"),
    ("regularization", {"kind": "l3"}, "attr 'kind' must be one of"),
    ("regularization", {"kind": ["l2"]}, "attr 'kind' must be one of"),
    ("regularization", {"strength": 1}, "missing attr 'kind'"),
    ("regularization", {"kind": "l2", "strength": "big"}, "attr 'strength' must be a number"),
    ("regularization", {"kind": "elastic", "l1_ratio": {"a": 1}}, "attr 'l1_ratio' must be a number"),
    ("hinge_loss", {"margin": "1"}, "attr 'margin' must be a number"),
    ("hinge_loss", {"margin": [1]}, "attr 'margin' must be a number, got a list"),
    ("softmax_loss", {"margin": 1}, "unknown attr 'margin' for softmax_loss"),
]


def _gate_doc(op, attrs):
    if op in ("hinge_loss", "softmax_loss"):
        return doc([{"id": "s", "op": "input", "value": [[1.0, 2.0]]}, {"id": "y", "op": "const", "value": [0]},
                    {"id": "f", "op": op, "inputs": ["s", "y"], "attrs": attrs}])
    return doc([GOOD_X, {"id": "f", "op": op, "inputs": ["x"], "attrs": attrs}])


@pytest.mark.parametrize("op, attrs, needle", WRONG_ATTRS)
def test_wrong_typed_attributes(tmp_path, op, attrs, needle):
    refused(write(tmp_path, "attrs.json", _gate_doc(op, attrs)), "node 'f'", needle)


def test_attrs_on_a_leaf_and_types_elsewhere(tmp_path):
    refused(write(tmp_path, "a.json", doc([dict(GOOD_X, attrs={"c": 1}), {"id": "f", "op": "exp", "inputs": ["x"]}])),
            "an input has no attrs")
    refused(write(tmp_path, "b.json", doc([GOOD_X, {"id": "f", "op": "exp", "inputs": ["x"]}], order="1")),
            "'order' must be an integer")
    refused(write(tmp_path, "c.json", doc([GOOD_X, {"id": "f", "op": "exp", "inputs": ["x"]}], format=True)),
            "format true is not supported")
    refused(write(tmp_path, "d.json", doc([GOOD_X, {"id": "f", "op": "exp", "inputs": [["x"]]}])),
            "'inputs' must be a list of node ids")
    refused(write(tmp_path, "e.json", doc([{"id": "x", "op": "input", "value": {"v": 1}},
                                           {"id": "f", "op": "exp", "inputs": ["x"]}])),
            "value of 'x' must be a finite number (or a list of numbers), got an object")
    refused(write(tmp_path, "f.json", doc([{"id": "x", "op": "input", "value": [1, "2"]},
                                           {"id": "f", "op": "exp", "inputs": ["x"]}])), "got the string '2'")
    refused(write(tmp_path, "g.json", doc([{"id": "x", "op": "input", "value": [[1, 2], [3]]},
                                           {"id": "f", "op": "exp", "inputs": ["x"]}])), "not rectangular")
    refused(write(tmp_path, "h.json", doc([{"id": "x", "op": "input", "value": [[]]},
                                           {"id": "f", "op": "exp", "inputs": ["x"]}])), "empty list")
    refused(write(tmp_path, "i.json", doc([GOOD_X, {"id": "f", "op": {"gate": "exp"}, "inputs": ["x"]}])), "'op' is required")
    refused(write(tmp_path, "j.json", doc([GOOD_X, {"id": "f" * 5000, "op": "exp", "inputs": ["x"]}])),
            "longer than 100 characters")
    refused(write(tmp_path, "k.json", doc([GOOD_X, {"id": "f", "op": "exp", "inputs": ["x"]}], title="T" * 5000)),
            "too long")
    refused(write(tmp_path, "l.json", doc([GOOD_X, {"id": "f", "op": "exp" * 3000, "inputs": ["x"]}])), "unknown op")
    refused(write(tmp_path, "m.json", "[" + "1," * 10 + "1]"), "one JSON object")
    refused(write(tmp_path, "n.json", "\ufeff" + json.dumps(doc([GOOD_X, {"id": "f", "op": "conv", "inputs": ["x"]}]))),
            "unknown op 'conv'")
    (tmp_path / "o.json").write_bytes(b'{"name": "\xff\xfe"}')
    refused(tmp_path / "o.json", "not UTF-8")
    refused(write(tmp_path, "p.json", '{"name": "t", "title": "T", "expression": "x", "values": {"x": NaN}}'), "NaN")
    refused(write(tmp_path, "q.json", '{"name": "t", "title": "T", "expression": "x", "values": {"x": 1e999}}'),
            "infinite")


def loss_doc(op, scores, labels, label_op="const"):
    return doc([{"id": "s", "op": "input", "value": scores}, {"id": "y", "op": label_op, "value": labels},
                {"id": "L", "op": op, "inputs": ["s", "y"]}])


LOSSES = ["hinge_loss", "softmax_loss"]
BAD_LABELS = [
    ([3], "label 3 is not a class index (the scores have 3 classes"),
    ([-1], "label -1 is not a class index"),
    ([0.5], "label 0.5 is not a class index"),
    ([1e6], "label 1e+06 is not a class index"),
    ([[0]], "the labels must be a list of 1 class indices"),
    (0, "the labels must be a list of 1 class indices"),
    ([0, 1], "the labels must be a list of 1 class indices"),
]


@pytest.mark.parametrize("op", LOSSES)
@pytest.mark.parametrize("labels, needle", BAD_LABELS)
def test_labels_out_of_range_or_not_integers(tmp_path, op, labels, needle):
    refused(write(tmp_path, "labels.json", loss_doc(op, [[3.2, 5.1, -1.7]], labels)), f"node 'L' ({op})", needle)


BAD_SCORES = [(2.0, "scalar"), ([3.2, 5.1, -1.7], "3"), ([[[1.0, 2.0]]], "1×1×2")]


@pytest.mark.parametrize("op", LOSSES)
@pytest.mark.parametrize("scores, shown", BAD_SCORES)
def test_scalar_or_non_matrix_scores_to_a_loss_gate(tmp_path, op, scores, shown):
    refused(write(tmp_path, "scores.json", loss_doc(op, scores, [0])),
            f"node 'L' ({op}): the scores must be a matrix N×C", f"got {shown}")


@pytest.mark.parametrize("op", LOSSES)
def test_labels_must_be_a_leaf_without_gradient(tmp_path, op):
    refused(write(tmp_path, "p.json", loss_doc(op, [[1.0, 2.0]], [0], label_op="param")),
            "the labels must be an input or const node")
    d = doc([{"id": "s", "op": "input", "value": [[1.0, 2.0]]}, {"id": "z", "op": "input", "value": [0.0]},
             {"id": "y", "op": "relu", "inputs": ["z"]}, {"id": "L", "op": op, "inputs": ["s", "y"]}])
    refused(write(tmp_path, "g.json", d), "the labels must be an input or const node, not relu")
    # a good file: labels as an input get no gradient (and no gradient-check row)
    wt = load_walkthrough(write(tmp_path, "ok.json", loss_doc(op, [[3.2, 5.1, -1.7], [1.0, 0.0, 3.0]], [0, 2], "input")))
    assert not wt.node("y").requires_grad
    rows = wt.gradient_check()
    assert [r.name for r in rows] == ["s"] and rows[0].rel_error < 1e-6


def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = {}

    def load():
        try:
            load_walkthrough(fifo)
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=load, daemon=True)
    t0 = time.monotonic()
    t.start()
    t.join(5)
    if t.is_alive():                      # the loader is blocked opening the FIFO: release it
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail("load_walkthrough waited on a FIFO")
    assert time.monotonic() - t0 < 2
    assert isinstance(result.get("error"), WalkthroughError)
    msg = one_line(str(result["error"]))
    assert msg.startswith("pipe.json: ") and "not a regular file" in msg


def test_folder_device_and_missing_file(tmp_path):
    (tmp_path / "folder.json").mkdir()
    refused(tmp_path / "folder.json", "is a folder")
    refused(tmp_path / "nothing.json", "no such file")
    if os.path.exists("/dev/zero"):
        with pytest.raises(WalkthroughError, match=r"^zero: not a regular file"):
            load_walkthrough("/dev/zero")
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(W.MAX_FILE_BYTES + 1)
    refused(big, "too large")


BINARY_OPS = ["add", "sub", "mul", "div", "pow", "max", "min"]


@pytest.mark.parametrize("op", BINARY_OPS)
def test_broadcasting_bomb_8000_by_8000(tmp_path, op):
    col = [[1.0]] * 8000
    row = [[1.0] * 8000]
    d = doc([{"id": "a", "op": "input", "value": col}, {"id": "b", "op": "input", "value": row},
             {"id": "f", "op": op, "inputs": ["a", "b"]}])
    t0 = time.monotonic()
    refused(write(tmp_path, "bomb.json", d), f"node 'f' ({op})", "8000×8000", "at most 10,000")
    assert time.monotonic() - t0 < 5


def test_broadcasting_just_over_the_limit_and_shape_mismatches(tmp_path):
    d = doc([{"id": "a", "op": "input", "value": [[1.0]] * 100}, {"id": "b", "op": "input", "value": [[1.0] * 101]},
             {"id": "f", "op": "add", "inputs": ["a", "b"]}])
    refused(write(tmp_path, "over.json", d), "100×101 = 10,100 numbers")
    d = doc([{"id": "a", "op": "input", "value": [[1.0]] * 100}, {"id": "b", "op": "input", "value": [[1.0] * 100]},
             {"id": "f", "op": "add", "inputs": ["a", "b"]}])
    assert load_walkthrough(write(tmp_path, "at.json", d)).output.value.shape == (100, 100)
    d = doc([{"id": "a", "op": "input", "value": [[1.0, 2.0, 3.0]] * 2}, {"id": "b", "op": "input", "value": [1.0] * 4},
             {"id": "f", "op": "mul", "inputs": ["a", "b"]}])
    refused(write(tmp_path, "mismatch.json", d), "input shapes 2×3 and 4 do not broadcast")
    # a bomb hidden behind a chain of broadcasts: (100,1,1) · (1,100,1) is fine, · (1,1,100) is not
    d = doc([{"id": "a", "op": "input", "value": [[[1.0]]] * 100}, {"id": "b", "op": "input", "value": [[[1.0]] * 100]},
             {"id": "c", "op": "input", "value": [[[1.0] * 100]]}, {"id": "ab", "op": "mul", "inputs": ["a", "b"]},
             {"id": "f", "op": "mul", "inputs": ["ab", "c"]}])
    refused(write(tmp_path, "chain.json", d), "node 'f' (mul)", "100×100×100 = 1,000,000")


def test_value_and_total_element_limits(tmp_path):
    d = doc([{"id": "x", "op": "input", "value": [1.0] * 20_000}, {"id": "f", "op": "exp", "inputs": ["x"]}])
    refused(write(tmp_path, "long.json", d), "value of 'x' holds more than 10,000 numbers")
    d = doc([{"id": "x", "op": "input", "value": [[1.0] * 1000] * 11}, {"id": "f", "op": "exp", "inputs": ["x"]}])
    refused(write(tmp_path, "wide.json", d), "value of 'x' holds more than 10,000 numbers")
    nodes = [{"id": "x", "op": "param", "value": [1.0] * 10_000}]
    for i in range(12):
        nodes.append({"id": f"g{i}", "op": "tanh", "inputs": [nodes[-1]["id"]]})
    refused(write(tmp_path, "total.json", doc(nodes)), "more than 100,000 numbers in all")


def test_affine_shapes(tmp_path):
    def aff(x, w, b):
        return doc([{"id": "x", "op": "input", "value": x}, {"id": "W", "op": "param", "value": w},
                    {"id": "b", "op": "param", "value": b}, {"id": "f", "op": "affine", "inputs": ["x", "W", "b"]}])
    refused(write(tmp_path, "a1.json", aff(1.0, [1.0, 2.0], [1.0])), "needs x (N×D), W (D×M)")
    refused(write(tmp_path, "a2.json", aff([[1.0, 2.0]], [[1.0, 2.0]], [1.0])), "got x 1×2 and W 1×2")
    refused(write(tmp_path, "a3.json", aff([[1.0, 2.0]], [[1.0], [2.0]], [1.0, 2.0, 3.0])), "b (3) does not")
    refused(write(tmp_path, "a4.json", aff([[1.0]] * 100, [[1.0] * 101], [0.0])), "100×101 = 10,100")
    wt = load_walkthrough(write(tmp_path, "ok.json", aff([[1.0, 2.0]], [[1.0], [2.0]], [0.5])))
    assert float(wt.output.value[0, 0]) == 5.5


def test_documented_layer_gates_load(tmp_path):
    """The well-formed counterparts of the files above (FORMAT.md's layer-sized gates) load."""
    d = doc([{"id": "W", "op": "param", "value": [[1.0, -2.0], [0.5, 0.0]]},
             {"id": "R", "op": "regularization", "inputs": ["W"], "attrs": {"kind": "l2", "strength": 0.5}}])
    wt = load_walkthrough(write(tmp_path, "reg.json", d))
    assert float(wt.output.value) == 0.5 * 5.25
    np.testing.assert_allclose(wt.trace.grads()[wt.node("W").id], [[1.0, -2.0], [0.5, 0.0]])
    d = doc([GOOD_X, {"id": "f", "op": "leaky_relu", "inputs": ["x"], "attrs": {"slope": 0.1}},
             {"id": "g", "op": "mulc", "inputs": ["f"], "attrs": {"c": 10 ** 20}}])
    assert float(load_walkthrough(write(tmp_path, "attrs.json", d)).output.value) == 1e20
    d = loss_doc("hinge_loss", [[3.2, 5.1, -1.7]], [0])
    d["nodes"][-1]["attrs"] = {"margin": 1}
    assert round(float(load_walkthrough(write(tmp_path, "hinge.json", d)).output.value), 1) == 2.9


def test_unexpected_exceptions_become_one_line(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("something\nbroke")
    monkeypatch.setattr(W, "_check_finite", boom)
    with pytest.raises(WalkthroughError) as e:
        walkthrough_from_dict(doc([GOOD_X, {"id": "f", "op": "exp", "inputs": ["x"]}]), source="odd.json")
    assert one_line(str(e.value)) == "odd.json: could not be built (RuntimeError: something broke)"


def test_largest_accepted_files_stay_quick(tmp_path):
    """At the limits, loading and the gradient check take well under a few seconds."""
    M = [[0.01 * (i - j) for j in range(100)] for i in range(100)]
    nodes = [{"id": "X", "op": "input", "value": M}, {"id": "W", "op": "param", "value": M},
             {"id": "b", "op": "param", "value": [0.1] * 100}, {"id": "y", "op": "const", "value": list(range(100))},
             {"id": "s", "op": "affine", "inputs": ["X", "W", "b"]}, {"id": "L", "op": "softmax_loss", "inputs": ["s", "y"]}]
    scalars = [{"id": f"p{i}", "op": "param", "value": 0.5} for i in range(240)]
    scalars += [{"id": f"a{i}", "op": "add", "inputs": [f"a{i - 1}" if i > 1 else "p0", f"p{i}"]} for i in range(1, 240)]
    for d in (doc(nodes), doc(scalars)):
        t0 = time.monotonic()
        wt = load_walkthrough(write(tmp_path, "max.json", d))
        rows = wt.gradient_check()
        assert time.monotonic() - t0 < 10
        assert rows and max(r.rel_error for r in rows) < 1e-5


def test_every_message_names_the_file_and_is_one_line(tmp_path):
    """A sweep over the parametrized bad inputs above: all start with the file name."""
    cases = [_gate_doc(op, attrs) for op, attrs, _ in WRONG_ATTRS]
    cases += [loss_doc(op, [[1.0, 2.0, 3.0]], labels) for op in LOSSES for labels, _ in BAD_LABELS]
    cases += [loss_doc(op, scores, [0]) for op in LOSSES for scores, _ in BAD_SCORES]
    for i, d in enumerate(cases):
        refused(write(tmp_path, f"case{i}.json", d))
