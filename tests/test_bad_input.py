"""Nothing silent, nothing unclear: every bad input gives a ValueError (or one CLI error line) naming it.

Grouped by entry point: the command line (fast: each case fails before any notebook or
benchmark runs), notebook parameters (:func:`secretlab.notebook.setup` and the runner's
check of papermill parameters) and the Python API.
"""
from __future__ import annotations

import math
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from secretlab.envs.triggers import TriggersConfig

ROOT = Path(__file__).resolve().parent.parent
NAN, INF = float("nan"), float("inf")


# =============================================================================
# Command line
# =============================================================================
def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "secretlab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args, expected", [
    (["reproduce", "--only", ""], r"--only names must be non-empty, got ''; allowed: \[.*'01_triggers'"),
    (["reproduce", "--only", "typo"], r"--only 'typo' matches no notebook; allowed: \['00_quickstart', "
                                      r"'01_triggers'.*'08_inspector'\]"),
    (["reproduce", "--only", "01", "--kernel", "nosuchkernel"],
     r"--kernel must be an installed Jupyter kernel, got 'nosuchkernel'; available: \[.*'python3'"),
    (["reproduce", "--only", "01", "--out", "README.md"], r"--out must be a folder .*'README.md', an existing file"),
    (["reproduce", "--profile", "huge"], r"profile must be one of \('smoke', 'default', 'paper'\), got 'huge'"),
    (["reproduce", "--only", "01", "--seed", "-1"], r"seed must be an integer >= 0, got -1"),
    (["bench", "--only", "typo"], r"--only 'typo' matches no benchmark; allowed: \[.*'env_stepping'"),
])
def test_cli_rejects_bad_arguments_in_one_line(args, expected, tmp_path):
    if "--out" not in args and args[0] == "reproduce":
        args = [*args, "--out", str(tmp_path / "out")]
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(expected, lines[0]), proc.stderr
    assert not (tmp_path / "out").exists()  # rejected before anything was written


# =============================================================================
# Notebook parameters: secretlab.notebook.setup
# =============================================================================
def _setup(tmp_path, stem="03_credit", profile="smoke", seed=0, **overrides):
    from secretlab.notebook import setup

    return setup(stem, profile, seed, tmp_path / "out", **overrides)


@pytest.mark.parametrize("seed", [1.5, -1, "0", True, None, np.float64(2.0)])
def test_setup_rejects_a_bad_seed(tmp_path, seed):
    with pytest.raises(ValueError, match=rf"seed must be a non-negative integer, got {re.escape(repr(seed))}"):
        _setup(tmp_path, seed=seed)


