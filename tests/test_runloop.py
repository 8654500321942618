"""The one training run loop (engine.runloop.run) and the one table of live settings
(engine.trainer.LIVE_SETTINGS) that the command line, the window's thread and the training
process share."""
from __future__ import annotations

import queue

import pytest

from engine import runloop
from engine.config import ConfigError, ExperimentConfig, get_path
from engine.datasets import load_dataset
from engine.trainer import LIVE_PATHS, LIVE_SETTINGS, Trainer, apply_setting


@pytest.fixture
def trainer():
    cfg = ExperimentConfig()
    cfg.dataset.samples = 20                      # 36 training examples
    cfg.model.hidden, cfg.model.activations = [6], ["relu"]
    cfg.optim.batch_size, cfg.optim.epochs = 12, 2
    return Trainer.from_config(cfg, load_dataset(cfg.dataset))


VALUES = {"lr": 0.03, "reg_strength": 0.25, "batch_size": 5, "epochs": 7, "schedule": "step",
          "step_every": 3, "gamma": 0.7}


def test_every_live_setting_changes_its_configuration_field(trainer):
    assert set(LIVE_SETTINGS) == set(VALUES)
    assert LIVE_PATHS == {s.path: s.name for s in LIVE_SETTINGS.values()}
    for name, value in VALUES.items():
        apply_setting(trainer, name, value)
        assert get_path(trainer.cfg, LIVE_SETTINGS[name].path) == value, name
    assert trainer.base_lr == 0.03 and trainer.batch_size == 5
    assert trainer.model.loss_cfg.reg_strength == 0.25
    with pytest.raises(KeyError):
        apply_setting(trainer, "no_such_setting", 1)
    with pytest.raises(ConfigError):
        apply_setting(trainer, "lr", -1.0)


def test_queued_settings_apply_oldest_first(trainer):
    q = queue.Queue()
    for v in (0.2, 0.3):
        q.put(("lr", v))
    runloop.drain_settings(q, trainer)
    assert q.empty() and trainer.base_lr == 0.3


def test_a_run_ends_when_the_epoch_budget_is_spent(trainer):
    steps = []
    end = runloop.run(trainer, on_step=steps.append)
    assert end.why == "finished" and end.finished and trainer.budget_spent
    assert [r.step for r in steps] == list(range(1, trainer.steps + 1)) and trainer.steps == 6
    assert runloop.run(trainer).why == "finished" and trainer.steps == 6      # nothing left to do


def test_a_run_stops_when_check_says_so_and_checks_before_every_step(trainer):
    trainer.cfg.optim.epochs = -1                  # until stopped
    calls = []

    def check():
        calls.append(trainer.steps)
        return trainer.steps >= 4
    end = runloop.run(trainer, check=check)
    assert end.why == "stopped" and trainer.steps == 4 and calls == [0, 1, 2, 3, 4]


def test_a_run_publishes_at_most_every_interval_when_ready(trainer):
    trainer.cfg.optim.epochs = -1
    published, between = [], []
    ready = iter([False, True] * 1000)
    runloop.run(trainer, check=lambda: trainer.steps >= 50, publish=published.append, publish_interval=0.0,
                ready=lambda: next(ready), between_steps=lambda: between.append(trainer.steps))
    assert len(published) == 25 and between == list(range(1, 51))
    published.clear()
    runloop.run(trainer, check=lambda: trainer.steps >= 60, publish=published.append, publish_interval=3600)
    assert published == []


def test_a_diverging_run_ends_diverged_and_never_starts_again(trainer):
    apply_setting(trainer, "lr", 1e30)
    trainer.cfg.optim.epochs = -1
    results = []
    end = runloop.run(trainer, on_step=results.append)
    assert end.why == "diverged" and trainer.diverged and results[-1].diverged
    n = trainer.steps
    assert runloop.run(trainer, on_step=results.append).why == "diverged" and trainer.steps == n


def test_fit_trains_whole_epochs_and_honours_should_stop(trainer):
    seen = []
    trainer.fit(1, on_step=seen.append)
    assert trainer.epoch == 1.0 and len(seen) == 3 and seen[-1].epoch_end
    trainer.fit(5, should_stop=lambda: trainer.steps >= 5)
    assert trainer.steps == 5


def test_a_hook_is_named_by_module_and_factory(trainer, tmp_path):
    from benchmarks.quiet_schedule import read_log
    log = tmp_path / "p.json"
    hook = runloop.load_hook(("benchmarks.quiet_schedule:QuietSchedule", {"on": 0.0, "off": 0.0, "log": str(log)}),
                             trainer)
    assert runloop.load_hook(None, trainer) is None
    trainer.cfg.optim.epochs = -1
    runloop.run(trainer, check=lambda: trainer.steps >= 3, between_steps=hook)
    runloop.close_hook(hook)
    kinds = [p[0] for p in read_log(str(log))]
    assert kinds[:2] == ["window", "quiet"] and kinds[-1] == "window"
