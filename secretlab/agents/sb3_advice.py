"""The advice hook for Stable-Baselines3's DQN: Q(s, ·) = net(s) + Φ(s, ·).

:class:`secretlab.wrappers.AdviceWrapper` puts Φ(s, ·) into a Dict observation
(``{"observation": ..., "advice": ...}``). :class:`AdvisedDQNPolicy` reads the
network's features from ``"observation"`` only and adds ``"advice"`` to its
output, in the online network (action selection) and in the target network
(the TD target at s', read from the replay buffer's next observation) alike.
Q-learning of ``net + Φ`` on the plain reward is look-ahead advice for ``net``
(Wiewiora, Cottrell & Elkan 2003): the same thing as initialising a table at
Q₀ = Φ, so the greedy policy it converges to is the unshaped task's.

Usage::

    env = AdviceWrapper(gym.make("secretlab/Triggers-v0", size=8, n_triggers=3, n_prizes=1), advice)
    agent = stable_baselines3.DQN(AdvisedDQNPolicy, env, gamma=advice.gamma)

CleanRL's ``dqn.py`` needs the same one line where it calls the network:
``q_network(obs["observation"]) + obs["advice"]`` (and likewise for the target network).
"""
from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork

OBSERVATION, ADVICE = "observation", "advice"


def _check_space(observation_space: spaces.Space) -> spaces.Dict:
    if not (isinstance(observation_space, spaces.Dict) and {OBSERVATION, ADVICE} <= set(observation_space.spaces)):
        raise ValueError("AdvisedDQNPolicy needs a Dict observation with 'observation' and 'advice' entries "
                         f"(wrap the env in secretlab.wrappers.AdviceWrapper), got {observation_space}")
    return observation_space


class ObservationFeatures(BaseFeaturesExtractor):
    """Flattens the ``"observation"`` entry only: the advice goes to the output, not into the network."""

    def __init__(self, observation_space: spaces.Dict) -> None:
        inner = _check_space(observation_space).spaces[OBSERVATION]
        super().__init__(observation_space, features_dim=int(spaces.flatdim(inner)))
        self.flatten = th.nn.Flatten()

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        return self.flatten(observations[OBSERVATION].float())


class AdvisedQNetwork(QNetwork):
    """SB3's Q-network with the observation's advice added to every Q-value."""

    def forward(self, obs: Any) -> th.Tensor:
        return super().forward(obs) + obs[ADVICE].float()


class AdvisedDQNPolicy(DQNPolicy):
    """DQN policy whose online and target networks are :class:`AdvisedQNetwork` (Q = net + Φ)."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Discrete, lr_schedule: Any,
                 **kwargs: Any) -> None:
        _check_space(observation_space)
        kwargs.setdefault("features_extractor_class", ObservationFeatures)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def make_q_net(self) -> AdvisedQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return AdvisedQNetwork(**net_args).to(self.device)