@pytest.mark.parametrize("stem, overrides, expected", [
    ("03_credit", dict(n_seeds=0), "n_seeds must be an integer >= 1, got 0"),
    ("03_credit", dict(n_seeds=-2), "n_seeds must be an integer >= 1, got -2"),
    ("03_credit", dict(n_seeds=1.5), "n_seeds must be an integer >= 1, got 1.5"),
    ("03_credit", dict(n_seeds="3"), "n_seeds must be an integer >= 1, got '3'"),
    ("03_credit", dict(n_seeds=True), "n_seeds must be an integer >= 1, got True"),
    ("03_credit", dict(n_eval_trajectories=0), "n_eval_trajectories must be an integer >= 1, got 0"),
    # None in every profile (the REWARD_MODEL budget): still a count
    ("03_credit", dict(n_train_trajectories=0), "n_train_trajectories must be an integer >= 1, got 0"),
    ("02_reward_model", dict(n_train_trajectories=2.5), "n_train_trajectories must be an integer >= 1, got 2.5"),
    ("01_triggers", dict(n_episodes=0), "n_episodes must be an integer >= 1, got 0"),
    ("04_in_domain_transfer", dict(n_target_mazes=0), "n_target_mazes must be an integer >= 1, got 0"),
    ("04_in_domain_transfer", dict(n_target_trajectories=-5), "n_target_trajectories must be an integer >= 1"),
    ("05_bigger_mazes", dict(n_episodes=10.0), "n_episodes must be an integer >= 1, got 10.0"),
    ("07_keys_doors", dict(n_source_trajectories=0), "n_source_trajectories must be an integer >= 1, got 0"),
    ("08_inspector", dict(n_mazes=0), "n_mazes must be an integer >= 1, got 0"),
    ("00_quickstart", dict(lr=INF), "lr must be a finite number, got inf"),
    ("00_quickstart", dict(lr=NAN), "lr must be a finite number, got nan"),
    ("00_quickstart", dict(lr="3e-4"), r"lr must be a finite number \(like the profile's 0.003\), got '3e-4'"),
    ("00_quickstart", dict(max_steps=True), "max_steps must be an integer .*got True"),
    ("00_quickstart", dict(size=8.0), "size must be an integer .*got 8.0"),
    ("03_credit", dict(threshold=NAN), "threshold must be a finite number, got nan"),
    ("04_in_domain_transfer", dict(sensitivity=10), r"sensitivity must be a list .*got 10"),
    ("04_in_domain_transfer", dict(sensitivity=[10, 1.5]), r"sensitivity\[1\] must be an integer .*got 1.5"),
    ("04_in_domain_transfer", dict(credit_signs=1), "credit_signs must be a string .*got 1"),
    ("04_in_domain_transfer", dict(scenario={"size": 8.5, "n_triggers": 1, "n_prizes": 1}),
     r"scenario\['size'\] must be an integer .*got 8.5"),
    ("03_credit", dict(scenarios=[{"size": 8, "n_trigers": 1, "n_prizes": 1}]),
     r"scenarios\[0\] must be a dict with the keys \['n_prizes', 'n_triggers', 'size'\].*"
     r"unknown key\(s\) \['n_trigers'\]; did you mean 'n_triggers'\?"),
    ("03_credit", dict(scenarios=[{"size": 8, "n_triggers": 1}]), r"scenarios\[0\] .*missing key\(s\) \['n_prizes'\]"),
    # notebook 06 reads only n_triggers/n_prizes of a scenario: a size would be dropped silently
    ("06_inverted_dynamics", dict(scenarios=[{"size": 12, "n_triggers": 1, "n_prizes": 1}]),
     r"scenarios\[0\] must be a dict with the keys \['n_prizes', 'n_triggers'\].*unknown key\(s\) \['size'\]"),
    ("06_inverted_dynamics", dict(source_mazes=2.5), "source_mazes must be a string or an integer .*got 2.5"),
    ("01_triggers", dict(n_episode=3), r"unknown parameter\(s\) \['n_episode'\].*did you mean 'n_episodes'\?"),
])
def test_setup_rejects_bad_overrides(tmp_path, stem, overrides, expected):
    with pytest.raises(ValueError, match=expected):
        _setup(tmp_path, stem, **overrides)


@pytest.mark.parametrize("stem, overrides", [
    ("00_quickstart", dict(lr=1)),  # an int where the profile has a float
    ("06_inverted_dynamics", dict(source_mazes=3)),  # "fresh", "target" or an int K
    ("04_in_domain_transfer", dict(sensitivity=(10, 100))),
    ("03_credit", dict(n_seeds=np.int64(2), scenarios=[{"size": 5, "n_triggers": 0, "n_prizes": 1}])),
])
def test_setup_accepts_good_overrides(tmp_path, stem, overrides):
    run = _setup(tmp_path, stem, **overrides)
    assert all(run[k] == v for k, v in overrides.items() if not isinstance(v, list))


def test_setup_accepts_every_profile_table_as_overrides(tmp_path):
    from secretlab.profiles import NOTEBOOKS

    for stem, tables in NOTEBOOKS.items():
        for profile, table in tables.items():
            assert _setup(tmp_path, stem, profile, **table).params == table


def test_setup_rejects_a_file_as_output_dir(tmp_path):
    from secretlab.notebook import setup

    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match=r"output_dir must be a folder, got '.*file.txt', an existing file"):
        setup("01_triggers", "smoke", 0, tmp_path / "file.txt")


def test_setup_rejects_an_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match=r"profile must be one of \('smoke', 'default', 'paper'\), got 'fast'"):
        _setup(tmp_path, profile="fast")


# =============================================================================
# Notebook parameters: the runner's check of what papermill injects
# =============================================================================
def _notebook(tmp_path, source='profile = "default"\nseed = 0\noutput_dir = "."\nn_episodes = None', tag=True):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell(source)
    if tag:
        cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "99_tiny.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("parameters, expected", [
    ({"profile": "smoke", "n_episode": 3}, r"parameter\(s\) \['n_episode'\] are not defined by the parameters cell "
                                           r"of 99_tiny.ipynb; allowed: \['profile', 'seed', 'output_dir', "
                                           r"'n_episodes'\]; did you mean 'n_episodes'\?"),
    ({"n_seeds": 2}, r"parameter\(s\) \['n_seeds'\] are not defined"),
    ({"seed": 0, "lr": 0.1, "epochs": 3}, r"parameter\(s\) \['lr', 'epochs'\] are not defined"),
])
def test_runner_rejects_parameters_the_notebook_does_not_define(tmp_path, parameters, expected):
    from secretlab.runner import check_parameters

    with pytest.raises(ValueError, match=expected):
        check_parameters(_notebook(tmp_path), parameters)


