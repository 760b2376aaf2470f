"""Test functions and kernel summaries: reduce(features=...), summarize, and compress_dataset's
choice between moments and kernel features, checked against numpy references."""

from __future__ import annotations

import numpy as np
import pytest
import tchakaloff
from tchakaloff.kernel import CELL_BUDGET, HERDING_MAX_SIZE, kernel_features

FEATURE_RTOL = 1e-12


def gaussian(a: np.ndarray, b: np.ndarray, h: float) -> np.ndarray:
    """The Gaussian kernel, written out in numpy."""
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.exp(-d / (2 * h * h))


def mmd(x: np.ndarray, kept: np.ndarray, weights: np.ndarray, h: float) -> float:
    """Exact MMD between the uniform measure on x and the weighted kept rows (both mass 1)."""
    mu = np.full(len(x), 1 / len(x))
    nu = np.zeros(len(x))
    nu[kept] = weights / weights.sum()
    diff = mu - nu
    return float(np.sqrt(max(diff @ gaussian(x, x, h) @ diff, 0.0)))


def check_subset(result, n: int, total: float) -> None:
    assert np.all(np.diff(result.indices) > 0) and 0 <= result.indices[0]
    assert result.indices[-1] < n
    assert np.all(result.weights > 0)
    assert result.weights.sum() == pytest.approx(total, rel=1e-12)


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(3000, 3))


def bumps(points: np.ndarray) -> np.ndarray:
    centres = np.random.default_rng(7).normal(size=(40, points.shape[1]))
    return gaussian(points, centres, 1.0)


@pytest.mark.parametrize("weighted", [False, True])
def test_reduce_features_matches_every_sum(cloud, weighted):
    w = np.random.default_rng(1).exponential(size=len(cloud)) * 1e-20 if weighted else None
    values = bumps(cloud)
    result = tchakaloff.reduce(cloud, w, features=values)
    check_subset(result, len(cloud), len(cloud) if w is None else w.sum())
    assert len(result) <= values.shape[1] + 1
    assert result.degree is None
    full = values.sum(0) if w is None else w @ values
    kept = result.weights @ values[result.indices]
    np.testing.assert_allclose(kept, full, rtol=FEATURE_RTOL)
    assert result.moment_error < FEATURE_RTOL


def test_reduce_features_callable_sees_blocks_and_keeps_the_sums(cloud):
    seen = []

    def features(block: np.ndarray) -> np.ndarray:
        seen.append(len(block))
        return bumps(block)

    x = np.tile(cloud, (50, 1))  # 150,000 rows: several blocks
    result = tchakaloff.reduce(x, features=features)
    assert len(seen) > 2 and max(seen) < len(x)  # never the whole n x r matrix
    assert sum(seen) == len(x)
    check_subset(result, len(x), len(x))
    full = 50 * bumps(cloud).sum(0)
    np.testing.assert_allclose(result.weights @ bumps(x[result.indices]), full, rtol=FEATURE_RTOL)


def test_reduce_moments_are_one_kind_of_features(cloud):
    """Degree-2 monomials given as features keep the same moments as degree=2."""
    exps = tchakaloff.exponents(3, 2)[1:]
    values = np.prod(cloud[:, None, :] ** exps[None], axis=2)
    result = tchakaloff.reduce(cloud, features=values)
    assert len(result) <= tchakaloff.n_moments(3, 2)
    np.testing.assert_allclose(
        tchakaloff.moments(cloud[result.indices], result.weights, degree=2),
        tchakaloff.moments(cloud, degree=2),
        rtol=1e-10,
        atol=1e-9 * len(cloud),
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({}, "degree must be a non-negative integer"),
        ({"degree": 2, "features": np.ones((5, 1))}, "not both"),
        ({"features": np.ones((4, 2))}, r"shape \(5, r\)"),
        ({"features": np.full((5, 2), np.nan)}, "NaN"),
        ({"features": np.ones((5, 0))}, "no columns"),
        ({"features": lambda b: np.ones((len(b), 2)), "weights": -np.ones(5)}, ">= 0"),
        ({"features": lambda b: np.ones((len(b) + 1, 2))}, r"shape \(5, r\)"),
        ({"features": np.array([["a"]] * 5)}, "real numbers"),
    ],
)
def test_reduce_features_bad_input(kwargs, match):
    points = np.random.default_rng(0).normal(size=(5, 2))
    weights = kwargs.pop("weights", None)
    with pytest.raises(ValueError, match=match):
        tchakaloff.reduce(points, weights, **kwargs)


def test_kernel_features_residual_is_what_they_leave_out():
    x = np.random.default_rng(2).uniform(size=(400, 4))
    features, residual = kernel_features(x, rank=60, bandwidth=0.7, rng=0)
    exact = gaussian(x, x, 0.7)
    np.testing.assert_allclose(residual, np.diag(exact - features @ features.T), atol=1e-10)
    assert np.linalg.eigvalsh(exact - features @ features.T).min() > -1e-8  # K - F F^T is psd
    assert residual.mean() < 0.05  # 60 pivots explain most of the kernel on 400 points


