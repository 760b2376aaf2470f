"""moments() against a direct numpy computation, for every input layout it accepts."""

from __future__ import annotations

import numpy as np
import pytest
import tchakaloff
from _bad_inputs import BAD_INPUTS, check_helpful
from _reference import reference_exponents, reference_moments, run_with_threads

GRID = [
    (1, 0),
    (1, 5),
    (1, 8),
    (2, 3),
    (2, 8),
    (3, 4),
    (3, 7),
    (4, 2),
    (4, 6),
    (5, 5),
    (6, 1),
    (6, 4),
]


def assert_moments_close(got, points, weights, degree, rtol=1e-12):
    """|got - reference| <= rtol * sum_i |w_i| |x_i^alpha| for every alpha (rounding bound)."""
    expected, scale = reference_moments(points, weights, degree)
    assert got.shape == expected.shape
    assert got.dtype == np.float64
    assert np.all(np.abs(got - expected) <= rtol * scale + 1e-300), np.max(
        np.abs(got - expected) / np.maximum(scale, 1e-300)
    )


@pytest.mark.parametrize("m,k", GRID)
def test_moments_unweighted_match_numpy(m, k):
    rng = np.random.default_rng(100 * m + k)
    x = rng.normal(size=(257, m))
    assert_moments_close(tchakaloff.moments(x, degree=k), x, None, k)


@pytest.mark.parametrize("m,k", GRID)
def test_moments_weighted_match_numpy(m, k):
    rng = np.random.default_rng(1000 + 100 * m + k)
    x = rng.uniform(-3, 5, size=(301, m))
    w = rng.exponential(size=301)
    w[rng.random(301) < 0.2] = 0.0
    assert_moments_close(tchakaloff.moments(x, w, degree=k), x, w, k)


def test_moments_order_is_exponents_order():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 3))
    got = tchakaloff.moments(x, degree=4)
    for j, alpha in enumerate(reference_exponents(3, 4)):
        expected = np.sum(np.prod(x ** np.array(alpha), axis=1))
        assert got[j] == pytest.approx(expected, rel=1e-12, abs=1e-12 * len(x))


def test_moments_degree_zero_is_total_weight():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 4))
    w = rng.uniform(size=50)
    np.testing.assert_allclose(tchakaloff.moments(x, w, degree=0), [w.sum()], rtol=1e-14)
    np.testing.assert_array_equal(tchakaloff.moments(x, degree=0), [50.0])


def test_moments_default_weights_are_ones():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(100, 2))
    np.testing.assert_array_equal(
        tchakaloff.moments(x, degree=5), tchakaloff.moments(x, np.ones(100), degree=5)
    )


def test_moments_single_point():
    x = np.array([[2.0, -3.0, 0.5]])
    exps = np.array(reference_exponents(3, 3))
    expected = np.prod(x[0] ** exps, axis=1)
    np.testing.assert_allclose(tchakaloff.moments(x, degree=3), expected, rtol=1e-15)


def test_moments_exact_on_integers():
    # Small integer points: every product and sum is exact in float64.
    rng = np.random.default_rng(6)
    x = rng.integers(-3, 4, size=(500, 3))
    w = rng.integers(0, 5, size=500)
    exps = np.array(reference_exponents(3, 4))
    expected = [
        int(sum(int(wi) * int(np.prod(xi.astype(object) ** e)) for xi, wi in zip(x, w)))
        for e in exps
    ]
    got = tchakaloff.moments(x, w, degree=4)  # int64 points and weights are accepted
    np.testing.assert_array_equal(got, np.array(expected, dtype=np.float64))


def test_moments_float32_input():
    rng = np.random.default_rng(7)
    x32 = rng.normal(size=(333, 3)).astype(np.float32)
    w32 = rng.uniform(size=333).astype(np.float32)
    got = tchakaloff.moments(x32, w32, degree=5)
    assert got.dtype == np.float64
    assert_moments_close(got, x32.astype(np.float64), w32.astype(np.float64), 5)
    # Converted once to float64: same bits as passing the float64 copy.
    np.testing.assert_array_equal(
        got, tchakaloff.moments(x32.astype(np.float64), w32.astype(np.float64), degree=5)
    )