def test_runner_rejects_parameters_of_a_notebook_without_a_parameters_cell(tmp_path):
    from secretlab.runner import check_parameters

    with pytest.raises(ValueError, match=r"\['profile'\] are not defined .*allowed: \[\]"):
        check_parameters(_notebook(tmp_path, tag=False), {"profile": "smoke"})


def test_run_notebook_checks_extra_parameters_before_executing(tmp_path, monkeypatch):
    import papermill as pm

    from secretlab.runner import list_notebooks, run_notebook

    monkeypatch.setattr(pm, "execute_notebook", lambda *a, **k: pytest.fail("the notebook must not run"))
    book = next(b for b in list_notebooks() if b.stem == "01_triggers")
    with pytest.raises(ValueError, match=r"\['n_episode'\] are not defined .*did you mean 'n_episodes'\?"):
        run_notebook(book, tmp_path / "out", "smoke", extra_parameters={"n_episode": 10})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kwargs, expected", [
    (dict(kernel="nosuchkernel"), r"--kernel must be an installed Jupyter kernel, got 'nosuchkernel'"),
    (dict(seed=1.5), "seed must be an integer >= 0, got 1.5"),
    (dict(only=["   "]), "--only names must be non-empty"),
])
def test_reproduce_checks_before_running_anything(tmp_path, kwargs, expected):
    from secretlab.runner import reproduce

    with pytest.raises(ValueError, match=expected):
        reproduce("smoke", kwargs.pop("only", ["01"]), tmp_path / "out", progress=False, echo=lambda s: None, **kwargs)
    assert not (tmp_path / "out").exists()


def test_reproduce_rejects_an_out_folder_inside_a_file(tmp_path):
    from secretlab.runner import reproduce

    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match=r"--out must be a folder .*, inside the file '.*file.txt'"):
        reproduce("smoke", ["01"], tmp_path / "file.txt" / "run", progress=False, echo=lambda s: None)


def test_bench_rejects_an_empty_name():
    from secretlab import bench

    with pytest.raises(ValueError, match=r"--only '' matches no benchmark; allowed: \[.*'potential'"):
        bench.run(quick=True, only=["potential", ""], echo=None)


# =============================================================================
# Python API
# =============================================================================
@pytest.mark.parametrize("kwargs, expected", [
    (dict(lr=INF), "lr must be a finite number > 0, got inf"),
    (dict(lr=NAN), "lr must be a finite number > 0, got nan"),
    (dict(lr=0.0), "lr must be a finite number > 0, got 0.0"),
    (dict(lr="1e-3"), "lr must be a finite number > 0, got '1e-3'"),
    (dict(class_weights=(0.5, NAN, 0.5)), r"class_weights must be 3 finite non-negative numbers, got \(0.5, nan"),
    (dict(class_weights=(INF, 0.02, 0.5)), r"class_weights must be 3 finite non-negative numbers, got \(inf"),
    (dict(weight_decay=NAN), "weight_decay must be a finite number >= 0, got nan"),
    (dict(weight_decay=-0.1), "weight_decay must be a finite number >= 0, got -0.1"),
    (dict(grad_clip=NAN), "grad_clip must be a number > 0, got nan"),
    (dict(warmup_epochs=NAN), "warmup_epochs must be in"),
    (dict(val_fraction=NAN), "val_fraction must be in"),
    (dict(batch_size=2.5), "batch_size must be an integer >= 1, got 2.5"),
])
def test_train_config_rejects_non_finite_and_bad_values(kwargs, expected):
    from secretlab.training import TrainConfig

    with pytest.raises(ValueError, match=expected):
        TrainConfig(**kwargs)


