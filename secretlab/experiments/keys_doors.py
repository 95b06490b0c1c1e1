"""SECRET on the keys/doors puzzle (paper §3 DMLab, Fig. 3 right, Fig. 4 right, Fig. 8): the analyses.

DeepMind Lab cannot be built here; :mod:`secretlab.envs.keys_doors` (a Farama
MiniGrid puzzle) stands in for DMLab's ``keys_doors_puzzle``. The pipeline
follows App. A.4, each stage in its layer:

1. :func:`secretlab.agents.ppo.load_or_train_source_agent` — a PPO agent
   (Stable-Baselines3) trained on the random maze distribution (random policies
   rarely reach reward).
2. :func:`secretlab.data.keys_doors.load_or_collect` — trajectories of that agent
   (sampled actions) into a :class:`~secretlab.data.keys_doors.KeysDoorsDataset`.
3. The reward model with the two-conv (16, 16) encoder (App. A.1):
   :func:`reward_model_config` + :func:`secretlab.checkpoints.load_or_train`.
4. Credit: :func:`secretlab.credit.credit_rows` with ``tolerance=5`` (a positive
   prediction within 5 frames of a real reward counts, App. A.4);
   :func:`attention_around_pickups` (Fig. 3 right), :func:`attention_heatmap` (Fig. 8) and
   :func:`door_discrimination` (these readings are in :mod:`secretlab.experiments.keys_doors_credit`).
5. :func:`secret_potential` on a fixed target maze (true-state keyed, φ(s) via
   :func:`secretlab.shaping.potential_from_credit`) and the same estimator on the
   ``uniform`` and ``ideal`` credit controls (:func:`control_potentials`), then
   :func:`compare_ppo`: PPO unshaped and with each φ̂ through
   :class:`secretlab.wrappers.ShapingWrapper` on that maze (Fig. 4 right), so a
   speed-up of SECRET stands beside the credit-free control's (``credit_effect``).

Every expensive stage is cached through :mod:`secretlab.cache` under a hash of
its configuration and verified on load.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from secretlab import stats
from secretlab.agents.ppo import PPOConfig, agent_identity, load_or_train_source_agent, train_on_fixed_maze
from secretlab.cache import cached_npz
from secretlab.data.keys_doors import (CollectConfig, KeysDoorsDataset, load_or_collect, n_model_channels,
                                       target_maze_seed)
from secretlab.determinism import RESULT_THREADS
from secretlab.envs.keys_doors import N_ACTIONS, RULES_VERSION, VIEW, KeysDoorsConfig
# The credit readings live in their own module; re-exported here, the experiment's one entry point.
from secretlab.experiments.keys_doors_credit import (CONTROL_SOURCES, attention_around_pickups,  # noqa: F401
                                                     attention_heatmap, control_potentials, door_discrimination,
                                                     door_rows, positive_probabilities, potential_grid,
                                                     potential_of_rows, secret_potential, share_near_matching_key)
from secretlab.progress import iterate
from secretlab.seeds import derive_seed
from secretlab.stats import finite_or_none
from secretlab.validation import check_int

#: The arms of Figure 4 (right): the paper's two, then PPO shaped by each control's φ̂.
ARMS = ("ppo", "ppo_secret") + tuple(f"ppo_{source}" for source in CONTROL_SOURCES)
#: Readable arm names (tables, verdict, legends).
ARM_NAMES = {"ppo": "PPO", "ppo_secret": "PPO + SECRET φ̂", "ppo_uniform": "PPO + φ̂ of uniform credit",
             "ppo_ideal": "PPO + φ̂ of ideal credit"}


def reward_model_config(env_config: KeysDoorsConfig, **changes: Any):
    """The paper's DMLab model (App. A.1): two conv layers of 16 filters, else as Triggers."""
    from secretlab.model import ModelConfig

    base = {"obs_shape": (n_model_channels(env_config.n_colors), VIEW, VIEW), "n_actions": N_ACTIONS,
            "conv_channels": (16, 16), "obs_scale": 1.0, "max_len": max(512, env_config.horizon)}
    return ModelConfig(**{**base, **changes})


