"""Property tests (Hypothesis) of the public compressions on awkward inputs: duplicated and
degenerate points, constant columns, weights spread over 1e+-30 with zeros among them.

The property is the contract: every call either raises (ValueError for bad input,
ReductionError for a breakdown it reports) or returns a weighted subset of at most N (or
`size`) distinct input rows with positive finite weights, the input's total, and the same
moments up to the degree (checked here with numpy, in the [-1, 1] frame of the bounding
box). A few hundred examples run in every test run; the `slow` marker runs thousands.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tchakaloff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tchakaloff import ReductionError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def point_sets(draw, max_n: int = 60, max_m: int = 3):
    """(points, weights or None): random, lattice (many duplicates) or clustered rows, some
    columns constant, weights log-uniform over 1e+-30 with zeros."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["normal", "lattice", "clusters", "wide"]))
    if kind == "normal":
        x = rng.normal(size=(n, m))
    elif kind == "lattice":
        x = rng.integers(0, 2, size=(n, m)).astype(float)
    elif kind == "clusters":
        centres = rng.normal(size=(3, m)) * 10
        x = centres[rng.integers(0, 3, n)] + 1e-6 * rng.normal(size=(n, m))
    else:
        x = rng.normal(size=(n, m)) * 10.0 ** rng.uniform(-100, 100, size=m)
    if draw(st.booleans()):
        x[:, rng.integers(0, m)] = draw(st.sampled_from([0.0, 1.0, -3.5]))
    if draw(st.booleans()):
        return x, None
    spread = draw(st.sampled_from([0.0, 5.0, 30.0]))
    w = 10.0 ** rng.uniform(-spread, spread, n)
    w[rng.random(n) < draw(st.sampled_from([0.0, 0.3]))] = 0.0
    if not np.any(w > 0):
        w[rng.integers(0, n)] = 1.0
    return x, w


def frame_moments(x: np.ndarray, w: np.ndarray, degree: int) -> np.ndarray:
    """Monomial moments of x mapped onto [-1, 1]^m by its bounding box, computed plainly."""
    low, high = x.min(axis=0), x.max(axis=0)
    half = high / 2 - low / 2
    z = (x - (low / 2 + high / 2)) / np.where(half > 0, half, 1.0)
    alpha = tchakaloff.exponents(x.shape[1], degree)
    return np.prod(z[:, None, :] ** alpha[None, :, :], axis=2).T @ w


def check_contract(x, w, indices, weights, degree, most, tolerance=1e-6):
    """The result keeps at most `most` distinct rows of positive input weight, with positive
    weights of the same total and the same moments (relative to the total weight)."""
    w = np.ones(len(x)) if w is None else w
    assert len(indices) <= most
    assert len(indices) >= 1
    assert np.all(np.diff(indices) > 0)
    assert 0 <= indices[0] and indices[-1] < len(x)
    assert np.all(w[indices] > 0)
    assert np.all(weights > 0) and np.all(np.isfinite(weights))
    total = w.sum()
    assert math.isclose(weights.sum(), total, rel_tol=1e-9)
    kept = np.zeros(len(x))
    kept[indices] = weights
    scale = total * (2.0**degree)  # monomials from the Chebyshev basis: |coefficients| <= 2^k
    difference = frame_moments(x, kept / scale, degree) - frame_moments(x, w / scale, degree)
    assert np.max(np.abs(difference)) <= tolerance


def reduce_holds(data, degree):
    x, w = data
    try:
        r = tchakaloff.reduce(x, w, degree=degree)
    except ReductionError:
        return
    n = math.comb(x.shape[1] + degree, degree)
    check_contract(x, w, r.indices, r.weights, degree, n)
    assert r.moment_error < 1e-6


def compress_holds(data, degree, share, partition):
    x, w = data
    n_moments = math.comb(x.shape[1] + degree, degree)
    size = max(n_moments, int(share * len(x)))
    try:
        c = tchakaloff.compress(x, w, size=size, degree=degree, partition=partition)
    except ReductionError:
        return
    # every cell keeps its own moments, so the whole set keeps them too
    check_contract(x, w, c.indices, c.weights, degree, size, tolerance=1e-5)
    assert len(c.labels) == len(x)


def dataset_holds(data, degree, share):
    x, w = data
    y = np.random.default_rng(len(x)).normal(size=len(x))
    if x.shape[1] + 1 > 3:
        x = x[:, :2]
    n_moments = math.comb(x.shape[1] + 1 + degree, degree)
    size = min(len(x), max(n_moments, int(share * len(x))))
    try:
        d = tchakaloff.compress_dataset(x, y, size=size, degree=degree, sample_weight=w)
    except ReductionError:
        return
    except ValueError as error:  # a size the data cannot meet: said so, with the fix
        assert "size" in str(error)
        return
    total = len(x) if w is None else w.sum()
    assert len(d.indices) <= size
    assert np.all(d.weights > 0)
    assert math.isclose(d.weights.sum(), total, rel_tol=1e-9)
    assert len(np.unique(d.indices)) == len(d.indices)


def layer_holds(data, degree, share):
    x, w = data
    width = len(x)
    rng = np.random.default_rng(width)
    w_in, w_out = x, rng.normal(size=(1, width))
    multiplicities = None if w is None else np.where(w > 0, w, 1.0)  # a layer's are > 0
    size = max(1, int(share * width))
    try:
        layer = tchakaloff.compress_layer(
            w_in, None, w_out, size=size, degree=degree, multiplicities=multiplicities
        )
    except ReductionError:
        return
    except ValueError as error:  # size below N for these dimensions: said so, with the fix
        assert "size" in str(error)
        return
    total = width if w is None else multiplicities.sum()
    assert len(layer.weights) <= size
    assert np.all(layer.weights > 0)
    assert math.isclose(layer.weights.sum(), total, rel_tol=1e-9)


degrees = st.integers(0, 3)
shares = st.floats(0.05, 1.0)
partitions = st.sampled_from(["kd", "greedy"])


@FAST
@given(point_sets(), degrees)
def test_reduce_contract(data, degree):
    reduce_holds(data, degree)


@FAST
@given(point_sets(), degrees, shares, partitions)
def test_compress_contract(data, degree, share, partition):
    compress_holds(data, degree, share, partition)


@FAST
@given(point_sets(max_m=2), st.integers(0, 2), shares)
def test_compress_dataset_contract(data, degree, share):
    dataset_holds(data, degree, share)


@FAST
@given(point_sets(max_m=2), st.integers(0, 2), shares)
def test_compress_layer_contract(data, degree, share):
    layer_holds(data, degree, share)


@pytest.mark.slow
@SLOW
@given(point_sets(max_n=300), degrees)
def test_reduce_contract_many(data, degree):
    reduce_holds(data, degree)


@pytest.mark.slow
@SLOW
@given(point_sets(max_n=300), degrees, shares, partitions)
def test_compress_contract_many(data, degree, share, partition):
    compress_holds(data, degree, share, partition)


@pytest.mark.slow
@SLOW
@given(point_sets(max_n=300, max_m=2), st.integers(0, 2), shares)
def test_compress_dataset_contract_many(data, degree, share):
    dataset_holds(data, degree, share)


@pytest.mark.slow
@SLOW
@given(point_sets(max_n=300, max_m=2), st.integers(0, 2), shares)
def test_compress_layer_contract_many(data, degree, share):
    layer_holds(data, degree, share)
