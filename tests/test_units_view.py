"""Every hidden unit over the input plane (TensorFlow Playground's maps), live: each map is the
unit's activation computed by the engine on the grid, and hovering names its incoming weights."""
import numpy as np

from gui.scorers import grid_extent, grid_points
from gui.views.units_view import MAP_SIZE


def _show_units(qtbot, w):
    w.tabs.setCurrentWidget(w.units_view)
    w.controller.publish_now()
    qtbot.waitUntil(lambda: w.state.params is not None, timeout=5000)
    w._redraw(force=True)


def test_each_map_is_the_units_activation_over_the_plane(qtbot, window):
    w = window                                   # the tiny spiral problem, an MLP 2-16-3 (relu)
    for _ in range(50):
        w.controller.trainer.step()
    _show_units(qtbot, w)
    v = w.units_view
    assert len(v.layers) == 1 and len(v.layers[0][1]) == 16
    params = w.state.params
    d = w.current_dataset()
    pts = grid_points(grid_extent(d.X_train), MAP_SIZE)
    h = np.maximum(0.0, pts @ params["W1"] + params["b1"])          # the first layer, by hand
    for j in (0, 7, 15):
        img = v.layers[0][1][j].image
        expected = h[:, j].reshape(MAP_SIZE, MAP_SIZE)[::-1]       # row 0 at the top: x₂ up
        np.testing.assert_allclose(img, expected, rtol=1e-5, atol=1e-6)
    assert "unit 8" in v.incoming(0, 7) and f"{float(params['b1'][7]):+.3g}" in v.incoming(0, 7)


def test_the_maps_follow_training_and_every_layer(qtbot, window):
    w = window
    cfg = w.config()
    cfg.model.hidden, cfg.model.activations = [8, 5], ["tanh", "relu"]
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        w.set_config(cfg, "two hidden layers")
    _show_units(qtbot, w)
    v = w.units_view
    assert [len(items) for _g, items in v.layers] == [8, 5]
    before = v.layers[1][1][0].image.copy()
    for _ in range(100):
        w.controller.trainer.step()
    w.controller.publish_now()
    qtbot.wait(50)                                # (the maps are recomputed at most once a frame)
    w._redraw(force=True)
    assert not np.allclose(v.layers[1][1][0].image, before)
    assert np.all(np.abs(v.layers[0][1][0].image) <= 1.0)         # tanh


def test_images_and_linear_classifiers_say_why_there_are_no_maps(qtbot, window):
    w = window
    cfg = w.config()
    cfg.model.hidden, cfg.model.activations = [], []
    with qtbot.waitSignal(w.dataset_changed, timeout=10000):
        w.set_config(cfg, "linear")
    _show_units(qtbot, w)
    assert "no hidden units" in w.units_view.caption.text() and not w.units_view.layers
