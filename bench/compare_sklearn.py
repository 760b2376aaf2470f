"""CompressedEstimator against the full fit and a random subset, for three scikit-learn models.

Data: x ~ U[-1, 1]^2, y = sin(3 x1) x2 + exp(-x2^2) + noise (sd 0.5), n = 1e5 training rows
(`--rows`); test error = MSE against the noiseless target on 1e4 fresh rows. Every subset
keeps s = 2e3 rows (`--size`) with total weight n, so a regularisation parameter (alpha, C)
means the same in every fit. Models, with the same hyper-parameters in every fit:

  KernelRidge(alpha=1, rbf, gamma=1)  its full fit stores an n x n kernel (80 GB at 1e5) and
                                      costs O(n^3): the full reference is fitted on the first
                                      `--full-rows` rows (2e4), the largest that fits here in
                                      memory and minutes;
  SVR(C=1, epsilon=0.1, rbf, gamma=1) libsvm's time grows like n^2 or worse: the same
                                      `--full-rows` reference; compressed with cells="all"
                                      (its loss is not a polynomial in y), cells="x" beside;
  HistGradientBoostingRegressor       the full fit on all n rows (random_state 0), on this
                                      task (moments of (x1, x2, y)) and on make_friedman1
                                      (10 features, noise sd 1; degree "auto": kernel
                                      features, as the default takes from 4 columns;
                                      `--friedman-rows` 2e4 rows, as kernel summaries of 1e5
                                      rows in 11 columns take minutes on a busy machine).

Fits, side by side in one run (one at a time, wall time of `fit`: the full fits once, the
others the best of 3, as other processes share the cores and a fit of a second or less
varies by 3x between runs):

  full                the model on all the rows it can take (n, or `--full-rows`);
  compressed          CompressedEstimator(model, size=s, degree=4) on all n rows (the time
                      includes the compression); degree 4 because "auto" takes k = 12 here
                      (N = 455 rows per cell), which costs ~100x the time for the same test
                      error (measured below as "compressed, degree auto" for KernelRidge);
  compressed, same rows  CompressedEstimator on the `--full-rows` rows of the full reference,
                      so that the error ratio to the full fit compares fits on the same data;
  random              a uniform random subset of s rows, weights n / s, over `--seeds` draws
                      (mean, min and max of the test error);
  unweighted          (HistGradientBoosting only) the compressed rows without their weights,
                      over `--seeds` data sets, beside the weighted compressed fit and the full
                      fit (boosting had scored worse with the weights than without).

Ratios in the JSON: full time / compressed time (the full fit on `--full-rows`; the full fit
on n rows would take (n / full_rows)^3 times longer, written as "extrapolated", not measured),
compressed error / full error, random error / compressed error.

This is a benchmark, not a test: it asserts that the compressed sets are real rows with
weights > 0 and the input's total, and reports everything else.

Usage (from the repository root):
  python bench/compare_sklearn.py           # about 15 minutes on 2 busy cores
  python bench/compare_sklearn.py --quick   # n = 2e4, full references on 5e3 rows, 4 minutes
Writes bench/results/compare_sklearn.json (compare_sklearn_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _environment import run_meta
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import mean_squared_error
from sklearn.svm import SVR
from tchakaloff.baselines import random_subset
from tchakaloff.sklearn import CompressedEstimator

DEGREE = 4
NOISE = 0.5


def target(X: np.ndarray) -> np.ndarray:
    return np.sin(3 * X[:, 0]) * X[:, 1] + np.exp(-(X[:, 1] ** 2))


def task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(X, y) of n noisy training rows, and 1e4 test rows with their noiseless target."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    test = rng.uniform(-1, 1, size=(10_000, 2))
    return X, target(X) + NOISE * rng.normal(size=n), (test, target(test))


def friedman_task(n: int, seed: int):
    """make_friedman1: 10 features (5 used), noise sd 1; noiseless test target."""
    X, y = make_friedman1(n_samples=n, noise=1.0, random_state=seed)
    test, clean = make_friedman1(n_samples=10_000, noise=0.0, random_state=10_000 + seed)
    return X, y, (test, clean)


REPEATS = 3  # fits of a few seconds or less: the best of 3 (other processes share the cores)


def timed_fit(model, X, y, sample_weight=None, repeats: int = REPEATS) -> tuple[object, float]:
    """The fitted model and the best wall time of `repeats` fits."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fitted = model.fit(X, y, sample_weight=sample_weight)
        best = min(best, time.perf_counter() - start)
    return fitted, best


