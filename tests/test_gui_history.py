"""The bounded, incrementally updated picture of a growing curve the loss view draws."""
import numpy as np

from gui.views.history import Decimated


def test_decimated_envelope_keeps_extremes_and_stays_bounded():
    rng = np.random.default_rng(0)
    xs = np.arange(1, 200_001, dtype=float)
    ys = rng.standard_normal(len(xs))
    d = Decimated(cap=512)
    for n in (7, 600, 5_000, 77_777, 200_000):          # grows as training runs
        ex, ey = d.envelope(xs[:n], ys[:n])
        assert len(ex) <= 2 * 512 + d.b                  # bounded, however long the run
        assert ey.min() == ys[:n].min() and ey.max() == ys[:n].max()
        assert np.all(np.diff(ex) >= 0)
    b, m = d.b, d.used // d.b
    np.testing.assert_allclose(d.mean, ys[:d.used].reshape(m, b).mean(axis=1))
    one_shot = Decimated(cap=512)
    one_shot.update(xs, ys)
    assert one_shot.b == d.b and np.allclose(one_shot.mean, d.mean)


def test_decimated_restarts_when_the_history_is_cleared_and_ignores_nan():
    d = Decimated(cap=4)
    xs = np.arange(20.0)
    d.envelope(xs, xs)
    ex, ey = d.envelope(xs[:3], -xs[:3])
    assert ey.max() == 0 and len(ex) <= 6
    ys = np.ones(40)
    ys[5] = np.nan
    ex, ey = d.envelope(np.arange(40.0), ys)
    assert np.nanmax(ey) == 1
