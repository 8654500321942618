"""The bounded, incrementally updated picture of a growing curve the loss view draws."""
import numpy as np

from gui.views.history import Decimated


def test_decimated_envelope_keeps_extremes_and_stays_bounded():
    rng = np.random.default_rng(0)
    xs = np.arange(1, 200_001, dtype=float)
    ys = rng.standard_normal(len(xs))
    d = Decimated(cap=512)
    for n in (7, 600, 5_000, 77_777, 200_000):          # grows as training runs
        bx, lo, hi = d.blocks(xs[:n], ys[:n])
        assert len(bx) <= 512 + d.b                       # bounded, however long the run
        assert lo.min() == ys[:n].min() and hi.max() == ys[:n].max()
        assert np.all(lo <= hi) and np.all(np.diff(bx) > 0)
    b, m = d.b, d.used // d.b
    np.testing.assert_allclose(d.mean, ys[:d.used].reshape(m, b).mean(axis=1))
    one_shot = Decimated(cap=512)
    one_shot.update(xs, ys)
    assert one_shot.b == d.b and np.allclose(one_shot.mean, d.mean)


def test_decimated_restarts_when_the_history_is_cleared_and_ignores_nan():
    d = Decimated(cap=4)
    xs = np.arange(20.0)
    d.blocks(xs, xs)
    bx, lo, hi = d.blocks(xs[:3], -xs[:3])
    assert hi.max() == 0 and len(bx) <= 3
    ys = np.ones(40)
    ys[5] = np.nan
    bx, lo, hi = Decimated(cap=4).blocks(np.arange(40.0), ys)
    assert np.nanmax(hi) == 1 and np.nanmin(lo) == 1


def test_decimated_means_end_in_the_mean_of_the_unfinished_block():
    d = Decimated(cap=4)
    xs = np.arange(100.0)
    ys = np.where(xs % 2 == 0, 0.0, 2.0)       # noisy: 0, 2, 0, 2, ...
    mx, my = d.means(xs, ys)
    assert len(mx) <= 4 + 1 and np.all(np.diff(mx) > 0)
    np.testing.assert_allclose(my[:-1], 1.0)    # every complete block averages to 1
    tail = ys[d.used:]
    assert len(tail) == 100 % d.b > 0
    assert mx[-1] == xs[d.used] and my[-1] == tail.mean()       # one point, not a spike per step
