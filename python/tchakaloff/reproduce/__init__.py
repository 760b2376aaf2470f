"""Reproductions of the paper's experiments, one module each; every entry takes
(out: Path, quick: bool, seed: int) and returns the paths it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from . import fig2, fig3, fig4, fig5a, fig5b, fig7, networks, polylog, runtime
from ._common import panel_label

# `training` (the teacher-student task and its training loop, shared with the benchmarks)
# is public too; it imports torch, so it is imported where it is used.
__all__ = ["EXPERIMENTS", "panel_label"]


class Experiment(Protocol):
    """A reproduction: writes its CSV and PNG files into `out` and returns their paths."""

    def __call__(self, out: Path, quick: bool = False, seed: int = 0) -> list[Path]: ...


EXPERIMENTS: dict[str, Experiment] = {
    "fig2": fig2.run,
    "fig3": fig3.run,
    "fig4": fig4.run,
    "fig5a": fig5a.run,
    "fig5b": fig5b.run,
    "fig7": fig7.run,
    "networks": networks.run,
    "polylog": polylog.run,
    "runtime": runtime.run,
}
