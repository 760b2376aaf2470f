"""Side-by-side benchmark of measure reduction: tchakaloff.reduce against four baselines.

Every method gets the same n points in R^m (N(0, 1), seeded, unit weights) and must return at
most N = C(m + k, k) of them, re-weighted, with the same moments up to total degree k:

  ours          tchakaloff.reduce on the raw points (recursive Caratheodory in C++);
  pyrecombine   pyrecombine.recombine (PyPI) on the points scaled into [-1, 1]^m;
  nnls          scipy.optimize.nnls on the (N, n) feature matrix A, b = A @ w;
  linprog       scipy.optimize.linprog(method="highs"), feasibility LP A x = b, x >= 0;
  caratheodory  textbook numpy loop, one SVD null vector per removed point.

The three feature-matrix baselines are timed on the solve only (A is built once per case, its
build time is recorded separately); ours and pyrecombine are timed end to end from the points.
Moment errors are recomputed here for every method in one frame: product Chebyshev features
of total degree <= k of the points mapped onto [-1, 1]^m by their bounding box.

This is a benchmark, not a test: it asserts correctness of ours only, never speed.

Usage (from the repository root):
  python bench/compare_reduce.py --quick         # n = 1e4 cases + (2, 6) n = 1e6, ~1 minute
  python bench/compare_reduce.py                 # all cases, several minutes
  python bench/compare_reduce.py --methods ours,pyrecombine --case 3 8 1e6 --budget 120
  python bench/compare_reduce.py --out /tmp/r.json

The machine is shared: with other processes on the cores, OpenMP/MKL/OpenBLAS thread teams
wait on descheduled threads and small calls get 10-300x slower. For steadier numbers pin every
library to one thread (recorded in the JSON's meta.env):
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/compare_reduce.py \
      --out bench/results/compare_reduce_1thread.json
(Leave KMP_BLOCKTIME alone: 0 made pyrecombine's MKL ~30x slower on small calls here.)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import tchakaloff
from _environment import run_meta
from scipy.optimize import linprog, nnls

try:
    import pyrecombine

    PYRECOMBINE_ERROR: str | None = None
except Exception as error:  # any import failure means "not available here"
    pyrecombine = None
    PYRECOMBINE_ERROR = f"{type(error).__name__}: {error}"

MB = 1024.0 * 1024.0
METHODS = ("ours", "pyrecombine", "nnls", "linprog", "caratheodory")
# (m, k, n): the grid n in {1e4, 1e5, 1e6} x (m, k), plus the extra sizes of the published table.
FULL_CASES = sorted(
    [(m, k, n) for m, k in ((2, 6), (4, 5), (3, 8)) for n in (10_000, 100_000, 1_000_000)]
    + [(4, 5, 50_000), (3, 8, 20_000)],
    key=lambda c: ((2, 6), (4, 5), (3, 8)).index(c[:2]) * 10**9 + c[2],
)
QUICK_CASES = [(2, 6, 10_000), (2, 6, 1_000_000), (4, 5, 10_000), (3, 8, 10_000)]
# Growth of time with n assumed for extrapolation until two timings >= FIT_MIN_S exist.
# NNLS (active set, about N passes over A) and HiGHS were measured superlinear here; be cautious.
DEFAULT_EXPONENT = {
    "ours": 1.0,
    "pyrecombine": 1.0,
    "nnls": 1.5,
    "linprog": 1.5,
    "caratheodory": 1.0,
}
FIT_MIN_S = 0.02


# ---------------------------------------------------------------- features and error frame


def to_unit_box(x: np.ndarray) -> np.ndarray:
    """Affine map of the bounding box onto [-1, 1]^m (degenerate axes map to 0)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    half = np.where(hi > lo, (hi - lo) / 2.0, 1.0)
    return (x - (lo + hi) / 2.0) / half