def test_error(model, test: tuple[np.ndarray, np.ndarray]) -> float:
    test, clean = test
    return float(mean_squared_error(clean, model.predict(test)))


def check_compression(model: CompressedEstimator, n: int) -> None:
    kept = model.compression_
    assert np.all(kept.weights > 0) and np.isclose(kept.weights.sum(), n, rtol=1e-9)
    assert len(np.unique(kept.indices)) == len(kept) and kept.indices.max() < n


def fit_random(model, X, y, test, size: int, seeds: list[int]) -> dict:
    errors, seconds = [], []
    for seed in seeds:
        rows, weights = random_subset(len(X), size, rng=seed)
        fitted, time_ = timed_fit(clone(model), X[rows], y[rows], weights)
        errors.append(test_error(fitted, test))
        seconds.append(time_)
    return {
        "test_mse": float(np.mean(errors)),
        "test_mse_min": float(np.min(errors)),
        "test_mse_max": float(np.max(errors)),
        "fit_seconds": float(np.mean(seconds)),
    }


def fit_compressed(model, X, y, test, size: int, degree, cells: str = "x") -> dict:
    wrapped = CompressedEstimator(clone(model), size=size, degree=degree, cells=cells)
    fitted, seconds = timed_fit(wrapped, X, y)
    check_compression(fitted, len(X))
    return {
        "test_mse": test_error(fitted, test),
        "fit_seconds": seconds,
        "kept": len(fitted.compression_),
        "degree": fitted.compression_.degree,
    }


def kernel_model(name: str, model, X, y, test, args, seeds, cells: str = "x") -> dict:
    """Full fit on the first full_rows rows; compressed from n and from those rows; random."""
    full_rows = min(args.full_rows, len(X))
    print(f"{name}: full fit on {full_rows} rows", flush=True)
    full, seconds = timed_fit(clone(model), X[:full_rows], y[:full_rows], repeats=1)
    result = {
        "full": {"rows": full_rows, "test_mse": test_error(full, test), "fit_seconds": seconds},
        "compressed": fit_compressed(model, X, y, test, args.size, DEGREE, cells),
        "compressed, same rows": fit_compressed(
            model, X[:full_rows], y[:full_rows], test, args.size, DEGREE, cells
        ),
        "random": fit_random(model, X, y, test, args.size, seeds),
    }
    result["full"]["fit_seconds_extrapolated_to_n"] = seconds * (len(X) / full_rows) ** 3
    return result


def boosting(args, seeds, make_task, n: int, degree) -> dict:
    """Full, compressed with and without weights, random; over `seeds` data sets of n rows."""
    model = HistGradientBoostingRegressor(random_state=0)
    per_seed = []
    for seed in seeds:
        X, y, test = make_task(n, seed)
        print(f"boosting on {make_task.__name__}: data seed {seed}", flush=True)
        full, seconds = timed_fit(clone(model), X, y, repeats=1)
        compressed = CompressedEstimator(clone(model), size=args.size, degree=degree)
        compressed, compressed_seconds = timed_fit(compressed, X, y, repeats=1)
        check_compression(compressed, len(X))
        kept = compressed.compression_
        unweighted = clone(model).fit(kept.X, kept.y)
        rows, weights = random_subset(len(X), args.size, rng=seed)
        random_fit, random_seconds = timed_fit(clone(model), X[rows], y[rows], weights)
        per_seed.append(
            {
                "seed": seed,
                "full": {"test_mse": test_error(full, test), "fit_seconds": seconds},
                "compressed": {
                    "test_mse": test_error(compressed, test),
                    "fit_seconds": compressed_seconds,
                },
                "compressed, unweighted": {"test_mse": test_error(unweighted, test)},
                "random": {
                    "test_mse": test_error(random_fit, test),
                    "fit_seconds": random_seconds,
                },
            }
        )
    methods = ("full", "compressed", "compressed, unweighted", "random")
    summary = {
        method: {"test_mse": float(np.mean([r[method]["test_mse"] for r in per_seed]))}
        for method in methods
    }
    weighted_worse = sum(
        r["compressed"]["test_mse"] > r["compressed, unweighted"]["test_mse"] for r in per_seed
    )
    full_error = summary["full"]["test_mse"]
    error_ratios = {
        f"{method}_error_over_full_error": summary[method]["test_mse"] / full_error
        for method in methods[1:]
    }
    return {
        "rows": n,
        "representation": kept.representation,
        "summary": summary,
        "ratios": error_ratios,
        "weighted_worse_than_unweighted": f"{weighted_worse} of {len(per_seed)}",
        "runs": per_seed,
    }


