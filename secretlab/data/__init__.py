"""Trajectory datasets: collect, pad, save and load.

A :class:`TrajectoryDataset` holds N padded trajectories of one Triggers maze
distribution, with everything later stages need: the crops and actions the
reward model reads, the rewards it predicts, the true-state keys the potential
is keyed on, the trigger-activation flags that are the credit ground truth, and
each trajectory's maze. Datasets are cached as plain ``.npz`` files (no pickle)
under a hash of their :class:`DatasetConfig` and verified on load (content hash and
config, :func:`secretlab.cache.load_artifact`); a dataset cached before manifests is
also checked against the config embedded in its arrays before it is trusted.

Maze seeds come from disjoint ranges per *split* (``train``, ``heldout``,
``target``), so held-out evaluation never reuses a training seed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from secretlab.cache import artifact_error, cached_npz, config_problem, describe_error
from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import N_ACTIONS, Layout, TriggersConfig
from secretlab.progress import iterate, progress_bar
from secretlab.validation import check_int

Split = Literal["train", "heldout", "target"]
SPLITS: tuple[str, ...] = ("train", "heldout", "target")
_SPLIT_OFFSET = {"train": 0, "heldout": 10**15, "target": 2 * 10**15}
_SEED_STRIDE = 10**9

#: A policy maps (crops (B,3,3,3) uint8, state keys (B,), rng) to actions (B,) ints.
Policy = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def uniform_random_policy(obs: np.ndarray, state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The paper's data-collection policy: each action with probability 1/4."""
    return rng.integers(0, N_ACTIONS, size=len(state))


def block_seeds(offsets: dict[str, int], split: str, seed: int, n: int) -> np.ndarray:
    """The split rule of every dataset: ``offsets[split] + seed·1e9 + [0, n)``.

    Each environment's datasets give ``offsets`` one block per split, 1e15 apart, so the splits (and, within
    a split, the notebook seeds) never share a maze seed.
    """
    if split not in offsets:
        raise ValueError(f"split must be one of {tuple(offsets)}, got {split!r}")
    if not 0 <= seed < 10**6:
        raise ValueError(f"seed must be in [0, 1e6), got {seed}")
    if not 0 <= n <= _SEED_STRIDE:
        raise ValueError(f"n must be in [0, 1e9], got {n}")
    return offsets[split] + seed * _SEED_STRIDE + np.arange(n, dtype=np.int64)


def maze_seeds(split: Split, seed: int, n: int) -> np.ndarray:
    """Maze seeds of a Triggers split: ``offset(split) + seed·1e9 + [0, n)`` (disjoint across splits)."""
    return block_seeds(_SPLIT_OFFSET, split, seed, n)


def seed_block(split: Split, seed: int) -> tuple[int, int]:
    """[lo, hi) of the maze seeds a split/seed pair can ever use (what :func:`maze_seeds` draws from)."""
    lo = int(maze_seeds(split, seed, 1)[0])
    return lo, lo + _SEED_STRIDE


@dataclass(frozen=True)
class DatasetConfig:
    """What identifies a dataset (and its cache entry)."""

    env: TriggersConfig = field(default_factory=TriggersConfig)
    """The maze distribution."""
    n_trajectories: int = 1000
    """Number of episodes (one per maze unless ``fixed_maze_seed`` is set)."""
    seed: int = 0
    """Seeds the action draws and picks the maze-seed block within the split."""
    split: Split = "train"
    """Which disjoint block of maze seeds to use."""
    fixed_maze_seed: int | None = None
    """If set, every episode runs in this one maze (the target side of transfer)."""
    policy: str = "uniform_random"
    """Name of the policy (part of the cache key; custom callables pass their own)."""
    success_share: float | None = None
    """Share of the kept episodes that contain a +1 (None: whatever the policy gives). The paper trains
    SECRET on "a dataset of trajectories which contains a certain proportion of successful trajectories"
    (§2.1): episodes are rolled out on consecutive maze seeds of the split and kept by outcome only
    (rewards, never the trigger flags) until both quotas are met."""

    def __post_init__(self) -> None:
        check_int("n_trajectories", self.n_trajectories, minimum=1)
        if self.split not in _SPLIT_OFFSET:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.fixed_maze_seed is not None:  # collect() calls int() on it: 1.7 would become maze 1
            check_int("fixed_maze_seed", self.fixed_maze_seed, minimum=0)
        if self.success_share is not None:
            if isinstance(self.success_share, bool) or not isinstance(self.success_share, (int, float)) \
                    or not 0.0 <= float(self.success_share) <= 1.0:
                raise ValueError(f"success_share must be None or a number in [0, 1], got {self.success_share!r}")
            if self.fixed_maze_seed is not None:
                raise ValueError("success_share needs fresh mazes: use it with fixed_maze_seed=None")


