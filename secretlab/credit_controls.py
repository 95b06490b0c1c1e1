"""Credit sources: SECRET's attention rows and the controls that show whether the attention does the work.

Every source returns :class:`secretlab.credit.CreditRows` for the same
trajectories, so each goes through exactly the same potential pipelines
(:mod:`secretlab.forms`). A speed-up that the ``uniform`` or ``shuffled``
control also gets is not earned by the credit.

Sources (``CREDIT_SOURCES``)
    ``secret``
        The frozen model's attention rows, as predicted (the method).
    ``secret_sparse``
        The same rows with every weight below ``threshold`` (the paper's
        binarisation threshold 0.2, App. A.2) set to 0 and each row renormalised;
        a row with no weight that high gives no credit. A named extension: the
        learned rows spread ~a third of their mass in small peaks over ordinary
        steps, which advice would otherwise turn into repeatable bonuses.
    ``uniform``
        The model's rows (same rewards, same correct/incorrect calls) with the
        attention spread evenly over the steps up to the reward: no credit
        assignment at all, only *which* episodes and rewards the model predicted.
    ``shuffled``
        The model's rows with each row's weights permuted among its own steps
        (same weight distribution, placed at random).
    ``ideal``
        What a perfect model would give (no model needed): one correct row per
        real reward; a +1 spreads its attention evenly over the trigger
        activations before it, a −1 attends to its own step (the prize entered
        too early).
    ``ideal_negative``
        As ``ideal`` but each −1 row also attends to the activations before it
        (its own step if none), as the learned models' −1 rows do: shows what −1
        credit on activations does to a potential.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from secretlab.credit import CreditRows
from secretlab.validation import check_choice

CREDIT_SOURCES = ("secret", "secret_sparse", "uniform", "shuffled", "ideal", "ideal_negative")
MODEL_SOURCES = ("secret", "secret_sparse", "uniform", "shuffled")
"""Sources built from the model's rows (the rest need only the dataset)."""


def check_source(source: str) -> str:
    return check_choice("credit source", source, CREDIT_SOURCES)


def control_rows(source: str, rows: CreditRows | None, dataset: Any, seed: int = 0,
                 threshold: float = 0.2) -> CreditRows:
    """The credit rows of ``source`` for ``dataset`` (model rows ``rows`` for the model-based sources).

    ``rows``: the model's rows on ``dataset`` (``secretlab.credit.sorted_credit_rows``),
    required for the sources in ``MODEL_SOURCES``. ``seed`` draws the
    ``shuffled`` permutations; ``threshold`` is the ``secret_sparse`` cut.
    """
    check_source(source)
    if source in ("ideal", "ideal_negative"):
        return ideal_credit_rows(dataset, negative_on_activations=source == "ideal_negative")
    if rows is None:
        raise ValueError(f"credit source {source!r} needs the model's credit rows (rows=None given)")
    if source == "secret":
        return rows
    att = np.asarray(rows.attention, dtype=np.float32)
    t = att.shape[1]
    causal = np.arange(t)[None, :] <= np.asarray(rows.step)[:, None]  # (R, T) the steps a row may attend to
    if source == "uniform":
        new = causal / causal.sum(1, keepdims=True).clip(min=1)
    elif source == "shuffled":
        rng = np.random.default_rng([seed, 23])
        keys = np.where(causal, rng.random(att.shape), np.inf)
        order = np.argsort(keys, axis=1, kind="stable")  # a random permutation of each row's steps, then padding
        new = np.take_along_axis(att, order, axis=1)
    else:  # secret_sparse
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        kept = np.where(att >= threshold, att, 0.0)
        total = kept.sum(1, keepdims=True)
        new = np.divide(kept, total, out=np.zeros_like(kept), where=total > 0)
    return CreditRows(rows.traj.copy(), rows.step.copy(), rows.sign.copy(), rows.pred.copy(), rows.correct.copy(),
                      new.astype(np.float32))


def ideal_credit_rows(dataset: Any, negative_on_activations: bool = False) -> CreditRows:
    """Credit rows a *perfect* model would give on ``dataset`` (a control, not SECRET).

    One row per real non-zero reward, predicted correctly. A +1 row spreads its
    attention uniformly over the steps whose action activated a trigger up to
    that step (its own step when there is none); a −1 row (a prize entered too
    early) attends to its own step, the action that caused it — or, with
    ``negative_on_activations``, to the activations before it like a +1 row.
    Needs ``dataset.rewards``, ``.activated`` (N, T) and ``.lengths``.
    """
    rewards = np.asarray(dataset.rewards)
    n, t = rewards.shape
    real = np.arange(t)[None, :] < np.asarray(dataset.lengths)[:, None]
    traj, step = np.nonzero((rewards != 0) & real)
    positive = rewards[traj, step] > 0
    on_activations = positive | negative_on_activations
    att = np.asarray(dataset.activated, dtype=bool)[traj] & (np.arange(t)[None, :] <= step[:, None])
    att = (att & on_activations[:, None]).astype(np.float32)
    none = att.sum(1) == 0
    att[np.flatnonzero(none), step[none]] = 1.0
    att /= att.sum(1, keepdims=True)
    sign = np.sign(rewards[traj, step]).astype(np.int64)
    return CreditRows(traj.astype(np.int64), step.astype(np.int64), sign, sign.copy(), np.ones(len(traj), bool), att)
