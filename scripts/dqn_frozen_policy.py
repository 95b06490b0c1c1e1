"""Training success vs the frozen final policy of the source DQNs (docs/dqn.md, "policy churn").

Trains (or loads from the cache) 5 source DQNs on 8×8 1T/1P with normal controls, 30k steps each on their
own maze, then runs the final networks frozen at several ε on the same mazes.
Run: .venv/bin/python scripts/dqn_frozen_policy.py   (about 3 minutes on 2 cores when not cached)
"""
from secretlab.agents.dqn import DQNConfig, SeedBatchedQ, evaluate, networks_from_stacked
from secretlab.inverted import InvertedConfig, source_maze_seeds, source_networks

cfg = DQNConfig(total_steps=30000, exploration_steps=6000, learning_starts=1000, target_update_interval=500,
                learning_rate=2.5e-4)
config = InvertedConfig(n_triggers=1, n_prizes=1, n_seeds=5, dqn=cfg, source_dqn=cfg, source_mazes="target")
state, summary = source_networks(config)
print(f"training success, episodes in the last 20% of steps: {summary['train_success_last_20pct']:.2f}")
q = SeedBatchedQ(networks_from_stacked(state, config.size))
mazes = source_maze_seeds(config)[:, 0]
for eps in (0.0, 0.001, 0.01, 0.05):
    ev = evaluate(q, config.source_env, mazes, eps, 10, seed=0)
    print(f"frozen final networks, epsilon {eps}: success {ev['success'].mean():.2f}, "
          f"all triggers activated {ev['all_triggers'].mean():.2f} (10 episodes x 5 networks)")
