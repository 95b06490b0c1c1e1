"""Vectorised tabular Q-learning: determinism, independence of agents, learning on tiny mazes."""
import numpy as np
import pytest

from secretlab.agents.qlearning import (
    QLearningConfig,
    _act,
    evaluate_greedy,
    train_q_learning,
    transition_table,
    value_iteration,
)
from secretlab.envs import TriggersEnv
from secretlab.envs.triggers import Layout, TriggersConfig, decode_state, sample_layout, sample_layouts
from secretlab.shaping import oracle_potential


def test_transition_table_matches_gym_env():
    env_cfg = TriggersConfig(4, 1, 1)
    layout = sample_layout(env_cfg, 7)
    nxt, rew, term = transition_table(env_cfg, layout)
    env = TriggersEnv(4, 1, 1)
    rng = np.random.default_rng(0)
    _, info = env.reset(options={"layout": layout})
    for _ in range(200):
        a = int(rng.integers(4))
        s = info["state"]
        _, r, te, tr, info = env.step(a)
        assert (nxt[s, a], rew[s, a], term[s, a]) == (info["state"], r, te)
        if te or tr:
            _, info = env.reset(options={"layout": layout})


def test_act_breaks_ties_uniformly_and_respects_greedy():
    rng = np.random.default_rng(0)
    q = np.zeros((4000, 4))
    q[:, 3] = -1  # action 3 never greedy
    a = _act(q, 0.0, rng)
    counts = np.bincount(a, minlength=4)
    assert counts[3] == 0 and counts[:3].min() > 1200  # ~1333 each
    q2 = np.array([[0.0, 1.0, 0.0, 0.0]])
    assert _act(q2, 0.0, rng)[0] == 1


def test_deterministic_and_shapes():
    env = TriggersConfig(4, 1, 1)
    layouts = sample_layouts(env, np.array([1, 2, 3]))
    cfg = QLearningConfig(n_episodes=20, eval_interval=5, seed=3)
    a = train_q_learning(env, layouts, cfg)
    b = train_q_learning(env, layouts, cfg)
    np.testing.assert_array_equal(a.episode_return, b.episode_return)
    np.testing.assert_array_equal(a.q, b.q)
    assert a.episode_return.shape == (3, 20) and a.eval_success.shape == (3, 5)
    np.testing.assert_array_equal(a.eval_episodes, [0, 5, 10, 15, 20])
    # success <=> every prize collected without a -1, i.e. return == n_prizes here
    np.testing.assert_array_equal(a.episode_success, a.episode_return == 1)
    assert (a.episode_length >= 1).all() and (a.episode_length <= env.horizon).all()
    assert a.total_updates == a.episode_length.sum()


def test_learns_small_maze_to_optimal_length():
    env = TriggersConfig(4, 1, 1)
    layout = sample_layout(env, 11)
    layouts = Layout(*(np.repeat(np.asarray(x)[None], 8, axis=0) for x in layout))
    res = train_q_learning(env, layouts, QLearningConfig(n_episodes=300, eval_interval=100, gamma=0.9))
    # the optimal episode length from value iteration: follow argmax of Q*
    q_star = value_iteration(env, layout, 0.9)
    nxt, rew, term = transition_table(env, layout)
    from secretlab.envs.triggers import encode_state

    s = int(encode_state(layout.agent, np.ones(1, bool), np.ones(1, bool), env.size))
    for n in range(1, 100):
        a = int(np.argmax(q_star[s]))
        if term[s, a]:
            break
        s = int(nxt[s, a])
    assert res.eval_success[:, -1].all()
    assert (res.eval_length[:, -1] >= n).all()  # nobody beats the optimum
    assert (res.eval_length[:, -1] == n).mean() >= 0.75  # most greedy policies are optimal after 300 episodes


