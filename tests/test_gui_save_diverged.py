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
