"""Invariants of the core checked on tiny hand-worked cases (cache keys, IQM, credit tolerance, shaping, ε-greedy).

Each test targets one class of realistic bug; the expected values below were worked out by hand.
"""
from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn as nn

import secretlab  # noqa: F401  (registers the env)
from secretlab.agents.qlearning import QLearningConfig, _act, _uniforms, stream_keys, train_q_learning
from secretlab.cache import config_hash
from secretlab.credit import _matches_within, credit_rows
from secretlab.data import DatasetConfig
from secretlab.envs.triggers import Layout, TriggersConfig
from secretlab.model import ModelConfig
from secretlab.shaping import Potential
from secretlab.wrappers import ShapingWrapper
from secretlab.stats import iqm, iqm_curve, iqm_interval
from secretlab.checkpoints import checkpoint_path
from secretlab.training import TrainConfig


# =============================================================================================== 3. cache keys
# A valid changed value for the fields whose type alone does not give one (strings, None defaults).
_OVERRIDES = {
    "split": "heldout", "policy": "epsilon_greedy", "lr_schedule": "cosine",
    "fixed_maze_seed": 3, "success_share": 0.5, "max_steps": 50, "conv_kernel": 5, "warmup_epochs": 1.0,
}


def _changed(config, name):
    """``config`` with field ``name`` changed to another valid value (validation bypassed only if none exists)."""
    old = getattr(config, name)
    if name in _OVERRIDES:
        candidates = [_OVERRIDES[name]]
    elif isinstance(old, bool):
        candidates = [not old]
    elif isinstance(old, int):
        candidates = [old + 1, old * 2, old - 1]
    elif isinstance(old, float):
        candidates = [old * 2 if old else 0.5, old / 2, old + 0.05]
    elif isinstance(old, tuple):  # change one end (a key that reads only part of a tuple must still fail)
        candidates = [old[:-1] + (old[-1] * 2,), old + old[-1:]]
    elif dataclasses.is_dataclass(old):
        first = dataclasses.fields(old)[1 if len(dataclasses.fields(old)) > 1 else 0].name
        candidates = [_changed(old, first)]
    else:
        raise AssertionError(f"no changed value known for {type(config).__name__}.{name} = {old!r}; add one")
    for value in candidates:
        try:
            new = dataclasses.replace(config, **{name: value})
        except ValueError:
            continue
        if getattr(new, name) != old:
            return new
    # No other valid value (ModelConfig.n_classes must be 3): the key must still cover the field.
    new = dataclasses.replace(config)
    object.__setattr__(new, name, candidates[0])
    return new


def _field_cases():
    cases = []
    for cls in (DatasetConfig, TrainConfig, ModelConfig):
        cases += [pytest.param(cls(), (f.name,), id=f"{cls.__name__}.{f.name}") for f in dataclasses.fields(cls)]
    cases += [pytest.param(DatasetConfig(), ("env", f.name), id=f"DatasetConfig.env.{f.name}")
              for f in dataclasses.fields(TriggersConfig)]
    return cases


def _change_path(config, path):
    if len(path) == 1:
        return _changed(config, path[0])
    inner = _change_path(getattr(config, path[0]), path[1:])
    return dataclasses.replace(config, **{path[0]: inner})


@pytest.mark.parametrize("config, path", _field_cases())
def test_config_hash_changes_with_every_field(config, path):
    changed = _change_path(config, path)
    assert changed != config
    # the hash is a function of the config (equal configs, equal keys) ...
    assert config_hash(copy.deepcopy(config)) == config_hash(config)
    assert config_hash(copy.deepcopy(changed)) == config_hash(changed)
    # ... and of every field of it
    assert config_hash(changed) != config_hash(config), f"cache key ignores {'.'.join(path)}"
    value = getattr(config, path[0]) if len(path) == 1 else None
    if isinstance(value, tuple) and len(value) > 1:  # and the other end of a tuple
        other = dataclasses.replace(config, **{path[0]: (value[0] * 2,) + value[1:]})
        assert config_hash(other) != config_hash(config), f"cache key ignores {path[0]}[0]"


