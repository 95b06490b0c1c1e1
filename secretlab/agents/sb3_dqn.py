"""The same network and environment for Stable-Baselines3's DQN (the reference ``secretlab bench`` and
notebook 06 compare the seed-batched DQN with)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from secretlab.agents.dqn import DQNConfig
from secretlab.agents.dqn_networks import QNetwork, input_side


def full_grid_env(env, observation: str = "grid"):
    """Wrap a ``secretlab/Triggers-v0`` env (possibly shaped) so it observes the full grid.

    The contract env observes the 3×3 crop; DQN sees the whole maze (docs/design.md §2), given
    by ``env.unwrapped.full_grid()`` as (3, size, size) uint8 in {0, 1}; ``observation="egocentric"``
    gives it re-centred on the agent, (3, 2·size − 1, 2·size − 1), as ``DQNConfig.observation`` does.
    """
    import gymnasium as gym

    side = input_side(env.unwrapped.config.size, observation)

    class FullGridObservation(gym.ObservationWrapper):
        def __init__(self, inner):
            super().__init__(inner)
            self.observation_space = gym.spaces.Box(0, 1, shape=(3, side, side), dtype=np.uint8)

        def observation(self, _):
            return self.env.unwrapped.full_grid(observation)

    return FullGridObservation(env)


def sb3_dqn(env, cfg: DQNConfig, seed: int = 0, verbose: int = 0):
    """Stable-Baselines3's ``DQN``, unchanged, with the paper's network and ``cfg``'s schedule.

    SB3 builds its Q-network as features extractor + linear head: the extractor here is
    :class:`QNetwork` without its head, so both implementations train the same network.
    """
    from stable_baselines3 import DQN
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class PaperFeatures(BaseFeaturesExtractor):
        def __init__(self, observation_space):
            super().__init__(observation_space, features_dim=64)
            net = QNetwork(observation_space.shape[-1])
            self.body = nn.Sequential(net.conv1, nn.ReLU(), net.conv2, nn.ReLU(), net.conv3, nn.ReLU(),
                                      nn.Flatten(), net.fc, nn.ReLU())

        def forward(self, observations):
            return self.body(observations.float())

    exploration_fraction = min(1.0, cfg.exploration_steps / cfg.total_steps)
    return DQN(
        "MlpPolicy", env, learning_rate=cfg.learning_rate, buffer_size=min(cfg.buffer_size, cfg.total_steps),
        learning_starts=cfg.learning_starts, batch_size=cfg.batch_size, gamma=cfg.gamma,
        train_freq=cfg.train_frequency, gradient_steps=1, target_update_interval=cfg.target_update_interval,
        exploration_fraction=exploration_fraction, exploration_initial_eps=cfg.start_e,
        exploration_final_eps=cfg.end_e, max_grad_norm=1e9, seed=seed, verbose=verbose, device="cpu",
        optimize_memory_usage=False,
        policy_kwargs={"features_extractor_class": PaperFeatures, "net_arch": [], "normalize_images": False,
                       "optimizer_class": torch.optim.RMSprop,
                       "optimizer_kwargs": {"alpha": cfg.rmsprop_alpha, "eps": cfg.rmsprop_eps,
                                            "centered": cfg.rmsprop_centered}},
    )
