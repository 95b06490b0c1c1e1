"""One intra-op thread for every computation that makes a result, so results do not depend on the machine's
core count or on how many jobs share it.

A float sum split over two threads is added in a different order than on one, and reward-model training
amplifies that last-bit difference into a different model. So every cached artifact is built with one torch
intra-op thread (:func:`secretlab.cache.load_or_build`), every job of :mod:`secretlab.engine` runs with one,
and :func:`secretlab.notebook.setup` sets one for the notebook's own work: ``--workers 1``, ``--workers 2``
and a notebook run by hand give the same bytes. Parallelism comes from running jobs side by side instead.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

#: torch intra-op threads of every result-making computation; part of the cache key of what torch trains
#: (reward models, PPO agents), so artifacts built under another count are never mistaken for these.
RESULT_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (None: leave as is), then restore the count."""
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def result_threads() -> contextlib.AbstractContextManager:
    """:func:`torch_threads` at :data:`RESULT_THREADS`."""
    return torch_threads(RESULT_THREADS)
