"""Seed-batched DQN: shapes, batched == independent, ε schedule, reproducibility, bad checkpoints."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from secretlab.agents.dqn import (
    DQNConfig,
    QNetwork,
    ReplayBuffers,
    SeedBatchedQ,
    StackedShaping,
    check_compatible,
    evaluate,
    feature_size,
    fresh_networks,
    linear_schedule,
    make_optimizer,
    networks_from_stacked,
    train_dqn,
    update_step,
)
from secretlab.envs import TriggersConfig, sample_layout

ENV = TriggersConfig(size=5, n_triggers=1, n_prizes=1, inverted=True, max_steps=20)
TINY = DQNConfig(total_steps=120, learning_starts=30, exploration_steps=60, target_update_interval=25,
                 batch_size=4, train_frequency=2, learning_rate=1e-3)


# ----------------------------------------------------------------- shapes
def test_feature_sizes_by_hand():
    # padding 1, stride 2 then 1, 1: 8 -> 4 -> 4 -> 4 (16·16 = 256); 12 -> 6 (16·36 = 576); 5 -> 3.
    assert feature_size(8) == 256
    assert feature_size(12) == 576
    assert feature_size(5) == 144


@pytest.mark.parametrize("size", [5, 8, 12])
def test_qnetwork_shapes(size):
    net = QNetwork(size)
    out = net(torch.zeros(7, 3, size, size, dtype=torch.uint8))
    assert out.shape == (7, 4)
    assert net.conv1.stride == (2, 2) and net.conv1.out_channels == 8
    assert net.conv2.out_channels == 16 and net.conv3.out_channels == 16
    assert net.fc.out_features == 64


def test_batched_forward_equals_each_network():
    nets = fresh_networks(8, [0, 1, 2])
    q = SeedBatchedQ(nets)
    obs = torch.randint(0, 2, (3, 5, 3, 8, 8), dtype=torch.uint8)
    out = q(obs)
    assert out.shape == (3, 5, 4)
    for i, net in enumerate(nets):
        torch.testing.assert_close(out[i], net(obs[i]), rtol=1e-5, atol=1e-6)
    # different seeds give different networks (the test above would pass trivially otherwise)
    assert not torch.allclose(out[0], out[1])


# ------------------------------------------------------- batched == independent
@pytest.mark.parametrize("centered", [False, True])
def test_batched_update_equals_independent_updates(centered):
    cfg = DQNConfig(learning_rate=1e-3, gamma=0.9, rmsprop_centered=centered)
    nets = fresh_networks(5, [3, 4, 5])
    init = [{k: v.clone() for k, v in n.state_dict().items()} for n in nets]
    q = SeedBatchedQ([QNetwork(5) for _ in nets])
    for k, p in q.params.items():  # same starting weights as `nets`
        p.data.copy_(torch.stack([n.state_dict()[k] for n in nets]))
    target = q.detached_copy()
    opt = make_optimizer(q, cfg)
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(3):
        batches.append((torch.randint(0, 2, (3, 6, 3, 5, 5), generator=g, dtype=torch.uint8),
                        torch.randint(0, 4, (3, 6), generator=g),
                        torch.randn(3, 6, generator=g),
                        torch.randint(0, 2, (3, 6, 3, 5, 5), generator=g, dtype=torch.uint8),
                        torch.rand(3, 6, generator=g) < 0.3))
    for b in batches:
        update_step(q, target, opt, b, cfg)

    for i, net in enumerate(nets):  # the textbook single-network update
        target_net = QNetwork(5)
        target_net.load_state_dict(net.state_dict())
        single_opt = torch.optim.RMSprop(net.parameters(), lr=cfg.learning_rate, alpha=cfg.rmsprop_alpha,
                                         eps=cfg.rmsprop_eps, centered=cfg.rmsprop_centered)
        for obs, act, rew, nxt, term in batches:
            with torch.no_grad():
                y = rew[i] + cfg.gamma * target_net(nxt[i]).max(-1).values * (~term[i]).float()
            loss = F.smooth_l1_loss(net(obs[i]).gather(1, act[i][:, None]).squeeze(1), y)
            single_opt.zero_grad()
            loss.backward()
            single_opt.step()
        moved = sum(float((net.state_dict()[k] - init[i][k]).abs().max()) for k in init[i])
        assert moved > 1e-3  # the updates did something (so the comparison is not vacuous)
        for k, v in net.state_dict().items():
            # RMSProp normalises steps to ~lr, so float rounding in tiny gradients shows up at ~1e-6
            torch.testing.assert_close(q.params[k][i].detach(), v, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------- ε schedule
def test_linear_schedule_by_hand():
    assert linear_schedule(1.0, 0.01, 100, 0) == pytest.approx(1.0)
    assert linear_schedule(1.0, 0.01, 100, 50) == pytest.approx(0.505)
    assert linear_schedule(1.0, 0.01, 100, 100) == pytest.approx(0.01)
    assert linear_schedule(1.0, 0.01, 100, 10_000) == pytest.approx(0.01)
    # the paper's schedule: 1 -> 0.01 over 250k steps
    assert linear_schedule(1.0, 0.01, 250_000, 125_000) == pytest.approx(0.505)


# ----------------------------------------------------------------- replay
def test_replay_buffers_are_per_network_and_wrap():
    buf = ReplayBuffers(2, capacity=3, side=5)
    for t in range(5):
        obs = np.full((2, 3, 5, 5), t, np.uint8)
        buf.add(obs, np.array([t % 4, (t + 1) % 4]), np.array([t, -t]), obs, np.array([False, True]))
    assert buf.size == 3 and buf.pos == 2
    # slots hold t = 3, 4, 2 (t = 0, 1 overwritten)
    assert sorted(buf.rewards[0].tolist()) == [2.0, 3.0, 4.0]
    assert sorted(buf.rewards[1].tolist()) == [-4.0, -3.0, -2.0]
    obs, act, rew, nxt, term = buf.sample(8, torch.Generator().manual_seed(0))
    assert obs.shape == (2, 8, 3, 5, 5) and act.shape == (2, 8)
    assert (rew[0] >= 0).all() and (rew[1] <= 0).all()  # network 1 never sees network 0's data
    assert torch.equal(obs[0, :, 0, 0, 0].float(), rew[0])


# ------------------------------------------------------------------ shaping
class _Pot:
    """A minimal stand-in with the Potential interface used by StackedShaping."""

    def __init__(self, table, layout, gamma, terminal_zero=True):
        self.table, self.layout, self.gamma, self.terminal_zero = table, layout, gamma, terminal_zero

    def check_compatible(self, env_config, layout):
        if not all(np.array_equal(a, b) for a, b in zip(self.layout, layout)):
            raise ValueError("potential was computed for another maze")

    def shaping(self, s, s_next, terminated):
        phi_next = np.where(terminated & self.terminal_zero, 0.0, self.table[s_next])
        return self.gamma * phi_next - self.table[s]


def test_stacked_shaping_equals_each_potential():
    rng = np.random.default_rng(0)
    seeds = np.array([[11], [12], [13]])
    pots = [_Pot(rng.normal(size=ENV.n_states), sample_layout(ENV, 11), 0.9),
            None,
            _Pot(rng.normal(size=ENV.n_states), sample_layout(ENV, 13), 0.9, terminal_zero=False)]
    shaping = StackedShaping(pots, ENV, seeds, 0.9)
    s = rng.integers(0, ENV.n_states, 3)
    s2 = rng.integers(0, ENV.n_states, 3)
    term = np.array([True, True, True])
    f = shaping(s, s2, term)
    assert f[1] == 0.0
    assert f[0] == pytest.approx(pots[0].shaping(s[:1], s2[:1], term[:1])[0])
    assert f[2] == pytest.approx(pots[2].shaping(s[2:], s2[2:], term[2:])[0])


def test_shaping_checks_maze_and_gamma():
    pot = _Pot(np.zeros(ENV.n_states), sample_layout(ENV, 11), 0.9)
    with pytest.raises(ValueError, match="another maze"):
        StackedShaping([pot], ENV, np.array([[12]]), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        StackedShaping([pot], ENV, np.array([[11]]), 0.99)


# ------------------------------------------------------------ reproducibility
def test_tiny_run_is_reproducible_and_logs_episodes():
    seeds = np.array([[5], [6]])
    pots = [None, _Pot(np.linspace(0, 1, ENV.n_states), sample_layout(ENV, 6), TINY.gamma)]
    runs = [train_dqn(ENV, TINY, fresh_networks(5, [0, 1]), seeds, potentials=pots, seed=3) for _ in range(2)]
    a, b = runs
    np.testing.assert_array_equal(a.episode_return, b.episode_return)
    np.testing.assert_array_equal(a.episode_end_step, b.episode_end_step)
    for k in a.q.params:
        torch.testing.assert_close(a.q.params[k], b.q.params[k], rtol=0, atol=0)
    # 120 steps with max_steps=20: each network finishes at least 6 episodes, lengths add up
    for net in (0, 1):
        mine = a.episode_network == net
        assert mine.sum() >= 6
        assert a.episode_length[mine].sum() <= TINY.total_steps
        assert np.all(np.diff(a.episode_end_step[mine]) == a.episode_length[mine][1:])
    assert set(np.unique(a.episode_return)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(a.episode_success, a.episode_return == 1.0)
    # the networks learned something (weights moved from their initialisation)
    init = SeedBatchedQ(fresh_networks(5, [0, 1]))
    assert not torch.allclose(a.q.params["head.weight"], init.params["head.weight"])
    other = train_dqn(ENV, TINY, fresh_networks(5, [0, 1]), seeds, potentials=pots, seed=4)
    assert not np.array_equal(other.episode_end_step, a.episode_end_step) or \
        not torch.equal(other.q.params["head.weight"], a.q.params["head.weight"])


def test_evaluate_shapes():
    q = SeedBatchedQ(fresh_networks(5, [0, 1, 2]))
    ev = evaluate(q, ENV, np.array([1, 2, 3]), n_episodes=2)
    assert ev["return"].shape == (3, 2) and ev["success"].dtype == bool
    assert ev["all_triggers"].shape == (3, 2)


def test_evaluate_counts_trigger_activations():
    """A random policy (ε = 1) in many episodes: success needs every trigger, and activations do happen."""
    q = SeedBatchedQ(fresh_networks(5, [0, 1, 2, 3]))
    ev = evaluate(q, ENV, np.array([1, 2, 3, 4]), epsilon=1.0, n_episodes=8, seed=3)
    assert not (ev["success"] & ~ev["all_triggers"]).any()
    assert ev["all_triggers"].any() and not ev["all_triggers"].all()


# ------------------------------------------------------------------ bad input
def test_checkpoint_for_another_grid_size_is_a_clear_error():
    state = SeedBatchedQ(fresh_networks(8, [0, 1])).stacked_state()
    check_compatible(state, 8)  # fits
    with pytest.raises(ValueError, match=r"fc.weight.*8×8.*12×12"):
        check_compatible(state, 12)
    with pytest.raises(ValueError, match="does not fit the target observation"):
        networks_from_stacked(state, 12)
    assert len(networks_from_stacked(state, 8, pick=[1])) == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="total_steps"):
        DQNConfig(total_steps=0)
    with pytest.raises(ValueError, match="gamma"):
        DQNConfig(gamma=1.0)
    with pytest.raises(ValueError, match="maze_seeds"):
        train_dqn(ENV, TINY, fresh_networks(5, [0, 1]), np.array([1, 2]))
    with pytest.raises(ValueError, match="grids"):
        train_dqn(ENV, TINY, fresh_networks(8, [0]), np.array([[1]]))


# ------------------------------------------------------ the experiment driver
def test_run_inverted_end_to_end_on_a_tiny_budget():
    from secretlab.experiments import inverted, inverted_report
    from secretlab.model import ModelConfig, RewardModel

    torch.manual_seed(0)
    model = RewardModel(ModelConfig(d_model=16, d_ff=16, conv_channels=(4,))).eval()
    cfg = DQNConfig(total_steps=60, learning_starts=20, exploration_steps=30, target_update_interval=20,
                    batch_size=4, train_frequency=2)
    config = inverted.InvertedConfig(n_seeds=2, dqn=cfg, source_dqn=cfg, source_mazes=3,
                                     n_target_trajectories=3, curve_points=3, n_eval_episodes=1, n_boot=50)
    result = inverted.run_inverted(config, model=model)
    n = 2
    # every arm ran on the same two target mazes, network index = arm * n_seeds + seed
    assert result.run.q.n_networks == len(inverted.ARMS) * n == 9 * n
    assert set(result.success) == set(inverted.ARMS)
    assert result.success["dqn"].shape == (n, 3) and result.steps.tolist() == [20, 40, 60]
    # scratch and scratch+SECRET start from the same weights, transfer arms from the source networks
    source, _ = inverted.source_networks(config)
    assert result.potentials[0].gamma == cfg.gamma
    summary = inverted_report.results_json(result)
    assert [r["arm"] for r in summary["table_rows"]] == list(inverted.ARMS)
    assert summary["target_mazes"] == [int(m) for m in result.target_mazes]
    # each learned credit beside its uniform-attention control: the same predictions, so the same rows
    meta = result.potential_meta
    assert meta["uniform_n_correct_rows"] == meta["n_correct_rows"]
    assert meta["effect_uniform_n_correct_rows"] == meta["effect_n_correct_rows"]
    assert meta["advice_uniform_n_correct_rows"] == meta["advice_n_correct_rows"]
    assert set(summary["credit_effect"]) == {"credit_effect", "credit_effect_effect_labelled", "credit_effect_advice"}
    for name, (arm, baseline) in inverted.COMPARISONS.items():
        d = summary["differences"][name]
        assert (d["arm"], d["baseline"]) == (arm, baseline)
        auc = d["auc_difference"]
        assert auc["lo"] <= auc["point"] <= auc["hi"]
        assert auc["point"] == pytest.approx(summary[arm]["auc_success"]["point"]
                                             - summary[baseline]["auc_success"]["point"])
    # the source networks' greedy test on held-out fresh mazes, per seed and as an IQM interval
    from secretlab.agents.dqn import SeedBatchedQ, evaluate, networks_from_stacked
    from secretlab.data import maze_seeds
    again = evaluate(SeedBatchedQ(networks_from_stacked(source, config.size)), config.source_env,
                     maze_seeds("heldout", config.seed, n), cfg.test_e, 1, seed=config.seed)["success"].mean(1)
    held = summary["source_test_success"]
    assert held["per_seed"] == [round(float(v), 3) for v in again] and held["trained_on"] == 3
    assert held["lo"] <= held["point"] <= held["hi"]
    # the credit diagnostic: one row per (maze, controls); the inverted rows are the potentials the arms used
    credit = inverted_report.credit_under_controls(result, model)
    assert credit.controls.tolist() == list(inverted_report.CREDIT_CONTROLS) * n
    used, effect = (credit[credit.controls == c] for c in inverted_report.CREDIT_CONTROLS[:2])
    assert used.correct_rows.tolist() == result.potential_meta["n_correct_rows"]
    assert used.reward_rows.tolist() == result.potential_meta["n_reward_rows"]
    assert effect.correct_rows.tolist() == result.potential_meta["effect_n_correct_rows"]
    assert effect.reward_rows.tolist() == used.reward_rows.tolist()  # the same |D| episodes
    assert ((credit.states_with_phi == 0) == (credit.correct_rows == 0)).all()
    assert (credit.correct_positive_rows <= credit.correct_rows).all()
    assert (credit.correct_rows <= credit.reward_rows).all()
    # the cached source networks come back identical
    again, _ = inverted.source_networks(config)
    for k in source:
        torch.testing.assert_close(source[k], again[k], rtol=0, atol=0)
    # the target run is cached: a rerun loads the same weights, episode logs and test results
    rerun = inverted.run_inverted(config, model=model)
    assert rerun.timings["target_dqn_trained_s"] == pytest.approx(result.run.seconds, abs=0.01)
    for name in inverted._RUN_LOGS:  # every logged array the cache stores
        np.testing.assert_array_equal(getattr(rerun.run, name), getattr(result.run, name))
    for k, v in result.run.q.stacked_state().items():
        torch.testing.assert_close(rerun.run.q.stacked_state()[k], v, rtol=0, atol=0)
    for arm in inverted.ARMS:
        np.testing.assert_array_equal(rerun.test_success[arm], result.test_success[arm])
    # ... keyed by everything the run sees: the same inputs load, another potential table trains anew
    from secretlab.cache import cache_dir

    def cached_runs() -> set:
        return set((cache_dir() / "dqn_target").iterdir())

    nets, mazes = fresh_networks(8, [0, 1]), result.target_mazes
    shifted = replace(result.potentials[0], table=result.potentials[0].table + 1.0)
    short = replace(config, dqn=replace(cfg, total_steps=30, learning_starts=10, exploration_steps=10))
    before = cached_runs()
    inverted.target_run(short, nets, mazes, [None, None])
    after = cached_runs()
    assert len(after - before) == 1
    inverted.target_run(short, nets, mazes, [None, None])
    assert cached_runs() == after
    inverted.target_run(short, nets, mazes, [shifted, None])
    assert len(cached_runs() - after) == 1
    after = cached_runs()
    from secretlab.advice import Advice
    from secretlab.envs import sample_layout as layout_of
    advice = Advice(np.full((config.target_env.n_states, 4), 0.5), config.target_env,
                    layout_of(config.target_env, int(mazes[0])), cfg.gamma, 1, "custom")
    inverted.target_run(short, nets, mazes, [None, None], advice=[advice, None])  # advice is part of the key
    assert len(cached_runs() - after) == 1
    # a 12×12 scenario cannot take 8×8 source weights
    with pytest.raises(ValueError, match="does not fit the target observation"):
        networks_from_stacked(source, 12)


def test_effect_actions_undo_the_inversion_by_hand():
    from types import SimpleNamespace

    from secretlab.shaping import effect_actions

    # one 3-step episode on a 3x3 grid, inverted controls: "up" (0) moved the agent DOWN, "left" (3) moved it
    # RIGHT, "up" again hit the bottom border (no move, action kept); then padding
    cells = np.array([[[1, 1], [2, 1], [2, 2], [2, 2], [-1, -1]]])
    data = SimpleNamespace(actions=np.array([[0, 3, 0, -1]]), agent_cells=cells)
    assert effect_actions(data).tolist() == [[2, 1, 0, -1]]
    from secretlab.shaping import secret_potential
    with pytest.raises(ValueError, match="action_labels must be one of"):
        secret_potential(None, ENV, 1, 5, 0.9, action_labels="pressed")
    with pytest.raises(ValueError, match="credit must be one of"):
        secret_potential(None, ENV, 1, 5, 0.9, credit="even")


def test_step_buckets_by_hand():
    from secretlab.agents.dqn import DQNRun
    from secretlab.experiments.inverted import step_buckets

    run = DQNRun(q=None, episode_network=np.array([0, 0, 1, 0]), episode_end_step=np.array([3, 5, 9, 12]),
                 episode_return=np.array([1.0, -1.0, 1.0, 1.0]), episode_success=np.array([True, False, True, True]),
                 episode_length=np.array([3, 2, 9, 7]), seconds=0.0, config=TINY)
    steps, success, returns = step_buckets(run, np.array([0, 1]), total_steps=12, n_points=3)
    assert steps.tolist() == [4, 8, 12]
    # network 0: bucket (0,4] has episode@3 (success), (4,8] episode@5 (fail), (8,12] episode@12 (success)
    assert success[0].tolist() == [1.0, 0.0, 1.0]
    assert returns[0].tolist() == [1.0, -1.0, 1.0]
    # network 1: nothing until step 9 -> 0, 0 (carried), then 1
    assert success[1].tolist() == [0.0, 0.0, 1.0]


# ------------------------------------------------------- algorithm-agnostic
def test_stable_baselines3_dqn_runs_unchanged_on_the_shaped_env():
    import gymnasium as gym

    from secretlab.agents.sb3_dqn import full_grid_env, sb3_dqn
    from secretlab.shaping import oracle_potential
    from secretlab.wrappers import ShapingWrapper

    layout = sample_layout(ENV, 11)
    potential = oracle_potential(ENV, layout, TINY.gamma)
    env = full_grid_env(ShapingWrapper(gym.make("secretlab/Triggers-v0", size=5, n_triggers=1, n_prizes=1,
                                                inverted=True, max_steps=20), potential))
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 5, 5) and obs[0].sum() == 1  # the full grid, agent channel first
    np.testing.assert_array_equal(obs, env.unwrapped.full_grid())
    model = sb3_dqn(env, TINY, seed=0)
    # SB3's Q-network is exactly the paper's network: features (convs + FC 64) + a linear head to 4 actions
    n_params = sum(p.numel() for p in model.q_net.parameters())
    assert n_params == sum(p.numel() for p in QNetwork(5).parameters())
    before = [p.detach().clone() for p in model.q_net.parameters()]
    model.learn(total_timesteps=TINY.total_steps)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.q_net.parameters()))
    # the wrapper really shapes: over random steps, some reward differs from the env reward by F
    env.reset(seed=0)
    env.action_space.seed(0)
    shaped = []
    for _ in range(200):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        shaped.append(reward - info["env_reward"])
        assert reward == pytest.approx(info["env_reward"] + info["shaping"])
        if terminated or truncated:
            env.reset()
    assert np.abs(shaped).max() > 0


def test_paper_profile_configs_are_the_papers_schedule():
    from secretlab.experiments import inverted
    from secretlab.profiles import notebook_params

    configs = inverted.profile_configs(notebook_params("06_inverted_dynamics", "paper"), "paper", seed=0)
    assert [(c.n_triggers, c.n_prizes) for c in configs] == [(1, 1), (1, 2)]
    for c in configs:
        d = c.dqn  # App. A.3: ε 1 → 0.01 over 250k steps, 0.001 at test, RMSProp 2.5e-4, sync 2,000, prefill 5,000
        assert (d.total_steps, d.exploration_steps, d.start_e, d.end_e, d.test_e) == (500_000, 250_000, 1.0, 0.01, 0.001)
        assert (d.learning_rate, d.target_update_interval, d.learning_starts) == (2.5e-4, 2000, 5000)
        assert d.buffer_size == 100_000  # documented deviation from 1e6 (memory), docs/dqn.md
        assert c.source_dqn == d and c.n_seeds == 10 and c.source_mazes == "fresh" and c.profile == "paper"


def test_the_paper_reading_says_where_each_interval_lies():
    from secretlab.experiments.inverted_report import _difference

    def summary(lo, point, hi):
        return {"differences": {"weight_transfer": {"auc_difference": {"point": point, "lo": lo, "hi": hi}}}}

    assert _difference(summary(0.01, 0.05, 0.1), "weight_transfer")["verdict"] == "above 0"
    assert _difference(summary(-0.2, -0.1, -0.01), "weight_transfer")["verdict"] == "below 0"
    reading = _difference(summary(-0.02, 0.01, 0.04), "weight_transfer")
    assert reading["verdict"] == "contains 0" and reading["text"] == "+0.010 [-0.020, +0.040]"
