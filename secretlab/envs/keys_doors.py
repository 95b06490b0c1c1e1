"""KeysDoors: a MiniGrid keys-and-doors puzzle standing in for DMLab's keys_doors_puzzle.

DeepMind Lab cannot be built on these machines, so the paper's DMLab experiment
(SECRET §3, App. A.4-A.5) runs on this Farama MiniGrid puzzle, which keeps the
structure that matters for credit assignment: coloured keys, matching locked
doors, one key carried at a time (a wrong key blocks progress), key pickups
worth 0, doors worth +1 and a final "cake" worth +50, seen through an
egocentric partial view.

Description
    ``n_rooms`` square rooms (``room_size`` × ``room_size`` floor cells) in a row,
    separated by walls. The wall between room ``i`` and room ``i+1`` holds a door
    locked with colour ``c_i``. Room ``i`` (for every room but the last) holds two
    keys: the one matching door ``i`` and a decoy of another colour. The last
    room holds the goal (the "cake"). The agent starts in room 0. It can carry
    one key and cannot drop it, so picking the decoy makes the rest of the
    episode unrewarded (as in DMLab, where the wrong key blocks the way).
    Each room offers a choice: picking up one of its keys makes the other one
    vanish, so the view after a pickup never shows which key was taken (only
    the pickup step itself does; otherwise the remaining key's colour would
    give it away in every later frame). Opening a door uses the key up (the
    agent's hands are empty again). Opened doors stay open.

Action space
    ``Discrete(5)``: 0 turn left, 1 turn right, 2 move forward, 3 pick up the key
    in front, 4 toggle (open the locked door in front with the carried key).
    MiniGrid's ``drop`` and ``done`` are left out on purpose (no drop: a wrong
    key must block progress; ``done`` is never needed).

Observation
    ``Box(0, 10, (3, 7, 7), uint8)``: MiniGrid's 7×7 egocentric view (no extra
    cropping), channel-first: channels ``[object type, colour, door state]`` as
    MiniGrid encodes them, rows = distance ahead (row 6 is the agent's row, the
    agent sits at column 3 of row 6). Unlike stock MiniGrid the carried key is
    *not* drawn on the agent's own cell by default (``show_carried=False``): as
    in DMLab's first-person view the agent cannot see what it holds, so
    predicting a door opening needs the memory of the key pickup.

Rewards
    Picking up a key: 0 (the paper's modification). Opening a locked door: +1.
    Stepping onto the goal: +50 (no time discount, unlike stock MiniGrid).

Termination
    Terminated on reaching the goal; truncated after ``max_steps`` steps
    (default :func:`default_max_steps`: ``12 * room_size * n_rooms``).

Info (reset and step)
    ``state``: the true-state key (agent cell, key held, doors opened) as a
    dense ``int`` in ``[0, n_states)`` (the agent never sees it; App. A.4);
    ``agent`` (x, y) MiniGrid cell; ``carrying``: colour index of the carried
    key or -1; ``doors_opened``; ``picked_key``: colour index of the key picked
    up by this step's action or -1; ``opened_door``: index of the door this
    step opened or -1; ``reached_goal``.

Registered configurations
    ``secretlab/KeysDoors-v0`` with keyword arguments ``n_rooms=3, room_size=3,
    n_colors=2, max_steps=None, maze_seed=None, show_carried=False``.
    ``reset(seed=s)`` draws the maze from ``s`` (random agent start, key, door
    and goal placement and colours); with ``maze_seed`` set every reset builds
    that one fixed maze (the target side of transfer).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from minigrid.core.constants import COLOR_NAMES, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Door, Goal, Key
from minigrid.minigrid_env import MiniGridEnv

from secretlab.envs.minigrid_view import EMPTY_CODE, egocentric_view, padded_encoding

#: Bumped whenever the rules change, and part of every cached artifact's key.
RULES_VERSION = 2
N_ACTIONS = 5
ACTION_NAMES = ("left", "right", "forward", "pickup", "toggle")
VIEW = 7
OBS_CHANNELS = ("object", "colour", "state")
OBS_MAX = max(OBJECT_TO_IDX.values())  # 10: the largest code MiniGrid puts in the view
DOOR_REWARD = 1.0
GOAL_REWARD = 50.0
# The agent's own cell inside the channel-first view: row VIEW-1 (closest), column VIEW//2.
AGENT_VIEW_CELL = (VIEW - 1, VIEW // 2)


def default_max_steps(n_rooms: int, room_size: int) -> int:
    """Default episode cap: ``12 * room_size * n_rooms`` (108 for 3 rooms of 3×3).

    An optimal run needs roughly ``3 * room_size`` steps per room (walk, turn,
    pick up, toggle); four times that leaves room to explore while keeping the
    attention's T² cost small.
    """
    return 12 * room_size * n_rooms


@dataclass(frozen=True)
class KeysDoorsConfig:
    """One distribution of KeysDoors mazes (everything but the layout)."""

    n_rooms: int = 3
    """Rooms in a row (>= 2); there are ``n_rooms - 1`` locked doors."""
    room_size: int = 3
    """Floor cells per room side (>= 3, so two keys and a free path always fit)."""
    n_colors: int = 2
    """Key/door colours in use (2..6, MiniGrid's palette); the decoy key has another colour."""
    max_steps: int | None = None
    """Truncation horizon; ``None`` means :func:`default_max_steps`."""
    maze_seed: int | None = None
    """If set, every reset builds this one fixed maze (the target maze)."""
    show_carried: bool = False
    """Draw the carried key on the agent's cell as stock MiniGrid does (off: DMLab-like)."""

    def __post_init__(self) -> None:
        _check_int("n_rooms", self.n_rooms, minimum=2, maximum=8)
        _check_int("room_size", self.room_size, minimum=3, maximum=9)
        _check_int("n_colors", self.n_colors, minimum=2, maximum=len(COLOR_NAMES))
        if self.max_steps is not None:
            _check_int("max_steps", self.max_steps, minimum=1, maximum=10**6)
        if self.maze_seed is not None:
            _check_int("maze_seed", self.maze_seed, minimum=0, maximum=2**63 - 1)
        if not isinstance(self.show_carried, (bool, np.bool_)):
            raise ValueError(f"show_carried must be True or False, got {self.show_carried!r}")

    @property
    def horizon(self) -> int:
        """The effective ``max_steps``."""
        return default_max_steps(self.n_rooms, self.room_size) if self.max_steps is None else int(self.max_steps)

    @property
    def width(self) -> int:
        """MiniGrid grid width, walls included."""
        return self.n_rooms * (self.room_size + 1) + 1

    @property
    def height(self) -> int:
        """MiniGrid grid height, walls included."""
        return self.room_size + 2

    @property
    def n_doors(self) -> int:
        return self.n_rooms - 1

    @property
    def n_states(self) -> int:
        """Number of true-state keys: cells × (no key + n_colors) × (0..n_doors doors opened)."""
        return self.width * self.height * (self.n_colors + 1) * (self.n_doors + 1)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["max_steps"] = self.horizon
        return d

    def env_kwargs(self) -> dict[str, Any]:
        """The :class:`KeysDoorsEnv` keyword arguments that build this configuration."""
        return {"n_rooms": self.n_rooms, "room_size": self.room_size, "n_colors": self.n_colors,
                "max_steps": self.max_steps, "maze_seed": self.maze_seed, "show_carried": self.show_carried}


def _check_int(name: str, value: Any, minimum: int, maximum: int) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value!r}")


