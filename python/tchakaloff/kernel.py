"""Data summaries in any dimension: kernel quadrature by recombination.

Full moments of degree k in m dimensions cost C(m + k, k) points, so in 8 or more dimensions a
small budget only affords degree 1 or 2. A kernel sees the data differently: the leading
eigenfunctions of a Gaussian kernel on the data are the smooth functions the data can tell
apart, whatever m. :func:`summarize` computes r = size - 1 of them (randomly pivoted Cholesky
features, ``K ~ F F^T``) and keeps, with the Tchakaloff step of :func:`tchakaloff.reduce`, at
most size points with positive weights whose weighted sums of every feature and total weight
are exactly those of the data (positively weighted kernel quadrature by recombination,
Hayakawa, Oberhauser and Lyons, NeurIPS 2022).

What that guarantees. Write e_i >= 0 for the diagonal of the residual K - F F^T at point i
(what the features leave out of it). For the data's measure mu and the summary nu, both
normalised to mass 1, the features cancel exactly and

    MMD_K(mu, nu) <= sum_i |mu_i - nu_i| sqrt(e_i) <= 2 max_i sqrt(e_i),

because the residual is positive semi-definite (|E_ij| <= sqrt(e_i e_j)). The first bound is
computed for every result (:attr:`Summary.mmd_bound`). With cells (large budgets) the bound
holds cell by cell and the cells' errors add (triangle inequality), so the same sum bounds it.

Very small budgets (at most ``HERDING_MAX_SIZE`` points) leave most of the spectrum
unmatched, and there the choice of points matters more than exact features: the summary is then
built by fully corrective kernel herding (Frank-Wolfe on the MMD with every weight re-optimised
over the simplex at each step: optimally weighted herding), in the kernel plus its leading
(size - 1) / 4 features (``K + F F^T``), so that the smoothest directions are still favoured
(a quarter, a half or all of them, weighted 0.3 to 2, were measured: a quarter at weight 1
met kernel thinning's MMD and the best peer's integration error in the most cases). The
outcome at so few points depends on the random features, so three runs are made and the one
with the lowest MMD is kept. The weights are again > 0 with the input's total, and the MMD is
minimised rather than bounded: :attr:`Summary.mmd_bound` is then the MMD itself.

Large budgets are cut into cells of at most ``CELL_BUDGET`` kept points (k-d median splits of
the widest coordinate, budgets in proportion to the cells' weight), each summarised with its
own features: the cost is O(n r_cell^2) instead of O(n size^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_points, as_size, as_weights, check_mass
from .reduction import reduce

KERNELS = ("gaussian", "laplacian")
# Kernel features replace full moments from this many coordinates on (see prefers_kernel).
KERNEL_FROM_DIMENSION = 4
# Up to this size, kernel herding with optimal weights has lower MMD than recombination (and
# kernel thinning) in bench/compare_summaries.py; its cost grows like size^4.
HERDING_MAX_SIZE = 64
# Herding runs from different random features; the one with the lowest MMD is kept.
_HERDING_RUNS = 3
# Herding's target, the data's kernel mean at every point, takes n x this many kernel values.
_MEAN_SAMPLE = 1 << 15
# Kept points per cell. The features cost O(n_cell r^2) and the reduction O(r^3) per level, so
# cells bound the time; fewer, larger cells see more of the kernel's cross terms (lower MMD).
CELL_BUDGET = 512
# Features stop when the residual diagonal has fallen below this fraction of the kernel's:
# the data then has (numerically) no more distinct points to tell apart.
_RESIDUAL_RTOL = 1e-10
# Pivots drawn at once: the kernel columns of a block are one matrix product.
_BLOCK = 32
# Pairwise distances the median heuristic looks at.
_MEDIAN_SAMPLE = 1000


@dataclass(frozen=True)
class Summary:
    """A weighted subset of the data that matches its leading kernel features exactly.

    Attributes
    ----------
    indices : (s,) int64
        Sorted input rows kept: s = size, fewer when the kernel's features are exhausted (to
        1e-10 of its diagonal) before size - 1 of them, as for few distinct points or in 2-D.
    weights : (s,) float64
        Their weights, all > 0, with the input's total.
    cells : (n,) int64
        The cell of every input row (all 0 when the budget fits one cell).
    kernel : str
    bandwidth : float
        Length scale of the kernel, ``exp(-|x - y|^2 / (2 h^2))`` (Gaussian) or
        ``exp(-|x - y| / h)`` (Laplacian).
    rank : int
        Features matched, over all cells.
    mmd_bound : float
        A guaranteed upper bound on the MMD between the data and the summary (both normalised
        to mass 1) in this kernel, from what the features leave out (see the module notes);
        up to ``HERDING_MAX_SIZE`` points, the MMD itself (exact up to 2^15 rows).
    feature_error : float
        Largest residual of a matched feature's weighted sum, relative to the sum of its
        absolute values over the data.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    cells: NDArray[np.int64]
    kernel: str
    bandwidth: float
    rank: int
    mmd_bound: float
    feature_error: float

    def __len__(self) -> int:
        return len(self.indices)


