"""Threads: the core's thread count for one call (`n_jobs`), and numpy's BLAS on one thread
around small dense linear algebra."""

from __future__ import annotations

import contextlib
import functools
import sys

from threadpoolctl import ThreadpoolController

from ._validation import as_int


def core_threads(n_jobs: int | None) -> int:
    """The core's thread count for one call: `n_jobs` checked, None -> 0 (automatic: the
    cores not busy with other processes at the call, see the core's ``idle_cores``). The
    count goes with the call; no runtime setting changes, so torch's or numpy's thread
    settings do not change ours."""
    if n_jobs is None:
        return 0
    threads = as_int(n_jobs, "n_jobs", limit=2**31)
    if threads < 1:
        raise ValueError(f"n_jobs must be at least 1 (or None: automatic), got {threads}")
    return threads


@functools.lru_cache(maxsize=2)
def _blas_threads(scipy_loaded: bool) -> ThreadpoolController:
    """threadpoolctl's view of the BLAS libraries loaded, built once (it reads every loaded
    library), and once more after scipy brings its own BLAS."""
    return ThreadpoolController()


def blas_on_one_thread() -> contextlib.AbstractContextManager[object]:
    """numpy's BLAS on one thread for the block. Our dense matrices are small (a cell's
    features, units x units), and on a busy machine BLAS's threads, or torch's OpenMP threads
    still spinning after its passes, compete for the same cores: a 360 x 35 SVD took 34 ms
    with two BLAS threads and 0.27 ms with one on 2 cores with one other busy process."""
    controller = _blas_threads("scipy.linalg" in sys.modules)
    limit: contextlib.AbstractContextManager[object] = controller.limit(limits=1, user_api="blas")
    return limit
