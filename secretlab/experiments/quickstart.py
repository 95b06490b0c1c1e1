"""Notebook 00's JSON: the quickstart's credit and Q-learning numbers next to the paper's."""
from __future__ import annotations

from typing import Any

import numpy as np

from secretlab.experiments.credit import PAPER_PRECISION, PAPER_RECALL
from secretlab.stats import finite_or_none


def report(env: Any, params: dict[str, Any], data: Any, trained: Any, scores: Any, potential: Any,
           episodes: np.ndarray, curves: dict[str, np.ndarray], first_80: dict[str, int | None]) -> dict[str, Any]:
    """Scenario, dataset, training, credit scores, the potential's rows and the greedy-success curves of the
    plain and SECRET-shaped Q-learners (``curves``: mean over seeds at ``episodes``)."""
    n_seeds = params["n_seeds"]

    def never(v: int | None) -> Any:
        return v if v is not None else "never"

    comparison = [
        {"quantity": "credit precision @0.2 (quickstart scenario)", "paper": PAPER_PRECISION,
         "ours": finite_or_none(scores.precision) if scores else "n/a (no correct +1 row)",
         "note": f"{env.size}x{env.size} 1T/1P, {params['n_train_trajectories']} training trajectories, "
                 f"width {params['d_model']}"},
        {"quantity": "credit recall @0.2 (quickstart scenario)", "paper": PAPER_RECALL,
         "ours": finite_or_none(scores.recall) if scores else "n/a (no correct +1 row)",
         "note": "paper: mean over its scenarios, 40,000 training trajectories"},
        {"quantity": "episodes to 80% greedy success, Q-learning", "paper": None,
         "ours": never(first_80["Q-learning"]), "note": f"mean over {n_seeds} seeds, one target maze"},
        {"quantity": "episodes to 80% greedy success, Q-learning + SECRET", "paper": "visibly faster (Fig. 4)",
         "ours": never(first_80["Q-learning + SECRET"]),
         "note": f"mean over {n_seeds} seeds, one target maze, |D| = {params['n_target_trajectories']}"},
    ]
    return {
        "scenario": {"size": env.size, "n_triggers": env.n_triggers, "n_prizes": env.n_prizes, "max_steps": env.horizon},
        "dataset": data.summary(),
        "training_epochs": int(len(trained.history)),
        "credit": scores.as_dict() if scores else None,
        "potential_correct_rows": int(potential.meta["n_correct_rows"]),
        "episodes_to_80": first_80,
        "success_curves": {"episodes": episodes.tolist(), **{k: v.tolist() for k, v in curves.items()}},
        "paper_comparison": comparison,
    }
