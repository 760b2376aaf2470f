"""Universal compression (the paper's Algorithm 1): compact cells, each reduced to at most
N = C(m + k, k) of its own objects with the same moments up to degree k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import core as _core
from ._progress import progress_callback
from ._recombination import as_functions, fill_cells, recombine
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


# degree="auto" takes the largest degree whose N(m, k) fits the size and this cap: the
# reduction costs O(N^3) per level, and beyond a few hundred moments the error of analytic
# functions is already at the floor of double precision (App. G).
AUTO_MAX_MOMENTS = 500
PARTITIONS = ("auto", "kd", "kd_fast", "greedy")
# The core's option per partition: "kd_fast" is "kd" without the search for the subset that
# matches the next moments best (the core's default number of pivots otherwise).
_REFINE = {"kd_fast": 0}
# greedy: a k-d pass first cuts the objects to F * size, far cheaper than merging rounds.
# Its cells hold about 1/F the volume of the last rounds' balls (in the m dimensions they
# are cut along), so their Taylor remainder (~ diameter^(k+1) per unit weight) is
# F^((k+1)/m) times smaller. F makes that PREPASS_GAIN, so the pass costs little accuracy,
# but stays at most PREPASS_MAX: where 16 needs more (high m, low k), running the rounds
# from further away doubles their time for an error within the trials' spread.
PREPASS_GAIN = 16.0
PREPASS_MAX = 4.0


def greedy_prepass(m: int, k: int) -> float:
    """F for objects cut along m dimensions, matched to degree k."""
    return min(PREPASS_MAX, PREPASS_GAIN ** (m / (k + 1)))


def auto_partition(m: int, k: int) -> str:
    """The partition that ``partition="auto"`` takes for objects cut along m dimensions at
    degree k: the more accurate of "kd" and "greedy" as measured (bench/compare_accuracy.py,
    five smooth functions, d' = 0.1 d): k-d cells with their subsets searched win at m = 1
    and at low degree (0.02-0.9x greedy's error), greedy's small merges from k = 4 (m = 2, 3)
    and k = 3 (m >= 4) on (1.5-3x lower error than the cells)."""
    return "greedy" if m >= 2 and (k >= 4 or (m >= 4 and k >= 3)) else "kd"


def auto_degree(m: int, size: int) -> int:
    """The degree that ``degree="auto"`` picks for m coordinates and `size` kept objects: the
    largest k with N(m, k) <= min(size, AUTO_MAX_MOMENTS) (at least 0)."""
    limit = min(size, AUTO_MAX_MOMENTS)
    k = 0
    while n_moments(m, k + 1) <= limit:
        k += 1
    return k


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
    degree : int or "auto"
        Moments matched inside every group. ``"auto"`` (polylogarithmic compression, App. G)
        takes the largest k with N(m, k) <= min(size, 500): for analytic functions the error
        falls geometrically in k, so the largest affordable degree in the fewest cells wins;
        the cap keeps the O(N^3) reduction cheap. The degree taken is ``result.degree``.
    partition : {"auto", "kd", "kd_fast", "greedy"}
        ``"auto"`` (default): the more accurate of ``"kd"`` and ``"greedy"`` for the
        dimension m the objects are cut along and the degree k, as measured on five smooth
        functions (:func:`auto_partition`): ``"greedy"`` when m >= 2 and k >= 4, or m >= 4
        and k >= 3; ``"kd"`` otherwise, and always with `functions`. The partition taken is
        ``result.partition``.
        ``"kd"``: ``size // N`` balanced k-d cells (median splits of the
        widest coordinate in the units of `metric`; above max(2^17, 256 x cells) objects,
        the medians of a fixed random sample, so cell sizes vary by a few percent), each
        reduced to N objects, in parallel over cells; then, among the many subsets of N
        objects of a cell with its moments, the search moves (simplex pivots, one object in,
        one out, at most 16 per cell) to one whose degree-(k + 1) moments are closer to the
        cell's: those are the leading term of the cell's error. On the Fig. 2 sigmoid this
        halves the error of the cells alone (see the README, "Compressing any set") at
        2-5x their time. ``"kd_fast"``: the same cells without that search (fastest).
        With either, the ``size % N`` objects left go to the cells of largest Taylor
        remainder (weight x diameter^(k + 1)), which are reduced again to also match their
        leading degree-(k + 1) moments exactly (the part their degree-k moments leave, by
        singular value): `size` objects kept, and on the Fig. 2
        grid's 25 (m, k, d) of the quick setting where N does not divide the size, errors
        0.74x those of the cells alone (geometric mean; 0.10x to 1.5x).
        ``"greedy"``: the scheme the paper's theorems are proved for, run in rounds: a k-d
        pass first cuts the objects to F * size, F = min(4, 16^(m/(k+1))) (where below 4,
        its cells leave a Taylor remainder 16x smaller than the last merges'), then every
        live object proposes the smallest ball holding N + max(1, N // 8) live objects,
        disjoint balls are taken smallest first and each is reduced to N, until `size`
        remain (the last balls hold N plus the excess left, so exactly `size` remain). Each
        merge moves little weight inside a tiny ball, so the error is typically 2-9x lower
        than "kd" (Fig. 2, m = 3 and 4), at 2-14x the time. Its `labels` are the nearest
        kept object of every input object.
    metric : (m,) array, optional
        How distances are measured when the groups are cut: objects are close when
        sum_v (metric_v (x_v - y_v))^2 is small. Default: 2 / (max_v - min_v), every column
        in units of its range, so that the groups do not depend on units. A 0 leaves a column
        out of the cutting (its moments are still matched): e.g. cut along the inputs of a
        function only, or use 1 / std for standardized units.
    functions : (n, F) array, optional
        Values of further test functions at every object (a head's or a neuron's output on
        calibration inputs, say), to be matched over all objects as well: sum_kept w_i f(x_i)
        = sum_all w_i f(x_i). With them the k-d cells (``partition="kd"`` only) take
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
    w = as_weights(weights, len(x))
    cut = as_metric(metric, x.shape[1])
    target = as_size(size, len(x))
    if isinstance(degree, str):
        if degree != "auto":
            raise ValueError(f"degree must be a non-negative integer or 'auto', got {degree!r}")
        k = auto_degree(x.shape[1], target)
    else:
        k = as_degree(degree)
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    f = None if functions is None else as_functions(functions, len(x))
    cut_dims = x.shape[1] if cut is None else int(np.count_nonzero(cut))
    if partition == "auto":
        partition = "kd" if f is not None else auto_partition(cut_dims, k)
    if f is not None and partition == "greedy":
        raise ValueError('functions are matched with partition="kd" or "kd_fast" only')
    n = n_moments(x.shape[1], k)
    if target < n and target < len(x):
        raise ValueError(
            f"size {target} is below N = {n}, the number of moments of degree <= {k} in "
            f"{x.shape[1]} dimensions; raise size or lower the degree"
        )
    order = None if rng is None else as_rng(rng).permutation(len(x))
    if order is not None:
        x = x[order]
        w = None if w is None else w[order]
        f = None if f is None else f[order]
    scale = weight_scale(w)
    scaled = w if scale == 1.0 else w / scale
    merge = max(1, n // 8)
    threads = core_threads(n_jobs)
    with blas_on_one_thread(), progress_callback(progress, "compress") as report:
        if f is not None and len(x) > target:
            result = recombine(x, scaled, k, target, f, cut, threads)
        else:
            core_partition = "greedy" if partition == "greedy" else "kd"
            refine = {"refine_steps": _REFINE[partition]} if partition in _REFINE else {}
            result = _core.compress(
                x,
                scaled,
                k,
                target,
                False,
                core_partition,
                merge,
                greedy_prepass(cut_dims, k),
                report,
                cut,
                threads,
                **refine,
            )
            spare = target - len(result["indices"])
            live = len(x) if w is None else int(np.count_nonzero(w > 0))
            if core_partition == "kd" and spare > 0 and len(result["indices"]) < live:
                # the budget the cells leave: their leading degree-(k + 1) moments
                result = fill_cells(x, scaled, k, spare, result, threads)
    indices, labels = result["indices"], result["labels"]
    weights_kept = result["weights"] * scale
    if order is not None:  # back to the caller's rows, sorted
        indices = order[indices]
        sort = np.argsort(indices)
        indices, weights_kept = indices[sort], weights_kept[sort]
        labels = np.empty_like(labels)
        labels[order] = result["labels"]
        if partition == "greedy":  # labels are positions in the kept list, which was re-sorted
            labels = np.argsort(sort)[labels]
    return Compression(
        indices=indices,
        weights=weights_kept,
        labels=labels,
        degree=k,
        partition=partition,
        moment_error=result["moment_error"],
    )
