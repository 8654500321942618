"""Experiment files: a save replaces only this application's own experiment files, is whole or
not at all (also when killed), keeps the usual permissions; loading refuses non-finite numbers,
weights outside the experiment's folder and weights that do not fit, naming the file."""
from __future__ import annotations

import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.config import ConfigError, ExperimentConfig
from engine.experiment import Experiment, ExperimentError, load_experiment, save_experiment

ROOT = Path(__file__).resolve().parents[1]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def saved(tmp_path, name="run.json", *args) -> Path:
    path = tmp_path / name
    code, _, err = run("train", "--epochs", "1", "--hidden", "8", "--quiet", "--save", path, *args)
    assert code == 0, err
    return path


def weights_of(path: Path) -> Path:
    return path.parent / json.loads(path.read_text())["weights"]


def user_npz(path: Path) -> bytes:
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.normal(size=(60, 2)).astype(np.float32), y=np.arange(60) % 3)
    return path.read_bytes()


# ------------------------------------------------------------------ never replace the user's files
def test_save_beside_the_users_npz_dataset_leaves_it_alone(tmp_path):
    """The old bug: --save X.json wrote X.npz over the user's dataset X.npz (its --data-file)."""
    data = tmp_path / "X.npz"
    before = user_npz(data)
    code, _, err = run("train", "--dataset", "npz", "--data-file", data, "--epochs", "1", "--quiet",
                       "--save", tmp_path / "X.json")
    assert code == 0, err
    assert data.read_bytes() == before
    exp = load_experiment(tmp_path / "X.json")
    assert exp.weights_file != data and exp.weights_file.name.startswith("X.")
    # and again over the experiment just written: still the user's file untouched
    code, _, err = run("train", "--dataset", "npz", "--data-file", data, "--epochs", "2", "--quiet",
                       "--save", tmp_path / "X.json")
    assert code == 0, err
    assert data.read_bytes() == before