def compare_ppo(env_config: KeysDoorsConfig, ppo: PPOConfig, potentials: dict[str, np.ndarray | None],
                n_seeds: int, seed: int = 0, refresh: bool = False, progress: bool = False,
                runs: Sequence[int] | None = None) -> dict[str, list[dict]]:
    """Per arm (the keys of ``potentials``, None = unshaped) and seed, the training-episode logs (cached).

    Seeds ``derive_seed(seed, "ppo_run", k)`` for k < n_seeds, the same for every arm; ``runs`` (default: all
    k) picks some k, so that chunks of the comparison can run as separate jobs into the same cache entries.
    """
    check_int("n_seeds", n_seeds, minimum=1)
    runs = range(n_seeds) if runs is None else list(runs)
    bad = [k for k in runs if not 0 <= k < n_seeds]
    if bad:
        raise ValueError(f"runs must be run indices in [0, n_seeds={n_seeds}), got {bad}")
    out: dict[str, list[dict]] = {arm: [] for arm in potentials}
    jobs = [(arm, k) for k in runs for arm in potentials]
    for arm, k in iterate(jobs, "PPO runs", "run", enabled=progress):
        run_seed = derive_seed(seed, "ppo_run", k)
        key = {"stage": "keys_doors_target_ppo", "env": env_config, "ppo": ppo, "seed": run_seed,
               "potential": potentials[arm], "rules": RULES_VERSION,
               "torch_threads": RESULT_THREADS}
        arrays, _ = cached_npz("keys_doors_runs", key,
                               lambda: train_on_fixed_maze(env_config, ppo, run_seed, potentials[arm]),
                               refresh=refresh)
        out[arm].append(arrays)
    return out


def learning_curves(logs: list[dict], grid: np.ndarray, window: int = 20,
                    key: str = "successes") -> np.ndarray:
    """(runs, 1, len(grid)): each run's mean ``key`` over its last ``window`` episodes ended by each step.

    0 before the first episode ends (the Total-Target-Time convention of
    :func:`secretlab.stats.total_target_time_curves`).
    """
    curves = np.zeros((len(logs), 1, len(grid)))
    for r, log in enumerate(logs):
        values = np.asarray(log[key], dtype=np.float64)
        ends = np.asarray(log["end_step"], dtype=np.float64)
        csum = np.concatenate([[0.0], np.cumsum(values)])
        for g, step in enumerate(grid):
            k = int(np.searchsorted(ends, step, side="right"))
            if k > 0:
                lo = max(0, k - window)
                curves[r, 0, g] = (csum[k] - csum[lo]) / (k - lo)
    return curves


# =============================================================================
# The whole experiment: one config in, one result out
# =============================================================================
@dataclass(frozen=True)
class KeysDoorsExperiment:
    """Everything notebook 07 runs, resolved from a profile and its overrides."""

    env: KeysDoorsConfig
    """The random maze distribution of the source side."""
    source_ppo: PPOConfig
    """The source agent's PPO (its ``total_timesteps`` is the source budget)."""
    target_ppo: PPOConfig
    """PPO on the target maze, both arms."""
    n_source_trajectories: int
    """Source-agent episodes the reward model trains on."""
    n_target_trajectories: int
    """Episodes of the held-out credit check and of the target maze's D."""
    n_seeds: int
    """PPO seeds per arm on the target maze."""
    max_epochs: int
    """Reward-model training epochs."""
    seed: int = 0
    """The notebook seed (mazes, agents, model)."""
    threshold: float = 0.5
    """The success level of the main steps-to-threshold comparison (0.8 is reported too)."""
    tolerance: int = 5
    """Frames within which a predicted +1 counts as correct (App. A.4)."""
    n_grid: int = 20
    """Points of the learning curves over the target budget."""

    @classmethod
    def from_params(cls, params: dict[str, Any], seed: int) -> "KeysDoorsExperiment":
        """From notebook 07's resolved parameters (``secretlab.notebook.setup``)."""
        source_ppo = PPOConfig(total_timesteps=params["source_timesteps"])
        return cls(env=KeysDoorsConfig(n_rooms=params["n_rooms"], room_size=params["room_size"]),
                   source_ppo=source_ppo, target_ppo=replace(source_ppo, total_timesteps=params["target_timesteps"]),
                   n_source_trajectories=params["n_source_trajectories"],
                   n_target_trajectories=params["n_target_trajectories"], n_seeds=params["n_seeds"],
                   max_epochs=params["max_epochs"], seed=seed)

    @property
    def target_env(self) -> KeysDoorsConfig:
        """The fixed target maze of this seed (never a source maze)."""
        return replace(self.env, maze_seed=target_maze_seed(self.seed))

    @property
    def grid(self) -> np.ndarray:
        """Env steps at which the learning curves are read."""
        return np.linspace(0, self.target_ppo.total_timesteps, self.n_grid + 1)[1:]


