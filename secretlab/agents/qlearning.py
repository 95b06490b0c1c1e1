"""Tabular Q-learning on the true Triggers state, vectorised over agents.

One numpy step advances B independent agents at once — typically
(arm × target maze × seed) — each with its own Q-table ``(B, n_states, 4)``,
its own maze and (optionally) its own potential table for shaping. Built on
:class:`secretlab.envs.BatchedTriggers` (``obs_mode="none"``; no auto-reset:
finished sub-envs are restarted here, in their own maze).

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
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import N_ACTIONS, Layout, TriggersConfig


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
    """Initial Q-value of every (state, action)."""
    terminal_zero: bool = True
    """Shaping uses φ(s') = 0 on termination (policy invariance; see secretlab.shaping)."""
    seed: int = 0
    """Seeds ε-greedy draws and tie-breaking (the mazes come from ``layouts``)."""

    def __post_init__(self) -> None:
        for name in ("learning_rate", "epsilon", "gamma"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        for name in ("n_episodes", "eval_interval"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")

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
    """(B, E) float32 return including the shaping F."""
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
    """(B, n_states, 4) final Q-tables."""
    global_steps: int
    """Batched steps taken (each advances all B agents)."""

    @property
    def total_updates(self) -> int:
        """Q-updates actually applied (the sum of all episode lengths)."""
        return int(self.episode_length.sum())


# =============================================================================
# The algorithm
# =============================================================================
def _act(q_rows: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """ε-greedy with uniform tie-breaking: q_rows (B, 4) -> actions (B,)."""
    best = q_rows == q_rows.max(axis=1, keepdims=True)
    greedy = np.argmax(rng.random(q_rows.shape) * best, axis=1)
    if epsilon <= 0.0:
        return greedy
    explore = rng.random(len(q_rows)) < epsilon
    return np.where(explore, rng.integers(0, N_ACTIONS, size=len(q_rows)), greedy)


def _check_inputs(env: TriggersConfig, layouts: Layout, potentials: np.ndarray | None) -> int:
    layouts = Layout(*(np.asarray(x) for x in layouts))
    b = layouts.agent.shape[0] if layouts.agent.ndim == 2 else 0
    if b < 1 or layouts.triggers.shape != (b, env.n_triggers, 2) or layouts.prizes.shape != (b, env.n_prizes, 2):
        raise ValueError(
            f"layouts must be stacked mazes of env (agent (B, 2), triggers (B, {env.n_triggers}, 2), "
            f"prizes (B, {env.n_prizes}, 2)), got {layouts.agent.shape}, {layouts.triggers.shape}, "
            f"{layouts.prizes.shape}")
    if potentials is not None and np.shape(potentials) != (b, env.n_states):
        raise ValueError(f"potentials must have shape (B={b}, n_states={env.n_states}), got {np.shape(potentials)}")
    return b


def train_q_learning(
    env: TriggersConfig,
    layouts: Layout,
    config: QLearningConfig = QLearningConfig(),
    potentials: np.ndarray | None = None,
) -> QLearningResult:
    """Train B tabular Q-learners in lock-step, agent b in maze ``layouts[b]``.

    ``layouts``: stacked mazes (agent (B, 2), triggers (B, nT, 2), prizes (B, nP, 2)).
    ``potentials``: optional (B, n_states) φ tables; agent b then learns from
    r + γφ_b(s') − φ_b(s) (φ(s') = 0 on termination if ``config.terminal_zero``).
    Rows of zeros give plain Q-learning, so several arms can share one batch.
    Each agent stops learning after ``config.n_episodes`` episodes.
    """
    b = _check_inputs(env, layouts, potentials)
    rng = np.random.default_rng([config.seed, 11])
    n_s, e_max = env.n_states, config.n_episodes
    lr, eps, gamma = config.learning_rate, config.epsilon, config.gamma
    shaped = potentials is not None and np.any(potentials != 0)
    phi = np.asarray(potentials, dtype=np.float64) if shaped else None

    q = np.full((b, n_s, N_ACTIONS), config.q_init, dtype=np.float64)
    eval_points = config.eval_points
    snapshots = np.empty((len(eval_points), b, n_s, N_ACTIONS), dtype=np.float32)
    snapshots[0] = q
    out_return = np.zeros((b, e_max), np.float32)
    out_shaped = np.zeros((b, e_max), np.float32)
    out_success = np.zeros((b, e_max), bool)
    out_length = np.zeros((b, e_max), np.int64)

    batch = BatchedTriggers(env, b, obs_mode="none")
    batch.reset(layouts=Layout(*(np.asarray(x, dtype=np.int64) for x in layouts)))
    agents = np.arange(b)
    state = batch.state
    episodes_done = np.zeros(b, np.int64)
    active = np.ones(b, bool)
    ep_return = np.zeros(b)
    ep_shaped = np.zeros(b)
    ep_negative = np.zeros(b, bool)
    global_steps = 0

    while active.any():
        action = _act(q[agents, state], eps, rng)
        step = batch.step(action)
        next_state, reward, terminated = step.state, step.reward.astype(np.float64), step.terminated
        total = reward
        if shaped:
            phi_next = phi[agents, next_state]
            if config.terminal_zero:
                phi_next = np.where(terminated, 0.0, phi_next)
            total = reward + gamma * phi_next - phi[agents, state]
        # TD target: bootstrap through truncation, not through termination.
        target = total + gamma * np.where(terminated, 0.0, q[agents, next_state].max(axis=1))
        idx = agents[active]
        q[idx, state[idx], action[idx]] += lr * (target[idx] - q[idx, state[idx], action[idx]])
        global_steps += 1

        # ------------------------------------------------------- bookkeeping
        ep_return += reward
        ep_shaped += total
        ep_negative |= reward < 0
        done = active & (terminated | step.truncated)
        state = next_state
        if done.any():
            d = agents[done]
            e = episodes_done[d]
            out_return[d, e] = ep_return[d]
            out_shaped[d, e] = ep_shaped[d]
            out_success[d, e] = terminated[d] & ~ep_negative[d]
            out_length[d, e] = batch.t[d]
            episodes_done[d] += 1
            snap = d[episodes_done[d] % config.eval_interval == 0]
            if len(snap):
                snapshots[episodes_done[snap] // config.eval_interval, snap] = q[snap]
            ep_return[d] = 0.0
            ep_shaped[d] = 0.0
            ep_negative[d] = False
            active &= episodes_done < e_max
            restart = done & active
            if restart.any():
                batch.reset(mask=restart)  # same maze: the agent keeps training where it is
                state = batch.state

    k = len(eval_points)
    tiled = Layout(*(np.tile(np.asarray(x), (k,) + (1,) * (np.ndim(x) - 1)) for x in layouts))
    ev_ret, ev_succ, ev_len = evaluate_greedy(env, tiled, snapshots.reshape(k * b, n_s, N_ACTIONS),
                                              seed=config.seed)
    return QLearningResult(
        out_return, out_shaped, out_success, out_length, eval_points,
        ev_ret.reshape(k, b).T.copy(), ev_succ.reshape(k, b).T.copy(), ev_len.reshape(k, b).T.copy(),
        q, global_steps,
    )


def evaluate_greedy(env: TriggersConfig, layouts: Layout, q: np.ndarray, seed: int = 0,
                    epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode per Q-table (B, n_states, 4) in its maze: (return, success, length), each (B,)."""
    b = _check_inputs(env, layouts, None)
    if q.shape != (b, env.n_states, N_ACTIONS):
        raise ValueError(f"q must have shape (B={b}, {env.n_states}, {N_ACTIONS}), got {q.shape}")
    rng = np.random.default_rng([seed, 13])
    batch = BatchedTriggers(env, b, obs_mode="none")
    batch.reset(layouts=Layout(*(np.asarray(x, dtype=np.int64) for x in layouts)))
    agents = np.arange(b)
    alive = np.ones(b, bool)
    ret = np.zeros(b, np.float32)
    negative = np.zeros(b, bool)
    success = np.zeros(b, bool)
    length = np.zeros(b, np.int64)
    while alive.any():
        step = batch.step(_act(q[agents, batch.state], epsilon, rng))
        ret += np.where(alive, step.reward, 0.0).astype(np.float32)
        negative |= alive & (step.reward < 0)
        done = alive & (step.terminated | step.truncated)
        success[done] = step.terminated[done] & ~negative[done]
        length[done] = batch.t[done]
        alive &= ~done
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
