"""The credit experiment of notebook 03 (paper §3.1, App. A.2): one scenario end to end, and seeds combined.

:func:`evaluate_scenario` trains (or loads) a scenario's source model with a profile's budget and scores its
credit on held-out mazes (:mod:`secretlab.credit`); :func:`combine_seeds` and :func:`mean_over_scenarios`
aggregate the per-seed summaries the way notebook 03 reports them (macro: per row, then per scenario;
docs/design.md §2). This is an experiment driver: it may read the profiles; the credit layer below it does not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from secretlab.credit import CreditRows, CreditScores, check_threshold, credit_rows, credit_scores
from secretlab.validation import check_int


@dataclass
class ScenarioResult:
    """A scenario of App. A.2: model trained on ``train`` mazes, scored on ``heldout`` mazes."""

    scenario: dict[str, int]
    """``size``, ``n_triggers``, ``n_prizes``."""
    trained: Any
    """The :class:`secretlab.training.TrainedModel`."""
    eval_data: Any
    """The held-out :class:`secretlab.data.TrajectoryDataset`."""
    rows: CreditRows
    scores: CreditScores | None
    """None when nothing could be scored (see ``note``)."""
    n_train: int = 0
    """Training trajectories of the model."""
    success_share: float | None = None
    """Share of training episodes with a +1 (None: the random policy's own share)."""
    note: str = ""

    def summary(self) -> dict[str, Any]:
        """The docs/design.md §3.3 entry: the scenario keys, precision, recall, n_rows, plus extras."""
        out: dict[str, Any] = dict(self.scenario)
        if self.scores is None:
            out.update(precision=None, recall=None, micro_precision=None, micro_recall=None, n_rows=0,
                       n_positive_rewards=int((self.rows.sign > 0).sum()),
                       positive_accuracy=None, average_precision=None)
        else:
            out.update(self.scores.as_dict())
        out["n_train_trajectories"] = int(self.n_train)
        out["train_success_share"] = self.success_share
        out["n_eval_trajectories"] = int(self.eval_data.n)
        out["train_epochs"] = int(len(self.trained.history))
        out["note"] = self.note
        return out


def _scenario_env(scenario: dict[str, int]):
    from secretlab.envs.triggers import TriggersConfig

    allowed = {"size", "n_triggers", "n_prizes"}
    if not isinstance(scenario, dict) or set(scenario) != allowed:
        raise ValueError(f"a scenario must be a dict with exactly the keys {sorted(allowed)}, got {scenario!r}")
    return TriggersConfig(**scenario)  # it rejects non-integers (int() here made a size of 8.5 an 8)


def evaluate_scenario(scenario: dict[str, int], profile: str, seed: int = 0,
                      n_train_trajectories: int | None = None, n_eval_trajectories: int = 1000,
                      threshold: float = 0.2, progress: bool = True) -> ScenarioResult:
    """Train (or load) the scenario's source model, then score its credit on held-out mazes.

    The model comes from :func:`secretlab.experiments.source.source_model` (shared cache with
    the other notebooks); ``n_train_trajectories`` None = the profile's budget.
    """
    from secretlab.data import DatasetConfig, load_or_collect, seed_block
    from secretlab.profiles import reward_model_recipe
    from secretlab.experiments.source import source_model

    threshold = check_threshold(threshold)
    check_int("n_eval_trajectories", n_eval_trajectories, minimum=1)  # int() below would make 1.5 a 1
    env = _scenario_env(scenario)
    recipe = reward_model_recipe(profile)
    n_train = recipe.n_train_trajectories if n_train_trajectories is None else \
        check_int("n_train_trajectories", n_train_trajectories, minimum=1)  # `or` made 0 the profile's budget
    trained = source_model(env, profile, seed, progress=progress, n_train_trajectories=n_train)
    eval_data = load_or_collect(DatasetConfig(env=env, n_trajectories=int(n_eval_trajectories), seed=seed,
                                              split="heldout"))
    lo, hi = seed_block("train", seed)  # every maze the training set can have used (success_share skips some)
    overlap = eval_data.maze_seeds[(eval_data.maze_seeds >= lo) & (eval_data.maze_seeds < hi)]
    assert len(overlap) == 0, f"held-out mazes overlap the training mazes: {overlap[:5]}"
    rows = credit_rows(trained.model, eval_data)
    try:
        scores, note = credit_scores(rows, eval_data.activated, threshold), ""
    except ValueError as err:
        scores, note = None, str(err)
    return ScenarioResult(dict(scenario), trained, eval_data, rows, scores, int(n_train),
                          recipe.success_share, note)


def scenario_name(scenario: dict[str, int]) -> str:
    return f"{scenario['size']}x{scenario['size']} {scenario['n_triggers']}T/{scenario['n_prizes']}P"


def combine_seeds(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario scored with several training seeds -> one docs/design.md §3.3 entry with mean ± spread.

    ``summaries``: :meth:`ScenarioResult.summary` dicts of the same scenario, one per seed.
    ``precision`` / ``recall``: mean over seeds, where a seed whose model scored no row counts 0
    (a failed seed must not vanish from the mean); None only if no seed scored a row.
    ``*_std``: population standard deviation over seeds; ``*_per_seed``: the per-seed values
    (None = nothing scored). ``n_rows`` and ``n_positive_rewards``: summed over seeds.
    ``micro_precision``, ``micro_recall``, ``positive_accuracy`` and ``average_precision``: mean over
    the seeds that scored rows (None if none did). ``train_epochs_per_seed``: epochs each model trained;
    ``train_epochs``: the most any seed trained. Other keys come from the first seed.
    """
    if not summaries:
        raise ValueError("combine_seeds needs at least one per-seed summary")
    keys = ("size", "n_triggers", "n_prizes")
    if any(tuple(s[k] for k in keys) != tuple(summaries[0][k] for k in keys) for s in summaries):
        raise ValueError("combine_seeds got summaries of different scenarios")
    out = dict(summaries[0])
    scored = any(s["precision"] is not None for s in summaries)
    for metric in ("precision", "recall"):
        per_seed = [s[metric] for s in summaries]
        filled = np.array([0.0 if v is None else float(v) for v in per_seed])
        out[metric] = float(filled.mean()) if scored else None
        out[f"{metric}_std"] = float(filled.std()) if scored else None
        out[f"{metric}_per_seed"] = per_seed
    for metric in ("micro_precision", "micro_recall", "positive_accuracy", "average_precision"):
        values = [float(s[metric]) for s in summaries if s.get(metric) is not None]
        out[metric] = float(np.mean(values)) if values else None
    out["n_positive_rewards"] = int(sum(s["n_positive_rewards"] for s in summaries))
    if all("train_epochs" in s for s in summaries):
        out["train_epochs_per_seed"] = [int(s["train_epochs"]) for s in summaries]
        out["train_epochs"] = max(out["train_epochs_per_seed"])
    out["n_rows"] = int(sum(s["n_rows"] for s in summaries))
    out["n_rows_per_seed"] = [int(s["n_rows"]) for s in summaries]
    out["n_seeds"] = len(summaries)
    return out


def mean_over_scenarios(combined: list[dict[str, Any]]) -> dict[str, float | None]:
    """Macro means over scenarios (App. A.2) with their spread over training seeds.

    ``combined``: :func:`combine_seeds` entries with the same number of seeds. For each seed,
    the mean over scenarios (a scenario with nothing scored counts 0); returns the mean of those
    per-seed means (= the mean of the scenario means) and their population standard deviation.
    """
    if not combined:
        return {"precision": None, "recall": None, "precision_std": None, "recall_std": None}
    n_seeds = {c["n_seeds"] for c in combined}
    if len(n_seeds) != 1:
        raise ValueError(f"every scenario needs the same number of seeds, got {sorted(n_seeds)}")
    out: dict[str, float | None] = {}
    for metric in ("precision", "recall"):
        table = np.array([[0.0 if v is None else float(v) for v in c[f"{metric}_per_seed"]] for c in combined])
        per_seed = table.mean(axis=0)  # (n_seeds,)
        out[metric], out[f"{metric}_std"] = float(per_seed.mean()), float(per_seed.std())
    return out
