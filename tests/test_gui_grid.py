"""The decision-region grid the window draws is the engine network's own softmax, for every
activation, whatever the weights' dtype, of the weights it is given (a snapshot's, not the
model's own), and a later call never changes an earlier result."""
from __future__ import annotations

import numpy as np
import pytest

from engine.config import ACTIVATIONS, ModelConfig
from engine.models import build_model
from engine.config import LossConfig
from gui.scorers import GridScorer, grid_extent, grid_points


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_grid_matches_the_engines_probabilities(act, dtype):
    cfg = ModelConfig(hidden=[7, 5], activations=[act, act], init="xavier", dtype=dtype,
                      leaky_slope=0.1, elu_alpha=0.7)
    net = build_model(2, 4, cfg, LossConfig(), seed=3)
    for k in net.params:          # non-zero biases, so a wrong bias or activation shows
        net.params[k] += np.random.default_rng(1).normal(0, 0.5, net.params[k].shape).astype(dtype)
    X = np.random.default_rng(0).uniform(-2, 2, (50, 2))
    pts = grid_points(grid_extent(X), n=12)
    scorer = GridScorer(pts, n=12)
    got = scorer.probabilities(net.params, net)
    want = net.probabilities(pts.astype(dtype)).reshape(12, 12, 4)
    assert got.shape == (12, 12, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("classes", [2, 20])    # column by column, and the general reduction
def test_grid_matches_for_any_number_of_classes(classes):
    cfg = ModelConfig(hidden=[9], activations=["tanh"], init="xavier")
    net = build_model(2, classes, cfg, LossConfig(), seed=5)
    pts = grid_points((-2, 2, -1, 1), n=10)
    got = GridScorer(pts, n=10).probabilities(net.params, net)
    np.testing.assert_allclose(got, net.probabilities(pts).reshape(10, 10, classes), rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(got.sum(axis=2), 1.0, rtol=1e-5)


def test_a_later_call_leaves_an_earlier_grid_alone():
    cfg = ModelConfig(hidden=[6], activations=["relu"])
    a, b = (build_model(2, 3, cfg, LossConfig(), seed=s) for s in (0, 1))
    scorer = GridScorer(grid_points((-1, 1, -1, 1), n=8), n=8)
    first = scorer.probabilities(a.params, a)
    kept = first.copy()
    scorer.probabilities(b.params, b)
    np.testing.assert_array_equal(first, kept)


def test_the_grid_scores_the_weights_given_and_leaves_the_model_alone():
    cfg = ModelConfig(hidden=[6], activations=["elu"])
    a, b = (build_model(2, 3, cfg, LossConfig(), seed=s) for s in (0, 1))
    pts = grid_points((-1, 1, -1, 1), n=8)
    kept = a.copy_params()
    want_a = a.probabilities(pts)
    got = GridScorer(pts, n=8).probabilities(b.params, a)          # b's weights, a's architecture
    np.testing.assert_allclose(got.reshape(64, 3), b.probabilities(pts), rtol=2e-4, atol=2e-6)
    for k, v in kept.items():
        np.testing.assert_array_equal(a.params[k], v)
    np.testing.assert_array_equal(a.probabilities(pts), want_a)


def test_region_image_shows_the_most_probable_class_brighter_when_sure():
    from gui import style
    from gui.views.regions_view import region_image
    rng = np.random.default_rng(0)
    for c in (3, 20):                      # a pass per class, and the argmax path
        probs = rng.dirichlet(np.ones(c), size=(9, 9)).astype(np.float32)
        img = region_image(probs, c)
        assert img.shape == (9, 9, 4) and img.dtype == np.uint8 and np.all(img[..., 3] == 255)
        # the colour formula, computed directly in floating point (the image quantizes the
        # confidence to 64 shades, so it may differ by one shade)
        colours = style.class_rgb(c)
        k = probs.argmax(axis=2)
        a = np.clip((probs.max(axis=2) - 1 / c) / (1 - 1 / c), 0, 1)[..., None]
        bg = np.array([0.08, 0.09, 0.11])
        want = (bg + (colours[k] * 0.55 - bg) * (0.25 + 0.75 * a)) * 255
        np.testing.assert_allclose(img[..., :3], want, atol=2.5)
    sure = np.zeros((1, 2, 3), np.float32)
    sure[0, 0] = [1.0, 0.0, 0.0]           # certain
    sure[0, 1] = [0.4, 0.3, 0.3]           # barely more than a guess
    img = region_image(sure, 3).astype(int)
    assert img[0, 0, :3].sum() > img[0, 1, :3].sum() + 60
