"""Run profiles: how big each notebook's experiment is, as typed values resolved once at the top.

Every notebook has a ``parameters`` cell with ``profile`` ("smoke" | "default" |
"paper"), ``seed`` and ``output_dir``; :func:`secretlab.notebook.setup` looks up
the notebook's profile here and lets explicit (non-None) parameters override its
fields by name.

- ``smoke``: seconds per notebook, for the test suite (numbers are not meaningful).
- ``default``: real results; over half an hour from an empty cache on a 2-core CPU (measured in figures/REPORT.md).
- ``paper``: the paper's sizes (40,000 source trajectories, 20+ seeds); hours.

Each notebook has one frozen dataclass whose fields are its parameters; ``default``
is the dataclass's own defaults and ``smoke`` and ``paper`` are written as
``dataclasses.replace`` diffs of it, so a profile reads as what it changes. The
reward model every notebook shares is one typed :class:`RewardModelRecipe` per
profile, holding the real :class:`~secretlab.training.TrainConfig` it trains with
(and the :class:`WarmStart` of multi-trigger scenarios): the 3T/1P learning rate of
``default`` is ``REWARD_MODEL["default"].warm_start.lr``, nowhere else. Only
``secretlab.experiments``, the notebook contract and the CLI read this module; the
layers below take explicit configs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from secretlab.training import TrainConfig

PROFILE_NAMES = ("smoke", "default", "paper")


# =============================================================================
# The shared SECRET reward model (notebooks 02-08)
# =============================================================================
@dataclass(frozen=True)
class WarmStart:
    """A scenario with several triggers starts from the one-trigger model of the same maze distribution
    (which already attends to the activation step) and fine-tunes with these :class:`TrainConfig` changes,
    on a training set of its own.

    One recipe for every multi-trigger scenario. Why these values: a fine-tuning at lr 3e-4 after one epoch of
    warm-up, with cosine decay, sharpens its counting of activations with more fresh trajectories, and
    32,000 × 12 epochs credited 3T/1P with a margin in the measurements (docs/lab/2026-11-26-3t1p-more-data.md;
    24,000 × 12, the smallest size at the target there, fell one held-out row short in the cold run of
    docs/lab/2026-12-02-engine-cold-default-run.md); the job engine runs the fine-tunings of different scenarios side
    by side, which is what makes that size fit the default series. Patience as long as the run: the
    validation loss of a warm start may rise before it falls (docs/lab/2026-11-26-3t1p-recipe-ablations.md).
    """

    batch_size: int = 8
    """Trajectories per step of the fine-tuning."""
    lr: float = 3e-4
    """Peak learning rate of the fine-tuning."""
    lr_schedule: str = "cosine"
    """Schedule of the fine-tuning (cosine decay to 0 at ``max_epochs``)."""
    warmup_epochs: float = 1.0
    """Linear warm-up of the learning rate before the cosine decay."""
    patience: int = 12
    """Early-stopping patience of the fine-tuning."""
    n_train_trajectories: int | None = 32_000
    """Size of the fine-tuning's own training set (None: the recipe's; the start model keeps the recipe's)."""

    def changes(self) -> dict[str, Any]:
        """What :func:`secretlab.experiments.source.source_model` applies (its ``warm_start`` dict form)."""
        out = {"batch_size": self.batch_size, "lr": self.lr, "lr_schedule": self.lr_schedule,
               "warmup_epochs": self.warmup_epochs, "patience": self.patience}
        return out if self.n_train_trajectories is None else {**out, "n_train_trajectories": self.n_train_trajectories}


@dataclass(frozen=True)
class RewardModelRecipe:
    """How a profile trains the SECRET reward model of a Triggers scenario (the shared source model)."""

    n_train_trajectories: int = 4000
    """Random-policy source trajectories (the ``train`` split)."""
    success_share: float | None = 0.5
    """Share of kept episodes that contain a +1 (paper §2.1: "a certain proportion of successful trajectories")."""
    train: TrainConfig = TrainConfig(lr=3e-4, max_epochs=12, patience=6)
    """Training from a fresh init (its seed is the notebook's)."""
    warm_start: WarmStart | None = WarmStart()
    """Multi-trigger scenarios: fine-tune from the one-trigger model (None: train every scenario from scratch)."""


