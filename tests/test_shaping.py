"""Potential-based shaping from credit: hand-checkable arrays, policy invariance, telescoping."""

import gymnasium as gym
import numpy as np
import pytest

import secretlab  # noqa: F401  (registers the env)
from secretlab.agents.qlearning import transition_table, value_iteration
from secretlab.envs.triggers import Layout, TriggersConfig, sample_layout
from secretlab.shaping import (
    Potential,
    oracle_potential,
    potential_from_credit,
    redistributed_return,
    shaping_reward,
    terminal_state_keys,
)


from secretlab.wrappers import ShapingWrapper
from secretlab.credit import CreditRows as Rows  # the real rows type, filled by hand


def tiny():
    """2 trajectories, T = 4. Traj 0 gets +1 at step 3; traj 1 gets -1 at step 1 (wrongly predicted)
    and +1 at step 3 (correct)."""
    rewards = np.array([[0, 0, 0, 1], [0, -1, 0, 1]], dtype=np.float32)
    states = np.array([[0, 1, 2, 3, 4], [0, 5, 2, 3, 6]])
    rows = Rows(
        traj=np.array([0, 1, 1]), step=np.array([3, 1, 3]), sign=np.array([1, -1, 1]),
        pred=np.array([1, 1, 1]), correct=np.array([True, False, True]),
        attention=np.array([[0.5, 0.0, 0.25, 0.25], [0.9, 0.1, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]),
    )
    return rewards, states, rows


def test_redistributed_return_by_hand():
    rewards, states, rows = tiny()
    credit = redistributed_return(rows, rewards, states)
    # Only correct rows count: row 0 (traj 0, r=+1) and row 2 (traj 1, r=+1). The wrong -1 row is ignored.
    np.testing.assert_allclose(credit, [[0.5, 0, 0.25, 0.25], [0, 1.0, 0, 0]])


def test_potential_by_hand():
    rewards, states, rows = tiny()
    phi = potential_from_credit(states, rewards, rows, n_states=8)
    # credit of step t goes to s_{t+1}; divided by |D| = 2.
    # traj 0: s1=1 gets .5, s3=3 gets .25, s4=4 gets .25 ; traj 1: s2=2 gets 1.
    np.testing.assert_allclose(phi, [0, 0.25, 0.5, 0.125, 0.125, 0, 0, 0])
    # visits: state 2 reached twice (traj 0 step 1, traj 1 step 1) -> 1/2; state 3 twice -> .25/2
    phi_v = potential_from_credit(states, rewards, rows, n_states=8, normalise="visits")
    np.testing.assert_allclose(phi_v, [0, 0.5, 0.5, 0.125, 0.25, 0, 0, 0])
    phi_t = potential_from_credit(states, rewards, rows, n_states=8, terminal_states=np.array([4]))
    assert phi_t[4] == 0 and phi_t[3] == 0.125


def test_positive_only_option():
    rewards = np.array([[0, -1, 0, 1]], dtype=np.float32)
    states = np.array([[0, 1, 2, 3, 4]])
    rows = Rows(np.array([0, 0]), np.array([1, 3]), np.array([-1, 1]), np.array([-1, 1]), np.array([True, True]),
                np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(redistributed_return(rows, rewards, states), [[-1, 0, 1, 0]])
    np.testing.assert_allclose(redistributed_return(rows, rewards, states, signs="positive"), [[0, 0, 1, 0]])
    with pytest.raises(ValueError, match="signs"):
        redistributed_return(rows, rewards, states, signs="negative")


def test_cumulative_forwarding_by_hand():
    rewards, states, rows = tiny()
    # traj 0 credit [.5, 0, .25, .25] -> carried [.5, .5, .75, 1.0] into states 1, 2, 3, 4
    # traj 1 credit [0, 1, 0, 0]       -> carried [0, 1, 1, 1]      into states 5, 2, 3, 6
    phi = potential_from_credit(states, rewards, rows, 8, forward="cumulative", normalise="visits")
    np.testing.assert_allclose(phi, [0, 0.5, 0.75, 0.875, 1.0, 0.0, 1.0, 0])
    with pytest.raises(ValueError, match="forward"):
        potential_from_credit(states, rewards, rows, 8, forward="all")


def test_pair_form_counts_repeats():
    # (s=0 -> s'=1) occurs twice in one trajectory; each occurrence has credit .5 / .25.
    rewards = np.array([[0, 0, 0, 1]], dtype=np.float32)
    states = np.array([[0, 1, 0, 1, 2]])
    rows = Rows(np.array([0]), np.array([3]), np.array([1]), np.array([1]), np.array([True]),
                np.array([[0.5, 0.0, 0.25, 0.25]]))
    step = potential_from_credit(states, rewards, rows, 3, pairs="step")
    pair = potential_from_credit(states, rewards, rows, 3, pairs="pair")
    np.testing.assert_allclose(step, [0, 0.75, 0.25])
    np.testing.assert_allclose(pair, [0, 1.5, 0.25])  # literal R←(s,a) added once per occurrence


def test_padding_and_unseen_are_zero():
    rewards = np.array([[0, 1, 0]], dtype=np.float32)
    states = np.array([[3, 2, 1, -1]])  # length 2
    rows = Rows(np.array([0]), np.array([1]), np.array([1]), np.array([1]), np.array([True]),
                np.array([[0.3, 0.7, 0.0]]))
    phi = potential_from_credit(states, rewards, rows, 5)
    np.testing.assert_allclose(phi, [0, 0.7, 0.3, 0, 0])


def test_bad_inputs():
    rewards, states, rows = tiny()
    with pytest.raises(ValueError, match="normalise"):
        potential_from_credit(states, rewards, rows, 8, normalise="mean")
    with pytest.raises(ValueError, match=r"\|D\|"):
        potential_from_credit(states[:0], rewards[:0], rows, 8)
    with pytest.raises(ValueError, match="n_states"):
        potential_from_credit(states, rewards, rows, 3)
    env = TriggersConfig(4, 1, 1)
    layout = sample_layout(env, 0)
    for g in (-0.1, 1.5, "x"):
        with pytest.raises(ValueError, match="gamma"):
            oracle_potential(env, layout, g)
    pot = oracle_potential(env, layout, 0.9)
    with pytest.raises(ValueError, match="another maze"):
        pot.check_compatible(env, sample_layout(env, 1))
    with pytest.raises(ValueError, match="size/n_triggers/n_prizes"):
        pot.check_compatible(TriggersConfig(5, 1, 1), sample_layout(TriggersConfig(5, 1, 1), 0))
    with pytest.raises(ValueError, match="another maze"):
        ShapingWrapper(gym.make("secretlab/Triggers-v0", size=4, n_triggers=1, n_prizes=1),
                       pot, pin_layout=False).reset(seed=1)
    with pytest.raises(ValueError, match="size/n_triggers/n_prizes"):
        ShapingWrapper(gym.make("secretlab/Triggers-v0", size=5, n_triggers=1, n_prizes=1), pot)


def test_oracle_by_hand():
    env = TriggersConfig(3, 2, 1)  # keys: cell*8 + bits(T0, T1, P0)
    pot = oracle_potential(env, sample_layout(env, 0), 0.9)
    # cell 0: bits 0b111 (all present) -> 0 ; 0b110 (T0 active, P present) -> 1/2 ; 0b100 -> 1; 0b000 -> 0 (terminal)
    assert pot.table[0b111] == 0 and pot.table[0b110] == 0.5 and pot.table[0b100] == 1.0
    assert pot.table[0b000] == 0.0 and pot.table[8 + 0b101] == 0.5
    assert set(terminal_state_keys(env) % 8) == {0, 1, 2, 3}


def test_shaping_terminal_zero():
    f = shaping_reward(np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([True, False]), 0.5)
    np.testing.assert_allclose(f, [-1.0, 0.0])
    f = shaping_reward(np.array([1.0]), np.array([2.0]), np.array([True]), 0.5, terminal_zero=False)
    np.testing.assert_allclose(f, [0.0])


@pytest.mark.parametrize("n_triggers,n_prizes", [(1, 1), (1, 2)])
def test_optimal_policy_invariant_under_shaping(n_triggers, n_prizes):
    env = TriggersConfig(4, n_triggers, n_prizes)
    layout = sample_layout(env, 3)
    gamma = 0.9
    rng = np.random.default_rng(0)
    phi = rng.normal(size=env.n_states) * 3  # arbitrary potential, large on purpose
    phi[terminal_state_keys(env)] = rng.normal(size=len(terminal_state_keys(env)))  # ignored (terminal_zero)
    q = value_iteration(env, layout, gamma)
    q_shaped = value_iteration(env, layout, gamma, potential=phi)
    live = np.setdiff1d(np.arange(env.n_states), terminal_state_keys(env))
    # Ng et al.: Q*_shaped(s, a) = Q*(s, a) - φ(s), so the argmax sets coincide.
    np.testing.assert_allclose(q_shaped[live], q[live] - phi[live, None], atol=1e-8)
    best = np.isclose(q[live], q[live].max(1, keepdims=True), atol=1e-9)
    best_shaped = np.isclose(q_shaped[live], q_shaped[live].max(1, keepdims=True), atol=1e-9)
    assert (best == best_shaped).all()
    # and the optimal policy actually solves the maze from the start state
    nxt, rew, term = transition_table(env, layout)
    s, total = _start_key(env, layout), 0.0
    for _ in range(50):
        a = int(np.argmax(q_shaped[s]))
        total += rew[s, a]
        if term[s, a]:
            break
        s = int(nxt[s, a])
    assert total == n_prizes


def _start_key(env, layout):
    from secretlab.envs.triggers import encode_state

    return int(encode_state(np.asarray(layout.agent), np.ones(env.n_triggers, bool),
                            np.ones(env.n_prizes, bool), env.size))


def test_wrapper_telescopes():
    env_cfg = TriggersConfig(4, 1, 1)
    layout = sample_layout(env_cfg, 5)
    rng = np.random.default_rng(1)
    pot = Potential(rng.normal(size=env_cfg.n_states), env_cfg, layout, 0.9, 0, "custom")
    env = ShapingWrapper(gym.make("secretlab/Triggers-v0", size=4, n_triggers=1, n_prizes=1, max_steps=30), pot)
    for episode in range(5):
        _, info = env.reset(seed=episode)
        s0 = info["state"]
        plain = shaped = disc_plain = disc_shaped = 0.0
        for t in range(100):
            _, r, term, trunc, info = env.step(int(rng.integers(4)))
            plain += info["env_reward"]
            shaped += r
            disc_plain += 0.9 ** t * info["env_reward"]
            disc_shaped += 0.9 ** t * r
            if term or trunc:
                break
        # discounted: Σ γ^t F_t = γ^T φ(s_T) − φ(s_0), with φ(s_T) = 0 on termination
        phi_end = 0.0 if term else pot.table[info["state"]]
        assert disc_shaped == pytest.approx(disc_plain + 0.9 ** (t + 1) * phi_end - pot.table[s0], abs=1e-9)
        assert env.unwrapped.layout.agent.tolist() == layout.agent.tolist()  # pinned maze


def test_wrapper_in_vector_env():
    env_cfg = TriggersConfig(4, 1, 1)
    layout = sample_layout(env_cfg, 2)
    pot = oracle_potential(env_cfg, layout, 0.99)
    make = lambda: ShapingWrapper(gym.make("secretlab/Triggers-v0", size=4, n_triggers=1, n_prizes=1), pot)  # noqa: E731
    venv = gym.vector.SyncVectorEnv([make, make])
    venv.reset(seed=0)
    for _ in range(40):
        _, r, term, trunc, info = venv.step(np.array([1, 2]))
        np.testing.assert_allclose(r, info["env_reward"] + info["shaping"])
    venv.close()


def test_potential_grid_and_call():
    env = TriggersConfig(3, 1, 1)
    pot = oracle_potential(env, sample_layout(env, 0), 0.9)
    assert pot.grid().shape == (3, 3) and (pot.grid() == 0).all()
    assert (pot.grid(triggers_alive=(False,)) == 1).all()
    with pytest.raises(ValueError, match="keys"):
        pot(np.array([env.n_states]))


def test_ideal_credit_rows_by_hand():
    class D:
        rewards = np.array([[0, 0, -1, 0, 1], [0, 1, 0, 0, 0]], dtype=np.float32)
        activated = np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=bool)
        lengths = np.array([5, 2])

    from secretlab.credit_controls import ideal_credit_rows

    rows = ideal_credit_rows(D)
    np.testing.assert_array_equal(rows.traj, [0, 0, 1])
    np.testing.assert_array_equal(rows.step, [2, 4, 1])
    np.testing.assert_array_equal(rows.sign, [-1, 1, 1])
    # the -1 at step 2 attends to itself (not to the activation at step 0); the +1 to both activations
    np.testing.assert_allclose(rows.attention, [[0, 0, 1, 0, 0], [0.5, 0, 0, 0.5, 0], [0, 1, 0, 0, 0]])


def test_sorted_credit_rows_match_plain_rows_and_secret_potential_runs():
    import torch

    from secretlab.credit import credit_rows
    from secretlab.data import DatasetConfig, collect
    from secretlab.model import ModelConfig, RewardModel
    from secretlab.credit import sorted_credit_rows
    from secretlab.shaping import secret_potential

    env = TriggersConfig(4, 1, 1, max_steps=25)
    data = collect(DatasetConfig(env, 40, seed=1, split="target", fixed_maze_seed=5))
    torch.set_num_threads(1)  # tiny batches: threads only add contention
    torch.manual_seed(0)
    model = RewardModel(ModelConfig()).eval()
    a, b = credit_rows(model, data, batch_size=16), sorted_credit_rows(model, data, batch_size=16)
    ka, kb = np.lexsort((a.step, a.traj)), np.lexsort((b.step, b.traj))
    np.testing.assert_array_equal(a.traj[ka], b.traj[kb])
    np.testing.assert_array_equal(a.pred[ka], b.pred[kb])
    np.testing.assert_allclose(a.attention[ka], b.attention[kb], atol=1e-5)
    pot = secret_potential(model, env, 5, 30, 0.9, seed=1, dataset=data)
    assert pot.n_trajectories == 30 and pot.source == "secret" and pot.table.shape == (env.n_states,)
    with pytest.raises(ValueError, match=r"\|D\|"):
        secret_potential(model, env, 5, 0, 0.9, dataset=data)
    with pytest.raises(ValueError, match="gamma"):
        secret_potential(model, env, 5, 10, 1.1, dataset=data)


def test_shaping_wrapper_passes_gymnasiums_checker_and_refuses_another_gamma():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("secretlab/Triggers-v0", size=4, n_triggers=1, n_prizes=1)
    config = env.unwrapped.config
    potential = oracle_potential(config, sample_layout(config, 3), 0.9)
    check_env(ShapingWrapper(env, potential, gamma=0.9), skip_render_check=True)
    with pytest.raises(ValueError, match=r"gamma=0\.9, but the agent uses gamma=0\.99"):
        ShapingWrapper(env, potential, gamma=0.99)
    with pytest.raises(ValueError, match="potential must be a secretlab.shaping.Potential"):
        ShapingWrapper(env, potential.table)
