"""φ̂ from 1,000 target trajectories: vectorised scatter-add against a Python loop over D."""
from __future__ import annotations

import time

import numpy as np

from secretlab.bench import Measurement, timed
from secretlab.envs import TriggersConfig
from secretlab.shaping import potential_from_credit

SCENARIO = TriggersConfig(size=8, n_triggers=3, n_prizes=1)


def python_loop_potential(states: np.ndarray, rewards: np.ndarray, rows, n_states: int) -> np.ndarray:
    """Reference: the formula written as loops over rows, steps and trajectories."""
    n, t = rewards.shape
    credit = [[0.0] * t for _ in range(n)]
    for r in range(len(rows.traj)):
        if not rows.correct[r]:
            continue
        tau, i = int(rows.traj[r]), int(rows.step[r])
        for j in range(i + 1):
            credit[tau][j] += float(rows.attention[r, j]) * float(rewards[tau, i])
    phi = [0.0] * n_states
    for tau in range(n):
        for j in range(t):
            s_next = int(states[tau, j + 1])
            if s_next >= 0:
                phi[s_next] += credit[tau][j]
    return np.array(phi) / n


def bench_potential(quick: bool) -> list[Measurement]:
    import torch

    from secretlab.data import DatasetConfig, collect
    from secretlab.model import ModelConfig, RewardModel
    from secretlab.credit import sorted_credit_rows

    n = 100 if quick else 1000
    start = time.perf_counter()
    data = collect(DatasetConfig(SCENARIO, n, seed=0, split="target", fixed_maze_seed=2 * 10**15))
    collect_s = time.perf_counter() - start
    torch.manual_seed(0)
    # Inference cost does not depend on the weights, so an untrained model times it honestly.
    model = RewardModel(ModelConfig()).eval()
    start = time.perf_counter()
    rows = sorted_credit_rows(model, data)
    infer_s = time.perf_counter() - start
    rows.correct[:] = True  # score every row, the worst case for the numpy part
    ours_s = timed(lambda: potential_from_credit(data.states, data.rewards, rows, SCENARIO.n_states), repeat=3)
    ref_s = timed(lambda: python_loop_potential(data.states, data.rewards, rows, SCENARIO.n_states))
    np.testing.assert_allclose(potential_from_credit(data.states, data.rewards, rows, SCENARIO.n_states),
                               python_loop_potential(data.states, data.rewards, rows, SCENARIO.n_states),
                               atol=1e-9)
    total = collect_s + infer_s + ours_s
    return [
        Measurement(f"potential_seconds_{n}_trajectories", total, "s",
                    "same pipeline with a Python-loop potential", collect_s + infer_s + ref_s,
                    (collect_s + infer_s + ref_s) / total,
                    note=f"collect {collect_s:.2f}s + inference {infer_s:.2f}s + potential {ours_s * 1e3:.1f}ms; "
                         f"{len(rows.traj)} reward rows, 8x8 3T/1P"),
        Measurement("potential_numpy_seconds", ours_s, "s", "Python loop over rows and steps", ref_s,
                    ref_s / ours_s, note=f"scatter-add of {len(rows.traj)} attention rows × T={data.horizon}"),
    ]
