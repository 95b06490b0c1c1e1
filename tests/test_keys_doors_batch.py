"""The numpy-batched KeysDoors stepping equals KeysDoorsEnv.step on every step, and the collector built on it
records what the env gives episode by episode."""
from __future__ import annotations

import numpy as np
import pytest
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.world_object import Key

from secretlab.data.keys_doors import CollectConfig, collect, maze_seeds, model_view
from secretlab.envs.keys_doors import KeysDoorsConfig, KeysDoorsEnv
from secretlab.envs.keys_doors_batch import COLOUR_CODE, KeysDoorsBatch, reset_batch

#: (env kwargs, episodes): small and large mazes, 2..6 colours, the carried key drawn or not, default and
#: short/long horizons, one fixed maze.
CONFIGS = [
    (dict(n_rooms=2, room_size=3), 40),
    (dict(n_rooms=2, room_size=3, n_colors=3, max_steps=400, show_carried=True), 40),
    (dict(n_rooms=3, room_size=3, n_colors=3, show_carried=True), 40),
    (dict(n_rooms=3, room_size=4, max_steps=100), 40),
    (dict(n_rooms=4, room_size=3, n_colors=6, max_steps=300), 30),
    (dict(n_rooms=2, room_size=4, maze_seed=7, max_steps=400), 30),
]
#: A forward-heavy random walk that picks up and toggles often, so keys go, doors open and goals are reached.
WALK = [0.15, 0.15, 0.4, 0.15, 0.15]


def _lockstep(envs, batch, rng, events):
    """Step ``envs`` one by one and ``batch`` at once with the same actions until every episode ends;
    assert the same observation, reward, terminated, truncated and info on every step."""
    alive = np.ones(len(envs), bool)
    while alive.any():
        actions = rng.choice(5, size=len(envs), p=WALK)
        step = batch.advance(actions, alive)
        dead = ~alive
        obs = batch.observe()
        for j in np.flatnonzero(alive):
            env_obs, reward, terminated, truncated, info = envs[j].step(int(actions[j]))
            np.testing.assert_array_equal(obs[j], env_obs)
            assert (step.reward[j], step.terminated[j], step.truncated[j]) == (reward, terminated, truncated)
            assert step.info(j) == info
            events["pickups"] += info["picked_key"] >= 0
            events["doors"] += info["opened_door"] >= 0
            events["goals"] += terminated
            events["truncations"] += truncated
            alive[j] = not (terminated or truncated)
        assert not step.reward[dead].any() and (step.picked_key[dead] == -1).all()  # ended rows are left alone


@pytest.mark.parametrize("kwargs, n", CONFIGS, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items())
                         if isinstance(c, dict) else str(c))
def test_batch_steps_equal_env_step_on_every_step(kwargs, n):
    envs = [KeysDoorsEnv(**kwargs) for _ in range(n)]
    first = [env.reset(seed=1000 + i) for i, env in enumerate(envs)]
    batch = KeysDoorsBatch.from_envs(envs)
    np.testing.assert_array_equal(batch.observe(), np.stack([obs for obs, _ in first]))
    np.testing.assert_array_equal(batch.state, [info["state"] for _, info in first])
    events = dict.fromkeys(("pickups", "doors", "goals", "truncations"), 0)
    _lockstep(envs, batch, np.random.default_rng(len(kwargs)), events)
    assert events["pickups"] and events["doors"] and events["truncations"]
    if kwargs.get("max_steps", 0) >= 400:
        assert events["goals"]  # long walks in two small rooms reach the cake


def test_batch_copies_running_envs_and_leaves_them_alone():
    envs = [KeysDoorsEnv(n_rooms=2, room_size=3, max_steps=300) for _ in range(24)]
    rng = np.random.default_rng(3)
    for i, env in enumerate(envs):  # episodes already under way: keys taken, doors open, steps counted
        env.reset(seed=i)
        for action in rng.choice(5, size=int(rng.integers(0, 80)), p=WALK):
            env.step(int(action))
    batch = KeysDoorsBatch.from_envs(envs)
    grids = [env.padded_grid.copy() for env in envs]
    batch.advance(np.full(24, 2))
    assert all((env.padded_grid == grid).all() for env, grid in zip(envs, grids))
    batch = KeysDoorsBatch.from_envs(envs)
    events = dict.fromkeys(("pickups", "doors", "goals", "truncations"), 0)
    _lockstep(envs, batch, rng, events)
    assert events["truncations"]


@pytest.mark.parametrize("kwargs", [dict(n_rooms=2, room_size=3), dict(n_rooms=3, room_size=4, n_colors=3),
                                    dict(n_rooms=2, room_size=3, maze_seed=5, show_carried=True)])
