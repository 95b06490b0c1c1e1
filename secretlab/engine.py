"""Jobs: the independent units of work of the series, run in this process or on Dask distributed.

A :class:`Job` is one cached artifact's worth of work (a reward model, a notebook's DQN runs, the keys/doors
pipeline): a module-level function and its arguments, plus the names of the jobs whose artifacts it reads.
Jobs hand results to each other and to the notebooks through the artifact cache (:mod:`secretlab.cache`), not
through return values, so a job's output is the same file whoever ran it, and a notebook that finds it cached
only loads it.

:class:`Engine` runs them:

- ``Engine(workers=1)``: in this process, one after another (what ``secretlab reproduce --workers 1`` does).
- ``Engine(workers=N)``: a Dask ``LocalCluster`` of ``N`` single-threaded worker processes, started and stopped
  with the engine.
- ``Engine(cluster="tcp://host:8786")``: a running Dask scheduler (its workers must import ``secretlab`` and
  share this machine's cache folder; both are checked on connect).

Dask over Ray: the units are a few dozen coarse Python functions whose outputs are files, so what matters is a
pip-installable engine with a local cluster in one call, task dependencies, worker events for progress and the
same code for a laptop and a cluster; Dask distributed has all of it in pure Python and Ray brings a large native
runtime for nothing this workload uses.

Every job runs with one torch thread (:mod:`secretlab.determinism`) and its own seeded generators, so the bytes it
writes do not depend on the worker count. Progress: each job's :func:`secretlab.progress.progress_bar` counts
(epochs, batches, steps) reach the engine, which prints a line of the running jobs at most every
``status_every`` seconds and one line per finished job with its time.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from secretlab.determinism import result_threads
from secretlab.progress import reporting_to

#: Environment variable naming a running Dask scheduler (what ``--cluster`` sets).
CLUSTER_ENV = "SECRETLAB_CLUSTER"
#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 5
_TOPIC = "secretlab-progress"


@dataclass(frozen=True, eq=False)
class Job:
    """One unit of work: ``fn(*args, **kwargs)``, whose result is written to the cache (its return value is
    dropped)."""

    name: str
    """Unique within a run; what the progress lines show (e.g. ``reward model 8x8 3T/1P, seed 0``)."""
    fn: Callable[..., Any]
    """A module-level function, so that a worker process can import it."""
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    after: tuple[str, ...] = ()
    """Names of the jobs whose artifacts this one reads (they run first)."""


@dataclass(frozen=True)
class JobReport:
    """A finished job: its name, the seconds it took and where it ran."""

    name: str
    seconds: float
    worker: str


class JobError(RuntimeError):
    """A job raised: the message names the job; the job's own exception is the cause."""