@dataclass
class KeysDoorsResult:
    """What :func:`run` measured, with the summaries notebook 07 shows and saves."""

    config: KeysDoorsExperiment
    source_info: dict[str, Any]
    source: KeysDoorsDataset
    trained: Any
    heldout: KeysDoorsDataset
    heldout_rows: Any
    around: dict[str, Any]
    discrimination: dict[str, float]
    target: KeysDoorsDataset
    phi: np.ndarray
    target_rows: Any
    logs: dict[str, list[dict]]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    potentials: dict[str, np.ndarray | None] = field(default_factory=dict)
    """φ̂ of each arm on the target maze (None: unshaped); ``phi`` is SECRET's."""
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The readings below, computed once: the result never changes after :func:`run`, and ``report``,
    ``paper_comparison``, ``tables`` and ``verdict`` all read the same bootstraps and heatmap."""

    def _once(self, name: str, compute):
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    @property
    def layout(self) -> dict[str, np.ndarray]:
        return self._once("layout", self.target.layout)

    def heatmap(self) -> tuple[np.ndarray, int]:
        """Figure 8's door-0 heatmap on the target maze and its number of rows."""
        return self._once("heatmap", lambda: attention_heatmap(self.target_rows, self.target, door=0))

    def near_key(self) -> tuple[float, bool]:
        heat, n = self.heatmap()
        return share_near_matching_key(heat, self.layout) if n else (float("nan"), False)

    def curves(self, key: str = "successes") -> dict[str, np.ndarray]:
        """Per arm, (runs, 1, n_grid) learning curves of ``key`` ('successes' or 'returns'); computed once per key
        (``summary``, ``credit_effect`` and the figures all read them)."""
        return self._once(f"curves_{key}", lambda: {arm: learning_curves(l, self.config.grid, key=key)
                                                    for arm, l in self.logs.items()})

    def summary(self) -> dict[str, dict[str, stats.Interval]]:
        """Per arm: steps to the threshold and to 0.8, final success and AUC, each an IQM interval."""
        return self._once("summary", self._summary)

    def _summary(self) -> dict[str, dict[str, stats.Interval]]:
        grid, out = self.config.grid, {}
        for arm, c in self.curves().items():
            out[arm] = {"to_threshold": stats.threshold_interval(c, grid, threshold=self.config.threshold)[0],
                        "to_080": stats.threshold_interval(c, grid, threshold=0.8)[0],
                        "final": stats.iqm_interval(c[:, :, -1]), "auc": stats.iqm_interval(stats.normalised_auc(c))}
        return out

    def credit_effect(self) -> dict[str, Any]:
        """SECRET's learned credit against the uniform control, both as the paper's φ̂: speed-ups (uniform's
        steps / SECRET's) to the threshold and to 0.8, and the AUC difference, each with its 95% interval."""
        return self._once("credit_effect", self._credit_effect)

    def _credit_effect(self) -> dict[str, Any]:
        c, cfg, s = self.curves(), self.config, self.summary()
        learned, control = "ppo_secret", "ppo_uniform"
        auc = stats.iqm_difference(stats.normalised_auc(c[learned]), stats.normalised_auc(c[control]), seed=cfg.seed)
        return {"learned": learned, "control": control, "form": "phi",
                "speedup_over_uniform": stats.speedup(c[control], c[learned], cfg.grid, cfg.threshold,
                                                      seed=cfg.seed).as_dict(),
                "speedup_over_uniform_to_0.8": stats.speedup(c[control], c[learned], cfg.grid, 0.8,
                                                             seed=cfg.seed).as_dict(),
                "auc_difference": auc.as_dict(),
                # A speed-up point of None is unbounded when the control never reaches the threshold in the budget.
                "control_reaches_threshold": s[control]["to_threshold"].point is not None,
                "faster_than_uniform": stats.disjoint_below(s[learned]["to_threshold"], s[control]["to_threshold"]),
                "auc_above_uniform": auc.lo is not None and auc.lo > 0}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        thr, rows = self.config.threshold, []
        for arm, s in self.summary().items():
            rows.append({"arm": arm, "n_seeds": len(self.logs[arm]), f"steps_to_{thr}": s["to_threshold"].point,
                         "steps_lo": s["to_threshold"].lo, "steps_hi": s["to_threshold"].hi,
                         "steps_to_0.8": s["to_080"].point, "steps_to_0.8_lo": s["to_080"].lo,
                         "steps_to_0.8_hi": s["to_080"].hi, "final_success_iqm": s["final"].point,
                         "final_lo": s["final"].lo, "final_hi": s["final"].hi, "auc_success_iqm": s["auc"].point})
        return {"PPO on the target maze: unshaped, SECRET's φ̂, and φ̂ of the uniform and ideal credit controls": rows}

    def paper_comparison(self) -> list[dict[str, Any]]:
        around, disc, s, cfg, effect = self.around, self.discrimination, self.summary(), self.config, self.credit_effect()
        near_key, start_near_key = self.near_key()
        n_heat_rows = self.heatmap()[1]
        ratio = _ratio(around["share_near"], around["share_near_uniform"])
        return [
            {"quantity": "attention mass within ±2 steps of the key pickup (correct door predictions)",
             "paper": "concentrated around key pickups (Fig. 3 right, no number)", "ours": finite_or_none(around["share_near"]),
             "note": f"MiniGrid stand-in for DMLab; {around['n_rows']} rows on held-out mazes; uniform attention "
                     f"would give {around['share_near_uniform']:.3f} (ratio {_fmt(ratio)})"},
            {"quantity": "reward model P(+1): door opened with the right key / any toggle at the locked door with "
                         "the wrong key", "paper": None, "ours": f"{disc['p_open']:.3f} / {disc['p_wrong_key']:.3f}",
             "note": "held-out mazes; a repeated wrong toggle follows one that left the door locked, so this "
                     "contrast does not need the pickup"},
            {"quantity": "the same at each episode's first toggle at the locked door: right key / wrong key",
             "paper": "the model knows which key was picked (Fig. 3 right)",
             "ours": f"{_fmt(disc['p_first_right_key'])} / {_fmt(disc['p_first_wrong_key'])}",
             "note": f"{disc['n_first_right_key']} / {disc['n_first_wrong_key']} steps; only the memory of the "
                     "pickup can separate these"},
            {"quantity": "Fig. 8: share of door-0 attention on cells next to the matching key (target maze)",
             "paper": "concentrates around the key (Fig. 8, no number)", "ours": finite_or_none(near_key),
             "note": f"{n_heat_rows} rows" + ("; caveat: the agent starts on one of those cells in this maze"
                                              if start_near_key else "")},
            {"quantity": f"PPO steps to IQM success >= {cfg.threshold} (no shaping)", "paper": None,
             "ours": str(s["ppo"]["to_threshold"]), "note": "point [95% CI], never = not within the budget"},
            {"quantity": f"PPO + SECRET steps to IQM success >= {cfg.threshold}", "paper": "faster than PPO (Fig. 4 right)",
             "ours": str(s["ppo_secret"]["to_threshold"]),
             "note": f"{cfg.n_seeds} seeds per arm, {cfg.target_ppo.total_timesteps} steps each"},
            {"quantity": f"PPO + φ̂ of uniform credit (no credit assignment) steps to IQM success >= {cfg.threshold}",
             "paper": None, "ours": str(s["ppo_uniform"]["to_threshold"]),
             "note": "the control: the model's rows with their attention spread evenly"},
            {"quantity": f"PPO + φ̂ of ideal credit (all on the right key's pickup) steps to IQM success >= "
                         f"{cfg.threshold}", "paper": None, "ours": str(s["ppo_ideal"]["to_threshold"]),
             "note": "what perfect credit would give through the same estimator"},
            {"quantity": "credit effect: speed-up of SECRET's φ̂ over the uniform control's (steps to threshold)",
             "paper": "credit is what helps", "ours": _speedup_text(effect),
             "note": f"AUC difference {stats.Interval(**effect['auc_difference'])}; faster with disjoint "
                     f"intervals: {effect['faster_than_uniform']}"},
            {"quantity": "steps to IQM success >= 0.8 (PPO / PPO + SECRET)", "paper": "shaped arm learns faster",
             "ours": f"{s['ppo']['to_080']} / {s['ppo_secret']['to_080']}", "note": "point [95% CI]"},
            {"quantity": "mean success over training, IQM (PPO / PPO + SECRET)", "paper": "shaped arm learns faster",
             "ours": f"{s['ppo']['auc'].point:.3f} / {s['ppo_secret']['auc'].point:.3f}",
             "note": f"95% CI {s['ppo']['auc']} vs {s['ppo_secret']['auc']}"},
        ]

    def report(self) -> dict[str, Any]:
        """The notebook's JSON: headline numbers, paper comparison and tables."""
        around, history, cfg = self.around, self.trained.history, self.config
        near_key, _ = self.near_key()
        tables = self.tables()
        best = int(history["val_loss"].idxmin())
        return {
            "dmlab_stand_in": "MiniGrid secretlab/KeysDoors-v0 (DeepMind Lab cannot be built here)",
            "env": cfg.env.as_dict(), "target_maze_seed": cfg.target_env.maze_seed,
            "source_agent": self.source_info, "source_dataset": self.source.summary(),
            "heldout_dataset": self.heldout.summary(), "target_dataset": self.target.summary(),
            "reward_model_val": {k: finite_or_none(history.iloc[best][k]) for k in ("val_loss", "precision_pos", "recall_pos")},
            "attention_near_key_pickup": finite_or_none(around["share_near"]),
            "attention_near_key_pickup_uniform": finite_or_none(around["share_near_uniform"]),
            "attention_near_key_pickup_ratio": finite_or_none(_ratio(around["share_near"], around["share_near_uniform"])),
            "attention_on_door_step": finite_or_none(around["share_on_door_step"]),
            "attention_rows": around["n_rows"],
            "door_discrimination": {k: finite_or_none(v) if isinstance(v, float) else v for k, v in self.discrimination.items()},
            "attention_by_offset": {"offsets": around["offsets"].tolist(), "mean": around["mean"].tolist()},
            "target_attention_near_key_pickup": finite_or_none(attention_around_pickups(self.target_rows, self.target)["share_near"]),
            "heatmap_share_near_matching_key": finite_or_none(near_key), "heatmap_rows": self.heatmap()[1],
            "success_threshold": cfg.threshold,
            "arms": {r["arm"]: r for r in next(iter(tables.values()))},
            "credit_effect": self.credit_effect(),
            "stage_seconds": {k: round(v, 1) for k, v in self.stage_seconds.items()},
            "paper_comparison": self.paper_comparison(),
            "tables": tables,
        }

    def verdict(self) -> str:
        """The measured outcome in a few sentences, built from the numbers above."""
        around, disc, s, cfg, effect = self.around, self.discrimination, self.summary(), self.config, self.credit_effect()
        near_key, n_heat_rows = self.near_key()[0], self.heatmap()[1]
        ratio = _ratio(around["share_near"], around["share_near_uniform"])
        above = "above" if ratio > 1 else "not above"
        arms = "; ".join(f"{ARM_NAMES[arm]} {s[arm]['to_threshold']}" for arm in s)
        return "\n".join([
            f"Credit (Fig. 3 right, {around['n_rows']} correct door-opening rows on held-out mazes): "
            f"{_fmt(around['share_near'])} of the attention lies within ±2 steps of the key pickup, {above} the "
            f"uniform-attention level {_fmt(around['share_near_uniform'])} (ratio {_fmt(ratio)}); "
            f"{_fmt(around['share_on_door_step'])} sits on the door step itself.",
            f"P(+1) at door openings {_fmt(disc['p_open'])} vs at wrong-key toggles {_fmt(disc['p_wrong_key'])}; at "
            f"each episode's first toggle, where only the memory of the pickup can tell: right key "
            f"{_fmt(disc['p_first_right_key'])} vs wrong key {_fmt(disc['p_first_wrong_key'])}.",
            f"Fig. 8 (target maze, {n_heat_rows} rows): {_fmt(near_key)} of the door-0 attention falls on cells next "
            f"to the matching key.",
            f"PPO on the target maze ({cfg.n_seeds} seeds per arm, {cfg.target_ppo.total_timesteps} steps), steps to "
            f"IQM success >= {cfg.threshold} [95% CI]: {arms}.",
            f"Credit effect (SECRET's φ̂ over the uniform control's): speed-up {_speedup_text(effect)}, AUC difference "
            f"{stats.Interval(**effect['auc_difference'])}; "
            + ("SECRET is faster with disjoint intervals." if effect["faster_than_uniform"] else
               "no faster than the credit-free control with disjoint intervals.")])


