"""Toy 2-D datasets: multiclass, seeded, split with a seed."""
import numpy as np
import pytest

from engine.config import ConfigError, DatasetConfig
from engine.datasets import load_dataset
from engine.datasets.base import DatasetError, split_indices


@pytest.mark.parametrize("name", ["spiral", "circles", "xor", "gaussians", "moons"])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_every_toy_set_is_multiclass_and_seeded(name, k):
    cfg = DatasetConfig(name=name, classes=k, samples=40, noise=0.1, seed=3)
    a, b = load_dataset(cfg), load_dataset(cfg)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    y = np.concatenate([a.y_train, a.y_val, a.y_test])
    assert len(y) == 40 * k and set(np.unique(y)) == set(range(k))
    assert a.X_train.shape[1] == 2 and a.X_train.dtype == np.float32 and a.is_2d
    assert len(a.y_val) == round(40 * k * 0.2) and len(a.y_test) == round(40 * k * 0.2)
    c = load_dataset(DatasetConfig(name=name, classes=k, samples=40, noise=0.1, seed=4))
    assert not np.array_equal(a.X_train, c.X_train)


def test_spiral_matches_the_case_study_construction():
    d = load_dataset(DatasetConfig(name="spiral", classes=3, samples=100, noise=0.0, val_fraction=0, test_fraction=0))
    X = d.X_train[np.argsort(np.linalg.norm(d.X_train, axis=1))]
    assert np.linalg.norm(X[-1]) == pytest.approx(1.0, abs=1e-6)   # radius runs 0..1


def test_split_is_disjoint_and_complete():
    tr, va, te = split_indices(100, 0.2, 0.1, np.random.default_rng(0))
    assert len(tr) == 70 and len(va) == 20 and len(te) == 10
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(100))
    with pytest.raises(DatasetError):
        split_indices(2, 0.5, 0.49, np.random.default_rng(0))


def test_bad_toy_configs():
    with pytest.raises(ConfigError, match="classes"):
        DatasetConfig(classes=1).validate()
    with pytest.raises(ConfigError, match="noise"):
        DatasetConfig(noise=-1).validate()
    with pytest.raises(ConfigError, match="val_fraction"):
        DatasetConfig(val_fraction=1.5).validate()
