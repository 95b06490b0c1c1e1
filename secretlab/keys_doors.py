"""SECRET on the keys/doors puzzle (paper §3 DMLab, Fig. 3 right, Fig. 4 right, Fig. 8).

DeepMind Lab cannot be built here; :mod:`secretlab.envs.keys_doors` (a Farama
MiniGrid puzzle) stands in for DMLab's ``keys_doors_puzzle``. The pipeline
follows App. A.4:

1. :func:`load_or_train_source_agent` — a PPO agent (Stable-Baselines3) trained
   on the random maze distribution (random policies rarely reach reward).
2. :func:`load_or_collect` — trajectories of that agent (sampled actions) into a
   :class:`KeysDoorsDataset` (what the reward model, credit and potential read).
3. The reward model with the two-conv (16, 16) encoder (App. A.1):
   :func:`reward_model_config` + :func:`secretlab.training.load_or_train`.
4. Credit: :func:`secretlab.credit.credit_rows` with ``tolerance=5`` (a positive
   prediction within 5 frames of a real reward counts, App. A.4);
   :func:`attention_around_pickups` (Fig. 3 right) and :func:`attention_heatmap` (Fig. 8).
5. :func:`secret_potential` on a fixed target maze (true-state keyed, φ(s) via
   :func:`secretlab.shaping.potential_from_credit`), then :func:`compare_ppo`:
   PPO with and without :class:`KeysDoorsShaping` on that maze (Fig. 4 right).

Every expensive stage is cached through :mod:`secretlab.cache` under a hash of
its configuration and verified on load (content hash and config; a bad file
raises :class:`secretlab.cache.ArtifactError`).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from secretlab.cache import (artifact_error, artifact_path, atomic_write_json, cached_npz, config_hash,
                             config_json_problem, describe_error, load_artifact, read_json, read_torch,
                             write_artifact, write_json_artifact)
from secretlab.envs.keys_doors import N_ACTIONS, OBS_MAX, RULES_VERSION, VIEW, KeysDoorsConfig, KeysDoorsEnv

#: MiniGrid codes seen in the view: 11 object types, 6 colours, 3 door states.
_N_CODES = (OBS_MAX + 1, 6, 3)
_SEED_STRIDE = 10**9
#: Maze seeds per split, disjoint blocks (source mazes never coincide with a target maze).
_SPLIT_OFFSET = {"train": 0, "target": 10**15}


# =============================================================================
# Hyperparameters
# =============================================================================
@dataclass(frozen=True)
class PPOConfig:
    """Stable-Baselines3 PPO settings (paper App. A.4 where given, else documented choices)."""

    learning_rate: float = 1e-3
    """Adam step size. Paper: 1.9e-4 (for DMLab's 10^7-step budgets); see docs/keys_doors.md for why 1e-3 here."""
    ent_coef: float = 0.0011
    """Entropy bonus (paper 0.0011)."""
    n_envs: int = 12
    """Parallel actors in a DummyVecEnv (paper: 12)."""
    gamma: float = 0.99
    """Discount (paper 0.99); also the γ of the shaping F = γφ(s') − φ(s)."""
    gae_lambda: float = 0.95
    """GAE λ (paper 0.95)."""
    n_steps: int = 64
    """Steps per actor per rollout (12 × 64 = 768 transitions per update)."""
    batch_size: int = 256
    """Minibatch size of the PPO update."""
    n_epochs: int = 10
    """Passes over each rollout."""
    clip_range: float = 0.2
    """PPO ratio clip."""
    net_arch: tuple[int, ...] = (64, 64)
    """MLP hidden layers (policy and value, separate) on the agent features."""
    total_timesteps: int = 100_000
    """Environment steps of training."""
    inventory: bool = False
    """Also feed the agent the carried key's colour (off: the agent sees only the view, like DMLab frames)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "net_arch", tuple(int(x) for x in self.net_arch))
        for name in ("n_envs", "n_steps", "batch_size", "n_epochs", "total_timesteps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("learning_rate", "clip_range"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.ent_coef:
            raise ValueError(f"ent_coef must be >= 0, got {self.ent_coef!r}")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")


# =============================================================================
# Agent observation (plumbing shared by PPO training and collection)
# =============================================================================
def agent_features(obs: np.ndarray, carrying: np.ndarray | None = None, n_colors: int = 2) -> np.ndarray:
    """What the PPO agent reads: one-hot view codes (+ the carried key's colour if ``carrying`` is given).

    ``obs`` (B, 3, 7, 7) uint8 env observations -> (B, 49·(11+6+3)) float32;
    with ``carrying`` (B,) colour index or -1, an "inventory" one-hot of
    ``n_colors + 1`` entries is appended. By default the agent goes without it
    (DMLab's frames do not show the held key either); then its behaviour after
    a pickup does not depend on which key it holds, so door openings can only be
    predicted by remembering the pickup — the credit SECRET should find.
    """
    obs = np.asarray(obs)
    B = obs.shape[0]
    parts = []
    for c, n_codes in enumerate(_N_CODES):
        parts.append(np.eye(n_codes, dtype=np.float32)[obs[:, c].reshape(B, -1)].reshape(B, -1))
    if carrying is not None:
        parts.append(np.eye(n_colors + 1, dtype=np.float32)[np.asarray(carrying) + 1])
    return np.concatenate(parts, axis=1)


def n_agent_features(n_colors: int, inventory: bool) -> int:
    return VIEW * VIEW * sum(_N_CODES) + (n_colors + 1 if inventory else 0)


#: MiniGrid object codes that occur in KeysDoors views: unseen, empty, wall, door, key, goal.
MODEL_OBJECTS = (0, 1, 2, 4, 5, 8)


def model_view(obs: np.ndarray, n_colors: int) -> np.ndarray:
    """The reward model's input: a one-hot re-coding of the env's view, (..., 3, 7, 7) -> (..., C, 7, 7) uint8.

    C = 6 object channels (:data:`MODEL_OBJECTS`) + ``n_colors`` colour channels
    (set on keys and doors only) + 3 door-state channels (open, closed, locked).
    Lossless for KeysDoors. Why: MiniGrid's colour code of red is 0, the same as
    the code of empty floor, so in the raw 3-channel view a red key differs
    from a green one by one tenth of the input range, and the model failed to
    learn which key was picked (measured: positive precision ~0.4 after 30 epochs).
    """
    obs = np.asarray(obs)
    o, c, s = obs[..., 0, :, :], obs[..., 1, :, :], obs[..., 2, :, :]
    coloured = (o == 4) | (o == 5)
    channels = [o == k for k in MODEL_OBJECTS]
    channels += [coloured & (c == k) for k in range(n_colors)]
    channels += [(o == 4) & (s == k) for k in range(3)]
    return np.stack(channels, axis=-3).astype(np.uint8)


def n_model_channels(n_colors: int) -> int:
    return len(MODEL_OBJECTS) + n_colors + 3


class AgentObservation(gym.ObservationWrapper):
    """Turns a KeysDoors env's view into :func:`agent_features` for the PPO policy."""

    def __init__(self, env: gym.Env, inventory: bool = False) -> None:
        super().__init__(env)
        self.n_colors = env.unwrapped.config.n_colors
        self.inventory = inventory
        self.observation_space = gym.spaces.Box(0.0, 1.0, (n_agent_features(self.n_colors, inventory),), np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        carrying = np.array([self.env.unwrapped.carrying_colour]) if self.inventory else None
        return agent_features(observation[None], carrying, self.n_colors)[0]


class KeysDoorsShaping(gym.Wrapper):
    """Adds F = γφ(s') − φ(s) (φ a table over ``info["state"]``) to a KeysDoors env's reward.

    Same semantics as :class:`secretlab.wrappers.ShapingWrapper` (which is bound
    to Triggers configs): φ(s') = 0 on termination when ``terminal_zero``
    (not on truncation); ``info`` gains ``"env_reward"`` and ``"shaping"``.
    ``potential`` (n_states,) must belong to the env's fixed maze.
    """

    def __init__(self, env: gym.Env, potential: np.ndarray, gamma: float, terminal_zero: bool = True) -> None:
        super().__init__(env)
        from secretlab.shaping import check_gamma

        config = getattr(env.unwrapped, "config", None)
        if not isinstance(config, KeysDoorsConfig):
            raise ValueError("KeysDoorsShaping needs a secretlab KeysDoors env (env.unwrapped.config)")
        if config.maze_seed is None:
            raise ValueError("KeysDoorsShaping needs a fixed maze: set maze_seed on the env")
        potential = np.asarray(potential, dtype=np.float64)
        if potential.shape != (config.n_states,):
            raise ValueError(f"potential must have shape (n_states={config.n_states},), got {potential.shape}")
        self.potential = potential
        self.gamma = check_gamma(gamma)
        self.terminal_zero = terminal_zero
        self._phi = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._phi = float(self.potential[info["state"]])
        return obs, info

    def step(self, action):
        from secretlab.shaping import shaping_reward

        obs, reward, terminated, truncated, info = self.env.step(action)
        phi_next = float(self.potential[info["state"]])
        shaping = float(shaping_reward(np.array(self._phi), np.array(phi_next), np.array(terminated),
                                       self.gamma, self.terminal_zero))
        self._phi = phi_next
        return obs, float(reward) + shaping, terminated, truncated, {**info, "env_reward": float(reward),
                                                                        "shaping": shaping}


# =============================================================================
# PPO (Stable-Baselines3) — algorithm settings above, plumbing here
# =============================================================================
class EpisodeLog(gym.Wrapper):
    """Records every finished episode's env return, success and length (before any shaping)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.returns: list[float] = []
        self.successes: list[bool] = []
        self.lengths: list[int] = []
        self._ret, self._len = 0.0, 0

    def reset(self, **kwargs):
        self._ret, self._len = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ret += float(reward)
        self._len += 1
        if terminated or truncated:
            self.returns.append(self._ret)
            self.successes.append(bool(info.get("reached_goal", False)))
            self.lengths.append(self._len)
        return obs, reward, terminated, truncated, info


def _make_env(env_config: KeysDoorsConfig, potential: np.ndarray | None, gamma: float, env_seed: int,
              inventory: bool):
    def build():
        env = EpisodeLog(KeysDoorsEnv(**_env_kwargs(env_config)))
        if potential is not None:
            env = KeysDoorsShaping(env, potential, gamma)
        env = AgentObservation(env, inventory)
        env.reset(seed=env_seed)
        return env
    return build


def _env_kwargs(config: KeysDoorsConfig) -> dict[str, Any]:
    return {"n_rooms": config.n_rooms, "room_size": config.room_size, "n_colors": config.n_colors,
            "max_steps": config.max_steps, "maze_seed": config.maze_seed, "show_carried": config.show_carried}


def make_ppo(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int, potential: np.ndarray | None = None):
    """An untrained SB3 PPO on ``ppo.n_envs`` copies of the env (shaped if ``potential`` is given)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    # Env seeds: only used for random source mazes; disjoint from collection/target seeds.
    venv = DummyVecEnv([_make_env(env_config, potential, ppo.gamma, 7 * 10**14 + seed * 1000 + i, ppo.inventory)
                        for i in range(ppo.n_envs)])
    return PPO(
        "MlpPolicy", venv, learning_rate=ppo.learning_rate, n_steps=ppo.n_steps, batch_size=ppo.batch_size,
        n_epochs=ppo.n_epochs, gamma=ppo.gamma, gae_lambda=ppo.gae_lambda, clip_range=ppo.clip_range,
        ent_coef=ppo.ent_coef, seed=seed, device="cpu", verbose=0,
        policy_kwargs={"net_arch": {"pi": list(ppo.net_arch), "vf": list(ppo.net_arch)}},
    )


def episode_log(model) -> dict[str, np.ndarray]:
    """Every finished training episode of ``model``'s envs, ordered by the env step it ended at.

    Returns ``returns``, ``successes``, ``lengths`` (E,) and ``end_step`` (E,):
    the total number of env steps (all actors) taken when the episode ended.
    """
    rows = []
    n_envs = model.get_env().num_envs
    for i, env in enumerate(model.get_env().envs):
        log = env
        while not isinstance(log, EpisodeLog):
            log = log.env
        ends = np.cumsum(log.lengths)
        # The vec env steps all actors in lockstep, so actor-step k is global step k·n_envs.
        rows += [(e * n_envs, r, s, l) for e, r, s, l in zip(ends, log.returns, log.successes, log.lengths)]
    rows.sort(key=lambda row: row[0])
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return {"end_step": arr[:, 0], "returns": arr[:, 1], "successes": arr[:, 2].astype(bool),
            "lengths": arr[:, 3].astype(np.int64)}


def _policy_path(kind: str, key: Any) -> Any:
    return artifact_path(kind, config_hash(key), "policy.pt")


def load_or_train_source_agent(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int = 0,
                               refresh: bool = False):
    """The source PPO agent on the random maze distribution (trained once, then cached).

    Returns ``(model, info)`` where ``info`` has the training episodes' success
    rate over the last quarter of training and the seconds spent. The policy
    weights are cached as a plain state dict (loaded with ``weights_only=True``).
    """
    if env_config.maze_seed is not None:
        raise ValueError("the source agent trains on the maze distribution: env_config.maze_seed must be None")
    key = {"stage": "keys_doors_source_agent", "env": env_config, "ppo": ppo, "seed": seed,
           "rules": RULES_VERSION}
    path = _policy_path("keys_doors_agents", key)
    info_path, record = path.with_name("info.json"), json.loads(json.dumps(key, default=_as_dict))
    model = make_ppo(env_config, ppo, seed)
    if path.exists() and not refresh:
        def legacy(_: Any) -> str | None:
            return config_json_problem(path, record)

        payload = load_artifact(path, (key,), read_torch, legacy)
        try:
            model.policy.load_state_dict(payload["state_dict"])
        except Exception as err:  # not this PPO's policy
            raise artifact_error(path, f"unreadable ({describe_error(err)})") from None
        return model, load_artifact(info_path, (key,), read_json, legacy)
    torch.manual_seed(seed)
    start = time.perf_counter()
    model.learn(ppo.total_timesteps)
    log = episode_log(model)
    late = log["end_step"] >= 0.75 * ppo.total_timesteps
    info = {"seconds": time.perf_counter() - start, "episodes": int(len(log["returns"])),
            "late_success_rate": float(log["successes"][late].mean()) if late.any() else 0.0,
            "late_mean_return": float(log["returns"][late].mean()) if late.any() else 0.0}
    atomic_write_json(path.with_name("config.json"), record)  # describes the folder: safe to write first
    with write_artifact(path, (key,)) as tmp:
        torch.save({"state_dict": {k: v.detach().cpu() for k, v in model.policy.state_dict().items()}}, tmp)
    write_json_artifact(info_path, info, (key,))
    return model, info


def _as_dict(obj: Any) -> Any:
    return asdict(obj)


# =============================================================================
# Trajectory dataset
# =============================================================================
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
        if isinstance(self.n_trajectories, bool) or not isinstance(self.n_trajectories, (int, np.integer)) \
                or self.n_trajectories < 1:
            raise ValueError(f"n_trajectories must be an integer >= 1, got {self.n_trajectories!r}")
        if self.split not in _SPLIT_OFFSET:
            raise ValueError(f"split must be one of {tuple(_SPLIT_OFFSET)}, got {self.split!r}")


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

    _FIELDS = ("obs", "actions", "rewards", "states", "picked", "opened", "agent_xy", "lengths", "success",
               "maze_seeds", "door_xy", "door_colour", "key_xy", "key_colour", "goal_xy")

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self._FIELDS}

    @classmethod
    def from_arrays(cls, config: CollectConfig, arrays: dict[str, np.ndarray]) -> "KeysDoorsDataset":
        return cls(config, **{name: arrays[name] for name in cls._FIELDS})

    def subset(self, index: np.ndarray | slice) -> "KeysDoorsDataset":
        return KeysDoorsDataset(self.config, **{name: getattr(self, name)[index] for name in self._FIELDS})


def maze_seeds(split: str, seed: int, n: int) -> np.ndarray:
    """Maze seeds of a split: ``offset(split) + seed·1e9 + [0, n)``, disjoint across splits."""
    if split not in _SPLIT_OFFSET:
        raise ValueError(f"split must be one of {tuple(_SPLIT_OFFSET)}, got {split!r}")
    return _SPLIT_OFFSET[split] + seed * _SEED_STRIDE + np.arange(n, dtype=np.int64)


def target_maze_seed(seed: int = 0) -> int:
    """The fixed target maze of a notebook seed (in the 'target' block, never a source maze)."""
    return int(maze_seeds("target", seed, 1)[0]) + 10**8


@torch.no_grad()
def collect(config: CollectConfig, policy=None, batch_size: int = 256) -> KeysDoorsDataset:
    """Roll out ``config.n_trajectories`` episodes; ``policy`` is an SB3 policy (None = uniform random).

    Episodes run ``batch_size`` at a time in lockstep; actions are *sampled*
    from the policy (the stochastic behaviour that generated PPO's own data).
    Deterministic given the config (torch and numpy generators seeded from it).
    """
    env_cfg = config.env
    N, T = config.n_trajectories, env_cfg.horizon
    n_doors = env_cfg.n_doors
    seeds = (np.full(N, env_cfg.maze_seed, np.int64) if env_cfg.maze_seed is not None
             else maze_seeds(config.split, config.seed, N))
    rng = np.random.default_rng([config.seed, 11])
    gen = torch.Generator().manual_seed(config.seed)
    out = {
        "obs": np.zeros((N, T, n_model_channels(env_cfg.n_colors), VIEW, VIEW), np.uint8), "actions": np.full((N, T), -1, np.int64),
        "rewards": np.zeros((N, T), np.float32), "states": np.full((N, T + 1), -1, np.int64),
        "picked": np.full((N, T), -1, np.int64), "opened": np.full((N, T), -1, np.int64),
        "agent_xy": np.full((N, T + 1, 2), -1, np.int64), "lengths": np.zeros(N, np.int64),
        "success": np.zeros(N, bool), "maze_seeds": seeds,
        "door_xy": np.zeros((N, n_doors, 2), np.int64), "door_colour": np.zeros((N, n_doors), np.int64),
        "key_xy": np.zeros((N, n_doors, 2, 2), np.int64), "key_colour": np.zeros((N, n_doors, 2), np.int64),
        "goal_xy": np.zeros((N, 2), np.int64),
    }
    kwargs = _env_kwargs(env_cfg)
    # The policy's input size tells whether it was trained with the inventory features.
    inventory = policy is not None and policy.observation_space.shape[0] == n_agent_features(env_cfg.n_colors, True)
    for start in range(0, N, batch_size):
        rows = np.arange(start, min(start + batch_size, N))
        envs = [KeysDoorsEnv(**kwargs) for _ in rows]
        obs = np.zeros((len(rows), 3, VIEW, VIEW), np.uint8)
        for j, (row, env) in enumerate(zip(rows, envs)):
            obs[j], info = env.reset(seed=int(seeds[row]))
            out["states"][row, 0] = info["state"]
            out["agent_xy"][row, 0] = info["agent"]
            for name, value in env.layout_arrays().items():
                if name in out:
                    out[name][row] = value
        alive = np.ones(len(rows), bool)
        for t in range(T):
            if policy is None:
                actions = rng.integers(0, N_ACTIONS, size=len(rows))
            else:
                carrying = np.array([env.carrying_colour for env in envs]) if inventory else None
                feats = torch.as_tensor(agent_features(obs, carrying, env_cfg.n_colors))
                dist = policy.get_distribution(feats).distribution  # torch Categorical
                actions = torch.multinomial(dist.probs, 1, generator=gen)[:, 0].numpy()
            for j in np.flatnonzero(alive):
                row, env = rows[j], envs[j]
                out["obs"][row, t] = model_view(obs[j], env_cfg.n_colors)
                o, r, term, trunc, info = env.step(int(actions[j]))
                out["actions"][row, t] = actions[j]
                out["rewards"][row, t] = r
                out["picked"][row, t] = info["picked_key"]
                out["opened"][row, t] = info["opened_door"]
                out["states"][row, t + 1] = info["state"]
                out["agent_xy"][row, t + 1] = info["agent"]
                obs[j] = o
                if term or trunc:
                    alive[j] = False
                    out["lengths"][row] = t + 1
                    out["success"][row] = bool(info["reached_goal"])
            if not alive.any():
                break
    return KeysDoorsDataset(config, **out)


def load_or_collect(config: CollectConfig, policy=None, refresh: bool = False) -> KeysDoorsDataset:
    """The cached dataset for ``config`` (its ``agent`` field must identify ``policy``)."""
    if policy is not None and not config.agent:
        raise ValueError("config.agent must identify the collecting policy (it is part of the cache key)")
    arrays, _ = cached_npz("keys_doors_datasets", config, lambda: collect(config, policy).to_arrays(),
                           refresh=refresh)
    return KeysDoorsDataset.from_arrays(config, arrays)


def agent_identity(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int) -> dict:
    """The cache-key description of a source agent."""
    return {"env": asdict(env_config), "ppo": asdict(ppo), "seed": seed}


# =============================================================================
# Reward model and credit
# =============================================================================
def reward_model_config(env_config: KeysDoorsConfig, **changes: Any):
    """The paper's DMLab model (App. A.1): two conv layers of 16 filters, else as Triggers."""
    from secretlab.model import ModelConfig

    base = {"obs_shape": (n_model_channels(env_config.n_colors), VIEW, VIEW), "n_actions": N_ACTIONS,
            "conv_channels": (16, 16), "obs_scale": 1.0, "max_len": max(512, env_config.horizon)}
    return ModelConfig(**{**base, **changes})


def door_rows(rows, dataset: KeysDoorsDataset):
    """The correct positive rows whose reward is a door opening (not the goal)."""
    good = rows.correct_positive
    keep = dataset.opened[good.traj, good.step] >= 0
    return good.select(keep)


def matching_pickup_step(dataset: KeysDoorsDataset, traj: int, step: int) -> int:
    """Step of the pickup of the key used to open the door at (traj, step): the last pickup before it."""
    picks = np.flatnonzero(dataset.picked[traj, :step] >= 0)
    return int(picks[-1]) if len(picks) else -1


def attention_around_pickups(rows, dataset: KeysDoorsDataset, max_offset: int = 10,
                             window: int = 2) -> dict[str, Any]:
    """Figure 3 (right): attention of correct door-opening predictions vs offset to the key pickup.

    For each correct +1 row at a door opening (step t) with its key pickup at
    step p, the attention α_{i←t} at offsets i − p in [-max_offset, max_offset].
    Returns ``offsets`` (2·max_offset+1,), ``mean`` (same) mean attention per
    offset over rows, ``share_near`` the mean over rows of the attention mass
    within ±``window`` steps of the pickup, ``share_near_uniform`` the same for
    a uniform attention over 0..t (the chance level), ``n_rows``, and
    ``share_on_door_step`` (mass on the opening step itself).
    """
    doors = door_rows(rows, dataset)
    offsets = np.arange(-max_offset, max_offset + 1)
    values, near, near_uniform, on_self = [], [], [], []
    for r in range(len(doors)):
        traj, t = int(doors.traj[r]), int(doors.step[r])
        p = matching_pickup_step(dataset, traj, t)
        if p < 0:
            continue
        att = doors.attention[r, : t + 1].astype(np.float64)
        pos = p + offsets
        ok = (pos >= 0) & (pos <= t)
        v = np.zeros(len(offsets))
        v[ok] = att[pos[ok]]
        values.append(v)
        lo, hi = max(0, p - window), min(t, p + window)
        near.append(att[lo:hi + 1].sum())
        near_uniform.append((hi - lo + 1) / (t + 1))
        on_self.append(att[t])
    n = len(values)
    return {
        "offsets": offsets,
        "mean": np.mean(values, axis=0) if n else np.zeros(len(offsets)),
        "share_near": float(np.mean(near)) if n else float("nan"),
        "share_near_uniform": float(np.mean(near_uniform)) if n else float("nan"),
        "share_on_door_step": float(np.mean(on_self)) if n else float("nan"),
        "n_rows": n,
    }


def attention_heatmap(rows, dataset: KeysDoorsDataset, door: int = 0) -> tuple[np.ndarray, int]:
    """Figure 8: per-cell average attention of correct predictions of opening ``door``.

    Attention α_{i←t} is put on the agent's cell at step i (where it stood when
    acting), summed per cell and divided by the number of rows. Meant for a
    fixed-maze dataset. Returns ((height, width) array, NaN on cells never
    attended; number of rows).
    """
    doors = door_rows(rows, dataset)
    doors = doors.select(dataset.opened[doors.traj, doors.step] == door)
    H = dataset.config.env.height
    W = dataset.config.env.width
    total = np.zeros((H, W))
    seen = np.zeros((H, W), bool)
    for r in range(len(doors)):
        traj, t = int(doors.traj[r]), int(doors.step[r])
        xy = dataset.agent_xy[traj, : t + 1]
        np.add.at(total, (xy[:, 1], xy[:, 0]), doors.attention[r, : t + 1])
        seen[xy[:, 1], xy[:, 0]] = True
    n = len(doors)
    return np.where(seen, total / max(n, 1), np.nan), n


@torch.no_grad()
def door_discrimination(model, dataset: KeysDoorsDataset, batch_size: int = 128) -> dict[str, float]:
    """Did the model learn the key–door relation? Its P(sign = +1) at two kinds of toggles facing a locked door.

    ``p_open``: mean P(+1) at the steps that opened a door (right key held);
    ``p_wrong_key``: mean P(+1) at toggles facing a locked door while holding a
    key of another colour (reward 0). Both are decided by which key was picked
    earlier, which the current view does not show. Also the counts of each.
    """
    from secretlab.envs.keys_doors import decode_state

    env = dataset.config.env
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    p_pos = np.zeros(dataset.actions.shape, np.float32)
    for start in range(0, dataset.n, batch_size):
        idx = slice(start, min(start + batch_size, dataset.n))
        L = int(dataset.lengths[idx].max())
        logits, _ = model(torch.as_tensor(dataset.obs[idx, :L], device=device),
                          torch.as_tensor(dataset.actions[idx, :L], device=device),
                          torch.as_tensor(dataset.mask[idx, :L], device=device))
        p_pos[idx, :L] = torch.softmax(logits, -1)[..., 2].cpu().numpy()
    model.train(was_training)
    states = dataset.states[:, :-1]
    carrying = np.full(states.shape, -2, np.int64)
    real = states >= 0
    carrying[real] = [decode_state(int(k), env)["carrying"] for k in states[real]]
    door_channel = MODEL_OBJECTS.index(4)
    facing_door = dataset.obs[:, :, door_channel, VIEW - 2, VIEW // 2] == 1  # the cell in front of the agent
    door_colour = dataset.door_colour[:, :1]  # keys in room 0 belong to door 0
    opened = (dataset.opened >= 0) & dataset.mask
    wrong = (dataset.actions == 4) & facing_door & (carrying >= 0) & (carrying != door_colour) & dataset.mask & \
        ((dataset.states[:, :-1] >= 0))
    wrong &= np.array([[decode_state(int(k), env)["doors_opened"] == 0 if k >= 0 else False for k in row]
                       for row in states])
    return {"p_open": float(p_pos[opened].mean()) if opened.any() else float("nan"),
            "p_wrong_key": float(p_pos[wrong].mean()) if wrong.any() else float("nan"),
            "n_open": int(opened.sum()), "n_wrong_key": int(wrong.sum())}


def secret_potential(trained, dataset: KeysDoorsDataset, tolerance: int = 5) -> tuple[np.ndarray, Any]:
    """φ̂ over the fixed maze's true-state keys from SECRET's credit on ``dataset`` (paper §2.2).

    Returns ``(phi (n_states,), rows)``. Generic estimator:
    :func:`secretlab.shaping.potential_from_credit` (|D|-normalised, unseen states 0).
    """
    from secretlab.credit import credit_rows
    from secretlab.shaping import potential_from_credit

    if dataset.config.env.maze_seed is None:
        raise ValueError("secret_potential needs a fixed-maze dataset (config.env.maze_seed set)")
    rows = credit_rows(trained.model, dataset, tolerance=tolerance)
    phi = potential_from_credit(dataset.states, dataset.rewards, rows, dataset.config.env.n_states)
    return phi, rows


# =============================================================================
# PPO with and without shaping on the target maze (Figure 4 right)
# =============================================================================
def train_target_agent(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int,
                       potential: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Train PPO from scratch on the fixed target maze; the per-episode env log (see :func:`episode_log`)."""
    if env_config.maze_seed is None:
        raise ValueError("the target agent needs a fixed maze: env_config.maze_seed must be set")
    torch.manual_seed(seed)
    model = make_ppo(env_config, ppo, seed, potential)
    model.learn(ppo.total_timesteps)
    return episode_log(model)


def compare_ppo(env_config: KeysDoorsConfig, ppo: PPOConfig, potential: np.ndarray, n_seeds: int,
                seed: int = 0, refresh: bool = False, progress: bool = False) -> dict[str, list[dict]]:
    """Per arm (``"ppo"``, ``"ppo_secret"``) and seed, the training-episode logs (cached).

    Seeds ``seed·1000 + k`` for k < n_seeds, the same for both arms.
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"n_seeds must be an integer >= 1, got {n_seeds!r}")
    arms = {"ppo": None, "ppo_secret": potential}
    out: dict[str, list[dict]] = {arm: [] for arm in arms}
    jobs = [(arm, k) for k in range(n_seeds) for arm in arms]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="PPO runs", unit="run")
    for arm, k in jobs:
        run_seed = seed * 1000 + k
        key = {"stage": "keys_doors_target_ppo", "env": env_config, "ppo": ppo, "seed": run_seed,
               "potential": arms[arm], "rules": RULES_VERSION}
        arrays, _ = cached_npz("keys_doors_runs", key,
                               lambda: train_target_agent(env_config, ppo, run_seed, arms[arm]), refresh=refresh)
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
# Figures (drawing only)
# =============================================================================
_COLOUR_RGB = {"red": (0.85, 0.15, 0.15), "green": (0.15, 0.65, 0.25), "blue": (0.2, 0.35, 0.9),
               "purple": (0.5, 0.2, 0.75), "yellow": (0.9, 0.8, 0.1), "grey": (0.5, 0.5, 0.5)}


def draw_maze(ax, env_config: KeysDoorsConfig, layout: dict[str, np.ndarray], values: np.ndarray | None = None,
              cmap: str = "Reds", title: str | None = None, colorbar_label: str | None = None):
    """Draw one KeysDoors maze (walls, doors, keys, goal, start) with an optional (height, width) heatmap.

    ``layout``: :meth:`KeysDoorsEnv.layout_arrays` (or one trajectory's slice of a
    dataset's layout fields). Keys are drawn as coloured circles, doors as
    coloured squares with a dark edge, the goal ("cake") as a star and the start
    as a triangle. Returns the heatmap artist (or None).
    """
    from matplotlib.patches import Circle, Rectangle
    from minigrid.core.constants import COLOR_NAMES

    H, W = env_config.height, env_config.width
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    walls = np.zeros((H, W), bool)
    walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = True
    for i in range(env_config.n_doors):
        walls[:, (i + 1) * (env_config.room_size + 1)] = True
    im = None
    if values is not None:
        im = ax.imshow(np.ma.masked_invalid(np.where(walls, np.nan, values)), cmap=cmap, vmin=0,
                       extent=(-0.5, W - 0.5, H - 0.5, -0.5), zorder=1)
        if colorbar_label is not None:
            ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label=colorbar_label)
    for y, x in zip(*np.nonzero(walls)):
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, color=(0.25, 0.25, 0.25), zorder=2))
    for (x, y), c in zip(layout["door_xy"], layout["door_colour"]):
        ax.add_patch(Rectangle((x - 0.4, y - 0.4), 0.8, 0.8, facecolor=_COLOUR_RGB[COLOR_NAMES[c]],
                               edgecolor="black", lw=1.5, zorder=3))
    for room_keys, room_colours, door_colour in zip(layout["key_xy"], layout["key_colour"], layout["door_colour"]):
        for (x, y), c in zip(room_keys, room_colours):
            ax.add_patch(Circle((x, y), 0.28, facecolor=_COLOUR_RGB[COLOR_NAMES[c]],
                                edgecolor="black" if c == door_colour else "white", lw=2, zorder=3))
    gx, gy = layout["goal_xy"]
    ax.plot(gx, gy, marker="*", ms=16, color=(0.96, 0.45, 0.75), mec="black", zorder=3)
    sx, sy, sdir = layout["start"]
    ax.plot(sx, sy, marker=">v<^"[int(sdir)], ms=10, color=(0.98, 0.82, 0.10), mec="black", zorder=3)
    if title:
        ax.set_title(title)
    return im


