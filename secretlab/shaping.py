"""From SECRET's credit to a potential-based shaping reward (paper §2.2, docs/design.md §1).

The chain is::

    attention rows  --redistributed_return-->  credit per (trajectory, step)  (N, T)
                    --potential_from_credit-->  φ̂ table over true-state keys  (n_states,)
                    --Potential.shaping-->      F = γ φ(s') − φ(s)

Definitions (paper §2.2, docs/design.md §1)
    Redistributed return of trajectory τ, per step t::

        c_τ[t] = Σ_{i ≥ t} α_{t←i} r_i

    where the sum runs only over the rows i that are *correctly predicted
    non-zero rewards* (``CreditRows.correct``). The paper's R←_τ(s, a) sums c_τ
    over every step of τ where (s_t, a_t) = (s, a).

    Potential (credit forwarded to the state the credited pair led into)::

        φ̂(s) = (1/|D|) Σ_τ Σ_t 1{s_{t+1} = s} R←_τ(s_t, a_t)

    States never reached in D get φ̂ = 0.

Two forms of R← (``pairs=``)
    ``"step"`` (default): each step forwards its own credit c_τ[t] to its own
    s_{t+1}. ``"pair"``: the paper's literal form, where step t forwards the
    credit of *every* occurrence of (s_t, a_t) in τ — so a pair repeated k times
    in one trajectory contributes k × its total. The two agree whenever no
    credited pair repeats within a trajectory, which is always the case for a
    trigger activation (the activation clears the trigger's bit in the state, so
    the same (state, action) cannot activate it again). ``"step"`` is the
    default because it keeps Σ_s φ̂(s)·|D| equal to the total credited reward.

Terminal states
    Ng et al.'s policy-invariance theorem for *episodic* tasks needs φ(terminal)
    = 0: otherwise the shaped return of an episode ends with γφ(s_T) which
    depends on *which* terminal state (and so which policy) ended it.
    :class:`Potential` therefore uses φ(s') = 0 on termination by default
    (``terminal_zero=True``; truncation keeps φ(s') because the task goes on);
    ``terminal_zero=False`` is the paper's literal F = γφ(s') − φ(s) everywhere.

Vectorised with ``np.add.at`` / ``np.bincount`` (no loop over D; ``secretlab bench`` times it against one).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from secretlab.envs.triggers import (CROP, CROP_CHANNELS, N_ACTIONS, Layout, TriggersConfig,
                                     sample_layout)
from secretlab.validation import check_choice, check_int
from secretlab.data.target import effect_actions, target_dataset  # noqa: F401  (effect_actions: re-exported)

Normalise = Literal["trajectories", "visits"]
Pairs = Literal["step", "pair"]
Signs = Literal["nonzero", "positive"]
Forward = Literal["next", "cumulative"]
ActionLabels = Literal["taken", "effect"]
ACTION_LABELS = ("taken", "effect")
POTENTIAL_SOURCES = ("secret", "secret_sparse", "uniform", "shuffled", "ideal", "ideal_negative", "oracle", "zero",
                     "custom")


class CreditRowsLike(Protocol):
    """What the shaping code reads from :class:`secretlab.credit.CreditRows` (R rows)."""

    traj: np.ndarray  # (R,) trajectory index
    step: np.ndarray  # (R,) step of the reward
    sign: np.ndarray  # (R,) true sign in {-1, 1}
    pred: np.ndarray  # (R,) predicted sign
    correct: np.ndarray  # (R,) bool
    attention: np.ndarray  # (R, T) α_{i←t}; 0 for i > t and on padding


# =============================================================================
# Credit -> potential (the algorithm)
# =============================================================================
def check_gamma(gamma: float) -> float:
    """Validate a discount factor: a number in [0, 1]."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
    return float(gamma)


def _check_rows(rows: CreditRowsLike, n: int, t: int) -> None:
    att = np.asarray(rows.attention)
    if att.ndim != 2 or att.shape[1] != t:
        raise ValueError(f"rows.attention must have shape (R, T={t}), got {att.shape}")
    r = att.shape[0]
    for name in ("traj", "step", "correct"):
        arr = np.asarray(getattr(rows, name))
        if arr.shape != (r,):
            raise ValueError(f"rows.{name} must have shape (R={r},), got {arr.shape}")
    if r and (np.asarray(rows.traj).min() < 0 or np.asarray(rows.traj).max() >= n):
        raise ValueError(f"rows.traj must index trajectories in [0, {n}), got range "
                         f"[{np.asarray(rows.traj).min()}, {np.asarray(rows.traj).max()}]")
    if r and (np.asarray(rows.step).min() < 0 or np.asarray(rows.step).max() >= t):
        raise ValueError(f"rows.step must be in [0, {t}), got range "
                         f"[{np.asarray(rows.step).min()}, {np.asarray(rows.step).max()}]")


