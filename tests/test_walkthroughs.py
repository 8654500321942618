"""Walkthrough files (engine only, no Qt): the lecture's numbers, independent checks, validation."""
import json
import math

import numpy as np
import pytest

from engine.expr import ExpressionError
from engine.graph import BackwardStep
from engine.walkthroughs import (BUILTIN_DIR, WalkthroughError, build_frames, fmt, load_builtin_walkthroughs,
                                 load_walkthrough, narrate, walkthrough_from_dict, walkthrough_from_expression)


@pytest.fixture(scope="module")
def wts():
    return {w.name: w for w in load_builtin_walkthroughs()}


def val(w, name):
    return float(w.node(name).value)


def grad(w, name):
    return float(w.trace.grads()[w.node(name).id])


def test_all_builtins_present(wts):
    assert set(wts) == {"simple", "sigmoid-neuron", "sigmoid-gate", "pattern-add", "pattern-mul",
                        "pattern-copy", "pattern-max", "hinge-loss", "softmax-loss", "two-layer-relu",
                        "hinge-loss-dataset", "softmax-loss-dataset"}


def test_simple_lecture_numbers(wts):
    w = wts["simple"]
    assert val(w, "q") == 3 and val(w, "f") == -12
    assert grad(w, "x") == -4 and grad(w, "y") == -4 and grad(w, "z") == 3
    assert grad(w, "q") == -4


@pytest.mark.parametrize("name", ["sigmoid-neuron", "sigmoid-gate"])
def test_sigmoid_neuron_lecture_numbers(wts, name):
    w = wts[name]
    w0, x0, w1, x1, w2 = 2.0, -1.0, -3.0, -2.0, -3.0
    s = w0 * x0 + w1 * x1 + w2
    f = 1 / (1 + math.exp(-s))
    d = f * (1 - f)
    assert round(val(w, "f"), 2) == 0.73 and math.isclose(val(w, "f"), f, rel_tol=1e-12)
    assert round(grad(w, "w0"), 2) == -0.20 and round(grad(w, "x0"), 2) == 0.39
    for n, g in (("w0", x0 * d), ("x0", w0 * d), ("w1", x1 * d), ("x1", w1 * d), ("w2", d)):
        assert math.isclose(grad(w, n), g, rel_tol=1e-12), n


def test_sigmoid_primitive_gates_and_recip_gradient(wts):
    w = wts["sigmoid-neuron"]
    ops = [n.op.name for n in w.nodes() if n.op is not None]
    assert ops.count("mulc") == 1 and "exp" in ops and "addc" in ops and "recip" in ops
    # the lecture's -0.53 = (-1/1.37^2)(1.00) at the 1/x gate's input
    step = next(s for s in w.trace.backward_steps if s.node == w.node("f").id)
    assert round(float(step.downstream), 2) == -0.53
    assert round(float(step.local), 2) == -0.53 and float(step.upstream) == 1.0
    assert math.isclose(grad(w, "1+e^−s"), -1 / (1 + math.exp(-1)) ** 2, rel_tol=1e-12)


def test_sigmoid_gate_local_gradient(wts):
    w = wts["sigmoid-gate"]
    step = next(s for s in w.trace.backward_steps if s.node == w.node("f").id)
    f = val(w, "f")
    assert math.isclose(float(step.local), (1 - f) * f, rel_tol=1e-12)


def test_patterns(wts):
    a = wts["pattern-add"]   # (x+y)z, x=3,y=-1,z=2: add distributes z
    assert grad(a, "x") == grad(a, "y") == 2.0 == grad(a, "q")
    m = wts["pattern-mul"]   # 2xy, x=3, y=-4: swap
    assert grad(m, "x") == 2 * -4 and grad(m, "y") == 2 * 3
    c = wts["pattern-copy"]  # xy + xz, x=2, y=3, z=-1: copy adds
    assert grad(c, "x") == 3 + -1
    fan = [s for s in c.trace.backward_steps if s.parent == c.node("x").id]
    assert [s.contribution for s in fan] == [1, 2] and float(fan[-1].accumulated) == 2.0
    mx = wts["pattern-max"]  # max(4,-1)*2: routes
    assert grad(mx, "x") == 2.0 and grad(mx, "y") == 0.0


