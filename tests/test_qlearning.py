"""Vectorised tabular Q-learning: determinism, independence of agents, learning on tiny mazes."""
import numpy as np
import pytest

from secretlab.agents.qlearning import (
    QLearningConfig,
    _act,
    _uniforms,
    stream_keys,
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
    u = _uniforms(stream_keys(0, np.arange(4000), purpose=1), 0)
    q = np.zeros((4000, 4))
    q[:, 3] = -1  # action 3 never greedy
    a = _act(q, 0.0, u)
    counts = np.bincount(a, minlength=4)
    assert counts[3] == 0 and counts[:3].min() > 1200  # ~1333 each
    q2 = np.array([[0.0, 1.0, 0.0, 0.0]])
    assert _act(q2, 0.0, u[:1])[0] == 1
    # epsilon = 1: every action uniformly, the greedy one included
    explore = np.bincount(_act(q, 1.0, u), minlength=4)
    assert explore.min() > 900


def test_uniform_streams_are_uniform_and_independent_of_the_batch():
    keys = stream_keys(3, np.arange(1000), purpose=11)
    u = np.concatenate([_uniforms(keys, c) for c in range(20)])
    assert u.shape == (20000, 6) and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert abs(np.corrcoef(u[:, 4], u[:, 5])[0, 1]) < 0.03
    # the same stream id gives the same draws whatever its neighbours
    np.testing.assert_array_equal(_uniforms(stream_keys(3, np.array([7]), 11), 5)[0],
                                  _uniforms(stream_keys(3, np.array([0, 9, 7]), 11), 5)[2])
    assert not np.array_equal(_uniforms(stream_keys(3, np.array([7]), 11), 5),
                              _uniforms(stream_keys(4, np.array([7]), 11), 5))


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
    layouts = Layout(*(np.repeat(np.asarray(x)[None], 32, axis=0) for x in layout))
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
    alone = sample_layouts(env, np.array([9]))
    crowd = sample_layouts(env, np.array([3, 9, 5]))
    cfg = QLearningConfig(n_episodes=15, eval_interval=5)
    r1 = train_q_learning(env, alone, cfg, streams=np.array([4]))
    r3 = train_q_learning(env, crowd, cfg, streams=np.array([0, 4, 8]))
    np.testing.assert_array_equal(r1.q[0], r3.q[1])
    np.testing.assert_array_equal(r1.episode_length[0], r3.episode_length[1])
    np.testing.assert_array_equal(r1.eval_length[0], r3.eval_length[1])
    # another stream id in the same maze explores differently
    other = train_q_learning(env, alone, cfg, streams=np.array([5]))
    assert not np.array_equal(other.episode_length, r1.episode_length)


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


# -----------------------------------------------------------------------------
# The update against a textbook Q-learner written out step by step
# -----------------------------------------------------------------------------
def _reference_q_learning(env, layout, cfg, stream, phi=None, advice=None):
    """Sutton & Barto's tabular Q-learning, one agent, one Python step at a time, on the same random stream."""
    nxt, rew, term = transition_table(env, layout)
    from secretlab.envs.triggers import encode_state

    start = int(encode_state(layout.agent, np.ones(env.n_triggers, bool), np.ones(env.n_prizes, bool), env.size))
    q = np.zeros((env.n_states, 4)) + (0.0 if advice is None else advice)
    phi = np.zeros(env.n_states) if phi is None else phi
    key = stream_keys(cfg.seed, np.array([stream]), purpose=11)
    lengths, step = [], 0
    for _ in range(cfg.n_episodes):
        s, t = start, 0
        while True:
            u = _uniforms(key, step)[0]
            step += 1
            best = np.flatnonzero(q[s] == q[s].max())
            a = int(best[np.argmax(1.0 + u[best])])  # the tie-break key of each tied action
            if u[4] < cfg.epsilon:
                a = int(u[5] * 4)
            s2, r, done = int(nxt[s, a]), rew[s, a], bool(term[s, a])
            f = cfg.gamma * (0.0 if done else phi[s2]) - phi[s]
            bootstrap = 0.0 if done else cfg.gamma * q[s2].max()
            q[s, a] += cfg.learning_rate * (r + f + bootstrap - q[s, a])
            s, t = s2, t + 1
            if done or t >= env.horizon:
                break
        lengths.append(t)
    return q, np.array(lengths)


@pytest.mark.parametrize("with_potential", [False, True])
def test_update_matches_a_step_by_step_reference_learner(with_potential):
    env = TriggersConfig(4, 1, 1, max_steps=25)
    layouts = sample_layouts(env, np.array([2, 6]))
    cfg = QLearningConfig(n_episodes=12, eval_interval=6, gamma=0.9, learning_rate=0.3, epsilon=0.2, seed=5)
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(2, env.n_states)) if with_potential else None
    res = train_q_learning(env, layouts, cfg, potentials=phi, streams=np.array([3, 8]))
    for i, stream in enumerate([3, 8]):
        layout = Layout(*(np.asarray(x)[i] for x in layouts))
        q_ref, lengths_ref = _reference_q_learning(env, layout, cfg, stream, None if phi is None else phi[i])
        np.testing.assert_array_equal(res.episode_length[i], lengths_ref)
        np.testing.assert_allclose(res.q[i], q_ref, rtol=0, atol=1e-12)
    assert res.state_visits.sum() == res.total_updates
