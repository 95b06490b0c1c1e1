"""Attention as credit (paper §2.1, §3.1, App. A.2).

For every real step with a non-zero reward, :func:`credit_rows` keeps the
model's prediction and its attention row α_{·←t}. Only rows of *correctly*
predicted rewards count as credit. :func:`credit_scores` scores the rows of
correct positive predictions against the ground truth (the steps whose action
activated a trigger) with the paper's binarisation heuristic (an entry above a
threshold α = 0.2 is "credited"), macro-averaged over rows, plus micro averages
and the full precision–recall curve over thresholds.

Figure 3 data (:func:`attention_by_offset`) and the per-cell heatmaps
(:func:`attention_per_cell`) are computed here too; drawing is in
:mod:`secretlab.credit_plots`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from secretlab.model import ModelConfig, RewardModel, batched_forward
from secretlab.validation import check_int


@dataclass
class CreditRows:
    """One row per real step with a non-zero reward (R rows)."""

    traj: np.ndarray
    """(R,) trajectory index."""
    step: np.ndarray
    """(R,) step t of the reward."""
    sign: np.ndarray
    """(R,) true sign(r_t) in {-1, 1}."""
    pred: np.ndarray
    """(R,) predicted sign (argmax class - 1)."""
    correct: np.ndarray
    """(R,) bool: pred == sign (or, with ``tolerance``, a matching reward within that many steps)."""
    attention: np.ndarray
    """(R, T) float32: α_{i←t} for i = 0..T-1 (0 for i > t and on padding)."""

    def __len__(self) -> int:
        return len(self.traj)

    def select(self, keep: np.ndarray) -> "CreditRows":
        return CreditRows(self.traj[keep], self.step[keep], self.sign[keep], self.pred[keep],
                          self.correct[keep], self.attention[keep])

    @property
    def correct_positive(self) -> "CreditRows":
        """Rows of correctly predicted +1 rewards: the ones scored as credit."""
        return self.select(self.correct & (self.sign > 0))


@torch.no_grad()
def credit_rows(model: RewardModel, dataset: Any, batch_size: int = 256, tolerance: int = 0) -> CreditRows:
    """Predictions and attention rows at every real non-zero-reward step of ``dataset``.

    ``dataset``: anything with ``.obs (N, T, *obs_shape)``, ``.actions (N, T)`` (-1 pad),
    ``.rewards (N, T)``, ``.lengths (N,)``. Runs batched in eval mode and only keeps the
    (R, T) rows, never the full (N, T, T) attention.

    ``tolerance`` > 0 (keys/doors, App. A.4): a predicted +1 counts as correct when a
    real +1 occurs within ``tolerance`` steps of it (and likewise for -1). A model with a
    :class:`ModelConfig` must be able to read the data (:meth:`ModelConfig.check_reads`).
    """
    check_int("tolerance", tolerance, minimum=0)
    check_int("batch_size", batch_size, minimum=1)
    rewards = np.asarray(dataset.rewards)
    lengths = np.asarray(dataset.lengths, dtype=np.int64)
    if isinstance(getattr(model, "config", None), ModelConfig):  # stand-in models (tests) carry no config
        model.config.check_reads(np.shape(dataset.obs)[2:], int(lengths.max(initial=0)), "the dataset",
                                 int(np.max(dataset.actions, initial=-1)))
    N, T = rewards.shape
    mask = np.arange(T)[None, :] < lengths[:, None]
    signs = np.sign(rewards).astype(np.int64) * mask
    parts: list[tuple[np.ndarray, ...]] = []
    for idx, L, logits, att in batched_forward(model, dataset, batch_size):
        rows_b, steps_b = np.nonzero(signs[idx])
        if len(rows_b) == 0:
            continue
        pred_all = (logits.argmax(-1) - 1).cpu().numpy()  # (b, L)
        att_rows = att[torch.as_tensor(rows_b, device=att.device), torch.as_tensor(steps_b, device=att.device)]
        full = np.zeros((len(rows_b), T), np.float32)
        full[:, :L] = att_rows.float().cpu().numpy()
        traj = idx[rows_b]
        sign = signs[traj, steps_b]
        pred = pred_all[rows_b, steps_b]
        if tolerance == 0:
            correct = pred == sign
        else:
            # the row cut to its own trajectory: predictions on batch padding must not match a reward
            correct = np.array([_matches_within(pred_all[r, :lengths[idx[r]]], signs[idx[r]], s, tolerance)
                                for r, s in zip(rows_b, steps_b)], dtype=bool)
        parts.append((traj, steps_b, sign, pred, correct, full))
    if not parts:
        empty = np.zeros(0, np.int64)
        return CreditRows(empty, empty, empty, empty, np.zeros(0, bool), np.zeros((0, T), np.float32))
    cols = list(zip(*parts))
    return CreditRows(*(np.concatenate(c) for c in cols))


def sorted_credit_rows(model: Any, dataset: Any, batch_size: int = 256, tolerance: int = 0) -> Any:
    """:func:`secretlab.credit.credit_rows` on length-sorted trajectories (same rows, less padding).

    The model trims each batch to its longest episode, so batching episodes of
    similar length cuts the attention's T² work; ``rows.traj`` is mapped back to
    the original trajectory indices.
    """
    order = np.argsort(np.asarray(dataset.lengths), kind="stable")
    rows = credit_rows(getattr(model, "model", model), dataset.subset(order), batch_size=batch_size,
                       tolerance=tolerance)
    rows.traj = order[rows.traj]
    return rows


def _matches_within(pred_row: np.ndarray, sign_row: np.ndarray, t: int, tolerance: int) -> bool:
    """Is there a prediction of sign_row[t] within ``tolerance`` steps of t? (App. A.4's 5-frame rule)."""
    lo, hi = max(0, t - tolerance), t + tolerance + 1
    return bool((pred_row[lo:hi] == sign_row[t]).any())


# ================================================================ precision / recall
@dataclass
class CreditScores:
    """Precision/recall of thresholded attention against trigger activations (App. A.2)."""

    precision: float
    """Macro average over rows of |credited ∩ truth| / |credited| (0 when nothing is credited)."""
    recall: float
    """Macro average over rows of |credited ∩ truth| / |truth|."""
    micro_precision: float
    """Pooled over all entries of all rows."""
    micro_recall: float
    n_rows: int
    """Correct positive predictions scored."""
    n_positive_rewards: int
    """All real +1 steps (scored or not)."""
    positive_accuracy: float
    """n_rows / n_positive_rewards: share of +1 rewards the model predicted correctly."""
    average_precision: float
    """Area under the pooled precision–recall curve (scikit-learn ``average_precision_score``)."""
    pr_curve: dict[str, np.ndarray]
    """``precision``, ``recall``, ``thresholds`` of the pooled curve."""
    row_precision: np.ndarray
    """(n_rows,) per-row precision."""
    row_recall: np.ndarray
    """(n_rows,) per-row recall."""

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("precision", "recall", "micro_precision", "micro_recall", "n_rows",
                                               "n_positive_rewards", "positive_accuracy", "average_precision")}