def test_train_config_keeps_infinite_grad_clip_and_its_cache_key():
    """Validation only: the fields (and so every cached model's key) are unchanged."""
    from dataclasses import fields

    from secretlab.training import TrainConfig

    assert TrainConfig(grad_clip=INF).grad_clip == INF
    assert [f.name for f in fields(TrainConfig)] == [
        "batch_size", "lr", "lr_schedule", "warmup_epochs", "weight_decay", "max_epochs", "patience",
        "val_fraction", "class_weights", "grad_clip", "bucket_batches", "seed"]


def _nan_dataset(n=6, T=5):
    obs = np.zeros((n, T, 3, 3, 3), np.float32)
    obs[:, 1] = np.nan  # a corrupted observation makes every loss NaN
    rewards = np.zeros((n, T), np.float32)
    rewards[:, 3] = 1
    return SimpleNamespace(obs=obs, actions=np.zeros((n, T), np.int64), rewards=rewards, lengths=np.full(n, T))


def test_nan_loss_stops_training_and_caches_nothing(fresh_cache):
    from secretlab.model import ModelConfig
    from secretlab.checkpoints import load_or_train
    from secretlab.training import TrainConfig

    torch.set_num_threads(1)
    config = ModelConfig(d_model=8, d_ff=8, conv_channels=(4,))
    with pytest.raises(FloatingPointError, match=r"training loss became nan at epoch 1, step 1; training stopped "
                                                 r"and nothing was cached \(lr=0.001"):
        load_or_train(_nan_dataset(), config, TrainConfig(batch_size=2, max_epochs=2), progress=False)
    assert [p for p in fresh_cache.rglob("*") if p.is_file()] == []


def _stand_in(n_triggers=1):
    """A model whose every prediction is 'no reward': it predicts no non-zero reward correctly."""

    class NothingModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, obs, actions, mask):
            B, T = actions.shape
            logits = torch.nn.functional.one_hot(torch.ones(B, T, dtype=torch.long), 3).float()
            return logits, torch.eye(T)[None].expand(B, T, T) * mask[:, :, None]

    return NothingModel()


@pytest.fixture(scope="module")
def target_data():
    from secretlab.data import DatasetConfig, collect

    env = TriggersConfig(4, 1, 1, max_steps=25)
    data = collect(DatasetConfig(env, 40, seed=1, split="target", fixed_maze_seed=5))
    assert (data.rewards != 0).any()  # there are rewards to predict
    return env, data


def test_zero_secret_potential_warns_naming_the_maze(target_data):
    from secretlab.shaping import secret_potential

    env, data = target_data
    with pytest.warns(RuntimeWarning, match=r"maze_seed=5: no correct non-zero prediction was found \(0 of \d+"):
        pot = secret_potential(_stand_in(), env, 5, 40, 0.9, dataset=data)
    assert not pot.table.any()


def test_non_zero_secret_potential_does_not_warn(target_data):
    sys.path.insert(0, str(Path(__file__).parent))
    from oracle_credit import OracleModel

    from secretlab.shaping import secret_potential

    env, data = target_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        pot = secret_potential(OracleModel(env.n_triggers), env, 5, 40, 0.9, dataset=data)
    assert pot.table.any()


@pytest.mark.parametrize("maze_seed", [1.7, -1, "3", True, None])
def test_secret_potential_rejects_a_non_integer_maze_seed(target_data, maze_seed):
    from secretlab.shaping import secret_potential

    env, data = target_data
    with pytest.raises(ValueError, match=rf"maze_seed must be an integer >= 0, got {re.escape(repr(maze_seed))}"):
        secret_potential(_stand_in(), env, maze_seed, 10, 0.9, dataset=data)


def test_potential_from_rows_rejects_a_non_integer_maze_seed(target_data):
    from secretlab.credit import credit_rows
    from secretlab.shaping import potential_from_rows

    env, data = target_data
    rows = credit_rows(_stand_in(), data)
    with pytest.raises(ValueError, match="maze_seed must be an integer >= 0, got 5.0"):
        potential_from_rows(rows, data, env, 5.0, 0.9)


@pytest.mark.parametrize("seed", [1.7, -3, "5"])
def test_dataset_config_rejects_a_non_integer_fixed_maze_seed(seed):
    from secretlab.data import DatasetConfig

    with pytest.raises(ValueError, match=rf"fixed_maze_seed must be an integer >= 0, got {re.escape(repr(seed))}"):
        DatasetConfig(fixed_maze_seed=seed)


