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
   over all M coordinates (and, when asked, the total weight). Where that leaves the budget
   unspent, a few candidates per missing unit are added (those along which the error falls
   fastest), the re-fit is repeated, and its surplus is dropped one unit at a time, each time
   the unit whose loss the others make up best.

The objects never need C(m + k, k) moments: the output is linear in each unit's
contribution, so degree-1 moments of the contributions are what a sum over units depends on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import seeded_rng
from .reduction import reduce

# Gram matrices are re-fitted with the first of these relative ridges that makes them
# positive definite: 1e-10 keeps the Cholesky factor of nearly dependent units finite and
# moves the fit by less than the rounding of float32 data; a Gram matrix summed in float32
# can be indefinite at that rounding, which the larger ones (float32's rounding at most)
# make up for.
_RIDGES = (1e-10, 1e-7, 1e-5)
# Rounds that add units back after the re-fit dropped some, and how many candidates each
# offers per missing unit. On the digits MLPs' layers 3 met the budget in one round with an
# output error 3% below 2 (which missed the budget in one run in a hundred); 4 to 12
# lowered the error by a further 6% to 27% at 1.1x to 2.8x the time of the whole selection,
# more than compress_mlp can spend at 256 of 1024 units to stay well below a training epoch.
_FILL_ROUNDS = 4
_FILL_FACTOR = 3
# Each round offers at least this fraction of the budget, and the first one does even when
# the re-fit of the quadrature already keeps the budget (as it often does for the digits
# CNN's 64 channels): the trim then swaps units where that lowers the error (the CNN's
# logit error fell by a third at 32 channels and by 15% at 16).
_EXCHANGE = 0.25
# Cells of units, and the leading eigen-coordinates they are cut along. The output error of
# the digits MLPs of the README was the same for 4 to 32 cells as for a single cell.
_CELLS = 16
_CELL_COORDINATES = 8
# Random probes beyond the rank in the randomised eigen-features.
_OVERSAMPLING = 8
# Up to this many units the cells are cut along exact eigenvectors (a full eigh, 0.25 ms at
# 64 units): with 16 random probes the cells of the digits CNN's 64 channels, and its output
# error, changed from seed to seed.
_EXACT_CELL_WIDTH = 64
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


def _lapack() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """LAPACK's Cholesky solve, factor and inverse from scipy (dposv, dpotrf, dpotri)."""
    from scipy.linalg.lapack import dposv, dpotrf, dpotri

    return dposv, dpotrf, dpotri


def _transposed(matrices: NDArray[np.float64]) -> NDArray[np.float64]:
    """Every matrix of a stack transposed (ndarray.mT, which needs numpy 2)."""
    return np.swapaxes(matrices, -1, -2)


def _block(
    gram: NDArray[np.float64], shift: float, units: NDArray[np.int64]
) -> NDArray[np.float64]:
    """gram + shift on the rows and columns of the units (..., k): the (..., k, k) blocks,
    by one gather from the C-ordered gram (sorted units read its rows in order)."""
    blocks: NDArray[np.float64] = gram.ravel().take(
        units[..., :, None] * len(gram) + units[..., None, :]
    )
    return blocks + shift


def _cholesky_inverse(matrices: NDArray[np.float64]) -> NDArray[np.float64]:
    """L^-T for the Cholesky factor L of every positive semi-definite (p, p) matrix A of a
    stack: X L^-T has orthonormal columns when A = X^T X (Cholesky QR), and
    X L^-T (X L^-T)^T = X A^-1 X^T (a Nyström factor). A relative ridge keeps L finite; it
    is raised when a matrix is indefinite at the rounding level (summed in float32)."""
    size = matrices.shape[-1]
    scale = np.trace(matrices, axis1=-2, axis2=-1)[..., None, None] / size
    unit = np.maximum(scale, np.finfo(float).tiny) * np.eye(size)
    for ridge in (1e-12, 1e-9, 1e-6):
        try:
            return _transposed(np.linalg.inv(np.linalg.cholesky(matrices + ridge * unit)))
        except np.linalg.LinAlgError:
            continue
    raise ArithmeticError("a Gram matrix of the units is not positive semi-definite")


