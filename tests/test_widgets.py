"""The credit inspector: view-model data on hand-checkable inputs, and the widget driven from Python.

The reward model here is the *oracle* stand-in of ``tests/oracle_credit.py``:
it predicts the sign exactly and puts all its attention on the steps that
activated a trigger. Its credit is perfect by construction, so precision/recall
must be exactly 1 and the credit must sit on the trigger cell; anything else is
a bug in the inspector's bookkeeping.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import secretlab.inspector_data as inspector_data
import secretlab.widgets as widgets
from oracle_credit import OracleModel, fake_potential
from secretlab.envs.triggers import TriggersConfig
from secretlab.widgets import (
    CreditInspector,
    InspectorConfig,
    InspectorScenario,
    compute_maze_data,
    inspector_state,
    potential_grid,
    render_inspector_png,
    row_precision_recall,
)

ENV = TriggersConfig(size=5, n_triggers=1, n_prizes=1, max_steps=60)
ENV2 = TriggersConfig(size=5, n_triggers=2, n_prizes=1, max_steps=60)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setattr(inspector_data, "maze_potential", fake_potential)  # where compute_maze_data looks


CONFIG = InspectorConfig(n_mazes=3, n_trajectories=32, n_potential_trajectories=10)


def scenario(env=ENV, name="5x5 1T/1P oracle"):
    return InspectorScenario(name, env, model=OracleModel(env.n_triggers))


# ------------------------------------------------------------------ pure helpers
def test_row_precision_recall_by_hand():
    p, r = row_precision_recall(np.array([0.1, 0.6, 0.3]), np.array([False, True, False]), 0.2)
    assert (p, r) == (0.5, 1.0)
    p, r = row_precision_recall(np.array([0.1, 0.1]), np.array([True, False]), 0.2)
    assert np.isnan(p) and r == 0.0


def test_potential_grid_views_by_hand():
    env = TriggersConfig(size=3, n_triggers=1, n_prizes=1)
    table = np.zeros(env.n_states)  # key = cell * 4 + bits; bit 0 trigger present, bit 1 prize present
    table[4 * 4 + 2] = 0.7   # centre cell, trigger gone, prize present
    table[0 * 4 + 3] = -0.4  # corner, both present
    table[0 * 4 + 2] = 0.1   # corner, trigger gone
    assert potential_grid(table, env, "all_triggers_active")[1, 1] == 0.7
    assert potential_grid(table, env, "all_triggers_active")[0, 0] == 0.1
    assert potential_grid(table, env, "no_trigger_active")[0, 0] == -0.4
    table[2 * 4 + 1] = -5.0  # cell (0, 2), prize gone: a terminal state, never used by the shaping
    strongest = potential_grid(table, env, "strongest")
    assert strongest[1, 1] == 0.7 and strongest[0, 0] == -0.4 and strongest[2, 2] == 0.0
    assert strongest[0, 2] == 0.0
    with pytest.raises(ValueError, match="potential_view"):
        potential_grid(table, env, "max")
    with pytest.raises(ValueError, match="table"):
        potential_grid(table[:-1], env)


def test_bad_config_values_name_the_parameter():
    with pytest.raises(ValueError, match="threshold"):
        InspectorConfig(threshold=1.5)
    with pytest.raises(ValueError, match="n_mazes"):
        InspectorConfig(n_mazes=0)
    with pytest.raises(ValueError, match="potential_view"):
        InspectorConfig(potential_view="mean")


# ------------------------------------------------------------------ view-model
@pytest.fixture(scope="module")
def oracle_data(tmp_path_factory):
    os.environ["SECRETLAB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    saved = inspector_data.maze_potential
    inspector_data.maze_potential = fake_potential
    try:
        data = [compute_maze_data(scenario(), i, CONFIG) for i in range(2)]
    finally:
        inspector_data.maze_potential = saved
        del os.environ["SECRETLAB_CACHE"]
    return data


def test_maze_data_shapes_and_disjoint_mazes(oracle_data):
    a, b = oracle_data
    L = int(a.dataset.lengths.max())
    assert a.attention.shape == (32, L, L) and a.predicted_sign.shape == (32, L)
    assert a.maze_seed != b.maze_seed
    assert len(set(a.dataset.maze_seeds)) == 1  # one fixed maze per entry
    # Real steps' attention rows sum to 1 (causal softmax), padding rows are 0.
    sums = a.attention.sum(-1)
    mask = a.dataset.mask[:, :L]
    assert np.allclose(sums[mask], 1.0) and np.allclose(sums[~mask], 0.0)


def test_oracle_credit_lands_on_the_trigger(oracle_data):
    data = oracle_data[0]
    hits = [n for n in range(data.n_trajectories) if (data.true_sign[n] == 1).any()]
    assert hits, "need a trajectory with a +1 in this maze (random policy, 60 steps on 5x5)"
    n = hits[0]
    state = inspector_state(data, n)  # default step: the first correct +1
    assert state.true_sign == 1 and state.predicted_sign == 1 and state.correct
    trigger_step = int(state.trigger_steps[0])
    assert state.attention[trigger_step] == pytest.approx(1.0)
    assert state.attention[state.step + 1:].sum() == 0  # no look-ahead
    # The credited cell is the trigger: the cell the activating action entered.
    trigger = tuple(state.triggers[0])
    assert state.cell_credit[trigger] == pytest.approx(1.0)
    assert np.nansum(state.cell_credit) == pytest.approx(1.0)
    assert (state.row_precision, state.row_recall) == (1.0, 1.0)
    assert (state.maze_precision, state.maze_recall) == (1.0, 1.0)
    assert state.maze_rows == int(((data.true_sign == 1) & (data.predicted_sign == 1)).sum())
    assert list(state.credited_steps) == [trigger_step]
    # Potential view: our fake table is the cell index on the 'all triggers active' mask.
    assert state.potential_grid[2, 3] == 2 * 5 + 3


def test_state_rejects_out_of_range_inputs(oracle_data):
    data = oracle_data[0]
    with pytest.raises(ValueError, match="step"):
        inspector_state(data, 0, step=int(data.dataset.lengths[0]))
    with pytest.raises(ValueError, match="trajectory"):
        inspector_state(data, data.n_trajectories)
    with pytest.raises(ValueError, match="threshold"):
        inspector_state(data, 0, threshold=0.0)


def test_render_png_for_any_step(oracle_data):
    data = oracle_data[0]
    a = render_inspector_png(data, 0, step=0)
    b = render_inspector_png(data, 0, step=int(data.dataset.lengths[0]) - 1)
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and b[:8] == b"\x89PNG\r\n\x1a\n"
    assert a != b


def test_real_reward_model_plumbing():
    """predict() on the project's RewardModel: causal rows summing to 1, signs in {-1, 0, 1}."""
    from secretlab.data import DatasetConfig, collect
    from secretlab.model import ModelConfig, RewardModel

    torch.manual_seed(0)
    model = RewardModel(ModelConfig(d_model=16, d_ff=16, conv_channels=(4,)))
    ds = collect(DatasetConfig(ENV, n_trajectories=5, seed=1, split="heldout", fixed_maze_seed=3))
    signs, att = widgets.predict(model, ds, batch_size=2)
    L = int(ds.lengths.max())
    assert att.shape == (5, L, L)
    assert np.allclose(np.triu(att, k=1), 0.0)
    assert np.allclose(att.sum(-1)[ds.mask[:, :L]], 1.0, atol=1e-5)
    assert set(np.unique(signs)) <= {-1, 0, 1}


