"""Snapshots cross the pipe from the training process in a compact form: what arrives must be
exactly what was made (values, dtypes, shapes), as ordinary writable arrays."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from engine.config import ExperimentConfig
from engine.datasets import load_dataset
from engine.trainer import Trainer
from gui.snapshots import SnapshotMaker


@pytest.fixture(params=["float32", "float64"])
def trainer(request):
    cfg = ExperimentConfig()
    cfg.dataset.samples = 20
    cfg.model.hidden, cfg.model.activations, cfg.model.dtype = [6, 4], ["relu", "tanh"], request.param
    cfg.optim.batch_size = 16
    return Trainer.from_config(cfg, load_dataset(cfg.dataset))


def _same(a, b) -> None:
    assert type(a) is type(b)
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, dict):
            assert x.keys() == y.keys(), name
            for k in x:
                assert x[k].dtype == y[k].dtype and x[k].shape == y[k].shape, (name, k)
                np.testing.assert_array_equal(x[k], y[k])
                assert y[k].flags.writeable, (name, k)
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        elif isinstance(x, float) and np.isnan(x):
            assert np.isnan(y), name
        else:
            assert x == y, name


def test_a_snapshot_survives_the_pipe_exactly(trainer):
    maker = SnapshotMaker(trainer, run_id=7)
    first = maker.make(running=True, sps=0.0)         # nothing trained yet: empty history
    _same(first, pickle.loads(pickle.dumps(first)))
    for _ in range(25):
        trainer.step()
    snap = maker.with_grid(maker.make(running=True, sps=123.0))   # 25 steps, evaluations and a grid
    assert len(snap.hist["loss"]) == 25 and snap.grid is not None
    back = pickle.loads(pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL))
    _same(snap, back)
    assert back.params["W1"].dtype == trainer.model.params["W1"].dtype
    assert not np.shares_memory(back.params["W1"], snap.params["W1"])


def test_a_history_of_odd_shape_still_crosses(trainer):
    import dataclasses
    snap = SnapshotMaker(trainer, run_id=1).make(running=False, sps=0.0)
    odd = dataclasses.replace(snap, hist={"step": np.arange(3.0)}, evals={})   # not the usual keys
    back = pickle.loads(pickle.dumps(odd))
    np.testing.assert_array_equal(back.hist["step"], np.arange(3.0))
    assert back.evals == {}


def test_the_benchmarks_headless_loop_runs_in_the_training_process_on_a_copy(trainer):
    from gui import training_host
    host = training_host.get_host()
    assert host is not None
    trainer.step()
    steps, W1 = trainer.steps, trainer.model.params["W1"].copy()
    rate = host.time_headless(trainer, 0.1)
    assert 10 < rate < 1e6                           # a plain trainer.step() loop, timed there
    assert trainer.steps == steps                    # ... on a copy: the window's trainer is as it was
    np.testing.assert_array_equal(trainer.model.params["W1"], W1)