def prefers_kernel(m: int) -> bool:
    """Whether kernel features summarise m-dimensional data better than full moments.

    Measured in bench/compare_summaries.py (MMD and the integration error of smooth test
    functions, budgets from 16 points to n/8): from 4 dimensions on, kernel features win at
    every budget, by 5-60x in 4-D at 256-512 points, except at the floor of rounding; in 2
    dimensions moments win or tie at every budget, and in 3 they win at the smallest and
    largest budgets and lose by about 2.5x in MMD between."""
    return m >= KERNEL_FROM_DIMENSION


def _squared_distances(a: NDArray, b: NDArray, a_squared: NDArray | None = None) -> NDArray:
    """|a_i - b_j|^2 from one matrix product (`a_squared`: the rows' squared norms, when a
    caller reuses them)."""
    if a_squared is None:
        a_squared = (a * a).sum(1)
    d = a_squared[:, None] + (b * b).sum(1)[None, :] - 2 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def _kernel_of_squared(d: NDArray, kernel: str, bandwidth: float) -> NDArray:
    """The kernel from squared distances (overwrites them)."""
    if kernel == "gaussian":
        return np.exp(d / (-2.0 * bandwidth * bandwidth), out=d)
    return np.exp(np.sqrt(d, out=d) / -bandwidth, out=d)


