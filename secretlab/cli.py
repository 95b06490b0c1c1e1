"""Command line: ``secretlab reproduce``, ``secretlab bench`` and ``secretlab cache`` (also ``python -m secretlab``)."""
from __future__ import annotations

import argparse
import sys

from secretlab.profiles import PROFILE_NAMES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="secretlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reproduce", help="run the notebook series headlessly through papermill")
    # Checked by the runner, not by `choices`, so a bad value gives one error line naming the allowed ones.
    rep.add_argument("--profile", default="default", metavar="{" + ",".join(PROFILE_NAMES) + "}",
                     help="experiment size: smoke (seconds), default (<30 min), paper (hours)")
    rep.add_argument("--only", nargs="+", metavar="NAME",
                     help="notebooks to run, by stem, number or substring (e.g. 03 credit)")
    rep.add_argument("--out", default=None, help="output folder (default runs/<timestamp>/)")
    rep.add_argument("--seed", type=int, default=0, help="seed passed to every notebook")
    rep.add_argument("--kernel", default=None, help="Jupyter kernel (default: secretlab, else python3)")
    rep.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    rep.add_argument("--no-progress", action="store_true", help="no per-cell progress bars")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (ValueError, FileNotFoundError) as err:
        parser.exit(2, f"secretlab {args.command}: error: {err}\n")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "reproduce":
        from secretlab.runner import main_reproduce

        return main_reproduce(args.profile, args.only, args.out, args.seed, args.kernel, args.fail_fast,
                              progress=not args.no_progress)
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
    return 2


if __name__ == "__main__":
    sys.exit(main())
