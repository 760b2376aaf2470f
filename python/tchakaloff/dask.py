"""Out-of-core and distributed compression on Dask: ``tchakaloff.dask``.

The rows of a ``dask.array`` (row chunks, one column chunk), a ``.npy`` file or a
``numpy.memmap`` are reduced chunk by chunk as Dask tasks, and the chunks' results are merged
in a tree (``split_every`` children per merge), on whatever scheduler is active: threads,
processes or a ``distributed.Client``. Only the kept rows and small summaries travel; the data
never gather on the client. Every task is a deterministic function of its inputs and the tree
is fixed by the chunking, so the result is the same on every scheduler (and after a worker is
lost and its tasks are run again).

Why this is exact. Moments add up over chunks, and a reduction keeps them: the union of the
reductions of two chunks has the moments of both chunks, and reducing that union keeps them
again. So :func:`reduce` keeps the moments of all the rows at any depth of the tree, up to
rounding (each level adds a residual of about 1e-16 of the total weight).

Compression, with global cells. :func:`compress` needs small cells, and cells cut inside one
chunk would be ``chunks^(1/m)`` times wider than cells cut in all the rows (a chunk holds fewer
of them), with an error ``chunks^((k+1)/m)`` times larger. So the cells are global: a first
pass draws a fixed sample of every chunk (and its range and spread) and cuts the sample into
balanced k-d cells, like the in-memory ``partition="kd"`` (median splits of the widest
coordinate in `metric` units). The second pass reduces, in every chunk, each cell's rows to at
most N = C(m + k, k), and at every merge each cell's rows of its children again: exact per
cell, as above.

Intermediate sizes, and the error the levels add.

- ``partition="kd"``: ``size // N`` cells, the final ones. The ``size % N`` rows they leave
  are spent as in memory, on the degree-(k + 1) moments of the cells of largest Taylor
  remainder; that needs those moments of all the cell's rows, so the plan picks these cells
  on the sample (at most ``size % N`` of them) and every reduction in the tree keeps their
  moments up to degree k + 1 (N' = C(m + k + 1, k + 1) rows each; more degrees where a cell
  has more spare rows than degree-(k + 1) moments). The root reduces them to degree k and
  refills them: exactly `size` rows. Every intermediate result holds at most the rows below
  it, and at most `size` plus ``N' - N`` per refilled cell; every cell keeps its exact
  moments at every depth, so the levels add no error: the result is the in-memory k-d
  compression of the same cells. What differs from ``tchakaloff.compress`` in memory: the
  cuts are a sample's medians (cells balanced within a few percent, as in memory above 2^17
  rows), the cells refilled are chosen on the sample, and which rows a cell keeps (equally
  valid choices).
- ``partition="greedy"``: ``floor(F * size) // N`` cells (at least ``ceil(size / N)``),
  ``F = min(4, 16^(m/(k+1)))`` the factor of the in-memory greedy partition's own k-d pass
  (:func:`tchakaloff.compression.greedy_prepass`, m the columns cut along), so every
  intermediate result holds at most ``F * size`` rows; the root then runs the greedy rounds
  in memory on those rows down to `size`. These are the two levels of the in-memory greedy
  partition: the first level's cells hold 1/F of the volume of the last merges' balls, so
  their Taylor remainder (~ diameter^(k+1) per unit weight) is ``F^((k+1)/m)`` times smaller
  (16 wherever F < 4); the errors of the levels add, so the first adds at most that fraction
  of the last one's.
- ``partition="auto"`` (the default of :func:`compress`): the degree raised and one of the
  two, as :func:`tchakaloff.compress` picks (:func:`tchakaloff.compression.raised_degree`,
  :func:`tchakaloff.compression.auto_partition`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import core as _core
from ._native import options
from ._recombination import CellReduction, fill_cells, label_runs, taylor_remainders, top_degree
from ._threads import core_threads
from ._validation import as_degree, as_metric, as_size, weight_scale
from .compression import auto_degree, auto_partition, greedy_prepass, raised_degree
from .compression import compress as _compress_in_memory
from .dataset import _DISCRETE_KINDS, _class_sizes
from .reduction import n_moments
from .reduction import reduce as _reduce_in_memory

# The in-memory partitions this scale-out follows (its k-d cells always match next moments);
# "auto" resolves as in memory (tchakaloff.compression.auto_partition).
PARTITIONS = ("auto", "kd", "greedy")

if TYPE_CHECKING:  # pragma: no cover
    import dask.array as da

logger = logging.getLogger(__name__)

# Children per merge. A merge of `compress` holds SPLIT_EVERY x F x size rows; one of `reduce`
# SPLIT_EVERY x N. Eight keeps the tree shallow (3 levels for 512 chunks) at a small merge.
SPLIT_EVERY = 8
# Rows per chunk when a file or an in-memory array is chunked here: 2^25 bytes of float64
# (1.4e6 rows at m = 3). A compress task holds about 6x its chunk (cells, order, the core's
# lists), so two of them stay near 400 MB; the per-task overhead is milliseconds.
CHUNK_BYTES = 1 << 25
# Rows the k-d cuts are chosen on, as in the core's k-d cells: max(2^17, 256 x cells).
SAMPLE_MIN, SAMPLE_PER_CELL = 1 << 17, 256


def _dask() -> Any:
    try:
        import dask
        import dask.array
    except ImportError as error:
        raise ImportError('tchakaloff.dask needs dask: pip install "tchakaloff[dask]"') from error
    return dask


# ----------------------------------------------------------------------------------- inputs


class NpyRows:
    """Rows of a C-ordered array in a file (a ``.npy`` file past its header), read on demand.

    An array-like for ``dask.array.from_array``: every chunk opens the file, reads its rows
    with one ``readinto`` and closes it again, so memory stays bounded by the chunk (rows read
    through a ``numpy.memmap`` stay mapped, and count in the process's resident memory, until
    the map is closed).
    """

    def __init__(self, path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...]):
        self.path, self.offset = path, offset
        self.dtype, self.shape, self.ndim = np.dtype(dtype), tuple(shape), len(shape)

    def __getitem__(self, key: Any) -> NDArray[Any]:
        key = key if isinstance(key, tuple) else (key,)
        start, stop, step = key[0].indices(self.shape[0])
        if step != 1:
            raise IndexError("NpyRows reads contiguous row ranges only")
        out = np.empty((max(stop, start) - start, *self.shape[1:]), dtype=self.dtype)
        with open(self.path, "rb") as file:
            file.seek(self.offset + start * self.dtype.itemsize * math.prod(self.shape[1:]))
            if file.readinto(out.data.cast("B")) != out.nbytes:
                raise ValueError(f"{self.path} is shorter than its header says")
        return out[(slice(None), *key[1:])]


def _rows_per_chunk(m: int, chunks: int | None) -> int:
    if chunks is None:
        return max(1, CHUNK_BYTES // (8 * m))
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunks must be a positive number of rows, got {chunks!r}")
    return int(chunks)


def from_npy(path: str | os.PathLike[str], chunks: int | None = None) -> da.Array:
    """A ``.npy`` file of shape (n, m) as a dask array of row chunks, read chunk by chunk.

    Parameters
    ----------
    path : str or path
        A 2-d, C-ordered ``.npy`` file of real numbers.
    chunks : int, optional
        Rows per chunk; default 2^25 bytes of float64 rows (1.4e6 rows at m = 3).

    Raises
    ------
    ValueError
        The file is missing, not a ``.npy`` file, not 2-d, not real, or Fortran-ordered.
    """
    _dask()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file; pass the path of a .npy file")
    with open(path, "rb") as file:
        if file.read(6) != b"\x93NUMPY":
            raise ValueError(f"{path} is not a .npy file; save the array with numpy.save")
    try:  # a map only reads the header: no page of data is touched
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        raise ValueError(
            f"{path} is not a .npy file of numbers ({error}); save it with numpy.save"
        ) from error
    if not isinstance(mapped, np.memmap):
        raise ValueError(f"{path} is not a .npy file; save the array with numpy.save")
    offset, dtype, shape = mapped.offset, mapped.dtype, mapped.shape
    fortran = mapped.ndim > 1 and not mapped.flags.c_contiguous
    del mapped
    return _from_file(path, offset, dtype, shape, fortran, chunks)


def _from_file(
    path: str,
    offset: int,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    fortran: bool,
    chunks: int | None,
) -> da.Array:
    import dask.array as da

    if len(shape) != 2:
        hint = " (for scalars save x.reshape(-1, 1))" if len(shape) == 1 else ""
        raise ValueError(f"{path} holds an array of shape {shape}; pass a 2-d (n, m) array{hint}")
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise ValueError(f"{path} holds dtype {dtype}; save real numbers (e.g. float64)")
    if fortran:
        raise ValueError(
            f"{path} is Fortran-ordered, which cannot be read by rows; save it with "
            "numpy.save(path, numpy.ascontiguousarray(x))"
        )
    if os.path.getsize(path) < offset + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{path} is shorter than its header says; the file is truncated")
    rows = _rows_per_chunk(shape[1], chunks)
    stat = os.stat(path)
    array: da.Array = da.from_array(
        NpyRows(path, offset, dtype, tuple(shape)),
        chunks=(rows, shape[1]),
        name=f"npy-{path}-{stat.st_size}-{stat.st_mtime_ns}",
        meta=np.empty((0, shape[1]), dtype=dtype),
        asarray=True,
    )
    return array


def as_dask_rows(points: Any, chunks: int | None = None, name: str = "points") -> da.Array:
    """`points` as a 2-d dask array of row chunks with one column chunk.

    A dask array is checked and returned as it is; a path is read with :func:`from_npy`; a
    ``numpy.memmap`` is read from its file chunk by chunk; any other array is chunked by rows.

    Raises
    ------
    ValueError
        Not 2-d, chunked along the columns, or of unknown chunk sizes, with the fix.
    """
    _dask()
    import dask.array as da

    if isinstance(points, (str, os.PathLike)):
        array = from_npy(points, chunks)
    elif isinstance(points, np.memmap) and points.filename and points.ndim == 2:
        fortran = not points.flags.c_contiguous
        array = _from_file(
            points.filename, points.offset, points.dtype, points.shape, fortran, chunks
        )
    elif isinstance(points, da.Array):
        array = points
    else:
        values = np.asarray(points)
        if values.ndim != 2:
            raise ValueError(f"{name} must be 2-d (n, m), got shape {values.shape}")
        array = da.from_array(values, chunks=(_rows_per_chunk(values.shape[1], chunks), -1))
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-d (n, m), got shape {array.shape}")
    if any(math.isnan(c) for c in array.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (after boolean indexing, say); call "
            f"{name}.compute_chunk_sizes() first"
        )
    if len(array.chunks[1]) != 1:
        raise ValueError(
            f"{name} is chunked along its columns ({array.chunks[1]}); chunk the rows only: "
            f"{name}.rechunk({{1: -1}})"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one row and column")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


def _as_dask_column(values: Any, rows: tuple[int, ...], name: str, ndim: tuple[int, ...]) -> Any:
    """A per-row dask array (weights, labels) with the row chunks of the points."""
    import dask.array as da

    n = sum(rows)
    if isinstance(values, (str, os.PathLike)):
        values = np.load(values, mmap_mode="r")
    if isinstance(values, np.memmap) and values.filename and values.flags.c_contiguous:
        # read chunk by chunk, like the points: a map's pages would stay resident
        values = da.from_array(
            NpyRows(values.filename, values.offset, values.dtype, values.shape),
            chunks=(rows, *values.shape[1:]),
            meta=np.empty((0, *values.shape[1:]), dtype=values.dtype),
        )
    if isinstance(values, da.Array):
        if any(math.isnan(c) for c in values.chunks[0]):
            raise ValueError(
                f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first"
            )
    else:
        values = np.asarray(values)
    if values.ndim not in ndim or values.shape[0] != n:
        raise ValueError(
            f"{name} must have {n} rows, one per row of the points; got {values.shape}"
        )
    if isinstance(values, da.Array):
        return values.rechunk({0: rows, **{a: -1 for a in range(1, values.ndim)}})
    return da.from_array(values, chunks=(rows, *values.shape[1:]))


# ---------------------------------------------------------------------------- tree results


@dataclass(frozen=True)
class _Part:
    """The rows a task keeps: their cell, global row, weight, coordinates (and labels)."""

    cells: NDArray[np.int64]
    rows: NDArray[np.int64]
    weights: NDArray[np.float64]
    points: NDArray[np.float64]
    labels: NDArray[Any] | None
    moment_error: float


def _concat(parts: Sequence[_Part]) -> _Part:
    labels = None if parts[0].labels is None else np.concatenate([p.labels for p in parts])
    return _Part(
        np.concatenate([p.cells for p in parts]),
        np.concatenate([p.rows for p in parts]),
        np.concatenate([p.weights for p in parts]),
        np.concatenate([p.points for p in parts]),
        labels,
        max(p.moment_error for p in parts),
    )


def _select(
    part: _Part, keep: NDArray[Any], weights: NDArray[np.float64] | None = None, error: float = 0.0
) -> _Part:
    """The rows `keep` of `part` (with new weights, and a moment error to carry along)."""
    return _Part(
        part.cells[keep],
        part.rows[keep],
        part.weights[keep] if weights is None else weights,
        part.points[keep],
        None if part.labels is None else part.labels[keep],
        max(part.moment_error, error),
    )


def _reduce_cells(part: _Part, degrees: NDArray[np.int64], search: bool, n_jobs: int) -> _Part:
    """Every cell's rows of `part` reduced to at most C(m + k, k) with the same moments of
    degree <= k, k = ``degrees[cell]`` (the core's batched reduction, in parallel over cells;
    with `search`, to the subsets that best match the next moments, as in-memory k-d cells
    do: the greedy partition's first level does not, as in memory, where its merges came out
    less accurate after it)."""
    live = part.weights > 0
    if not live.all():  # a zero weight is never kept
        part = _select(part, live)
    if len(part.rows) == 0:
        return part
    own = degrees[part.cells]
    base = int(own.min())
    # The few rows of cells carried at a higher degree pass through the call for all the
    # others as cells of one row each (no copy of the chunk), and are reduced on their own.
    high = np.flatnonzero(own > base)
    keys = part.cells.copy()
    keys[high] = int(part.cells.max()) + 1 + np.arange(len(high))
    position, weights, error = _cell_reduction(
        part.points, part.weights, keys, base, search, n_jobs
    )
    low = own[position] == base
    positions, kept = [position[low]], [weights[low]]
    for k in np.unique(own[high]):
        rows = high[own[high] == k]
        at, w, e = _cell_reduction(
            part.points[rows], part.weights[rows], part.cells[rows], int(k), search, n_jobs
        )
        positions.append(rows[at])
        kept.append(w)
        error = max(error, e)
    position = np.concatenate(positions)
    order = np.argsort(position)
    return _select(part, position[order], np.concatenate(kept)[order], error)


def _cell_reduction(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    cells: NDArray[np.int64],
    degree: int,
    search: bool,
    n_jobs: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
    """The rows every cell keeps at `degree` (positions), their weights, the moment error."""
    order = np.argsort(cells, kind="stable")
    sorted_cells = cells[order]
    offsets = np.concatenate([[0], np.flatnonzero(np.diff(sorted_cells)) + 1, [len(cells)]])
    if np.diff(offsets).max() <= n_moments(points.shape[1], degree):
        return np.arange(len(cells)), weights, 0.0  # every cell is already small enough
    scale = weight_scale(weights)
    result = _core.reduce_cells(
        points,
        weights / scale,
        order,
        offsets,
        degree,
        options(
            _core.CompressOptions,
            threads=core_threads(n_jobs),
            **({} if search else {"refine_steps": 0}),
        ),
    )
    return np.asarray(result.indices), result.weights * scale, float(result.moment_error)


def _finite_rows(block: NDArray[Any], offset: int, name: str) -> NDArray[np.float64]:
    x = np.ascontiguousarray(block, dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        row = offset + int(np.argwhere(bad)[0, 0])
        raise ValueError(
            f"{name} contains NaN or inf (first at row {row}); remove or impute those rows "
            f"before compressing, e.g. {name}[dask.array.isfinite({name}).all(axis=1)] and "
            "then compute_chunk_sizes()"
        )
    return x


def _checked_weights(block: NDArray[Any] | None, offset: int) -> NDArray[np.float64] | None:
    if block is None:
        return None
    w = np.ascontiguousarray(block, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        row = offset + int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(
            f"weights must be finite and >= 0 (row {row} is {w[row - offset]}); drop rows of "
            "weight 0 instead of passing negative weights"
        )
    return w


def _tree(
    leaves: list[Any], merge: Callable[[list[Any]], Any], split_every: int
) -> tuple[Any, int]:
    """Merge delayed leaves `split_every` at a time until one is left; (root, depth)."""
    from dask.delayed import delayed

    level, depth = leaves, 0
    while len(level) > 1 or depth == 0:
        level = [
            delayed(merge, pure=True)(level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
        depth += 1
    return level[0], depth


def _blocks(array: da.Array | None, count: int) -> list[Any]:
    if array is None:
        return [None] * count
    return list(array.to_delayed().reshape(-1))


def _offsets(rows: tuple[int, ...]) -> list[int]:
    return [0, *np.cumsum(rows)[:-1].tolist()]


def _as_split_every(split_every: int) -> int:
    if isinstance(split_every, bool) or not isinstance(split_every, (int, np.integer)):
        raise ValueError(f"split_every must be an integer >= 2, got {split_every!r}")
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}")
    return int(split_every)


@contextmanager
def _progress_bar(enabled: bool, description: str) -> Iterator[None]:
    """A tqdm bar over the tasks run by a local scheduler (threads, processes, synchronous);
    with a ``distributed.Client``, its own progress display."""
    if not enabled:
        yield
        return
    try:
        from tqdm import tqdm
    except ImportError as error:
        raise ImportError("progress=True draws with tqdm: pip install tqdm") from error
    from dask.callbacks import Callback

    bar = tqdm(desc=description, unit="task", leave=False)

    class _Bar(Callback):
        def _start_state(self, dsk: Any, state: Any) -> None:
            bar.total = bar.n + sum(len(state[key]) for key in ("ready", "waiting"))
            bar.refresh()

        def _posttask(self, *args: Any) -> None:
            bar.update(1)

    try:
        with _Bar():  # type: ignore[no-untyped-call]  # dask's Callback.__init__ is unannotated
            yield
    finally:
        bar.close()


def _compute(graph: Any, progress: bool, description: str) -> Any:
    dask = _dask()
    with _progress_bar(progress, description):
        client = _client()
        if client is not None and progress:
            from distributed import progress as distributed_progress

            future = client.compute(graph)
            distributed_progress(future)
            return future.result()
        (result,) = dask.compute(graph)
    return result


def _client() -> Any:
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


# ------------------------------------------------------------------------------------ reduce


@dataclass(frozen=True)
class ChunkedReduction:
    """The result of :func:`reduce` on chunked rows.

    Attributes
    ----------
    indices : (s,) int64
        Sorted global rows kept, s <= N = C(m + k, k).
    weights : (s,) float64
        Their weights, > 0, with the input's total.
    points : (s, m) float64
        The kept rows.
    degree : int
    moment_error : float
        Largest residual of any reduction in the tree, relative to its own total weight; the
        kept moments are off from the input's by at most about ``depth`` times this.
    chunks, depth : int
        Row chunks reduced, and levels of merges above them.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    points: NDArray[np.float64]
    degree: int
    moment_error: float
    chunks: int
    depth: int

    def __len__(self) -> int:
        return len(self.indices)


