"""A diverging run names its real cause: the learning rate only when an update caused it."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine.config import ExperimentConfig
from engine.datasets import load_dataset
from engine.trainer import Trainer


def _run(steps=50, **changes):
    cfg = ExperimentConfig()
    cfg.dataset.samples = 30
    for dotted, value in changes.items():
        part, name = dotted.split("__")
        setattr(getattr(cfg, part), name, value)
    t = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the trainer keeps numpy's overflow warnings to itself
        for _ in range(steps):
            if t.step().diverged:
                break
    assert t.diverged
    return t.reason


@pytest.mark.parametrize("changes, blamed", [
    ({"loss__loss": "svm", "loss__margin": 1e300}, "SVM margin Δ = 1e+300"),
    ({"model__activations": ["elu"], "model__elu_alpha": 1e300}, "ELU α = 1e+300"),
    ({"loss__reg_strength": 1e300}, "regularization strength λ = 1e+300"),
])
def test_an_absurd_setting_is_blamed_not_the_learning_rate(changes, blamed):
    reason = _run(**changes)
    assert blamed in reason and "learning rate" not in reason and "step 1" in reason


def test_a_huge_learning_rate_is_blamed_after_an_update():
    reason = _run(**{"optim__lr": 1e6})
    assert "learning rate 1e+06 is probably too large" in reason
    assert "step 1:" not in reason and "regularization" not in reason


def test_huge_inputs_are_named():
    cfg = ExperimentConfig()
    cfg.dataset.samples = 30
    data = load_dataset(cfg.dataset)
    data.X_train = (data.X_train * np.float32(1e37)).astype(np.float32)
    t = Trainer.from_config(cfg, data)
    for _ in range(20):
        if t.step().diverged:
            break
    assert t.diverged and "preprocess them" in t.reason
