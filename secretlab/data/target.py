"""One target maze's data for the shaping estimators: its random-policy episodes and their effect-labelled actions."""
from __future__ import annotations

from typing import Any

import numpy as np

from secretlab.data import DatasetConfig, load_or_collect
from secretlab.envs.triggers import ACTION_DELTAS, TriggersConfig
from secretlab.validation import check_int


def target_dataset(env: TriggersConfig, maze_seed: int, n_trajectories: int, seed: int = 0,
                   dataset: Any = None) -> Any:
    """The first ``n_trajectories`` random-policy episodes of one target maze: ``dataset``'s, or the cached
    ``DatasetConfig(env, n_trajectories, seed, split="target", fixed_maze_seed=maze_seed)``."""
    # checked before anything is collected (int() made maze 1.7 maze 1)
    check_int("maze_seed", maze_seed, minimum=0)
    check_int("n_trajectories (|D|)", n_trajectories, minimum=1)
    if dataset is None:
        dataset = load_or_collect(DatasetConfig(env, int(n_trajectories), seed, split="target",
                                                fixed_maze_seed=int(maze_seed)))
    elif dataset.n < n_trajectories:
        raise ValueError(f"dataset has {dataset.n} trajectories, fewer than n_trajectories={n_trajectories}")
    return dataset.subset(slice(0, int(n_trajectories)))


def effect_actions(dataset: Any) -> np.ndarray:
    """(N, T) the action that, with NORMAL controls, makes each step's observed move; -1 on padding.

    A move one cell up/right/down/left gets 0/1/2/3 whatever was pressed; a step into the border keeps the action
    taken. Under inverted controls this undoes the inversion from the logged states alone."""
    actions = np.asarray(dataset.actions)
    cells = np.asarray(dataset.agent_cells)
    step = cells[:, 1:] - cells[:, :-1]  # (N, T, 2) (drow, dcol)
    out = actions.copy()
    for action, (dr, dc) in enumerate(ACTION_DELTAS):
        moved = (step[..., 0] == dr) & (step[..., 1] == dc) & (actions >= 0)
        out[moved] = action
    return out
