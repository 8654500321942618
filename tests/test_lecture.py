"""The lecture's worked numbers, to the digits it prints (each checked by hand first).

Slips in the slides, asserted here with the correct value:
- the first score example's bird score is printed as 61.95: that is Wx without the bias;
  Wx + b = 61.95 + (-1.2) = 60.75.
- the softmax example prints L_i = -log(0.13) = 0.89: that is log base 10; the softmax
  loss uses the natural log, -ln(0.1300) = 2.04.
"""
import numpy as np
import pytest

from engine.expr import evaluate, parse_values
from engine.graph import Graph
from engine.layers import hinge_loss_forward, regularization, softmax_loss_forward

X_IMG = np.array([56.0, 231.0, 24.0, 2.0])


def scores(W, b):
    return np.array(W) @ X_IMG + np.array(b)


def test_first_score_example_and_its_slip():
    W = [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]]
    b = [1.1, 3.2, -1.2]
    s = scores(W, b)
    assert s[0] == pytest.approx(-96.8)
    assert s[1] == pytest.approx(437.9)
    assert s[2] == pytest.approx(60.75)          # correct Wx + b
    assert (np.array(W) @ X_IMG)[2] == pytest.approx(61.95)  # the slide's number omits b


def test_second_score_example():
    W = [[1.2, 1.5, 1.1, 2.0], [-0.5, 0.3, 0.1, 0.0], [0.1, 0.05, -0.1, -0.2]]
    b = [3.1, 1.2, -1.5]
    np.testing.assert_allclose(scores(W, b), [447.2, 44.9, 12.85])


# scores as the lecture's table: one column per example (cat image, car image, frog image)
SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LABELS = np.array([0, 1, 2])  # cat, dog (second row), bird (third row)


def test_hinge_losses_and_mean():
    mean, cache = hinge_loss_forward(SCORES, LABELS, 1.0)
    np.testing.assert_allclose(cache["losses"], [2.9, 0.0, 12.9], atol=1e-12)
    assert round(mean, 2) == 5.27
    # each max(0, s_j - s_yi + 1) term of the first example
    np.testing.assert_allclose(cache["margins"][0], [0.0, 2.9, 0.0], atol=1e-12)


def test_softmax_steps_and_the_log_base_slip():
    s = SCORES[0]
    e = np.exp(s)
    assert [round(v, 1) for v in e[:2]] == [24.5, 164.0]
    assert round(e[2], 2) == 0.18
    p = e / e.sum()
    assert [round(v, 2) for v in p] == [0.13, 0.87, 0.00]
    loss, cache = softmax_loss_forward(SCORES[:1], LABELS[:1])
    np.testing.assert_allclose(cache["probs"][0], p)
    assert round(float(loss), 2) == 2.04                   # natural log: the correct value
    assert round(-np.log10(p[0]), 2) == 0.89               # what the slide printed (log base 10)


def test_regularization_example():
    x = np.ones(4)
    W1 = np.array([1.0, 0, 0, 0])
    W2 = np.full(4, 0.25)
    assert W1 @ x == W2 @ x == 1.0
    assert regularization([W1], "l2") == 1.0
    assert regularization([W2], "l2") == 0.25
    assert regularization([W1], "l1") == regularization([W2], "l1") == 1.0


def test_example_one_backprop():
    p, trace = evaluate("(x+y)*z", parse_values("x=-2,y=5,z=-4"))
    q = p.output.parents[0]
    assert float(q.value) == 3.0 and float(p.output.value) == -12.0
    assert float(q.grad) == -4.0
    assert {k: float(v.grad) for k, v in p.inputs.items()} == {"x": -4.0, "y": -4.0, "z": 3.0}
    # chain rule as the trace records it: df/dy = dq/dy (local 1) * df/dq (upstream -4)
    step = [s for s in trace.backward_steps if s.parent == p.inputs["y"].id][0]
    assert float(step.local) == 1.0 and float(step.upstream) == -4.0 and float(step.downstream) == -4.0


def sigmoid_neuron_primitive():
    g = Graph()
    w0, x0, w1, x1, w2 = (g.input(n, v) for n, v in
                          zip(["w0", "x0", "w1", "x1", "w2"], [2.0, -1.0, -3.0, -2.0, -3.0]))
    s = g.apply("add", g.apply("add", g.apply("mul", w0, x0), g.apply("mul", w1, x1)), w2)
    neg = g.apply("mulc", s, c=-1.0)
    e = g.apply("exp", neg)
    den = g.apply("addc", e, c=1.0)
    f = g.apply("recip", den, name="f")
    g.run(f)
    return g, f, den, (w0, x0, w1, x1, w2)


def test_sigmoid_neuron_with_primitive_gates():
    g, f, den, (w0, x0, w1, x1, w2) = sigmoid_neuron_primitive()
    assert round(float(f.value), 2) == 0.73
    assert round(float(den.value), 2) == 1.37
    assert round(float(den.grad), 2) == -0.53                 # at the input of the 1/x gate
    assert round(float(w0.grad), 2) == -0.20
    assert round(float(x0.grad), 2) == 0.39
    assert round(float(w1.grad), 2) == -0.39 and round(float(x1.grad), 2) == -0.59
    assert round(float(w2.grad), 2) == 0.20
    # the trace alone says which constant each unary gate uses (×-1 and +1)
    info = {n.op: n.attrs for n in g.trace.nodes if n.op in ("mulc", "addc")}
    assert info == {"mulc": {"c": -1.0}, "addc": {"c": 1.0}}


def test_sigmoid_neuron_as_one_gate_gives_the_same_gradients():
    g0, f0, _, leaves0 = sigmoid_neuron_primitive()
    g = Graph()
    w0, x0, w1, x1, w2 = (g.input(n, v) for n, v in
                          zip(["w0", "x0", "w1", "x1", "w2"], [2.0, -1.0, -3.0, -2.0, -3.0]))
    s = g.apply("add", g.apply("add", g.apply("mul", w0, x0), g.apply("mul", w1, x1)), w2)
    f = g.apply("sigmoid", s)
    trace = g.run(f)
    assert float(f.value) == pytest.approx(float(f0.value))
    for a, b in zip((w0, x0, w1, x1, w2), leaves0):
        assert float(a.grad) == pytest.approx(float(b.grad), rel=1e-12)
    # the sigmoid gate's local gradient is (1 - sigma) sigma = 0.20
    step = [st for st in trace.backward_steps if st.node == f.id][0]
    sig = float(f.value)
    assert float(step.local) == pytest.approx((1 - sig) * sig) and round(float(step.local), 2) == 0.20


def test_gate_patterns():
    g = Graph()
    x, y = g.input("x", 3.0), g.input("y", -4.0)
    up = 2.0
    add = g.apply("add", x, y)
    g.forward(add)
    g.backward(add, seed=up)
    assert float(x.grad) == float(y.grad) == up             # add distributes
    mul = g.apply("mul", x, y)
    g.forward(mul)
    g.backward(mul, seed=up)
    assert float(x.grad) == -4.0 * up and float(y.grad) == 3.0 * up  # mul swaps
    mx = g.apply("max", x, y)
    g.forward(mx)
    g.backward(mx, seed=up)
    assert float(x.grad) == up and float(y.grad) == 0.0     # max routes
    sq = g.apply("mul", x, x)                               # copy: x used twice
    trace = g.run(sq)
    assert float(x.grad) == 6.0                             # 3 + 3: gradients add
    contribs = [s for s in trace.backward_steps if s.parent == x.id]
    assert [s.contribution for s in contribs] == [1, 2]
    assert float(contribs[-1].accumulated) == 6.0
