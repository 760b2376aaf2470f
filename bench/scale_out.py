"""Beyond one machine's memory: tchakaloff.dask against the in-memory functions, side by side.

Measured (every timed run in a fresh process, so that its peak resident memory is its own):

  reduce_memmap   tchakaloff.dask.reduce of ROWS rows (m = 3, k = 5, standard normal) read
                  chunk by chunk from a .npy file, against tchakaloff.reduce of the same rows
                  loaded into memory: seconds per row, peak RSS, and the moment error against
                  moments summed in extended precision (numpy.longdouble) chunk by chunk;
  side_by_side    rows per second and peak memory of reduce (k = 5) and compress (k = 4, to
                  1e-3 of the rows) on SIDE rows: in memory, out of core (the .npy file on
                  the threaded scheduler) and on a distributed.LocalCluster (2 worker
                  processes, 1 thread each); the cluster's result against the threaded one's;
  overhead        the time per task of each scheduler (many small chunks against few large
                  ones), and the chunk size that hides it (overhead under 1%);
  fig2            the Fig. 2 function's objects (m = 3, k = 4, d = 1.28e5 -> 1.28e4): mean
                  |error| over TRIALS trials, 32 chunks against in memory (kd and greedy);
  fig3            compress_dataset on the Fig. 3 task (1e4 rows (x1, x2, y) -> 1e3, k = 5) in
                  16 chunks against in memory: median relative loss-landscape error over 50
                  random students (PyTorch's default initialisation), per seed;
  cli             `tchakaloff compress` of the ROWS-row file to 1e5 rows (k = 4): peak RSS,
                  seconds, and its moments against the extended-precision sums;
  estimate        1e11 rows on 100 workers, from the per-row and per-task costs measured
                  here: tasks in the graph, merge depth, bytes moved, hours.

This is a benchmark, not a test: it asserts correctness (identical results across
schedulers, exact moments) and reports speed and memory. Data files go to /tmp.

Usage (from the repository root):
  python bench/scale_out.py            # 1e8 rows (a 2.4 GB file): 10-30 minutes on 2 cores
  python bench/scale_out.py --quick    # 2e6 rows, 3 trials, 1 seed: about 2 minutes
  python bench/scale_out.py --only overhead,fig2   # run these sections again, into the JSON
The data files and the extended-precision moments are made once, under
$TCHAKALOFF_SCALE_OUT_DATA (default /tmp/tchakaloff-scale-out).
Writes bench/results/scale_out.json (scale_out_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tchakaloff
from _environment import run_meta

DATA = Path(os.environ.get("TCHAKALOFF_SCALE_OUT_DATA", "/tmp/tchakaloff-scale-out"))
M, K_REDUCE, K_COMPRESS = 3, 5, 4
# compress is measured at degree K_COMPRESS on k-d cells, named (the default partition,
# "auto", raises the degree to 7 here: see tchakaloff.compression.raised_degree)
PARTITION = "kd"
FULL = {"rows": 100_000_000, "side": 20_000_000, "trials": 20, "seeds": 5}
QUICK = {"rows": 2_000_000, "side": 2_000_000, "trials": 3, "seeds": 1}


def peak_mb() -> float:
    """This process's peak resident memory, MB: VmHWM, the high-water mark of its own memory
    (ru_maxrss would also count the parent's before the exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def digest(*arrays: np.ndarray) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()


def data_file(rows: int) -> Path:
    """rows x 3 standard normal rows in a .npy file, written in blocks (made once)."""
    path = DATA / f"normal_{rows}x{M}.npy"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        out = np.lib.format.open_memmap(path.with_suffix(".tmp"), "w+", np.float64, (rows, M))
        for i, start in enumerate(range(0, rows, 5_000_000)):
            stop = min(rows, start + 5_000_000)
            out[start:stop] = np.random.default_rng([16, i]).normal(size=(stop - start, M))
        out.flush()
        del out
        path.with_suffix(".tmp").rename(path)
    return path


def exact_moments(path: Path, degree: int, block: int = 500_000):
    """Raw moments of every row of the file and sum_i |x_i^alpha|, in numpy.longdouble (64-bit
    mantissa on x86-64), block by block."""
    exps = tchakaloff.exponents(M, degree)
    x = np.load(path, mmap_mode="r")
    total = np.zeros(len(exps), dtype=np.longdouble)
    scale = np.zeros(len(exps), dtype=np.longdouble)
    for start in range(0, len(x), block):
        values = monomials(np.asarray(x[start : start + block]), exps)
        total += values.sum(axis=0)
        scale += np.abs(values).sum(axis=0)
    return total, scale


def monomials(x: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """x^alpha for every row of `exps` (graded, so that alpha - e_v comes earlier), in
    numpy.longdouble, one product per monomial; (n, N), built column by column in memory
    order."""
    z = np.asarray(x, dtype=np.longdouble).T.copy()
    index = {tuple(alpha): j for j, alpha in enumerate(exps.tolist())}
    values = np.empty((len(exps), z.shape[1]), dtype=np.longdouble)
    for j, alpha in enumerate(exps.tolist()):
        if not any(alpha):
            values[j] = 1
            continue
        v = next(v for v, a in enumerate(alpha) if a)
        alpha[v] -= 1
        np.multiply(values[index[tuple(alpha)]], z[v], out=values[j])
    return values.T


def moment_errors(exact, rows: np.ndarray, weights: np.ndarray, degree: int) -> dict:
    """The kept rows' moments against the exact ones: largest error relative to each moment's
    sum_i |x_i^alpha|, and relative to the largest moment."""
    total, scale = exact
    n = len(tchakaloff.exponents(M, degree))
    kept = np.asarray(weights, dtype=np.longdouble) @ monomials(
        rows, tchakaloff.exponents(M, degree)
    )
    error = np.abs(kept - total[:n])
    return {
        "relative_to_abs_moments": float(np.max(error / scale[:n])),
        "relative_to_largest_moment": float(np.max(error) / np.max(np.abs(total[:n]))),
    }


# ----------------------------------------------------------------------- child processes


def child(task: str, args: dict) -> dict:
    """One timed run in this (fresh) process."""
    import dask
    import tchakaloff.dask as td

    path, rows, chunks = Path(args["path"]), args["rows"], args.get("chunks")
    where = args["where"]
    size = args.get("size")

    def run():
        if where == "memory":  # one read of the rows, nothing else mapped
            x = td.from_npy(path, chunks=rows)[:rows].compute(scheduler="sync")
            start = time.perf_counter()
            if task == "reduce":
                res = tchakaloff.reduce(x, degree=K_REDUCE)
            else:
                res = tchakaloff.compress(x, size=size, degree=K_COMPRESS, partition=PARTITION)
            return res, time.perf_counter() - start, 1
        x = td.from_npy(path, chunks)[:rows]
        start = time.perf_counter()
        if task == "reduce":
            res = td.reduce(x, degree=K_REDUCE)
        else:
            res = td.compress(x, size=size, degree=K_COMPRESS, partition=PARTITION)
        return res, time.perf_counter() - start, res.chunks

    out = {}
    if where == "cluster":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            warm = td.from_npy(path, 10_000)[:50_000]
            td.reduce(warm, degree=2)  # the workers' imports, outside the timing
            res, seconds, tasks = run()
            workers = client.run(peak_mb)
            out["worker_peak_mb"] = sorted(workers.values())
    else:
        with dask.config.set(scheduler="threads", num_workers=2):
            res, seconds, tasks = run()
    indices = res.indices
    out.update(
        {
            "seconds": seconds,
            "rows_per_second": rows / seconds,
            "ns_per_row": seconds / rows * 1e9,
            "peak_mb": peak_mb(),
            "kept": len(indices),
            "chunks": tasks,
            "digest": digest(indices, res.weights),
            "moment_error_reported": float(res.moment_error),
        }
    )
    if args.get("keep_rows"):
        out["indices"] = indices.tolist()
        out["weights"] = res.weights.tolist()
    return out


def child_cli(args: dict) -> dict:
    """`tchakaloff compress` (its main) in a process of its own: the peak memory is its own."""
    from tchakaloff.cli import main as cli_main

    argv = ["compress", args["path"], "--size", str(args["size"]), "--degree", str(K_COMPRESS)]
    argv += ["--partition", PARTITION]
    start = time.perf_counter()
    cli_main([*argv, "--no-progress", "--out", args["out"]])
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "argv": argv}


def child_exact(args: dict) -> dict:
    """The exact moments, computed away from the parent (whose memory would grow), saved."""
    total, scale = exact_moments(Path(args["path"]), K_REDUCE)
    np.save(args["out"], np.stack([total, scale]))
    return {"peak_mb": peak_mb()}


def spawn(task: str, **args) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", task, json.dumps(args)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{task} {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- sections


def reduce_memmap(setting: dict, exact) -> dict:
    path, rows = data_file(setting["rows"]), setting["rows"]
    chunked = spawn("reduce", path=str(path), rows=rows, where="threads", keep_rows=True)
    memory = spawn("reduce", path=str(path), rows=rows, where="memory", keep_rows=True)
    x = np.load(path, mmap_mode="r")
    out = {"rows": rows, "file_gb": path.stat().st_size / 1e9, "degree": K_REDUCE}
    for name, run in (("out_of_core", chunked), ("in_memory", memory)):
        kept = np.asarray(run.pop("indices"))
        weights = np.asarray(run.pop("weights"))
        run["moment_error"] = moment_errors(exact, np.asarray(x[kept]), weights, K_REDUCE)
        out[name] = run
    out["time_per_row_ratio"] = out["out_of_core"]["ns_per_row"] / out["in_memory"]["ns_per_row"]
    return out


def side_by_side(setting: dict) -> dict:
    path, rows = data_file(setting["side"]), setting["side"]
    out = {"rows": rows}
    for task, size in (("reduce", None), ("compress", rows // 1000)):
        runs = {
            where: spawn(task, path=str(path), rows=rows, where=where, size=size)
            for where in ("memory", "threads", "cluster")
        }
        assert runs["threads"]["digest"] == runs["cluster"]["digest"], task
        runs["cluster_identical_to_threads"] = True
        runs["cluster_throughput_vs_threads"] = (
            runs["cluster"]["rows_per_second"] / runs["threads"]["rows_per_second"]
        )
        out[task] = runs
    return out


def overhead(setting: dict) -> dict:
    """Seconds per task: reduce of the same rows in many small chunks against few large ones."""
    rows = 2_000_000
    path = data_file(setting["side"])
    out = {"rows": rows}
    for where in ("threads", "cluster"):
        small = spawn("reduce", path=str(path), rows=rows, where=where, chunks=5_000)
        large = spawn("reduce", path=str(path), rows=rows, where=where, chunks=500_000)
        tasks = lambda run: run["chunks"] * 8 / 7  # leaves and merges  # noqa: E731
        out[where] = {
            "seconds_5e3_row_chunks": small["seconds"],
            "seconds_5e5_row_chunks": large["seconds"],
            "seconds_per_task": (small["seconds"] - large["seconds"])
            / (tasks(small) - tasks(large)),
        }
    return out


def fig2(setting: dict) -> dict:
    import dask
    import dask.array as da
    import tchakaloff.dask as td

    m, k, d = 3, 4, 128_000
    rng = np.random.default_rng(2)
    errors: dict[str, list[float]] = {}
    with dask.config.set(scheduler="threads", num_workers=2):
        for _ in range(setting["trials"]):
            w = rng.uniform(-1, 1, size=(d, m))
            probe = rng.uniform(-1, 1, size=(10, m))
            values = (1 / (1 + np.exp(-w @ probe.T))).mean(axis=1)
            chunks = da.from_array(w, chunks=(d // 32, m))
            for partition in ("kd", "greedy"):
                runs = {
                    "in_memory": tchakaloff.compress(
                        w, size=d // 10, degree=k, partition=partition
                    ),
                    "chunks_32": td.compress(chunks, size=d // 10, degree=k, partition=partition),
                }
                for name, res in runs.items():
                    error = abs(values.mean() - res.weights @ values[res.indices] / d)
                    errors.setdefault(f"{partition} {name}", []).append(float(error))
    out = {"m": m, "k": k, "d": d, "kept": d // 10, "trials": setting["trials"]}
    for partition in ("kd", "greedy"):
        mine, theirs = errors[f"{partition} chunks_32"], errors[f"{partition} in_memory"]
        out[partition] = {
            "mean_error_in_memory": float(np.mean(theirs)),
            "mean_error_32_chunks": float(np.mean(mine)),
            "ratio": float(np.mean(mine) / np.mean(theirs)),
        }
    return out


def fig3(setting: dict) -> dict:
    import dask
    import dask.array as da
    import tchakaloff.dask as td
    from compare_dataset import random_students
    from tchakaloff.reproduce.training import teacher_task

    out: dict = {"rows": 10_000, "kept": 1_000, "degree": 5, "chunks": 16, "seeds": []}
    with dask.config.set(scheduler="threads", num_workers=2):
        for seed in range(setting["seeds"]):
            task = teacher_task(10_000, 100, np.random.default_rng(seed))
            row = {"seed": seed}
            for partition in ("kd", "greedy"):
                runs = {
                    "in_memory": tchakaloff.compress_dataset(
                        task.x, task.y, size=1000, degree=5, partition=partition
                    ),
                    "chunks_16": td.compress_dataset(
                        da.from_array(task.x, chunks=(625, 2)),
                        task.y,
                        size=1000,
                        degree=5,
                        partition=partition,
                    ),
                }
                for name, res in runs.items():
                    errors = []
                    for w1, b1, w2, b2 in random_students(
                        np.random.default_rng(seed), "default init"
                    ):

                        def loss(x, y, w1=w1, b1=b1, w2=w2, b2=b2):
                            return (np.maximum(x @ w1.T + b1, 0) @ w2 + b2 - y) ** 2

                        full = loss(task.x, task.y).mean()
                        kept = res.weights @ loss(res.X, res.y) / res.weights.sum()
                        errors.append(abs(kept - full) / full)
                    row[f"{partition} {name}"] = float(np.median(errors))
                row[f"{partition} ratio"] = (
                    row[f"{partition} chunks_16"] / row[f"{partition} in_memory"]
                )
            out["seeds"].append(row)
    for partition in ("kd", "greedy"):
        out[f"{partition} mean ratio"] = float(
            np.mean([r[f"{partition} ratio"] for r in out["seeds"]])
        )
        out[f"{partition} ratio of mean medians"] = float(
            np.mean([r[f"{partition} chunks_16"] for r in out["seeds"]])
            / np.mean([r[f"{partition} in_memory"] for r in out["seeds"]])
        )
    return out


def cli(setting: dict, exact) -> dict:
    path = data_file(setting["rows"])
    target = DATA / "kept.npz"
    size = 100_000 if setting["rows"] >= 10_000_000 else setting["rows"] // 100
    run = spawn("cli", path=str(path), size=size, out=str(target))
    kept = np.load(target)
    run["moment_error"] = moment_errors(exact, kept["rows"], kept["weights"], K_COMPRESS)
    run.update({"rows": setting["rows"], "size": size, "kept": len(kept["indices"])})
    x = np.load(path, mmap_mode="r")
    assert np.array_equal(kept["rows"], x[kept["indices"]])
    return run


def estimate(results: dict) -> dict:
    """1e11 rows (m = 3) on 100 single-thread workers, from the measured costs: a leaf and its
    share of merges cost the out-of-core seconds per row per thread; every task adds the
    cluster's measured overhead; compress moves up to `size` rows of 5 float64 per leaf."""
    rows, workers, fan = 1e11, 100, 8
    side = results["side_by_side"]
    over = results["overhead"]["cluster"]["seconds_per_task"]
    out = {"rows": rows, "workers": workers, "split_every": fan}
    # the chunk whose work hides a task's overhead to 1%: per row and worker, the side-by-side
    # run's cost (2 workers); per task, the overhead measured with many small chunks
    for where in ("threads", "cluster"):
        task = results["overhead"][where]["seconds_per_task"]
        for name in ("reduce", "compress"):
            per_row = 2 / side[name][where]["rows_per_second"]
            out[f"{where} {name}: rows per chunk for 1% overhead"] = task / (0.01 * per_row)
    for name, chunk, size in (("reduce", 10_000_000, None), ("compress", 10_000_000, 100_000)):
        leaves = math.ceil(rows / chunk)
        depth = math.ceil(math.log(leaves, fan))
        merges = sum(math.ceil(leaves / fan**level) for level in range(1, depth + 1))
        # the measured rows/s used both cores: per thread, half of it
        per_row = 2 / side[name]["cluster"]["rows_per_second"]
        passes = 1 if size is None else 2
        tasks = leaves * passes + merges + (0 if size is None else 1)
        kept = tchakaloff.n_moments(M, K_REDUCE) if size is None else size
        moved = (leaves + merges) * min(chunk, kept) * (M + 2) * 8
        out[name] = {
            "rows_per_chunk": chunk,
            "chunk_mb": chunk * M * 8 / 1e6,
            "tasks": tasks,
            "merge_depth": depth,
            "bytes_moved_gb": moved / 1e9,
            "data_read_tb": passes * rows * M * 8 / 1e12,
            "hours": (rows * per_row + tasks * over) / workers / 3600,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", help="comma-separated sections to run again, into the existing JSON"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        task, payload = args.child[0], json.loads(args.child[1])
        run = {"cli": child_cli, "exact": child_exact}.get(task)
        print(json.dumps(run(payload) if run else child(task, payload)))
        return 0

    setting = QUICK if args.quick else FULL
    out = (
        Path(__file__).parent
        / "results"
        / ("scale_out_quick.json" if args.quick else "scale_out.json")
    )
    only = None if args.only is None else set(args.only.split(","))
    results: dict = json.loads(out.read_text()) if only and out.exists() else {}
    results["meta" if not only else "meta_" + "_".join(sorted(only))] = run_meta(
        "bench/scale_out.py", argv, ("numpy", "dask", "distributed")
    )
    results["setting"] = setting
    timings = results.get("section_seconds", {})
    start = time.perf_counter()
    saved = DATA / f"exact_{setting['rows']}.npy"
    needs_exact = only is None or only & {"reduce_memmap", "cli"}
    if needs_exact and not saved.exists():  # the data are drawn with a fixed seed: once
        spawn("exact", path=str(data_file(setting["rows"])), out=str(saved))
        timings["exact_moments"] = time.perf_counter() - start
    exact = tuple(np.load(saved)) if needs_exact else None
    for name, section in (
        ("reduce_memmap", lambda: reduce_memmap(setting, exact)),
        ("cli", lambda: cli(setting, exact)),
        ("side_by_side", lambda: side_by_side(setting)),
        ("overhead", lambda: overhead(setting)),
        ("fig2", lambda: fig2(setting)),
        ("fig3", lambda: fig3(setting)),
    ):
        if only is not None and name not in only:
            continue
        start = time.perf_counter()
        results[name] = section()
        timings[name] = time.perf_counter() - start
        print(name, json.dumps(results[name])[:400], flush=True)
    results["estimate"] = estimate(results)
    results["section_seconds"] = timings
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
