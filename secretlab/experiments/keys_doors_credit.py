"""Reading SECRET's credit on the keys/doors puzzle: Fig. 3 right, Fig. 8, the door test, and φ̂ per credit source.

The analyses of :mod:`secretlab.experiments.keys_doors` that look at one trained
reward model and its attention rows (no agent training here):

- :func:`attention_around_pickups` (Fig. 3 right) and :func:`attention_heatmap` (Fig. 8);
- :func:`door_discrimination`: does the model know which key it holds when it tries the door?
- :func:`secret_potential`, :func:`control_potentials`: φ̂ on the fixed target maze from SECRET's rows and from
  the credit controls of :mod:`secretlab.credit_controls`, all through the paper's estimator
  (:func:`secretlab.shaping.potential_from_credit`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from secretlab.data.keys_doors import MODEL_OBJECTS, KeysDoorsDataset, matching_pickup_step
from secretlab.envs.keys_doors import VIEW, KeysDoorsConfig, decode_state, encode_state
from secretlab.model import batched_forward

#: Credit controls whose φ̂ PPO also runs with (``secretlab.credit_controls``).
CONTROL_SOURCES = ("uniform", "ideal")


def door_rows(rows, dataset: KeysDoorsDataset):
    """The correct positive rows whose reward is a door opening (not the goal)."""
    good = rows.correct_positive
    keep = dataset.opened[good.traj, good.step] >= 0
    return good.select(keep)


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
    """Did the model learn the key–door relation? Its P(sign = +1) at toggles facing door 0 while it is locked.

    ``p_open``: mean P(+1) at the steps that opened a door (right key held);
    ``p_wrong_key``: mean P(+1) at toggles facing the locked door while holding a
    key of another colour (reward 0). Both are decided by which key was picked
    earlier, which the current view does not show, except that a *repeated*
    wrong toggle follows one that left the door locked. So the same two means
    over each episode's **first** toggle at the locked door only
    (``p_first_right_key``, ``p_first_wrong_key``): there only the memory of the
    pickup can tell them apart. Also the counts of each.
    """
    env = dataset.config.env
    p_pos = positive_probabilities(model, dataset, batch_size)
    states = dataset.states[:, :-1]
    real = (states >= 0) & dataset.mask
    carrying = np.full(states.shape, -2, np.int64)
    doors_opened = np.full(states.shape, -1, np.int64)
    for traj, step in zip(*np.nonzero(real)):
        decoded = decode_state(int(states[traj, step]), env)
        carrying[traj, step], doors_opened[traj, step] = decoded["carrying"], decoded["doors_opened"]
    door_channel = MODEL_OBJECTS.index(4)
    facing_door = dataset.obs[:, :, door_channel, VIEW - 2, VIEW // 2] == 1  # the cell in front of the agent
    door_colour = dataset.door_colour[:, :1]  # keys in room 0 belong to door 0
    attempt = real & (dataset.actions == 4) & facing_door & (carrying >= 0) & (doors_opened == 0)
    right = carrying == door_colour
    first = attempt & (np.cumsum(attempt, axis=1) == 1)
    opened = (dataset.opened >= 0) & dataset.mask

    def mean(where: np.ndarray) -> float:
        return float(p_pos[where].mean()) if where.any() else float("nan")

    return {"p_open": mean(opened), "p_wrong_key": mean(attempt & ~right),
            "p_first_right_key": mean(first & right), "p_first_wrong_key": mean(first & ~right),
            "n_open": int(opened.sum()), "n_wrong_key": int((attempt & ~right).sum()),
            "n_first_right_key": int((first & right).sum()), "n_first_wrong_key": int((first & ~right).sum())}


def secret_potential(trained, dataset: KeysDoorsDataset, tolerance: int = 5) -> tuple[np.ndarray, Any]:
    """φ̂ over the fixed maze's true-state keys from SECRET's credit on ``dataset`` (paper §2.2).

    Returns ``(phi (n_states,), rows)``. Generic estimator:
    :func:`secretlab.shaping.potential_from_credit` (|D|-normalised, unseen states 0).
    """
    from secretlab.credit import credit_rows

    if dataset.config.env.maze_seed is None:
        raise ValueError("secret_potential needs a fixed-maze dataset (config.env.maze_seed set)")
    rows = credit_rows(trained.model, dataset, tolerance=tolerance)
    return potential_of_rows(rows, dataset), rows


def potential_of_rows(rows, dataset: KeysDoorsDataset) -> np.ndarray:
    """φ̂ (n_states,) of any credit rows on the fixed-maze ``dataset`` (the paper's estimator)."""
    from secretlab.shaping import potential_from_credit

    return potential_from_credit(dataset.states, dataset.rewards, rows, dataset.config.env.n_states)


def control_potentials(rows, dataset: KeysDoorsDataset) -> dict[str, np.ndarray]:
    """φ̂ of each credit control of :data:`CONTROL_SOURCES` through the same estimator as SECRET's rows.

    ``uniform``: the model's rows with their attention spread evenly (no credit assignment);
    ``ideal``: one row per real reward, its attention on the pickups of the keys that opened doors
    (:attr:`~secretlab.data.keys_doors.KeysDoorsDataset.activated`).
    """
    from secretlab.credit_controls import control_rows

    return {source: potential_of_rows(control_rows(source, rows, dataset), dataset) for source in CONTROL_SOURCES}


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
