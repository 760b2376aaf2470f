"""reduce(): properties of the result, checked against numpy moments in the [-1, 1]^m frame."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tchakaloff
from _bad_inputs import BAD_INPUTS, check_helpful
from _reference import (
    moment_mismatch,
    monomial_matrix,
    reference_exponents,
    run_with_threads,
)

MOMENT_TOL = 1e-9  # relative to the total weight, in the bounding-box frame
WEIGHT_RTOL = 1e-12

# Covers every m in 1..6 and every k in 0..8 with N <= 330.
GRID = [
    (1, 0),
    (1, 3),
    (1, 8),
    (2, 1),
    (2, 4),
    (2, 7),
    (2, 8),
    (3, 2),
    (3, 5),
    (3, 8),
    (4, 3),
    (4, 6),
    (5, 2),
    (5, 4),
    (6, 0),
    (6, 1),
    (6, 3),
    (6, 4),
]


def check_reduction(points, weights, degree, result=None):
    """Every documented property of reduce(points, weights, degree=degree); returns it."""
    x = np.asarray(points, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if result is None:
        result = tchakaloff.reduce(points, weights, degree=degree)
    n, m = x.shape
    n_max = math.comb(m + degree, degree)
    idx, new_w = result.indices, result.weights

    assert isinstance(result, tchakaloff.Reduction)
    assert result.degree == degree
    assert idx.dtype == np.int64 and idx.ndim == 1
    assert new_w.dtype == np.float64 and new_w.shape == idx.shape
    assert len(result) == len(idx)
    # At most N sorted, unique rows of the input, none of them with zero weight.
    assert 1 <= len(idx) <= n_max
    assert np.all(np.diff(idx) > 0)
    assert idx[0] >= 0 and idx[-1] < n
    assert np.all(w[idx] > 0), "a zero-weight point was kept"
    # Positive weights with the input's total.
    assert np.all(np.isfinite(new_w)) and np.all(new_w > 0)
    np.testing.assert_allclose(new_w.sum(), w.sum(), rtol=WEIGHT_RTOL)
    # Same moments up to degree k (measured independently) and a small reported error.
    assert moment_mismatch(x, w, idx, new_w, degree) <= MOMENT_TOL
    assert isinstance(result.moment_error, float)
    assert 0.0 <= result.moment_error <= MOMENT_TOL
    # When at most N points carry weight: exactly those points with their weights.
    positive = np.flatnonzero(w > 0)
    if len(positive) <= n_max:
        np.testing.assert_array_equal(idx, positive)
        np.testing.assert_allclose(new_w, w[positive], rtol=WEIGHT_RTOL)
    return result


def sample_size(m, k):
    return 3 * math.comb(m + k, k) + 150


# --- random inputs over the (m, k) grid ------------------------------------------------------


@pytest.mark.parametrize("m,k", GRID)
def test_reduce_gaussian(m, k):
    rng = np.random.default_rng(10 * m + k)
    x = rng.normal(size=(sample_size(m, k), m))
    r = check_reduction(x, None, k)
    # Generic points: the recursion stops with exactly N points.
    assert len(r) == math.comb(m + k, k)


@pytest.mark.parametrize("m,k", GRID)
def test_reduce_uniform_weighted(m, k):
    rng = np.random.default_rng(1000 + 10 * m + k)
    n = sample_size(m, k)
    x = rng.uniform(-2.0, 7.0, size=(n, m))
    w = rng.exponential(size=n)
    check_reduction(x, w, k)


@pytest.mark.parametrize("m,k", [(1, 5), (2, 6), (3, 4), (5, 3)])
def test_reduce_with_zero_weights(m, k):
    rng = np.random.default_rng(2000 + 10 * m + k)
    n = sample_size(m, k)
    x = rng.normal(size=(n, m))
    w = rng.uniform(0.1, 1.0, size=n)
    w[rng.random(n) < 0.4] = 0.0
    w[:5] = 0.0
    w[-5:] = 0.0
    r = check_reduction(x, w, k)
    assert not np.isin(r.indices, np.flatnonzero(w == 0)).any()


def test_reduce_bigger_n_several_levels():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20_000, 3)) * [1.0, 10.0, 0.01] + [5.0, -3.0, 100.0]
    w = rng.uniform(size=20_000)
    check_reduction(x, w, 4)


@pytest.mark.parametrize("m,k,n", [(4, 8, 2000), (6, 6, 2000)])
def test_reduce_large_n_moments(m, k, n):
    # N = 495 and N = 924.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, m))
    check_reduction(x, rng.uniform(size=n), k)


# --- structured and degenerate inputs --------------------------------------------------------


@pytest.mark.parametrize("spread", [1e-3, 1e-6])
@pytest.mark.parametrize("m,k", [(2, 4), (3, 3)])
def test_reduce_clustered(m, k, spread):
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(4, m)) * 10
    labels = rng.integers(0, 4, size=800)
    x = centres[labels] + spread * rng.normal(size=(800, m))
    check_reduction(x, None, k)


@pytest.mark.parametrize("m,k", [(1, 4), (2, 5), (2, 8), (3, 3)])
def test_reduce_duplicated_rows(m, k):
    rng = np.random.default_rng(6)
    distinct = rng.normal(size=(20, m))
    x = distinct[rng.integers(0, 20, size=600)]
    w = rng.uniform(size=600)
    check_reduction(x, w, k)


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_reduce_collinear(m, k):
    rng = np.random.default_rng(7)
    t = rng.uniform(-1.0, 1.0, size=(400, 1))
    x = rng.normal(size=(1, m)) + t * rng.normal(size=(1, m))
    r = check_reduction(x, None, k)
    # The kept points are on the same line.
    d = x[r.indices] - x[0]
    assert np.linalg.matrix_rank(d, tol=1e-9 * np.abs(d).max()) <= 1


@pytest.mark.parametrize("m,k", [(1, 0), (1, 4), (3, 2), (3, 5)])
def test_reduce_all_points_equal(m, k):
    x = np.tile(np.arange(1.0, m + 1.0), (300, 1))
    r = check_reduction(x, None, k)
    np.testing.assert_allclose(r.weights.sum(), 300.0, rtol=1e-14)


def test_reduce_all_points_equal_weighted():
    x = np.full((100, 2), -4.25)
    w = np.linspace(0.0, 1.0, 100)
    check_reduction(x, w, 3)


@pytest.mark.parametrize("column", [0, 1, 2])
def test_reduce_constant_coordinate(column):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 3))
    x[:, column] = 2.5
    r = check_reduction(x, None, 4)
    # Only the polynomials in the two free coordinates matter: at most C(2 + 4, 4) = 15 of the
    # 35 features are independent, but the recursion may stop anywhere below N = 35.
    assert len(r) <= 35


def test_reduce_integer_grid():
    # Many exact ties in every coordinate.
    g = np.arange(6.0)
    x = np.array(np.meshgrid(g, g, g)).reshape(3, -1).T
    check_reduction(x, None, 3)


# --- few points ------------------------------------------------------------------------------


@pytest.mark.parametrize("m,k,n", [(2, 3, 7), (2, 3, 10), (1, 8, 9), (4, 2, 1), (6, 0, 1)])
def test_reduce_fewer_points_than_n_moments(m, k, n):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(n, m))
    w = rng.uniform(0.1, 3.0, size=n)
    r = check_reduction(x, w, k)
    np.testing.assert_array_equal(r.indices, np.arange(n))
    np.testing.assert_allclose(r.weights, w, rtol=WEIGHT_RTOL)


def test_reduce_few_positive_weights_among_many_points():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(600, 3))
    w = np.zeros(600)
    w[[3, 100, 599]] = [1.0, 2.0, 3.0]
    r = check_reduction(x, w, 3)
    np.testing.assert_array_equal(r.indices, [3, 100, 599])
    np.testing.assert_allclose(r.weights, [1.0, 2.0, 3.0], rtol=WEIGHT_RTOL)


def test_reduce_single_positive_weight():
    x = np.random.default_rng(11).normal(size=(50, 2))
    w = np.zeros(50)
    w[17] = 0.25
    r = check_reduction(x, w, 5)
    np.testing.assert_array_equal(r.indices, [17])


def test_reduce_degree_zero_keeps_one_point():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(500, 4))
    w = rng.uniform(size=500)
    r = check_reduction(x, w, 0)
    assert len(r) == 1
    np.testing.assert_allclose(r.weights, [w.sum()], rtol=WEIGHT_RTOL)


# --- layouts and dtypes ----------------------------------------------------------------------


def assert_same_result(a, b):
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.moment_error == b.moment_error


def test_reduce_float32_input():
    rng = np.random.default_rng(13)
    x32 = rng.normal(size=(600, 3)).astype(np.float32)
    w32 = rng.uniform(size=600).astype(np.float32)
    r = check_reduction(x32, w32, 4)
    assert r.weights.dtype == np.float64
    assert_same_result(
        r, tchakaloff.reduce(x32.astype(np.float64), w32.astype(np.float64), degree=4)
    )


def test_reduce_integer_input():
    rng = np.random.default_rng(14)
    x = rng.integers(-50, 50, size=(500, 2))
    w = rng.integers(0, 4, size=500)
    r = check_reduction(x, w, 4)
    assert_same_result(r, tchakaloff.reduce(x.astype(float), w.astype(float), degree=4))


@pytest.mark.parametrize(
    "layout", ["fortran", "transposed", "row_stride", "column_stride", "negative_stride"]
)
def test_reduce_non_contiguous_input(layout):
    rng = np.random.default_rng(15)
    base = rng.normal(size=(1200, 6))
    if layout == "fortran":
        x = np.asfortranarray(base[:, :3])
    elif layout == "transposed":
        x = np.ascontiguousarray(base[:, :3].T).T
    elif layout == "row_stride":
        x = base[::2, 1:4]
    elif layout == "column_stride":
        x = base[:, ::2]
    else:
        x = base[::-3, 5:2:-1]
    assert not x.flags.c_contiguous
    w = rng.uniform(size=2 * len(x))[::2]
    r = check_reduction(x, w, 4)
    assert_same_result(
        r, tchakaloff.reduce(np.ascontiguousarray(x), np.ascontiguousarray(w), degree=4)
    )


def test_reduce_list_input():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(60, 2))
    w = rng.uniform(size=60)
    r = check_reduction(x.tolist(), w.tolist(), 3)
    assert_same_result(r, tchakaloff.reduce(x, w, degree=3))


def test_reduce_numpy_integer_degree():
    x = np.random.default_rng(17).normal(size=(100, 2))
    assert_same_result(tchakaloff.reduce(x, degree=np.int64(3)), tchakaloff.reduce(x, degree=3))


# --- subset, exactness, determinism ----------------------------------------------------------


def test_reduce_returns_rows_of_the_input():
    rng = np.random.default_rng(18)
    distinct = rng.normal(size=(300, 3))
    x = np.concatenate([distinct, distinct[:50]])  # some rows twice
    w = rng.uniform(size=len(x))
    w[rng.random(len(x)) < 0.3] = 0.0
    r = check_reduction(x, w, 3)
    kept = x[r.indices]
    rows = {row.tobytes() for row in x[w > 0]}
    assert all(row.tobytes() in rows for row in kept)
    # Indices point into the original array (not into a filtered copy): the kept points
    # are bit-for-bit the input rows at those indices.
    x_shuffled = x[::-1]
    r_shuffled = check_reduction(x_shuffled, w[::-1], 3)
    for i in r_shuffled.indices:
        assert x_shuffled[i].tobytes() in rows


@pytest.mark.parametrize("m,k", [(1, 7), (2, 5), (3, 4), (5, 2)])
def test_reduce_integrates_polynomials_exactly(m, k):
    rng = np.random.default_rng(19 + m + k)
    n = sample_size(m, k)
    x = rng.normal(size=(n, m)) * 0.7 + rng.uniform(-2, 2, size=m)
    w = rng.exponential(size=n)
    r = tchakaloff.reduce(x, w, degree=k)
    kept_x, kept_w = x[r.indices], r.weights

    # (a) a random polynomial in the monomial basis, in the original coordinates.
    exps = np.array(reference_exponents(m, k))
    coef = rng.normal(size=len(exps))
    full = w @ (monomial_matrix(x, exps) @ coef)
    reduced = kept_w @ (monomial_matrix(kept_x, exps) @ coef)
    bound = w @ (np.abs(monomial_matrix(x, exps)) @ np.abs(coef))
    assert abs(full - reduced) <= 1e-10 * bound

    # (b) a product of k random affine forms (a dense polynomial of degree exactly k).
    a = rng.normal(size=(k, m))
    b = rng.normal(size=k)

    def poly(points):
        return np.prod(points @ a.T + b, axis=1)

    def poly_bound(points):
        return np.prod(np.abs(points) @ np.abs(a.T) + np.abs(b), axis=1)

    assert abs(w @ poly(x) - kept_w @ poly(kept_x)) <= 1e-10 * (w @ poly_bound(x))

    # (c) a polynomial of degree k + 1 is in general NOT integrated exactly (sanity check
    # that the test would notice a wrong result).
    if k >= 1 and len(r) < n:
        c = rng.normal(size=m)
        g_full = w @ (x @ c) ** (2 * k + 2)
        g_red = kept_w @ (kept_x @ c) ** (2 * k + 2)
        assert abs(g_full - g_red) > 1e-8 * abs(g_full)


def test_reduce_bit_identical_between_runs():
    rng = np.random.default_rng(20)
    x = rng.normal(size=(5000, 3))
    w = rng.uniform(size=5000)
    first = tchakaloff.reduce(x, w, degree=4)
    for _ in range(2):
        assert_same_result(tchakaloff.reduce(x, w, degree=4), first)


def test_reduce_same_result_for_any_thread_count():
    code = """
        import numpy as np, tchakaloff
        rng = np.random.default_rng(21)
        x = rng.normal(size=(30_000, 3))
        w = rng.uniform(size=30_000)
        w[::7] = 0.0
        r = tchakaloff.reduce(x, w, degree=4)
        print(len(r.indices))
        print(r.indices.tobytes().hex())
        print(r.weights.tobytes().hex())
        print(float(r.moment_error).hex())
    """
    out = {t: run_with_threads(code, t) for t in (1, 2, 3)}
    assert out[1] == out[2] == out[3]
    assert int(out[1].split()[0]) == 35


# --- result object ---------------------------------------------------------------------------


def test_reduction_is_frozen_and_error_class():
    r = tchakaloff.reduce(np.random.default_rng(22).normal(size=(30, 2)), degree=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.degree = 3  # type: ignore[misc]
    assert issubclass(tchakaloff.ReductionError, ArithmeticError)
    assert tchakaloff.ReductionError.__doc__


# --- invalid input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points,weights,degree,match",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_reduce_bad_input_is_value_error(points, weights, degree, match):
    with pytest.raises(ValueError, match=match) as error:
        tchakaloff.reduce(points, weights, degree=degree)
    check_helpful(str(error.value))


@pytest.mark.parametrize("m,k", [(50, 10), (50, 3), (6, 9), (2, 100), (1000, 2)])
def test_reduce_too_many_moments_is_value_error(m, k):
    assert math.comb(m + k, k) > 5000
    x = np.random.default_rng(23).normal(size=(10, m))
    with pytest.raises(ValueError, match=r"more than reduce supports \(5000\)") as error:
        tchakaloff.reduce(x, degree=k)
    assert "lower the degree or the number of coordinates" in str(error.value)


def test_reduce_points_spanning_the_double_range():
    # The frame's centre and half-width are taken from halves: (lo + hi) no longer overflows.
    x = np.array([[-1e308], [1e308], [0.0], [5e307]])
    r = tchakaloff.reduce(x, degree=1)
    assert len(r) <= 2 and np.all(r.weights > 0)
    assert r.weights.sum() == pytest.approx(4.0, rel=1e-12)
    quarter = x[:, 0] / 4  # the first moment, without overflowing its sums
    assert r.weights @ quarter[r.indices] == pytest.approx(quarter.sum(), rel=1e-12)


def test_reduce_zero_weight_nan_point_still_rejected():
    # A NaN row is refused even when its weight is zero (the input is inconsistent).
    x = np.random.default_rng(24).normal(size=(20, 2))
    x[4, 1] = np.nan
    w = np.ones(20)
    w[4] = 0.0
    with pytest.raises(ValueError, match="NaN or inf"):
        tchakaloff.reduce(x, w, degree=2)


def test_reduce_few_points_with_duplicates_keeps_their_weights():
    x = np.array([[-0.02], [0.75], [-1.89], [-0.02]])  # rows 0 and 3 are equal
    w = np.array([0.96, 0.21, 0.7, 0.26])
    r = tchakaloff.reduce(x, w, degree=3)  # N = 4: nothing to remove
    np.testing.assert_array_equal(r.indices, [0, 1, 2, 3])
    np.testing.assert_allclose(r.weights, w, rtol=WEIGHT_RTOL)


def test_reduce_few_points_with_duplicates_still_valid():
    # What does hold for the input above: a valid reduction with the duplicates' total kept.
    x = np.array([[-0.02], [0.75], [-1.89], [-0.02]])
    w = np.array([0.96, 0.21, 0.7, 0.26])
    r = tchakaloff.reduce(x, w, degree=3)
    np.testing.assert_array_equal(r.indices, [0, 1, 2, 3])
    assert np.all(r.weights > 0)
    np.testing.assert_allclose(r.weights[[1, 2]], w[[1, 2]], rtol=WEIGHT_RTOL)
    np.testing.assert_allclose(r.weights[0] + r.weights[3], w[0] + w[3], rtol=WEIGHT_RTOL)
    assert moment_mismatch(x, w, r.indices, r.weights, 3) <= MOMENT_TOL
