"""Out-of-domain transfer to inverted dynamics with DQN (paper §3.2, Fig. 6): the driver of notebook 06.

Source: 8×8 Triggers with NORMAL controls. Target: the same scenario with
INVERTED controls (up↔down, left↔right), one fixed held-out maze per seed.
Nine arms, each a seed-batched DQN (:mod:`secretlab.agents.dqn`) that sees the
full grid:

- ``dqn``: from scratch on the target;
- ``dqn_transfer``: initialised from the weights of a DQN trained on the source
  (seed i starts from source network i);
- ``dqn_secret``: from scratch + SECRET shaping (reward model trained on source
  trajectories with normal controls, :func:`secretlab.experiments.source.source_model`;
  potential computed in the inverted target maze from random-policy episodes);
- ``dqn_transfer_secret``: weight transfer + SECRET shaping.
- ``dqn_secret_effect`` (an extension, not the paper): from scratch + SECRET shaping
  whose potential feeds the reward model the *effect* of each target action (the
  normal-controls action that makes the observed move, :func:`secretlab.shaping.effect_actions`).
  The paper's arm feeds the actions taken, which the source model cannot read under
  inverted controls: it predicts no target reward correctly, so its φ̂ is zero.
- ``dqn_secret_uniform`` and ``dqn_secret_effect_uniform``: the credit-free controls of the two
  SECRET arms from scratch. The same potential estimator on the same model's predictions, with each
  row's attention spread evenly over its past (:func:`secretlab.credit_controls.control_rows`), so
  that what the *credit* adds is the difference to the control (``credit_effect`` in the JSON).
- ``dqn_advice_effect`` (an extension): from scratch + SECRET credit as look-ahead *advice*
  Φ(s, a) (:mod:`secretlab.advice`; the sparse rows, effect-labelled actions), used through the
  seed-batched DQN's hook ``q = net + Φ`` in acting and in the TD target
  (:class:`secretlab.agents.dqn.StackedAdvice`); ``dqn_advice_effect_uniform`` is its uniform-credit
  control. (Advice from the actions taken is zero here, as the paper's φ̂ is: no arm for it.)

All arms use the same target mazes and the same seeds (scratch arms share their
initial weights, transfer arms their source weights), and all 9 × n_seeds
networks train in ONE batched run. Statistics: every seed has its own maze, so
seeds are the runs of a single task (IQM, stratified bootstrap; :mod:`secretlab.stats`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from secretlab import stats
from secretlab.agents.dqn import (
    DQNConfig,
    DQNRun,
    SeedBatchedQ,
    evaluate,
    fresh_networks,
    networks_from_stacked,
    save_stacked,
    train_dqn,
)
from secretlab.cache import (artifact_path, config_hash, load_artifact, load_or_build, read_json, read_npz,
                             read_torch, save_npz, write_artifact, write_json_artifact)
from secretlab.data import maze_seeds
from secretlab.envs.triggers import TriggersConfig
from secretlab.seeds import derive_seed
from secretlab.validation import check_int

SCRATCH, TRANSFER, SECRET, TRANSFER_SECRET = "dqn", "dqn_transfer", "dqn_secret", "dqn_transfer_secret"
SECRET_EFFECT = "dqn_secret_effect"
SECRET_UNIFORM, SECRET_EFFECT_UNIFORM = "dqn_secret_uniform", "dqn_secret_effect_uniform"
ADVICE_EFFECT, ADVICE_EFFECT_UNIFORM = "dqn_advice_effect", "dqn_advice_effect_uniform"
ARMS = (SCRATCH, TRANSFER, SECRET, TRANSFER_SECRET, SECRET_EFFECT, SECRET_UNIFORM, SECRET_EFFECT_UNIFORM,
        ADVICE_EFFECT, ADVICE_EFFECT_UNIFORM)
#: The two panels of the curves figure: the paper's arms with their control, and the extensions with theirs.
ARM_PANELS = {"the paper's arms": (SCRATCH, TRANSFER, SECRET, TRANSFER_SECRET, SECRET_UNIFORM),
              "extensions (effect-labelled credit)": (SCRATCH, SECRET_EFFECT, SECRET_EFFECT_UNIFORM, ADVICE_EFFECT,
                                                      ADVICE_EFFECT_UNIFORM)}
ARM_LABELS = {SCRATCH: "DQN (scratch)", TRANSFER: "DQN + weight transfer", SECRET: "DQN + SECRET",
              TRANSFER_SECRET: "DQN + weight transfer + SECRET",
              SECRET_EFFECT: "DQN + SECRET, effect-labelled actions (extension)",
              SECRET_UNIFORM: "DQN + φ̂ of uniform credit (control of DQN + SECRET)",
              SECRET_EFFECT_UNIFORM: "DQN + φ̂ of uniform credit, effect-labelled (control of the extension)",
              ADVICE_EFFECT: "DQN + SECRET advice, effect-labelled (extension)",
              ADVICE_EFFECT_UNIFORM: "DQN + advice of uniform credit, effect-labelled (control of the advice)"}
ARM_COLOURS = {SCRATCH: "0.35", TRANSFER: "tab:blue", SECRET: "tab:red", TRANSFER_SECRET: "tab:purple",
               SECRET_EFFECT: "tab:orange", SECRET_UNIFORM: "tab:pink", SECRET_EFFECT_UNIFORM: "tab:olive",
               ADVICE_EFFECT: "tab:green", ADVICE_EFFECT_UNIFORM: "tab:cyan"}
#: (arm, baseline) pairs the JSON compares with intervals: the paper's claims (shaping helps from scratch and on
#: weight transfer; weight transfer can hurt), the extension, and each learned credit against uniform attention.
COMPARISONS = {"shaping_from_scratch": (SECRET, SCRATCH), "shaping_on_transfer": (TRANSFER_SECRET, TRANSFER),
               "weight_transfer": (TRANSFER, SCRATCH), "effect_shaping_from_scratch": (SECRET_EFFECT, SCRATCH),
               "credit_effect": (SECRET, SECRET_UNIFORM),
               "credit_effect_effect_labelled": (SECRET_EFFECT, SECRET_EFFECT_UNIFORM),
               "advice_from_scratch": (ADVICE_EFFECT, SCRATCH),
               "credit_effect_advice": (ADVICE_EFFECT, ADVICE_EFFECT_UNIFORM)}
_SOURCE_VERSION = 1  # bump when the source-training code changes meaning
_TARGET_VERSION = 2  # the same for the cached target runs (2: the advice arms)


@dataclass(frozen=True)
class InvertedConfig:
    """One inverted-dynamics transfer experiment (one target scenario)."""

    n_triggers: int = 1
    """Triggers in source and target mazes."""
    n_prizes: int = 1
    """Prizes in source and target mazes (the paper: 1 and 2)."""
    size: int = 8
    """Grid side (the paper: 8; DQN weights only fit this size)."""
    n_seeds: int = 10
    """Seeds per arm; seed i has its own target maze and its own source network."""
    dqn: DQNConfig = DQNConfig()
    """Target-side DQN schedule (the same for every arm)."""
    source_dqn: DQNConfig = DQNConfig()
    """Source-side DQN schedule (normal controls) for the weight-transfer arms."""
    source_mazes: str | int = "fresh"
    """Source mazes of seed i: "fresh" (a new train-split maze every episode), "target" (seed i's target
    layout, but with normal controls: only the dynamics differ) or an int K (K train-split mazes)."""
    n_target_trajectories: int = 1000
    """|D|: random-policy episodes in each inverted target maze used to compute φ̂."""
    profile: str = "default"
    """Reward-model budget used by :func:`secretlab.experiments.source.source_model`."""
    curve_points: int = 40
    """Points on the environment-step axis of the learning curves."""
    threshold: float = 0.8
    """Success level for steps-to-threshold."""
    n_eval_episodes: int = 5
    """Final test episodes per network, at ε = ``dqn.test_e``."""
    n_boot: int = 2000
    """Bootstrap resamples for the 95% intervals."""
    seed: int = 0
    """Picks target mazes, source mazes, network inits, exploration and |D| draws."""

    def __post_init__(self) -> None:
        for name in ("n_seeds", "n_target_trajectories", "curve_points", "n_eval_episodes", "n_boot"):
            check_int(name, getattr(self, name), minimum=1)
        ok_int = isinstance(self.source_mazes, (int, np.integer)) and not isinstance(self.source_mazes, bool) \
            and self.source_mazes >= 1
        if self.source_mazes not in ("fresh", "target") and not ok_int:
            raise ValueError(f"source_mazes must be 'fresh', 'target' or an integer >= 1, got {self.source_mazes!r}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.dqn.observation != self.source_dqn.observation:
            raise ValueError(f"dqn.observation={self.dqn.observation!r} and source_dqn.observation="
                             f"{self.source_dqn.observation!r} must be the same: transferred weights read one view")
        self.source_env  # validates the scenario

    @property
    def source_env(self) -> TriggersConfig:
        return TriggersConfig(self.size, self.n_triggers, self.n_prizes, inverted=False)

    @property
    def target_env(self) -> TriggersConfig:
        return TriggersConfig(self.size, self.n_triggers, self.n_prizes, inverted=True)

    @property
    def scenario(self) -> str:
        return f"{self.size}x{self.size}, {self.n_triggers}T/{self.n_prizes}P"


def profile_dqn_config(params: dict[str, Any], total_steps: int) -> DQNConfig:
    """The DQN schedule of a notebook-06 profile (``NOTEBOOKS["06_inverted_dynamics"][profile]``) for ``total_steps``."""
    return DQNConfig(total_steps=int(total_steps), learning_rate=params["learning_rate"],
                     exploration_steps=int(params["exploration_fraction"] * total_steps),
                     learning_starts=params["learning_starts"], target_update_interval=params["target_update_interval"],
                     buffer_size=params["buffer_size"], gamma=params["gamma"], observation=params["observation"])


def profile_configs(params: dict[str, Any], profile: str, seed: int = 0) -> list[InvertedConfig]:
    """One :class:`InvertedConfig` per scenario of a notebook-06 parameter dict (what notebook 06 runs).

    ``secretlab pretrain-inverted`` (one scenario per process) uses it too, so its cached runs are the notebook's.
    """
    return [InvertedConfig(n_triggers=s["n_triggers"], n_prizes=s["n_prizes"], n_seeds=params["n_seeds"],
                           dqn=profile_dqn_config(params, params["total_steps"]),
                           source_dqn=profile_dqn_config(params, params["source_steps"]),
                           source_mazes=params["source_mazes"], n_target_trajectories=params["n_target_trajectories"],
                           profile=profile, curve_points=params["curve_points"], n_boot=params["n_boot"], seed=seed)
            for s in params["scenarios"]]


# =============================================================================
# Source DQN (normal controls), cached
# =============================================================================
_FRESH_POOL = 1_000_000  # "a fresh maze every episode": more mazes than any run has episodes


def source_maze_seeds(config: InvertedConfig) -> np.ndarray:
    """(n_seeds, K) maze seeds each seed's source network trains on (see ``InvertedConfig.source_mazes``)."""
    if config.source_mazes == "target":
        return maze_seeds("target", config.seed, config.n_seeds)[:, None]
    k = _FRESH_POOL if config.source_mazes == "fresh" else int(config.source_mazes)
    return maze_seeds("train", config.seed, config.n_seeds * k).reshape(config.n_seeds, k)


