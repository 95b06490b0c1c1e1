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
from secretlab.data import scenario_name
from secretlab.envs.triggers import TriggersConfig
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


def evaluate_scenario(scenario: dict[str, int], profile: str, seed: int = 0,
                      n_train_trajectories: int | None = None, n_eval_trajectories: int = 1000,
                      threshold: float = 0.2, progress: bool = True) -> ScenarioResult:
    """Train (or load) the scenario's source model, then score its credit on held-out mazes.

    The model comes from :func:`secretlab.experiments.source.source_model` (shared cache with
    the other notebooks); ``n_train_trajectories`` None = the profile's budget.
    """
    from secretlab.data import DatasetConfig, load_or_collect, seed_block
    from secretlab.profiles import reward_model_recipe
    from secretlab.experiments.source import source_model, source_plan

    threshold = check_threshold(threshold)
    check_int("n_eval_trajectories", n_eval_trajectories, minimum=1)  # int() below would make 1.5 a 1
    env = TriggersConfig.from_scenario(scenario)
    recipe = reward_model_recipe(profile)
    if n_train_trajectories is not None:
        check_int("n_train_trajectories", n_train_trajectories, minimum=1)  # `or` made 0 the profile's budget
    # the size of the set this scenario's model trained on last (a warm start's fine-tuning set)
    n_train = source_plan(env, profile, seed, n_train_trajectories=n_train_trajectories).dataset.n_trajectories
    # the override only when given: None keeps the recipe's sizes (a warm start may size its fine-tuning apart)
    trained = source_model(env, profile, seed, progress=progress, n_train_trajectories=n_train_trajectories)
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


# =============================================================================
# Notebook 03 end to end: one config in, one study out
# =============================================================================
#: The three scenarios App. A.2 reports; the 4th (8x8 2T/2P) is the project's choice (docs/design.md §2).
PAPER_SCENARIOS = ((8, 1, 1), (8, 1, 2), (8, 3, 1))
#: Mean precision and recall the paper reports over them (App. A.2, α = 0.2).
PAPER_PRECISION, PAPER_RECALL = 0.96, 0.94


@dataclass(frozen=True)
class CreditExperiment:
    """What notebook 03 runs: every scenario × training seed, scored on held-out mazes."""

    scenarios: tuple
    """Scenario dicts (``size``, ``n_triggers``, ``n_prizes``)."""
    profile: str
    """Reward-model recipe (:mod:`secretlab.profiles`)."""
    seeds: tuple
    """Training seeds; figures use the first."""
    n_train_trajectories: int | None
    """None: the recipe's."""
    n_eval_trajectories: int
    threshold: float
    """Attention binarisation threshold (App. A.2)."""
    n_heatmap_trajectories: int
    """Trajectories of the one-maze credit heatmap."""

    @classmethod
    def from_params(cls, params: dict[str, Any], profile: str, seed: int) -> "CreditExperiment":
        return cls(tuple(params["scenarios"]), profile, tuple(seed + k for k in range(params["n_seeds"])),
                   params["n_train_trajectories"], params["n_eval_trajectories"], params["threshold"],
                   params["n_heatmap_trajectories"])


