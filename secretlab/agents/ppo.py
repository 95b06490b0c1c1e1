"""PPO (Stable-Baselines3) on the keys/doors puzzle: settings, env plumbing, the cached source agent.

The paper trains its DMLab agents with PPO (App. A.4). Here SB3's PPO runs on
``n_envs`` copies of a :class:`secretlab.envs.keys_doors.KeysDoorsEnv`, seeing
:func:`secretlab.envs.keys_doors.agent_features` (the one-hot view, no
inventory by default). Shaping, when given, is the one
:class:`secretlab.wrappers.ShapingWrapper` every agent uses; :class:`EpisodeLog`
records each finished episode's *env* return before any shaping, which is what
the learning curves plot.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from secretlab.cache import (artifact_error, artifact_path, atomic_write_json, config_hash,
                             config_json_problem, describe_error, load_artifact, load_or_build, read_json,
                             read_torch, write_artifact, write_json_artifact)
from secretlab.determinism import RESULT_THREADS
from secretlab.envs.keys_doors import RULES_VERSION, KeysDoorsConfig, KeysDoorsEnv, agent_features, n_agent_features
from secretlab.progress import progress_bar
from secretlab.validation import check_int, check_number
from secretlab.wrappers import ShapingWrapper
from secretlab.seeds import derive_seed



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
            check_int(name, getattr(self, name), minimum=1)
        for name in ("learning_rate", "clip_range"):
            check_number(name, getattr(self, name), low=0, open_low=True)
        check_number("ent_coef", self.ent_coef, low=0)
        for name in ("gamma", "gae_lambda"):
            check_number(name, getattr(self, name), low=0, high=1)


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


def _env_builder(env_config: KeysDoorsConfig, potential: np.ndarray | None, gamma: float, env_seed: int,
                 inventory: bool):
    def build():
        env = EpisodeLog(KeysDoorsEnv(**env_config.env_kwargs()))
        if potential is not None:
            env = ShapingWrapper(env, potential, gamma=gamma)
        env = AgentObservation(env, inventory)
        env.reset(seed=env_seed)
        return env
    return build


def make_ppo(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int, potential: np.ndarray | None = None):
    """An untrained SB3 PPO on ``ppo.n_envs`` copies of the env (shaped if ``potential`` is given)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    # Actor env seeds only matter for random source mazes; their block is disjoint from collection/target seeds.
    venv = DummyVecEnv([_env_builder(env_config, potential, ppo.gamma, derive_seed(seed, "ppo_actor_env", i),
                                     ppo.inventory) for i in range(ppo.n_envs)])
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
    for env in model.get_env().envs:
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


def agent_identity(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int) -> dict:
    """The cache-key description of a source agent."""
    return {"env": asdict(env_config), "ppo": asdict(ppo), "seed": seed, "torch_threads": RESULT_THREADS}


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
           "rules": RULES_VERSION, "torch_threads": RESULT_THREADS}
    path = artifact_path("keys_doors_agents", config_hash(key), "policy.pt")
    info_path, record = path.with_name("info.json"), json.loads(json.dumps(key, default=asdict))
    model = make_ppo(env_config, ppo, seed)

    def load() -> tuple[Any, dict]:
        def legacy(_: Any) -> str | None:
            return config_json_problem(path, record)

        payload = load_artifact(path, (key,), read_torch, legacy)
        try:
            model.policy.load_state_dict(payload["state_dict"])
        except Exception as err:  # not this PPO's policy
            raise artifact_error(path, f"unreadable ({describe_error(err)})") from None
        return model, load_artifact(info_path, (key,), read_json, legacy)

    # two processes asking for the same agent: one trains, the other waits and loads it
    return load_or_build(path, lambda: path.exists() and not refresh, load,
                         lambda: (model, _train_source_agent(model, ppo, seed, path, info_path, key, record)))


def _learn(model, total_timesteps: int, desc: str) -> None:
    """``model.learn(total_timesteps)``, counting env steps through :func:`secretlab.progress.progress_bar` (a
    no-op by hand, the job's progress line inside an engine job). The callback only reads the step counter."""
    from stable_baselines3.common.callbacks import BaseCallback

    class StepCounter(BaseCallback):
        def _on_training_start(self) -> None:
            self.bar = progress_bar(total_timesteps, desc, "step", enabled=False)

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    model.learn(total_timesteps, callback=StepCounter())


def _train_source_agent(model, ppo: PPOConfig, seed: int, path: Any, info_path: Any, key: dict,
                        record: dict) -> dict[str, Any]:
    """Train ``model`` for the source budget and write its policy and training summary (caller holds the lock)."""
    torch.manual_seed(seed)
    start = time.perf_counter()
    _learn(model, ppo.total_timesteps, "train source PPO agent")
    log = episode_log(model)
    late = log["end_step"] >= 0.75 * ppo.total_timesteps
    info = {"seconds": time.perf_counter() - start, "episodes": int(len(log["returns"])),
            "late_success_rate": float(log["successes"][late].mean()) if late.any() else 0.0,
            "late_mean_return": float(log["returns"][late].mean()) if late.any() else 0.0}
    atomic_write_json(path.with_name("config.json"), record)  # describes the folder: safe to write first
    with write_artifact(path, (key,)) as tmp:
        torch.save({"state_dict": {k: v.detach().cpu() for k, v in model.policy.state_dict().items()}}, tmp)
    write_json_artifact(info_path, info, (key,))
    return info


def train_on_fixed_maze(env_config: KeysDoorsConfig, ppo: PPOConfig, seed: int,
                        potential: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Train PPO from scratch on a fixed maze (shaped by ``potential`` if given); its :func:`episode_log`."""
    if env_config.maze_seed is None:
        raise ValueError("the target agent needs a fixed maze: env_config.maze_seed must be set")
    torch.manual_seed(seed)
    model = make_ppo(env_config, ppo, seed, potential)
    model.learn(ppo.total_timesteps)  # its caller counts runs (compare_ppo): a bar per run would hide that count
    return episode_log(model)