@pytest.mark.parametrize("which", ["dataset", "model", "train"])
def test_checkpoint_key_covers_every_config_field(which, fresh_cache):
    """The reward-model checkpoint key depends on every field of the dataset, model and training configs."""
    base = {"dataset": DatasetConfig(), "model": ModelConfig(), "train": TrainConfig()}

    def path(d):
        return checkpoint_path(SimpleNamespace(config=d["dataset"]), d["model"], d["train"])

    reference = path(base)
    assert path(dict(base)) == reference
    for f in dataclasses.fields(base[which]):
        changed = {**base, which: _changed(base[which], f.name)}
        assert path(changed) != reference, f"checkpoint key ignores {which}.{f.name}"


# =============================================================================================== 4. IQM
_PERM = np.random.default_rng(5).permutation  # inputs are shuffled: iqm must sort


def test_iqm_of_8_values_trims_two_on_each_side():
    x = np.array([0, 1, 2, 4, 8, 16, 32, 64], float)
    scores = x[_PERM(8)].reshape(2, 4)  # (runs, tasks), pooled
    assert iqm(scores) == pytest.approx((2 + 4 + 8 + 16) / 4)  # 7.5; 20% would trim one: 10.5
    assert iqm(x) == pytest.approx(7.5)


def test_iqm_of_12_values_trims_three_on_each_side():
    x = np.arange(12, dtype=float) ** 2  # 0 1 4 9 16 25 36 49 64 81 100 121
    scores = x[_PERM(12)].reshape(3, 4)
    # 25%: drop 3 per side -> 9..64; 20% (2 per side) gives 35.5; low side only gives 501/9
    assert iqm(scores) == pytest.approx((9 + 16 + 25 + 36 + 49 + 64) / 6)


def test_iqm_of_20_values_trims_five_on_each_side():
    x = np.arange(20, dtype=float) ** 2
    scores = x[_PERM(20)].reshape(4, 5)
    # 25%: keep k = 5..14: 985/10; 30% (6 per side) gives 95.5, 20% (4 per side) 102.17
    assert iqm(scores) == pytest.approx(98.5)
    assert iqm_interval(scores, n_boot=200).point == pytest.approx(98.5)
    # per x-point over runs × tasks pooled: column 0 the 20 values, column 1 a constant
    curves = np.stack([scores, np.full((4, 5), 3.0)], axis=-1)
    point, lo, hi = iqm_curve(curves, n_boot=200)
    np.testing.assert_allclose(point, [98.5, 3.0])
    assert lo[0] <= 98.5 <= hi[0]


def test_iqm_trims_both_sides_symmetrically():
    x = np.array([-1000, 1, 2, 3, 4, 5, 6, 7], float)  # an outlier on one side only
    assert iqm(x.reshape(2, 4)) == pytest.approx((2 + 3 + 4 + 5) / 4)
    assert iqm(-x.reshape(2, 4)) == pytest.approx(-(2 + 3 + 4 + 5) / 4)


def test_iqm_interval_of_a_constant_is_that_constant():
    interval = iqm_interval(np.full((5, 3), 0.7), n_boot=300, seed=4)
    assert (interval.point, interval.lo, interval.hi) == pytest.approx((0.7, 0.7, 0.7))


# =============================================================================================== 5. credit tolerance
def _row(n, at, value=1):
    r = np.zeros(n, np.int64)
    for t in np.atleast_1d(at):
        r[t] = value
    return r


@pytest.mark.parametrize("k", [1, 2, 5])
def test_matches_within_counts_both_sides_up_to_k(k):
    n, t = 20, 8
    sign = _row(n, t)
    assert _matches_within(_row(n, t), sign, t, k)
    assert _matches_within(_row(n, t + k), sign, t, k)  # k steps after the reward: correct
    assert not _matches_within(_row(n, t + k + 1), sign, t, k)  # k + 1 after: not
    assert _matches_within(_row(n, t - k), sign, t, k)  # k steps before: correct
    assert not _matches_within(_row(n, t - k - 1), sign, t, k)  # k + 1 before: not
    assert not _matches_within(_row(n, t + k, value=-1), sign, t, k)  # the other sign does not count
    # negative rewards are matched the same way
    assert _matches_within(_row(n, t + k, -1), _row(n, t, -1), t, k)
    assert not _matches_within(_row(n, t + k + 1, -1), _row(n, t, -1), t, k)


