"""The advice hook of the seed-batched DQN: q(s, ·) = net(s) + Φ(s, ·) in acting and in the TD target."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from secretlab.advice import Advice
from secretlab.agents.dqn import (
    DQNConfig,
    ReplayBuffers,
    SeedBatchedQ,
    StackedAdvice,
    evaluate,
    fresh_networks,
    make_optimizer,
    td_loss,
    train_dqn,
    update_step,
)
from secretlab.envs import TriggersConfig, sample_layout
from secretlab.envs.batched import BatchedTriggers
from secretlab.shaping import Potential

ENV = TriggersConfig(size=5, n_triggers=1, n_prizes=1, inverted=True, max_steps=20)
TINY = DQNConfig(total_steps=120, learning_starts=30, exploration_steps=60, target_update_interval=25,
                 batch_size=4, train_frequency=2, learning_rate=1e-3)


def _advice(maze: int, table: np.ndarray, gamma: float = TINY.gamma) -> Advice:
    return Advice(table, ENV, sample_layout(ENV, maze), gamma, 1, "custom")


def test_stacked_advice_reads_each_networks_own_table():
    rng = np.random.default_rng(0)
    tables = [rng.normal(size=(ENV.n_states, 4)) for _ in range(2)]
    stacked = StackedAdvice([_advice(11, tables[0]), None, _advice(13, tables[1])], ENV,
                            np.array([[11], [12], [13]]), TINY.gamma)
    keys = rng.integers(0, ENV.n_states, (3, 5))
    phi = stacked(keys).numpy()
    assert phi.shape == (3, 5, 4)
    np.testing.assert_allclose(phi[0], tables[0][keys[0]], rtol=1e-6)
    np.testing.assert_array_equal(phi[1], 0.0)
    np.testing.assert_allclose(phi[2], tables[1][keys[2]], rtol=1e-6)


def test_update_step_learns_net_plus_advice_by_hand():
    """The loss of an advised step is the TD loss of (net + Φ) at s and of (target net + Φ) at s'."""
    rng = np.random.default_rng(1)
    table = rng.normal(size=(ENV.n_states, 4))
    stacked = StackedAdvice([_advice(7, table)], ENV, np.array([[7]]), TINY.gamma)
    q = SeedBatchedQ(fresh_networks(5, [0]))
    target = q.detached_copy()
    obs = torch.from_numpy(rng.integers(0, 2, (1, 4, 3, 5, 5)).astype(np.uint8))
    next_obs = torch.from_numpy(rng.integers(0, 2, (1, 4, 3, 5, 5)).astype(np.uint8))
    actions = torch.tensor([[0, 1, 2, 3]])
    rewards = torch.tensor([[0.0, 1.0, -1.0, 0.0]])
    terminated = torch.tensor([[False, True, False, False]])
    s, s2 = torch.tensor([[0, 3, 5, 9]]), torch.tensor([[1, 4, 6, 2]])
    with torch.no_grad():
        phi_s, phi_s2 = torch.as_tensor(table, dtype=torch.float32)[s], torch.as_tensor(table, dtype=torch.float32)[s2]
        expected = td_loss(q(obs) + phi_s, q(next_obs, target) + phi_s2, actions, rewards, terminated,
                           TINY.gamma, TINY.huber_delta)
    loss = update_step(q, target, make_optimizer(q, TINY), (obs, actions, rewards, next_obs, terminated, s, s2),
                       TINY, stacked)
    assert loss == pytest.approx(float(expected), rel=1e-6)
    # without advice the same batch gives the plain network's loss, which differs
    q0 = SeedBatchedQ(fresh_networks(5, [0]))
    plain = update_step(q0, q0.detached_copy(), make_optimizer(q0, TINY), (obs, actions, rewards, next_obs, terminated),
                        TINY)
    assert plain != pytest.approx(loss)


def test_zero_advice_changes_nothing():
    """Φ ≡ 0 is the unadvised run, bit for bit (same exploration, same replay draws)."""
    seeds = np.array([[5], [6]])
    zero = [_advice(5, np.zeros((ENV.n_states, 4))), _advice(6, np.zeros((ENV.n_states, 4)))]
    a = train_dqn(ENV, TINY, fresh_networks(5, [0, 1]), seeds, seed=3)
    b = train_dqn(ENV, TINY, fresh_networks(5, [0, 1]), seeds, seed=3, advice=zero)
    np.testing.assert_array_equal(a.episode_end_step, b.episode_end_step)
    np.testing.assert_array_equal(a.episode_return, b.episode_return)
    for k in a.q.params:
        torch.testing.assert_close(a.q.params[k], b.q.params[k], rtol=0, atol=0)


