"""The core's OpenMP thread count for the length of one call (`n_jobs`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._native import core as _core
from ._validation import as_int


@contextmanager
def core_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the block with `n_jobs` core threads (None: OpenMP's default), then restore."""
    if n_jobs is None:
        yield
        return
    threads = as_int(n_jobs, "n_jobs")
    if threads < 1:
        raise ValueError(f"n_jobs must be at least 1, got {threads}")
    previous = _core.max_threads()
    _core.set_threads(threads)
    try:
        yield
    finally:
        _core.set_threads(previous)