def test_matches_within_clips_the_window_at_the_start():
    sign = _row(10, 1)
    assert _matches_within(_row(10, 0), sign, 1, 3)  # the window [-2, 4] is [0, 4]
    assert _matches_within(_row(10, 4), sign, 1, 3)
    assert not _matches_within(_row(10, 5), sign, 1, 3)


class _FixedSigns(nn.Module):
    """Stand-in reward model: predicts a fixed sign per (trajectory, step); attends nowhere. No ``config``."""

    def __init__(self, signs):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.signs = torch.as_tensor(np.asarray(signs))

    def forward(self, obs, actions, mask):
        b, length = actions.shape
        logits = nn.functional.one_hot(self.signs[:b, :length] + 1, 3).float()
        return logits, torch.zeros(b, length, length)


def _reward_dataset(n, length, reward_step, lengths=None):
    rewards = np.zeros((n, length), np.float32)
    rewards[:, reward_step] = 1.0
    lengths = np.full(n, length) if lengths is None else np.asarray(lengths)
    actions = np.where(np.arange(length)[None] < lengths[:, None], 0, -1).astype(np.int64)
    return SimpleNamespace(obs=np.zeros((n, length, 3, 3, 3), np.uint8), actions=actions, rewards=rewards,
                           lengths=lengths)


@pytest.mark.parametrize("k", [1, 3])
def test_credit_rows_tolerance_window_on_both_sides(k):
    t, length = 6, 14
    offsets = [0, k, k + 1, -k, -k - 1]  # where the one +1 prediction of each trajectory lies, relative to t
    pred = np.stack([_row(length, t + o) for o in offsets])
    data = _reward_dataset(len(offsets), length, t)
    rows = credit_rows(_FixedSigns(pred), data, tolerance=k)
    assert rows.traj.tolist() == list(range(len(offsets))) and rows.step.tolist() == [t] * len(offsets)
    assert rows.correct.tolist() == [True, True, False, True, False]
    assert credit_rows(_FixedSigns(pred), data, tolerance=0).correct.tolist() == [True, False, False, False, False]


def test_credit_rows_tolerance_ignores_predictions_on_padding():
    """Trajectory 0 ends with its +1 (step 4 of 5); trajectory 1 is longer, so the batch runs to step 9.

    The model's only +1 for trajectory 0 is at step 6, which is padding: no prediction was made there.
    """
    data = _reward_dataset(2, 10, 4, lengths=[5, 10])
    data.rewards[1] = 0
    pred = np.stack([_row(10, 6), _row(10, [])])
    rows = credit_rows(_FixedSigns(pred), data, tolerance=2)
    assert rows.traj.tolist() == [0]
    assert rows.correct.tolist() == [False]


# =============================================================================================== 6. shaping
# 3×3 maze: agent (1, 1), trigger (1, 2), prize (0, 1). Key = cell * 4 + bits (bit 0 trigger, bit 1 prize).
SHAPING_ENV = TriggersConfig(3, 1, 1)
SHAPING_LAYOUT = Layout(np.array([1, 1]), np.array([[1, 2]]), np.array([[0, 1]]))
GAMMA = 0.9
K_START = 4 * 4 + 3  # (1, 1), both present: 19
K_TRIGGER = 5 * 4 + 2  # (1, 2), trigger gone: 22
K_ABOVE_TRIGGER = 2 * 4 + 2  # (0, 2): 10
K_DONE = 1 * 4 + 0  # (0, 1), both gone: 4 (terminal)
K_DOWN = 7 * 4 + 3  # (2, 1): 31
K_LEFT = 3 * 4 + 3  # (1, 0): 15
K_PRIZE_EARLY = 1 * 4 + 1  # (0, 1), prize gone, trigger still there: 5 (terminal)
PHI = {K_START: 1.0, K_TRIGGER: 2.0, K_ABOVE_TRIGGER: 4.0, K_DONE: 8.0, K_DOWN: 3.0, K_LEFT: 5.0, K_PRIZE_EARLY: 7.0}


def _potential(terminal_zero=True, env=SHAPING_ENV):
    table = np.zeros(env.n_states)
    for key, value in PHI.items():
        table[key] = value
    return Potential(table, env, SHAPING_LAYOUT, GAMMA, 0, "custom", terminal_zero)


