"""Issue 15, part 1: the linear classifier you can grab — engine (engine/linear_demo.py) and the
GUI lab (gui/labs/linear_lab.py, pytest-qt offscreen)."""
import pytest

import numpy as np

from engine import layers
from engine import linear_demo as D


def _numgrad(f, a, h=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + h
        fp = f()
        a[i] = old - h
        fm = f()
        a[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_gradient_matches_numerical_gradient(loss, reg):
    X, y = D.toy_points("gaussians", 3, 8, seed=1)
    W, b = D.random_params(3, seed=4)
    r = D.evaluate(X, y, W, b, loss, reg, margin=1.0)
    gW = _numgrad(lambda: D.total_loss(X, y, W, b, loss, reg), W)
    gb = _numgrad(lambda: D.total_loss(X, y, W, b, loss, reg), b)
    np.testing.assert_allclose(r.dW, gW, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(r.db, gb, rtol=1e-5, atol=1e-7)


def test_numbers_match_engine_layers():
    X, y = D.toy_points("spiral", 3, 10, seed=2)
    W, b = D.random_params(3, seed=7)
    s = X @ W.T + b
    r = D.evaluate(X, y, W, b, "svm", 0.1, margin=2.0)
    np.testing.assert_allclose(r.scores, s)
    hl, hc = layers.hinge_loss_forward(s, y, 2.0)
    assert r.data_loss == pytest.approx(float(hl))
    np.testing.assert_allclose(r.terms, hc["margins"])
    np.testing.assert_allclose(r.losses, r.terms.sum(axis=1))
    assert r.reg_loss == pytest.approx(0.1 * float((W ** 2).sum()))
    assert r.total == pytest.approx(r.data_loss + r.reg_loss)
    r = D.evaluate(X, y, W, b, "softmax", 0.1)
    sl, sc = layers.softmax_loss_forward(s, y)
    assert r.data_loss == pytest.approx(float(sl))
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(r.losses, -np.log(p[np.arange(len(y)), y]))
    np.testing.assert_allclose(r.terms[np.arange(len(y)), y], r.losses)


def test_step_lowers_the_loss_and_regions_are_argmax():
    X, y = D.toy_points("gaussians", 3, 15)
    W, b = D.default_params(3)
    for loss in D.LOSSES:
        r = D.evaluate(X, y, W, b, loss, 0.01)
        W2, b2 = D.gradient_step(W, b, r, 0.1)
        assert D.total_loss(X, y, W2, b2, loss, 0.01) < r.total
    g = D.regions(W, b, (-1, 1), (-2, 2), 5)
    assert g.shape == (5, 5)
    assert g[0, 4] == int(np.argmax(W @ [1, -2] + b)) and g[4, 0] == int(np.argmax(W @ [-1, 2] + b))
    p0, d = D.zero_line(W[0], 0.5)
    assert W[0] @ p0 + 0.5 == pytest.approx(0) and W[0] @ d == pytest.approx(0)
    assert D.zero_line([0, 0], 1) is None
    r = D.evaluate(np.zeros((0, 2)), [], W, b, "svm", 0.5)
    assert r.data_loss == 0 and r.total == pytest.approx(0.5 * (W ** 2).sum())