# ------------------------------------------------------------------ the widget, driven from Python
def test_widget_follows_its_controls():
    inspector = CreditInspector([scenario(), scenario(ENV2, "5x5 2T/1P oracle")], CONFIG)
    c = inspector.controls
    first = inspector.state
    first_png = inspector.image.value
    assert first.maze_index == 0 and first_png[:4] == b"\x89PNG"

    # Maze: new layout, new seed, new picture, trajectory list rebuilt.
    c["maze"].value = 1
    s = inspector.state
    assert s.maze_index == 1 and s.maze_seed != first.maze_seed
    assert inspector.image.value != first_png
    assert c["trajectory"].value == [v for _, v in c["trajectory"].options][0]
    assert c["step"].max == max(s.length - 1, 1)

    # Step: the attention row is the one of the chosen step.
    c["step"].value = 0
    assert inspector.state.step == 0 and inspector.state.attention[0] == pytest.approx(1.0)
    assert inspector.state.attention[1:].sum() == 0

    # Next / previous reward walk the non-zero reward steps.
    rewards = list(inspector.state.reward_steps)
    if rewards:
        inspector.next_reward()
        assert inspector.state.step == rewards[0]
        inspector.previous_reward()
        assert inspector.state.step == rewards[0]  # no earlier reward: stays
        for r in rewards[1:]:
            inspector.next_reward()
            assert inspector.state.step == r

    # Threshold and potential view.
    c["threshold"].value = 0.55
    assert inspector.state.threshold == 0.55
    before = inspector.state.potential_grid.copy()
    c["potential_view"].value = "no_trigger_active"
    assert inspector.state.potential_view == "no_trigger_active"
    assert not np.array_equal(before, inspector.state.potential_grid)

    # Trajectory.
    options = [v for _, v in c["trajectory"].options]
    c["trajectory"].value = options[1]
    assert inspector.state.trajectory == options[1]

    # Scenario: another maze distribution (2 triggers) and its own data.
    c["scenario"].value = 1
    assert inspector.state.scenario == "5x5 2T/1P oracle" and len(inspector.state.triggers) == 2
    assert len(inspector._maze_data) == 3  # (0, 0), (0, 1), (1, 1): computed once each

    # Going back is a cache hit: no recomputation, same data object.
    data = inspector.maze_data(0, 0)
    c["scenario"].value = 0
    c["maze"].value = 0
    assert inspector.data is data
    assert len(inspector.redraw_cpu_seconds) == len(inspector.redraw_seconds)

    # measure_redraw: one redraw per control change, wall and CPU time reported.
    timing = widgets.measure_redraw(inspector, n_changes=3)
    assert timing["n"] == 3 and 0 < timing["mean_s"] <= timing["max_s"]
    assert 0 < timing["mean_cpu_s"]