@pytest.mark.parametrize("size", [HERDING_MAX_SIZE // 2, 200])
def test_summarize_contract_and_bound(size):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 8))
    w = rng.uniform(0.5, 2.0, size=len(x))
    summary = tchakaloff.summarize(x, w, size=size, rng=0)
    check_subset(summary, len(x), w.sum())
    assert len(summary) == size
    mu = w / w.sum()
    nu = np.zeros(len(x))
    nu[summary.indices] = summary.weights / w.sum()
    exact = np.sqrt(max((mu - nu) @ gaussian(x, x, summary.bandwidth) @ (mu - nu), 0.0))
    assert exact <= summary.mmd_bound * (1 + 1e-6) + 1e-12
    if size > HERDING_MAX_SIZE:  # recombination: the features are matched exactly
        assert summary.rank == size - 1 and summary.feature_error < 1e-10
    else:  # herding: the reported MMD is the MMD
        assert summary.mmd_bound == pytest.approx(exact, rel=1e-6, abs=1e-9)


def test_summarize_beats_uniform_subsets_and_improves_with_size():
    x = np.random.default_rng(4).uniform(size=(2000, 8))
    h = tchakaloff.kernel.median_bandwidth(x, rng=0)
    errors = []
    for size in (16, 64, 256):
        summary = tchakaloff.summarize(x, size=size, bandwidth=h, rng=0)
        errors.append(mmd(x, summary.indices, summary.weights, h))
        uniform = [
            mmd(x, np.sort(np.random.default_rng(s).choice(len(x), size, False)), np.ones(size), h)
            for s in range(5)
        ]
        assert errors[-1] < np.median(uniform) / 3
    assert errors[0] > errors[1] > errors[2]


def test_summarize_cells_keep_size_and_total():
    x = np.random.default_rng(5).normal(size=(6000, 6))
    size = 2 * CELL_BUDGET + 100
    summary = tchakaloff.summarize(x, size=size, rng=0)
    assert len(np.unique(summary.cells)) >= 3
    check_subset(summary, len(x), len(x))
    assert len(summary) == size
    counts = np.bincount(summary.cells[summary.indices])
    assert counts.sum() == size and counts.max() <= CELL_BUDGET
    # every cell keeps its own weight
    np.testing.assert_allclose(
        np.bincount(summary.cells[summary.indices], weights=summary.weights),
        np.bincount(summary.cells),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"kernel": "cosine"}, "kernel must be"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"weights": -np.ones(50)}, ">= 0"),
    ],
)
def test_summarize_bad_input(kwargs, match):
    x = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        tchakaloff.summarize(x, size=10, **kwargs)


def test_summarize_nan_is_refused():
    x = np.random.default_rng(0).normal(size=(50, 3))
    x[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tchakaloff.summarize(x, size=10)


def test_summarize_repeated_points_keep_what_exists():
    x = np.repeat(np.eye(3), 40, axis=0)  # 3 distinct points
    summary = tchakaloff.summarize(x, size=80, rng=0)
    assert len(summary) == 3
    check_subset(summary, len(x), len(x))
    np.testing.assert_allclose(summary.weights, 40.0, rtol=1e-9)


def test_compress_dataset_picks_kernel_in_high_dimension_and_moments_in_low():
    rng = np.random.default_rng(6)
    x10 = rng.normal(size=(3000, 10))
    y10 = x10[:, 0] + 0.1 * rng.normal(size=len(x10))
    wide = tchakaloff.compress_dataset(x10, y10, size=60, rng=0)
    assert wide.representation == "kernel" and wide.degree is None
    assert len(wide) == 60 and wide.weights.sum() == pytest.approx(3000)
    x2 = rng.uniform(size=(3000, 2))
    narrow = tchakaloff.compress_dataset(x2, x2[:, 0] ** 2, size=60, rng=0)
    assert narrow.representation == "moments" and narrow.degree >= 3
    forced = tchakaloff.compress_dataset(x2, x2[:, 0], size=60, representation="kernel", rng=0)
    assert forced.representation == "kernel" and len(forced) == 60


def test_compress_dataset_kernel_classes_keep_their_totals():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2000, 12))
    y = rng.integers(0, 3, size=len(x))
    result = tchakaloff.compress_dataset(x, y, size=90, discrete=True, rng=0)
    assert result.representation == "kernel" and result.discrete
    np.testing.assert_allclose(
        np.bincount(result.y, weights=result.weights, minlength=3), np.bincount(y), rtol=1e-9
    )
    assert set(result.indices) <= set(range(len(x)))


def test_compress_dataset_kernel_with_a_degree_is_refused():
    x = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(ValueError, match="degree"):
        tchakaloff.compress_dataset(x, x[:, 0], size=20, degree=2, representation="kernel")
    with pytest.raises(ValueError, match="representation must be"):
        tchakaloff.compress_dataset(x, x[:, 0], size=20, representation="nystrom")


@pytest.mark.parametrize("size", [8, 300])
def test_summarize_never_keeps_rows_of_weight_zero(size):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(1000, 6))
    w = rng.uniform(size=len(x)) * (rng.uniform(size=len(x)) < 0.5)
    summary = tchakaloff.summarize(x, w, size=size, rng=0)
    assert np.all(w[summary.indices] > 0)
    check_subset(summary, len(x), w.sum())