@dataclass
class CreditStudy:
    """Notebook 03's measurements: ``results`` (the first seed's :class:`ScenarioResult` per scenario, for the
    figures) and ``combined`` (mean ± spread over seeds per scenario, :func:`combine_seeds`)."""

    config: CreditExperiment
    results: dict[str, ScenarioResult]
    combined: dict[str, dict[str, Any]]
    seconds: dict[str, float]

    @property
    def paper_names(self) -> list[str]:
        return [scenario_name({"size": s, "n_triggers": t, "n_prizes": p}) for s, t, p in PAPER_SCENARIOS]

    def means(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Macro means over the paper's three scenarios and over all scenarios run (a scenario whose model
        predicts no +1 correctly counts 0); spreads are over training seeds."""
        return (mean_over_scenarios([self.combined[n] for n in self.paper_names if n in self.combined]),
                mean_over_scenarios(list(self.combined.values())))

    def table(self):
        import pandas as pd

        return pd.DataFrame(list(self.combined.values()), index=list(self.combined))

    def pr_table(self):
        """Precision/recall per scenario, the two means and the paper's numbers."""
        mean_paper, mean_all = self.means()
        out = self.table()[["precision", "precision_std", "recall", "recall_std", "n_rows"]].copy()
        out.loc["mean, paper's three"] = [mean_paper["precision"], mean_paper["precision_std"], mean_paper["recall"],
                                          mean_paper["recall_std"], np.nan]
        out.loc["mean, all scenarios"] = [mean_all["precision"], mean_all["precision_std"], mean_all["recall"],
                                          mean_all["recall_std"], np.nan]
        out.loc["paper (App. A.2)"] = [PAPER_PRECISION, np.nan, PAPER_RECALL, np.nan, np.nan]
        return out

    def counting(self):
        """Predicted sign by number of activations per scenario (:func:`secretlab.credit.sign_by_activations`)."""
        import pandas as pd

        from secretlab.credit import sign_by_activations

        return pd.concat({n: sign_by_activations(r.rows, r.eval_data.activated) for n, r in self.results.items()
                          if len(r.rows)}, names=["scenario"])

    def activation_scores(self) -> dict[str, dict[str, float]]:
        """Per multi-trigger scenario, how the model's +1 logit depends on the activating action."""
        from secretlab.credit import activation_logits, activation_score_summary

        out = {}
        for n, r in self.results.items():
            if r.scenario["n_triggers"] >= 2:
                gaps = activation_logits(r.rows.correct_positive, r.eval_data.activated, r.eval_data.actions)
                if len(gaps):
                    out[n] = activation_score_summary(gaps)
        return out

    def figure3_name(self) -> str:
        """The paper's Figure 3 uses 8x8 3T/1P; if that model predicts no +1 correctly, the scored scenario
        with the most triggers."""
        def n_scored(n):
            return len(self.results[n].rows.correct_positive)

        name = next((n for n in self.results if n.endswith("3T/1P") and n_scored(n)), None)
        if name is None:
            candidates = [n for n in self.results if n_scored(n)] or list(self.results)
            name = max(candidates, key=lambda n: (self.results[n].scenario["n_triggers"], n_scored(n)))
        return name

    def figure3_offsets(self) -> dict[str, Any]:
        from secretlab.credit import attention_by_offset

        fig3 = self.results[self.figure3_name()]
        return attention_by_offset(fig3.rows, fig3.eval_data.activated, max_offset=10)

    def cell_heatmap(self) -> tuple[np.ndarray, Any, int, int]:
        """Credit per cell of the first seed's target maze in the Figure-3 scenario: (mean per cell, the maze's
        layout, correct +1 rows, maze size)."""
        from secretlab.credit import attention_per_cell
        from secretlab.data import DatasetConfig, load_or_collect, maze_seeds

        fig3, seed = self.results[self.figure3_name()], self.config.seeds[0]
        env = TriggersConfig.from_scenario(fig3.scenario)
        fixed = load_or_collect(DatasetConfig(env=env, n_trajectories=int(self.config.n_heatmap_trajectories),
                                              seed=seed, split="target",
                                              fixed_maze_seed=int(maze_seeds("target", seed, 1)[0])))
        rows = credit_rows(fig3.trained.model, fixed)
        mean_cell, _ = attention_per_cell(rows, fixed.agent_cells[:, 1:], env.size)
        layout0 = type(fixed.layouts)(*(x[0] for x in fixed.layouts))
        return mean_cell, layout0, len(rows.correct_positive), env.size

    def credit_paths(self, n: int = 6) -> list[dict[str, Any]]:
        """The first ``n`` correct +1 rows of the Figure-3 scenario as paths coloured by credit."""
        fig3 = self.results[self.figure3_name()]
        good, paths = fig3.rows.correct_positive, []
        for r in range(min(n, len(good))):
            i, t = int(good.traj[r]), int(good.step[r])
            lay = type(fig3.eval_data.layouts)(*(x[i] for x in fig3.eval_data.layouts))
            paths.append({"layout": lay, "cells": fig3.eval_data.agent_cells[i, : t + 2],
                          "credit": np.concatenate([[0.0], good.attention[r, : t + 1]]),
                          "title": f"trajectory {i}, +1 at step {t}"})
        return paths

    def paper_comparison(self) -> list[dict[str, Any]]:
        seeds, (mean_paper, mean_all) = self.config.seeds, self.means()

        def pm(mean, std):
            return "n/a" if mean is None else (f"{mean:.3f}" if len(seeds) == 1 else f"{mean:.3f} ± {std:.3f}")

        rows = list(self.combined.values())
        seed_note = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean ± sd over training seeds {list(seeds)}"
        n_paper_run = sum(n in self.combined for n in self.paper_names)
        ran = "" if n_paper_run == 3 else f" (only {n_paper_run} of the 3 ran: not the paper's mean)"
        out = [
            {"quantity": f"mean precision, paper's 3 scenarios (alpha=0.2){ran}", "paper": PAPER_PRECISION,
             "ours": pm(mean_paper["precision"], mean_paper["precision_std"]),
             "note": "train trajectories " + ", ".join(f"{name} {c['n_train_trajectories']}" for name, c in
                                                        self.combined.items())
                     + f" (a warm start's fine-tuning set) / {self.config.n_eval_trajectories} held-out per scenario, "
                       f"{seed_note}; a scenario with no correct +1 counts 0"},
            {"quantity": f"mean recall, paper's 3 scenarios (alpha=0.2){ran}", "paper": PAPER_RECALL,
             "ours": pm(mean_paper["recall"], mean_paper["recall_std"]), "note": "macro over rows then scenarios"},
            {"quantity": f"mean precision / recall, all {len(self.combined)} scenarios run", "paper": None,
             "ours": f"{pm(mean_all['precision'], mean_all['precision_std'])} / "
                     f"{pm(mean_all['recall'], mean_all['recall_std'])}",
             "note": "4th scenario (2T/2P) chosen in docs/design.md §2"},
        ]
        for s in rows:
            out.append({"quantity": f"precision / recall {s['size']}x{s['size']} {s['n_triggers']}T/{s['n_prizes']}P",
                        "paper": None,
                        "ours": f"{pm(s['precision'], s['precision_std'])} / {pm(s['recall'], s['recall_std'])}",
                        "note": f"{s['n_rows']} rows; {s['note']}".strip("; ")})
        return out

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {"credit precision/recall per scenario": [
            {k: (_r4(v) if isinstance(v, float) else v) for k, v in s.items() if not k.endswith("_per_seed")}
            for s in self.combined.values()]}

    def report(self) -> dict[str, Any]:
        """Notebook 03's JSON (docs/design.md §3.3)."""
        (mean_paper, mean_all), counting, offsets = self.means(), self.counting(), self.figure3_offsets()
        rows = list(self.combined.values())
        return {
            "scenarios": rows, "seeds": list(self.config.seeds),
            "mean_precision": mean_all["precision"], "mean_recall": mean_all["recall"],
            "mean_precision_std": mean_all["precision_std"], "mean_recall_std": mean_all["recall_std"],
            "mean_precision_paper_scenarios": mean_paper["precision"], "mean_recall_paper_scenarios": mean_paper["recall"],
            "mean_precision_paper_scenarios_std": mean_paper["precision_std"],
            "mean_recall_paper_scenarios_std": mean_paper["recall_std"],
            "threshold": self.config.threshold,
            "sign_by_activations": {n: [{"k": int(k), **{col: _r4(v) if isinstance(v, float) else int(v)
                                                         for col, v in row.items()}}
                                        for k, row in counting.loc[n].iterrows()] for n in counting.index.unique(0)},
            "activation_scores": {n: {k: _r4(v) for k, v in s.items()} for n, s in self.activation_scores().items()},
            "figure3_offsets": {"offsets": offsets["offsets"].tolist(), "by_order": offsets["by_order"].round(5).tolist(),
                                "pooled": offsets["pooled"].round(5).tolist(), "counts": offsets["counts"].tolist()},
            "paper_comparison": self.paper_comparison(),
            "tables": self.tables(),
        }


def _r4(x: Any) -> float | None:
    return None if x is None else round(float(x), 4)


def run(config: CreditExperiment, progress: bool = True) -> CreditStudy:
    """Every scenario × seed of ``config`` through :func:`evaluate_scenario`; notes of failed seeds printed."""
    import time

    results, combined, seconds = {}, {}, {}
    for sc in config.scenarios:
        start = time.perf_counter()
        per_seed = [evaluate_scenario(sc, config.profile, s, n_train_trajectories=config.n_train_trajectories,
                                      n_eval_trajectories=config.n_eval_trajectories, threshold=config.threshold,
                                      progress=progress) for s in config.seeds]
        name = scenario_name(sc)
        results[name], combined[name] = per_seed[0], combine_seeds([r.summary() for r in per_seed])
        seconds[name] = time.perf_counter() - start
        notes = "; ".join(r.note for r in per_seed if r.note)
        if notes:
            print(f"{name}: {notes}")
    return CreditStudy(config, results, combined, seconds)
