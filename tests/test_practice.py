"""engine.practice: the questions, the check to the displayed precision, the hints, the score."""
import pytest

from engine.practice import Score, check, expected, hint, parse_answer, tolerance
from engine.walkthroughs import build_frames, walkthrough_from_expression


@pytest.fixture
def lecture():
    wt = walkthrough_from_expression("(x + y) * z", "x=-2, y=5, z=-4")
    trace = wt.trace
    labels = {n.id: wt.label(n.id) for n in wt.nodes()}
    return wt, trace, labels, wt.gate_labels()


def questions(trace, labels, gates):
    return [(f, expected(f, trace, labels, gates)) for f in build_frames(trace)]


def test_expected_values_on_the_lecture_example(lecture):
    wt, trace, labels, gates = lecture
    qs = [(f.kind, q) for f, q in questions(trace, labels, gates)]
    assert [k for k, q in qs if q is None] == ["start", "seed"]
    asked = {q.what: (q.value, q.display) for k, q in qs if q is not None}
    names = {labels[n.id] for n in wt.nodes()}
    assert {"x", "y", "z"} <= names
    fwd = [q for k, q in qs if k == "forward"]
    assert [q.value for q in fwd] == [3.0, -12.0]
    assert [q.display for q in fwd] == ["3.00", "-12.00"]
    bwd = {q.what: q.value for k, q in qs if k == "backward"}
    f = labels[trace.output]
    assert bwd[f"∂{f}/∂z"] == 3.0
    assert bwd[f"∂{f}/∂x"] == bwd[f"∂{f}/∂y"] == -4.0
    q_name = next(w for w in bwd if w not in (f"∂{f}/∂x", f"∂{f}/∂y", f"∂{f}/∂z"))
    assert bwd[q_name] == -4.0
    assert len(asked) == 6


@pytest.mark.parametrize("text,value,ok", [
    ("3", 3.0, True), ("3.00", 3.0, True), ("3.004", 3.0, True), ("3.01", 3.0, False),
    ("-4", -4.0, True), ("−4.00", -4.0, True), ("(-4)", -4.0, True), ("4", -4.0, False),
    ("-12", -12.0, True), ("0.2", 0.19661193, True), ("0.197", 0.19661193, True),
    ("0.21", 0.19661193, False), ("0,2", 0.19661193, True), ("", 3.0, False), ("abc", 3.0, False),
    ("0", 0.0, True), ("0.001", 0.0, True), ("0.1", 0.0, False), ("0.053", 0.0534, True),
    ("0.05", 0.0534, False), ("1e-5", 1.04e-5, True), ("nan", 3.0, False),
])
def test_check_to_the_displayed_precision(text, value, ok):
    assert check(text, value) is ok


def test_tolerance_and_parse():
    assert tolerance(3.0) == pytest.approx(0.005)
    assert tolerance(0.0534) == pytest.approx(0.0005)
    assert parse_answer(" − 4.5 ") == -4.5 and parse_answer("x") is None


def test_hints_forward_and_backward(lecture):
    wt, trace, labels, gates = lecture
    frames = build_frames(trace)
    fwd = [f for f in frames if f.kind == "forward"]
    assert hint(fwd[0], trace, labels, gates) == "+ gate: add its inputs: (-2.00) + 5.00"
    assert hint(fwd[1], trace, labels, gates) == "× gate: multiply its inputs: 3.00 × (-4.00)"
    bwd = [f for f in frames if f.kind == "backward"]
    by_what = {expected(f, trace, labels, gates).what: hint(f, trace, labels, gates) for f in bwd}
    f = labels[trace.output]
    h = by_what[f"∂{f}/∂z"]
    assert h.startswith("downstream = local × upstream.")
    assert "mul gate: swaps the inputs" in h
    assert "3.00 × 1.00" in h
    hx = by_what[f"∂{f}/∂x"]
    assert "add gate: distributes the upstream gradient" in hx and "1.00 × (-4.00)" in hx


def test_score_keeps_the_first_outcome():
    s = Score()
    s.record(1, True)
    s.record(2, False)
    s.record(2, True)          # asked again after stepping back: still a miss the first time
    assert (s.right, s.asked) == (1, 2) and s.text() == "1 / 2 right first time"
