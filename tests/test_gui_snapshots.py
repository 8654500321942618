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


def test_a_quiet_schedule_alternates_publishing_and_silent_steps(trainer, tmp_path):
    """bench_gui's headless reference, a hook it puts between the training process's steps:
    phases of the usual loop and of silent steps, logged back to back, with no snapshot
    published inside a quiet phase."""
    import time
    from benchmarks.quiet_schedule import QuietSchedule, read_log
    from gui import training_host
    host = training_host.get_host()
    assert host is not None
    trainer.cfg.optim.epochs = -1                       # until stopped
    log = tmp_path / "phases.json"
    host.between_steps = (f"{QuietSchedule.__module__}:QuietSchedule", {"on": 0.05, "off": 0.05, "log": str(log)})
    try:
        host.start_run(trainer, 7, 0.01)
        msgs, t0 = [], None
        while not msgs or msgs[-1][0] != "stopped":
            # 0.6 s from the first snapshot: a loaded machine may take that long to start the run
            if t0 is not None and time.perf_counter() - t0 > 0.6:
                host.send(("stop",))
                t0 = float("inf")
            m = host.receive(0.05)
            if m is not None:
                assert m[0] in ("snap", "stopped"), m
                msgs.append(m)
                if t0 is None:
                    t0 = time.perf_counter()
    finally:
        host.between_steps = None
    snaps = [m[1] for m in msgs if m[0] == "snap"]
    phases, final = read_log(str(log)), msgs[-1]      # written before the run's end was sent
    assert len(phases) >= 5
    assert [p[0] for p in phases] == ["window", "quiet"] * (len(phases) // 2) + ["window"] * (len(phases) % 2)
    for (_, a0, a1, m0, m1), (_, b0, b1, n0, n1) in zip(phases, phases[1:]):
        assert a0 <= a1 <= b0 <= b1 and m1 == n0          # back to back, every step counted once
    assert phases[0][3] == trainer.steps and phases[-1][4] == final[2]["steps"]
    quiet = [p for p in phases if p[0] == "quiet"]
    assert all(p[4] > p[3] for p in quiet)                # they trained
    assert all(abs(p[2] - p[1] - 0.05) < 0.05 for p in quiet)
    assert snaps and all(not (q[1] < s.time < q[2]) for s in snaps for q in quiet)
    # a later run without the hook does not run it
    log.unlink()
    host.start_run(trainer, 8, 0.01)
    host.send(("stop",))
    kinds = []
    while not kinds or kinds[-1] != "stopped":
        kinds.append(host.receive(5.0)[0])
    assert not log.exists()


def test_a_snapshot_crosses_the_pipe_exactly(trainer):
    """What the training process sends (make_wire) unpickles as a Snapshot holding exactly the
    trainer's new history entries and weights, as private writable arrays; make() (the window
    process's own snapshots) gives the same."""
    import dataclasses
    h = trainer.history
    a, b = SnapshotMaker(trainer, run_id=3), SnapshotMaker(trainer, run_id=3)
    a.want_grid.clear()
    for n in (0, 25, 0, 7):                     # empty history first; 25 steps with evaluations
        s0, e0 = len(h.step), len(h.eval_step)
        for _ in range(n):
            trainer.step()
        back = pickle.loads(pickle.dumps(b.make_wire(running=True, sps=12.5)))
        made = a.make(running=True, sps=12.5)
        assert isinstance(back, type(made)) and back.time <= made.time
        _same(dataclasses.replace(back, time=made.time), made)
        assert (back.run_id, back.step, back.history_start, back.eval_start) == (3, trainer.steps, s0, e0)
        for k, v in back.hist.items():
            np.testing.assert_array_equal(v, np.array(getattr(h, k)[s0:], dtype=np.float64))
        for k, v in back.evals.items():
            np.testing.assert_array_equal(v, np.array(getattr(h, k)[e0:], dtype=np.float64))
        assert len(back.hist["step"]) == n
        for k, v in trainer.model.params.items():
            assert back.params[k].dtype == v.dtype
            np.testing.assert_array_equal(back.params[k], v)
    assert len(h.eval_step) > 0
    W1 = back.params["W1"].copy()
    trainer.step()
    np.testing.assert_array_equal(back.params["W1"], W1)    # a copy, not the trainer's array


def test_a_large_dataset_reaches_the_training_process_exactly():
    """Arrays from 1 MB are shared, not copied: the window's dataset then views the shared
    segment (same values), and the training process, trained on what it mapped, ends with exactly
    the weights of the same steps taken here; the next dataset's handover unlinks the segment."""
    import os
    from engine.datasets.base import Dataset
    from gui import training_host
    host = training_host.get_host()
    assert host is not None
    rng = np.random.default_rng(5)
    X = rng.standard_normal((5000, 64)).astype(np.float32)      # 1.3 MB: sent raw
    y = rng.integers(0, 4, 5000)
    d = Dataset("big", X, y, X[:50].copy(), y[:50].copy(), X[50:100].copy(), y[50:100].copy(),
                ["a", "b", "c", "d"], (64,))
    assert X.nbytes >= training_host._BIG > d.X_val.nbytes
    cfg = ExperimentConfig()
    cfg.model.hidden, cfg.model.activations = [8], ["tanh"]
    cfg.optim.batch_size, cfg.optim.epochs = 500, 1                  # the run ends after 10 steps
    there, here = Trainer.from_config(cfg, d), Trainer.from_config(cfg, d)
    kept = X.copy()
    host.start_run(there, 1, 10.0)
    segment = host._segment
    assert segment is not None and d.X_train is not X and not d.X_train.flags.owndata
    np.testing.assert_array_equal(d.X_train, kept)
    assert d.X_val.flags.owndata                                    # small: pickled
    while True:
        m = host.receive(10.0)
        assert m is not None and m[0] != "error", m
        if m[0] == "stopped":
            state = m[2]
            break
    while here.steps < state["steps"]:
        here.step()
    assert state["steps"] == 10
    there.load_state_dict(state)
    for k, v in here.model.params.items():
        np.testing.assert_array_equal(there.model.params[k], v)
    small = Trainer.from_config(cfg, Dataset("small", X[:100].copy(), y[:100].copy(), X[:50].copy(), y[:50].copy(),
                                             X[50:100].copy(), y[50:100].copy(), ["a", "b", "c", "d"], (64,)))
    small.cfg.optim.epochs = 1
    host.start_run(small, 2, 10.0)
    while host.receive(10.0)[0] != "stopped":
        pass
    assert host._segment is None
    if os.name == "posix":
        assert not os.path.exists(f"/dev/shm/{segment.name.lstrip('/')}")
    np.testing.assert_array_equal(d.X_train, kept)                   # still mapped while it is used


def test_without_room_in_shared_memory_the_dataset_is_pickled(monkeypatch):
    """(A container's /dev/shm is often 64 MB: writing past it would kill the window.)"""
    from engine.datasets.base import Dataset
    from gui import training_host
    host = training_host.get_host()
    monkeypatch.setattr(training_host, "_shm_free", lambda: 0)
    X = np.random.default_rng(6).standard_normal((5000, 64)).astype(np.float32)
    y = np.arange(5000) % 3
    d = Dataset("big", X, y, X[:30].copy(), y[:30].copy(), X[30:60].copy(), y[30:60].copy(), ["a", "b", "c"], (64,))
    cfg = ExperimentConfig()
    cfg.model.hidden, cfg.model.activations = [4], ["relu"]
    cfg.optim.batch_size, cfg.optim.epochs = 2500, 1
    t = Trainer.from_config(cfg, d)
    host.start_run(t, 1, 10.0)
    assert host._segment is None and d.X_train is X
    while (m := host.receive(10.0))[0] != "stopped":
        assert m[0] != "error", m
    assert m[2]["steps"] == 2


def test_live_predictions_are_the_models_own_and_refresh_in_turns():
    """The Predictions view's live probabilities: after one full pass they are the model's own
    (to float32 rounding); later calls re-predict one chunk each, so after as many calls as there
    are chunks every example reflects the newest weights."""
    from gui import scorers
    cfg = ExperimentConfig()
    cfg.dataset.samples, cfg.dataset.val_fraction = 400, 0.5          # 600 validation points: 3 chunks
    cfg.model.hidden, cfg.model.activations, cfg.model.dtype = [8], ["tanh"], "float64"
    t = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    maker = SnapshotMaker(t, run_id=1)
    maker.want_grid.clear()
    snap = maker.make(running=True, sps=0.0)
    assert snap.preds is None                                         # not wanted: not computed
    maker.want_preds.set()
    X, n = t.data.X_val, len(t.data.y_val)
    assert n > 2 * scorers.PRED_CHUNK
    first = maker.make(running=True, sps=0.0).preds
    np.testing.assert_allclose(first, t.model.probabilities(X), atol=1e-5)
    old = t.model.probabilities(X)
    for _ in range(20):
        t.step()
    new = t.model.probabilities(X)
    assert np.abs(new - old).max() > 1e-3
    chunks = -(-n // scorers.PRED_CHUNK)
    p = maker.make(running=True, sps=0.0).preds                      # one chunk is new, the rest old
    np.testing.assert_allclose(p[:scorers.PRED_CHUNK], new[:scorers.PRED_CHUNK], atol=1e-5)
    np.testing.assert_allclose(p[scorers.PRED_CHUNK:], old[scorers.PRED_CHUNK:], atol=1e-5)
    for _ in range(chunks - 1):
        p = maker.with_grid(maker.make_wire(running=True, sps=0.0).snapshot()).preds   # the relay's path
    np.testing.assert_allclose(p, new, atol=1e-5)
