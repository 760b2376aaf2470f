"""Fig. 5a: compressing d rows to d' = round(16 sqrt(d)) doubles the data scaling exponent.

If the test loss falls like d^-alpha with d training rows, training on d' = 16 sqrt(d)
compressed rows that are as good as the d rows gives a loss falling like d'^-(2 alpha). Task:
the Fig. 3 teacher-student (``training``), clean test set of 1e4 rows; for every seed one
teacher, one student initialisation and nested training sets (the first d rows of one draw).
Compression: :func:`tchakaloff.compress_dataset` with k = 6 (m = 3, N = 84); d = 256 keeps
all its rows. Training: AdamW lr 1e-3, batch 512, cosine schedule, 400 epochs (the paper does
not state its epoch count; 400 is the Fig. 3 setting); every epoch draws d rows (shuffled full
data, or d draws proportional to the weights of the compressed rows), so both runs at a given
d take the same number of steps. Exponents: least squares on log(mean over seeds of the final
test MSE) against log d (full data) and log d' (compressed), as in the paper; the paper's
exponents are refitted on the same d grid from its published table.

Full setting: d = 2^8 .. 2^19, 10 seeds; about 3.2 hours on a 2-core machine (measured: 19
minutes for one seed while another job ran, 85 % of it at d >= 2^18; the full-data and
compressed runs take about as long, since both draw d rows per epoch). ``--quick``:
d = 2^8 .. 2^15, 4 seeds; measured 5.5 minutes on the same loaded machine (about 80 s per
seed). Outputs: ``fig5a.csv`` (every run), ``fig5a_means.csv`` (means over seeds beside
the paper's), ``fig5a_fit.csv`` (exponents, ours and the paper's), ``fig5a.png``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

    from .training import Task

from ..dataset import compress_dataset
from ._common import (
    Check,
    RunProgress,
    fit_exponent,
    one_torch_thread,
    paper_table,
    plain_log_ticks,
    pyplot,
    report_verdict,
    save_figure,
    sqrt_law_size,
    write_csv,
)

logger = logging.getLogger(__name__)

DEGREE, N_TEST, EPOCHS, LR, BATCH = 6, 10_000, 400, 1e-3, 512
RATIO = 1.6  # the exponent ratio we accept (the paper's theory: 2)


class Setting(TypedDict):
    sizes: list[int]  # d
    seeds: int


FULL: Setting = {"sizes": [2**j for j in range(8, 20)], "seeds": 10}
QUICK: Setting = {"sizes": [2**j for j in range(8, 16)], "seeds": 4}


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:

    from .training import Optimiser, student, teacher_task, train

    setting = QUICK if quick else FULL
    sizes, seeds = setting["sizes"], [seed + s for s in range(setting["seeds"])]
    optimiser = Optimiser("AdamW", LR, BATCH)
    rows: list[tuple[int, int, int, int, float, float, float, float, float]] = []
    with one_torch_thread():
        jobs = [(s, d) for s in seeds for d in sizes]
        tasks: dict[int, tuple[Task, torch.nn.Module]] = {}
        # both runs at a given d draw d rows per epoch: the work of a job is about 2 d + 500
        bar = RunProgress(sum(2 * d + 500 for _, d in jobs), "fig5a")
        for s, d in jobs:
            if s not in tasks:
                tasks[s] = (teacher_task(max(sizes), N_TEST, np.random.default_rng(s)), student(s))
            full_task, model = tasks[s]
            x, y = full_task.x[:d], full_task.y[:d]
            start = time.perf_counter()
            res = compress_dataset(x, y, size=sqrt_law_size(d), degree=DEGREE)
            compress_seconds = time.perf_counter() - start
            start = time.perf_counter()
            _, full = train(model, x, y, None, full_task, optimiser, epochs=EPOCHS, seed=s)
            full_seconds = time.perf_counter() - start
            start = time.perf_counter()
            _, kept = train(
                model, res.X, res.y, res.weights, full_task, optimiser, epochs=EPOCHS, seed=s
            )
            kept_seconds = time.perf_counter() - start
            logger.info("seed %d, d %d: full %.4g, compressed %.4g", s, d, full[-1], kept[-1])
            bar.advance(2 * d + 500, f"seed {s} d {d}")
            rows.append(
                (
                    s,
                    d,
                    sqrt_law_size(d),
                    len(res),
                    full[-1],
                    kept[-1],
                    compress_seconds,
                    full_seconds,
                    kept_seconds,
                )
            )

        bar.close()

    table = np.array(rows, dtype=float)
    d_grid = np.array(sizes, dtype=float)
    kept_grid = np.array([sqrt_law_size(d) for d in sizes], dtype=float)
    mean_full = np.array([table[table[:, 1] == d, 4].mean() for d in sizes])
    mean_kept = np.array([table[table[:, 1] == d, 5].mean() for d in sizes])
    spread = [np.array([table[table[:, 1] == d, c].std() for d in sizes]) for c in (4, 5)]
    paper = _paper_means(sizes)
    fits: list[tuple[str, float, float]] = [
        ("full data vs d", fit_exponent(d_grid, mean_full), fit_exponent(d_grid, paper[0])),
        (
            "compressed vs d'",
            fit_exponent(kept_grid, mean_kept),
            fit_exponent(kept_grid, paper[1]),
        ),
        ("compressed vs d", fit_exponent(d_grid, mean_kept), fit_exponent(d_grid, paper[1])),
    ]
    ratio = fits[1][1] / fits[0][1]
    paper_ratio = fits[1][2] / fits[0][2]
    fits.append(("ratio compressed vs d' / full vs d", ratio, paper_ratio))

    paths = [
        write_csv(
            out / "fig5a.csv",
            [
                "seed",
                "d",
                "d_kept_target",
                "d_kept",
                "test_loss_full",
                "test_loss_compressed",
                "compress_seconds",
                "train_full_seconds",
                "train_compressed_seconds",
            ],
            rows,
        ),
        write_csv(
            out / "fig5a_means.csv",
            ["d", "d_kept", "test_loss_full", "test_loss_compressed", "paper_full", "paper_cp"],
            zip(sizes, kept_grid.astype(int), mean_full, mean_kept, paper[0], paper[1]),
        ),
        write_csv(out / "fig5a_fit.csv", ["fit", "alpha", "paper_alpha_same_grid"], fits),
    ]

    checks = [
        Check("alpha, full data vs d", fits[0][1], fits[0][2], "shown", None),
        Check("alpha, compressed vs d'", fits[1][1], fits[1][2], "shown", None),
        Check(
            "ratio of the two alphas",
            ratio,
            paper_ratio,
            f">= {RATIO} (the paper predicts 2)",
            bool(ratio >= RATIO),
        ),
    ]
    title = f"Fig. 5a (seeds {seeds[0]}..{seeds[-1]}, d = {sizes[0]}..{sizes[-1]})"
    notes = [f"quick: d <= {sizes[-1]}, {len(seeds)} seeds; paper: d <= 2^19, 10 seeds"]
    notes = notes if quick else []
    means = (mean_full, mean_kept, *spread)
    note = notes[0] if notes else ""
    paths.append(_plot(out / "fig5a.png", d_grid, kept_grid, means, paper, fits, len(seeds), note))
    paths.append(
        report_verdict(out / "fig5a_verdict.csv", title + ": data scaling law", checks, notes)
    )
    return paths


def _paper_means(sizes: list[int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The published mean final test loss per d (NaN where d is not in the table)."""
    table = paper_table("fig5a_dataset_scaling.csv")

    def mean(column: str, d: int) -> float:
        values = table[column][table["d"] == d]
        return float(values.mean()) if len(values) else np.nan

    return (
        np.array([mean("test_loss_orig", d) for d in sizes]),
        np.array([mean("test_loss_cp", d) for d in sizes]),
    )


