"""The job engine: ordering, in-process and Dask runs, bit-identical artifacts whatever the worker count,
progress lines, and clear errors for bad worker counts and clusters."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from secretlab.engine import Engine, Job, JobError, check_workers, order_jobs, resolve_cluster
from secretlab.progress import progress_bar

#: Artifact kinds whose builders train something (what a notebook must not build again after its jobs).
TRAINED_KINDS = ("reward_models", "dqn_source", "dqn_target", "keys_doors_agents", "keys_doors_runs")


def _noop(*args, **kwargs):
    return None


def _count(n: int, log: str | None = None) -> None:
    bar = progress_bar(n, "count", "tick", enabled=False, min_interval=0.0)
    for _ in range(n):
        bar.update(1)
    bar.close()
    if log:
        with open(log, "a") as fh:
            fh.write(f"{n}\n")


def _boom() -> None:
    raise RuntimeError("kaput")


# --- ordering and bad input ---------------------------------------------------------------------------------
def test_order_jobs_puts_dependencies_first_and_drops_duplicates():
    a, b, c = Job("a", _noop), Job("b", _noop, after=("a",)), Job("c", _noop, after=("b", "a"))
    ordered = order_jobs([c, b, a, Job("a", _boom)])
    assert [j.name for j in ordered] == ["a", "b", "c"]
    assert ordered[0].fn is _noop  # the first of two same-named jobs wins


def test_order_jobs_rejects_unknown_and_circular_dependencies():
    with pytest.raises(ValueError, match="waits for 'x', which is not among the jobs"):
        order_jobs([Job("a", _noop, after=("x",))])
    with pytest.raises(ValueError, match="wait for each other: a -> b -> a"):
        order_jobs([Job("a", _noop, after=("b",)), Job("b", _noop, after=("a",))])


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "2", None])
def test_bad_worker_counts_are_clear_errors(bad):
    with pytest.raises(ValueError, match=r"--workers must be a whole number of worker processes >= 1, got"):
        check_workers(bad)


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", ""])
def test_the_command_line_rejects_bad_worker_counts(text):
    from secretlab.runner import parse_workers

    with pytest.raises(ValueError, match=f"--workers must be .* got {text!r}"):
        parse_workers(text)
    assert parse_workers("3") == 3 and parse_workers(None) is None


def test_cluster_address_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.delenv("SECRETLAB_CLUSTER", raising=False)
    assert resolve_cluster(None) is None
    monkeypatch.setenv("SECRETLAB_CLUSTER", "tcp://10.0.0.5:8786")
    assert resolve_cluster(None) == "tcp://10.0.0.5:8786"
    assert resolve_cluster("tcp://other:1") == "tcp://other:1"
    for bad in ("", "   ", "tcp://a b:1"):
        with pytest.raises(ValueError, match="--cluster must be the address of a Dask scheduler"):
            resolve_cluster(bad)


def test_an_unreachable_cluster_fails_within_seconds():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"--cluster 'tcp://127.0.0.1:9': no Dask scheduler answered"):
        with Engine(cluster="tcp://127.0.0.1:9"):
            pass
    assert time.monotonic() - start < 60  # a clear error, not a hang


def test_workers_without_secretlab_are_named(monkeypatch):
    class Client:  # a scheduler whose workers cannot import secretlab
        def nthreads(self):
            return {"tcp://w1:1": 1}

        def run(self, fn, *args):
            raise ModuleNotFoundError("No module named 'secretlab'")

    engine = Engine(cluster="tcp://host:1")
    engine.client = Client()
    with pytest.raises(ConnectionError, match="its workers cannot import secretlab"):
        engine._check_workers()


def test_workers_that_do_not_share_the_cache_folder_are_named(fresh_cache):
    class Client:
        def nthreads(self):
            return {"tcp://w1:1": 1}

        def run(self, fn, *args):
            return {"tcp://w1:1": None if args else "secretlab"}  # the probe file is not there

    engine = Engine(cluster="tcp://host:1")
    engine.client = Client()
    with pytest.raises(ConnectionError, match=r"worker\(s\) \['tcp://w1:1'\] do not see this machine's cache folder"):
        engine._check_workers()


# --- in-process -----------------------------------------------------------------------------------------------
def test_in_process_jobs_run_in_order_with_progress_and_one_line_each(tmp_path):
    log, lines = tmp_path / "order.txt", []
    with Engine(1, echo=lines.append, status_every=0.0) as engine:
        engine.submit([Job("second", _count, (2, str(log)), after=("first",)), Job("first", _count, (1, str(log)))])
        reports = engine.wait(["second"])  # waits for (runs) what it depends on too
    assert log.read_text().split() == ["1", "2"]
    assert [r.name for r in reports] == ["second"] and reports[0].worker == "this process"
    assert any(line.startswith("  running: first [count (tick)") for line in lines)
    assert sum(line.startswith("  done: ") for line in lines) == 2


def test_a_failing_job_names_itself():
    with Engine(1, echo=lambda s: None) as engine:
        engine.submit([Job("broken thing", _boom)])
        with pytest.raises(JobError, match="job 'broken thing' failed: RuntimeError: kaput"):
            engine.wait(["broken thing"])
        with pytest.raises(KeyError, match="never submitted"):
            engine.wait(["other"])


def test_jobs_run_with_one_torch_thread():
    from secretlab.engine import _run_job

    seen = []
    before = torch.get_num_threads()
    _run_job(lambda: seen.append(torch.get_num_threads()), (), {}, "probe")
    assert seen == [1] and torch.get_num_threads() == before


# --- a real local cluster -------------------------------------------------------------------------------------
def _log_start(log: str, name: str, sleep: float) -> None:
    with open(log, "a") as fh:
        fh.write(name + "\n")
    time.sleep(sleep)


def test_a_job_that_becomes_ready_goes_before_later_submitted_ones(tmp_path):
    """Two workers: a (1 s) and c (2 s) start; when a ends, b (which waits for a, submitted before d) must start
    before d, although d was ready all along."""
    log = str(tmp_path / "starts.txt")
    jobs = [Job("a", _log_start, (log, "a", 1.0)), Job("c", _log_start, (log, "c", 2.0)),
            Job("b", _log_start, (log, "b", 0.0), after=("a",)), Job("d", _log_start, (log, "d", 0.0))]
    with Engine(2, echo=lambda s: None) as engine:
        engine.wait(engine.submit(jobs))
    starts = Path(log).read_text().split()
    assert sorted(starts[:2]) == ["a", "c"] and starts[2:] == ["b", "d"]


def test_a_failed_job_stops_the_jobs_that_wait_for_it():
    with Engine(2, echo=lambda s: None) as engine:
        engine.submit([Job("broken", _boom), Job("after it", _noop, after=("broken",))])
        with pytest.raises(JobError, match="job 'broken' failed on the cluster: RuntimeError: kaput"):
            engine.wait(["after it"])  # names the job that failed, not only the one asked for
        assert "after it" not in engine.reports and "after it" not in engine._futures  # never started


def _quiet(seconds: float) -> None:
    time.sleep(seconds)  # a job that never reports progress


def test_a_running_job_without_progress_reports_is_listed():
    lines = []
    with Engine(2, echo=lines.append, status_every=0.3) as engine:
        engine.wait(engine.submit([Job("quiet", _quiet, (2.0,))]))
    assert "  running: quiet" in lines  # the heartbeat names it though it never reported


def _smoke_jobs():
    from secretlab.experiments.jobs import notebook_jobs

    return [job for stem in ("03_credit", "06_inverted_dynamics", "07_keys_doors")
            for job in notebook_jobs(stem, "smoke")]


def _contents(path: Path):
    """A file's content without its timing fields (training seconds are measured, not computed)."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k].tobytes() for k in data.files}
    if path.suffix == ".pt":
        return _drop_seconds(torch.load(path, weights_only=True, map_location="cpu"))
    if path.suffix == ".json":
        return _drop_seconds(json.loads(path.read_text()))
    return path.read_bytes()


