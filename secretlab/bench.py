"""``secretlab bench``: speed, measured side by side in one run.

Every measurement compares our implementation with a simple reference run in
the same process right before or after it, and reports ``ratio = ours /
reference`` (> 1 = faster). Benchmarks live in :mod:`secretlab.benchmarks`: every
function named ``bench_*`` in a module there takes ``quick: bool`` and returns a
list of :class:`Measurement`. Names start with the stage (``collect_``,
``train_``, ``infer_``, ``qlearning_``, ``dqn_``, ``potential_``, ``inspector_``).
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable


@dataclass
class Measurement:
    name: str
    """Stage-prefixed name, e.g. ``collect_trajectories_per_s``."""
    value: float
    """Our figure, in ``unit``."""
    unit: str
    """E.g. ``steps/s``, ``s``, ``GFLOP/s``."""
    reference: str | None = None
    """What it was compared with (None: an absolute figure)."""
    reference_value: float | None = None
    """The reference's figure in the same unit."""
    ratio: float | None = None
    """ours / reference for rates (> 1 = faster); reference / ours for durations."""
    note: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


def rate_measurement(name: str, ours: float, reference_name: str, reference: float, unit: str,
                     note: str = "") -> Measurement:
    """A throughput comparison (higher is better): ratio = ours / reference."""
    return Measurement(name, ours, unit, reference_name, reference, ours / reference if reference else None, note)


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall-clock seconds of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def discover() -> list[Callable[[bool], list[Measurement]]]:
    import secretlab.benchmarks as pkg

    found = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        found += [getattr(module, n) for n in sorted(dir(module)) if n.startswith("bench_")]
    return found


def run(quick: bool = False, only: Iterable[str] | None = None, echo: Callable[[str], None] | None = print) -> list[Measurement]:
    """Run every benchmark (or those whose function name contains one of ``only``).

    ValueError before running anything if a name in ``only`` is empty or matches no benchmark.
    """
    benchmarks = discover()
    only = None if only is None else list(only)
    names = [fn.__name__.removeprefix("bench_") for fn in benchmarks]
    for name in only or ():
        if not isinstance(name, str) or not name.strip() or not any(name in fn.__name__ for fn in benchmarks):
            raise ValueError(f"--only {name!r} matches no benchmark; allowed: {names}")
    results: list[Measurement] = []
    for fn in benchmarks:
        if only and not any(o in fn.__name__ for o in only):
            continue
        for m in fn(quick):
            results.append(m)
            if echo:
                echo(format_measurement(m))
    return results


def format_measurement(m: Measurement) -> str:
    line = f"{m.name:<44} {m.value:>12.4g} {m.unit}"
    if m.reference is not None:
        line += f"   vs {m.reference} {m.reference_value:.4g}  -> x{m.ratio:.1f}"
    if m.note:
        line += f"   ({m.note})"
    return line


def to_json(results: list[Measurement]) -> str:
    return json.dumps({"measurements": [m.as_dict() for m in results]}, indent=2)
