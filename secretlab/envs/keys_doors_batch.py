"""KeysDoors stepped for a whole batch at once with numpy (the collector's engine).

:class:`~secretlab.envs.keys_doors.KeysDoorsEnv` is the reference: a Gymnasium env whose
``advance`` walks MiniGrid objects in Python (``front_pos``, ``grid.get``, ``isinstance``),
one env at a time. :class:`KeysDoorsBatch` holds B mazes of one configuration as arrays
(each grid's MiniGrid encoding walled in by ``VIEW`` cells, as
:func:`~secretlab.envs.minigrid_view.padded_encoding` builds it, plus the agent's cell,
direction, carried colour, doors opened and step count) and applies the same rules to
all of them with a few numpy operations per step. The mazes come from the env itself
(:meth:`KeysDoorsBatch.from_envs` copies reset or running envs, :func:`reset_batch` resets
one env per maze seed), so they are the env's mazes by construction; the views are drawn by
:func:`~secretlab.envs.minigrid_view.egocentric_views`.
``tests/test_keys_doors_batch.py`` checks every step of many random episodes against
``KeysDoorsEnv.step`` (observation, reward, terminated, truncated, info).

The rules on an encoded cell (MiniGrid door states: 0 open, 1 closed, 2 locked): forward
enters empty, floor and goal cells and open doors (MiniGrid's ``can_overlap``), and the goal
pays ``GOAL_REWARD`` and terminates; pickup takes a key in front when the hands are empty
and every key of that key's room vanishes; toggle opens a locked door in front whose colour
is the carried key's, uses the key up and pays ``DOOR_REWARD``; an episode is truncated at
``max_steps`` unless it terminated on that step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from minigrid.core.constants import COLOR_NAMES, COLOR_TO_IDX, DIR_TO_VEC, OBJECT_TO_IDX

from secretlab.envs.keys_doors import (ACTION_NAMES, DOOR_REWARD, GOAL_REWARD, N_ACTIONS, VIEW, KeysDoorsConfig,
                                       KeysDoorsEnv, view_to_obs)
from secretlab.envs.minigrid_view import EMPTY_CODE, egocentric_views

_EMPTY, _FLOOR, _DOOR, _KEY, _GOAL = (OBJECT_TO_IDX[k] for k in ("empty", "floor", "door", "key", "goal"))
_OPEN, _LOCKED = 0, 2
_DIR_VEC = np.array(DIR_TO_VEC, np.int64)  # MiniGrid: 0 east, 1 south, 2 west, 3 north
#: The env's colour index (position in MiniGrid's sorted ``COLOR_NAMES``) -> MiniGrid's colour code, and back.
COLOUR_CODE = np.array([COLOR_TO_IDX[name] for name in COLOR_NAMES], np.int64)
CODE_COLOUR = np.argsort(COLOUR_CODE)
#: Row c + 1: the code of a carried key of colour c (``Key.encode()``); row 0: empty hands.
_CARRIED_CODES = np.array([(-1, -1, -1)] + [(_KEY, code, 0) for code in COLOUR_CODE], np.int64)
_LAYOUT = ("door_xy", "door_colour", "key_xy", "key_colour", "goal_xy", "start")


@dataclass
class KeysDoorsStep:
    """One batched transition: what ``KeysDoorsEnv.advance`` returns, one row per env (leading shape (B,)).

    Rows that were not stepped (``active`` False) keep their current state, a reward of 0 and no events.
    """

    reward: np.ndarray
    """(B,) float32: 0, ``DOOR_REWARD`` or ``GOAL_REWARD``."""
    terminated: np.ndarray
    """(B,) bool: reached the goal."""
    truncated: np.ndarray
    """(B,) bool: ``max_steps`` reached without terminating."""
    state: np.ndarray
    """(B,) int64 true-state key after the step (:func:`~secretlab.envs.keys_doors.encode_state`)."""
    agent: np.ndarray
    """(B, 2) int64 agent (x, y) after the step."""
    carrying: np.ndarray
    """(B,) int64 colour index of the carried key, or -1."""
    doors_opened: np.ndarray
    """(B,) int64."""
    picked_key: np.ndarray
    """(B,) int64 colour index of the key this step picked up, or -1."""
    opened_door: np.ndarray
    """(B,) int64 index of the door this step opened, or -1."""
    reached_goal: np.ndarray
    """(B,) bool."""

    def info(self, j: int) -> dict[str, Any]:
        """Row ``j`` as the info dict ``KeysDoorsEnv.step`` returns (same keys, Python scalars)."""
        return {"state": int(self.state[j]), "agent": (int(self.agent[j, 0]), int(self.agent[j, 1])),
                "carrying": int(self.carrying[j]), "doors_opened": int(self.doors_opened[j]),
                "picked_key": int(self.picked_key[j]), "opened_door": int(self.opened_door[j]),
                "reached_goal": bool(self.reached_goal[j])}


class KeysDoorsBatch:
    """B KeysDoors mazes of one configuration, advanced by one numpy call per step (see the module docstring).

    Build it with :meth:`from_envs` or :func:`reset_batch`. There is no auto-reset: the caller stops stepping a
    row once it has ended (``advance(..., active=)``).
    """

    def __init__(self, config: KeysDoorsConfig, states: Sequence[dict[str, np.ndarray]]) -> None:
        self.config = config
        self.n_envs = len(states)
        stacked = {name: np.stack([s[name] for s in states]) for name in states[0]}
        self.padded = stacked["padded"]  # (B, width + 2·VIEW, height + 2·VIEW, 3) uint8, indexed [b, x, y]
        self.agent_pos = stacked["agent_pos"]  # (B, 2) x, y
        self.agent_dir = stacked["agent_dir"]  # (B,)
        self.carrying = stacked["carrying"]  # (B,) colour index or -1
        self.doors_opened = stacked["doors_opened"]
        self.step_count = stacked["step_count"]
        self.layout = {name: stacked[name] for name in _LAYOUT}  # KeysDoorsEnv.layout_arrays, stacked
        self.max_steps = config.horizon

    @classmethod
    def from_envs(cls, envs: Sequence[KeysDoorsEnv]) -> "KeysDoorsBatch":
        """A batch holding copies of ``envs``' current states (reset, or mid-episode); they must share one config."""
        if not isinstance(envs, (list, tuple)) or not envs or not all(isinstance(env, KeysDoorsEnv) for env in envs):
            raise ValueError(f"envs must be a non-empty list of KeysDoorsEnv, got {envs!r}")
        config = envs[0].config
        for i, env in enumerate(envs):
            if env.config != config:
                raise ValueError(f"envs must all have one config: envs[0] has {config}, envs[{i}] has {env.config}")
            if getattr(env, "doors_opened", None) is None:
                raise ValueError(f"envs must be reset before batching: envs[{i}] was never reset")
        return cls(config, [env_state(env) for env in envs])

    # ------------------------------------------------------------------ rules
    def advance(self, actions: np.ndarray, active: np.ndarray | None = None) -> KeysDoorsStep:
        """``KeysDoorsEnv.advance`` on every row (or on the rows where ``active`` is True), without the views.

        ``actions`` (B,) integers in {0, .., 4} (one per row, ignored on inactive rows).
        """
        rows = self._check_step(actions, active)
        a = np.asarray(actions)[rows]
        n = len(rows)
        self.step_count[rows] += 1
        pos, direction, held = self.agent_pos[rows], self.agent_dir[rows], self.carrying[rows]
        front = pos + _DIR_VEC[direction]
        kind, colour, state = self.padded[rows, front[:, 0] + VIEW, front[:, 1] + VIEW].T
        self.agent_dir[rows] = (direction + (a == 1).astype(np.int64) - (a == 0)) % 4
        forward = a == 2
        passable = (kind == _EMPTY) | (kind == _FLOOR) | (kind == _GOAL) | ((kind == _DOOR) & (state == _OPEN))
        moved = forward & passable
        self.agent_pos[rows[moved]] = front[moved]
        goal = forward & (kind == _GOAL)
        picked = np.full(n, -1, np.int64)
        pick = (a == 3) & (kind == _KEY) & (held < 0)
        if pick.any():
            picked[pick] = CODE_COLOUR[colour[pick]]
            self._pick_up(rows[pick], front[pick], picked[pick])
        opened = np.full(n, -1, np.int64)
        toggle = (a == 4) & (kind == _DOOR) & (state == _LOCKED) & (held >= 0)
        toggle[toggle] = COLOUR_CODE[held[toggle]] == colour[toggle]
        if toggle.any():
            opened[toggle] = self._open(rows[toggle], front[toggle])
        reward = np.where(goal, np.float32(GOAL_REWARD), np.where(toggle, np.float32(DOOR_REWARD), np.float32(0)))
        truncated = ~goal & (self.step_count[rows] >= self.max_steps)
        return self._step_result(rows, reward, goal, truncated, picked, opened)

    def _check_step(self, actions: Any, active: Any) -> np.ndarray:
        """The rows to step; ValueError naming ``actions`` or ``active`` on bad input."""
        B = self.n_envs
        arr = np.asarray(actions)
        if arr.shape != (B,) or arr.dtype.kind not in "iu" or (B and (arr.min() < 0 or arr.max() >= N_ACTIONS)):
            raise ValueError(f"actions must be a ({B},) integer array with values in {{0, 1, 2, 3, 4}} "
                             f"({', '.join(ACTION_NAMES)}), got {actions!r}")
        if active is None:
            return np.arange(B)
        mask = np.asarray(active)
        if mask.shape != (B,) or mask.dtype != bool:
            raise ValueError(f"active must be None or a ({B},) bool array, got {active!r}")
        return np.flatnonzero(mask)

    def _pick_up(self, rows: np.ndarray, front: np.ndarray, colours: np.ndarray) -> None:
        """Rows ``rows`` take the key at ``front``; every key of that key's room vanishes."""
        self.carrying[rows] = colours
        keys = self.layout["key_xy"][rows]  # (m, n_doors, 2, 2)
        room = (keys == front[:, None, None, :]).all(-1).any(-1)  # (m, n_doors): the room whose key it is
        which, door = np.nonzero(room)
        cells = keys[which, door]  # (k, 2 keys, 2)
        self.padded[rows[which, None], cells[..., 0] + VIEW, cells[..., 1] + VIEW] = EMPTY_CODE

    def _open(self, rows: np.ndarray, front: np.ndarray) -> np.ndarray:
        """Rows ``rows`` open the door at ``front`` with the key they hold; returns the doors' indices."""
        self.padded[rows, front[:, 0] + VIEW, front[:, 1] + VIEW, 2] = _OPEN
        self.carrying[rows] = -1
        self.doors_opened[rows] += 1
        return np.argmax((self.layout["door_xy"][rows] == front[:, None, :]).all(-1), axis=1)

    def _step_result(self, rows: np.ndarray, reward: np.ndarray, goal: np.ndarray, truncated: np.ndarray,
                     picked: np.ndarray, opened: np.ndarray) -> KeysDoorsStep:
        B = self.n_envs
        out = KeysDoorsStep(np.zeros(B, np.float32), np.zeros(B, bool), np.zeros(B, bool), self.state,
                            self.agent_pos.copy(), self.carrying.copy(), self.doors_opened.copy(),
                            np.full(B, -1, np.int64), np.full(B, -1, np.int64), np.zeros(B, bool))
        out.reward[rows], out.terminated[rows], out.truncated[rows] = reward, goal, truncated
        out.picked_key[rows], out.opened_door[rows], out.reached_goal[rows] = picked, opened, goal
        return out

    # --------------------------------------------------------------- plumbing
    @property
    def state(self) -> np.ndarray:
        """(B,) true-state keys, :func:`~secretlab.envs.keys_doors.encode_state`'s formula on every row."""
        cfg = self.config
        cell = self.agent_pos[:, 1] * cfg.width + self.agent_pos[:, 0]
        return (cell * (cfg.n_colors + 1) + (self.carrying + 1)) * (cfg.n_doors + 1) + self.doors_opened

    def carried_codes(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(n, 3) MiniGrid code of each row's carried key (a row of -1 for empty hands), as ``egocentric_views``
        reads it."""
        return _CARRIED_CODES[(self.carrying if rows is None else self.carrying[rows]) + 1]

    def observe(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(n, 3, 7, 7) uint8: the observation ``KeysDoorsEnv.step`` would return for each of ``rows`` (default all)."""
        rows = np.arange(self.n_envs) if rows is None else np.asarray(rows)
        images = egocentric_views(self.padded, self.agent_pos[rows], self.agent_dir[rows], VIEW,
                                  self.carried_codes(rows), rows=rows)
        return view_to_obs(images, self.config.show_carried)


def env_state(env: KeysDoorsEnv) -> dict[str, np.ndarray]:
    """What :class:`KeysDoorsBatch` keeps of one env: its padded grid encoding, agent, hands, counters and maze."""
    return {"padded": env.padded_grid.copy(), "agent_pos": np.array(env.agent_pos, np.int64),
            "agent_dir": np.int64(env.agent_dir), "carrying": np.int64(env.carrying_colour),
            "doors_opened": np.int64(env.doors_opened), "step_count": np.int64(env.step_count),
            **env.layout_arrays()}


def reset_batch(config: KeysDoorsConfig, seeds: Sequence[int]) -> KeysDoorsBatch:
    """A batch of fresh episodes, row i the maze ``KeysDoorsEnv(**config.env_kwargs()).reset(seed=seeds[i])`` builds.

    One env is reset once per distinct seed (a reset rebuilds the whole maze from the seed, so reusing the env
    changes nothing; a fixed maze's batch, whose seeds are all equal, costs one reset) and its state copied out.
    """
    if not isinstance(config, KeysDoorsConfig):
        raise ValueError(f"config must be a KeysDoorsConfig, got {config!r}")
    seeds = np.asarray(seeds)
    if seeds.ndim != 1 or not len(seeds) or seeds.dtype.kind not in "iu" or seeds.min() < 0:
        raise ValueError(f"seeds must be a non-empty 1-D array of integers >= 0, got {seeds!r}")
    env = KeysDoorsEnv(**config.env_kwargs())
    states = {}
    for seed in seeds.tolist():
        if seed not in states:
            env.reset(seed=seed)
            states[seed] = env_state(env)
    return KeysDoorsBatch(config, [states[seed] for seed in seeds.tolist()])
