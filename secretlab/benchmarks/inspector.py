"""Credit inspector responsiveness: a control change against recomputing everything per change.

Ours: :class:`secretlab.widgets.CreditInspector` keeps each visited maze's
trajectories, attention matrices and potential, so a control change only
builds the view-model and draws one PNG. Reference: the naive widget that, on
every change, re-runs the reward model on the maze's trajectories, re-estimates
φ̂ from |D| trajectories and then draws (datasets still come from the disk
cache, so the reference is not charged for collection).

The model is the paper's architecture with seeded, untrained weights: the time
does not depend on what the weights learned, and the bench stays independent of
the training cache. Scenario: 8×8 with 3 triggers and 1 prize (T = 200).
"""
from __future__ import annotations

import time

import numpy as np

from secretlab.bench import Measurement, rate_measurement
from secretlab.envs.triggers import TriggersConfig

SCENARIO = TriggersConfig(size=8, n_triggers=3, n_prizes=1)


def _inspector(config):
    import torch

    from secretlab.model import ModelConfig, RewardModel
    from secretlab.widgets import CreditInspector, InspectorScenario

    torch.manual_seed(0)
    model = RewardModel(ModelConfig()).eval()
    return CreditInspector([InspectorScenario("8x8 3T/1P (untrained weights)", SCENARIO, model=model)], config)


def bench_inspector_redraw(quick: bool) -> list[Measurement]:
    from secretlab.widgets import (
        InspectorConfig,
        compute_maze_data,
        draw_inspector,
        figure_png,
        inspector_state,
        measure_redraw,
    )

    config = InspectorConfig(n_mazes=2, n_trajectories=24, n_potential_trajectories=100 if quick else 200)
    n_changes = 6 if quick else 15
    n_reference = 2 if quick else 4
    inspector = _inspector(config)  # computes maze 0 once (not timed: the user waits for it once)
    ours = measure_redraw(inspector, n_changes)

    scenario = inspector.scenarios[0]
    trajectory = inspector.controls["trajectory"].value
    reference_times = []
    for k in range(n_reference):
        start = time.perf_counter()
        data = compute_maze_data(scenario, 0, config)  # the naive widget recomputes this per change
        state = inspector_state(data, trajectory, None, 0.2 if k % 2 else 0.1)
        figure_png(draw_inspector(state), config.dpi)
        reference_times.append(time.perf_counter() - start)
    reference = float(np.mean(reference_times))

    note = (f"8x8 3T/1P, {config.n_trajectories} trajectories/maze, |D|={config.n_potential_trajectories}, "
            f"{ours['n']} changes, max {ours['max_s']:.2f} s, mean CPU {ours['mean_cpu_s']:.2f} s")
    return [
        Measurement("inspector_redraw_seconds", ours["mean_s"], "s", "recompute maze data + draw per change",
                    reference, reference / ours["mean_s"], note),
        rate_measurement("inspector_redraws_per_s", 1.0 / ours["mean_s"], "recompute maze data + draw per change",
                         1.0 / reference, "redraws/s"),
    ]
