"""The credit inspector's data and view-model (no drawing): scenarios, per-maze data, the state of one view.

See :mod:`secretlab.widgets` for the whole inspector; this module holds its first two layers, which tests check
without pixels: :class:`MazeData` (:func:`compute_maze_data`, the expensive part, once per maze) and
:class:`InspectorState` (:func:`inspector_state`, plain numpy data for one view).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from secretlab.data import DatasetConfig, TrajectoryDataset, load_or_collect, maze_seeds
from secretlab.envs.triggers import TriggersConfig
from secretlab.seeds import derive_seed
from secretlab.validation import check_int


#: How the potential table (keyed on the true state = cell + remaining objects) is shown per cell.
POTENTIAL_VIEWS: dict[str, str] = {
    "strongest": "strongest |φ̂| over object masks",
    "all_triggers_active": "all triggers active, all prizes present",
    "no_trigger_active": "no trigger active, all prizes present",
}


@dataclass(frozen=True)
class InspectorConfig:
    """What the inspector computes per maze (the paper leaves all of these open)."""

    n_mazes: int = 6
    """Held-out mazes offered in the maze control (seeds from the ``heldout`` split)."""
    n_trajectories: int = 24
    """Random-policy trajectories collected per maze (the trajectory control)."""
    n_potential_trajectories: int = 200
    """|D|: random-policy trajectories in the maze used to estimate φ̂."""
    gamma: float = 0.99
    """Discount passed to the potential (it only matters for the shaping, not for φ̂'s picture)."""
    threshold: float = 0.2
    """Initial credit threshold α (App. A.2 uses 0.2)."""
    potential_view: str = "strongest"
    """Initial potential view, one of :data:`POTENTIAL_VIEWS`."""
    seed: int = 0
    """Seeds the action draws of the trajectories (maze ``i`` uses ``seed * 1000 + i``)."""
    batch_size: int = 64
    """Trajectories per model forward pass."""
    dpi: int = 80
    """Resolution of the widget's image (the static twins use their own)."""

    def __post_init__(self) -> None:
        for name, low, high in (("n_mazes", 1, 1000), ("n_trajectories", 1, 10**6),
                                ("n_potential_trajectories", 1, 10**7), ("batch_size", 1, 10**6),
                                ("dpi", 20, 600)):
            check_int(name, getattr(self, name), minimum=low, maximum=high)
        _check_threshold(self.threshold)
        _check_view(self.potential_view)
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        check_int("seed", self.seed, minimum=0, maximum=999)


def _check_threshold(threshold: float) -> float:
    if not isinstance(threshold, (int, float, np.floating)) or not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}")
    return float(threshold)


def _check_view(view: str) -> str:
    if view not in POTENTIAL_VIEWS:
        raise ValueError(f"potential_view must be one of {sorted(POTENTIAL_VIEWS)}, got {view!r}")
    return view


def as_reward_model(obj: Any, what: str = "model"):
    """The ``torch.nn.Module`` behind ``obj``: a ``RewardModel`` (or any module with its
    ``forward(obs, actions, mask) -> (logits, attention)`` interface) as is, a
    ``secretlab.training.TrainedModel`` (anything whose ``.model`` is such a module) unwrapped.

    Raises ``ValueError`` naming ``what`` for anything else.
    """
    import torch

    if isinstance(obj, torch.nn.Module):
        return obj
    inner = getattr(obj, "model", None)
    if isinstance(inner, torch.nn.Module):
        return inner
    raise ValueError(f"{what} must be a secretlab.model.RewardModel (a torch.nn.Module) or a "
                     f"secretlab.training.TrainedModel (whose .model is one), got {type(obj).__name__}")


