"""Does the seed-batched DQN learn at a small budget? One fixed maze per seed, one DQN config per run.

Trains ``--seeds`` networks from scratch (seed i in maze ``maze_seeds("target", 0, n)[i]``) on 8×8
Triggers (1 trigger, 1 prize by default) and prints: the IQM training success per tenth of the run,
the first step where it reaches 0.8, the success of the FINAL networks frozen (greedy ε = 0 and the
paper's test ε = 0.001), and how far the final Q-functions are from Q* (value iteration,
``scripts/dqn_qstar_fit.py``): the share of states whose greedy action is optimal and the mean Q − Q*.
Any ``DQNConfig`` field can be set as ``key=value`` (``exploration_fraction=f`` sets ``exploration_steps``).

Run (one config):  .venv/bin/python scripts/dqn_learning.py total_steps=12000 gamma=0.99
Options: --seeds N (default 10), --inverted / --normal (controls, default inverted), --prizes K.
Used for the "Learning at the default budget" section of docs/dqn.md (the commands are listed there).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from secretlab import stats
from secretlab.agents.dqn import DQNConfig, evaluate, fresh_networks, train_dqn
from secretlab.data import maze_seeds
from secretlab.envs.triggers import TriggersConfig
from secretlab.inverted import step_buckets
from dqn_qstar_fit import optimal_q  # scripts/ is on sys.path when this file runs as a script

DEFAULTS = dict(total_steps=12_000, learning_starts=1000, exploration_steps=3600, target_update_interval=500,
                learning_rate=2.5e-4)


def parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("changes", nargs="*", help="DQNConfig field=value")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--normal", action="store_true", help="normal controls (default: inverted)")
    parser.add_argument("--prizes", type=int, default=1)
    parser.add_argument("--points", type=int, default=10)
    args = parser.parse_args()
    changes = dict(DEFAULTS)
    changes.update({k: parse_value(v) for k, v in (c.split("=", 1) for c in args.changes)})
    if "exploration_fraction" in changes:
        changes["exploration_steps"] = int(changes.pop("exploration_fraction") * changes["total_steps"])
    cfg = DQNConfig(**changes)
    env = TriggersConfig(8, 1, args.prizes, inverted=not args.normal)
    mazes = maze_seeds("target", 0, args.seeds)
    t0 = time.perf_counter()
    run = train_dqn(env, cfg, fresh_networks(8, range(args.seeds)), mazes[:, None], seed=0)
    seconds = time.perf_counter() - t0
    steps, success, _ = step_buckets(run, np.arange(args.seeds), cfg.total_steps, args.points)
    curve = stats.iqm(success, axis=0)
    reached = np.flatnonzero(curve >= 0.8)
    greedy = evaluate(run.q, env, mazes, 0.0, 1, seed=1)["success"].mean()
    test = evaluate(run.q, env, mazes, cfg.test_e, 5, seed=1)["success"].mean()
    agree, error = [], []
    for i, maze in enumerate(mazes):
        obs, qstar = optimal_q(env, int(maze), cfg.gamma)
        with torch.no_grad():
            qn = run.q(torch.from_numpy(obs)[None], {k: v[i:i + 1] for k, v in run.q.params.items()})[0].numpy()
        agree.append(np.mean(qstar[np.arange(len(qstar)), qn.argmax(1)] >= qstar.max(1) - 1e-6))
        error.append(np.mean(qn - qstar))
    print(" ".join(args.changes) or "(defaults)", f"| {'inverted' if not args.normal else 'normal'} 1T/{args.prizes}P,",
          f"{args.seeds} seeds, {cfg.total_steps} steps, {seconds:.0f} s")
    print("  IQM training success per tenth:", " ".join(f"{v:.2f}" for v in curve))
    print(f"  steps to 0.8: {int(steps[reached[0]]) if len(reached) else 'never'}; frozen final networks: "
          f"greedy success {greedy:.2f}, eps={cfg.test_e} success {test:.2f}")
    print(f"  vs Q*: greedy action optimal in {np.mean(agree):.2f} of the states, mean Q - Q* {np.mean(error):+.3f}")


if __name__ == "__main__":
    main()
