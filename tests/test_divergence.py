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


# ------------------------------------------------------------- a finite loss that grows far above its start
from engine.config import DatasetConfig  # noqa: E402
from engine.datasets.registry import dataset_names  # noqa: E402
from engine.trainer import GROWTH_LIMIT  # noqa: E402


def test_raw_pixels_with_the_toy_learning_rate_are_reported_as_diverging():
    """The old first run on CIFAR-10 (0..255 pixels, lr 0.1): the loss went to ~1e9 at chance and
    was not called diverging. Now it stops within a few steps and says why."""
    cfg = ExperimentConfig(dataset=DatasetConfig(name="cifar10-4k", preprocess="none")).validate()
    assert cfg.optim.lr == 0.1
    t = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    t.fit(10)
    h = t.history
    assert t.diverged and t.steps < 40 and all(np.isfinite(h.loss))
    assert min(h.loss[-3:]) > GROWTH_LIMIT * h.loss[0]
    assert t.reason.startswith(f"the loss grew from {h.loss[0]:.2f} at step 1 to {h.loss[-1]:.2g} "
                               f"at step {t.steps} (over 100×) — the learning rate 0.1 is probably too large; "
                               "try 0.01")
    assert "preprocess standardize" in t.reason
    steps = t.steps
    assert t.step().diverged and t.steps == steps          # paused: no further updates


def _not_flagged(cfg, epochs):
    t = Trainer.from_config(cfg.validate(), load_dataset(cfg.dataset))
    t.fit(epochs)
    assert not t.diverged, (cfg.dataset.name, t.reason)
    assert t.steps > 0 and t.evaluate("train")[0] < t.history.loss[0]
    return t


@pytest.mark.parametrize("name", dataset_names("toy"))
@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("momentum", 0.1), ("adam", 0.01), ("sgd", 1.0)])
def test_normal_runs_on_toy_sets_are_not_flagged(name, optimizer, lr):
    cfg = ExperimentConfig()
    cfg.dataset.name = name
    cfg.optim.optimizer, cfg.optim.lr = optimizer, lr
    _not_flagged(cfg, 10)


@pytest.mark.parametrize("preprocess,lr,loss", [("none", 0.1, "softmax"), ("standardize", 0.1, "softmax"),
                                                ("scale", 0.1, "svm"), ("mean", 0.01, "softmax")])
def test_normal_runs_on_digits_are_not_flagged(preprocess, lr, loss):
    cfg = ExperimentConfig()
    cfg.dataset.name, cfg.dataset.preprocess, cfg.optim.lr, cfg.loss.loss = "digits", preprocess, lr, loss
    assert _not_flagged(cfg, 5).evaluate("test")[3] > 0.75


def test_growth_rule_three_steps_over_100x_the_first_at_least_ln_c():
    """A run starting from trained weights (first loss near 0) is measured against ln C, so
    ordinary minibatch noise does not stop it; one spike does not either."""
    cfg = ExperimentConfig()                      # spiral, 3 classes: ln 3 = 1.10
    t = Trainer.from_config(cfg.validate(), load_dataset(cfg.dataset))
    cases = [([0.01, 1.5, 1.6, 1.7], False),      # 150× a tiny start, but far below 100·ln 3
             ([1.2, 500, 1.0, 500], False),       # spikes, not a trend
             ([1.2, 1.3, 500, 500], False),       # only two steps so far above
             ([1.2, 500, 500, 500], True),
             ([0.01, 200, 300, 400], True)]
    for losses, grew in cases:
        t.history.loss = list(losses)
        assert t._grew_too_much() is grew, losses


def test_random_search_is_never_flagged_for_growth():
    cfg = ExperimentConfig()
    cfg.optim.optimizer, cfg.optim.local_step = "random-local-search", 1e-6
    t = Trainer.from_config(cfg.validate(), load_dataset(cfg.dataset))
    t.step()
    for p in t.model.weight_names():
        t.model.params[p] *= 1e4          # the search's current loss jumps far above its first
    for _ in range(10):
        t.step()
    assert min(t.history.loss[-3:]) > GROWTH_LIMIT * t.history.loss[0] and not t.diverged
