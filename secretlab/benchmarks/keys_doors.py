"""Keys/doors trajectory collection: batched policy calls against SB3's per-step ``predict`` loop."""
from __future__ import annotations

import numpy as np
import torch

from secretlab.bench import Measurement, rate_measurement, timed
from secretlab.seeds import derive_seed


def sb3_predict_loop(model, env_config, n_trajectories: int, seed: int = 0) -> int:
    """The straightforward reference: one env, ``model.predict`` on every step (sampled actions),
    recording what the dataset records. Returns the number of env steps taken."""
    from secretlab.agents.ppo import AgentObservation
    from secretlab.envs.keys_doors import KeysDoorsEnv

    env = AgentObservation(KeysDoorsEnv(n_rooms=env_config.n_rooms, room_size=env_config.room_size,
                                           max_steps=env_config.max_steps))
    steps = 0
    for i in range(n_trajectories):
        obs, info = env.reset(seed=derive_seed(seed, "bench_episode", i))
        record = {"obs": [], "actions": [], "rewards": [], "states": [info["state"]]}
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=False)
            record["obs"].append(env.unwrapped.gen_obs()["image"])
            record["actions"].append(int(action))
            obs, reward, terminated, truncated, info = env.step(int(action))
            record["rewards"].append(reward)
            record["states"].append(info["state"])
            steps += 1
            done = terminated or truncated
    return steps


def bench_collect_keys_doors(quick: bool) -> list[Measurement]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-unit MLP: extra threads only add contention on 2 cores
    try:
        return _collect_keys_doors(quick)
    finally:
        torch.set_num_threads(threads)  # leave later benchmarks as they were


def _collect_keys_doors(quick: bool) -> list[Measurement]:
    from secretlab.agents.ppo import PPOConfig, make_ppo
    from secretlab.data.keys_doors import CollectConfig, collect
    from secretlab.envs.keys_doors import KeysDoorsConfig

    env_config = KeysDoorsConfig(n_rooms=2, room_size=3, max_steps=30 if quick else None)
    n = 48 if quick else 512
    torch.manual_seed(0)
    model = make_ppo(env_config, PPOConfig(n_envs=1, batch_size=64), seed=0)  # untrained: same cost per call
    config = CollectConfig(env=env_config, n_trajectories=n, seed=0, agent={"bench": True})
    ours_steps = [0]

    def run_ours():
        ours_steps[0] = int(collect(config, model.policy).lengths.sum())

    seconds = timed(run_ours)
    ours = ours_steps[0] / seconds
    ref_n = n // 4
    ref_steps = [0]

    def run_ref():
        ref_steps[0] = sb3_predict_loop(model, env_config, ref_n)

    ref_seconds = timed(run_ref)
    ref = ref_steps[0] / ref_seconds
    return [rate_measurement("collect_keys_doors_steps_per_s", ours, "SB3 model.predict per step, one env",
                             ref, "steps/s", note=f"{n} episodes, 256 in lockstep, sampled PPO actions")]
