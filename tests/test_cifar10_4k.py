"""The bundled CIFAR-10 subset (cifar10-4k): the file, its pixels, a CLI run, the Dataset panel.

Load time is a figure, not a test; measure it with
``python3 -c "import time; t=time.perf_counter(); from engine.datasets.cifar10_4k import read_cifar10_4k as r; r(); print(f'{time.perf_counter()-t:.3f} s')"``.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import DatasetConfig
from engine.datasets import DatasetError, load_dataset
from engine.datasets.cifar import DEFAULT_NAMES
from engine.datasets.cifar10_4k import CIFAR10_4K_PATH, read_cifar10_4k

try:                                     # the GUI test needs pytest-qt and PySide6; the rest does not
    import pytestqt  # noqa: F401
    HAVE_QT = True
except ImportError:
    HAVE_QT = False

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-4k"
COUNTS = [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]   # the shared README's class counts


def test_bundled_file_shapes_and_counts():
    assert CIFAR10_4K_PATH.is_file() and CIFAR10_4K_PATH.stat().st_size < 16 << 20
    images, labels = read_cifar10_4k()
    assert images.shape == (4000, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (4000,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == COUNTS
    assert 0 < images.mean() < 255 and images.std() > 30          # real photos, not blank


@pytest.mark.skipif(not (SHARED / "cifar10_batch_0.png").is_file(), reason="the shared source folder is absent")
def test_first_image_is_row_0_of_the_source_sheet():
    PIL = pytest.importorskip("PIL.Image")
    images, labels = read_cifar10_4k()
    with PIL.open(SHARED / "cifar10_batch_0.png") as im:
        sheet0 = np.asarray(im.convert("RGB"))
    with PIL.open(SHARED / "cifar10_batch_3.png") as im:
        last = np.asarray(im.convert("RGB"))[-1]
    assert np.array_equal(images[0], sheet0[0].reshape(32, 32, 3))
    assert np.array_equal(images[-1], last.reshape(32, 32, 3))
    src_labels = [int(s) for s in (SHARED / "labels.txt").read_text().split()]
    assert labels.tolist() == src_labels


def test_load_dataset_splits_and_preprocessing():
    c = DatasetConfig(name="cifar10-4k", val_fraction=0.1, test_fraction=0.125, preprocess="mean", seed=0)
    c.validate()
    d = load_dataset(c)
    assert d.name == "cifar10-4k" and d.class_names == DEFAULT_NAMES and tuple(d.input_shape) == (32, 32, 3)
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 4000 and len(d.y_test) == 500
    assert d.num_features == 3072 and abs(float(d.X_train.mean())) < 1e-2
    assert d.raw_train is not None and d.raw_train.shape[1:] == (32, 32, 3)
    c2 = DatasetConfig(name="cifar10-4k", subsample=300, preprocess="scale", bias_trick=True)
    c2.validate()
    d2 = load_dataset(c2)
    assert len(d2.y_train) == 300 and d2.num_features == 3073 and float(d2.X_train[:, :-1].max()) <= 1.0


def test_damaged_bundle_is_one_line_error(tmp_path):
    bad = tmp_path / "c.npz"
    np.savez_compressed(bad, images=np.zeros((5, 8, 8, 3), np.uint8), labels=np.zeros(5, np.uint8))
    with pytest.raises(DatasetError, match="32x32x3"):
        read_cifar10_4k(bad)
    with pytest.raises(DatasetError, match="missing"):
        read_cifar10_4k(tmp_path / "absent.npz")


def test_cli_linear_svm_beats_chance():
    from engine import cli
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", "--dataset", "cifar10-4k", "--hidden", "0", "--loss", "svm", "--preprocess", "mean",
                     "--epochs", "3", "--quiet", "--init", "small", "--batch-size", "200", "--lr", "3e-7",
                     "--reg", "l2", "--reg-strength", "1.25e4"], out=out, err=err)
    assert code == 0, err.getvalue()
    r = json.loads(out.getvalue())
    assert r["dataset"] == "cifar10-4k" and not r["diverged"]
    assert r["test_accuracy"] > 0.2, r


@pytest.mark.skipif(not HAVE_QT, reason="pytest-qt / PySide6 not installed")
def test_dataset_panel_offers_and_previews_it(qtbot, window):
    w = window
    p = w.dataset_panel
    assert p.name.findText("cifar10-4k") >= 0
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        p.name.setCurrentText("cifar10-4k")
    d = w.current_dataset()
    assert d.name == "cifar10-4k" and w.config().dataset.name == "cifar10-4k"
    assert not p.src_box.isVisibleTo(p) and not p.toy_box.isVisibleTo(p)   # nothing to choose: bundled
    assert p._preview_for is d and d.raw_train is not None             # sample images per class
    assert w.controller.trainer.model.input_dim == d.num_features == 3072
    assert "Krizhevsky" in w.ABOUT_TEXT and "Karpathy" in w.ABOUT_TEXT
    w.show_about()
