"""What we tried to make the reward model credit the 3-trigger scenario (docs/reward_model.md).

Each variant trains the 8×8 3T/1P reward model (seed 0) with explicit overrides of the shared
source-model recipe and scores its credit on 1,000 held-out-maze trajectories (threshold 0.2).
Besides precision/recall it prints how the sign predictions depend on the number k of trigger
activations before each reward (the model has to count to three) and the attention mass on the
activation steps. Models are cached like every other reward model, so a rerun only rescores.

The variants before the warm start train from a fresh init (``warm_start=False``); the warm-start
variants start from the cached default 8×8 1T/1P model of the same seed (``source_model``'s warm start),
with the given TrainConfig changes for the fine-tuning.

Run: .venv/bin/python scripts/credit_ablations_3t1p.py [VARIANT ...]   (3-30 minutes per variant on one core)
     .venv/bin/python scripts/credit_ablations_3t1p.py --list   (the variant names)
"""
import sys
import time

import torch

from secretlab.credit import credit_rows, credit_scores, sign_by_activations
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs.triggers import TriggersConfig
from secretlab.experiments.source import source_model

BALANCED = (0.1, 0.02, 0.9)  # w(-1), w(0), w(+1): about the inverse of the natural -1 : +1 frequency (9 : 1)
# The recipe before success_share (the random policy's 7% +1), from a fresh init.
NATURAL = {"success_share": "natural", "lr": 1e-3, "warm_start": False}
# The warm-start fine-tuning's batch and schedule; patience above max_epochs, so every epoch runs (the best is kept).
FINE_TUNE = {"batch_size": 8, "lr_schedule": "cosine", "patience": 100}
# The same at lr 3e-4 with one epoch of linear warm-up: the soft, even solution that more data sharpens.
LOW_LR_WARM_UP = {**FINE_TUNE, "lr": 3e-4, "warmup_epochs": 1}
VARIANTS = {
    # --- natural share of successful episodes (7%), lr 1e-3: the first sessions' recipe
    "natural": {**NATURAL, "max_epochs": 12, "patience": 6},
    "natural_no_attention_dropout": {**NATURAL, "dropout_attn": 0.0, "max_epochs": 12, "patience": 6},
    "natural_balanced_weights": {**NATURAL, "class_weights": BALANCED, "max_epochs": 12, "patience": 6},
    "natural_balanced_weights_12000": {**NATURAL, "class_weights": BALANCED, "dropout_attn": 0.0,
                                       "n_train_trajectories": 12000, "max_epochs": 12, "patience": 6},
    "natural_lr_3e-4_20_epochs": {"success_share": "natural", "lr": 3e-4, "max_epochs": 20, "patience": 20,
                                  "warm_start": False},
    # --- half of the episodes with a +1 (success_share = 0.5, the recipe now)
    "share_0.5_lr_1e-3_20_epochs": {"lr": 1e-3, "warm_start": False, "max_epochs": 20, "patience": 20},
    "share_0.5_lr_1e-3_no_attention_dropout_20_epochs": {"lr": 1e-3, "dropout_attn": 0.0, "warm_start": False,
                                                         "max_epochs": 20, "patience": 20},
    "share_0.5_lr_3e-4_30_epochs": {"max_epochs": 30, "patience": 30, "warm_start": False},
    "share_0.5_12000_lr_3e-4_20_epochs": {"n_train_trajectories": 12000, "max_epochs": 20, "patience": 20,
                                          "warm_start": False},
    "share_0.3_12000_lr_3e-4_20_epochs": {"success_share": 0.3, "n_train_trajectories": 12000, "max_epochs": 20,
                                          "patience": 20, "warm_start": False},
    "share_0.5_12000_lr_1e-3_cosine_20_epochs": {"n_train_trajectories": 12000, "lr": 1e-3, "lr_schedule": "cosine",
                                                 "warmup_epochs": 1, "max_epochs": 20, "patience": 20,
                                                 "warm_start": False},
    "share_0.5_12000_lr_3e-4_40_epochs": {"n_train_trajectories": 12000, "max_epochs": 40, "patience": 40,
                                          "warm_start": False},
    # --- fresh init, smaller batches
    "share_0.5_batch_8_lr_3e-4": {"batch_size": 8, "patience": 100, "warm_start": False},
    # --- warm start from the default 1T/1P model (same seed), then fine-tune with these changes
    "warm_start_batch_32_lr_3e-4": {"warm_start": {"patience": 100}},
    "warm_start_batch_32_lr_3e-4_24_epochs": {"warm_start": {"max_epochs": 24, "patience": 100}},
    "warm_start_batch_8_lr_3e-4": {"warm_start": {"batch_size": 8, "patience": 100}},
    "warm_start_batch_8_lr_3e-4_cosine": {"warm_start": FINE_TUNE},
    "warm_start_batch_4_lr_3e-4_cosine": {"warm_start": {"batch_size": 4, "lr_schedule": "cosine", "patience": 100}},
    "warm_start_batch_8_lr_1e-3_cosine": {"warm_start": {**FINE_TUNE, "lr": 1e-3}},  # the default profile's (patience 12)
    "warm_start_batch_8_lr_2e-3_cosine": {"warm_start": {**FINE_TUNE, "lr": 2e-3}},
    "warm_start_batch_8_lr_1e-3_cosine_20_epochs": {"warm_start": {**FINE_TUNE, "lr": 1e-3, "max_epochs": 20}},
    # --- the same fine-tuning with a linear warm-up (docs/reward_model.md, "Learning rate, warm-up and position offsets")
    "warm_start_batch_8_lr_1e-3_cosine_warmup_1": {"warm_start": {**FINE_TUNE, "lr": 1e-3, "warmup_epochs": 1}},
    "warm_start_batch_8_lr_1e-3_cosine_warmup_3": {"warm_start": {**FINE_TUNE, "lr": 1e-3, "warmup_epochs": 3}},
    "warm_start_batch_8_lr_1e-3_cosine_weight_decay_0.1": {"warm_start": {**FINE_TUNE, "lr": 1e-3,
                                                                          "weight_decay": 0.1}},
    "warm_start_batch_8_lr_5e-4_cosine_warmup_1": {"warm_start": {**FINE_TUNE, "lr": 5e-4, "warmup_epochs": 1}},
    "warm_start_batch_8_lr_3e-4_cosine_warmup_1": {"warm_start": LOW_LR_WARM_UP},
    "warm_start_batch_8_lr_3e-4_cosine_warmup_1_24_epochs": {"warm_start": {**LOW_LR_WARM_UP, "max_epochs": 24}},
    # --- lr 3e-4 with warm-up on a larger 3T/1P training set (the start model keeps the profile's 4,000):
    # trajectories x epochs, docs/reward_model.md "More data at lr 3e-4"
    **{f"warm_start_batch_8_lr_3e-4_cosine_warmup_1_{n}x{epochs}": {
        "warm_start": {**LOW_LR_WARM_UP, "n_train_trajectories": n, "max_epochs": epochs}}
       for n, epochs in [(12000, 4), (8000, 12), (16000, 6), (16000, 12), (32000, 6), (24000, 12), (48000, 6), (32000, 12),
                         (64000, 6)]},
    **{f"warm_start_batch_32_lr_{name}_cosine_warmup_1_32000x6": {
        "warm_start": {**LOW_LR_WARM_UP, "batch_size": 32, "lr": lr, "n_train_trajectories": 32000, "max_epochs": 6}}
       for name, lr in [("3e-4", 3e-4), ("6e-4", 6e-4)]},
}
ENV = TriggersConfig(8, 3, 1)


def run(name: str) -> None:
    start = time.perf_counter()
    trained = source_model(ENV, "default", 0, progress=False, **VARIANTS[name])
    heldout = load_or_collect(DatasetConfig(env=ENV, n_trajectories=1000, seed=0, split="heldout"))
    rows = credit_rows(trained.model, heldout)
    try:
        scores = credit_scores(rows, heldout.activated, 0.2)
        credit = (f"precision {scores.precision:.3f} recall {scores.recall:.3f} rows {scores.n_rows}/"
                  f"{scores.n_positive_rewards} AP {scores.average_precision:.3f}")
    except ValueError as err:  # no correct +1 prediction: nothing to score
        credit = str(err).split(":")[0]
    print(f"== {name}: {credit} | {len(trained.history)} epochs | {time.perf_counter() - start:.0f} s", flush=True)
    print(sign_by_activations(rows, heldout.activated).round(3).to_string(), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(VARIANTS))
        sys.exit()
    unknown = [name for name in sys.argv[1:] if name not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; run with --list for the names")
    torch.set_num_threads(1)
    for name in sys.argv[1:] or VARIANTS:
        run(name)
