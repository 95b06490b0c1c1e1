"""SECRET on the keys/doors puzzle (paper §3 DMLab, Fig. 3 right, Fig. 4 right, Fig. 8): the analyses.

DeepMind Lab cannot be built here; :mod:`secretlab.envs.keys_doors` (a Farama
MiniGrid puzzle) stands in for DMLab's ``keys_doors_puzzle``. The pipeline
follows App. A.4, each stage in its layer:

1. :func:`secretlab.agents.ppo.load_or_train_source_agent` — a PPO agent
   (Stable-Baselines3) trained on the random maze distribution (random policies
   rarely reach reward).
2. :func:`secretlab.data.keys_doors.load_or_collect` — trajectories of that agent
   (sampled actions) into a :class:`~secretlab.data.keys_doors.KeysDoorsDataset`.
3. The reward model with the two-conv (16, 16) encoder (App. A.1):
   :func:`reward_model_config` + :func:`secretlab.checkpoints.load_or_train`.
4. Credit: :func:`secretlab.credit.credit_rows` with ``tolerance=5`` (a positive
   prediction within 5 frames of a real reward counts, App. A.4);
   :func:`attention_around_pickups` (Fig. 3 right) and :func:`attention_heatmap` (Fig. 8).
5. :func:`secret_potential` on a fixed target maze (true-state keyed, φ(s) via
   :func:`secretlab.shaping.potential_from_credit`), then :func:`compare_ppo`:
   PPO with and without :class:`secretlab.wrappers.ShapingWrapper` on that maze (Fig. 4 right).

Every expensive stage is cached through :mod:`secretlab.cache` under a hash of
its configuration and verified on load.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from secretlab import stats
from secretlab.agents.ppo import PPOConfig, agent_identity, load_or_train_source_agent, train_on_fixed_maze
from secretlab.cache import cached_npz
from secretlab.data.keys_doors import (MODEL_OBJECTS, CollectConfig, KeysDoorsDataset, load_or_collect,
                                       n_model_channels, target_maze_seed)
from secretlab.envs.keys_doors import N_ACTIONS, RULES_VERSION, VIEW, KeysDoorsConfig, decode_state, encode_state
from secretlab.model import batched_forward
from secretlab.seeds import derive_seed
from secretlab.stats import finite_or_none
from secretlab.validation import check_int

#: The two arms of Figure 4 (right).
ARMS = ("ppo", "ppo_secret")


def reward_model_config(env_config: KeysDoorsConfig, **changes: Any):
    """The paper's DMLab model (App. A.1): two conv layers of 16 filters, else as Triggers."""
    from secretlab.model import ModelConfig

    base = {"obs_shape": (n_model_channels(env_config.n_colors), VIEW, VIEW), "n_actions": N_ACTIONS,
            "conv_channels": (16, 16), "obs_scale": 1.0, "max_len": max(512, env_config.horizon)}
    return ModelConfig(**{**base, **changes})


def door_rows(rows, dataset: KeysDoorsDataset):
    """The correct positive rows whose reward is a door opening (not the goal)."""
    good = rows.correct_positive
    keep = dataset.opened[good.traj, good.step] >= 0
    return good.select(keep)


def matching_pickup_step(dataset: KeysDoorsDataset, traj: int, step: int) -> int:
    """Step of the pickup of the key used to open the door at (traj, step): the last pickup before it."""
    picks = np.flatnonzero(dataset.picked[traj, :step] >= 0)
    return int(picks[-1]) if len(picks) else -1


