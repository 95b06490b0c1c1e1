"""``secretlab reproduce``: run the notebook series headlessly through papermill.

Each notebook in ``notebooks/`` runs in order with ``profile``, ``seed`` and
``output_dir`` injected into its ``parameters`` cell and ``notebooks/`` as the
working directory (as Jupyter would). Executed copies, figures and JSON land in
``--out`` (default ``runs/<timestamp>/``), then :mod:`secretlab.report` writes
``summary.json`` and ``REPORT.md`` beside them.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

from secretlab.cache import repo_root
from secretlab.profiles import check_profile
from secretlab.validation import check_int, suggest

KERNEL_NAME = "secretlab"


@dataclass
class NotebookOutcome:
    stem: str
    ok: bool
    runtime_s: float
    executed: Path
    error: str = ""
    failed_cell: int | None = None


@dataclass
class ReproduceResult:
    out: Path
    profile: str
    outcomes: list[NotebookOutcome] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    """One record per finished job: ``notebook`` (the first that needed it), ``name``, ``seconds``, ``worker``."""
    workers: int = 1
    """Worker processes the jobs ran on."""
    wall_s: float | None = None
    """Seconds from the start of the run to its last notebook (None: not measured, e.g. a regenerated report)."""

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def notebooks_dir() -> Path:
    root = repo_root()
    if root is None or not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            "the notebook series lives in the source checkout (notebooks/); "
            "run `secretlab reproduce` from a clone of the repository"
        )
    return root / "notebooks"


def list_notebooks(directory: Path | None = None) -> list[Path]:
    """Every ``NN_name.ipynb`` of the series, in order."""
    directory = notebooks_dir() if directory is None else directory
    return sorted(p for p in directory.glob("*.ipynb") if p.stem[:2].isdigit())


def select_notebooks(only: Sequence[str] | None, directory: Path | None = None) -> list[Path]:
    """Filter by stem, number prefix or substring (``03``, ``03_credit``, ``credit``)."""
    books = list_notebooks(directory)
    if not only:
        return books
    chosen = []
    for name in only:
        if not isinstance(name, str) or not name.strip():  # "" is a substring of every stem: it would run them all
            raise ValueError(f"--only names must be non-empty, got {name!r}; allowed: {[b.stem for b in books]}")
        hits = [b for b in books if b.stem == name or b.stem.split("_")[0] == name or name in b.stem]
        if not hits:
            raise ValueError(f"--only {name!r} matches no notebook; allowed: {[b.stem for b in books]}")
        chosen += [h for h in hits if h not in chosen]
    return [b for b in books if b in chosen]


def default_kernel() -> str:
    """The ``secretlab`` kernel registered by ``make``, else the current interpreter's."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def check_kernel(kernel: str | None) -> str:
    """The kernel to run with (``None``: :func:`default_kernel`); ValueError unless it is installed."""
    from jupyter_client.kernelspec import KernelSpecManager

    if kernel is None:
        return default_kernel()
    available = sorted(KernelSpecManager().find_kernel_specs())
    if kernel not in available:
        raise ValueError(f"--kernel must be an installed Jupyter kernel, got {kernel!r}; available: {available}"
                         f"{suggest(kernel, available)}")
    return kernel


def check_out(out: Path | str) -> Path:
    """``out`` resolved; ValueError if it exists and is not a folder."""
    path = Path(out).resolve()
    existing = next(p for p in (path, *path.parents) if p.exists())  # mkdir would fail under a file too
    if not existing.is_dir():
        raise ValueError(f"--out must be a folder (existing or new), got {str(out)!r}, "
                         f"{'an existing file' if existing == path else f'inside the file {str(existing)!r}'}")
    return path


def check_parameters(path: Path, parameters: dict) -> None:
    """ValueError unless the notebook's ``parameters`` cell defines every name in ``parameters``.

    papermill injects a cell assigning each parameter; a name the parameters cell does not
    define is never passed on to :func:`secretlab.notebook.setup`, so it would be silently ignored.
    """
    import papermill as pm

    defined = list(pm.inspect_notebook(str(path)))
    unknown = [name for name in parameters if name not in defined]
    if unknown:
        raise ValueError(f"parameter(s) {unknown} are not defined by the parameters cell of {path.name}; "
                         f"allowed: {defined}{suggest(unknown[0], defined)}")


