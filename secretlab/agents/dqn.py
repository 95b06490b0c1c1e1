"""Seed-batched DQN (Mnih et al., 2015) for the inverted-dynamics transfer (paper Fig. 6, App. A.3).

CleanRL-style: :class:`DQNConfig` holds the hyperparameters, the ALGORITHM
section is the DQN itself, the PLUMBING section is replay storage, the batched
training loop and evaluation. The network and its seed-batched form are in
:mod:`secretlab.agents.dqn_networks`, the Stable-Baselines3 bridge in
:mod:`secretlab.agents.sb3_dqn` (which imports this module; the network names are re-exported here).

Seed batching. All ``S`` networks of a run (seeds, and possibly several arms)
live in ONE set of stacked parameters of shape ``(S, ...)``; :func:`batched_forward`
runs the single-seed :class:`QNetwork` for all of them at once (one grouped
convolution per layer, one batched matmul per dense layer). The loss is
the SUM over networks of each network's own mean TD loss, so every network's
gradient is exactly its independent gradient, and RMSProp's state is
element-wise, hence per network: one batched step == ``S`` independent steps
(``tests/test_dqn.py`` checks this). Each network drives its own sub-env of a
:class:`~secretlab.envs.BatchedTriggers` and samples its own replay buffer.

Choices the paper leaves open (see ``docs/dqn.md``): ``padding=1`` on every
conv (8×8 → 4×4 → 4×4 → 4×4, so the FC layer reads 16·4·4 = 256 features; without
padding an 8×8 grid would vanish after the second conv), Huber loss, batch 32,
γ = 0.99, one update every 4 environment steps, plain RMSProp with torch's defaults
(α = 0.99, ε = 1e-8; Dopamine's centered variant collapsed Q to a constant here),
no gradient clipping, truncation (``max_steps``) is
bootstrapped through, termination is not.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

# The network and its seed-batched form live in dqn_networks; re-exported here, the one DQN entry point.
from secretlab.agents.dqn_networks import (  # noqa: F401
    OBSERVATIONS, QNetwork, SeedBatchedQ, batched_forward, check_compatible, feature_size, fresh_networks, input_side,
    load_stacked,
    networks_from_stacked, save_stacked,
)
from secretlab.determinism import torch_threads
from secretlab.envs.batched import BatchedTriggers
from secretlab.envs.triggers import N_ACTIONS, TriggersConfig
from secretlab.progress import progress_bar
from secretlab.shaping import check_agent_gamma
from secretlab.validation import check_choice, check_int


@dataclass(frozen=True)
class DQNConfig:
    """DQN hyperparameters; the defaults are the paper's schedule (App. A.3)."""

    total_steps: int = 1_000_000
    """Environment steps per network (per seed)."""
    learning_rate: float = 2.5e-4
    """RMSProp base learning rate (paper: 0.00025)."""
    rmsprop_alpha: float = 0.99
    """RMSProp smoothing of the squared gradient (torch default; the paper does not say)."""
    rmsprop_eps: float = 1e-8
    """RMSProp epsilon added to sqrt(v) (torch default; the paper does not say)."""
    rmsprop_centered: bool = False
    """Centered RMSProp (Dopamine's variant). Off: with it Q collapsed to a constant in our runs (docs/dqn.md)."""
    buffer_size: int = 1_000_000
    """Replay capacity per network (paper: 1e6); capped at ``total_steps``."""
    gamma: float = 0.99
    """Discount factor (not given by the paper); also the shaping potential's γ."""
    target_update_interval: int = 2000
    """Environment steps between target-network syncs (paper: 2,000)."""
    batch_size: int = 32
    """Transitions per network per gradient step (not given; Nature DQN's 32)."""
    train_frequency: int = 4
    """Environment steps between gradient steps (not given; Nature DQN's 4)."""
    learning_starts: int = 5000
    """Random-policy transitions that prefill the replay before learning (paper: 5,000)."""
    start_e: float = 1.0
    """Initial exploration ε."""
    end_e: float = 0.01
    """Final exploration ε (paper: 0.01)."""
    exploration_steps: int = 250_000
    """Steps over which ε decays linearly from ``start_e`` to ``end_e`` (paper: 250k)."""
    test_e: float = 0.001
    """ε of evaluation episodes (paper: 0.001)."""
    huber_delta: float = 1.0
    """Huber (smooth-L1) loss threshold on the TD error."""
    observation: str = "grid"
    """What the network reads: "grid" (the paper's full grid) or "egocentric" (it re-centred on the agent)."""

    def __post_init__(self) -> None:
        for name in ("total_steps", "buffer_size", "target_update_interval", "batch_size", "train_frequency",
                     "exploration_steps"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("learning_starts", self.learning_starts, minimum=0)
        for name in ("start_e", "end_e", "test_e"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {self.gamma!r}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        check_choice("observation", self.observation, OBSERVATIONS)


# =====================================================================================
# ALGORITHM: ε schedule and TD update (the Q-network: secretlab.agents.dqn_networks)
# =====================================================================================


def linear_schedule(start_e: float, end_e: float, duration: int, step: int | np.ndarray) -> float | np.ndarray:
    """ε at ``step``: linear from ``start_e`` (step 0) to ``end_e`` (step ``duration``), then flat."""
    slope = (end_e - start_e) / duration
    return np.maximum(slope * np.asarray(step, dtype=np.float64) + start_e, end_e) if end_e <= start_e \
        else np.minimum(slope * np.asarray(step, dtype=np.float64) + start_e, end_e)


def td_loss(q_online: torch.Tensor, q_target_next: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
            terminated: torch.Tensor, gamma: float, huber_delta: float) -> torch.Tensor:
    """Sum over networks of each network's mean Huber TD loss.

    Shapes: ``q_online`` and ``q_target_next`` (S, B, A); ``actions`` (S, B) int64;
    ``rewards`` (S, B) float; ``terminated`` (S, B) bool. Returns a scalar. Summing the
    per-network means keeps each network's gradient equal to its independent one.
    """
    q_taken = q_online.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():
        target = rewards + gamma * q_target_next.max(-1).values * (~terminated).float()
    per_sample = F.huber_loss(q_taken, target, reduction="none", delta=huber_delta)
    return per_sample.mean(-1).sum()



# =====================================================================================
# PLUMBING: replay, batched training loop, evaluation, checkpoints
# =====================================================================================


class ReplayBuffers:
    """One preallocated replay buffer per network, all filled in lock-step.

    Tensors: ``obs`` / ``next_obs`` (S, capacity, 3, side, side) uint8 (``side``: the network's input,
    :func:`input_side`); ``actions``
    (S, capacity) int64; ``rewards`` (S, capacity) float32 (the TRAINING reward,
    shaped if the network is shaped); ``terminated`` (S, capacity) bool. With
    ``state_keys=True`` also ``states`` / ``next_states`` (S, capacity) int64, the
    true-state keys that advice Φ(s, ·) is looked up by.
    """

    def __init__(self, n_networks: int, capacity: int, side: int, state_keys: bool = False) -> None:
        shape = (n_networks, capacity, 3, side, side)
        self.obs = torch.zeros(shape, dtype=torch.uint8)
        self.next_obs = torch.zeros(shape, dtype=torch.uint8)
        self.actions = torch.zeros((n_networks, capacity), dtype=torch.int64)
        self.rewards = torch.zeros((n_networks, capacity), dtype=torch.float32)
        self.terminated = torch.zeros((n_networks, capacity), dtype=torch.bool)
        keys_shape = (n_networks, capacity) if state_keys else (n_networks, 0)
        self.states = torch.zeros(keys_shape, dtype=torch.int64)
        self.next_states = torch.zeros(keys_shape, dtype=torch.int64)
        self.state_keys = bool(state_keys)
        self.capacity, self.pos, self.size = capacity, 0, 0
        self._offsets = torch.arange(n_networks)[:, None] * capacity  # row i starts at i·capacity

    def add(self, obs, actions, rewards, next_obs, terminated, states=None, next_states=None) -> None:
        """Store one transition per network; arrays or tensors with leading shape (S,).

        ``states`` / ``next_states``: the true-state keys, required with ``state_keys=True``."""
        p = self.pos
        self.obs[:, p] = torch.as_tensor(obs)
        self.next_obs[:, p] = torch.as_tensor(next_obs)
        self.actions[:, p] = torch.as_tensor(actions)
        self.rewards[:, p] = torch.as_tensor(rewards)
        self.terminated[:, p] = torch.as_tensor(terminated)
        if self.state_keys:
            self.states[:, p] = torch.as_tensor(states)
            self.next_states[:, p] = torch.as_tensor(next_states)
        self.pos = (p + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
        """Independent uniform indices per network: tensors with leading shape (S, batch_size).

        Returns (obs, actions, rewards, next_obs, terminated), then (states, next_states) with
        ``state_keys=True``. One flat gather per array: network i's index j becomes ``i·capacity + j``.
        """
        n = self._offsets.shape[0]
        idx = (torch.randint(0, self.size, (n, batch_size), generator=generator) + self._offsets).view(-1)

        def take(x: torch.Tensor) -> torch.Tensor:
            return x.flatten(0, 1).index_select(0, idx).view(n, batch_size, *x.shape[2:])

        keys = (take(self.states), take(self.next_states)) if self.state_keys else ()
        return take(self.obs), take(self.actions), take(self.rewards), take(self.next_obs), take(self.terminated), \
            *keys


def make_optimizer(q: SeedBatchedQ, cfg: DQNConfig) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(list(q.params.values()), lr=cfg.learning_rate, alpha=cfg.rmsprop_alpha,
                               eps=cfg.rmsprop_eps, centered=cfg.rmsprop_centered)


def update_step(q: SeedBatchedQ, target_params: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                batch: tuple[torch.Tensor, ...], cfg: DQNConfig, advice: StackedAdvice | None = None) -> float:
    """One gradient step for every network on its own batch; returns the summed loss.

    With ``advice`` (``batch`` then ends with the state keys) the Q-function is ``net + Φ``, in the
    online value of the action taken and in the target network's value at s' alike."""
    obs, actions, rewards, next_obs, terminated, *keys = batch
    q_now = q(obs)
    with torch.no_grad():
        q_next = q(next_obs, target_params)
    if advice is not None:
        q_now, q_next = q_now + advice(keys[0]), q_next + advice(keys[1])
    loss = td_loss(q_now, q_next, actions.to(q.device), rewards.to(q.device), terminated.to(q.device),
                   cfg.gamma, cfg.huber_delta)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


class StackedShaping:
    """Every network's :meth:`Potential.shaping` in one vectorised call.

    Stacks the (n_states,) tables into (S, n_states) (zeros for unshaped networks) so
    the batched loop pays one gather per step instead of S Python calls; the result
    equals ``potentials[i].shaping(s[i], s_next[i], terminated[i])`` row by row
    (``tests/test_dqn.py``).
    """

    def __init__(self, potentials: Sequence[Any], env_config: TriggersConfig, maze_seeds: np.ndarray,
                 gamma: float) -> None:
        S = len(maze_seeds)
        if len(potentials) != S:
            raise ValueError(f"potentials must hold one Potential (or None) per network ({S}), got {len(potentials)}")
        self.tables = np.zeros((S, env_config.n_states), np.float64)
        self.terminal_zero = np.ones(S, bool)
        self.gamma = float(gamma)
        for i, pot in enumerate(potentials):
            if pot is None:
                continue
            _check_maze_table("potential", i, pot, env_config, maze_seeds, gamma)
            self.tables[i] = pot.table
            self.terminal_zero[i] = pot.terminal_zero
        self._rows = np.arange(S)

    def __call__(self, s: np.ndarray, s_next: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        """F (S,) for state keys ``s``, ``s_next`` (S,) and ``terminated`` (S,) bool."""
        phi_next = np.where(terminated & self.terminal_zero, 0.0, self.tables[self._rows, s_next])
        return self.gamma * phi_next - self.tables[self._rows, s]


class StackedAdvice:
    """Every network's look-ahead advice Φ(s, ·) (:class:`secretlab.advice.Advice`) as one table.

    ``tables`` (S, n_states, 4) float32, zeros for networks without advice; ``advice(keys)`` maps
    true-state keys (S, B) to Φ (S, B, 4), network i's row from its own table. An advised network
    acts on and learns ``q(s, ·) = net(s) + Φ(s, ·)`` from the plain reward: the hook of
    :mod:`secretlab.advice` (the seed-batched twin of :class:`secretlab.agents.sb3_advice.AdvisedDQNPolicy`).
    """

    def __init__(self, advice: Sequence[Any], env_config: TriggersConfig, maze_seeds: np.ndarray,
                 gamma: float | None) -> None:
        S = len(maze_seeds)
        if len(advice) != S:
            raise ValueError(f"advice must hold one Advice (or None) per network ({S}), got {len(advice)}")
        self.tables = torch.zeros((S, env_config.n_states, N_ACTIONS), dtype=torch.float32)
        for i, adv in enumerate(advice):
            if adv is None:
                continue
            _check_maze_table("advice", i, adv, env_config, maze_seeds, gamma)
            if np.shape(adv.table) != (env_config.n_states, N_ACTIONS):
                raise ValueError(f"advice {i} must be a state-action table of shape ({env_config.n_states}, "
                                 f"{N_ACTIONS}), got {np.shape(adv.table)}")
            self.tables[i] = torch.as_tensor(adv.table, dtype=torch.float32)
        self._rows = torch.arange(S)[:, None]

    def __call__(self, keys: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Φ (S, B, 4) for true-state keys (S, B)."""
        return self.tables[self._rows, torch.as_tensor(keys, dtype=torch.int64)]


def _check_maze_table(kind: str, i: int, table: Any, env_config: TriggersConfig, maze_seeds: np.ndarray,
                      gamma: float | None) -> None:
    """A potential or advice of network ``i`` must belong to its one maze and use the DQN's γ (None: not checked)."""
    from secretlab.envs.triggers import sample_layout

    if maze_seeds.shape[1] != 1:
        raise ValueError(f"a network with {kind} needs one fixed maze (maze_seeds of shape (S, 1)): "
                         f"a {kind} table belongs to one maze")
    table.check_compatible(env_config, sample_layout(env_config, int(maze_seeds[i, 0])))
    if gamma is not None:
        check_agent_gamma(f"{kind} {i}", table.gamma, gamma)


def _stacked_advice(advice: Sequence[Any] | None, potentials: Sequence[Any] | None, env_config: TriggersConfig,
                    maze_seeds: np.ndarray, gamma: float | None) -> StackedAdvice | None:
    if advice is None or all(a is None for a in advice):
        return None
    both = [i for i, a in enumerate(advice) if a is not None and potentials is not None
            and i < len(potentials) and potentials[i] is not None]
    if both:
        raise ValueError(f"networks {both} have both a potential and advice: give each network one kind of shaping")
    return StackedAdvice(advice, env_config, maze_seeds, gamma)


@dataclass
class DQNRun:
    """What :func:`train_dqn` returns. Episode arrays are flat, one entry per finished episode."""

    q: SeedBatchedQ
    """The trained networks."""
    episode_network: np.ndarray
    """(E,) int: which network ran the episode."""
    episode_end_step: np.ndarray
    """(E,) int: the network's environment-step count when the episode ended."""
    episode_return: np.ndarray
    """(E,) float: undiscounted ENVIRONMENT return (shaping excluded)."""
    episode_success: np.ndarray
    """(E,) bool: every prize collected with +1 (return == n_prizes)."""
    episode_length: np.ndarray
    """(E,) int: steps in the episode."""
    seconds: float
    """Wall-clock training time."""
    config: DQNConfig


def train_dqn(env_config: TriggersConfig, cfg: DQNConfig, networks: Sequence[QNetwork],
              maze_seeds: np.ndarray, potentials: Sequence[Any] | None = None, seed: int = 0,
              device: str | torch.device = "cpu", threads: int | None = 1,
              advice: Sequence[Any] | None = None) -> DQNRun:
    """Train ``S = len(networks)`` DQNs together, network ``i`` in its own sub-env.

    ``maze_seeds`` (S, K): network ``i`` starts every episode in a maze drawn uniformly
    from ``maze_seeds[i]`` (K = 1: one fixed target maze). ``potentials``: None, or one
    :class:`secretlab.shaping.Potential` (or None = unshaped) per network; a shaped
    network learns from ``r + F`` with ``F = Potential.shaping(s, s', terminated)``
    on the true-state keys of :class:`BatchedTriggers` (its potential must belong to
    its one maze and use ``cfg.gamma``). ``advice``: None, or one
    :class:`secretlab.advice.Advice` (or None) per network; an advised network acts on and learns
    ``net(s) + Φ(s, ·)`` from the plain reward (:class:`StackedAdvice`; a network takes a potential or
    advice, not both). Logged returns are environment returns.
    ``seed`` drives exploration
    and replay sampling; the same inputs give the same run on CPU. ``threads``: torch
    intra-op threads during training (see :func:`torch_threads`).
    """
    with torch_threads(threads):
        return _train_dqn(env_config, cfg, networks, maze_seeds, potentials, seed, device, advice)


def _train_dqn(env_config: TriggersConfig, cfg: DQNConfig, networks: Sequence[QNetwork],
               maze_seeds: np.ndarray, potentials: Sequence[Any] | None, seed: int,
               device: str | torch.device, advice: Sequence[Any] | None) -> DQNRun:
    S = len(networks)
    maze_seeds = np.asarray(maze_seeds, dtype=np.int64)
    if maze_seeds.ndim != 2 or maze_seeds.shape[0] != S:
        raise ValueError(f"maze_seeds must have shape (n_networks={S}, K), got {maze_seeds.shape}")
    if networks[0].grid_size != env_config.size:
        raise ValueError(f"networks are built for {networks[0].grid_size}×{networks[0].grid_size} grids but "
                         f"env_config.size={env_config.size}")
    if networks[0].observation != cfg.observation:
        raise ValueError(f"networks read the {networks[0].observation!r} view but cfg.observation="
                         f"{cfg.observation!r}: build them with fresh_networks(..., observation=cfg.observation)")
    shaping = None if potentials is None else StackedShaping(potentials, env_config, maze_seeds, cfg.gamma)
    advised = _stacked_advice(advice, potentials, env_config, maze_seeds, cfg.gamma)
    rng = np.random.default_rng(seed)
    q = SeedBatchedQ(networks, device)
    target_params = q.detached_copy()
    optimizer = make_optimizer(q, cfg)
    buffers = ReplayBuffers(S, min(cfg.buffer_size, cfg.total_steps), input_side(env_config.size, cfg.observation),
                            state_keys=advised is not None)
    env = BatchedTriggers(env_config, S, obs_mode=cfg.observation)

    def draw_mazes(mask: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(mask)
        return maze_seeds[rows, rng.integers(0, maze_seeds.shape[1], size=len(rows))]

    all_envs = np.ones(S, bool)
    obs = env.reset(seeds=draw_mazes(all_envs))
    ep_return = np.zeros(S, np.float64)
    log: list[tuple[np.ndarray, ...]] = []
    replay_rng = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    bar = progress_bar(cfg.total_steps, f"train {S} DQN(s)", "step", enabled=False)  # reports only inside a job
    for step in range(cfg.total_steps):
        bar.update(1)
        # --- act: ε-greedy, one batched forward for every network
        state_before = env.state if shaping is not None or advised is not None else None  # keys before the step
        if step < cfg.learning_starts:
            actions = rng.integers(0, N_ACTIONS, size=S)
        else:
            epsilon = float(linear_schedule(cfg.start_e, cfg.end_e, cfg.exploration_steps, step))
            greedy = _greedy(q, obs, advised, state_before)
            explore = rng.random(S) < epsilon
            actions = np.where(explore, rng.integers(0, N_ACTIONS, size=S), greedy)
        out = env.step(actions)
        train_reward = out.reward
        if shaping is not None:  # potential-based shaping (Ng et al., 1999)
            train_reward = (out.reward + shaping(state_before, out.state, out.terminated)).astype(np.float32)
        buffers.add(obs, actions, train_reward, out.obs, out.terminated, state_before, out.state)
        ep_return += out.reward
        done = out.terminated | out.truncated
        obs = out.obs
        if done.any():
            idx = np.flatnonzero(done)
            log.append((idx, np.full(len(idx), step + 1), ep_return[idx].copy(), env.t[idx].copy()))
            ep_return[idx] = 0.0
            obs = env.reset(seeds=draw_mazes(done), mask=done)
        # --- learn
        if step >= cfg.learning_starts and step % cfg.train_frequency == 0:
            update_step(q, target_params, optimizer, buffers.sample(cfg.batch_size, replay_rng), cfg, advised)
        if (step + 1) % cfg.target_update_interval == 0:
            target_params = q.detached_copy()
    bar.close()
    seconds = time.perf_counter() - started
    cat = (lambda j, dtype: np.concatenate([e[j] for e in log]).astype(dtype) if log else np.zeros(0, dtype))
    returns = cat(2, np.float64)
    return DQNRun(q, cat(0, np.int64), cat(1, np.int64), returns,
                  returns >= env_config.n_prizes - 1e-9, cat(3, np.int64), seconds, cfg)


def _greedy(q: SeedBatchedQ, obs: np.ndarray, advice: StackedAdvice | None, states: np.ndarray | None
            ) -> np.ndarray:
    """(S,) greedy actions of ``net(obs) (+ Φ(state, ·) where advised)``, one batched forward."""
    with torch.inference_mode():
        values = q(torch.from_numpy(obs)[:, None])[:, 0]
        if advice is not None:
            values = values + advice(states[:, None])[:, 0]
        return values.argmax(-1).cpu().numpy()


def evaluate(q: SeedBatchedQ, env_config: TriggersConfig, maze_seeds: np.ndarray, epsilon: float = 0.001,
             n_episodes: int = 1, seed: int = 0, threads: int | None = 1,
             advice: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
    """Run ``n_episodes`` ε-greedy episodes per network in its maze ``maze_seeds[i]`` (shape (S,)).

    ``advice``: as in :func:`train_dqn` (an advised network acts greedily on ``net + Φ``, the policy it
    learned). Returns ``"return"``, ``"success"`` and ``"all_triggers"`` (every trigger activated during the
    episode, whatever happened next), each (S, n_episodes). ``threads``: see :func:`torch_threads`.
    """
    with torch_threads(threads):
        return _evaluate(q, env_config, maze_seeds, epsilon, n_episodes, seed, advice)


def _evaluate(q: SeedBatchedQ, env_config: TriggersConfig, maze_seeds: np.ndarray, epsilon: float,
              n_episodes: int, seed: int, advice: Sequence[Any] | None) -> dict[str, np.ndarray]:
    S = q.n_networks
    maze_seeds = np.asarray(maze_seeds, dtype=np.int64).reshape(S)
    advised = _stacked_advice(advice, None, env_config, maze_seeds[:, None], None)  # γ: the training's
    rng = np.random.default_rng(seed)
    env = BatchedTriggers(env_config, S, obs_mode=q.observation)
    returns = np.zeros((S, n_episodes))
    activations = np.zeros((S, n_episodes), np.int64)
    for e in range(n_episodes):
        obs = env.reset(seeds=maze_seeds)
        alive = np.ones(S, bool)
        while alive.any():
            greedy = _greedy(q, obs, advised, env.state if advised is not None else None)
            actions = np.where(rng.random(S) < epsilon, rng.integers(0, N_ACTIONS, size=S), greedy)
            out = env.step(actions)
            returns[alive, e] += out.reward[alive]
            activations[alive, e] += out.activated[alive]
            alive &= ~(out.terminated | out.truncated)
            obs = out.obs
    return {"return": returns, "success": returns >= env_config.n_prizes - 1e-9,
            "all_triggers": activations >= env_config.n_triggers}


def scaled(cfg: DQNConfig, **changes: Any) -> DQNConfig:
    """A copy of ``cfg`` with ``changes`` (profiles scale the paper's schedule down)."""
    return replace(cfg, **changes)
