"""Fig. 3: a student trained on 1e3 compressed rows learns as well as on the 1e4 rows they
replace; a naive subset of 1e3 rows does not.

Teacher-student task (see ``training``): width 50, label noise 3, d = 1e4 training rows
(x1, x2, y), so m = 3; compressed to d' = 1e3 with k = 5 (N = 56) by
:func:`tchakaloff.compress_dataset` with ``partition="greedy"``, the paper's scheme (over 5
seeds its full-batch AdamW panel, the most sensitive one, ends 1.06 times the full-data
loss). The naive subset is the first 1e3 rows
(the rows are i.i.d., so this is a uniform random subset), each weighted d / d'. One student
initialisation is shared by the three runs of a panel. 400 epochs, cosine schedule; panels:
GD lr 0.05 full batch; AdamW lr 0.01 full batch; SGD lr 0.01 batch 256; AdamW lr 1e-3 batch
256. Mini-batch runs on the compressed or naive rows draw d rows per epoch with probability
proportional to the weights (:func:`tchakaloff.torch.weighted_sampler`), so every run takes
the same number of steps. The clean test set has 1e4 rows.

Full setting: the paper's run repeated for 5 seeds (teacher, data, initialisation and batch
order all change with the seed); measured 3.5 minutes on 2 idle cores (about 45 s per seed).
``--quick``: the paper's single run (seed ``--seed``), under a minute. Outputs: ``fig3.csv``
(every epoch of every run), ``fig3_final.csv`` (final test MSE per panel and data set, mean
over seeds, beside the paper's), ``fig3.png`` (test MSE curves, ours solid, the paper's
dashed).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..dataset import DatasetCompression, compress_dataset
from ._common import (
    Check,
    Row,
    RunProgress,
    one_torch_thread,
    panel_label,
    paper_table,
    pyplot,
    report_verdict,
    save_figure,
    write_csv,
)

logger = logging.getLogger(__name__)

D, D_KEPT, DEGREE, N_TEST, EPOCHS = 10_000, 1_000, 5, 10_000, 400
if TYPE_CHECKING:
    import torch

    from .training import Task


class Setting(TypedDict):
    seeds: int


# (panel, data, test loss, its min and max over seeds, ratios to full and compressed, the
# paper's test loss and ratio to full), numpy scalars among them
FinalRow = tuple[Any, ...]

FULL: Setting = {"seeds": 5}
QUICK: Setting = {"seeds": 1}
DATA = ("full", "compressed", "naive")
# (optimiser, lr, batch size or None for full batch, the paper's published curves)
PANELS = [
    ("GD", 0.05, None, "fig3_gd_lr0.05_full_batch.csv"),
    ("AdamW", 0.01, None, "fig3_adamw_lr0.01_full_batch.csv"),
    ("SGD", 0.01, 256, "fig3_sgd_lr0.01_batch256.csv"),
    ("AdamW", 1e-3, 256, "fig3_adamw_lr0.001_batch256.csv"),
]
# final test loss over the full data's: compressed at most (the paper's: 1.08-1.29), naive at
# least (the paper's: 4.3-16.6)
CLOSE_TO_FULL, NAIVE_BEHIND = 1.15, 2.0
PAPER_COLUMNS = {"full": "test_loss_orig", "compressed": "test_loss_cp", "naive": "test_loss_naive"}


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:

    from .training import Optimiser, student, teacher_task, train

    setting = QUICK if quick else FULL
    seeds = [seed + s for s in range(setting["seeds"])]
    curves: list[Row] = []
    timing: list[Row] = []
    with one_torch_thread():
        jobs = [(s, panel) for s in seeds for panel in PANELS]
        tasks: dict[int, tuple[Task, DatasetCompression, torch.nn.Module]] = {}
        bar = RunProgress(len(jobs) * len(DATA), "fig3")
        for s, (name, lr, batch, _) in jobs:
            if s not in tasks:
                task = teacher_task(D, N_TEST, np.random.default_rng(s))
                start = time.perf_counter()
                res = compress_dataset(
                    task.x, task.y, size=D_KEPT, degree=DEGREE, partition="greedy"
                )
                seconds = time.perf_counter() - start
                logger.info("seed %d: %d rows kept in %.3f s", s, len(res), seconds)
                tasks[s] = (task, res, student(s))
                timing.append((s, "compress", seconds))
            task, res, model = tasks[s]
            sets = {
                "full": (task.x, task.y, None),
                "compressed": (res.X, res.y, res.weights),
                "naive": (task.x[:D_KEPT], task.y[:D_KEPT], np.full(D_KEPT, D / D_KEPT)),
            }
            optimiser, label = Optimiser(name, lr, batch), panel_label(name, lr, batch)
            for data, (x, y, w) in sets.items():
                start = time.perf_counter()
                train_loss, test_loss = train(
                    model, x, y, w, task, optimiser, epochs=EPOCHS, seed=s
                )
                timing.append((s, f"{label}: {data}", time.perf_counter() - start))
                bar.advance(1, f"seed {s} {label} {data}")
                for epoch in range(EPOCHS + 1):
                    curves.append((label, s, data, epoch, train_loss[epoch], test_loss[epoch]))

        bar.close()

    final = _final_table(curves, seeds)
    paths = [
        write_csv(
            out / "fig3.csv", ["panel", "seed", "data", "epoch", "train_loss", "test_loss"], curves
        ),
        write_csv(
            out / "fig3_final.csv",
            [
                "panel",
                "data",
                "test_loss",
                "test_loss_min_over_seeds",
                "test_loss_max_over_seeds",
                "ratio_to_full",
                "ratio_to_compressed",
                "paper_test_loss",
                "paper_ratio_to_full",
            ],
            final,
        ),
        write_csv(out / "fig3_seconds.csv", ["seed", "step", "seconds"], timing),
    ]
    paths.append(_plot(out / "fig3.png", curves, seeds))
    paths.append(_verdict(out / "fig3_verdict.csv", final, seeds))
    return paths


def _verdict(path: Path, final: list[FinalRow], seeds: list[int]) -> Path:
    """Per panel: the compressed rows train as well as the full data, the naive ones do not."""
    checks = []
    for panel, data, _, _, _, to_full, _, _, paper_to_full in final:
        if data == "compressed":
            criterion, passed = f"<= {CLOSE_TO_FULL}", to_full <= CLOSE_TO_FULL
        elif data == "naive":
            criterion, passed = f">= {NAIVE_BEHIND} (naive clearly behind)", to_full >= NAIVE_BEHIND
        else:
            continue
        checks.append(
            Check(
                f"{panel}: final test loss, {data} / full",
                to_full,
                paper_to_full,
                criterion,
                passed,
            )
        )
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]}"
    title = f"Fig. 3 ({which}, {EPOCHS} epochs): compressed training sets"
    return report_verdict(path, title, checks)


def _final_table(curves: list[Row], seeds: list[int]) -> list[FinalRow]:
    rows: list[FinalRow] = []
    for name, lr, batch, paper_file in PANELS:
        label = panel_label(name, lr, batch)
        paper = paper_table(paper_file)
        finals = {
            data: np.array(
                [
                    c[5]
                    for c in curves
                    if c[0] == label and c[2] == data and c[3] == EPOCHS and c[1] in seeds
                ]
            )
            for data in DATA
        }
        for data in DATA:
            ours, theirs = finals[data].mean(), paper[PAPER_COLUMNS[data]][-1]
            rows.append(
                (
                    label,
                    data,
                    ours,
                    finals[data].min(),
                    finals[data].max(),
                    ours / finals["full"].mean(),
                    ours / finals["compressed"].mean(),
                    theirs,
                    theirs / paper["test_loss_orig"][-1],
                )
            )
    return rows


def _plot(path: Path, curves: list[Row], seeds: list[int]) -> Path:
    """Test loss per panel: ours solid with markers (band: min-max over seeds), the paper's
    single run dashed."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.4 * len(PANELS), 4.4), sharey=True)
    colours = {"full": "black", "compressed": "tab:blue", "naive": "tab:red"}
    names = {"full": f"full data ({D})", "compressed": f"compressed ({D_KEPT})"}
    names["naive"] = f"naive subset ({D_KEPT})"
    for ax, (name, lr, batch, paper_file) in zip(axes, PANELS):
        label = panel_label(name, lr, batch)
        paper = paper_table(paper_file)
        for data in DATA:
            runs = np.array(
                [
                    [c[5] for c in curves if c[0] == label and c[2] == data and c[1] == s]
                    for s in seeds
                ]
            )
            epochs = np.arange(runs.shape[1])
            ax.plot(
                paper["epoch"],
                paper[PAPER_COLUMNS[data]],
                "--",
                color=colours[data],
                lw=1.2,
                alpha=0.55,
                label=f"{names[data]}, paper",
            )
            ax.plot(
                epochs,
                runs.mean(axis=0),
                color=colours[data],
                marker="o",
                markersize=3.5,
                markevery=EPOCHS // 10,
                label=f"{names[data]}, ours",
            )
            if len(seeds) > 1:
                ax.fill_between(
                    epochs, runs.min(axis=0), runs.max(axis=0), color=colours[data], alpha=0.15
                )
        ax.set(title=label, xlabel="epoch", yscale="log")
    band = f"; ours: mean of {len(seeds)} seeds, band min-max" if len(seeds) > 1 else ""
    axes[0].set_ylabel("test MSE (clean labels)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"Fig. 3: training on d = {D} rows or {D_KEPT} of them (k = {DEGREE}){band}")
    return save_figure(fig, path, rect=(0, 0.12, 1, 1))