def test_real_potential_of_the_oracle_lights_the_trigger_cell(monkeypatch, tmp_path):
    """With perfect credit, φ̂(trigger cell, trigger taken, prize present) = (#episodes with a +1) / |D|."""
    from secretlab.data import DatasetConfig, load_or_collect
    from secretlab.envs.triggers import encode_state

    monkeypatch.undo()  # the real secretlab.shaping potential, in a private cache
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    config = InspectorConfig(n_mazes=1, n_trajectories=4, n_potential_trajectories=80)
    data = compute_maze_data(scenario(), 0, config)
    target = load_or_collect(DatasetConfig(ENV, 80, config.seed, split="target", fixed_maze_seed=data.maze_seed))
    _, triggers, _ = data.layout
    key = encode_state(triggers[0], np.array([False]), np.array([True]), ENV.size)
    n_success = int((target.rewards > 0).any(1).sum())
    assert n_success > 0
    assert data.potential[key] == pytest.approx(n_success / 80)
    grid = potential_grid(data.potential, ENV, "all_triggers_active")
    assert grid[tuple(triggers[0])] == pytest.approx(n_success / 80)


# ------------------------------------------------------------------ users' view of the inspector
def test_measure_redraw_puts_every_control_and_the_picture_back():
    """Notebook 08 times the live widget: afterwards it must show the configured view again."""
    inspector = CreditInspector([scenario()], CONFIG)
    c = inspector.controls
    options = [v for _, v in c["trajectory"].options]
    # A non-default configuration, so a reset to defaults would not pass either.
    c["trajectory"].value = options[2]
    c["step"].value = min(3, c["step"].max)
    c["threshold"].value = 0.33
    c["potential_view"].value = "all_triggers_active"
    names = ("scenario", "maze", "trajectory", "step", "threshold", "potential_view")
    before = {name: c[name].value for name in names}
    step_max, trajectory_options = c["step"].max, c["trajectory"].options
    state, png, summary = inspector.state, inspector.image.value, inspector.summary.value
    n_redraws = len(inspector.redraw_seconds)

    timing = widgets.measure_redraw(inspector, n_changes=9)

    assert timing["n"] == 9 and len(inspector.redraw_seconds) == n_redraws + 9  # it did move the controls
    assert {name: c[name].value for name in names} == before
    assert c["step"].max == step_max and c["trajectory"].options == trajectory_options
    assert inspector.state is state and inspector.image.value == png and inspector.summary.value == summary
    # The restored picture is the one the restored controls draw (nothing stale).
    inspector.redraw()
    s = inspector.state
    assert (s.trajectory, s.step, s.threshold, s.potential_view) == \
        (before["trajectory"], before["step"], 0.33, "all_triggers_active")
    assert inspector.image.value == png
    # And the widget still reacts to its controls.
    c["threshold"].value = 0.5
    assert inspector.state.threshold == 0.5
    with pytest.raises(ValueError, match="n_changes"):
        widgets.measure_redraw(inspector, n_changes=0)