def _reduce_leaf(
    block: NDArray[Any], wblock: NDArray[Any] | None, offset: int, degree: int, n_jobs: int
) -> _Part:
    x = _finite_rows(block, offset, "points")
    w = _checked_weights(wblock, offset)
    rows = np.arange(offset, offset + len(x), dtype=np.int64)
    if w is not None and not w.sum() > 0:  # a chunk of zero weight keeps nothing
        return _Part(rows[:0], rows[:0], np.zeros(0), x[:0], None, 0.0)
    return _reduce_part(x, w, rows, degree, n_jobs)


def _reduce_part(
    x: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    rows: NDArray[np.int64],
    degree: int,
    n_jobs: int,
    error: float = 0.0,
) -> _Part:
    result = _reduce_in_memory(x, w, degree=degree, n_jobs=n_jobs)
    kept = result.indices
    return _Part(
        np.zeros(len(kept), dtype=np.int64),
        rows[kept],
        result.weights,
        x[kept],
        None,
        max(error, result.moment_error),
    )


def _reduce_merge(parts: list[_Part], degree: int, n_jobs: int) -> _Part:
    union = _concat(parts)
    if len(union.rows) == 0:
        return union
    return _reduce_part(union.points, union.weights, union.rows, degree, n_jobs, union.moment_error)


