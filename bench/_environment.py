"""What every benchmark records about its run: the command, when, and on what."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time


def version(package: str) -> str | None:
    """The installed version of `package`, or None when it is missing."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_meta(script: str, argv: list[str] | None, packages: tuple[str, ...]) -> dict:
    """The command line, date, Python, platform, cores, the core's build (instruction set)
    and package versions of this run."""
    from tchakaloff._native import core

    return {
        "command": " ".join([script, *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "core_build": core.isa,
        "versions": {package: version(package) for package in packages},
    }
