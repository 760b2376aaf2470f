"""App. D: time to compress d -> max(0.1 d, N) objects at k = 5, beside the published times.

Objects ~ U[-1, 1]^m. Full setting (the paper's): m = 1..5, d = 1e3 * 2^j up to 1.28e5,
the best of 2 runs each (of 3 below a second), for the default (partition="auto": greedy at the
degree raised up to k + 3, see tchakaloff.compression.raised_degree), for "kd", for "kd_fast"
(the same cells without the search for the next moments) and for "greedy" (the paper's
scheme); the default and greedy only up to d = 16000 in the quick setting.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..compression import compress
from ..reduction import n_moments
from ._common import (
    Check,
    RunProgress,
    paper_table,
    pyplot,
    report_verdict,
    save_figure,
    write_csv,
)


class Setting(TypedDict):
    dims: list[int]  # m
    sizes: list[int]  # d, k-d cells
    greedy_sizes: list[int]  # d, greedy and the default


# (partition, m, k, d, seconds, the paper's seconds, speed-up)
Timing = tuple[str, int, int, int, float, float, float]

FULL: Setting = {
    "dims": [1, 2, 3, 4, 5],
    "sizes": [1000 * 2**j for j in range(8)],
    "greedy_sizes": [1000 * 2**j for j in range(8)],
}
QUICK: Setting = {
    "dims": [1, 2, 3, 4, 5],
    "sizes": [1000 * 4**j for j in range(4)] + [128000],
    "greedy_sizes": [1000, 4000, 16000],
}
DEGREE = 5
PARTITIONS = ("auto", "kd", "kd_fast", "greedy")
NAMES = {
    "auto": "ours, default (auto)",
    "kd": "ours, k-d cells",
    "kd_fast": "ours, k-d cells (kd_fast)",
    "greedy": "ours, greedy",
    "paper": "paper (M4 Pro)",
}
# The default's target (issue: >= 100x the published times everywhere); the others' is 1x.
DEFAULT_SPEEDUP = 100


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    rng = np.random.default_rng(seed)
    table = paper_table("fig6_time_list.csv")
    rows: list[Timing] = []
    grid = [(p, m, d) for p in ("kd", "kd_fast") for m in setting["dims"] for d in setting["sizes"]]
    grid += [
        (p, m, d)
        for p in ("auto", "greedy")
        for m in setting["dims"]
        for d in setting["greedy_sizes"]
    ]
    # greedy (and the default, mostly greedy) is ~10x the work of kd at the same d
    work = {"kd": 1, "kd_fast": 1, "greedy": 10, "auto": 10}
    bar = RunProgress(sum(d * work[p] for p, _, d in grid), "runtime")
    for partition, m, d in grid:
        bar.advance(d * work[partition], f"{partition} m {m} d {d}")
        objects = rng.uniform(-1, 1, size=(d, m))
        best = np.inf
        for attempt in range(3):
            start = time.perf_counter()
            compress(
                objects,
                size=max(d // 10, n_moments(m, DEGREE)),
                degree=DEGREE,
                partition=partition,
            )
            best = min(best, time.perf_counter() - start)
            # above a second the third run adds little, but a second one still guards
            # against a burst of load from other jobs on shared cores
            if best > 1.0 and attempt >= 1:
                break
        published = table["runtime"][(table["m"] == m) & (table["d"] == d)]
        paper_seconds = float(published.mean()) if len(published) else np.nan
        rows.append((partition, m, DEGREE, d, best, paper_seconds, paper_seconds / best))
    bar.close()
    csv_path = write_csv(
        out / "runtime.csv",
        ["partition", "m", "k", "d", "seconds", "paper_seconds", "speedup"],
        rows,
    )

    speedups = {
        partition: [r[6] for r in rows if r[0] == partition and np.isfinite(r[6])]
        for partition in PARTITIONS
    }
    least = {p: DEFAULT_SPEEDUP if p == "auto" else 1 for p in PARTITIONS}
    checks = [
        Check(
            f"speed-up over the published times, {NAMES[partition]} (min-max over m, d)",
            f"{min(values):,.0f}-{max(values):,.0f}x",
            "1x",
            f">= {least[partition]}x everywhere",
            min(values) >= least[partition],
        )
        for partition, values in speedups.items()
        if values
    ]
    notes = ["paper: Apple M4 Pro; ours: this machine, best of 2 runs (3 below a second)"]
    if quick:
        notes.append(
            f"quick: kd at d = {', '.join(f'{d:,}' for d in setting['sizes'])}; default and "
            f"greedy up to {max(setting['greedy_sizes']):,}; paper: d up to 128,000"
        )
    verdict = report_verdict(out / "runtime_verdict.csv", "App. D: runtime", checks, notes)
    return [csv_path, _plot(out / "runtime.png", rows, setting, speedups), verdict]


def _plot(
    path: Path, rows: list[Timing], setting: Setting, speedups: dict[str, list[float]]
) -> Path:
    """Seconds against d: one colour per m; the default thick with diamonds, kd solid with
    circles, greedy dash-dot with squares, the paper dashed with crosses; the speed-ups
    written on the figure."""
    from matplotlib.lines import Line2D

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 6.2))
    styles: dict[str, dict[str, Any]] = {  # matplotlib's keyword arguments
        "auto": {"ls": "-", "marker": "D", "lw": 2.6, "markersize": 4, "alpha": 0.55},
        "kd": {"ls": "-", "marker": "o", "lw": 1.6, "markersize": 4},
        "kd_fast": {"ls": ":", "marker": ".", "lw": 1.3, "markersize": 5},
        "greedy": {"ls": "-.", "marker": "s", "lw": 1.3, "markersize": 4, "mfc": "none"},
        "paper": {"ls": "--", "marker": "x", "lw": 1.1, "alpha": 0.6},
    }
    for m in setting["dims"]:
        colour = plt.cm.viridis((m - 1) / max(1, len(setting["dims"])))
        for partition in PARTITIONS:
            mine = [r for r in rows if r[1] == m and r[0] == partition]
            ax.plot([r[3] for r in mine], [r[4] for r in mine], color=colour, **styles[partition])
        mine = [r for r in rows if r[1] == m and r[0] == "kd"]
        ax.plot([r[3] for r in mine], [r[5] for r in mine], color=colour, **styles["paper"])
    ax.set(xscale="log", yscale="log", xlabel="d (objects, compressed to 0.1 d)")
    ax.set(ylabel="seconds", title=f"App. D: compress d -> 0.1 d, k = {DEGREE}")
    written = "\n".join(
        f"{NAMES[p]}: {min(v):,.0f}-{max(v):,.0f}x faster than the paper"
        for p, v in speedups.items()
        if v
    )
    ax.text(
        0.02,
        0.98,
        written,
        transform=ax.transAxes,
        va="top",
        fontsize=9,
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
    )
    grey = "0.35"
    handles = [Line2D([], [], color=grey, label=NAMES[s], **styles[s]) for s in styles]
    handles += [
        Line2D(
            [],
            [],
            color=plt.cm.viridis((m - 1) / max(1, len(setting["dims"]))),
            lw=3,
            label=f"m = {m}",
        )
        for m in setting["dims"]
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False)
    return save_figure(fig, path, rect=(0, 0.12, 1, 1))