def check_workers(workers: Any) -> int:
    """``workers`` as an int ≥ 1; ValueError naming the value otherwise."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a whole number of worker processes >= 1, got {workers!r} "
                         f"(1 runs every job in this process, one after another)")
    return workers


def resolve_cluster(cluster: str | None) -> str | None:
    """``cluster``, else ``$SECRETLAB_CLUSTER``, else None (a local cluster); ValueError if not an address."""
    address = cluster if cluster is not None else os.environ.get(CLUSTER_ENV) or None
    if address is None:
        return None
    if not isinstance(address, str) or not address.strip() or any(c.isspace() for c in address.strip()):
        raise ValueError(f"--cluster must be the address of a Dask scheduler such as 'tcp://10.0.0.5:8786', "
                         f"got {address!r}")
    return address.strip()


def order_jobs(jobs: Iterable[Job]) -> list[Job]:
    """``jobs`` with duplicates (same name) dropped, each after the jobs it names in ``after``.

    ValueError if a job waits for a name that is not in the list or two jobs wait for each other.
    """
    by_name: dict[str, Job] = {}
    for job in jobs:
        by_name.setdefault(job.name, job)
    ordered: list[Job] = []
    state: dict[str, str] = {}

    def visit(job: Job, chain: tuple[str, ...]) -> None:
        if state.get(job.name) == "done":
            return
        if state.get(job.name) == "visiting":
            raise ValueError(f"jobs wait for each other: {' -> '.join(chain + (job.name,))}")
        state[job.name] = "visiting"
        for dep in job.after:
            if dep not in by_name:
                raise ValueError(f"job {job.name!r} waits for {dep!r}, which is not among the jobs: "
                                 f"{sorted(by_name)}")
            visit(by_name[dep], chain + (job.name,))
        state[job.name] = "done"
        ordered.append(job)

    for job in by_name.values():
        visit(job, ())
    return ordered


def _run_job(fn: Callable[..., Any], args: tuple, kwargs: dict, name: str) -> JobReport:
    """What a worker runs: the job with one torch thread and its progress sent as worker events."""
    import contextlib

    try:
        from distributed import get_worker

        worker = get_worker()
        where = f"worker {worker.name if worker.name is not None else worker.address}"
        progress = reporting_to(lambda desc, done, total: worker.log_event(
            _TOPIC, {"job": name, "desc": desc, "done": done, "total": total}))
    except (ImportError, ValueError):  # not on a Dask worker: called in-process (the caller's reporter stays)
        where, progress = "this process", contextlib.nullcontext()
    start = time.perf_counter()
    with result_threads(), progress:
        fn(*args, **kwargs)
    return JobReport(name, time.perf_counter() - start, where)


def _secretlab_on_worker() -> str:
    import secretlab

    return secretlab.__file__


def _read_probe(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


class Engine:
    """Runs :class:`Job` lists: in this process (``workers=1``, no ``cluster``) or on Dask (see module doc).

    Use it as a context manager (the local cluster starts on enter and stops on exit). :meth:`submit` queues
    jobs (on Dask they start at once, in the background); :meth:`wait` blocks until the named jobs are done
    (in-process, it runs them then) and returns their reports.
    """

    def __init__(self, workers: int = 1, cluster: str | None = None, echo: Callable[[str], None] = print,
                 status_every: float = 30.0):
        self.workers = check_workers(workers)
        self.cluster = resolve_cluster(cluster)
        self.echo, self.status_every = echo, status_every
        self.client: Any = None
        self._local: Any = None
        self._jobs: dict[str, Job] = {}
        self._futures: dict[str, Any] = {}
        self._queue: list[Job] = []
        self._in_flight: set[str] = set()
        self._failed: dict[str, BaseException] = {}
        self.reports: dict[str, JobReport] = {}
        self._running: dict[str, tuple[str | None, int, int | None]] = {}
        self._lock = threading.RLock()  # a done callback may run inside _dispatch, on the same thread
        self._last_status = 0.0

    # --- lifecycle --------------------------------------------------------------------------------------------
    @property
    def distributed(self) -> bool:
        return self.cluster is not None or self.workers > 1

    def __enter__(self) -> "Engine":
        if self.cluster is not None:  # a wrong address fails now, in seconds; a local cluster starts with the first job
            self._connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._queue.clear()
        if self.client is not None:
            for future in self._futures.values():
                future.cancel()
            self.client.close()
            self.client = None
        if self._local is not None:
            self._local.close()
            self._local = None

    def _connect(self) -> None:
        import logging

        from distributed import Client, LocalCluster

        if self.cluster is None:
            _worker_settings()
            self._local = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self._local)
        else:
            try:
                self.client = Client(self.cluster, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as err:
                raise ConnectionError(
                    f"--cluster {self.cluster!r}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({err}); "
                    f"start one (`dask scheduler`, then `dask worker ADDRESS --nthreads 1` per core) or leave "
                    f"--cluster and ${CLUSTER_ENV} unset for a local cluster") from None
            self.workers = max(1, len(self.client.nthreads()))
            self._check_workers()
        self.client.subscribe_topic(_TOPIC, self._on_progress)

    def _check_workers(self) -> None:
        """The cluster's workers must import secretlab and see this machine's cache folder."""
        from secretlab.cache import atomic_write_text, cache_dir

        if not self.client.nthreads():
            raise ConnectionError(f"--cluster {self.cluster!r}: the scheduler has no workers; start some with "
                                  f"`dask worker {self.cluster} --nthreads 1`")
        try:
            self.client.run(_secretlab_on_worker)
        except ImportError as err:
            raise ConnectionError(f"--cluster {self.cluster!r}: its workers cannot import secretlab ({err}); "
                                  f"install it in the workers' environment (pip install -e .)") from None
        probe = cache_dir() / f".engine-probe-{os.getpid()}"
        token = f"{os.getpid()}-{time.time()}"
        atomic_write_text(probe, token)
        try:
            seen = self.client.run(_read_probe, str(probe))
        finally:
            probe.unlink(missing_ok=True)
        blind = sorted(w for w, text in seen.items() if text != token)
        if blind:
            raise ConnectionError(f"--cluster {self.cluster!r}: worker(s) {blind} do not see this machine's cache "
                                  f"folder {cache_dir()}; set SECRETLAB_CACHE to a folder every worker and this "
                                  f"machine share")

    # --- jobs -------------------------------------------------------------------------------------------------
    def submit(self, jobs: Iterable[Job]) -> list[str]:
        """Queue ``jobs`` (duplicates of queued names are skipped); their names, in run order."""
        ordered = order_jobs([*self._jobs.values(), *jobs])
        new = [job for job in ordered if job.name not in self._jobs]
        if new and self.distributed and self.client is None:
            self._connect()
        with self._lock:
            for job in new:
                self._jobs[job.name] = job
                if self.client is not None:
                    self._queue.append(job)
        if self.client is not None:
            self._dispatch()
        return [job.name for job in new]

    def _dispatch(self) -> None:
        """Start queued jobs whose inputs are done, first submitted first, while a worker is free.

        The engine schedules, not Dask: Dask hands every submitted task to a worker at once, so a job that becomes
        ready later (a fine-tuning whose start model just finished) would wait behind jobs already placed there.
        """
        with self._lock:
            while self._queue and len(self._in_flight) < self.workers:
                ready = next((job for job in self._queue if all(d in self.reports for d in job.after)), None)
                if ready is None:
                    return
                self._queue.remove(ready)
                self._in_flight.add(ready.name)
                self._running[ready.name] = (None, 0, None)  # listed as running before its first progress report
                future = self.client.submit(_run_job, ready.fn, ready.args, ready.kwargs, ready.name, pure=False,
                                            key=_task_key(ready.name))
                self._futures[ready.name] = future
                future.add_done_callback(lambda done, name=ready.name: self._on_done(name, done))

    def wait(self, names: Sequence[str]) -> list[JobReport]:
        """Block until every job in ``names`` is done (running them here when in-process); their reports.

        Raises :class:`JobError` naming the first job that failed.
        """
        unknown = [name for name in names if name not in self._jobs]
        if unknown:
            raise KeyError(f"wait for job(s) never submitted: {unknown}")
        wanted, stack = set(), list(names)
        while stack:  # the named jobs and every job they wait for
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                stack.extend(self._jobs[name].after)
        for job in order_jobs(self._jobs.values()):
            if job.name not in wanted:
                continue
            if job.name in self.reports:
                continue
            if self.client is None:
                self._run_here(job)
            else:
                self._collect(job.name)
        return [self.reports[name] for name in names]

    def _run_here(self, job: Job) -> None:
        self.echo(f"  job: {job.name} ...")
        with reporting_to(lambda desc, done, total: self._on_progress((time.time(), {
                "job": job.name, "desc": desc, "done": done, "total": total}))):
            try:
                report = _run_job(job.fn, job.args, job.kwargs, job.name)
            except Exception as err:
                raise JobError(f"job {job.name!r} failed: {type(err).__name__}: {err}") from err
        self._finish(report)

    def _collect(self, name: str) -> None:
        """Wait for a job on the cluster (printing the running jobs every ``status_every`` s while waiting)."""
        last = time.monotonic()
        while True:
            with self._lock:
                if name in self.reports:
                    return
                failed = self._failed_input(name)
            if failed is not None:
                culprit, err = failed
                what = "failed on the cluster" if culprit == name else f"cannot run: its input job {culprit!r} failed"
                raise JobError(f"job {name!r} {what}: {type(err).__name__}: {err}") from err
            time.sleep(0.2)
            if time.monotonic() - last >= self.status_every:
                last = time.monotonic()
                self._print_status(force=True)

    def _failed_input(self, name: str) -> tuple[str, BaseException] | None:
        """The job itself, or one it waits for, that failed, with its error (None: nothing failed)."""
        if name in self._failed:
            return name, self._failed[name]
        for dep in self._jobs[name].after:
            found = self._failed_input(dep)
            if found is not None:
                return found
        return None

    def _on_done(self, name: str, future: Any) -> None:
        """Dask's done callback: the finished line as soon as a job ends (even while a notebook runs), then the
        next jobs."""
        if future.status == "finished":
            self._finish(future.result())
        else:
            err = future.exception() if future.status == "error" else RuntimeError(
                "cancelled (a worker died or the cluster went away); rerun: finished artifacts stay in the cache")
            with self._lock:
                self._failed[name] = err
                self._running.pop(name, None)
        with self._lock:
            self._in_flight.discard(name)
        if self.client is not None:
            self._dispatch()

    def _finish(self, report: JobReport) -> None:
        with self._lock:
            self._running.pop(report.name, None)
            if report.name in self.reports:
                return
            self.reports[report.name] = report
        self.echo(f"  done: {report.name} in {report.seconds:.1f} s ({report.worker})")

    # --- progress ---------------------------------------------------------------------------------------------
    def _on_progress(self, event: tuple[float, dict]) -> None:
        msg = event[1]
        with self._lock:
            self._running[msg["job"]] = (msg["desc"], msg["done"], msg["total"])
        self._print_status()

    def _print_status(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._running or (not force and now - self._last_status < self.status_every):
                return
            self._last_status = now
            parts = [name if desc is None else f"{name} [{desc} {done}/{total if total is not None else '?'}]"
                     for name, (desc, done, total) in self._running.items()]
        self.echo("  running: " + " | ".join(parts))


def _worker_settings() -> None:
    """Dask settings for workers that run long, allocation-heavy torch loops (measured on a 2-worker cluster:
    a reward-model training ran 1.6x slower in a worker than in a plain process, a third of it system time).

    - The nanny's ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc hand memory back to the OS after nearly every
      free; a training loop that allocates and frees tensors each step then spends its time in system calls.
    - The statistical profiler samples the task thread's stack every 10 ms, taking the GIL from it.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    dask.config.set({"distributed.nanny.pre-spawn-environ": environ, "distributed.worker.profile.enabled": False})


