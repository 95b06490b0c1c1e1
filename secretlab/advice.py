"""SECRET credit as state–action *advice* Φ(s, a): the form of shaping that credit on actions fits.

The paper's φ̂ forwards the credit of the pair (s_t, a_t) to the state the
action led into, s_{t+1}. Advice keeps it on the pair::

    Φ(s, a) = (1/|D|) Σ_τ R←_τ(s, a) = (1/|D|) Σ_τ Σ_t 1{(s_t, a_t) = (s, a)} c_τ[t]

with c_τ the redistributed return (:func:`secretlab.shaping.redistributed_return`).
Used as *look-ahead advice* (Wiewiora, Cottrell & Elkan 2003, "Principled
methods for advising reinforcement learning agents"), the agent learns from

    F(s, a, s', a') = γ Φ(s', a') − Φ(s, a)         (Φ(s', ·) = 0 on termination)

and picks actions greedily on Q̃(s, ·) + Φ(s, ·). For Q-learning (a' = the
advised greedy action at s') this is exactly Q-learning on the plain reward
with Q₀(s, a) = Φ(s, a), so the fixed point — and the optimal policy — is the
unshaped one. A trigger activation can be taken at most once per episode (it
clears the trigger), so credit on activations cannot be farmed, unlike φ̂'s
bump on states that the agent can leave and re-enter.

What a Gymnasium wrapper can and cannot do
    A wrapper alone cannot give advice: F needs the action the agent will take
    *next*, and the advised action selection needs the agent's own Q-values.
    :class:`secretlab.wrappers.AdviceWrapper` therefore exposes Φ(s, ·) — in ``info["advice"]`` and,
    by default, as an ``"advice"`` entry of a Dict observation — and the agent
    adds it to its Q-values, in action selection and in the TD target alike:
    ``q(s, ·) = net(s) + Φ(s, ·)``. That one line is the whole hook (CleanRL:
    add ``obs["advice"]`` to ``q_network(obs)`` where it is called);
    :class:`secretlab.agents.sb3_advice.AdvisedDQNPolicy` is it for
    Stable-Baselines3's DQN.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from secretlab.envs.triggers import N_ACTIONS, TriggersConfig
from secretlab.validation import check_int
from secretlab.shaping import (CreditRowsLike, MazeTable, Signs, first_trajectories, redistributed_return,
                               target_credit_rows)


def advice_from_credit(states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, rows: CreditRowsLike,
                       n_states: int, *, signs: Signs = "positive") -> np.ndarray:
    """Φ over (true-state key, action): (n_states, 4) float64.

    ``states`` (N, T + 1) keys (-1 on padding), ``actions`` (N, T) (-1 on
    padding), ``rewards`` (N, T), ``rows`` the credit rows of those N
    trajectories. Each step's credit stays on its own (s_t, a_t); the sum over D
    is divided by |D| = N. ``signs="positive"`` (default) uses correct +1 rows
    only, ``"nonzero"`` correct rows of both signs (−1 credit then makes the
    credited actions look bad).
    """
    states, actions = np.asarray(states), np.asarray(actions)
    rewards = np.asarray(rewards)
    check_int("n_states", n_states, minimum=1)
    if rewards.ndim != 2 or rewards.shape[0] == 0:
        raise ValueError(f"|D| must be >= 1: rewards must have shape (N >= 1, T), got {rewards.shape}")
    if actions.shape != rewards.shape:
        raise ValueError(f"actions must have the shape of rewards {rewards.shape}, got {actions.shape}")
    credit = redistributed_return(rows, rewards, states, actions, pairs="step", signs=signs)
    s = states[:, :-1]
    valid = (s >= 0) & (actions >= 0)
    if valid.any() and s[valid].max() >= n_states:
        raise ValueError(f"states contain key {int(s[valid].max())} >= n_states={n_states}")
    keys = s[valid] * N_ACTIONS + actions[valid]
    table = np.bincount(keys, weights=credit[valid], minlength=n_states * N_ACTIONS)
    return table.reshape(n_states, N_ACTIONS) / rewards.shape[0]


@dataclass
class Advice(MazeTable):
    """A state–action potential Φ(s, a) for ONE maze, used as look-ahead advice; ``table`` is (n_states, 4)."""

    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance (rows used, ...)."""

    kind = "advice"

    @property
    def table_shape(self) -> tuple[int, ...]:
        return (self.env.n_states, N_ACTIONS)

    def __call__(self, states: np.ndarray) -> np.ndarray:
        """Φ(s, ·) for an array of keys: shape (..., 4)."""
        return self.table[self._keys(states)]

    def lookahead(self, s: np.ndarray, a: np.ndarray, s_next: np.ndarray, a_next: np.ndarray,
                  terminated: np.ndarray) -> np.ndarray:
        """F = γΦ(s', a') − Φ(s, a) with Φ(s', ·) = 0 where ``terminated``; shapes (B,)."""
        s, a = np.asarray(s, dtype=np.int64), np.asarray(a, dtype=np.int64)
        nxt = np.where(np.asarray(terminated, bool), 0.0, self(s_next)[np.arange(np.size(s_next)), a_next])
        return self.gamma * nxt - self(s)[np.arange(np.size(s)), a]

    @property
    def n_nonzero(self) -> int:
        """(state, action) pairs with Φ ≠ 0."""
        return int(np.count_nonzero(self.table))


