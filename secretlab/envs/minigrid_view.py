"""MiniGrid's egocentric partial view, computed from an encoded grid with numpy.

:meth:`minigrid.minigrid_env.MiniGridEnv.gen_obs` builds the agent's view by
copying grid objects one by one (``Grid.slice``), rotating the copy
``agent_dir + 1`` times (``Grid.rotate_left``), propagating visibility
(``Grid.process_vis``) and encoding the result: ~80% of a keys/doors step.
:func:`egocentric_view` gives the same ``(view, view, 3)`` image from the grid's
encoding (``Grid.encode()``, kept by the env and refreshed when the grid changes)
by fancy indexing, with the visibility sweep on Python lists; :func:`egocentric_views` does the same for a
batch of envs at once (the sweep one view row at a time by table look-up, for all of them), for collectors that
step many envs in lockstep. ``tests/test_minigrid_view.py`` checks it against ``gen_obs`` on every step of many
random episodes. It covers what MiniGrid draws with ``see_through_walls=False``:
walls and closed or locked doors hide what lies behind them, every other object
is seen through.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

WALL_CODE = (OBJECT_TO_IDX["wall"], COLOR_TO_IDX["grey"], 0)
"""What ``Grid.slice`` puts outside the grid (a grey wall)."""
EMPTY_CODE = (OBJECT_TO_IDX["empty"], 0, 0)
_WALL, _DOOR = OBJECT_TO_IDX["wall"], OBJECT_TO_IDX["door"]
_DOOR_OPEN = 0  # MiniGrid's door states: 0 open, 1 closed, 2 locked


def padded_encoding(encoding: np.ndarray, view: int) -> np.ndarray:
    """``encoding`` (width, height, 3) surrounded by ``view`` cells of wall on every side."""
    width, height, _ = encoding.shape
    out = np.empty((width + 2 * view, height + 2 * view, 3), np.uint8)
    out[:] = WALL_CODE
    out[view:view + width, view:view + height] = encoding
    return out


@lru_cache(maxsize=None)
def _view_offsets(direction: int, view: int) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) (view, view) int arrays: view cell [i, j] shows grid cell agent + (dx, dy).

    ``MiniGridEnv.get_view_exts`` then ``rotate_left`` ``direction + 1`` times, where one
    ``rotate_left`` maps cell [i, j] to [j, width - 1 - i], i.e. ``a.T[:, ::-1]``.
    """
    half = view // 2
    top = {0: (0, -half), 1: (-half, 0), 2: (-view + 1, -half), 3: (-half, -view + 1)}[direction]
    dx, dy = np.meshgrid(top[0] + np.arange(view), top[1] + np.arange(view), indexing="ij")
    for _ in range(direction + 1):
        dx, dy = dx.T[:, ::-1], dy.T[:, ::-1]
    return np.ascontiguousarray(dx), np.ascontiguousarray(dy)


@lru_cache(maxsize=None)
def _all_offsets(view: int) -> np.ndarray:
    """(4, 2, view, view): :func:`_view_offsets` of every direction, stacked once (the batched view indexes it)."""
    return np.stack([np.stack(_view_offsets(d, view)) for d in range(4)])


def visibility(opaque: np.ndarray, agent: tuple[int, int]) -> np.ndarray:
    """``Grid.process_vis``: (view, view) bool mask of the cells seen from ``agent`` = (i, j)."""
    width, height = opaque.shape
    blocked = opaque.tolist()
    mask = [[False] * height for _ in range(width)]
    mask[agent[0]][agent[1]] = True
    for j in range(height - 1, -1, -1):
        for i in range(width - 1):
            if mask[i][j] and not blocked[i][j]:
                mask[i + 1][j] = True
                if j > 0:
                    mask[i + 1][j - 1] = mask[i][j - 1] = True
        for i in range(width - 1, 0, -1):
            if mask[i][j] and not blocked[i][j]:
                mask[i - 1][j] = True
                if j > 0:
                    mask[i - 1][j - 1] = mask[i][j - 1] = True
    return np.array(mask, dtype=bool)


