"""Run profiles: how big each notebook's experiment is.

Every notebook has a ``parameters`` cell with ``profile`` ("smoke" | "default" |
"paper"), ``seed`` and ``output_dir``; :func:`secretlab.notebook.setup` looks up
the notebook's table here and lets explicit (non-None) parameters override it.

- ``smoke``: seconds per notebook, for the test suite (numbers are not meaningful).
- ``default``: the whole series in under 30 minutes on a 2-core CPU; real results.
- ``paper``: the paper's sizes (40,000 source trajectories, 20+ seeds); hours.

Shared blocks (e.g. ``REWARD_MODEL``) keep notebooks that use the same source
model on the same config, so the artifact cache trains it once.
"""
from __future__ import annotations

from typing import Any

PROFILE_NAMES = ("smoke", "default", "paper")

#: The SECRET reward model's training budget per profile (shared by notebooks 02-08).
REWARD_MODEL: dict[str, dict[str, Any]] = {
    "smoke": {"n_train_trajectories": 400, "max_epochs": 2},
    "default": {"n_train_trajectories": 8000, "max_epochs": 12},
    "paper": {"n_train_trajectories": 40000, "max_epochs": 30},
}

#: Per-notebook parameters, by notebook stem then profile.
NOTEBOOKS: dict[str, dict[str, dict[str, Any]]] = {
    "01_triggers": {
        "smoke": {"n_episodes": 500},
        "default": {"n_episodes": 20000},
        "paper": {"n_episodes": 100000},
    },
}


def check_profile(profile: str) -> str:
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    return profile


def notebook_params(stem: str, profile: str) -> dict[str, Any]:
    """The profile's parameters for notebook ``stem`` (a copy)."""
    check_profile(profile)
    if stem not in NOTEBOOKS:
        raise ValueError(f"no profile table for notebook {stem!r}; known: {sorted(NOTEBOOKS)}")
    return dict(NOTEBOOKS[stem][profile])


def reward_model_params(profile: str) -> dict[str, Any]:
    check_profile(profile)
    return dict(REWARD_MODEL[profile])