def test_layout_sampling_rejects_non_integer_maze_seeds():
    from secretlab.envs.batched import BatchedTriggers
    from secretlab.envs.triggers import sample_layout, sample_layouts

    with pytest.raises(ValueError, match="maze seed must be an integer >= 0, got 1.7"):
        sample_layout(TriggersConfig(), 1.7)
    with pytest.raises(ValueError, match=r"maze seeds must be integers >= 0, got float64 values \[1.0, 1.7\]"):
        sample_layouts(TriggersConfig(), np.array([1.0, 1.7]))
    with pytest.raises(ValueError, match="maze seeds must be integers"):
        BatchedTriggers(TriggersConfig(), 2).reset(seeds=[3, 1.7])


@pytest.mark.parametrize("kwargs, expected", [
    (dict(seed=1.5), "seed must be an integer >= 0, got 1.5"),
    (dict(options={"maze_seed": 3}), r"options may only hold 'layout' .*unknown key\(s\) \['maze_seed'\]"),
    (dict(options={"layout": ([0, 0], [[9, 9]], [[1, 1]])}), r"layout.triggers must be integer cells of shape "
                                                               r"\(1, 2\) in \[0, 4\)"),
    (dict(options={"layout": ([0, 0], [[2, 2], [3, 3]], [[1, 1]])}), r"layout.triggers .*shape \(1, 2\)"),
    (dict(options={"layout": 7}), "layout must be a Layout"),
])
def test_triggers_reset_rejects_bad_seeds_and_options(kwargs, expected):
    from secretlab.envs.triggers import TriggersEnv

    with pytest.raises(ValueError, match=expected):
        TriggersEnv(size=4, n_triggers=1, n_prizes=1).reset(**kwargs)


def test_triggers_reset_accepts_a_layout_without_triggers():
    from secretlab.envs.triggers import TriggersEnv

    obs, info = TriggersEnv(size=4, n_triggers=0, n_prizes=1).reset(options={"layout": ([0, 0], [], [[1, 1]])})
    assert info["agent"] == (0, 0) and info["prizes"] == [(1, 1)]


@pytest.mark.parametrize("config_kwargs, expected", [
    (dict(obs_shape=(3, 7, 7)), r"obs_shape=\(3, 7, 7\), but the dataset has observations of shape \(3, 3, 3\)"),
    (dict(max_len=10), r"the dataset has sequences of 25 steps, more than the model's max_len=10"),
    (dict(n_actions=2), "the dataset has action 3, but the model has n_actions=2"),
])
def test_credit_rows_checks_the_model_reads_the_dataset(target_data, config_kwargs, expected):
    from secretlab.credit import credit_rows
    from secretlab.model import ModelConfig, RewardModel

    _, data = target_data
    model = RewardModel(ModelConfig(d_model=8, d_ff=8, conv_channels=(4,), **config_kwargs))
    with pytest.raises(ValueError, match=expected):
        credit_rows(model, data)


@pytest.mark.parametrize("config_kwargs, expected", [
    (dict(obs_shape=(3, 7, 7)), r"obs_shape=\(3, 7, 7\), but env TriggersConfig\(size=8.*shape \(3, 3, 3\)"),
    # a 4x4 model (horizon 50) on an 8x8 env (horizon 200): the crop fits, the horizon must too
    (dict(max_len=50), r"env TriggersConfig\(size=8.* has sequences of 200 steps, more than the model's max_len=50"),
])
def test_secret_potential_checks_the_model_reads_the_env_before_collecting(fresh_cache, config_kwargs, expected):
    from secretlab.model import ModelConfig, RewardModel
    from secretlab.shaping import secret_potential

    model = RewardModel(ModelConfig(d_model=8, d_ff=8, conv_channels=(4,), **config_kwargs))
    with pytest.raises(ValueError, match=expected):
        secret_potential(model, TriggersConfig(8, 1, 1), 3, 10, 0.9)
    assert not fresh_cache.exists() or not any(fresh_cache.rglob("*.npz"))  # no dataset was collected


@pytest.mark.parametrize("value", [NAN, INF])
def test_potential_rejects_a_non_finite_table(value):
    from secretlab.envs.triggers import sample_layout
    from secretlab.shaping import Potential

    env = TriggersConfig(4, 1, 1)
    table = np.zeros(env.n_states)
    table[3] = value
    with pytest.raises(ValueError, match="table must be finite, got 1 NaN/inf entries"):
        Potential(table, env, sample_layout(env, 0), 0.9, 1, "custom")


