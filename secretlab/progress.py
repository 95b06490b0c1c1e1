"""Progress of long loops (epochs, batches, runs): a tqdm bar, or reports to the job engine.

Every long loop of the package counts its steps through :func:`progress_bar`. Run by hand, it is a tqdm bar
(``enabled=True``) or nothing. Inside a job of :mod:`secretlab.engine`, the engine installs a reporter
(:func:`reporting_to`) and every bar, enabled or not, sends ``(description, done, total)`` to it instead of
drawing, so the runner can print which jobs are running and how far they are. Reports never reach JSON or
figures, and a bar's updates are throttled (a report at most every ``min_interval`` seconds, and the last).
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator

Reporter = Callable[[str, int, "int | None"], None]

_local = threading.local()


@contextlib.contextmanager
def reporting_to(reporter: Reporter) -> Iterator[None]:
    """Send every :func:`progress_bar` of this thread to ``reporter(description, done, total)`` while open."""
    previous = getattr(_local, "reporter", None)
    _local.reporter = reporter
    try:
        yield
    finally:
        _local.reporter = previous


def current_reporter() -> Reporter | None:
    return getattr(_local, "reporter", None)


class _ReportingBar:
    """The part of tqdm's interface the package uses, forwarding counts to a reporter."""

    def __init__(self, reporter: Reporter, total: int | None, desc: str, initial: int, min_interval: float):
        self.reporter, self.total, self.desc, self.n = reporter, total, desc, initial
        self.min_interval, self._last = min_interval, float("-inf")
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.min_interval or (self.total is not None and self.n >= self.total):
            self._last = now
            self.reporter(self.desc, self.n, self.total)

    def update(self, n: int = 1) -> None:
        self.n += n
        self._report()

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """Accepted and ignored: the job's progress line shows counts only."""

    def close(self) -> None:
        self._report(force=True)


class _NoBar:
    def update(self, n: int = 1) -> None: ...

    def set_postfix(self, *args: Any, **kwargs: Any) -> None: ...

    def close(self) -> None: ...


def progress_bar(total: int | None, desc: str, unit: str = "it", initial: int = 0, enabled: bool = True,
                 min_interval: float = 2.0) -> Any:
    """A bar with ``update(n)``, ``set_postfix(...)`` and ``close()``: reports to the engine inside a job,
    else a tqdm bar if ``enabled``, else a no-op."""
    reporter = current_reporter()
    if reporter is not None:
        return _ReportingBar(reporter, total, f"{desc} ({unit})", initial, min_interval)
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit)


def iterate(items: Any, desc: str, unit: str = "it", enabled: bool = True) -> Iterator[Any]:
    """``items`` one by one, counted by a :func:`progress_bar`."""
    items = list(items)
    bar = progress_bar(len(items), desc, unit, enabled=enabled)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()