def redistributed_return(
    rows: CreditRowsLike,
    rewards: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray | None = None,
    *,
    pairs: Pairs = "step",
    signs: Signs = "nonzero",
) -> np.ndarray:
    """Credit received by each (trajectory, step): (N, T) float64.

    ``rewards`` (N, T), ``states`` (N, T + 1) true-state keys (-1 on padding),
    ``rows`` R attention rows (only ``rows.correct`` ones count).
    ``pairs="step"``: c_τ[t] = Σ_i α_{t←i} r_i over correct rows i of τ.
    ``pairs="pair"``: the paper's literal R←_τ(s_t, a_t), i.e. c summed over every
    step of τ with the same (s_t, a_t); pairs are keyed on (s_t, a_t) when
    ``actions`` (N, T) is given, else on (s_t, s_{t+1}) (identical except for
    different moves into a wall that leave the agent in place).
    ``signs="nonzero"`` (paper) uses correct rows of both signs; ``"positive"``
    only correct +1 rows (an ablation: negative credit makes φ < 0, and a
    self-loop in a state with φ(s) < 0 earns F = (γ − 1)φ(s) > 0, see docs/shaping.md).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    states = np.asarray(states)
    if rewards.ndim != 2:
        raise ValueError(f"rewards must have shape (N, T), got {rewards.shape}")
    n, t = rewards.shape
    if states.shape != (n, t + 1):
        raise ValueError(f"states must have shape (N, T + 1) = {(n, t + 1)}, got {states.shape}")
    check_choice("pairs", pairs, ("step", "pair"))
    check_choice("signs", signs, ("nonzero", "positive"))
    _check_rows(rows, n, t)
    keep = np.asarray(rows.correct, dtype=bool)
    if signs == "positive":
        keep = keep & (np.asarray(rows.sign) > 0)
    traj = np.asarray(rows.traj, dtype=np.int64)[keep]
    step = np.asarray(rows.step, dtype=np.int64)[keep]
    weighted = np.asarray(rows.attention, dtype=np.float64)[keep] * rewards[traj, step][:, None]  # (R', T)
    credit = np.zeros((n, t), dtype=np.float64)
    np.add.at(credit, traj, weighted)
    if pairs == "step":
        return credit
    # Literal form: every step gets the total credit of its (trajectory, pair) group.
    second = states[:, 1:] if actions is None else np.asarray(actions)
    valid = (states[:, :-1] >= 0) & (second >= 0)
    ti, si = np.nonzero(valid)
    keys = np.stack([ti, states[:, :-1][ti, si], second[ti, si]], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    totals = np.bincount(group.ravel(), weights=credit[ti, si])
    out = np.zeros_like(credit)
    out[ti, si] = totals[group.ravel()]
    return out


def potential_from_credit(
    states: np.ndarray,
    rewards: np.ndarray,
    rows: CreditRowsLike,
    n_states: int,
    *,
    normalise: Normalise = "trajectories",
    terminal_states: np.ndarray | None = None,
    actions: np.ndarray | None = None,
    pairs: Pairs = "step",
    signs: Signs = "nonzero",
    forward: Forward = "next",
) -> np.ndarray:
    """φ̂ over the dense true-state keys [0, n_states): (n_states,) float64.

    ``states`` (N, T + 1) keys (-1 on padding), ``rewards`` (N, T), ``rows`` the
    attention rows of those N trajectories. Each step's credit goes to the state
    it led into, s_{t+1}. ``normalise="trajectories"`` (paper): divide by |D| = N.
    ``normalise="visits"``: divide each state's sum by how often it was reached
    (a per-visit mean; not the paper's estimator). Unseen states get 0, as do
    ``terminal_states`` (keys) if given. Generic over integer keys.

    ``forward="next"`` (paper): step t's credit goes to s_{t+1} only, so φ̂ is a
    *bump* on the states credited actions led into. ``forward="cumulative"`` (an
    extension, not the paper): every state s_{t+1} gets the credit accumulated
    by the trajectory up to and including step t, i.e. the credit "carried"
    into s; use it with ``normalise="visits"`` to get the mean carried credit, a
    data-driven step potential like :func:`oracle_potential` (see docs/shaping.md).
    """
    states = np.asarray(states)
    rewards = np.asarray(rewards)
    check_int("n_states", n_states, minimum=1)
    check_choice("normalise", normalise, ("trajectories", "visits"))
    if rewards.ndim != 2 or rewards.shape[0] == 0:
        raise ValueError(f"|D| must be >= 1: rewards must have shape (N >= 1, T), got {rewards.shape}")
    check_choice("forward", forward, ("next", "cumulative"))
    credit = redistributed_return(rows, rewards, states, actions, pairs=pairs, signs=signs)
    if forward == "cumulative":
        credit = np.cumsum(credit, axis=1)
    nxt = states[:, 1:]
    valid = nxt >= 0
    if valid.any() and nxt[valid].max() >= n_states:
        raise ValueError(f"states contain key {int(nxt[valid].max())} >= n_states={n_states}")
    phi = np.bincount(nxt[valid], weights=credit[valid], minlength=n_states)
    if normalise == "trajectories":
        phi /= rewards.shape[0]
    else:
        visits = np.bincount(nxt[valid], minlength=n_states)
        phi = np.divide(phi, visits, out=np.zeros_like(phi), where=visits > 0)
    if terminal_states is not None:
        phi[np.asarray(terminal_states, dtype=np.int64)] = 0.0
    return phi


def shaping_reward(
    phi_s: np.ndarray, phi_next: np.ndarray, terminated: np.ndarray, gamma: float, terminal_zero: bool = True
) -> np.ndarray:
    """F = γ φ(s') − φ(s), with φ(s') := 0 where ``terminated`` (if ``terminal_zero``). Shapes (B,)."""
    phi_next = np.where(np.asarray(terminated, bool), 0.0, phi_next) if terminal_zero else phi_next
    return gamma * np.asarray(phi_next, dtype=np.float64) - np.asarray(phi_s, dtype=np.float64)


# =============================================================================
# The potential object
# =============================================================================
def terminal_state_keys(env: TriggersConfig) -> np.ndarray:
    """Keys of the states with no prize left (where episodes terminate)."""
    n_bits = env.n_triggers + env.n_prizes
    keys = np.arange(env.n_states, dtype=np.int64)
    prize_bits = (keys & ((1 << n_bits) - 1)) >> env.n_triggers
    return keys[prize_bits == 0]


@dataclass
class MazeTable:
    """A shaping table for ONE maze (the fields :class:`Potential` and :class:`secretlab.advice.Advice` share)."""

    table: np.ndarray
    """φ or Φ per true-state key of ``env`` in ``layout``; its shape is ``table_shape``."""
    env: TriggersConfig
    """The maze distribution the keys belong to (size, triggers, prizes)."""
    layout: Layout
    """The maze the table was computed for."""
    gamma: float
    """Discount of the shaping γφ(s') − φ(s) (or γΦ(s', a') − Φ(s, a)): must be the agent's γ."""
    n_trajectories: int
    """|D|, the target trajectories used (0 for analytic potentials)."""
    source: str
    """Where it comes from: a credit source (secretlab.credit_controls), 'oracle', 'zero' or 'custom'."""

    kind = "table"
    """What the error messages call it."""

    @property
    def table_shape(self) -> tuple[int, ...]:
        return (self.env.n_states,)

    def __post_init__(self) -> None:
        self.gamma = check_gamma(self.gamma)
        self.table = check_table(self.table, self.table_shape, "(n_states" + ", 4" * (len(self.table_shape) > 1) + ")")
        if self.source not in POTENTIAL_SOURCES:
            raise ValueError(f"source must be one of {POTENTIAL_SOURCES}, got {self.source!r}")
        self.layout = Layout(*(np.asarray(x, dtype=np.int64) for x in self.layout))

    def _keys(self, states: np.ndarray) -> np.ndarray:
        states = np.asarray(states, dtype=np.int64)
        if states.size and (states.min() < 0 or states.max() >= self.env.n_states):
            raise ValueError(f"states must be keys in [0, {self.env.n_states}), got range "
                             f"[{states.min()}, {states.max()}]")
        return states

    def check_compatible(self, env_config: TriggersConfig, layout: Layout) -> None:
        """Raise ValueError unless ``env_config``/``layout`` is the maze this table was built for."""
        check_same_maze(self.kind, self.env, self.layout, env_config, layout)


@dataclass
class Potential(MazeTable):
    """A state potential φ(s) for ONE maze, with the shaping F = γφ(s') − φ(s) it induces."""

    terminal_zero: bool = True
    """φ(s') = 0 when the episode terminates (policy invariance); False = paper's literal F."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance (model hash, rows used, ...)."""

    kind = "potential"

    def __call__(self, states: np.ndarray) -> np.ndarray:
        """φ(s) for an array of keys (any shape); keys must lie in [0, n_states)."""
        return self.table[self._keys(states)]

    def shaping(self, s: np.ndarray, s_next: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        """F = γφ(s') − φ(s); φ(s') = 0 where ``terminated`` when ``terminal_zero``."""
        return shaping_reward(self(s), self(s_next), terminated, self.gamma, self.terminal_zero)

    def grid(self, triggers_alive: tuple[bool, ...] | None = None,
             prizes_alive: tuple[bool, ...] | None = None) -> np.ndarray:
        """φ as a (size, size) picture for one object configuration (default: all present)."""
        nT, nP = self.env.n_triggers, self.env.n_prizes
        ta = (True,) * nT if triggers_alive is None else tuple(triggers_alive)
        pa = (True,) * nP if prizes_alive is None else tuple(prizes_alive)
        bits = sum(int(b) << i for i, b in enumerate(ta + pa))
        cells = np.arange(self.env.size ** 2)
        return self.table[cells * (1 << (nT + nP)) + bits].reshape(self.env.size, self.env.size)


def check_table(table: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A float64 copy of a potential/advice table, checked for shape and finiteness."""
    table = np.asarray(table, dtype=np.float64)
    if table.shape != shape:
        raise ValueError(f"table must have shape {what} = {shape}, got {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError(f"table must be finite, got {int((~np.isfinite(table)).sum())} NaN/inf entries")
    return table


def check_same_maze(what: str, env: TriggersConfig, layout: Layout, env_config: TriggersConfig,
                    other: Layout) -> None:
    """ValueError unless ``env_config``/``other`` is the maze (``env``, ``layout``) a table was built for."""
    mine = (env.size, env.n_triggers, env.n_prizes)
    theirs = (env_config.size, env_config.n_triggers, env_config.n_prizes)
    if mine != theirs:
        raise ValueError(f"{what} was computed for size/n_triggers/n_prizes={mine}, cannot be applied to {theirs}")
    for name, a, b in zip(Layout._fields, layout, other):
        if not np.array_equal(a, np.asarray(b)):
            raise ValueError(f"{what} was computed for another maze: layout.{name} {np.asarray(a).tolist()} != "
                             f"{np.asarray(b).tolist()}; compute one for this maze")


def zero_potential(env: TriggersConfig, layout: Layout, gamma: float) -> Potential:
    """φ ≡ 0 (no shaping), handy to run plain agents through the same code path."""
    return Potential(np.zeros(env.n_states), env, layout, gamma, 0, "zero")


# =============================================================================
# Potentials for a target maze
# =============================================================================
def oracle_potential(env: TriggersConfig, layout: Layout, gamma: float, scale: float = 1.0) -> Potential:
    """Ground-truth reference: the credit a *perfect* SECRET would give, made dense.

    Construction: a perfect credit assigner splits every future +1 equally over
    the n_T trigger activations that enabled it (1/n_T each). So in a state
    where k of the n_T triggers are already active and p prizes are still
    present, the activations done so far own ``k/n_T · p`` of the reward still to
    come (if the agent goes on to collect every prize)::

        φ_oracle(s) = scale · (k(s) / n_T) · p(s)        (0 when n_T = 0)

    It depends only on the known triggers, not on distances (it is not V*), and
    is 0 at terminal states (p = 0). Unlike SECRET's φ̂ (credit only on states
    actually reached by an activation in D), it is defined on every state.
    """
    gamma = check_gamma(gamma)
    nT, nP = env.n_triggers, env.n_prizes
    keys = np.arange(env.n_states, dtype=np.int64)
    bits = keys & ((1 << (nT + nP)) - 1)
    triggers_alive = np.zeros(env.n_states, dtype=np.int64)
    for i in range(nT):
        triggers_alive += (bits >> i) & 1
    prizes_alive = np.zeros(env.n_states, dtype=np.int64)
    for j in range(nP):
        prizes_alive += (bits >> (nT + j)) & 1
    if nT == 0:
        table = np.zeros(env.n_states)
    else:
        table = scale * (nT - triggers_alive) / nT * prizes_alive
    return Potential(table, env, layout, gamma, 0, "oracle", meta={"construction": "k/n_T * prizes_left"})


def secret_potential(
    model: Any,
    env: TriggersConfig,
    maze_seed: int,
    n_trajectories: int,
    gamma: float,
    seed: int = 0,
    *,
    normalise: Normalise = "trajectories",
    pairs: Pairs = "step",
    signs: Signs = "nonzero",
    forward: Forward = "next",
    tolerance: int = 0,
    batch_size: int = 256,
    terminal_zero: bool = True,
    dataset: Any = None,
    action_labels: ActionLabels = "taken",
    credit: str = "secret",
    model_rows: Any = None,
) -> Potential:
    """φ̂ from SECRET's credit on ``n_trajectories`` random-policy episodes in one target maze.

    ``model`` is the frozen source-trained reward model (``TrainedModel.model``
    or a ``TrainedModel``). The episodes are the cached uniform-random dataset
    ``DatasetConfig(env, n_trajectories, seed, split="target",
    fixed_maze_seed=maze_seed)`` unless ``dataset`` is given (its first
    ``n_trajectories`` episodes are used, so nested |D| share data).
    ``action_labels="effect"`` (an extension, not the paper) feeds the model
    :func:`effect_actions` instead of the actions taken, for targets whose
    controls differ from the source's; states and rewards are unchanged. ``credit`` (``"secret"``: the model's
    attention) swaps the rows for a control's, e.g. ``"uniform"``: the same predictions, attention spread evenly.
    ``model_rows``: the model's rows on these episodes from :func:`labelled_credit_rows`, when several potentials
    share one inference (then ``action_labels``, ``tolerance`` and ``batch_size`` were applied there).

    Before collecting, a model with a ModelConfig must read ``env`` (crop shape, horizon: see
    ``ModelConfig.check_reads``). φ̂ ≡ 0 (no correct non-zero prediction) gives a RuntimeWarning.
    """
    from secretlab.credit_controls import CREDIT_SOURCES

    check_choice("credit", credit, CREDIT_SOURCES)
    gamma = check_gamma(gamma)
    dataset, rows = target_credit_rows(model, env, maze_seed, n_trajectories, seed, dataset, credit,
                                       action_labels=action_labels, model_rows=model_rows, batch_size=batch_size,
                                       tolerance=tolerance)
    potential = potential_from_rows(rows, dataset, env, int(maze_seed), gamma, normalise=normalise, pairs=pairs,
                                    signs=signs, forward=forward, terminal_zero=terminal_zero, source=credit)
    if not potential.table.any():  # a legitimate measurement, but one that shapes nothing: say so
        warnings.warn(f"secret_potential: maze_seed={int(maze_seed)}: no correct non-zero prediction was found "
                      f"({potential.meta['n_correct_rows']} of {potential.meta['n_rows']} rewards predicted "
                      f"correctly, signs={signs!r}): the potential is 0 everywhere", RuntimeWarning, stacklevel=2)
    return potential


def target_credit_rows(model: Any, env: TriggersConfig, maze_seed: int, n_trajectories: int, seed: int, dataset: Any,
                       source: str, *, action_labels: ActionLabels = "taken", model_rows: Any = None,
                       batch_size: int = 256, tolerance: int = 0, threshold: float = 0.2) -> tuple[Any, Any]:
    """One target maze's episodes and ``source``'s credit rows on them (for :func:`secret_potential` and
    ``secret_advice``), checked before anything is collected; ``model_rows`` skips the model's inference."""
    from secretlab.credit_controls import control_rows

    check_choice("action_labels", action_labels, ACTION_LABELS)
    check_model_reads(model, env)
    dataset = target_dataset(env, maze_seed, n_trajectories, seed, dataset)
    if model_rows is None:
        model_rows = labelled_credit_rows(model, env, dataset, action_labels, batch_size=batch_size,
                                          tolerance=tolerance)
    return dataset, control_rows(source, model_rows, dataset, seed=seed, threshold=threshold)


def check_model_reads(model: Any, env: TriggersConfig) -> None:
    """A reward model must read ``env``'s crops and horizon (``ModelConfig.check_reads``; stand-ins have no config)."""
    check_reads = getattr(getattr(getattr(model, "model", model), "config", None), "check_reads", None)
    if check_reads is not None:
        check_reads((len(CROP_CHANNELS), CROP, CROP), env.horizon, f"env {env}", N_ACTIONS - 1)


def labelled_credit_rows(model: Any, env: TriggersConfig, dataset: Any, action_labels: ActionLabels = "taken", *,
                         batch_size: int = 256, tolerance: int = 0) -> Any:
    """The frozen ``model``'s sorted credit rows on ``dataset``, fed the actions ``action_labels`` names (``"effect"``:
    :func:`effect_actions`). One inference for every potential and advice built from it (``model_rows``)."""
    from secretlab.credit import sorted_credit_rows  # imported here: they pull in torch

    check_choice("action_labels", action_labels, ACTION_LABELS)
    check_model_reads(model, env)
    seen = dataset if action_labels == "taken" else replace(dataset, actions=effect_actions(dataset))
    return sorted_credit_rows(model, seen, batch_size=batch_size, tolerance=tolerance)


def first_trajectories(rows: CreditRowsLike, dataset: Any, maze_seed: int,
                       n_trajectories: int | None) -> tuple[CreditRowsLike, int]:
    """The rows of the first ``n_trajectories`` episodes of a one-maze ``dataset`` (all: None), and that count
    (nested |D| reuse one inference: the smaller D is a prefix of the larger one)."""
    seeds = np.asarray(dataset.maze_seeds)
    if not np.all(seeds == maze_seed):
        raise ValueError(f"dataset must come from the single maze maze_seed={maze_seed}, "
                         f"got maze seeds {np.unique(seeds)[:5].tolist()}")
    n = dataset.n if n_trajectories is None else int(
        check_int("n_trajectories (|D|)", n_trajectories, minimum=1, maximum=dataset.n))
    if n < dataset.n:
        from secretlab.credit import CreditRows

        keep = np.asarray(rows.traj) < n
        rows = CreditRows(*(np.asarray(getattr(rows, f))[keep] for f in CreditRows.__dataclass_fields__))
    return rows, n


def check_agent_gamma(what: str, built: float, agent: float) -> None:
    """ValueError unless a table built for discount ``built`` is used by an agent with the same ``agent`` γ."""
    if not np.isclose(float(built), check_gamma(agent), rtol=0, atol=1e-12):
        raise ValueError(f"{what} was built for gamma={built}, but the agent uses gamma={agent}: shaping with "
                         f"another discount is not potential-based; rebuild it with gamma={agent}")


def potential_from_rows(rows: CreditRowsLike, dataset: Any, env: TriggersConfig, maze_seed: int, gamma: float,
                        *, normalise: Normalise = "trajectories", pairs: Pairs = "step",
                        signs: Signs = "nonzero", forward: Forward = "next", terminal_zero: bool = True,
                        n_trajectories: int | None = None, source: str = "secret") -> Potential:
    """:class:`Potential` from already computed credit rows of a one-maze ``dataset``.

    With ``n_trajectories`` only the rows and episodes of the first
    ``n_trajectories`` trajectories are used (nested |D| without re-inference).
    """
    layout = sample_layout(env, int(check_int("maze_seed", maze_seed, minimum=0)))
    rows, n = first_trajectories(rows, dataset, maze_seed, n_trajectories)
    table = potential_from_credit(dataset.states[:n], dataset.rewards[:n], rows, env.n_states,
                                  normalise=normalise, actions=dataset.actions[:n], pairs=pairs, signs=signs,
                                  forward=forward)
    n_rows = int(len(rows.correct))
    return Potential(table, env, layout, gamma, n, source, terminal_zero,
                     meta={"maze_seed": int(maze_seed), "normalise": normalise, "pairs": pairs, "signs": signs, "forward": forward,
                           "n_rows": n_rows, "n_correct_rows": int(np.sum(rows.correct)),
                           "n_correct_positive_rows": int(np.sum(np.asarray(rows.correct) & (np.asarray(rows.sign) > 0)))})