def dataset_layout(dataset: KeysDoorsDataset, index: int = 0) -> dict[str, np.ndarray]:
    """One trajectory's maze as the ``layout`` dict :func:`draw_maze` reads."""
    env = KeysDoorsEnv(**_env_kwargs(replace(dataset.config.env, maze_seed=int(dataset.maze_seeds[index]))))
    env.reset()
    return env.layout_arrays()


def plot_attention_offsets(ax, result: dict[str, Any], window: int = 2) -> None:
    """Figure 3 (right): mean attention vs offset from the key pickup, ±window shaded."""
    ax.bar(result["offsets"], result["mean"], color=(0.85, 0.15, 0.15), width=0.8)
    ax.axvspan(-window - 0.5, window + 0.5, color="grey", alpha=0.15, lw=0)
    ax.set_xlabel("attended step − key pickup step")
    ax.set_ylabel("mean attention")
    ax.set_title(f"door openings ({result['n_rows']} correct rows): "
                 f"{result['share_near']:.0%} within ±{window}")


def plot_curves(ax, x: np.ndarray, curves: dict[str, np.ndarray], ylabel: str, n_boot: int = 2000,
                seed: int = 0) -> None:
    """IQM learning curves with 95% stratified-bootstrap bands, one per arm; curves (runs, 1, X)."""
    from secretlab.stats import iqm_curve

    labels = {"ppo": "PPO", "ppo_secret": "PPO + SECRET shaping"}
    colours = {"ppo": "tab:grey", "ppo_secret": "tab:red"}
    for arm, c in curves.items():
        point, lo, hi = iqm_curve(c, n_boot=n_boot, seed=seed)
        ax.plot(x, point, label=labels.get(arm, arm), color=colours.get(arm))
        ax.fill_between(x, lo, hi, alpha=0.2, color=colours.get(arm), lw=0)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.legend()
