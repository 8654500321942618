"""The graph engine: traces, topological order, fan-out accumulation, network graphs."""
import json

import numpy as np
import pytest

from engine.config import LossConfig, ModelConfig
from engine.expr import ExpressionError, evaluate, parse_expression, parse_values
from engine.graph import BackwardStep, ForwardStep, Graph, GraphError
from engine.models import Network


def test_trace_records_forward_then_backward_in_order():
    p, trace = evaluate("(x+y)*z", parse_values("x=-2,y=5,z=-4"))
    kinds = [type(s) for s in trace.steps]
    assert kinds == [ForwardStep, ForwardStep] + [BackwardStep] * 4
    fw = trace.forward_steps
    assert [s.op for s in fw] == ["add", "mul"] and float(fw[0].value) == 3.0 and float(fw[1].value) == -12.0
    # backward from the output: the mul gate first (to q and z), then the add gate (to x and y)
    bw = trace.backward_steps
    names = {n.id: n.name for n in trace.nodes}
    assert [(names[s.node], names[s.parent]) for s in bw] == [("f", "n2"), ("f", "z"), ("n2", "x"), ("n2", "y")]
    for s in bw:
        assert float(s.downstream) == pytest.approx(float(s.local) * float(s.upstream))
    assert float(bw[0].local) == -4.0 and float(bw[1].local) == 3.0   # mul swaps
    json.dumps(trace.to_dict())   # plain data


def test_trace_values_are_copies():
    g = Graph()
    x = g.input("x", 2.0)
    y = g.apply("mul", x, x)
    tr = g.run(y)
    x.value[...] = 100.0
    assert float(tr.forward_steps[0].value) == 4.0
    assert float(tr.grads()[x.id]) == 4.0


def test_fan_out_adds_gradients():
    p, trace = evaluate("x*y + x*z", parse_values("x=2,y=3,z=5"))
    x = p.inputs["x"]
    assert float(x.grad) == 8.0
    steps = [s for s in trace.backward_steps if s.parent == x.id]
    assert [s.contribution for s in steps] == [1, 2]
    assert float(steps[0].accumulated) + float(steps[1].downstream) == float(steps[1].accumulated) == 8.0


def test_broadcast_add_unbroadcasts_the_gradient():
    g = Graph()
    a = g.input("a", np.ones((4, 3)))
    b = g.input("b", np.arange(3.0))
    s = g.apply("add", a, b)
    g.forward(s)
    g.backward(s, seed=np.ones((4, 3)))
    assert b.grad.shape == (3,) and np.all(b.grad == 4.0)


def test_graph_errors():
    g = Graph()
    x = g.input("x", 1.0)
    with pytest.raises(GraphError, match="unknown operation"):
        g.apply("conv", x)
    with pytest.raises(GraphError, match="takes 2"):
        g.apply("add", x)
    other = Graph().input("y", 1.0)
    with pytest.raises(GraphError, match="same graph"):
        g.apply("add", x, other)


def test_network_graph_is_a_handful_of_layer_nodes_with_shapes():
    rng = np.random.default_rng(0)
    net = Network(5, 3, ModelConfig(hidden=[4, 6], activations=["relu", "tanh"]), LossConfig(), rng)
    X = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    net.loss(X, y, trace=True)
    trace = net.graph.trace
    ops = [n.op for n in trace.nodes if n.kind == "op"]
    assert ops == ["affine", "relu", "affine", "tanh", "affine", "softmax_loss", "regularization", "add"]
    shapes = {n.name: n.shape for n in trace.nodes}
    assert shapes["X"] == (8, 5) and shapes["W1"] == (5, 4) and shapes["h1"] == (8, 4) and shapes["s"] == (8, 3)
    # layer ops record downstream gradients (their local gradient is a Jacobian: None)
    w1 = [s for s in trace.backward_steps if s.parent == net.param_nodes["W1"].id]
    assert len(w1) == 2 and w1[0].local is None   # from the affine and from the regularizer
    np.testing.assert_allclose(w1[-1].accumulated, net.grads["W1"])


def test_scores_match_a_hand_written_forward():
    rng = np.random.default_rng(1)
    net = Network(3, 2, ModelConfig(hidden=[4], activations=["leaky_relu"], leaky_slope=0.2, dtype="float64"),
                  LossConfig(), rng)
    X = rng.standard_normal((6, 3))
    P = net.params
    z = X @ P["W1"] + P["b1"]
    expect = np.maximum(0.2 * z, z) @ P["W2"] + P["b2"]
    np.testing.assert_allclose(net.scores(X), expect)


def test_expression_builds_input_nodes_once():
    p = parse_expression("x*x*x", {"x": 2.0})
    assert list(p.inputs) == ["x"]
    with pytest.raises(ExpressionError, match="does not use"):
        parse_expression("x", {"x": 1.0, "y": 2.0})


def test_ops_are_registered_once_and_applied_by_name():
    from engine.ops import OPS, Op, register
    g = Graph()
    assert not hasattr(g, "affine")                      # no dynamic dispatch: g.apply("affine", ...)
    assert {"add", "mul", "relu", "affine", "softmax_loss", "hinge_loss", "regularization"} <= set(OPS)
    with pytest.raises(ValueError, match="registered twice"):
        register(Op("add", 2, lambda v, a: (v[0] + v[1], None), backward=lambda up, n: (up, up)))
    assert all(op.describe and (op.local or op.backward) for op in OPS.values())


def test_layers_import_first_without_a_circle():
    import pathlib
    import subprocess
    import sys
    code = "import engine.layers, engine.graph; g = engine.graph.Graph(); print(g.apply('relu', g.input('x', -1.0)).value)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=pathlib.Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0.0"