def test_reset_batch_builds_the_envs_mazes(kwargs):
    config = KeysDoorsConfig(**kwargs)
    seeds = maze_seeds("train", 0, 12)
    batch = reset_batch(config, seeds)
    envs = [KeysDoorsEnv(**config.env_kwargs()) for _ in seeds]
    first = [env.reset(seed=int(s)) for env, s in zip(envs, seeds)]
    np.testing.assert_array_equal(batch.padded, np.stack([env.padded_grid for env in envs]))
    np.testing.assert_array_equal(batch.observe(), np.stack([obs for obs, _ in first]))
    np.testing.assert_array_equal(batch.state, [info["state"] for _, info in first])
    for name, value in batch.layout.items():
        np.testing.assert_array_equal(value, np.stack([env.layout_arrays()[name] for env in envs]))


def test_reset_batch_rows_of_one_seed_are_independent_copies():
    config = KeysDoorsConfig(n_rooms=2, room_size=3, maze_seed=3, max_steps=300)
    batch = reset_batch(config, [3] * 6)
    envs = [KeysDoorsEnv(**config.env_kwargs()) for _ in range(6)]
    for env in envs:
        env.reset(seed=3)
    np.testing.assert_array_equal(batch.padded, np.stack([env.padded_grid for env in envs]))
    events = dict.fromkeys(("pickups", "doors", "goals", "truncations"), 0)
    _lockstep(envs, batch, np.random.default_rng(5), events)  # different walks in one maze
    assert events["pickups"]


def test_goal_on_the_last_step_terminates_without_truncation():
    rng = np.random.default_rng(0)
    for seed in range(100):  # find a walk that reaches the cake, then cap the episode at its length
        env = KeysDoorsEnv(n_rooms=2, room_size=3, max_steps=400)
        env.reset(seed=seed)
        walk = rng.choice(5, size=400, p=WALK)
        length = next((t + 1 for t, a in enumerate(walk) if env.step(int(a))[2]), None)
        if length is not None:
            break
    env = KeysDoorsEnv(n_rooms=2, room_size=3, max_steps=length)
    env.reset(seed=seed)
    batch = KeysDoorsBatch.from_envs([env])
    for a in walk[:length]:
        step = batch.advance(np.array([a]))
        assert (step.terminated[0], step.truncated[0], step.info(0)) == env.step(int(a))[2:]
    assert step.terminated[0] and not step.truncated[0] and step.reward[0] == 50


def test_colour_codes_are_minigrids_key_encodings():
    for colour, name in enumerate(COLOR_NAMES):
        assert COLOUR_CODE[colour] == Key(name).encode()[1]


def test_collect_records_what_the_env_gives_episode_by_episode():
    """collect() (batched) against a plain loop over KeysDoorsEnv.step with the same lockstep action draws."""
    config = CollectConfig(env=KeysDoorsConfig(n_rooms=2, room_size=3, max_steps=40), n_trajectories=20, seed=2)
    data = collect(config, batch_size=8)
    rng = np.random.default_rng([config.seed, 11])
    for start in range(0, 20, 8):
        rows = range(start, min(start + 8, 20))
        envs = [KeysDoorsEnv(**config.env.env_kwargs()) for _ in rows]
        obs = {row: env.reset(seed=int(data.maze_seeds[row]))[0] for row, env in zip(rows, envs)}
        alive = dict.fromkeys(rows, True)
        for t in range(config.env.horizon):
            actions = rng.integers(0, 5, size=len(envs))
            for row, env, action in zip(rows, envs, actions):
                if not alive[row]:
                    continue
                np.testing.assert_array_equal(data.obs[row, t], model_view(obs[row], 2))
                obs[row], reward, terminated, truncated, info = env.step(int(action))
                assert (data.actions[row, t], data.rewards[row, t]) == (action, reward)
                assert (data.picked[row, t], data.opened[row, t]) == (info["picked_key"], info["opened_door"])
                assert data.states[row, t + 1] == info["state"] and tuple(data.agent_xy[row, t + 1]) == info["agent"]
                if terminated or truncated:
                    alive[row] = False
                    assert data.lengths[row] == t + 1 and data.success[row] == info["reached_goal"]


# ------------------------------------------------------------------ bad input
def _batch(n=3, **kwargs):
    envs = [KeysDoorsEnv(n_rooms=2, **kwargs) for _ in range(n)]
    for i, env in enumerate(envs):
        env.reset(seed=i)
    return envs


@pytest.mark.parametrize("actions", [np.array([0, 1, 5]), np.array([0, -1, 2]), np.array([0.0, 1.0, 2.0]),
                                     np.array([True, False, True]), np.array([0, 1]), [[0, 1, 2]], "012"])
def test_bad_actions_raise_value_error_naming_actions(actions):
    batch = KeysDoorsBatch.from_envs(_batch())
    with pytest.raises(ValueError, match="actions"):
        batch.advance(actions)


