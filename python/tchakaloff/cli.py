"""Command line: `tchakaloff demo`, `tchakaloff reproduce <experiment>` and
`tchakaloff compress INPUT.npy ...` (a file compressed chunk by chunk on Dask)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path


def _common_flags() -> argparse.ArgumentParser:
    """Flags every command takes, before or after its name (`tchakaloff demo -v`)."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress"
    )
    return flags


def _add_reproduce(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from .reproduce import EXPERIMENTS

    parser = subparsers.add_parser(
        "reproduce",
        parents=[common],
        help="reproduce a figure of the paper (writes CSV + PNG)",
        description="Reproduce one of the paper's experiments. Each writes <name>.csv and "
        "<name>.png into --out, with the paper's published numbers beside ours.",
    )
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument(
        "--quick", action="store_true", help="a reduced setting that runs in minutes on 2 cores"
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    parser.add_argument("--seed", type=int, default=0)


def _size(text: str) -> float:
    """--size: rows to keep (an integer, 1e5 included) or a fraction in (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of rows or a fraction, got {text!r}"
        ) from None
    return int(value) if value >= 1 and value.is_integer() else value


def _degree(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def _add_compress(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "compress",
        parents=[common],
        help="compress the rows of a .npy file chunk by chunk (needs dask)",
        description="Keep SIZE rows of an (n, m) .npy file, re-weighted so that the moments "
        "of every cell up to degree K are those of all rows (tchakaloff.dask.compress). The "
        "file is read chunk by chunk, so memory is bounded by the chunk size, not the file; "
        "the chunks run on the threads of this machine or on a Dask cluster (--scheduler). "
        "Writes an .npz with indices (sorted rows kept), weights and rows (the kept rows).",
    )
    parser.add_argument("input", type=Path, help="an (n, m) .npy file of real numbers")
    parser.add_argument("--size", type=_size, required=True, help="rows to keep, or a fraction")
    parser.add_argument("--degree", type=_degree, required=True, help="k, or 'auto'")
    parser.add_argument("--weights", type=Path, help="an (n,) .npy file of weights >= 0")
    parser.add_argument(
        "--partition",
        choices=("auto", "kd", "greedy"),
        default="auto",
        help="the last step's partition, as in tchakaloff.compress (default: auto, which "
        "raises the degree while the size allows)",
    )
    parser.add_argument("--chunks", type=int, help="rows per chunk (default: 32 MiB of rows)")
    parser.add_argument(
        "--scheduler",
        default="threads",
        help="'threads' (default), 'processes', 'synchronous', or the address of a Dask "
        "scheduler (tcp://host:8786)",
    )
    parser.add_argument("--split-every", type=int, default=8, help="children per merge")
    parser.add_argument("--seed", type=int, help="seed of the last step's row order")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", type=Path, required=True, help="the .npz file to write")


def _run_compress(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import numpy as np

    try:
        from . import dask as chunked

        chunked._dask()
    except ImportError as error:
        parser.error(str(error))
    import dask

    local = args.scheduler in ("threads", "processes", "synchronous")
    client = None
    try:
        points = chunked.from_npy(args.input, args.chunks)
        weights = None
        if args.weights is not None:
            if not args.weights.is_file():
                raise ValueError(f"{args.weights}: no such file; pass a .npy file of weights")
            weights = np.load(args.weights, mmap_mode="r")
            if weights.dtype.kind not in "biuf":
                raise ValueError(f"{args.weights} holds dtype {weights.dtype}; save real numbers")
        if not local:
            from distributed import Client

            client = Client(args.scheduler)
        with dask.config.set(scheduler=args.scheduler) if local else contextlib.nullcontext():
            result = chunked.compress(
                points,
                weights,
                size=args.size,
                degree=args.degree,
                partition=args.partition,
                rng=args.seed,
                split_every=args.split_every,
                progress=not args.no_progress,
            )
    except ValueError as error:
        parser.error(str(error))
    finally:
        if client is not None:
            client.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, indices=result.indices, weights=result.weights, rows=result.points)
    print(
        f"kept {len(result)} of {points.shape[0]} rows (degree {result.degree}, "
        f"{result.chunks} chunks); wrote {args.out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    common = _common_flags()
    parser = argparse.ArgumentParser(prog="tchakaloff", description=__doc__, parents=[common])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    demo = subparsers.add_parser(
        "demo", help="a quick demonstration on generated data", parents=[common]
    )
    demo.add_argument("--seed", type=int, default=0)
    _add_reproduce(subparsers, common)
    _add_compress(subparsers, common)
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)

    if args.command == "demo":
        from .demo import run_demo

        run_demo(seed=args.seed)
        return 0
    if args.command == "compress":
        return _run_compress(args, subparsers.choices["compress"])
    from .reproduce import EXPERIMENTS
    from .reproduce._common import keep_freed_memory

    keep_freed_memory()
    paths = EXPERIMENTS[args.experiment](out=args.out, quick=args.quick, seed=args.seed)
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
