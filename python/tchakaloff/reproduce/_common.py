"""Shared pieces of the reproductions: the paper's data, output paths, fits, progress."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

PAPER_DATA = Path(__file__).parent / "paper_data"
T = TypeVar("T")


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


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """A tqdm bar when tqdm is installed, else the items as they are."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, total=total, desc=description, leave=False)


def pyplot():
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


def save_figure(fig, path: Path, dpi: int = 120) -> Path:
    """Lay out, write and close a matplotlib figure."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def panel_label(name: str, lr: float, batch: int | None) -> str:
    """How a training panel is named in tables and plots: "AdamW lr 0.001, batch 256"."""
    return f"{name} lr {lr:g}, " + ("full batch" if batch is None else f"batch {batch}")


def sqrt_law_size(d: int) -> int:
    """The scaling-law experiments' kept size d' = round(16 sqrt(d)), at most d (Fig. 5)."""
    return min(d, round(16 * np.sqrt(d)))


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