def attention_around_pickups(rows, dataset: KeysDoorsDataset, max_offset: int = 10,
                             window: int = 2) -> dict[str, Any]:
    """Figure 3 (right): attention of correct door-opening predictions vs offset to the key pickup.

    For each correct +1 row at a door opening (step t) with its key pickup at
    step p, the attention α_{i←t} at offsets i − p in [-max_offset, max_offset].
    Returns ``offsets`` (2·max_offset+1,), ``mean`` (same) mean attention per
    offset over rows, ``share_near`` the mean over rows of the attention mass
    within ±``window`` steps of the pickup, ``share_near_uniform`` the same for
    a uniform attention over 0..t (the chance level), ``n_rows``, and
    ``share_on_door_step`` (mass on the opening step itself).
    """
    doors = door_rows(rows, dataset)
    offsets = np.arange(-max_offset, max_offset + 1)
    values, near, near_uniform, on_self = [], [], [], []
    for r in range(len(doors)):
        traj, t = int(doors.traj[r]), int(doors.step[r])
        p = matching_pickup_step(dataset, traj, t)
        if p < 0:
            continue
        att = doors.attention[r, : t + 1].astype(np.float64)
        pos = p + offsets
        ok = (pos >= 0) & (pos <= t)
        v = np.zeros(len(offsets))
        v[ok] = att[pos[ok]]
        values.append(v)
        lo, hi = max(0, p - window), min(t, p + window)
        near.append(att[lo:hi + 1].sum())
        near_uniform.append((hi - lo + 1) / (t + 1))
        on_self.append(att[t])
    n = len(values)
    return {
        "offsets": offsets,
        "mean": np.mean(values, axis=0) if n else np.zeros(len(offsets)),
        "share_near": float(np.mean(near)) if n else float("nan"),
        "share_near_uniform": float(np.mean(near_uniform)) if n else float("nan"),
        "share_on_door_step": float(np.mean(on_self)) if n else float("nan"),
        "n_rows": n,
    }


def attention_heatmap(rows, dataset: KeysDoorsDataset, door: int = 0) -> tuple[np.ndarray, int]:
    """Figure 8: per-cell average attention of correct predictions of opening ``door``.

    Attention α_{i←t} is put on the agent's cell at step i (where it stood when
    acting), summed per cell and divided by the number of rows. Meant for a
    fixed-maze dataset. Returns ((height, width) array, NaN on cells never
    attended; number of rows).
    """
    doors = door_rows(rows, dataset)
    doors = doors.select(dataset.opened[doors.traj, doors.step] == door)
    H = dataset.config.env.height
    W = dataset.config.env.width
    total = np.zeros((H, W))
    seen = np.zeros((H, W), bool)
    for r in range(len(doors)):
        traj, t = int(doors.traj[r]), int(doors.step[r])
        xy = dataset.agent_xy[traj, : t + 1]
        np.add.at(total, (xy[:, 1], xy[:, 0]), doors.attention[r, : t + 1])
        seen[xy[:, 1], xy[:, 0]] = True
    n = len(doors)
    return np.where(seen, total / max(n, 1), np.nan), n


def positive_probabilities(model, dataset: KeysDoorsDataset, batch_size: int = 128) -> np.ndarray:
    """(N, T) the model's P(sign = +1) at every step (0 beyond each batch's longest episode)."""
    p_pos = np.zeros(dataset.actions.shape, np.float32)
    for idx, L, logits, _ in batched_forward(model, dataset, batch_size):
        p_pos[idx, :L] = torch.softmax(logits, -1)[..., 2].cpu().numpy()
    return p_pos


