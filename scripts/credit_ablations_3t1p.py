"""What we tried to make the default-budget model credit the 3-trigger scenario (docs/reward_model.md).

Each variant trains the 8×8 3T/1P reward model on the default budget's 4,000 random-policy
trajectories (seed 0) and scores its credit on 1,000 held-out-maze trajectories (threshold 0.2).
Models are cached like every other reward model, so a rerun only rescores.

Run: .venv/bin/python scripts/credit_ablations_3t1p.py [VARIANT ...]   (3-8 minutes per variant on 2 cores)
"""
import sys
import time

import numpy as np
import torch

from secretlab.credit import credit_rows, credit_scores
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs.triggers import TriggersConfig
from secretlab.training import TrainConfig, model_config_for, source_model, train

BALANCED = (0.1, 0.02, 0.9)  # w(-1), w(0), w(+1): about the inverse of the -1 : +1 frequency (9 : 1)
VARIANTS = {
    "paper": {},
    "no_attention_dropout": {"dropout_attn": 0.0},
    "balanced_weights": {"class_weights": BALANCED},
    "balanced_no_attention_dropout_30_epochs": {"class_weights": BALANCED, "dropout_attn": 0.0, "max_epochs": 30,
                                                "patience": 30},
    "balanced_no_dropout_20_epochs": {"class_weights": BALANCED, "dropout_attn": 0.0, "dropout_dense": 0.0,
                                      "dropout_norm": 0.0, "max_epochs": 20, "patience": 20},
    "balanced_no_attention_dropout_12000_trajectories": {"class_weights": BALANCED, "dropout_attn": 0.0,
                                                         "n_train_trajectories": 12000},
    "warm_start_from_1T1P": "warm",
    "warm_start_from_1T1P_balanced": "warm-balanced",
    "reference_1T1P_paper": "1T1P",  # the default 1T/1P model, for comparison
}
ENV = TriggersConfig(8, 3, 1)


def attention_on_activations(rows, dataset) -> float:
    """Mean over +1 rows (correct or not) of the attention mass on the steps that activated a trigger."""
    mass = [rows.attention[r, : rows.step[r] + 1][dataset.activated[rows.traj[r], : rows.step[r] + 1]].sum()
            for r in range(len(rows.sign)) if rows.sign[r] > 0]
    return float(np.mean(mass)) if mass else float("nan")


def run(name: str):
    spec = VARIANTS[name]
    start = time.perf_counter()
    env = ENV
    if spec == "1T1P":
        env = TriggersConfig(8, 1, 1)
        trained = source_model(env, "default", 0, progress=False)
    elif isinstance(spec, str):  # start from the default 1T/1P model, which does attend to activations
        init = source_model(TriggersConfig(8, 1, 1), "default", 0, progress=False).model.state_dict()
        data = load_or_collect(DatasetConfig(env=ENV, n_trajectories=4000, seed=0, split="train"))
        weights = {"class_weights": BALANCED} if spec == "warm-balanced" else {}
        trained = train(data, model_config_for(data), TrainConfig(seed=0, max_epochs=12, patience=12, **weights),
                        progress=False, initial_state=init)
    else:
        trained = source_model(ENV, "default", 0, progress=False, **spec)
    heldout = load_or_collect(DatasetConfig(env=env, n_trajectories=1000, seed=0, split="heldout"))
    rows = credit_rows(trained.model, heldout)
    try:
        scores = credit_scores(rows, heldout.activated, 0.2)
        credit = (f"precision {scores.precision:.2f} recall {scores.recall:.2f} rows {scores.n_rows:3d}/"
                  f"{scores.n_positive_rewards} AP {scores.average_precision:.3f}")
    except ValueError as err:  # no correct +1 prediction: nothing to score
        credit = str(err).split(":")[0]
    val = trained.history.loc[trained.history["val_loss"].idxmin()]
    credit += f" | attention on activations (all +1 rows) {attention_on_activations(rows, heldout):.2f}"
    print(f"{name:50s} {credit} | best-epoch validation +1 precision "
          f"{val['precision_pos']:.2f} recall {val['recall_pos']:.2f} | {time.perf_counter() - start:.0f} s",
          flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name in sys.argv[1:] or VARIANTS:
        run(name)