def source_networks(config: InvertedConfig, refresh: bool = False) -> tuple[dict, dict[str, Any]]:
    """The n_seeds source DQNs (stacked weights) and their training summary; trained once, then cached."""
    parts = ("dqn_source", _SOURCE_VERSION, config.source_env, config.source_dqn, config.n_seeds,
             config.source_mazes, config.seed)
    path = artifact_path("dqn_source", config_hash(*parts), "weights.pt")
    summary_path = path.with_name("summary.json")
    # verified on load; a legacy entry has no config record: it must load, then gets its manifest
    return load_or_build(path, lambda: path.exists() and summary_path.exists() and not refresh,
                         lambda: (load_artifact(path, parts, read_torch), load_artifact(summary_path, parts, read_json)),
                         lambda: _train_sources(config, path, summary_path, parts))


def _train_sources(config: InvertedConfig, path: Any, summary_path: Any, parts: tuple) -> tuple[dict, dict[str, Any]]:
    """Train and test the source DQNs, write their weights and summary (the caller holds the lock)."""
    run = train_dqn(config.source_env, config.source_dqn, _fresh(config, 10_000),
                    source_maze_seeds(config), seed=config.seed + 7919)
    # test the source networks with normal controls: on their own maze ("target") or on held-out mazes
    test_mazes = source_maze_seeds(config)[:, 0] if config.source_mazes == "target" \
        else maze_seeds("heldout", config.seed, config.n_seeds)
    ev = _source_test(run.q, config, test_mazes)
    last = _last_success(run, config.n_seeds)
    summary = {"seconds": round(run.seconds, 2), "steps_per_seed": config.source_dqn.total_steps,
               "train_success_last_20pct": last, "test_success": float(ev["success"].mean()),
               "source_mazes": config.source_mazes}
    with write_artifact(path, parts) as tmp:
        save_stacked(tmp, run.q)
    write_json_artifact(summary_path, summary, parts)
    return run.q.stacked_state(), summary


