"""End-to-end tests of the main window through gui.app.create_window (what main.py uses)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

pytest.importorskip("pytestqt")



def _wait_redraw_of(qtbot, w, view):
    if w.tabs.currentWidget() is view:
        w.tabs.setCurrentIndex(0 if w.tabs.indexOf(view) else 1)
    with qtbot.waitSignal(w.redrawn, timeout=5000):
        w.tabs.setCurrentWidget(view)


def test_window_opens_ready_with_the_spiral_demo(window):
    w = window
    assert w.windowTitle() == "Backprop Studio"
    cfg = w.config()
    assert cfg.dataset.name == "spiral"
    assert w.controller.trainer is not None and w.controller.trainer.steps == 0
    assert w.current_model_snapshot().num_params > 0


def test_default_demo_config_is_the_live_demo(qtbot, settings_env):
    from gui.main_window import default_config
    cfg = default_config()
    assert cfg.dataset.name == "spiral" and cfg.optim.epochs == -1
    assert len(cfg.model.hidden) == 2 and all(16 <= h <= 50 for h in cfg.model.hidden)
    assert cfg.loss.loss == "softmax" and cfg.loss.reg == "l2"


def test_train_pause_step_reset_and_live_lr(qtbot, window):
    w = window
    c = w.controller
    w.toggle_training()
    assert c.running
    h = w.state.history
    qtbot.waitUntil(lambda: len(h["loss"]) > 200, timeout=20000)
    first = float(np.mean(h["loss"][:10]))
    qtbot.waitUntil(lambda: float(np.mean(h["loss"][-10:])) < 0.8 * first, timeout=20000)
    # each view updates while training
    for view in (w.loss_view, w.regions_view, w.templates_view):
        _wait_redraw_of(qtbot, w, view)
    # learning rate changed mid-run, no reset: later history entries carry it
    steps_before = len(h["step"])
    w.training_panel.lr.entry.setText("0.05")
    w.training_panel.lr.entry.editingFinished.emit()
    assert w.config().optim.lr == 0.05
    qtbot.waitUntil(lambda: len(h["lr"]) and h["lr"][-1] == pytest.approx(0.05), timeout=10000)
    assert h["step"][0] == 1 and len(h["step"]) > steps_before  # the same run continued
    # pause
    w.toggle_training()
    qtbot.waitUntil(lambda: not c.running, timeout=5000)
    n = c.trainer.steps
    hist_n = len(h["step"])
    assert hist_n == n
    # step: exactly one update
    before = {k: v.copy() for k, v in c.trainer.model.params.items()}
    w.step_once()
    assert c.trainer.steps == n + 1
    assert len(h["step"]) == n + 1
    assert any(not np.array_equal(before[k], c.trainer.model.params[k]) for k in before)
    # predictions view updates from the model snapshot
    _wait_redraw_of(qtbot, w, w.predictions_view)
    assert "accuracy" in w.predictions_view.caption.text()
    # reset: re-initialised with the seed, history cleared
    w.reset_training()
    assert c.trainer.steps == 0 and len(h["step"]) == 0
    from engine.models import build_model
    fresh = build_model(2, 3, w.config().model, w.config().loss, w.config().seed)
    np.testing.assert_array_equal(fresh.params["W1"], c.trainer.model.params["W1"])


def test_close_during_training_stops_the_worker(qtbot, qtlog, settings_env):
    from gui.app import create_window
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.controller.trainer is not None, timeout=5000)
    w.toggle_training()
    qtbot.waitUntil(lambda: len(w.state.history["step"]) > 20, timeout=10000)
    thread = w.controller._thread
    assert thread is not None and thread.isRunning()
    w.close()
    assert w.controller._thread is None
    assert not thread.isRunning()
    bad = [r for r in qtlog.records if r.type.name in ("QtWarningMsg", "QtCriticalMsg", "QtFatalMsg")
           and "propagateSizeHints" not in r.message]
    assert not bad, [r.message for r in bad]


def test_divergence_pauses_and_says_why(qtbot, window):
    w = window
    w.edit_config("optim.lr", 1e6)
    w.toggle_training()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=10000)
    assert w.controller.trainer.diverged
    assert "learning rate" in w.last_error


def test_worker_exception_is_shown_in_thread_mode(qtbot, window, monkeypatch):
    w = window
    monkeypatch.setattr(w.controller, "_host", None)
    monkeypatch.setenv("BACKPROP_STUDIO_TRAINING", "thread")

    def boom():
        raise RuntimeError("kaboom in the engine")
    monkeypatch.setattr(w.controller.trainer, "step", boom)
    with qtbot.waitSignal(w.error_shown, timeout=5000) as sig:
        w.toggle_training()
    assert "kaboom" in sig.args[0]
    qtbot.waitUntil(lambda: not w.controller.running, timeout=5000)


def test_training_process_exception_is_shown(qtbot, window):
    """An exception inside the training process reaches the user; the window stays usable."""
    w = window
    assert w.controller._host is not None and w.controller._host.alive
    with qtbot.waitSignal(w.error_shown, timeout=10000) as sig:
        w.toggle_training()
        assert w.controller.running
        w.controller._settings.put(("no_such_setting", 1))   # apply_setting raises KeyError in the child
    assert "no_such_setting" in sig.args[0]
    qtbot.waitUntil(lambda: not w.controller.running, timeout=5000)
    steps = w.controller.trainer.steps
    w.step_once()
    assert w.controller.trainer.steps == steps + 1


def test_dataset_error_keeps_previous_dataset(qtbot, window):
    w = window
    before = w.current_dataset()
    with qtbot.waitSignal(w.error_shown, timeout=10000) as sig:
        w.dataset_panel.name.setCurrentText("csv")   # no file chosen
    assert "csv" in sig.args[0]
    assert w.current_dataset() is before
    assert w.config().dataset.name == "spiral"
    assert w.dataset_panel.name.currentText() == "spiral"


def test_digits_load_off_thread_with_templates(qtbot, window):
    w = window
    w.edit_config("model", _linear(w))
    with qtbot.waitSignal(w.dataset_changed, timeout=15000):
        w.dataset_panel.name.setCurrentText("digits")
    d = w.current_dataset()
    assert d.name == "digits" and w.controller.trainer.model.input_dim == d.num_features
    w.tabs.setCurrentWidget(w.templates_view)
    w._redraw(force=True)
    assert len(w.templates_view.items) == d.num_classes
    img = w.templates_view.items[0].image
    assert img.dtype == np.float32 and img.flags["C_CONTIGUOUS"] and img.shape == (8, 8)


def _linear(w):
    import copy
    m = copy.deepcopy(w.config().model)
    m.hidden, m.activations = [], []
    return m


def test_undo_redo_of_config_edits(qtbot, window):
    w = window
    old = w.config().optim.batch_size
    w.training_panel.batch.setValue(17)
    assert w.config().optim.batch_size == 17
    assert w.controller.trainer.batch_size == 17
    w.undo_stack.undo()
    assert w.config().optim.batch_size == old
    assert w.training_panel.batch.value() == old
    assert w.controller.trainer.batch_size == old
    w.undo_stack.redo()
    assert w.config().optim.batch_size == 17


def test_impossible_value_is_refused(qtbot, window):
    w = window
    assert not w.edit_config("dataset.val_fraction", 0.95)
    assert "val_fraction" in w.last_error
    assert w.config().dataset.val_fraction == 0.2


def test_hooks_for_added_views(qtbot, window):
    w = window

    from gui.views.base import View

    class Probe(View):
        """An added view declares what it uses (gui.views.base.View) and gets exactly that."""
        uses_dataset = uses_model = True

        def __init__(self):
            super().__init__()
            self.datasets, self.models = [], []

        def set_dataset(self, d):
            self.datasets.append(d)

        def set_model(self, m):
            self.models.append(m)

    p = Probe()
    w.add_view_tab(p, "Probe")
    assert not p.datasets and not p.models          # hidden: updated when first shown
    w.step_once()
    assert not p.models
    w.tabs.setCurrentWidget(p)
    assert p.datasets == [w.current_dataset()] and len(p.models) == 1
    m = p.models[-1]
    assert m.params["W1"] is not w.controller.trainer.model.params["W1"]
    np.testing.assert_array_equal(m.params["W1"], w.controller.trainer.model.params["W1"])
    w.step_once()
    assert len(p.models) == 2 and len(p.datasets) == 1   # the same dataset is not handed over again
    np.testing.assert_array_equal(p.models[-1].params["W1"], w.controller.trainer.model.params["W1"])
    w.reset_training()
    assert len(p.models) == 3
    # while training the tab is not updated under the user's hands; pausing updates it
    w.toggle_training()
    qtbot.waitUntil(lambda: w.controller.trainer is not None and len(w.state.history["step"]) > 20, timeout=10000)
    assert len(p.models) == 3
    w.toggle_training()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=10000)
    assert len(p.models) == 4
    np.testing.assert_array_equal(p.models[-1].params["W1"], w.controller.trainer.model.params["W1"])


def test_save_and_open_experiment(qtbot, window, tmp_path):
    w = window
    for _ in range(5):
        w.step_once()
    W = w.controller.trainer.model.params["W1"].copy()
    path = w.save_experiment(str(tmp_path / "run.json"))
    assert json.loads(path.read_text())["config"]["optim"]["lr"] == w.config().optim.lr
    w.reset_training()
    w.edit_config("optim.lr", 0.123)
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        w.open_experiment(str(path))
    assert w.config().optim.lr == 0.5
    np.testing.assert_array_equal(w.controller.trainer.model.params["W1"], W)


def test_exports(qtbot, window, tmp_path):
    w = window
    for _ in range(3):
        w.step_once()
    for view in (w.loss_view, w.regions_view, w.templates_view, w.predictions_view):
        w.tabs.setCurrentWidget(view)
        w._redraw(force=True)
        for kind in ("png", "svg"):
            out = tmp_path / f"{view.title}.{kind}"
            w.export_view(str(out), kind)
            assert out.stat().st_size > 500
    csv = tmp_path / "curves.csv"
    w.export_view(str(csv), "csv")
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("step,loss") and len(lines) == 4


def test_settings_are_versioned_and_isolated(qtbot, settings_env):
    from gui.app import create_window
    w = create_window()
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.controller.trainer is not None, timeout=5000)
    w.edit_config("optim.lr", 0.25)
    w.close()
    text = settings_env.read_text()
    assert "version=1" in text
    w2 = create_window()
    qtbot.addWidget(w2)
    assert w2.config().optim.lr == 0.25
    w2.close()


@pytest.mark.slow
def test_font_scaling(qtbot, window):
    from gui import style
    s0 = style.SCALE
    w = window
    w.set_scale(s0 * 1.15)
    assert style.SCALE > s0
    w.set_scale(s0)
    assert style.SCALE == pytest.approx(s0)


def test_backprop_and_labs_tabs_are_part_of_the_window(qtbot, window, tmp_path):
    """The lecture's second half lives in the main window: keys dispatch to the walkthrough on its
    tab, File > Open walkthrough loads a file from anywhere, and the network mode gets the model."""
    import shutil
    w = window
    titles = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert "Backprop" in titles and "Labs" in titles
    w.tabs.setCurrentWidget(w.backprop_view)
    view = w.backprop_view
    assert view.network is not None and view.dataset is w.current_dataset()
    steps = w.controller.trainer.steps
    view.restart()
    frame = view.frame
    w._right_key()                                   # Right on the Backprop tab: next walkthrough step
    assert view.frame == frame + 1 and w.controller.trainer.steps == steps
    src = pathlib.Path(__file__).resolve().parents[1] / "resources" / "walkthroughs" / "01_simple.json"
    copy = tmp_path / "mine.json"
    shutil.copy(src, copy)
    assert w.open_walkthrough(str(copy))
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    assert not w.open_walkthrough(str(bad))          # reported in the view, the window stays usable
    w.tabs.setCurrentWidget(w.loss_view)
    w._right_key()                                   # elsewhere Right steps the training
    assert w.controller.trainer.steps == steps + 1


def test_lecture_tabs_get_the_whole_window_and_give_the_docks_back(qtbot, window):
    w = window
    visible = {k for k, d in w.docks.items() if d.isVisible()}
    assert visible
    w.tabs.setCurrentWidget(w.labs_widget)
    assert not any(d.isVisible() for d in w.docks.values())
    w.tabs.setCurrentWidget(w.backprop_view)
    assert not any(d.isVisible() for d in w.docks.values())
    w.tabs.setCurrentWidget(w.loss_view)
    assert {k for k, d in w.docks.items() if d.isVisible()} == visible


def test_editing_the_network_mid_run_restarts_training_and_pause_still_works(qtbot, window):
    """A rebuild while training stops the run and starts a new one in the same event-loop turn;
    the old run's queued 'finished' must not be taken for the new run's (the GUI would wait on
    the new run forever)."""
    w = window
    c = w.controller
    w.toggle_training()
    qtbot.waitUntil(lambda: len(w.state.history["step"]) > 20, timeout=10000)
    old = c._thread
    w.architecture_panel.table.cellWidget(0, 0).setValue(12)     # hidden units: re-initialise
    assert c.trainer.model.params["W1"].shape == (2, 12)
    assert c.running and c._thread is not old
    qtbot.waitUntil(lambda: len(w.state.history["step"]) > 20, timeout=10000)   # the new run trains
    qtbot.wait(100)                                # the old run's 'finished' is delivered by now
    assert c.running
    w.toggle_training()
    qtbot.waitUntil(lambda: not c.running, timeout=5000)
    assert c._thread is None


def test_labs_are_built_when_first_shown_with_the_windows_dataset(qtbot, window):
    """The labs cost the window's start nothing: each is built on first sight, and then gets
    the dataset the window gave the Labs tab."""
    w = window
    lw = w.labs_widget
    assert all(lab is None for lab in lw._built)
    w.tabs.setCurrentWidget(lw)
    first = lw._built[0]
    assert first is not None and first.isVisible() and all(lab is None for lab in lw._built[1:])
    assert lw.dataset is w.current_dataset() and first.dataset is w.current_dataset()
    lw.tabs.setCurrentIndex(2)
    assert lw._built[2] is not None and lw._built[2].isVisible()
    assert lw._built[2].dataset is w.current_dataset() and lw._built[1] is None
    assert [type(lab).__name__ for lab in lw.labs][0] == type(first).__name__ and None not in lw._built


def test_main_py_opens_the_window_and_paints_it(tmp_path):
    """`python main.py` end to end, as bench_startup.py times it: the window paints."""
    import os
    import subprocess
    import sys
    import time
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BACKPROP_STUDIO_STARTUP_PROBE="1",
               BACKPROP_STUDIO_NO_DIALOGS="1", BACKPROP_STUDIO_SETTINGS=str(tmp_path / "s.ini"))
    t0 = time.time()
    out = subprocess.run([sys.executable, str(root / "main.py")], env=env, cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    painted = [line for line in out.stdout.splitlines() if line.startswith("painted ")]
    assert len(painted) == 1 and t0 < float(painted[0].split()[1]) < time.time()


def test_a_large_dataset_handover_is_announced_then_cleared(qtbot, window, monkeypatch):
    """Before the first Train on a big dataset the training process needs a moment to receive
    it; the status bar says so, and the notice goes when the first snapshot arrives."""
    from gui import controller as ctl
    w = window
    monkeypatch.setattr(ctl, "HANDOVER_NOTICE", 1)          # the tiny demo set counts as large
    host = w.controller._host
    assert host is not None and host.data_to_send(w.controller.trainer) > 0
    w.toggle_training()
    assert "Handing" in w.status.text() and "training process" in w.status.text()
    qtbot.waitUntil(lambda: len(w.state.history["step"]) > 0, timeout=10000)
    assert "Handing" not in w.status.text()
    w.toggle_training()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=5000)
    assert host.data_to_send(w.controller.trainer) == 0      # the next run sends nothing


def test_a_lab_in_a_low_window_scrolls_instead_of_squeezing(qtbot, window):
    w = window
    lw = w.labs_widget
    w.tabs.setCurrentWidget(lw)
    lw.tabs.setCurrentIndex(3)
    lab = lw._built[3]
    scroll = lab.parentWidget().parentWidget()
    qtbot.waitUntil(lab.isVisible, timeout=3000)
    w.resize(1600, 1000)
    qtbot.waitUntil(lambda: lab.height() == scroll.viewport().height(), timeout=3000)
    assert not scroll.verticalScrollBar().isVisible()            # it fits: it fills the view
    w.resize(1200, 560)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().isVisible(), timeout=3000)
    assert lab.height() >= lab.minimumSizeHint().height() > scroll.viewport().height()


def test_2d_weight_heat_map_levels_cover_the_weights_and_match_the_colour_bar(qtbot, window):
    """For 2-D data the templates view is a heat map of W1: its symmetric colour scale always
    holds every weight, follows them when they grow or shrink a lot, and is the bar's scale."""
    w = window
    w.tabs.setCurrentWidget(w.templates_view)
    view = w.templates_view
    model = w.controller.trainer.model
    W1 = model.params["W1"].copy()
    for factor in (1.0, 1.1, 10.0, 9.0, 0.5, 0.01):
        model.set_params({**model.params, "W1": W1 * factor})
        w.controller.publish_now()
        w._redraw(force=True)
        _, img = view.heat
        lo, hi = img.getLevels()
        m = float(np.max(np.abs(W1 * factor)))
        assert lo == -hi and m <= hi < 2.5 * m, (factor, hi, m)
        assert tuple(view.bar.levels()) == (lo, hi)


