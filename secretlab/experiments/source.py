"""The profile's shared SECRET source model of a maze distribution (trained once, then cached).

:func:`source_model` is the one call notebooks 02–08 use to get it. It turns a profile name into a training
budget (``REWARD_MODEL`` in :mod:`secretlab.profiles`), so it lives here, above the training layer, which only
takes explicit configs. At ``smoke`` and ``default`` the models of scenarios with several triggers start from the
same maze distribution's one-trigger model (a warm start).
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from secretlab.checkpoints import load_or_train
from secretlab.data import DatasetConfig, load_or_collect
from secretlab.model import ModelConfig
from secretlab.profiles import reward_model_params
from secretlab.training import TrainConfig, TrainedModel, model_config_for
from secretlab.validation import check_int


def source_model(env: Any, profile: str, seed: int = 0, progress: bool = True, **overrides: Any) -> TrainedModel:
    """The profile's SECRET model for a Triggers maze distribution (trained once, then cached).

    Collects ``n_train_trajectories`` random-policy trajectories from the ``train``
    split (``secretlab.data.load_or_collect``) and trains with the profile's
    ``REWARD_MODEL`` budget. ``overrides`` may set ``n_train_trajectories``,
    ``success_share`` (a number in [0, 1], or ``"natural"`` for the policy's own share; see
    :class:`secretlab.data.DatasetConfig`), ``warm_start`` (False: train from a fresh init
    even where the profile warm-starts) or any :class:`TrainConfig` / :class:`ModelConfig`
    field; anything else is a ValueError. An override of None keeps the profile's value.

    Warm start (``REWARD_MODEL[profile]["warm_start"]``, a dict of :class:`TrainConfig` changes,
    optionally with ``n_train_trajectories``): a scenario with more than one trigger starts from
    ``source_model`` of the same maze distribution with one trigger (same size, prizes, seed, profile
    and overrides), which has already learned to attend to the activation step, and fine-tunes with
    those changes; it still has to learn to count the activations. ``n_train_trajectories`` in the
    dict sizes the fine-tuning's own training set and leaves the start model's (the profile's) alone;
    as an override it sizes both. Explicit overrides win over the changes.
    """
    profile_params = reward_model_params(profile)
    given = {k: v for k, v in overrides.items() if v is not None}
    train_fields = {f.name for f in fields(TrainConfig)}
    model_fields = {f.name for f in fields(ModelConfig)} - {"obs_shape"}
    tunable = sorted(train_fields - {"seed"})
    warm_start = given.get("warm_start", profile_params.get("warm_start"))
    warm_start_fields = tunable + ["n_train_trajectories"]
    if warm_start is not None and warm_start is not False and not (
            isinstance(warm_start, dict) and set(warm_start) <= set(warm_start_fields)):
        raise ValueError(f"warm_start must be False, None or a dict of changes for the fine-tuning (fields "
                         f"{warm_start_fields}), got {warm_start!r}")
    fine_tune = isinstance(warm_start, dict) and getattr(env, "n_triggers", 1) > 1
    # precedence: the profile's budget < its warm-start changes (when fine-tuning) < explicit overrides
    params = {**profile_params, **(warm_start if fine_tune else {}), **given}
    params.pop("warm_start", None)
    n_train = params.pop("n_train_trajectories")
    success_share = params.pop("success_share", None)
    success_share = None if success_share == "natural" else success_share  # None already means "the profile's"
    unknown = set(params) - train_fields - model_fields
    if unknown:
        raise ValueError(f"unknown override(s) {sorted(unknown)}; allowed: n_train_trajectories, success_share, "
                         f"warm_start, TrainConfig fields {tunable}, ModelConfig fields {sorted(model_fields)}")
    if "seed" in params:
        raise ValueError("pass the seed as the `seed` argument, not as an override")
    n_train = int(check_int("n_train_trajectories", n_train, minimum=1))  # a bare int() turned 1.5 into 1
    dataset = load_or_collect(DatasetConfig(env=env, n_trajectories=n_train, seed=seed, split="train",
                                            success_share=success_share), progress=progress)
    model_config = model_config_for(dataset, **{k: v for k, v in params.items() if k in model_fields})
    train_config = TrainConfig(seed=seed, **{k: v for k, v in params.items() if k in train_fields})
    base = (source_model(replace(env, n_triggers=1), profile, seed, progress=progress, **overrides)
            if fine_tune else None)
    return load_or_train(dataset, model_config, train_config, progress=progress, warm_start=base)