REWARD_MODEL: dict[str, RewardModelRecipe] = {
    "default": RewardModelRecipe(),
    "smoke": RewardModelRecipe(n_train_trajectories=200, train=TrainConfig(lr=3e-4, max_epochs=1),
                               warm_start=WarmStart(n_train_trajectories=None)),
    # The paper trains every scenario from a fresh init, and at its size that meets its targets.
    "paper": RewardModelRecipe(n_train_trajectories=40_000, train=TrainConfig(lr=3e-4, max_epochs=30, patience=10),
                               warm_start=None),
}


# =============================================================================
# One dataclass per notebook: fields = its parameters, defaults = the default profile
# =============================================================================
def _scenario(size: int, n_triggers: int, n_prizes: int) -> dict[str, int]:
    return {"size": size, "n_triggers": n_triggers, "n_prizes": n_prizes}


def _scenarios(*triples: tuple[int, int, int]):
    return field(default_factory=lambda: [_scenario(*t) for t in triples])


@dataclass(frozen=True)
class QuickstartProfile:
    """Notebook 00: a small scenario and a narrower model (paper: width 128), minutes on a laptop CPU."""

    size: int = 5
    n_triggers: int = 1
    n_prizes: int = 1
    max_steps: int | None = 30
    n_train_trajectories: int = 3000
    max_epochs: int = 8
    lr: float = 3e-3
    """Trains the small model in 8 epochs (too high for the paper-size model: docs/lab/2026-11-26-quickstart-paper-profile.md)."""
    patience: int = 8
    d_model: int = 64
    n_target_trajectories: int = 300
    n_seeds: int = 10
    n_episodes: int = 300


@dataclass(frozen=True)
class TriggersProfile:
    """Notebook 01: random-policy episodes per scenario."""

    n_episodes: int = 20_000


@dataclass(frozen=True)
class RewardModelProfile:
    """Notebook 02: the 3T/1P source model and its held-out evaluation."""

    n_train_trajectories: int | None = None
    """None: the recipe's."""
    n_eval_trajectories: int = 1000


@dataclass(frozen=True)
class CreditProfile:
    """Notebook 03: credit precision/recall of every scenario against the ground-truth activations."""

    scenarios: list = _scenarios((8, 1, 1), (8, 1, 2), (8, 3, 1), (8, 2, 2))
    n_train_trajectories: int | None = None
    """None: the recipe's."""
    n_eval_trajectories: int = 1000
    threshold: float = 0.2
    """Attention binarisation threshold (App. A.2)."""
    n_heatmap_trajectories: int = 1000
    n_seeds: int = 1
    """Training seeds per scenario."""


@dataclass(frozen=True)
class _TabularTransferProfile:
    """What notebooks 04 and 05 share: the Q-learning budget, |D| and the arms (credit sources × forms)."""

    n_seeds: int = 10
    """Q-learning seeds per (arm, target maze)."""
    n_episodes: int = 400
    """Training episodes per agent."""
    n_target_mazes: int = 4
    n_target_trajectories: int = 100
    """|D| of the main arms (the paper gives none for Triggers; 100 is where credit and no credit separate)."""
    credit_signs: str = "nonzero"
    """Rows of the paper's φ̂: "nonzero" (the paper) or "positive" (an ablation)."""
    sources: list | None = None
    """Credit sources to run (None: all)."""
    forms: list | None = None
    """Potential forms to run (None: phi, carried and advice)."""
    source_overrides: dict | None = None
    """source_model overrides (None: the shared source model)."""
    eval_interval: int = 25
    bucket: int = 10
    n_boot: int = 2000


@dataclass(frozen=True)
class TransferProfile(_TabularTransferProfile):
    """Notebook 04: in-domain transfer; every source and form also runs at each ``sensitivity`` |D|."""

    scenario: dict = field(default_factory=lambda: _scenario(8, 3, 1))
    sensitivity: list = field(default_factory=lambda: [10, 1000])


@dataclass(frozen=True)
class BiggerMazesProfile(_TabularTransferProfile):
    """Notebook 05: transfer from 8×8 source models to 12×12 target mazes."""

    n_episodes: int = 300
    scenarios: list = _scenarios((12, 1, 1), (12, 1, 2))


