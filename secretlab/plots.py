"""Drawing helpers shared by notebooks and widgets (the env's own ``render`` picture is in the env).

Colours follow the paper's Figure 1: the agent is yellow, triggers red,
prizes pink, walls dark grey.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

# The colours and the env's own picture live with the env (``render``); re-exported for the figures.
from secretlab.envs.triggers import AGENT, FLOOR, PRIZE, TRIGGER, WALL, maze_rgb  # noqa: E402,F401


def draw_maze(ax, size: int, agent=None, triggers=(), prizes=(), values: np.ndarray | None = None,
              cmap: str = "Reds", vmin: float | None = None, vmax: float | None = None,
              path: np.ndarray | None = None, path_values: np.ndarray | None = None,
              title: str | None = None, colorbar_label: str | None = None, annotate_order: bool = True):
    """Draw a maze on a matplotlib axis.

    ``values`` (size, size) colours the floor (a heatmap, NaN = no data);
    ``path`` (L, 2) draws the agent's route, coloured by ``path_values`` (L,) if given.
    Triggers are numbered in activation order of the layout when ``annotate_order``.
    Returns the image artist of ``values`` (or None) for a colorbar.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    ax.set_xlim(-1.5, size + 0.5)
    ax.set_ylim(size + 0.5, -1.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.add_patch(Rectangle((-1.5, -1.5), size + 2, size + 2, color=WALL, zorder=0))
    im = None
    empty = values is not None and not np.isfinite(np.asarray(values, dtype=float)).any()
    if values is None or empty:
        ax.add_patch(Rectangle((-0.5, -0.5), size, size, color=FLOOR, zorder=1))
        if empty:  # an empty colour scale would look like a measurement of zeros
            ax.text((size - 1) / 2, (size - 1) / 2, "no data", ha="center", va="center", fontsize=12,
                    color="0.3", zorder=5)
    else:
        im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=vmax,
                       extent=(-0.5, size - 0.5, size - 0.5, -0.5), zorder=1)
        ax.add_patch(Rectangle((-0.5, -0.5), size, size, fill=False, ec="k", lw=0.5, zorder=1.5))
        if colorbar_label is not None:
            plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=colorbar_label)
    for r in range(size + 1):
        ax.plot([-0.5, size - 0.5], [r - 0.5, r - 0.5], color="0.85", lw=0.5, zorder=1.6)
        ax.plot([r - 0.5, r - 0.5], [-0.5, size - 0.5], color="0.85", lw=0.5, zorder=1.6)
    for i, p in enumerate(np.asarray(triggers).reshape(-1, 2)):
        ax.add_patch(Rectangle((p[1] - 0.4, p[0] - 0.4), 0.8, 0.8, fill=values is None, color=TRIGGER,
                               lw=2.5, zorder=3))
        if annotate_order:
            ax.text(p[1], p[0], f"T{i + 1}", ha="center", va="center", fontsize=7, zorder=4,
                    color="white" if values is None else TRIGGER, weight="bold")
    for p in np.asarray(prizes).reshape(-1, 2):
        ax.add_patch(Rectangle((p[1] - 0.4, p[0] - 0.4), 0.8, 0.8, fill=values is None, color=PRIZE,
                               lw=2.5, zorder=3))
    if path is not None and len(path) > 0:
        path = np.asarray(path)
        jitter = np.linspace(-0.15, 0.15, len(path))[:, None] * 0  # straight segments read better
        xy = path[:, ::-1] + jitter
        if path_values is None:
            ax.plot(xy[:, 0], xy[:, 1], color="0.3", lw=1.2, alpha=0.7, zorder=5)
        else:
            from matplotlib.collections import LineCollection

            segs = np.stack([xy[:-1], xy[1:]], axis=1)
            lc = LineCollection(segs, cmap="viridis", zorder=5, lw=2.5)
            lc.set_array(np.asarray(path_values)[1:])
            ax.add_collection(lc)
    if agent is not None:
        ax.add_patch(Rectangle((agent[1] - 0.35, agent[0] - 0.35), 0.7, 0.7, color=AGENT, zorder=6, ec="k"))
    if title:
        ax.set_title(title, fontsize=9)
    return im


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure atomically as PNG (a rerun never leaves a truncated image)."""
    from secretlab.cache import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    return path


def crop_rgb(crop: np.ndarray) -> np.ndarray:
    """A (3, 3, 3) channel-first crop (wall, trigger, prize) as a (3, 3, 3) RGB float image.

    The centre cell is the agent (always there, so the crop has no agent channel).
    """
    crop = np.asarray(crop)
    img = np.empty(crop.shape[1:] + (3,))
    img[:] = FLOOR
    img[crop[0] == 1] = WALL
    img[crop[1] == 1] = TRIGGER
    img[crop[2] == 1] = PRIZE
    c = crop.shape[1] // 2
    img[c, c] = AGENT
    return img


def draw_layout(ax, layout, index: int, size: int, title: str | None = None, **kwargs):
    """Draw maze ``index`` of a stacked :class:`~secretlab.envs.triggers.Layout`."""
    return draw_maze(ax, size, layout.agent[index], layout.triggers[index], layout.prizes[index],
                     title=title, **kwargs)


def plot_iqm_band(ax, x: np.ndarray, curves: np.ndarray, label: str, color, alpha: float = 0.2,
                  n_boot: int = 2000, seed: int = 0, **style) -> None:
    """One arm's IQM learning curve with its 95% stratified-bootstrap band; ``curves`` (runs, tasks, X).

    The one way every learning-curve figure draws an arm (``style``: extra line
    keywords such as ``ls``).
    """
    from secretlab.stats import iqm_curve

    point, lo, hi = iqm_curve(curves, n_boot, seed=seed)
    ax.plot(x, point, label=label, color=color, **style)
    ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0)
