"""Gymnasium wrappers that put SECRET shaping on any agent's Triggers env.

``ShapingWrapper`` adds a state potential's F = γφ(s') − φ(s) to the reward (the paper's φ̂, carried credit, the
oracle): any agent can use it. ``AdviceWrapper`` exposes state–action advice Φ(s, ·) to an agent that adds it to
its Q-values (a reward wrapper alone cannot give advice; see :mod:`secretlab.advice` and
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
from secretlab.shaping import MazeTable, Potential, check_agent_gamma, shaping_reward


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


class ShapingWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds F = γφ(s') − φ(s) to a Triggers env's reward.

    Reads the true state from ``info["state"]``; caches φ(s) at reset; uses
    φ(s') = 0 on *termination* (not truncation) when ``potential.terminal_zero``.
    ``info`` gains ``"env_reward"`` (unshaped) and ``"shaping"`` (F). A potential
    belongs to one maze: by default the wrapper pins it on every reset
    (``options={"layout": potential.layout}``), and it always checks the maze
    (ValueError on another size or layout). ``gamma``: the agent's discount, if
    given, must be the potential's (shaping with another γ is not
    potential-based). Wrap each sub-env of a Gymnasium
    vector env separately (``SyncVectorEnv([lambda: ShapingWrapper(...)] * n)``):
    the vector env's auto-reset calls this wrapper's ``reset``.
    """

    def __init__(self, env: gym.Env, potential: Potential, pin_layout: bool = True,
                 gamma: float | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, potential=potential, pin_layout=pin_layout, gamma=gamma)
        super().__init__(env)
        check_wrapped("ShapingWrapper", env, potential, Potential, gamma)
        self.potential = potential
        self.pin_layout = pin_layout
        self._phi = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if self.pin_layout:
            options = {**(options or {}), "layout": self.potential.layout}
        obs, info = self.env.reset(seed=seed, options=options)
        self.potential.check_compatible(self.env.unwrapped.config, self.env.unwrapped.layout)
        self._phi = float(self.potential(info["state"]))
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        phi_next = float(self.potential(info["state"]))
        shaping = float(shaping_reward(np.array(self._phi), np.array(phi_next), np.array(terminated),
                                       self.potential.gamma, self.potential.terminal_zero))
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
