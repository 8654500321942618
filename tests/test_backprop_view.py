"""The backprop view (pytest-qt, offscreen): stepping, playing, errors, network mode, export."""
import contextlib
import json
import os
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from engine.config import DatasetConfig, LossConfig, ModelConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.models import build_model  # noqa: E402
from gui.backprop import BackpropView, BackpropWindow, create_open_walkthrough_action  # noqa: E402


@pytest.fixture
def view(qtbot):
    v = BackpropView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    return v


def test_builtins_listed_and_first_shown(view):
    from engine.walkthroughs import builtin_walkthrough_paths
    assert len(view.walkthrough_names()) == len(builtin_walkthrough_paths()) == 12
    assert view.frame == 0 and view.frame_count() > 2
    st = view.frame_state()
    assert st["kind"] == "start" and st["grads"] == {}


def test_simple_forward_then_backward_numbers(view):
    view.select_walkthrough("simple")
    n = view.frame_count()
    view.go_to_frame(n - 1)
    st = view.frame_state()
    assert st["out_value"] == "-12.00" and st["out_grad"] == "1.00"
    tr = view.spec.trace
    ids = {i.name: i.id for i in tr.nodes}
    assert st["values"][(ids["q"], ids["f"])] == "3.00"
    assert st["grads"][(ids["x"], ids["q"])] == "-4.00"
    assert st["grads"][(ids["z"], ids["f"])] == "3.00"
    assert st["grads"][(ids["q"], ids["f"])] == "-4.00"


@pytest.mark.parametrize("name", ["simple", "pattern-copy", "softmax-loss", "two-layer-relu"])
def test_step_all_frames_forward_and_back_returns_to_start(view, qtbot, name):
    view.select_walkthrough(name)
    start = view.frame_state()
    states = [start]
    for _ in range(view.frame_count() - 1):
        qtbot.keyClick(view, Qt.Key_Right)
        states.append(view.frame_state())
    assert view.frame == view.frame_count() - 1
    view.step_forward()                           # at the end: stays
    assert view.frame == view.frame_count() - 1
    for k in range(view.frame_count() - 1, 0, -1):
        assert view.frame_state() == states[k]
        qtbot.keyClick(view, Qt.Key_Left)
    assert view.frame == 0 and view.frame_state() == start
    # each frame shows at least as much as the one before it
    for a, b in zip(states, states[1:]):
        assert set(a["values"]) <= set(b["values"]) and set(a["grads"]) <= set(b["grads"])


def test_fanout_sum_shown(view):
    view.select_walkthrough("pattern-copy")
    view.go_to_frame(view.frame_count() - 1)
    sums = view.frame_state()["sums"]
    assert "-1.00 + 3.00 = 2.00" in sums.values()


def test_play_runs_to_end(view, qtbot):
    view.select_walkthrough("sigmoid-neuron")
    view.set_speed(50)
    view.play()
    assert view.is_playing()
    qtbot.waitUntil(lambda: view.frame == view.frame_count() - 1 and not view.is_playing(), timeout=10000)
    view.restart()
    assert view.frame == 0


def test_gradient_check_table(view):
    view.select_walkthrough("sigmoid-neuron")
    rows = view.run_gradient_check()
    assert {r.name for r in rows} == {"w0", "x0", "w1", "x1", "w2"}
    assert max(r.rel_error for r in rows) < 1e-7
    assert view.check_table.rowCount() == 5 and not view.check_table.isHidden()


def test_custom_mode_and_inline_errors(view):
    assert view.set_expression("(x + y) * z", "x=-2, y=5, z=-4")
    assert view.frame_state()["kind"] == "start"
    view.go_to_frame(view.frame_count() - 1)
    assert view.frame_state()["out_value"] == "-12.00"
    # editing an input value re-runs it
    view.values_edit.setText("x=1, y=5, z=-4")
    view.values_edit.editingFinished.emit()
    view.go_to_frame(view.frame_count() - 1)
    assert view.frame_state()["out_value"] == "-24.00"
    before = view.spec
    assert not view.set_expression("(x + ", "x=1")
    assert "Expression:" in view.error_text() and not view.error_label.isHidden()
    assert view.spec is before                    # the last good graph stays
    assert not view.set_expression("x * q", "x=1")
    assert "no value given for 'q'" in view.error_text()
    assert not view.set_expression("log(x)", "x=-1")
    assert view.set_expression("max(x, y)", "x=1, y=2")
    assert view.error_label.isHidden()