def encode_state(x: int, y: int, carrying: int, doors_opened: int, config: KeysDoorsConfig) -> int:
    """True-state key: ``((y * width + x) * (n_colors + 1) + (carrying + 1)) * (n_doors + 1) + doors_opened``.

    ``carrying`` is the carried key's colour index or -1. Keys lie in
    ``[0, config.n_states)`` so potential tables can be dense arrays.
    """
    cell = y * config.width + x
    return int((cell * (config.n_colors + 1) + (carrying + 1)) * (config.n_doors + 1) + doors_opened)


def decode_state(key: int, config: KeysDoorsConfig) -> dict[str, Any]:
    """Inverse of :func:`encode_state`: ``{"agent": (x, y), "carrying": c, "doors_opened": d}``."""
    rest, doors = divmod(int(key), config.n_doors + 1)
    cell, held = divmod(rest, config.n_colors + 1)
    y, x = divmod(cell, config.width)
    return {"agent": (x, y), "carrying": held - 1, "doors_opened": doors}


def check_action(action: Any) -> int:
    """Validate one action; raise a ValueError naming the allowed values."""
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action.item()
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) \
            or not 0 <= action < N_ACTIONS:
        raise ValueError(
            f"action must be an integer in {{0, 1, 2, 3, 4}} ({', '.join(ACTION_NAMES)}), got {action!r}"
        )
    return int(action)


