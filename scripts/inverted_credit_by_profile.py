"""Does a source reward model's credit survive inverted controls? (docs/dqn.md, "The SECRET potential is zero")

Notebook 06 counts this for the profile it runs at. This script asks the same question of a cached
reward model of any profile without training any DQN: for each of the n target mazes of notebook 06
(`maze_seeds("target", seed, n)`, inverted controls, |D| random-policy episodes each) it builds the
paper arm's potential (the model reads the actions taken) and the extension's (effect-labelled actions)
with `secretlab.inverted.target_potentials`, and prints the non-zero rewards in D, how many the model
predicts with the right sign (the only rows that give credit) and the states with φ̂ ≠ 0.

Run: .venv/bin/python scripts/inverted_credit_by_profile.py PROFILE N_PRIZES [N_MAZES]
     (e.g. `paper 1 10`; trains the source reward model first if it is not cached)
"""
import sys

import numpy as np
import torch

from secretlab.data import maze_seeds
from secretlab.inverted import InvertedConfig, target_potentials
from secretlab.agents.dqn import DQNConfig
from secretlab.profiles import PROFILE_NAMES, check_profile, notebook_params
from secretlab.experiments.source import source_model

if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(f"usage: {sys.argv[0]} PROFILE N_PRIZES [N_MAZES]; PROFILE one of {PROFILE_NAMES}")
    torch.set_num_threads(1)
    profile, n_prizes = check_profile(sys.argv[1]), int(sys.argv[2])
    n_mazes = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    params = notebook_params("06_inverted_dynamics", profile)  # φ̂ uses the DQN's γ of that profile
    config = InvertedConfig(1, n_prizes, n_seeds=n_mazes, profile=profile, dqn=DQNConfig(gamma=params["gamma"]),
                            n_target_trajectories=params["n_target_trajectories"])
    model = source_model(config.source_env, profile, config.seed, progress=True)
    _, _, meta = target_potentials(model, config, maze_seeds("target", config.seed, n_mazes))
    print(f"{profile} reward model, {config.scenario}, {n_mazes} inverted target mazes, "
          f"|D| = {config.n_target_trajectories} each")
    for label, prefix in (("actions taken (paper's arm)", ""), ("effect-labelled (extension)", "effect_")):
        rows, correct = np.sum(meta[f"{prefix}n_reward_rows"]), np.sum(meta[f"{prefix}n_correct_rows"])
        nonzero = sum(int(v > 0) for v in meta[f"{prefix}mean_abs_phi"])
        print(f"  {label:30s} predicted correctly {correct:,} of {rows:,} non-zero rewards; "
              f"mazes with φ̂ ≠ 0: {nonzero} of {n_mazes}")