@pytest.mark.parametrize("active", [np.array([1, 0, 1]), np.array([True, False]), np.ones(3), "yes"])
def test_bad_active_mask_raises_value_error_naming_active(active):
    batch = KeysDoorsBatch.from_envs(_batch())
    with pytest.raises(ValueError, match="active"):
        batch.advance(np.zeros(3, np.int64), active)


@pytest.mark.parametrize("envs", [
    _batch(2) + _batch(1, room_size=4),  # another maze size
    _batch(2) + _batch(1, n_colors=3),  # another palette
    _batch(2) + _batch(1, max_steps=10),  # another horizon
    _batch(2) + _batch(1, show_carried=True),  # another view
    _batch(2) + [KeysDoorsEnv(n_rooms=2)],  # never reset
    [], "env", _batch(1) + [object()],
])
def test_bad_envs_raise_value_error_naming_envs(envs):
    with pytest.raises(ValueError, match="envs"):
        KeysDoorsBatch.from_envs(envs)


@pytest.mark.parametrize("config, seeds, name", [
    ({"n_rooms": 2}, [0, 1], "config"), (KeysDoorsConfig(), [], "seeds"), (KeysDoorsConfig(), [0, -1], "seeds"),
    (KeysDoorsConfig(), [0.5, 1.0], "seeds"), (KeysDoorsConfig(), [[0, 1]], "seeds"),
])
def test_bad_reset_batch_input_raises_value_error_naming_the_parameter(config, seeds, name):
    with pytest.raises(ValueError, match=name):
        reset_batch(config, seeds)


# ------------------------------------------------------------------ what the collector reads each step
def test_batched_visibility_equals_the_sweep_on_random_masks():
    from secretlab.envs.minigrid_view import _visibility_batch, visibility

    rng = np.random.default_rng(0)
    for shape, agent in [((7, 7), (3, 6)), ((7, 7), (1, 4)), ((5, 3), (2, 2)), ((9, 6), (0, 5))]:
        for p in (0.1, 0.3, 0.6):
            opaque = rng.random((300, *shape)) < p
            expected = np.stack([visibility(o, agent) for o in opaque])
            np.testing.assert_array_equal(_visibility_batch(opaque, agent), expected)


def test_views_of_selected_rows_equal_the_views_of_those_grids():
    from secretlab.envs.minigrid_view import egocentric_views

    batch = reset_batch(KeysDoorsConfig(n_rooms=3, room_size=4, n_colors=3), maze_seeds("train", 1, 16))
    rows = np.array([3, 0, 15, 7])
    args = batch.agent_pos[rows], batch.agent_dir[rows], 7, batch.carried_codes(rows)
    np.testing.assert_array_equal(egocentric_views(batch.padded, *args, rows=rows),
                                  egocentric_views(batch.padded[rows], *args))


@pytest.mark.parametrize("n_colors, inventory", [(2, False), (3, True), (6, True)])
def test_agent_features_are_one_hot_codes_channel_by_channel(n_colors, inventory):
    from secretlab.envs.keys_doors import FEATURE_CODES, agent_features

    rng = np.random.default_rng(n_colors)
    obs = np.stack([rng.integers(0, n, size=(40, 7, 7)) for n in FEATURE_CODES], 1).astype(np.uint8)
    carrying = rng.integers(-1, n_colors, 40) if inventory else None
    expected = [np.eye(n, dtype=np.float32)[obs[:, c].reshape(40, -1)].reshape(40, -1)
                for c, n in enumerate(FEATURE_CODES)]
    if inventory:
        expected.append(np.eye(n_colors + 1, dtype=np.float32)[carrying + 1])
    got = agent_features(obs, carrying, n_colors)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.concatenate(expected, axis=1))
    np.testing.assert_array_equal(agent_features(obs[:1], None if carrying is None else carrying[:1], n_colors),
                                  got[:1])


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_agent_features_refuse_a_code_past_its_channel(channel):
    """A code too large for its channel would mark a column of the next channel's block: a clear error instead."""
    from secretlab.envs.keys_doors import FEATURE_CODES, agent_features

    obs = np.zeros((3, 3, 7, 7), np.uint8)
    obs[1, channel, 2, 4] = FEATURE_CODES[channel]
    with pytest.raises(ValueError, match="obs must hold view codes below"):
        agent_features(obs)
    obs[1, channel, 2, 4] -= 1  # the largest allowed code is accepted
    assert agent_features(obs).sum() == 3 * 3 * 49


@pytest.mark.parametrize("shape", [(7, 7), (2, 7, 7), (2, 3, 7, 6), (2, 4, 7, 7)])
def test_agent_features_refuse_an_observation_of_the_wrong_shape(shape):
    from secretlab.envs.keys_doors import agent_features

    with pytest.raises(ValueError, match=r"obs must have shape \(B, 3, 7, 7\)"):
        agent_features(np.zeros(shape, np.uint8))
