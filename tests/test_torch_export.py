"""Graduate to PyTorch (issue 15, part 5): an experiment exported as a standalone PyTorch script
trains step by step as the engine does. The runs of the script need torch (an optional extra,
``.[torch]``) and are skipped without it; the rest needs only NumPy."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.config import ExperimentConfig
from engine.datasets import load_dataset
from engine.experiment import experiment_of_run, save_experiment
from engine.torch_export import MARKER, export_torch_script
from engine.trainer import Trainer

STEPS = 20
ROOT = Path(__file__).resolve().parents[1]


def _cfg(**kw) -> ExperimentConfig:
    cfg = ExperimentConfig()
    cfg.dataset.name = "spiral"
    cfg.dataset.samples = 60
    cfg.model.hidden = [16]
    cfg.model.activations = [kw.get("activation", "relu")]
    cfg.model.dtype = "float64"
    cfg.loss.loss = kw.get("loss", "softmax")
    cfg.loss.reg = kw.get("reg", "l2")
    cfg.loss.reg_strength = 1e-3
    cfg.optim.optimizer = kw.get("optimizer", "momentum")
    cfg.optim.lr = kw.get("lr", 0.1)
    cfg.optim.batch_size = 32     # 108 training examples: the 20 steps cross several epochs (reshuffles)
    cfg.optim.schedule = kw.get("schedule", "constant")
    cfg.optim.gamma = 0.9
    cfg.optim.step_every = 1
    return cfg.validate()


def _initial_experiment(tmp_path, cfg, name="run.json"):
    """Save an experiment of the initial weights; return its path and the engine's first losses."""
    trainer = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    path = save_experiment(tmp_path / name, experiment_of_run(cfg, trainer))
    losses = [trainer.step().loss for _ in range(STEPS)]
    return path, losses


def _script_losses(script):
    r = subprocess.run([sys.executable, str(script), "--steps", str(STEPS), "--print-losses"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("test accuracy ")
    return [float(line.split()[3]) for line in lines if line.startswith("step ")]


CASES = {
    "softmax-l2-momentum-relu": {},
    "svm-elastic-adam-leaky": dict(loss="svm", reg="elastic", optimizer="adam", lr=0.01,
                                   activation="leaky_relu", schedule="exponential"),
    "softmax-l1-sgd-elu-step": dict(reg="l1", optimizer="sgd", activation="elu", schedule="step"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exported_script_matches_the_engine_step_by_step(tmp_path, case):
    pytest.importorskip("torch")
    run, engine_losses = _initial_experiment(tmp_path, _cfg(**CASES[case]))
    script, data = export_torch_script(run, tmp_path / "model.py")
    assert data == tmp_path / "model.data.npz" and data.exists()
    torch_losses = _script_losses(script)
    assert len(torch_losses) == STEPS
    diff = max(abs(a - b) for a, b in zip(engine_losses, torch_losses))
    assert diff < 1e-5, (case, diff, engine_losses[:3], torch_losses[:3])


def test_script_is_valid_python_and_reads_plain_arrays(tmp_path):
    run, _ = _initial_experiment(tmp_path, _cfg(loss="svm", reg="elastic", optimizer="adam"))
    script, data = export_torch_script(run, tmp_path / "model.py")
    text = script.read_text(encoding="utf-8")
    compile(text, str(script), "exec")
    assert MARKER in text.splitlines()[1]
    assert "weight_decay" in text and "import torch" in text
    with np.load(data, allow_pickle=False) as z:
        names = set(z.files)
        assert {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "param/W1", "param/b2"} <= names
        assert z["y_train"].dtype == np.int64


def test_engine_module_does_not_import_torch():
    code = ("import sys, engine.torch_export; assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=str(ROOT))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


def test_cli_export_and_its_errors(tmp_path):
    run, _ = _initial_experiment(tmp_path, _cfg())
    code, out, err = _cli("export-torch", str(run), str(tmp_path / "m.py"))
    assert code == 0, err
    assert (tmp_path / "m.py").exists() and (tmp_path / "m.data.npz").exists()
    # an earlier export is replaced
    assert _cli("export-torch", str(run), str(tmp_path / "m.py"))[0] == 0
    # a missing experiment
    code, out, err = _cli("export-torch", str(tmp_path / "missing.json"), str(tmp_path / "x.py"))
    assert code == 2 and "missing.json" in err and len(err.strip().splitlines()) == 1
    # never the experiment itself, nor a file that is not an export
    before = run.read_bytes()
    code, _, err = _cli("export-torch", str(run), str(run))
    assert code == 2 and "input" in err and run.read_bytes() == before
    mine = tmp_path / "mine.py"
    mine.write_text("print('mine')\n")
    code, _, err = _cli("export-torch", str(run), str(mine))
    assert code == 2 and "not an export" in err and mine.read_text() == "print('mine')\n"
    code, _, err = _cli("export-torch", str(run), str(tmp_path / "nofolder" / "x.py"))
    assert code == 2 and "does not exist" in err
    # a random-search experiment has no PyTorch counterpart
    cfg = _cfg()
    cfg.optim.optimizer = "random-search"
    rs, _ = _initial_experiment(tmp_path, cfg, "rs.json")
    code, _, err = _cli("export-torch", str(rs), str(tmp_path / "rs.py"))
    assert code == 2 and "random search" in err


def test_main_routes_export_torch_to_the_command_line():
    from main import route
    assert route(["export-torch", "run.json", "out.py"])[0] == "cli"


def test_window_file_menu_exports_the_current_model(qtbot, window, tmp_path):
    w = window
    for _ in range(3):
        w.step_once()
    titles = [a.text() for a in w.menuBar().actions()[0].menu().actions()]
    assert "Export as Py&Torch script…" in titles
    out = w.export_torch(str(tmp_path / "model.py"))
    assert out is not None, getattr(w, "last_error", "")
    script, data = out
    compile(script.read_text(encoding="utf-8"), str(script), "exec")
    with np.load(data, allow_pickle=False) as z:     # the model's current (trained) weights
        np.testing.assert_array_equal(z["param/W1"], w.controller.trainer.model.params["W1"])
    mine = tmp_path / "mine.py"
    mine.write_text("print('mine')\n")
    assert w.export_torch(str(mine)) is None
    assert "not an export" in w.last_error and mine.read_text() == "print('mine')\n"