def door_discrimination(model, dataset: KeysDoorsDataset, batch_size: int = 128) -> dict[str, float]:
    """Did the model learn the key–door relation? Its P(sign = +1) at two kinds of toggles facing a locked door.

    ``p_open``: mean P(+1) at the steps that opened a door (right key held);
    ``p_wrong_key``: mean P(+1) at toggles facing a locked door while holding a
    key of another colour (reward 0). Both are decided by which key was picked
    earlier, which the current view does not show. Also the counts of each.
    """
    env = dataset.config.env
    p_pos = positive_probabilities(model, dataset, batch_size)
    states = dataset.states[:, :-1]
    carrying = np.full(states.shape, -2, np.int64)
    real = states >= 0
    carrying[real] = [decode_state(int(k), env)["carrying"] for k in states[real]]
    door_channel = MODEL_OBJECTS.index(4)
    facing_door = dataset.obs[:, :, door_channel, VIEW - 2, VIEW // 2] == 1  # the cell in front of the agent
    door_colour = dataset.door_colour[:, :1]  # keys in room 0 belong to door 0
    opened = (dataset.opened >= 0) & dataset.mask
    wrong = (dataset.actions == 4) & facing_door & (carrying >= 0) & (carrying != door_colour) & dataset.mask & \
        ((dataset.states[:, :-1] >= 0))
    wrong &= np.array([[decode_state(int(k), env)["doors_opened"] == 0 if k >= 0 else False for k in row]
                       for row in states])
    return {"p_open": float(p_pos[opened].mean()) if opened.any() else float("nan"),
            "p_wrong_key": float(p_pos[wrong].mean()) if wrong.any() else float("nan"),
            "n_open": int(opened.sum()), "n_wrong_key": int(wrong.sum())}


def secret_potential(trained, dataset: KeysDoorsDataset, tolerance: int = 5) -> tuple[np.ndarray, Any]:
    """φ̂ over the fixed maze's true-state keys from SECRET's credit on ``dataset`` (paper §2.2).

    Returns ``(phi (n_states,), rows)``. Generic estimator:
    :func:`secretlab.shaping.potential_from_credit` (|D|-normalised, unseen states 0).
    """
    from secretlab.credit import credit_rows
    from secretlab.shaping import potential_from_credit

    if dataset.config.env.maze_seed is None:
        raise ValueError("secret_potential needs a fixed-maze dataset (config.env.maze_seed set)")
    rows = credit_rows(trained.model, dataset, tolerance=tolerance)
    phi = potential_from_credit(dataset.states, dataset.rewards, rows, dataset.config.env.n_states)
    return phi, rows


def compare_ppo(env_config: KeysDoorsConfig, ppo: PPOConfig, potential: np.ndarray, n_seeds: int,
                seed: int = 0, refresh: bool = False, progress: bool = False) -> dict[str, list[dict]]:
    """Per arm (``"ppo"``, ``"ppo_secret"``) and seed, the training-episode logs (cached).

    Seeds ``seed·1000 + k`` for k < n_seeds, the same for both arms.
    """
    check_int("n_seeds", n_seeds, minimum=1)
    arms = {"ppo": None, "ppo_secret": potential}
    out: dict[str, list[dict]] = {arm: [] for arm in arms}
    jobs = [(arm, k) for k in range(n_seeds) for arm in arms]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="PPO runs", unit="run")
    for arm, k in jobs:
        run_seed = derive_seed(seed, "ppo_run", k)
        key = {"stage": "keys_doors_target_ppo", "env": env_config, "ppo": ppo, "seed": run_seed,
               "potential": arms[arm], "rules": RULES_VERSION}
        arrays, _ = cached_npz("keys_doors_runs", key,
                               lambda: train_on_fixed_maze(env_config, ppo, run_seed, arms[arm]), refresh=refresh)
        out[arm].append(arrays)
    return out


def learning_curves(logs: list[dict], grid: np.ndarray, window: int = 20,
                    key: str = "successes") -> np.ndarray:
    """(runs, 1, len(grid)): each run's mean ``key`` over its last ``window`` episodes ended by each step.

    0 before the first episode ends (the Total-Target-Time convention of
    :func:`secretlab.stats.total_target_time_curves`).
    """
    curves = np.zeros((len(logs), 1, len(grid)))
    for r, log in enumerate(logs):
        values = np.asarray(log[key], dtype=np.float64)
        ends = np.asarray(log["end_step"], dtype=np.float64)
        csum = np.concatenate([[0.0], np.cumsum(values)])
        for g, step in enumerate(grid):
            k = int(np.searchsorted(ends, step, side="right"))
            if k > 0:
                lo = max(0, k - window)
                curves[r, 0, g] = (csum[k] - csum[lo]) / (k - lo)
    return curves


def potential_grid(phi: np.ndarray, env_config: KeysDoorsConfig, carrying: int = -1,
                   doors_opened: int = 0) -> np.ndarray:
    """φ as a (height, width) picture for one key held (-1: none) and number of doors opened."""
    grid = np.full((env_config.height, env_config.width), np.nan)
    for y in range(env_config.height):
        for x in range(env_config.width):
            grid[y, x] = phi[encode_state(x, y, carrying, doors_opened, env_config)]
    return grid


def share_near_matching_key(heat: np.ndarray, layout: dict[str, np.ndarray]) -> tuple[float, bool]:
    """Share of a door-0 heatmap's attention on the 3×3 cells around door 0's matching key, and whether the
    agent starts on one of those cells (a caveat: the start cell is attended by every row)."""
    right = int(np.flatnonzero(layout["key_colour"][0] == layout["door_colour"][0])[0])
    kx, ky = layout["key_xy"][0, right]
    total = np.nansum(heat)
    near = float(np.nansum(heat[max(ky - 1, 0):ky + 2, max(kx - 1, 0):kx + 2]) / total) if total > 0 else float("nan")
    start_near = abs(int(layout["start"][0]) - int(kx)) <= 1 and abs(int(layout["start"][1]) - int(ky)) <= 1
    return near, bool(start_near)


