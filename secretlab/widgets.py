"""Interactive maze-by-maze credit inspector (ipywidgets + matplotlib, no custom JavaScript).

Pick a scenario (a trained SECRET model), a held-out maze, a random-policy
trajectory in that maze and one prediction step; the inspector shows together

1. the maze with the agent's path, the triggers and prizes, and every cell the
   agent entered coloured by the credit (attention) that step received from the
   chosen prediction;
2. that attention row α_{·←t} as a bar strip over the steps, with the
   ground-truth trigger activations marked and the predicted vs true sign;
3. the potential φ̂ of the maze (paper §2.2) as a heatmap over cells;
4. the maze's precision/recall of the credit at the chosen threshold (App. A.2).

Three layers, so that tests can check data without pixels:

- :class:`MazeData` (:func:`compute_maze_data`): everything expensive about one
  (scenario, maze): the trajectories, the model's predictions and full attention
  matrices, the potential table. :class:`CreditInspector` computes it once per
  maze and keeps it, which is what makes a control change cheap.
- :class:`InspectorState` (:func:`inspector_state`): the view-model, plain numpy
  data for one (maze, trajectory, step, threshold, potential view).
- Drawing: :func:`draw_inspector` (a matplotlib ``Figure``),
  :func:`render_inspector_png` (PNG bytes, the static twin the notebook saves) and
  the :class:`CreditInspector` widget, which shows the PNG in an
  ``ipywidgets.Image`` (robust in Voila: the browser only receives an image).
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from secretlab.data import DatasetConfig, TrajectoryDataset, load_or_collect, maze_seeds
from secretlab.envs.triggers import TriggersConfig

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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        _check_threshold(self.threshold)
        _check_view(self.potential_view)
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 1000:
            raise ValueError(f"seed must be an integer in [0, 1000), got {self.seed!r}")


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
        from secretlab.training import TrainConfig, load_or_train, model_config_for

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
    return DatasetConfig(env=env, n_trajectories=config.n_trajectories, seed=config.seed * 1000 + maze_index,
                         split="heldout", fixed_maze_seed=seed)


def predict(model, dataset: TrajectoryDataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Run the reward model (eval mode, no grad) on every trajectory.

    Returns predicted signs (N, L) int8 and attention (N, L, L) float32, where L is the
    longest length in ``dataset`` (the padded tail beyond it is never needed).
    """
    import torch

    n, L = dataset.n, int(dataset.lengths.max())
    device = next(model.parameters()).device
    signs = np.zeros((n, L), np.int8)
    attention = np.zeros((n, L, L), np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                idx = slice(start, min(start + batch_size, n))
                obs = torch.from_numpy(np.ascontiguousarray(dataset.obs[idx, :L])).to(device)
                actions = torch.from_numpy(np.ascontiguousarray(dataset.actions[idx, :L])).to(device)
                mask = torch.from_numpy(dataset.mask[idx, :L]).to(device)
                logits, att = model(obs, actions, mask)
                pred = (logits.argmax(-1) - 1) * mask
                signs[idx] = pred.cpu().numpy().astype(np.int8)
                attention[idx] = att.float().cpu().numpy()
    finally:
        model.train(was_training)
    return signs, attention


def maze_potential(model, env: TriggersConfig, maze_seed: int, config: InspectorConfig) -> np.ndarray:
    """φ̂ table (n_states,) of one maze from |D| random trajectories (``secretlab.shaping``)."""
    from secretlab.shaping import secret_potential

    potential = secret_potential(model, env, maze_seed, config.n_potential_trajectories, config.gamma,
                                 seed=config.seed)
    return np.asarray(potential.table, dtype=np.float64)


def compute_maze_data(scenario: InspectorScenario, maze_index: int, config: InspectorConfig) -> MazeData:
    """Collect (cached on disk), run the model and estimate φ̂ for one held-out maze."""
    if isinstance(maze_index, bool) or not isinstance(maze_index, (int, np.integer)) \
            or not 0 <= maze_index < config.n_mazes:
        raise ValueError(f"maze_index must be an integer in [0, {config.n_mazes}), got {maze_index!r}")
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
    if isinstance(trajectory, bool) or not isinstance(trajectory, (int, np.integer)) \
            or not 0 <= trajectory < data.n_trajectories:
        raise ValueError(f"trajectory must be an integer in [0, {data.n_trajectories}), got {trajectory!r}")
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


# ====================================================================== drawing
def _with_floor(name: str):
    """A colormap whose NaN ("bad") cells show the floor colour instead of the wall behind."""
    import matplotlib

    from secretlab.plots import FLOOR

    return matplotlib.colormaps[name].with_extremes(bad=FLOOR)


def _sign(s: int) -> str:
    return {1: "+1", 0: "0", -1: "−1"}[int(s)]


def _fmt(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.2f}"


def attention_ylim(attention: np.ndarray, threshold: float) -> float:
    """Top of the attention strip's y axis: it follows the row so that rows of ~0.02 stay
    readable, and always shows the threshold line: ``max(row max × 1.15, threshold × 1.1)``."""
    row = np.asarray(attention, dtype=np.float64)
    peak = float(np.nanmax(row)) if row.size and np.isfinite(row).any() else 0.0
    return max(peak * 1.15, float(threshold) * 1.1)


#: The maze panel's legend entries, in order (see :func:`maze_legend_handles`).
MAZE_LEGEND = ("agent (at step t)", "start", "trigger", "prize")


def maze_legend_handles() -> list:
    """Proxy artists drawn like ``secretlab.plots.draw_maze`` draws objects on a heatmap
    (agent: filled square, triggers and prizes: outlined squares) plus the inspector's
    start marker (open circle); labels :data:`MAZE_LEGEND`."""
    from matplotlib.lines import Line2D

    from secretlab.plots import AGENT, PRIZE, TRIGGER

    square = dict(marker="s", ls="none", ms=9)
    return [
        Line2D([], [], mfc=AGENT, mec="k", label=MAZE_LEGEND[0], **square),
        Line2D([], [], marker="o", ls="none", mfc="none", mec="k", ms=9, label=MAZE_LEGEND[1]),
        Line2D([], [], mfc="none", mec=TRIGGER, mew=2.0, label=MAZE_LEGEND[2], **square),
        Line2D([], [], mfc="none", mec=PRIZE, mew=2.0, label=MAZE_LEGEND[3], **square),
    ]


def draw_inspector(state: InspectorState, fig=None):
    """Draw the three views of ``state`` on a matplotlib ``Figure`` (created if None, no pyplot)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from secretlab.plots import TRIGGER, draw_maze

    fig = fig if fig is not None else Figure(figsize=(10, 6.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[3.0, 1.5], hspace=0.35, wspace=0.15)
    ax_maze, ax_pot = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_att = fig.add_subplot(grid[1, :])

    # 1. Path and per-cell credit of the chosen prediction.
    seen = state.path[: state.step + 2]
    credit_max = max(float(np.nanmax(state.cell_credit)) if np.isfinite(state.cell_credit).any() else 0.0, 1e-6)
    im = draw_maze(ax_maze, state.size, agent=seen[-1], triggers=state.triggers, prizes=state.prizes,
                   values=state.cell_credit, cmap=_with_floor("Reds"), vmin=0.0, vmax=max(credit_max, state.threshold),
                   path=seen, title=f"credit from the prediction at step {state.step} (path up to it)")
    fig.colorbar(im, ax=ax_maze, fraction=0.046, pad=0.03, label="attention received",
                 ticks=MaxNLocator(4))
    ax_maze.plot(state.agent_start[1], state.agent_start[0], marker="o", mfc="none", mec="k", ms=9, zorder=7)
    # Below the maze, in the gap above the strip (it never hides a cell).
    ax_maze.legend(handles=maze_legend_handles(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
                   fontsize=7, frameon=False, handletextpad=0.3, columnspacing=1.0, borderaxespad=0.2)

    # 2. Potential of the maze.
    limit = float(np.abs(state.potential_grid).max())
    empty = limit < 1e-9  # no correctly predicted reward in D: φ̂ is 0 everywhere
    im = draw_maze(ax_pot, state.size, triggers=state.triggers, prizes=state.prizes,
                   values=state.potential_grid, cmap="RdBu_r", vmin=-(limit or 1.0), vmax=limit or 1.0,
                   title=f"potential φ̂ ({POTENTIAL_VIEWS[state.potential_view]})"
                         + ("\nφ̂ = 0 everywhere: no correct reward prediction in D" if empty else ""))
    fig.colorbar(im, ax=ax_pot, fraction=0.046, pad=0.03, label="φ̂", ticks=MaxNLocator(5))

    # 3. The attention row as a bar strip.
    # Two filled step plots (not one Rectangle per bar: ~10x faster for 200 steps).
    edges = np.arange(state.length + 1) - 0.5
    credited = state.attention > state.threshold
    ax_att.stairs(np.where(credited, 0.0, state.attention), edges, fill=True, color="tab:blue")
    ax_att.stairs(np.where(credited, state.attention, 0.0), edges, fill=True, color="tab:red")
    for s in state.trigger_steps:
        ax_att.axvline(s, color=TRIGGER, ls="--", lw=1.2, zorder=3)
    # ▼ at the top edge whatever the y scale (x in data, y in axes coordinates).
    ax_att.plot(state.trigger_steps, np.full(len(state.trigger_steps), 1.0), "v", color=TRIGGER, ms=7,
                clip_on=False, zorder=4, transform=ax_att.get_xaxis_transform())
    ax_att.axhline(state.threshold, color="0.4", ls=":", lw=1)
    ax_att.axvline(state.step, color="k", lw=1.5)
    ax_att.set_xlim(-0.5, max(state.length, 1) - 0.5)
    ax_att.set_ylim(0, attention_ylim(state.attention, state.threshold))  # follows the row, not [0, 1]
    ax_att.yaxis.set_major_locator(MaxNLocator(3))
    ax_att.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    # One x-label as the key instead of a legend: text is most of the drawing time.
    ax_att.set_xlabel("step i attended · blue α(i←t), red α > threshold (dotted), "
                      "▼ dashed: trigger activated, black: step t", fontsize=8)
    ax_att.set_ylabel("α(i ← t)")
    verdict = "correct" if state.correct else "wrong"
    ax_att.set_title(f"t = {state.step}: true sign {_sign(state.true_sign)}, predicted {_sign(state.predicted_sign)} "
                     f"({verdict}); this row: precision {_fmt(state.row_precision)}, recall {_fmt(state.row_recall)}",
                     fontsize=9)

    fig.suptitle(f"{state.scenario} · held-out maze {state.maze_index} · trajectory {state.trajectory} · "
                 f"maze precision {_fmt(state.maze_precision)} / recall {_fmt(state.maze_recall)} "
                 f"({state.maze_rows} correct +1 rows, α > {state.threshold:.2f})", fontsize=10)
    return fig


def figure_png(fig, dpi: int = 80) -> bytes:
    """PNG bytes of a ``Figure`` (Agg canvas, no pyplot state involved).

    Draws once and encodes the RGBA buffer with light zlib compression: ``savefig``
    would be ~2x slower here, and the image only travels over localhost.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1) \
        .convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def render_inspector_png(data: MazeData, trajectory: int, step: int | None = None, threshold: float = 0.2,
                         potential_view: str = "strongest", dpi: int = 80) -> bytes:
    """The inspector's picture for any (maze, trajectory, step) as PNG bytes (the static twin)."""
    return figure_png(draw_inspector(inspector_state(data, trajectory, step, threshold, potential_view)), dpi)