def run_notebook(path: Path, out: Path, profile: str, seed: int = 0, kernel: str | None = None,
                 progress: bool = True, extra_parameters: dict | None = None) -> NotebookOutcome:
    """Execute one notebook into ``out/<stem>.ipynb``; never raises on a failing cell.

    Raises ValueError before executing anything if ``kernel`` is not installed, ``out`` is a
    file, or a parameter (``extra_parameters`` included) is not defined by the notebook's
    parameters cell.

    ``out`` is resolved against the caller's working directory: the notebook itself runs
    in ``notebooks/`` (papermill ``cwd``), where a relative ``output_dir`` would point elsewhere.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = check_out(out)
    params = {"profile": profile, "seed": seed, "output_dir": str(out), **(extra_parameters or {})}
    check_parameters(path, params)
    kernel = check_kernel(kernel)
    out.mkdir(parents=True, exist_ok=True)
    executed = out / path.name
    clear_outputs(out, path.stem)
    start = time.time()
    try:
        pm.execute_notebook(
            str(path), str(executed), parameters=params, kernel_name=kernel,
            cwd=str(path.parent), progress_bar=progress, log_output=False,
        )
    except PapermillExecutionError as err:
        return NotebookOutcome(path.stem, False, time.time() - start, executed,
                               f"{err.ename}: {err.evalue}", err.exec_count)
    return NotebookOutcome(path.stem, True, time.time() - start, executed)


def clear_outputs(out: Path, stem: str) -> None:
    """Remove an earlier run's ``{stem}.json`` and ``figures/{stem}_*.png`` from ``out``.

    Done before a notebook runs, so that one failing in a reused output folder leaves no
    stale tables or figures under its name for the report to pick up.
    """
    (out / f"{stem}.json").unlink(missing_ok=True)
    for figure in (out / "figures").glob(f"{stem}_*.png"):
        figure.unlink()


def reproduce(profile: str = "default", only: Sequence[str] | None = None, out: Path | str | None = None,
              seed: int = 0, kernel: str | None = None, progress: bool = True, fail_fast: bool = False,
              echo: Callable[[str], None] = print, workers: int | None = None,
              cluster: str | None = None) -> ReproduceResult:
    """Run the series (or ``only`` some notebooks) and write the summary and REPORT.

    Every selected notebook's jobs (:mod:`secretlab.experiments.jobs`) go to one :class:`~secretlab.engine.Engine`
    at the start: ``workers`` local single-threaded worker processes (None: one per core; 1: every job here, one
    after another), or the Dask scheduler at ``cluster`` (else ``$SECRETLAB_CLUSTER``). Each notebook runs when
    its own jobs are done and loads their artifacts from the cache, while later notebooks' jobs go on.
    """
    from secretlab.engine import Engine, check_workers, resolve_cluster
    from secretlab.experiments.jobs import notebook_jobs
    from secretlab.report import write_report

    # Every check before the first notebook starts: a bad argument fails in a second, not an hour in.
    check_profile(profile)
    check_int("seed", seed, minimum=0)
    workers = check_workers(default_workers() if workers is None else workers)
    cluster = resolve_cluster(cluster)
    books = select_notebooks(only)
    kernel = check_kernel(kernel)
    if out is None:
        base = repo_root() or Path.cwd()
        out = base / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    out = check_out(out)
    for book in books:
        check_parameters(book, {"profile": profile, "seed": seed, "output_dir": str(out)})
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    plan = {book.stem: notebook_jobs(book.stem, profile, seed) for book in books}
    with Engine(workers, cluster, echo=echo) as engine:
        result = ReproduceResult(out, profile, workers=engine.workers)
        where = f"the cluster at {cluster}" if cluster else f"{engine.workers} local worker(s)"
        echo(f"secretlab reproduce: profile={profile}, {len(books)} notebook(s), "
             f"{len({job.name for jobs in plan.values() for job in jobs})} job(s) on {where} -> {out}")
        for stem, jobs in plan.items():
            engine.submit(jobs)
        for book in books:
            echo(f"[{book.stem}]")
            outcome = _run_after_jobs(engine, book, plan[book.stem], result, out, profile, seed, kernel, progress)
            result.outcomes.append(outcome)
            if outcome.ok:
                echo(f"  ok in {outcome.runtime_s:.1f}s")
            else:
                echo(f"  FAILED: notebook {book.name}, cell execution_count={outcome.failed_cell}: {outcome.error}"
                     f"\n  executed copy with the traceback: {outcome.executed}")
                if fail_fast:
                    break
        result.wall_s = time.perf_counter() - start
    write_report(result)
    echo(f"summary: {out / 'summary.json'}\nreport:  {out / 'REPORT.md'}")
    return result


def default_workers() -> int:
    """One worker per core this process may use."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _run_after_jobs(engine, book: Path, jobs: list, result: ReproduceResult, out: Path, profile: str, seed: int,
                    kernel: str, progress: bool) -> NotebookOutcome:
    """Wait for the notebook's jobs (a failed job fails the notebook, naming the job), then run it."""
    from secretlab.engine import JobError

    names = list(dict.fromkeys(job.name for job in jobs))
    try:
        reports = engine.wait(names)
    except JobError as err:
        return NotebookOutcome(book.stem, False, 0.0, out / book.name, f"{err} (caused by {err.__cause__!r})")
    seen = {record["name"] for record in result.jobs}
    result.jobs += [{"notebook": book.stem, "name": r.name, "seconds": round(r.seconds, 2), "worker": r.worker}
                    for r in reports if r.name not in seen]
    return run_notebook(book, out, profile, seed=seed, kernel=kernel, progress=progress)


