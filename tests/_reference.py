"""Independent reference computations for the tests: plain itertools / numpy, no tchakaloff."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np


def reference_exponents(m: int, degree: int) -> list[tuple[int, ...]]:
    """Every alpha in N^m with |alpha| <= degree, in the documented graded order: total degree
    0, 1, ..., degree; inside a degree, lexicographically descending."""
    out: list[tuple[int, ...]] = []
    for d in range(degree + 1):
        same_degree = set()
        for combo in itertools.combinations_with_replacement(range(m), d):
            alpha = [0] * m
            for v in combo:
                alpha[v] += 1
            same_degree.add(tuple(alpha))
        out.extend(sorted(same_degree, reverse=True))
    return out


def monomial_matrix(points: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """(n, N) matrix of prod_v x_iv ** alpha_jv, one column per row of `exps`."""
    points = np.asarray(points, dtype=np.float64)
    exps = np.asarray(exps)
    values = np.ones((points.shape[0], exps.shape[0]))
    for v in range(points.shape[1]):
        values *= points[:, v : v + 1] ** exps[:, v]
    return values


def reference_moments(points, weights, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw moments in the reference order and, for tolerances, sum_i |w_i| |x_i^alpha|."""
    points = np.asarray(points, dtype=np.float64)
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    exps = np.array(reference_exponents(points.shape[1], degree), dtype=np.int64)
    values = monomial_matrix(points, exps)
    return w @ values, np.abs(w) @ np.abs(values)


def to_box(points: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Map `points` affinely onto [-1, 1]^m by the bounding box of `reference` (default: the
    points themselves); a coordinate that does not vary is only centred."""
    points = np.asarray(points, dtype=np.float64)
    ref = points if reference is None else np.asarray(reference, dtype=np.float64)
    lo, hi = ref.min(axis=0), ref.max(axis=0)
    centre = (lo + hi) / 2
    half = (hi - lo) / 2
    half[half == 0] = 1.0
    return (points - centre) / half


def moment_mismatch(points, weights, indices, new_weights, degree: int) -> float:
    """max_alpha |moment of input - moment of the kept weighted rows| / total weight, with
    monomial moments taken in the [-1, 1]^m frame of the input's bounding box."""
    points = np.asarray(points, dtype=np.float64)
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    y = to_box(points)
    exps = np.array(reference_exponents(points.shape[1], degree), dtype=np.int64)
    full = w @ monomial_matrix(y, exps)
    kept = np.asarray(new_weights) @ monomial_matrix(y[np.asarray(indices)], exps)
    return float(np.max(np.abs(full - kept)) / w.sum())


def run_with_threads(code: str, threads: int) -> str:
    """Run `code` in a fresh interpreter with OMP_NUM_THREADS=threads; return its stdout."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_DYNAMIC="false")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