@pytest.mark.parametrize("kwargs, expected", [
    (dict(n_eval_trajectories=1.5), "n_eval_trajectories must be an integer >= 1, got 1.5"),
    (dict(n_train_trajectories=0), "n_train_trajectories must be an integer >= 1, got 0"),
    (dict(scenario={"size": 8.5, "n_triggers": 1, "n_prizes": 1}), "size must be an integer >= 3, got 8.5"),
])
def test_evaluate_scenario_rejects_bad_counts_before_training(fresh_cache, kwargs, expected):
    from secretlab.experiments.credit import evaluate_scenario

    scenario = kwargs.pop("scenario", {"size": 4, "n_triggers": 1, "n_prizes": 1})
    with pytest.raises(ValueError, match=expected):
        evaluate_scenario(scenario, "smoke", progress=False, **kwargs)
    assert not fresh_cache.exists() or not any(p.is_file() for p in fresh_cache.rglob("*"))


def test_source_model_rejects_a_fractional_training_set(fresh_cache):
    from secretlab.experiments.source import source_model

    with pytest.raises(ValueError, match="n_train_trajectories must be an integer >= 1, got 1.5"):
        source_model(TriggersConfig(4, 1, 1), "smoke", progress=False, n_train_trajectories=1.5)


@pytest.mark.parametrize("call, expected", [
    (lambda v: v.check_int("n_seeds", 0, minimum=1), "n_seeds must be an integer >= 1, got 0"),
    (lambda v: v.check_int("k", 11, 1, 10), r"k must be an integer in \[1, 10\], got 11"),
    (lambda v: v.check_number("gamma", 1.5, 0, 1), "gamma must be a finite number >= 0 and <= 1, got 1.5"),
    (lambda v: v.check_number("lr", NAN, finite=False), "lr must be a number, got nan"),
    (lambda v: v.check_choice("form", "phj", ("phi", "advice")), r"form must be one of \['phi', 'advice'\], "
                                                               r"got 'phj'; did you mean 'phi'\?"),
    (lambda v: v.check_choice("form", ["phi"], {"phi"}), r"form must be one of \['phi'\], got \['phi'\]"),
])
def test_validation_helpers_name_the_parameter_and_what_is_allowed(call, expected):
    from secretlab import validation

    with pytest.raises(ValueError, match=expected):
        call(validation)


def test_check_finite_loss_names_epoch_and_step():
    from secretlab.validation import check_finite_loss

    assert check_finite_loss("loss", 0.5, 1, 2) == 0.5
    with pytest.raises(FloatingPointError, match="validation loss became inf at epoch 3; training stopped"):
        check_finite_loss("validation loss", math.inf, 3)


def test_deep_agent_configs_and_envs_refuse_what_they_cannot_do():
    import gymnasium as gym
    import numpy as np

    from secretlab.agents.dqn import DQNConfig
    from secretlab.agents.ppo import PPOConfig
    from secretlab.envs.keys_doors import KeysDoorsEnv
    from secretlab.envs.triggers import TriggersConfig, sample_layout
    from secretlab.shaping import oracle_potential
    from secretlab.wrappers import ShapingWrapper

    with pytest.raises(ValueError, match="total_steps"):
        DQNConfig(total_steps=0)
    with pytest.raises(ValueError, match="total_timesteps"):
        PPOConfig(total_timesteps=-5)
    with pytest.raises(ValueError, match="inverted"):
        gym.make("secretlab/KeysDoors-v0", inverted=True)
    env = TriggersConfig(5, 1, 1)
    triggers_phi = oracle_potential(env, sample_layout(env, 3), gamma=0.99)
    with pytest.raises(ValueError, match="Triggers env"):  # a Triggers potential on a KeysDoors env
        ShapingWrapper(KeysDoorsEnv(n_rooms=2, maze_seed=1), triggers_phi, gamma=0.99)
    with pytest.raises(ValueError, match="Potential"):  # a bare table on a Triggers env
        ShapingWrapper(gym.make("secretlab/Triggers-v0", size=5, n_triggers=1, n_prizes=1), np.zeros(10), gamma=0.99)


def test_bad_action_labels_are_refused_before_anything_is_collected(fresh_cache):
    from secretlab.advice import secret_advice
    from secretlab.shaping import secret_potential

    env = TriggersConfig(5, 1, 1)
    for build in (secret_potential, secret_advice):
        with pytest.raises(ValueError, match="action_labels must be one of"):
            build(object(), env, 0, 10, 0.9, action_labels="sideways")
    assert not (fresh_cache / "datasets").exists()
