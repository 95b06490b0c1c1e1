"""The Triggers rules checked against hand-written expectations, for each engine on its own.

``tests/test_triggers.py`` compares the Gymnasium env with the batched engine; a bug in the shared
rules passes that comparison. Here each engine is driven through scripted episodes whose rewards,
flags and positions were worked out by hand from the paper's rules (SECRET §3):

- entering a trigger activates (removes) it, reward 0;
- entering a prize removes it and gives +1 if every trigger is active, else -1;
- the episode terminates when no prize is left;
- actions 0 up (row-1), 1 right (col+1), 2 down (row+1), 3 left (col-1); a move into the wall stays;
  ``inverted=True`` swaps up<->down and left<->right.
"""
import gymnasium as gym
import numpy as np
import pytest

import secretlab  # noqa: F401  (registers the env)
from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import Layout, TriggersConfig, encode_state

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3

# 5×5, agent in the centre, trigger 0 right of it, trigger 1 left, prize 0 above, prize 1 below:
#
#     . . . . .
#     . . P0. .
#     . T1A T0.
#     . . P1. .
#     . . . . .
LAYOUT = Layout(np.array([2, 2]), np.array([[2, 3], [2, 1]]), np.array([[1, 2], [3, 2]]))
CONFIG = TriggersConfig(5, 2, 2)

# name -> (actions, per step: (agent after the step, reward, terminated, activated, triggers left, prizes left))
SCRIPTS = {
    # T0, then P0 while T1 is still there (-1), then T1, then P0's (now empty) cell again (0), then P1 (+1, end)
    "one_trigger_then_prize_then_other": (
        [RIGHT, LEFT, UP, DOWN, LEFT, RIGHT, UP, DOWN, DOWN],
        [((2, 3), 0, False, True, 1, 2),
         ((2, 2), 0, False, False, 1, 2),
         ((1, 2), -1, False, False, 1, 1),
         ((2, 2), 0, False, False, 1, 1),
         ((2, 1), 0, False, True, 0, 1),
         ((2, 2), 0, False, False, 0, 1),
         ((1, 2), 0, False, False, 0, 1),  # the collected prize is gone: no second reward
         ((2, 2), 0, False, False, 0, 1),
         ((3, 2), 1, True, False, 0, 0)]),
    # the other order: T1 first, P1 while T0 is present (-1), then T0, then P0 (+1, end)
    "other_trigger_first": (
        [LEFT, RIGHT, DOWN, UP, RIGHT, LEFT, UP],
        [((2, 1), 0, False, True, 1, 2),
         ((2, 2), 0, False, False, 1, 2),
         ((3, 2), -1, False, False, 1, 1),
         ((2, 2), 0, False, False, 1, 1),
         ((2, 3), 0, False, True, 0, 1),
         ((2, 2), 0, False, False, 0, 1),
         ((1, 2), 1, True, False, 0, 0)]),
    # both triggers first: both prizes pay +1; only the second one ends the episode
    "both_triggers_then_both_prizes": (
        [RIGHT, LEFT, LEFT, RIGHT, UP, DOWN, DOWN],
        [((2, 3), 0, False, True, 1, 2),
         ((2, 2), 0, False, False, 1, 2),
         ((2, 1), 0, False, True, 0, 2),
         ((2, 2), 0, False, False, 0, 2),
         ((1, 2), 1, False, False, 0, 1),
         ((2, 2), 0, False, False, 0, 1),
         ((3, 2), 1, True, False, 0, 0)]),
    # no trigger at all: both prizes give -1 and the episode still terminates when they are gone
    "prizes_without_triggers": (
        [UP, DOWN, DOWN],
        [((1, 2), -1, False, False, 2, 1),
         ((2, 2), 0, False, False, 2, 1),
         ((3, 2), -1, True, False, 2, 0)]),
}


def _expected_key(agent, n_triggers_left_flags, prizes_flags):
    return int(encode_state(np.array(agent), np.array(n_triggers_left_flags), np.array(prizes_flags), 5))