def chebyshev_features(x: np.ndarray, k: int) -> np.ndarray:
    """(N, n) matrix of prod_v T_{a_v}(y_v), y = to_unit_box(x), a over tchakaloff.exponents.

    Row-major with one row per moment, so a column is one point and A @ w are the moments.
    """
    y = to_unit_box(x)
    n, m = y.shape
    # Per-axis Chebyshev tables by the three-term recurrence: stable on [-1, 1], unlike powers.
    cheb = np.empty((m, k + 1, n))
    cheb[:, 0] = 1.0
    if k >= 1:
        cheb[:, 1] = y.T
    for d in range(2, k + 1):
        cheb[:, d] = 2.0 * y.T * cheb[:, d - 1] - cheb[:, d - 2]
    alphas = tchakaloff.exponents(m, k)
    a = np.empty((len(alphas), n))
    for row, alpha in zip(a, alphas):
        row[:] = cheb[0, alpha[0]]
        for v in range(1, m):
            if alpha[v]:
                row *= cheb[v, alpha[v]]
    return a


# ---------------------------------------------------------------- per-call peak memory


_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
if _LIBC is not None:
    # A fixed mmap threshold makes glibc hand every large block back to the OS when freed;
    # with its default adaptive threshold, blocks up to 32 MB freed by one call stay resident
    # and the next call's peak would be under-counted.
    _LIBC.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak resident memory of the enclosed block, in MB above the resident size before it.

    Linux only: writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS.
    """

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if _LIBC is not None:
            _LIBC.malloc_trim(0)
        self.base = _status_kb("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            self.base = None
        self.mb: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        hwm = _status_kb("VmHWM")
        if self.base is not None and hwm is not None:
            self.mb = max(hwm - self.base, 0) / 1024.0


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with every loaded OpenBLAS (numpy and scipy bundle one each) on 1 thread.

    For the textbook loop's tiny N x (N + 1) SVDs threads are pure overhead, and on a loaded
    2-core machine OpenBLAS' waiting threads made each SVD ~200x slower (0.7 s instead of 3 ms).
    """
    pairs = []
    for path in sorted(
        set(re.findall(r"/\S*openblas\S*\.so\S*", Path("/proc/self/maps").read_text()))
    ):
        lib = ctypes.CDLL(path)  # already loaded: this only returns its handle
        for suffix in ("64_", "", "_64_", "_"):
            setter = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                pairs.append((setter, getter()))
                setter(1)
                break
    try:
        yield
    finally:
        for setter, before in pairs:
            setter(before)


# ---------------------------------------------------------------- the methods


@dataclass
class Problem:
    x: np.ndarray  # (n, m) points
    w: np.ndarray  # (n,) input weights
    k: int
    a: np.ndarray  # (N, n) Chebyshev features (also the frame of every moment error)
    b: np.ndarray  # (N,) = a @ w


Solver = Callable[[Problem], tuple[np.ndarray, np.ndarray]]


