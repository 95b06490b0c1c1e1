"""Tabular transfer experiments (paper §3.2, Fig. 4 left and Fig. 5): the driver of notebooks 04 and 05.

One experiment = a source-trained SECRET model, several held-out *target* mazes,
and several arms of tabular Q-learning in every target maze. The arms cross a
**credit source** (:mod:`secretlab.credit_controls`: the learned ``secret``
rows, its ``secret_sparse`` cut, and the ``uniform``, ``shuffled``, ``ideal`` and
``ideal_negative`` controls) with a **potential form** (:mod:`secretlab.forms`:
the paper's ``phi``, the ``carried`` and ``advice`` extensions), at every |D|:

- ``q_learning``: plain Q-learning on the environment reward;
- ``q_learning_oracle``: + shaping from the ground-truth potential (reference);
- ``q_learning_{source}_{form}``: the form built from that source's rows on
  |D| = ``n_target_trajectories`` random-policy episodes of the target maze;
  ``q_learning_{source}_{form}_D{n}`` the same with |D| = n (nested subsets of the
  same episodes, so only |D| changes);
- ``q_learning_secret`` is an alias of ``q_learning_secret_phi`` in the JSON (the paper's arm).

``ideal_negative`` differs from ``ideal`` only in its −1 rows, so it runs only
with forms that use −1 rows (``FormSigns``; by default only ``phi``).

Every (arm, maze, seed) agent trains in ONE batched Q-learning run
(:func:`secretlab.agents.qlearning.train_q_learning`); agents of the same
(maze, seed) share a random stream across arms (common random numbers), and an
agent's numbers do not depend on which other arms run. Statistics treat the
target mazes as tasks and the seeds as runs (IQM, stratified bootstrap; see
:mod:`secretlab.stats`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from secretlab import stats
from secretlab.advice import Advice
from secretlab.agents.qlearning import QLearningConfig, train_q_learning
from secretlab.credit_controls import CREDIT_SOURCES, MODEL_SOURCES, check_source, control_rows
from secretlab.data import DatasetConfig, load_or_collect, maze_seeds
from secretlab.envs.triggers import N_ACTIONS, Layout, TriggersConfig, sample_layout
from secretlab.forms import FORMS, SIGNS, FormSigns, check_form, shaping_from_rows
from secretlab.seeds import derive_seed
from secretlab.shaping import Potential, check_gamma, oracle_potential
from secretlab.validation import check_choice, check_int

PLAIN, ORACLE = "q_learning", "q_learning_oracle"
SECRET = "q_learning_secret"
"""The paper's arm: an alias of ``q_learning_secret_phi``."""


def arm_name(source: str, form: str, n: int | None = None) -> str:
    """``q_learning_{source}_{form}``, with ``_D{n}`` for a |D| other than the main one."""
    return f"q_learning_{source}_{form}" + ("" if n is None else f"_D{n}")


class Arm(NamedTuple):
    """One arm: its JSON name, credit source, potential form and |D| (None for plain/oracle)."""

    name: str
    source: str | None
    form: str | None
    n: int | None