def _cli_saved_run(tmp_path):
    """An experiment saved by the command line: spiral, 3 epochs."""
    from engine.cli import main as cli_main
    path = tmp_path / "run.json"
    assert cli_main(["train", "--dataset", "spiral", "--epochs", "3", "--batch-size", "32",
                     "--save", str(path), "--quiet"]) == 0
    return path, json.loads(path.read_text())


def test_an_opened_experiment_shows_its_saved_run(qtbot, window, tmp_path):
    """Opening a saved experiment shows its run — the loss curves from its history, its step count
    and last loss in the status — not "step 0 · loss nan" over empty plots; Train continues it."""
    w = window
    path, doc = _cli_saved_run(tmp_path)
    saved = doc["history"]
    n = len(saved["step"])
    assert n > 10 and saved["step"][-1] == n
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        assert w.open_experiment(str(path))
    t = w.controller.trainer
    assert t.steps == n and t.epoch == pytest.approx(doc["results"]["epochs"], abs=1e-3)
    h = w.state.history
    np.testing.assert_array_equal(h["step"], saved["step"])
    np.testing.assert_allclose(h["loss"], saved["loss"])
    np.testing.assert_allclose(h["val_acc"], saved["val_acc"])
    w.tabs.setCurrentWidget(w.loss_view)
    w._redraw(force=True)
    bx, lo, hi = w.loss_view.c_band.getData()            # the curve holds the saved points
    assert len(bx) == n and bx[-1] == n
    np.testing.assert_allclose(lo, saved["loss"], rtol=1e-6)
    ex, ey = w.loss_view.a_va.getData()
    assert len(ex) == len(saved["eval_step"]) == 3
    np.testing.assert_allclose(ey, saved["val_acc"])
    stats = w.training_panel.stats.text()
    assert f"step {n:,}" in stats and f"loss {saved['loss'][-1]:.4f}" in stats and "nan" not in stats
    assert "saved run" in w.status.text() and f"step {n:,}" in w.status.text()
    w.step_once()                                         # Train / Step continue the saved run
    assert t.steps == n + 1 and len(h["step"]) == n + 1 and h["step"][-1] == n + 1