def advice_from_rows(rows: CreditRowsLike, dataset: Any, env: TriggersConfig, maze_seed: int, gamma: float, *,
                     signs: Signs = "positive", n_trajectories: int | None = None,
                     source: str = "secret") -> Advice:
    """:class:`Advice` from credit rows of a one-maze ``dataset`` (its first ``n_trajectories`` episodes)."""
    from secretlab.envs.triggers import sample_layout

    rows, n = first_trajectories(rows, dataset, maze_seed, n_trajectories)
    table = advice_from_credit(dataset.states[:n], dataset.actions[:n], dataset.rewards[:n], rows, env.n_states,
                               signs=signs)
    return Advice(table, env, sample_layout(env, int(maze_seed)), gamma, int(n), source,
                  meta={"maze_seed": int(maze_seed), "signs": signs, "n_rows": int(len(rows.correct)),
                        "n_correct_rows": int(np.sum(rows.correct))})


def secret_advice(model: Any, env: TriggersConfig, maze_seed: int, n_trajectories: int, gamma: float,
                  seed: int = 0, *, source: str = "secret_sparse", signs: Signs = "positive",
                  threshold: float = 0.2, dataset: Any = None, action_labels: str = "taken",
                  model_rows: Any = None) -> Advice:
    """Φ(s, a) from SECRET's credit on ``n_trajectories`` random-policy episodes in one target maze.

    The advice counterpart of :func:`secretlab.shaping.secret_potential`: the cached
    dataset ``DatasetConfig(env, n_trajectories, seed, split="target", fixed_maze_seed=maze_seed)``
    (or the first ``n_trajectories`` of ``dataset``), the frozen ``model``'s credit rows,
    turned into ``source``'s rows (default ``"secret_sparse"``: weights below ``threshold``
    dropped, see :mod:`secretlab.credit_controls`; ``"secret"`` keeps them all).
    ``action_labels="effect"`` feeds the model :func:`secretlab.shaping.effect_actions` (as
    ``secret_potential`` does); the table stays keyed by the actions TAKEN, the ones the agent chooses.
    ``model_rows``: as in ``secret_potential`` (the rows of :func:`secretlab.shaping.labelled_credit_rows`).
    """
    dataset, rows = target_credit_rows(model, env, maze_seed, n_trajectories, seed, dataset, source,
                                       action_labels=action_labels, model_rows=model_rows, threshold=threshold)
    return advice_from_rows(rows, dataset, env, int(maze_seed), gamma, signs=signs, source=source)
