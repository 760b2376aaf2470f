"""`tchakaloff demo`: a quick tour on generated data, printed as tables."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from .baselines import random_subset
from .compression import Compression, compress
from .reduction import exponents, n_moments, reduce


def _scaled_moment_error(
    points: np.ndarray, kept: np.ndarray, weights: np.ndarray, degree: int
) -> float:
    """Largest moment residual / total weight, recomputed in numpy in the [-1, 1]^m frame."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    half = np.where(hi > lo, (hi - lo) / 2, 1.0)
    z = (points - (lo + hi) / 2) / half
    alphas = exponents(points.shape[1], degree)
    full = np.zeros(len(alphas))
    for start in range(0, len(z), 100_000):  # chunks keep the monomial table small
        full += np.prod(z[start : start + 100_000, None, :] ** alphas, axis=2).sum(axis=0)
    sub = weights @ np.prod(z[kept, None, :] ** alphas, axis=2)
    return float(np.abs(sub - full).max() / len(points))


def run_demo(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    print("Tchakaloff reduction: keep at most N = C(m+k, k) points, same moments up to degree k")
    print(f"{'n':>9} {'m':>2} {'k':>2} {'N':>5} {'kept':>5} {'seconds':>9} {'moment error':>13}")
    for n, m, k in [(1_000_000, 2, 6), (50_000, 4, 5), (20_000, 3, 8)]:
        points = rng.standard_normal((n, m))
        start = time.perf_counter()
        result = reduce(points, degree=k)
        seconds = time.perf_counter() - start
        error = _scaled_moment_error(points, result.indices, result.weights, k)
        print(
            f"{n:>9} {m:>2} {k:>2} {n_moments(m, k):>5} {len(result):>5} {seconds:>9.4f} "
            f"{error:>13.2e}"
        )
    print("moment error: max |moment(kept) - moment(all)| / n, points mapped onto [-1, 1]^m,")
    print("recomputed in numpy from the kept rows.")
    _compression_table(rng)


_Subset = tuple[NDArray[np.int64], NDArray[np.float64]]  # kept rows and their weights


def _kept(result: Compression) -> _Subset:
    return result.indices, result.weights


def _compression_table(rng: np.random.Generator) -> None:
    """The paper's Fig. 2 function, d = 1e5 objects kept at 1e4 by each method."""
    d, m, k = 100_000, 3, 4
    w = rng.uniform(-1, 1, size=(d, m))
    # 20 draws of the 10 inputs x_a, one column each: f for every draw
    x = rng.uniform(-1, 1, size=(20, 10, m))
    values = (1 / (1 + np.exp(-np.einsum("im,tam->ita", w, x)))).mean(axis=2)
    print()
    print(f"Compression of d = {d} objects in R^{m} to 10%, matching moments up to k = {k}")
    print("(the default raises the degree as far as the size allows):")
    print("|error| of f = mean_i mean_a sigmoid(<w_i, x_a>) from the kept objects, mean of 20 x")
    print(f"{'method':>26} {'kept':>6} {'seconds':>8} {'|error|':>9}")
    rows: list[tuple[str, Callable[[], _Subset]]] = [
        ("random subset (d/d' each)", lambda: random_subset(d, d // 10, rng=rng))
    ]
    # "auto", the default, raises the degree (to 7 here); the others match k exactly
    for partition, name in (("kd", "kd"), ("greedy", "greedy"), ("auto", "default")):

        def compressed(p: str = partition) -> _Subset:
            return _kept(compress(w, size=0.1, degree=k, partition=p))

        rows.append((f"compress, {name}", compressed))
    for name, method in rows:
        start = time.perf_counter()
        kept, weights = method()
        seconds = time.perf_counter() - start
        error = np.abs(values.mean(axis=0) - weights @ values[kept] / d).mean()
        print(f"{name:>26} {len(kept):>6} {seconds:>8.3f} {error:>9.1e}")
