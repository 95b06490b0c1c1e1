"""Command line: ``secretlab reproduce``, ``jobs``, ``bench``, ``cache`` and ``pretrain-inverted``
(also ``python -m secretlab``)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from secretlab.profiles import PROFILE_NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="secretlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reproduce", help="run the notebook series headlessly through papermill")
    # Checked by the runner, not by `choices`, so a bad value gives one error line naming the allowed ones.
    rep.add_argument("--profile", default="default", metavar="{" + ",".join(PROFILE_NAMES) + "}",
                     help="experiment size: smoke (seconds), default (over 30 min cold on 2 cores), paper (hours)")
    rep.add_argument("--only", nargs="+", metavar="NAME",
                     help="notebooks to run, by stem, number or substring (e.g. 03 credit)")
    rep.add_argument("--out", default=None, help="output folder (default runs/<timestamp>/)")
    rep.add_argument("--seed", type=int, default=0, help="seed passed to every notebook")
    rep.add_argument("--kernel", default=None, help="Jupyter kernel (default: secretlab, else python3)")
    rep.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    rep.add_argument("--no-progress", action="store_true", help="no per-cell progress bars")
    rep.add_argument("--workers", default=None, metavar="N",
                     help="local single-threaded worker processes for the jobs (default: one per core; "
                          "1: every job in this process, one after another)")
    rep.add_argument("--cluster", default=None, metavar="ADDRESS",
                     help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $SECRETLAB_CLUSTER, "
                          "else a local cluster of --workers)")

    jobs = sub.add_parser("jobs", help="list the series' jobs of a profile; with --times, project its wall time",
                          description="List every job `secretlab reproduce` runs at a profile (name, the notebook "
                                      "that first needs it, the jobs it waits for). With --times RUN/summary.json "
                                      "(a run of the same profile), add each job's measured seconds, the critical "
                                      "path and the projected wall time of the jobs at each --workers count.")
    jobs.add_argument("--profile", default="default", metavar="{" + ",".join(PROFILE_NAMES) + "}")
    jobs.add_argument("--seed", type=int, default=0)
    jobs.add_argument("--times", default=None, metavar="SUMMARY_JSON", help="summary.json of a run of this profile")
    jobs.add_argument("--workers", nargs="+", default=["1", "2", "8", "32", "128"], metavar="N",
                      help="worker counts to project (default: 1 2 8 32 128)")

    ben = sub.add_parser("bench", help="measure speed against simple references, side by side")
    ben.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ben.add_argument("--json", action="store_true", help='print one JSON object {"measurements": [...]}')
    ben.add_argument("--only", nargs="+", metavar="NAME", help="benchmark functions whose name contains NAME")

    cache = sub.add_parser("cache", help="check or empty the artifact cache ($SECRETLAB_CACHE, else .cache/)")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    cache_sub.add_parser("verify", help="check every cached artifact's hash and manifest; list the bad ones "
                                        "(exit code 1 if any)")
    clean = cache_sub.add_parser("clean", help="delete the cached artifacts (all, or one kind), listing them first")
    clean.add_argument("--kind", default=None, help="only this kind's folder (e.g. reward_models, datasets)")
    clean.add_argument("--yes", action="store_true", help="delete without asking")

    pre = sub.add_parser(
        "pretrain-inverted", help="train notebook 06's DQN runs for one target scenario into the cache",
        description="Train notebook 06's source DQNs and target runs (every arm, every seed) for ONE of its target "
                    "scenarios and cache them under the notebook's own keys. Notebook 06 trains its scenarios one "
                    "after the other; at `paper` start one process per scenario (--scenario 0 and --scenario 1), "
                    "then `secretlab reproduce --only 06_inverted_dynamics` draws every run from the cache. Prints "
                    "the timings and the scenario's steps-to-80% table.")
    pre.add_argument("--profile", default="default", metavar="{" + ",".join(PROFILE_NAMES) + "}",
                     help="experiment size, as for `reproduce` (default: default)")
    pre.add_argument("--scenario", type=int, required=True, metavar="INDEX",
                     help="index into notebook 06's target scenarios of that profile ("
                          + "; ".join(f"{p}: {_inverted_scenarios(p)}" for p in PROFILE_NAMES) + ")")
    pre.add_argument("--seed", type=int, default=0, help="the notebook's seed (default 0)")
    pre.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="overrides",
                     help="a notebook-06 parameter, as papermill's -p sets it (repeatable; VALUE is read as JSON, "
                          "else as a string), e.g. --set observation=egocentric --set source_steps=300000; "
                          "run the notebook with the same values to draw these runs from the cache")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        parser.exit(2, f"secretlab {args.command}: error: {err}\n")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "reproduce":
        from secretlab.runner import main_reproduce

        return main_reproduce(args.profile, args.only, args.out, args.seed, args.kernel, args.fail_fast,
                              progress=not args.no_progress, workers=args.workers, cluster=args.cluster)
    if args.command == "bench":
        from secretlab import bench

        if args.json:
            # Keep stdout a single JSON object: anything a benchmark prints goes to stderr.
            import contextlib

            with contextlib.redirect_stdout(sys.stderr):
                results = bench.run(quick=args.quick, only=args.only, echo=None)
        else:
            results = bench.run(quick=args.quick, only=args.only)
        if args.json:
            print(bench.to_json(results))
        return 0
    if args.command == "cache":
        from secretlab import cache_admin

        if args.cache_command == "verify":
            return cache_admin.main_verify()
        return cache_admin.main_clean(args.kind, args.yes)
    if args.command == "jobs":
        from secretlab.runner import main_jobs

        return main_jobs(args.profile, args.seed, args.times, args.workers)
    if args.command == "pretrain-inverted":
        return pretrain_inverted(args.profile, args.scenario, args.seed, parse_overrides(args.overrides))
    return 2


def _inverted_scenarios(profile: str) -> str:
    """Notebook 06's target scenarios of ``profile`` by index, e.g. ``0 = 1T/1P, 1 = 1T/2P``."""
    from secretlab.profiles import notebook_params

    scenarios = notebook_params("06_inverted_dynamics", profile)["scenarios"]
    return ", ".join(f"{i} = {s['n_triggers']}T/{s['n_prizes']}P" for i, s in enumerate(scenarios))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["name=value", ...]`` from ``--set`` to ``{name: value}``; a value is read as JSON, else kept as a string."""
    import json

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--set must be NAME=VALUE, got {item!r}")
        try:
            out[name] = json.loads(text)
        except json.JSONDecodeError:
            out[name] = text
    return out


def pretrain_inverted(profile: str, scenario: int, seed: int = 0, overrides: dict[str, Any] | None = None) -> int:
    """``secretlab pretrain-inverted``: notebook 06's runs for one target scenario, cached under the notebook's keys.

    ``overrides``: notebook parameters, checked as the notebook checks them (:func:`secretlab.notebook.resolve_params`).
    Every argument is checked before anything is imported or trained (a ValueError naming it).
    """
    from secretlab.notebook import resolve_params
    from secretlab.profiles import check_profile
    from secretlab.validation import check_int

    check_profile(profile)
    check_int("seed", seed, minimum=0)
    params = resolve_params("06_inverted_dynamics", profile, seed, **(overrides or {}))
    try:
        check_int("--scenario", scenario, 0, len(params["scenarios"]) - 1)
    except ValueError as err:
        raise ValueError(f"{err} (profile {profile!r}: {_inverted_scenarios(profile)})") from None

    import time

    import pandas as pd

    from secretlab.experiments import inverted, inverted_report

    config = inverted.profile_configs(params, profile, seed)[scenario]
    start = time.perf_counter()
    result = inverted.run_inverted(config)
    print(f"{config.scenario}: {time.perf_counter() - start:.0f} s, timings "
          f"{ {k: round(v, 1) for k, v in result.timings.items()} }")
    print("source DQN:", result.source_summary)
    print(pd.DataFrame(inverted_report.results_json(result)["table_rows"]).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