def test_shaping_changes_learning_but_potential_zero_does_not():
    env = TriggersConfig(5, 1, 1)
    layouts = sample_layouts(env, np.array([4, 5]))
    cfg = QLearningConfig(n_episodes=30, eval_interval=10)
    plain = train_q_learning(env, layouts, cfg)
    zero = train_q_learning(env, layouts, cfg, potentials=np.zeros((2, env.n_states)))
    np.testing.assert_array_equal(plain.q, zero.q)
    tables = np.stack([oracle_potential(env, sample_layout(env, s), cfg.gamma).table for s in (4, 5)])
    shaped = train_q_learning(env, layouts, cfg, potentials=tables)
    assert not np.array_equal(plain.q, shaped.q)
    # the environment return is recorded unshaped; shaped return differs by the telescoped F
    assert set(np.unique(shaped.episode_return)) <= {-1.0, 0.0, 1.0}


def test_agents_are_independent_of_batch_mates():
    env = TriggersConfig(4, 1, 1)
    one = sample_layouts(env, np.array([9]))
    two = sample_layouts(env, np.array([9, 9]))
    cfg = QLearningConfig(n_episodes=10, eval_interval=5, epsilon=0.0)
    # with epsilon 0 the randomness is tie-breaking only; agents in the same maze still differ by draws,
    # but each finishes exactly n_episodes and the table shapes are per agent
    r2 = train_q_learning(env, two, cfg)
    r1 = train_q_learning(env, one, cfg)
    assert r2.q.shape == (2, env.n_states, 4) and r1.q.shape == (1, env.n_states, 4)
    assert (r2.episode_length > 0).all()


def test_bad_inputs():
    env = TriggersConfig(4, 1, 1)
    layouts = sample_layouts(env, np.array([1]))
    with pytest.raises(ValueError, match="gamma"):
        QLearningConfig(gamma=1.5)
    with pytest.raises(ValueError, match="n_episodes"):
        QLearningConfig(n_episodes=0)
    with pytest.raises(ValueError, match="potentials"):
        train_q_learning(env, layouts, QLearningConfig(n_episodes=2), potentials=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="layouts"):
        train_q_learning(TriggersConfig(4, 2, 1), layouts, QLearningConfig(n_episodes=2))
    with pytest.raises(ValueError, match="q must"):
        evaluate_greedy(env, layouts, np.zeros((1, 3, 4)))


def test_transfer_driver_end_to_end_tiny():
    import torch

    from secretlab.model import ModelConfig, RewardModel
    from secretlab.transfer import PLAIN, SECRET, TransferConfig, results_json, run_transfer

    torch.manual_seed(0)
    model = RewardModel(ModelConfig()).eval()  # untrained: only the plumbing is under test
    cfg = TransferConfig(target=TriggersConfig(4, 1, 1, max_steps=30), n_target_mazes=2, n_seeds=2, n_episodes=20,
                         eval_interval=10, bucket=5, n_target_trajectories=8, sensitivity=(4,), n_boot=50)
    res = run_transfer(cfg, model)
    assert res.arms == [PLAIN, SECRET, "q_learning_oracle", "q_learning_ideal_credit", "q_learning_secret_cumulative",
                        f"{SECRET}_D4"]
    assert res.success[PLAIN].shape == (2, 2, 20) and res.eval_success[SECRET].shape == (2, 2, 3)
    assert [p.n_trajectories for p in res.potentials[SECRET]] == [8, 8]
    assert (res.d_steps[4] <= res.d_steps[8]).all() and (res.d_steps[8] <= 8 * 30).all()
    js = results_json(res, source_trajectories=100)
    assert js[PLAIN]["bucket_episodes"] == [5, 10, 15, 20] and "episodes_to_80" in js[SECRET]
    # the plain arm of the driver is exactly a plain batched run with the same layouts
    for arm in res.arms:
        assert res.lengths[arm].min() >= 1
    with pytest.raises(ValueError, match="credit_signs"):
        TransferConfig(credit_signs="all")
    with pytest.raises(ValueError, match="cumulative_signs.*nonzero.*positive"):
        TransferConfig(cumulative_signs="negative")
