"""Trajectory datasets: content, determinism, caching, plain-npz storage."""
import numpy as np
import pytest

from secretlab.cache import config_hash, load_npz
from secretlab.data import DatasetConfig, TrajectoryDataset, collect, load_or_collect, maze_seeds
from secretlab.envs import TriggersConfig, TriggersEnv


def small(**kw):
    return DatasetConfig(TriggersConfig(5, 1, 1, max_steps=30), n_trajectories=kw.pop("n", 50), **kw)


def test_dataset_shapes_and_padding():
    ds = collect(small())
    N, T = 50, 30
    assert ds.obs.shape == (N, T, 3, 3, 3) and ds.actions.shape == (N, T) and ds.states.shape == (N, T + 1)
    mask = ds.mask
    assert (ds.actions[~mask] == -1).all() and (ds.actions[mask] >= 0).all()
    assert (ds.rewards[~mask] == 0).all() and not ds.activated[~mask].any()
    for i in range(N):
        L = ds.lengths[i]
        assert (ds.states[i, : L + 1] >= 0).all() and (ds.states[i, L + 1:] == -1).all()
    # an episode that terminated ended on a prize, so its last reward is non-zero
    assert (ds.rewards[np.arange(N), ds.lengths - 1][ds.terminated] != 0).all()


def test_dataset_replays_exactly_in_the_gymnasium_env():
    ds = collect(small(n=10))
    for i in range(10):
        env = TriggersEnv(5, 1, 1, max_steps=30)
        obs, info = env.reset(seed=int(ds.maze_seeds[i]))
        assert info["state"] == ds.states[i, 0]
        for t in range(ds.lengths[i]):
            np.testing.assert_array_equal(obs, ds.obs[i, t])
            obs, r, term, trunc, info = env.step(int(ds.actions[i, t]))
            assert r == ds.rewards[i, t] and info["activated"] == ds.activated[i, t]
            assert info["state"] == ds.states[i, t + 1]
        assert term == ds.terminated[i] and (term or trunc)


def test_same_config_same_dataset_other_seed_other_dataset():
    a, b, c = collect(small(seed=3)), collect(small(seed=3)), collect(small(seed=4))
    np.testing.assert_array_equal(a.actions, b.actions)
    np.testing.assert_array_equal(a.obs, b.obs)
    assert not np.array_equal(a.actions, c.actions)


def test_split_seed_ranges_are_disjoint():
    train = set(maze_seeds("train", 0, 10_000).tolist())
    held = set(maze_seeds("heldout", 0, 10_000).tolist())
    target = set(maze_seeds("target", 0, 10_000).tolist())
    assert not (train & held) and not (train & target) and not (held & target)
    with pytest.raises(ValueError, match="split must be one of"):
        maze_seeds("test", 0, 1)


def test_fixed_maze_dataset_uses_one_layout():
    ds = collect(small(n=20, split="target", fixed_maze_seed=77))
    assert (ds.maze_seeds == 77).all()
    assert (ds.layouts.triggers == ds.layouts.triggers[0]).all()


def test_custom_policy_is_used():
    always_right = lambda obs, state, rng: np.ones(len(state), dtype=np.int64)  # noqa: E731
    ds = collect(small(n=5), policy=always_right)
    assert (ds.actions[ds.mask] == 1).all()


def test_load_or_collect_caches_atomically(fresh_cache):
    cfg = small(n=20)
    first = load_or_collect(cfg)
    files = list(fresh_cache.rglob("data.npz"))
    assert len(files) == 1 and config_hash(cfg) in str(files[0])
    assert not list(fresh_cache.rglob(".data.npz.*"))  # no temporary left behind
    stamp = files[0].stat().st_mtime_ns
    second = load_or_collect(cfg)
    assert files[0].stat().st_mtime_ns == stamp  # loaded, not re-collected
    np.testing.assert_array_equal(first.obs, second.obs)
    assert second.config == cfg
    arrays = load_npz(files[0])  # plain arrays: loads with allow_pickle=False
    assert all(a.dtype != object for a in arrays.values())


def test_roundtrip_through_npz(tmp_path):
    ds = collect(small(n=8))
    ds.save(tmp_path / "d.npz")
    back = TrajectoryDataset.load(tmp_path / "d.npz")
    assert back.config == ds.config
    for name in ("obs", "actions", "rewards", "states", "activated", "lengths", "terminated", "maze_seeds"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ds, name))


def test_agent_cells_decode_states():
    ds = collect(small(n=4))
    cells = ds.agent_cells
    assert cells.shape == (4, 31, 2)
    assert ((cells >= 0) == (ds.states[..., None] >= 0)).all()
    assert (cells[ds.states >= 0] < 5).all()


@pytest.mark.parametrize("kwargs, name", [(dict(n_trajectories=0), "n_trajectories"),
                                          (dict(split="valid"), "split")])
def test_bad_dataset_config(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DatasetConfig(**kwargs)


def test_success_share_keeps_episodes_by_outcome_only():
    cfg = DatasetConfig(TriggersConfig(5, 2, 1, max_steps=30), n_trajectories=40, seed=1, success_share=0.25)
    ds = collect(cfg, batch_size=64)
    success = (ds.rewards > 0).any(1)
    assert ds.n == 40 and success.sum() == 10
    # kept episodes come from consecutive seeds of the train block, in order, and replay exactly
    assert (np.diff(ds.maze_seeds) > 0).all() and ds.maze_seeds[0] >= maze_seeds("train", 1, 1)[0]
    natural = collect(DatasetConfig(cfg.env, n_trajectories=int(ds.maze_seeds[-1] - ds.maze_seeds[0]) + 1,
                                    seed=1))
    assert natural.summary()["share_positive"] < 0.25  # the share really was raised by the selection
    again = collect(cfg, batch_size=64)
    np.testing.assert_array_equal(ds.obs, again.obs)
    np.testing.assert_array_equal(ds.actions, again.actions)
    assert (ds.actions[ds.mask] >= 0).all() and (ds.actions[~ds.mask] == -1).all()


def test_success_share_zero_and_one():
    env = TriggersConfig(5, 1, 1, max_steps=30)
    assert not (collect(DatasetConfig(env, 20, success_share=0.0)).rewards > 0).any()
    assert (collect(DatasetConfig(env, 20, success_share=1.0)).rewards > 0).any(1).all()


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True])
def test_success_share_bad_values(bad):
    with pytest.raises(ValueError, match="success_share"):
        DatasetConfig(TriggersConfig(5, 1, 1), 10, success_share=bad)


def test_success_share_impossible_quota_is_a_clear_error(monkeypatch):
    import secretlab.data as data

    monkeypatch.setattr(data, "MAX_EPISODES_PER_KEPT", 2)
    # 3 triggers in 3 steps can never be followed by a prize: no +1 is possible
    cfg = DatasetConfig(TriggersConfig(4, 3, 1, max_steps=3), 10, success_share=0.5)
    with pytest.raises(ValueError, match="success_share=0.5.*lower success_share"):
        collect(cfg, batch_size=8)
