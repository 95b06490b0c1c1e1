"""The command line: `secretlab reproduce` and `secretlab bench` (docs/design.md §3.5-§3.6), `secretlab pretrain-inverted`."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from secretlab.runner import select_notebooks

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, check=True):
    return subprocess.run([sys.executable, "-m", "secretlab", *args], cwd=ROOT, capture_output=True,
                          text=True, check=check, timeout=600)


def test_reproduce_writes_notebooks_json_figures_and_report(tmp_path):
    out = tmp_path / "run"
    proc = cli("reproduce", "--profile", "smoke", "--only", "01", "--out", str(out), "--no-progress")
    assert "ok in" in proc.stdout
    assert (out / "01_triggers.ipynb").exists() and (out / "01_triggers.json").exists()
    assert list((out / "figures").glob("01_triggers_*.png"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["profile"] == "smoke" and "01_triggers" in summary["notebooks"]
    report = (out / "REPORT.md").read_text()
    assert "01_triggers" in report and "paper" in report


def test_failing_notebook_exits_nonzero_and_names_notebook_and_cell(tmp_path):
    import nbformat

    from secretlab.runner import reproduce

    books = tmp_path / "nbs"
    books.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell('profile = "default"\nseed = 0\noutput_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    nbformat.write(nb, books / "99_broken.ipynb")
    lines = []
    # an earlier result in the same folder is kept in the summary (series completed piecewise)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "98_earlier.json").write_text(json.dumps({"profile": "smoke", "runtime_s": 3.0}))
    (tmp_path / "out" / "97_other_profile.json").write_text(json.dumps({"profile": "paper", "runtime_s": 3.0}))
    # a stale result of the failing notebook from an earlier run must not survive into the report
    (tmp_path / "out" / "99_broken.json").write_text(json.dumps({"profile": "smoke", "tables": {"stale": [{"x": 1}]}}))
    (tmp_path / "out" / "figures").mkdir()
    (tmp_path / "out" / "figures" / "99_broken_old.png").write_bytes(b"png")
    import secretlab.runner as runner

    original = runner.notebooks_dir
    runner.notebooks_dir = lambda: books
    try:
        result = reproduce("smoke", None, tmp_path / "out", progress=False, echo=lines.append)
    finally:
        runner.notebooks_dir = original
    assert not result.ok
    message = "\n".join(lines)
    assert "99_broken.ipynb" in message and "RuntimeError: boom" in message and "cell" in message
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ok"] is False and summary["notebooks"]["99_broken"]["failed_cell"] is not None
    assert summary["notebooks"]["98_earlier"]["earlier_run"] is True
    assert "97_other_profile" not in summary["notebooks"]
    report = (tmp_path / "out" / "REPORT.md").read_text()
    assert "| 98_earlier | ok (earlier run) |" in report and "| 99_broken | FAILED" in report
    assert "an earlier run into the same folder" in report
    assert not (tmp_path / "out" / "99_broken.json").exists() and "stale" not in report
    assert not (tmp_path / "out" / "figures" / "99_broken_old.png").exists()
    assert "results" not in summary["notebooks"]["99_broken"]
    assert "Smoke profile: a plumbing check, not results" in report.split("##")[0]


def test_run_notebook_hands_the_notebook_an_absolute_output_dir(tmp_path, monkeypatch):
    """The notebook runs with cwd notebooks/, so a relative output folder must be resolved first."""
    import papermill as pm

    from secretlab.runner import list_notebooks, run_notebook

    seen = {}
    monkeypatch.setattr(pm, "execute_notebook", lambda src, dst, parameters, **kw: seen.update(parameters, dst=dst))
    monkeypatch.chdir(tmp_path)
    outcome = run_notebook(list_notebooks()[0], Path("relative/out"), profile="smoke")
    assert outcome.ok
    assert seen["output_dir"] == str(tmp_path / "relative" / "out")
    assert seen["dst"].startswith(str(tmp_path / "relative" / "out"))


def test_only_with_an_unknown_name_is_a_clear_error():
    proc = cli("reproduce", "--only", "nonexistent", check=False)
    assert proc.returncode == 2 and "--only 'nonexistent' matches no notebook" in proc.stderr


def test_bad_profile_is_rejected_with_the_allowed_values():
    proc = cli("reproduce", "--profile", "huge", check=False)
    assert proc.returncode == 2 and "smoke" in proc.stderr and "paper" in proc.stderr


def test_select_notebooks_by_number_stem_and_substring():
    assert [p.stem for p in select_notebooks(["01"])] == ["01_triggers"]
    assert [p.stem for p in select_notebooks(["01_triggers"])] == ["01_triggers"]
    assert [p.stem for p in select_notebooks(["triggers"])] == ["01_triggers"]


def test_bench_quick_json_schema():
    proc = cli("bench", "--quick", "--json", "--only", "env_stepping", "collect_trajectories")
    payload = json.loads(proc.stdout)
    names = [m["name"] for m in payload["measurements"]]
    assert "collect_env_steps_per_s" in names and "collect_trajectories_per_s" in names
    prefixes = ("collect_", "train_", "infer_", "qlearning_", "dqn_", "potential_", "inspector_")
    for m in payload["measurements"]:
        assert m["name"].startswith(prefixes) and {"name", "value", "unit"} <= set(m)
        if "reference" in m:
            assert m["ratio"] == pytest.approx(m["value"] / m["reference_value"], rel=1e-6) or "duration" in m.get("note", "")


def _pretrain_inverted(tmp_path, *args):
    """`secretlab pretrain-inverted` with an empty cache of its own (so a bad call can be seen to train nothing)."""
    import os

    env = {**os.environ, "SECRETLAB_CACHE": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "secretlab", "pretrain-inverted", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, expected", [
    (["--profile", "huge", "--scenario", "0"], r"profile must be one of \('smoke', 'default', 'paper'\), got 'huge'"),
    (["--profile", "paper", "--scenario", "2"],
     r"--scenario must be an integer in \[0, 1\], got 2 \(profile 'paper': 0 = 1T/1P, 1 = 1T/2P\)"),
    (["--profile", "smoke", "--scenario", "1"], r"--scenario must be an integer in \[0, 0\], got 1"),
    (["--scenario", "-1"], r"--scenario must be an integer in \[0, 1\], got -1"),
    (["--scenario", "0", "--seed", "-1"], r"seed must be an integer >= 0, got -1"),
    (["--scenario", "first"], r"argument --scenario: invalid int value: 'first'"),
    (["--profile", "paper"], r"the following arguments are required: --scenario"),
    (["--scenario", "0", "--set", "observation"], r"--set must be NAME=VALUE, got 'observation'"),
    (["--scenario", "0", "--set", "view=egocentric"], r"unknown parameter\(s\) \['view'\] for notebook"),
    (["--scenario", "0", "--set", "source_steps=fast"], r"source_steps"),
    (["--scenario", "0", "--set", "observation=pixels"], r"observation must be one of \['grid', 'egocentric'\], got 'pixels'"),
])
def test_pretrain_inverted_rejects_bad_input_naming_the_parameter(tmp_path, args, expected):
    proc = _pretrain_inverted(tmp_path, *args)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(expected, proc.stderr.strip().splitlines()[-1]), proc.stderr
    assert not (tmp_path / "cache").exists()  # rejected before anything was trained or cached


def test_pretrain_inverted_help_names_its_arguments(tmp_path):
    proc = _pretrain_inverted(tmp_path, "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # argparse wraps to the terminal's width
    assert text.startswith("usage: secretlab pretrain-inverted")
    for needed in ("--profile", "--scenario INDEX", "--seed", "--set NAME=VALUE", "06_inverted_dynamics",
                   "paper: 0 = 1T/1P, 1 = 1T/2P"):
        assert needed in text, needed
    assert "pretrain-inverted" in subprocess.run([sys.executable, "-m", "secretlab", "--help"], cwd=ROOT,
                                                 capture_output=True, text=True, check=True).stdout


def test_pretrain_inverted_overrides_are_the_notebooks_parameters():
    """--set values resolve exactly as the notebook's papermill parameters do, so both ask for the same cache keys."""
    from secretlab.cli import parse_overrides
    from secretlab.experiments import inverted
    from secretlab.notebook import resolve_params

    overrides = parse_overrides(["observation=egocentric", "source_steps=300000", "source_mazes=fresh",
                                 "scenarios=[{\"n_triggers\": 1, \"n_prizes\": 2}]"])
    assert overrides == {"observation": "egocentric", "source_steps": 300000, "source_mazes": "fresh",
                         "scenarios": [{"n_triggers": 1, "n_prizes": 2}]}
    params = resolve_params("06_inverted_dynamics", "default", 0, **overrides)
    (config,) = inverted.profile_configs(params, "default", 0)
    assert config.dqn.observation == config.source_dqn.observation == "egocentric"
    assert config.source_dqn.total_steps == 300000 and config.n_prizes == 2
