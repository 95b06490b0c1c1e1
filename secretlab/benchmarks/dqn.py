"""DQN speed: the seed-batched DQN beside Stable-Baselines3's DQN, same env, network and schedule.

``dqn_env_steps_per_s_per_seed``: environment steps per second *per seed* when
training ``N_SEEDS`` seeds, i.e. (N_SEEDS × steps per seed) / wall-clock. For SB3,
which trains one seed per run, it is its plain steps/s (N seeds = N runs).
Both train the paper's Q-network with batch 32, one update every 4 steps, on
8×8 Triggers (1 trigger, 1 prize, inverted controls) with full-grid observations;
the timed window includes acting, env stepping, replay and the gradient steps
(learning starts after a short random prefill, as in training).

The machine is shared, so single runs swing (SB3 alone measured 220-645 steps/s
from one run to the next): the two are measured INTERLEAVED, ours then SB3, a
few times after one untimed warm-up each, and the figures are the medians.
"""
from __future__ import annotations

import time

import numpy as np

from secretlab.bench import Measurement, rate_measurement

N_SEEDS = 10


def _config(steps: int):
    from secretlab.agents.dqn import DQNConfig

    return DQNConfig(total_steps=steps, learning_starts=min(200, steps // 4), exploration_steps=max(1, steps // 2),
                     target_update_interval=500, batch_size=32, train_frequency=4, learning_rate=1e-3)


def _ours(steps: int) -> float:
    from secretlab.agents.dqn import fresh_networks, train_dqn
    from secretlab.data import maze_seeds
    from secretlab.envs import TriggersConfig

    env = TriggersConfig(8, 1, 1, inverted=True)
    run = train_dqn(env, _config(steps), fresh_networks(8, range(N_SEEDS)),
                    maze_seeds("target", 0, N_SEEDS)[:, None], seed=0)
    return N_SEEDS * steps / run.seconds


def _sb3(steps: int) -> float:
    import gymnasium as gym
    import torch

    import secretlab  # noqa: F401  (registers the env id)
    from secretlab.determinism import torch_threads
    from secretlab.agents.sb3_dqn import full_grid_env, sb3_dqn

    env = full_grid_env(gym.make("secretlab/Triggers-v0", size=8, n_triggers=1, n_prizes=1, inverted=True))
    with torch_threads(1):  # same thread setting as ours (faster for SB3 too on this machine)
        model = sb3_dqn(env, _config(steps), seed=0)
        start = time.perf_counter()
        model.learn(total_timesteps=steps)
        seconds = time.perf_counter() - start
    del torch
    return steps / seconds


def bench_dqn(quick: bool) -> list[Measurement]:
    steps, repeats = (400, 3) if quick else (3000, 5)
    _ours(100), _sb3(100)  # warm-up: imports, oneDNN kernel selection
    ours, sb3 = [], []
    for _ in range(repeats):
        ours.append(_ours(steps))
        sb3.append(_sb3(steps))
    return [rate_measurement(
        "dqn_env_steps_per_s_per_seed", float(np.median(ours)), "Stable-Baselines3 DQN (1 seed per run)",
        float(np.median(sb3)), "steps/s",
        note=f"medians of {repeats} interleaved runs of {steps} steps (ours: {N_SEEDS} seeds batched, "
             f"{min(ours):.0f}-{max(ours):.0f}; SB3: {min(sb3):.0f}-{max(sb3):.0f}); same net, batch 32, "
             f"train every 4 steps, one torch thread")]
