"""Multi-seed statistics for learning curves (rliable's estimators, on numpy).

rliable itself does not import in this environment (arch/pandas clash), so the
two estimators the transfer notebooks need are re-implemented here, following
Agarwal et al. (2021) and rliable's code:

- **IQM** (interquartile mean): ``scipy.stats.trim_mean(x, 0.25)`` over all
  runs × tasks pooled together (the mean of the middle 50% of scores).
- **Stratified bootstrap**: each bootstrap sample resamples the *runs* (seeds)
  with replacement independently within each *task* (here: target maze), then
  recomputes the statistic; the 95% interval is the 2.5/97.5 percentile of the
  bootstrap distribution (rliable's default ``percentile`` method).

Shapes: scores are ``(runs, tasks)``; curves are ``(runs, tasks, X)`` with X
points on a common x-axis (episode buckets or target steps).

On top: success rate per episode bucket, episodes-to-threshold (first x where
the IQM curve reaches e.g. 0.8) with its bootstrap interval, speed-up ratios,
normalised area under the curve, and the Total Target Time view (curves against
target-side samples, where the samples spent collecting D count).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats as _scipy_stats

from secretlab.validation import check_int


@dataclass
class Interval:
    """A point estimate with its bootstrap interval (None = never reached / unbounded)."""

    point: float | None
    lo: float | None
    hi: float | None

    def as_dict(self) -> dict:
        return {"point": self.point, "lo": self.lo, "hi": self.hi}

    def __str__(self) -> str:
        f = lambda v: "never" if v is None else f"{v:.3g}"  # noqa: E731
        return f"{f(self.point)} [{f(self.lo)}, {f(self.hi)}]"


def finite_or_none(v: float | None) -> float | None:
    """``float(v)``, or None for None, NaN and ±inf (what the JSON reports write for "no value")."""
    return None if v is None or not math.isfinite(v) else float(v)


def _check_curves(curves: np.ndarray, name: str = "curves") -> np.ndarray:
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 3 or min(curves.shape) < 1:
        raise ValueError(f"{name} must have shape (runs, tasks, X) with every size >= 1, got {curves.shape}")
    return curves


def _check_ci(ci: float, n_boot: int) -> None:
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    check_int("n_boot", n_boot, minimum=1)


# =============================================================================
# Estimators
# =============================================================================
def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean: ``trim_mean(scores, 0.25)``; ``axis=None`` pools everything."""
    return _scipy_stats.trim_mean(np.asarray(scores, dtype=np.float64), 0.25, axis=axis)


def bootstrap_indices(n_runs: int, n_tasks: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_runs, n_tasks) run indices: runs resampled with replacement within each task."""
    rng = np.random.default_rng([seed, 17])
    return rng.integers(0, n_runs, size=(n_boot, n_runs, n_tasks))


def _resample(curves: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """curves (runs, tasks, X), idx (B, runs, tasks) -> (B, runs·tasks, X)."""
    tasks = np.arange(curves.shape[1])[None, None, :]
    sample = curves[idx, tasks]  # (B, runs, tasks, X)
    return sample.reshape(idx.shape[0], -1, curves.shape[2])


def bootstrap_curve_stat(curves: np.ndarray, n_boot: int = 2000, seed: int = 0,
                         statistic: Callable[[np.ndarray], np.ndarray] | None = None,
                         chunk: int = 250) -> np.ndarray:
    """The statistic of ``n_boot`` stratified resamples: (n_boot, X).

    ``statistic`` maps (B, runs·tasks, X) -> (B, X); default IQM over axis 1.
    """
    curves = _check_curves(curves)
    statistic = statistic or (lambda s: iqm(s, axis=1))
    idx = bootstrap_indices(curves.shape[0], curves.shape[1], n_boot, seed)
    return np.concatenate([statistic(_resample(curves, idx[i:i + chunk])) for i in range(0, n_boot, chunk)])


def iqm_curve(curves: np.ndarray, n_boot: int = 2000, ci: float = 0.95,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over runs × tasks at each x, with stratified-bootstrap band: (point, lo, hi), each (X,)."""
    curves = _check_curves(curves)
    _check_ci(ci, n_boot)
    point = iqm(curves.reshape(-1, curves.shape[2]), axis=0)
    boot = bootstrap_curve_stat(curves, n_boot, seed)
    lo, hi = np.percentile(boot, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2], axis=0)
    return np.atleast_1d(point), lo, hi