def run_ours(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    r = tchakaloff.reduce(p.x, p.w, degree=p.k)
    return r.indices, r.weights


def run_pyrecombine(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    # recombine(ensemble, selector, weights, degree) builds its own degree-k features of the
    # rows of `ensemble`; scaling first is what a careful user would do (and costs O(n m)).
    idx, w = pyrecombine.recombine(to_unit_box(p.x), weights=p.w, degree=p.k)
    return np.asarray(idx, dtype=np.int64), np.asarray(w, dtype=np.float64)


def run_nnls(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    w, _ = nnls(p.a, p.b)
    keep = np.flatnonzero(w > 0)
    return keep, w[keep]


def run_linprog(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    n = p.a.shape[1]
    # Zero objective: any feasible point will do; HiGHS' simplex ends on a vertex, which has at
    # most N non-zeros (one per equality row).
    res = linprog(np.zeros(n), A_eq=p.a, b_eq=p.b, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog status {res.status}: {res.message}")
    keep = np.flatnonzero(res.x > 0)
    return keep, res.x[keep]


def run_caratheodory(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Textbook Caratheodory: N + 1 live points at a time, one SVD null vector per removal.

    A null vector of the whole N x |S| matrix would need an |S| x |S| basis; any N + 1 columns
    already have one, which gives the classical O(n N^3) loop (n - N eliminations of O(N^3)).
    """
    with one_blas_thread():
        return _caratheodory(p.a, p.w)


def _caratheodory(a: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = w.astype(np.float64).copy()
    n_feat = a.shape[0]
    pending = np.flatnonzero(c > 0)
    window, pending = pending[: n_feat + 1], pending[n_feat + 1 :]
    while len(window) > n_feat:
        v = np.linalg.svd(a[:, window])[2][-1]  # right singular vector of the zero singular value
        # The constant feature makes sum(v) = 0, so v has entries of both signs.
        pos = v > 0
        ratios = c[window[pos]] / v[pos]
        j = np.argmin(ratios)
        c[window] -= ratios[j] * v
        c[window[pos][j]] = 0.0  # exactly, not up to rounding
        alive = c[window] > 0
        c[window[~alive]] = 0.0  # ties and rounding: a point at (or below) zero leaves
        take = n_feat + 1 - int(alive.sum())
        window, pending = np.concatenate([window[alive], pending[:take]]), pending[take:]
    keep = np.sort(window)
    return keep, c[keep]


SOLVERS: dict[str, Solver] = {
    "ours": run_ours,
    "pyrecombine": run_pyrecombine,
    "nnls": run_nnls,
    "linprog": run_linprog,
    "caratheodory": run_caratheodory,
}


# ---------------------------------------------------------------- measuring


def timed(solver: Solver, p: Problem) -> tuple[float, int, float | None, np.ndarray, np.ndarray]:
    """Best wall time over a few runs (fewer for slow calls), peak memory of the first run."""
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        idx, w = solver(p)
        best = time.perf_counter() - t0
    # Fast calls are noisy on a shared machine: take the best of several; slow ones once.
    repeats = 5 if best < 1.0 else 3 if best < 5.0 else 1
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        solver(p)
        best = min(best, time.perf_counter() - t0)
    return best, repeats, mem.mb, idx, w


def moment_error(
    a: np.ndarray, b: np.ndarray, idx: np.ndarray, w: np.ndarray, total: float
) -> float:
    return float(np.max(np.abs(a[:, idx] @ w - b)) / total)


def predict(history: list[tuple[int, float]], n: int, method: str) -> float | None:
    """Time at n extrapolated from the runs at smaller n, as t ~ n^p."""
    if not history:
        return None
    n1, t1 = history[-1]
    p = DEFAULT_EXPONENT[method]
    if len(history) > 1:
        n0, t0 = history[-2]
        # Fit the exponent only on timings long enough to mean something; never below linear.
        if n0 < n1 and min(t0, t1) >= FIT_MIN_S:
            p = min(max(math.log(t1 / t0) / math.log(n1 / n0), 1.0), 2.5)
    return t1 * (n / n1) ** p


def fmt_n(n: int) -> str:
    e = math.floor(math.log10(n))
    mant = n / 10**e
    return f"{mant:g}e{e}" if mant == int(mant) else str(n)


def fmt_t(t: float | None) -> str:
    return "" if t is None else f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


# ---------------------------------------------------------------- driver


@dataclass
class Bench:
    methods: list[str]
    budget: float
    probe_n: int
    seed: int
    history: dict[tuple[str, int, int], list[tuple[int, float]]] = field(default_factory=dict)

    def run_case(self, m: int, k: int, n: int) -> dict[str, Any]:
        n_mom = tchakaloff.n_moments(m, k)
        # One generator per case, seeded by the case, so a case's data do not depend on which
        # other cases were selected.
        x = np.random.default_rng([self.seed, m, k, n]).standard_normal((n, m))
        w = np.ones(n)
        t0 = time.perf_counter()
        a = chebyshev_features(x, k)
        feature_time = time.perf_counter() - t0
        b = a @ w
        case: dict[str, Any] = {
            "m": m,
            "k": k,
            "n": n,
            "N": n_mom,
            "input_mb": x.nbytes / MB,
            "features_mb": a.nbytes / MB,
            "feature_time_s": feature_time,
            "loadavg_1min": os.getloadavg()[0],
            "results": {},
        }
        label = f"m={m} k={k} n={fmt_n(n)} N={n_mom}"
        print(
            f"-- {label}: input {x.nbytes / MB:.1f} MB, features {a.nbytes / MB:.1f} MB "
            f"built in {fmt_t(feature_time)}",
            flush=True,
        )
        for method in self.methods:
            res = self.run_method(method, Problem(x, w, k, a, b), n_mom)
            case["results"][method] = res
            print(row(label, method, res), flush=True)
            # Let the last library's idle worker threads go to sleep (Intel's OpenMP, under
            # pyrecombine, spins 200 ms by default) before the next one is timed.
            time.sleep(0.3)
        ours = case["results"].get("ours", {})
        if ours.get("status") == "ok":
            ours["speedup"] = {
                name: r["time_s"] / ours["time_s"]
                for name, r in case["results"].items()
                if name != "ours" and r.get("status") == "ok"
            }
            if ours["speedup"]:
                print(
                    "   speed-up of ours: "
                    + ", ".join(
                        f"{name} x{s:,.0f}" if s >= 10 else f"{name} x{s:.2f}"
                        for name, s in ours["speedup"].items()
                    ),
                    flush=True,
                )
        return case

    def run_method(self, method: str, p: Problem, n_mom: int) -> dict[str, Any]:
        if method == "pyrecombine" and pyrecombine is None:
            return {"status": "unavailable", "reason": PYRECOMBINE_ERROR}
        n, m = p.x.shape
        hist = self.history.setdefault((method, m, p.k), [])
        out: dict[str, Any] = {}
        if not hist and n > self.probe_n:
            # Nothing smaller measured yet: time a prefix of the data to predict this size.
            probe = prefix(p, self.probe_n)
            t0 = time.perf_counter()
            try:
                SOLVERS[method](probe)
            except Exception as error:  # a failing baseline is a result, not a crash
                return {"status": "error", "reason": f"probe: {type(error).__name__}: {error}"}
            hist.append((self.probe_n, time.perf_counter() - t0))
            out["probe"] = {"n": self.probe_n, "time_s": hist[-1][1]}
        guess = predict(hist, n, method)
        out["predicted_s"] = guess
        if guess is not None and guess > self.budget:
            out.update(
                status="skipped",
                reason=f"predicted {guess:.0f} s from smaller n > budget {self.budget:g} s",
            )
            return out
        try:
            t, repeats, peak, idx, w = timed(SOLVERS[method], p)
        except Exception as error:  # likewise
            out.update(status="error", reason=f"{type(error).__name__}: {error}")
            return out
        hist.append((n, t))
        total = float(p.w.sum())
        err = moment_error(p.a, p.b, idx, w, total)
        out.update(
            status="ok",
            time_s=t,
            repeats=repeats,
            kept=len(np.unique(idx)),
            moment_error=err,
            peak_mb=peak,
            min_weight=float(w.min()) if len(w) else None,
            total_weight_rel_error=abs(float(w.sum()) - total) / total,
        )
        if method == "ours":
            # Correctness only: the reduction's contract, checked in our own frame.
            assert len(idx) <= n_mom and np.all(np.diff(idx) > 0), "ours: bad indices"
            assert np.all(w > 0), "ours: non-positive weight"
            assert err < 1e-8, f"ours: moment error {err:.2e}"
        return out


def prefix(p: Problem, size: int) -> Problem:
    """The first `size` points as a problem of their own (features re-sliced, not rebuilt:
    the frame differs slightly from the prefix's own box, which is harmless for timing)."""
    a = np.ascontiguousarray(p.a[:, :size])
    w = p.w[:size]
    return Problem(p.x[:size], w, p.k, a, a @ w)


HEADER = (
    f"{'case':<26} {'method':<13} {'time':>10} {'reps':>4} {'kept':>5} "
    f"{'moment err':>10} {'peak MB':>8}  note"
)


def row(label: str, method: str, r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return (
            f"{label:<26} {method:<13} {r['status']:>10} {'':>4} {'':>5} {'':>10} {'':>8}  "
            f"{r['reason']}"
        )
    peak = "" if r["peak_mb"] is None else f"{r['peak_mb']:.1f}"
    return (
        f"{label:<26} {method:<13} {fmt_t(r['time_s']):>10} {r['repeats']:>4} "
        f"{r['kept']:>5} {r['moment_error']:>10.1e} {peak:>8}"
    )


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="only n = 1e4 and the (2, 6) n = 1e6 case, 10 s budget"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON output (default bench/results/compare_reduce.json, "
        "or compare_reduce_quick.json with --quick)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated subset of {','.join(METHODS)}",
    )
    parser.add_argument(
        "--case",
        nargs=3,
        action="append",
        metavar=("M", "K", "N"),
        help="run this case instead of the preset list (repeatable; N may be 1e5)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="skip a method on a case when its predicted time exceeds this many "
        "seconds (default 60, 10 with --quick)",
    )
    parser.add_argument(
        "--probe-n",
        type=int,
        default=2000,
        help="size of the timing probe run before a method's first case",
    )
    parser.add_argument("--seed", type=int, default=20240607)
    args = parser.parse_args(argv)

    methods = [s.strip() for s in args.methods.split(",") if s.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    if args.case:
        cases = [(int(m), int(k), int(float(n))) for m, k, n in args.case]
    else:
        cases = QUICK_CASES if args.quick else FULL_CASES
    budget = args.budget if args.budget is not None else 10.0 if args.quick else 60.0
    out = args.out or here / "results" / (
        "compare_reduce_quick.json" if args.quick else "compare_reduce.json"
    )

    meta = {
        **run_meta(
            "compare_reduce.py",
            argv,
            ("tchakaloff", "numpy", "scipy", "pyrecombine", "intel-openmp"),
        ),
        "pyrecombine_import_error": PYRECOMBINE_ERROR,
        "env": {
            v: os.environ.get(v)
            for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "KMP_BLOCKTIME")
        },
        "data": "points ~ N(0, 1) from numpy default_rng([seed, m, k, n]), unit weights",
        "seed": args.seed,
        "basis": "product Chebyshev T_a(y) = prod_v T_{a_v}(y_v) of total degree <= k, "
        "a in tchakaloff.exponents(m, k) order, y = points mapped onto [-1, 1]^m by "
        "their bounding box",
        "moment_error": "max |A[:, kept] @ w_kept - A @ w| / sum(w) in that basis, recomputed "
        "in numpy for every method",
        "timing": "wall time, best of 5 (< 1 s), 3 (< 5 s) or 1 run; nnls, linprog and "
        "caratheodory are timed given the feature matrix (its build time is "
        "feature_time_s), ours and pyrecombine from the raw points",
        "peak_mb": "peak RSS of the first run above the RSS before it (VmHWM after resetting "
        "it via /proc/self/clear_refs)",
        "budget_s": budget,
        "probe_n": args.probe_n,
        "methods": methods,
        "caratheodory": "N + 1 live columns, null vector from a full SVD per removed point, "
        "OpenBLAS limited to 1 thread for it",
        "pyrecombine_call": "pyrecombine.recombine(points mapped onto [-1, 1]^m, weights=w, "
        "degree=k)",
    }
    print(
        f"tchakaloff {tchakaloff.__version__}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, pyrecombine {meta['versions']['pyrecombine'] or 'missing'}"
        f"{'' if PYRECOMBINE_ERROR is None else f' ({PYRECOMBINE_ERROR})'}; "
        f"{os.cpu_count()} cores; budget {budget:g} s per call"
    )
    print(HEADER, flush=True)

    bench = Bench(methods, budget, args.probe_n, args.seed)
    results = []
    for m, k, n in cases:
        results.append(bench.run_case(m, k, n))
        gc.collect()
        # Rewritten after every case, so an interrupted run still leaves its numbers.
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"meta": meta, "cases": results}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