def kernel_matrix(a: ArrayLike, b: ArrayLike, *, kernel: str, bandwidth: float) -> NDArray:
    """The kernel between every row of `a` and every row of `b`, shape (len(a), len(b))."""
    d = _squared_distances(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return _kernel_of_squared(d, kernel, bandwidth)


def median_bandwidth(
    X: ArrayLike, *, rng: np.random.Generator | int | None = None, sample: int = _MEDIAN_SAMPLE
) -> float:
    """The median heuristic: the median distance between distinct rows (of a random sample of
    at most `sample` rows). Falls back to 1 when all sampled rows coincide."""
    x = as_points(X, "X")
    generator = np.random.default_rng(rng)
    rows = x if len(x) <= sample else x[generator.choice(len(x), sample, replace=False)]
    d = np.sqrt(_squared_distances(rows, rows)[np.triu_indices(len(rows), 1)])
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


def kernel_features(
    X: ArrayLike,
    *,
    rank: int,
    kernel: str = "gaussian",
    bandwidth: float,
    weights: ArrayLike | None = None,
    rng: np.random.Generator | int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Randomly pivoted Cholesky features F (n, r <= rank) with ``K ~ F F^T``.

    Pivots are drawn in blocks with probability proportional to (weight x) the residual
    diagonal, so the features follow where the kernel is least explained (Chen, Epperly, Tropp
    and Webber, 2023). Stops early once the residual is rounding.

    Returns
    -------
    features : (n, r) float64
    residual : (n,) float64
        The diagonal of K - F F^T (>= 0), what the features leave out at each row.
    """
    from scipy.linalg import solve_triangular

    x = as_points(X, "X")
    n = len(x)
    w = as_weights(weights, n)
    generator = np.random.default_rng(rng)
    features = np.zeros((n, rank))
    residual = np.ones(n)  # both kernels are 1 on the diagonal
    squared_norms = (x * x).sum(1)
    filled = 0
    while filled < rank:
        mass = residual if w is None else residual * w
        total = mass.sum()
        if not total > _RESIDUAL_RTOL * (n if w is None else w.sum()):
            break
        pivots = np.unique(generator.choice(n, min(_BLOCK, rank - filled), p=mass / total))
        distances = _squared_distances(x, x[pivots], squared_norms)
        columns = _kernel_of_squared(distances, kernel, bandwidth)
        columns -= features[:, :filled] @ features[pivots, :filled].T
        # Cholesky of the pivots' block, skipping pivots the others already explain; the
        # features of every row then follow from one triangular solve.
        block = columns[pivots]
        factor = np.zeros((len(pivots), len(pivots)))
        kept: list[int] = []
        for j in range(len(pivots)):
            v = block[:, j] - factor[:, : len(kept)] @ factor[j, : len(kept)]
            if v[j] > _RESIDUAL_RTOL:
                factor[:, len(kept)] = v / np.sqrt(v[j])
                kept.append(j)
        if not kept:
            break
        lower = factor[np.asarray(kept)][:, : len(kept)]
        new = solve_triangular(lower, columns[:, kept].T, lower=True, check_finite=False).T
        features[:, filled : filled + len(kept)] = new
        residual = np.maximum(residual - (new * new).sum(1), 0.0)
        filled += len(kept)
    return features[:, :filled], residual


def _simplex_weights(block: NDArray, linear: NDArray) -> NDArray[np.float64]:
    """Weights v >= 0 with sum 1 minimising v^T block v - 2 v^T linear: the sum is a penalty
    far above the kernel's scale, then made exact."""
    from .contributions import _nonnegative_fit

    count = len(linear)
    penalty = 1e4 * max(float(np.trace(block)) / count, 1.0)
    jitter = 1e-10 * float(np.trace(block)) / count
    augmented = block + penalty + jitter * np.eye(count)
    weights, _ = _nonnegative_fit(augmented, linear + penalty)
    return weights / weights.sum()


def _herd(
    x: NDArray, w: NDArray | None, size: int, kernel: str, bandwidth: float, generator
) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
    """Fully corrective kernel herding in K + F F^T (F: the leading quarter of the features):
    `size` points, their weights (sum 1) and their MMD to the data in K."""
    n = len(x)
    p = np.full(n, 1.0 / n) if w is None else w / w.sum()
    if n <= _MEAN_SAMPLE:
        columns, share = np.arange(n), p / p.sum()
    else:
        columns = generator.choice(n, _MEAN_SAMPLE, p=p)
        share = np.full(_MEAN_SAMPLE, 1.0 / _MEAN_SAMPLE)
    mean = np.zeros(n)
    for start in range(0, len(columns), 4096):
        part = slice(start, start + 4096)
        mean += kernel_matrix(x, x[columns[part]], kernel=kernel, bandwidth=bandwidth) @ share[part]
    features, _ = kernel_features(
        x,
        rank=max(1, (size - 1) // 4),
        kernel=kernel,
        bandwidth=bandwidth,
        weights=w,
        rng=generator,
    )
    target = mean + features @ (p @ features)
    weightless = p == 0  # never kept, as in reduce
    # (K + F F^T)(x, chosen), one column per chosen point, written in place
    boosted = np.empty((n, 2 * size + 1))

    def add(row: int) -> None:
        column = kernel_matrix(x, x[row : row + 1], kernel=kernel, bandwidth=bandwidth)[:, 0]
        boosted[:, len(chosen)] = column + features @ features[row]
        chosen.append(row)

    chosen: list[int] = []
    add(int(np.argmax(np.where(weightless, -np.inf, target))))
    v = np.ones(1)
    for _ in range(2 * size):
        if np.count_nonzero(v) >= size:
            break
        gradient = boosted[:, : len(chosen)] @ v - target
        gradient[chosen] = np.inf
        gradient[weightless] = np.inf
        if not np.isfinite(gradient.min()):
            break  # every point of positive weight is in
        add(int(np.argmin(gradient)))
        v = _simplex_weights(boosted[chosen, : len(chosen)], target[chosen])
    kept = np.flatnonzero(v > 0)
    if len(kept) > size:  # a cap never reached in practice: keep the heaviest
        kept = kept[np.argsort(v[kept])[::-1][:size]]
    rows, v = np.asarray(chosen)[kept], v[kept] / v[kept].sum()
    gram = boosted[rows][:, kept] - features[rows] @ features[rows].T  # K(rows, rows)
    squared = v @ gram @ v - 2 * v @ mean[rows] + p @ mean
    return rows, v, float(np.sqrt(max(squared, 0.0)))


def _split_cells(x: NDArray, w: NDArray | None, size: int) -> list[NDArray[np.int64]]:
    """Rows of k-d cells whose share of `size` is at most CELL_BUDGET: the heaviest cell is
    cut at the weighted median of its widest coordinate until none is above it."""
    mass = (lambda rows: float(len(rows))) if w is None else (lambda rows: float(w[rows].sum()))
    total = mass(np.arange(len(x)))
    cells = [np.arange(len(x))]
    while True:
        cells.sort(key=mass)
        rows = cells[-1]
        if size * mass(rows) / total <= CELL_BUDGET or len(rows) < 2:
            return cells
        cells.pop()
        points = x[rows]
        axis = int(np.argmax(points.max(0) - points.min(0)))
        order = rows[np.argsort(points[:, axis], kind="stable")]
        cumulative = np.cumsum(np.ones(len(order)) if w is None else w[order])
        cut = int(np.clip(np.searchsorted(cumulative, cumulative[-1] / 2), 1, len(order) - 1))
        cells += [order[:cut], order[cut:]]


def _budgets(masses: NDArray, counts: NDArray, size: int) -> NDArray[np.int64]:
    """`size` shared by mass (largest remainders), never more than a cell's rows."""
    share = size * masses / masses.sum()
    budget = np.minimum(np.floor(share).astype(np.int64), counts)
    while budget.sum() < size and (budget < counts).any():
        room = budget < counts
        gap = np.where(room, share - budget, -np.inf)
        budget[int(np.argmax(gap))] += 1
    return budget


def summarize(
    X: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    size: float,
    kernel: str = "gaussian",
    bandwidth: float | None = None,
    rng: np.random.Generator | int | None = None,
) -> Summary:
    """Keep `size` rows of X with positive weights that match the data's leading kernel
    features exactly: a summary for MMD and for integrating smooth functions in any dimension.

    Parameters
    ----------
    X : (n, m) array
        The points; the kernel measures distances in these units (standardise the columns
        first if they have different ones).
    weights : (n,) array, optional
        Non-negative, with a positive total (all ones by default).
    size : int or float
        Rows to keep (an int), or a fraction of n (a float in (0, 1]).
    kernel : {"gaussian", "laplacian"}
    bandwidth : float, optional
        The kernel's length scale; by default the median heuristic
        (:func:`tchakaloff.kernel.median_bandwidth`).
    rng : numpy.random.Generator or int, optional
        Seeds the pivots of the features (and the median heuristic's sample).

    Returns
    -------
    Summary
        ``indices``, ``weights`` (> 0, the input's total) and the guaranteed ``mmd_bound``.

    Examples
    --------
    >>> import numpy as np
    >>> import tchakaloff
    >>> X = np.random.default_rng(0).uniform(size=(4096, 8))
    >>> s = tchakaloff.summarize(X, size=64, rng=0)
    >>> len(s), bool(np.isclose(s.weights.sum(), 4096)), bool(s.mmd_bound < 0.5)
    (64, True, True)
    """
    x = as_points(X, "X")
    n = len(x)
    w = check_mass(as_weights(weights, n))
    if not np.all(np.isfinite(x)):
        raise ValueError("X contains NaN or inf; remove or impute those rows first")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    target = min(as_size(size, n, "row"), n)
    generator = np.random.default_rng(rng)
    if bandwidth is None:
        bandwidth = median_bandwidth(x, rng=generator)
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth}")

    if target <= HERDING_MAX_SIZE:
        tries = [_herd(x, w, target, kernel, bandwidth, generator) for _ in range(_HERDING_RUNS)]
        rows, shares, mmd = min(tries, key=lambda t: t[2])
        order = np.argsort(rows)
        return Summary(
            indices=rows[order].astype(np.int64),
            weights=shares[order] * (n if w is None else w.sum()),
            cells=np.zeros(n, dtype=np.int64),
            kernel=kernel,
            bandwidth=float(bandwidth),
            rank=0,
            mmd_bound=mmd,
            feature_error=0.0,
        )
    cells = _split_cells(x, w, target)
    counts = np.array([len(rows) for rows in cells])
    masses = counts.astype(float) if w is None else np.array([w[rows].sum() for rows in cells])
    labels = np.empty(n, dtype=np.int64)
    kept, kept_weights = [], []
    rank, error, bound_terms = 0, 0.0, np.zeros(n)
    for label, (rows, budget) in enumerate(zip(cells, _budgets(masses, counts, target))):
        labels[rows] = label
        cell_weights = None if w is None else w[rows]
        if budget == 0 or masses[label] == 0:
            continue
        features, residual = kernel_features(
            x[rows],
            rank=int(budget) - 1,
            kernel=kernel,
            bandwidth=bandwidth,
            weights=cell_weights,
            rng=generator,
        )
        result = reduce(x[rows], cell_weights, features=features) if features.shape[1] else None
        if result is None:  # one point keeps only the total: the one nearest the cell's mean
            centre = np.average(x[rows], axis=0, weights=cell_weights)
            pick = np.array([int(np.argmin(((x[rows] - centre) ** 2).sum(1)))])
            result_indices, result_weights, cell_error = pick, np.array([masses[label]]), 0.0
        else:
            result_indices, result_weights = result.indices, result.weights
            cell_error = result.moment_error
        kept.append(rows[result_indices])
        kept_weights.append(result_weights)
        rank += features.shape[1]
        error = max(error, cell_error)
        # |mu_i - nu_i| sqrt(e_i) over the cell, with both measures normalised to mass 1
        mu = np.ones(len(rows)) if cell_weights is None else cell_weights.copy()
        mu[result_indices] -= result_weights
        bound_terms[rows] = np.abs(mu) * np.sqrt(residual)

    order = np.argsort(np.concatenate(kept), kind="stable")
    total = masses.sum()
    return Summary(
        indices=np.concatenate(kept)[order].astype(np.int64),
        weights=np.concatenate(kept_weights)[order],
        cells=labels,
        kernel=kernel,
        bandwidth=float(bandwidth),
        rank=rank,
        mmd_bound=float(bound_terms.sum() / total),
        feature_error=float(error),
    )