def _speedup_text(effect: dict[str, Any]) -> str:
    if not effect["control_reaches_threshold"]:
        return "unbounded (the uniform control never reaches the threshold in the budget)"
    return str(stats.Interval(**effect["speedup_over_uniform"]))


def _ratio(a: float, b: float) -> float:
    return a / b if b and np.isfinite(a) and np.isfinite(b) else float("nan")


def _fmt(v: Any) -> str:
    return "n/a" if finite_or_none(v) is None else f"{v:.3f}"


def _stopwatch(seconds: dict[str, float]):
    """``lap(name)``: store in ``seconds[name]`` the time since the previous lap (the first: since this call)."""
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name], clock = time.perf_counter() - clock, time.perf_counter()

    return lap


@dataclass
class _Stages:
    """The stages of :func:`run` before the PPO comparison (each cached), with their seconds."""

    source_info: dict[str, Any]
    source: KeysDoorsDataset
    trained: Any
    target: KeysDoorsDataset
    phi: np.ndarray
    target_rows: Any
    potentials: dict[str, np.ndarray | None]
    seconds: dict[str, float]
    agent: Any
    """The source agent (SB3 PPO): its policy collects the held-out set."""
    identity: dict
    """:func:`agent_identity` of the source agent, part of every collection's cache key."""


