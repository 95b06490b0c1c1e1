"""Statistics on tiny arrays whose answers can be checked by hand."""
import numpy as np
import pytest

from secretlab import stats

from secretlab.stats import (
    bootstrap_indices,
    bucket_mean,
    first_crossing,
    iqm,
    iqm_curve,
    iqm_interval,
    normalised_auc,
    speedup,
    threshold_interval,
    total_target_time_curves,
)


def test_iqm_by_hand():
    # sorted -50 1 2 3 4 5 6 100: trim 2 from each end -> mean of 2, 3, 4, 5 = 3.5
    assert iqm(np.array([100, 1, 3, 4, 5, 6, 2, -50])) == pytest.approx(3.5)
    assert iqm(np.arange(4.0)) == pytest.approx(1.5)  # trims 1 each end -> mean(1, 2)


def test_stratified_bootstrap_resamples_within_tasks():
    idx = bootstrap_indices(n_runs=3, n_tasks=2, n_boot=5, seed=0)
    assert idx.shape == (5, 3, 2) and idx.min() >= 0 and idx.max() <= 2
    # constant scores per task -> every resample gives the same IQM, interval collapses
    scores = np.array([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0], [1.0, 3.0]])
    ci = iqm_interval(scores, n_boot=200)
    assert ci.point == pytest.approx(2.0) and ci.lo == pytest.approx(2.0) and ci.hi == pytest.approx(2.0)


def test_iqm_curve_band_contains_point():
    rng = np.random.default_rng(0)
    curves = rng.random((10, 3, 5))
    point, lo, hi = iqm_curve(curves, n_boot=300)
    assert point.shape == lo.shape == hi.shape == (5,)
    assert (lo <= point + 1e-12).all() and (point <= hi + 1e-12).all()
    np.testing.assert_allclose(point, iqm(curves.reshape(30, 5), axis=0))


def test_bucket_mean_by_hand():
    success = np.array([[1, 0, 1, 1, 0, 0, 1]])
    rates, ends = bucket_mean(success, 2)
    np.testing.assert_allclose(rates, [[0.5, 1.0, 0.0]])
    np.testing.assert_array_equal(ends, [2, 4, 6])
    with pytest.raises(ValueError, match="bucket"):
        bucket_mean(success, 0)


def test_first_crossing_and_threshold():
    x = np.array([10, 20, 30, 40])
    np.testing.assert_array_equal(first_crossing(np.array([[0.1, 0.8, 0.9, 1.0], [0, 0, 0, 0.5]]), x, 0.8),
                                  [20, np.inf])
    # all runs identical: the interval collapses onto the point
    curves = np.tile(np.array([0.0, 0.5, 0.85, 0.9]), (6, 2, 1))
    ci, boot = threshold_interval(curves, x, 0.8, n_boot=100)
    assert (ci.point, ci.lo, ci.hi) == (30.0, 30.0, 30.0)
    never = np.zeros((4, 2, 4))
    ci, _ = threshold_interval(never, x, 0.8, n_boot=50)
    assert ci.point is None and ci.hi is None


def test_speedup_by_hand():
    x = np.array([10, 20, 30, 40])
    slow = np.tile(np.array([0.0, 0.0, 0.0, 0.9]), (5, 2, 1))  # reaches 0.8 at 40
    fast = np.tile(np.array([0.9, 0.9, 0.9, 0.9]), (5, 2, 1))  # at 10
    s = speedup(slow, fast, x, 0.8, n_boot=50)
    assert (s.point, s.lo, s.hi) == (4.0, 4.0, 4.0)
    s = speedup(np.zeros((5, 2, 4)), fast, x, 0.8, n_boot=50)
    assert s.point is None  # reference never gets there: unbounded
    s = speedup(fast, np.zeros((5, 2, 4)), x, 0.8, n_boot=50)
    assert (s.point, s.lo, s.hi) == (0.0, 0.0, 0.0)  # the new arm never gets there
    s = speedup(np.zeros((5, 2, 4)), np.zeros((5, 2, 4)), x, 0.8, n_boot=50)
    assert (s.point, s.lo, s.hi) == (None, None, None)  # neither: undefined


def test_auc_and_total_target_time():
    curves = np.array([[[0.0, 1.0, 1.0, 0.0]]])
    assert normalised_auc(curves)[0, 0] == pytest.approx(0.5)
    success = np.array([[[0, 1, 1]]], dtype=float)
    lengths = np.array([[[100, 10, 10]]], dtype=float)
    # finished at 100, 110, 120 (+50 offset = 150, 160, 170); window 1 = last episode's score
    tt = total_target_time_curves(success, lengths, grid=np.array([0, 120, 150, 165, 200]), offset_steps=50,
                                  window=1)
    np.testing.assert_allclose(tt[0, 0], [0, 0, 0, 1, 1])
    tt2 = total_target_time_curves(success, lengths, grid=np.array([200]), window=2)
    np.testing.assert_allclose(tt2[0, 0], [1.0])  # mean of the last two episodes
    with pytest.raises(ValueError, match="share a shape"):
        total_target_time_curves(success, lengths[..., :2], grid=np.array([1]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="runs, tasks, X"):
        iqm_curve(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="ci"):
        iqm_curve(np.zeros((3, 4, 2)), ci=1.5)
    with pytest.raises(ValueError, match="x must"):
        threshold_interval(np.zeros((3, 4, 2)), np.arange(3))


def test_one_bootstrap_gives_the_curve_band_and_the_crossing_of_two():
    rng = np.random.default_rng(4)
    curves = np.clip(np.cumsum(rng.random((6, 3, 8)) * 0.2, axis=2), 0, 1)
    x = np.arange(1, 9) * 10.0
    point, lo, hi, crossing, boot = stats.iqm_curve_and_crossing(curves, x, 0.8, 300, seed=5)
    p2, lo2, hi2 = stats.iqm_curve(curves, 300, seed=5)
    c2, boot2 = stats.threshold_interval(curves, x, 0.8, 300, seed=5)
    np.testing.assert_array_equal(point, p2)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)
    assert crossing == c2
    np.testing.assert_array_equal(boot, boot2)
    other = np.clip(curves * 0.7, 0, 1)
    assert stats.speedup_from_crossings(stats.threshold_interval(other, x, 0.8, 300, seed=5),
                                        stats.threshold_interval(curves, x, 0.8, 300, seed=6)) == \
        stats.speedup(other, curves, x, 0.8, 300, seed=5)


def test_iqm_difference_by_hand_and_disjoint_below():
    a = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])  # every resample has IQM 1.5
    b = np.zeros((4, 2))
    diff = stats.iqm_difference(a, b, n_boot=50)
    assert (diff.point, diff.lo, diff.hi) == (1.5, 1.5, 1.5)
    with pytest.raises(ValueError, match="same tasks"):
        stats.iqm_difference(a, np.zeros((4, 3)))
    assert stats.disjoint_below(stats.Interval(20, 10, 30), stats.Interval(50, 40, 60))
    assert not stats.disjoint_below(stats.Interval(20, 10, 45), stats.Interval(50, 40, 60))
    assert stats.disjoint_below(stats.Interval(20, 10, 30), stats.Interval(None, None, None))  # below 'never'
    assert not stats.disjoint_below(stats.Interval(None, None, None), stats.Interval(None, None, None))
    assert not stats.disjoint_below(stats.Interval(20, 10, None), stats.Interval(None, 500, None))
