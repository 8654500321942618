"""The headless command line: train, walkthrough, experiment files, bad arguments."""
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.experiment import ExperimentError, load_experiment

ROOT = Path(__file__).resolve().parents[1]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def test_train_prints_json_summary_last():
    code, out, err = run("train", "--dataset", "gaussians", "--classes", "4", "--samples", "30",
                         "--hidden", "16", "--activation", "tanh", "--epochs", "5", "--lr", "0.3", "--seed", "1")
    assert code == 0, err
    doc = last_json(out)
    for key in ("train_accuracy", "val_accuracy", "test_accuracy", "final_loss", "data_loss", "reg_loss",
                "steps", "seconds"):
        assert key in doc
    assert doc["train_accuracy"] > 0.8
    assert doc["final_loss"] == pytest.approx(doc["data_loss"] + doc["reg_loss"])
    assert "[train] epoch 5/5" in err     # progress goes to stderr


def test_linear_classifier_and_evaluate_only():
    code, out, _ = run("train", "--hidden", "", "--epochs", "0", "--quiet")
    doc = last_json(out)
    assert code == 0 and doc["steps"] == 0 and doc["parameters"] == 2 * 3 + 3
    code, out, _ = run("train", "--hidden", "0", "--epochs", "1", "--quiet", "--loss", "svm", "--reg", "l1")
    assert code == 0 and "linear classifier" in last_json(out)["model"]


def test_one_activation_per_layer():
    code, out, _ = run("train", "--hidden", "8,6", "--activation", "sigmoid,elu", "--epochs", "1", "--quiet")
    assert code == 0 and "8 (sigmoid)" in last_json(out)["model"] and "6 (elu)" in last_json(out)["model"]


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam", "random-search", "random-local-search"])
def test_every_optimizer_runs(opt):
    code, out, _ = run("train", "--optimizer", opt, "--epochs", "2", "--quiet", "--lr", "0.05")
    assert code == 0 and last_json(out)["steps"] > 0


@pytest.mark.parametrize("args,needle", [
    (["--lr", "abc"], "--lr"),
    (["--lr", "-1"], "lr"),
    (["--hidden", "10,x"], "--hidden"),
    (["--activation", "swish"], "swish"),
    (["--hidden", "4,4", "--activation", "relu,relu,relu"], "activations"),
    (["--dataset", "imagenet"], "--dataset"),
    (["--batch-size", "0"], "batch_size"),
    (["--classes", "1"], "classes"),
    (["--epochs", "-3"], "epochs"),
    (["--noise", "nan"], "--noise"),
    (["--config", "/nonexistent/exp.json"], "no such file"),
    (["--bogus"], "unrecognized"),
])
def test_bad_arguments_one_line_exit_2(args, needle):
    code, out, err = run("train", *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert "Traceback" not in err


def test_divergence_is_reported_not_raised():
    code, out, err = run("train", "--lr", "1e9", "--epochs", "5", "--quiet")
    doc = last_json(out)
    assert code == 1 and doc["diverged"] and "learning rate" in doc["reason"]
    assert doc["final_loss"] is None or isinstance(doc["final_loss"], float)


def test_save_and_config_roundtrip(tmp_path):
    path = tmp_path / "exp.json"
    code, out, _ = run("train", "--hidden", "12", "--epochs", "3", "--seed", "5", "--save", str(path), "--quiet")
    assert code == 0
    saved = last_json(out)
    weights = tmp_path / json.loads(path.read_text())["weights"]
    assert path.exists() and weights.exists() and weights.name.startswith("exp.")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, weights.name])  # no temp files left
    exp = load_experiment(path)
    assert exp.config.model.hidden == [12] and exp.config.seed == 5
    assert set(exp.weights) == {"W1", "b1", "W2", "b2"}
    # --config with --epochs 0 evaluates the saved weights: same accuracies
    code, out, _ = run("train", "--config", str(path), "--epochs", "0", "--quiet")
    again = last_json(out)
    assert code == 0
    assert again["train_accuracy"] == saved["train_accuracy"] and again["test_accuracy"] == saved["test_accuracy"]
    # with np.load(allow_pickle=False) the weights file holds plain arrays only
    with np.load(weights, allow_pickle=False) as z:
        assert all(z[k].dtype.kind == "f" for k in z.files)


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["config"]["optim"].update(lr="fast"), "optim.lr"),
    (lambda d: d["config"]["model"].update(depth=3), "model.depth"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d["config"].update(loss=[]), "loss"),
    (lambda d: d.update(weights="missing.npz"), "missing"),
])
def test_bad_experiment_files_name_the_field(tmp_path, mutate, needle):
    path = tmp_path / "exp.json"
    assert run("train", "--epochs", "0", "--save", str(path), "--quiet")[0] == 0
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ExperimentError, match=needle):
        load_experiment(path)
    code, _, err = run("train", "--config", str(path))
    assert code == 2 and needle in err


