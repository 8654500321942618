"""Analytic against numerical gradients (centered differences, float64, relative error < 1e-7)."""
import numpy as np
import pytest

from engine.config import LossConfig, ModelConfig
from engine.gradcheck import gradient_check, numerical_gradient, relative_error
from engine.graph import OPS, Graph
from engine.layers import (affine_backward, affine_forward, hinge_loss_backward, hinge_loss_forward,
                           regularization, regularization_grad, softmax_loss_backward, softmax_loss_forward)
from engine.models import Network

TOL = 1e-7


def away_from_kinks(rng, shape, lo=0.1):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < lo, np.sign(x + 1e-12) * lo, x)


def test_affine_backward_matches_numerical():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    out, cache = affine_forward(x, W, b)
    dx, dW, db = affine_backward(dout, cache)
    f = lambda: float(np.sum(affine_forward(x, W, b)[0] * dout))  # noqa: E731
    for analytic, arr in ((dx, x), (dW, W), (db, b)):
        assert relative_error(analytic, numerical_gradient(f, arr)) < TOL


@pytest.mark.parametrize("name", ["softmax", "svm"])
def test_losses_backward_matches_numerical(name):
    rng = np.random.default_rng(1)
    s = rng.standard_normal((6, 4)) * 2
    y = rng.integers(0, 4, 6)
    if name == "softmax":
        fw, bw = (lambda: softmax_loss_forward(s, y)), softmax_loss_backward
    else:
        fw, bw = (lambda: hinge_loss_forward(s, y, 1.0)), hinge_loss_backward
    loss, cache = fw()
    ds = bw(1.0, cache)
    assert relative_error(ds, numerical_gradient(lambda: float(fw()[0]), s)) < TOL
    assert cache["losses"].shape == (6,)
    assert np.isclose(loss, cache["losses"].mean())


@pytest.mark.parametrize("kind", ["l1", "l2", "elastic"])
def test_regularizers_match_numerical(kind):
    rng = np.random.default_rng(2)
    W = away_from_kinks(rng, (3, 4))
    g = regularization_grad(W, kind, 0.3)
    assert relative_error(g, numerical_gradient(lambda: regularization([W], kind, 0.3), W)) < TOL


PRIMITIVES = {
    "add": 2, "sub": 2, "mul": 2, "div": 2, "neg": 1, "pow": 2, "exp": 1, "log": 1, "max": 2, "min": 2,
    "abs": 1, "relu": 1, "sigmoid": 1, "tanh": 1, "recip": 1, "leaky_relu": 1, "elu": 1, "identity": 1,
}


@pytest.mark.parametrize("op", sorted(PRIMITIVES))
def test_scalar_primitives_match_numerical(op):
    rng = np.random.default_rng(3)
    for trial in range(5):
        g = Graph()
        vals = [float(away_from_kinks(rng, ())) for _ in range(PRIMITIVES[op])]
        if op in ("log", "pow"):
            vals[0] = abs(vals[0]) + 0.5
        if op in ("max", "min"):
            vals[1] = vals[0] + (0.5 if trial % 2 else -0.5)
        ins = [g.input(f"a{i}", v) for i, v in enumerate(vals)]
        attrs = {"slope": 0.2} if op == "leaky_relu" else {"alpha": 1.3} if op == "elu" else {}
        out = g.apply(op, *ins, **attrs)
        g.run(out, trace=False)
        for node in ins:
            num = numerical_gradient(lambda: float(g.forward(out)), node.value)
            assert relative_error(node.grad, num) < TOL, (op, vals)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "identity"])
def test_activation_layers_match_numerical(act):
    rng = np.random.default_rng(4)
    g = Graph()
    x = g.input("x", away_from_kinks(rng, (5, 4)))
    h = g.apply(act, x, slope=0.2) if act == "leaky_relu" else g.apply(act, x)
    w = g.input("w", rng.standard_normal((5, 4)), requires_grad=False)
    out = g.apply("mul", h, w)
    g.forward(out)
    g.backward(out, seed=np.ones((5, 4)))
    num = numerical_gradient(lambda: float(np.sum(g.forward(out))), x.value)
    assert relative_error(x.grad, num) < TOL


@pytest.mark.parametrize("loss", ["softmax", "svm"])
@pytest.mark.parametrize("reg", ["none", "l1", "l2", "elastic"])
def test_whole_network_gradient_check(loss, reg):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((7, 4))
    y = rng.integers(0, 3, 7)
    net = Network(4, 3, ModelConfig(hidden=[6, 5], activations=["tanh", "elu"], init="xavier", dtype="float64"),
                  LossConfig(loss=loss, reg=reg, reg_strength=0.1, reg_bias=True), rng)
    errors = gradient_check(net, X, y)
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < TOL, errors


