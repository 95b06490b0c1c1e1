"""Keys/doors trajectory datasets: collect a policy's episodes, pad, cache.

A :class:`KeysDoorsDataset` is the keys/doors counterpart of
:class:`secretlab.data.TrajectoryDataset`: the views and actions the reward model
reads (re-coded by :func:`model_view`), the rewards it predicts, the true-state
keys a potential is keyed on, which key each step picked and which door it
opened (the credit ground truth), and each episode's maze. Datasets are cached
as plain ``.npz`` files under a hash of their :class:`CollectConfig` and verified
on load. Maze seeds follow the one split rule of :func:`secretlab.data.block_seeds`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from secretlab.cache import cached_npz
from secretlab.data import block_seeds
from secretlab.envs.keys_doors import (N_ACTIONS, RULES_VERSION, VIEW, KeysDoorsConfig, agent_features,
                                       maze_layout, n_agent_features)
from secretlab.envs.keys_doors_batch import KeysDoorsStep, reset_batch
from secretlab.validation import check_int

#: Maze-seed blocks per split (source mazes never coincide with a target maze).
SPLIT_OFFSET = {"train": 0, "target": 10**15}

#: MiniGrid object codes that occur in KeysDoors views: unseen, empty, wall, door, key, goal.
MODEL_OBJECTS = (0, 1, 2, 4, 5, 8)


def model_view(obs: np.ndarray, n_colors: int) -> np.ndarray:
    """The reward model's input: a one-hot re-coding of the env's view, (..., 3, 7, 7) -> (..., C, 7, 7) uint8.

    C = 6 object channels (:data:`MODEL_OBJECTS`) + ``n_colors`` colour channels
    (set on keys and doors only) + 3 door-state channels (open, closed, locked).
    Lossless for KeysDoors. Why: MiniGrid's colour code of red is 0, the same as
    the code of empty floor, so in the raw 3-channel view a red key differs
    from a green one by one tenth of the input range, and the model failed to
    learn which key was picked (see docs/keys_doors.md).
    """
    obs = np.asarray(obs)
    o, c, s = obs[..., 0, :, :], obs[..., 1, :, :], obs[..., 2, :, :]
    coloured = (o == 4) | (o == 5)
    channels = [o == k for k in MODEL_OBJECTS]
    channels += [coloured & (c == k) for k in range(n_colors)]
    channels += [(o == 4) & (s == k) for k in range(3)]
    return np.stack(channels, axis=-3).astype(np.uint8)


def n_model_channels(n_colors: int) -> int:
    """Channels of :func:`model_view`."""
    return len(MODEL_OBJECTS) + n_colors + 3


def maze_seeds(split: str, seed: int, n: int) -> np.ndarray:
    """Maze seeds of a keys/doors split: ``offset(split) + seed·1e9 + [0, n)``, disjoint across splits."""
    return block_seeds(SPLIT_OFFSET, split, seed, n)


def target_maze_seed(seed: int = 0) -> int:
    """The fixed target maze of a notebook seed (in the 'target' block, never a source maze)."""
    return int(maze_seeds("target", seed, 1)[0]) + 10**8


@dataclass(frozen=True)
class CollectConfig:
    """What identifies a collected keys/doors dataset (and its cache entry)."""

    env: KeysDoorsConfig = field(default_factory=KeysDoorsConfig)
    """Maze distribution; with ``env.maze_seed`` set, every episode runs in that fixed maze."""
    n_trajectories: int = 1000
    """Episodes to collect."""
    seed: int = 0
    """Seeds the action sampling and the maze-seed block."""
    split: str = "train"
    """Maze-seed block for random mazes: 'train' or 'target'."""
    agent: dict = field(default_factory=dict)
    """Identity of the collecting policy (source agent env/PPO config/seed), part of the cache key."""
    rules: int = RULES_VERSION
    """Version of the env rules (so a rule change never reuses stale data)."""
    view: str = "onehot"
    """Format of the stored views (:func:`model_view`), part of the cache key."""

    def __post_init__(self) -> None:
        check_int("n_trajectories", self.n_trajectories, minimum=1)
        if self.split not in SPLIT_OFFSET:
            raise ValueError(f"split must be one of {tuple(SPLIT_OFFSET)}, got {self.split!r}")


@dataclass
class KeysDoorsDataset:
    """N padded keys/doors trajectories (T = horizon). Padding: action -1, state -1, flags -1.

    The reward model reads ``obs``/``actions`` and predicts ``sign(rewards)``;
    ``states[:, t]`` is the true state before step t's action, ``states[:, t+1]`` after it.
    """

    config: CollectConfig
    obs: np.ndarray
    """(N, T, C, 7, 7) uint8 views seen before each action, one-hot re-coded by :func:`model_view`."""
    actions: np.ndarray
    """(N, T) int64, -1 on padding."""
    rewards: np.ndarray
    """(N, T) float32 (0 key pickup, +1 door, +50 goal)."""
    states: np.ndarray
    """(N, T + 1) int64 true-state keys, -1 on padding."""
    picked: np.ndarray
    """(N, T) int64 colour of the key this step's action picked up, else -1."""
    opened: np.ndarray
    """(N, T) int64 index of the door this step's action opened, else -1."""
    agent_xy: np.ndarray
    """(N, T + 1, 2) int64 MiniGrid (x, y) cell before each step (and after the last), -1 on padding."""
    lengths: np.ndarray
    """(N,) int64 episode lengths."""
    success: np.ndarray
    """(N,) bool: reached the goal."""
    maze_seeds: np.ndarray
    """(N,) int64 maze seed of each episode."""
    door_xy: np.ndarray
    """(N, n_doors, 2) door cells."""
    door_colour: np.ndarray
    """(N, n_doors) door colours."""
    key_xy: np.ndarray
    """(N, n_doors, 2, 2) key cells of each room (two keys per door: the match and a decoy)."""
    key_colour: np.ndarray
    """(N, n_doors, 2) key colours."""
    goal_xy: np.ndarray
    """(N, 2) goal cell."""

    @property
    def n(self) -> int:
        return len(self.lengths)

    @property
    def activated(self) -> np.ndarray:
        """(N, T) bool: this step picked up the key that a later step used to open a door (the credit ground
        truth of the ``ideal`` control, :func:`secretlab.credit_controls.ideal_credit_rows`)."""
        out = np.zeros(self.actions.shape, bool)
        for traj, step in zip(*np.nonzero(self.opened >= 0)):
            pickup = matching_pickup_step(self, int(traj), int(step))
            if pickup >= 0:
                out[traj, pickup] = True
        return out

    @property
    def mask(self) -> np.ndarray:
        """(N, T) bool, True on real steps."""
        return np.arange(self.actions.shape[1])[None, :] < self.lengths[:, None]

    def summary(self) -> dict[str, float]:
        return {
            "n_trajectories": int(self.n),
            "share_success": float(self.success.mean()),
            "share_door_opened": float((self.opened >= 0).any(1).mean()),
            "share_key_picked": float((self.picked >= 0).any(1).mean()),
            "mean_length": float(self.lengths.mean()),
            "door_openings": int((self.opened >= 0).sum()),
            "goal_rewards": int(self.success.sum()),
        }

    def layout(self, index: int = 0) -> dict[str, np.ndarray]:
        """Trajectory ``index``'s maze as the ``layout`` dict :func:`secretlab.envs.keys_doors_picture.draw_maze` reads."""
        return maze_layout(self.config.env, int(self.maze_seeds[index]))

    _FIELDS = ("obs", "actions", "rewards", "states", "picked", "opened", "agent_xy", "lengths", "success",
               "maze_seeds", "door_xy", "door_colour", "key_xy", "key_colour", "goal_xy")

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self._FIELDS}

    @classmethod
    def from_arrays(cls, config: CollectConfig, arrays: dict[str, np.ndarray]) -> "KeysDoorsDataset":
        return cls(config, **{name: arrays[name] for name in cls._FIELDS})

    def subset(self, index: np.ndarray | slice) -> "KeysDoorsDataset":
        return KeysDoorsDataset(self.config, **{name: getattr(self, name)[index] for name in self._FIELDS})


