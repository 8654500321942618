"""A run whose loss diverged is saved whole from the window (its NaN / inf losses as JSON null,
read back as NaN), and the training panel reads at step 0 with the sanity check."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("pytestqt")



def test_a_diverged_run_is_saved_and_opened_again(qtbot, window, tmp_path):
    from engine.experiment import load_experiment
    w = window
    assert w.edit_config("optim.lr", 1e9)
    t = w.controller.trainer
    for _ in range(40):
        w.controller.step()
        if t.diverged:
            break
    assert t.diverged and not all(math.isfinite(v) for v in t.history.loss)
    out = w.save_experiment(str(tmp_path / "run.json"))
    assert out is not None, w.last_error
    exp = load_experiment(out)
    saved = exp.history["loss"]
    assert len(saved) == len(t.history.loss)
    assert any(v is None or (isinstance(v, float) and math.isnan(v)) for v in saved)


def test_the_training_panel_shows_the_sanity_check_at_step_0(qtbot, window):
    w = window
    w.reset_training()
    w._redraw(force=True)
    text = w.training_panel.stats.text()
    assert "step 0" in text and "sanity check" in text and "nan" not in text.split("\n")[1]


def test_a_training_process_that_cannot_start_is_named_in_the_status_bar(qtbot, window, monkeypatch):
    """The window falls back to training in a thread (several times slower) and says why."""
    from gui import training_host

    class Broken:
        def __init__(self):
            raise OSError("no more processes")
    monkeypatch.setattr(training_host, "_host", None)
    monkeypatch.setattr(training_host, "start_error", "")      # (restored after the test)
    monkeypatch.setattr(training_host, "TrainingHost", Broken)
    monkeypatch.setattr(training_host, "use_process", lambda: True)
    w = window
    w.controller._host = None
    w.start_training()
    qtbot.waitUntil(lambda: "could not start" in w.status.text(), timeout=5000)
    assert "no more processes" in w.status.text() and "thread" in w.status.text()
    qtbot.waitUntil(lambda: w.controller.trainer.steps > 0 or w.controller.running, timeout=5000)
    w.pause_training()
    w.controller.stop_and_wait()
