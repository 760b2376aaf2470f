"""n_moments and exponents against math.comb and an itertools enumeration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tchakaloff
from _reference import reference_exponents

GRID = [(m, k) for m in range(1, 7) for k in range(0, 9)] + [(7, 3), (10, 2), (12, 1), (1, 30)]


def test_n_moments_is_binomial_or_refused():
    # Beyond the exhaustive range below: exact where C(m + k, k) fits 63 bits, refused above.
    for m in [1, 2, 3, 4, 5, 6, 7, 10, 20, 50, 100]:
        for k in [0, 1, 2, 3, 5, 8, 13, 20]:
            if math.comb(m + k, k) >= 2**63:
                with pytest.raises(ValueError, match="overflows 64 bits"):
                    tchakaloff.n_moments(m, k)
            else:
                assert tchakaloff.n_moments(m, k) == math.comb(m + k, k), (m, k)


def test_n_moments_exhaustive_small():
    # Every (m, k) with m + k <= 61 (C(61, 30) ~ 2.3e17 fits comfortably in 63 bits).
    for m in range(1, 62):
        for k in range(0, 62 - m):
            got = tchakaloff.n_moments(m, k)
            assert got == math.comb(m + k, k), (m, k)
            assert type(got) is int


def test_n_moments_is_symmetric_and_pascal():
    # C(m + k, k) = C(m + k, m), and Pascal's rule N(m, k) = N(m - 1, k) + N(m, k - 1).
    for m in range(2, 15):
        for k in range(1, 15):
            assert tchakaloff.n_moments(m, k) == tchakaloff.n_moments(k, m)
            assert tchakaloff.n_moments(m, k) == (
                tchakaloff.n_moments(m - 1, k) + tchakaloff.n_moments(m, k - 1)
            )


def test_n_moments_accepts_numpy_integers():
    assert tchakaloff.n_moments(np.int64(3), np.int32(4)) == math.comb(7, 4)


def test_n_moments_large_values_exact():
    # Large values whose running products C(m + i, i) * (m + i + 1) still fit in 63 bits.
    for m, k in [(30, 30), (20, 40), (5, 1000), (60, 1), (3_000_000_000, 2)]:
        expected = math.comb(m + k, k)
        assert expected < 2**63
        assert tchakaloff.n_moments(m, k) == expected


@pytest.mark.parametrize("m,k", [(100, 100), (64, 64), (1000, 1000), (2**40, 2**40)])
def test_n_moments_overflow_is_value_error(m, k):
    assert m + k > 66 and math.comb(m + k, min(m, k, 40)) >= 2**63  # C(m+k, k) >= this
    with pytest.raises(ValueError, match="overflows 64 bits; lower the degree"):
        tchakaloff.n_moments(m, k)


@pytest.mark.parametrize("m,k", [(31, 31), (27, 35), (11, 159)])
def test_n_moments_no_false_overflow(m, k):
    expected = math.comb(m + k, k)  # C(62, 31) = 465428353255261088 < 2**63
    assert expected < 2**63
    assert tchakaloff.n_moments(m, k) == expected


@pytest.mark.parametrize("m", [0, -1, -5])
def test_n_moments_bad_dimension(m):
    with pytest.raises(ValueError, match="at least one coordinate"):
        tchakaloff.n_moments(m, 2)


@pytest.mark.parametrize("k", [-1, -10, 2.0, 1.5, "2", None, True])
def test_n_moments_bad_degree(k):
    with pytest.raises(ValueError, match="degree must be"):
        tchakaloff.n_moments(2, k)


def test_exponents_match_itertools_enumeration():
    for m, k in GRID:
        got = tchakaloff.exponents(m, k)
        expected = np.array(reference_exponents(m, k), dtype=np.int64).reshape(-1, m)
        assert got.dtype == np.int64
        assert got.shape == (math.comb(m + k, k), m)
        np.testing.assert_array_equal(got, expected, err_msg=f"m = {m}, k = {k}")


@pytest.mark.parametrize("m,k", [(1, 8), (2, 5), (3, 4), (6, 3), (10, 2)])
def test_exponents_properties(m, k):
    """The documented order, checked on its own (not through the reference enumeration)."""
    got = tchakaloff.exponents(m, k)
    degrees = got.sum(axis=1)
    # Every alpha with |alpha| <= k exactly once, none outside, no negative entry.
    assert (got >= 0).all()
    assert (degrees <= k).all()
    assert len({tuple(row) for row in got}) == len(got)
    # Graded: degrees non-decreasing, with C(m + d - 1, d) exponents of each degree d.
    assert (np.diff(degrees) >= 0).all()
    for d in range(k + 1):
        assert (degrees == d).sum() == math.comb(m + d - 1, d)
    # Inside a degree, strictly descending lexicographically.
    rows = [tuple(row) for row in got]
    for a, b in zip(rows, rows[1:]):
        if sum(a) == sum(b):
            assert a > b


def test_exponents_documented_example():
    # The docstring example for m = 2: 1, x, y, x^2, xy, y^2, ...
    expected = [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2], [3, 0], [2, 1], [1, 2], [0, 3]]
    np.testing.assert_array_equal(tchakaloff.exponents(2, 3), expected)


def test_exponents_prefix_is_lower_degree():
    # Degree k's table starts with the whole table of degree k - 1.
    for m in (1, 3, 5):
        for k in range(1, 6):
            big = tchakaloff.exponents(m, k)
            small = tchakaloff.exponents(m, k - 1)
            np.testing.assert_array_equal(big[: len(small)], small)


def test_exponents_degree_zero():
    for m in (1, 4, 30):
        np.testing.assert_array_equal(tchakaloff.exponents(m, 0), np.zeros((1, m), np.int64))


def test_exponents_too_many_is_value_error():
    with pytest.raises(ValueError, match="lower the degree or the number of coordinates"):
        tchakaloff.exponents(50, 10)
    with pytest.raises(ValueError, match=r"more than a monomial table supports \(1048576\)"):
        tchakaloff.exponents(2, 3000)  # C(3002, 2) = 4504501 > 2**20


@pytest.mark.parametrize("k", [-1, 1.0, "3", None])
def test_exponents_bad_degree(k):
    with pytest.raises(ValueError, match="degree must be"):
        tchakaloff.exponents(2, k)


def test_exponents_bad_dimension():
    with pytest.raises(ValueError, match="at least one coordinate"):
        tchakaloff.exponents(0, 2)


def test_n_moments_of_a_huge_degree_is_immediate():
    """min(m, k) steps, not k: a degree of 2^62 in one variable (once a loop of 2^62
    steps holding the GIL) is answered at once, and reduce refuses it at once."""
    assert tchakaloff.n_moments(1, 2**62) == 2**62 + 1
    assert tchakaloff.n_moments(2, 10**9) == math.comb(10**9 + 2, 2)
    with pytest.raises(ValueError, match="overflows 64 bits"):
        tchakaloff.n_moments(3, 2**62)
    with pytest.raises(ValueError, match="degree"):
        tchakaloff.reduce(np.zeros((3, 1)), degree=10**12)