@pytest.mark.parametrize(
    "layout", ["fortran", "transposed", "row_stride", "column_stride", "negative_stride"]
)
def test_moments_non_contiguous_input(layout):
    rng = np.random.default_rng(8)
    base = rng.normal(size=(400, 6))
    if layout == "fortran":
        x = np.asfortranarray(base[:, :3])
    elif layout == "transposed":
        x = np.ascontiguousarray(base[:, :3].T).T
    elif layout == "row_stride":
        x = base[::3, :3]
    elif layout == "column_stride":
        x = base[:, ::2]
    else:
        x = base[::-2, 4:1:-1]
    assert not x.flags.c_contiguous
    w_base = rng.uniform(size=2 * len(x))
    w = w_base[::2]
    got = tchakaloff.moments(x, w, degree=4)
    assert_moments_close(got, x, w, 4)
    np.testing.assert_array_equal(
        got, tchakaloff.moments(np.ascontiguousarray(x), np.ascontiguousarray(w), degree=4)
    )


def test_moments_list_input():
    pts = [[0.5, 1.0], [2.0, -1.0], [3.0, 0.25]]
    wts = [1.0, 2.0, 0.5]
    got = tchakaloff.moments(pts, wts, degree=3)
    assert_moments_close(got, np.array(pts), np.array(wts), 3)
    np.testing.assert_array_equal(got, tchakaloff.moments(np.array(pts), np.array(wts), degree=3))
    # Points as a nested list of ints, weights as a tuple.
    np.testing.assert_array_equal(
        tchakaloff.moments([[1], [2], [3]], (1, 1, 2), degree=2), [4.0, 9.0, 23.0]
    )


def test_moments_zero_weight_rows_do_not_contribute():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(200, 2)) * 100
    w = rng.uniform(size=200)
    w[::3] = 0.0
    np.testing.assert_allclose(
        tchakaloff.moments(x, w, degree=4),
        tchakaloff.moments(x[w > 0], w[w > 0], degree=4),
        rtol=1e-12,
        atol=1e-12 * np.max(reference_moments(x, w, 4)[1]),
    )


def test_moments_scale_linearly_in_weights():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(100, 3))
    w = rng.uniform(size=100)
    np.testing.assert_array_equal(
        tchakaloff.moments(x, 4.0 * w, degree=3), 4.0 * tchakaloff.moments(x, w, degree=3)
    )


def test_moments_bit_identical_between_runs():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20_000, 3))
    w = rng.uniform(size=20_000)
    first = tchakaloff.moments(x, w, degree=6)
    for _ in range(3):
        np.testing.assert_array_equal(tchakaloff.moments(x, w, degree=6), first)


def test_moments_bit_identical_for_any_thread_count():
    code = """
        import numpy as np, tchakaloff
        rng = np.random.default_rng(12)
        x = rng.normal(size=(50_000, 3))  # 12 chunks of 4096 rows
        w = rng.uniform(size=50_000)
        print(tchakaloff.moments(x, w, degree=5).tobytes().hex())
    """
    outputs = {t: run_with_threads(code, t) for t in (1, 2, 3)}
    assert outputs[1] == outputs[2] == outputs[3]
    assert len(outputs[1].strip()) == 2 * 8 * 56


def test_moments_large_values_stay_finite_or_raise():
    # x = 1e100 at degree 3 overflows: a ValueError that says what to do, never inf.
    with pytest.raises(ValueError, match=r"overflow.*rescale the points or lower the degree"):
        tchakaloff.moments(np.array([[1e100], [1.0]]), degree=4)
    # Still representable: accepted.
    got = tchakaloff.moments(np.array([[1e100], [1.0]]), degree=3)
    assert np.isfinite(got).all()


def test_moments_many_columns():
    # m = 60 at degree 2: N = 1891 moments.
    rng = np.random.default_rng(13)
    x = rng.normal(size=(30, 60))
    assert_moments_close(tchakaloff.moments(x, degree=2), x, None, 2)


@pytest.mark.parametrize(
    "points,weights,degree,match",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_moments_bad_input_is_value_error(points, weights, degree, match):
    with pytest.raises(ValueError, match=match) as error:
        tchakaloff.moments(points, weights, degree=degree)
    check_helpful(str(error.value))


@pytest.mark.parametrize("m,k", [(50, 10), (5, 100), (2, 3000), (3000, 2)])
def test_moments_too_many_moments_is_value_error(m, k):
    # Beyond min(2**20, 2**24 / m) monomials: refused up front with what to change, not a
    # MemoryError.
    with pytest.raises(ValueError, match="lower the degree or the number of coordinates") as error:
        tchakaloff.moments(np.zeros((2, m)), degree=k)
    assert f"({min(2**20, 2**24 // m)})" in str(error.value)
