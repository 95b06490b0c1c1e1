"""The jobs of each notebook: the expensive, cached units it needs, as :class:`secretlab.engine.Job` lists.

``secretlab reproduce`` submits every selected notebook's jobs to the engine at once, then runs each notebook
when its own jobs are done; the notebook finds their artifacts in the cache and only loads them. Each job calls
the very function the notebook calls, with the arguments the notebook resolves from the same profile table
(:func:`secretlab.profiles.notebook_params`), so both ask for the same cache entry (tests/test_engine.py checks
that a notebook run after its jobs trains nothing). What a notebook computes without a cache (notebook 01's
random-policy tables, the tabular Q-learning runs of 04 and 05, notebook 00's small model) stays in the notebook.
"""
from __future__ import annotations

from typing import Any, Callable

from secretlab.data import DatasetConfig, load_or_collect, scenario_name
from secretlab.engine import Job
from secretlab.envs.triggers import TriggersConfig
from secretlab.experiments import inverted, keys_doors
from secretlab.experiments.source import source_model, source_plan
from secretlab.profiles import notebook_params


def source_model_jobs(env: TriggersConfig, profile: str, seed: int, **overrides: Any) -> list[Job]:
    """The job of :func:`source_model` for ``env`` and, before it, the job of the model it warm-starts from."""
    overrides = _normal_overrides(overrides)
    plan = source_plan(env, profile, seed, **overrides)
    jobs = source_model_jobs(plan.start_from, profile, seed, **overrides) if plan.start_from is not None else []
    label = f"reward model {scenario_name(env)}, seed {seed}" + "".join(
        f", {k}={v}" for k, v in sorted(overrides.items()))
    after = (jobs[-1].name,) if jobs else ()
    return jobs + [Job(label, source_model, (env, profile, seed), {"progress": False, **overrides}, after)]


def _normal_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides without the None ones (None keeps the recipe's value), so one model is one job."""
    return {k: v for k, v in overrides.items() if v is not None}


def _reward_model(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    return source_model_jobs(TriggersConfig(8, 3, 1), profile, seed,
                             n_train_trajectories=params["n_train_trajectories"])


def _credit(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    jobs = []
    for scenario in params["scenarios"]:
        env = TriggersConfig.from_scenario(scenario)
        for s in (seed + k for k in range(params["n_seeds"])):
            jobs += source_model_jobs(env, profile, s, n_train_trajectories=params["n_train_trajectories"])
            held_out = DatasetConfig(env=env, n_trajectories=int(params["n_eval_trajectories"]), seed=s,
                                     split="heldout")
            jobs.append(Job(f"held-out trajectories {scenario_name(env)}, seed {s}", load_or_collect, (held_out,)))
    return jobs


def _in_domain(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    return source_model_jobs(TriggersConfig(**params["scenario"]), profile, seed, **(params["source_overrides"] or {}))


def _bigger_mazes(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    jobs = []
    for scenario in params["scenarios"]:
        source = TriggersConfig(size=8, n_triggers=scenario["n_triggers"], n_prizes=scenario["n_prizes"])
        jobs += source_model_jobs(source, profile, seed, **(params["source_overrides"] or {}))
    return jobs


def _inverted(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    jobs = []
    for config in inverted.profile_configs(params, profile, seed):
        model_jobs = source_model_jobs(config.source_env, profile, config.seed)
        jobs += model_jobs + [Job(f"inverted-dynamics DQN runs {config.scenario}, seed {config.seed}",
                                  inverted.run_inverted, (config,), after=(model_jobs[-1].name,))]
    return jobs


#: PPO runs per keys/doors job: chunks of a few minutes each at default, so that two workers share them.
PPO_RUNS_PER_JOB = 5


def _keys_doors(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    config = keys_doors.KeysDoorsExperiment.from_params(params, seed)
    prepare = Job(f"keys/doors source agent, reward model and target potentials, seed {seed}", keys_doors.prepare,
                  (config,))
    jobs = [prepare]
    for start in range(0, config.n_seeds, PPO_RUNS_PER_JOB):
        runs = tuple(range(start, min(start + PPO_RUNS_PER_JOB, config.n_seeds)))
        jobs += [Job(f"keys/doors PPO {arm}, runs {runs[0]}-{runs[-1]}, seed {seed}", keys_doors.ppo_chunk,
                     (config, (arm,), runs), after=(prepare.name,)) for arm in keys_doors.ARMS]
    return jobs


def _inspector(params: dict[str, Any], profile: str, seed: int) -> list[Job]:
    return [job for scenario in params["scenarios"]
            for job in source_model_jobs(TriggersConfig(**scenario), profile, seed)]


#: Notebook stem -> the function listing its jobs from its resolved parameters.
NOTEBOOK_JOBS: dict[str, Callable[[dict[str, Any], str, int], list[Job]]] = {
    "02_reward_model": _reward_model,
    "03_credit": _credit,
    "04_in_domain_transfer": _in_domain,
    "05_bigger_mazes": _bigger_mazes,
    "06_inverted_dynamics": _inverted,
    "07_keys_doors": _keys_doors,
    "08_inspector": _inspector,
}


def notebook_jobs(stem: str, profile: str, seed: int = 0) -> list[Job]:
    """The jobs notebook ``stem`` needs at ``profile`` and ``seed`` (empty for a notebook without any)."""
    build = NOTEBOOK_JOBS.get(stem)
    return [] if build is None else build(notebook_params(stem, profile), profile, seed)