# ====================================================================== the widget
class CreditInspector:
    """The interactive inspector: controls on top, one image and a summary line below.

    ``controls`` holds the ipywidgets by name (``scenario``, ``maze``, ``trajectory``,
    ``step``, ``previous``, ``next``, ``threshold``, ``potential_view``); set their
    ``value`` (or call :meth:`next_reward` / :meth:`previous_reward`) and :attr:`state`
    and :attr:`image` follow. Per-maze data is computed on first visit and kept.
    """

    def __init__(self, scenarios: Sequence[InspectorScenario], config: InspectorConfig | None = None) -> None:
        import ipywidgets as W

        if not scenarios:
            raise ValueError("scenarios must contain at least one InspectorScenario")
        self.scenarios = list(scenarios)
        self.config = config or InspectorConfig()
        self._maze_data: dict[tuple[int, int], MazeData] = {}
        self._busy = False
        self.redraw_seconds: list[float] = []
        self.redraw_cpu_seconds: list[float] = []  # process CPU time: separates our cost from CPU contention
        self.state: InspectorState | None = None

        layout = W.Layout(width="auto")
        self.controls: dict[str, Any] = {
            "scenario": W.Dropdown(options=[(s.name, i) for i, s in enumerate(self.scenarios)], value=0,
                                   description="scenario", layout=layout),
            "maze": W.Dropdown(options=[(f"held-out maze {i}", i) for i in range(self.config.n_mazes)], value=0,
                               description="maze", layout=layout),
            "trajectory": W.Dropdown(options=[("#0", 0)], value=0, description="trajectory",
                                     layout=W.Layout(width="420px")),
            "step": W.IntSlider(value=0, min=0, max=1, description="step t", continuous_update=False,
                                layout=W.Layout(width="420px")),
            "previous": W.Button(description="◀ previous reward", layout=W.Layout(width="150px")),
            "next": W.Button(description="next reward ▶", layout=W.Layout(width="150px")),
            "threshold": W.FloatSlider(value=self.config.threshold, min=0.01, max=0.99, step=0.01,
                                       description="threshold", continuous_update=False, readout_format=".2f"),
            "potential_view": W.Dropdown(options=[(v, k) for k, v in POTENTIAL_VIEWS.items()],
                                         value=self.config.potential_view, description="φ̂ view", layout=layout),
        }
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.summary = W.HTML()
        # CSS classes give the browser test (and user stylesheets) stable handles.
        for name, control in self.controls.items():
            control.add_class(f"inspector-{name}")
        self.image.add_class("inspector-image")
        self.summary.add_class("inspector-summary")
        c = self.controls
        self.widget = W.VBox([
            W.HBox([c["scenario"], c["maze"], c["potential_view"]]),
            W.HBox([c["trajectory"], c["threshold"]]),
            W.HBox([c["step"], c["previous"], c["next"]]),
            self.image, self.summary,
        ])
        c["scenario"].observe(lambda _: self._on_maze(), names="value")
        c["maze"].observe(lambda _: self._on_maze(), names="value")
        c["trajectory"].observe(lambda _: self._on_trajectory(), names="value")
        for name in ("step", "threshold", "potential_view"):
            c[name].observe(lambda _: self.redraw(), names="value")
        c["previous"].on_click(lambda _: self.previous_reward())
        c["next"].on_click(lambda _: self.next_reward())
        self._on_maze()

    # ------------------------------------------------------------------ data
    def maze_data(self, scenario: int | None = None, maze: int | None = None) -> MazeData:
        """The (cached) :class:`MazeData` of a scenario and maze (default: the selected ones)."""
        scenario = self.controls["scenario"].value if scenario is None else scenario
        maze = self.controls["maze"].value if maze is None else maze
        key = (int(scenario), int(maze))
        if key not in self._maze_data:
            self._maze_data[key] = compute_maze_data(self.scenarios[key[0]], key[1], self.config)
        return self._maze_data[key]

    @property
    def data(self) -> MazeData:
        return self.maze_data()

    # ------------------------------------------------------------ callbacks
    def _on_maze(self) -> None:
        data = self.data
        order = trajectory_order(data)
        self._busy = True
        try:
            self.controls["trajectory"].options = [(trajectory_label(data, i), i) for i in order]
            self.controls["trajectory"].value = order[0]
        finally:
            self._busy = False
        self._on_trajectory()

    def _on_trajectory(self) -> None:
        if self._busy:
            return
        data, trajectory = self.data, self.controls["trajectory"].value
        step = self.controls["step"]
        self._busy = True
        try:
            length = int(data.dataset.lengths[trajectory])
            step.max = max(length - 1, 1)  # an IntSlider needs max > min to render
            step.value = default_step(data, trajectory)
        finally:
            self._busy = False
        self.redraw()

    def _jump(self, direction: int) -> None:
        steps = self.state.reward_steps if self.state is not None else np.zeros(0, int)
        t = self.controls["step"].value
        later = steps[steps > t] if direction > 0 else steps[steps < t][::-1]
        if len(later):
            self.controls["step"].value = int(later[0])

    def next_reward(self) -> None:
        """Move the step to the next step with a non-zero reward (no-op at the last one)."""
        self._jump(+1)

    def previous_reward(self) -> None:
        """Move the step to the previous step with a non-zero reward (no-op at the first one)."""
        self._jump(-1)

    def redraw(self) -> None:
        """Recompute the view-model from the controls and replace the image."""
        if self._busy:
            return
        start, cpu_start = time.perf_counter(), time.process_time()
        c = self.controls
        data = self.data
        length = int(data.dataset.lengths[c["trajectory"].value])
        step = min(int(c["step"].value), length - 1)
        self.state = inspector_state(data, c["trajectory"].value, step, c["threshold"].value,
                                     c["potential_view"].value)
        self.image.value = figure_png(draw_inspector(self.state), self.config.dpi)
        self.redraw_seconds.append(time.perf_counter() - start)
        self.redraw_cpu_seconds.append(time.process_time() - cpu_start)
        s = self.state
        self.summary.value = (
            f"<b>maze seed</b> {s.maze_seed} · <b>step</b> {s.step}/{s.length - 1} · true {_sign(s.true_sign)}, "
            f"predicted {_sign(s.predicted_sign)} · credited steps {list(map(int, s.credited_steps))} · "
            f"trigger steps {list(map(int, s.trigger_steps))} · maze precision {_fmt(s.maze_precision)}, "
            f"recall {_fmt(s.maze_recall)} ({s.maze_rows} rows) · redraw {self.redraw_seconds[-1] * 1000:.0f} ms"
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def measure_redraw(inspector: CreditInspector, n_changes: int = 10) -> dict[str, float]:
    """Time ``n_changes`` control changes on already-visited mazes (step, trajectory, threshold in turn).

    Returns mean / max wall-clock seconds per redraw (what a user feels when moving a
    control) and the mean process CPU seconds (the same without other processes' load).
    Afterwards (also on error) every control, :attr:`CreditInspector.state`, the image and
    the summary are put back to what they were before, without another redraw: a
    notebook that times a live widget still shows the configured view.
    """
    if isinstance(n_changes, bool) or not isinstance(n_changes, (int, np.integer)) or n_changes < 1:
        raise ValueError(f"n_changes must be a positive integer, got {n_changes!r}")
    c = inspector.controls
    saved_values = {name: control.value for name, control in c.items() if hasattr(control, "value")}
    saved_options = c["trajectory"].options
    saved_step_max = c["step"].max
    saved_view = (inspector.state, inspector.image.value, inspector.summary.value)
    n_before = len(inspector.redraw_seconds)
    try:
        options = [v for _, v in c["trajectory"].options]
        for k in range(n_changes):
            kind = k % 3
            if kind == 0:
                c["step"].value = (c["step"].value + 7) % (c["step"].max + 1)
            elif kind == 1:
                c["trajectory"].value = options[(options.index(c["trajectory"].value) + 1) % len(options)]
            else:
                c["threshold"].value = 0.1 if c["threshold"].value > 0.15 else 0.2
        times = np.asarray(inspector.redraw_seconds[n_before:])
        cpu = np.asarray(inspector.redraw_cpu_seconds[n_before:])
    finally:
        _restore(inspector, saved_values, saved_options, saved_step_max, saved_view)
    return {"mean_s": float(times.mean()), "max_s": float(times.max()), "mean_cpu_s": float(cpu.mean()),
            "n": int(len(times))}


def _restore(inspector: CreditInspector, values: dict[str, Any], trajectory_options, step_max: int,
             view: tuple) -> None:
    """Put the controls and the shown picture back (callbacks muted: the saved picture is exact)."""
    c = inspector.controls
    busy = inspector._busy
    inspector._busy = True  # every observer returns early: no redraw, no default-step reset
    try:
        # Order matters: the maze's trajectory list before the trajectory, the step's max before its value.
        for name in ("scenario", "maze"):
            c[name].value = values[name]
        if c["trajectory"].options != trajectory_options:
            c["trajectory"].options = trajectory_options
        c["trajectory"].value = values["trajectory"]
        c["step"].max = step_max
        for name in ("step", "threshold", "potential_view"):
            c[name].value = values[name]
    finally:
        inspector._busy = busy
    inspector.state, inspector.image.value, inspector.summary.value = view
