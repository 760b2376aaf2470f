"""Ctrl-C latency of long calls: each call runs in a child process, SIGINT is sent `delay`
seconds after its data is ready, and the time until the child has exited (KeyboardInterrupt
raised from inside the core's poll, interpreter shut down) is printed. The aim is under
0.5 s anywhere in a call.

This is a benchmark, not a test: it asserts nothing about time.

Usage (from the repository root):
  python bench/interrupt_latency.py                          # every call, delays 0.3,1,3 s
  python bench/interrupt_latency.py --delays 0.2,0.5 reduce_k8 one_cell
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

# name: (data, call); the calls take seconds on 2 cores
CALLS = {
    "greedy_1e6": (
        "rng.normal(size=(1_000_000, 3))",
        "t.compress(x, size=100_000, degree=4, partition='greedy')",
    ),
    "one_cell": (
        "rng.normal(size=(3_000_000, 4))",
        "t.compress(x, size=495, degree=8, partition='kd')",
    ),
    # the default takes greedy here: its k-d pass reduces a few cells of 7.5e5 objects each
    "few_cells": ("rng.normal(size=(3_000_000, 4))", "t.compress(x, size=495, degree=8)"),
    "reduce_k8": ("rng.normal(size=(3_000_000, 4))", "t.reduce(x, degree=8)"),
    "kd_1e7": (
        "rng.normal(size=(10_000_000, 3))",
        "t.compress(x, size=100_000, degree=3, partition='kd')",
    ),
    # the default raises k = 3 to 6 here and takes greedy
    "default_1e7": ("rng.normal(size=(10_000_000, 3))", "t.compress(x, size=100_000, degree=3)"),
}


def latency(data: str, call: str, delay: float) -> tuple[float, str]:
    """Seconds from SIGINT to the child's exit, and what the child printed."""
    code = (
        "import time, numpy as np, tchakaloff as t\n"
        f"rng = np.random.default_rng(0)\nx = {data}\n"
        "print('ready', flush=True)\nstart = time.perf_counter()\n"
        f"try:\n    {call}\n    print('finished after', time.perf_counter() - start)\n"
        "except KeyboardInterrupt:\n    print('interrupted')\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out = child.stdout.read()
    child.wait()
    return time.perf_counter() - sent, out.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("calls", nargs="*", help=f"some of {', '.join(CALLS)} (default: all)")
    parser.add_argument("--delays", default="0.3,1,3", help="seconds, comma-separated")
    args = parser.parse_args(argv)
    unknown = set(args.calls) - set(CALLS)
    if unknown:
        parser.error(f"unknown calls {sorted(unknown)}; choose from {', '.join(CALLS)}")
    for name in args.calls or list(CALLS):
        for delay in map(float, args.delays.split(",")):
            seconds, out = latency(*CALLS[name], delay)
            print(f"{name:11s} SIGINT at {delay:4.1f} s: exited {seconds:.3f} s later ({out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
