"""Universal compression (the paper's Algorithm 1): compact cells, each reduced to at most
N = C(m + k, k) of its own objects with the same moments up to degree k."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import core as _core
from ._native import options as _options
from ._progress import progress_callback
from ._recombination import CellReduction, as_functions, fill_cells, recombine
from ._threads import blas_on_one_thread, core_threads
from ._validation import (
    as_degree,
    as_metric,
    as_points,
    as_rng,
    as_size,
    as_weights,
    weight_scale,
)
from .reduction import n_moments


@dataclass(frozen=True)
class Compression:
    """A weighted subset of the objects that keeps every cell's moments up to `degree`.

    Attributes
    ----------
    indices : (s,) int64
        Sorted input rows kept: s = size whenever more objects than that have weight
        (fewer only when a cell's objects are degenerate, e.g. repeated points).
    weights : (s,) float64
        Their weights, all > 0, with the input's total (the number of objects by default:
        weights are multiplicities).
    labels : (n,) int64
        The cell of every input object. With greedy (``partition="greedy"``, or "auto"
        when it takes greedy: see `partition`): the position in `indices` of its nearest
        kept object (in the metric the groups were cut with).
    degree : int
        The degree matched in every group (with ``partition="auto"``, possibly above the
        one asked for).
    partition : str
        The partition used ("kd", "kd_fast" or "greedy"; "auto" resolved).
    moment_error : float
        Largest moment residual over the cells, relative to the cell's weight, with each cell
        mapped onto [-1, 1]^m.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    labels: NDArray[np.int64]
    degree: int
    partition: str
    moment_error: float

    def __len__(self) -> int:
        return len(self.indices)


# What users choose: "kd_fast" is the core's "kd" without the search for each cell's subset
# that matches its next moments (refine_steps = 0); "auto" picks by auto_partition.
PARTITIONS = ("auto", "kd", "kd_fast", "greedy")

# The algorithm's settings live in the core (its CompressOptions carry the product's
# defaults); greedy_prepass and auto_degree read them, for the callers that plan around them
# (tchakaloff.dask, compress_dataset).


def greedy_prepass(m: int, k: int) -> float:
    """F, the greedy partition's first k-d cut to F * size, for objects cut along m
    dimensions and matched to degree k: min(4, 16^(m/(k+1)))."""
    return float(_core.greedy_prepass(m, k))


def auto_partition(m: int, k: int) -> str:
    """The partition that ``partition="auto"`` takes for objects cut along m dimensions at
    degree k: the more accurate of "kd" and "greedy" as measured (bench/compare_accuracy.py,
    five smooth functions, d' = 0.1 d): k-d cells with their subsets searched win at m = 1
    and at low degree (0.02-0.9x greedy's error), greedy's small merges from k = 4 (m = 2, 3)
    and k = 3 (m >= 4) on (1.5-3x lower error than the cells)."""
    return "greedy" if m >= 2 and (k >= 4 or (m >= 4 and k >= 3)) else "kd"


# How far partition="auto" raises the degree: at most RAISE_DEGREES above the one asked for
# and to N <= RAISE_MAX_MOMENTS, where the reductions (O(N^2) per object kept) stay >= 100x
# faster than the paper's published times (App. D, m = 1..5).
RAISE_DEGREES = 3
RAISE_MAX_MOMENTS = 330


def raised_degree(m: int, k: int, size: int) -> int:
    """The degree ``partition="auto"`` matches for objects with m coordinates, asked for
    degree k and `size` kept: the largest k' in k..k + 3 with N(m, k') <= min(size, 330),
    and k when none is.

    Keeping `size` objects, cells of degree k' are N(m, k') / N(m, k) times larger, but
    their error falls by one power of the cells' diameter per degree: for smooth functions
    the higher degree wins by far (Fig. 2 protocol, 20 trials: 0.001x greedy's error at
    degree k at m = 1 and 2, 0.012x at m = 3, 0.085x at m = 4, geometric means), and the
    moments up to k stay matched."""
    raised = k
    while raised < k + RAISE_DEGREES and n_moments(m, raised + 1) <= min(size, RAISE_MAX_MOMENTS):
        raised += 1
    return raised


