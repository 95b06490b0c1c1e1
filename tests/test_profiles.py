"""Typed profiles: one frozen dataclass per notebook, smoke and paper as diffs of default, one reward-model recipe."""
import dataclasses

import pytest

from secretlab.envs import TriggersConfig
from secretlab.experiments.source import source_plan
from secretlab.profiles import NOTEBOOKS, PROFILE_NAMES, PROFILES, REWARD_MODEL, notebook_params, notebook_profile


@pytest.mark.parametrize("stem", sorted(PROFILES))
def test_every_profile_is_a_frozen_instance_of_the_notebooks_dataclass(stem):
    default = PROFILES[stem]["default"]
    assert type(default)() == default  # default = the dataclass's own defaults
    for name in PROFILE_NAMES:
        profile = PROFILES[stem][name]
        assert type(profile) is type(default) and dataclasses.is_dataclass(profile)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(profile, dataclasses.fields(profile)[0].name, None)
        assert NOTEBOOKS[stem][name] == dataclasses.asdict(profile) == notebook_params(stem, name)


def test_params_are_fresh_copies():
    params = notebook_params("03_credit", "default")
    params["scenarios"].append({"size": 4})
    assert len(notebook_profile("03_credit", "default").scenarios) == 4


def test_the_3t1p_schedule_and_data_of_default_come_from_the_recipes_warm_start():
    recipe = REWARD_MODEL["default"]
    one = source_plan(TriggersConfig(8, 1, 1), "default", seed=0)
    three = source_plan(TriggersConfig(8, 3, 1), "default", seed=0)
    assert one.train == dataclasses.replace(recipe.train, seed=0) and one.start_from is None
    assert three.train.lr == recipe.warm_start.lr
    assert three.train.warmup_epochs == recipe.warm_start.warmup_epochs != recipe.train.warmup_epochs
    assert three.train.batch_size == recipe.warm_start.batch_size and three.start_from == TriggersConfig(8, 1, 1)
    # the fine-tuning has its own training set; the start model keeps the recipe's
    assert three.dataset.n_trajectories == recipe.warm_start.n_train_trajectories != one.dataset.n_trajectories
    assert one.dataset.n_trajectories == recipe.n_train_trajectories
    # paper trains every scenario from scratch; an explicit override wins over the warm start's changes
    assert source_plan(TriggersConfig(8, 3, 1), "paper").start_from is None
    assert source_plan(TriggersConfig(8, 3, 1), "default", lr=5e-4).train.lr == 5e-4
    scratch = source_plan(TriggersConfig(8, 3, 1), "default", warm_start=False)
    assert scratch.train.warmup_epochs == recipe.train.warmup_epochs and scratch.start_from is None


def test_source_plan_rejects_unknown_overrides_naming_them():
    with pytest.raises(ValueError, match="colour"):
        source_plan(TriggersConfig(8, 1, 1), "default", colour=1)
    with pytest.raises(ValueError, match="profile"):
        source_plan(TriggersConfig(8, 1, 1), "huge")


def test_experiment_results_speak_the_one_contract():
    from secretlab.experiments import ExperimentResult
    from secretlab.experiments.credit import CreditStudy
    from secretlab.experiments.keys_doors import KeysDoorsResult

    for result_type in (CreditStudy, KeysDoorsResult):
        assert all(callable(getattr(result_type, name, None)) for name in ("paper_comparison", "tables", "report"))
    assert not isinstance(object(), ExperimentResult)
