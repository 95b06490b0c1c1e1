"""``summary.json`` and ``REPORT.md`` for a reproduction run.

Every notebook writes ``{stem}.json``; two optional keys are rendered here so
the report grows with the notebooks without this module knowing them:

- ``"paper_comparison"``: rows ``{"quantity", "paper", "ours", "note"}``, our
  measured value set beside the paper's claim;
- ``"tables"``: ``{"title": [row dicts]}``, rendered as Markdown tables.
"""
from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretlab.cache import atomic_write_json, atomic_write_text

if TYPE_CHECKING:
    from secretlab.runner import ReproduceResult


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"[{_fmt(float(value[0]))}, {_fmt(float(value[1]))}]"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts (union of keys, in first-seen order) as a Markdown table."""
    if not rows:
        return "_(empty)_\n"
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def build_summary(result: "ReproduceResult") -> dict[str, Any]:
    """Summarise this run's notebooks, plus any earlier results in the same folder.

    Running ``--only 04`` into a folder that already holds the rest of the series
    keeps those notebooks in the summary (marked ``"earlier_run": true``), so a
    series can be completed notebook by notebook.
    """
    notebooks: dict[str, Any] = {}
    ran = {o.stem for o in result.outcomes}
    for js in sorted(result.out.glob("*.json")):
        if js.stem in ran or js.stem == "summary" or not js.stem[:2].isdigit():
            continue
        earlier = json.loads(js.read_text())
        if earlier.get("profile") != result.profile:
            continue
        notebooks[js.stem] = {"ok": True, "runtime_s": earlier.get("runtime_s", 0.0),
                              "executed": f"{js.stem}.ipynb", "earlier_run": True, "results": earlier}
    for o in result.outcomes:
        entry: dict[str, Any] = {"ok": o.ok, "runtime_s": round(o.runtime_s, 1), "executed": o.executed.name}
        if not o.ok:
            entry.update(error=o.error, failed_cell=o.failed_cell)
        js = result.out / f"{o.stem}.json"
        if js.exists():
            entry["results"] = json.loads(js.read_text())
        notebooks[o.stem] = entry
    return {
        "profile": result.profile,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "ok": all(e["ok"] for e in notebooks.values()),
        "total_runtime_s": round(sum(e["runtime_s"] for e in notebooks.values()), 1),
        "wall_s": None if result.wall_s is None else round(result.wall_s, 1),
        "workers": result.workers,
        "jobs": result.jobs,
        "notebooks": dict(sorted(notebooks.items())),
    }


def render_report(summary: dict[str, Any]) -> str:
    earlier = [stem for stem, e in summary["notebooks"].items() if e.get("earlier_run")]
    provenance = ("Every number below was measured by this run" if not earlier else
                  "Every number below was measured by a run of this profile: this one, or, for the notebooks "
                  "marked *earlier run*, an earlier run into the same folder")
    lines = [
        "# secretlab reproduction report",
        "",
        f"Profile **{summary['profile']}**, finished {summary['finished']}, "
        f"total {summary['total_runtime_s']:.0f} s, Python {summary['python']}. "
        f"{provenance}; the paper's value stands beside it.",
        "",
        *(["> **Smoke profile: a plumbing check, not results.** Every experiment here is shrunk to seconds; its "
           "numbers say that the code runs end to end, nothing about the method. Use `default` or `paper` for "
           "results.", ""] if summary["profile"] == "smoke" else []),
        markdown_table([
            {"notebook": stem,
             "status": (("ok" if e["ok"] else f"FAILED (cell {e.get('failed_cell')})")
                        + (" (earlier run)" if e.get("earlier_run") else "")),
             "runtime (s)": e["runtime_s"]}
            for stem, e in summary["notebooks"].items()
        ]),
        *_jobs_section(summary),
    ]
    for stem, entry in summary["notebooks"].items():
        res = entry.get("results") or {}
        lines += [f"## {stem}", ""]
        if not entry["ok"]:
            lines += [f"**Failed**: {entry.get('error', '')}", ""]
        if res.get("paper_comparison"):
            lines += ["Against the paper:", "", markdown_table(res["paper_comparison"])]
        for title, rows in (res.get("tables") or {}).items():
            lines += [f"**{title}**", "", markdown_table(rows)]
        if res.get("figures"):
            lines += ["Figures: " + ", ".join(f"[{f}](figures/{f})" for f in res["figures"]), ""]
    return "\n".join(lines) + "\n"


def _jobs_section(summary: dict[str, Any]) -> list[str]:
    """The jobs this run trained or loaded (the notebook runtimes above exclude them) and the run's wall time."""
    jobs = summary.get("jobs") or []
    if not jobs:
        return []
    wall = summary.get("wall_s")
    return [f"Jobs: {len(jobs)} on {summary.get('workers', 1)} worker(s), {sum(j['seconds'] for j in jobs):.0f} s "
            f"of job time in all" + (f"; the whole run took {wall:.0f} s of wall time." if wall else "."), "",
            markdown_table([{"job": j["name"], "for notebook": j["notebook"], "seconds": round(j["seconds"])}
                            for j in jobs])]


def write_report(result: "ReproduceResult") -> dict[str, Any]:
    summary = build_summary(result)
    atomic_write_json(result.out / "summary.json", summary)
    atomic_write_text(result.out / "REPORT.md", render_report(summary))
    return summary
