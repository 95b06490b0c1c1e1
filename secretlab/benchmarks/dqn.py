"""DQN speed: the seed-batched DQN beside Stable-Baselines3's DQN, same env, network and schedule.

``dqn_env_steps_per_s_per_seed``: environment steps per second *per seed* when
training ``N_SEEDS`` seeds, i.e. (N_SEEDS × steps per seed) / wall-clock. For SB3,
which trains one seed per run, it is its plain steps/s (N seeds = N runs).
Both train the paper's Q-network with batch 32, one update every 4 steps, on
8×8 Triggers (1 trigger, 1 prize, inverted controls) with full-grid observations;
the timed window includes acting, env stepping, replay and the gradient steps
(learning starts after a short random prefill, as in training).

Two batch sizes: ``N_SEEDS`` (10, one arm's seeds) and the batch notebook 06 really
trains in one run at ``default`` (every arm × its seeds, ``dqn_..._notebook_batch``):
batching amortises the per-step Python and the small grouped convolutions, so the
second is the speed a user of the notebook gets.

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


def notebook_batch() -> int:
    """Networks notebook 06 trains in one batched run at ``default``: every arm × its seeds."""
    from secretlab.experiments.inverted import ARMS
    from secretlab.profiles import notebook_params

    return len(ARMS) * int(notebook_params("06_inverted_dynamics", "default")["n_seeds"])


def _ours(steps: int, n_seeds: int = N_SEEDS) -> float:
    from secretlab.agents.dqn import fresh_networks, train_dqn
    from secretlab.data import maze_seeds
    from secretlab.envs import TriggersConfig

    env = TriggersConfig(8, 1, 1, inverted=True)
    run = train_dqn(env, _config(steps), fresh_networks(8, range(n_seeds)),
                    maze_seeds("target", 0, n_seeds)[:, None], seed=0)
    return n_seeds * steps / run.seconds


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
    batch = notebook_batch()
    _ours(100), _ours(100, batch), _sb3(100)  # warm-up: imports, oneDNN kernel selection
    ours, ours_batch, sb3 = [], [], []
    for _ in range(repeats):
        ours.append(_ours(steps))
        ours_batch.append(_ours(steps, batch))
        sb3.append(_sb3(steps))
    common = (f"SB3: {min(sb3):.0f}-{max(sb3):.0f}); same net, batch 32, train every 4 steps, one torch thread")
    return [rate_measurement(
        "dqn_env_steps_per_s_per_seed", float(np.median(ours)), "Stable-Baselines3 DQN (1 seed per run)",
        float(np.median(sb3)), "steps/s",
        note=f"medians of {repeats} interleaved runs of {steps} steps (ours: {N_SEEDS} seeds batched, "
             f"{min(ours):.0f}-{max(ours):.0f}; {common}"),
        rate_measurement(
        "dqn_env_steps_per_s_per_seed_notebook_batch", float(np.median(ours_batch)),
        "Stable-Baselines3 DQN (1 seed per run)", float(np.median(sb3)), "steps/s",
        note=f"as above with notebook 06's batch at default ({batch} networks: every arm × its seeds; "
             f"{min(ours_batch):.0f}-{max(ours_batch):.0f}; {common}")]