def test_hinge_loss_cat_column(wts):
    w = wts["hinge-loss"]
    s = {"cat": 3.2, "dog": 5.1, "bird": -1.7}
    L = sum(max(0.0, s[j] - s["cat"] + 1) for j in ("dog", "bird"))
    assert round(val(w, "L"), 1) == 2.9 and math.isclose(val(w, "L"), L, rel_tol=1e-12)
    assert grad(w, "s_dog") == 1 and grad(w, "s_bird") == 0 and grad(w, "s_cat") == -1


#: the lecture's score table, one row per image (cat, dog, bird image), columns cat, dog, bird
TABLE = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
CLASSES = ("cat", "dog", "bird")
SUB = "₁₂₃"


def test_hinge_loss_over_the_three_images_and_their_mean(wts):
    """The whole table, not only the cat column: 2.9, 0, 12.9 and the mean 5.27, with every
    score's gradient the engine's hinge loss gives (1/N per violated margin)."""
    from engine.labs import hinge_table
    w = wts["hinge-loss-dataset"]
    t = hinge_table(TABLE, np.arange(3))
    assert [round(val(w, f"L{SUB[i]}"), 1) for i in range(3)] == [2.9, 0.0, 12.9]
    assert math.isclose(val(w, "L"), t.mean, rel_tol=1e-12) and round(val(w, "L"), 2) == 5.27
    for i in range(3):
        violated = np.nan_to_num(t.terms[i]) > 0
        for j, c in enumerate(CLASSES):
            want = -violated.sum() / 3 if j == i else float(violated[j]) / 3
            assert math.isclose(grad(w, f"s_{c}{SUB[i]}"), want, abs_tol=1e-12), (i, c)


def test_softmax_loss_over_the_three_images_and_their_mean(wts):
    """Each image's −ln p of its correct class and the mean; ∂L/∂s = (p − onehot(y)) / N."""
    from engine.labs import softmax_table
    w = wts["softmax-loss-dataset"]
    t = softmax_table(TABLE, np.arange(3))
    for i in range(3):
        assert math.isclose(val(w, f"L{SUB[i]}"), t.losses[i], rel_tol=1e-12)
        for j, c in enumerate(CLASSES):
            want = (t.probs[i, j] - (i == j)) / 3
            assert math.isclose(grad(w, f"s_{c}{SUB[i]}"), want, abs_tol=1e-12), (i, c)
    assert math.isclose(val(w, "L"), t.mean, rel_tol=1e-12) and round(t.losses[0], 2) == 2.04


def test_softmax_loss_natural_log(wts):
    w = wts["softmax-loss"]
    s = np.array([3.2, 5.1, -1.7])
    p = np.exp(s) / np.exp(s).sum()
    assert [round(float(x), 2) for x in p] == [0.13, 0.87, 0.00]
    got = [val(w, n) for n in ("p_cat", "p_dog", "p_bird")]
    np.testing.assert_allclose(got, p, rtol=1e-12)
    assert round(val(w, "L"), 2) == 2.04 and math.isclose(val(w, "L"), -math.log(p[0]), rel_tol=1e-12)
    assert round(-math.log10(p[0]), 2) == 0.89        # the slide's slip: log base 10
    g = [grad(w, n) for n in ("s_cat", "s_dog", "s_bird")]
    np.testing.assert_allclose(g, p - np.array([1, 0, 0]), rtol=1e-9, atol=1e-15)
    text = json.dumps(json.loads((BUILTIN_DIR / "09_softmax_loss.json").read_text(encoding="utf-8")),
                      ensure_ascii=False)
    assert "2.04" in text and "0.89" in text and "base 10" in text


def test_two_layer_relu(wts):
    w = wts["two-layer-relu"]
    x = np.array([1.0, -2.0])
    W1 = np.array([[0.5, -0.5], [-1.0, 0.5]])
    b1 = np.array([0.1, 0.2])
    v = np.array([2.0, -1.0])
    z = W1 @ x + b1
    h = np.maximum(0, z)
    s = v @ h + 0.5
    assert math.isclose(val(w, "s"), s)
    dh = v * (z > 0)
    np.testing.assert_allclose([grad(w, n) for n in ("x1", "x2")], W1.T @ dh)
    np.testing.assert_allclose([grad(w, n) for n in ("w11", "w12", "w21", "w22")], np.outer(dh, x).ravel())
    np.testing.assert_allclose([grad(w, n) for n in ("v1", "v2")], h)


