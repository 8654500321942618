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


# --------------------------------------------------------------------------- the GUI lab

def _qt():
    pytest.importorskip("pytestqt")
    import gui  # noqa: F401  (before the lab, as in the app)


@pytest.fixture
def lab(qtbot):
    _qt()
    from gui.labs.linear_lab import LinearLab
    w = LinearLab()
    qtbot.addWidget(w)
    w.resize(1500, 900)
    with qtbot.waitSignal(w.first_result, timeout=5000):
        w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def _engine(lab):
    return D.evaluate(lab.X, lab.y, lab.W, lab.b, lab.loss, lab.reg.value(), lab.margin.value())


def _shown_numbers(lab):
    import re
    text = re.sub("<[^>]+>", " ", lab.loss_label.text()).replace("−", "-")
    return re.findall(r"-?\d+\.\d+", text)[:3]


def _check_shown(lab):
    """The loss shown is the engine's for the lab's current W, b (to the 3 decimals shown)."""
    r = _engine(lab)
    assert lab.result.total == pytest.approx(r.total, rel=1e-12)
    assert _shown_numbers(lab) == [f"{v:.3f}" for v in (r.data_loss, r.reg_loss, r.total)]


def _scene_to_viewport(lab, view_xy):
    vb = lab.plot.getViewBox()
    from PySide6.QtCore import QPointF
    sp = vb.mapViewToScene(QPointF(*view_xy))
    return lab.plot.mapFromScene(sp)