def parse_workers(text: str | None) -> int | None:
    """``--workers`` from the command line: None (one per core) or an int >= 1; ValueError naming the value."""
    from secretlab.engine import check_workers

    if text is None:
        return None
    try:
        return check_workers(int(text))
    except ValueError:
        raise ValueError(f"--workers must be a whole number of worker processes >= 1, got {text!r} "
                         f"(1 runs every job in this process, one after another)") from None


def main_reproduce(profile: str, only: Iterable[str] | None, out: str | None, seed: int,
                   kernel: str | None, fail_fast: bool, progress: bool = True, workers: str | None = None,
                   cluster: str | None = None) -> int:
    result = reproduce(profile, list(only) if only else None, out, seed=seed, kernel=kernel,
                       fail_fast=fail_fast, progress=progress, workers=parse_workers(workers), cluster=cluster)
    failed = [o for o in result.outcomes if not o.ok]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(o.stem for o in failed)}", file=sys.stderr)
        return 1
    return 0


def series_jobs(profile: str, seed: int = 0) -> list[tuple[str, object]]:
    """``(notebook, job)`` for every job of the series at ``profile``, each under the first notebook needing it."""
    from secretlab.engine import order_jobs
    from secretlab.experiments.jobs import notebook_jobs

    seen: dict[str, tuple[str, object]] = {}
    for book in list_notebooks():
        for job in order_jobs(notebook_jobs(book.stem, profile, seed)):
            seen.setdefault(job.name, (book.stem, job))
    return list(seen.values())


def main_jobs(profile: str, seed: int, times: str | None, workers: Sequence[str]) -> int:
    """``secretlab jobs``: the job table of a profile, and with ``times`` its projected wall time per worker count."""
    import json

    from secretlab.engine import critical_path, projected_wall
    from secretlab.report import markdown_table

    check_profile(profile)
    check_int("seed", seed, minimum=0)
    counts = [parse_workers(w) for w in workers]
    listed = series_jobs(profile, seed)
    seconds: dict[str, float] = {}
    if times is not None:
        path = Path(times)
        if not path.is_file():
            raise ValueError(f"--times must be the summary.json of a run, got {times!r} (no such file)")
        summary = json.loads(path.read_text())
        if summary.get("profile") != profile:
            raise ValueError(f"--times {times!r} is a run of profile {summary.get('profile')!r}, not {profile!r}")
        seconds = {j["name"]: float(j["seconds"]) for j in summary.get("jobs", [])}
        missing = [job.name for _, job in listed if job.name not in seconds]
        if missing:
            raise ValueError(f"--times {times!r} has no time for job(s) {missing}: it is not a run of the whole "
                             f"series at this profile and seed")
    rows = [{"job": job.name, "first needed by": stem, "waits for": ", ".join(job.after) or "—",
             **({"seconds": seconds[job.name]} if seconds else {})} for stem, job in listed]
    print(markdown_table(rows))
    if seconds:
        jobs = [job for _, job in listed]
        length, chain = critical_path(jobs, seconds)
        print(f"job time in all: {sum(seconds.values()):.0f} s; critical path {length:.0f} s: {' -> '.join(chain)}")
        print(markdown_table([{"workers": n, "projected wall of the jobs (s)": round(projected_wall(jobs, seconds, n))}
                              for n in counts]))
    return 0
