"""Tabular Q-learning: the (seed × maze)-vectorised learner against a per-step Python Q-learner."""
from __future__ import annotations

import numpy as np

from secretlab.agents.qlearning import QLearningConfig, train_q_learning
from secretlab.bench import Measurement, rate_measurement, timed
from secretlab.envs import TriggersConfig, sample_layouts

SCENARIO = TriggersConfig(size=8, n_triggers=3, n_prizes=1)


def python_q_learning(config: TriggersConfig, n_updates: int, seed: int = 0,
                      lr: float = 0.1, epsilon: float = 0.1, gamma: float = 0.99) -> int:
    """The straightforward reference: one ``gymnasium.make`` env, one Python step and one
    Q-update at a time (same ε-greedy with random tie-breaking). Returns updates done."""
    import gymnasium as gym

    env = gym.make("secretlab/Triggers-v0", size=config.size, n_triggers=config.n_triggers,
                   n_prizes=config.n_prizes, max_steps=config.max_steps)
    rng = np.random.default_rng(seed)
    q = np.zeros((config.n_states, 4))
    _, info = env.reset(seed=seed)
    s = info["state"]
    for _ in range(n_updates):
        if rng.random() < epsilon:
            a = int(rng.integers(4))
        else:
            row = q[s]
            a = int(np.argmax(rng.random(4) * (row == row.max())))
        _, r, term, trunc, info = env.step(a)
        s2 = info["state"]
        target = r + (0.0 if term else gamma * q[s2].max())
        q[s, a] += lr * (target - q[s, a])
        s = s2
        if term or trunc:
            _, info = env.reset(seed=seed)  # same maze, as the vectorised learner does
            s = info["state"]
    return n_updates


def bench_qlearning_updates(quick: bool) -> list[Measurement]:
    n_agents = 120 if quick else 400  # e.g. 3 arms × 4 mazes × 10 seeds (quick)
    n_episodes = 20 if quick else 60
    layouts = sample_layouts(SCENARIO, np.repeat(np.arange(4), n_agents // 4))
    cfg = QLearningConfig(n_episodes=n_episodes, eval_interval=n_episodes)
    result = {}

    def run():
        result["r"] = train_q_learning(SCENARIO, layouts, cfg)

    ours_s = timed(run)
    ours = result["r"].total_updates / ours_s
    n_ref = 10_000 if quick else 40_000
    ref_s = timed(lambda: python_q_learning(SCENARIO, n_ref))
    return [rate_measurement(
        "qlearning_updates_per_s", ours, "per-step Python Q-learner on gymnasium.make env", n_ref / ref_s,
        "updates/s", note=f"{n_agents} agents in lock-step, 8x8 3T/1P, {n_episodes} episodes each, "
                          "incl. greedy evaluation")]