def test_every_activation_in_a_network():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 3))
    y = rng.integers(0, 2, 5)
    acts = ["sigmoid", "tanh", "leaky_relu", "elu", "identity", "relu"]
    net = Network(3, 2, ModelConfig(hidden=[4] * 6, activations=acts, init="xavier", dtype="float64"),
                  LossConfig(reg="l2", reg_strength=0.01), rng)
    errors = gradient_check(net, X, y)
    assert max(errors.values()) < 1e-6, errors


def test_forward_difference_is_less_accurate_than_centered():
    x = np.array([0.7])
    f = lambda: float(np.sin(x[0]))  # noqa: E731
    fwd = numerical_gradient(f, x, h=1e-4, method="forward")[0]
    cen = numerical_gradient(f, x, h=1e-4, method="centered")[0]
    assert abs(cen - np.cos(0.7)) < abs(fwd - np.cos(0.7))
    assert abs(fwd - np.cos(0.7)) < 1e-4


def test_all_layer_ops_registered():
    for name in ("affine", "softmax_loss", "hinge_loss", "regularization", *PRIMITIVES):
        assert name in OPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_gradient_keeps_its_precision_far_below_zero(dtype):
    """ELU's local gradient for x ≤ 0 is α·eˣ, computed as such (the shortcut value + α lost every
    digit in float32 below x ≈ −17, where PyTorch still gives α·eˣ)."""
    x = np.array([-30.0, -20.0, -17.5, -5.0, -1e-3, 0.5], dtype=dtype)
    g = Graph(dtype)
    xn = g.input("x", x)
    out = g.apply("elu", xn, alpha=1.5)
    g.backward(out)
    want = np.where(x > 0, 1.0, 1.5 * np.exp(x.astype(np.float64)))
    np.testing.assert_allclose(xn.grad.astype(np.float64), want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert xn.grad[0] > 0


def test_adam_adds_epsilon_after_the_bias_correction():
    """p ← p − lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) — PyTorch's and the CS231n
    notes' formulation; with tiny gradients (√v̂ comparable to ε) the placement matters."""
    from engine.config import OptimConfig
    from engine.optim import Adam
    rng = np.random.default_rng(0)
    p = rng.standard_normal(5)
    grads = [rng.standard_normal(5) * 1e-8 for _ in range(4)]
    opt = Adam(OptimConfig(optimizer="adam"))
    q = p.copy()
    m = np.zeros(5)
    v = np.zeros(5)
    for t, g in enumerate(grads, 1):
        opt.update([p], [g], 0.01)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        q -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p, q, rtol=0, atol=1e-15)


def test_x_to_the_zero_has_slope_zero_even_at_zero_and_ties_are_narrated():
    """x⁰ is the constant 1, so its slope is 0 at x = 0 too (b·aᵇ⁻¹ was 0·∞ = NaN); a max/min
    tie sends the whole gradient to the first input, and the gate's description says so."""
    from engine.walkthroughs import walkthrough_from_expression
    w = walkthrough_from_expression("x^0 + 2*x", "x=0")
    assert float(w.trace.grads()[w.node("x").id]) == 2.0
    w = walkthrough_from_expression("x^3", "x=-2")                     # negative bases: b·aᵇ⁻¹ = 12
    assert float(w.trace.grads()[w.node("x").id]) == 12.0
    w = walkthrough_from_expression("max(x, y)", "x=2,y=2")
    assert (float(w.trace.grads()[w.node("x").id]), float(w.trace.grads()[w.node("y").id])) == (1.0, 0.0)
    for op in ("max", "min"):
        assert "tie" in OPS[op].describe and "first input" in OPS[op].describe


def test_an_exp_overflow_is_named_as_such():
    """exp(1000) is not "a log of a non-positive number or a division by zero": the message says
    the exp overflowed (the first gate in forward order whose value is not finite)."""
    from engine.expr import ExpressionError, evaluate
    with pytest.raises(ExpressionError, match="exp overflowed"):
        evaluate("exp(x) * 0 + 1", {"x": 1000.0})
    with pytest.raises(ExpressionError, match="log of a number that is not positive"):
        evaluate("log(x)", {"x": -1.0})


def test_one_relative_error_definition_with_a_noise_floor():
    """|a − n| / (|a| + |n|), 0 where both are 0; with ``floor`` both-tiny pairs count as agreeing
    (the labs' gradient-check table uses it, not a formula of its own)."""
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert relative_error(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)
    assert relative_error(np.array([1e-10]), np.array([3e-10])) == pytest.approx(0.5)
    assert relative_error(np.array([1e-10]), np.array([3e-10]), floor=1e-8) == 0.0
    assert relative_error(np.array([1e-10, 2.0]), np.array([3e-10, 1.0]), floor=1e-8) == pytest.approx(1 / 3)