def iqm_interval(scores: np.ndarray, n_boot: int = 2000, ci: float = 0.95, seed: int = 0) -> Interval:
    """IQM of scores (runs, tasks) with its stratified-bootstrap interval."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (runs, tasks), got {scores.shape}")
    point, lo, hi = iqm_curve(scores[:, :, None], n_boot, ci, seed)
    return Interval(float(point[0]), float(lo[0]), float(hi[0]))


def iqm_difference(scores_a: np.ndarray, scores_b: np.ndarray, n_boot: int = 2000, ci: float = 0.95,
                   seed: int = 0) -> Interval:
    """IQM(a) − IQM(b) of two arms' scores (runs, tasks), each resampled independently (stratified)."""
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"scores_a and scores_b must have shape (runs, tasks) with the same tasks, "
                         f"got {a.shape} and {b.shape}")
    _check_ci(ci, n_boot)
    boot_a = bootstrap_curve_stat(a[:, :, None], n_boot, seed)[:, 0]
    boot_b = bootstrap_curve_stat(b[:, :, None], n_boot, seed + 1)[:, 0]
    lo, hi = np.percentile(boot_a - boot_b, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2])
    return Interval(float(iqm(a) - iqm(b)), float(lo), float(hi))


def disjoint_below(a: Interval, b: Interval) -> bool:
    """True when interval ``a`` lies entirely below ``b`` (None bounds read as +inf, i.e. 'never')."""
    a_hi = math.inf if a.hi is None else a.hi
    b_lo = math.inf if b.lo is None else b.lo
    return a_hi < b_lo