def test_corrupt_experiment_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    code, _, err = run("train", "--config", str(p))
    assert code == 2 and "not valid JSON" in err
    assert run("train", "--epochs", "0", "--save", str(tmp_path / "y.json"), "--quiet")[0] == 0
    weights = json.loads((tmp_path / "y.json").read_text())["weights"]
    (tmp_path / weights).write_bytes(b"PK\x03\x04garbage")
    code, _, err = run("train", "--config", str(tmp_path / "y.json"))
    assert code == 2 and weights in err


def test_walkthrough_json():
    code, out, _ = run("walkthrough", "--expr", "(x+y)*z", "--values", "x=-2,y=5,z=-4", "--json")
    doc = last_json(out)
    assert code == 0 and doc["value"] == -12.0
    assert doc["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    ops = [n["op"] for n in doc["nodes"]]
    assert ops == ["input", "input", "add", "input", "mul"]     # topological order
    assert {n["id"]: n["grad"] for n in doc["nodes"]}[2] == -4.0  # q = x + y: df/dq = z


def test_walkthrough_text_lists_every_node():
    code, out, _ = run("walkthrough", "--expr", "1/(1+exp(-(w0*x0+w1*x1+w2)))",
                       "--values", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3")
    assert code == 0 and "0.731059" in out and "exp" in out


@pytest.mark.parametrize("expr,values,needle", [
    ("__import__('os').system('true')", "", "unexpected character"),
    ("(x+y", "x=1,y=2", "expected ')'"),
    ("foo(x)", "x=1", "unknown function"),
    ("x+y", "x=1", "no value given for 'y'"),
    ("x", "x=abc", "not a number"),
    ("log(x)", "x=-1", "not a finite number"),
    ("x.real", "x=1", "unexpected"),
    ("lambda: 1", "", "unexpected"),
])
def test_walkthrough_rejects_unsafe_or_bad_input(expr, values, needle):
    code, out, err = run("walkthrough", "--expr", expr, "--values", values)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_main_py_entry_point_runs_the_cli():
    r = subprocess.run([sys.executable, "main.py", "walkthrough", "--expr", "x*y", "--values", "x=3,y=4", "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and last_json(r.stdout)["gradients"] == {"x": 4.0, "y": 3.0}
    r = subprocess.run([sys.executable, "main.py", "train", "--lr", "zero"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_first_train_line_is_the_step0_loss_with_its_sanity_check():
    code, out, err = run("train", "--dataset", "cifar10-4k", "--hidden", "0", "--init", "small", "--loss", "svm",
                         "--preprocess", "standardize", "--epochs", "0")
    assert code == 0, err
    first = next(line for line in err.splitlines() if line.startswith("[train]"))
    doc = last_json(out)
    assert first.startswith(f"[train] step 0 loss {doc['initial_loss']:.4f} (sanity check: small-weight SVM")
    assert "(C−1)·Δ = 9.00" in first and doc["initial_data_loss"] == pytest.approx(9.0, abs=0.05)


def test_a_loss_growing_far_above_its_start_stops_the_run_exit_1():
    code, out, err = run("train", "--dataset", "cifar10-4k", "--preprocess", "none", "--lr", "0.1", "--epochs", "3")
    doc = last_json(out)
    assert code == 1 and doc["diverged"] and doc["steps"] < 20
    assert "the loss grew from" in doc["reason"] and "(over 100×) — the learning rate 0.1 is probably too large; " \
        "try 0.01" in doc["reason"]
    assert f"[train] stopped: {doc['reason']}" in err


def test_walkthrough_plays_a_builtin_file_by_name_or_number():
    """`walkthrough --file 02` plays the bundled sigmoid neuron frame by frame; the output value is
    the lecture's 0.73, and --list names every built-in walkthrough."""
    code, out, err = run("walkthrough", "--list")
    assert code == 0 and "02_sigmoid_neuron" in out and "10_two_layer_relu" in out
    assert len(out.strip().splitlines()) >= 12
    code, out, err = run("walkthrough", "--file", "02", "--json")
    assert code == 0, err
    doc = last_json(out)
    assert doc["output"] == "0.7311" and doc["frames"] >= 20
    code, out, err = run("walkthrough", "--file", "02_sigmoid_neuron")
    assert "Forward: w0·x0" in out and "Backward" in out


def test_walkthrough_file_errors_name_the_problem(tmp_path):
    code, out, err = run("walkthrough", "--file", "nope")
    assert code == 2 and "no built-in walkthrough 'nope'" in err and "01_simple" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out, err = run("walkthrough", "--file", str(bad))
    assert code == 2 and "bad.json" in err and "internal error" not in err
