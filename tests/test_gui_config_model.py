"""The configuration model (gui/config_model.py): per-field change signals that panels bind to,
undo commands that change it, and views that declare what they are (gui/views/base.py)."""
import ast
from pathlib import Path

import pytest

from engine.config import ExperimentConfig

ROOT = Path(__file__).resolve().parents[1]


def test_set_emits_the_field_and_bound_slots_follow_their_sections(qtbot):
    from gui.config_model import ConfigModel
    m = ConfigModel(ExperimentConfig())
    changes, loss_loads, optim_loads = [], [], []
    m.changed.connect(lambda p, v: changes.append((p, v)))
    m.bind(("loss",), lambda cfg: loss_loads.append(cfg.loss.reg_strength))
    m.bind(("optim", "seed"), lambda cfg: optim_loads.append(cfg.optim.lr))
    assert loss_loads == [1e-3] and optim_loads == [0.1]          # bound: shown at once
    m.set("optim.lr", 0.25)
    assert changes == [("optim.lr", 0.25)] and optim_loads[-1] == 0.25 and len(loss_loads) == 1
    m.set("loss.reg_strength", 0.5)
    assert loss_loads[-1] == 0.5 and len(optim_loads) == 2
    m.set("seed", 7)
    assert len(optim_loads) == 3 and m.current.seed == 7
    other = ExperimentConfig()
    other.optim.lr = 0.01
    m.replace(other)
    assert optim_loads[-1] == 0.01 and loss_loads[-1] == 1e-3      # a replacement reloads everyone
    other.optim.lr = 5.0                                            # the model keeps its own copy
    assert m.current.optim.lr == 0.01
    copy = m.copy()
    copy.optim.lr = 9.0
    assert m.get("optim.lr") == 0.01


def test_with_edits_leaves_the_model_alone(qtbot):
    from gui.config_model import ConfigModel
    m = ConfigModel(ExperimentConfig())
    trial = m.with_edits({"optim.lr": 3.0, "dataset.val_fraction": 0.95})
    assert trial.optim.lr == 3.0 and m.current.optim.lr == 0.1
    with pytest.raises(ValueError):
        trial.validate()


def test_undo_commands_change_the_model_and_panels_follow(qtbot, window):
    """A panel edit is an undo command on the model; undo / redo go through the model, and the
    panel and the trainer follow (no one writes the configuration behind the model's back)."""
    w = window
    seen = []
    w.config_model.changed.connect(lambda p, v: seen.append((p, v)))
    w.loss_panel.strength.setValue(0.05)
    w.loss_panel.strength.valueEdited.emit(0.05)
    assert seen[-1] == ("loss.reg_strength", 0.05) and w.cfg.loss.reg_strength == pytest.approx(0.05)
    w.undo_stack.undo()
    assert seen[-1][0] == "loss.reg_strength" and w.cfg.loss.reg_strength == pytest.approx(1e-3)
    assert w.loss_panel.strength.value() == pytest.approx(1e-3)
    w.undo_stack.redo()
    assert w.loss_panel.strength.value() == pytest.approx(0.05)
    assert w.controller.trainer.model.loss_cfg.reg_strength == pytest.approx(0.05)


def test_every_tab_is_a_view(qtbot, window):
    from gui.views.base import View
    tabs = window.views
    assert len(tabs) >= 6 and all(isinstance(v, View) for v in tabs)
    assert [v for v in tabs if v.live_model] == [window.predictions_view]


def _private_reaches(folder: Path):
    """``x._name`` where x is not self / cls: reaching into another object's private state."""
    for f in sorted(folder.rglob("*.py")):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.startswith("__"):
                base = n.value
                if not (isinstance(base, ast.Name) and base.id in ("self", "cls")) \
                        and not (isinstance(base, ast.Call) and ast.unparse(base.func) == "super"):
                    yield f"{f.relative_to(ROOT)}:{n.lineno}: {ast.unparse(n)}"


def test_the_gui_does_not_reach_into_private_attributes():
    found = list(_private_reaches(ROOT / "gui"))
    assert not found, "\n".join(found)
