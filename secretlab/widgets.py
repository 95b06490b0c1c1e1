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

The data and view-model live in :mod:`secretlab.inspector_data`, the drawing in
:mod:`secretlab.inspector_drawing`; every name stays importable from here.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from secretlab.inspector_data import *  # noqa: F401,F403  (the public names, re-exported)
from secretlab.inspector_data import (InspectorConfig, InspectorScenario, InspectorState, MazeData, POTENTIAL_VIEWS,
                                      compute_maze_data, default_step, inspector_state, trajectory_label,
                                      trajectory_order)
from secretlab.inspector_drawing import *  # noqa: F401,F403
from secretlab.inspector_drawing import _fmt, _sign, draw_inspector, figure_png


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