@pytest.mark.parametrize("case", ["data-file", "npz", "non-experiment-json", "csv-named-json", "folder"])
def test_save_onto_a_file_that_is_not_an_experiment_is_refused(tmp_path, case):
    data = tmp_path / "data.npz"
    before = user_npz(data)
    other = tmp_path / "notes.json"
    other.write_text('{"my": "notes"}')
    notes = other.read_bytes()
    args = ["--epochs", "1", "--quiet"]
    if case == "data-file":
        args += ["--dataset", "npz", "--data-file", data, "--save", data]
        needle = "data.npz"
    elif case == "npz":
        args += ["--save", data]
        needle = "data.npz"
    elif case == "non-experiment-json":
        args += ["--save", other]
        needle = "notes.json"
    elif case == "csv-named-json":      # the run's own data file, whatever its name
        csv = tmp_path / "points.json"
        csv.write_text("x1,x2,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
        other, notes = csv, csv.read_bytes()
        args += ["--dataset", "csv", "--data-file", csv, "--save", csv]
        needle = "points.json"
    else:
        folder = tmp_path / "out"
        folder.mkdir()
        args += ["--save", folder]
        needle = "out"
    listing = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run("train", *args)
    line = one_line(err)
    assert code == 2 and needle in line and out == ""
    assert data.read_bytes() == before and other.read_bytes() == notes
    assert sorted(p.name for p in tmp_path.iterdir()) == listing     # nothing written beside them


def test_save_refused_before_training(tmp_path):
    """A bad --save is refused at once, not after the training it would have thrown away."""
    (tmp_path / "notes.json").write_text("{}")
    t0 = time.monotonic()
    code, out, err = run("train", "--epochs", "100000", "--samples", "1000", "--quiet",
                         "--save", tmp_path / "notes.json")
    assert code == 2 and "notes.json" in one_line(err) and time.monotonic() - t0 < 5


def test_save_into_a_missing_folder_and_onto_a_fifo_refused(tmp_path):
    code, _, err = run("train", "--epochs", "0", "--quiet", "--save", tmp_path / "nope" / "run.json")
    assert code == 2 and "nope" in one_line(err)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.json"
        os.mkfifo(fifo)
        code, _, err = run("train", "--epochs", "0", "--quiet", "--save", fifo)
        assert code == 2 and "pipe.json" in one_line(err)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_replacing_an_experiment_removes_only_its_own_old_weights(tmp_path):
    path = saved(tmp_path)
    first = weights_of(path)
    path2 = saved(tmp_path)            # over our own experiment: allowed
    second = weights_of(path2)
    assert second != first and second.exists() and not first.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.json", second.name])
    # a copy of the JSON names the same weights: they stay for it
    (tmp_path / "copy.json").write_bytes(path.read_bytes())
    saved(tmp_path)
    assert second.exists()
    assert load_experiment(tmp_path / "copy.json").weights_file == second


def test_old_style_experiments_load_and_their_npz_is_kept(tmp_path):
    path = saved(tmp_path)
    exp = load_experiment(path)
    # an experiment as earlier versions wrote it: run.json naming run.npz
    os.replace(weights_of(path), tmp_path / "run.npz")
    doc = json.loads(path.read_text())
    doc["weights"] = "run.npz"
    path.write_text(json.dumps(doc))
    old = load_experiment(path)
    for k in exp.weights:
        np.testing.assert_array_equal(old.weights[k], exp.weights[k])
    npz = (tmp_path / "run.npz").read_bytes()
    code, _, err = run("train", "--config", path, "--epochs", "1", "--quiet", "--save", path)
    assert code == 0, err
    assert (tmp_path / "run.npz").read_bytes() == npz       # not our naming: not removed
    assert load_experiment(path).weights_file.name != "run.npz"


def test_old_weights_holding_other_arrays_are_not_removed(tmp_path):
    path = saved(tmp_path)
    w = weights_of(path)
    arrays = dict(np.load(w))
    arrays["mine"] = np.arange(3)
    np.savez(w, **arrays)
    before = w.read_bytes()
    saved(tmp_path)
    assert w.read_bytes() == before and weights_of(tmp_path / "run.json") != w


def test_config_and_its_weights_are_protected_inputs(tmp_path):
    """--config a.json (naming a.<id>.weights.npz) --save b.json where b.json is a copy naming the
    same weights: they are an input of the run and stay."""
    a = saved(tmp_path, "a.json")
    b = tmp_path / "b.json"
    b.write_bytes(a.read_bytes())
    w = weights_of(a)
    code, _, err = run("train", "--config", a, "--epochs", "1", "--quiet", "--save", b)
    assert code == 0, err
    assert w.exists() and load_experiment(a).weights_file == w
    # --config run.json --save run.json: continuing a run in place is allowed
    code, _, err = run("train", "--config", a, "--epochs", "1", "--quiet", "--save", a)
    assert code == 0, err
    assert load_experiment(a).weights_file != w


# ------------------------------------------------------------------ whole or not at all
def _expected_runs(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    old_args = ["--dataset", "gaussians", "--samples", "60", "--hidden", "12", "--seed", "1", "--epochs", "3"]
    new_args = ["--dataset", "gaussians", "--samples", "60", "--hidden", "20", "--seed", "2", "--epochs", "40"]
    assert run("train", *old_args, "--quiet", "--save", ref / "old.json")[0] == 0
    assert run("train", *new_args, "--quiet", "--save", ref / "new.json")[0] == 0
    return load_experiment(ref / "old.json"), load_experiment(ref / "new.json"), new_args


def _whole(path: Path, old: Experiment, new: Experiment) -> str:
    exp = load_experiment(path)
    which = {12: "old", 20: "new"}[exp.config.model.hidden[0]]
    ref = old if which == "old" else new
    assert exp.config.to_dict() == ref.config.to_dict()
    assert set(exp.weights) == set(ref.weights)
    for k in ref.weights:
        np.testing.assert_array_equal(exp.weights[k], ref.weights[k])
    return which


def _restore_old(path: Path, old: Experiment) -> None:
    save_experiment(path, Experiment(old.config, old.weights, old.stats, old.results, old.history))


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_save_leaves_the_old_or_the_new_experiment_whole(tmp_path):
    old, new, new_args = _expected_runs(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    path = work / "run.json"
    _restore_old(path, old)
    cmd = [sys.executable, str(ROOT / "main.py"), "train", *new_args, "--quiet", "--save", str(path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_STUDIO_TEST_SAVE")}

    t0 = time.monotonic()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
    full = time.monotonic() - t0
    assert _whole(path, old, new) == "new"

    # paused exactly at each step of a save, then killed
    marker = tmp_path / "marker"
    for stage, expected in (("weights", "old"), ("temp", "old"), ("replaced", "new")):
        _restore_old(path, old)
        marker.unlink(missing_ok=True)
        p = subprocess.Popen(cmd, env={**env, "BACKPROP_STUDIO_TEST_SAVE_PAUSE": str(marker),
                                       "BACKPROP_STUDIO_TEST_SAVE_PAUSE_AT": stage},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert p.poll() is None and time.monotonic() < deadline, f"no pause at {stage}"
                time.sleep(0.01)
        finally:
            p.kill()
            p.wait()
        assert _whole(path, old, new) == expected, stage
    leftovers = {q.name for q in work.iterdir()}
    assert any(n.startswith(".run.json.") and n.endswith(".tmp") for n in leftovers)   # killed at "temp"

    # killed at random moments
    rng = random.Random(1234)
    seen = set()
    for _ in range(6):
        _restore_old(path, old)
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.1) * full)
        p.kill()
        p.wait()
        seen.add(_whole(path, old, new))
    assert seen <= {"old", "new"}

    # leftover temporary and unreferenced files do not stand in the way of a later save
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
    assert _whole(path, old, new) == "new"


def test_a_failed_write_leaves_the_old_experiment(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    exp = load_experiment(path)
    exp.weights = {k: v + 1 for k, v in exp.weights.items()}     # a newer state, not saved
    real_replace = os.replace

    def failing(src, dst):      # the JSON's rename fails (the disk filled up meanwhile)
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(ExperimentError, match="run.json.*No space left"):
        save_experiment(path, exp)
    monkeypatch.setattr(os, "replace", real_replace)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_everything_is_serialised_before_a_file_is_touched(tmp_path):
    path = saved(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    exp = load_experiment(path)
    exp.results = {"bad": object()}
    with pytest.raises(ExperimentError, match="run.json"):
        save_experiment(path, exp)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ------------------------------------------------------------------ permissions
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = saved(tmp_path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(weights_of(path).stat().st_mode) == 0o644
        # a replaced experiment keeps its mode (and its weights get the same)
        path.chmod(0o600)
        saved(tmp_path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(weights_of(path).stat().st_mode) == 0o600
    finally:
        os.umask(old)


# ------------------------------------------------------------------ loading refuses
@pytest.mark.parametrize("literal,what", [("NaN", "NaN"), ("Infinity", "infinite"), ("-Infinity", "infinite"),
                                          ("1e999", "infinite")])
@pytest.mark.parametrize("field", [("optim", "lr"), ("dataset", "noise"), ("loss", "reg_strength")])
def test_non_finite_config_numbers_refused_naming_the_field(tmp_path, literal, what, field):
    path = saved(tmp_path)
    doc = json.loads(path.read_text())
    doc["config"][field[0]][field[1]] = 12345.5
    path.write_text(json.dumps(doc).replace("12345.5", literal))
    name = f"config.{field[0]}.{field[1]}"
    with pytest.raises(ExperimentError, match=rf"run\.json: {name} is {what}"):
        load_experiment(path)
    code, _, err = run("train", "--config", path, "--epochs", "0")
    assert code == 2 and f"{name} is {what}" in one_line(err) and "run.json" in err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_config_built_in_code_refuses_non_finite(value):
    what = "NaN" if value != value else "infinite"
    with pytest.raises(ConfigError, match=f"optim.lr is {what}"):
        ExperimentConfig.from_dict({"optim": {"lr": value}})
    with pytest.raises(ConfigError, match=f"model.leaky_slope is {what}"):
        ExperimentConfig.from_dict({"model": {"leaky_slope": value}})
    cfg = ExperimentConfig()
    cfg.loss.margin = value
    with pytest.raises(ConfigError, match=f"loss.margin is {what}"):
        cfg.validate()


@pytest.mark.parametrize("name", ["../outside.npz", "/tmp/outside.npz", "sub/run.npz", "..", ".", "sub\\run.npz"])
def test_weights_name_must_stay_in_the_experiment_folder(tmp_path, name):
    inner = tmp_path / "exp"
    inner.mkdir()
    path = saved(inner)
    w = weights_of(path)
    # a perfectly good weights file where the name points, so only the name's form is refused
    (tmp_path / "outside.npz").write_bytes(w.read_bytes())
    (inner / "sub").mkdir()
    (inner / "sub" / "run.npz").write_bytes(w.read_bytes())
    doc = json.loads(path.read_text())
    doc["weights"] = name if name != "/tmp/outside.npz" else str(tmp_path / "outside.npz")
    path.write_text(json.dumps(doc))
    with pytest.raises(ExperimentError, match="run.json: the field weights must name a file in"):
        load_experiment(path)


@pytest.mark.parametrize("bad,needle", [
    (np.array([[np.nan, 1.0]]), "W1 holds NaN"),
    (np.array([[np.inf, 1.0]]), "W1 holds NaN or infinite"),
    (np.array([[1, 2]], dtype=np.int64), "W1 has dtype int64"),
    (np.array([[1, 2]], dtype=np.complex64), "W1 has dtype complex64"),
])
def test_bad_weight_arrays_refused_naming_the_array(tmp_path, bad, needle):
    path = saved(tmp_path)
    w = weights_of(path)
    arrays = dict(np.load(w))
    arrays["param/W1"] = bad
    np.savez(w, **arrays)
    with pytest.raises(ExperimentError, match=f"{w.name}: weight {needle}"):
        load_experiment(path)


def test_pickled_weights_refused(tmp_path):
    path = saved(tmp_path)
    w = weights_of(path)
    np.savez(w, **{"param/W1": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ExperimentError, match="Python objects"):
        load_experiment(path)


def test_weights_that_do_not_fit_name_the_file_and_shapes(tmp_path):
    path = saved(tmp_path)              # hidden 8
    w = weights_of(path)
    doc = json.loads(path.read_text())
    doc["config"]["model"]["hidden"] = [5]
    path.write_text(json.dumps(doc))
    code, _, err = run("train", "--config", path, "--epochs", "0", "--quiet")
    line = one_line(err)
    assert code == 2 and str(w) in line and "(2, 8)" in line and "(2, 5)" in line
    # a flag changing the architecture: the same message
    path2 = saved(tmp_path, "b.json")
    code, _, err = run("train", "--config", path2, "--hidden", "7", "--epochs", "0", "--quiet")
    line = one_line(err)
    assert code == 2 and weights_of(path2).name in line and "(2, 7)" in line


def test_corrupt_experiment_json_is_one_line(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 100000 + "]" * 100000)
    code, _, err = run("train", "--config", p)
    assert code == 2 and "deep.json" in one_line(err)
    p.write_text('{"format": "backprop-studio-experiment", "config": {"seed": ' + "9" * 5000 + "}}")
    code, _, err = run("train", "--config", p)
    assert code == 2 and "deep.json" in one_line(err) and "digits" in err


# ------------------------------------------------------------------ bounds
@pytest.mark.parametrize("args,needle", [
    (["--samples", "1000000000"], "100,000"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**63)], "--seed"),
    (["--data-seed", "-5"], "--data-seed"),
    (["--hidden", "99999999999999999999"], "1..100,000"),
    (["--hidden", "1" + "0" * 5000], "--hidden"),
    (["--epochs", "9" * 4000], "--epochs"),
    (["--batch-size", "10000000"], "1,000,000"),
    (["--subsample", "-1"], "--subsample"),
    (["--image-size", "100000"], "512"),
    (["--classes", "51"], "50"),
    (["--hidden", "100000,100000"], "too many"),
])
def test_bounds_exit_2_one_line(args, needle):
    t0 = time.monotonic()
    code, out, err = run("train", *args, "--epochs", "0") if "--epochs" not in args else run("train", *args)
    assert code == 2 and needle in one_line(err) and out == ""
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("cfg,needle", [
    ({"seed": -1}, "seed must be at least 0"),
    ({"seed": 2**63}, "seed must be at most"),
    ({"dataset": {"seed": -1}}, "dataset.seed"),
    ({"dataset": {"samples": 10**9}}, "dataset.samples must be at most 100,000"),
    ({"dataset": {"subsample": 10**12}}, "dataset.subsample"),
    ({"optim": {"batch_size": 10**9}}, "optim.batch_size"),
    ({"optim": {"epochs": 10**9}}, "optim.epochs"),
    ({"optim": {"step_every": 10**9}}, "optim.step_every"),
    ({"model": {"hidden": [10**4000], "activations": ["relu"]}}, r"model.hidden\[0\]"),
    ({"model": {"hidden": [4] * 101, "activations": ["relu"] * 101}}, "at most 100"),
])
def test_config_bounds(cfg, needle):
    with pytest.raises(ConfigError, match=needle) as e:
        ExperimentConfig.from_dict(cfg)
    assert len(str(e.value)) < 300


# ------------------------------------------------------------------ the window
try:
    import pytestqt  # noqa: F401
    HAVE_QT = True
except ImportError:     # the engine tests above still run
    HAVE_QT = False
pytestmark_gui = pytest.mark.skipif(not HAVE_QT, reason="needs pytest-qt")


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "files"
    d.mkdir()
    return d


def _errors(w, monkeypatch):
    shown = []
    real = w.show_error

    def record(msg, title="Backprop Studio"):
        shown.append((title, msg))
        real(msg, title)
    monkeypatch.setattr(w, "show_error", record)
    return shown


@pytestmark_gui
def test_window_save_over_a_users_file_is_refused(qtbot, window, tmp_path, monkeypatch):
    tmp_path = _folder(tmp_path)
    w = window
    shown = _errors(w, monkeypatch)
    w.step_once()
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}')
    data = tmp_path / "data.npz"
    before = user_npz(data)
    assert w.save_experiment(str(notes)) is None
    assert w.save_experiment(str(data)) is None
    assert w.save_experiment(str(tmp_path)) is None
    assert [t for t, _ in shown] == ["Not saved"] * 3
    assert "notes.json" in shown[0][1] and "data.npz" in shown[1][1]
    assert notes.read_text() == '{"mine": true}' and data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npz", "notes.json"]
    # the window still saves where it may
    out = w.save_experiment(str(tmp_path / "run.json"))
    assert out is not None and load_experiment(out).config.to_dict() == w.config().to_dict()


def _usable(qtbot, w):
    n = w.controller.trainer.steps
    w.step_once()
    assert w.controller.trainer.steps == n + 1


@pytest.mark.parametrize("corruption", ["bad json", "nan", "escaping weights", "missing weights"])
@pytestmark_gui
def test_window_open_of_a_corrupt_experiment_keeps_the_current_one(qtbot, window, tmp_path, monkeypatch,
                                                                      corruption):
    tmp_path = _folder(tmp_path)
    w = window
    path = w.save_experiment(str(tmp_path / "run.json"))
    doc = json.loads(path.read_text())
    if corruption == "bad json":
        path.write_text(path.read_text()[:-20])
    elif corruption == "nan":
        doc["config"]["optim"]["lr"] = 12345.5
        path.write_text(json.dumps(doc).replace("12345.5", "NaN"))
    elif corruption == "escaping weights":
        doc["weights"] = "../" + doc["weights"]
        path.write_text(json.dumps(doc))
    else:
        (tmp_path / doc["weights"]).unlink()
    w.edit_config("optim.lr", 0.123)
    before = w.config().to_dict()
    trainer = w.controller.trainer
    shown = _errors(w, monkeypatch)
    assert w.open_experiment(str(path)) is False
    assert len(shown) == 1 and shown[0][0] == "Not opened" and "run.json" in shown[0][1]
    assert w.config().to_dict() == before and w.controller.trainer is trainer
    _usable(qtbot, w)


@pytestmark_gui
def test_window_open_with_weights_that_do_not_fit_keeps_the_current_one(qtbot, window, tmp_path, monkeypatch):
    tmp_path = _folder(tmp_path)
    w = window
    path = w.save_experiment(str(tmp_path / "run.json"))     # hidden [16]
    weights = tmp_path / json.loads(path.read_text())["weights"]
    doc = json.loads(path.read_text())
    doc["config"]["model"]["hidden"] = [9]                  # a valid config the weights do not fit
    doc["config"]["optim"]["lr"] = 0.777
    path.write_text(json.dumps(doc))
    w.edit_config("optim.lr", 0.123)
    before = w.config().to_dict()
    dataset = w.current_dataset()
    shown = _errors(w, monkeypatch)
    with qtbot.waitSignal(w.error_shown, timeout=10000):
        assert w.open_experiment(str(path)) is True         # the config is read; weights checked on load
    qtbot.waitUntil(lambda: not w.loading(), timeout=10000)
    assert len(shown) == 1 and shown[0][0] == "Not opened"
    msg = shown[0][1]
    assert str(weights) in msg and "(2, 16)" in msg and "(2, 9)" in msg
    assert "Traceback" not in msg
    assert w.config().to_dict() == before and w.current_dataset() is dataset
    assert w.controller.trainer.model.params["W1"].shape == (2, 16)
    _usable(qtbot, w)


@pytestmark_gui
def test_window_open_whose_dataset_fails_keeps_the_current_one(qtbot, window, tmp_path, monkeypatch):
    tmp_path = _folder(tmp_path)
    w = window
    path = w.save_experiment(str(tmp_path / "run.json"))
    doc = json.loads(path.read_text())
    doc["config"]["dataset"].update(name="npz", data_file=str(tmp_path / "gone.npz"))
    doc["config"]["model"]["hidden"] = [9]
    path.write_text(json.dumps(doc))
    w.edit_config("optim.lr", 0.123)
    before = w.config().to_dict()
    shown = _errors(w, monkeypatch)
    with qtbot.waitSignal(w.error_shown, timeout=10000):
        w.open_experiment(str(path))
    qtbot.waitUntil(lambda: not w.loading(), timeout=10000)
    assert "gone.npz" in shown[-1][1] and "run.json" in shown[-1][1]
    assert w.config().to_dict() == before
    _usable(qtbot, w)


@pytestmark_gui
def test_window_open_catches_unexpected_errors(qtbot, window, tmp_path, monkeypatch):
    tmp_path = _folder(tmp_path)
    w = window
    path = w.save_experiment(str(tmp_path / "run.json"))
    before = w.config().to_dict()
    shown = _errors(w, monkeypatch)

    def broken(p):
        raise RuntimeError("a loader's bug")
    monkeypatch.setattr("gui.main_window.load_experiment", broken)
    assert w.open_experiment(str(path)) is False
    assert "a loader's bug" in shown[0][1] and "run.json" in shown[0][1]
    assert w.config().to_dict() == before
    _usable(qtbot, w)


@pytestmark_gui
def test_window_saves_atomically_and_reopens(qtbot, window, tmp_path):
    tmp_path = _folder(tmp_path)
    w = window
    for _ in range(3):
        w.step_once()
    W = w.controller.trainer.model.params["W1"].copy()
    path = w.save_experiment(str(tmp_path / "run.json"))
    first = weights_of(path)
    w.step_once()
    path = w.save_experiment(str(path))
    assert not first.exists() and weights_of(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.json", weights_of(path).name])
    W2 = w.controller.trainer.model.params["W1"].copy()
    assert not np.array_equal(W, W2)
    w.reset_training()
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        assert w.open_experiment(str(path))
    np.testing.assert_array_equal(w.controller.trainer.model.params["W1"], W2)