def matching_pickup_step(dataset: KeysDoorsDataset, traj: int, step: int) -> int:
    """Step of the pickup of the key used to open the door at (traj, step): the last pickup before it (-1: none)."""
    picks = np.flatnonzero(dataset.picked[traj, :step] >= 0)
    return int(picks[-1]) if len(picks) else -1


def _empty_arrays(env_cfg: KeysDoorsConfig, seeds: np.ndarray) -> dict[str, np.ndarray]:
    N, T, n_doors = len(seeds), env_cfg.horizon, env_cfg.n_doors
    return {
        "obs": np.zeros((N, T, n_model_channels(env_cfg.n_colors), VIEW, VIEW), np.uint8),
        "actions": np.full((N, T), -1, np.int64), "rewards": np.zeros((N, T), np.float32),
        "states": np.full((N, T + 1), -1, np.int64), "picked": np.full((N, T), -1, np.int64),
        "opened": np.full((N, T), -1, np.int64), "agent_xy": np.full((N, T + 1, 2), -1, np.int64),
        "lengths": np.zeros(N, np.int64), "success": np.zeros(N, bool), "maze_seeds": seeds,
        "door_xy": np.zeros((N, n_doors, 2), np.int64), "door_colour": np.zeros((N, n_doors), np.int64),
        "key_xy": np.zeros((N, n_doors, 2, 2), np.int64), "key_colour": np.zeros((N, n_doors, 2), np.int64),
        "goal_xy": np.zeros((N, 2), np.int64),
    }


