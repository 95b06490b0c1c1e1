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
        hits = [b for b in books if b.stem == name or b.stem.split("_")[0] == name or name in b.stem]
        if not hits:
            raise ValueError(f"--only {name!r} matches no notebook; allowed: {[b.stem for b in books]}")
        chosen += [h for h in hits if h not in chosen]
    return [b for b in books if b in chosen]


def default_kernel() -> str:
    """The ``secretlab`` kernel registered by ``make``, else the current interpreter's."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def run_notebook(path: Path, out: Path, profile: str, seed: int = 0, kernel: str | None = None,
                 progress: bool = True, extra_parameters: dict | None = None) -> NotebookOutcome:
    """Execute one notebook into ``out/<stem>.ipynb``; never raises on a failing cell.

    ``out`` is resolved against the caller's working directory: the notebook itself runs
    in ``notebooks/`` (papermill ``cwd``), where a relative ``output_dir`` would point elsewhere.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    executed = out / path.name
    params = {"profile": profile, "seed": seed, "output_dir": str(out), **(extra_parameters or {})}
    start = time.time()
    try:
        pm.execute_notebook(
            str(path), str(executed), parameters=params, kernel_name=kernel or default_kernel(),
            cwd=str(path.parent), progress_bar=progress, log_output=False,
        )
    except PapermillExecutionError as err:
        return NotebookOutcome(path.stem, False, time.time() - start, executed,
                               f"{err.ename}: {err.evalue}", err.exec_count)
    return NotebookOutcome(path.stem, True, time.time() - start, executed)


def reproduce(profile: str = "default", only: Sequence[str] | None = None, out: Path | str | None = None,
              seed: int = 0, kernel: str | None = None, progress: bool = True, fail_fast: bool = False,
              echo: Callable[[str], None] = print) -> ReproduceResult:
    """Run the series (or ``only`` some notebooks) and write the summary and REPORT."""
    from secretlab.report import write_report

    check_profile(profile)
    books = select_notebooks(only)
    if out is None:
        base = repo_root() or Path.cwd()
        out = base / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    result = ReproduceResult(out, profile)
    echo(f"secretlab reproduce: profile={profile}, {len(books)} notebook(s) -> {out}")
    for book in books:
        echo(f"[{book.stem}]")
        outcome = run_notebook(book, out, profile, seed=seed, kernel=kernel, progress=progress)
        result.outcomes.append(outcome)
        if outcome.ok:
            echo(f"  ok in {outcome.runtime_s:.1f}s")
        else:
            echo(f"  FAILED: notebook {book.name}, cell execution_count={outcome.failed_cell}: {outcome.error}"
                 f"\n  executed copy with the traceback: {outcome.executed}")
            if fail_fast:
                break
    write_report(result)
    echo(f"summary: {out / 'summary.json'}\nreport:  {out / 'REPORT.md'}")
    return result


def main_reproduce(profile: str, only: Iterable[str] | None, out: str | None, seed: int,
                   kernel: str | None, fail_fast: bool, progress: bool = True) -> int:
    result = reproduce(profile, list(only) if only else None, out, seed=seed, kernel=kernel,
                       fail_fast=fail_fast, progress=progress)
    failed = [o for o in result.outcomes if not o.ok]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(o.stem for o in failed)}", file=sys.stderr)
        return 1
    return 0
