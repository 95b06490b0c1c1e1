"""``secretlab cache verify`` and ``secretlab cache clean``: check and empty the artifact cache.

The cache folder holds ``<kind>/<key>/`` entries (:mod:`secretlab.cache`). ``verify`` checks every
file that has a manifest (its SHA-256, and its manifest's config against the folder's key) without
loading anything, and counts the legacy files that have none yet (they are verified against their
recorded config and get one on their next load). ``clean`` deletes kind folders, and only folders
that look like cache kinds (sub-folders named by a hex key), so a mistaken ``$SECRETLAB_CACHE``
cannot empty an unrelated folder.
"""
from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from secretlab.cache import MANIFEST_SUFFIX, ArtifactError, cache_dir, check_file, manifest_path, read_config_json

_KEY = re.compile(r"[0-9a-f]{8,64}")
#: Files of an entry that are not artifacts themselves: the legacy config record, a resume point.
_NOT_ARTIFACTS = frozenset({"config.json", "resume.pt"})
_REBUILD = ("Bad artifacts are never used. To rebuild one, pass refresh=True to the function that loads it, or "
            "delete its folder (`secretlab cache clean --kind KIND` deletes a whole kind) and run again.")


@dataclass
class VerifyReport:
    """What :func:`verify` found."""

    ok: list[Path] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)
    legacy: list[Path] = field(default_factory=list)


def verify(root: Path | None = None) -> VerifyReport:
    """Check every cached file against its manifest (hash + config key); nothing is loaded or changed."""
    report = VerifyReport()
    for entry in _entries(root or cache_dir()):
        try:
            read_config_json(entry / "config.json")
        except ArtifactError as err:
            report.bad.append((entry / "config.json", err.problem))
        for path in sorted(entry.iterdir()):
            if path.name.startswith(".") or not path.is_file() or path.name in _NOT_ARTIFACTS:
                continue  # temporaries of an interrupted write, the legacy config record, resume points
            if path.name.endswith(MANIFEST_SUFFIX):
                if not (entry / path.name[:-len(MANIFEST_SUFFIX)]).exists():
                    report.bad.append((path, "a manifest whose file is missing"))
                continue
            if not manifest_path(path).exists():
                report.legacy.append(path)
                continue
            try:
                check_file(path)
            except ArtifactError as err:
                report.bad.append((path, err.problem))
            else:
                report.ok.append(path)
    return report


def main_verify(echo: Callable[[str], None] = print) -> int:
    """``secretlab cache verify``: list the bad artifacts; 1 if there are any."""
    root = cache_dir()
    report = verify(root)
    for path, problem in report.bad:
        echo(f"BAD {path}: {problem}")
    echo(f"{root}: {len(report.ok)} ok, {len(report.bad)} bad, {len(report.legacy)} without a manifest yet "
         "(written before manifests: checked against their recorded config and given one on their next load)")
    if report.bad:
        echo(_REBUILD)
    return 1 if report.bad else 0


def main_clean(kind: str | None, yes: bool, echo: Callable[[str], None] = print,
               ask: Callable[[str], str] | None = None) -> int:
    """``secretlab cache clean``: delete every kind folder (or ``kind``'s), listing it first.

    Without ``yes`` it asks on a terminal and removes nothing otherwise (exit code 1).
    """
    root = cache_dir()
    kinds, other = _kinds(root)
    if kind is not None:
        if kind not in {p.name for p in kinds}:
            present = ", ".join(p.name for p in kinds) or "none"
            raise ValueError(f"--kind {kind!r}: no such kind in {root} (present: {present})")
        kinds, other = [root / kind], []
    for path in other:
        echo(f"left alone (not a secretlab cache kind): {path}")
    if not kinds:
        echo(f"{root}: nothing to remove")
        return 0
    for path in kinds:
        n = len(list(path.iterdir()))
        echo(f"to remove: {path} ({n} {'entry' if n == 1 else 'entries'}, {_size(path) / 1e6:.1f} MB)")
    if not yes:
        if ask is None and not sys.stdin.isatty():
            echo("nothing removed: pass --yes to delete")
            return 1
        if (ask or input)("Delete these? [y/N] ").strip().lower() not in ("y", "yes"):
            echo("nothing removed")
            return 1
    for path in kinds:
        shutil.rmtree(path)
        echo(f"removed {path}")
    return 0


def _kinds(root: Path) -> tuple[list[Path], list[Path]]:
    """(kind folders, anything else) at the top of the cache folder."""
    kinds, other = [], []
    for path in sorted(root.iterdir()):
        is_kind = path.is_dir() and not path.is_symlink() and all(
            p.is_dir() and _KEY.fullmatch(p.name) for p in path.iterdir())
        (kinds if is_kind else other).append(path)
    return kinds, other


def _entries(root: Path) -> list[Path]:
    """Every ``<kind>/<key>/`` folder."""
    return [entry for kind in _kinds(root)[0] for entry in sorted(kind.iterdir())]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
