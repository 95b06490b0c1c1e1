"""The job engine: the default series' reward-model jobs on 2 local workers against 1, each from an empty cache.

The jobs are notebook 03's at ``default`` (the four 8×8 scenarios' source models, the two multi-trigger ones
fine-tuned from the one-trigger ones, and the held-out sets), with every training cut to one epoch so that a
bench run takes minutes; ``quick`` uses the ``smoke`` profile's. The ratio is the wall time of ``--workers 1``
over ``--workers 2`` for the same job list: what the engine's parallelism buys on this machine, cluster start-up
included.
"""
from __future__ import annotations

import os
import tempfile
import time

from secretlab.bench import Measurement


def _jobs(quick: bool) -> list:
    from secretlab.data import DatasetConfig, load_or_collect
    from secretlab.engine import Job
    from secretlab.envs.triggers import TriggersConfig
    from secretlab.experiments.jobs import notebook_jobs, source_model_jobs
    from secretlab.profiles import notebook_params

    if quick:
        return notebook_jobs("03_credit", "smoke")
    jobs = []
    for scenario in notebook_params("03_credit", "default")["scenarios"]:
        env = TriggersConfig.from_scenario(scenario)
        jobs += source_model_jobs(env, "default", 0, max_epochs=1)
        jobs.append(Job(f"held-out {env.name}", load_or_collect, (DatasetConfig(env, 1000, 0, split="heldout"),)))
    return jobs


def _wall(workers: int, quick: bool) -> float:
    from secretlab.engine import Engine

    before = os.environ.get("SECRETLAB_CACHE")
    with tempfile.TemporaryDirectory(prefix="secretlab-bench-engine-") as cache:
        os.environ["SECRETLAB_CACHE"] = cache  # an empty cache each time (the workers inherit it)
        try:
            start = time.perf_counter()
            with Engine(workers, echo=lambda line: None) as engine:
                engine.wait(engine.submit(_jobs(quick)))
            return time.perf_counter() - start
        finally:
            if before is None:
                os.environ.pop("SECRETLAB_CACHE", None)
            else:
                os.environ["SECRETLAB_CACHE"] = before


def bench_engine(quick: bool) -> list[Measurement]:
    one = _wall(1, quick)
    two = _wall(2, quick)
    n = len(_jobs(quick))
    what = "smoke" if quick else "default, one epoch each"
    return [Measurement("engine_jobs_wall_s_2_workers", two, "s", "the same jobs with --workers 1", one, one / two,
                        note=f"notebook 03's {n} jobs ({what}) from an empty cache; ratio = 1-worker wall / "
                             f"2-worker wall (> 1 = faster), local-cluster start included")]