@dataclass
class InspectorScenario:
    """One entry of the scenario/checkpoint control: a maze distribution and its reward model.

    Give ``model`` directly, or a ``loader`` that returns it on first use, so scenarios
    nobody selects are never loaded. Either may be a ``RewardModel`` or a
    ``TrainedModel``; a ``TrainedModel`` is unwrapped, so :attr:`model` (once set) is
    always the ``RewardModel``. Anything else raises a ``ValueError`` naming ``model``.
    """

    name: str
    env: TriggersConfig
    model: Any = None
    loader: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        if self.model is not None:
            self.model = as_reward_model(self.model, "model")
        elif self.loader is None:
            raise ValueError(f"scenario {self.name!r} needs a model or a loader")
        elif not callable(self.loader):
            raise ValueError(f"loader must be callable, got {type(self.loader).__name__}")

    def get_model(self):
        if self.model is None:
            if self.loader is None:
                raise ValueError(f"scenario {self.name!r} needs a model or a loader")
            self.model = as_reward_model(self.loader(), f"model (returned by the loader of scenario {self.name!r})")
        else:
            self.model = as_reward_model(self.model, "model")  # also if reassigned after construction
        return self.model


def source_scenario(env: TriggersConfig, profile: str, seed: int = 0, name: str | None = None) -> InspectorScenario:
    """A scenario backed by the profile's shared source model (:func:`secretlab.experiments.source.source_model`)."""
    from secretlab.data import scenario_name

    def load():
        from secretlab.experiments.source import source_model

        return source_model(env, profile, seed, progress=False)

    return InspectorScenario(name or f"{scenario_name(env)} ({profile}, seed {seed})", env, loader=load)


def quickstart_scenario(profile: str = "default", seed: int = 0, progress: bool = False) -> InspectorScenario:
    """The small maze and model of notebook 00 (same configs, so the same cache entry): the ready-made
    inspector of ``make inspector`` (trained once in about half a minute on a 2-core CPU, then cached)."""
    from secretlab.profiles import notebook_params

    p = notebook_params("00_quickstart", profile)
    env = TriggersConfig(size=p["size"], n_triggers=p["n_triggers"], n_prizes=p["n_prizes"], max_steps=p["max_steps"])

    def load():
        from secretlab.data import DatasetConfig, load_or_collect
        from secretlab.checkpoints import load_or_train
        from secretlab.training import TrainConfig, model_config_for

        data = load_or_collect(DatasetConfig(env, p["n_train_trajectories"], seed, split="train", success_share=0.5))
        return load_or_train(data, model_config_for(data, d_model=p["d_model"], d_ff=p["d_model"]),
                             TrainConfig(max_epochs=p["max_epochs"], lr=p["lr"], batch_size=32, patience=p["patience"],
                                         seed=seed), progress=progress)

    return InspectorScenario(f"{env.size}x{env.size} {env.n_triggers}T/{env.n_prizes}P quickstart model "
                             f"({profile}, seed {seed})", env, loader=load)


# ====================================================================== per-maze data
@dataclass
class MazeData:
    """Everything the views need about one held-out maze; computed once, then reused.

    N = trajectories, L = longest trajectory length in this maze.
    """

    scenario: str
    env: TriggersConfig
    maze_index: int
    maze_seed: int
    dataset: TrajectoryDataset
    """The N random-policy trajectories in this maze (one fixed layout)."""
    predicted_sign: np.ndarray
    """(N, L) int8 the model's predicted sign(r) per step (argmax class - 1), 0 on padding."""
    attention: np.ndarray
    """(N, L, L) float32, ``attention[n, t, i]`` = α_{i←t} of trajectory n; 0 on padding."""
    potential: np.ndarray
    """(n_states,) float φ̂ of this maze, keyed on the true-state key (0 = unseen)."""
    seconds: float = 0.0
    """Wall-clock time it took to compute (collection + inference + potential)."""

    @property
    def n_trajectories(self) -> int:
        return self.dataset.n

    @property
    def true_sign(self) -> np.ndarray:
        """(N, L) int64 sign(r) per step."""
        return self.dataset.reward_sign[:, : self.attention.shape[1]]

    @property
    def layout(self):
        """(agent (2,), triggers (nT, 2), prizes (nP, 2)) of this maze."""
        l = self.dataset.layouts
        return l.agent[0], l.triggers[0], l.prizes[0]


def maze_dataset_config(env: TriggersConfig, maze_index: int, config: InspectorConfig) -> DatasetConfig:
    """The dataset of maze ``maze_index``: held-out maze seed, its own action seed."""
    seed = int(maze_seeds("heldout", config.seed, config.n_mazes)[maze_index])
    return DatasetConfig(env=env, n_trajectories=config.n_trajectories,
                         seed=derive_seed(config.seed, "inspector_trajectories", maze_index),
                         split="heldout", fixed_maze_seed=seed)