@dataclass(frozen=True)
class InvertedProfile:
    """Notebook 06: DQN under inverted controls. ``default`` scales the paper's schedule (App. A.3) to minutes,
    with γ 0.9 and lr 1e-3 (at γ 0.99 or lr 2.5e-4 no arm learns in this budget:
    docs/lab/2026-11-25-dqn-learning-at-the-default-budget.md). ``source_mazes``: "fresh" (a new source maze every
    episode), "target" (the seed's target layout with normal controls) or an int K (K source mazes per seed)."""

    scenarios: list = field(default_factory=lambda: [{"n_triggers": 1, "n_prizes": 1}, {"n_triggers": 1, "n_prizes": 2}])
    n_seeds: int = 10
    total_steps: int = 16_000
    source_steps: int = 16_000
    source_mazes: str = "target"
    n_target_trajectories: int = 1000
    learning_rate: float = 1e-3
    exploration_fraction: float = 0.6
    learning_starts: int = 1000
    target_update_interval: int = 100
    buffer_size: int = 1_000_000
    """paper: capped at 100k per network (40 networks × 1e6 × 2 grids would need 15 GB of RAM)."""
    gamma: float = 0.9
    observation: str = "grid"
    """What every DQN reads: "grid" (the paper's full grid) or "egocentric" (it re-centred on the agent)."""
    curve_points: int = 16
    n_boot: int = 2000
    n_boot_curves: int = 500
    sb3_steps: int = 3000


@dataclass(frozen=True)
class KeysDoorsProfile:
    """Notebook 07: keys/doors with PPO (see :class:`secretlab.experiments.keys_doors.KeysDoorsExperiment`)."""

    n_rooms: int = 2
    room_size: int = 3
    source_timesteps: int = 80_000
    n_source_trajectories: int = 2000
    n_target_trajectories: int = 300
    n_seeds: int = 10
    """PPO seeds per arm on the target maze (each arm: unshaped, SECRET's φ̂, uniform and ideal credit's φ̂)."""
    target_timesteps: int = 24_000
    max_epochs: int = 12


@dataclass(frozen=True)
class InspectorProfile:
    """Notebook 08: the credit inspector's mazes and static twins."""

    scenarios: list = _scenarios((8, 3, 1), (8, 1, 1))
    n_mazes: int = 6
    n_trajectories: int = 64
    n_potential_trajectories: int = 300
    threshold: float = 0.2
    n_static: int = 3


_PAPER_RECIPE = REWARD_MODEL["paper"]

#: Every notebook's profiles: ``default`` first, then ``smoke`` and ``paper`` as diffs of it.
PROFILES: dict[str, dict[str, Any]] = {}


def _register(stem: str, default: Any, smoke: dict[str, Any], paper: dict[str, Any]) -> None:
    PROFILES[stem] = {"smoke": replace(default, **smoke), "default": default, "paper": replace(default, **paper)}


_register("00_quickstart", QuickstartProfile(),
          smoke={"n_train_trajectories": 300, "max_epochs": 1, "patience": 1, "d_model": 16,
                 "n_target_trajectories": 50, "n_seeds": 3, "n_episodes": 30},
          # paper: the shared 8x8 1T/1P source model's recipe, so the cache serves that model
          paper={"size": 8, "max_steps": None, "d_model": 128,
                 "n_train_trajectories": _PAPER_RECIPE.n_train_trajectories, "max_epochs": _PAPER_RECIPE.train.max_epochs,
                 "lr": _PAPER_RECIPE.train.lr, "patience": _PAPER_RECIPE.train.patience,
                 "n_target_trajectories": 1000, "n_seeds": 20, "n_episodes": 1000})
_register("01_triggers", TriggersProfile(), smoke={"n_episodes": 500}, paper={"n_episodes": 100_000})
_register("02_reward_model", RewardModelProfile(), smoke={"n_eval_trajectories": 200},
          paper={"n_eval_trajectories": 5000})