def _leading_features(
    gram: NDArray[np.float64],
    rank: int,
    oversampling: int,
    rng: np.random.Generator,
    shift: float = 0.0,
) -> NDArray[np.float64]:
    """(..., w, rank) features F with F F^T close to the best rank-`rank` approximation of
    the positive semi-definite gram + shift (every one of a stack of (w, w) matrices).

    A Nyström approximation on the range of gram times a random probe of p = rank +
    `oversampling` columns: two products with gram, far cheaper than a full eigh and exact
    enough, since the re-fit that follows uses the whole Gram matrix. The small steps are
    Cholesky factors and one eigh of (p, p) matrices, which numpy runs on a whole stack at
    once: one call for every cell of units.
    """

    def times(columns: NDArray[np.float64]) -> NDArray[np.float64]:
        product: NDArray[np.float64] = gram @ columns + shift * columns.sum(axis=-2, keepdims=True)
        return product

    width = gram.shape[-1]
    probe = rng.standard_normal((*gram.shape[:-2], width, min(width, rank + oversampling)))
    # an orthonormal basis of the probe's image, by Cholesky QR
    image = times(probe)
    basis = image @ _cholesky_inverse(_transposed(image) @ image)
    # gram ~ image core^-1 image^T with core = basis^T gram basis: N N^T for this N
    image = times(basis)
    core = _transposed(basis) @ image
    nystrom = image @ _cholesky_inverse((core + _transposed(core)) / 2)
    # N's leading principal directions, each scaled by its singular value
    _, vectors = np.linalg.eigh(_transposed(nystrom) @ nystrom)
    features: NDArray[np.float64] = nystrom @ vectors[..., : -rank - 1 : -1]
    return features


