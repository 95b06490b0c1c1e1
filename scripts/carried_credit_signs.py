"""Why the carried-credit extension carries +1 credit only (docs/shaping.md §6).

Runs the carried-credit arm on 12×12 1T/1P targets (4 mazes × 10 seeds, 400 episodes, |D| = 1,000) with the
8×8 1T/1P source model of a profile, carrying the credit of correct +1 predictions only (the default) and of
correct ±1 predictions.

Run: .venv/bin/python scripts/carried_credit_signs.py [PROFILE]   (default: paper; trains the model if not cached)
"""
import sys

import numpy as np

from secretlab.envs.triggers import TriggersConfig
from secretlab.experiments.source import source_model
from secretlab.transfer import TransferConfig, arm_name, run_transfer

CARRIED = arm_name("secret", "carried")

profile = sys.argv[1] if len(sys.argv) > 1 else "paper"
model = source_model(TriggersConfig(8, 1, 1), profile, 0, progress=False)
for signs in ("positive", "nonzero"):
    config = TransferConfig(target=TriggersConfig(12, 1, 1), n_target_mazes=4, n_seeds=10, n_episodes=400,
                            n_target_trajectories=1000, sensitivity=(), n_boot=500, oracle=False,
                            sources=("secret",), forms=("carried",), cumulative_signs=signs)
    result = run_transfer(config, model)
    negative = [float((p.table < 0).mean()) for p in result.potentials[CARRIED]]
    for arm in ("q_learning", CARRIED):
        s = result.summary(arm)
        print(f"carried {signs:8s} credit | {arm:30s} episodes to 80%: {s['episodes_to_80']} "
              f"{s['episodes_to_80_ci']}")
    print(f"carried {signs:8s} credit | share of states with φ < 0 per maze: {np.round(negative, 3).tolist()}")