# =============================================================================
# The whole experiment: one config in, one result out
# =============================================================================
@dataclass(frozen=True)
class KeysDoorsExperiment:
    """Everything notebook 07 runs, resolved from a profile and its overrides."""

    env: KeysDoorsConfig
    """The random maze distribution of the source side."""
    source_ppo: PPOConfig
    """The source agent's PPO (its ``total_timesteps`` is the source budget)."""
    target_ppo: PPOConfig
    """PPO on the target maze, both arms."""
    n_source_trajectories: int
    """Source-agent episodes the reward model trains on."""
    n_target_trajectories: int
    """Episodes of the held-out credit check and of the target maze's D."""
    n_seeds: int
    """PPO seeds per arm on the target maze."""
    max_epochs: int
    """Reward-model training epochs."""
    seed: int = 0
    """The notebook seed (mazes, agents, model)."""
    threshold: float = 0.5
    """The success level of the main steps-to-threshold comparison (0.8 is reported too)."""
    tolerance: int = 5
    """Frames within which a predicted +1 counts as correct (App. A.4)."""
    n_grid: int = 20
    """Points of the learning curves over the target budget."""

    @classmethod
    def from_params(cls, params: dict[str, Any], seed: int) -> "KeysDoorsExperiment":
        """From notebook 07's resolved parameters (``secretlab.notebook.setup``)."""
        source_ppo = PPOConfig(total_timesteps=params["source_timesteps"])
        return cls(env=KeysDoorsConfig(n_rooms=params["n_rooms"], room_size=params["room_size"]),
                   source_ppo=source_ppo, target_ppo=replace(source_ppo, total_timesteps=params["target_timesteps"]),
                   n_source_trajectories=params["n_source_trajectories"],
                   n_target_trajectories=params["n_target_trajectories"], n_seeds=params["n_seeds"],
                   max_epochs=params["max_epochs"], seed=seed)

    @property
    def target_env(self) -> KeysDoorsConfig:
        """The fixed target maze of this seed (never a source maze)."""
        return replace(self.env, maze_seed=target_maze_seed(self.seed))

    @property
    def grid(self) -> np.ndarray:
        """Env steps at which the learning curves are read."""
        return np.linspace(0, self.target_ppo.total_timesteps, self.n_grid + 1)[1:]


