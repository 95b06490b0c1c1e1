"""RL agents trained on Triggers: tabular Q-learning (vectorised over seeds and mazes).

Other agents (DQN, PPO) live beside it in their own modules.
"""
from secretlab.agents.qlearning import (
    QLearningConfig,
    QLearningResult,
    train_q_learning,
    transition_table,
    value_iteration,
)

__all__ = ["QLearningConfig", "QLearningResult", "train_q_learning", "transition_table", "value_iteration"]
