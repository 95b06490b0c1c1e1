"""The numpy egocentric view equals MiniGrid's own ``gen_obs`` on every step."""
from __future__ import annotations

import numpy as np
import pytest
from minigrid.minigrid_env import MiniGridEnv

from secretlab.envs.keys_doors import KeysDoorsEnv
from secretlab.envs.minigrid_view import EMPTY_CODE, WALL_CODE, egocentric_view, padded_encoding, visibility


@pytest.mark.parametrize("n_rooms, room_size, show_carried", [(2, 3, False), (3, 3, False), (3, 4, True),
                                                               (4, 3, False), (2, 5, True)])
def test_view_equals_minigrid_gen_obs_on_every_step(n_rooms, room_size, show_carried):
    events = {"pickups": 0, "doors": 0, "carrying": 0, "in_door": 0}
    for episode in range(30):
        env = KeysDoorsEnv(n_rooms=n_rooms, room_size=room_size, show_carried=show_carried)
        env.reset(seed=episode)
        # a forward-heavy random walk that picks up and toggles often, so keys go and doors open
        rng = np.random.default_rng(episode)
        done = False
        while not done:
            action = int(rng.choice(5, p=[0.2, 0.2, 0.3, 0.15, 0.15]))
            _, _, terminated, truncated, info = env.step(action)
            np.testing.assert_array_equal(env.gen_obs()["image"], MiniGridEnv.gen_obs(env)["image"])
            events["pickups"] += info["picked_key"] >= 0
            events["doors"] += info["opened_door"] >= 0
            events["carrying"] += env.carrying is not None
            events["in_door"] += tuple(env.agent_pos) in env.door_positions
            done = terminated or truncated
    # the walk met everything the view must draw: keys taken, doors opened, a key in hand, an open doorway
    assert events["pickups"] and events["carrying"]
    if n_rooms * room_size <= 9:
        assert events["doors"] and events["in_door"]


def test_visibility_by_hand():
    # a 3×3 view, agent at the bottom centre (1, 2). MiniGrid sees diagonally past a single wall ahead ...
    opaque = np.zeros((3, 3), bool)
    opaque[1, 1] = True
    assert visibility(opaque, (1, 2)).all()
    # ... but not past a wall across the whole row: the far row is hidden, the wall row itself is seen
    opaque = np.zeros((3, 3), bool)
    opaque[:, 1] = True
    mask = visibility(opaque, (1, 2))
    assert mask[:, 2].all() and mask[:, 1].all() and not mask[:, 0].any()


def test_outside_the_grid_is_wall_and_the_carried_object_is_drawn_on_the_agent():
    encoding = np.zeros((1, 1, 3), np.uint8)
    encoding[:] = EMPTY_CODE
    padded = padded_encoding(encoding, 3)
    image = egocentric_view(padded, (0, 0), 3, 3, carried_code=(5, 1, 0))  # facing up in a 1×1 room
    assert tuple(image[1, 2]) == (5, 1, 0)
    assert tuple(image[1, 1]) == WALL_CODE  # the cell ahead is outside: a wall, and it hides what lies behind
    assert tuple(image[1, 0]) == (0, 0, 0)


@pytest.mark.parametrize("show_carried", [False, True])
def test_batched_views_equal_each_envs_own_step_observation(show_carried):
    """advance() + one batched drawing of the views (KeysDoorsBatch.observe of the advanced envs) gives what step()
    gives env by env."""
    from secretlab.envs.keys_doors_batch import KeysDoorsBatch

    def observe_many(envs):
        return KeysDoorsBatch.from_envs(envs).observe()

    n = 24
    stepped = [KeysDoorsEnv(n_rooms=3, room_size=3, show_carried=show_carried) for _ in range(n)]
    advanced = [KeysDoorsEnv(n_rooms=3, room_size=3, show_carried=show_carried) for _ in range(n)]
    first = [env.reset(seed=i)[0] for i, env in enumerate(stepped)]
    for i, env in enumerate(advanced):
        env.reset(seed=i)
    np.testing.assert_array_equal(observe_many(advanced), np.stack(first))
    rng = np.random.default_rng(0)
    alive = np.ones(n, bool)
    carried_seen = 0
    for _ in range(60):
        actions = rng.choice(5, size=n, p=[0.2, 0.2, 0.3, 0.15, 0.15])
        expected = {}
        for j in np.flatnonzero(alive):
            obs, reward, terminated, truncated, info = stepped[j].step(int(actions[j]))
            assert advanced[j].advance(int(actions[j])) == (reward, terminated, truncated, info)
            expected[j] = obs
            alive[j] = not (terminated or truncated)
            carried_seen += stepped[j].carrying is not None
        live = np.flatnonzero(alive)
        if not live.size:
            break
        np.testing.assert_array_equal(observe_many([advanced[j] for j in live]), np.stack([expected[j] for j in live]))
    assert carried_seen