def _drag(qtbot, lab, start_xy, end_xy, steps=6):
    """A left-button drag in the plot (press, moves with the button held, release), as a mouse sends it."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    vp = lab.plot.viewport()
    a = _scene_to_viewport(lab, start_xy)
    b = _scene_to_viewport(lab, end_xy)

    def send(kind, p, button, buttons):
        pf = QPointF(p)
        ev = QMouseEvent(kind, pf, vp.mapToGlobal(pf), button, buttons, Qt.NoModifier)
        QApplication.sendEvent(vp, ev)

    send(QEvent.MouseButtonPress, a, Qt.LeftButton, Qt.LeftButton)
    for i in range(1, steps + 1):
        t = i / steps
        p = a + (b - a) * t
        send(QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton)
        qtbot.wait(5)
    send(QEvent.MouseButtonRelease, b, Qt.LeftButton, Qt.NoButton)
    qtbot.wait(10)


def _click(qtbot, lab, xy, button):
    from PySide6.QtCore import Qt
    qtbot.mouseClick(lab.plot.viewport(), Qt.LeftButton if button == "left" else Qt.RightButton,
                     pos=_scene_to_viewport(lab, xy))
    qtbot.wait(10)


def test_default_result_on_first_show(lab):
    assert lab.has_result
    assert len(lab.y) == 45 and lab.C == 3 and lab.W.shape == (3, 2)
    assert lab.image.image is not None and lab.image.image.shape[:2] == (100, 100)
    _check_shown(lab)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_dragging_an_arrow_tip_changes_w_and_the_loss(lab, qtbot, loss):
    lab.loss_combo.setCurrentIndex(0 if loss == "svm" else 1)
    before = lab.W.copy()
    start = tuple(before[1])
    target = (start[0] + 0.4, start[1] - 0.3)
    _drag(qtbot, lab, start, target)
    assert not np.allclose(lab.W[1], before[1])
    np.testing.assert_allclose(lab.W[1], target, atol=0.02)        # the tip follows the mouse
    np.testing.assert_allclose(lab.W[[0, 2]], before[[0, 2]])
    np.testing.assert_allclose(lab.table.values()[:, :2], lab.W, atol=5e-3)   # the table follows
    r = _engine(lab)
    s = lab.X @ lab.W.T + lab.b
    f = layers.hinge_loss_forward if loss == "svm" else layers.softmax_loss_forward
    assert r.data_loss == pytest.approx(float(f(s, lab.y)[0]))
    _check_shown(lab)


def test_dragging_a_line_handle_moves_it_along_its_normal(lab, qtbot):
    k = 0
    w = lab.W[k].copy()
    h = lab.bias[k].pos()
    n = w / np.linalg.norm(w)
    start = (h.x(), h.y())
    target = (h.x() + 0.5 * n[0] + 0.2 * n[1], h.y() + 0.5 * n[1] - 0.2 * n[0])   # partly along the line
    _drag(qtbot, lab, start, target)
    np.testing.assert_allclose(lab.W[k], w)                   # w unchanged
    assert lab.b[k] == pytest.approx(-w @ target, abs=0.03)   # the line passes through the mouse
    assert lab.b[k] == pytest.approx(-0.5 * np.linalg.norm(w), abs=0.03)
    p = lab.bias[k].pos()
    assert w @ [p.x(), p.y()] + lab.b[k] == pytest.approx(0, abs=1e-9)   # the handle stays on the line
    _check_shown(lab)


def test_a_handle_moved_through_its_api_as_a_drag_does(lab):
    lab.tips[2].setPos(0.3, 0.9)
    np.testing.assert_allclose(lab.W[2], [0.3, 0.9])
    r = _engine(lab)
    assert lab.result.total == pytest.approx(r.total)
    _check_shown(lab)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_gradient_step_shows_then_lowers_the_loss(lab, qtbot, loss):
    lab.loss_combo.setCurrentIndex(0 if loss == "svm" else 1)
    before = lab.result.total
    W0 = lab.W.copy()
    lab.step_button.click()                  # first press: the gradient arrows
    assert lab.grad_shown and lab.lines[0][3].isVisible()
    np.testing.assert_allclose(lab.W, W0)
    r = _engine(lab)
    x, y = lab.lines[0][3].getData()
    np.testing.assert_allclose([x[1] - x[0], y[1] - y[0]], -r.dW[0])
    lab.step_button.click()                  # second press: the step
    np.testing.assert_allclose(lab.W, W0 - lab.lr.value() * r.dW)
    assert lab.result.total < before
    assert not lab.lines[0][3].isVisible()


def test_run_descends_and_stop_stops(lab, qtbot):
    before = lab.result.total
    lab.run_button.click()
    assert lab.timer.isActive() and lab.run_button.text() == "Stop"
    qtbot.wait(300)
    lab.run_button.click()
    assert not lab.timer.isActive()
    assert lab.result.total < before


def test_clicks_add_and_remove_points(lab, qtbot):
    n = len(lab.y)
    lab.class_combo.setCurrentIndex(2)
    _click(qtbot, lab, (1.7, -1.7), "left")
    assert len(lab.y) == n + 1 and lab.y[-1] == 2
    np.testing.assert_allclose(lab.X[-1], (1.7, -1.7), atol=0.03)
    assert lab.scatter.data.shape[0] == n + 1
    _click(qtbot, lab, (1.69, -1.71), "right")
    assert len(lab.y) == n and not np.any(np.all(np.abs(lab.X - (1.7, -1.7)) < 0.05, axis=1))
    _check_shown(lab)
    # a left click on a handle grabs it, it adds no point
    tip = tuple(lab.W[0])
    _click(qtbot, lab, tip, "left")
    assert len(lab.y) == n


def test_hover_shows_scores_and_loss_terms(lab, qtbot):
    i = 5
    qtbot.mouseMove(lab.plot.viewport(), _scene_to_viewport(lab, tuple(lab.X[i])))
    qtbot.wait(20)
    if lab._hover != i:      # (offscreen mouse moves can be dropped: hover through the lab's API)
        lab.hover_point(i)
    r = lab.result
    text = lab.hover_label.text().replace("−", "-")
    assert f"Point {i}" in text and f"{r.scores[i, 0]:.2f}" in text and f"{r.losses[i]:.3f}" in text
    lab.loss_combo.setCurrentIndex(1)
    text = lab.hover_label.text().replace("−", "-")
    assert f"{-np.log(lab.result.probs[i, lab.y[i]]):.3f}" in text


def test_table_edit_randomize_reset_and_classes(lab, qtbot):
    lab.table.item(0, 2).setText("0.75")        # as a typed edit arrives
    qtbot.waitUntil(lambda: lab.b[0] == 0.75, timeout=2000)
    assert lab.b[0] == pytest.approx(0.75)
    p = lab.bias[0].pos()
    assert lab.W[0] @ [p.x(), p.y()] + 0.75 == pytest.approx(0, abs=1e-9)
    lab.random_button.click()
    assert not np.allclose(lab.W, D.default_params(3)[0])
    lab.n_classes.setValue(4)
    assert lab.C == 4 and lab.W.shape == (4, 2) and len(lab.tips) == 4 and set(lab.y) == {0, 1, 2, 3}
    lab.set_combo.setCurrentIndex(len(lab_module().SETS) - 1)      # empty
    assert len(lab.y) == 0 and lab.result.data_loss == 0
    lab.reset()
    assert lab.C == 3 and len(lab.y) == 45
    np.testing.assert_allclose(lab.W, D.default_params(3)[0])


def lab_module():
    from gui.labs import linear_lab
    return linear_lab