def reduce(
    points: da.Array | ArrayLike | str | os.PathLike[str],
    weights: da.Array | ArrayLike | None = None,
    *,
    degree: int,
    split_every: int = SPLIT_EVERY,
    chunks: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> ChunkedReduction:
    """:func:`tchakaloff.reduce` on rows in chunks: every chunk reduced as a task, then the
    results merged and reduced again, `split_every` at a time, up to one.

    The moments of all rows are kept exactly (up to rounding) at any depth: a reduction keeps
    the moments of its input, and moments add over chunks.

    Parameters
    ----------
    points : dask array, ``.npy`` path, numpy.memmap or array, (n, m)
        Row chunks and one column chunk. A path or memmap is read chunk by chunk (memory
        bounded by `chunks` rows per running task); a numpy array is chunked by `chunks`.
    weights : (n,) dask or numpy array, optional
        Non-negative with a positive total; rechunked to the points' rows.
    degree : int
    split_every : int, default 8
        Children per merge.
    chunks : int, optional
        Rows per chunk for a path, memmap or numpy array (default: 2^25 bytes of float64).
    n_jobs : int, default 1
        Core threads per task: the scheduler's workers run the tasks in parallel.
    progress : bool
        A progress bar over the tasks (tqdm on local schedulers).

    Returns
    -------
    ChunkedReduction
        Global row indices, weights, the kept rows; the same on every scheduler for the same
        chunking.

    Raises
    ------
    ValueError
        Column chunks, unknown chunk sizes, NaN or inf (naming the row), negative or all-zero
        weights, or N too large.
    """
    from dask.delayed import delayed

    x = as_dask_rows(points, chunks)
    k = as_degree(degree)
    fan = _as_split_every(split_every)
    n_moments(x.shape[1], k)  # checks N early
    rows = x.chunks[0]
    w = None if weights is None else _as_dask_column(weights, rows, "weights", (1,))
    leaves = [
        delayed(_reduce_leaf, pure=True)(block, wblock, offset, k, n_jobs)
        for block, wblock, offset in zip(
            _blocks(x, len(rows)), _blocks(w, len(rows)), _offsets(rows)
        )
    ]
    root, depth = _tree(leaves, partial(_reduce_merge, degree=k, n_jobs=n_jobs), fan)
    part = _compute(root, progress, "reduce")
    if len(part.rows) == 0:
        raise ValueError("weights sum to 0; pass weights with a positive total")
    order = np.argsort(part.rows)
    return ChunkedReduction(
        indices=part.rows[order],
        weights=part.weights[order],
        points=part.points[order],
        degree=k,
        moment_error=part.moment_error,
        chunks=len(rows),
        depth=depth,
    )


# ------------------------------------------------------------------ compress: global k-d cells


@dataclass(frozen=True)
class _Tree:
    """Balanced k-d cuts: node i splits coordinate `dim[i]` at `cut[i]` (rows <= cut go to
    `left[i]`) or, when `left[i] < 0`, is cell `cell[i]`."""

    dim: NDArray[np.int64]
    cut: NDArray[np.float64]
    left: NDArray[np.int64]
    right: NDArray[np.int64]
    cell: NDArray[np.int64]

    @property
    def cells(self) -> int:
        return int(np.count_nonzero(self.left < 0))

    def assign(self, x: NDArray[np.float64]) -> NDArray[np.int64]:
        """The cell of every row of x, down the cuts (a pass over the rows per tree level)."""
        node = np.zeros(len(x), dtype=np.int64)
        active = np.arange(len(x))
        while len(active):
            at = node[active]
            inner = self.left[at] >= 0
            active, at = active[inner], at[inner]
            right = x[active, self.dim[at]] > self.cut[at]
            node[active] = np.where(right, self.right[at], self.left[at])
        return self.cell[node]


def _kd_tree(sample: NDArray[np.float64], metric: NDArray[np.float64], cells: int) -> _Tree:
    """`cells` balanced k-d cells on the sample: the widest coordinate in `metric` units is cut
    at the sample's quantile that leaves cells // 2 cells on the left, until every part is one
    cell (or cannot be cut: a single distinct row)."""
    nodes: list[list[Any]] = []  # [dim, cut, left, right, cell] per node

    def node() -> int:
        nodes.append([0, 0.0, -1, -1, -1])
        return len(nodes) - 1

    stack, leaves = [(np.arange(len(sample)), cells, node())], 0
    while stack:
        rows, count, at = stack.pop()
        values = sample[rows]
        span = (values.max(axis=0) - values.min(axis=0)) * metric if len(rows) else metric * 0
        if count <= 1 or len(rows) < 2 or not span.max() > 0:
            nodes[at][4], leaves = leaves, leaves + 1
            continue
        axis = int(np.argmax(span))
        column = values[:, axis]
        rank = min(len(rows) - 1, max(1, round(len(rows) * (count // 2) / count)))
        threshold = float(np.partition(column, rank - 1)[rank - 1])
        lower = column <= threshold
        if lower.all():  # ties at the cut: cut just below it instead
            threshold = float(column[column < threshold].max())
            lower = column <= threshold
        nodes[at][:4] = axis, threshold, node(), node()
        stack.append((rows[lower], count // 2, nodes[at][2]))
        stack.append((rows[~lower], count - count // 2, nodes[at][3]))
    dim, cut, left, right, cell = zip(*nodes)
    return _Tree(
        np.asarray(dim, dtype=np.int64),
        np.asarray(cut),
        np.asarray(left, dtype=np.int64),
        np.asarray(right, dtype=np.int64),
        np.asarray(cell, dtype=np.int64),
    )


@dataclass(frozen=True)
class _Summary:
    """One chunk's first pass: weight, coordinate range and spread, classes, a row sample."""

    rows: int
    total: float
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    mean: NDArray[np.float64]
    scatter: NDArray[np.float64]  # sum_i w_i (x_i - mean)^2 per column
    classes: NDArray[Any] | None
    class_rows: NDArray[np.int64] | None
    class_mass: NDArray[np.float64] | None
    sample: NDArray[np.float64]
    sample_labels: NDArray[Any] | None


def _objects(
    xblock: NDArray[Any], yblock: NDArray[Any] | None, discrete: bool, offset: int
) -> NDArray[np.float64]:
    """The rows compressed: x, or the joint rows (x, y) for a regression target."""
    x = _finite_rows(xblock, offset, "X" if yblock is not None else "points")
    if yblock is None or discrete:
        if discrete and yblock is not None and yblock.dtype.kind == "f":
            _finite_rows(yblock.reshape(-1, 1), offset, "y")
        return x
    return np.hstack([x, _finite_rows(yblock.reshape(len(x), -1), offset, "y")])


def _summary(
    xblock: NDArray[Any],
    wblock: NDArray[Any] | None,
    yblock: NDArray[Any] | None,
    offset: int,
    index: int,
    sample_rows: int,
    discrete: bool,
    spread: bool,
) -> _Summary:
    z = _objects(xblock, yblock, discrete, offset)
    w = _checked_weights(wblock, offset)
    total = float(len(z)) if w is None else float(w.sum())
    weight = np.ones(len(z)) if w is None else w
    mean = scatter = np.zeros(z.shape[1])
    if spread and total > 0:  # the standard deviations that `standardize` cuts in
        mean = weight @ z / total
        scatter = weight @ (z - mean) ** 2
    # one row drawn from each of `sample_rows` equal strata, with a seed fixed by the chunk's
    # place: the cells are a function of the data and the chunking only
    rng = np.random.default_rng([0x7C4A, index])
    bounds = np.arange(sample_rows + 1) * len(z) // sample_rows
    picked = bounds[:-1] + (rng.random(sample_rows) * np.diff(bounds)).astype(np.int64)
    classes = class_rows = class_mass = labels = None
    if discrete:
        assert yblock is not None  # class labels come with discrete
        classes, inverse = np.unique(yblock, return_inverse=True)
        inverse = inverse.reshape(-1)
        class_rows = np.bincount(inverse, minlength=len(classes))
        # numpy's stubs type every bincount as intp; with weights= it is float64 (no copy here)
        class_mass = np.bincount(inverse, weights=weight, minlength=len(classes)).astype(
            np.float64, copy=False
        )
        labels = yblock[picked]
    return _Summary(
        len(z),
        total,
        z.min(axis=0),
        z.max(axis=0),
        mean,
        scatter,
        classes,
        class_rows,
        class_mass,
        z[picked],
        labels,
    )


@dataclass(frozen=True)
class _Plan:
    """What every task of the second pass needs: the cells of each class and the sizes."""

    degree: int
    classes: NDArray[Any] | None  # sorted class labels, None without classes
    sizes: NDArray[np.int64]  # rows kept per class (one entry without classes)
    trees: tuple[_Tree, ...]
    first_cell: NDArray[np.int64]
    degrees: NDArray[np.int64]  # per cell: k, or the higher degree the spare rows match
    search: bool  # k-d cells search their subsets (see _reduce_cells)
    metric: NDArray[np.float64]
    rows: int
    total: float


def _merge_summaries(parts: list[_Summary]) -> dict[str, Any]:
    """Totals, ranges and weighted spreads of all chunks (Chan's pairwise update)."""
    total = sum(p.total for p in parts)
    mean = sum(p.total * p.mean for p in parts) / total
    scatter = sum(p.scatter + p.total * (p.mean - mean) ** 2 for p in parts)
    return {
        "rows": sum(p.rows for p in parts),
        "total": total,
        "low": np.min([p.low for p in parts], axis=0),
        "high": np.max([p.high for p in parts], axis=0),
        "std": np.sqrt(scatter / total),
    }


def _plan(
    parts: list[_Summary],
    size: float,
    degree: int | str,
    metric: NDArray[np.float64] | None,
    standardize: bool,
    cut_columns: int | None,
    discrete: bool,
    partition: str,
) -> _Plan:
    """Cut the first level's cells, F * size / N of them (per class in proportion), on the
    chunks' samples."""
    stats = _merge_summaries(parts)
    if not stats["total"] > 0:
        raise ValueError("weights sum to 0; pass weights with a positive total")
    m, n = len(stats["low"]), stats["rows"]
    target = as_size(size, n)
    k = auto_degree(m, target) if degree == "auto" else int(degree)
    need = n_moments(m, k)
    if metric is None:
        if standardize:
            spread = stats["std"]
            cut = np.where(spread > 0, 1 / np.where(spread > 0, spread, 1), 0.0)
        else:
            width = stats["high"] - stats["low"]
            cut = np.where(width > 0, 2 / np.where(width > 0, width, 1), 0.0)
        if cut_columns is not None:
            cut[cut_columns:] = 0.0
        if not cut.any():  # every column constant: one cell holds all
            cut = np.ones(m)
    else:
        cut = metric
    prepass = greedy_prepass(int(np.count_nonzero(cut)), k) if partition == "greedy" else 1.0
    sample = np.concatenate([p.sample for p in parts])
    if discrete:
        classes = np.unique(np.concatenate([p.classes for p in parts]))
        counts = np.zeros(len(classes), dtype=np.int64)
        mass = np.zeros(len(classes))
        for p in parts:
            assert p.classes is not None and p.class_rows is not None and p.class_mass is not None
            where = np.searchsorted(classes, p.classes)
            counts[where] += p.class_rows
            mass[where] += p.class_mass
        sizes = _class_sizes(counts, mass, target, need)
        labels = np.searchsorted(classes, np.concatenate([p.sample_labels for p in parts]))
        samples = [sample[labels == c] for c in range(len(classes))]
    else:
        classes, sizes, samples = None, np.array([target]), [sample]
    trees = tuple(
        _kd_tree(rows, cut, _first_cells(s, need, prepass) if len(rows) else 1)
        for rows, s in zip(samples, sizes)
    )
    first = np.concatenate([[0], np.cumsum([t.cells for t in trees])[:-1]]).astype(np.int64)
    degrees = np.full(sum(t.cells for t in trees), k, dtype=np.int64)
    if partition == "kd":
        for rows, tree, start, target_rows in zip(samples, trees, first, sizes):
            spare = int(target_rows) - tree.cells * need
            if spare > 0 and len(rows):
                raised = _widest_cells(rows, tree, cut, k, spare)
                top = top_degree(m, k, -(-spare // len(raised)))
                degrees[start + raised] = top
    search = partition == "kd"
    return _Plan(k, classes, sizes, trees, first, degrees, search, cut, n, float(stats["total"]))


def _widest_cells(
    sample: NDArray[np.float64], tree: _Tree, cut: NDArray[np.float64], k: int, spare: int
) -> NDArray[np.int64]:
    """The min(spare, cells) cells of largest Taylor remainder, weight x diameter^(k + 1),
    estimated on the sample: those whose spare rows pay most (as in memory,
    :func:`tchakaloff._recombination.fill_cells`, which needs the degree-(k + 1) moments of
    all their rows: these cells carry them through the tree)."""
    cell = tree.assign(sample)
    order, starts = label_runs(cell)
    present, _ = taylor_remainders(sample, np.ones(len(sample)), order, starts, k, cut)
    remainder = np.zeros(tree.cells)  # a cell the sample missed: 0
    remainder[cell[order[starts]]] = present
    return np.argsort(remainder, kind="stable")[::-1][: min(spare, tree.cells)]


def _first_cells(size: int, need: int, prepass: float) -> int:
    """Cells of the first level: size // N for "kd" (the final cells), floor(F size) // N for
    "greedy" (its k-d pass, as the in-memory one cuts it, and never fewer than hold size)."""
    if prepass > 1.0:
        return max(int(prepass * size) // need, -(-size // need))
    return max(1, size // need)


def _compress_leaf(
    xblock: NDArray[Any],
    wblock: NDArray[Any] | None,
    yblock: NDArray[Any] | None,
    offset: int,
    plan: _Plan,
    discrete: bool,
    n_jobs: int,
) -> _Part:
    z = _objects(xblock, yblock, discrete, offset)
    w = _checked_weights(wblock, offset)
    w = np.ones(len(z)) if w is None else w
    rows = np.arange(offset, offset + len(z), dtype=np.int64)
    if plan.classes is None:
        cells = plan.trees[0].assign(z)
    else:
        assert yblock is not None  # classes come from labels
        label = np.searchsorted(plan.classes, yblock)
        cells = np.empty(len(z), dtype=np.int64)
        for c, tree in enumerate(plan.trees):
            members = np.flatnonzero(label == c)
            cells[members] = plan.first_cell[c] + tree.assign(z[members])
    part = _Part(cells, rows, w, z, yblock, 0.0)
    return _reduce_cells(part, plan.degrees, plan.search, n_jobs)


def _compress_merge(
    parts: list[_Part], degrees: NDArray[np.int64], search: bool, n_jobs: int
) -> _Part:
    return _reduce_cells(_concat(parts), degrees, search, n_jobs)


def _finish(part: _Part, plan: _Plan, partition: str, rng: Any, n_jobs: int) -> tuple[_Part, int]:
    """The last step: every class's first-level rows compressed in memory to its size (with
    k-d cells, the first level's cells are the final ones: what is left is to spend the spare
    rows of every class on its raised cells)."""
    if partition == "kd":
        part = _select(part, np.argsort(part.rows))
        for c, (size, tree) in enumerate(zip(plan.sizes, plan.trees)):
            own = np.arange(plan.first_cell[c], plan.first_cell[c] + tree.cells)
            raised = own[plan.degrees[own] > plan.degree]
            if len(raised):
                rest = own[plan.degrees[own] == plan.degree]
                others = int(np.count_nonzero(np.isin(part.cells, rest)))
                part = _fill_raised(part, raised, int(size) - others, plan.degree, n_jobs)
        return part, sum(t.cells for t in plan.trees)
    kept, cells = [], 0
    for c, (size, tree) in enumerate(zip(plan.sizes, plan.trees)):
        mine = (part.cells >= plan.first_cell[c]) & (part.cells < plan.first_cell[c] + tree.cells)
        members = np.flatnonzero(mine & (part.weights > 0))
        if len(members) == 0 or size == 0:
            continue
        result = _compress_in_memory(
            part.points[members],
            part.weights[members],
            size=int(size),
            degree=plan.degree,
            partition=partition,
            metric=plan.metric,
            rng=rng,
            n_jobs=n_jobs,
        )
        chosen = members[result.indices]
        kept.append((chosen, result.weights, result.moment_error))
        cells += tree.cells
    chosen = np.concatenate([c for c, _, _ in kept])
    order = np.argsort(part.rows[chosen])
    weights = np.concatenate([w for _, w, _ in kept])[order]
    return _select(part, chosen[order], weights, max(e for _, _, e in kept)), cells


def _fill_raised(
    part: _Part, raised: NDArray[np.int64], budget: int, degree: int, n_jobs: int
) -> _Part:
    """`part` with its raised cells (their rows carry their cell's moments of the degrees
    above k too) reduced to degree k, and then, as in memory, refilled up to `budget` rows."""
    mine = np.isin(part.cells, raised)
    cells = _select(part, mine)
    within, weights, error = _cell_reduction(
        cells.points, cells.weights, cells.cells, degree, True, n_jobs
    )
    spare = budget - len(within)
    if spare > 0 and len(within) < len(cells.rows):
        scale = weight_scale(cells.weights)
        filled = fill_cells(
            cells.points,
            cells.weights / scale,
            degree,
            spare,
            CellReduction(within, weights / scale, cells.cells, error),
            core_threads(n_jobs),
        )
        within, weights, error = filled.indices, filled.weights * scale, filled.moment_error
    union = _concat([_select(part, ~mine), _select(cells, within, weights, error)])
    return _select(union, np.argsort(union.rows))


def _two_level(
    x: da.Array,
    w: Any,
    y: Any,
    *,
    size: float,
    degree: int | str,
    partition: str,
    metric: NDArray[np.float64] | None,
    standardize: bool,
    cut_columns: int | None,
    discrete: bool,
    rng: Any,
    split_every: int,
    n_jobs: int,
    progress: bool,
) -> tuple[_Part, _Plan, int, int]:
    """Both passes: the plan (cells), then leaves, merges and the last step."""
    from dask.delayed import delayed

    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    rows = x.chunks[0]
    n, m = x.shape[0], x.shape[1] + (0 if y is None or discrete else _columns(y))
    target = as_size(size, n)
    if isinstance(degree, str):
        if degree != "auto":
            raise ValueError(f"degree must be a non-negative integer or 'auto', got {degree!r}")
        k = auto_degree(m, target)
    else:
        k = as_degree(degree)
    if partition == "auto":
        cut_dims = m if metric is None else int(np.count_nonzero(metric))
        if n > target:  # as in memory: below that everything is kept
            k = raised_degree(m, k, target)
        partition = auto_partition(cut_dims if cut_columns is None else cut_columns, k)
    need = n_moments(m, k)
    if target < need and target < n:
        raise ValueError(
            f"size {target} is below N = {need}, the number of moments of degree <= {k} in "
            f"{m} dimensions; raise size or lower the degree"
        )
    cells = _first_cells(target, need, greedy_prepass(m, k) if partition == "greedy" else 1.0)
    sample = max(SAMPLE_MIN, SAMPLE_PER_CELL * cells)
    xs, ws, ys = _blocks(x, len(rows)), _blocks(w, len(rows)), _blocks(y, len(rows))
    offsets = _offsets(rows)
    summaries = [
        delayed(_summary, pure=True)(
            xb,
            wb,
            yb,
            offset,
            i,
            min(r, max(1, math.ceil(sample * r / n))),
            discrete,
            standardize and metric is None,
        )
        for i, (xb, wb, yb, offset, r) in enumerate(zip(xs, ws, ys, offsets, rows))
    ]
    plan_task = delayed(_plan, pure=True)(
        summaries, size, k, metric, standardize, cut_columns, discrete, partition
    )
    plan = _compute(plan_task, progress, "cells")
    shared = delayed(plan, pure=True, traverse=False)
    leaves = [
        delayed(_compress_leaf, pure=True)(xb, wb, yb, offset, shared, discrete, n_jobs)
        for xb, wb, yb, offset in zip(xs, ws, ys, offsets)
    ]
    merge = partial(_compress_merge, degrees=plan.degrees, search=plan.search, n_jobs=n_jobs)
    root, depth = _tree(leaves, merge, split_every)
    seed = rng if rng is None or isinstance(rng, np.random.Generator) else int(rng)
    final = delayed(_finish, pure=True, nout=2)(root, shared, partition, seed, n_jobs)
    part, first_cells = _compute(final, progress, "compress")
    return part, plan, depth, first_cells


def _columns(y: Any) -> int:
    return 1 if y.ndim == 1 else int(y.shape[1])


@dataclass(frozen=True)
class ChunkedCompression(ChunkedReduction):
    """The result of :func:`compress` on chunked rows: the fields of
    :class:`ChunkedReduction`, where `indices` hold `size` rows (fewer only when fewer
    distinct rows have weight, or where the cells' moments are numerically dependent: see
    `size` in :func:`tchakaloff.compress`), `moment_error` is relative to each cell's weight,
    and

    Attributes
    ----------
    cells : int
        First-level cells (their moments are kept exactly up to the last step).
    """

    cells: int


def compress(
    objects: da.Array | ArrayLike | str | os.PathLike[str],
    weights: da.Array | ArrayLike | None = None,
    *,
    size: float,
    degree: int | str,
    partition: str = "auto",
    metric: ArrayLike | None = None,
    rng: np.random.Generator | int | None = None,
    split_every: int = SPLIT_EVERY,
    chunks: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> ChunkedCompression:
    """:func:`tchakaloff.compress` on rows in chunks, in two levels (see the module's notes).

    A first pass samples every chunk and cuts about ``F * size / N`` global k-d cells; a
    second reduces every cell's rows to at most N in each chunk and again at every merge
    (exactly, per cell), and the root compresses the remaining ~``F * size`` rows to `size`
    in memory with `partition`. Two passes over the data; memory per task bounded by the chunk
    and by ``split_every * F * size`` rows.

    Parameters
    ----------
    objects : dask array, ``.npy`` path, numpy.memmap or array, (n, m)
        Row chunks, one column chunk.
    weights : (n,) dask or numpy array, optional
        Non-negative, all ones by default.
    size : int or float
        Rows to keep, or a fraction of n.
    degree : int or "auto"
        As in :func:`tchakaloff.compress`.
    partition : {"auto", "kd", "greedy"}
        The last step's partition (the first level's cells are k-d cells either way);
        "auto" (default) raises the degree and picks as :func:`tchakaloff.compress` does.
    metric : (m,) array, optional
        How the cells are cut; default 2 / (max - min) of every column over all rows.
    rng : numpy Generator or int, optional
        Passed to the last step.
    split_every : int, default 8
        Children per merge.
    chunks : int, optional
        Rows per chunk for a path, memmap or numpy array.
    n_jobs : int, default 1
        Core threads per task.
    progress : bool
        Progress bars over the tasks of both passes.

    Returns
    -------
    ChunkedCompression
        The same on every scheduler for the same chunking.

    Raises
    ------
    ValueError
        As :func:`tchakaloff.compress`, and column chunks, unknown chunk sizes, or NaN or inf
        in a chunk (naming the row).
    """
    x = as_dask_rows(objects, chunks, "objects")
    w = None if weights is None else _as_dask_column(weights, x.chunks[0], "weights", (1,))
    cut = as_metric(metric, x.shape[1])
    part, plan, depth, cells = _two_level(
        x,
        w,
        None,
        size=size,
        degree=degree,
        partition=partition,
        metric=cut,
        standardize=False,
        cut_columns=None,
        discrete=False,
        rng=rng,
        split_every=_as_split_every(split_every),
        n_jobs=n_jobs,
        progress=progress,
    )
    return ChunkedCompression(
        indices=part.rows,
        weights=part.weights,
        points=part.points,
        degree=plan.degree,
        moment_error=part.moment_error,
        cells=cells,
        chunks=len(x.chunks[0]),
        depth=depth,
    )


@dataclass(frozen=True)
class ChunkedDatasetCompression:
    """The result of :func:`compress_dataset` on chunked rows.

    Attributes
    ----------
    indices : (s,) int64
        Sorted global rows kept.
    weights : (s,) float64
        Their weights, > 0, with the input's total (per class for class labels).
    X : (s, p) float64
        The kept rows of X.
    y : (s,) or (s, q) array
        Their own labels, with y's dtype.
    degree : int
    discrete : bool
    moment_error : float
    chunks, depth : int
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    X: NDArray[np.float64]
    y: NDArray[Any]
    degree: int
    discrete: bool
    moment_error: float
    chunks: int
    depth: int

    def __len__(self) -> int:
        return len(self.indices)

    def fit(self, estimator: Any, **fit_params: Any) -> Any:
        """``estimator.fit(X, y, sample_weight=weights, **fit_params)`` on the kept rows."""
        return estimator.fit(self.X, self.y, sample_weight=self.weights, **fit_params)


def compress_dataset(
    X: da.Array | ArrayLike | str | os.PathLike[str],
    y: da.Array | ArrayLike | str | os.PathLike[str],
    *,
    size: float,
    degree: int,
    sample_weight: da.Array | ArrayLike | None = None,
    standardize: bool = True,
    cells: str = "x",
    discrete: bool | None = None,
    partition: str = "kd",
    rng: np.random.Generator | int | None = None,
    split_every: int = SPLIT_EVERY,
    chunks: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> ChunkedDatasetCompression:
    """:func:`tchakaloff.compress_dataset` on rows in chunks, in two levels like
    :func:`compress`.

    The objects are the joint rows (x, y) of a regression target, or x per class for class
    labels (each class keeps its share of `size` and its total weight); the cells are cut in
    units of each column's weighted standard deviation over all rows (`standardize`), along x
    only by default (`cells`). See :func:`tchakaloff.compress_dataset` for every parameter;
    `split_every`, `chunks`, `n_jobs` and `progress` are those of :func:`compress`.

    Returns
    -------
    ChunkedDatasetCompression
        Global row indices, weights, the kept rows of X and y.
    """
    x = as_dask_rows(X, chunks, "X")
    rows = x.chunks[0]
    labels = _as_dask_column(y, rows, "y", (1, 2))
    kind = labels.dtype.kind
    if discrete is None:
        discrete = kind in _DISCRETE_KINDS
    if discrete and labels.ndim != 1:
        raise ValueError(
            f"discrete labels must be 1-d (one class per row), got shape {labels.shape}; "
            "pass discrete=False for a multi-output regression target"
        )
    if not discrete and kind not in "biuf":
        raise ValueError(f"a regression target must be numeric, got dtype {labels.dtype}")
    if cells not in ("x", "all"):
        raise ValueError(f'cells must be "x" or "all", got {cells!r}')
    w = None
    if sample_weight is not None:
        w = _as_dask_column(sample_weight, rows, "sample_weight", (1,))
    target = as_size(size, x.shape[0], "row")
    if target > x.shape[0]:
        raise ValueError(
            f"size {target} is larger than the data set ({x.shape[0]} rows); pass size <= "
            f"{x.shape[0]}"
        )
    p = x.shape[1]
    part, plan, depth, _ = _two_level(
        x,
        w,
        labels,
        size=target,
        degree=as_degree(degree),
        partition=partition,
        metric=None,
        standardize=standardize,
        cut_columns=p if cells == "x" else None,
        discrete=bool(discrete),
        rng=rng,
        split_every=_as_split_every(split_every),
        n_jobs=n_jobs,
        progress=progress,
    )
    logger.info("compressed %d rows to %d in %d chunks", x.shape[0], len(part.rows), len(rows))
    assert part.labels is not None  # the rows kept carry their labels
    return ChunkedDatasetCompression(
        indices=part.rows,
        weights=part.weights,
        X=part.points[:, :p],
        y=part.labels,
        degree=plan.degree,
        discrete=bool(discrete),
        moment_error=part.moment_error,
        chunks=len(rows),
        depth=depth,
    )