def _stages(config: KeysDoorsExperiment, progress: bool = False) -> _Stages:
    """Source agent → its trajectories → reward model; target-maze trajectories → φ̂ of every arm."""
    from secretlab.checkpoints import load_or_train
    from secretlab.training import TrainConfig

    seconds: dict[str, float] = {}
    lap = _stopwatch(seconds)
    agent, source_info = load_or_train_source_agent(config.env, config.source_ppo, seed=config.seed)
    identity = agent_identity(config.env, config.source_ppo, config.seed)
    source = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_source_trajectories,
                                           seed=config.seed, agent=identity), agent.policy)
    lap("source agent + collection")
    trained = load_or_train(source, reward_model_config(config.env),
                            TrainConfig(max_epochs=config.max_epochs, seed=config.seed), progress=progress)
    lap("reward model")
    target = load_or_collect(CollectConfig(env=config.target_env, n_trajectories=config.n_target_trajectories,
                                           seed=config.seed + 1, agent=identity), agent.policy)
    phi, target_rows = secret_potential(trained, target, tolerance=config.tolerance)
    potentials = {"ppo": None, "ppo_secret": phi,
                  **{f"ppo_{source}": p for source, p in control_potentials(target_rows, target).items()}}
    lap("target collection + potential")
    return _Stages(source_info, source, trained, target, phi, target_rows, potentials, seconds, agent, identity)