def test_gradient_check_all_builtins(wts):
    for w in wts.values():
        rows = w.gradient_check()
        assert rows, w.name
        assert max(r.rel_error for r in rows) < 1e-7, w.name
        w.run()


def test_frames_and_narration(wts):
    for w in wts.values():
        frames = build_frames(w.trace)
        kinds = [f.kind for f in frames]
        assert kinds[0] == "start" and kinds.count("seed") == 1
        assert kinds.index("seed") == len(w.trace.forward_steps) + 1
        labels = {n.id: w.label(n.id) for n in w.nodes()}
        for f in frames:
            head, body = narrate(w.trace, f, labels, gates=w.gate_labels(), wt=w)
            assert head and body
    w = wts["simple"]
    frames = build_frames(w.trace)
    labels = {n.id: w.label(n.id) for n in w.nodes()}
    texts = [narrate(w.trace, f, labels, gates=w.gate_labels(), wt=w)[1] for f in frames]
    assert any("= 1.00 × (-4.00) = -4.00" in t for t in texts)
    c = wts["pattern-copy"]
    labels = {n.id: c.label(n.id) for n in c.nodes()}
    texts = [narrate(c.trace, f, labels, wt=c)[1] for f in build_frames(c.trace)]
    assert any("-1.00 + 3.00 = 2.00" in t for t in texts)


def test_gate_labels(wts):
    g = set(wts["sigmoid-neuron"].gate_labels().values())
    assert {"×", "+", "×-1", "exp", "+1", "1/x"} <= g
    assert "σ" in wts["sigmoid-gate"].gate_labels().values()


def test_fmt():
    assert fmt(np.float64(-0.5299)) == "-0.53" and fmt(0) == "0" and fmt(np.zeros((2, 3))) == "2×3"
    assert fmt(-0.0354) == "-0.035"


# ----------------------------------------------------------------------------- validation

GOOD = {"name": "t", "title": "T", "nodes": [{"id": "x", "op": "input", "value": 1},
                                              {"id": "f", "op": "exp", "inputs": ["x"]}]}


def bad(**changes):
    d = json.loads(json.dumps(GOOD))
    d.update(changes)
    return d


@pytest.mark.parametrize("data, needle", [
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "frobnicate", "inputs": ["x"]}]),
     "unknown op 'frobnicate'"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "exp", "inputs": ["y"]}]),
     "missing input 'y'"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "add", "inputs": ["x"]}]),
     "add takes 2 input(s), got 1"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "x", "op": "exp", "inputs": ["x"]}]),
     "duplicate node id 'x'"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "exp", "inputs": ["x"], "name": "x"}]),
     "duplicate name 'x'"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "a", "op": "add", "inputs": ["x", "b"]},
                {"id": "b", "op": "exp", "inputs": ["a"]}]), "cycle"),
    (bad(colour="red"), "unknown key 'colour'"),
    (bad(nodes=[{"id": "x", "op": "input"}, {"id": "f", "op": "exp", "inputs": ["x"]}]), "missing value"),
    (bad(nodes=[{"id": "x", "op": "input", "value": 1}, {"id": "f", "op": "addc", "inputs": ["x"]}]), "attrs"),
    (bad(nodes=[{"id": "x", "op": "input", "value": "two"}, {"id": "f", "op": "exp", "inputs": ["x"]}]),
     "finite number"),
    (bad(narration={"zz": {"forward": "hi"}}), "narration for 'zz'"),
    (bad(narration={"f": {"sideways": "hi"}}), "unknown phase 'sideways'"),
    (bad(expression="x+"), "give either"),
    ({"name": "t", "title": "T", "expression": "x +", "values": {"x": 1}}, "expression 'x +'"),
    ({"name": "t", "title": "T", "expression": "log(x)", "values": {"x": -1}}, "not a finite number"),
    ([1, 2], "one JSON object"),
    ({"title": "T", "expression": "x", "values": {"x": 1}}, "'name' is required"),
])
def test_validation_messages(data, needle):
    with pytest.raises(WalkthroughError) as e:
        walkthrough_from_dict(data, source="mine.json")
    assert str(e.value).startswith("mine.json: ")
    assert needle in str(e.value)