@dataclass(frozen=True)
class TransferConfig:
    """One tabular transfer experiment (one line per field)."""

    target: TriggersConfig = TriggersConfig(8, 3, 1)
    """Distribution of the held-out target mazes."""
    n_target_mazes: int = 4
    """Held-out target mazes (the 'tasks' of the statistics)."""
    n_seeds: int = 10
    """Q-learning seeds per (arm, maze) (the 'runs')."""
    n_episodes: int = 600
    """Training episodes per agent."""
    eval_interval: int = 25
    """Greedy evaluation every this many training episodes."""
    bucket: int = 10
    """Episodes per success-rate bucket (the x resolution of curves and episodes-to-80)."""
    n_target_trajectories: int = 100
    """|D| of the main arms: random-policy episodes in each target maze the credit is read from."""
    sensitivity: tuple[int, ...] = (10, 1000)
    """Other |D| values, each run for every source and form (the |D| sensitivity)."""
    sources: tuple[str, ...] = CREDIT_SOURCES
    """Credit sources to run (secretlab.credit_controls.CREDIT_SOURCES)."""
    forms: tuple[str, ...] = FORMS
    """Potential forms to run (secretlab.forms.FORMS)."""
    credit_signs: str = "nonzero"
    """Rows of the paper's φ̂: 'nonzero' (paper: correct ±1 predictions) or 'positive' (ablation)."""
    cumulative_signs: str = "positive"
    """Rows the carried-credit form uses: 'positive' (correct +1 only; default) or 'nonzero' (±1: sets a trap)."""
    advice_signs: str = "positive"
    """Rows the advice form uses: 'positive' (default) or 'nonzero'."""
    sparse_threshold: float = 0.2
    """Attention weights below this are dropped by the secret_sparse source (paper's App. A.2 threshold)."""
    gamma: float = 0.99
    """Q-learning discount, also the γ of every potential and advice."""
    threshold: float = 0.8
    """Success level for episodes-to-threshold."""
    n_boot: int = 2000
    """Bootstrap resamples for the 95% intervals."""
    oracle: bool = True
    """Run the ground-truth-potential arm."""
    seed: int = 0
    """Picks the target mazes, the D trajectories, the shuffles and the Q-learning draws."""

    def __post_init__(self) -> None:
        check_gamma(self.gamma)
        for name in ("n_target_mazes", "n_seeds", "n_episodes", "eval_interval", "bucket",
                     "n_target_trajectories", "n_boot"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("seed", self.seed, minimum=0)
        object.__setattr__(self, "sensitivity",
                           tuple(int(check_int("sensitivity |D|", n, minimum=1)) for n in self.sensitivity))
        object.__setattr__(self, "sources", tuple(check_source(s) for s in self.sources))
        object.__setattr__(self, "forms", tuple(check_form(f) for f in self.forms))
        if self.bucket > self.n_episodes:
            raise ValueError(f"bucket must be <= n_episodes={self.n_episodes}, got {self.bucket}")
        for name, form in (("credit_signs", "phi"), ("cumulative_signs", "carried"), ("advice_signs", "advice")):
            check_choice(f"{name} (the rows of form {form!r})", getattr(self, name), SIGNS)
        if not 0 < self.sparse_threshold <= 1:
            raise ValueError(f"sparse_threshold must be in (0, 1], got {self.sparse_threshold!r}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    @property
    def form_signs(self) -> FormSigns:
        return FormSigns(self.credit_signs, self.cumulative_signs, self.advice_signs)

    @property
    def d_values(self) -> tuple[int, ...]:
        """All |D| used, main one first."""
        return (self.n_target_trajectories,) + tuple(sorted(set(self.sensitivity) - {self.n_target_trajectories}))

    def arms(self, with_model: bool = True) -> list[Arm]:
        """Every arm, in batch order; ``with_model=False`` leaves out the sources that need the model."""
        out = [Arm(PLAIN, None, None, None)] + ([Arm(ORACLE, None, None, None)] if self.oracle else [])
        for n in self.d_values:
            for source in self.sources:
                if source in MODEL_SOURCES and not with_model:
                    continue
                for form in self.forms:
                    if source == "ideal_negative" and getattr(self.form_signs, form) == "positive":
                        continue  # its −1 rows are its only difference from ideal
                    out.append(Arm(arm_name(source, form, None if n == self.n_target_trajectories else n),
                                   source, form, n))
        return out

    def arm_names(self, with_model: bool = True) -> list[str]:
        return [a.name for a in self.arms(with_model)]


@dataclass
class TransferResult:
    """Raw curves of every agent plus the summaries the notebooks show."""

    config: TransferConfig
    arms: list[str]
    maze_seeds: np.ndarray
    """(M,) seeds of the target mazes."""
    potentials: dict[str, list[Potential | Advice]]
    """Per arm with shaping: the M potentials (or advice tables) used."""
    d_steps: dict[int, np.ndarray]
    """|D| -> (M,) target steps spent collecting those D trajectories (for the Total Target Time view)."""
    success: dict[str, np.ndarray]
    """Per arm: (seeds, mazes, E) training-episode success."""
    returns: dict[str, np.ndarray]
    """Per arm: (seeds, mazes, E) environment return."""
    lengths: dict[str, np.ndarray]
    """Per arm: (seeds, mazes, E) episode lengths."""
    eval_success: dict[str, np.ndarray]
    """Per arm: (seeds, mazes, K) greedy-evaluation success."""
    eval_episodes: np.ndarray
    """(K,) training episodes before each greedy evaluation."""
    visits: dict[str, np.ndarray] = field(default_factory=dict)
    """Per arm: (seeds, mazes, n_states) training steps taken from each state."""
    arm_specs: dict[str, Arm] = field(default_factory=dict)
    """Per arm: its source, form and |D|."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds of each phase."""
    potential_meta: dict[str, Any] = field(default_factory=dict)
    _boot: dict[tuple, tuple] = field(default_factory=dict, repr=False)
    """Bootstrap results kept per (arm, training|greedy, seed)."""

    # ------------------------------------------------------------ summaries
    def success_buckets(self, arm: str) -> tuple[np.ndarray, np.ndarray]:
        """(seeds, mazes, E // bucket) success rates and the (E // bucket,) bucket ends."""
        return stats.bucket_mean(self.success[arm], self.config.bucket)

    def summary(self, arm: str) -> dict[str, Any]:
        """The JSON block of one arm: bucketed IQM success with band, episodes-to-80 (training and greedy), AUC."""
        cfg = self.config
        curves, ends = self.success_buckets(arm)
        point, lo, hi, to80, _ = self._curve(arm, "training", cfg.seed)
        auc = stats.iqm_interval(stats.normalised_auc(curves), cfg.n_boot, seed=cfg.seed)
        ret_curves, _ = stats.bucket_mean(self.returns[arm], cfg.bucket)
        ret_point = stats.iqm(ret_curves.reshape(-1, ret_curves.shape[2]), axis=0)
        ev_point, ev_lo, ev_hi, ev80, _ = self._curve(arm, "greedy", cfg.seed)
        return {
            "bucket_episodes": ends.tolist(),
            "success_per_bucket": _r(point), "success_lo": _r(lo), "success_hi": _r(hi),
            "return_per_bucket": _r(ret_point),
            "episodes_to_80": to80.point, "episodes_to_80_ci": [to80.lo, to80.hi],
            "greedy_episodes_to_80": ev80.point, "greedy_episodes_to_80_ci": [ev80.lo, ev80.hi],
            "auc": auc.as_dict(),
            "final_success": stats.Interval(float(point[-1]), float(lo[-1]), float(hi[-1])).as_dict(),
            "eval_episodes": self.eval_episodes.tolist(),
            "eval_success": _r(ev_point), "eval_success_lo": _r(ev_lo), "eval_success_hi": _r(ev_hi),
            "n_runs": int(curves.shape[0] * curves.shape[1]),
        }

    def _curve(self, arm: str, kind: str, seed: int) -> tuple:
        """IQM curve, band and 80% crossing of an arm's training buckets or greedy evaluations, bootstrapped
        once per (arm, kind, seed) and kept: summaries and speed-ups share it."""
        key = (arm, kind, seed)
        if key not in self._boot:
            if kind == "training":
                curves, x = self.success_buckets(arm)
            else:
                curves, x = self.eval_success[arm].astype(float), self.eval_episodes.astype(float)
            self._boot[key] = stats.iqm_curve_and_crossing(curves, x, self.config.threshold, self.config.n_boot,
                                                           seed=seed)
        return self._boot[key]

    def speedup(self, reference: str = PLAIN, arm: str = "q_learning_secret_phi") -> stats.Interval:
        """episodes-to-80(reference) / episodes-to-80(arm) with its bootstrap interval (as :func:`stats.speedup`)."""
        seed = self.config.seed
        ref = self._curve(reference, "training", seed)[3:]
        new = self._curve(arm, "training", seed + 1)[3:]
        return stats.speedup_from_crossings(ref, new)

    def auc_difference(self, arm: str, reference: str) -> stats.Interval:
        """IQM AUC(arm) − IQM AUC(reference) with its bootstrap interval."""
        a, _ = self.success_buckets(arm)
        b, _ = self.success_buckets(reference)
        return stats.iqm_difference(stats.normalised_auc(a), stats.normalised_auc(b), self.config.n_boot,
                                    seed=self.config.seed)

    def bump_share(self, arm: str, bump_arm: str, positive: bool = True) -> stats.Interval:
        """IQM share of ``arm``'s training steps taken on the states where ``bump_arm``'s φ > 0 (per maze);
        ``positive=False``: where it is < 0."""
        tables = np.stack([np.asarray(p.table) for p in self.potentials[bump_arm]])  # (mazes, n_states)
        masks = tables > 0 if positive else tables < 0
        v = self.visits[arm]  # (seeds, mazes, n_states)
        share = (v * masks[None]).sum(-1) / np.maximum(v.sum(-1), 1)
        return stats.iqm_interval(share, self.config.n_boot, seed=self.config.seed)

    def target_time_curves(self, arm: str, grid: np.ndarray, window: int = 10) -> np.ndarray:
        """(seeds, mazes, len(grid)) success vs target steps, D's steps counted for credit arms."""
        n = self.arm_specs[arm].n if arm in self.arm_specs else None
        offset = 0.0 if n is None else self.d_steps[n]
        return stats.total_target_time_curves(self.success[arm].astype(float), self.lengths[arm], grid,
                                              offset, window)


def _r(x: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in np.asarray(x)]


# =============================================================================
# Shaping of the target mazes
# =============================================================================
def target_shaping(model: Any, config: TransferConfig, mazes: np.ndarray, batch_size: int = 256
                   ) -> tuple[dict[str, list[Potential | Advice]], dict[int, np.ndarray], dict[str, Any]]:
    """Every credit arm's potential or advice in every target maze.

    In each maze the largest |D| random-policy dataset is collected once (cached)
    and the model is run once on it; every source's rows are derived from those
    (or, for the ideal sources, from the dataset), and smaller |D| use the first
    n episodes. Returns ({arm: [one per maze]}, {|D|: (M,) target steps in D}, meta);
    with ``model=None`` only the arms that need no model.
    """
    from secretlab.credit import sorted_credit_rows

    net = getattr(model, "model", model)
    arms = [a for a in config.arms(with_model=net is not None) if a.source is not None]
    d_max = max(config.d_values)
    shaping: dict[str, list[Potential | Advice]] = {a.name: [] for a in arms}
    steps = {n: np.zeros(len(mazes)) for n in config.d_values}
    meta: dict[str, Any] = {"n_rows": [], "n_correct_rows": [], "n_positive_rows": [],
                            "n_correct_positive_rows": [], "share_positive_in_D": []}
    for m, maze in enumerate(mazes):
        data = load_or_collect(DatasetConfig(config.target, d_max, config.seed, split="target",
                                             fixed_maze_seed=int(maze)))
        meta["share_positive_in_D"].append(float((data.rewards > 0).any(1).mean()))
        for n in config.d_values:
            steps[n][m] = float(data.lengths[:n].sum())
        model_rows = None
        if net is not None:
            model_rows = sorted_credit_rows(net, data, batch_size=batch_size)
            meta["n_rows"].append(int(len(model_rows.traj)))
            meta["n_correct_rows"].append(int(model_rows.correct.sum()))
            meta["n_correct_positive_rows"].append(int((model_rows.correct & (model_rows.sign > 0)).sum()))
            meta["n_positive_rows"].append(int((model_rows.sign > 0).sum()))
        control_seed = derive_seed(config.seed, "credit_control", int(m))
        rows = {s: control_rows(s, model_rows, data, seed=control_seed, threshold=config.sparse_threshold)
                for s in {a.source for a in arms}}
        for arm in arms:
            shaping[arm.name].append(shaping_from_rows(arm.form, rows[arm.source], data, config.target, int(maze),
                                                       config.gamma, arm.n, arm.source, config.form_signs))
    return shaping, steps, meta


# =============================================================================
# The experiment
# =============================================================================
def run_transfer(config: TransferConfig, model: Any | None = None) -> TransferResult:
    """Run every arm in every target maze with every seed, in one batched Q-learning run.

    ``model``: the frozen source-trained reward model (``TrainedModel`` or
    ``RewardModel``); None runs only the arms that need no model.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    mazes = maze_seeds("target", config.seed, config.n_target_mazes)
    env = config.target
    layouts = [sample_layout(env, int(m)) for m in mazes]
    specs = config.arms(with_model=model is not None)
    arms = [a.name for a in specs]
    shaping, d_steps, meta = target_shaping(model, config, mazes)
    if config.oracle:
        shaping[ORACLE] = [oracle_potential(env, lay, config.gamma) for lay in layouts]
    timings["potentials_s"] = time.perf_counter() - t0

    # Batch order: arm-major, then maze, then seed. Stream ids depend on (maze, seed) only.
    n_a, n_m, n_s = len(arms), len(mazes), config.n_seeds
    phi = np.zeros((n_a, n_m, n_s, env.n_states))
    has_advice = any(isinstance(p[0], Advice) for p in shaping.values())
    advice = np.zeros((n_a, n_m, n_s, env.n_states, N_ACTIONS)) if has_advice else None
    for a, arm in enumerate(arms):
        for m, table in enumerate(shaping.get(arm, [])):
            target = advice if isinstance(table, Advice) else phi
            target[a, m] = table.table
    stacked = Layout(*(np.broadcast_to(np.stack([np.asarray(l[i]) for l in layouts])[None, :, None],
                                       (n_a, n_m, n_s) + np.asarray(layouts[0][i]).shape)
                       .reshape((n_a * n_m * n_s,) + np.asarray(layouts[0][i]).shape)
                       for i in range(3)))
    streams = np.tile(np.arange(n_m * n_s), n_a)
    t1 = time.perf_counter()
    qcfg = QLearningConfig(gamma=config.gamma, n_episodes=config.n_episodes, eval_interval=config.eval_interval,
                           seed=config.seed)
    b = n_a * n_m * n_s
    res = train_q_learning(env, stacked, qcfg, phi.reshape(b, env.n_states),
                           None if advice is None else advice.reshape(b, env.n_states, N_ACTIONS), streams)
    timings["q_learning_s"] = time.perf_counter() - t1
    timings["q_learning_updates"] = float(res.total_updates)

    def split(x: np.ndarray) -> dict[str, np.ndarray]:
        x = x.reshape((n_a, n_m, n_s) + x.shape[1:])
        return {arm: np.swapaxes(x[a], 0, 1) for a, arm in enumerate(arms)}  # (seeds, mazes, ...)

    return TransferResult(config, arms, mazes, shaping, d_steps, split(res.episode_success),
                          split(res.episode_return), split(res.episode_length), split(res.eval_success),
                          res.eval_episodes, split(res.state_visits), {a.name: a for a in specs}, timings, meta)


def config_from_params(params: Any, target: TriggersConfig, seed: int,
                       sensitivity: tuple[int, ...] | None = None) -> TransferConfig:
    """The :class:`TransferConfig` of a notebook's resolved parameters (``run.params`` of notebooks 04/05)."""
    keys = ("n_target_mazes", "n_seeds", "n_episodes", "eval_interval", "bucket", "n_target_trajectories",
            "credit_signs", "n_boot")
    kw: dict[str, Any] = {k: params[k] for k in keys}
    kw["sensitivity"] = tuple(params.get("sensitivity") or ()) if sensitivity is None else tuple(sensitivity)
    for k in ("sources", "forms"):
        if params.get(k) is not None:
            if isinstance(params[k], str):
                raise ValueError(f"{k} must be a list of names, got the string {params[k]!r}")
            kw[k] = tuple(params[k])
    return TransferConfig(target=target, seed=seed, **kw)
