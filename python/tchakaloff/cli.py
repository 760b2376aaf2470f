"""Command line: `tchakaloff demo` and `tchakaloff reproduce <experiment>`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _add_reproduce(subparsers: argparse._SubParsersAction) -> None:
    from .reproduce import EXPERIMENTS

    parser = subparsers.add_parser(
        "reproduce",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tchakaloff", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    subparsers = parser.add_subparsers(dest="command", required=True)
    demo = subparsers.add_parser("demo", help="a quick demonstration on generated data")
    demo.add_argument("--seed", type=int, default=0)
    _add_reproduce(subparsers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    if args.command == "demo":
        from .demo import run_demo

        run_demo(seed=args.seed)
        return 0
    from .reproduce import EXPERIMENTS

    paths = EXPERIMENTS[args.experiment](out=args.out, quick=args.quick, seed=args.seed)
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