_register("03_credit", CreditProfile(),
          # 2 seeds: the test suite runs the multi-seed path
          smoke={"scenarios": [_scenario(8, 1, 1), _scenario(8, 3, 1)], "n_eval_trajectories": 200,
                 "n_heatmap_trajectories": 100, "n_seeds": 2},
          paper={"n_eval_trajectories": 5000, "n_heatmap_trajectories": 2000, "n_seeds": 3})
_register("04_in_domain_transfer", TransferProfile(),
          smoke={"n_seeds": 3, "n_episodes": 40, "n_target_mazes": 2, "n_target_trajectories": 20, "sensitivity": [10],
                 "eval_interval": 10, "n_boot": 200},
          paper={"n_seeds": 20, "n_episodes": 1500, "n_target_mazes": 10, "n_boot": 5000})
_register("05_bigger_mazes", BiggerMazesProfile(),
          smoke={"n_seeds": 3, "n_episodes": 30, "n_target_mazes": 1, "n_target_trajectories": 20,
                 "eval_interval": 10, "n_boot": 200},
          paper={"n_seeds": 20, "n_episodes": 1500, "n_target_mazes": 10, "n_boot": 5000})
_register("06_inverted_dynamics", InvertedProfile(),
          # smoke: one scenario, so one smoke reward model to train
          smoke={"scenarios": [{"n_triggers": 1, "n_prizes": 1}], "n_seeds": 2, "total_steps": 400, "source_steps": 300,
                 "n_target_trajectories": 20, "learning_rate": 2.5e-4, "exploration_fraction": 0.5,
                 "learning_starts": 100, "gamma": 0.99, "curve_points": 4, "n_boot": 200, "n_boot_curves": 100,
                 "sb3_steps": 200},
          # paper: the paper's schedule (App. A.3)
          paper={"n_seeds": 10, "total_steps": 500_000, "source_steps": 500_000, "source_mazes": "fresh",
                 "learning_rate": 2.5e-4, "exploration_fraction": 0.5, "learning_starts": 5000,
                 "target_update_interval": 2000, "buffer_size": 100_000, "gamma": 0.99, "curve_points": 50,
                 "n_boot": 5000, "n_boot_curves": 1000, "sb3_steps": 20_000})
_register("07_keys_doors", KeysDoorsProfile(),
          smoke={"source_timesteps": 1536, "n_source_trajectories": 40, "n_target_trajectories": 24, "n_seeds": 2,
                 "target_timesteps": 768, "max_epochs": 1},
          paper={"source_timesteps": 1_000_000, "n_source_trajectories": 10_000, "n_target_trajectories": 1000,
                 "target_timesteps": 100_000, "max_epochs": 30})
_register("08_inspector", InspectorProfile(),
          # smoke: a 4x4 maze (50 steps), so its (meaningless) source model trains in seconds
          smoke={"scenarios": [_scenario(4, 1, 1)], "n_mazes": 2, "n_trajectories": 12, "n_potential_trajectories": 30,
                 "n_static": 2},
          paper={"scenarios": [_scenario(8, 3, 1), _scenario(8, 1, 1), _scenario(8, 1, 2), _scenario(8, 2, 2)], "n_mazes": 10, "n_trajectories": 128, "n_potential_trajectories": 1000,
                 "n_static": 4})

#: The same tables as plain dicts (what overrides are checked against and the JSON's ``params``).
NOTEBOOKS: dict[str, dict[str, dict[str, Any]]] = {
    stem: {name: asdict(profile) for name, profile in by_name.items()} for stem, by_name in PROFILES.items()}


def check_profile(profile: str) -> str:
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    return profile


def notebook_profile(stem: str, profile: str) -> Any:
    """The typed profile of notebook ``stem`` (a frozen dataclass)."""
    check_profile(profile)
    if stem not in PROFILES:
        raise ValueError(f"no profile for notebook {stem!r}; known: {sorted(PROFILES)}")
    return PROFILES[stem][profile]


def notebook_params(stem: str, profile: str) -> dict[str, Any]:
    """The profile's parameters for notebook ``stem`` as a fresh dict (field name -> value)."""
    return asdict(notebook_profile(stem, profile))


def reward_model_recipe(profile: str) -> RewardModelRecipe:
    """The profile's :class:`RewardModelRecipe`."""
    return REWARD_MODEL[check_profile(profile)]
