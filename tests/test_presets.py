"""One-click presets: the lecture's linear classifier on CIFAR-10 reaches its accuracy and its
templates look like the classes they score."""
import io
import json

import numpy as np
import pytest

from engine.cli import main
from engine.config import ConfigError, ExperimentConfig
from engine.datasets import load_dataset
from engine.experiment import load_experiment
from engine.presets import PRESETS, apply_preset

KEY = "lecture-linear-cifar10"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_registry_and_the_lecture_settings():
    p = PRESETS[KEY]
    assert p.key == KEY and p.title == "Lecture: linear classifier on CIFAR-10" and len(p.description) > 50
    cfg = apply_preset(KEY)
    assert isinstance(cfg, ExperimentConfig)
    assert (cfg.dataset.name, cfg.dataset.preprocess) == ("cifar10-4k", "mean")
    assert cfg.model.hidden == [] and cfg.model.init == "small" and cfg.model.init_scale == 1e-4
    assert (cfg.loss.loss, cfg.loss.reg, cfg.optim.batch_size) == ("svm", "l2", 200)
    assert cfg.loss.reg_strength >= 1e4                       # strong L2
    cfg.optim.lr = 1.0                                        # each call is a fresh copy
    assert apply_preset(KEY).optim.lr != 1.0
    with pytest.raises(ConfigError, match=f"unknown preset 'nope'; presets: {KEY}"):
        apply_preset("nope")


def pearson_rows(A, B):
    """Correlation of every row of A with every row of B."""
    A = A - A.mean(1, keepdims=True)
    B = B - B.mean(1, keepdims=True)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    return A @ B.T


def test_preset_through_the_cli_accuracy_and_templates(tmp_path, capsys):
    path = tmp_path / "lecture.json"
    code, out, err = run("train", "--preset", KEY, "--save", str(path))
    assert code == 0, err
    assert err.splitlines()[0] == f"[config] preset {KEY}: Lecture: linear classifier on CIFAR-10"
    assert "[config] image-set defaults" not in err          # a preset is taken as it is
    doc = json.loads(out.strip().splitlines()[-1])
    assert not doc["diverged"] and doc["test_accuracy"] >= 0.30, doc
    W = load_experiment(path).weights["W1"].astype(np.float64)   # (3072, 10): column k is class k's template
    assert W.shape == (3072, 10)
    cfg = apply_preset(KEY)
    data = load_dataset(cfg.dataset)                          # the same split, mean image subtracted
    assert data.input_shape == (32, 32, 3)                    # rows are HWC images: the raw layout
    means = np.stack([data.X_train[data.y_train == c].mean(0) for c in range(10)]).astype(np.float64)
    corr = pearson_rows(W.T, means)                           # template k × class mean c
    best = corr.argmax(axis=1)
    matching = int((best == np.arange(10)).sum())
    with capsys.disabled():
        print(f"\n[preset {KEY}] test accuracy {doc['test_accuracy']:.4f}; {matching}/10 templates "
              f"correlate best with their own class's mean image")
    assert matching >= 8, (best, corr.round(2))
    noise = np.random.default_rng(0).standard_normal((10, 3072))     # the check is not met by chance
    assert int((pearson_rows(noise, means).argmax(axis=1) == np.arange(10)).sum()) <= 4


def test_preset_flags_override_and_errors():
    code, out, err = run("train", "--preset", KEY, "--epochs", "0", "--lr", "1e-6")
    assert code == 0 and "(overridden: optim.epochs, optim.lr)" in err.splitlines()[0]
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["steps"] == 0 and "linear classifier: 3072 → 10" in doc["model"]
    code, _, err = run("train", "--preset", "bogus")
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"unknown preset 'bogus'; presets: {KEY}" in err
    code, _, err = run("train", "--preset", KEY, "--config", "x.json")
    assert code == 2 and "--preset and --config" in err


def test_help_lists_the_presets(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--preset NAME" in help_text and f"{KEY}: Lecture: linear classifier on CIFAR-10" in help_text
