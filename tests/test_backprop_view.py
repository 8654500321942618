"""The backprop view (pytest-qt, offscreen): stepping, playing, errors, network mode, export."""
import json

import numpy as np
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
    assert len(view.walkthrough_names()) == 10
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