def test_open_malformed_and_good_files(view, tmp_path, qtbot):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "b", "title": "B", "nodes": [{"id": "x", "op": "nope"}]}', encoding="utf-8")
    before = view.spec
    with qtbot.waitSignal(view.errorOccurred) as sig:
        assert not view.open_walkthrough(bad)
    assert "bad.json" in sig.args[0] and "unknown op 'nope'" in sig.args[0]
    assert view.spec is before
    view.step_forward()                           # still usable
    assert view.frame == 1
    (tmp_path / "junk.json").write_text("{oops", encoding="utf-8")
    assert not view.open_walkthrough(tmp_path / "junk.json")
    assert "junk.json: not valid JSON" in view.error_text()
    good = tmp_path / "mine.json"
    good.write_text(json.dumps({"name": "mine", "title": "Mine", "expression": "a*b", "values": {"a": 2, "b": 3}}),
                    encoding="utf-8")
    assert view.open_walkthrough(good)
    assert view.error_label.isHidden() and "mine" in view.walkthrough_names()
    view.go_to_frame(view.frame_count() - 1)
    assert view.frame_state()["out_value"] == "6.00"


def _hostile_files(tmp_path):
    """(file, what its message must say) for broken walkthrough files of every class."""
    out = []
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    out.append((fifo, "not a regular file"))

    def put(name, text, needle):
        p = tmp_path / name
        p.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
        out.append((p, needle))

    def nodes(*ns):
        return {"name": "h", "title": "H", "nodes": list(ns)}
    put("deep.json", "[" * 50_000 + "]" * 50_000, "nested more than")
    put("bigint.json", '{"name": "h", "title": "H", "expression": "x", "values": {"x": ' + "9" * 400 + "}}",
        "integer of 400 digits")
    put("bomb.json", nodes({"id": "a", "op": "input", "value": [[1.0]] * 8000},
                           {"id": "b", "op": "input", "value": [[1.0] * 8000]},
                           {"id": "f", "op": "mul", "inputs": ["a", "b"]}), "node 'f' (mul) would hold 8000×8000")
    put("attrs.json", nodes({"id": "x", "op": "input", "value": 1},
                            {"id": "f", "op": "addc", "inputs": ["x"], "attrs": {"c": [1, 2]}}),
        "attr 'c' must be a number, got a list")
    put("where.json", nodes({"id": "x", "op": "input", "value": 1},
                            {"id": "f", "op": "exp", "inputs": ["x"], "attrs": {"where": False}}), "unknown attr 'where'")
    put("labels.json", nodes({"id": "s", "op": "input", "value": [[1.0, 2.0]]}, {"id": "y", "op": "const", "value": [5]},
                             {"id": "f", "op": "softmax_loss", "inputs": ["s", "y"]}), "label 5 is not a class index")
    put("scores.json", nodes({"id": "s", "op": "input", "value": 2.0}, {"id": "y", "op": "const", "value": [0]},
                             {"id": "f", "op": "hinge_loss", "inputs": ["s", "y"]}), "the scores must be a matrix")
    put("expr.json", {"name": "h", "title": "H", "expression": "-" * 1500 + "x", "values": {"x": 1}},
        "nested too deeply")
    (tmp_path / "folder.json").mkdir()
    out.append((tmp_path / "folder.json", "is a folder"))
    return out


