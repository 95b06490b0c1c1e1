"""The profile's shared SECRET source model of a maze distribution (trained once, then cached).

:func:`source_model` is the one call notebooks 02–08 use to get it. It turns a profile name into a training
recipe (``REWARD_MODEL`` in :mod:`secretlab.profiles`, a typed :class:`~secretlab.profiles.RewardModelRecipe`), so it lives here, above the training layer, which only
takes explicit configs. At ``smoke`` and ``default`` the models of scenarios with several triggers start from the
same maze distribution's one-trigger model (a warm start).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from secretlab.checkpoints import load_or_train
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.model import ModelConfig
from secretlab.profiles import RewardModelRecipe, reward_model_recipe
from secretlab.training import TrainConfig, TrainedModel, model_config_for
from secretlab.validation import check_int


@dataclass(frozen=True)
class SourcePlan:
    """What :func:`source_model` trains, resolved from a recipe and overrides (nothing collected or trained yet)."""

    dataset: DatasetConfig
    """The random-policy source trajectories."""
    model_changes: dict
    """:class:`ModelConfig` changes (the rest is read off the dataset)."""
    train: TrainConfig
    """The training config, seed included: the one place to read a scenario's learning rate."""
    start_from: Any
    """The one-trigger maze distribution whose model this one fine-tunes (None: a fresh init)."""


def source_model(env: Any, profile: str | RewardModelRecipe, seed: int = 0, progress: bool = True,
                 **overrides: Any) -> TrainedModel:
    """The profile's SECRET model for a Triggers maze distribution (trained once, then cached): trains
    :func:`source_plan`'s configs (after the start model's, when it fine-tunes)."""
    plan = source_plan(env, profile, seed, **overrides)
    base = (source_model(plan.start_from, profile, seed, progress=progress, **overrides)
            if plan.start_from is not None else None)
    dataset = load_or_collect(plan.dataset, progress=progress)
    return load_or_train(dataset, model_config_for(dataset, **plan.model_changes), plan.train, progress=progress,
                         warm_start=base)


def source_plan(env: Any, profile: str | RewardModelRecipe, seed: int = 0, **overrides: Any) -> SourcePlan:
    """Resolve the profile's recipe and ``overrides`` into the configs :func:`source_model` trains.

    ``profile``: a profile name (its :class:`~secretlab.profiles.RewardModelRecipe`) or a recipe.
    Collects ``n_train_trajectories`` random-policy trajectories from the ``train`` split
    (``secretlab.data.load_or_collect``) and trains with the recipe's ``train`` config.
    ``overrides`` may set ``n_train_trajectories``, ``success_share`` (a number in [0, 1], or
    ``"natural"`` for the policy's own share; see :class:`secretlab.data.DatasetConfig`),
    ``warm_start`` (False: train from a fresh init even where the recipe warm-starts; or a dict of
    :class:`TrainConfig` changes, optionally with ``n_train_trajectories``, replacing the recipe's
    :class:`~secretlab.profiles.WarmStart`) or any :class:`TrainConfig` / :class:`ModelConfig` field;
    anything else is a ValueError. An override of None keeps the recipe's value.

    Warm start: a scenario with more than one trigger starts from ``source_model`` of the same maze
    distribution with one trigger (same size, prizes, seed, recipe and overrides), which has already
    learned to attend to the activation step, and fine-tunes with the warm start's changes applied to
    the recipe's ``train``; it still has to learn to count the activations. The warm start's
    ``n_train_trajectories`` sizes the fine-tuning's own training set and leaves the start model's alone;
    as an override it sizes both. Explicit overrides win over the warm start's changes.
    """
    recipe = reward_model_recipe(profile) if isinstance(profile, str) else profile
    given = {k: v for k, v in overrides.items() if v is not None}
    train_fields = {f.name for f in fields(TrainConfig)}
    model_fields = {f.name for f in fields(ModelConfig)} - {"obs_shape"}
    tunable = sorted(train_fields - {"seed"})
    warm_start = given.pop("warm_start", recipe.warm_start.changes() if recipe.warm_start else None)
    warm_start_fields = tunable + ["n_train_trajectories"]
    if warm_start is not None and warm_start is not False and not (
            isinstance(warm_start, dict) and set(warm_start) <= set(warm_start_fields)):
        raise ValueError(f"warm_start must be False, None or a dict of changes for the fine-tuning (fields "
                         f"{warm_start_fields}), got {warm_start!r}")
    fine_tune = isinstance(warm_start, dict) and getattr(env, "n_triggers", 1) > 1
    # precedence: the recipe < its warm-start changes (when fine-tuning) < explicit overrides
    changes = {**(warm_start if fine_tune else {}), **given}
    n_train = changes.pop("n_train_trajectories", recipe.n_train_trajectories)
    success_share = changes.pop("success_share", recipe.success_share)
    success_share = None if success_share == "natural" else success_share  # None already means "the recipe's"
    unknown = set(changes) - train_fields - model_fields
    if unknown:
        raise ValueError(f"unknown override(s) {sorted(unknown)}; allowed: n_train_trajectories, success_share, "
                         f"warm_start, TrainConfig fields {tunable}, ModelConfig fields {sorted(model_fields)}")
    if "seed" in changes:
        raise ValueError("pass the seed as the `seed` argument, not as an override")
    n_train = int(check_int("n_train_trajectories", n_train, minimum=1))  # a bare int() turned 1.5 into 1
    return SourcePlan(
        dataset=DatasetConfig(env=env, n_trajectories=n_train, seed=seed, split="train", success_share=success_share),
        model_changes={k: v for k, v in changes.items() if k in model_fields},
        train=replace(recipe.train, seed=seed, **{k: v for k, v in changes.items() if k in train_fields}),
        start_from=replace(env, n_triggers=1) if fine_tune else None)


def source_trajectories(profile: str, overrides: dict[str, Any] | None = None) -> int:
    """How many source trajectories :func:`source_model` trains a one-trigger model on (overrides applied)."""
    given = (overrides or {}).get("n_train_trajectories")
    return reward_model_recipe(profile).n_train_trajectories if given is None else given