def egocentric_view(padded: np.ndarray, agent_pos: tuple[int, int], agent_dir: int, view: int,
                    carried_code: tuple[int, int, int] | None) -> np.ndarray:
    """``MiniGridEnv.gen_obs()["image"]``: the (view, view, 3) uint8 view, indexed [i, j] as MiniGrid's.

    ``padded``: :func:`padded_encoding` of the current grid; ``carried_code``: the encoding of
    the carried object (drawn on the agent's cell, as MiniGrid does), None for empty hands.
    """
    dx, dy = _view_offsets(int(agent_dir), int(view))
    cells = padded[dx + (int(agent_pos[0]) + view), dy + (int(agent_pos[1]) + view)]
    kind = cells[..., 0]
    opaque = (kind == _WALL) | ((kind == _DOOR) & (cells[..., 2] != _DOOR_OPEN))
    agent = (view // 2, view - 1)
    image = np.where(visibility(opaque, agent)[..., None], cells, np.uint8(0))
    image[agent] = EMPTY_CODE if carried_code is None else carried_code
    return image


def egocentric_views(padded: np.ndarray, agent_pos: np.ndarray, agent_dir: np.ndarray, view: int,
                     carried: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """:func:`egocentric_view` of B envs at once: (B, view, view, 3) uint8.

    ``padded`` (B, W, H, 3): each env's :func:`padded_encoding` (same maze shape); ``agent_pos`` (B, 2);
    ``agent_dir`` (B,); ``carried`` (B, 3) the carried object's code, a row of -1 for empty hands. With ``rows``
    (n,), the views of ``padded[rows]`` without copying those grids out (the other arguments have n rows).
    """
    offsets = _all_offsets(int(view))
    n_grids, width, height, _ = padded.shape
    batch = (np.arange(n_grids) if rows is None else np.asarray(rows))[:, None, None]
    # Each cell's flat index; the grids are read as one array of 3-byte cells, so one take copies every cell's code.
    cell = ((batch * width + offsets[agent_dir, 0] + (agent_pos[:, 0, None, None] + view)) * height
            + offsets[agent_dir, 1] + (agent_pos[:, 1, None, None] + view))
    codes = np.ascontiguousarray(padded, np.uint8).reshape(-1, 3).view("V3")[:, 0]
    cells = np.take(codes, cell).view(np.uint8).reshape(*cell.shape, 3)
    kind = cells[..., 0]
    opaque = (kind == _WALL) | ((kind == _DOOR) & (cells[..., 2] != _DOOR_OPEN))
    agent = (view // 2, view - 1)
    image = cells * _visibility_batch(opaque, agent)[..., None]  # unseen cells are (0, 0, 0)
    empty = carried[:, 0] < 0
    image[:, agent[0], agent[1]] = np.where(empty[:, None], np.asarray(EMPTY_CODE, np.uint8), carried.astype(np.uint8))
    return image


def _visibility_batch(opaque: np.ndarray, agent: tuple[int, int]) -> np.ndarray:
    """:func:`visibility` for (B, view, view) ``opaque`` masks: the same sweep, one row at a time by table look-up.

    The sweep of row j reads only that row's opacity and the cells of it already seen (lit by row j + 1, or the
    agent's own cell), and lights cells of row j and of row j - 1 only; :func:`_row_sweep` tabulates it.
    """
    n, width, height = opaque.shape
    seen_bits, lit_bits = _row_sweep(width)
    bits = 1 << np.arange(width)
    see = np.tensordot(~opaque, bits, axes=([1], [0]))  # (B, height): bit i set where cell (i, j) is see-through
    rows = np.empty((n, height), np.int64)
    lit = np.zeros(n, np.int64)
    for j in range(height - 1, -1, -1):
        if j == agent[1]:
            lit |= 1 << agent[0]
        code = lit << width | see[:, j]
        rows[:, j], lit = seen_bits[code], lit_bits[code]
    return (rows[:, None, :] >> np.arange(width)[:, None] & 1).astype(bool)


@lru_cache(maxsize=None)
def _row_sweep(width: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`visibility`'s sweep of one row as two tables indexed by ``lit << width | see`` (bit i: cell i lit
    before the row's sweep, cell i see-through): the row's cells seen after it, and the cells it lights in the
    next row (ignored on the last row, as the sweep ignores them)."""
    codes = np.arange(1 << 2 * width)[:, None]
    bits = 1 << np.arange(width)
    mask, see = (codes >> width & bits) > 0, (codes & bits) > 0
    below = np.zeros_like(mask)
    for i in range(width - 1):
        spread = mask[:, i] & see[:, i]
        mask[:, i + 1] |= spread
        below[:, i + 1] |= spread
        below[:, i] |= spread
    for i in range(width - 1, 0, -1):
        spread = mask[:, i] & see[:, i]
        mask[:, i - 1] |= spread
        below[:, i - 1] |= spread
        below[:, i] |= spread
    return mask @ bits, below @ bits
