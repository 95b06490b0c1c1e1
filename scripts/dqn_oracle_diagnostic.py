"""Why the oracle potential hurts DQN (docs/dqn.md): the same networks and mazes with and without shaping.

Run: .venv/bin/python scripts/dqn_oracle_diagnostic.py   (about 2 minutes on 2 cores)
"""
import numpy as np

from secretlab.agents.dqn import DQNConfig, evaluate, fresh_networks, train_dqn
from secretlab.data import maze_seeds
from secretlab.envs.triggers import TriggersConfig, sample_layout
from secretlab.shaping import oracle_potential

env = TriggersConfig(8, 1, 1, inverted=True)
n = 5
mazes = maze_seeds("target", 0, n)
cfg = DQNConfig(total_steps=20000, learning_starts=1000, exploration_steps=6000, target_update_interval=500)
pots = [oracle_potential(env, sample_layout(env, int(m)), cfg.gamma) for m in mazes]
nets = fresh_networks(8, range(n))
run = train_dqn(env, cfg, nets + nets, np.tile(mazes, 2)[:, None], potentials=[None] * n + pots, seed=0)
ev = evaluate(run.q, env, np.tile(mazes, 2), 0.001, 3, seed=1)
for a, name in enumerate(["no shaping", "oracle shaping"]):
    ids = slice(a * n, (a + 1) * n)
    m = (run.episode_network // n == a) & (run.episode_end_step > 15000)
    r = run.episode_return[m]
    print(f"{name}: training episodes in steps 15k-20k: +1 {np.mean(r > 0):.2f} / -1 {np.mean(r < 0):.2f} / "
          f"truncated {np.mean(r == 0):.2f}; greedy: all triggers {ev['all_triggers'][ids].mean():.2f}, "
          f"success {ev['success'][ids].mean():.2f}")