def _heldout(config: KeysDoorsExperiment, stages: _Stages) -> KeysDoorsDataset:
    """The source agent's trajectories on fresh source-distribution mazes: the held-out credit check."""
    return load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_target_trajectories,
                                         seed=config.seed, split="target", agent=stages.identity),
                           stages.agent.policy)


def prepare(config: KeysDoorsExperiment) -> None:
    """The engine job of every stage before the PPO comparison (their artifacts land in the cache)."""
    _heldout(config, _stages(config))


def ppo_chunk(config: KeysDoorsExperiment, arms: Sequence[str], runs: Sequence[int]) -> None:
    """The engine job of the PPO runs ``runs`` (indices < ``n_seeds``) of ``arms`` (after :func:`prepare`)."""
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        raise ValueError(f"arms must be among {ARMS}, got {unknown}")
    potentials = _stages(config).potentials  # loaded from the cache, then φ̂ recomputed: seconds per chunk
    compare_ppo(config.target_env, config.target_ppo, {arm: potentials[arm] for arm in arms}, config.n_seeds,
                seed=config.seed, runs=runs)


def run(config: KeysDoorsExperiment, progress: bool = False) -> KeysDoorsResult:
    """Source agent → its trajectories → reward model → credit → φ̂ on the target maze → PPO with and without it.

    Every stage is cached; ``stage_seconds`` times each (a cached stage takes only the time to load it).
    """
    from secretlab.credit import credit_rows

    stages = _stages(config, progress=progress)
    lap = _stopwatch(stages.seconds)
    heldout = _heldout(config, stages)
    heldout_rows = credit_rows(stages.trained.model, heldout, tolerance=config.tolerance)
    around = attention_around_pickups(heldout_rows, heldout, max_offset=10, window=2)
    discrimination = door_discrimination(stages.trained.model, heldout)
    lap("credit")
    logs = compare_ppo(config.target_env, config.target_ppo, stages.potentials, config.n_seeds, seed=config.seed,
                       progress=progress)
    lap("PPO comparison")
    return KeysDoorsResult(config, stages.source_info, stages.source, stages.trained, heldout, heldout_rows, around,
                           discrimination, stages.target, stages.phi, stages.target_rows, logs, stages.seconds,
                           potentials=stages.potentials)
