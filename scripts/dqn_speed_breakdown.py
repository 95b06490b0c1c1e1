"""Where the seed-batched DQN's time goes (docs/dqn.md, "Speed").

Runs the `secretlab bench` DQN workload (10 seeds, 3,000 steps each, 8×8 1T/1P inverted, batch 32, one update
every 4 steps after 200 random steps) three ways, interleaved, 3 repeats, and prints medians:
  full           - as in the bench;
  no updates     - the same loop with no gradient step (acting forward + env + replay);
  random policy  - no network at all (env + replay + loop).
The differences give the cost of the gradient steps and of acting.
Run: .venv/bin/python scripts/dqn_speed_breakdown.py   (about 1 minute)
"""
from dataclasses import replace

import numpy as np

from secretlab.agents.dqn import fresh_networks, train_dqn
from secretlab.benchmarks.dqn import N_SEEDS, _config
from secretlab.data import maze_seeds
from secretlab.envs import TriggersConfig

STEPS = 3000
env = TriggersConfig(8, 1, 1, inverted=True)
base = _config(STEPS)
variants = {"full": base, "no updates": replace(base, train_frequency=10**9),
            "random policy": replace(base, train_frequency=10**9, learning_starts=STEPS)}
seconds: dict[str, list[float]] = {k: [] for k in variants}
for _ in range(3):
    for name, cfg in variants.items():
        run = train_dqn(env, cfg, fresh_networks(8, range(N_SEEDS)), maze_seeds("target", 0, N_SEEDS)[:, None], seed=0)
        seconds[name].append(run.seconds)
med = {k: float(np.median(v)) for k, v in seconds.items()}
n_updates = len(range(base.learning_starts, STEPS, base.train_frequency))
n_acts = STEPS - base.learning_starts
print(f"median seconds for {STEPS} steps x {N_SEEDS} seeds: " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
print(f"full: {N_SEEDS * STEPS / med['full']:.0f} seed-steps/s")
print(f"gradient step of {N_SEEDS} networks: {(med['full'] - med['no updates']) / n_updates * 1e3:.2f} ms "
      f"({(med['full'] - med['no updates']) / med['full']:.0%} of the time)")
print(f"acting forward: {(med['no updates'] - med['random policy']) / n_acts * 1e3:.2f} ms per step "
      f"({(med['no updates'] - med['random policy']) / med['full']:.0%})")
print(f"env + replay + loop: {med['random policy'] / STEPS * 1e3:.3f} ms per step ({med['random policy'] / med['full']:.0%})")
print(f"if acting, env and replay were free: {N_SEEDS * STEPS / (med['full'] - med['no updates']):.0f} seed-steps/s")
