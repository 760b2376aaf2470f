"""Data summaries against kernel thinning, Compress++, kernel herding, uniform subsets and
k-means, side by side in one process.

Data (every column standardised): Gaussian mixtures in 2, 4 and 12 dimensions, a uniform
8-dimensional cube, a correlated 20-dimensional Gaussian, and data shipped with scikit-learn
(digits in 8 and 20 principal components, breast cancer in 5, wine in 13, diabetes in 10).
Budgets: about sqrt(n), n/100 and n/10, rounded to n / 2^j (the sizes kernel thinning makes);
every method keeps the same number of points.

Methods:
  summarize     tchakaloff.summarize: Gaussian-kernel features (randomly pivoted Cholesky,
                median bandwidth), matched exactly by recombination;
  moments       tchakaloff.compress(degree="auto"): k-d cells, all moments of the largest
                degree that fits;
  auto          what tchakaloff.compress_dataset picks by default for these points
                (tchakaloff.kernel.prefers_kernel): summarize or moments;
  kt            goodpoints kernel thinning (kt.thin, square-root kernel for the split, target
                kernel for the swap), n <= 2^15 (it takes O(n^2) time);
  compress++    goodpoints Compress++ (compress.compresspp_kt, g = 4), the sqrt(n) budget only;
  herding       coreax kernel herding (when coreax installs), budgets <= 2048;
  uniform       a uniform random subset, equal weights (median over 5 draws);
  kmeans        scikit-learn k-means centroids weighted by cluster size (synthetic points).

Metrics: MMD in the Gaussian kernel with the median bandwidth, exact against the whole data
set (its self term summed once per data set); the integration error of 64 test functions
(32 logistic ridges, 32 Gaussian bumps at random data points), |mean - summary| / std over the
data, median over the functions; seconds.

Usage (from the repository root):
  python bench/compare_summaries.py            # every data set, about 20 minutes on 2 cores
  python bench/compare_summaries.py --quick    # the small data sets and the 8-D cube
Writes bench/results/compare_summaries.json (compare_summaries_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import tchakaloff
from _environment import run_meta
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA
from tchakaloff.kernel import kernel_matrix, median_bandwidth, prefers_kernel

KT_MAX_N = 2**15
HERDING_MAX_SIZE = 2048
BLOCK = 4096


def standardised(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / x.std(0)


def mixture(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(scale=3.0, size=(8, m))
    scales = rng.uniform(0.5, 1.5, size=8)
    which = rng.integers(0, 8, size=n)
    return centres[which] + scales[which, None] * rng.normal(size=(n, m))


def datasets(quick: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    sets = {
        "cube8": rng.uniform(size=(16_384, 8)),
        "digits8": PCA(8, random_state=0).fit_transform(load_digits().data),
        "digits20": PCA(20, random_state=0).fit_transform(load_digits().data),
        "cancer5": PCA(5, random_state=0).fit_transform(standardised(load_breast_cancer().data)),
        "wine13": load_wine().data,
        "diabetes10": load_diabetes().data,
    }
    if not quick:
        sets["mix2"] = mixture(65_536, 2, rng)
        sets["mix4"] = mixture(65_536, 4, rng)
        sets["mix12"] = mixture(100_000, 12, rng)
        correlation = rng.normal(size=(20, 20)) @ np.diag(0.7 ** np.arange(20))
        sets["corr20"] = rng.normal(size=(16_384, 20)) @ correlation.T
    return {name: standardised(x) for name, x in sets.items()}


def compress_plus_plus_size(n: int) -> int:
    """Compress++ keeps sqrt(n') points, n' the largest power of 4 <= n."""
    return 2 ** int(np.log(n) / np.log(4) + 1e-9)


def budgets(n: int) -> list[int]:
    """n // 2^j near sqrt(n), n/100 and n/10 (kernel thinning's sizes); above KT_MAX_N, where
    kernel thinning is not run, Compress++'s own size stands for sqrt(n)."""
    sizes = []
    for target in (np.sqrt(n), n / 100, n / 10):
        size = n // 2 ** max(1, round(np.log2(n / target)))
        if target == np.sqrt(n) and n > KT_MAX_N:
            size = compress_plus_plus_size(n)
        if size >= 8 and size not in sizes:
            sizes.append(size)
    return sizes


class Scorer:
    """Exact MMD against the whole data set and integration errors, for one data set."""

    def __init__(self, x: np.ndarray, bandwidth: float, rng: np.random.Generator):
        self.x, self.h = x, bandwidth
        n, m = x.shape
        self.self_term = sum(
            kernel_matrix(x[i : i + BLOCK], x, kernel="gaussian", bandwidth=bandwidth).sum()
            for i in range(0, n, BLOCK)
        ) / (n * n)
        self.directions = rng.normal(size=(32, m)) * 2 / np.sqrt(m)
        self.offsets = rng.normal(size=32)
        self.centres = x[rng.choice(n, 32, replace=False)]
        values = self.functions(x)
        self.mean, self.std = values.mean(0), values.std(0)

    def functions(self, points: np.ndarray) -> np.ndarray:
        ridges = 1 / (1 + np.exp(-(points @ self.directions.T + self.offsets)))
        bumps = kernel_matrix(points, self.centres, kernel="gaussian", bandwidth=self.h)
        return np.hstack([ridges, bumps])

    def __call__(self, points: np.ndarray, weights: np.ndarray) -> dict[str, float]:
        w = weights / weights.sum()
        inner = w @ kernel_matrix(points, points, kernel="gaussian", bandwidth=self.h) @ w
        cross = sum(
            (
                w
                @ kernel_matrix(points, self.x[i : i + BLOCK], kernel="gaussian", bandwidth=self.h)
            ).sum()
            for i in range(0, len(self.x), BLOCK)
        ) / len(self.x)
        mmd = float(np.sqrt(max(inner - 2 * cross + self.self_term, 0.0)))
        error = np.abs(w @ self.functions(points) - self.mean) / self.std
        return {"mmd": mmd, "integration": float(np.median(error))}


def kernel_thinning(x: np.ndarray, size: int, h: float, seed: int) -> np.ndarray:
    from goodpoints import kt

    m = x.shape[1]
    halvings = round(np.log2(len(x) / size))

    def target(y, z):
        return np.exp(-((z - y) ** 2).sum(-1) / (2 * h * h))

    def square_root(y, z):  # the Gaussian's square-root kernel, up to a constant
        return (2 / (np.pi * h * h)) ** (m / 4) * np.exp(-((z - y) ** 2).sum(-1) / (h * h))

    return np.asarray(kt.thin(x, halvings, square_root, target, delta=0.5, seed=seed))


def compress_plus_plus(x: np.ndarray, h: float, seed: int) -> np.ndarray:
    from goodpoints import compress

    return np.asarray(
        compress.compresspp_kt(x, b"gaussian", k_params=np.array([2 * h * h]), g=4, seed=seed)
    )


def herding(x: np.ndarray, size: int, h: float) -> np.ndarray:
    import jax.numpy as jnp
    from coreax import Data
    from coreax.kernels import SquaredExponentialKernel
    from coreax.solvers import KernelHerding

    solver = KernelHerding(
        coreset_size=size, kernel=SquaredExponentialKernel(length_scale=h), block_size=BLOCK
    )
    coreset, _ = solver.reduce(Data(jnp.asarray(x)))
    return np.asarray(coreset.unweighted_indices)


def kmeans(x: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    model = (KMeans if size <= 2048 else MiniBatchKMeans)(size, n_init=1, random_state=seed)
    labels = model.fit_predict(x)
    counts = np.bincount(labels, minlength=size).astype(float)
    keep = counts > 0
    return model.cluster_centers_[keep], counts[keep]


def have(package: str) -> bool:
    try:
        __import__(package)
    except ImportError:
        return False
    return True


def run_one(x: np.ndarray, size: int, h: float, score: Scorer) -> dict[str, dict]:
    n = len(x)
    rows: dict[str, dict] = {}

    def record(name: str, build) -> None:
        start = time.perf_counter()
        points, weights = build()
        seconds = time.perf_counter() - start
        rows[name] = {"kept": len(points), "seconds": seconds, **score(points, weights)}

    def ours(result):
        return x[result.indices], result.weights

    record("summarize", lambda: ours(tchakaloff.summarize(x, size=size, bandwidth=h, rng=0)))
    record("moments", lambda: ours(tchakaloff.compress(x, size=size, degree="auto")))
    rows["auto"] = dict(rows["summarize" if prefers_kernel(x.shape[1]) else "moments"])
    if n <= KT_MAX_N:
        record("kt", lambda: (x[kernel_thinning(x, size, h, 0)], np.ones(size)))
    if size == compress_plus_plus_size(n):
        record("compress++", lambda: (x[compress_plus_plus(x, h, 0)], np.ones(size)))
    if have("coreax") and size <= HERDING_MAX_SIZE:
        record("herding", lambda: (x[herding(x, size, h)], np.ones(size)))
    draws = []
    for seed in range(5):
        start = time.perf_counter()
        pick = np.random.default_rng(seed).choice(n, size, replace=False)
        draws.append({"seconds": time.perf_counter() - start, **score(x[pick], np.ones(size))})
    rows["uniform"] = {
        "kept": size,
        **{key: float(np.median([d[key] for d in draws])) for key in draws[0]},
    }
    record("kmeans", lambda: kmeans(x, size, 0))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data sets and the 8-D cube")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # k-means convergence and jax's backend notices
    packages = ("numpy", "scikit-learn", "goodpoints", "coreax", "jax")
    report = {"meta": run_meta("bench/compare_summaries.py", argv, packages), "cases": []}
    for name, x in datasets(args.quick).items():
        h = median_bandwidth(x, rng=0)
        score = Scorer(x, h, np.random.default_rng(1))
        for size in budgets(len(x)):
            rows = run_one(x, size, h, score)
            report["cases"].append(
                {"data": name, "n": len(x), "m": x.shape[1], "size": size, "methods": rows}
            )
            line = "  ".join(
                f"{method} {r['mmd']:.1e}/{r['integration']:.1e}/{r['seconds']:.1f}s"
                for method, r in rows.items()
            )
            print(f"{name} n={len(x)} m={x.shape[1]} size={size}: {line}", flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / ("compare_summaries_quick.json" if args.quick else "compare_summaries.json")
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