def _release_fifo(path) -> None:
    """If the view ever blocks opening a FIFO, a writer arriving releases it (the test then fails)."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_hostile_files_show_one_line_and_the_view_keeps_working(view, qtbot, tmp_path):
    view.select_walkthrough("sigmoid-neuron")
    for path, needle in _hostile_files(tmp_path):
        before = view.spec
        release = threading.Timer(5.0, _release_fifo, (path,))
        release.daemon = True
        release.start()
        t0 = time.monotonic()
        try:
            with qtbot.waitSignal(view.errorOccurred, timeout=10_000) as sig:
                assert not view.open_walkthrough(path)
        finally:
            release.cancel()
        assert time.monotonic() - t0 < 4, path.name
        msg = sig.args[0]
        assert msg.startswith(f"{path.name}: ") and needle in msg and "\n" not in msg, msg
        assert view.error_text() == msg and not view.error_label.isHidden()
        assert view.spec is before                         # the last good graph stays
        view.step_forward()                                # and it still steps
    assert view.walkthrough_names().count("h") == 0
    view.select_walkthrough("simple")
    assert view.error_label.isHidden() and view.frame == 0
    for _ in range(view.frame_count() - 1):
        view.step_forward()
    assert view.frame_state()["out_value"] == "-12.00"


def test_graphs_too_large_to_draw_are_refused_quickly(view, tmp_path):
    """The engine accepts 500 nodes; the view draws at most MAX_DRAWN_NODES (the layout is slow)."""
    from gui.backprop.view import MAX_DRAWN_NODES
    n = 200
    nodes = [{"id": f"x{i}", "op": "input", "value": 1.0} for i in range(n)]
    nodes += [{"id": f"s{i}", "op": "add", "inputs": [f"s{i - 1}" if i > 1 else "x0", f"x{i}"]} for i in range(1, n)]
    p = tmp_path / "wide.json"
    p.write_text(json.dumps({"name": "wide", "title": "Wide", "nodes": nodes}), encoding="utf-8")
    before = view.spec
    t0 = time.monotonic()
    assert not view.open_walkthrough(p)
    assert time.monotonic() - t0 < 3
    assert view.error_text() == (f"wide.json: the graph has {2 * n - 1} nodes; the view draws at most "
                                 f"{MAX_DRAWN_NODES} (a larger drawing takes too long to lay out)")
    assert view.spec is before and "wide" not in view.walkthrough_names()
    # the largest drawable graph of the slowest shape (one input fanning out along a chain) opens
    k = MAX_DRAWN_NODES // 2
    nodes = [{"id": "x", "op": "input", "value": 1.0}, {"id": "y", "op": "input", "value": 1.0}]
    nodes += [{"id": f"s{i}", "op": "add", "inputs": [f"s{i - 1}" if i else "y", "x"]} for i in range(k)]
    p.write_text(json.dumps({"name": "wide", "title": "Wide", "nodes": nodes}), encoding="utf-8")
    assert view.open_walkthrough(p) and view.error_label.isHidden()


def test_unexpected_loader_errors_are_shown(view, tmp_path, monkeypatch):
    import gui.backprop.view as view_module

    def boom(path):
        raise RuntimeError("the loader\nbroke")
    monkeypatch.setattr(view_module, "load_walkthrough", boom)
    before = view.spec
    assert not view.open_walkthrough(tmp_path / "odd.json")
    assert view.error_text() == "odd.json: could not open it (RuntimeError: the loader broke)"
    assert view.spec is before
    view.step_forward()
    assert view.frame == 1

    def expression_error(path):
        from engine.expr import ExpressionError
        raise ExpressionError("x is odd")
    monkeypatch.setattr(view_module, "load_walkthrough", expression_error)
    assert not view.open_walkthrough(tmp_path / "odd.json") and view.error_text() == "x is odd"


@pytest.mark.parametrize("expression, values, needle", [
    ("-" * 1999 + "x", "x=1", "nested too deeply"),
    ("x^" * 999 + "x", "x=1", "nested too deeply"),
    ("exp(" * 399 + "x" + ")" * 399, "x=1", "nested too deeply"),
    ("(" * 999 + "x" + ")" * 999, "x=1", "nested too deeply"),
    ("x", "x=" + "9" * 3000, "too long"),
    ("x * " + "9" * 1990, "x=1", "too large"),
    ("+".join(["x"] * 1000), "x=1", "the graph has 1,000 nodes; the view draws at most 150"),
    ("+".join(f"x{i}" for i in range(200)), ",".join(f"x{i}=1" for i in range(200)), "draws at most 150"),
])
def test_hostile_custom_expressions(view, expression, values, needle):
    assert view.set_expression("(x + y) * z", "x=-2, y=5, z=-4")
    before = view.spec
    t0 = time.monotonic()
    assert not view.set_expression(expression, values)
    assert time.monotonic() - t0 < 3
    assert view.error_text().startswith("Expression: ") and needle in view.error_text()
    assert view.spec is before
    view.step_forward()
    assert view.frame == 1
    assert view.set_expression("x * 2", "x=3") and view.error_label.isHidden()


def test_window_and_action(qtbot, tmp_path):
    w = BackpropWindow()
    qtbot.addWidget(w)
    assert w.open_action.text().startswith("Open")
    act = create_open_walkthrough_action(w.view)
    assert act.text().startswith("Open")
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"name": "x", "title": "X", "expression": "exp(a)", "values": {"a": 0}}), encoding="utf-8")
    assert w.open_walkthrough(p)


def test_network_mode(view, qtbot):
    ds = load_dataset(DatasetConfig(name="spiral", classes=3, samples=30))
    net = build_model(ds.num_features, ds.num_classes, ModelConfig(hidden=[8], activations=["relu"]),
                      LossConfig(loss="softmax", reg="l2", reg_strength=1e-3), seed=0)
    # fresh biases are 0 and spiral data starts at the origin: ReLU would sit exactly on its kink
    net.params["b1"][...] = 0.1
    view.mode_combo.setCurrentIndex(2)
    assert "needs a model" in view.error_text()
    view.set_model(net)
    view.set_dataset(ds)
    assert view.spec is not None and view.spec.tensor and view.error_label.isHidden()
    st = view.frame_state()
    tr = view.spec.trace
    ids = {i.name: i.id for i in tr.nodes}
    x_edge = next(k for k in st["values"] if k[0] == ids["X"])
    assert st["values"][x_edge].startswith("32×2")
    view.go_to_frame(view.frame_count() - 1)
    st = view.frame_state()
    assert any(t.startswith("‖·‖") for t in st["grads"].values())
    rows = view.run_gradient_check()
    assert {r.name for r in rows} == {"W1", "b1", "W2", "b2"}
    assert max(r.rel_error for r in rows) < 1e-5
    view._show_array(ids["W1"])
    assert view._heatmaps and view._heatmaps[-1].isVisible()
    view._heatmaps[-1].close()


@pytest.mark.slow
def test_render_each_builtin_last_frame(view, tmp_path):
    for name in view.walkthrough_names():
        view.select_walkthrough(name)
        view.go_to_frame(view.frame_count() - 1)
        png = view.export_image(tmp_path / f"{name}.png")
        assert png.stat().st_size > 5000
    svg = view.export_image(tmp_path / "last.svg")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    print("rendered to", tmp_path)


def test_wide_graph_gets_the_width_with_the_narration_below(view, qtbot):
    """A long chain of gates (the sigmoid neuron) is drawn across the whole width with the
    narration under it — beside the text it would be fitted to a strip, with small numbers; a
    compact graph keeps the narration beside it."""
    view.resize(1590, 900)
    view.select_walkthrough("sigmoid-neuron")
    qtbot.wait(20)
    assert view.splitter.orientation() == Qt.Vertical
    wide_zoom = view.graph_view.transform().m11()
    view.splitter.setOrientation(Qt.Horizontal)       # what it would be beside the text
    view.splitter.setSizes([1590 - 360, 360])
    view.graph_view.fit()
    qtbot.wait(20)
    assert wide_zoom > 1.2 * view.graph_view.transform().m11()
    view.select_walkthrough("simple")
    qtbot.wait(20)
    assert view.splitter.orientation() == Qt.Horizontal


# ---------------------------------------------------------------- practice mode (issue 15, part 3)
def _type(qtbot, view, text):
    view.answer_edit.clear()
    if text.isascii():
        qtbot.keyClicks(view.answer_edit, text)
    else:                                  # QTest types ASCII only: "−" (U+2212) is pasted
        view.answer_edit.insert(text)
    qtbot.keyClick(view.answer_edit, Qt.Key_Return)


def test_practice_walkthrough_01_typing_answers(view, qtbot):
    view.select_walkthrough("simple")
    view.practice_action.trigger()                       # the toolbar button's action
    assert view.is_practice() and view.practice_box.isVisible()
    assert view.frame == 0 and view.practice_state()["pending"] == 1
    assert "q = +(x, y) = ?" in view.practice_state()["question"]
    # → does not reveal the value: it asks for it
    view.step_forward()
    assert view.frame == 0
    # a miss gives the hint and keeps the frame; the right answer then reveals it
    _type(qtbot, view, "7")
    st = view.practice_state()
    assert view.frame == 0 and "Hint: + gate: add its inputs: (-2.00) + 5.00" in st["feedback"]
    _type(qtbot, view, "3")
    assert view.frame == 1 and view.practice_state()["feedback"].startswith("✓ Right: q = +(x, y) = 3.00")
    # two misses reveal f
    _type(qtbot, view, "12")
    assert "× gate: multiply its inputs: 3.00 × (-4.00)" in view.practice_state()["feedback"]
    _type(qtbot, view, "-13")
    assert view.frame == 2 and "f = ×(q, z) = -12.00 (shown now)" in view.practice_state()["feedback"]
    assert view.frame_state()["out_value"] == "-12.00"
    # the seed is not asked: Enter goes on
    assert view.spec.frames[3].kind == "seed" and view.practice_state()["pending"] is None
    _type(qtbot, view, "")
    assert view.frame == 3
    # the backward pass: every gradient typed right first time
    answers = {"∂f/∂q": "-4", "∂f/∂z": "3.00", "∂f/∂x": "−4", "∂f/∂y": "-4.0"}
    while view.frame < view.frame_count() - 1:
        k, q = view.pending
        _type(qtbot, view, answers[q.what])
        assert view.frame == k
    st = view.practice_state()
    assert (st["right"], st["asked"]) == (4, 6)      # q and f were missed first
    assert st["score"] == "Score: 4 / 6 right first time"
    assert st["question"].startswith("Done. 4 / 6 right first time")


def test_practice_hint_backward_and_tensor_network(view, qtbot):
    view.set_practice(True)
    view.set_expression("(x + y) * z", "x=-2, y=5, z=-4")
    assert view.score.asked == 0
    seed = next(f.index for f in view.spec.frames if f.kind == "seed")
    view.go_to_frame(seed)
    _type(qtbot, view, "1")
    fb = view.practice_state()["feedback"]
    assert "downstream = local × upstream" in fb and "mul gate" in fb
    view.set_practice(False)
    assert not view.practice_box.isVisible() and not view.practice_action.isChecked()
    view.step_forward()
    assert view.frame == seed + 1


def test_practice_play_stops_at_questions(view, qtbot):
    view.select_walkthrough("simple")
    view.set_practice(True)
    view.set_speed(50)
    view.play()
    qtbot.wait(200)
    assert not view.is_playing() and view.frame == 0


# ---------------------------------------------------------------- from gradients to the update (issue 15, part 4)
def _net_and_data():
    ds = load_dataset(DatasetConfig(name="spiral", classes=3, samples=30))
    net = build_model(ds.num_features, ds.num_classes, ModelConfig(hidden=[8], activations=["relu"]),
                      LossConfig(loss="softmax", reg="l2", reg_strength=1e-3), seed=0)
    net.params["b1"][...] = 0.1
    return net, ds


def test_network_walkthrough_ends_with_one_sgd_step(view, qtbot):
    import numpy as np
    from engine.optim import SGD
    from gui.backprop.view import MINIBATCH
    net, ds = _net_and_data()
    before = net.copy_params()
    view.mode_combo.setCurrentIndex(2)
    view.set_model(net)
    view.set_dataset(ds)
    view.set_learning_rate(0.05)
    assert view.spec.frames[-1].kind == "update" and view.spec.frames[-2].kind == "backward"
    view.go_to_frame(view.frame_count() - 1)
    st = view.frame_state()
    assert st["kind"] == "update"
    # the engine's own SGD step on a copy, on the same minibatch
    X, y = ds.X_train[:MINIBATCH], ds.y_train[:MINIBATCH]
    ref = net.astype("float64")
    old = ref.loss(X, y, grads=True)[0]
    SGD().update(ref.param_list(), ref.grad_list(), 0.05)
    new = ref.loss(X, y, grads=False)[0]
    assert st["old_loss"] == pytest.approx(old, rel=1e-12)
    assert st["new_loss"] == pytest.approx(new, rel=1e-10)
    assert new < old                                   # a small α lowers the loss
    assert st["headline"] == f"One SGD step: loss {old:.4f} → {new:.4f}"
    assert "W1 ← W1 − α·dW1" in view.narration.toPlainText()
    # the window's model is not touched
    for k, v in before.items():
        np.testing.assert_array_equal(net.params[k], v)
    # another α: the step is recomputed and the narration follows
    view.set_learning_rate(0.01)
    ref2 = net.astype("float64")
    ref2.loss(X, y, grads=True)
    SGD().update(ref2.param_list(), ref2.grad_list(), 0.01)
    assert view.frame_state()["new_loss"] == pytest.approx(ref2.loss(X, y, grads=False)[0], rel=1e-10)
    assert "α = 0.01" in view.narration.toPlainText()


def test_window_practice_action_and_lr(window, qtbot):
    """View › Practice backprop: one click for every walkthrough; the view's button follows it and
    back; the network walkthrough's α is the experiment's learning rate."""
    w = window
    act = w.practice_action
    assert act.isCheckable() and not act.isChecked()
    assert act in w.menuBar().actions()[[a.text() for a in w.menuBar().actions()].index("&View")].menu().actions()
    act.trigger()
    v = w.backprop_view
    assert v.is_practice() and v.practice_action.isChecked()
    v.practice_action.trigger()                                   # the view's own button
    assert not v.is_practice() and not act.isChecked()
    w.tabs.setCurrentWidget(v)
    v.mode_combo.setCurrentIndex(2)
    qtbot.waitUntil(lambda: v.spec is not None and v.spec.tensor, timeout=5000)
    assert v.learning_rate() == pytest.approx(w.config().optim.lr)
    v.go_to_frame(v.frame_count() - 1)
    assert v.frame_state()["kind"] == "update"
