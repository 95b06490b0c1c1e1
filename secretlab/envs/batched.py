"""Numpy-batched Triggers engine: thousands of mazes stepped at once.

Same rules as :class:`secretlab.envs.triggers.TriggersEnv` (both call the
functions of :mod:`secretlab.envs.triggers`); ``tests/test_triggers.py`` drives
the two with the same seeds and actions and asserts identical outputs. Used for
trajectory collection and by the vectorised agents, where a per-step Python
loop over a Gymnasium env would be ~15-50× slower (``secretlab bench``).

There is no auto-reset: callers reset finished sub-envs with ``reset(mask=...)``,
which keeps the bookkeeping of who-finished-when in the caller's hands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from secretlab.envs.triggers import (
    Layout,
    TriggersConfig,
    VIEWS,
    encode_state,
    move,
    sample_layouts,
)

ObsMode = Literal["crop", "grid", "egocentric", "none"]
OBS_MODES = (*VIEWS, "none")  # "none": tabular agents need only the state keys


@dataclass
class BatchStep:
    """One batched transition; every array has leading shape (B,)."""

    obs: np.ndarray | None
    """(B, 3, 3, 3) crops, (B, 3, size, size) grids, or None (``obs_mode``)."""
    reward: np.ndarray
    """(B,) float32 in {-1, 0, 1}."""
    terminated: np.ndarray
    """(B,) bool: no prize left."""
    truncated: np.ndarray
    """(B,) bool: ``max_steps`` reached without termination."""
    activated: np.ndarray
    """(B,) bool: this step's action activated a trigger."""
    state: np.ndarray
    """(B,) int64 true-state key after the step."""


class BatchedTriggers:
    """B independent Triggers mazes advanced by one numpy call per step.

    Parameters
    ----------
    config:
        The maze distribution (size, triggers, prizes, dynamics, horizon).
    n_envs:
        Batch size B.
    obs_mode:
        What ``reset``/``step`` return as observation: ``"crop"`` (the SECRET
        3×3 view), ``"grid"`` (the full maze, for DQN), ``"egocentric"`` (the full
        maze re-centred on the agent, :func:`~secretlab.envs.triggers.egocentric_grid`)
        or ``"none"`` (tabular agents only need ``state``; skipping the crop is faster).
    """

    def __init__(self, config: TriggersConfig, n_envs: int, obs_mode: ObsMode = "crop") -> None:
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if int(n_envs) < 1:
            raise ValueError(f"n_envs must be >= 1, got {n_envs}")
        self.config = config
        self.n_envs = int(n_envs)
        self.obs_mode = obs_mode
        B, nT, nP = self.n_envs, config.n_triggers, config.n_prizes
        self.start = np.zeros((B, 2), np.int64)
        self.triggers = np.zeros((B, nT, 2), np.int64)
        self.prizes = np.zeros((B, nP, 2), np.int64)
        self.agent = np.zeros((B, 2), np.int64)
        self.triggers_alive = np.zeros((B, nT), bool)
        self.prizes_alive = np.zeros((B, nP), bool)
        self.t = np.zeros(B, np.int64)

    # ------------------------------------------------------------------ rules
    def reset(
        self,
        seeds: np.ndarray | None = None,
        layouts: Layout | None = None,
        mask: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Reset the sub-envs selected by ``mask`` (default: all).

        ``seeds`` (one per selected env) draws new mazes as ``TriggersEnv.reset(seed=)``
        does; ``layouts`` (stacked, one per selected env) pins given mazes; with
        neither, each env restarts its current maze.
        """
        idx = np.arange(self.n_envs) if mask is None else np.flatnonzero(mask)
        if seeds is not None and layouts is not None:
            raise ValueError("pass seeds or layouts, not both")
        if seeds is not None:
            seeds = np.asarray(seeds).ravel()
            if len(seeds) != len(idx):
                raise ValueError(f"seeds must have one entry per reset env ({len(idx)}), got {len(seeds)}")
            layouts = sample_layouts(self.config, seeds)
        if layouts is not None:
            self.start[idx] = layouts.agent
            self.triggers[idx] = layouts.triggers
            self.prizes[idx] = layouts.prizes
        self.agent[idx] = self.start[idx]
        self.triggers_alive[idx] = True
        self.prizes_alive[idx] = True
        self.t[idx] = 0
        return self.observe()

    def step(self, actions: np.ndarray) -> BatchStep:
        """Advance every sub-env by one action; actions (B,) ints in {0,1,2,3}."""
        actions = np.asarray(actions)
        if actions.shape != (self.n_envs,):
            raise ValueError(f"actions must have shape ({self.n_envs},), got {actions.shape}")
        if actions.size and (actions.min() < 0 or actions.max() > 3 or not np.issubdtype(actions.dtype, np.integer)):
            raise ValueError("actions must be integers in {0, 1, 2, 3} (up, right, down, left)")
        cfg = self.config
        self.agent = move(self.agent, actions, cfg.size, cfg.inverted)
        here = self.agent[:, None, :]
        on_trigger = self.triggers_alive & (self.triggers == here).all(-1)
        activated = on_trigger.any(-1)
        self.triggers_alive &= ~on_trigger
        on_prize = self.prizes_alive & (self.prizes == here).all(-1)
        hit = on_prize.any(-1)
        all_active = ~self.triggers_alive.any(-1)
        reward = np.where(hit, np.where(all_active, 1.0, -1.0), 0.0).astype(np.float32)
        self.prizes_alive &= ~on_prize
        self.t += 1
        terminated = ~self.prizes_alive.any(-1)
        truncated = ~terminated & (self.t >= cfg.horizon)
        return BatchStep(self.observe(), reward, terminated, truncated, activated, self.state)

    # --------------------------------------------------------------- plumbing
    @property
    def state(self) -> np.ndarray:
        """(B,) true-state keys."""
        return encode_state(self.agent, self.triggers_alive, self.prizes_alive, self.config.size)

    @property
    def layouts(self) -> Layout:
        """The current mazes (copies), stacked."""
        return Layout(self.start.copy(), self.triggers.copy(), self.prizes.copy())

    def observe(self, mode: ObsMode | None = None) -> np.ndarray | None:
        mode = self.obs_mode if mode is None else mode
        if mode == "none":
            return None
        return VIEWS[mode](self.agent, self.triggers, self.triggers_alive, self.prizes, self.prizes_alive, self.config.size)