@dataclass
class TrajectoryDataset:
    """N padded trajectories; T = the maze horizon. Padding: action -1, state -1.

    Per step t the model reads ``(obs[:, t], actions[:, t])`` and predicts
    ``sign(rewards[:, t])``; ``states[:, t]`` is the true state *before* the
    action and ``states[:, t + 1]`` the one it led into.
    """

    config: DatasetConfig
    obs: np.ndarray
    """(N, T, 3, 3, 3) uint8 crops seen before each action."""
    actions: np.ndarray
    """(N, T) int64 actions, -1 on padding."""
    rewards: np.ndarray
    """(N, T) float32 rewards of each step, 0 on padding."""
    states: np.ndarray
    """(N, T + 1) int64 true-state keys, -1 on padding."""
    activated: np.ndarray
    """(N, T) bool: this step's action activated a trigger (credit ground truth)."""
    lengths: np.ndarray
    """(N,) int64 episode lengths."""
    terminated: np.ndarray
    """(N,) bool: episode ended by collecting every prize (else truncated)."""
    maze_seeds: np.ndarray
    """(N,) int64 the seed each trajectory's maze was drawn from."""
    layouts: Layout
    """Stacked mazes: agent (N, 2), triggers (N, nT, 2), prizes (N, nP, 2)."""

    # ----------------------------------------------------------- properties
    @property
    def n(self) -> int:
        return len(self.lengths)

    @property
    def horizon(self) -> int:
        return self.actions.shape[1]

    @property
    def mask(self) -> np.ndarray:
        """(N, T) bool, True on real (unpadded) steps."""
        return np.arange(self.horizon)[None, :] < self.lengths[:, None]

    @property
    def reward_sign(self) -> np.ndarray:
        """(N, T) int64 sign(r) in {-1, 0, 1}: the classification target."""
        return np.sign(self.rewards).astype(np.int64)

    @property
    def agent_cells(self) -> np.ndarray:
        """(N, T + 1, 2) agent (row, col) per step, -1 on padding (decoded from ``states``)."""
        n_bits = self.config.env.n_triggers + self.config.env.n_prizes
        cell = np.where(self.states >= 0, self.states >> n_bits, -1)
        rc = np.stack(np.divmod(cell, self.config.env.size), axis=-1)
        return np.where(self.states[..., None] >= 0, rc, -1)

    def subset(self, index: np.ndarray | slice) -> "TrajectoryDataset":
        """A dataset view of some trajectories (same config)."""
        return TrajectoryDataset(
            self.config, self.obs[index], self.actions[index], self.rewards[index],
            self.states[index], self.activated[index], self.lengths[index],
            self.terminated[index], self.maze_seeds[index],
            Layout(*(x[index] for x in self.layouts)),
        )

    def summary(self) -> dict[str, float]:
        """Outcome shares: episodes with a +1, with a -1, solved, mean length."""
        return {
            "n_trajectories": int(self.n),
            "share_positive": float((self.rewards > 0).any(1).mean()),
            "share_negative": float((self.rewards < 0).any(1).mean()),
            "share_solved": float((self.terminated & ~(self.rewards < 0).any(1)).mean()),
            "share_terminated": float(self.terminated.mean()),
            "mean_length": float(self.lengths.mean()),
            "positive_steps": int((self.rewards > 0).sum()),
            "negative_steps": int((self.rewards < 0).sum()),
        }

    # ------------------------------------------------------------- storage
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "obs": self.obs, "actions": self.actions, "rewards": self.rewards,
            "states": self.states, "activated": self.activated, "lengths": self.lengths,
            "terminated": self.terminated, "maze_seeds": self.maze_seeds,
            "layout_agent": self.layouts.agent, "layout_triggers": self.layouts.triggers,
            "layout_prizes": self.layouts.prizes,
            "config_json": np.frombuffer(json.dumps(_config_to_dict(self.config)).encode(), dtype=np.uint8),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TrajectoryDataset":
        config = _config_from_dict(json.loads(arrays["config_json"].tobytes().decode()))
        return cls(
            config, arrays["obs"], arrays["actions"].astype(np.int64), arrays["rewards"],
            arrays["states"], arrays["activated"], arrays["lengths"], arrays["terminated"],
            arrays["maze_seeds"],
            Layout(arrays["layout_agent"], arrays["layout_triggers"], arrays["layout_prizes"]),
        )

    def save(self, path: str | Path) -> None:
        from secretlab.cache import save_npz

        save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str | Path) -> "TrajectoryDataset":
        """Read a saved dataset (hash-checked if it has a manifest); a bad file raises ``ArtifactError``."""
        from secretlab.cache import load_npz

        return _from_file(load_npz(path), Path(path))