def _plot(
    path: Path,
    d_grid: NDArray[np.float64],
    kept_grid: NDArray[np.float64],
    means: tuple[NDArray[np.float64], ...],
    paper: tuple[NDArray[np.float64], NDArray[np.float64]],
    fits: list[tuple[str, float, float]],
    seeds: int,
    note: str,
) -> Path:
    mean_full, mean_kept, spread_full, spread_kept = means
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
    # matplotlib's keyword arguments
    ours: dict[str, Any] = {"capsize": 3, "lw": 1.8, "markersize": 5}
    theirs: dict[str, Any] = {"ls": "--", "lw": 1.2, "alpha": 0.6}
    for ax, x_full, x_kept, xlabel in (
        (axes[0], d_grid, d_grid, "d: rows before compression"),
        (axes[1], d_grid, kept_grid, "rows trained on: d (full), d' (compressed)"),
    ):
        ax.errorbar(
            x_full,
            mean_full,
            spread_full,
            marker="o",
            color="black",
            label="full data, ours",
            **ours,
        )
        ax.errorbar(
            x_kept,
            mean_kept,
            spread_kept,
            marker="s",
            color="tab:blue",
            label="compressed, ours",
            **ours,
        )
        ax.plot(x_full, paper[0], marker="x", color="black", label="full data, paper", **theirs)
        ax.plot(x_kept, paper[1], marker="+", color="tab:blue", label="compressed, paper", **theirs)
        ax.set(xscale="log", yscale="log", xlabel=xlabel)
        plain_log_ticks(ax, [*x_full, *x_kept])
    axes[0].set_ylabel(f"final test MSE (mean of {seeds} seeds, bars: std)")
    axes[0].set_title(f"Fig. 5a: d' = round(16 sqrt(d)) rows, k = {DEGREE}")
    axes[1].set_title(
        f"loss ~ rows^-alpha: full {fits[0][1]:.2f} (paper {fits[0][2]:.2f}), "
        f"compressed {fits[1][1]:.2f} (paper {fits[1][2]:.2f})",
        fontsize=9,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=4,
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 0.03),
    )
    fig.text(0.5, 0.01, note, ha="center", fontsize=8)
    return save_figure(fig, path, rect=(0, 0.1, 1, 1))
