"""Default threads (n_jobs=None) against one thread (n_jobs=1), side by side, on an idle machine
and with two busy processes (one per core) competing for the cores.

The default must not be slower than one thread by more than 10 % when the cores are busy
(it should then run on one thread), and should use the idle cores otherwise. Both settings
run alternately in one process, so drift of the machine's load hits both alike; the ratio
of their medians is what counts, never the seconds.

This is a benchmark, not a test: it asserts nothing about speed.

Usage (from the repository root):
  python bench/compare_threads.py                 # busy and idle, ~2 minutes on 2 cores
  python bench/compare_threads.py --only busy --repeat 7 --out /tmp/threads.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import tchakaloff
from tchakaloff._native import core


def _spin() -> None:
    while True:
        pass


def cases(scale: float) -> dict[str, Callable[[int | None], object]]:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(int(1e6 * scale), 2))
    objects = rng.normal(size=(int(1e6 * scale), 3))
    small = rng.normal(size=(int(2e5 * scale), 2))
    return {
        "reduce 1e6 x 2, k=6": lambda jobs: tchakaloff.reduce(points, degree=6, n_jobs=jobs),
        "compress kd 1e6 x 3, k=3": lambda jobs: tchakaloff.compress(
            objects, size=10_000, degree=3, n_jobs=jobs
        ),
        "compress greedy 2e5 x 2, k=3": lambda jobs: tchakaloff.compress(
            small, size=5_000, degree=3, partition="greedy", n_jobs=jobs
        ),
    }


def side_by_side(call: Callable[[int | None], object], repeat: int, cores: int) -> dict[str, float]:
    """Median seconds of n_jobs=1, of the default and of every core (the default before the
    default looked at the load), run alternately."""
    call(None)  # warm up (thread pool, page faults)
    times: dict[str, list[float]] = {"one": [], "default": [], "all": []}
    for _ in range(repeat):
        for name, jobs in (("one", 1), ("default", None), ("all", cores)):
            start = time.perf_counter()
            call(jobs)
            times[name].append(time.perf_counter() - start)
    row = {name: statistics.median(values) for name, values in times.items()}
    row["default_over_one"] = row["default"] / row["one"]
    row["all_over_one"] = row["all"] / row["one"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["busy", "idle"], default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every n")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    results: dict[str, dict] = {"meta": {"cores": cores, "load_before": os.getloadavg()}}
    for mode in ("busy", "idle"):
        if args.only not in (None, mode):
            continue
        spinners = []
        if mode == "busy":
            spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(cores)]
            for spinner in spinners:
                spinner.start()
            time.sleep(0.5)
        try:
            work = cases(args.scale)
            if mode == "idle":
                big = np.random.default_rng(1).normal(size=(int(1e7 * args.scale), 3))
                work["compress kd 1e7 x 3, k=3"] = lambda jobs, big=big: tchakaloff.compress(
                    big, size=100_000, degree=3, n_jobs=jobs
                )
            results[mode] = {"idle_cores_at_start": core.idle_cores()}
            for name, call in work.items():
                row = side_by_side(call, args.repeat, cores)
                results[mode][name] = row
                print(
                    f"{mode:4s}  {name:32s} one {row['one'] * 1e3:8.1f} ms  default "
                    f"{row['default'] * 1e3:8.1f} ms  default / one {row['default_over_one']:.2f}"
                    f"  all cores / one {row['all_over_one']:.2f}",
                    flush=True,
                )
        finally:
            for spinner in spinners:
                spinner.terminate()
                spinner.join()
    if args.out:
        with open(args.out, "w") as stream:
            json.dump(results, stream, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
