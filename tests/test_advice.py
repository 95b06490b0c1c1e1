"""Advice Φ(s, a), the credit controls and the Q-learning equivalences, on hand-checkable cases."""
import numpy as np
import pytest

from secretlab.advice import Advice, advice_from_credit
from secretlab.agents.qlearning import (
    QLearningConfig,
    train_q_learning,
    transition_table,
    value_iteration,
)
from secretlab.credit import CreditRows
from secretlab.credit_controls import control_rows, ideal_credit_rows
from secretlab.envs.triggers import Layout, TriggersConfig, encode_state, sample_layout, sample_layouts
from secretlab.shaping import Potential


def tiny_rows():
    """Traj 0: +1 at step 3 attending 0.5/0.25/0.25 to steps 0/2/3; traj 1: a wrong -1 and a correct +1."""
    rewards = np.array([[0, 0, 0, 1], [0, -1, 0, 1]], dtype=np.float32)
    states = np.array([[0, 1, 2, 3, 4], [0, 5, 2, 3, 6]])
    actions = np.array([[1, 2, 3, 0], [1, 1, 2, 0]])
    rows = CreditRows(traj=np.array([0, 1, 1]), step=np.array([3, 1, 3]), sign=np.array([1, -1, 1]),
                      pred=np.array([1, 1, 1]), correct=np.array([True, False, True]),
                      attention=np.array([[0.5, 0.0, 0.25, 0.25], [0.9, 0.1, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]))
    return rewards, states, actions, rows


def test_advice_keeps_credit_on_the_pair_by_hand():
    rewards, states, actions, rows = tiny_rows()
    phi = advice_from_credit(states, actions, rewards, rows, n_states=8)
    expected = np.zeros((8, 4))
    expected[0, 1] = 0.5 / 2          # traj 0 step 0: (s=0, a=1) gets 0.5
    expected[2, 3] = 0.25 / 2         # traj 0 step 2: (s=2, a=3)
    expected[3, 0] = 0.25 / 2         # traj 0 step 3: (s=3, a=0)
    expected[5, 1] = 1.0 / 2          # traj 1 step 1: (s=5, a=1) from the correct +1; the wrong -1 row is ignored
    np.testing.assert_allclose(phi, expected)
    # the whole credited reward is conserved: |D| · ΣΦ = number of correct +1
    assert np.isclose(phi.sum() * 2, 2.0)


def test_advice_signs_and_padding():
    rewards, states, actions, rows = tiny_rows()
    rows.correct[:] = True  # the -1 row now counts when signs="nonzero"
    both = advice_from_credit(states, actions, rewards, rows, 8, signs="nonzero")
    positive = advice_from_credit(states, actions, rewards, rows, 8, signs="positive")
    np.testing.assert_allclose(both[0, 1] - positive[0, 1], -0.9 / 2)  # the -1 row's 0.9 on step 0 of traj 1
    actions[1, 2] = -1  # a padded step carries no advice
    assert advice_from_credit(states, actions, rewards, rows, 8)[2].sum() == pytest.approx(0.25 / 2)
    with pytest.raises(ValueError, match="|D|"):
        advice_from_credit(states[:0], actions[:0], rewards[:0], rows, 8)
    with pytest.raises(ValueError, match="n_states"):
        advice_from_credit(states, actions, rewards, rows, 0)


def test_controls_keep_the_rows_and_move_only_the_attention():
    rewards, states, actions, rows = tiny_rows()
    uniform = control_rows("uniform", rows, None)
    np.testing.assert_allclose(uniform.attention[0], [0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(uniform.attention[1], [0.5, 0.5, 0, 0])  # only the steps up to the reward
    shuffled = control_rows("shuffled", rows, None, seed=3)
    for r in range(3):  # a permutation within the causal part of each row
        k = rows.step[r] + 1
        np.testing.assert_allclose(np.sort(shuffled.attention[r, :k]), np.sort(rows.attention[r, :k]))
        assert (shuffled.attention[r, k:] == 0).all()
    sparse = control_rows("secret_sparse", rows, None, threshold=0.3)
    np.testing.assert_allclose(sparse.attention[0], [1.0, 0, 0, 0])  # 0.25s dropped, 0.5 renormalised
    for control in (uniform, shuffled, sparse):
        for name in ("traj", "step", "sign", "pred", "correct"):
            np.testing.assert_array_equal(getattr(control, name), getattr(rows, name))
    assert control_rows("secret", rows, None) is rows
    with pytest.raises(ValueError, match="credit source.*secret.*uniform"):
        control_rows("random", rows, None)
    with pytest.raises(ValueError, match="rows"):
        control_rows("uniform", None, None)


def test_ideal_negative_puts_the_minus_one_on_the_activations():
    class D:
        rewards = np.array([[0, 0, -1, 0, 1]], dtype=np.float32)
        activated = np.array([[1, 0, 0, 1, 0]], dtype=bool)
        lengths = np.array([5])

    plain = ideal_credit_rows(D)
    negative = control_rows("ideal_negative", None, D)
    np.testing.assert_allclose(plain.attention[0], [0, 0, 1, 0, 0])      # -1 on its own step
    np.testing.assert_allclose(negative.attention[0], [1, 0, 0, 0, 0])   # -1 on the activation before it
    np.testing.assert_allclose(negative.attention[1], plain.attention[1])


# -----------------------------------------------------------------------------
# Q-learning equivalences (Wiewiora 2003; Wiewiora, Cottrell & Elkan 2003)
# -----------------------------------------------------------------------------
def _setup(n=2, seed=0):
    env = TriggersConfig(4, 1, 1, max_steps=30)
    layouts = sample_layouts(env, np.arange(n) + 3)
    return env, layouts, np.random.default_rng(seed)


def test_potential_shaping_equals_q_initialisation_at_phi():
    env, layouts, rng = _setup()
    phi = rng.normal(size=(2, env.n_states))
    cfg = QLearningConfig(n_episodes=40, eval_interval=20, gamma=0.9, learning_rate=0.3)
    shaped = train_q_learning(env, layouts, cfg, potentials=phi)
    init = train_q_learning(env, layouts, cfg, advice=np.repeat(phi[:, :, None], 4, axis=2))
    np.testing.assert_array_equal(shaped.episode_length, init.episode_length)
    np.testing.assert_array_equal(shaped.episode_success, init.episode_success)
    np.testing.assert_allclose(shaped.q + phi[:, :, None], init.q, rtol=0, atol=1e-9)  # Q_init = Q_shaped + φ(s)


def test_advice_init_form_and_lookahead_form_agree():
    env, layouts, rng = _setup()
    adv = rng.normal(size=(2, env.n_states, 4))
    cfg = QLearningConfig(n_episodes=40, eval_interval=20, gamma=0.9, learning_rate=0.3)
    init = train_q_learning(env, layouts, cfg, advice=adv)
    look = train_q_learning(env, layouts, QLearningConfig(**{**cfg.__dict__, "advice_mode": "lookahead"}),
                            advice=adv)
    np.testing.assert_array_equal(init.episode_length, look.episode_length)
    np.testing.assert_array_equal(init.eval_success, look.eval_success)
    np.testing.assert_allclose(init.q, look.q, rtol=0, atol=1e-9)
    plain = train_q_learning(env, layouts, cfg)
    assert not np.array_equal(plain.episode_length, init.episode_length)  # advice does change learning


@pytest.mark.parametrize("mode", ["init", "lookahead"])
def test_converged_advised_learner_is_optimal_for_the_original_reward(mode):
    """Even with large random advice the greedy policy ends optimal: advice cannot change the optimal policy."""
    env = TriggersConfig(4, 1, 1, max_steps=40)
    layout = sample_layout(env, 11)
    b = 16
    layouts = Layout(*(np.repeat(np.asarray(x)[None], b, axis=0) for x in layout))
    adv = np.random.default_rng(1).normal(scale=0.5, size=(b, env.n_states, 4))
    cfg = QLearningConfig(n_episodes=1500, eval_interval=500, gamma=0.9, learning_rate=0.2, advice_mode=mode)
    res = train_q_learning(env, layouts, cfg, advice=adv)
    q_star = value_iteration(env, layout, 0.9)
    nxt, rew, term = transition_table(env, layout)
    s = int(encode_state(layout.agent, np.ones(1, bool), np.ones(1, bool), env.size))
    for optimal in range(1, 100):  # the optimal episode length, following argmax Q*
        a = int(np.argmax(q_star[s]))
        if term[s, a]:
            break
        s = int(nxt[s, a])
    assert res.eval_success[:, -1].all()
    assert (res.eval_length[:, -1] >= optimal).all()
    assert (res.eval_length[:, -1] == optimal).mean() >= 0.75


def test_gamma_mismatch_is_refused_by_the_learner():
    env, layouts, _ = _setup(1)
    pot = Potential(np.ones(env.n_states), env, sample_layout(env, 3), 0.95, 10, "custom")
    with pytest.raises(ValueError, match=r"gamma=0\.95.*gamma=0\.99"):
        train_q_learning(env, layouts, QLearningConfig(n_episodes=2), potentials=[pot])
    adv = Advice(np.ones((env.n_states, 4)), env, sample_layout(env, 3), 0.95, 10, "custom")
    with pytest.raises(ValueError, match=r"advice\[0\] was built for gamma=0\.95"):
        train_q_learning(env, layouts, QLearningConfig(n_episodes=2), advice=[adv])
    ok = train_q_learning(env, layouts, QLearningConfig(n_episodes=2, gamma=0.95), potentials=[pot])
    assert ok.episode_length.shape == (1, 2)


def test_advice_object_validates_and_looks_ahead():
    env = TriggersConfig(4, 1, 1)
    layout = sample_layout(env, 3)
    table = np.zeros((env.n_states, 4))
    table[5, 2] = 1.0
    table[7, 1] = 2.0
    adv = Advice(table, env, layout, 0.5, 10, "secret")
    f = adv.lookahead(np.array([5, 5]), np.array([2, 2]), np.array([7, 7]), np.array([1, 1]), np.array([False, True]))
    np.testing.assert_allclose(f, [0.5 * 2.0 - 1.0, -1.0])  # Φ(s', ·) = 0 when the episode terminated
    with pytest.raises(ValueError, match="shape"):
        Advice(np.zeros(env.n_states), env, layout, 0.5, 10, "secret")
    with pytest.raises(ValueError, match="finite"):
        Advice(np.full((env.n_states, 4), np.nan), env, layout, 0.5, 10, "secret")
    with pytest.raises(ValueError, match="another maze"):
        adv.check_compatible(env, sample_layout(env, 4))


# -----------------------------------------------------------------------------
# The Gymnasium-facing form: AdviceWrapper + the SB3 hook
# -----------------------------------------------------------------------------
def _maze_and_q_star():
    import gymnasium as gym

    import secretlab  # noqa: F401  (registers the env)

    env_cfg = TriggersConfig(4, 1, 1, max_steps=30)
    layout = sample_layout(env_cfg, 11)
    q_star = value_iteration(env_cfg, layout, 0.9)
    env = gym.make("secretlab/Triggers-v0", size=4, n_triggers=1, n_prizes=1, max_steps=30)
    return env_cfg, layout, q_star, env


def test_advice_wrapper_passes_gymnasiums_checker_and_exposes_phi():
    from gymnasium.utils.env_checker import check_env

    from secretlab.wrappers import AdviceWrapper

    env_cfg, layout, q_star, env = _maze_and_q_star()
    advice = Advice(q_star, env_cfg, layout, 0.9, 0, "custom")
    wrapped = AdviceWrapper(env, advice)
    check_env(wrapped, skip_render_check=True)
    obs, info = wrapped.reset(seed=0)
    np.testing.assert_allclose(obs["advice"], q_star[info["state"]].astype(np.float32))
    np.testing.assert_array_equal(info["advice"], obs["advice"])
    obs, reward, terminated, truncated, info = wrapped.step(0)
    assert reward in (-1.0, 0.0, 1.0)  # the reward is left alone: the agent adds Φ to its Q-values
    with pytest.raises(ValueError, match=r"gamma=0\.9.*gamma=0\.99"):
        AdviceWrapper(env, advice, gamma=0.99)


def test_sb3_dqn_acts_on_net_plus_advice_and_trains():
    import torch as th
    from stable_baselines3 import DQN

    from secretlab.wrappers import AdviceWrapper
    from secretlab.agents.sb3_advice import AdvisedDQNPolicy

    env_cfg, layout, q_star, env = _maze_and_q_star()
    wrapped = AdviceWrapper(env, Advice(q_star, env_cfg, layout, 0.9, 0, "custom"))
    agent = DQN(AdvisedDQNPolicy, wrapped, gamma=0.9, learning_starts=50, buffer_size=1000, seed=0, device="cpu")
    obs, _ = wrapped.reset(seed=0)
    batch = {k: th.as_tensor(v[None]) for k, v in obs.items()}
    net_only = agent.q_net.q_net(agent.q_net.extract_features(batch, agent.q_net.features_extractor))
    np.testing.assert_allclose(agent.q_net(batch).detach().numpy(), (net_only + batch["advice"]).detach().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(agent.q_net_target(batch).detach().numpy() - batch["advice"].numpy(),
                               net_only.detach().numpy(), rtol=1e-5, atol=1e-6)  # target net adds it too
    # With the network's output zeroed the policy is greedy on Φ = Q*: it solves the maze optimally.
    with th.no_grad():
        last = agent.q_net.q_net[-1]
        last.weight.zero_()
        last.bias.zero_()
    obs, info = wrapped.reset(seed=0)
    for steps in range(1, 31):
        obs, reward, terminated, truncated, info = wrapped.step(int(agent.predict(obs, deterministic=True)[0]))
        if terminated or truncated:
            break
    assert terminated and reward == 1.0
    s = int(encode_state(layout.agent, np.ones(1, bool), np.ones(1, bool), 4))
    nxt, _, term = transition_table(env_cfg, layout)
    for optimal in range(1, 31):
        a = int(np.argmax(q_star[s]))
        if term[s, a]:
            break
        s = int(nxt[s, a])
    assert steps == optimal
    agent.learn(200)  # replay, TD targets through the advised target network
    assert agent.num_timesteps == 200


def test_sb3_policy_refuses_an_env_without_advice():
    from stable_baselines3 import DQN

    from secretlab.agents.sb3_advice import AdvisedDQNPolicy

    *_, env = _maze_and_q_star()
    with pytest.raises(ValueError, match="AdviceWrapper"):
        DQN(AdvisedDQNPolicy, env, device="cpu")


def test_secret_advice_is_the_sparse_pipeline_on_the_cached_target_dataset():
    import torch

    from secretlab.advice import advice_from_rows, secret_advice
    from secretlab.data import DatasetConfig, load_or_collect
    from secretlab.model import ModelConfig, RewardModel
    from secretlab.credit import sorted_credit_rows

    torch.manual_seed(0)
    model = RewardModel(ModelConfig()).eval()
    env = TriggersConfig(4, 1, 1, max_steps=30)
    adv = secret_advice(model, env, maze_seed=5, n_trajectories=12, gamma=0.9, source="secret_sparse", threshold=0.1)
    data = load_or_collect(DatasetConfig(env, 12, 0, split="target", fixed_maze_seed=5))
    rows = control_rows("secret_sparse", sorted_credit_rows(model, data), data, threshold=0.1)
    np.testing.assert_array_equal(adv.table, advice_from_rows(rows, data, env, 5, 0.9).table)
    assert adv.source == "secret_sparse" and adv.n_trajectories == 12 and adv.gamma == 0.9
    with pytest.raises(ValueError, match="n_trajectories"):
        secret_advice(model, env, 5, 0, 0.9)


def test_the_readme_example_runs(monkeypatch):
    """README's "SECRET shaping on your own agent" block, with a tiny untrained model standing in for the source."""
    from pathlib import Path

    import torch

    import secretlab.experiments.source
    from secretlab.model import ModelConfig, RewardModel

    torch.manual_seed(0)

    class Trained:
        model = RewardModel(ModelConfig()).eval()

    monkeypatch.setattr(secretlab.experiments.source, "source_model", lambda *a, **k: Trained())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("## SECRET shaping on your own agent")[1].split("```python")[1].split("```")[0]
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    from secretlab.data import maze_seeds

    assert scope["advice"].source == "secret_sparse" and scope["advice"].n_trajectories == 100
    assert scope["maze"] in maze_seeds("target", 0, 4)  # a held-out target maze
    obs, _ = scope["env"].reset(seed=0)
    assert set(obs) == {"observation", "advice"} and scope["agent"].gamma == 0.99