def auto_degree(m: int, size: int) -> int:
    """The degree that ``degree="auto"`` picks for m coordinates and `size` kept objects: the
    largest k with N(m, k) <= min(size, 500) (at least 0)."""
    return int(_core.auto_degree(m, size))


def compress(
    objects: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    size: float,
    degree: int | str,
    partition: str = "auto",
    metric: ArrayLike | None = None,
    functions: ArrayLike | None = None,
    rng: np.random.Generator | int | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> Compression:
    """Keep at most `size` objects, re-weighted so that their moments up to `degree` match
    those of the objects they replace, group by group.

    For a smooth symmetric function of the objects, the error left by a group of diameter r
    scales like r^(degree + 1), so the objects are reduced in small groups (the paper's
    Algorithm 1); every group is reduced by :func:`tchakaloff.reduce`'s algorithm in C++.

    Parameters
    ----------
    objects : (n, m) array
    weights : (n,) array, optional
        Non-negative, all ones by default.
    size : int or float
        Objects to keep (int >= N = C(m + k, k)), or a fraction of n (float in (0, 1]).
        Exactly that many are kept whenever more distinct objects have weight. The one
        exception is an explicit degree at which the groups' moments are numerically
        dependent, so that fewer objects match them to rounding (in 1-D from about k = 30
        on heavy-tailed samples: Cauchy, k = 31 raised to 34, keeps about 4,940 of 5,000); with
        ``degree="auto"`` the degree then comes down until the size is spent.
    degree : int or "auto"
        Moments matched inside every group: at least this degree with the default
        partition (it raises the degree while the size allows, see `partition`), exactly
        this with an explicit one. ``"auto"`` (polylogarithmic compression, App. G)
        takes the largest k with N(m, k) <= min(size, 500): for analytic functions the error
        falls geometrically in k, so the largest affordable degree in the fewest cells wins;
        the cap keeps the O(N^3) reduction cheap. Where that degree leaves part of the size
        unspent (numerically dependent moments: 41 of 100 kept at k = 99 on a 1-D normal
        sample), it is halved until the size is spent (k = 13 on that sample, with 1/1000
        of k = 99's error on a sigmoid). The degree taken is ``result.degree``.
    partition : {"auto", "kd", "kd_fast", "greedy"}
        ``"auto"`` (default): the most accurate scheme for smooth functions at this size.
        First the degree is raised, up to k + 3, while N(m, k') <= min(size, 330)
        (:func:`tchakaloff.compression.raised_degree`): the same size in fewer, larger cells
        whose error falls by one power of their diameter per degree, so that on the paper's
        Fig. 2 grid (20 trials, m = 2..4, d >= 4e3) the mean error is 0.009x the paper's in
        the geometric mean, at most 0.8x (see the guide "Point sets and cubature"), still
        >= 150x faster than its published times; the moments up to k stay matched in every
        group. Then the more accurate of ``"kd"`` and ``"greedy"`` for the dimension m the
        objects are cut along and that degree, as measured on five smooth functions
        (:func:`tchakaloff.compression.auto_partition`): ``"greedy"`` when m >= 2 and
        k' >= 4, or m >= 4 and k' >= 3; ``"kd"`` otherwise. With `functions`, ``"kd"`` at
        degree k. The partition and the degree taken are ``result.partition`` and
        ``result.degree``. On functions with kinks (ReLU), whose error does not fall with
        the degree, it is level with the other partitions (within 4x either way, m = 2..4).
        An explicit partition keeps degree k (the paper's scheme: ``"greedy"``).
        ``"kd"``: ``size // N`` balanced k-d cells (median splits of the
        widest coordinate in the units of `metric`; above max(2^17, 256 x cells) objects,
        the medians of a fixed random sample, so cell sizes vary by a few percent), each
        reduced to N objects, in parallel over cells; then, among the many subsets of N
        objects of a cell with its moments, the search moves (simplex pivots, one object in,
        one out, at most 16 per cell) to one whose degree-(k + 1) moments are closer to the
        cell's: those are the leading term of the cell's error. On the Fig. 2 sigmoid this
        halves the error of the cells alone (see the guide "Point sets and cubature") at
        2-5x their time. ``"kd_fast"``: the same cells without that search (fastest).
        With either, the ``size % N`` objects left go to the cells of largest Taylor
        remainder (weight x diameter^(k + 1)), which are reduced again to also match their
        leading degree-(k + 1) moments exactly (the part their degree-k moments leave, by
        singular value): `size` objects kept, and on the Fig. 2
        grid's 25 (m, k, d) of the quick setting where N does not divide the size, errors
        0.74x those of the cells alone (geometric mean; 0.10x to 1.5x).
        ``"greedy"``: the scheme the paper's theorems are proved for, run in rounds: a k-d
        pass first cuts the objects to F * size, F = min(4, 16^(m/(k+1))) (where below 4,
        its cells leave a Taylor remainder 16x smaller than the last merges'; never to
        fewer than `size`), then every live object proposes the smallest ball holding
        N + max(1, N // 8) live objects, disjoint balls are taken smallest first and each
        is reduced to N, until `size` remain (the last balls hold N plus the excess left,
        so exactly `size` remain). Each merge moves little weight inside a tiny ball, so
        the error is typically 2-9x lower than "kd" (Fig. 2, m = 3 and 4), at 2-14x the
        time. Its `labels` are the nearest kept object of every input object.
    metric : (m,) array, optional
        How distances are measured when the groups are cut: objects are close when
        sum_v (metric_v (x_v - y_v))^2 is small. Default: 2 / (max_v - min_v), every column
        in units of its range, so that the groups do not depend on units. A 0 leaves a column
        out of the cutting (its moments are still matched): e.g. cut along the inputs of a
        function only, or use 1 / std for standardized units.
    functions : (n, F) array, optional
        Values of further test functions at every object (a head's or a neuron's output on
        calibration inputs, say), to be matched over all objects as well: sum_kept w_i f(x_i)
        = sum_all w_i f(x_i). With them the k-d cells (``"kd"`` or ``"kd_fast"`` only) take
        floor((size - r) / N) x N objects (without the search for the next moments), r the
        functions' numerical rank (their leading
        components, at most size - N of them, relative singular values above 1e-10), and
        whatever budget is left matches the cells' leading degree-(k + 1) moments (the
        part of the Taylor remainder their degree-k moments leave, largest first over all
        cells). Everything is kept exactly by one reduction on these features, so the
        result holds `size` objects whenever they are independent. It needs one dense
        (n, size) matrix: for few cells (a layer or a set of heads), not for millions of
        objects.
    rng : numpy Generator or int, optional
        Shuffles the order in which each group's objects enter the reduction, which picks
        among the many valid subsets. None keeps the input order. The result is a function
        of the data and `rng` only.
    n_jobs : int, optional
        Threads for this call. Default: the cores not busy with other processes when the
        call starts (at most OMP_NUM_THREADS when set), so that a busy machine is not
        oversubscribed; other libraries' thread settings (``torch.set_num_threads``) do not
        change it. The result does not depend on it.
    progress : bool
        Show a progress bar (needs tqdm).

    Raises
    ------
    ValueError
        Bad input, an unknown partition, or `size` below N = C(m + k, k).
    """
    x = as_points(objects, "objects")
    target = as_size(size, len(x))
    w = as_weights(weights, len(x))
    run = partial(
        compress_converted,
        x,
        w,
        target,
        partition=partition,
        metric=as_metric(metric, x.shape[1]),
        functions=None if functions is None else as_functions(functions, len(x)),
        order=None if rng is None else as_rng(rng).permutation(len(x)),
        threads=core_threads(n_jobs),
        progress=progress,
    )
    k = resolve_degree(degree, x.shape[1], target)
    result = run(k)
    if degree == "auto" and len(result) < target:
        # At the high degrees "auto" takes, a cell's moments can be numerically dependent
        # (heavy tails, m <= 2): fewer than N objects match them and the size is not spent.
        # A lower degree in more cells spends it, while more distinct objects are left.
        distinct = len(np.unique(x if w is None else x[w > 0], axis=0))
        while k > 0 and len(result) < min(target, distinct):
            # at most half the degree: where one cell loses rank, the widest ones lose more
            need = n_moments(x.shape[1], k) * len(result) / target
            k = max(j for j in range(k // 2 + 1) if j == 0 or n_moments(x.shape[1], j) <= need)
            result = run(k)
    return result


def resolve_degree(degree: int | str, m: int, size: int) -> int:
    """`degree` as an int: ``"auto"`` becomes :func:`auto_degree`'s choice."""
    if isinstance(degree, str):
        if degree != "auto":
            raise ValueError(f"degree must be a non-negative integer or 'auto', got {degree!r}")
        return auto_degree(m, size)
    return as_degree(degree)


def compress_converted(
    x: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    size: int,
    degree: int,
    *,
    partition: str = "kd",
    metric: NDArray[np.float64] | None = None,
    functions: NDArray[np.float64] | None = None,
    order: NDArray[np.int64] | None = None,
    threads: int = 0,
    progress: bool = False,
) -> Compression:
    """:func:`compress` on inputs converted by its checks (for the callers that converted
    them already): `order` is the permutation `rng` draws (None: the input order), `threads`
    the core's (0: automatic). Range checks are the core's."""
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    if partition == "auto" and functions is None:
        cut_dims = x.shape[1] if metric is None else int(np.count_nonzero(metric))
        if len(x) > size:  # below that everything is kept as it is
            degree = raised_degree(x.shape[1], degree, size)
        partition = auto_partition(cut_dims, degree)
    elif partition == "auto":
        partition = "kd"
    if functions is not None and partition == "greedy":
        raise ValueError('functions are matched with partition="kd" or "kd_fast" only')
    cells = "greedy" if partition == "greedy" else "kd"  # the core's partition
    if order is not None:
        x = x[order]
        w = None if w is None else w[order]
        functions = None if functions is None else functions[order]
    scale = weight_scale(w)
    scaled = w if w is None or scale == 1.0 else w / scale
    result: CellReduction | _core.Compression
    with blas_on_one_thread(), progress_callback(progress, "compress") as report:
        if functions is not None and len(x) > size:
            result = recombine(x, scaled, degree, size, functions, metric, threads)
        else:
            options = _options(
                _core.CompressOptions,
                partition=_core.Partition.__members__[cells],
                metric=metric,
                threads=threads,
                **({"refine_steps": 0} if partition == "kd_fast" else {}),
            )
            result = _core.compress(x, scaled, degree, size, options, report)
            spare = size - len(result.indices)
            live = len(x) if w is None else int(np.count_nonzero(w > 0))
            if cells == "kd" and spare > 0 and len(result.indices) < live:
                # the budget the cells leave: their leading degree-(k + 1) moments
                result = fill_cells(x, scaled, degree, spare, result, threads)
    indices, labels = result.indices, result.labels
    weights_kept = result.weights * scale
    if order is not None:  # back to the caller's rows, sorted
        indices = order[indices]
        sort = np.argsort(indices)
        indices, weights_kept = indices[sort], weights_kept[sort]
        labels = np.empty_like(result.labels)
        labels[order] = result.labels
        if partition == "greedy":  # labels are positions in the kept list, which was re-sorted
            labels = np.argsort(sort)[labels]
    return Compression(
        indices=np.asarray(indices),
        weights=weights_kept,
        labels=np.asarray(labels),
        degree=degree,
        partition=partition,
        moment_error=float(result.moment_error),
    )
