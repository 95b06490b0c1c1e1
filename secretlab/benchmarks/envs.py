"""Environment stepping and trajectory collection against a per-step Gymnasium loop."""
from __future__ import annotations

import numpy as np

from secretlab.bench import Measurement, rate_measurement, timed
from secretlab.data import DatasetConfig, collect
from secretlab.envs import BatchedTriggers, TriggersConfig
from secretlab.seeds import derive_seed

PAPER_SCENARIO = TriggersConfig(size=8, n_triggers=3, n_prizes=1)


def gym_loop_collect(config: TriggersConfig, n_trajectories: int, seed: int = 0) -> int:
    """The straightforward reference: one Gymnasium env, one Python step at a time,
    recording what the dataset records. Returns the number of env steps taken."""
    import gymnasium as gym

    env = gym.make("secretlab/Triggers-v0", size=config.size, n_triggers=config.n_triggers,
                   n_prizes=config.n_prizes, max_steps=config.max_steps)
    rng = np.random.default_rng(seed)
    steps = 0
    for i in range(n_trajectories):
        obs, info = env.reset(seed=derive_seed(seed, "bench_episode", i))
        record = {"obs": [], "actions": [], "rewards": [], "states": [info["state"]], "activated": []}
        done = False
        while not done:
            action = int(rng.integers(4))
            record["obs"].append(obs)
            record["actions"].append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            record["rewards"].append(reward)
            record["states"].append(info["state"])
            record["activated"].append(info["activated"])
            steps += 1
            done = terminated or truncated
    return steps


def bench_env_stepping(quick: bool) -> list[Measurement]:
    n_envs = 1024 if quick else 4096
    n_steps = 50 if quick else 200
    env = BatchedTriggers(PAPER_SCENARIO, n_envs, obs_mode="crop")
    env.reset(seeds=np.arange(n_envs))
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, size=(n_steps, n_envs))

    def run_batched():
        for a in actions:
            env.step(a)

    batched_rate = n_envs * n_steps / timed(run_batched)
    import gymnasium as gym

    ref_env = gym.make("secretlab/Triggers-v0", size=8, n_triggers=3, n_prizes=1)
    ref_steps = 5_000 if quick else 20_000

    def run_reference():
        ref_env.reset(seed=0)
        for i in range(ref_steps):
            _, _, term, trunc, _ = ref_env.step(int(actions[i % n_steps, i % n_envs]))
            if term or trunc:
                ref_env.reset()

    ref_rate = ref_steps / timed(run_reference)
    return [rate_measurement(
        "collect_env_steps_per_s", batched_rate, "gymnasium.make env, per-step Python loop", ref_rate,
        "steps/s", note=f"{n_envs} batched mazes, 8x8 3T/1P, crop observations")]


def bench_collect_trajectories(quick: bool) -> list[Measurement]:
    n = 4_000 if quick else 40_000
    config = DatasetConfig(PAPER_SCENARIO, n_trajectories=n, seed=123)
    ours_s = timed(lambda: collect(config))
    n_ref = 100 if quick else 400
    ref_s = timed(lambda: gym_loop_collect(PAPER_SCENARIO, n_ref))
    return [
        rate_measurement("collect_trajectories_per_s", n / ours_s, f"per-step Gymnasium loop ({n_ref} trajectories)",
                         n_ref / ref_s, "trajectories/s", note=f"{n:,} trajectories, 8x8 3T/1P, T=200"),
        Measurement(f"collect_{n // 1000}k_trajectories_seconds", ours_s, "s",
                    "per-step Gymnasium loop, extrapolated", n * ref_s / n_ref, n * ref_s / n_ref / ours_s,
                    note="duration: ratio = reference / ours"),
    ]