def _source_test(q: SeedBatchedQ, config: InvertedConfig, mazes: np.ndarray) -> dict[str, np.ndarray]:
    """The source networks' greedy test with normal controls: network i plays ``mazes[i]``
    (:func:`secretlab.agents.dqn.evaluate` at ``source_dqn.test_e``, ``n_eval_episodes`` each)."""
    return evaluate(q, config.source_env, mazes, config.source_dqn.test_e, config.n_eval_episodes, seed=config.seed)


def _init_seeds(config: InvertedConfig, offset: int) -> list[int]:
    return [derive_seed(config.seed, "dqn_network", offset + i) for i in range(config.n_seeds)]


def _fresh(config: InvertedConfig, offset: int) -> list:
    """n_seeds fresh Q-networks reading the experiment's view (offset 0: target scratch arms, 10,000: sources)."""
    return fresh_networks(config.size, _init_seeds(config, offset), config.dqn.observation)


def _unstack(config: InvertedConfig, stacked: dict, source: str = "source checkpoint") -> list:
    return networks_from_stacked(stacked, config.size, source=source, observation=config.dqn.observation)


def _last_success(run: DQNRun, n: int) -> float:
    """Mean training success of the episodes in the last 20% of steps (all networks pooled)."""
    late = run.episode_end_step > 0.8 * run.config.total_steps
    return float(run.episode_success[late].mean()) if late.any() else float("nan")


