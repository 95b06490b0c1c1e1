"""Credit extraction and scoring on hand-made attention whose answers can be checked by hand."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn

from secretlab.credit import (CreditRows, attention_by_offset, attention_per_cell, credit_rows, credit_scores)


class FixedModel(nn.Module):
    """Predicts sign(r) from a lookup table and attends with a fixed (N, T, T) matrix."""

    def __init__(self, predicted_sign: np.ndarray, attention: np.ndarray) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.pred = torch.as_tensor(predicted_sign)
        self.att = torch.as_tensor(attention, dtype=torch.float32)
        self.calls = 0

    def forward(self, obs, actions, mask):
        B, T = actions.shape
        start = self.calls
        self.calls += B
        logits = torch.nn.functional.one_hot(self.pred[start:start + B, :T] + 1, 3).float()
        return logits, self.att[start:start + B, :T, :T]


def _dataset():
    # Trajectory 0: trigger at step 1, +1 at step 3. Trajectory 1: -1 at step 2, padding after step 3.
    rewards = np.array([[0, 0, 0, 1, 0], [0, 0, -1, 0, 0]], np.float32)
    return SimpleNamespace(obs=np.zeros((2, 5, 3, 3, 3), np.uint8), actions=np.zeros((2, 5), np.int64),
                           rewards=rewards, lengths=np.array([5, 4]),
                           activated=np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool))


def _attention():
    att = np.zeros((2, 5, 5), np.float32)
    att[0, 3, :4] = [0.1, 0.6, 0.05, 0.25]
    att[1, 2, :3] = [0.2, 0.3, 0.5]
    return att


def test_credit_rows_pick_nonzero_rewards_and_their_rows():
    data = _dataset()
    pred = np.array([[0, 0, 0, 1, 0], [0, 0, 1, 0, 0]])  # the -1 is mispredicted as +1
    rows = credit_rows(FixedModel(pred, _attention()), data, batch_size=1)
    assert rows.traj.tolist() == [0, 1] and rows.step.tolist() == [3, 2]
    assert rows.sign.tolist() == [1, -1] and rows.pred.tolist() == [1, 1]
    assert rows.correct.tolist() == [True, False]
    assert rows.attention.shape == (2, 5)
    np.testing.assert_allclose(rows.attention[0], [0.1, 0.6, 0.05, 0.25, 0])


def test_tolerance_accepts_a_nearby_prediction():
    data = _dataset()
    pred = np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0]])  # +1 predicted one step early
    assert credit_rows(FixedModel(pred, _attention()), data).correct.tolist() == [False, False]
    assert credit_rows(FixedModel(pred, _attention()), data, tolerance=1).correct.tolist() == [True, False]


def test_scores_by_hand():
    # Row A (t=3): truth {1}, credited (>0.2) {1, 3} -> P = 1/2, R = 1.
    # Row B (t=4): truth {0, 2}, credited {2} -> P = 1, R = 1/2.
    att = np.array([[0.1, 0.6, 0.05, 0.25, 0.0], [0.15, 0.1, 0.5, 0.05, 0.2]], np.float32)
    rows = CreditRows(traj=np.array([0, 1]), step=np.array([3, 4]), sign=np.array([1, 1]), pred=np.array([1, 1]),
                      correct=np.array([True, True]), attention=att)
    activated = np.array([[0, 1, 0, 0, 0], [1, 0, 1, 0, 0]], bool)
    s = credit_scores(rows, activated, threshold=0.2)
    assert s.precision == pytest.approx(0.75) and s.recall == pytest.approx(0.75)
    assert s.micro_precision == pytest.approx(2 / 3) and s.micro_recall == pytest.approx(2 / 3)
    assert s.n_rows == 2 and s.positive_accuracy == 1.0
    assert 0 < s.average_precision <= 1
    # A threshold above every entry credits nothing: precision 0 by convention, recall 0.
    s = credit_scores(rows, activated, threshold=0.9)
    assert s.precision == 0 and s.recall == 0


def test_scores_ignore_incorrect_and_negative_rows():
    att = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    rows = CreditRows(traj=np.array([0, 0, 0]), step=np.array([2, 2, 2]), sign=np.array([1, 1, -1]),
                      pred=np.array([1, 0, -1]), correct=np.array([True, False, True]), attention=att)
    s = credit_scores(rows, np.array([[0, 1, 0]], bool))
    assert s.n_rows == 1 and s.precision == 1 and s.recall == 1 and s.positive_accuracy == 0.5


def test_bad_input_raises():
    rows = CreditRows(traj=np.array([0]), step=np.array([1]), sign=np.array([-1]), pred=np.array([-1]),
                      correct=np.array([True]), attention=np.array([[0.5, 0.5]], np.float32))
    with pytest.raises(ValueError, match="no positive rewards"):
        credit_scores(rows, np.zeros((1, 2), bool))
    for bad in (0.0, 1.0, -0.1, 2, "0.2", True):
        with pytest.raises(ValueError, match="threshold"):
            credit_scores(rows, np.zeros((1, 2), bool), threshold=bad)
    with pytest.raises(ValueError, match="tolerance"):
        credit_rows(FixedModel(np.zeros((2, 5), int), _attention()), _dataset(), tolerance=-1)


def test_attention_by_offset_by_hand():
    # Triggers activated at steps 2 and 5, reward at step 6.
    att = np.zeros((1, 8), np.float32)
    att[0, [1, 2, 5, 6]] = [0.1, 0.4, 0.3, 0.2]
    rows = CreditRows(traj=np.array([0]), step=np.array([6]), sign=np.array([1]), pred=np.array([1]),
                      correct=np.array([True]), attention=att)
    activated = np.zeros((1, 8), bool)
    activated[0, [2, 5]] = True
    out = attention_by_offset(rows, activated, max_offset=3)
    zero = 3  # index of offset 0
    assert out["counts"].tolist() == [1, 1]
    assert out["by_order"][0, zero] == pytest.approx(0.4) and out["by_order"][0, zero - 1] == pytest.approx(0.1)
    assert out["by_order"][0, zero + 3] == pytest.approx(0.3)
    assert out["by_order"][1, zero] == pytest.approx(0.3) and out["by_order"][1, zero + 1] == pytest.approx(0.2)
    assert out["by_order"][1, zero + 2] == 0  # step 7 > t: not attended
    assert out["pooled"][zero] == pytest.approx(0.35)


def test_attention_per_cell_by_hand():
    att = np.array([[0.5, 0.25, 0.25]], np.float32)
    rows = CreditRows(traj=np.array([0]), step=np.array([2]), sign=np.array([1]), pred=np.array([1]),
                      correct=np.array([True]), attention=att)
    cells = np.array([[[0, 1], [1, 1], [0, 1]]])
    mean, visits = attention_per_cell(rows, cells, size=2)
    assert mean[0, 1] == pytest.approx(0.75) and mean[1, 1] == pytest.approx(0.25)
    assert np.isnan(mean[0, 0]) and visits.tolist() == [[0, 2], [0, 1]]


# ------------------------------------------------------------- several training seeds
def _summary(precision, recall, n_rows, scenario=(8, 3, 1), n_positive=None, train_epochs=12):
    # secondary metrics follow the primary ones so combine_seeds' averages can be checked by hand
    return {"size": scenario[0], "n_triggers": scenario[1], "n_prizes": scenario[2], "precision": precision,
            "recall": recall, "n_rows": n_rows, "note": "", "micro_precision": precision, "micro_recall": recall,
            "positive_accuracy": None if precision is None else 1.0, "average_precision": precision,
            "n_positive_rewards": n_rows if n_positive is None else n_positive, "train_epochs": train_epochs}


def test_combine_seeds_by_hand():
    from secretlab.experiments.credit import combine_seeds

    out = combine_seeds([_summary(1.0, 0.5, 10), _summary(0.5, 0.5, 20), _summary(None, None, 0)])
    # the failed seed counts 0: precision (1 + 0.5 + 0) / 3, recall (0.5 + 0.5 + 0) / 3
    assert out["precision"] == pytest.approx(0.5) and out["recall"] == pytest.approx(1 / 3)
    assert out["precision_std"] == pytest.approx(np.std([1.0, 0.5, 0.0]))
    assert out["precision_per_seed"] == [1.0, 0.5, None]
    assert out["n_rows"] == 30 and out["n_rows_per_seed"] == [10, 20, 0] and out["n_seeds"] == 3
    # secondary metrics: mean over the seeds that scored (1.0 and 0.5), not the first seed's value
    assert out["micro_precision"] == pytest.approx(0.75) and out["average_precision"] == pytest.approx(0.75)
    assert out["micro_recall"] == pytest.approx(0.5) and out["positive_accuracy"] == 1.0
    assert out["train_epochs_per_seed"] == [12, 12, 12]
    epochs = combine_seeds([_summary(1.0, 1.0, 3, train_epochs=15), _summary(1.0, 1.0, 3, train_epochs=20)])
    assert epochs["train_epochs_per_seed"] == [15, 20] and epochs["train_epochs"] == 20  # not the first seed's
    assert combine_seeds([_summary(1.0, 1.0, 3, n_positive=4), _summary(None, None, 0, n_positive=5)])[
        "n_positive_rewards"] == 9
    nothing = combine_seeds([_summary(None, None, 0), _summary(None, None, 0)])
    assert nothing["precision"] is None and nothing["recall_std"] is None and nothing["micro_recall"] is None


def test_combine_seeds_rejects_mixed_scenarios_and_empty_input():
    from secretlab.experiments.credit import combine_seeds

    with pytest.raises(ValueError, match="different scenarios"):
        combine_seeds([_summary(1.0, 1.0, 1), _summary(1.0, 1.0, 1, scenario=(8, 1, 1))])
    with pytest.raises(ValueError, match="at least one"):
        combine_seeds([])


def test_mean_over_scenarios_by_hand():
    from secretlab.experiments.credit import combine_seeds, mean_over_scenarios

    a = combine_seeds([_summary(1.0, 1.0, 5, (8, 1, 1)), _summary(0.8, 0.6, 5, (8, 1, 1))])
    b = combine_seeds([_summary(None, None, 0), _summary(0.4, 0.2, 3)])
    out = mean_over_scenarios([a, b])
    # seed 0: (1.0 + 0) / 2 = 0.5; seed 1: (0.8 + 0.4) / 2 = 0.6 -> mean 0.55, std 0.05
    assert out["precision"] == pytest.approx(0.55) and out["precision_std"] == pytest.approx(0.05)
    # recall: seed 0 (1 + 0) / 2 = 0.5, seed 1 (0.6 + 0.2) / 2 = 0.4
    assert out["recall"] == pytest.approx(0.45) and out["recall_std"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="same number of seeds"):
        mean_over_scenarios([a, combine_seeds([_summary(1.0, 1.0, 1)])])


def test_sign_by_activations_on_hand_made_rows():
    from secretlab.credit import CreditRows, sign_by_activations

    activated = np.zeros((3, 5), bool)
    activated[0, [0, 2]] = True      # trajectory 0: two activations
    activated[1, 1] = True           # trajectory 1: one activation, and one after the reward (not counted)
    activated[1, 4] = True
    att = np.zeros((3, 5), np.float32)
    att[0, [0, 2]] = 0.4             # row 0 (traj 0, t=3): mass 0.8 on its activations
    att[1, 1] = 0.5                  # row 1 (traj 1, t=2): mass 0.5
    att[2, 0] = 1.0                  # row 2 (traj 2, t=0): no activation
    rows = CreditRows(traj=np.array([0, 1, 2]), step=np.array([3, 2, 0]), sign=np.array([1, -1, -1]),
                      pred=np.array([1, 1, -1]), correct=np.array([True, False, True]), attention=att)
    table = sign_by_activations(rows, activated)
    assert list(table.index) == [0, 1, 2]
    assert table.loc[2, "rewards"] == 1 and table.loc[2, "true_positive_share"] == 1.0
    assert table.loc[1, "predicted_positive_share"] == 1.0 and table.loc[1, "accuracy"] == 0.0
    assert table.loc[2, "attention_on_activations"] == pytest.approx(0.8)
    assert table.loc[1, "attention_on_activations"] == pytest.approx(0.5)
    assert table.loc[0, "accuracy"] == 1.0


def test_sign_by_activations_reports_the_spread_of_the_mass():
    from secretlab.credit import CreditRows, sign_by_activations

    activated = np.zeros((2, 3), bool)
    activated[:, 0] = True
    att = np.array([[0.2, 0.8, 0.0], [0.6, 0.4, 0.0]], np.float32)  # masses 0.2 and 0.6 at k = 1
    rows = CreditRows(traj=np.array([0, 1]), step=np.array([1, 1]), sign=np.array([1, 1]), pred=np.array([1, 1]),
                      correct=np.array([True, True]), attention=att)
    table = sign_by_activations(rows, activated)
    assert table.loc[1, "attention_on_activations"] == pytest.approx(0.4)
    assert table.loc[1, "attention_on_activations_sd"] == pytest.approx(0.2)  # population sd of 0.2 and 0.6


def test_activation_logits_by_hand():
    from secretlab.credit import CreditRows, activation_logits

    activated = np.zeros((2, 5), bool)
    activated[0, [0, 2]] = True
    activated[1, 4] = True                     # after the reward of row 1: not counted, so row 1 is skipped
    actions = np.array([[3, 1, 0, 2, 2], [0, 0, 0, 0, 0]])
    att = np.zeros((2, 5), np.float32)
    att[0, :4] = [0.5, 0.1, 0.2, 0.2]          # t = 3: others are step 1 only (step 3 is the query itself)
    att[1, :3] = [0.3, 0.3, 0.4]
    rows = CreditRows(traj=np.array([0, 1]), step=np.array([3, 2]), sign=np.array([1, 1]), pred=np.array([1, 1]),
                      correct=np.array([True, True]), attention=att)
    table = activation_logits(rows, activated, actions)
    assert list(table["step"]) == [0, 2] and list(table["order"]) == [0, 1] and list(table["k"]) == [2, 2]
    assert list(table["action"]) == [3, 0] and list(table["distance"]) == [3, 1]
    assert table["logit_gap"].tolist() == pytest.approx([np.log(5.0), np.log(2.0)])
    with pytest.raises(ValueError, match="same shape"):
        activation_logits(rows, activated, actions[:, :4])


def test_activation_score_summary_by_hand():
    import pandas as pd

    from secretlab.credit import activation_score_summary

    gaps = pd.DataFrame({"row": [0, 0, 1], "action": [0, 3, 0], "logit_gap": [1.0, 3.0, 2.0]})
    summary = activation_score_summary(gaps)
    assert summary["up"] == pytest.approx(1.5) and summary["left"] == pytest.approx(3.0)  # action 0 = up, 3 = left
    assert summary["mean"] == pytest.approx(2.0) and summary["sd"] == pytest.approx(np.sqrt(2 / 3))
    assert summary["sd inside a row"] == pytest.approx(0.5)  # row 0: sd 1.0, row 1: sd 0.0
    with pytest.raises(ValueError, match="no activation"):
        activation_score_summary(gaps.iloc[:0])