def test_an_experiment_with_a_damaged_history_opens_with_its_weights(qtbot, window, tmp_path):
    w = window
    path, doc = _cli_saved_run(tmp_path)
    doc["history"]["step"][3] = 1                           # no longer a rising count
    path.write_text(json.dumps(doc))
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        assert w.open_experiment(str(path))
    assert w.controller.trainer.steps == 0 and len(w.state.history["step"]) == 0
    assert "trained weights" in w.status.text() and "no curves" in w.status.text()


def test_main_routes_an_experiment_file_to_the_window(monkeypatch):
    """`main.py RUN.json` and `backprop-studio RUN.json` open the window on the file; commands
    and no arguments go where they went."""
    import sys
    import main as entry
    assert entry.route(["run.json"]) == ("gui", "run.json", [])
    assert entry.route(["some/dir/Run.JSON", "-style", "fusion"]) == ("gui", "some/dir/Run.JSON", ["-style", "fusion"])
    assert entry.route(["--gui", "run.json"]) == ("gui", "run.json", [])
    assert entry.route(["--gui"]) == ("gui", None, [])
    assert entry.route([]) == ("gui", None, [])
    assert entry.route(["train", "--config", "run.json"]) == ("cli", None, ["train", "--config", "run.json"])
    assert entry.route(["walkthrough", "--expr", "x*y"])[0] == "cli"
    calls = []
    monkeypatch.setattr(entry, "run_with_experiment", lambda path, rest: calls.append((path, rest)) or 7)
    assert entry.main(["run.json"]) == 7 and calls == [("run.json", [])]
    monkeypatch.setattr(sys, "argv", ["backprop-studio", "other.json"])
    assert entry.main() == 7 and calls[-1] == ("other.json", [])   # the console script calls main()
    import engine.cli
    monkeypatch.setattr(engine.cli, "main", lambda argv: ("cli", argv))
    assert entry.main(["train", "--epochs", "1"]) == ("cli", ["train", "--epochs", "1"])


def test_practice_mode_is_remembered(qtbot, window):
    """View › Practice backprop, switched on for the class, is still on when the app opens again."""
    from gui.app import create_window
    w = window
    w.practice_action.trigger()
    assert w.backprop_view.practice and w.practice_action.isChecked()
    w.controller.stop_and_wait()
    w.close()
    w2 = create_window()
    qtbot.addWidget(w2)
    assert w2.backprop_view.practice and w2.practice_action.isChecked()
    w2.practice_action.trigger()
    w2.controller.stop_and_wait()
    w2.close()
    w3 = create_window()
    qtbot.addWidget(w3)
    assert not w3.backprop_view.practice
    w3.controller.stop_and_wait()
    w3.close()