@dataclass
class KeysDoorsResult:
    """What :func:`run` measured, with the summaries notebook 07 shows and saves."""

    config: KeysDoorsExperiment
    source_info: dict[str, Any]
    source: KeysDoorsDataset
    trained: Any
    heldout: KeysDoorsDataset
    heldout_rows: Any
    around: dict[str, Any]
    discrimination: dict[str, float]
    target: KeysDoorsDataset
    phi: np.ndarray
    target_rows: Any
    logs: dict[str, list[dict]]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The readings below, computed once: the result never changes after :func:`run`, and ``report``,
    ``paper_comparison``, ``tables`` and ``verdict`` all read the same bootstraps and heatmap."""

    def _once(self, name: str, compute):
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    @property
    def layout(self) -> dict[str, np.ndarray]:
        return self._once("layout", self.target.layout)

    def heatmap(self) -> tuple[np.ndarray, int]:
        """Figure 8's door-0 heatmap on the target maze and its number of rows."""
        return self._once("heatmap", lambda: attention_heatmap(self.target_rows, self.target, door=0))

    def near_key(self) -> tuple[float, bool]:
        heat, n = self.heatmap()
        return share_near_matching_key(heat, self.layout) if n else (float("nan"), False)

    def curves(self, key: str = "successes") -> dict[str, np.ndarray]:
        """Per arm, (runs, 1, n_grid) learning curves of ``key`` ('successes' or 'returns')."""
        return {arm: learning_curves(l, self.config.grid, key=key) for arm, l in self.logs.items()}

    def summary(self) -> dict[str, dict[str, stats.Interval]]:
        """Per arm: steps to the threshold and to 0.8, final success and AUC, each an IQM interval."""
        return self._once("summary", self._summary)

    def _summary(self) -> dict[str, dict[str, stats.Interval]]:
        grid, out = self.config.grid, {}
        for arm, c in self.curves().items():
            out[arm] = {"to_threshold": stats.threshold_interval(c, grid, threshold=self.config.threshold)[0],
                        "to_080": stats.threshold_interval(c, grid, threshold=0.8)[0],
                        "final": stats.iqm_interval(c[:, :, -1]), "auc": stats.iqm_interval(stats.normalised_auc(c))}
        return out

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        thr, rows = self.config.threshold, []
        for arm, s in self.summary().items():
            rows.append({"arm": arm, "n_seeds": len(self.logs[arm]), f"steps_to_{thr}": s["to_threshold"].point,
                         "steps_lo": s["to_threshold"].lo, "steps_hi": s["to_threshold"].hi,
                         "steps_to_0.8": s["to_080"].point, "steps_to_0.8_lo": s["to_080"].lo,
                         "steps_to_0.8_hi": s["to_080"].hi, "final_success_iqm": s["final"].point,
                         "final_lo": s["final"].lo, "final_hi": s["final"].hi, "auc_success_iqm": s["auc"].point})
        return {"PPO on the target maze, with and without SECRET shaping": rows}

    def paper_comparison(self) -> list[dict[str, Any]]:
        around, disc, s, cfg = self.around, self.discrimination, self.summary(), self.config
        near_key, start_near_key = self.near_key()
        n_heat_rows = self.heatmap()[1]
        return [
            {"quantity": "attention mass within ±2 steps of the key pickup (correct door predictions)",
             "paper": "concentrated around key pickups (Fig. 3 right, no number)", "ours": finite_or_none(around["share_near"]),
             "note": f"MiniGrid stand-in for DMLab; {around['n_rows']} rows on held-out mazes; uniform attention "
                     f"would give {around['share_near_uniform']:.3f}"},
            {"quantity": "reward model P(+1): door opened with the right key / toggle at the door with the wrong key",
             "paper": None, "ours": f"{disc['p_open']:.3f} / {disc['p_wrong_key']:.3f}",
             "note": "held-out mazes; the current view does not show the key held, so telling these apart needs "
                     "the pickup"},
            {"quantity": "Fig. 8: share of door-0 attention on cells next to the matching key (target maze)",
             "paper": "concentrates around the key (Fig. 8, no number)", "ours": finite_or_none(near_key),
             "note": f"{n_heat_rows} rows" + ("; caveat: the agent starts on one of those cells in this maze"
                                              if start_near_key else "")},
            {"quantity": f"PPO steps to IQM success >= {cfg.threshold} (no shaping)", "paper": None,
             "ours": str(s["ppo"]["to_threshold"]), "note": "point [95% CI], never = not within the budget"},
            {"quantity": f"PPO + SECRET steps to IQM success >= {cfg.threshold}", "paper": "faster than PPO (Fig. 4 right)",
             "ours": str(s["ppo_secret"]["to_threshold"]),
             "note": f"{cfg.n_seeds} seeds per arm, {cfg.target_ppo.total_timesteps} steps each"},
            {"quantity": "steps to IQM success >= 0.8 (PPO / PPO + SECRET)", "paper": "shaped arm learns faster",
             "ours": f"{s['ppo']['to_080']} / {s['ppo_secret']['to_080']}", "note": "point [95% CI]"},
            {"quantity": "mean success over training, IQM (PPO / PPO + SECRET)", "paper": "shaped arm learns faster",
             "ours": f"{s['ppo']['auc'].point:.3f} / {s['ppo_secret']['auc'].point:.3f}",
             "note": f"95% CI {s['ppo']['auc']} vs {s['ppo_secret']['auc']}"},
        ]

    def report(self) -> dict[str, Any]:
        """The notebook's JSON: headline numbers, paper comparison and tables."""
        around, history, cfg = self.around, self.trained.history, self.config
        near_key, _ = self.near_key()
        tables = self.tables()
        best = int(history["val_loss"].idxmin())
        return {
            "dmlab_stand_in": "MiniGrid secretlab/KeysDoors-v0 (DeepMind Lab cannot be built here)",
            "env": cfg.env.as_dict(), "target_maze_seed": cfg.target_env.maze_seed,
            "source_agent": self.source_info, "source_dataset": self.source.summary(),
            "heldout_dataset": self.heldout.summary(), "target_dataset": self.target.summary(),
            "reward_model_val": {k: finite_or_none(history.iloc[best][k]) for k in ("val_loss", "precision_pos", "recall_pos")},
            "attention_near_key_pickup": finite_or_none(around["share_near"]),
            "attention_near_key_pickup_uniform": finite_or_none(around["share_near_uniform"]),
            "attention_on_door_step": finite_or_none(around["share_on_door_step"]),
            "attention_rows": around["n_rows"],
            "door_discrimination": {k: finite_or_none(v) if isinstance(v, float) else v for k, v in self.discrimination.items()},
            "attention_by_offset": {"offsets": around["offsets"].tolist(), "mean": around["mean"].tolist()},
            "target_attention_near_key_pickup": finite_or_none(attention_around_pickups(self.target_rows, self.target)["share_near"]),
            "heatmap_share_near_matching_key": finite_or_none(near_key), "heatmap_rows": self.heatmap()[1],
            "success_threshold": cfg.threshold,
            "arms": {r["arm"]: r for r in next(iter(tables.values()))},
            "stage_seconds": {k: round(v, 1) for k, v in self.stage_seconds.items()},
            "paper_comparison": self.paper_comparison(),
            "tables": tables,
        }

    def verdict(self) -> str:
        """The measured outcome in a few sentences, built from the numbers above."""
        around, disc, s, cfg = self.around, self.discrimination, self.summary(), self.config
        near_key, n_heat_rows = self.near_key()[0], self.heatmap()[1]
        above = "above" if (around["share_near"] or 0) > (around["share_near_uniform"] or 1) else "not above"
        return "\\n".join([
            f"Credit (Fig. 3 right, {around['n_rows']} correct door-opening rows on held-out mazes): "
            f"{_fmt(around['share_near'])} of the attention lies within ±2 steps of the key pickup, {above} the "
            f"uniform-attention level {_fmt(around['share_near_uniform'])}; {_fmt(around['share_on_door_step'])} sits "
            f"on the door step itself.",
            f"The model tells door openings from wrong-key toggles: P(+1) {_fmt(disc['p_open'])} vs "
            f"{_fmt(disc['p_wrong_key'])}.",
            f"Fig. 8 (target maze, {n_heat_rows} rows): {_fmt(near_key)} of the door-0 attention falls on cells next "
            f"to the matching key.",
            f"PPO on the target maze ({cfg.n_seeds} seeds per arm, {cfg.target_ppo.total_timesteps} steps): steps to "
            f"IQM success >= {cfg.threshold}: PPO {s['ppo']['to_threshold']}, PPO + SECRET "
            f"{s['ppo_secret']['to_threshold']}; to >= 0.8: PPO {s['ppo']['to_080']}, PPO + SECRET "
            f"{s['ppo_secret']['to_080']}; mean success over training PPO {s['ppo']['auc']}, PPO + SECRET "
            f"{s['ppo_secret']['auc']} (IQM [95% CI])."])


