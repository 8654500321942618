"""engine.lecture_tables: the lecture's loss tables (its numbers), the class-mean W for real
images, and the Overfitting lab's presets making their point (fast)."""
from __future__ import annotations

import pathlib
import re
import time

import numpy as np
import pytest

from engine import lecture_tables as T

LECTURE = pathlib.Path(__file__).resolve().parents[2] / "shared" / "lecture" / "000_5b1d273f00572a66.txt"


def test_three_class_table_is_the_slides():
    p = T.LOSS_3CLASS
    assert p.classes == ("cat", "dog", "bird")
    assert p.example_names == ["cat image", "dog image", "bird image"]
    r = T.walkthrough(p.scores, p.labels, "svm")
    np.testing.assert_allclose(r["losses"], [2.9, 0.0, 12.9], atol=1e-12)
    assert round(r["mean"], 2) == 5.27
    s = T.walkthrough(p.scores, p.labels, "softmax")
    assert s["losses"][0] == pytest.approx(2.04, abs=5e-3)       # −ln(0.13), the cat image


def test_cifar10_table_is_the_slides():
    p = T.LOSS_CIFAR10
    assert len(p.classes) == 10 and p.scores.shape == (3, 10)
    assert p.example_names == ["cat image", "automobile image", "frog image"]
    # the slide's first and last numbers, and each image's correct-class score
    assert p.scores[0, 0] == -3.45 and p.scores[2, 9] == 6.14
    assert [p.scores[i, p.labels[i]] for i in range(3)] == [2.9, 6.04, -4.34]
    r = T.walkthrough(p.scores, p.labels, "svm")
    # every term by hand: Σ_{j≠y} max(0, s_j − s_y + 1)
    for i in range(3):
        s, y = p.scores[i], p.labels[i]
        want = sum(max(0.0, s[j] - s[y] + 1) for j in range(10) if j != y)
        assert r["losses"][i] == pytest.approx(want)
    np.testing.assert_allclose(r["losses"], [10.58, 0.27, 71.91], atol=1e-9)
    assert r["mean"] == pytest.approx((10.58 + 0.27 + 71.91) / 3)
    sm = T.walkthrough(p.scores, p.labels, "softmax")
    assert sm["losses"][1] < sm["losses"][0] < sm["losses"][2]   # the car is scored best, the frog worst


@pytest.mark.skipif(not LECTURE.exists(), reason="the lecture text is not beside the repository")
def test_cifar10_table_matches_the_lecture_text():
    rows = {}
    for line in LECTURE.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\s*([a-z]+)\t(-?[\d.]+)\t(-?[\d.]+)\t(-?[\d.]+)\s*", line)
        if m and m.group(1) in T.CIFAR10_CLASSES:
            rows[m.group(1)] = [float(v) for v in m.groups()[1:]]
    assert list(rows) == list(T.CIFAR10_CLASSES)
    np.testing.assert_array_equal(np.array([rows[c] for c in T.CIFAR10_CLASSES]).T, T.LOSS_CIFAR10.scores)


def test_example_names_follow_the_labels():
    assert T.example_names(("cat", "dog"), [1, 0, 1]) == ["dog image", "cat image", "dog image 2"]


def test_class_mean_classifier_is_linear_and_above_chance():
    from gui.labs.image_data import bundled_cifar
    d = bundled_cifar()
    W, b, mu = T.class_mean_classifier(d.X_train, d.y_train, 10, scale=255.0)
    assert W.shape == (10, 3072) and b.shape == (10,)
    xp, s = T.class_mean_scores(W, b, mu, d.X_val, scale=255.0)
    np.testing.assert_allclose(s, xp @ W.T + b)
    # the highest score is the nearest class mean
    dist = ((xp[:, None, :] - W[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(s.argmax(1), dist.argmin(1))
    acc = float((s.argmax(1) == d.y_val).mean())
    assert acc > 0.2, acc           # chance is 0.1


def _train(name, **kw):
    from engine.datasets import load_dataset
    from engine.trainer import Trainer
    cfg = T.overfit_config(name, **kw)
    tr = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    while tr.epoch < cfg.optim.epochs:
        tr.step()
    return T.overfit_point(tr.history)


def test_overfit_presets_make_the_point_fast():
    t0 = time.perf_counter()
    over = _train("over-fitting")
    l2 = _train("over-fitting + L2")
    good = _train("good fit")
    under = _train("under-fitting")
    # over-fitting: training fitted almost perfectly, validation clearly worse, its loss rising again
    assert over["train_acc"] >= 0.95 and over["train_acc"] - over["val_acc"] >= 0.1
    assert over["train_loss"] < 0.1 and over["val_rise"] > 1.5
    # L2: the same network, the train/validation loss gap at least halved, validation loss lower
    assert l2["loss_gap"] <= 0.55 * over["loss_gap"] and l2["val_loss"] < over["val_loss"]
    assert l2["val_rise"] < 1.3
    # good fit: validation loss at its lowest at the end, below the over-fitted one's
    assert good["val_rise"] < 1.05 and good["val_loss"] < over["val_loss"]
    # under-fitting: not even the training set is fitted
    assert under["train_acc"] < 0.7
    assert time.perf_counter() - t0 < 20      # (about 1 s; the old 200-200 preset alone took 24 s)