@pytest.mark.parametrize("terminal_zero, last", [(True, 0.0 - 4.0), (False, 0.9 * 8.0 - 4.0)])
def test_potential_shaping_by_hand(terminal_zero, last):
    pot = _potential(terminal_zero)
    f = pot.shaping(np.array([K_START, K_TRIGGER, K_ABOVE_TRIGGER]), np.array([K_TRIGGER, K_ABOVE_TRIGGER, K_DONE]),
                    np.array([False, False, True]))
    # 0.9·2 − 1 = 0.8 ; 0.9·4 − 2 = 1.6 ; terminal: 0 − 4 (φ(s') := 0) or 0.9·8 − 4 = 3.2
    np.testing.assert_allclose(f, [0.8, 1.6, last], atol=1e-12)
    # not terminated (e.g. truncated) into the same terminal-looking key: φ(s') is kept
    np.testing.assert_allclose(pot.shaping(np.array([K_ABOVE_TRIGGER]), np.array([K_DONE]), np.array([False])),
                               [0.9 * 8.0 - 4.0], atol=1e-12)


@pytest.mark.parametrize("terminal_zero, last", [(True, 1.0 - 4.0), (False, 1.0 + 0.9 * 8.0 - 4.0)])
def test_shaping_wrapper_episode_by_hand(terminal_zero, last):
    env = ShapingWrapper(gym.make("secretlab/Triggers-v0", size=3, n_triggers=1, n_prizes=1),
                         _potential(terminal_zero), gamma=GAMMA)
    _, info = env.reset()
    assert info["state"] == K_START
    got = []
    for action in (1, 0, 3):  # right onto the trigger, up, left onto the prize (+1, terminated)
        _, r, term, trunc, info = env.step(action)
        got.append((r, info["env_reward"], info["shaping"], term))
    expected = [(0.8, 0.0, 0.8, False), (1.6, 0.0, 1.6, False), (last, 1.0, last - 1.0, True)]
    for (r, env_r, f, term), (er, eenv, ef, eterm) in zip(got, expected):
        assert (r, env_r, f) == pytest.approx((er, eenv, ef), abs=1e-12) and term == eterm


def test_shaping_wrapper_keeps_phi_on_truncation():
    env_cfg = TriggersConfig(3, 1, 1, max_steps=2)
    env = ShapingWrapper(gym.make("secretlab/Triggers-v0", size=3, n_triggers=1, n_prizes=1, max_steps=2),
                         _potential(True, env_cfg))
    env.reset()
    env.step(1)
    _, r, term, trunc, info = env.step(0)  # truncated in key 10: F = 0.9·4 − 2, not 0 − 2
    assert (term, trunc) == (False, True)
    assert r == pytest.approx(0.9 * 4.0 - 2.0, abs=1e-12)


@pytest.mark.parametrize("terminal_zero", [True, False])
def test_q_learning_shaped_return_by_hand(terminal_zero):
    """One-step episodes: the shaped minus the plain return of each agent is F of its first move."""
    env = TriggersConfig(3, 1, 1, max_steps=1)
    n = 400
    layouts = Layout(*(np.repeat(np.asarray(x)[None], n, axis=0) for x in SHAPING_LAYOUT))
    cfg = QLearningConfig(epsilon=1.0, gamma=GAMMA, n_episodes=1, eval_interval=1, terminal_zero=terminal_zero)
    res = train_q_learning(env, layouts, cfg, potentials=[_potential(terminal_zero, env)] * n)
    # up: prize with the trigger still there (−1, terminated); right: trigger; down, left: empty cells (truncated)
    up_f = -1.0 if terminal_zero else 0.9 * 7.0 - 1.0
    expected = {(-1.0, -1.0 + up_f), (0.0, 0.9 * 2.0 - 1.0), (0.0, 0.9 * 3.0 - 1.0), (0.0, 0.9 * 5.0 - 1.0)}
    got = {(float(r), round(float(s), 5)) for r, s in zip(res.episode_return[:, 0], res.episode_shaped_return[:, 0])}
    assert got == {(r, round(s, 5)) for r, s in expected}


