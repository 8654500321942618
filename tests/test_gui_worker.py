"""The window's training thread (used when the training process cannot start) runs the engine's
run loop: snapshots carry every step once, live settings take effect between steps, stop and
the epoch budget end the run with a final snapshot saying which."""
from __future__ import annotations

import queue
import threading

import numpy as np

from engine.config import ExperimentConfig
from engine.datasets import load_dataset
from engine.trainer import Trainer
from gui.snapshots import SnapshotMaker
from gui.worker import TrainingWorker


def _worker(epochs: int):
    cfg = ExperimentConfig()
    cfg.dataset.samples = 20
    cfg.model.hidden, cfg.model.activations = [6], ["relu"]
    cfg.optim.batch_size, cfg.optim.epochs = 12, epochs
    t = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    maker = SnapshotMaker(t, 1)
    maker.want_grid.clear()
    settings, stop = queue.Queue(), threading.Event()
    return t, settings, stop, TrainingWorker(t, maker, settings, stop, publish_interval=0.0)


def test_the_thread_worker_publishes_applies_settings_and_stops(qapp):
    t, settings, stop, w = _worker(-1)
    snaps = []

    def on(s):                       # (same thread: called at once)
        snaps.append(s)
        if len(snaps) == 3:
            settings.put(("lr", 0.01))
        if len(snaps) == 8:
            stop.set()
    w.published.connect(on)
    w.run()
    last = snaps[-1]
    assert not last.running and not last.finished and last.step == t.steps
    assert all(s.running for s in snaps[:-1])
    assert t.base_lr == 0.01 and snaps[-2].lr == 0.01
    steps = np.concatenate([s.hist["step"] for s in snaps])
    np.testing.assert_array_equal(steps, np.arange(1, t.steps + 1))    # every step once, in order


def test_the_thread_worker_ends_when_the_epochs_are_done(qapp):
    t, settings, stop, w = _worker(2)
    snaps = []
    w.published.connect(snaps.append)
    w.run()
    assert snaps[-1].finished and not snaps[-1].running and t.budget_spent and t.steps == 6
