"""Compression of units (neurons, channels) by what they contribute to an output.

A layer's output is a sum over its units, sum_i u_i, where u_i is unit i's contribution
evaluated on calibration data (one row of length M: samples x output directions). Keeping a
subset S with multiplicities c_i >= 0 changes the output by sum_{i in S} c_i u_i - sum_i u_i.
:func:`compress_contributions` makes that small in two steps:

1. Cells of alike units, each reduced by a positive-weight quadrature (the paper's
   Algorithm 1, on contributions): the units are cut into up to 16 balanced k-d cells along
   the leading eigenvectors of the Gram matrix G = U U^T (the directions in which their
   contributions differ most), and a cell that keeps k units gets them from the Tchakaloff
   step on its own test functions: with the k - 1 leading eigenvectors of its block of G as
   features, :func:`~tchakaloff.reduce` at degree 1 keeps at most k units with weights > 0
   whose weighted features, and whose total, equal the cell's. Merging only alike units
   leaves a small remainder, and the cells cost far less than one quadrature of all units
   (at 256 of 1024 digits-MLP units: half the time, the same output error).
2. The kept units' weights are re-fitted by non-negative least squares against the target
   over all M coordinates (and, when asked, the total weight), and units are added back
   where that leaves the budget unspent.

The objects never need C(m + k, k) moments: the output is linear in each unit's
contribution, so degree-1 moments of the contributions are what a sum over units depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .reduction import reduce

# Gram matrices are re-fitted with this relative ridge: it keeps the Cholesky factor of
# nearly dependent units finite and moves the fit by less than the rounding of float32 data.
_RIDGE = 1e-10
# Rounds that add units back after the re-fit dropped some.
_FILL_ROUNDS = 4
# Cells of units, and the leading eigen-coordinates they are cut along. The output error of
# the digits MLPs of the README was the same for 4 to 32 cells as for a single cell.
_CELLS = 16
_CELL_COORDINATES = 8
# How much a miss of the weights' total counts, against the output error (see `total`). On
# the digits networks 1 keeps the total within a few percent at no cost in output error;
# 100 made the output error 1.1-1.3x worse.
_TOTAL_WEIGHT = 1.0


@dataclass(frozen=True)
class ContributionCompression:
    """Kept units and their multiplicities.

    Attributes
    ----------
    indices : (s,) int64
        Sorted rows of the contribution matrix that are kept.
    weights : (s,) float64
        Their multiplicities, all > 0.
    relative_error : float
        ||sum_S c_i u_i - target|| / ||target|| on the calibration coordinates.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    relative_error: float

    def __len__(self) -> int:
        return len(self.indices)


def _scipy():
    """scipy's triangular solve and NNLS, with a message that says how to get them (scipy is
    not a dependency of the core package)."""
    try:
        from scipy.linalg import solve_triangular
        from scipy.optimize import nnls
    except ImportError as error:  # pragma: no cover - scipy comes with the torch extra
        raise ImportError(
            "compress_contributions and compress_mlp need scipy: pip install scipy (or "
            "pip install 'tchakaloff[torch]')"
        ) from error
    return solve_triangular, nnls


def _orthonormal(columns: NDArray[np.float64], passes: int = 2) -> NDArray[np.float64]:
    """An orthonormal basis of the columns' span by Cholesky QR: matrix products and a small
    triangular solve instead of a QR of the tall matrix (as accurate after a second pass,
    and far faster on a busy machine)."""
    solve_triangular, _ = _scipy()
    for _ in range(passes):
        small = columns.T @ columns
        shift = 1e-14 * max(float(np.trace(small)), np.finfo(float).tiny)
        factor = np.linalg.cholesky(small + shift * np.eye(len(small)))
        columns = solve_triangular(factor, columns.T, lower=True).T
    return columns


def _leading_features(gram: NDArray[np.float64], rank: int, rng: np.random.Generator) -> NDArray:
    """(w, rank) features F with F F^T close to the best rank-`rank` approximation of the
    Gram matrix, by a randomised range finder with one power iteration: far cheaper than a
    full eigh and exact enough, since the re-fit that follows uses the whole Gram matrix."""
    width = len(gram)
    probe = rng.standard_normal((width, min(width, rank + 16)))
    # one pass is enough for the basis the power iteration starts from
    basis = _orthonormal(gram @ _orthonormal(gram @ probe, passes=1))
    values, vectors = np.linalg.eigh(basis.T @ gram @ basis)
    top = np.argsort(values)[::-1][:rank]
    return (basis @ vectors[:, top]) * np.sqrt(np.maximum(values[top], 0.0))