# =============================================================================================== 7. ε-greedy
def _first_actions(epsilon, n=4000, dominant=None):
    """First action of n one-step Q-learners in one maze, read off the shaping F of their move.

    ``dominant``: an action whose advice Φ(s0, a) = 5 makes it the only greedy action at the start.
    """
    env = TriggersConfig(3, 1, 1, max_steps=1)
    layouts = Layout(*(np.repeat(np.asarray(x)[None], n, axis=0) for x in SHAPING_LAYOUT))
    advice = None
    if dominant is not None:
        advice = np.zeros((n, env.n_states, 4))
        advice[:, K_START, dominant] = 5.0
    cfg = QLearningConfig(epsilon=epsilon, gamma=GAMMA, n_episodes=1, eval_interval=1)
    res = train_q_learning(env, layouts, cfg, potentials=[_potential(True, env)] * n, advice=advice)
    f = np.round((res.episode_shaped_return[:, 0] - res.episode_return[:, 0]).astype(np.float64), 4)
    by_f = {-1.0: 0, 0.8: 1, 1.7: 2, 3.5: 3}  # F of up, right, down, left (see the shaping tests)
    assert set(f.tolist()) <= set(by_f), sorted(set(f.tolist()))
    assert (res.state_visits[:, K_START] == 1).all() and res.state_visits.sum() == n
    return np.array([by_f[v] for v in f.tolist()])


@pytest.mark.parametrize("dominant", [None, 2], ids=["all_tied", "down_dominates"])
def test_epsilon_one_takes_every_action_a_quarter_of_the_time(dominant):
    shares = np.bincount(_first_actions(1.0, dominant=dominant), minlength=4) / 4000
    np.testing.assert_allclose(shares, 0.25, atol=0.03)  # binomial sd ≈ 0.007


def test_epsilon_zero_always_takes_the_dominant_action():
    assert (_first_actions(0.0, n=500, dominant=3) == 3).all()
    assert (_first_actions(0.0, n=500, dominant=1) == 1).all()


def test_small_epsilon_explores_at_its_rate():
    shares = np.bincount(_first_actions(0.2, dominant=0), minlength=4) / 4000
    # greedy 0.8 + 0.2/4; each other action 0.2/4
    np.testing.assert_allclose(shares, [0.85, 0.05, 0.05, 0.05], atol=0.02)


def test_act_by_hand():
    n = 4000
    u = _uniforms(stream_keys(3, np.arange(n), purpose=11), 0)
    assert u.shape == (n, 6) and (u >= 0).all() and (u < 1).all()
    q = np.tile([0.0, 0.0, 1.0, 0.0], (n, 1))  # action 2 dominates
    assert (_act(q, 0.0, u) == 2).all()
    shares = np.bincount(_act(q, 1.0, u), minlength=4) / n
    np.testing.assert_allclose(shares, 0.25, atol=0.03)
    shares = np.bincount(_act(q, 0.4, u), minlength=4) / n
    np.testing.assert_allclose(shares, [0.1, 0.1, 0.7, 0.1], atol=0.025)
    # ties are broken uniformly among the tied actions only
    tied = np.tile([1.0, -1.0, 1.0, -1.0], (n, 1))
    shares = np.bincount(_act(tied, 0.0, u), minlength=4) / n
    np.testing.assert_allclose(shares, [0.5, 0.0, 0.5, 0.0], atol=0.03)


def test_greedy_evaluation_is_not_a_success_after_a_minus_one():
    """The prize entered before the trigger: the episode terminates with −1 and is no success."""
    from secretlab.agents.qlearning import evaluate_greedy
    from secretlab.envs.triggers import Layout, TriggersConfig

    env = TriggersConfig(3, 1, 1, max_steps=10)
    layout = Layout(np.array([[1, 1]]), np.array([[[0, 0]]]), np.array([[[1, 2]]]))  # prize right of the agent
    q = np.zeros((1, env.n_states, 4))
    q[..., 1] = 1.0  # always "right"
    ret, success, length = evaluate_greedy(env, layout, q)
    assert (ret[0], bool(success[0]), int(length[0])) == (-1.0, False, 1)


def test_bootstrap_resamples_every_run():
    from secretlab.stats import bootstrap_indices

    idx = bootstrap_indices(3, 2, 500, seed=0)
    assert set(np.unique(idx)) == {0, 1, 2}