# =============================================================================
# Learning-curve summaries
# =============================================================================
def bucket_mean(per_episode: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over consecutive episode buckets.

    ``per_episode`` (..., E) -> (rates (..., E // bucket), bucket_ends (E // bucket,)),
    where ``bucket_ends[j] = (j + 1) · bucket`` is the number of episodes done at
    the end of bucket j. A trailing partial bucket is dropped.
    """
    per_episode = np.asarray(per_episode, dtype=np.float64)
    check_int("bucket", bucket, minimum=1)
    n = per_episode.shape[-1] // bucket
    if n < 1:
        raise ValueError(f"bucket={bucket} is larger than the number of episodes {per_episode.shape[-1]}")
    rates = per_episode[..., : n * bucket].reshape(*per_episode.shape[:-1], n, bucket).mean(-1)
    return rates, (np.arange(n) + 1) * bucket


def first_crossing(curve: np.ndarray, x: np.ndarray, threshold: float) -> np.ndarray:
    """x of the first point where ``curve`` (..., X) >= threshold; ``inf`` where never. Shape (...)."""
    curve = np.asarray(curve)
    hit = curve >= threshold
    first = np.argmax(hit, axis=-1)
    return np.where(hit.any(axis=-1), np.asarray(x, dtype=np.float64)[first], np.inf)


def threshold_interval(curves: np.ndarray, x: np.ndarray, threshold: float = 0.8, n_boot: int = 2000,
                       ci: float = 0.95, seed: int = 0) -> tuple[Interval, np.ndarray]:
    """First x where the IQM curve reaches ``threshold``, with its bootstrap interval.

    ``curves`` (runs, tasks, X), ``x`` (X,). Returns the Interval (None where
    never reached; an upper bound of None means "not reached in the
    bootstrap's upper tail") and the (n_boot,) bootstrap values (inf = never).
    """
    *_, crossing, crossings = iqm_curve_and_crossing(curves, x, threshold, n_boot, ci, seed)
    return crossing, crossings


def _percentiles_with_inf(boot: np.ndarray, ci: float) -> tuple[float | None, float | None]:
    # 'inf' sorts last, so a percentile that lands on it means "never" (None).
    lo, hi = np.percentile(boot, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2], method="lower")
    return finite_or_none(float(lo)), finite_or_none(float(hi))


def speedup(curves_ref: np.ndarray, curves_new: np.ndarray, x: np.ndarray, threshold: float = 0.8,
            n_boot: int = 2000, ci: float = 0.95, seed: int = 0) -> Interval:
    """Speed-up ratio x_ref / x_new of the threshold crossings, with a bootstrap interval.

    The two arms are resampled independently (stratified within tasks; seeds ``seed`` and
    ``seed + 1``). A reference that never crosses gives an unbounded ratio (None); a new arm
    that never crosses gives 0; neither crossing is undefined (None, and such bootstrap
    samples are left out of the interval).
    """
    ref = threshold_interval(curves_ref, x, threshold, n_boot, ci, seed)
    new = threshold_interval(curves_new, x, threshold, n_boot, ci, seed + 1)
    return speedup_from_crossings(ref, new, ci)


def speedup_from_crossings(ref: tuple[Interval, np.ndarray], new: tuple[Interval, np.ndarray],
                           ci: float = 0.95) -> Interval:
    """:func:`speedup` from two :func:`threshold_interval` results (Interval, (n_boot,) crossings)."""
    (ref_int, ref_boot), (new_int, new_boot) = ref, new

    def ratio(a, b):
        # never/never is undefined (nan); never/finite is unbounded (inf); finite/never is 0.
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(np.isinf(b), 0.0, a / b)
        r = np.where(np.isinf(a) & ~np.isinf(b), np.inf, r)
        return np.where(np.isinf(a) & np.isinf(b), np.nan, r)

    a = np.inf if ref_int.point is None else ref_int.point
    b = np.inf if new_int.point is None else new_int.point
    point = float(ratio(a, b))
    boot = ratio(ref_boot, new_boot)
    boot = boot[~np.isnan(boot)]
    lo, hi = _percentiles_with_inf(boot, ci) if len(boot) else (None, None)
    return Interval(None if math.isnan(point) else finite_or_none(point), lo, hi)


def iqm_curve_and_crossing(curves: np.ndarray, x: np.ndarray, threshold: float = 0.8, n_boot: int = 2000,
                           ci: float = 0.95, seed: int = 0
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Interval, np.ndarray]:
    """:func:`iqm_curve` and :func:`threshold_interval` of the same curves from ONE bootstrap.

    Returns (point, lo, hi) each (X,), the crossing Interval and its (n_boot,) bootstrap
    crossings: the same numbers as the two functions called with the same seed, at half the cost.
    """
    curves = _check_curves(curves)
    _check_ci(ci, n_boot)
    if np.shape(x) != (curves.shape[2],):
        raise ValueError(f"x must have shape (X={curves.shape[2]},), got {np.shape(x)}")
    point = np.atleast_1d(iqm(curves.reshape(-1, curves.shape[2]), axis=0))
    boot = bootstrap_curve_stat(curves, n_boot, seed)
    lo, hi = np.percentile(boot, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2], axis=0)
    crossings = first_crossing(boot, x, threshold)
    c_lo, c_hi = _percentiles_with_inf(crossings, ci)
    crossing = Interval(finite_or_none(float(first_crossing(point, x, threshold))), c_lo, c_hi)
    return point, lo, hi, crossing, crossings


def normalised_auc(curves: np.ndarray) -> np.ndarray:
    """Area under each run's curve divided by its length (the mean over X): (runs, tasks)."""
    return _check_curves(curves).mean(axis=2)


def total_target_time_curves(per_episode: np.ndarray, lengths: np.ndarray, grid: np.ndarray,
                             offset_steps: np.ndarray | float = 0.0, window: int = 10) -> np.ndarray:
    """Curves against *target-side samples* (Total Target Time Scenario, Taylor & Stone 2009).

    ``per_episode`` (runs, tasks, E) scores (e.g. success), ``lengths`` (runs,
    tasks, E) steps of each episode, ``offset_steps`` target steps spent before
    learning (the |D| random-policy trajectories collected in the target maze
    for the SECRET potential; scalar or (tasks,)). Each run's score at target
    step g is the mean of its last ``window`` episodes finished by g (0 before
    the first one finishes or before the offset is paid). Returns (runs, tasks, len(grid)).
    """
    per_episode = np.asarray(per_episode, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    if per_episode.shape != lengths.shape or per_episode.ndim != 3:
        raise ValueError(f"per_episode and lengths must share a shape (runs, tasks, E), "
                         f"got {per_episode.shape} and {lengths.shape}")
    runs, tasks, e = per_episode.shape
    check_int("window", window, minimum=1)
    offset = np.broadcast_to(np.asarray(offset_steps, dtype=np.float64), (tasks,))
    finished_at = np.cumsum(lengths, axis=-1) + offset[None, :, None]  # (runs, tasks, E)
    csum = np.concatenate([np.zeros((runs, tasks, 1)), np.cumsum(per_episode, axis=-1)], axis=-1)
    count = np.minimum(np.arange(1, e + 1), window)
    moving = (csum[..., 1:] - csum[..., np.maximum(np.arange(1, e + 1) - window, 0)]) / count
    out = np.zeros((runs, tasks, len(grid)))
    grid = np.asarray(grid, dtype=np.float64)
    for r in range(runs):  # runs·tasks searchsorted calls, each vectorised over the grid
        for t in range(tasks):
            k = np.searchsorted(finished_at[r, t], grid, side="right")  # episodes finished by g
            out[r, t] = np.where(k > 0, moving[r, t, np.maximum(k - 1, 0)], 0.0)
    return out
