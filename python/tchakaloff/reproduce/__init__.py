"""Reproductions of the paper's experiments, one module each; every entry takes
(out: Path, quick: bool, seed: int) and returns the paths it wrote."""

from __future__ import annotations

from typing import Callable

from . import fig2, runtime

EXPERIMENTS: dict[str, Callable] = {"fig2": fig2.run, "runtime": runtime.run}