def _from_file(arrays: dict[str, np.ndarray], path: Path) -> TrajectoryDataset:
    try:
        return TrajectoryDataset.from_arrays(arrays)
    except Exception as err:  # a .npz of other arrays: name the file, not just the missing key
        raise artifact_error(path, f"unreadable ({describe_error(err)})") from None


def _config_to_dict(config: DatasetConfig) -> dict:
    d = asdict(config)
    return d


def _config_from_dict(d: dict) -> DatasetConfig:
    env = TriggersConfig(**d.pop("env"))
    return DatasetConfig(env=env, **d)


# ------------------------------------------------------------------ collection
#: With ``success_share``, give up after this many episodes per kept trajectory (a scenario whose
#: random policy almost never succeeds would otherwise loop for hours).
MAX_EPISODES_PER_KEPT = 400


def collect(
    config: DatasetConfig,
    policy: Policy | None = None,
    batch_size: int = 4096,
    progress: bool = False,
) -> TrajectoryDataset:
    """Roll out ``config.n_trajectories`` episodes with ``policy`` (default uniform random).

    Episodes run in batches of ``batch_size`` mazes on :class:`BatchedTriggers`;
    finished episodes stay frozen (masked) until the whole batch is done.
    With ``config.success_share`` set, batches run on consecutive maze seeds of the
    split and episodes are kept by outcome (contains a +1 or not) until both quotas
    are met; kept episodes stay in seed order. Deterministic given ``config`` and
    ``batch_size``.
    """
    policy = uniform_random_policy if policy is None else policy
    N = config.n_trajectories
    rng = np.random.default_rng([config.seed, _SPLIT_OFFSET[config.split] // 10**15, 7])
    if config.fixed_maze_seed is not None:
        seeds = np.full(N, int(config.fixed_maze_seed), dtype=np.int64)
    elif config.success_share is None:
        seeds = maze_seeds(config.split, config.seed, N)
    else:
        return _collect_by_outcome(config, policy, rng, batch_size, progress)
    starts = iterate(range(0, N, batch_size), "collect", "batch", enabled=progress)
    parts = [_rollout(config.env, seeds[start:start + batch_size], policy, rng) for start in starts]
    return _dataset(config, parts)


def _collect_by_outcome(config: DatasetConfig, policy: Policy, rng: np.random.Generator, batch_size: int,
                        progress: bool) -> TrajectoryDataset:
    """``collect`` for ``success_share``: keep episodes by outcome until both quotas are met."""
    N = config.n_trajectories
    want = {True: int(round(float(config.success_share) * N))}
    want[False] = N - want[True]
    parts, rolled = [], 0
    bar = progress_bar(N, "collect (by outcome)", "episode", enabled=progress)
    while want[True] > 0 or want[False] > 0:
        if rolled >= MAX_EPISODES_PER_KEPT * N:
            raise ValueError(
                f"success_share={config.success_share}: after {rolled} episodes of {config.env} the policy "
                f"still misses {want[True]} episodes with a +1 and {want[False]} without; lower success_share "
                f"or use a better policy")
        seeds = maze_seeds(config.split, config.seed, rolled + batch_size)[rolled:]
        part = _rollout(config.env, seeds, policy, rng)
        rolled += batch_size
        success = (part["rewards"] > 0).any(1)
        keep = np.zeros(len(success), bool)
        for outcome in (True, False):
            index = np.flatnonzero(success == outcome)[: want[outcome]]
            keep[index] = True
            want[outcome] -= len(index)
        parts.append({k: v[keep] for k, v in part.items()})
        bar.update(int(keep.sum()))
    bar.close()
    return _dataset(config, parts)


def _rollout(env_cfg: TriggersConfig, seeds: np.ndarray, policy: Policy, rng: np.random.Generator
             ) -> dict[str, np.ndarray]:
    """One batch of episodes, one per maze seed: the padded per-episode arrays of a dataset."""
    B, T = len(seeds), env_cfg.horizon
    obs = np.zeros((B, T, 3, 3, 3), np.uint8)
    actions = np.full((B, T), -1, np.int64)
    rewards = np.zeros((B, T), np.float32)
    states = np.full((B, T + 1), -1, np.int64)
    activated = np.zeros((B, T), bool)
    lengths = np.zeros(B, np.int64)
    terminated = np.zeros(B, bool)
    env = BatchedTriggers(env_cfg, B, obs_mode="crop")
    o = env.reset(seeds=seeds)
    layout = env.layouts  # before any step: the maze as drawn
    alive = np.ones(B, bool)
    rows = np.arange(B)
    states[:, 0] = env.state
    for t in range(T):
        a = np.asarray(policy(o, env.state, rng), dtype=np.int64)
        a = np.where(alive, a, 0)  # frozen envs still step; their outputs are discarded
        step = env.step(a)
        live = rows[alive]
        obs[live, t] = o[alive]
        actions[live, t] = a[alive]
        rewards[live, t] = step.reward[alive]
        activated[live, t] = step.activated[alive]
        states[live, t + 1] = step.state[alive]
        done = alive & (step.terminated | step.truncated)
        lengths[done] = t + 1
        terminated[done] = step.terminated[done]
        alive &= ~done
        if not alive.any():
            break
        o = step.obs
    return {"obs": obs, "actions": actions, "rewards": rewards, "states": states, "activated": activated,
            "lengths": lengths, "terminated": terminated, "maze_seeds": np.asarray(seeds, np.int64),
            "layout_agent": layout.agent, "layout_triggers": layout.triggers, "layout_prizes": layout.prizes}


def _dataset(config: DatasetConfig, parts: list[dict[str, np.ndarray]]) -> TrajectoryDataset:
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return TrajectoryDataset(config, a["obs"], a["actions"], a["rewards"], a["states"], a["activated"],
                             a["lengths"], a["terminated"], a["maze_seeds"],
                             Layout(a["layout_agent"], a["layout_triggers"], a["layout_prizes"]))


def load_or_collect(config: DatasetConfig, progress: bool = False, refresh: bool = False) -> TrajectoryDataset:
    """The cached dataset for ``config`` (uniform random policy), collecting it if needed."""
    if config.policy != "uniform_random":
        raise ValueError(
            f"load_or_collect only knows policy='uniform_random', got {config.policy!r}; "
            "call collect(config, policy=...) for other policies"
        )
    arrays, path = cached_npz(
        "datasets", config, lambda: collect(config, progress=progress).to_arrays(), refresh=refresh,
        legacy_check=lambda arrays: _embedded_config_problem(arrays, config),
    )
    return _from_file(arrays, path)


def _embedded_config_problem(arrays: dict[str, np.ndarray], config: DatasetConfig) -> str | None:
    """None if the arrays were collected for ``config`` (their ``config_json``), else what differs."""
    recorded = json.loads(arrays["config_json"].tobytes().decode())
    return config_problem("the dataset itself", recorded, _config_to_dict(config))


def with_env(config: DatasetConfig, **env_changes) -> DatasetConfig:
    """A copy of ``config`` with some maze-distribution fields changed."""
    return replace(config, env=replace(config.env, **env_changes))


#: The maze distributions the paper uses (Triggers experiments and App. A.2's 4th scenario).
PAPER_SCENARIOS: tuple[TriggersConfig, ...] = (
    TriggersConfig(8, 1, 1), TriggersConfig(8, 1, 2), TriggersConfig(8, 3, 1),
    TriggersConfig(8, 2, 2), TriggersConfig(12, 1, 1), TriggersConfig(12, 1, 2),
)


def scenario_name(env: TriggersConfig | dict) -> str:
    """Short label, e.g. ``8x8 3T/1P``: :attr:`TriggersConfig.name` of a config or of a profile's scenario dict."""
    return (env if isinstance(env, TriggersConfig) else TriggersConfig.from_scenario(env)).name


def random_policy_table(scenarios: tuple[TriggersConfig, ...] = PAPER_SCENARIOS, n_episodes: int = 4000,
                        horizons: tuple[int | None, ...] = (50, 100, 200, None), seed: int = 0):
    """Outcome shares of a uniform random policy per scenario and horizon (a pandas DataFrame).

    ``None`` in ``horizons`` is the scenario's default ``max_steps``. One row per
    (scenario, horizon) with the :meth:`TrajectoryDataset.summary` columns.
    """
    import pandas as pd

    rows = []
    for env in scenarios:
        seen: set[int] = set()
        for horizon in horizons:
            cfg = replace(env, max_steps=horizon)
            if cfg.horizon in seen:
                continue
            seen.add(cfg.horizon)
            ds = collect(DatasetConfig(cfg, n_trajectories=n_episodes, seed=seed, split="heldout"))
            rows.append({"scenario": scenario_name(env), "max_steps": cfg.horizon,
                         "default_horizon": cfg.horizon == env.horizon, **ds.summary()})
    return pd.DataFrame(rows)