def _fmt(v: Any) -> str:
    return "n/a" if finite_or_none(v) is None else f"{v:.3f}"


def run(config: KeysDoorsExperiment, progress: bool = False) -> KeysDoorsResult:
    """Source agent → its trajectories → reward model → credit → φ̂ on the target maze → PPO with and without it.

    Every stage is cached; ``stage_seconds`` times each (a cached stage takes only the time to load it).
    """
    from secretlab.credit import credit_rows
    from secretlab.checkpoints import load_or_train
    from secretlab.training import TrainConfig

    seconds, clock = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name], clock = time.perf_counter() - clock, time.perf_counter()

    agent, source_info = load_or_train_source_agent(config.env, config.source_ppo, seed=config.seed)
    identity = agent_identity(config.env, config.source_ppo, config.seed)
    source = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_source_trajectories,
                                           seed=config.seed, agent=identity), agent.policy)
    lap("source agent + collection")
    trained = load_or_train(source, reward_model_config(config.env),
                            TrainConfig(max_epochs=config.max_epochs, seed=config.seed), progress=progress)
    lap("reward model")
    heldout = load_or_collect(CollectConfig(env=config.env, n_trajectories=config.n_target_trajectories,
                                            seed=config.seed, split="target", agent=identity), agent.policy)
    heldout_rows = credit_rows(trained.model, heldout, tolerance=config.tolerance)
    around = attention_around_pickups(heldout_rows, heldout, max_offset=10, window=2)
    discrimination = door_discrimination(trained.model, heldout)
    lap("credit")
    target = load_or_collect(CollectConfig(env=config.target_env, n_trajectories=config.n_target_trajectories,
                                           seed=config.seed + 1, agent=identity), agent.policy)
    phi, target_rows = secret_potential(trained, target, tolerance=config.tolerance)
    lap("target collection + potential")
    logs = compare_ppo(config.target_env, config.target_ppo, phi, config.n_seeds, seed=config.seed,
                       progress=progress)
    lap("PPO comparison")
    return KeysDoorsResult(config, source_info, source, trained, heldout, heldout_rows, around, discrimination,
                           target, phi, target_rows, logs, seconds)
