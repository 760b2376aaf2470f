"""tchakaloff.contributions' steps: the non-negative re-fit against scipy's NNLS, the trim
against a brute-force search, the randomised eigen-features of a stack of Gram matrices
against an exact eigendecomposition, and the size contract on contributions like a
trained layer's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls
from tchakaloff.contributions import (
    _leading_features,
    _nonnegative_fit,
    _trim,
    compress_contributions,
    compress_gram,
)


def objective(block, linear, weights):
    return weights @ block @ weights - 2 * weights @ linear


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("rows", "columns"), [(60, 20), (300, 120), (40, 40)])
def test_nonnegative_fit_is_scipys_nnls(seed, rows, columns):
    rng = np.random.default_rng(seed)
    # correlated columns and a target they cannot all fit with positive weights
    matrix = rng.normal(size=(rows, columns)) + rng.normal(size=(rows, 1))
    target = matrix @ (rng.normal(size=columns) + 0.5) + rng.normal(size=rows)
    expected, _ = nnls(matrix, target, maxiter=50 * columns)
    block = matrix.T @ matrix
    weights, factor = _nonnegative_fit(block, matrix.T @ target)
    assert np.all(weights >= 0)
    assert 0 < np.count_nonzero(weights) < columns
    np.testing.assert_allclose(weights, expected, atol=1e-8 * np.abs(expected).max())
    # the factor is the Cholesky factor of the positive units' block
    positive = weights > 0
    lower = np.tril(factor)
    np.testing.assert_allclose(lower @ lower.T, block[np.ix_(positive, positive)], rtol=1e-10)


def test_nonnegative_fit_of_duplicated_units_ends():
    # exact copies leave the optimum's split between them free and many gradients at 0
    rng = np.random.default_rng(0)
    matrix = np.repeat(rng.normal(size=(50, 6)), 4, axis=1)
    block = matrix.T @ matrix + 1e-10 * np.eye(24)
    linear = matrix.T @ (matrix @ rng.normal(size=24))
    weights, _ = _nonnegative_fit(block, linear)
    expected, _ = nnls(matrix, matrix @ np.linalg.solve(block, linear))
    assert np.all(weights >= 0)
    assert objective(block, linear, weights) <= objective(block, linear, expected) + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_trim_drops_the_unit_the_others_make_up_best_each_time(seed):
    rng = np.random.default_rng(seed)
    units = rng.normal(size=(12, 40)) + rng.normal(size=(1, 40))
    block, linear = units @ units.T, units @ units.sum(0)
    weights = np.linalg.solve(block, linear)
    kept = _trim(np.linalg.cholesky(block), weights, 8)
    assert kept.sum() == 8
    # the same greedy by brute force: refit without each unit, drop the cheapest
    alive = np.ones(12, dtype=bool)
    for _ in range(4):
        costs = {}
        for unit in np.flatnonzero(alive):
            rest = alive.copy()
            rest[unit] = False
            fit = np.linalg.solve(block[np.ix_(rest, rest)], linear[rest])
            costs[unit] = objective(block[np.ix_(rest, rest)], linear[rest], fit)
        alive[min(costs, key=costs.get)] = False
    np.testing.assert_array_equal(kept, alive)


def test_leading_features_of_a_stack_match_each_matrixs_eigendecomposition():
    rng = np.random.default_rng(1)
    spectrum = 0.5 ** np.arange(40)
    grams, best = [], []
    for width in (40, 33):
        basis, _ = np.linalg.qr(rng.normal(size=(width, width)))
        gram = (basis[:, : len(spectrum)] * spectrum[:width]) @ basis[:, : len(spectrum)].T
        grams.append(gram)
        values, vectors = np.linalg.eigh(gram)
        best.append((vectors[:, -5:] * values[-5:]) @ vectors[:, -5:].T)
    # the smaller matrix zero-padded to the larger: its padding gets features 0
    stack = np.zeros((2, 40, 40))
    stack[0] = grams[0]
    stack[1, :33, :33] = grams[1]
    features = _leading_features(stack, 5, 8, np.random.default_rng(2))
    assert features.shape == (2, 40, 5)
    np.testing.assert_array_equal(features[1, 33:], 0.0)
    for number, width in enumerate((40, 33)):
        approximation = features[number, :width] @ features[number, :width].T
        assert np.linalg.norm(approximation - best[number]) < 1e-4 * np.linalg.norm(best[number])


def test_leading_features_with_a_shift_are_those_of_the_shifted_matrix():
    rng = np.random.default_rng(3)
    units = rng.normal(size=(30, 8))
    gram = units @ units.T
    shifted = _leading_features(gram, 9, 8, np.random.default_rng(4), shift=2.0)
    explicit = _leading_features(gram + 2.0, 9, 8, np.random.default_rng(4))
    np.testing.assert_allclose(shifted @ shifted.T, explicit @ explicit.T, atol=1e-9)
    np.testing.assert_allclose(shifted @ shifted.T, gram + 2.0, atol=1e-8 * np.abs(gram).max())


def layer_contributions(seed, width=400, samples=300, outputs=3):
    """Contributions of a random ReLU layer's units to a linear read-out: many nearly
    dependent units, as in a trained network, where a re-fit gives many of them weight 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 5))
    activations = np.maximum(x @ rng.normal(size=(5, width)) + rng.normal(size=width), 0.0)
    readout = rng.normal(size=(width, outputs)) / np.sqrt(width)
    return (activations.T[:, :, None] * readout[:, None, :]).reshape(width, -1)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("size", [20, 60, 150])
def test_exactly_size_units_are_kept_with_the_least_squares_weights(seed, size):
    units = layer_contributions(seed)
    target = units.sum(0)
    result = compress_contributions(units, size=size, total=float(len(units)), rng=seed)
    assert len(result) == size
    assert np.all(np.diff(result.indices) > 0) and np.all(result.weights > 0)
    # the weights minimise the objective on the kept units (the total counts as one more
    # coordinate, weighted as compress_gram weighs it)
    kept = units[result.indices]
    scale = np.sqrt(target @ target) / len(units)
    design = np.hstack([kept, np.full((size, 1), scale)])
    goal = np.append(target, scale * len(units))
    fit, *_ = np.linalg.lstsq(design.T, goal, rcond=None)
    # nearly dependent units: the re-fit's ridge moves the weights, not the fit
    np.testing.assert_allclose(result.weights, fit, rtol=1e-4)
    residual = np.linalg.norm(result.weights @ design - goal)
    assert residual <= np.linalg.norm(fit @ design - goal) * (1 + 1e-8)
    gap = np.linalg.norm(result.weights @ kept - target) / np.linalg.norm(target)
    assert result.relative_error == pytest.approx(gap, rel=1e-6)


def test_gram_form_is_the_contribution_form():
    units = layer_contributions(5)
    target = units.sum(0) * 1.1
    direct = compress_contributions(units, target, size=40, total=400.0, rng=7)
    gram = compress_gram(
        units @ units.T, units @ target, target @ target, size=40, total=400.0, rng=7
    )
    np.testing.assert_array_equal(direct.indices, gram.indices)
    np.testing.assert_allclose(direct.weights, gram.weights)
