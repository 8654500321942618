"""The dataset registry names every dataset once; the command line and the configuration read it,
and the toy 2-D sets go through the same build path as every other set (split, subsample,
preprocessing, bias trick)."""
import argparse
import io
import json

import numpy as np
import pytest

from engine.cli import build_parser, main
from engine.config import ConfigError, DatasetConfig, ExperimentConfig, dataset_defaults
from engine.datasets import DatasetError, load_dataset
from engine.datasets.registry import KINDS, REGISTRY, SOURCES, dataset_info, dataset_names, is_toy

TOYS = dataset_names("toy")


def test_every_entry_is_complete_and_its_loader_exists():
    assert len(set(dataset_names())) == len(REGISTRY) >= 13
    assert TOYS == ("spiral", "circles", "xor", "gaussians", "moons")
    for name, info in REGISTRY.items():
        assert info.name == name and info.title and info.description, name
        assert info.kind in KINDS and set(info.reads) <= set(SOURCES), name
        assert callable(info.resolve()), name
        assert not info.downloads or info.kind == "official", name
        assert not (info.is_toy and (info.reads or info.downloads)), name
        assert is_toy(name) == (info.kind == "toy")
        assert dataset_defaults(name) == info.defaults and dataset_defaults(name) is not info.defaults
    assert dataset_info("no-such-set") is None and not is_toy("no-such-set")
    assert dataset_defaults("no-such-set") == {}


def test_configuration_accepts_exactly_the_registry_names():
    for name in dataset_names():
        DatasetConfig(name=name).validate()
    with pytest.raises(ConfigError, match="dataset.name must be one of spiral, circles"):
        DatasetConfig(name="imagenet").validate()
    with pytest.raises(DatasetError, match="not available"):
        load_dataset(DatasetConfig(name="imagenet"))


def _train_action(flag):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices["train"]._actions if flag in a.option_strings)


def test_cli_dataset_choices_and_help_come_from_the_registry():
    action = _train_action("--dataset")
    assert tuple(action.choices) == dataset_names()
    for name in dataset_names():
        assert name in action.help
    downloads = [n for n, d in REGISTRY.items() if d.downloads]
    assert downloads and all(n in _train_action("--download").help for n in downloads)
    folders = [n for n, d in REGISTRY.items() if d.reads_folder]
    assert folders and all(n in _train_action("--data-dir").help for n in folders)


@pytest.mark.parametrize("name", TOYS)
def test_a_toy_set_with_subsample_n_has_n_training_examples(name):
    full = load_dataset(DatasetConfig(name=name, samples=50))
    assert len(full.y_train) == 90            # 150 points, 20 % validation, 20 % test
    d = load_dataset(DatasetConfig(name=name, samples=50, subsample=25))
    assert len(d.y_train) == 25 and d.X_train.shape == (25, 2)
    assert len(d.y_val) == len(full.y_val) and len(d.y_test) == len(full.y_test)   # only training shrinks
    rows = {tuple(r) for r in full.X_train}
    assert all(tuple(r) in rows for r in d.X_train)                                 # a subset of the split
    np.testing.assert_array_equal(d.X_train, load_dataset(DatasetConfig(name=name, samples=50,
                                                                         subsample=25)).X_train)   # seeded


@pytest.mark.parametrize("name", TOYS)
def test_a_standardized_toy_set_has_zero_mean_unit_variance_training_features(name):
    raw = load_dataset(DatasetConfig(name=name, samples=60))
    d = load_dataset(DatasetConfig(name=name, samples=60, preprocess="standardize"))
    assert raw.preprocess == "none" and raw.stats == {}          # the default keeps the demos' raw points
    assert d.preprocess == "standardize" and d.is_2d
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1.0, atol=1e-4)
    mean, std = d.stats["mean"], d.stats["std"]                   # training statistics, on every split
    np.testing.assert_allclose(d.X_val, (raw.X_val - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.X_test, (raw.X_test - mean) / std, rtol=1e-5, atol=1e-6)


def test_scale_and_mean_apply_to_toy_sets_too():
    d = load_dataset(DatasetConfig(name="xor", preprocess="scale", noise=1.0))
    assert np.abs(d.X_train).max() == pytest.approx(1.0)
    m = load_dataset(DatasetConfig(name="moons", preprocess="mean"))
    np.testing.assert_allclose(m.X_train.mean(axis=0), 0.0, atol=1e-6)


@pytest.mark.parametrize("name", TOYS)
def test_a_toy_set_with_the_bias_trick_has_three_features(name):
    d = load_dataset(DatasetConfig(name=name, bias_trick=True, preprocess="standardize"))
    for X in (d.X_train, d.X_val, d.X_test):
        assert X.shape[1] == 3 and np.all(X[:, 2] == 1.0)
    assert d.num_features == 3 and d.input_shape == (2,) and not d.is_2d
    np.testing.assert_allclose(d.X_train[:, :2].mean(axis=0), 0.0, atol=1e-5)


def test_the_cli_trains_a_subsampled_standardized_toy_set_with_the_bias_trick():
    out, err = io.StringIO(), io.StringIO()
    code = main(["train", "--dataset", "spiral", "--subsample", "40", "--preprocess", "standardize",
                 "--bias-trick", "--hidden", "0", "--epochs", "1"], out, err)
    assert code == 0, err.getvalue()
    assert "spiral: 40 train / 60 val / 60 test, 3 classes, 3 features, preprocess=standardize" in err.getvalue()
    assert "linear classifier: 3 → 3" in err.getvalue()
    assert "[config]" not in err.getvalue()          # toy sets bring no defaults of their own
    assert json.loads(out.getvalue().splitlines()[-1])["dataset"] == "spiral"


def test_a_toy_experiment_trains_with_the_bias_trick():
    from engine.trainer import Trainer
    cfg = ExperimentConfig()
    cfg.dataset.bias_trick = True
    cfg.model.hidden, cfg.model.activations = [], []
    t = Trainer.from_config(cfg.validate(), load_dataset(cfg.dataset))
    assert t.model.copy_params()["W1"].shape == (3, 3)      # the constant feature's weights are the bias
    t.fit(2)
    assert not t.diverged and t.history.loss[-1] < t.history.loss[0]
