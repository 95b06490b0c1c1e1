"""Notebook 08's readings of the credit inspector: per-maze precision/recall, pooled per scenario, and the JSON.

The inspector itself (data per maze, drawing, widget) is :mod:`secretlab.widgets`; this module only
aggregates what it computed, so the notebook's last cells are a few calls.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from secretlab.data import scenario_name
from secretlab.experiments.credit import PAPER_PRECISION, PAPER_RECALL


def per_maze_table(inspector: Any, n_mazes: int, threshold: float) -> pd.DataFrame:
    """One row per (scenario, held-out maze) of ``inspector``: its +1 episodes, correct +1 rows, precision,
    recall (:func:`secretlab.widgets.maze_precision_recall`) and the seconds its data took."""
    from secretlab.inspector_data import maze_precision_recall

    rows = []
    for s, scenario in enumerate(inspector.scenarios):
        for maze in range(n_mazes):
            data = inspector.maze_data(s, maze)
            precision, recall, n_rows = maze_precision_recall(data, threshold)
            rows.append({"scenario": scenario_name(scenario.env), "maze": maze, "maze_seed": data.maze_seed,
                         "episodes_with_+1": int((data.true_sign == 1).any(1).sum()),
                         "correct_+1_rows": n_rows, "precision": precision, "recall": recall,
                         "seconds_to_compute": round(data.seconds, 2)})
    return pd.DataFrame(rows)


def _pooled(frame: pd.DataFrame, column: str) -> float | None:
    ok = frame["correct_+1_rows"] > 0
    weights = frame.loc[ok, "correct_+1_rows"]
    return float(np.average(frame.loc[ok, column], weights=weights)) if weights.sum() else None


def pooled_summary(per_maze: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: mazes, correct +1 rows, and precision/recall pooled over mazes (weighted by rows)."""
    return (per_maze.groupby("scenario", sort=False)
            .apply(lambda f: pd.Series({"mazes": len(f), "rows": int(f["correct_+1_rows"].sum()),
                                        "precision": _pooled(f, "precision"), "recall": _pooled(f, "recall")},
                                       dtype=object),
                   include_groups=False)
            .reset_index())


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def report(redraw: dict[str, float], first_view_s: float, summary: pd.DataFrame, twins: list[dict[str, Any]],
           per_maze: pd.DataFrame) -> dict[str, Any]:
    """Notebook 08's JSON: redraw times, pooled credit per scenario next to the paper's, the static twins."""
    comparison = [{"quantity": "inspector redraw time (s, mean over control changes)", "paper": None,
                   "ours": round(redraw["mean_s"], 3),
                   "note": f"max {redraw['max_s']:.3f} s, mean process CPU {redraw['mean_cpu_s']:.3f} s; "
                           "target well under 1 s"}]
    for _, r in summary.iterrows():
        for quantity, paper in (("precision", PAPER_PRECISION), ("recall", PAPER_RECALL)):
            ours = _clean(r[quantity])
            comparison.append({"quantity": f"credit {quantity} @0.2, {r['scenario']} (inspector mazes)",
                               "paper": paper, "ours": "n/a (no correct +1 row)" if ours is None else round(ours, 3),
                               "note": f"{int(r['rows'])} rows from {int(r['mazes'])} held-out mazes; "
                                       "paper: mean over scenarios, 5,000 trajectories"})
    return {
        "redraw_mean_s": redraw["mean_s"], "redraw_max_s": redraw["max_s"], "redraw_mean_cpu_s": redraw["mean_cpu_s"],
        "first_view_s": first_view_s,
        "per_scenario": [{k: _clean(v) for k, v in r.items()} for r in summary.to_dict("records")],
        "static_twins": [{k: _clean(v) for k, v in t.items()} for t in twins],
        "paper_comparison": comparison,
        "tables": {"Inspector: per-maze credit precision/recall":
                   [{k: _clean(v) for k, v in r.items()} for r in per_maze.to_dict("records")]},
    }