def check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}")
    return float(threshold)


def credit_scores(rows: CreditRows, activated: np.ndarray, threshold: float = 0.2) -> CreditScores:
    """Score the correct positive rows of ``rows`` against ``activated`` (N, T) bool.

    For a row at step t only entries i ≤ t count: credited = α_{i←t} > threshold,
    truth = activated[traj, i]. Raises ValueError when there is nothing to score.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    threshold = check_threshold(threshold)
    activated = np.asarray(activated, dtype=bool)
    n_positive = int((rows.sign > 0).sum())
    if n_positive == 0:
        raise ValueError("the dataset has no positive rewards: there is no credit to score "
                         "(collect more or longer trajectories)")
    good = rows.correct_positive
    if len(good) == 0:
        raise ValueError(f"the model predicted none of the {n_positive} positive rewards correctly: "
                         "no attention row to score (train longer or on more data)")
    T = good.attention.shape[1]
    upto = np.arange(T)[None, :] <= good.step[:, None]  # (R, T): entries i <= t
    truth = activated[good.traj][:, :T] & upto
    if not truth.any(1).all():
        raise ValueError("some positive rewards have no trigger activation before them: ground truth is empty "
                         "(a scenario with n_triggers = 0 cannot be scored)")
    credited = (good.attention > threshold) & upto
    hits = (credited & truth).sum(1)
    n_credited = credited.sum(1)
    row_precision = np.where(n_credited > 0, hits / np.maximum(n_credited, 1), 0.0)
    row_recall = hits / truth.sum(1)
    scores = good.attention[upto]
    labels = truth[upto]
    precision_curve, recall_curve, thresholds = precision_recall_curve(labels, scores)
    return CreditScores(
        precision=float(row_precision.mean()), recall=float(row_recall.mean()),
        micro_precision=float(hits.sum() / max(n_credited.sum(), 1)),
        micro_recall=float(hits.sum() / truth.sum()),
        n_rows=len(good), n_positive_rewards=n_positive, positive_accuracy=len(good) / n_positive,
        average_precision=float(average_precision_score(labels, scores)),
        pr_curve={"precision": precision_curve, "recall": recall_curve, "thresholds": thresholds},
        row_precision=row_precision, row_recall=row_recall,
    )


# ========================================================================= Figure 3
def sign_by_activations(rows: CreditRows, activated: np.ndarray) -> "Any":
    """How the sign predictions depend on the number k of trigger activations before each reward.

    In Triggers a prize gives +1 exactly when every trigger was activated earlier, so the model must
    *count* activations; this table shows whether it does. ``rows``: every non-zero reward
    (:func:`credit_rows`); ``activated`` (N, T) bool. Returns a pandas DataFrame indexed by k with
    ``rewards`` (count), ``true_positive_share`` (share of them that are +1), ``predicted_positive_share``,
    ``accuracy`` (predicted sign correct), ``attention_on_activations`` (mean attention mass
    the row puts on the activation steps) and ``attention_on_activations_sd`` (its population
    standard deviation over the rows: a model that counts by attention mass keeps it small, so
    that the masses for k = 2 and k = 3 do not overlap).
    """
    import pandas as pd

    activated = np.asarray(activated, dtype=bool)
    if len(rows) == 0:
        raise ValueError("rows holds no non-zero reward: nothing to tabulate")
    span = np.arange(activated.shape[1])[None, :] <= rows.step[:, None]  # (R, T): steps i <= t
    on = activated[rows.traj] & span
    k = on.sum(1)
    mass = (rows.attention * on).sum(1)
    frame = pd.DataFrame({"k": k, "positive": rows.sign > 0, "predicted_positive": rows.pred > 0,
                          "correct": rows.correct, "mass": mass})
    table = frame.groupby("k").agg(rewards=("positive", "size"), true_positive_share=("positive", "mean"),
                                   predicted_positive_share=("predicted_positive", "mean"),
                                   accuracy=("correct", "mean"), attention_on_activations=("mass", "mean"),
                                   attention_on_activations_sd=("mass", lambda m: float(np.std(m))))
    table.index.name = "activations before the reward"
    return table


def activation_logits(rows: CreditRows, activated: np.ndarray, actions: np.ndarray) -> "Any":
    """Each trigger activation's attention score above the rest of its row.

    Within one row the query is fixed, so log α_i − log α_j equals the difference of the pre-softmax
    scores of steps i and j. For every row of ``rows`` (pass ``rows.correct_positive`` for the
    credit rows) and every activation step s ≤ t before its reward, ``logit_gap`` is
    log α_s − log(mean α_j over the row's other steps j ≤ t, neither an activation nor t itself).
    Counting k activations with one softmax head needs these gaps to be equal across the
    activations of a row and across contexts (action, position); a spread means some activations
    fall below the 0.2 threshold while others take the mass.

    ``activated`` (N, T) bool, ``actions`` (N, T) int. Returns a pandas DataFrame with one line per
    (row, activation): ``row`` (index into ``rows``), ``k`` (activations before the reward),
    ``order`` (0 = first), ``step``, ``distance`` (t − step), ``action`` (the activating action),
    ``attention`` (α_s) and ``logit_gap``. Rows with no activation or no other step are skipped.
    """
    import pandas as pd

    activated = np.asarray(activated, dtype=bool)
    actions = np.asarray(actions)
    if activated.shape != actions.shape:
        raise ValueError(f"activated {activated.shape} and actions {actions.shape} must have the same shape")
    lines = []
    for r in range(len(rows)):
        traj, t = int(rows.traj[r]), int(rows.step[r])
        steps = np.flatnonzero(activated[traj, : t + 1])
        other = np.ones(t + 1, bool)
        other[steps] = False
        other[t] = False
        if len(steps) == 0 or not other.any():
            continue
        reference = float(np.mean(rows.attention[r, : t + 1][other]))
        for order, s in enumerate(steps):
            alpha = float(rows.attention[r, s])
            gap = np.log(alpha / reference) if alpha > 0 and reference > 0 else np.nan
            lines.append({"row": r, "k": len(steps), "order": order, "step": int(s), "distance": t - int(s),
                          "action": int(actions[traj, s]), "attention": alpha, "logit_gap": gap})
    columns = ["row", "k", "order", "step", "distance", "action", "attention", "logit_gap"]
    return pd.DataFrame(lines, columns=columns)


def activation_score_summary(gaps: "Any") -> dict[str, float]:
    """Summary of an :func:`activation_logits` table (Triggers actions).

    Returns the mean ``logit_gap`` per activating action, keyed by its name ("down", "left", ...),
    then ``mean`` and ``sd`` (population) over all activations and ``sd inside a row`` (the mean
    over rows of the population sd of their activations' gaps; 0 for a row with one activation).
    """
    from secretlab.envs.triggers import ACTION_NAMES

    if len(gaps) == 0:
        raise ValueError("gaps holds no activation: nothing to summarise")
    by_action = gaps.groupby(gaps["action"].map(dict(enumerate(ACTION_NAMES)))).logit_gap.mean()
    return {**{name: float(v) for name, v in by_action.items()}, "mean": float(gaps.logit_gap.mean()),
            "sd": float(gaps.logit_gap.std(ddof=0)),
            "sd inside a row": float(gaps.groupby("row").logit_gap.std(ddof=0).mean())}


def attention_by_offset(rows: CreditRows, activated: np.ndarray, max_offset: int = 10,
                        max_order: int | None = None) -> dict[str, np.ndarray]:
    """Mean attention vs signed offset (attended step − k-th trigger activation step).

    Over the correct positive rows; for each row and each trigger order k (1st,
    2nd, ... activation before the reward), the attention α_{i←t} at offsets
    i − s_k in [-max_offset, max_offset] (entries i > t count as 0).
    Returns ``offsets`` (2·max_offset+1,), ``by_order`` (K, 2·max_offset+1) mean
    attention per order, ``pooled`` (2·max_offset+1,) the mean over all
    (row, order) pairs, and ``counts`` (K,) rows per order.
    """
    good = rows.correct_positive
    activated = np.asarray(activated, dtype=bool)
    offsets = np.arange(-max_offset, max_offset + 1)
    T = good.attention.shape[1]
    per_order: dict[int, list[np.ndarray]] = {}
    for r in range(len(good)):
        t = good.step[r]
        steps = np.flatnonzero(activated[good.traj[r], : t + 1])
        for k, s in enumerate(steps):
            pos = s + offsets
            ok = (pos >= 0) & (pos <= t) & (pos < T)
            values = np.zeros(len(offsets), np.float64)
            values[ok] = good.attention[r, pos[ok]]
            per_order.setdefault(k, []).append(values)
    K = max(per_order, default=-1) + 1 if max_order is None else max_order
    by_order = np.zeros((K, len(offsets)))
    counts = np.zeros(K, np.int64)
    for k in range(K):
        if per_order.get(k):
            by_order[k] = np.mean(per_order[k], axis=0)
            counts[k] = len(per_order[k])
    everything = [v for k in per_order for v in per_order[k]]
    pooled = np.mean(everything, axis=0) if everything else np.zeros(len(offsets))
    return {"offsets": offsets, "by_order": by_order, "pooled": pooled, "counts": counts}


# ========================================================================= heatmaps
def attention_per_cell(rows: CreditRows, cells: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Credit mass per maze cell, over the correct positive rows.

    ``cells`` (N, T, 2): the cell the step's action *entered* (for a Triggers
    dataset: ``dataset.agent_cells[:, 1:]``), so a trigger activation lands on the
    trigger's cell. Returns ``mean`` (size, size): attention summed per cell and
    averaged over rows (NaN where no step entered the cell) and ``visits``
    (size, size): attended-step count per cell.
    """
    good = rows.correct_positive
    total = np.zeros((size, size))
    visits = np.zeros((size, size), np.int64)
    for r in range(len(good)):
        t = good.step[r]
        c = np.asarray(cells[good.traj[r], : t + 1])
        np.add.at(total, (c[:, 0], c[:, 1]), good.attention[r, : t + 1])
        np.add.at(visits, (c[:, 0], c[:, 1]), 1)
    mean = np.where(visits > 0, total / max(len(good), 1), np.nan)
    return mean, visits


@torch.no_grad()
def predict_trajectory(model: RewardModel, dataset: Any, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Predicted signs (L,) and the full attention matrix (L, L) of trajectory ``index`` (eval mode)."""
    L = int(np.asarray(dataset.lengths)[index])
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    obs = torch.as_tensor(np.asarray(dataset.obs)[index: index + 1, :L], device=device)
    actions = torch.as_tensor(np.asarray(dataset.actions, dtype=np.int64)[index: index + 1, :L], device=device)
    logits, att = model(obs, actions, torch.ones(1, L, dtype=torch.bool, device=device))
    model.train(was_training)
    return (logits[0].argmax(-1) - 1).cpu().numpy(), att[0].cpu().numpy()