def _tiny_trained_model():
    import pandas as pd

    from secretlab.model import ModelConfig, RewardModel
    from secretlab.training import TrainConfig, TrainedModel

    torch.manual_seed(0)
    config = ModelConfig(d_model=16, d_ff=16, conv_channels=(4,))
    return TrainedModel(model=RewardModel(config), model_config=config, train_config=TrainConfig(),
                        history=pd.DataFrame(), confusion=np.zeros((3, 3), np.int64))


def test_scenario_accepts_a_trained_model_like_the_loader_path():
    from secretlab.model import RewardModel

    trained = _tiny_trained_model()
    direct = InspectorScenario("direct", ENV, model=trained)
    assert direct.model is trained.model and isinstance(direct.get_model(), RewardModel)
    lazy = InspectorScenario("lazy", ENV, loader=lambda: trained)
    bare = InspectorScenario("bare", ENV, model=trained.model)
    config = InspectorConfig(n_mazes=1, n_trajectories=4, n_potential_trajectories=5)
    a, b, c = (compute_maze_data(s, 0, config) for s in (direct, lazy, bare))
    assert np.array_equal(a.attention, b.attention) and np.array_equal(a.attention, c.attention)
    assert lazy.model is trained.model
    # The widget takes it too.
    inspector = CreditInspector([InspectorScenario("trained", ENV, model=trained)], config)
    assert inspector.image.value[:4] == b"\x89PNG"


def test_scenario_rejects_a_non_model_naming_model():
    for junk in ("checkpoint.pt", object(), {"model": 3}):
        with pytest.raises(ValueError, match="model"):
            InspectorScenario("junk", ENV, model=junk)
    with pytest.raises(ValueError, match="model or a loader"):
        InspectorScenario("empty", ENV)
    bad_loader = InspectorScenario("bad loader", ENV, loader=lambda: "not a model")
    with pytest.raises(ValueError, match="model"):
        bad_loader.get_model()


def test_attention_strip_scale_follows_the_row(oracle_data):
    import dataclasses

    data = oracle_data[0]
    state = inspector_state(data, 0, step=min(5, int(data.dataset.lengths[0]) - 1), threshold=0.01)
    row = np.zeros_like(state.attention)
    row[: state.step + 1] = np.linspace(0.005, 0.02, state.step + 1)
    small = dataclasses.replace(state, attention=row)

    def strip_top(s):
        ax = widgets.draw_inspector(s).axes[2]
        assert ax.get_ylabel() == "α(i ← t)"  # the strip, not a maze panel
        return ax.get_ylim()

    low, top = strip_top(small)
    assert low == 0 and top == pytest.approx(0.02 * 1.15)  # a 0.02 row fills the strip
    # A threshold above the row keeps its dotted line in view.
    low, top = strip_top(dataclasses.replace(small, threshold=0.2))
    assert top == pytest.approx(0.2 * 1.1) and top > 0.2
    # A row with a weight of 1 (the oracle's credit) still fits.
    full = inspector_state(data, 0, step=state.step, threshold=0.2)
    assert strip_top(full)[1] == pytest.approx(max(full.attention.max() * 1.15, 0.22))
    assert widgets.attention_ylim(np.zeros(3), 0.5) == pytest.approx(0.55)


def test_maze_panel_has_a_legend_naming_agent_start_triggers_prizes(oracle_data):
    state = inspector_state(oracle_data[0], 0)
    fig = widgets.draw_inspector(state)
    legend = fig.axes[0].get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == list(widgets.MAZE_LEGEND)
    for word in ("agent", "start", "trigger", "prize"):
        assert any(word in label for label in labels)
    assert widgets.figure_png(fig)[:4] == b"\x89PNG"  # the static twin still renders
