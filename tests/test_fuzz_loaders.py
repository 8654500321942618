"""Seeded mutation fuzzing of every loader: a valid file of each kind, damaged at random (bytes
flipped, zeroed, inserted, duplicated, the file cut short), must load or fail with the loader's
own one-line error naming the file — never another exception, never a multi-line message."""
from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import data_helpers as H
from engine.config import DatasetConfig, ExperimentConfig
from engine.datasets import DatasetError, load_dataset
from engine.experiment import Experiment, ExperimentError, load_experiment, save_experiment
from engine.walkthroughs import WalkthroughError, load_walkthrough

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 40          # mutations per file kind and seed: 9 kinds x 40 x 3 seeds = 1,080 files


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    if not b:
        return bytes(b)
    kind = rng.choice(["flip", "cut", "insert", "zero", "dup"])
    i = rng.randrange(len(b))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == "cut":
        del b[i:]
    elif kind == "insert":
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == "zero":
        j = min(len(b), i + rng.randint(1, 64))
        b[i:j] = bytes(j - i)
    else:
        b += b[i:i + 200]
    return bytes(b)


def _expect(load, error, target: Path) -> None:
    t0 = time.monotonic()
    try:
        load()
    except error as e:
        msg = str(e)
        assert "\n" not in msg, msg
        assert target.name in msg or str(target.parent) in msg, msg
    assert time.monotonic() - t0 < 5


def _tree(src: Path, work: Path, rng: random.Random) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    victim = rng.choice(sorted(f for f in work.rglob("*") if f.is_file()))
    victim.write_bytes(mutate(victim.read_bytes(), rng))
    return victim


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    d = tmp_path_factory.mktemp("originals")
    (d / "ok.csv").write_text("label,a,b\n" + "".join(f"{i % 3},{i * 0.5},{i}\n" for i in range(30)))
    np.savez(d / "ok.npz", x=np.random.default_rng(0).random((30, 4)).astype(np.float32), y=np.arange(30) % 3)
    cfg = ExperimentConfig()
    cfg.model.hidden = [8]
    save_experiment(d / "exp.json", Experiment(cfg, {
        "W1": np.ones((2, 8), np.float32), "b1": np.zeros(8, np.float32),
        "W2": np.ones((8, 3), np.float32), "b2": np.zeros(3, np.float32)}))
    H.write_mnist(d / "mnist")
    H.write_cifar_python(d / "cifar-py")
    H.write_cifar_binary(d / "cifar-bin")
    H.make_targz(d / "cifar-py" / "cifar-10-batches-py", d / "cifar-10-python.tar.gz")
    from PIL import Image
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        (d / "images" / c).mkdir(parents=True)
        for k in range(2):
            img = Image.fromarray((rng.random((20, 24, 3)) * 255).astype(np.uint8))
            img.save(d / "images" / c / f"{k}.png")
            img.save(d / "images" / c / f"{k}.jpg", quality=80)
    return d


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_files_fail_cleanly(originals, tmp_path, seed):
    rng = random.Random(seed)
    o = originals
    weights = json.loads((o / "exp.json").read_text())["weights"]
    walkthroughs = sorted((ROOT / "resources" / "walkthroughs").glob("*.json"))
    for _ in range(ROUNDS):
        p = tmp_path / "m.csv"
        p.write_bytes(mutate((o / "ok.csv").read_bytes(), rng))
        _expect(lambda: load_dataset(DatasetConfig(name="csv", data_file=str(p))), DatasetError, p)
        p = tmp_path / "m.npz"
        p.write_bytes(mutate((o / "ok.npz").read_bytes(), rng))
        _expect(lambda: load_dataset(DatasetConfig(name="npz", data_file=str(p))), DatasetError, p)
        e = tmp_path / "exp"
        shutil.rmtree(e, ignore_errors=True)
        e.mkdir()
        shutil.copy(o / "exp.json", e / "exp.json")
        shutil.copy(o / weights, e / weights)
        victim = e / rng.choice(["exp.json", weights])
        victim.write_bytes(mutate(victim.read_bytes(), rng))
        _expect(lambda: load_experiment(e / "exp.json"), ExperimentError, victim)
        w = tmp_path / "w.json"
        w.write_bytes(mutate(rng.choice(walkthroughs).read_bytes(), rng))
        _expect(lambda: load_walkthrough(w), WalkthroughError, w)
        for name, cfg in (("mnist", dict(name="mnist")), ("cifar-py", dict(name="cifar10")),
                          ("cifar-bin", dict(name="cifar10", cifar_format="binary")),
                          ("images", dict(name="folder"))):
            work = tmp_path / name
            victim = _tree(o / name, work, rng)
            _expect(lambda: load_dataset(DatasetConfig(data_dir=str(work), **cfg)), DatasetError, victim)
        a = tmp_path / "cifar-10-python.tar.gz"
        a.write_bytes(mutate((o / "cifar-10-python.tar.gz").read_bytes(), rng))
        _expect(lambda: load_dataset(DatasetConfig(name="cifar10", data_file=str(a))), DatasetError, a)
