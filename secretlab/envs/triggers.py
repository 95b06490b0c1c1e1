"""Triggers: the paper's interpretable gridworld (SECRET §3, docs/design.md §2).

Description
    The agent moves on an N×N grid of walkable cells surrounded by an implicit
    wall. Every prize it collects gives +1 if *all* triggers have already been
    activated and -1 otherwise; triggers give nothing when activated. So every
    positive reward is caused by a known set of earlier steps (the trigger
    activations): credit assignment can be scored exactly.

Action space
    ``Discrete(4)``: 0 up (row-1), 1 right (col+1), 2 down (row+1), 3 left (col-1).
    A move off the grid leaves the agent in place but still counts as a step.
    With ``inverted=True`` up<->down and left<->right are swapped.

Observation
    ``Box(0, 1, (3, 3, 3), uint8)``: the 3×3 crop centred on the agent,
    channel-first, channels ``[wall-or-outside, trigger, prize]``. The agent is
    always the centre cell, so it has no channel. This crop is what breaks the
    Markov property and makes the reward model look into the past (paper §2.1).

Rewards
    Entering a trigger cell activates it and removes it (reward 0). Entering a
    prize cell removes it and gives +1 if every trigger is active, else -1.
    The reward belongs to the step whose action entered the cell.

Termination
    Terminated when no prize is left; truncated after ``max_steps`` steps
    (default :func:`default_max_steps`, 200 for 8×8, 450 for 12×12).

Info (reset and step)
    ``agent`` (row, col); ``triggers`` / ``prizes``: cells still present;
    ``activated``: True on the step whose action activated a trigger;
    ``state``: the true-state key (an ``int``, see :func:`encode_state`);
    ``n_triggers_left``; ``reward_sign``.

Registered configurations
    ``secretlab/Triggers-v0`` with keyword arguments ``size=8, n_triggers=3,
    n_prizes=1, inverted=False, max_steps=None``. ``reset(seed=s)`` draws the
    maze from ``s`` exactly as the batched engine
    (:class:`secretlab.envs.batched.BatchedTriggers`) does, so the two front
    ends are interchangeable; ``options={"layout": Layout}`` pins a maze.

The rules live in this module (:class:`TriggersConfig`, :func:`sample_layout`,
:func:`encode_state`, :func:`crop`) and both front ends call them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Row/column deltas for actions 0 up, 1 right, 2 down, 3 left.
ACTION_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)
# Inverted dynamics swap up<->down and left<->right.
INVERTED_ACTIONS = np.array([2, 3, 0, 1], dtype=np.int64)
N_ACTIONS = 4
ACTION_NAMES = ("up", "right", "down", "left")
CROP = 3
CROP_CHANNELS = ("wall", "trigger", "prize")
GRID_CHANNELS = ("agent", "trigger", "prize")


def default_max_steps(size: int) -> int:
    """Default episode cap: 200 steps on 8×8, scaled with the number of cells.

    Chosen so that a uniform random policy earns a +1 in a useful share of
    episodes in every paper scenario (27% for 8×8 1T/1P, about 6.5% for the
    hard 8×8 3T/1P; notebook 01 measures the shares), while keeping the
    attention's T² cost bounded. 12×12 gets 450.
    """
    return max(20, (25 * size * size) // 8)


@dataclass(frozen=True)
class TriggersConfig:
    """One distribution of Triggers mazes (everything but the layout)."""

    size: int = 8
    """Walkable cells per side (the maze is size×size inside an implicit wall)."""
    n_triggers: int = 3
    """Triggers to activate before prizes pay +1 (0 allowed)."""
    n_prizes: int = 1
    """Prizes (at least 1); the episode ends when all are collected."""
    inverted: bool = False
    """Swap up<->down and left<->right (the out-of-domain dynamics of Fig. 6)."""
    max_steps: int | None = None
    """Truncation horizon; ``None`` means :func:`default_max_steps` (size)."""

    def __post_init__(self) -> None:
        _check_int("size", self.size, minimum=3)
        _check_int("n_triggers", self.n_triggers, minimum=0)
        _check_int("n_prizes", self.n_prizes, minimum=1)
        if not isinstance(self.inverted, (bool, np.bool_)):
            raise ValueError(f"inverted must be True or False, got {self.inverted!r}")
        cells = self.size * self.size
        needed = 1 + self.n_triggers + self.n_prizes
        if needed > cells:
            raise ValueError(
                f"n_triggers + n_prizes + 1 (the agent) = {needed} objects do not fit on "
                f"size={self.size} ({cells} cells); allowed: n_triggers + n_prizes <= {cells - 1}"
            )
        if self.n_triggers + self.n_prizes > 30:
            raise ValueError(
                f"n_triggers + n_prizes must be <= 30 (the true-state key is a bit mask), "
                f"got {self.n_triggers + self.n_prizes}"
            )
        if self.max_steps is not None:
            _check_int("max_steps", self.max_steps, minimum=1)

    @property
    def horizon(self) -> int:
        """The effective ``max_steps``."""
        return default_max_steps(self.size) if self.max_steps is None else int(self.max_steps)

    @property
    def n_states(self) -> int:
        """Number of true-state keys within one maze: cells × 2^(triggers+prizes)."""
        return self.size * self.size * (1 << (self.n_triggers + self.n_prizes))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["max_steps"] = self.horizon
        return d

    @property
    def name(self) -> str:
        """Short label, e.g. ``8x8 3T/1P`` (``inv`` marks inverted dynamics)."""
        return f"{self.size}x{self.size} {self.n_triggers}T/{self.n_prizes}P" + (" inv" if self.inverted else "")

    @classmethod
    def from_scenario(cls, scenario: Any) -> "TriggersConfig":
        """The one reading of a profile's scenario dict: exactly ``size``, ``n_triggers``, ``n_prizes``."""
        allowed = {"size", "n_triggers", "n_prizes"}
        if not isinstance(scenario, dict) or set(scenario) != allowed:
            raise ValueError(f"a scenario must be a dict with exactly the keys {sorted(allowed)}, got {scenario!r}")
        return cls(**scenario)  # it rejects non-integers (int() here made a size of 8.5 an 8)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")


