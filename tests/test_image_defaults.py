"""Image sets get a preprocessing and a learning rate that train on a first run with every other
setting at its default; the CLI applies them only where the user chose nothing, and says so."""
import io
import json
import math

import numpy as np

from engine.cli import main
from engine.config import ExperimentConfig, apply_defaults, dataset_defaults, describe_defaults
from engine.datasets.registry import dataset_names
from engine.datasets.cifar import DEFAULT_NAMES
from engine.datasets.cifar10_4k import read_cifar10_4k

from data_helpers import encode_jpeg


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_every_image_set_gets_a_preprocessing_and_a_learning_rate_toy_sets_nothing():
    image_sets = ("digits", "cifar10-4k", "cifar10", "mnist", "fashion-mnist", "folder")
    assert {n for n in dataset_names() if dataset_defaults(n)} == set(image_sets)
    for name in image_sets:
        d = dataset_defaults(name)
        assert d["dataset.preprocess"] != "none" and 0 < d["optim.lr"] < ExperimentConfig().optim.lr + 1e-12, name
        cfg = ExperimentConfig()
        cfg.dataset.name = name
        assert apply_defaults(cfg, d) == d
        cfg.validate()
        assert (cfg.dataset.preprocess, cfg.optim.lr) == (d["dataset.preprocess"], d["optim.lr"])
    for name in (*dataset_names("toy"), "csv", "npz"):
        assert dataset_defaults(name) == {}
    dataset_defaults("cifar10-4k")["optim.lr"] = 99.0          # a copy: callers may change it
    assert dataset_defaults("cifar10-4k")["optim.lr"] != 99.0


def test_apply_defaults_keeps_what_the_user_chose():
    cfg = ExperimentConfig()
    cfg.optim.lr = 0.5
    applied = apply_defaults(cfg, dataset_defaults("cifar10-4k"), keep={"optim.lr"})
    assert applied == {"dataset.preprocess": "standardize"} and cfg.optim.lr == 0.5
    assert describe_defaults(dataset_defaults("cifar10-4k")) == "preprocess standardize, lr 0.01"


def test_first_cifar_run_with_defaults_trains_and_the_first_line_names_them():
    code, doc, err = run("train", "--dataset", "cifar10-4k", "--epochs", "2")
    assert code == 0, err
    assert err.splitlines()[0] == ("[config] image-set defaults for cifar10-4k: preprocess standardize, lr 0.01 "
                                   "(override with --preprocess / --lr)")
    assert not doc["diverged"] and doc["defaults_applied"] == {"dataset.preprocess": "standardize", "optim.lr": 0.01}
    assert doc["test_accuracy"] >= 0.22 and doc["val_accuracy"] >= 0.22        # chance: 0.10 (800 images each)
    assert math.isfinite(doc["final_loss"]) and doc["final_loss"] < doc["initial_loss"] < 10


def test_first_digits_run_with_defaults():
    code, doc, err = run("train", "--dataset", "digits")
    assert code == 0 and "[config] image-set defaults for digits: preprocess standardize, lr 0.1" in err
    assert doc["test_accuracy"] > 0.9 and not doc["diverged"]


def test_first_jpeg_folder_run_with_defaults_trains(tmp_path):
    images, labels = read_cifar10_4k()
    for k, name in enumerate(DEFAULT_NAMES):        # 1,000 CIFAR-sized JPEGs, 100 a class
        (tmp_path / name).mkdir()
        for i in np.flatnonzero(labels == k)[:100]:
            (tmp_path / name / f"{i}.jpg").write_bytes(encode_jpeg(images[i], quality=90))
    code, doc, err = run("train", "--dataset", "folder", "--data-dir", str(tmp_path), "--epochs", "3")
    assert code == 0, err
    assert err.startswith("[config] image-set defaults for folder: preprocess standardize, lr 0.01")
    assert not doc["diverged"] and doc["final_loss"] < doc["initial_loss"]
    held_out = (doc["val_accuracy"] + doc["test_accuracy"]) / 2          # 200 + 200 images; chance 0.10
    assert held_out >= 0.18 and doc["train_accuracy"] > 0.35


def test_flags_and_experiment_files_are_not_overridden(tmp_path):
    code, doc, err = run("train", "--dataset", "digits", "--lr", "0.05", "--epochs", "1")
    assert doc["defaults_applied"] == {"dataset.preprocess": "standardize"}
    assert "(override with --preprocess)" in err.splitlines()[0] and "lr 0.05" in err
    code, doc, err = run("train", "--dataset", "digits", "--preprocess", "scale", "--lr", "0.05", "--epochs", "1")
    assert doc["defaults_applied"] == {} and "[config]" not in err and "preprocess=scale" in err
    path = tmp_path / "exp.json"
    code, doc, _ = run("train", "--dataset", "digits", "--preprocess", "none", "--lr", "0.02", "--epochs", "0",
                       "--save", str(path), "--quiet")
    code, doc, err = run("train", "--config", str(path), "--epochs", "0")
    assert code == 0 and doc["defaults_applied"] == {} and "preprocess=none" in err
    code, doc, err = run("train", "--epochs", "1")             # the spiral: nothing to apply
    assert doc["defaults_applied"] == {} and "[config]" not in err
