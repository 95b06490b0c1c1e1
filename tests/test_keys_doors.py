"""KeysDoors env (MiniGrid stand-in for DMLab keys_doors_puzzle) and its pipeline helpers."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import secretlab  # noqa: F401  (registers the env ids)
from secretlab.envs.keys_doors import (
    DOOR_REWARD, GOAL_REWARD, KeysDoorsConfig, KeysDoorsEnv, decode_state, encode_state,
)

LEFT, RIGHT, FORWARD, PICKUP, TOGGLE = range(5)
DIRS = {(1, 0): 0, (0, 1): 1, (-1, 0): 2, (0, -1): 3}  # MiniGrid: 0 east, 1 south, 2 west, 3 north


def _face(env, target):
    """Turn (right only) until the agent faces the neighbouring cell ``target``; return the actions."""
    dx, dy = target[0] - env.agent_pos[0], target[1] - env.agent_pos[1]
    want = DIRS[(dx, dy)]
    out = []
    while env.agent_dir != want:
        out.append(env.step(RIGHT))
    return out


def _walk_to(env, goal_cell):
    """Move next to-and-onto cells by BFS over free floor; returns the step results."""
    from collections import deque

    start = tuple(int(v) for v in env.agent_pos)
    prev = {start: None}
    queue = deque([start])
    while queue:
        c = queue.popleft()
        if c == goal_cell:
            break
        for d in DIRS:
            n = (c[0] + d[0], c[1] + d[1])
            cell = env.grid.get(*n)
            if n not in prev and (cell is None or cell.can_overlap() or n == goal_cell):
                prev[n] = c
                queue.append(n)
    path = []
    c = goal_cell
    while c != start:
        path.append(c)
        c = prev[c]
    results = []
    for cell in reversed(path):
        results += _face(env, cell)
        results.append(env.step(FORWARD))
    return results


def _step_towards(env, cell):
    """Walk to a reachable free neighbour of ``cell`` and face it; return the step results."""
    for d in DIRS:
        n = (cell[0] - d[0], cell[1] - d[1])
        if env.grid.get(*n) is not None:
            continue
        try:
            res = _walk_to(env, n)
        except KeyError:  # not reachable (e.g. the far side of a locked door)
            continue
        return res + _face(env, cell)
    raise AssertionError(f"no free neighbour of {cell} reachable")


def test_check_env_passes_and_registered_id_works():
    check_env(KeysDoorsEnv(n_rooms=2), skip_render_check=True)
    env = gym.make("secretlab/KeysDoors-v0", n_rooms=2, room_size=3)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 7, 7) and obs.dtype == np.uint8
    assert env.action_space.n == 5


def test_same_seed_same_maze_and_fixed_maze_seed():
    a, b = KeysDoorsEnv(), KeysDoorsEnv()
    a.reset(seed=5), b.reset(seed=5)
    assert np.array_equal(a.grid.encode(), b.grid.encode()) and a.start == b.start
    fixed = KeysDoorsEnv(maze_seed=3)
    fixed.reset(seed=1)
    first = fixed.grid.encode().copy()
    fixed.reset(seed=2)
    assert np.array_equal(first, fixed.grid.encode())


def test_scripted_episode_rewards_key_zero_door_one_goal_fifty():
    env = KeysDoorsEnv(n_rooms=2, room_size=3, maze_seed=7)
    _, info = env.reset()
    lay = env.layout_arrays()
    right = int(np.flatnonzero(lay["key_colour"][0] == lay["door_colour"][0])[0])
    key_cell = tuple(int(v) for v in lay["key_xy"][0, right])
    rewards = [r for _, r, *_ in _step_towards(env, key_cell)]
    _, r, _, _, info = env.step(PICKUP)
    assert r == 0.0 and info["picked_key"] == lay["door_colour"][0] and info["carrying"] == lay["door_colour"][0]
    door_cell = tuple(int(v) for v in lay["door_xy"][0])
    rewards += [r for _, r, *_ in _step_towards(env, door_cell)]
    _, r, _, _, info = env.step(TOGGLE)
    assert r == DOOR_REWARD == 1.0 and info["opened_door"] == 0 and info["carrying"] == -1
    _, r, *_ = env.step(TOGGLE)  # an opened door stays open and pays nothing more
    assert r == 0.0
    results = _walk_to(env, tuple(int(v) for v in lay["goal_xy"]))
    assert results[-1][1] == GOAL_REWARD == 50.0 and results[-1][2] is True
    assert all(r == 0.0 for r in rewards) and all(r == 0.0 for _, r, *_ in results[:-1])


def test_wrong_key_cannot_open_the_door_and_cannot_be_dropped():
    env = KeysDoorsEnv(n_rooms=2, room_size=3, maze_seed=7)
    env.reset()
    lay = env.layout_arrays()
    wrong = int(np.flatnonzero(lay["key_colour"][0] != lay["door_colour"][0])[0])
    _step_towards(env, tuple(int(v) for v in lay["key_xy"][0, wrong]))
    env.step(PICKUP)
    held = env.carrying_colour
    assert held != lay["door_colour"][0]
    _step_towards(env, tuple(int(v) for v in lay["door_xy"][0]))
    _, r, _, _, info = env.step(TOGGLE)
    assert r == 0.0 and info["opened_door"] == -1 and info["doors_opened"] == 0
    assert env.carrying_colour == held  # still stuck with the decoy (no drop action)


def test_state_key_tracks_cell_key_and_doors():
    cfg = KeysDoorsConfig(n_rooms=2, room_size=3)
    for x, y, c, d in [(1, 1, -1, 0), (6, 3, 1, 1), (cfg.width - 1, cfg.height - 1, cfg.n_colors - 1, cfg.n_doors)]:
        key = encode_state(x, y, c, d, cfg)
        assert 0 <= key < cfg.n_states
        assert decode_state(key, cfg) == {"agent": (x, y), "carrying": c, "doors_opened": d}
    env = KeysDoorsEnv(n_rooms=2, room_size=3, maze_seed=7)
    _, info = env.reset()
    assert decode_state(info["state"], env.config)["agent"] == info["agent"]
    _, _, _, _, turned = env.step(LEFT)
    assert turned["state"] == info["state"]  # turning changes neither cell, key nor doors
    lay = env.layout_arrays()
    right = int(np.flatnonzero(lay["key_colour"][0] == lay["door_colour"][0])[0])
    _step_towards(env, tuple(int(v) for v in lay["key_xy"][0, right]))
    before = env.state_key
    _, _, _, _, info = env.step(PICKUP)
    assert decode_state(info["state"], env.config)["carrying"] == lay["door_colour"][0]
    assert info["state"] != before


def test_carried_key_hidden_from_the_view_unless_asked():
    for show in (False, True):
        env = KeysDoorsEnv(n_rooms=2, maze_seed=7, show_carried=show)
        env.reset()
        lay = env.layout_arrays()
        _step_towards(env, tuple(int(v) for v in lay["key_xy"][0, 0]))
        obs, *_ = env.step(PICKUP)
        assert (obs[0, 6, 3] == 5) == show  # object code 5 = key on the agent's own cell


@pytest.mark.parametrize("kwargs, name", [
    ({"n_rooms": 1}, "n_rooms"), ({"n_rooms": -2}, "n_rooms"), ({"room_size": 2}, "room_size"),
    ({"n_colors": 1}, "n_colors"), ({"n_colors": 7}, "n_colors"), ({"max_steps": 0}, "max_steps"),
    ({"maze_seed": -1}, "maze_seed"), ({"show_carried": "yes"}, "show_carried"), ({"n_rooms": 2.5}, "n_rooms"),
])
def test_bad_input_raises_value_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        KeysDoorsEnv(**kwargs)


def test_bad_action_raises_value_error():
    env = KeysDoorsEnv(n_rooms=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(5)


def test_picking_one_key_makes_the_other_vanish():
    env = KeysDoorsEnv(n_rooms=2, room_size=3, maze_seed=7)
    env.reset()
    lay = env.layout_arrays()
    (x0, y0), (x1, y1) = lay["key_xy"][0]
    _step_towards(env, (int(x0), int(y0)))
    env.step(PICKUP)
    assert env.grid.get(int(x0), int(y0)) is None and env.grid.get(int(x1), int(y1)) is None


# ----------------------------------------------------------------- pipeline helpers
from secretlab.agents.ppo import PPOConfig  # noqa: E402
from secretlab.data.keys_doors import CollectConfig, KeysDoorsDataset, collect, model_view  # noqa: E402
from secretlab.envs.keys_doors import agent_features  # noqa: E402
from secretlab.experiments import keys_doors as kd  # noqa: E402
from secretlab.wrappers import ShapingWrapper  # noqa: E402
from secretlab.credit import CreditRows  # noqa: E402


def test_agent_features_one_hot_with_and_without_inventory():
    obs = np.zeros((2, 3, 7, 7), np.uint8)
    obs[0, 0, 0, 0] = 5  # a key in the far-left corner
    f = agent_features(obs)
    assert f.shape == (2, 49 * 20) and f.sum() == 2 * 49 * 3  # one code per channel per cell
    assert f[0, 5] == 1.0 and f[1, 0] == 1.0
    g = agent_features(obs, np.array([-1, 1]), n_colors=2)
    assert g.shape == (2, 49 * 20 + 3) and list(g[1, -3:]) == [0, 0, 1] and list(g[0, -3:]) == [1, 0, 0]


def test_model_view_one_hot_by_hand():
    obs = np.zeros((3, 7, 7), np.uint8)
    obs[:, 0, 0] = (5, 0, 0)  # red key
    obs[:, 0, 1] = (4, 1, 2)  # green locked door
    obs[:, 0, 2] = (2, 5, 0)  # grey wall: no colour channel
    obs[:, 0, 3] = (1, 0, 0)  # empty floor
    v = model_view(obs, n_colors=2)
    assert v.shape == (11, 7, 7) and (v.sum(0)[0, :4] == [2, 3, 1, 1]).all()
    assert v[4, 0, 0] == 1 and v[6, 0, 0] == 1  # key, red
    assert v[3, 0, 1] == 1 and v[7, 0, 1] == 1 and v[10, 0, 1] == 1  # door, green, locked
    assert v[2, 0, 2] == 1 and v[1, 0, 3] == 1 and v[0, 1, 0] == 1  # wall, empty, unseen


def test_shaping_wrapper_adds_gamma_phi_next_minus_phi():
    env = KeysDoorsEnv(n_rooms=2, maze_seed=7)
    phi = np.arange(env.config.n_states, dtype=float) / 100
    shaped = ShapingWrapper(env, phi, gamma=0.5)  # a plain table on a fixed-maze env
    _, info = shaped.reset()
    s0 = info["state"]
    _, r, _, _, info = shaped.step(FORWARD)
    assert r == pytest.approx(info["env_reward"] + 0.5 * phi[info["state"]] - phi[s0])
    with pytest.raises(ValueError, match="maze_seed"):
        ShapingWrapper(KeysDoorsEnv(n_rooms=2), phi, gamma=0.9)
    with pytest.raises(ValueError, match="potential"):
        ShapingWrapper(KeysDoorsEnv(n_rooms=2, maze_seed=1), phi[:-1], gamma=0.9)
    with pytest.raises(ValueError, match="gamma"):
        ShapingWrapper(KeysDoorsEnv(n_rooms=2, maze_seed=1), phi)


def test_learning_curves_mean_of_last_episodes_ended_by_each_step():
    log = {"end_step": np.array([10.0, 20.0, 30.0]), "successes": np.array([0.0, 1.0, 1.0])}
    curves = kd.learning_curves([log], np.array([5, 10, 25, 30]), window=2)
    assert curves.shape == (1, 1, 4)
    assert curves[0, 0].tolist() == [0.0, 0.0, 0.5, 1.0]


def _tiny_dataset(picked, opened, rewards):
    T = len(rewards)
    cfg = CollectConfig(env=KeysDoorsConfig(n_rooms=2), n_trajectories=1)
    z = np.zeros
    return KeysDoorsDataset(
        cfg, obs=z((1, T, 3, 7, 7), np.uint8), actions=z((1, T), np.int64), rewards=np.array([rewards], np.float32),
        states=z((1, T + 1), np.int64), picked=np.array([picked]), opened=np.array([opened]),
        agent_xy=np.stack([np.arange(T + 1), np.ones(T + 1, np.int64)], -1)[None], lengths=np.array([T]),
        success=np.array([False]), maze_seeds=np.array([1]), door_xy=z((1, 1, 2), np.int64),
        door_colour=z((1, 1), np.int64), key_xy=z((1, 1, 2, 2), np.int64), key_colour=z((1, 1, 2), np.int64),
        goal_xy=z((1, 2), np.int64))


def test_attention_around_pickups_by_hand():
    # pickup at step 2, door opened at step 6; attention 0.5 on step 2, 0.25 on step 5, 0.25 on step 6.
    ds = _tiny_dataset(picked=[-1, -1, 1, -1, -1, -1, -1, -1], opened=[-1] * 6 + [0, -1],
                       rewards=[0, 0, 0, 0, 0, 0, 1, 0])
    att = np.zeros((1, 8), np.float32)
    att[0, [2, 5, 6]] = [0.5, 0.25, 0.25]
    rows = CreditRows(np.array([0]), np.array([6]), np.array([1]), np.array([1]), np.array([True]), att)
    out = kd.attention_around_pickups(rows, ds, max_offset=3, window=2)
    assert out["n_rows"] == 1 and out["share_near"] == pytest.approx(0.5)  # steps 0..4 are within ±2 of 2
    assert out["share_near_uniform"] == pytest.approx(5 / 7)
    assert out["share_on_door_step"] == pytest.approx(0.25)
    assert out["mean"].tolist() == pytest.approx([0, 0, 0, 0.5, 0, 0, 0.25])  # offsets -3..3
    heat, n = kd.attention_heatmap(rows, ds, door=0)
    assert n == 1 and heat[1, 2] == pytest.approx(0.5) and heat[1, 6] == pytest.approx(0.25)
    wrong = CreditRows(np.array([0]), np.array([6]), np.array([1]), np.array([0]), np.array([False]), att)
    assert kd.attention_around_pickups(wrong, ds)["n_rows"] == 0  # incorrect predictions never count


def test_collect_random_policy_is_deterministic_and_consistent():
    cfg = CollectConfig(env=KeysDoorsConfig(n_rooms=2, max_steps=30), n_trajectories=3, seed=4)
    a, b = collect(cfg), collect(cfg)
    assert np.array_equal(a.actions, b.actions) and np.array_equal(a.states, b.states)
    assert a.obs.shape == (3, 30, 11, 7, 7) and (a.lengths == 30).all()  # one-hot view, 2 colours
    assert ((a.opened >= 0) == (a.rewards == 1)).all()
    fixed = collect(CollectConfig(env=KeysDoorsConfig(n_rooms=2, max_steps=5, maze_seed=9), n_trajectories=2))
    assert (fixed.states[:, 0] == fixed.states[0, 0]).all()


def test_pipeline_bad_input():
    with pytest.raises(ValueError, match="n_envs"):
        PPOConfig(n_envs=0)
    with pytest.raises(ValueError, match="n_trajectories"):
        CollectConfig(n_trajectories=0)
    with pytest.raises(ValueError, match="split"):
        CollectConfig(split="test")
    with pytest.raises(ValueError, match="n_seeds"):
        kd.compare_ppo(KeysDoorsConfig(maze_seed=1), PPOConfig(), {"ppo": None}, n_seeds=0)
    with pytest.raises(ValueError, match=r"runs must be run indices in \[0, n_seeds=3\), got \[3\]"):
        kd.compare_ppo(KeysDoorsConfig(maze_seed=1), PPOConfig(), {"ppo": None}, n_seeds=3, runs=[0, 3])
    with pytest.raises(ValueError, match="arms must be among"):
        kd.ppo_chunk(None, ("ppo_magic",), (0,))


def test_keys_doors_jobs_cover_every_arm_and_run_once():
    from secretlab.experiments.jobs import notebook_jobs
    from secretlab.profiles import notebook_params

    n_seeds = notebook_params("07_keys_doors", "default")["n_seeds"]
    jobs = notebook_jobs("07_keys_doors", "default")
    prepare, chunks = jobs[0], jobs[1:]
    assert prepare.fn is kd.prepare and all(job.after == (prepare.name,) for job in chunks)
    covered = sorted((arm, k) for job in chunks for arm in job.args[1] for k in job.args[2])
    assert covered == sorted((arm, k) for arm in kd.ARMS for k in range(n_seeds))  # each (arm, run) once


def test_door_discrimination_reads_probabilities_at_the_right_steps():
    import torch

    class Fixed(torch.nn.Module):  # P(+1) = 0.9 on toggles (action 4), 0.1 elsewhere
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, obs, actions, mask):
            p = torch.where(actions == 4, 0.9, 0.1)
            probs = torch.stack([torch.zeros_like(p) + 1e-6, 1 - p, p], -1)
            return probs.log(), None

    cfg = KeysDoorsConfig(n_rooms=2)
    ds = _tiny_dataset(picked=[-1] * 8, opened=[-1] * 6 + [0, -1], rewards=[0, 0, 0, 0, 0, 0, 1, 0])
    ds.obs = np.zeros((1, 8, 11, 7, 7), np.uint8)
    ds.obs[0, [3, 6], 3, 5, 3] = 1  # facing the door at steps 3 and 6
    ds.actions[0, [3, 6]] = 4
    ds.door_colour[:] = 1
    from secretlab.envs.keys_doors import encode_state
    ds.states[0, :] = encode_state(1, 1, -1, 0, cfg)
    ds.states[0, 3] = encode_state(3, 1, 0, 0, cfg)  # holding the red key (colour 0) at the green door
    out = kd.door_discrimination(Fixed(), ds)
    assert out["n_open"] == 1 and out["n_wrong_key"] == 1
    assert out["p_open"] == pytest.approx(0.9, abs=1e-4) and out["p_wrong_key"] == pytest.approx(0.9, abs=1e-4)


def test_door_discrimination_splits_first_attempts_from_repeats():
    # Holding the red key (0) at the green door (1): toggles at steps 2 and 4 (the second a repeat), then the
    # right key at step 6 opens it. P(+1) = 0.1 * (t + 1), so each mean names the steps it read.
    import torch

    from secretlab.envs.keys_doors import encode_state

    class ByStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))  # batched_forward reads the device from a parameter

        def forward(self, obs, actions, mask):
            p = 0.1 * (torch.arange(actions.shape[1], dtype=torch.float32) + 1).expand(actions.shape)
            return torch.stack([torch.full_like(p, 1e-6), 1 - p, p], -1).log(), None

    cfg = KeysDoorsConfig(n_rooms=2)
    ds = _tiny_dataset(picked=[-1] * 8, opened=[-1] * 6 + [0, -1], rewards=[0, 0, 0, 0, 0, 0, 1, 0])
    ds.obs = np.zeros((1, 8, 11, 7, 7), np.uint8)
    ds.obs[0, [2, 4, 6], 3, 5, 3] = 1  # facing the door
    ds.actions[0, [2, 4, 6]] = 4
    ds.door_colour[:] = 1
    ds.states[0, :] = encode_state(1, 1, -1, 0, cfg)
    ds.states[0, 1:6] = encode_state(3, 1, 0, 0, cfg)  # the red key
    ds.states[0, 6] = encode_state(3, 1, 1, 0, cfg)  # the green key
    out = kd.door_discrimination(ByStep(), ds)
    assert (out["n_wrong_key"], out["n_first_wrong_key"], out["n_first_right_key"], out["n_open"]) == (2, 1, 0, 1)
    assert out["p_wrong_key"] == pytest.approx(0.4, abs=1e-4)  # steps 2 and 4
    assert out["p_first_wrong_key"] == pytest.approx(0.3, abs=1e-4)  # step 2 only
    assert out["p_open"] == pytest.approx(0.7, abs=1e-4) and np.isnan(out["p_first_right_key"])


def test_activated_marks_the_pickup_of_the_key_that_opened_the_door():
    ds = _tiny_dataset(picked=[-1, 0, -1, -1, 1, -1, -1, -1], opened=[-1] * 6 + [0, -1],
                       rewards=[0, 0, 0, 0, 0, 0, 1, 0])
    assert np.flatnonzero(ds.activated[0]).tolist() == [4]  # the last pickup before the opening
    assert not _tiny_dataset(picked=[-1, 0] + [-1] * 6, opened=[-1] * 8, rewards=[0] * 8).activated.any()


def test_control_potentials_put_ideal_credit_after_the_right_pickup_and_uniform_everywhere():
    # One fixed-maze episode: pickup at step 4, door (+1) at step 6; states[t] = t, so φ̂ reads where credit went.
    ds = _tiny_dataset(picked=[-1, -1, -1, -1, 1, -1, -1, -1], opened=[-1] * 6 + [0, -1],
                       rewards=[0, 0, 0, 0, 0, 0, 1, 0])
    ds.states[0] = np.arange(9)
    att = np.zeros((1, 8), np.float32)
    att[0, 6] = 1.0  # the model's row: all on the door step
    rows = CreditRows(np.array([0]), np.array([6]), np.array([1]), np.array([1]), np.array([True]), att)
    phis = kd.control_potentials(rows, ds)
    assert set(phis) == set(kd.CONTROL_SOURCES) == {"uniform", "ideal"}
    ideal = phis["ideal"]
    assert ideal[5] == pytest.approx(1.0) and np.count_nonzero(ideal) == 1  # the state the pickup led into
    uniform = phis["uniform"]
    assert uniform[1:8] == pytest.approx(np.full(7, 1 / 7)) and uniform[0] == 0  # each step's share, forwarded
    assert kd.potential_of_rows(rows, ds)[7] == pytest.approx(1.0)  # SECRET's own row: the state after the door


def test_source_agent_training_counts_env_steps_and_learns_the_same():
    """The step counter of a source agent's training reports to the engine and changes nothing it learns."""
    import torch

    from secretlab.agents.ppo import _learn, episode_log, make_ppo
    from secretlab.progress import reporting_to

    cfg, ppo = KeysDoorsConfig(n_rooms=2, room_size=3, max_steps=30), PPOConfig(n_envs=4, n_steps=32, batch_size=64)
    reports = []
    torch.manual_seed(0)
    counted = make_ppo(cfg, ppo, seed=0)
    with reporting_to(lambda desc, done, total: reports.append((desc, done, total))):
        _learn(counted, 256, "train source PPO agent")
    torch.manual_seed(0)
    plain = make_ppo(cfg, ppo, seed=0)
    plain.learn(256)
    assert reports[0] == ("train source PPO agent (step)", 0, 256) and reports[-1][1:] == (256, 256)
    a, b = episode_log(counted), episode_log(plain)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    for (name, x), y in zip(counted.policy.state_dict().items(), plain.policy.state_dict().values()):
        assert torch.equal(x, y), name
