"""Figures of the keys/doors experiment (drawing only; the maze picture is the env's own
:func:`secretlab.envs.keys_doors_picture.draw_maze`)."""
from __future__ import annotations

from typing import Any

import numpy as np

from secretlab.envs.keys_doors_picture import draw_maze  # noqa: F401  (the figures' maze panel)
from secretlab.plots import plot_iqm_band

from secretlab.experiments.keys_doors import ARM_NAMES as ARM_LABELS

ARM_COLOURS = {"ppo": "tab:grey", "ppo_secret": "tab:red", "ppo_uniform": "tab:blue", "ppo_ideal": "tab:green"}


def plot_attention_offsets(ax, result: dict[str, Any], window: int = 2) -> None:
    """Figure 3 (right): mean attention vs offset from the key pickup, ±window shaded."""
    ax.bar(result["offsets"], result["mean"], color=(0.85, 0.15, 0.15), width=0.8)
    ax.axvspan(-window - 0.5, window + 0.5, color="grey", alpha=0.15, lw=0)
    ax.set_xlabel("attended step − key pickup step")
    ax.set_ylabel("mean attention")
    ax.set_title(f"door openings ({result['n_rows']} correct rows): "
                 f"{result['share_near']:.0%} within ±{window}")


def plot_curves(ax, x: np.ndarray, curves: dict[str, np.ndarray], ylabel: str, n_boot: int = 2000,
                seed: int = 0) -> None:
    """IQM learning curves with 95% stratified-bootstrap bands, one per arm; curves (runs, 1, X)."""
    for arm, c in curves.items():
        plot_iqm_band(ax, x, c, ARM_LABELS.get(arm, arm), ARM_COLOURS.get(arm), alpha=0.2, n_boot=n_boot, seed=seed)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.legend()


def plot_mazes(axes, result) -> None:
    """A source maze (seed 0 of the distribution) and the target maze, side by side."""
    from secretlab.envs.keys_doors import KeysDoorsEnv

    cfg = result.config
    for ax, env_config, name in [(axes[0], cfg.env, "a source maze (seed 0)"), (axes[1], cfg.target_env, "the target maze")]:
        env = KeysDoorsEnv(n_rooms=env_config.n_rooms, room_size=env_config.room_size, maze_seed=env_config.maze_seed)
        env.reset(seed=0)
        draw_maze(ax, env_config, env.layout_arrays(), title=name)


def plot_heatmap_and_potential(axes, result) -> None:
    """Figure 8 (door-0 attention per cell on the target maze) beside φ with no key held and no door open."""
    from secretlab.experiments.keys_doors import potential_grid

    target_env, layout = result.config.target_env, result.layout
    heat, n_rows = result.heatmap()
    draw_maze(axes[0], target_env, layout, values=heat, title=f"Fig. 8: attention per cell, door 0 ({n_rows} rows)",
              colorbar_label="mean attention")
    draw_maze(axes[1], target_env, layout, values=potential_grid(result.phi, target_env), cmap="viridis",
              title="φ (no key held, no door open)", colorbar_label="φ")


def plot_ppo(axes, result) -> None:
    """Figure 4 (right): success and env return of PPO with and without SECRET shaping on the target maze."""
    grid = result.config.grid
    plot_curves(axes[0], grid, result.curves(), "success rate (last 20 episodes)")
    plot_curves(axes[1], grid, result.curves("returns"), "env return (last 20 episodes)")