def _always(action: int) -> np.ndarray:
    table = np.zeros((ENV.n_states, 4))
    table[:, action] = 100.0
    return table


def test_advice_steers_acting_in_training_and_in_evaluation():
    """Φ(s, a) = 100 everywhere for one action a outweighs a fresh network: the advised agent only presses a,
    though the network alone would start with another action."""
    maze = 5
    q = SeedBatchedQ(fresh_networks(5, [0]))
    env = BatchedTriggers(ENV, 1, obs_mode="grid")
    own = int(q(torch.from_numpy(env.reset(seeds=np.array([maze])))[:, None])[0, 0].argmax())
    advised_action = (own + 2) % 4
    cfg = DQNConfig(total_steps=60, learning_starts=0, exploration_steps=1, start_e=0.0, end_e=0.0,
                    target_update_interval=25, batch_size=4, train_frequency=1000, learning_rate=1e-3)
    advice = [_advice(maze, _always(advised_action))]
    run = train_dqn(ENV, cfg, fresh_networks(5, [0]), np.array([[maze]]), seed=0, advice=advice)
    scripted = BatchedTriggers(ENV, 1, obs_mode="none")
    lengths, returns = [], []
    for _ in range(len(run.episode_return)):  # the advised action over and over, in a fresh copy of the maze
        scripted.reset(seeds=np.array([maze]))
        total, t, done = 0.0, 0, False
        while not done:
            out = scripted.step(np.array([advised_action]))
            total, t = total + float(out.reward[0]), t + 1
            done = bool(out.terminated[0] or out.truncated[0])
        lengths.append(t)
        returns.append(total)
    assert len(run.episode_return) >= 1
    np.testing.assert_array_equal(run.episode_length, lengths)
    np.testing.assert_array_equal(run.episode_return, returns)
    advised = evaluate(q, ENV, np.array([maze]), epsilon=0.0, advice=advice)
    assert advised["return"][0, 0] == returns[0]


def test_bad_advice_is_a_clear_error():
    seeds = np.array([[5]])
    adv = _advice(5, np.zeros((ENV.n_states, 4)))
    pot = Potential(np.zeros(ENV.n_states), ENV, sample_layout(ENV, 5), TINY.gamma, 1, "custom")
    with pytest.raises(ValueError, match="both a potential and advice"):
        train_dqn(ENV, TINY, fresh_networks(5, [0]), seeds, potentials=[pot], advice=[adv])
    with pytest.raises(ValueError, match="gamma"):
        train_dqn(ENV, TINY, fresh_networks(5, [0]), seeds, advice=[_advice(5, np.zeros((ENV.n_states, 4)), 0.5)])
    with pytest.raises(ValueError, match="another maze|maze"):
        train_dqn(ENV, TINY, fresh_networks(5, [0]), seeds, advice=[_advice(6, np.zeros((ENV.n_states, 4)))])
    with pytest.raises(ValueError, match="one Advice"):
        train_dqn(ENV, TINY, fresh_networks(5, [0]), seeds, advice=[adv, adv])
    with pytest.raises(ValueError, match="one fixed maze"):
        train_dqn(ENV, TINY, fresh_networks(5, [0]), np.array([[5, 6]]), advice=[adv])


def test_replay_buffers_keep_state_keys_only_when_asked():
    plain = ReplayBuffers(2, 4, 5)
    keyed = ReplayBuffers(2, 4, 5, state_keys=True)
    obs = np.zeros((2, 3, 5, 5), np.uint8)
    for t in range(3):
        plain.add(obs, [0, 1], [0.0, 0.0], obs, [False, False])
        keyed.add(obs, [0, 1], [0.0, 0.0], obs, [False, False], [t, 10 + t], [t + 1, 11 + t])
    assert len(plain.sample(2, torch.Generator().manual_seed(0))) == 5
    batch = keyed.sample(8, torch.Generator().manual_seed(0))
    s, s2 = batch[5], batch[6]
    assert s.shape == (2, 8)
    assert set(s[0].tolist()) <= {0, 1, 2} and set(s[1].tolist()) <= {10, 11, 12}
    torch.testing.assert_close(s2, s + 1)
