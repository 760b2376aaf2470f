"""Shared pieces of the reproductions: the paper's data, output paths, fits, progress."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PAPER_DATA = Path(__file__).parent / "paper_data"
# a row of a table: the columns of its CSV
Row = tuple[object, ...]


def paper_table(name: str) -> dict[str, np.ndarray]:
    """Columns of one of the paper's CSV files, as float arrays."""
    with open(PAPER_DATA / name, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def fit_exponent(d: np.ndarray, values: np.ndarray, floor: float = 5e-15) -> float:
    """alpha of values ~ d^-alpha, least squares in log-log, dropping values below `floor`
    (the paper's rule: those sit at the floor of double precision)."""
    keep = values > floor
    if keep.sum() < 2:
        return float("nan")
    return float(-np.polyfit(np.log(d[keep]), np.log(values[keep]), 1)[0])


def keep_freed_memory() -> None:
    """Let glibc's malloc keep freed large blocks for reuse (for this process: a command
    that runs reproductions). A training step of the wide nets allocates activations of tens
    of MB; by default malloc returns such blocks to the system when they are freed and the
    next step faults them in again page by page: 0.8-3.4 s of 8.9 s in the kernel for 400
    steps of Fig. 4's 1e4-wide net, 0.1 s with the blocks kept. No-op without glibc."""
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):  # no C library with mallopt (macOS, Windows)
        return
    mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: blocks up to 1 GiB come from the heap
    mallopt(-1, 1 << 31)  # M_TRIM_THRESHOLD: up to 2 GiB freed stays with the process


class RunProgress:
    """One bar for a whole reproduction, in units of estimated work (say, neuron-epochs),
    so that its time estimate is the run's and not the current loop's. No-op without tqdm."""

    def __init__(self, total: float, description: str) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            self._bar = None
            return
        bar_format = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
        # smoothing=0: the rate averaged over the whole run, not the last loop's
        self._bar = tqdm(total=float(total), desc=description, bar_format=bar_format, smoothing=0)

    def advance(self, work: float, status: str | None = None) -> None:
        if self._bar is not None:
            if status is not None:
                self._bar.set_postfix_str(status, refresh=False)
            self._bar.update(float(work))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass(frozen=True)
class Check:
    """One line of a reproduction's verdict: our number beside the paper's, and whether ours
    meets `criterion` (None: shown for comparison, not judged)."""

    what: str
    ours: float | str
    paper: float | str
    criterion: str
    passed: bool | None


def _cell(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if not np.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def report_verdict(path: Path, title: str, checks: list[Check], notes: Iterable[str] = ()) -> Path:
    """Print the verdict table on stdout (it is what the command reports) and write it as CSV."""
    rows = [(c.what, _cell(c.ours), _cell(c.paper), c.criterion, _result(c.passed)) for c in checks]
    header = ("check", "ours", "paper", "criterion", "result")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)) for row in rows]
    judged = [c.passed for c in checks if c.passed is not None]
    lines.append(f"verdict: {sum(judged)} of {len(judged)} checks pass")
    lines += [f"note: {note}" for note in notes]
    print("\n".join(lines) + "\n")
    return write_csv(path, list(header), rows)


def _result(passed: bool | None) -> str:
    return "-" if passed is None else ("pass" if passed else "FAIL")


def pyplot() -> ModuleType:
    """matplotlib's pyplot on a file-only backend, with a clear error when it is missing."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "the reproductions draw with matplotlib: pip install 'tchakaloff[reproduce]'"
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(
    fig: Figure, path: Path, dpi: int = 120, rect: tuple[float, float, float, float] | None = None
) -> Path:
    """Lay out (inside `rect` of the figure, leaving room for a legend or note outside the
    axes), write and close a matplotlib figure."""
    fig.tight_layout(rect=rect)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def plain_log_ticks(ax: Axes, values: Iterable[float]) -> None:
    """Label a log x axis at `values` only, as plain numbers (no crowded minor labels); the
    y axis keeps its minor ticks, which label a range of less than a decade."""
    from matplotlib.ticker import NullLocator

    ticks = sorted({round(float(v)) for v in values})
    ax.set_xticks(ticks, [str(t) for t in ticks], rotation=45, ha="right", fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())


def panel_label(name: str, lr: float, batch: int | None) -> str:
    """How a training panel is named in tables and plots: "AdamW lr 0.001, batch 256"."""
    return f"{name} lr {lr:g}, " + ("full batch" if batch is None else f"batch {batch}")


def sqrt_law_size(d: int) -> int:
    """The scaling-law experiments' kept size d' = round(16 sqrt(d)), at most d (Fig. 5)."""
    return min(d, round(16 * float(np.sqrt(d))))


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread for the block, then restore: the networks trained here are
    small enough that a thread team costs more than it gives on 2 busy cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
