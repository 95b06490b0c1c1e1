"""What a Q-network reads: the paper's full grid or the egocentric grid (re-centred on the agent)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from secretlab.agents.dqn import (DQNConfig, QNetwork, SeedBatchedQ, evaluate, fresh_networks, input_side,
                                  networks_from_stacked, train_dqn)
from secretlab.envs import TriggersConfig
from secretlab.envs.triggers import egocentric_grid, full_grid

ENV = TriggersConfig(size=5, n_triggers=1, n_prizes=1, inverted=True, max_steps=20)
EGO = DQNConfig(total_steps=80, learning_starts=20, exploration_steps=40, target_update_interval=20, batch_size=4,
                train_frequency=2, learning_rate=1e-3, observation="egocentric")


def test_egocentric_grid_by_hand():
    # 3×3 maze, agent at (0, 2) (top right), trigger at (2, 0), prize at (1, 1): a 5×5 view with the agent at (2, 2)
    agent = np.array([[0, 2]])
    triggers, prizes = np.array([[[2, 0]]]), np.array([[[1, 1]]])
    alive = np.ones((1, 1), bool)
    view = egocentric_grid(agent, triggers, alive, prizes, alive, 3)[0]
    assert view.shape == (3, 5, 5)
    inside = np.zeros((5, 5), np.uint8)
    inside[2:5, 0:3] = 1  # grid rows 0..2 -> view rows 2..4, columns 0..2 -> view columns 0..2
    np.testing.assert_array_equal(view[0], inside)
    assert view[1, 4, 0] == 1 and view[1].sum() == 1  # trigger two rows down, two columns left
    assert view[2, 3, 1] == 1 and view[2].sum() == 1  # prize one down, one left
    # a trigger that is gone is not drawn; the full grid of the same maze holds the same objects
    assert egocentric_grid(agent, triggers, ~alive, prizes, alive, 3)[0, 1].sum() == 0
    grid = full_grid(agent, triggers, alive, prizes, alive, 3)[0]
    assert grid[1:].sum() == view[1:].sum() == 2


def test_a_network_reads_one_view_and_its_weights_fit_only_that_view():
    assert input_side(8, "grid") == 8 and input_side(8, "egocentric") == 15
    net = QNetwork(8, observation="egocentric")
    assert net(torch.zeros(2, 3, 15, 15)).shape == (2, 4)
    ego = SeedBatchedQ(fresh_networks(8, [0, 1], "egocentric"))
    assert ego.observation == "egocentric" and ego.network(1).observation == "egocentric"
    with pytest.raises(ValueError, match="egocentric view"):
        networks_from_stacked(SeedBatchedQ(fresh_networks(8, [0])).stacked_state(), 8, observation="egocentric")
    with pytest.raises(ValueError, match="grid view"):
        networks_from_stacked(ego.stacked_state(), 8)
    with pytest.raises(ValueError, match="observation"):
        SeedBatchedQ(fresh_networks(8, [0]) + fresh_networks(8, [1], "egocentric"))
    with pytest.raises(ValueError, match="observation must be one of"):
        DQNConfig(observation="pixels")


def test_egocentric_dqn_trains_evaluates_and_refuses_networks_of_the_other_view():
    seeds = np.array([[5], [6]])
    run = train_dqn(ENV, EGO, fresh_networks(5, [0, 1], "egocentric"), seeds, seed=1)
    again = train_dqn(ENV, EGO, fresh_networks(5, [0, 1], "egocentric"), seeds, seed=1)
    np.testing.assert_array_equal(run.episode_end_step, again.episode_end_step)
    assert run.q.params["fc.weight"].shape[-1] == 16 * 5 * 5  # a 9×9 input: 9 -> 5 -> 5 -> 5
    ev = evaluate(run.q, ENV, np.array([5, 6]), n_episodes=1)
    assert ev["success"].shape == (2, 1)
    with pytest.raises(ValueError, match="observation"):
        train_dqn(ENV, EGO, fresh_networks(5, [0, 1]), seeds)
    with pytest.raises(ValueError, match="observation"):
        train_dqn(ENV, replace(EGO, observation="grid"), fresh_networks(5, [0, 1], "egocentric"), seeds)


def test_inverted_experiment_needs_one_view_for_source_and_target():
    from secretlab.experiments.inverted import InvertedConfig

    with pytest.raises(ValueError, match="transferred weights read one view"):
        InvertedConfig(dqn=EGO, source_dqn=replace(EGO, observation="grid"))


def test_stable_baselines3_env_sees_the_same_egocentric_view():
    import gymnasium as gym

    import secretlab  # noqa: F401  (registers the env id)
    from secretlab.agents.sb3_dqn import full_grid_env
    from secretlab.envs.batched import BatchedTriggers

    env = full_grid_env(gym.make("secretlab/Triggers-v0", size=5, n_triggers=1, n_prizes=1), "egocentric")
    obs, _ = env.reset(seed=3)
    assert obs.shape == env.observation_space.shape == (3, 9, 9)
    batched = BatchedTriggers(TriggersConfig(5, 1, 1), 1, obs_mode="egocentric")
    np.testing.assert_array_equal(batched.reset(seeds=np.array([3]))[0], obs)