@torch.no_grad()
def collect(config: CollectConfig, policy=None, batch_size: int = 256) -> KeysDoorsDataset:
    """Roll out ``config.n_trajectories`` episodes; ``policy`` is an SB3 policy (None = uniform random).

    Episodes run ``batch_size`` at a time in lockstep (a :class:`~secretlab.envs.keys_doors_batch.KeysDoorsBatch`:
    the env's rules on the whole batch in numpy), with one policy call per step for the whole batch;
    actions are *sampled* from the policy (the stochastic behaviour that generated PPO's own data).
    Deterministic given the config (torch and numpy generators seeded from it).
    """
    env_cfg = config.env
    N = config.n_trajectories
    seeds = (np.full(N, env_cfg.maze_seed, np.int64) if env_cfg.maze_seed is not None
             else maze_seeds(config.split, config.seed, N))
    rng = np.random.default_rng([config.seed, 11])
    gen = torch.Generator().manual_seed(config.seed)
    out = _empty_arrays(env_cfg, seeds)
    # The policy's input size tells whether it was trained with the inventory features.
    inventory = policy is not None and policy.observation_space.shape[0] == n_agent_features(env_cfg.n_colors, True)
    for start in range(0, N, batch_size):
        rows = np.arange(start, min(start + batch_size, N))
        batch = reset_batch(env_cfg, seeds[rows])
        out["states"][rows, 0] = batch.state
        out["agent_xy"][rows, 0] = batch.agent_pos
        for name, value in batch.layout.items():
            if name in out:
                out[name][rows] = value
        obs = batch.observe()
        alive = np.ones(len(rows), bool)
        for t in range(env_cfg.horizon):
            if policy is None:
                actions = rng.integers(0, N_ACTIONS, size=len(rows))
            else:
                carrying = batch.carrying if inventory else None
                feats = torch.as_tensor(agent_features(obs, carrying, env_cfg.n_colors))
                dist = policy.get_distribution(feats).distribution  # torch Categorical
                actions = torch.multinomial(dist.probs, 1, generator=gen)[:, 0].numpy()
            live = np.flatnonzero(alive)
            _record_step(out, rows[live], t, model_view(obs[live], env_cfg.n_colors), actions[live],
                         batch.advance(actions, alive), live)
            alive[live] = out["lengths"][rows[live]] == 0
            if not alive.any():
                break
            obs[alive] = batch.observe(np.flatnonzero(alive))  # every view of the step in one call
    return KeysDoorsDataset(config, **out)


def _record_step(out: dict[str, np.ndarray], rows: np.ndarray, t: int, views: np.ndarray, actions: np.ndarray,
                 step: KeysDoorsStep, live: np.ndarray) -> None:
    """Write step ``t`` of trajectories ``rows`` (``views``: the model views seen before ``actions``; ``step``:
    the batch's transition, read at its rows ``live``); an episode that ended gets its length and success."""
    out["obs"][rows, t] = views
    out["actions"][rows, t] = actions
    out["rewards"][rows, t] = step.reward[live]
    out["picked"][rows, t] = step.picked_key[live]
    out["opened"][rows, t] = step.opened_door[live]
    out["states"][rows, t + 1] = step.state[live]
    out["agent_xy"][rows, t + 1] = step.agent[live]
    ended = step.terminated[live] | step.truncated[live]
    out["lengths"][rows[ended]] = t + 1
    out["success"][rows[ended]] = step.reached_goal[live][ended]


def load_or_collect(config: CollectConfig, policy=None, refresh: bool = False) -> KeysDoorsDataset:
    """The cached dataset for ``config`` (its ``agent`` field must identify ``policy``)."""
    if policy is not None and not config.agent:
        raise ValueError("config.agent must identify the collecting policy (it is part of the cache key)")
    arrays, _ = cached_npz("keys_doors_datasets", config, lambda: collect(config, policy).to_arrays(),
                           refresh=refresh)
    return KeysDoorsDataset.from_arrays(config, arrays)