def ratios(result: dict) -> dict:
    """Time and error ratios of a kernel model's fits."""
    full, compressed, random_ = result["full"], result["compressed"], result["random"]
    out = {
        "full_time_over_compressed_time": full["fit_seconds"] / compressed["fit_seconds"],
        "compressed_error_over_full_error": compressed["test_mse"] / full["test_mse"],
        "random_error_over_compressed_error": random_["test_mse"] / compressed["test_mse"],
    }
    same = result["compressed, same rows"]
    out["compressed_error_over_full_error, same rows"] = same["test_mse"] / full["test_mse"]
    out["full_time_extrapolated_over_compressed_time"] = (
        full["fit_seconds_extrapolated_to_n"] / compressed["fit_seconds"]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 2e4, full references on 5e3")
    parser.add_argument("--rows", type=int, default=100_000, help="training rows n")
    parser.add_argument("--size", type=int, default=2_000, help="rows kept")
    parser.add_argument("--full-rows", type=int, default=20_000, help="KernelRidge/SVR full fit")
    parser.add_argument(
        "--friedman-rows", type=int, default=20_000, help="rows of the make_friedman1 task"
    )
    parser.add_argument("--seeds", type=int, default=5, help="random subsets / boosting data")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.full_rows, args.friedman_rows = 20_000, 5_000, 5_000
    out = args.out or here / "results" / (
        "compare_sklearn_quick.json" if args.quick else "compare_sklearn.json"
    )
    seeds = list(range(args.seeds))

    X, y, test = task(args.rows, seed=0)
    kernel_ridge = KernelRidge(alpha=1.0, kernel="rbf", gamma=1.0)
    svr = SVR(C=1.0, epsilon=0.1, gamma=1.0)
    models = {
        "KernelRidge": kernel_model("KernelRidge", kernel_ridge, X, y, test, args, seeds),
        # the epsilon-insensitive loss is not a polynomial in y: cells cut along y as well
        "SVR": kernel_model("SVR", svr, X, y, test, args, seeds, cells="all"),
    }
    models["KernelRidge"]["compressed, degree auto"] = fit_compressed(
        kernel_ridge, X, y, test, args.size, "auto"
    )
    models["SVR"]["compressed, cells x"] = fit_compressed(svr, X, y, test, args.size, DEGREE)
    for name in ("KernelRidge", "SVR"):
        models[name]["ratios"] = ratios(models[name])
    models["HistGradientBoostingRegressor"] = boosting(args, seeds, task, args.rows, DEGREE)
    models["HistGradientBoostingRegressor, friedman1"] = boosting(
        args, seeds, friedman_task, args.friedman_rows, "auto"
    )

    meta = {
        **run_meta("compare_sklearn.py", argv, ("tchakaloff", "numpy", "scipy", "scikit-learn")),
        "task": f"x ~ U[-1, 1]^2, y = sin(3 x1) x2 + exp(-x2^2) + N(0, {NOISE}^2), "
        f"n = {args.rows}, kept {args.size}",
        "test_mse": "MSE against the noiseless target on 1e4 test rows",
        "degree": DEGREE,
        "seeds": seeds,
        "full_rows": args.full_rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "models": models}, indent=1) + "\n")
    for name, result in models.items():
        print(name, json.dumps(result["ratios"], indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