class KeysDoorsEnv(MiniGridEnv):
    """MiniGrid keys/doors puzzle; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}
    _padded: np.ndarray | None = None  # the grid's encoding, walled in (secretlab.envs.minigrid_view); None = stale

    def __init__(
        self,
        n_rooms: int = 3,
        room_size: int = 3,
        n_colors: int = 2,
        max_steps: int | None = None,
        maze_seed: int | None = None,
        show_carried: bool = False,
        render_mode: str | None = None,
        inverted: bool = False,
    ) -> None:
        if inverted is not False:  # accepted only to refuse it clearly (Triggers has the flag, KeysDoors does not)
            raise ValueError(f"inverted must be False: KeysDoors has no inverted controls (secretlab/Triggers-v0 "
                             f"has them), got {inverted!r}")
        self.config = KeysDoorsConfig(n_rooms, room_size, n_colors, max_steps, maze_seed, show_carried)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        cfg = self.config
        super().__init__(
            mission_space=MissionSpace(mission_func=lambda: "open the doors and get the cake"),
            width=cfg.width, height=cfg.height, max_steps=cfg.horizon,
            see_through_walls=False, agent_view_size=VIEW, render_mode=render_mode,
            tile_size=16,
        )
        self.observation_space = spaces.Box(0, OBS_MAX, shape=(3, VIEW, VIEW), dtype=np.uint8)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.doors: list[Door] = []
        self.door_positions: list[tuple[int, int]] = []
        self.key_positions: list[list[tuple[int, int, int]]] = []  # per room: (x, y, colour)
        self.goal_position: tuple[int, int] = (0, 0)
        self.start: tuple[int, int, int] = (0, 0, 0)

    # ------------------------------------------------------------------ maze
    def _gen_grid(self, width: int, height: int) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.maze_seed) if cfg.maze_seed is not None else self.np_random
        s = cfg.room_size
        self.grid = Grid(width, height)
        self._padded = None
        self.grid.wall_rect(0, 0, width, height)
        self.doors, self.door_positions, self.key_positions = [], [], []
        door_colours = rng.integers(0, cfg.n_colors, size=cfg.n_doors)
        for i in range(cfg.n_doors):
            wall_x = (i + 1) * (s + 1)
            self.grid.vert_wall(wall_x, 0, height)
            door_y = 1 + int(rng.integers(0, s))
            door = Door(COLOR_NAMES[door_colours[i]], is_locked=True)
            self.grid.set(wall_x, door_y, door)
            self.doors.append(door)
            self.door_positions.append((wall_x, door_y))
        for room in range(cfg.n_rooms):
            x0 = room * (s + 1) + 1
            cells = [(x0 + dx, 1 + dy) for dy in range(s) for dx in range(s)]
            # Keys never sit right in front of a door (they would wall it off).
            blocked = {(dx - 1, dy) for dx, dy in self.door_positions} | {(dx + 1, dy) for dx, dy in self.door_positions}
            free = [c for c in cells if c not in blocked]
            order = rng.permutation(len(free))
            free = [free[k] for k in order]
            keys = []
            if room < cfg.n_doors:
                right = int(door_colours[room])
                decoy = int((right + 1 + rng.integers(0, cfg.n_colors - 1)) % cfg.n_colors)
                for colour in (right, decoy) if rng.random() < 0.5 else (decoy, right):
                    x, y = free.pop()
                    self.grid.set(x, y, Key(COLOR_NAMES[colour]))
                    keys.append((x, y, colour))
            else:
                self.goal_position = free.pop()
                self.grid.set(*self.goal_position, Goal())
            self.key_positions.append(keys)
            if room == 0:
                ax, ay = free.pop()
                self.start = (ax, ay, int(rng.integers(0, 4)))
        self.agent_pos = (self.start[0], self.start[1])
        self.agent_dir = self.start[2]
        self.mission = "open the doors and get the cake"

    # ------------------------------------------------------------------ rules
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, _ = super().reset(seed=seed, options=options)
        self.doors_opened = 0
        return self._obs(obs), self._info(picked=-1, opened=-1, goal=False)

    def step(self, action):
        reward, terminated, truncated, info = self.advance(action)
        return self._obs(self.gen_obs()), reward, terminated, truncated, info

    def advance(self, action) -> tuple[float, bool, bool, dict[str, Any]]:
        """:meth:`step` without drawing the view: (reward, terminated, truncated, info). The collector steps whole
        batches with :class:`~secretlab.envs.keys_doors_batch.KeysDoorsBatch` (these rules in numpy, tested equal)."""
        action = check_action(action)
        self.step_count += 1
        reward, terminated = 0.0, False
        picked, opened, goal = -1, -1, False
        fwd_pos = tuple(int(v) for v in self.front_pos)
        fwd_cell = self.grid.get(*fwd_pos)
        if action == 0:
            self.agent_dir = (self.agent_dir - 1) % 4
        elif action == 1:
            self.agent_dir = (self.agent_dir + 1) % 4
        elif action == 2:
            if fwd_cell is None or fwd_cell.can_overlap():
                self.agent_pos = fwd_pos
            if fwd_cell is not None and fwd_cell.type == "goal":
                reward, terminated, goal = GOAL_REWARD, True, True
        elif action == 3:
            if isinstance(fwd_cell, Key) and self.carrying is None:
                self.carrying = fwd_cell
                self.carrying.cur_pos = np.array([-1, -1])
                self.grid.set(*fwd_pos, None)
                self._padded = None
                picked = COLOR_NAMES.index(fwd_cell.color)
                for keys in self.key_positions:  # the other key of this room vanishes
                    if any((x, y) == fwd_pos for x, y, _ in keys):
                        for x, y, _ in keys:
                            if isinstance(self.grid.get(x, y), Key):
                                self.grid.set(x, y, None)
        elif action == 4:
            # Only a locked door with the matching key reacts; the key is used up
            # and the door stays open (no closing, no reward for reopening).
            if isinstance(fwd_cell, Door) and fwd_cell.is_locked and isinstance(self.carrying, Key) \
                    and self.carrying.color == fwd_cell.color:
                fwd_cell.is_locked, fwd_cell.is_open = False, True
                self._padded = None
                self.carrying = None
                opened = next(i for i, d in enumerate(self.doors) if d is fwd_cell)
                self.doors_opened += 1
                reward = DOOR_REWARD
        truncated = (not terminated) and self.step_count >= self.max_steps
        return reward, terminated, truncated, self._info(picked, opened, goal)

    # --------------------------------------------------------------- plumbing
    def gen_obs(self) -> dict[str, Any]:
        """MiniGrid's observation dict, its view computed by :func:`~secretlab.envs.minigrid_view.egocentric_view`
        (the same image as ``MiniGridEnv.gen_obs``, several times faster; tested step by step)."""
        carried = None if self.carrying is None else tuple(int(v) for v in self.carrying.encode())
        image = egocentric_view(self.padded_grid, self.agent_pos, self.agent_dir, VIEW, carried)
        return {"image": image, "direction": self.agent_dir, "mission": self.mission}

    @property
    def padded_grid(self) -> np.ndarray:
        """The grid's MiniGrid encoding walled in by ``VIEW`` cells (refreshed after a pickup or a door opening)."""
        if self._padded is None:
            self._padded = padded_encoding(self.grid.encode(), VIEW)
        return self._padded

    def _obs(self, minigrid_obs: dict) -> np.ndarray:
        return view_to_obs(minigrid_obs["image"][None], self.config.show_carried)[0]

    @property
    def carrying_colour(self) -> int:
        """Colour index of the carried key, or -1."""
        return COLOR_NAMES.index(self.carrying.color) if self.carrying is not None else -1

    @property
    def state_key(self) -> int:
        x, y = self.agent_pos
        return encode_state(int(x), int(y), self.carrying_colour, self.doors_opened, self.config)

    def _info(self, picked: int, opened: int, goal: bool) -> dict[str, Any]:
        return {
            "state": self.state_key,
            "agent": (int(self.agent_pos[0]), int(self.agent_pos[1])),
            "carrying": self.carrying_colour,
            "doors_opened": int(self.doors_opened),
            "picked_key": int(picked),
            "opened_door": int(opened),
            "reached_goal": bool(goal),
        }

    def layout_arrays(self) -> dict[str, np.ndarray]:
        """The current maze as small arrays (for datasets and plots).

        ``door_xy`` (n_doors, 2), ``door_colour`` (n_doors,), ``key_xy`` (n_doors, 2, 2),
        ``key_colour`` (n_doors, 2) (keys of room i; the matching one has
        ``key_colour == door_colour[i]``), ``goal_xy`` (2,), ``start`` (3,) x, y, dir.
        """
        cfg = self.config
        return {
            "door_xy": np.array(self.door_positions, np.int64).reshape(cfg.n_doors, 2),
            "door_colour": np.array([COLOR_NAMES.index(d.color) for d in self.doors], np.int64),
            "key_xy": np.array([[k[:2] for k in keys] for keys in self.key_positions[:-1]], np.int64).reshape(cfg.n_doors, 2, 2),
            "key_colour": np.array([[k[2] for k in keys] for keys in self.key_positions[:-1]], np.int64).reshape(cfg.n_doors, 2),
            "goal_xy": np.array(self.goal_position, np.int64),
            "start": np.array(self.start, np.int64),
        }