def _task_key(name: str) -> str:
    import uuid

    return f"secretlab-{name}-{uuid.uuid4().hex[:8]}"


# --- scale: what a job list needs at N workers ---------------------------------------------------------------
def critical_path(jobs: Sequence[Job], seconds: dict[str, float]) -> tuple[float, list[str]]:
    """The longest chain of ``jobs`` through ``after`` (each job ``seconds[name]`` long): its length and names.

    No number of workers finishes the list faster than this.
    """
    finish: dict[str, tuple[float, list[str]]] = {}
    for job in order_jobs(jobs):
        before = max((finish[d] for d in job.after), key=lambda f: f[0], default=(0.0, []))
        finish[job.name] = (before[0] + seconds[job.name], before[1] + [job.name])
    return max(finish.values(), key=lambda f: f[0], default=(0.0, []))


def projected_wall(jobs: Sequence[Job], seconds: dict[str, float], workers: int) -> float:
    """Seconds to run ``jobs`` on ``workers`` single-job workers, each job ``seconds[name]`` long: a list schedule
    that starts, whenever a worker is free, the first job (in submission order) whose ``after`` jobs are done, as
    Dask's scheduler does for tasks of equal priority. Between :func:`critical_path` and the sum of ``seconds``."""
    import heapq

    check_workers(workers)
    pending = order_jobs(jobs)
    done_at: dict[str, float] = {}
    free = [0.0] * workers  # the time each worker becomes free
    heapq.heapify(free)
    while pending:
        now = heapq.heappop(free)
        ready = [j for j in pending if all(done_at.get(d, float("inf")) <= now for d in j.after)]
        if not ready:  # wait for the next dependency to finish
            later = min(t for t in done_at.values() if t > now)
            heapq.heappush(free, later)
            continue
        job = ready[0]
        pending.remove(job)
        done_at[job.name] = now + seconds[job.name]
        heapq.heappush(free, done_at[job.name])
    return max(done_at.values(), default=0.0)