def _cells(
    gram: NDArray[np.float64], shift: float, count: int, rng: np.random.Generator
) -> list[NDArray[np.intp]]:
    """`count` balanced k-d cells of the units along the leading eigen-coordinates: the cell
    of the most units is halved at the median of its widest coordinate. Each cell's units
    come sorted, the order in which gathers from the Gram matrix read it fastest."""
    rank = min(_CELL_COORDINATES, len(gram))
    if len(gram) <= _EXACT_CELL_WIDTH:
        eigenvalues, eigenvectors = np.linalg.eigh(gram + shift)
        coordinates = eigenvectors[:, -rank:] * np.sqrt(np.maximum(eigenvalues[-rank:], 0.0))
    else:
        coordinates = _leading_features(gram, rank, _OVERSAMPLING, rng, shift)
    cells = [np.arange(len(gram))]
    while len(cells) < count:
        cells.sort(key=len)
        cell = cells.pop()
        values = coordinates[cell]
        axis = int(np.argmax(values.max(axis=0) - values.min(axis=0)))
        ordered = cell[np.argsort(values[:, axis], kind="stable")]
        cells += [ordered[: len(cell) // 2], ordered[len(cell) // 2 :]]
    return [np.sort(cell) for cell in cells]


def _quadratures(
    gram: NDArray[np.float64],
    shift: float,
    cells: list[NDArray[np.int64]],
    shares: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Every cell's quadrature, in one list: at most `share` of its units with weights > 0
    whose weighted leading eigen-features of the cell's block of gram + shift, and total
    weight, equal the whole cell's (the unit most aligned with the cell's sum when the share
    is 1). The blocks' features come from one stack, zero-padded to the largest cell (padding
    has features 0)."""
    largest = max(len(cell) for cell in cells)
    members = np.zeros((len(cells), largest), dtype=np.int64)
    real = np.zeros((len(cells), largest), dtype=bool)
    for number, cell in enumerate(cells):
        members[number, : len(cell)] = cell
        real[number, : len(cell)] = True
    blocks = _block(gram, shift, members)
    blocks[~(real[:, :, None] & real[:, None, :])] = 0.0
    rank = int(shares.max()) - 1
    features = _leading_features(blocks, rank, _OVERSAMPLING, rng) if rank > 0 else None
    indices, weights = [], []
    for number, (block, cell, share) in enumerate(zip(blocks, cells, shares)):
        if share == 1:
            own = block[: len(cell), : len(cell)]
            alignment = own.sum(axis=1) / np.sqrt(np.maximum(np.diag(own), np.finfo(float).tiny))
            indices.append(cell[[int(np.argmax(alignment))]])
            weights.append(np.array([float(len(cell))]))
        elif share > 1:
            assert features is not None  # rank = the largest share - 1 > 0
            quadrature = reduce(features[number, : len(cell), : share - 1], degree=1)
            indices.append(cell[quadrature.indices])
            weights.append(quadrature.weights)
    return np.concatenate(indices), np.concatenate(weights)


def _nonnegative_fit(
    block: NDArray[np.float64], linear: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Non-negative c minimising c^T block c - 2 c^T linear, for a positive definite block,
    by block principal pivoting (Kim and Park, 2011) from the unconstrained optimum: every
    step solves on the units kept positive and swaps all that violate the optimality
    conditions at once (one at a time after three steps that did not lower their number,
    which makes it finite): a few Cholesky solves, where Lawson and Hanson's active-set NNLS
    (scipy's) takes a step per unit that enters or leaves. Also returns the Cholesky factor
    (lower triangle) of the block's rows and columns where c > 0, or None when a unit kept
    positive ended at exactly 0."""
    dposv, _, _ = _lapack()
    count = len(linear)
    passive = np.ones(count, dtype=bool)
    weights = np.zeros(count)
    factor = None
    # a gradient this close to 0 is rounding: swapping its unit in and out would not end
    tolerance = 1e-12 * max(float(np.abs(linear).max()), np.finfo(float).tiny)
    fewest, backups = count + 1, 3
    for _ in range(10 * count + 10):
        weights[:] = 0.0
        if passive.any():
            inside = np.flatnonzero(passive)
            factor, solution, info = dposv(block[inside][:, inside], linear[inside], lower=1)
            if info != 0:
                raise np.linalg.LinAlgError("not positive definite")
            weights[passive] = solution
        gradient = block @ weights - linear
        violations = np.flatnonzero(np.where(passive, weights < 0, gradient < -tolerance))
        if len(violations) == 0:
            break
        if len(violations) < fewest:
            fewest, backups = len(violations), 3
        elif backups > 0:
            backups -= 1
        else:
            violations = violations[-1:]
        passive[violations] = ~passive[violations]
    exact = np.array_equal(weights > 0, passive)
    return np.maximum(weights, 0.0), factor if exact else None


def _with_ridge(block: NDArray[np.float64], ridge: float) -> NDArray[np.float64]:
    """A copy of the block plus ridge x (its mean diagonal) on the diagonal."""
    scale = max(float(np.trace(block)) / len(block), np.finfo(float).tiny)
    ridged = block.copy()
    ridged.flat[:: len(block) + 1] += ridge * scale
    return ridged


def _refit(
    gram: NDArray[np.float64], shift: float, linear: NDArray[np.float64], support: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Non-negative c on `support` minimising c^T (G + shift) c - 2 c^T linear, and the
    Cholesky factor of G + shift (with the ridge) where c > 0 (see _nonnegative_fit)."""
    block = _block(gram, shift, support)
    for ridge in _RIDGES:
        try:
            return _nonnegative_fit(_with_ridge(block, ridge), linear[support])
        except np.linalg.LinAlgError:
            continue
    raise ArithmeticError("the kept units' Gram matrix is not positive semi-definite")


def _factor(block: NDArray[np.float64]) -> NDArray[np.float64]:
    """The Cholesky factor (lower triangle) of a Gram matrix with the re-fit's ridge."""
    _, dpotrf, _ = _lapack()
    for ridge in _RIDGES:
        factor: NDArray[np.float64]
        factor, info = dpotrf(_with_ridge(block, ridge), lower=1)
        if info == 0:
            return factor
    raise ArithmeticError("the kept units' Gram matrix is not positive semi-definite")


def _trim(
    factor: NDArray[np.float64], weights: NDArray[np.float64], size: int
) -> NDArray[np.bool_]:
    """Which `size` of the units to keep, given the Cholesky factor L (lower triangle) of
    their Gram matrix H = L L^T and the weights w > 0 that fit them best: units are dropped
    one at a time, each time the one whose loss the others make up best once re-fitted (it
    raises the objective by w_i^2 / (H^-1)_ii). Dropping the smallest weight x norm instead
    loses units that carry a direction alone, and the re-fit then gives many others
    weight 0."""
    _, _, dpotri = _lapack()
    inverse, info = dpotri(factor, lower=1)  # the lower triangle of H^-1
    if info != 0:
        raise ArithmeticError("the kept units' Gram matrix is singular")
    # (H^-1)_ii >= 1 / H_ii: the floor keeps the rounding of the updates from dividing by ~0
    rows = np.tril(factor)
    floor = 1.0 / np.maximum(np.einsum("ij,ij->i", rows, rows), np.finfo(float).tiny)
    diagonal = np.diag(inverse).copy()
    weights = weights.copy()
    alive = np.ones(len(weights), dtype=bool)
    # Without unit r, H^-1 loses h h^T / h_r for its column h, and w loses w_r h / h_r.
    # The updates are kept as the scaled columns h / sqrt(h_r), so that a drop costs
    # O(units x drops) instead of a rank-one update of the whole inverse.
    updates = np.empty((len(weights), len(weights) - size))
    for step in range(len(weights) - size):
        dropped = int(np.argmin(np.where(alive, weights**2 / np.maximum(diagonal, floor), np.inf)))
        column = np.concatenate([inverse[dropped, :dropped], inverse[dropped:, dropped]])
        column -= updates[:, :step] @ updates[dropped, :step]
        pivot = np.sqrt(max(column[dropped], floor[dropped]))
        column /= pivot
        weights -= weights[dropped] / pivot * column
        diagonal -= column**2
        updates[:, step] = column
        alive[dropped] = False
    return alive


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
        Seeds the randomised eigen-features (the result depends only on the data and rng;
        None is a fixed seed).

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
    gram = np.ascontiguousarray(gram, dtype=np.float64)  # no copy of compress_mlp's
    width = len(gram)
    norm2 = target_square
    measured = linear
    # The total as one more coordinate of every unit's contribution (1 each, the target
    # `total`), weighted so that missing it by a fraction e costs as much as a relative
    # output error e: G + shift (every entry) and linear + shift total. The shift is added
    # to the blocks in use only, not to a copy of G.
    shift = 0.0
    if total is not None and norm2 > 0:
        shift = _TOTAL_WEIGHT * norm2 / total**2
        linear = linear + shift * total

    def relative_error(weights: NDArray[np.float64], image: NDArray[np.float64]) -> float:
        # ||U^T c - t|| from G c (c over all units): no pass over the M coordinates
        square = float(weights @ image - 2 * weights @ measured)
        return float(np.sqrt(max(square / norm2 + 1.0, 0.0))) if norm2 > 0 else 0.0

    if width <= size:
        every = np.ones(width)
        return ContributionCompression(
            np.arange(width, dtype=np.int64), every, relative_error(every, gram @ every)
        )

    generator = seeded_rng(rng)
    cells = _cells(gram, shift, min(_CELLS, size), generator)
    # every cell's share of the budget, by its number of units, adding up to size exactly
    exact = size * np.array([len(cell) for cell in cells]) / width
    shares = np.floor(exact).astype(int)
    shares[np.argsort(shares - exact)[: size - shares.sum()]] += 1
    support, weights = _quadratures(gram, shift, cells, shares, generator)
    order = np.argsort(support)
    support = support[order]
    # the quadrature itself stays the answer when no re-fit keeps a unit
    best = (support, weights[order], np.inf)
    every = np.zeros(width)
    for step in range(_FILL_ROUNDS + 1):
        weights, factor = _refit(gram, shift, linear, support)
        kept, weights = support[weights > 0], weights[weights > 0]
        if len(kept) > size:
            if factor is None:
                factor = _factor(_block(gram, shift, kept))
            kept = kept[_trim(factor, weights, size)]
            weights, _ = _refit(gram, shift, linear, kept)
            kept, weights = kept[weights > 0], weights[weights > 0]
        every[:] = 0.0
        every[kept] = weights
        image = gram @ every  # G c: the error and the slope from one product
        error = relative_error(every, image)
        if len(kept) and error < best[2]:  # the quadrature stays when no re-fit keeps a unit
            best = (kept, weights, error)
        missing = size - len(kept)
        if missing == 0 and step > 0:
            break
        # Add the units along which the objective falls fastest from the current fit, a few
        # times as many as missing (the re-fit gives some of them, and of the kept units,
        # weight 0 again, and the trim drops a surplus at little cost), and at least a
        # fraction of the budget, in the first round even when none is missing: the trim
        # then swaps units where that helps.
        slope = image + shift * weights.sum() - linear
        slope[kept] = np.inf
        offered = int(max(np.ceil(_FILL_FACTOR * missing), np.ceil(_EXCHANGE * size)))
        candidates = np.argsort(slope)[:offered]
        candidates = candidates[slope[candidates] < 0]
        if len(candidates) == 0:
            break
        support = np.sort(np.concatenate([kept, candidates]))
    kept, weights, error = best
    if not np.isfinite(error):
        every[:] = 0.0
        every[kept] = weights
        error = relative_error(every, gram @ every)
    return ContributionCompression(kept.astype(np.int64), weights, error)