def view_to_obs(images: np.ndarray, show_carried: bool) -> np.ndarray:
    """MiniGrid views (B, x, y, 3), agent at (VIEW // 2, VIEW - 1), to observations (B, 3, y, x); the carried
    object is wiped from the agent's own cell unless ``show_carried``."""
    if not show_carried:
        images = images.copy()
        images[:, VIEW // 2, VIEW - 1] = EMPTY_CODE
    return np.ascontiguousarray(images.transpose(0, 3, 2, 1), dtype=np.uint8)


# =============================================================================
# What a policy reads, and the layout of a maze (its picture: secretlab.envs.keys_doors_picture)
# =============================================================================
#: MiniGrid codes seen in the view: 11 object types, 6 colours, 3 door states.
FEATURE_CODES = (OBS_MAX + 1, 6, 3)
_ONE_HOT_COLUMNS = (np.cumsum((0, *FEATURE_CODES[:-1])) * VIEW * VIEW)[:, None] + np.outer(FEATURE_CODES, np.arange(VIEW * VIEW))


def agent_features(obs: np.ndarray, carrying: np.ndarray | None = None, n_colors: int = 2) -> np.ndarray:
    """What a policy network reads: one-hot view codes (+ the carried key's colour if ``carrying`` is given).

    ``obs`` (B, 3, 7, 7) uint8 env observations -> (B, 49·(11+6+3)) float32 (each channel's block, cell by cell);
    with ``carrying`` (B,) colour index or -1, an "inventory" one-hot of ``n_colors + 1`` entries is appended.
    By default the agent goes without it (DMLab's frames do not show the held key either); then its behaviour after
    a pickup does not depend on which key it holds, so door openings can only be predicted by remembering the
    pickup — the credit SECRET should find.
    """
    obs = np.asarray(obs)
    if obs.ndim != 4 or obs.shape[1:] != (3, VIEW, VIEW):
        raise ValueError(f"obs must have shape (B, 3, {VIEW}, {VIEW}) (env observations), got {obs.shape}")
    codes = obs.reshape(len(obs), 3, VIEW * VIEW)  # a view has 3 channels of VIEW² cells
    B, width = codes.shape[0], n_agent_features(n_colors, carrying is not None)
    if (codes.max(axis=(0, 2), initial=0) >= FEATURE_CODES).any():  # a code past its block would mark another's
        raise ValueError(f"obs must hold view codes below {FEATURE_CODES} per channel, got maxima {codes.max((0, 2))}")
    out = np.zeros((B, width), np.float32)  # a 1 per view cell and channel, in the column of its code
    out.reshape(-1)[(codes + _ONE_HOT_COLUMNS + width * np.arange(B)[:, None, None]).ravel()] = 1
    if carrying is not None:
        out[np.arange(B), width - n_colors + np.asarray(carrying)] = 1
    return out


def n_agent_features(n_colors: int, inventory: bool) -> int:
    """Length of :func:`agent_features`' rows."""
    return VIEW * VIEW * sum(FEATURE_CODES) + (n_colors + 1 if inventory else 0)


def maze_layout(config: KeysDoorsConfig, maze_seed: int) -> dict[str, np.ndarray]:
    """The :meth:`KeysDoorsEnv.layout_arrays` of maze ``maze_seed`` of ``config``'s distribution."""
    env = KeysDoorsEnv(**{**config.env_kwargs(), "maze_seed": int(maze_seed)})
    env.reset()
    return env.layout_arrays()
