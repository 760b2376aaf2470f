"""Bad, odd and edge inputs for every public function: none may crash the process, hang,
or return a result that breaks the contract without saying so.

Each case runs in a worker process, one after the other; the parent restarts the worker when
it dies (a crash) or stays silent for longer than --timeout seconds (a hang). Every outcome
is one of:

    ok           the call returned and its result holds the contract: a subset of the rows
                 (distinct, in range), weights > 0 and finite, the input's total, at most
                 `size` rows where a size was given, moments (or features) matched;
    value_error  a ValueError (or ReductionError) whose message says what to do;
    type_error   a TypeError for an argument of a kind that is not a number or an array;
    bad_message  a ValueError whose message does not say what to do;
    wrong_error  any other exception;
    violation    a returned result that breaks the contract;
    crash, hang  the worker died, or did not answer in time.

    python bench/hostile_inputs.py [--timeout 5] [--only NAME]   -> results/hostile_inputs.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import re
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
from _environment import run_meta

BAD = ("crash", "hang", "violation", "wrong_error", "bad_message")
# A message says what to do when it names an action or the accepted form.
ADVICE = re.compile(
    r"\b(pass|use|lower|raise|remove|drop|repair|scale|give|set|install|must|should|"
    r"choose|accepts?|expected|at least|at most|below|between|one of|rechunk|reshape|"
    r"convert|leave|keep|instead|supported)\b",
    re.IGNORECASE,
)


# --- inputs -------------------------------------------------------------------------------


def point_sets() -> dict[str, object]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    return {
        "normal": x,
        "nan": np.where(np.arange(900).reshape(300, 3) == 17, np.nan, x),
        "inf": np.where(np.arange(900).reshape(300, 3) == 5, np.inf, x),
        "empty": np.zeros((0, 3)),
        "no_columns": np.zeros((300, 0)),
        "one_row": x[:1],
        "1d": x[:, 0],
        "3d": x.reshape(300, 3, 1),
        "scalar": 1.0,
        "strings": np.array([["a", "b", "c"]] * 10),
        "objects": np.array([[object()] * 3] * 10, dtype=object),
        "complex": x + 1j,
        "ragged": [[1.0, 2.0], [3.0]],
        "list": x[:50].tolist(),
        "bool": rng.random((300, 3)) > 0.5,
        "int": rng.integers(-5, 5, (300, 3)),
        "float32": x.astype(np.float32),
        "fortran": np.asfortranarray(x),
        "strided": np.hstack([x, x])[:, ::2],
        "duplicates": np.repeat(x[:7], 43, axis=0)[:300],
        "constant_column": np.c_[x[:, :2], np.full(300, 3.0)],
        "all_equal": np.ones((300, 3)),
        "lattice": rng.integers(0, 2, (300, 3)).astype(float),
        "huge": rng.uniform(1e308, 1.3e308, (300, 3)),
        "tiny": x * 1e-300,
        "subnormal_spread": np.c_[x[:, :2], np.r_[np.zeros(299), 1e-310]],
        "wide_range": x * np.array([1e150, 1.0, 1e-150]),
        "far_outlier": np.r_[x[:299] * 1e-6, [[1e6, 1e6, 1e6]]],
    }


def weight_sets(n: int) -> dict[str, object]:
    rng = np.random.default_rng(1)
    return {
        "none": None,
        "uniform": rng.uniform(0.5, 2, n),
        "zeros_some": np.r_[np.zeros(n // 2), np.ones(n - n // 2)],
        "all_zero": np.zeros(n),
        "negative": np.r_[-1.0, np.ones(n - 1)],
        "nan": np.r_[np.nan, np.ones(n - 1)],
        "inf": np.r_[np.inf, np.ones(n - 1)],
        "short": np.ones(max(n - 1, 0)),
        "2d": np.ones((n, 1)),
        "spread_1e30": np.exp(rng.normal(0, 25, n)),
        "huge": np.full(n, 1e307),
        "tiny": np.full(n, 1e-320),
        "bool": np.ones(n, dtype=bool),
        "list": [1.0] * n,
        "strings": np.array(["1"] * n),
    }


DEGREES = [0, 1, 3, -1, 2.5, "two", None, True, 10**6, 2**63, np.int64(2)]
SIZES = [60, 1, 0, -3, 0.5, 0.0, 1.5, 10**9, 2**63, float("nan"), "half", None, True]
N_JOBS = [None, 1, 0, -1, 2**31, 1.5, "two"]
RNGS = {"None": None, "0": 0, "Generator": "generator", "'abc'": "abc", "-1": -1, "1.5": 1.5}


# --- the contract -------------------------------------------------------------------------


def _reference_moments(x: np.ndarray, w: np.ndarray, degree: int) -> tuple[np.ndarray, ...]:
    import tchakaloff

    z = (x - x.mean(axis=0)) / np.maximum(np.ptp(x, axis=0), 1e-300)
    powers = tchakaloff.exponents(x.shape[1], degree)
    values = np.prod(z[:, None, :] ** powers[None, :, :], axis=2)
    return values.T @ w, np.abs(values).T @ w


def contract(x, w, indices, weights, size=None, degree=None, total=True) -> str | None:
    """What the result breaks, or None."""
    n = len(x)
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    indices, weights = np.asarray(indices), np.asarray(weights, dtype=np.float64)
    if indices.ndim != 1 or len(indices) != len(weights):
        return "indices and weights differ in length"
    if len(np.unique(indices)) != len(indices) or (len(indices) and indices.min() < 0):
        return "indices repeat or are negative"
    if len(indices) and indices.max() >= n:
        return "an index past the input"
    if not (np.all(np.isfinite(weights)) and np.all(weights > 0)):
        return "a weight that is not positive and finite"
    if total and not np.isclose(weights.sum(), w.sum(), rtol=1e-9):
        return f"total {weights.sum()!r} instead of {w.sum()!r}"
    if size is not None and len(indices) > size:
        return f"{len(indices)} rows kept, more than size = {size}"
    if degree is not None and np.all(np.isfinite(x)) and np.abs(x).max() < 1e150:
        full, scale = _reference_moments(x, w, degree)
        kept = np.zeros(n)
        kept[indices] = weights
        mine, _ = _reference_moments(x, kept, degree)
        error = np.max(np.abs(full - mine) / np.maximum(scale, 1e-300))
        if error > 1e-8:
            return f"moments off by {error:.1e} of sum |z^alpha|"
    return None


# --- the calls ----------------------------------------------------------------------------


def _points(name):
    return point_sets()[name]


def _n(points) -> int:
    try:
        return len(points)
    except TypeError:
        return 1


def cases():
    """(name, function) pairs; each function runs the call and returns a violation or None."""
    import tchakaloff

    sets = list(point_sets())
    out = []

    def add(name, run):
        out.append((name, run))

    for m, k in itertools.product([0, 1, 3, -1, 2**62, 1.5], [0, 2, -1, 10**8, 2**62, "x"]):
        add(f"n_moments/m={m}/k={k}", lambda m=m, k=k: (tchakaloff.n_moments(m, k), None)[1])
        add(f"exponents/m={m}/k={k}", lambda m=m, k=k: (tchakaloff.exponents(m, k), None)[1])
    for p, k in itertools.product(sets, [2, -1, 10**6]):
        add(
            f"moments/{p}/k={k}",
            lambda p=p, k=k: (tchakaloff.moments(_points(p), degree=k), None)[1],
        )
    for p in sets:  # points x default settings, every function
        for k in (2, 4):

            def run_reduce(p=p, k=k):
                x = _points(p)
                r = tchakaloff.reduce(x, degree=k)
                return contract(np.asarray(x, dtype=float), None, r.indices, r.weights, degree=k)

            add(f"reduce/{p}/k={k}", run_reduce)
        for partition in ("kd", "greedy"):

            def run_compress(p=p, partition=partition):
                x = _points(p)
                r = tchakaloff.compress(x, size=60, degree=2, partition=partition)
                return contract(np.asarray(x, dtype=float), None, r.indices, r.weights, 60)

            add(f"compress/{partition}/{p}", run_compress)

        def run_dataset(p=p):
            x = _points(p)
            y = np.sin(np.arange(_n(x)))
            r = tchakaloff.compress_dataset(x, y, size=60)
            return contract(np.asarray(x, dtype=float), None, r.indices, r.weights, 60)

        add(f"compress_dataset/{p}", run_dataset)

        def run_summarize(p=p):
            x = _points(p)
            r = tchakaloff.summarize(x, size=40)
            return contract(np.asarray(x, dtype=float), None, r.indices, r.weights, 40)

        add(f"summarize/{p}", run_summarize)

        def run_layer(p=p):
            w_in = _points(p)
            width = _n(w_in)
            r = tchakaloff.compress_layer(
                w_in, np.zeros(width), np.ones((1, width)), size=40, degree=1
            )
            return contract(np.ones((width, 1)), None, r.indices, r.weights, 40)

        add(f"compress_layer/{p}", run_layer)

        def run_features(p=p):
            x = _points(p)
            r = tchakaloff.reduce(np.ones((_n(x), 1)), features=x)
            return contract(np.ones((_n(x), 1)), None, r.indices, r.weights)

        add(f"reduce_features/{p}", run_features)
    x = point_sets()["normal"]
    for wname in weight_sets(len(x)):

        def run_weights(wname=wname, call="reduce"):
            w = weight_sets(len(x))[wname]
            if call == "reduce":
                r = tchakaloff.reduce(x, w, degree=3)
                return contract(x, w, r.indices, r.weights, degree=3)
            if call == "compress":
                r = tchakaloff.compress(x, w, size=60, degree=2)
                return contract(x, w, r.indices, r.weights, 60)
            if call == "dataset":
                r = tchakaloff.compress_dataset(x, x[:, 0], size=60, sample_weight=w)
                return contract(x, w, r.indices, r.weights, 60)
            r = tchakaloff.summarize(x, w, size=40)
            return contract(x, w, r.indices, r.weights, 40)

        for call in ("reduce", "compress", "dataset", "summarize"):
            add(f"{call}/weights={wname}", lambda wname=wname, call=call: run_weights(wname, call))
    for degree, size in itertools.product(DEGREES, SIZES):

        def run_settings(degree=degree, size=size):
            r = tchakaloff.compress(x, size=size, degree=degree)
            limit = size if isinstance(size, int) and not isinstance(size, bool) else None
            return contract(x, None, r.indices, r.weights, limit)

        add(f"compress/degree={degree!r}/size={size!r}", run_settings)

        def run_dataset_settings(degree=degree, size=size):
            r = tchakaloff.compress_dataset(x, x[:, 0], size=size, degree=degree)
            return contract(x, None, r.indices, r.weights)

        add(f"compress_dataset/degree={degree!r}/size={size!r}", run_dataset_settings)
    for degree in DEGREES:

        def run_reduce_degree(degree=degree):
            r = tchakaloff.reduce(x, degree=degree)
            return contract(x, None, r.indices, r.weights)

        add(f"reduce/degree={degree!r}", run_reduce_degree)
    for n_jobs, (label, rng) in itertools.product(N_JOBS, RNGS.items()):

        def run_jobs(n_jobs=n_jobs, rng=rng):
            rng = np.random.default_rng(2) if rng == "generator" else rng
            r = tchakaloff.compress(x, size=60, degree=2, n_jobs=n_jobs, rng=rng)
            return contract(x, None, r.indices, r.weights, 60, degree=None)

        add(f"compress/n_jobs={n_jobs!r}/rng={label}", run_jobs)

        def run_reduce_jobs(n_jobs=n_jobs):
            r = tchakaloff.reduce(x, degree=2, n_jobs=n_jobs)
            return contract(x, None, r.indices, r.weights, degree=2)

        add(f"reduce/n_jobs={n_jobs!r}/rng={label}", run_reduce_jobs)
    for metric in (
        [1, 0, 0],
        [0, 0, 0],
        [-1, 1, 1],
        [np.nan, 1, 1],
        [1e300, 1e-300, 1],
        [1, 1],
        "x",
    ):
        for partition in ("kd", "greedy", "random"):

            def run_metric(metric=metric, partition=partition):
                r = tchakaloff.compress(x, size=60, degree=2, partition=partition, metric=metric)
                return contract(x, None, r.indices, r.weights, 60)

            add(f"compress/metric={metric!r}/{partition}", run_metric)
    for shrink in (None, 2, 1.0001, 0.5, "x", np.nan):

        def run_shrink(shrink=shrink):
            r = tchakaloff.compress_layer(
                x, np.zeros(300), np.ones((2, 300)), size=40, degree=1, shrink=shrink
            )
            return contract(np.ones((300, 1)), None, r.indices, r.weights, 40)

        add(f"compress_layer/shrink={shrink!r}", run_shrink)
    for size in (20, 0, 301, 0.1, "x"):

        def run_contributions(size=size):
            units = np.random.default_rng(3).normal(size=(300, 50))
            r = tchakaloff.compress_contributions(units, size=size)
            # a least-squares fit of the contributions: its total is a target, not a constraint
            limit = size if isinstance(size, int) else None
            return contract(np.ones((300, 1)), None, r.indices, r.weights, limit, total=False)

        add(f"compress_contributions/size={size!r}", run_contributions)
    out += torch_cases()
    return out


def torch_cases():
    """compress_mlp on models and calibrations it must refuse or handle; weighted_loss."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return []
    import tchakaloff.torch as tt

    def mlp(*layers):
        torch.manual_seed(0)
        return nn.Sequential(*layers)

    models = {
        "mlp": lambda: mlp(
            nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 2)
        ),
        "conv_inside": lambda: mlp(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Linear(4, 2)),
        "no_hidden": lambda: mlp(nn.Linear(4, 2)),
        "batchnorm": lambda: mlp(nn.Linear(4, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 2)),
        "not_a_module": lambda: "model",
    }
    calibrations = {
        "ok": lambda: torch.randn(200, 4),
        "wrong_width": lambda: torch.randn(200, 5),
        "nan": lambda: torch.full((200, 4), float("nan")),
        "empty": lambda: torch.zeros(0, 4),
        "numpy": lambda: np.random.default_rng(0).normal(size=(200, 4)),
    }
    out = []
    for (model, make), (cal, data), size in itertools.product(
        models.items(), calibrations.items(), [16, 0.25, 0, 65, [16, 8], [16], "x"]
    ):

        def run(make=make, data=data, size=size):
            compressed = tt.compress_mlp(make(), size=size, calibration=data())
            folded = compressed.fold()
            widths = [layer.out_features for layer in folded if isinstance(layer, nn.Linear)]
            limit = size if isinstance(size, int) else None
            if limit is not None and max(widths[:-1]) > limit:
                return f"hidden widths {widths[:-1]} above size {limit}"
            return None

        out.append((f"compress_mlp/{model}/{cal}/size={size!r}", run))
    for dtype, weights in itertools.product(
        ["float16", "float32", "float64"],
        [
            [1.0, 1.0, 1.0],
            [1e6, 1e6, 1e6],
            [1e300] * 3,
            [1e-300] * 3,
            [-1.0, 1, 1],
            [np.nan, 1, 1],
            [0.0] * 3,
        ],
    ):

        def run_loss(dtype=dtype, weights=weights):
            losses = torch.tensor([0.5, 1.0, 2.0], dtype=getattr(torch, dtype))
            value = tt.weighted_loss(losses, weights)
            w = np.asarray(weights, dtype=float)
            if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
                return f"weights {weights} accepted"
            expected = np.average([0.5, 1.0, 2.0], weights=w)
            if not np.isclose(float(value), expected, rtol=1e-2):
                return f"weighted_loss {float(value)!r} instead of {expected!r}"
            return None

        out.append((f"weighted_loss/{dtype}/{weights[0]!r}", run_loss))
    return out