# =============================================================================
# The experiment
# =============================================================================
@dataclass
class InvertedResult:
    """Raw episode logs of every network plus the curves and summaries the notebook shows."""

    config: InvertedConfig
    target_mazes: np.ndarray
    """(n_seeds,) maze seeds of the inverted target mazes (seed i -> maze i, every arm)."""
    run: DQNRun
    """The batched run; network index = arm_index · n_seeds + seed."""
    steps: np.ndarray
    """(X,) environment steps at the curve points."""
    success: dict[str, np.ndarray]
    """Per arm: (n_seeds, X) training success rate of the episodes ending in each step bucket."""
    returns: dict[str, np.ndarray]
    """Per arm: (n_seeds, X) mean environment return of those episodes."""
    test_success: dict[str, np.ndarray]
    """Per arm: (n_seeds,) success rate of the final test episodes (ε = test_e)."""
    source_summary: dict[str, Any]
    """Training summary of the source DQNs (normal controls)."""
    source_heldout_success: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """(n_seeds,) greedy (ε = test_e) success of each source DQN on held-out fresh mazes with normal controls,
    whatever mazes it trained on: do the weights that transfer arms start from solve new mazes?"""
    potentials: list = field(default_factory=list)
    """(n_seeds,) SECRET potentials of the target mazes (the paper's arms: actions as taken)."""
    effect_potentials: list = field(default_factory=list)
    """(n_seeds,) SECRET potentials from effect-labelled actions (the ``dqn_secret_effect`` arm)."""
    potential_meta: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def curves(self, arm: str, kind: str = "success") -> np.ndarray:
        """(runs = n_seeds, tasks = 1, X) for :mod:`secretlab.stats`."""
        return (self.success if kind == "success" else self.returns)[arm][:, None, :]

    def steps_to_threshold(self, arm: str) -> stats.Interval:
        interval, _ = stats.threshold_interval(self.curves(arm), self.steps, self.config.threshold,
                                               self.config.n_boot, seed=self.config.seed)
        return interval

    def summary(self, arm: str) -> dict[str, Any]:
        cfg = self.config
        auc = stats.iqm_interval(stats.normalised_auc(self.curves(arm)), cfg.n_boot, seed=cfg.seed)
        final = stats.iqm_interval(self.success[arm][:, -max(1, len(self.steps) // 10):].mean(1)[:, None],
                                   cfg.n_boot, seed=cfg.seed)
        test = stats.iqm_interval(self.test_success[arm][:, None], cfg.n_boot, seed=cfg.seed)
        return {"steps_to_80": self.steps_to_threshold(arm).as_dict(), "auc_success": auc.as_dict(),
                "final_success": final.as_dict(), "test_success": test.as_dict(),
                "test_success_per_seed": [round(float(v), 3) for v in self.test_success[arm]]}


def step_buckets(run: DQNRun, networks: np.ndarray, total_steps: int, n_points: int) -> tuple[np.ndarray, ...]:
    """Training success and return per network and step bucket.

    Bucket j covers steps (edges[j], edges[j+1]]; its value is the mean over the
    episodes ending in it. A bucket without a finished episode repeats the previous
    value (0 before the first episode). Returns (steps (X,), success (N, X), returns (N, X)),
    with ``steps`` the buckets' right edges.
    """
    edges = np.linspace(0, total_steps, n_points + 1)
    success = np.zeros((len(networks), n_points))
    returns = np.zeros((len(networks), n_points))
    for row, net in enumerate(networks):
        mine = run.episode_network == net
        b = np.clip(np.searchsorted(edges, run.episode_end_step[mine], side="left") - 1, 0, n_points - 1)
        counts = np.bincount(b, minlength=n_points)
        s = np.bincount(b, run.episode_success[mine].astype(float), n_points)
        r = np.bincount(b, run.episode_return[mine], n_points)
        prev_s = prev_r = 0.0
        for j in range(n_points):
            if counts[j]:
                prev_s, prev_r = s[j] / counts[j], r[j] / counts[j]
            success[row, j], returns[row, j] = prev_s, prev_r
    return edges[1:], success, returns


#: The shaped scratch arms: (action labels the model reads, credit source of the rows).
SHAPED_ARMS = {SECRET: ("taken", "secret"), SECRET_EFFECT: ("effect", "secret"),
               SECRET_UNIFORM: ("taken", "uniform"), SECRET_EFFECT_UNIFORM: ("effect", "uniform")}


#: The advised scratch arms: (action labels the model reads, credit source of the rows).
ADVISED_ARMS = {ADVICE_EFFECT: ("effect", "secret_sparse"), ADVICE_EFFECT_UNIFORM: ("effect", "uniform")}


def target_shaping(model: Any, config: InvertedConfig, mazes: np.ndarray
                   ) -> tuple[dict[str, list], dict[str, list], dict[str, Any]]:
    """SECRET potentials and advice of every inverted target maze (random-policy |D| there), per shaped arm.

    Returns ({arm: potentials} for :data:`SHAPED_ARMS`, {arm: advice} for :data:`ADVISED_ARMS`, meta). The
    paper's arms read the actions taken, the effect arms :func:`secretlab.shaping.effect_actions`; the uniform
    arms spread each row's attention evenly. All use the same |D| episodes, and the model reads them once per
    labelling (every arm's rows are derived from those two inferences).
    """
    from secretlab.advice import secret_advice
    from secretlab.data.target import target_dataset
    from secretlab.shaping import labelled_credit_rows, secret_potential

    env, n_d, gamma, seed = config.target_env, config.n_target_trajectories, config.dqn.gamma, config.seed
    potentials: dict[str, list] = {arm: [] for arm in SHAPED_ARMS}
    advice: dict[str, list] = {arm: [] for arm in ADVISED_ARMS}
    for maze in (int(m) for m in mazes):
        dataset = target_dataset(env, maze, n_d, seed)
        rows = {labels: labelled_credit_rows(model, env, dataset, labels) for labels in ("taken", "effect")}
        for arm, (labels, credit) in SHAPED_ARMS.items():
            potentials[arm].append(secret_potential(model, env, maze, n_d, gamma, seed=seed, dataset=dataset,
                                                    credit=credit, model_rows=rows[labels]))
        for arm, (labels, source) in ADVISED_ARMS.items():
            advice[arm].append(secret_advice(model, env, maze, n_d, gamma, seed=seed, dataset=dataset,
                                             source=source, model_rows=rows[labels]))
    meta: dict[str, Any] = {"n_target_trajectories": n_d}
    for prefix, arm in (("", SECRET), ("effect_", SECRET_EFFECT), ("uniform_", SECRET_UNIFORM),
                        ("effect_uniform_", SECRET_EFFECT_UNIFORM)):
        group = potentials[arm]
        meta.update({f"{prefix}mean_abs_phi": [round(float(np.abs(p.table).mean()), 5) for p in group],
                     f"{prefix}max_phi": [round(float(p.table.max()), 4) for p in group],
                     f"{prefix}n_reward_rows": [int(p.meta["n_rows"]) for p in group],
                     f"{prefix}n_correct_rows": [int(p.meta["n_correct_rows"]) for p in group]})
    for prefix, arm in (("advice_", ADVICE_EFFECT), ("advice_uniform_", ADVICE_EFFECT_UNIFORM)):
        meta.update({f"{prefix}pairs_with_phi": [a.n_nonzero for a in advice[arm]],
                     f"{prefix}max_phi": [round(float(a.table.max()), 4) for a in advice[arm]],
                     f"{prefix}n_correct_rows": [int(a.meta["n_correct_rows"]) for a in advice[arm]]})
    return potentials, advice, meta


_RUN_LOGS = ("episode_network", "episode_end_step", "episode_return", "episode_success", "episode_length")


def target_run(config: InvertedConfig, networks: list, mazes: np.ndarray, potentials: list,
               refresh: bool = False, advice: list | None = None) -> DQNRun:
    """:func:`train_dqn` of every arm's network in its inverted target maze, cached.

    The key hashes everything the run sees: the target scenario, the DQN schedule, the mazes, the seed,
    the networks' initial weights and every potential and advice table (``advice``: one
    :class:`secretlab.advice.Advice` or None per network, as :func:`train_dqn` takes it). A rerun with the same inputs loads the
    trained weights and episode logs (``.cache/dqn_target/<hash>/``: ``weights.pt`` loads with
    ``weights_only=True``, ``episodes.npz`` without pickle); ``run.seconds`` is the original training time.
    At `paper` one scenario's run takes hours on one core, so the two scenarios can be trained in two processes
    (``secretlab pretrain-inverted --profile paper --scenario 0`` and ``--scenario 1``) and the notebook then
    draws from the cache.
    """
    initial = SeedBatchedQ(networks).stacked_state()
    parts = ("dqn_target", _TARGET_VERSION, config.target_env, config.dqn, np.asarray(mazes), config.seed,
             {k: v.numpy() for k, v in initial.items()},
             # rounded: the reward model's float sums depend on the thread count, and a last-bit
             # difference in φ̂ must not retrain a 2-hour run
             [None if p is None else [np.round(p.table, 9), p.terminal_zero, p.gamma] for p in potentials],
             [None if a is None else [np.round(a.table, 9), a.gamma] for a in (advice or [])])
    weights_path = artifact_path("dqn_target", config_hash(*parts), "weights.pt")
    logs_path, meta_path = weights_path.with_name("episodes.npz"), weights_path.with_name("run.json")

    def load() -> DQNRun:
        stacked = load_artifact(weights_path, parts, read_torch)  # verified (legacy: it loads; see secretlab.cache)
        q = SeedBatchedQ(_unstack(config, stacked, source="cached target run"))
        return DQNRun(q=q, **load_artifact(logs_path, parts, read_npz),
                      seconds=load_artifact(meta_path, parts, read_json)["seconds"], config=config.dqn)

    def build() -> DQNRun:
        run = train_dqn(config.target_env, config.dqn, networks, np.asarray(mazes)[:, None], potentials=potentials,
                        seed=config.seed, advice=advice)
        with write_artifact(weights_path, parts) as tmp:
            save_stacked(tmp, run.q)
        save_npz(logs_path, {name: np.asarray(getattr(run, name)) for name in _RUN_LOGS}, key_parts=parts)
        write_json_artifact(meta_path, {"seconds": round(run.seconds, 2), "n_networks": len(networks)}, parts)  # last
        return run

    return load_or_build(weights_path, lambda: not refresh and weights_path.exists() and logs_path.exists()
                         and meta_path.exists(), load, build)


def run_inverted(config: InvertedConfig, model: Any | None = None) -> InvertedResult:
    """Train every arm on every seed's inverted target maze in one batched DQN run.

    ``model``: the source-trained SECRET reward model (``TrainedModel`` or ``RewardModel``);
    None fetches it with :func:`secretlab.experiments.source.source_model` (cached).
    """
    timings: dict[str, float] = {}
    n = config.n_seeds
    t0 = time.perf_counter()
    if model is None:
        from secretlab.experiments.source import source_model

        model = source_model(config.source_env, config.profile, config.seed, progress=False)
    timings["reward_model_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    source_state, source_summary = source_networks(config)
    source_heldout = _source_test(SeedBatchedQ(_unstack(config, source_state)), config,
                                  maze_seeds("heldout", config.seed, n))["success"].mean(1)
    timings["source_dqn_s"] = time.perf_counter() - t0

    mazes = maze_seeds("target", config.seed, n)
    t0 = time.perf_counter()
    shaped, advised, meta = target_shaping(model, config, mazes)
    timings["potentials_s"] = time.perf_counter() - t0

    scratch = _fresh(config, 0)
    transferred = _unstack(config, source_state)
    arm_nets = {arm: scratch for arm in ARMS} | {TRANSFER: transferred, TRANSFER_SECRET: transferred}
    arm_pots = {arm: [None] * n for arm in ARMS} | {TRANSFER_SECRET: shaped[SECRET], **shaped}
    arm_advice = {arm: [None] * n for arm in ARMS} | advised
    networks = [net for arm in ARMS for net in arm_nets[arm]]  # SeedBatchedQ copies the weights
    potentials = [p for arm in ARMS for p in arm_pots[arm]]
    advice = [a for arm in ARMS for a in arm_advice[arm]]
    t0 = time.perf_counter()
    network_mazes = np.tile(mazes, len(ARMS))  # network a·n + i plays seed i's maze
    run = target_run(config, networks, network_mazes, potentials, advice=advice)
    timings["target_dqn_s"] = time.perf_counter() - t0
    timings["target_dqn_trained_s"] = run.seconds  # differs from target_dqn_s when the run came from the cache
    ev = evaluate(run.q, config.target_env, network_mazes, config.dqn.test_e, config.n_eval_episodes,
                  seed=config.seed, advice=advice)  # an advised network's policy is argmax(net + Φ)
    success, returns, test = {}, {}, {}
    for a, arm in enumerate(ARMS):
        ids = np.arange(a * n, (a + 1) * n)
        steps, success[arm], returns[arm] = step_buckets(run, ids, config.dqn.total_steps, config.curve_points)
        test[arm] = ev["success"][ids].mean(1)
    return InvertedResult(config, mazes, run, steps, success, returns, test, source_summary, source_heldout,
                          shaped[SECRET], shaped[SECRET_EFFECT], meta, timings)
