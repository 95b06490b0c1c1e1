"""The picture of a KeysDoors maze for figures: walls, doors, keys, goal and start, with an optional heatmap.

Kept beside :mod:`secretlab.envs.keys_doors` (an env draws its own picture) in a module of its own, so the env's
rules stay in one file under the size limit.
"""
from __future__ import annotations

import numpy as np
from minigrid.core.constants import COLOR_NAMES

from secretlab.envs.keys_doors import KeysDoorsConfig

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
