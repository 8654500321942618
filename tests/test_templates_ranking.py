"""An MLP's first-layer templates ranked for a chosen class by their weight into that class's
score (the lecture: several templates per class, mostly not interpretable)."""
import numpy as np

from gui.views.templates_view import rank_units, weights_into_class


def test_two_layer_units_rank_by_their_weight_into_the_class():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(64, 6)), "b1": np.zeros(6), "W2": rng.normal(size=(6, 3)), "b2": np.zeros(3)}
    order, w, exact = rank_units(params, 2)
    assert exact and list(order) == list(np.argsort(-params["W2"][:, 2]))
    assert np.all(np.diff(w) <= 0) and w[0] == params["W2"][:, 2].max()


def test_deeper_networks_rank_by_the_path_through_the_later_layers():
    rng = np.random.default_rng(1)
    params = {"W1": rng.normal(size=(64, 5)), "b1": np.zeros(5), "W2": rng.normal(size=(5, 4)),
              "b2": np.zeros(4), "W3": rng.normal(size=(4, 3)), "b3": np.zeros(3)}
    w, exact = weights_into_class(params, 1)
    assert not exact
    np.testing.assert_allclose(w, params["W2"] @ params["W3"][:, 1])


def test_the_templates_view_ranks_an_mlps_units_for_the_chosen_class(qtbot, window):
    w = window
    cfg = w.config()
    cfg.dataset.name, cfg.dataset.preprocess = "digits", "standardize"
    cfg.model.hidden, cfg.model.activations = [12], ["relu"]
    with qtbot.waitSignal(w.dataset_changed, timeout=20000):
        w.set_config(cfg, "an MLP on digits")
    for _ in range(30):
        w.controller.trainer.step()
    w.controller.publish_now()
    v = w.templates_view
    w.tabs.setCurrentWidget(v)
    qtbot.waitUntil(lambda: w.state.params is not None and w.state.params["W1"].shape[1] == 12, timeout=5000)
    w._redraw(force=True)
    assert v.rank.isVisibleTo(v) and v.rank.count() == 11          # "(in order)" and the ten digits
    v.rank.setCurrentIndex(1 + 7)                                   # rank for the digit 7
    params = w.state.params
    expected = [str(j + 1) for j in np.argsort(-params["W2"][:, 7], kind="stable")]
    assert v.grid.texts[:12] == expected
    assert "ranked by their weight into the score of" in v.caption.text() and "W2[j, class]" in v.caption.text()
    v.rank.setCurrentIndex(0)
    assert v.grid.texts[:12] == [str(k + 1) for k in range(12)]


def test_no_ranking_offered_for_2d_points(qtbot, window):
    w = window
    w.tabs.setCurrentWidget(w.templates_view)
    w._redraw(force=True)
    assert not w.templates_view.rank.isVisibleTo(w.templates_view)   # the spiral: 2-D points