class Layout(NamedTuple):
    """One maze: where the agent starts and where the objects lie, as (row, col).

    ``agent``: (2,) ; ``triggers``: (n_triggers, 2) ; ``prizes``: (n_prizes, 2).
    """

    agent: np.ndarray
    triggers: np.ndarray
    prizes: np.ndarray


def sample_layout(config: TriggersConfig, seed: int) -> Layout:
    """Draw the maze for ``seed`` (an integer >= 0): agent, triggers and prizes on distinct uniform cells."""
    _check_int("maze seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    n_obj = 1 + config.n_triggers + config.n_prizes
    cells = rng.choice(config.size * config.size, size=n_obj, replace=False)
    rc = np.stack(np.divmod(cells, config.size), axis=-1).astype(np.int64)
    return Layout(rc[0], rc[1 : 1 + config.n_triggers], rc[1 + config.n_triggers :])


def check_layout(config: TriggersConfig, layout: Any) -> Layout:
    """``layout`` as a :class:`Layout` of int64 arrays; ValueError unless it is a maze of ``config``."""
    try:
        parts = Layout(*(np.asarray(x) for x in layout))
    except TypeError:
        raise ValueError(f"layout must be a Layout (agent, triggers, prizes), got {layout!r}") from None
    shapes = {"agent": (2,), "triggers": (config.n_triggers, 2), "prizes": (config.n_prizes, 2)}
    for name, part in zip(Layout._fields, parts):
        if part.size == 0 and shapes[name][0] == 0:  # no triggers: [] is as good as a (0, 2) array
            continue
        if part.shape != shapes[name] or not np.issubdtype(part.dtype, np.integer) \
                or part.size and (part.min() < 0 or part.max() >= config.size):
            raise ValueError(f"layout.{name} must be integer cells of shape {shapes[name]} in [0, {config.size}) "
                             f"for {config}, got {part.tolist()}")
    return Layout(*(part.astype(np.int64).reshape(shapes[name]) for name, part in zip(Layout._fields, parts)))


def sample_layouts(config: TriggersConfig, seeds: np.ndarray) -> Layout:
    """:func:`sample_layout` for many seeds, stacked on a leading batch axis (B, ...)."""
    seeds = np.asarray(seeds)
    if seeds.size and not np.issubdtype(seeds.dtype, np.integer):  # int() below would make 1.7 maze 1
        raise ValueError(f"maze seeds must be integers >= 0, got {seeds.dtype} values {seeds.ravel()[:5].tolist()}")
    layouts = [sample_layout(config, int(s)) for s in seeds.ravel()]
    return Layout(
        np.stack([l.agent for l in layouts]),
        np.stack([l.triggers for l in layouts]).reshape(len(layouts), config.n_triggers, 2),
        np.stack([l.prizes for l in layouts]),
    )


def encode_state(
    agent: np.ndarray, triggers_alive: np.ndarray, prizes_alive: np.ndarray, size: int
) -> np.ndarray:
    """True-state key within one maze: agent cell and the remaining objects.

    ``key = (row*size + col) * 2^(nT+nP) + bits``, bit ``i`` set while trigger ``i``
    is present and bit ``nT+j`` while prize ``j`` is present. Shapes: ``agent``
    (..., 2), ``triggers_alive`` (..., nT), ``prizes_alive`` (..., nP) -> (...) int64.
    Keys lie in ``[0, TriggersConfig.n_states)``, so tables can be dense arrays.
    """
    alive = np.concatenate([triggers_alive, prizes_alive], axis=-1).astype(np.int64)
    n_bits = alive.shape[-1]
    bits = (alive << np.arange(n_bits, dtype=np.int64)).sum(axis=-1)
    cell = agent[..., 0].astype(np.int64) * size + agent[..., 1]
    return cell * (1 << n_bits) + bits


# Colours of the paper's Figure 1: the agent yellow, triggers red, prizes pink, walls dark grey.
AGENT = (0.98, 0.82, 0.10)
TRIGGER = (0.85, 0.15, 0.15)
PRIZE = (0.96, 0.45, 0.75)
WALL = (0.25, 0.25, 0.25)
FLOOR = (0.97, 0.97, 0.97)


def maze_rgb(size: int, agent: Sequence[int] | None, triggers: np.ndarray, prizes: np.ndarray,
             cell_px: int = 16) -> np.ndarray:
    """An (H, W, 3) uint8 picture of a maze with its wall border (for ``render``)."""
    grid = np.empty((size + 2, size + 2, 3))
    grid[:] = WALL
    grid[1:-1, 1:-1] = FLOOR
    for pos, colour in [(p, TRIGGER) for p in np.asarray(triggers).reshape(-1, 2)] + \
                       [(p, PRIZE) for p in np.asarray(prizes).reshape(-1, 2)]:
        grid[pos[0] + 1, pos[1] + 1] = colour
    if agent is not None:
        grid[agent[0] + 1, agent[1] + 1] = AGENT
    img = (grid * 255).astype(np.uint8)
    return np.kron(img, np.ones((cell_px, cell_px, 1), dtype=np.uint8))


def decode_state(key: int, config: TriggersConfig) -> dict[str, Any]:
    """Inverse of :func:`encode_state` for one key (for display and tests)."""
    n_bits = config.n_triggers + config.n_prizes
    cell, bits = divmod(int(key), 1 << n_bits)
    alive = [(bits >> i) & 1 == 1 for i in range(n_bits)]
    return {
        "agent": divmod(cell, config.size),
        "triggers_alive": tuple(alive[: config.n_triggers]),
        "prizes_alive": tuple(alive[config.n_triggers :]),
    }


def crop(
    agent: np.ndarray,
    triggers: np.ndarray,
    triggers_alive: np.ndarray,
    prizes: np.ndarray,
    prizes_alive: np.ndarray,
    size: int,
) -> np.ndarray:
    """The 3×3 agent-centred crop for a batch: (B, 3, 3, 3) uint8, channel-first.

    Shapes: ``agent`` (B, 2), ``triggers`` (B, nT, 2), ``prizes`` (B, nP, 2),
    ``*_alive`` boolean masks (B, nT) / (B, nP). Computed from object positions
    (not a dense grid) so it costs O(B·(nT+nP)) whatever the maze size.
    """
    offsets = np.arange(CROP) - CROP // 2
    rows = agent[:, 0, None] + offsets  # (B, 3)
    cols = agent[:, 1, None] + offsets
    out = np.zeros((agent.shape[0], 3, CROP, CROP), dtype=np.uint8)
    outside_r = (rows < 0) | (rows >= size)
    outside_c = (cols < 0) | (cols >= size)
    out[:, 0] = (outside_r[:, :, None] | outside_c[:, None, :]).astype(np.uint8)
    for channel, pos, alive in ((1, triggers, triggers_alive), (2, prizes, prizes_alive)):
        if pos.shape[1] == 0:
            continue
        dr = pos[..., 0] - agent[:, None, 0] + CROP // 2  # (B, n)
        dc = pos[..., 1] - agent[:, None, 1] + CROP // 2
        inside = alive & (dr >= 0) & (dr < CROP) & (dc >= 0) & (dc < CROP)
        b, k = np.nonzero(inside)
        out[b, channel, dr[b, k], dc[b, k]] = 1
    return out


def full_grid(
    agent: np.ndarray,
    triggers: np.ndarray,
    triggers_alive: np.ndarray,
    prizes: np.ndarray,
    prizes_alive: np.ndarray,
    size: int,
) -> np.ndarray:
    """The whole maze for DQN agents: (B, 3, size, size) uint8, channels agent/trigger/prize."""
    batch = agent.shape[0]
    out = np.zeros((batch, 3, size, size), dtype=np.uint8)
    out[np.arange(batch), 0, agent[:, 0], agent[:, 1]] = 1
    _draw_objects(out, triggers, triggers_alive, prizes, prizes_alive, np.zeros((batch, 2), np.int64))
    return out


def _draw_objects(out: np.ndarray, triggers: np.ndarray, triggers_alive: np.ndarray, prizes: np.ndarray,
                  prizes_alive: np.ndarray, offset: np.ndarray) -> None:
    """Set channel 1 on the live triggers and channel 2 on the live prizes, each cell shifted by ``offset`` (B, 2)."""
    for channel, pos, alive in ((1, triggers, triggers_alive), (2, prizes, prizes_alive)):
        b, k = np.nonzero(alive)
        out[b, channel, pos[b, k, 0] + offset[b, 0], pos[b, k, 1] + offset[b, 1]] = 1


def egocentric_grid(
    agent: np.ndarray,
    triggers: np.ndarray,
    triggers_alive: np.ndarray,
    prizes: np.ndarray,
    prizes_alive: np.ndarray,
    size: int,
) -> np.ndarray:
    """The whole maze re-centred on the agent: (B, 3, 2·size − 1, 2·size − 1) uint8.

    Channels: inside the grid, trigger, prize. The agent is always the centre cell
    (size − 1, size − 1), so it needs no channel, and "the trigger is two cells up" is the
    same input pattern wherever the agent stands (an extension for DQN: the full grid of
    :func:`full_grid` is the paper's input).
    """
    batch, side = agent.shape[0], 2 * size - 1
    out = np.zeros((batch, 3, side, side), dtype=np.uint8)
    offset = size - 1 - agent  # (B, 2): grid cell (r, c) lands on (r + offset_r, c + offset_c)
    rows = offset[:, 0, None] + np.arange(size)  # (B, size)
    cols = offset[:, 1, None] + np.arange(size)
    out[np.arange(batch)[:, None, None], 0, rows[:, :, None], cols[:, None, :]] = 1
    _draw_objects(out, triggers, triggers_alive, prizes, prizes_alive, offset)
    return out


#: Every way to draw what an agent observes, by name (the batched engine's ``obs_mode`` and the env's ``full_grid``).
VIEWS = {"crop": crop, "grid": full_grid, "egocentric": egocentric_grid}


def check_action(action: Any) -> int:
    """Validate one action; raise a ValueError naming the allowed values."""
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action.item()
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) or not 0 <= action < N_ACTIONS:
        raise ValueError(f"action must be an integer in {{0, 1, 2, 3}} (up, right, down, left), got {action!r}")
    return int(action)


