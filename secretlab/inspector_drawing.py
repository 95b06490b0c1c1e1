"""Drawing the credit inspector: one matplotlib figure per view, and its PNG (the static twin)."""
from __future__ import annotations

import io

import numpy as np

from secretlab.inspector_data import InspectorState, MazeData, POTENTIAL_VIEWS, inspector_state, potential_grid


# ====================================================================== drawing
def _with_floor(name: str):
    """A colormap whose NaN ("bad") cells show the floor colour instead of the wall behind."""
    import matplotlib

    from secretlab.plots import FLOOR

    return matplotlib.colormaps[name].with_extremes(bad=FLOOR)


def _sign(s: int) -> str:
    return {1: "+1", 0: "0", -1: "−1"}[int(s)]


def _fmt(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.2f}"


def attention_ylim(attention: np.ndarray, threshold: float) -> float:
    """Top of the attention strip's y axis: it follows the row so that rows of ~0.02 stay
    readable, and always shows the threshold line: ``max(row max × 1.15, threshold × 1.1)``."""
    row = np.asarray(attention, dtype=np.float64)
    peak = float(np.nanmax(row)) if row.size and np.isfinite(row).any() else 0.0
    return max(peak * 1.15, float(threshold) * 1.1)


#: The maze panel's legend entries, in order (see :func:`maze_legend_handles`).
MAZE_LEGEND = ("agent (at step t)", "start", "trigger", "prize")


def maze_legend_handles() -> list:
    """Proxy artists drawn like ``secretlab.plots.draw_maze`` draws objects on a heatmap
    (agent: filled square, triggers and prizes: outlined squares) plus the inspector's
    start marker (open circle); labels :data:`MAZE_LEGEND`."""
    from matplotlib.lines import Line2D

    from secretlab.plots import AGENT, PRIZE, TRIGGER

    square = dict(marker="s", ls="none", ms=9)
    return [
        Line2D([], [], mfc=AGENT, mec="k", label=MAZE_LEGEND[0], **square),
        Line2D([], [], marker="o", ls="none", mfc="none", mec="k", ms=9, label=MAZE_LEGEND[1]),
        Line2D([], [], mfc="none", mec=TRIGGER, mew=2.0, label=MAZE_LEGEND[2], **square),
        Line2D([], [], mfc="none", mec=PRIZE, mew=2.0, label=MAZE_LEGEND[3], **square),
    ]


def draw_inspector(state: InspectorState, fig=None):
    """Draw the three views of ``state`` on a matplotlib ``Figure`` (created if None, no pyplot)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from secretlab.plots import TRIGGER, draw_maze

    fig = fig if fig is not None else Figure(figsize=(10, 6.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[3.0, 1.5], hspace=0.35, wspace=0.15)
    ax_maze, ax_pot = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_att = fig.add_subplot(grid[1, :])

    # 1. Path and per-cell credit of the chosen prediction.
    seen = state.path[: state.step + 2]
    credit_max = max(float(np.nanmax(state.cell_credit)) if np.isfinite(state.cell_credit).any() else 0.0, 1e-6)
    im = draw_maze(ax_maze, state.size, agent=seen[-1], triggers=state.triggers, prizes=state.prizes,
                   values=state.cell_credit, cmap=_with_floor("Reds"), vmin=0.0, vmax=max(credit_max, state.threshold),
                   path=seen, title=f"credit from the prediction at step {state.step} (path up to it)")
    fig.colorbar(im, ax=ax_maze, fraction=0.046, pad=0.03, label="attention received",
                 ticks=MaxNLocator(4))
    ax_maze.plot(state.agent_start[1], state.agent_start[0], marker="o", mfc="none", mec="k", ms=9, zorder=7)
    # Below the maze, in the gap above the strip (it never hides a cell).
    ax_maze.legend(handles=maze_legend_handles(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
                   fontsize=7, frameon=False, handletextpad=0.3, columnspacing=1.0, borderaxespad=0.2)

    # 2. Potential of the maze.
    limit = float(np.abs(state.potential_grid).max())
    empty = limit < 1e-9  # no correctly predicted reward in D: φ̂ is 0 everywhere
    im = draw_maze(ax_pot, state.size, triggers=state.triggers, prizes=state.prizes,
                   values=state.potential_grid, cmap="RdBu_r", vmin=-(limit or 1.0), vmax=limit or 1.0,
                   title=f"potential φ̂ ({POTENTIAL_VIEWS[state.potential_view]})"
                         + ("\nφ̂ = 0 everywhere: no correct reward prediction in D" if empty else ""))
    fig.colorbar(im, ax=ax_pot, fraction=0.046, pad=0.03, label="φ̂", ticks=MaxNLocator(5))

    # 3. The attention row as a bar strip.
    # Two filled step plots (not one Rectangle per bar: ~10x faster for 200 steps).
    edges = np.arange(state.length + 1) - 0.5
    credited = state.attention > state.threshold
    ax_att.stairs(np.where(credited, 0.0, state.attention), edges, fill=True, color="tab:blue")
    ax_att.stairs(np.where(credited, state.attention, 0.0), edges, fill=True, color="tab:red")
    for s in state.trigger_steps:
        ax_att.axvline(s, color=TRIGGER, ls="--", lw=1.2, zorder=3)
    # ▼ at the top edge whatever the y scale (x in data, y in axes coordinates).
    ax_att.plot(state.trigger_steps, np.full(len(state.trigger_steps), 1.0), "v", color=TRIGGER, ms=7,
                clip_on=False, zorder=4, transform=ax_att.get_xaxis_transform())
    ax_att.axhline(state.threshold, color="0.4", ls=":", lw=1)
    ax_att.axvline(state.step, color="k", lw=1.5)
    ax_att.set_xlim(-0.5, max(state.length, 1) - 0.5)
    ax_att.set_ylim(0, attention_ylim(state.attention, state.threshold))  # follows the row, not [0, 1]
    ax_att.yaxis.set_major_locator(MaxNLocator(3))
    ax_att.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    # One x-label as the key instead of a legend: text is most of the drawing time.
    ax_att.set_xlabel("step i attended · blue α(i←t), red α > threshold (dotted), "
                      "▼ dashed: trigger activated, black: step t", fontsize=8)
    ax_att.set_ylabel("α(i ← t)")
    verdict = "correct" if state.correct else "wrong"
    ax_att.set_title(f"t = {state.step}: true sign {_sign(state.true_sign)}, predicted {_sign(state.predicted_sign)} "
                     f"({verdict}); this row: precision {_fmt(state.row_precision)}, recall {_fmt(state.row_recall)}",
                     fontsize=9)

    fig.suptitle(f"{state.scenario} · held-out maze {state.maze_index} · trajectory {state.trajectory} · "
                 f"maze precision {_fmt(state.maze_precision)} / recall {_fmt(state.maze_recall)} "
                 f"({state.maze_rows} correct +1 rows, α > {state.threshold:.2f})", fontsize=10)
    return fig


def figure_png(fig, dpi: int = 80) -> bytes:
    """PNG bytes of a ``Figure`` (Agg canvas, no pyplot state involved).

    Draws once and encodes the RGBA buffer with light zlib compression: ``savefig``
    would be ~2x slower here, and the image only travels over localhost.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1) \
        .convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def render_inspector_png(data: MazeData, trajectory: int, step: int | None = None, threshold: float = 0.2,
                         potential_view: str = "strongest", dpi: int = 80) -> bytes:
    """The inspector's picture for any (maze, trajectory, step) as PNG bytes (the static twin)."""
    return figure_png(draw_inspector(inspector_state(data, trajectory, step, threshold, potential_view)), dpi)