def _alive_flags(agent_history):
    """Which objects are still present after each step (an object goes when the agent first enters its cell)."""
    t_alive, p_alive, out = [True, True], [True, True], []
    for cell in agent_history:
        for i, t in enumerate(LAYOUT.triggers.tolist()):
            t_alive[i] &= tuple(t) != cell
        for j, p in enumerate(LAYOUT.prizes.tolist()):
            p_alive[j] &= tuple(p) != cell
        out.append((tuple(t_alive), tuple(p_alive)))
    return out


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_two_trigger_prize_rule_gymnasium_env(name):
    actions, expected = SCRIPTS[name]
    env = gym.make("secretlab/Triggers-v0", size=5, n_triggers=2, n_prizes=2)
    _, info = env.reset(options={"layout": LAYOUT})
    assert info["agent"] == (2, 2) and info["n_triggers_left"] == 2
    flags = _alive_flags([e[0] for e in expected])
    for t, (action, (agent, reward, terminated, activated, n_t, n_p)) in enumerate(zip(actions, expected)):
        _, r, term, trunc, info = env.step(action)
        got = (info["agent"], r, term, info["activated"], info["n_triggers_left"], len(info["prizes"]))
        assert got == (agent, reward, terminated, activated, n_t, n_p), f"step {t} ({name})"
        assert not trunc
        assert info["reward_sign"] == reward
        assert info["state"] == _expected_key(agent, *flags[t]), f"state key at step {t}"


def test_two_trigger_prize_rule_batched_engine():
    """All scripts run side by side in one batch (rows must not see each other's triggers)."""
    names = sorted(SCRIPTS)
    n_steps = max(len(SCRIPTS[n][0]) for n in names)
    # After a script ends its row keeps stepping with harmless moves: up and down in the middle column
    # (its prizes are gone, so no reward; its triggers, if any, stay where they are).
    padded = []
    for n in names:
        acts = list(SCRIPTS[n][0])
        while len(acts) < n_steps:
            acts.append(UP if len(acts) % 2 else DOWN)
        padded.append(acts)
    actions = np.array(padded).T  # (n_steps, B)
    batch = BatchedTriggers(CONFIG, len(names), obs_mode="crop")
    stacked = Layout(*(np.repeat(np.asarray(x)[None], len(names), axis=0) for x in LAYOUT))
    batch.reset(layouts=stacked)
    assert (batch.agent == [2, 2]).all()
    for t in range(n_steps):
        step = batch.step(actions[t])
        for b, n in enumerate(names):
            acts, expected = SCRIPTS[n]
            if t >= len(acts):
                continue
            agent, reward, terminated, activated, n_t, n_p = expected[t]
            flags = _alive_flags([e[0] for e in expected])[t]
            got = (tuple(batch.agent[b].tolist()), float(step.reward[b]), bool(step.terminated[b]),
                   bool(step.activated[b]), int(batch.triggers_alive[b].sum()), int(batch.prizes_alive[b].sum()))
            assert got == (agent, reward, terminated, activated, n_t, n_p), f"step {t} ({n})"
            assert not step.truncated[b]
            assert int(step.state[b]) == _expected_key(agent, *flags), f"state key at step {t} ({n})"


def test_batched_rows_with_different_trigger_progress_get_their_own_sign():
    """Row 0 has activated both triggers, row 1 none: the same prize step pays +1 in row 0 and -1 in row 1."""
    batch = BatchedTriggers(CONFIG, 2, obs_mode="none")
    batch.reset(layouts=Layout(*(np.repeat(np.asarray(x)[None], 2, axis=0) for x in LAYOUT)))
    for a0, a1 in [(RIGHT, DOWN), (LEFT, UP), (LEFT, DOWN), (RIGHT, UP)]:  # row 1 ends each pair back at (2, 2)
        batch.step(np.array([a0, a1]))
    assert batch.triggers_alive.tolist() == [[False, False], [True, True]]
    # row 1 collected P1 in its first move (-1); both rows now step up onto P0
    step = batch.step(np.array([UP, UP]))
    assert step.reward.tolist() == [1.0, -1.0]