def _quadrature(
    gram: NDArray[np.float64], size: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """At most `size` units with weights > 0 whose weighted leading eigen-features of the Gram
    matrix, and total weight, equal all units' (the unit most aligned with the sum when
    size is 1)."""
    if size == 1:
        alignment = gram.sum(axis=1) / np.sqrt(np.maximum(np.diag(gram), np.finfo(float).tiny))
        return np.array([int(np.argmax(alignment))]), np.array([float(len(gram))])
    quadrature = reduce(_leading_features(gram, size - 1, rng), degree=1)
    return quadrature.indices, quadrature.weights


def _cells(gram: NDArray[np.float64], count: int, rng: np.random.Generator) -> list[NDArray]:
    """`count` balanced k-d cells of the units along the leading eigen-coordinates: the cell
    of the most units is halved at the median of its widest coordinate."""
    coordinates = _leading_features(gram, min(_CELL_COORDINATES, len(gram)), rng)
    cells = [np.arange(len(gram))]
    while len(cells) < count:
        cells.sort(key=len)
        cell = cells.pop()
        values = coordinates[cell]
        axis = int(np.argmax(values.max(axis=0) - values.min(axis=0)))
        ordered = cell[np.argsort(values[:, axis], kind="stable")]
        cells += [ordered[: len(cell) // 2], ordered[len(cell) // 2 :]]
    return cells


def _refit(gram: NDArray, linear: NDArray, support: NDArray[np.int64]) -> NDArray[np.float64]:
    """Non-negative c on `support` minimising c^T G c - 2 c^T linear (scipy's NNLS on the
    Cholesky factor of the support's Gram matrix)."""
    solve_triangular, nnls = _scipy()
    block = gram[np.ix_(support, support)]
    scale = max(float(np.trace(block)) / len(support), np.finfo(float).tiny)
    # A Gram matrix summed in float32, or of units that are nearly dependent, can be
    # indefinite at the rounding level: raise the ridge until it is not (float32's rounding
    # at most), which moves the fit by no more than that rounding.
    for ridge in (_RIDGE, 1e-7, 1e-5):
        try:
            factor = np.linalg.cholesky(block + ridge * scale * np.eye(len(support)))
            break
        except np.linalg.LinAlgError:
            continue
    else:
        raise ArithmeticError("the kept units' Gram matrix is not positive semi-definite")
    rhs = solve_triangular(factor, linear[support], lower=True)
    unconstrained = solve_triangular(factor.T, rhs, lower=False)
    if np.all(unconstrained > 0):  # then it is the non-negative optimum too, at one solve
        return unconstrained
    weights, _ = nnls(factor.T, rhs, maxiter=50 * len(support))
    return weights


def compress_contributions(
    contributions: ArrayLike,
    target: ArrayLike | None = None,
    *,
    size: int,
    total: float | None = None,
    rng: np.random.Generator | int | None = None,
) -> ContributionCompression:
    """Keep at most `size` units whose weighted contributions sum to the target.

    Parameters
    ----------
    contributions : (w, M) array
        Row i is unit i's contribution on M calibration coordinates.
    target : (M,) array, optional
        What the kept units should add up to; the sum of all rows by default.
    size : int
        Units to keep, 1 <= size. When w <= size every unit is kept with weight 1.
    total : float, optional
        Keep the weights' total close to this too (missing it by a fraction e counts like a
        relative output error e), e.g. w, so that the kept units stand for as many units as
        there were: what makes a compressed network move like the wide one under Adam-type
        optimisers, whose steps do not shrink with a unit's weight. None: the output alone.
    rng : numpy Generator or seed, optional
        Seeds the randomised eigen-features (the result depends only on the data and rng).

    Returns
    -------
    ContributionCompression
        Exactly `size` units whenever the re-fit keeps enough of them with positive weight
        (fewer only when more would not lower the error).
    """
    units = np.asarray(contributions, dtype=np.float64)
    if units.ndim != 2 or units.shape[0] == 0 or units.shape[1] == 0:
        raise ValueError(f"contributions must be a non-empty (w, M) array, got {units.shape}")
    if not np.all(np.isfinite(units)):
        raise ValueError("contributions contain NaN or inf: check the calibration data")
    goal = units.sum(axis=0, dtype=np.float64) if target is None else np.asarray(target, float)
    if goal.shape != (units.shape[1],) or not np.all(np.isfinite(goal)):
        raise ValueError(f"target must be a finite ({units.shape[1]},) array")
    square = float(goal @ goal)
    return compress_gram(units @ units.T, units @ goal, square, size=size, total=total, rng=rng)


def compress_gram(
    gram: NDArray[np.float64],
    linear: NDArray[np.float64],
    target_square: float,
    *,
    size: int,
    total: float | None = None,
    rng: np.random.Generator | int | None = None,
) -> ContributionCompression:
    """:func:`compress_contributions` given G = U U^T, U t and t . t instead of U and t, for
    contributions whose Gram matrix is cheaper to form directly (a linear layer's: the
    Hadamard product of the activations' and the outgoing weights' Gram matrices)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    width = len(gram)
    norm2 = target_square
    measured = (gram, linear)
    if total is not None and norm2 > 0:
        # the total as one more coordinate of every unit's contribution (1 each, the target
        # `total`), weighted so that missing it by a fraction e costs as much as a relative
        # output error e
        weight = _TOTAL_WEIGHT * norm2 / total**2
        gram, linear = gram + weight, linear + weight * total

    def relative_error(support: NDArray[np.int64], weights: NDArray) -> float:
        # ||U_S^T c - t||^2 from the Gram matrix: no pass over the M coordinates
        g, b = measured
        square = weights @ g[np.ix_(support, support)] @ weights - 2 * weights @ b[support]
        return float(np.sqrt(max(square / norm2 + 1.0, 0.0))) if norm2 > 0 else 0.0

    if width <= size:
        every = np.arange(width, dtype=np.int64)
        return ContributionCompression(every, np.ones(width), relative_error(every, np.ones(width)))

    generator = np.random.default_rng(rng)
    cells = _cells(gram, min(_CELLS, size), generator)
    # every cell's share of the budget, by its number of units, adding up to size exactly
    exact = size * np.array([len(cell) for cell in cells]) / width
    shares = np.floor(exact).astype(int)
    shares[np.argsort(shares - exact)[: size - shares.sum()]] += 1
    parts = []
    for cell, share in zip(cells, shares):
        if share > 0:
            indices, weights = _quadrature(gram[np.ix_(cell, cell)], int(share), generator)
            parts.append((cell[indices], weights))
    support = np.concatenate([indices for indices, _ in parts])
    order = np.argsort(support)
    support = support[order]
    # the quadrature itself stays the answer when no re-fit keeps a unit
    best = (support, np.concatenate([weights for _, weights in parts])[order], np.inf)
    for _ in range(_FILL_ROUNDS + 1):
        weights = _refit(gram, linear, support)
        kept, weights = support[weights > 0], weights[weights > 0]
        missing = size - len(kept)
        if missing < 0:
            # more than the budget: keep the units that carry the most (weight x norm)
            largest = np.sort(np.argsort(weights * np.sqrt(np.diag(gram)[kept]))[-size:])
            kept = kept[largest]
            weights = _refit(gram, linear, kept)
            kept, weights = kept[weights > 0], weights[weights > 0]
            missing = size - len(kept)
        error = relative_error(kept, weights)
        if len(kept) and error < best[2]:  # the quadrature stays when no re-fit keeps a unit
            best = (kept, weights, error)
        if missing == 0:
            break
        # Add the units along which the objective falls fastest from the current fit, twice
        # as many as missing: the re-fit gives some of them weight 0 again.
        slope = gram[:, kept] @ weights - linear
        slope[kept] = np.inf
        candidates = np.argsort(slope)[: 2 * missing]
        candidates = candidates[slope[candidates] < 0]
        if len(candidates) == 0:
            break
        support = np.sort(np.concatenate([kept, candidates]))
    kept, weights, error = best
    if not np.isfinite(error):
        error = relative_error(kept, weights)
    return ContributionCompression(kept.astype(np.int64), weights, error)
