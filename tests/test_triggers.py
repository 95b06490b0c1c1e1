"""The Triggers rules, its Gymnasium front end and the batched engine (docs/design.md §2-§3.1)."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import secretlab  # noqa: F401  (registers the env)
from secretlab.envs import REGISTRY, BatchedTriggers, TriggersConfig, TriggersEnv, decode_state, encode_state
from secretlab.envs.triggers import Layout, crop, default_max_steps, full_grid

CONFIGS = [
    TriggersConfig(8, 3, 1), TriggersConfig(8, 1, 2), TriggersConfig(3, 0, 1), TriggersConfig(3, 2, 6),
    TriggersConfig(5, 2, 2, inverted=True), TriggersConfig(12, 1, 2, max_steps=40), TriggersConfig(4, 0, 3),
]


def make(cfg: TriggersConfig, **kw):
    return gym.make("secretlab/Triggers-v0", size=cfg.size, n_triggers=cfg.n_triggers,
                    n_prizes=cfg.n_prizes, inverted=cfg.inverted, max_steps=cfg.max_steps, **kw)


@pytest.mark.parametrize("env_id", sorted(REGISTRY))
def test_registered_envs_pass_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped)


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_check_env_every_config(cfg):
    check_env(make(cfg, render_mode="rgb_array").unwrapped)


def test_contract_observation_and_info():
    env = gym.make("secretlab/Triggers-v0", size=8, n_triggers=3, n_prizes=1, inverted=False, max_steps=None)
    obs, info = env.reset(seed=11)
    assert obs.shape == (3, 3, 3) and obs.dtype == np.uint8
    assert set(info) >= {"agent", "triggers", "prizes", "activated", "state"}
    assert len(info["triggers"]) == 3 and len(info["prizes"]) == 1
    hash(info["state"])
    # the same seed draws the same maze, another seed another one
    assert env.reset(seed=11)[1] == info
    assert env.reset(seed=12)[1]["triggers"] != info["triggers"]


def test_scripted_episode_rewards_and_flags():
    """Walk to the trigger, then the prize (+1); a prize before the trigger gives -1."""
    cfg = TriggersConfig(4, 1, 2)
    layout = Layout(np.array([0, 0]), np.array([[0, 2]]), np.array([[1, 0], [0, 3]]))
    env = TriggersEnv(4, 1, 2)
    obs, info = env.reset(options={"layout": layout})
    assert obs[0].tolist() == [[1, 1, 1], [1, 0, 0], [1, 0, 0]]  # wall above and left
    assert obs[2, 2, 1] == 1  # the prize at (1, 0) is below the agent
    obs, r, term, trunc, info = env.step(2)  # down onto the prize at (1, 0): trigger not active -> -1
    assert (r, term, info["activated"]) == (-1.0, False, False)
    env.step(0)  # back up to (0, 0)
    obs, r, term, trunc, info = env.step(3)  # left into the wall: stays, still a step
    assert info["agent"] == (0, 0) and r == 0
    env.step(1)
    obs, r, term, trunc, info = env.step(1)  # onto the trigger at (0, 2)
    assert info["activated"] and r == 0 and info["triggers"] == [] and info["n_triggers_left"] == 0
    obs, r, term, trunc, info = env.step(1)  # onto the last prize at (0, 3): all triggers active -> +1
    assert (r, term, trunc) == (1.0, True, False)
    assert decode_state(info["state"], cfg) == {"agent": (0, 3), "triggers_alive": (False,),
                                                "prizes_alive": (False, False)}


def test_inverted_dynamics_swap_directions():
    env = TriggersEnv(5, 0, 1, inverted=True)
    layout = Layout(np.array([2, 2]), np.zeros((0, 2), int), np.array([[4, 4]]))
    env.reset(options={"layout": layout})
    assert env.step(0)[4]["agent"] == (3, 2)  # "up" moves down
    assert env.step(1)[4]["agent"] == (3, 1)  # "right" moves left


def test_truncation_at_max_steps():
    env = TriggersEnv(8, 3, 1, max_steps=5)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(5)]
    assert flags == [False] * 4 + [True]


def test_default_max_steps_scales_with_cells():
    assert default_max_steps(8) == 200 and default_max_steps(12) == 450
    assert TriggersConfig(8).horizon == 200 and TriggersConfig(8, max_steps=17).horizon == 17


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_batched_engine_matches_gymnasium_env(cfg):
    """Same seeds and actions -> identical observations, rewards, flags and info, step by step."""
    n = 16
    rng = np.random.default_rng(cfg.size * 100 + cfg.n_triggers)
    seeds = rng.integers(0, 2**40, size=n)
    batched = BatchedTriggers(cfg, n)
    obs_b = batched.reset(seeds=seeds)
    envs = [make(cfg) for _ in range(n)]
    firsts = [e.reset(seed=int(s)) for e, s in zip(envs, seeds)]
    np.testing.assert_array_equal(obs_b, np.stack([o for o, _ in firsts]))
    np.testing.assert_array_equal(batched.state, [i["state"] for _, i in firsts])
    done = np.zeros(n, bool)
    for _ in range(cfg.horizon):
        actions = rng.integers(0, 4, size=n)
        step = batched.step(actions)
        for k, env in enumerate(envs):
            if done[k]:
                continue
            o, r, term, trunc, info = env.step(int(actions[k]))
            np.testing.assert_array_equal(step.obs[k], o)
            assert (step.reward[k], step.terminated[k], step.truncated[k]) == (r, term, trunc)
            assert step.activated[k] == info["activated"] and step.state[k] == info["state"]
            assert tuple(batched.agent[k]) == info["agent"]
            np.testing.assert_array_equal(batched.observe("grid")[k], env.unwrapped.full_grid())
            np.testing.assert_array_equal(batched.observe("egocentric")[k], env.unwrapped.full_grid("egocentric"))
            done[k] = term or trunc
        if done.all():
            break
    assert done.all()


def test_batched_reset_mask_restarts_only_selected():
    cfg = TriggersConfig(6, 1, 1)
    env = BatchedTriggers(cfg, 3, obs_mode="none")
    env.reset(seeds=[1, 2, 3])
    start = env.agent.copy()
    for _ in range(5):
        env.step(np.array([1, 1, 1]))
    env.reset(mask=np.array([True, False, False]))
    assert tuple(env.agent[0]) == tuple(start[0]) and env.t.tolist() == [0, 5, 5]


def test_state_key_is_dense_and_roundtrips():
    cfg = TriggersConfig(5, 2, 2)
    agent = np.array([[4, 4], [0, 0]])
    alive_t = np.array([[True, True], [False, False]])
    alive_p = np.array([[True, True], [False, True]])
    keys = encode_state(agent, alive_t, alive_p, cfg.size)
    assert keys.tolist() == [(24 * 16) + 15, 8]
    assert keys.max() < cfg.n_states
    assert decode_state(keys[1], cfg)["prizes_alive"] == (False, True)


def test_crop_and_full_grid_by_hand():
    agent = np.array([[0, 1]])
    trig, prize = np.array([[[1, 1]]]), np.array([[[0, 2]]])
    c = crop(agent, trig, np.array([[True]]), prize, np.array([[True]]), 3)[0]
    assert c[0].tolist() == [[1, 1, 1], [0, 0, 0], [0, 0, 0]]
    assert c[1].tolist() == [[0, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert c[2].tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    g = full_grid(agent, trig, np.array([[False]]), prize, np.array([[True]]), 3)[0]
    assert g[0, 0, 1] == 1 and g[1].sum() == 0 and g[2, 0, 2] == 1


@pytest.mark.parametrize("kwargs, name", [
    (dict(size=2), "size"), (dict(size=8.0), "size"), (dict(n_prizes=0), "n_prizes"),
    (dict(n_triggers=-1), "n_triggers"), (dict(size=3, n_triggers=5, n_prizes=4), "n_triggers + n_prizes"),
    (dict(max_steps=0), "max_steps"), (dict(inverted="yes"), "inverted"),
])
def test_bad_config_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name.replace("+", r"\+")):
        TriggersEnv(**kwargs)


@pytest.mark.parametrize("action", [4, -1, 1.5, "up", None])
def test_bad_action_is_a_clear_error(action):
    env = TriggersEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \{0, 1, 2, 3\}"):
        env.step(action)
    batched = BatchedTriggers(TriggersConfig(), 2)
    batched.reset(seeds=[0, 1])
    if isinstance(action, int):
        with pytest.raises(ValueError, match="actions must be integers"):
            batched.step(np.array([0, action]))


def test_render_is_an_image():
    env = TriggersEnv(render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.shape == (160, 160, 3)