def test_load_file_errors(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"name": "t", "title": ', encoding="utf-8")
    with pytest.raises(WalkthroughError, match=r"broken.json: not valid JSON \(line 1, column 24"):
        load_walkthrough(p)
    with pytest.raises(WalkthroughError, match="missing.json: no such file"):
        load_walkthrough(tmp_path / "missing.json")
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"name": "e", "title": "E", "expression": "(a+b)*c", "values": {"a": 1, "b": 2, "c": 3},
                              "names": {"q1": "q"}, "narration": {"q1": "add them"}}), encoding="utf-8")
    w = load_walkthrough(ok)
    assert float(w.output.value) == 9 and w.label(w.node("q1").id) == "q"
    assert w.narration_for(w.node("q1"), "forward") == "add them"


def test_custom_expression():
    w = walkthrough_from_expression("(x + y) * z", "x=-2, y=5, z=-4")
    assert float(w.output.value) == -12
    for text, vals, needle in (("(x+y", "x=1,y=2", "expected"), ("x*q", "x=1", "no value given for 'q'"),
                               ("log(x)", "x=-1", "not a finite"), ("x", "x=abc", "not a number"),
                               ("", "", "type an expression")):
        with pytest.raises(ExpressionError, match=needle):
            walkthrough_from_expression(text, vals)


def test_every_backward_step_is_consistent(wts):
    """downstream = local × upstream holds for every recorded scalar step (the view prints them)."""
    for w in wts.values():
        for s in w.trace.steps:
            if isinstance(s, BackwardStep):
                assert math.isclose(float(s.downstream), float(s.local) * float(s.upstream), rel_tol=1e-12,
                                    abs_tol=1e-15)


_N = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
# two operands and a result: "a × b = c", "(-1.00) × 2.00 = -2.00", "a + b = c" (not a longer
# chain such as the hinge text's "5.1 − 3.2 + 1 = 2.9")
_FORMULA = __import__("re").compile(
    rf"(?<![−+×·/*\d.(-] )(?<![\d.])\(?({_N})\)? ([×+]) \(?({_N})\)? = ({_N})( \(rounded\))?")


def _half_ulp(shown: str) -> float:
    """Half a unit in the last place the string shows ("0.39" → 0.005, "1.2e-05" → 5e-07)."""
    mant, _, exp = shown.lstrip("-").partition("e")
    decimals = len(mant.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * (10.0 ** int(exp) if exp else 1.0)


def test_narrated_formulas_add_up_as_shown(wts):
    """Issue 13: a student who multiplies (or adds) the numbers the narration shows gets the shown
    result to its shown precision — "2.00 × 0.20 = 0.39" (2 × 0.1966) is not printed."""
    checked, factor_shown = 0, set()
    for w in wts.values():
        labels = {n.id: w.label(n.id) for n in w.nodes()}
        for f in build_frames(w.trace):
            head, body = narrate(w.trace, f, labels, gates=w.gate_labels(), wt=w)
            for a, op, b, result, rounded in _FORMULA.findall(body):
                assert not rounded, (w.name, body)
                got = float(a) * float(b) if op == "×" else float(a) + float(b)
                tol = _half_ulp(result) * (1 + 1e-9) + 1e-15
                assert abs(got - float(result)) <= tol, f"{w.name}: {a} {op} {b} = {result} (is {got})"
                checked += 1
                factor_shown.update((a, b))
    assert checked > 40
    # the sigmoid neuron's 2 × 0.1966 shows the factor that makes it add up
    sig = wts["sigmoid-neuron"]
    labels = {n.id: sig.label(n.id) for n in sig.nodes()}
    bodies = [narrate(sig.trace, f, labels, gates=sig.gate_labels(), wt=sig)[1] for f in build_frames(sig.trace)]
    assert not any("2.00 × 0.20 = 0.39" in b for b in bodies)
    assert any(("0.197 = 0.39" in b) or ("0.1966 = 0.39" in b) for b in bodies)


def test_checked_formula_precision():
    from engine.walkthroughs import checked_formula
    assert checked_formula([2.0, 0.19661193], 0.39322386) == "2.00 × 0.197 = 0.39"
    assert checked_formula([1.0, -4.0], -4.0) == "1.00 × (-4.00) = -4.00"        # exact: as the slides
    assert checked_formula([-1.0, 3.0], 2.0, "+") == "-1.00 + 3.00 = 2.00"
    assert checked_formula([0.205, 0.205], 0.41, "+") == "0.205 + 0.205 = 0.41"    # not 0.20 + 0.20