def move(agent: np.ndarray, actions: np.ndarray, size: int, inverted: bool) -> np.ndarray:
    """Apply actions to agent cells (B, 2) -> (B, 2); moves off the grid stay put."""
    if inverted:
        actions = INVERTED_ACTIONS[actions]
    return np.clip(agent + ACTION_DELTAS[actions], 0, size - 1)


class TriggersEnv(gym.Env):
    """Gymnasium front end of Triggers (one maze at a time); see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        size: int = 8,
        n_triggers: int = 3,
        n_prizes: int = 1,
        inverted: bool = False,
        max_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.config = TriggersConfig(size, n_triggers, n_prizes, inverted, max_steps)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 1, shape=(3, CROP, CROP), dtype=np.uint8)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.layout: Layout | None = None

    # ------------------------------------------------------------------ rules
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            _check_int("seed", seed, minimum=0)
        unknown = sorted(set(options or {}) - {"layout"})
        if unknown:  # e.g. options={"maze_seed": 3} would otherwise be ignored silently
            raise ValueError(f"options may only hold 'layout' (a Layout), got unknown key(s) {unknown}; "
                             "pass the maze seed as reset(seed=...)")
        super().reset(seed=seed)
        if options and "layout" in options:
            layout = check_layout(self.config, options["layout"])
        else:
            # The maze comes from the seed when one is given; otherwise from the
            # env's own generator, so successive resets draw new mazes.
            maze_seed = seed if seed is not None else int(self.np_random.integers(2**63 - 1))
            layout = sample_layout(self.config, maze_seed)
        self.layout = Layout(*(np.asarray(x, dtype=np.int64).copy() for x in layout))
        self._agent = self.layout.agent.copy()
        self._triggers_alive = np.ones(self.config.n_triggers, dtype=bool)
        self._prizes_alive = np.ones(self.config.n_prizes, dtype=bool)
        self._t = 0
        return self._obs(), self._info(activated=False, reward=0.0)

    def step(self, action):
        if self.layout is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action)
        cfg = self.config
        self._agent = move(self._agent[None], np.array([action]), cfg.size, cfg.inverted)[0]
        on_trigger = self._triggers_alive & (self.layout.triggers == self._agent).all(-1)
        activated = bool(on_trigger.any())
        self._triggers_alive &= ~on_trigger
        on_prize = self._prizes_alive & (self.layout.prizes == self._agent).all(-1)
        reward = 0.0
        if on_prize.any():
            reward = 1.0 if not self._triggers_alive.any() else -1.0
            self._prizes_alive &= ~on_prize
        self._t += 1
        terminated = not self._prizes_alive.any()
        truncated = (not terminated) and self._t >= cfg.horizon
        return self._obs(), reward, terminated, truncated, self._info(activated, reward)

    # --------------------------------------------------------------- plumbing
    def _obs(self) -> np.ndarray:
        l = self.layout
        return crop(
            self._agent[None], l.triggers[None], self._triggers_alive[None],
            l.prizes[None], self._prizes_alive[None], self.config.size,
        )[0]

    @property
    def state_key(self) -> int:
        return int(encode_state(self._agent, self._triggers_alive, self._prizes_alive, self.config.size))

    def full_grid(self, view: str = "grid") -> np.ndarray:
        """The whole maze as (3, size, size) uint8 (channels agent, trigger, prize), or with ``view="egocentric"``
        re-centred on the agent, (3, 2·size − 1, 2·size − 1) (:func:`egocentric_grid`)."""
        l = self.layout
        return VIEWS[view](
            self._agent[None], l.triggers[None], self._triggers_alive[None],
            l.prizes[None], self._prizes_alive[None], self.config.size,
        )[0]

    def _info(self, activated: bool, reward: float) -> dict[str, Any]:
        return {
            "agent": (int(self._agent[0]), int(self._agent[1])),
            "triggers": [tuple(map(int, p)) for p in self.layout.triggers[self._triggers_alive]],
            "prizes": [tuple(map(int, p)) for p in self.layout.prizes[self._prizes_alive]],
            "activated": bool(activated),
            "state": self.state_key,
            "n_triggers_left": int(self._triggers_alive.sum()),
            "reward_sign": int(np.sign(reward)),
        }

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return maze_rgb(self.config.size, self._agent, self.layout.triggers[self._triggers_alive],
                        self.layout.prizes[self._prizes_alive])
