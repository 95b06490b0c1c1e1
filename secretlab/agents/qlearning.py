"""Tabular Q-learning on the true Triggers state, vectorised over agents.

One numpy step advances B independent agents at once — typically
(arm × target maze × seed) — each with its own Q-table ``(B, n_states, 4)``,
its own maze and (optionally) its own shaping: a state potential φ (reward
F = γφ(s') − φ(s)) or state–action *advice* Φ (see below). Each maze's
deterministic model is tabulated once (:func:`transition_table`, built on the
same rules as :class:`secretlab.envs.BatchedTriggers`), so a step is a table
look-up; finished agents restart in their own maze.

Paper settings (App. A.3): learning rate 0.1, constant ε = 0.1. The paper does
not give γ; we use 0.99 (documented in ``docs/shaping.md``).

Definitions
    *Return*: sum of environment rewards of an episode (unshaped).
    *Success*: the episode terminated (every prize collected) and no −1 was
    received, i.e. every prize was collected after all triggers were active.
    *Greedy evaluation*: after 0, k, 2k, … training episodes (``eval_interval``
    = k), a snapshot of each agent's Q-table is run for one episode with ε = 0
    (the env is deterministic; ties between equal Q-values are broken uniformly
    at random, in training and evaluation alike, otherwise an all-zero table
    would always pick "up").

Random streams
    Every agent draws from its own counter-based stream (SplitMix64 of its
    ``stream`` id, the config seed and the step), so an agent's curve does not
    depend on which other agents share its batch: adding an arm, or splitting
    a run into chunks, leaves every other agent's numbers unchanged, and agents
    given the same stream id in different arms see the same draws (common random
    numbers, which makes arm comparisons less noisy).

Advice (Wiewiora, Cottrell & Elkan 2003)
    A state–action potential Φ(s, a) is *look-ahead advice*: the agent learns
    Q̃ from r + γΦ(s', a*) − Φ(s, a) and acts greedily on Q̃(s, ·) + Φ(s, ·),
    where a* = argmax_a Q̃(s', a) + Φ(s', a) (Φ(s', ·) = 0 on termination).
    With Q̃ = Q − Φ this is exactly Q-learning on r with Q₀(s, a) = Φ(s, a):
    ``advice_mode="init"`` (default, one table) and ``"lookahead"`` (the explicit
    form) take the same actions; ``tests/test_qlearning.py`` checks it. The fixed
    point is the unshaped Q*, so advice cannot change the optimal policy. In the
    same way, potential shaping with Q₀ = 0 is Q-learning with Q₀(s, ·) = φ(s)
    (Wiewiora 2003), also tested.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np

from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import N_ACTIONS, Layout, TriggersConfig, encode_state
from secretlab.shaping import check_agent_gamma
from secretlab.validation import check_int

AdviceMode = Literal["init", "lookahead"]
ADVICE_MODES = ("init", "lookahead")


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of tabular Q-learning (one line each, CleanRL style)."""

    learning_rate: float = 0.1
    """Step size of the TD update (paper: 0.1)."""
    epsilon: float = 0.1
    """Constant exploration rate of ε-greedy (paper: 0.1)."""
    gamma: float = 0.99
    """Discount factor (paper: unspecified; ours 0.99). Also the γ of F = γφ(s') − φ(s)."""
    n_episodes: int = 1000
    """Training episodes per agent."""
    eval_interval: int = 50
    """Greedy evaluation after every ``eval_interval`` training episodes (and before the first)."""
    q_init: float = 0.0
    """Initial Q-value of every (state, action) (advice, if any, is added to it)."""
    terminal_zero: bool = True
    """Shaping uses φ(s') = 0 on termination (policy invariance; see secretlab.shaping)."""
    advice_mode: str = "init"
    """How advice Φ(s, a) is used: 'init' (Q₀ = Φ) or 'lookahead' (explicit look-ahead advice); same actions."""
    seed: int = 0
    """Seeds ε-greedy draws and tie-breaking (the mazes come from ``layouts``)."""

    def __post_init__(self) -> None:
        for name in ("learning_rate", "epsilon", "gamma"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        for name in ("n_episodes", "eval_interval"):
            check_int(name, getattr(self, name), minimum=1)
        if isinstance(self.q_init, bool) or not isinstance(self.q_init, (int, float)) or not np.isfinite(self.q_init):
            raise ValueError(f"q_init must be a finite number, got {self.q_init!r}")
        if self.advice_mode not in ADVICE_MODES:
            raise ValueError(f"advice_mode must be one of {ADVICE_MODES}, got {self.advice_mode!r}")
        check_int("seed", self.seed, minimum=0)

    @property
    def eval_points(self) -> np.ndarray:
        """(K,) training episodes completed at each greedy evaluation: 0, k, 2k, …, ≤ n_episodes."""
        return np.arange(0, self.n_episodes + 1, self.eval_interval)


@dataclass
class QLearningResult:
    """Per-agent learning curves; B agents, E training episodes, K evaluations."""

    episode_return: np.ndarray
    """(B, E) float32 environment return of each training episode."""
    episode_shaped_return: np.ndarray
    """(B, E) float32 return including the potential shaping F (advice adds no reward)."""
    episode_success: np.ndarray
    """(B, E) bool: every prize collected, no −1 received."""
    episode_length: np.ndarray
    """(B, E) int64 steps of each training episode."""
    eval_episodes: np.ndarray
    """(K,) training episodes completed before each greedy evaluation."""
    eval_return: np.ndarray
    """(B, K) float32 greedy-episode return."""
    eval_success: np.ndarray
    """(B, K) bool greedy-episode success."""
    eval_length: np.ndarray
    """(B, K) int64 greedy-episode length."""
    q: np.ndarray
    """(B, n_states, 4) final Q-tables (with advice: Q̃ + Φ, the values the agent acts on)."""
    global_steps: int
    """Batched steps taken (each advances all B agents)."""
    state_visits: np.ndarray
    """(B, n_states) int64: training steps each agent took from each state."""

    @property
    def total_updates(self) -> int:
        """Q-updates actually applied (the sum of all episode lengths)."""
        return int(self.episode_length.sum())

    def share_of_steps_in(self, states: np.ndarray) -> np.ndarray:
        """(B,) share of each agent's training steps taken from ``states`` ((B, n_states) or (n_states,) bool)."""
        mask = np.broadcast_to(np.asarray(states, dtype=bool), self.state_visits.shape)
        total = self.state_visits.sum(1)
        return np.where(total > 0, (self.state_visits * mask).sum(1) / np.maximum(total, 1), 0.0)


# =============================================================================
# Per-agent random streams (counter-based, batch-independent)
# =============================================================================
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_DRAWS = 6  # per agent and step: 4 tie-break keys, explore?, random action


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def stream_keys(seed: int, streams: np.ndarray, purpose: int) -> np.ndarray:
    """(B,) uint64 stream keys from a config seed, per-agent stream ids and a purpose tag."""
    base = _splitmix(np.array([seed * 1_000_003 + purpose], dtype=np.uint64))
    return _splitmix(base ^ _splitmix(np.asarray(streams, dtype=np.uint64)))


def _uniforms(keys: np.ndarray, counter: int) -> np.ndarray:
    """(B, 6) uniforms in [0, 1) for step ``counter`` of each agent's stream."""
    with np.errstate(over="ignore"):
        x = keys[:, None] + np.uint64(counter * _DRAWS) + np.arange(_DRAWS, dtype=np.uint64)[None, :]
    return (_splitmix(x) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _act(q_rows: np.ndarray, epsilon: float, u: np.ndarray) -> np.ndarray:
    """ε-greedy with uniform tie-breaking: q_rows (B, 4), u (B, 6) uniforms -> actions (B,)."""
    greedy = np.argmax((q_rows == _row_max(q_rows)[:, None]) * (1.0 + u[:, :N_ACTIONS]), axis=1)
    if epsilon <= 0.0:
        return greedy
    return np.where(u[:, 4] < epsilon, (u[:, 5] * N_ACTIONS).astype(np.int64), greedy)


def _row_max(rows: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(rows[:, 0], rows[:, 1]), np.maximum(rows[:, 2], rows[:, 3]))


# =============================================================================
# Inputs
# =============================================================================
def _check_layouts(env: TriggersConfig, layouts: Layout) -> int:
    layouts = Layout(*(np.asarray(x) for x in layouts))
    b = layouts.agent.shape[0] if layouts.agent.ndim == 2 else 0
    if b < 1 or layouts.triggers.shape != (b, env.n_triggers, 2) or layouts.prizes.shape != (b, env.n_prizes, 2):
        raise ValueError(
            f"layouts must be stacked mazes of env (agent (B, 2), triggers (B, {env.n_triggers}, 2), "
            f"prizes (B, {env.n_prizes}, 2)), got {layouts.agent.shape}, {layouts.triggers.shape}, "
            f"{layouts.prizes.shape}")
    return b


def _tables(name: str, given: Any, shape: tuple[int, ...], gamma: float) -> np.ndarray | None:
    """A (B, ...) float64 table from an array or a sequence of Potential/Advice objects (γ checked)."""
    if given is None:
        return None
    if not isinstance(given, np.ndarray) and len(given) and hasattr(given[0], "table"):
        for i, p in enumerate(given):
            check_agent_gamma(f"{name}[{i}]", p.gamma, gamma)
        given = np.stack([np.asarray(p.table) for p in given])
    table = np.asarray(given, dtype=np.float64)
    if table.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (B, n_states{', 4' if len(shape) == 3 else ''}), "
                         f"got {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError(f"{name} must be finite; got {int((~np.isfinite(table)).sum())} NaN/inf entries")
    return table


class _MazeModels:
    """The deterministic model of every distinct maze of a batch, tabulated once."""

    def __init__(self, env: TriggersConfig, layouts: Layout) -> None:
        layouts = Layout(*(np.asarray(x, dtype=np.int64) for x in layouts))
        b = layouts.agent.shape[0]
        flat = np.concatenate([layouts.agent.reshape(b, -1), layouts.triggers.reshape(b, -1),
                               layouts.prizes.reshape(b, -1)], axis=1)
        unique, self.maze_of = np.unique(flat, axis=0, return_inverse=True)
        self.maze_of = self.maze_of.ravel()
        n_s = env.n_states
        m = len(unique)
        self.next = np.empty((m, n_s * N_ACTIONS), np.int64)
        self.reward = np.empty((m, n_s * N_ACTIONS), np.float64)
        self.terminated = np.empty((m, n_s * N_ACTIONS), bool)
        self.start = np.empty(m, np.int64)
        nt = env.n_triggers
        for i, row in enumerate(unique):
            layout = Layout(row[:2], row[2:2 + 2 * nt].reshape(nt, 2), row[2 + 2 * nt:].reshape(-1, 2))
            nxt, rew, term = transition_table(env, layout)
            self.next[i], self.reward[i], self.terminated[i] = nxt.ravel(), rew.ravel(), term.ravel()
            self.start[i] = encode_state(layout.agent, np.ones(nt, bool), np.ones(env.n_prizes, bool), env.size)
        # flat index of (agent b, its maze) into the tables
        self.offset = self.maze_of * (n_s * N_ACTIONS)
        self.next_flat, self.reward_flat = self.next.reshape(-1), self.reward.reshape(-1)
        self.terminated_flat = self.terminated.reshape(-1)

    def step(self, agents: np.ndarray, state: np.ndarray, action: np.ndarray):
        """(next_state, reward, terminated) of agents in their mazes."""
        i = self.offset[agents] + state * N_ACTIONS + action
        return (self.next.ravel()[i], self.reward.ravel()[i], self.terminated.ravel()[i])


# =============================================================================
# The algorithm
# =============================================================================
def train_q_learning(
    env: TriggersConfig,
    layouts: Layout,
    config: QLearningConfig = QLearningConfig(),
    potentials: np.ndarray | Sequence[Any] | None = None,
    advice: np.ndarray | Sequence[Any] | None = None,
    streams: np.ndarray | None = None,
) -> QLearningResult:
    """Train B tabular Q-learners in lock-step, agent b in maze ``layouts[b]``.

    ``layouts``: stacked mazes (agent (B, 2), triggers (B, nT, 2), prizes (B, nP, 2)).
    ``potentials``: optional (B, n_states) φ tables, or B :class:`secretlab.shaping.Potential`
    objects (their γ must be ``config.gamma``); agent b learns from r + γφ_b(s') − φ_b(s)
    (φ(s') = 0 on termination if ``config.terminal_zero``).
    ``advice``: optional (B, n_states, 4) Φ tables, or B :class:`secretlab.shaping.Advice`
    objects (γ checked likewise), used as ``config.advice_mode`` says (module docstring).
    Rows of zeros give plain Q-learning, so several arms can share one batch.
    ``streams``: (B,) non-negative ints naming each agent's random stream (default 0..B-1);
    agents with the same stream id draw the same numbers.
    Each agent stops learning after ``config.n_episodes`` episodes.
    """
    b = _check_layouts(env, layouts)
    n_s = env.n_states
    phi = _tables("potentials", potentials, (b, n_s), config.gamma)
    adv = _tables("advice", advice, (b, n_s, N_ACTIONS), config.gamma)
    phi = phi if phi is not None and np.any(phi != 0) else None
    adv = adv if adv is not None and np.any(adv != 0) else None
    stream_ids = _check_streams(streams, b)
    lookahead = adv is not None and config.advice_mode == "lookahead"
    q = np.full((b, n_s, N_ACTIONS), config.q_init, dtype=np.float64)
    if adv is not None and not lookahead:
        q += adv  # Q₀ = Φ: look-ahead advice in its Q-initialisation form
    out = _Outputs.empty(b, config.n_episodes, len(config.eval_points), n_s)
    out.snapshots[0] = greedy_mask(q + adv if lookahead else q)
    global_steps = _learn(q, adv if lookahead else None, phi, _MazeModels(env, layouts),
                          stream_keys(config.seed, stream_ids, purpose=11), config, env.horizon, out)
    # Greedy evaluation of every snapshot: snapshot j of agent b runs on stream (b's stream)·k + j.
    k = len(config.eval_points)
    tiled = Layout(*(np.tile(np.asarray(x), (k,) + (1,) * (np.ndim(x) - 1)) for x in layouts))
    ev_streams = np.tile(stream_ids, k) * k + np.repeat(np.arange(k), b)
    ev_ret, ev_succ, ev_len = _evaluate_masks(env, tiled, out.snapshots.reshape(k * b, n_s), config.seed, 0.0,
                                              ev_streams)
    return QLearningResult(
        out.returns, out.shaped, out.success, out.length, config.eval_points,
        ev_ret.reshape(k, b).T.copy(), ev_succ.reshape(k, b).T.copy(), ev_len.reshape(k, b).T.copy(),
        q + adv if lookahead else q, global_steps, out.visits,
    )


@dataclass
class _Outputs:
    """What :func:`train_q_learning` records per agent (by agent id): (B, E) episode logs, (K, B, n_states)
    greedy snapshots as 4-bit masks (16x less memory than values), (B, n_states) state visits."""

    returns: np.ndarray
    shaped: np.ndarray
    success: np.ndarray
    length: np.ndarray
    episodes_done: np.ndarray
    snapshots: np.ndarray
    visits: np.ndarray

    @classmethod
    def empty(cls, b: int, n_episodes: int, n_snapshots: int, n_states: int) -> "_Outputs":
        return cls(np.zeros((b, n_episodes), np.float32), np.zeros((b, n_episodes), np.float32),
                   np.zeros((b, n_episodes), bool), np.zeros((b, n_episodes), np.int64), np.zeros(b, np.int64),
                   np.empty((n_snapshots, b, n_states), dtype=np.uint8), np.zeros((b, n_states), np.int64))

    def finish(self, d: np.ndarray, returns: np.ndarray, shaped: np.ndarray, success: np.ndarray,
               length: np.ndarray, eval_interval: int, greedy_q) -> None:
        """Log the episodes agents ``d`` just ended; snapshot ``greedy_q(agents)`` where one is due."""
        e = self.episodes_done[d]
        self.returns[d, e], self.shaped[d, e], self.success[d, e], self.length[d, e] = returns, shaped, success, length
        self.episodes_done[d] += 1
        snap = d[self.episodes_done[d] % eval_interval == 0]
        if len(snap):
            self.snapshots[self.episodes_done[snap] // eval_interval, snap] = greedy_mask(greedy_q(snap))


def _learn(q: np.ndarray, adv: np.ndarray | None, phi: np.ndarray | None, models: _MazeModels,
           keys: np.ndarray, config: QLearningConfig, horizon: int, out: _Outputs) -> int:
    """The lock-step loop: every agent's ε-greedy step and TD update until each has run its episodes.

    Updates ``q`` (B, n_states, 4) in place and fills ``out``; returns the number of updates. ``adv``: Φ
    tables for explicit look-ahead advice (None: plain, or advice already in Q₀); ``phi``: φ tables or None.
    """
    b, n_s, _ = q.shape
    lr, eps, gamma, e_max = config.learning_rate, config.epsilon, config.gamma, config.n_episodes
    q_flat, visits_flat = q.reshape(-1), out.visits.reshape(-1)
    adv_flat = None if adv is None else adv.reshape(-1)
    phi_flat = None if phi is None else phi.reshape(-1)
    cols = np.arange(N_ACTIONS)
    # Per-agent state is kept compacted to the agents still training (contiguous arrays, no scatter per step).
    ids = np.arange(b)
    base, phi_base = ids * (n_s * N_ACTIONS), ids * n_s  # each agent's rows in q_flat and in the φ tables
    offset, key = models.offset.copy(), keys.copy()  # each agent's maze in the transition tables, its stream
    state = models.start[models.maze_of].copy()
    t = np.zeros(b, np.int64)
    ep_return, ep_shaped, ep_negative = np.zeros(b), np.zeros(b), np.zeros(b, bool)
    global_steps = 0
    while len(ids):
        lin_rows = (base + state * N_ACTIONS)[:, None] + cols
        acting = q_flat[lin_rows] + adv_flat[lin_rows] if adv is not None else q_flat[lin_rows]
        action = _act(acting, eps, _uniforms(key, global_steps))
        cell = offset + state * N_ACTIONS + action
        nxt, reward, terminated = models.next_flat[cell], models.reward_flat[cell], models.terminated_flat[cell]
        t += 1
        truncated = ~terminated & (t >= horizon)
        total = reward
        if phi_flat is not None:
            phi_next = phi_flat[phi_base + nxt]
            if config.terminal_zero:
                phi_next = np.where(terminated, 0.0, phi_next)
            total = reward + gamma * phi_next - phi_flat[phi_base + state]
        next_rows = (base + nxt * N_ACTIONS)[:, None] + cols
        lin = base + state * N_ACTIONS + action
        if adv is not None:
            # Q̃ target: r + F + γ[Q̃ + Φ](s', a*) − Φ(s, a), a* the biased greedy action; Φ(s', ·) = 0 at the end
            best_next = _row_max(q_flat[next_rows] + adv_flat[next_rows])
            target = total + gamma * np.where(terminated, 0.0, best_next) - adv_flat[lin]
        else:
            # TD target: bootstrap through truncation, not through termination.
            target = total + gamma * np.where(terminated, 0.0, _row_max(q_flat[next_rows]))
        q_flat[lin] += lr * (target - q_flat[lin])
        visits_flat[phi_base + state] += 1
        global_steps += 1
        ep_return += reward
        ep_shaped += total
        ep_negative |= reward < 0
        state = nxt
        done = terminated | truncated
        if done.any():
            d = ids[done]
            out.finish(d, ep_return[done], ep_shaped[done], terminated[done] & ~ep_negative[done], t[done],
                       config.eval_interval, lambda a: q[a] + adv[a] if adv is not None else q[a])
            ep_return[done], ep_shaped[done], ep_negative[done], t[done] = 0.0, 0.0, False, 0
            state[done] = models.start[models.maze_of[d]]  # same maze: the agent keeps training where it is
            keep = out.episodes_done[ids] < e_max
            if not keep.all():
                ids, base, phi_base, offset, key, state, t, ep_return, ep_shaped, ep_negative = (
                    x[keep] for x in (ids, base, phi_base, offset, key, state, t, ep_return, ep_shaped, ep_negative))
    return global_steps


def _check_streams(streams: np.ndarray | None, b: int) -> np.ndarray:
    if streams is None:
        return np.arange(b, dtype=np.int64)
    streams = np.asarray(streams)
    if streams.shape != (b,) or not np.issubdtype(streams.dtype, np.integer) or (streams < 0).any():
        raise ValueError(f"streams must be (B={b},) non-negative integers, got shape {streams.shape}, "
                         f"dtype {streams.dtype}")
    return streams.astype(np.int64)


def greedy_mask(q: np.ndarray) -> np.ndarray:
    """(..., n_states) uint8: bit a set where action a is greedy in q (..., n_states, 4)."""
    q = np.asarray(q)
    best = q == q.max(axis=-1, keepdims=True)
    return (best.astype(np.uint8) << np.arange(N_ACTIONS, dtype=np.uint8)).sum(-1, dtype=np.uint8)


_BITS = ((np.arange(16)[:, None] >> np.arange(N_ACTIONS)) & 1).astype(np.float64)  # mask -> (4,) 0/1 row


def evaluate_greedy(env: TriggersConfig, layouts: Layout, q: np.ndarray, seed: int = 0,
                    epsilon: float = 0.0, streams: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode per Q-table (B, n_states, 4) in its maze: (return, success, length), each (B,).

    Ties are broken by each table's own random stream (``streams``, default 0..B-1).
    """
    b = _check_layouts(env, layouts)
    if np.shape(q) != (b, env.n_states, N_ACTIONS):
        raise ValueError(f"q must have shape (B={b}, {env.n_states}, {N_ACTIONS}), got {np.shape(q)}")
    return _evaluate_masks(env, layouts, greedy_mask(q), seed, epsilon, _check_streams(streams, b))


def _evaluate_masks(env: TriggersConfig, layouts: Layout, masks: np.ndarray, seed: int, epsilon: float,
                    streams: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`evaluate_greedy` from greedy-action masks (B, n_states) uint8."""
    b = masks.shape[0]
    keys = stream_keys(seed, streams, purpose=13)
    models = _MazeModels(env, layouts)
    state = models.start[models.maze_of].copy()
    ret = np.zeros(b, np.float32)
    negative = np.zeros(b, bool)
    success = np.zeros(b, bool)
    length = np.zeros(b, np.int64)
    idx = np.arange(b)
    for step in range(env.horizon):
        s = state[idx]
        action = _act(_BITS[masks[idx, s]], epsilon, _uniforms(keys[idx], step))
        nxt, reward, terminated = models.step(idx, s, action)
        ret[idx] += reward.astype(np.float32)
        negative[idx] |= reward < 0
        state[idx] = nxt
        done = terminated | (step + 1 >= env.horizon)
        success[idx[done]] = terminated[done] & ~negative[idx[done]]
        length[idx[done]] = step + 1
        idx = idx[~done]
        if not len(idx):
            break
    return ret, success, length


# =============================================================================
# Exact solution on small mazes (tests, docs)
# =============================================================================
def transition_table(env: TriggersConfig, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The deterministic model of one maze over ALL keys: next_state, reward, terminated, each (n_states, 4).

    Keys that cannot occur (e.g. the agent on a still-present trigger) are
    included anyway; they do no harm to value iteration.
    """
    n_s, n_bits = env.n_states, env.n_triggers + env.n_prizes
    keys = np.repeat(np.arange(n_s, dtype=np.int64), N_ACTIONS)
    actions = np.tile(np.arange(N_ACTIONS), n_s)
    batch = BatchedTriggers(env, len(keys), obs_mode="none")
    batch.reset(layouts=Layout(*(np.repeat(np.asarray(x)[None], len(keys), axis=0) for x in layout)))
    cell, bits = keys >> n_bits, keys & ((1 << n_bits) - 1)
    batch.agent[:] = np.stack(np.divmod(cell, env.size), axis=-1)
    alive = ((bits[:, None] >> np.arange(n_bits)) & 1).astype(bool)
    batch.triggers_alive[:] = alive[:, : env.n_triggers]
    batch.prizes_alive[:] = alive[:, env.n_triggers:]
    step = batch.step(actions)
    shape = (n_s, N_ACTIONS)
    return step.state.reshape(shape), step.reward.astype(np.float64).reshape(shape), step.terminated.reshape(shape)


def value_iteration(env: TriggersConfig, layout: Layout, gamma: float, potential: np.ndarray | None = None,
                    terminal_zero: bool = True, tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """Optimal Q (n_states, 4) of one maze, optionally with shaping F = γφ(s') − φ(s).

    Ignores truncation (the infinite-horizon discounted task), which is the
    setting of Ng et al.'s policy-invariance theorem.
    """
    nxt, rew, term = transition_table(env, layout)
    if potential is not None:
        phi = np.asarray(potential, dtype=np.float64)
        phi_next = np.where(term, 0.0, phi[nxt]) if terminal_zero else phi[nxt]
        rew = rew + gamma * phi_next - phi[:, None]
    q = np.zeros((env.n_states, N_ACTIONS))
    for _ in range(max_iter):
        new = rew + gamma * np.where(term, 0.0, q.max(axis=1)[nxt])
        if np.max(np.abs(new - q)) < tol:
            return new
        q = new
    return q