# ---------------------------------------------------------------------------------------- directions
NORMAL = {UP: (1, 2), RIGHT: (2, 3), DOWN: (3, 2), LEFT: (2, 1)}  # from (2, 2)
INVERTED = {UP: (3, 2), RIGHT: (2, 1), DOWN: (1, 2), LEFT: (2, 3)}  # from (2, 2)
# from a corner, inverted: the wall-ward moves stay put
INVERTED_CORNERS = {
    (0, 0): {UP: (1, 0), RIGHT: (0, 0), DOWN: (0, 0), LEFT: (0, 1)},
    (4, 4): {UP: (4, 4), RIGHT: (4, 3), DOWN: (3, 4), LEFT: (4, 4)},
    (0, 4): {UP: (1, 4), RIGHT: (0, 3), DOWN: (0, 4), LEFT: (0, 4)},
    (4, 0): {UP: (4, 0), RIGHT: (4, 0), DOWN: (3, 0), LEFT: (4, 1)},
}
NORMAL_CORNERS = {
    (0, 0): {UP: (0, 0), RIGHT: (0, 1), DOWN: (1, 0), LEFT: (0, 0)},
    (4, 4): {UP: (3, 4), RIGHT: (4, 4), DOWN: (4, 4), LEFT: (4, 3)},
}


def _one_step_cases(inverted):
    cases = [((2, 2), a, cell) for a, cell in (INVERTED if inverted else NORMAL).items()]
    for start, moves in (INVERTED_CORNERS if inverted else NORMAL_CORNERS).items():
        cases += [(start, a, cell) for a, cell in moves.items()]
    return cases


def _layout_from(start):
    prize = (4, 4) if start[0] + start[1] < 4 else (0, 0)  # far from every one-step target
    if start == (2, 2):
        prize = (0, 0)
    return Layout(np.array(start), np.zeros((0, 2), np.int64), np.array([prize]))


@pytest.mark.parametrize("inverted", [False, True], ids=["normal", "inverted"])
def test_each_action_moves_the_right_way_gymnasium_env(inverted):
    env = gym.make("secretlab/Triggers-v0", size=5, n_triggers=0, n_prizes=1, inverted=inverted)
    for start, action, cell in _one_step_cases(inverted):
        env.reset(options={"layout": _layout_from(start)})
        _, r, term, trunc, info = env.step(action)
        assert info["agent"] == cell, f"action {action} from {start}, inverted={inverted}"
        assert (r, term, trunc) == (0.0, False, False)


@pytest.mark.parametrize("inverted", [False, True], ids=["normal", "inverted"])
def test_each_action_moves_the_right_way_batched_engine(inverted):
    cases = _one_step_cases(inverted)
    cfg = TriggersConfig(5, 0, 1, inverted=inverted)
    batch = BatchedTriggers(cfg, len(cases), obs_mode="crop")
    layouts = [_layout_from(start) for start, _, _ in cases]
    batch.reset(layouts=Layout(np.stack([l.agent for l in layouts]), np.zeros((len(cases), 0, 2), np.int64),
                               np.stack([l.prizes for l in layouts])))
    step = batch.step(np.array([a for _, a, _ in cases]))
    assert [tuple(x) for x in batch.agent.tolist()] == [cell for _, _, cell in cases]
    assert not step.reward.any() and not step.terminated.any()


def test_inverted_controls_collect_objects_on_the_mirrored_side():
    """Inverted 'up' enters the cell below: the prize below the agent is collected by action 0."""
    env = gym.make("secretlab/Triggers-v0", size=5, n_triggers=1, n_prizes=1, inverted=True)
    env.reset(options={"layout": Layout(np.array([2, 2]), np.array([[2, 1]]), np.array([[3, 2]]))})
    _, r, term, _, info = env.step(RIGHT)  # moves left onto the trigger at (2, 1)
    assert info["activated"] and r == 0 and info["agent"] == (2, 1)
    env.step(LEFT)  # moves right, back to (2, 2)
    _, r, term, _, info = env.step(UP)  # moves down onto the prize at (3, 2)
    assert (info["agent"], r, term) == ((3, 2), 1.0, True)
