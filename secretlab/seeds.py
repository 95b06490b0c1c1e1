"""Where every derived seed comes from: one function, one table (beside :mod:`secretlab.validation`).

A run has one notebook seed; each thing that needs its own randomness (a maze's trajectories, a PPO run, a
DQN network, ...) gets ``seed · stride + base + index`` for its *purpose*. The table below is the whole plan,
so two purposes can be checked not to collide, and a value is never written as arithmetic in place. Maze
seeds follow their own split rule (:func:`secretlab.data.block_seeds`); the tabular Q-learner's random
streams are counter-based (:func:`secretlab.agents.qlearning.stream_keys`).
"""
from __future__ import annotations

from secretlab.validation import check_choice, check_int

#: purpose -> (stride per notebook seed, base): the derived seed is ``seed * stride + base + index``.
SEED_PLAN: dict[str, tuple[int, int]] = {
    "inspector_trajectories": (1000, 0),   # random-policy trajectories of inspector maze ``index``
    "credit_control": (1000, 0),           # shuffled-credit control rows of target maze ``index``
    "ppo_run": (1000, 0),                  # PPO run ``index`` of a keys/doors arm (both arms share it)
    "ppo_actor_env": (1000, 7 * 10**14),   # env of PPO actor ``index`` (random source mazes only)
    "dqn_network": (100_003, 0),           # DQN network ``index`` (arms add their own offset to the index)
    "bench_episode": (1_000_000, 0),       # episode ``index`` of a benchmark's reference loop
}


def derive_seed(seed: int, purpose: str, index: int = 0) -> int:
    """The seed of ``index`` for ``purpose`` under notebook seed ``seed`` (see :data:`SEED_PLAN`)."""
    check_int("seed", seed, minimum=0)
    check_choice("purpose", purpose, tuple(SEED_PLAN))
    check_int("index", index, minimum=0)
    stride, base = SEED_PLAN[purpose]
    return int(seed) * stride + base + int(index)