def predict(model, dataset: TrajectoryDataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Run the reward model (eval mode, no grad) on every trajectory.

    Returns predicted signs (N, L) int8 and attention (N, L, L) float32, where L is the
    longest length in ``dataset`` (the padded tail beyond it is never needed).
    """
    from secretlab.model import batched_forward

    n, L = dataset.n, int(dataset.lengths.max())
    signs = np.zeros((n, L), np.int8)
    attention = np.zeros((n, L, L), np.float32)
    for idx, _, logits, att in batched_forward(model, dataset, batch_size, width=L):
        signs[idx] = ((logits.argmax(-1) - 1).cpu().numpy() * dataset.mask[idx, :L]).astype(np.int8)
        attention[idx] = att.float().cpu().numpy()
    return signs, attention


def maze_potential(model, env: TriggersConfig, maze_seed: int, config: InspectorConfig) -> np.ndarray:
    """φ̂ table (n_states,) of one maze from |D| random trajectories (``secretlab.shaping``)."""
    from secretlab.shaping import secret_potential

    potential = secret_potential(model, env, maze_seed, config.n_potential_trajectories, config.gamma,
                                 seed=config.seed)
    return np.asarray(potential.table, dtype=np.float64)


def compute_maze_data(scenario: InspectorScenario, maze_index: int, config: InspectorConfig) -> MazeData:
    """Collect (cached on disk), run the model and estimate φ̂ for one held-out maze."""
    check_int("maze_index", maze_index, minimum=0, maximum=config.n_mazes - 1)
    start = time.perf_counter()
    model = scenario.get_model()
    ds_config = maze_dataset_config(scenario.env, int(maze_index), config)
    dataset = load_or_collect(ds_config)
    signs, attention = predict(model, dataset, config.batch_size)
    potential = maze_potential(model, scenario.env, int(ds_config.fixed_maze_seed), config)
    return MazeData(scenario.name, scenario.env, int(maze_index), int(ds_config.fixed_maze_seed), dataset,
                    signs, attention, potential, time.perf_counter() - start)


# ====================================================================== view-model
@dataclass(frozen=True)
class InspectorState:
    """The data behind one picture of the inspector (no drawing here).

    L = this trajectory's length; cells are (row, col).
    """

    scenario: str
    size: int
    maze_index: int
    maze_seed: int
    trajectory: int
    step: int
    """The prediction step t whose attention row is shown."""
    length: int
    threshold: float
    potential_view: str
    agent_start: np.ndarray
    """(2,) where the agent starts."""
    triggers: np.ndarray
    """(nT, 2) trigger cells of the maze (T1, T2, ... in index order)."""
    prizes: np.ndarray
    """(nP, 2) prize cells of the maze."""
    path: np.ndarray
    """(L + 1, 2) agent cell before step 0, after step 0, ..., after step L-1."""
    attention: np.ndarray
    """(L,) α_{i←t} for i ≤ t, 0 for i > t (the model cannot look ahead)."""
    trigger_steps: np.ndarray
    """(k,) steps whose action activated a trigger (the ground-truth credit)."""
    reward_steps: np.ndarray
    """(m,) steps with a non-zero reward (where the "next/previous reward" buttons stop)."""
    true_sign: int
    predicted_sign: int
    cell_credit: np.ndarray
    """(size, size) summed α_{i←t} over steps i ≤ t, on the cell step i's action entered; NaN elsewhere."""
    potential_grid: np.ndarray
    """(size, size) φ̂ per cell under ``potential_view``."""
    row_precision: float
    """Share of credited steps (α > threshold) that activated a trigger; NaN if nothing is credited."""
    row_recall: float
    """Share of trigger activations up to t that are credited; NaN if there are none."""
    maze_precision: float
    """Macro precision over this maze's correctly predicted +1 rows (App. A.2); NaN if no row."""
    maze_recall: float
    maze_rows: int
    """Number of correctly predicted +1 rows in this maze's trajectories."""

    @property
    def correct(self) -> bool:
        return self.true_sign == self.predicted_sign

    @property
    def credited_steps(self) -> np.ndarray:
        """(j,) steps whose attention exceeds the threshold."""
        return np.flatnonzero(self.attention > self.threshold)


def potential_grid(table: np.ndarray, env: TriggersConfig, view: str = "strongest") -> np.ndarray:
    """Show a φ̂ table keyed on true states as one (size, size) picture.

    The key is (cell, which triggers and prizes remain), so each cell has
    2^(nT+nP) values. ``"strongest"`` (default) keeps, per cell, the value of
    largest magnitude over the non-terminal object masks (at least one prize
    left; the shaping never uses φ at terminal states): every trigger cell lights up
    whatever the order the triggers were taken in (with 3 triggers the state just
    after taking T2 has T2 gone but maybe T1 present, so no single mask shows all
    three). ``"all_triggers_active"`` / ``"no_trigger_active"`` show one mask each
    (all prizes present).
    """
    _check_view(view)
    n_bits = env.n_triggers + env.n_prizes
    table = np.asarray(table, dtype=np.float64)
    if table.shape != (env.n_states,):
        raise ValueError(f"table must have shape ({env.n_states},) for {env}, got {table.shape}")
    per_cell = table.reshape(env.size * env.size, 1 << n_bits)
    all_prizes = ((1 << env.n_prizes) - 1) << env.n_triggers
    if view == "all_triggers_active":
        values = per_cell[:, all_prizes]
    elif view == "no_trigger_active":
        values = per_cell[:, all_prizes | ((1 << env.n_triggers) - 1)]
    else:
        # Terminal masks (no prize left) are skipped: φ(terminal) is not used by the
        # shaping (secretlab.shaping: terminal_zero), so showing it would mislead.
        live = np.arange(1 << n_bits) >> env.n_triggers != 0
        candidates = np.where(live[None, :], per_cell, 0.0)
        values = candidates[np.arange(len(per_cell)), np.abs(candidates).argmax(axis=1)]
    return values.reshape(env.size, env.size)


def row_precision_recall(attention_row: np.ndarray, activated: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of one attention row against the trigger activations (App. A.2).

    ``attention_row`` and ``activated`` (same shape (t+1,)): an entry > ``threshold``
    counts as credited. Precision is NaN when nothing is credited, recall NaN when
    there is no activation.
    """
    credited = np.asarray(attention_row) > threshold
    truth = np.asarray(activated, dtype=bool)
    hits = int((credited & truth).sum())
    precision = hits / credited.sum() if credited.any() else float("nan")
    recall = hits / truth.sum() if truth.any() else float("nan")
    return float(precision), float(recall)


def maze_credit_rows(data: MazeData):
    """The maze's :class:`secretlab.credit.CreditRows` (every non-zero reward step), from the cached attention."""
    from secretlab.credit import CreditRows

    n_idx, t_idx = np.nonzero(data.true_sign != 0)
    sign = data.true_sign[n_idx, t_idx].astype(np.int64)
    pred = data.predicted_sign[n_idx, t_idx].astype(np.int64)
    return CreditRows(n_idx.astype(np.int64), t_idx.astype(np.int64), sign, pred, pred == sign,
                      data.attention[n_idx, t_idx])


def maze_precision_recall(data: MazeData, threshold: float) -> tuple[float, float, int]:
    """App. A.2's macro precision/recall over the maze's correctly predicted +1 rows, and their count.

    Scored by :func:`secretlab.credit.credit_scores` (same conventions as notebook 03:
    a row that credits nothing has precision 0). NaN, NaN, 0 when the maze has no
    such row (no +1 reached, or none predicted correctly).
    """
    from secretlab.credit import credit_scores

    _check_threshold(threshold)
    rows = maze_credit_rows(data)
    n_rows = int((rows.correct & (rows.sign > 0)).sum())
    if n_rows == 0 or data.env.n_triggers == 0:
        return float("nan"), float("nan"), n_rows
    scores = credit_scores(rows, data.dataset.activated[:, : data.attention.shape[1]], threshold)
    return scores.precision, scores.recall, scores.n_rows


def default_step(data: MazeData, trajectory: int) -> int:
    """The most telling step of a trajectory: its first correct +1, else first +1, else first reward, else last."""
    true, pred = data.true_sign[trajectory], data.predicted_sign[trajectory]
    for candidates in (np.flatnonzero((true == 1) & (pred == 1)), np.flatnonzero(true == 1),
                       np.flatnonzero(true != 0)):
        if len(candidates):
            return int(candidates[0])
    return int(data.dataset.lengths[trajectory]) - 1


def trajectory_order(data: MazeData) -> list[int]:
    """Trajectories ordered for the control: with a correct +1 first, then any +1, then the rest."""
    true, pred = data.true_sign, data.predicted_sign
    correct_pos = ((true == 1) & (pred == 1)).any(1)
    any_pos = (true == 1).any(1)
    rank = np.where(correct_pos, 0, np.where(any_pos, 1, 2))
    return [int(i) for i in np.lexsort((np.arange(len(rank)), rank))]


def trajectory_label(data: MazeData, trajectory: int) -> str:
    true, pred = data.true_sign[trajectory], data.predicted_sign[trajectory]
    pos = np.flatnonzero(true == 1)
    neg = np.flatnonzero(true == -1)
    parts = [f"#{trajectory}", f"{int(data.dataset.lengths[trajectory])} steps"]
    if len(pos):
        ok = "✓" if (pred[pos] == 1).all() else "✗"
        parts.append(f"+1 at {', '.join(map(str, pos))} {ok}")
    if len(neg):
        parts.append(f"−1 ×{len(neg)}")
    return " · ".join(parts)


def inspector_state(data: MazeData, trajectory: int, step: int | None = None, threshold: float = 0.2,
                    potential_view: str = "strongest") -> InspectorState:
    """The view-model for one (trajectory, step) of a maze; ``step=None`` picks :func:`default_step`."""
    check_int("trajectory", trajectory, minimum=0, maximum=data.n_trajectories - 1)
    trajectory = int(trajectory)
    length = int(data.dataset.lengths[trajectory])
    if step is None:
        step = default_step(data, trajectory)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < length:
        raise ValueError(f"step must be an integer in [0, {length}) for trajectory {trajectory}, got {step!r}")
    step = int(step)
    threshold = _check_threshold(threshold)
    _check_view(potential_view)
    env = data.env

    path = data.dataset.agent_cells[trajectory, : length + 1]
    row = np.zeros(length, np.float64)
    row[: step + 1] = data.attention[trajectory, step, : step + 1]
    activated = data.dataset.activated[trajectory, :length]
    true_sign = data.true_sign[trajectory, :length]

    # Credit of step i goes to the cell its action entered (path[i + 1]), the state
    # the potential credits too (docs/design.md §1: forwarded to the state the pair led into).
    cell_credit = np.full((env.size, env.size), np.nan)
    entered = path[1 : step + 2]
    cell_credit[entered[:, 0], entered[:, 1]] = 0.0
    np.add.at(cell_credit, (entered[:, 0], entered[:, 1]), row[: step + 1])

    row_p, row_r = row_precision_recall(row[: step + 1], activated[: step + 1], threshold)
    maze_p, maze_r, maze_n = maze_precision_recall(data, threshold)
    agent, triggers, prizes = data.layout
    return InspectorState(
        scenario=data.scenario, size=env.size, maze_index=data.maze_index, maze_seed=data.maze_seed,
        trajectory=trajectory, step=step, length=length, threshold=threshold, potential_view=potential_view,
        agent_start=np.asarray(agent), triggers=np.asarray(triggers), prizes=np.asarray(prizes),
        path=np.asarray(path), attention=row, trigger_steps=np.flatnonzero(activated),
        reward_steps=np.flatnonzero(true_sign != 0), true_sign=int(true_sign[step]),
        predicted_sign=int(data.predicted_sign[trajectory, step]), cell_credit=cell_credit,
        potential_grid=potential_grid(data.potential, env, potential_view),
        row_precision=row_p, row_recall=row_r, maze_precision=maze_p, maze_recall=maze_r, maze_rows=maze_n,
    )