def _drop_seconds(obj):
    if isinstance(obj, dict):
        # a manifest's hash and size are of a file holding a timing
        return {k: _drop_seconds(v) for k, v in obj.items() if k not in ("seconds", "sha256", "bytes")}
    if isinstance(obj, (list, tuple)):
        return [_drop_seconds(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.numpy().tobytes()
    if isinstance(obj, float) and obj != obj:
        return "nan"  # nan != nan: a metric left undefined is the same in both
    return obj


def _artifacts(cache: Path) -> dict[str, object]:
    return {str(p.relative_to(cache)): _contents(p) for p in sorted(cache.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and "resume" not in p.name}


def test_two_workers_and_one_give_the_same_artifacts(tmp_path, monkeypatch):
    """The smoke jobs of notebooks 03, 06 and 07 on a real 2-worker local cluster and in this process, each into
    an empty cache: the same files under the same keys, with the same content (timings aside)."""
    caches = {}
    for workers in (2, 1):
        cache = tmp_path / f"cache-{workers}"
        monkeypatch.setenv("SECRETLAB_CACHE", str(cache))  # the local cluster's workers inherit it
        lines = []
        with Engine(workers, echo=lines.append) as engine:
            names = engine.submit(_smoke_jobs())
            reports = engine.wait(names)
        assert {r.worker.startswith("worker") for r in reports} == {workers > 1}
        caches[workers] = _artifacts(cache)
    assert caches[1].keys() == caches[2].keys() and any("reward_models" in k for k in caches[1])
    different = [k for k in caches[1] if caches[1][k] != caches[2][k]]
    assert not different, f"artifacts that differ between 1 and 2 workers: {different}"


def test_notebooks_after_their_jobs_train_nothing(tmp_path, fresh_cache):
    """The job lists ask for exactly what the notebooks ask for: after the runner's jobs, the smoke notebooks
    add no trained artifact to the cache."""
    from secretlab.experiments.jobs import NOTEBOOK_JOBS, notebook_jobs
    from secretlab.runner import reproduce

    with Engine(1, echo=lambda s: None) as engine:
        engine.wait(engine.submit([j for stem in NOTEBOOK_JOBS for j in notebook_jobs(stem, "smoke")]))

    def trained() -> set[str]:
        return {str(p.relative_to(fresh_cache)) for kind in TRAINED_KINDS for p in (fresh_cache / kind).rglob("*")
                if p.is_file() and not p.name.startswith(".")}

    before = trained()
    assert before
    result = reproduce("smoke", sorted(NOTEBOOK_JOBS), tmp_path / "out", progress=False, echo=lambda s: None,
                       workers=1)
    assert result.ok, [o.error for o in result.outcomes if not o.ok]
    assert trained() == before
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["workers"] == 1 and {j["notebook"] for j in summary["jobs"]} <= set(NOTEBOOK_JOBS)
    assert "Jobs: " in (tmp_path / "out" / "REPORT.md").read_text()


# --- scale projection on a hand-checkable list -----------------------------------------------------------------
def _chain_list():
    # a(3) -> b(4); c(2); d(1) after a and c
    return [Job("a", _noop), Job("b", _noop, after=("a",)), Job("c", _noop), Job("d", _noop, after=("a", "c"))], \
        {"a": 3.0, "b": 4.0, "c": 2.0, "d": 1.0}


def test_critical_path_is_the_longest_chain():
    from secretlab.engine import critical_path

    jobs, seconds = _chain_list()
    assert critical_path(jobs, seconds) == (7.0, ["a", "b"])


def test_projected_wall_between_the_critical_path_and_the_sum():
    from secretlab.engine import projected_wall

    jobs, seconds = _chain_list()
    assert projected_wall(jobs, seconds, 1) == 10.0           # one after another
    # two workers: a on w1 (0-3), c on w2 (0-2); at 2 nothing is ready (b, d need a) -> w2 waits to 3;
    # at 3: b on w1 (3-7), d on w2 (3-4)
    assert projected_wall(jobs, seconds, 2) == 7.0
    assert projected_wall(jobs, seconds, 8) == 7.0            # never below the critical path
    with pytest.raises(ValueError, match="--workers"):
        projected_wall(jobs, seconds, 0)


def test_the_jobs_command_lists_and_projects_a_profile(tmp_path, capsys):
    from secretlab.runner import main_jobs, series_jobs

    listed = series_jobs("smoke")
    names = [job.name for _, job in listed]
    assert len(names) == len(set(names)) and any(job.after for _, job in listed)
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"profile": "smoke", "jobs": [{"name": n, "seconds": 10.0} for n in names]}))
    assert main_jobs("smoke", 0, str(summary), ["1", "2"]) == 0
    out = capsys.readouterr().out
    assert f"job time in all: {10 * len(names)} s" in out and "critical path" in out
    assert f"| 1 | {10 * len(names)} |" in out  # one worker: the sum
    with pytest.raises(ValueError, match="is a run of profile 'smoke', not 'default'"):
        main_jobs("default", 0, str(summary), ["1"])
    summary.write_text(json.dumps({"profile": "smoke", "jobs": []}))
    with pytest.raises(ValueError, match="has no time for job"):
        main_jobs("smoke", 0, str(summary), ["1"])
    with pytest.raises(ValueError, match="no such file"):
        main_jobs("smoke", 0, str(tmp_path / "nope.json"), ["1"])
    with pytest.raises(ValueError, match="--workers"):
        main_jobs("smoke", 0, None, ["0"])
