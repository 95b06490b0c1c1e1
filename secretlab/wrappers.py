"""Gymnasium wrappers that put SECRET shaping on any agent's env.

``ShapingWrapper`` adds a state potential's F = γφ(s') − φ(s) to the reward (the paper's φ̂, carried credit, the
oracle): any agent can use it, on a Triggers maze (a :class:`secretlab.shaping.Potential`) or on any fixed-maze env
that reports its true state in ``info["state"]`` (a table over its keys, e.g. a KeysDoors target maze).
``AdviceWrapper`` exposes state–action advice Φ(s, ·) to an agent that adds it to its Q-values (a reward wrapper alone cannot give advice; see :mod:`secretlab.advice` and
:mod:`secretlab.agents.sb3_advice`). Both belong to one maze: they pin it on every reset and check it, and both
refuse an agent γ other than the table's.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from secretlab.advice import Advice
from secretlab.envs.triggers import N_ACTIONS, TriggersConfig
from secretlab.shaping import MazeTable, Potential, check_agent_gamma, check_gamma, shaping_reward


def check_wrapped(wrapper: str, env: gym.Env, table: MazeTable, expected: type, gamma: float | None) -> None:
    """ValueError unless ``env`` is a Triggers env, ``table`` an ``expected`` for its maze and, if given,
    ``gamma`` (the agent's discount) the table's."""
    config = getattr(env.unwrapped, "config", None)
    if not isinstance(config, TriggersConfig):
        raise ValueError(f"{wrapper} needs a secretlab Triggers env (env.unwrapped.config)")
    if not isinstance(table, expected):
        raise ValueError(f"{table.kind if isinstance(table, MazeTable) else expected.kind} must be a "
                         f"{expected.__module__}.{expected.__name__}, got {type(table).__name__}")
    if gamma is not None:
        check_agent_gamma(table.kind, table.gamma, gamma)
    table.check_compatible(config, table.layout)


def check_state_table(wrapper: str, env: gym.Env, table: Any) -> np.ndarray:
    """``table`` as float64 if ``env`` is a fixed-maze env (``env.unwrapped.config`` with ``maze_seed`` set and
    ``n_states``) and ``table`` has shape (n_states,); else a ValueError saying which."""
    config = getattr(env.unwrapped, "config", None)
    if config is None or not hasattr(config, "n_states") or not hasattr(config, "maze_seed"):
        raise ValueError(f"{wrapper} needs a secretlab env (env.unwrapped.config with n_states and maze_seed)")
    if config.maze_seed is None:
        raise ValueError(f"{wrapper} needs a fixed maze: set maze_seed on the env (a potential belongs to one maze)")
    table = np.asarray(table, dtype=np.float64)
    if table.shape != (config.n_states,):
        raise ValueError(f"potential must have shape (n_states={config.n_states},), got {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError("potential must be finite")
    return table


class ShapingWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds F = γφ(s') − φ(s) to an env's reward, φ read at the true state ``info["state"]``.

    Caches φ(s) at reset; uses φ(s') = 0 on *termination* (not truncation) when
    ``terminal_zero``. ``info`` gains ``"env_reward"`` (unshaped) and
    ``"shaping"`` (F). Two kinds of potential:

    - a :class:`secretlab.shaping.Potential` on a Triggers env: it carries its own
      γ and ``terminal_zero``. It belongs to one maze: by default the wrapper pins it
      on every reset (``options={"layout": potential.layout}``), and it always checks
      the maze (ValueError on another size or layout). ``gamma``, the agent's
      discount, if given, must be the potential's (shaping with another γ is not
      potential-based).
    - a plain (n_states,) table on any fixed-maze secretlab env (``maze_seed`` set,
      e.g. a KeysDoors target maze): then ``gamma`` is required (the agent's γ)
      and ``terminal_zero`` is this wrapper's argument.

    Wrap each sub-env of a vector env separately
    (``SyncVectorEnv([lambda: ShapingWrapper(...)] * n)``): the vector env's
    auto-reset calls this wrapper's ``reset``.
    """

    def __init__(self, env: gym.Env, potential: Potential | np.ndarray, pin_layout: bool = True,
                 gamma: float | None = None, terminal_zero: bool = True) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, potential=potential, pin_layout=pin_layout, gamma=gamma,
                                                 terminal_zero=terminal_zero)
        super().__init__(env)
        if isinstance(potential, MazeTable) or isinstance(getattr(env.unwrapped, "config", None), TriggersConfig):
            check_wrapped("ShapingWrapper", env, potential, Potential, gamma)
            self.potential, self.pin_layout = potential, pin_layout
            self._table, self._gamma, self._terminal_zero = None, potential.gamma, potential.terminal_zero
        else:
            table = check_state_table("ShapingWrapper", env, potential)
            if gamma is None:
                raise ValueError("gamma must be given (the agent's discount) when the potential is a plain table")
            self.potential, self.pin_layout = table, False
            self._table, self._gamma, self._terminal_zero = table, check_gamma(gamma), bool(terminal_zero)
        self._phi = 0.0

    def _phi_at(self, state: int) -> float:
        return float(self.potential(state) if self._table is None else self._table[state])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if self.pin_layout:
            options = {**(options or {}), "layout": self.potential.layout}
        obs, info = self.env.reset(seed=seed, options=options)
        if self._table is None:
            self.potential.check_compatible(self.env.unwrapped.config, self.env.unwrapped.layout)
        self._phi = self._phi_at(info["state"])
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        phi_next = self._phi_at(info["state"])
        shaping = float(shaping_reward(np.array(self._phi), np.array(phi_next), np.array(terminated),
                                       self._gamma, self._terminal_zero))
        self._phi = phi_next
        info = {**info, "env_reward": float(reward), "shaping": shaping}
        return obs, float(reward) + shaping, terminated, truncated, info


class AdviceWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Exposes Φ(s, ·) of a Triggers maze to an agent that adds it to its Q-values.

    ``info["advice"]`` is Φ(s, ·) (4,) float32 at every reset and step; with
    ``in_observation=True`` (default) the observation becomes a Dict
    ``{"observation": <the env's>, "advice": Φ(s, ·)}`` so that replay buffers
    store it with each transition (what an off-policy agent needs for the TD
    target at s'). The reward is left alone: the agent's Q-values do the rest
    (module docstring). Like :class:`secretlab.shaping.ShapingWrapper`, the
    advice belongs to one maze: the wrapper pins it on every reset and checks it.
    On termination the advice of the final state is 0 (Φ(terminal, ·) = 0).
    """

    def __init__(self, env: gym.Env, advice: Advice, in_observation: bool = True, gamma: float | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, advice=advice, in_observation=in_observation, gamma=gamma)
        super().__init__(env)
        check_wrapped("AdviceWrapper", env, advice, Advice, gamma)
        self.advice = advice
        self.in_observation = bool(in_observation)
        if self.in_observation:
            bound = float(np.abs(advice.table).max()) or 1.0
            self.observation_space = spaces.Dict({
                "observation": env.observation_space,
                "advice": spaces.Box(-bound, bound, shape=(N_ACTIONS,), dtype=np.float32)})

    def _with_advice(self, obs: Any, info: dict, terminated: bool = False) -> tuple[Any, dict]:
        phi = np.zeros(N_ACTIONS, np.float32) if terminated else self.advice(info["state"]).astype(np.float32)
        info = {**info, "advice": phi}
        return ({"observation": obs, "advice": phi} if self.in_observation else obs), info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        options = {**(options or {}), "layout": self.advice.layout}
        obs, info = self.env.reset(seed=seed, options=options)
        self.advice.check_compatible(self.env.unwrapped.config, self.env.unwrapped.layout)
        return self._with_advice(obs, info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        obs, info = self._with_advice(obs, info, bool(terminated))
        return obs, reward, terminated, truncated, info