# --- the runner ---------------------------------------------------------------------------


def classify(run) -> tuple[str, str]:
    import tchakaloff

    try:
        broken = run()
    except (ValueError, tchakaloff.ReductionError) as error:
        message = str(error)
        return ("value_error" if ADVICE.search(message) else "bad_message"), message
    except TypeError as error:
        return "type_error", str(error)
    except ImportError as error:  # an optional dependency missing: not this sweep's concern
        return "value_error", f"ImportError: {error}"
    except Exception as error:  # every other kind is the finding
        return "wrong_error", f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
    return ("violation", broken) if broken else ("ok", "")


def _worker(start: int, names: list[str], channel) -> None:
    table = dict(cases())  # imports the package (and torch) before any case is timed
    channel.send(("ready",))
    for i in range(start, len(names)):
        channel.send(("start", i))
        outcome, detail = classify(table[names[i]])
        channel.send(("done", i, outcome, detail[:500]))


def sweep(names: list[str], timeout: float) -> list[dict]:
    results: list[dict] = []
    context = mp.get_context("spawn")
    position = 0
    while position < len(names):
        parent, child = context.Pipe()
        worker = context.Process(target=_worker, args=(position, names, child), daemon=True)
        worker.start()
        started = time.perf_counter()
        if not (parent.poll(300) and parent.recv() == ("ready",)):
            raise RuntimeError("the worker did not start; run one case with --only to see why")
        while position < len(names):
            if parent.poll(timeout):
                message = parent.recv()
                if message[0] == "start":
                    started = time.perf_counter()
                    continue
                _, i, outcome, detail = message
                seconds = time.perf_counter() - started
                results.append(dict(case=names[i], outcome=outcome, seconds=seconds, detail=detail))
                position = i + 1
                continue
            alive = worker.is_alive()
            outcome = "hang" if alive else "crash"
            detail = "" if alive else f"exit code {worker.exitcode}"
            results.append(
                dict(case=names[position], outcome=outcome, seconds=timeout, detail=detail)
            )
            position += 1
            break
        worker.kill()
        worker.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a hang")
    parser.add_argument("--only", default="", help="cases whose name contains this")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "hostile_inputs.json")
    )
    args = parser.parse_args()
    names = [name for name, _ in cases() if args.only in name]
    results = sweep(names, args.timeout)
    counts = Counter(r["outcome"] for r in results)
    print(f"{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for r in results:
        if r["outcome"] in BAD:
            first = r["detail"].splitlines()[0] if r["detail"] else ""
            print(f"  {r['outcome']:11s} {r['case']}: {first}")
    slowest = max(results, key=lambda r: r["seconds"])
    print(f"slowest: {slowest['case']} {slowest['seconds']:.2f} s")
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            dict(
                meta=run_meta("bench/hostile_inputs.py", None, ("numpy", "tchakaloff")),
                timeout=args.timeout,
                counts=counts,
                bad=sum(counts[b] for b in BAD),
                cases=results,
            ),
            indent=1,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
