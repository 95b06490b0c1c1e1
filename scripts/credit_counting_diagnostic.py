"""Does the 8×8 3T/1P reward model count the activations? (docs/reward_model.md, "Why the default model does not count")

For the cached 3T/1P source model of each profile given (seed 0) this prints, on 1,000 held-out
trajectories: the credit scores; the sign predictions and the attention mass on the activations by the
number k of activations before the reward (mean and spread); and the attention score of each activation
above the rest of its row (``secretlab.credit.activation_logits``), by activating action, by trigger order
and by distance to the reward, with its spread inside a row. A model that counts with one softmax head puts
the same score on every activation, whatever its direction or context.

Run: .venv/bin/python scripts/credit_counting_diagnostic.py [default] [paper]
(seconds per profile with a warm cache; an uncached `paper` model trains for about an hour)
"""
import sys

import numpy as np
import pandas as pd
import torch

from secretlab.credit import activation_logits, activation_score_summary, credit_rows, credit_scores, sign_by_activations
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs.triggers import ACTION_NAMES, TriggersConfig
from secretlab.experiments.source import source_model

ENV = TriggersConfig(8, 3, 1)


def diagnose(profile: str) -> None:
    trained = source_model(ENV, profile, 0, progress=False)
    heldout = load_or_collect(DatasetConfig(env=ENV, n_trajectories=1000, seed=0, split="heldout"))
    rows = credit_rows(trained.model, heldout)
    scores = credit_scores(rows, heldout.activated, 0.2)
    print(f"== {profile}: precision {scores.precision:.3f} recall {scores.recall:.3f} "
          f"({scores.n_rows} of {scores.n_positive_rewards} +1 rows correct)")
    print(sign_by_activations(rows, heldout.activated).round(3).to_string())
    gaps = activation_logits(rows.correct_positive, heldout.activated, heldout.actions)
    summary = activation_score_summary(gaps)
    print(f"activation score above the rest of the row (correct +1 rows): mean {summary['mean']:.2f}, "
          f"sd {summary['sd']:.2f}, sd inside a row {summary['sd inside a row']:.2f}")
    gaps["action"] = [ACTION_NAMES[a] for a in gaps["action"]]
    gaps["distance"] = pd.cut(gaps["distance"], [0, 10, 30, 60, 100, 200])
    for by in ("action", "order", "distance"):
        table = gaps.groupby(by, observed=True).logit_gap.agg(["mean", "std", "count"]).round(2)
        print(f"by {by}: " + ", ".join(f"{key} {r['mean']:.2f} ± {r['std']:.2f} (n={int(r['count'])})"
                                      for key, r in table.iterrows()))
    print(flush=True)


if __name__ == "__main__":
    torch.set_num_threads(2)
    np.set_printoptions(precision=3)
    for name in sys.argv[1:] or ["default"]:
        diagnose(name)
