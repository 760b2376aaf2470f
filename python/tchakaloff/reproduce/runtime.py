"""App. D: time to compress d -> max(0.1 d, N) objects at k = 5, beside the published times.

Objects ~ U[-1, 1]^m. Full setting (the paper's): m = 1..5, d = 1e3 * 2^j up to 1.28e5,
one run each (best of 3 below a second), for the default "kd" partition, for "kd_fast" (the
same cells without the search for the next moments) and for "greedy" (the paper's scheme;
in the quick setting only up to d = 16000).
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
    greedy_sizes: list[int]  # d, greedy


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


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    rng = np.random.default_rng(seed)
    table = paper_table("fig6_time_list.csv")
    rows: list[Timing] = []
    grid = [(p, m, d) for p in ("kd", "kd_fast") for m in setting["dims"] for d in setting["sizes"]]
    grid += [("greedy", m, d) for m in setting["dims"] for d in setting["greedy_sizes"]]
    # greedy is ~10x the work of kd at the same d
    bar = RunProgress(sum(d * (10 if p == "greedy" else 1) for p, _, d in grid), "runtime")
    for partition, m, d in grid:
        bar.advance(d * (10 if partition == "greedy" else 1), f"{partition} m {m} d {d}")
        objects = rng.uniform(-1, 1, size=(d, m))
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            compress(
                objects,
                size=max(d // 10, n_moments(m, DEGREE)),
                degree=DEGREE,
                partition=partition,
            )
            best = min(best, time.perf_counter() - start)
            if best > 1.0:
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
        for partition in ("kd", "kd_fast", "greedy")
    }
    checks = [
        Check(
            f"speed-up over the published times, {partition} (min-max over m, d)",
            f"{min(values):,.0f}-{max(values):,.0f}x",
            "1x",
            ">= 1x everywhere",
            min(values) >= 1,
        )
        for partition, values in speedups.items()
        if values
    ]
    notes = ["paper: Apple M4 Pro; ours: this machine, best of 3 runs below a second"]
    if quick:
        notes.append(
            f"quick: kd at d = {', '.join(f'{d:,}' for d in setting['sizes'])}, greedy up to "
            f"{max(setting['greedy_sizes']):,}; paper: d up to 128,000"
        )
    verdict = report_verdict(out / "runtime_verdict.csv", "App. D: runtime", checks, notes)
    return [csv_path, _plot(out / "runtime.png", rows, setting, speedups), verdict]


def _plot(
    path: Path, rows: list[Timing], setting: Setting, speedups: dict[str, list[float]]
) -> Path:
    """Seconds against d: one colour per m; kd solid with circles, greedy dash-dot with
    squares, the paper dashed with crosses; the speed-ups written on the figure."""
    from matplotlib.lines import Line2D

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 6.2))
    styles: dict[str, dict[str, Any]] = {  # matplotlib's keyword arguments
        "kd": {"ls": "-", "marker": "o", "lw": 1.6, "markersize": 4},
        "kd_fast": {"ls": ":", "marker": ".", "lw": 1.3, "markersize": 5},
        "greedy": {"ls": "-.", "marker": "s", "lw": 1.3, "markersize": 4, "mfc": "none"},
        "paper": {"ls": "--", "marker": "x", "lw": 1.1, "alpha": 0.6},
    }
    names = {
        "kd": "ours, k-d cells",
        "kd_fast": "ours, k-d cells (kd_fast)",
        "greedy": "ours, greedy",
        "paper": "paper (M4 Pro)",
    }
    for m in setting["dims"]:
        colour = plt.cm.viridis((m - 1) / max(1, len(setting["dims"])))
        for partition in ("kd", "kd_fast", "greedy"):
            mine = [r for r in rows if r[1] == m and r[0] == partition]
            ax.plot([r[3] for r in mine], [r[4] for r in mine], color=colour, **styles[partition])
        mine = [r for r in rows if r[1] == m and r[0] == "kd"]
        ax.plot([r[3] for r in mine], [r[5] for r in mine], color=colour, **styles["paper"])
    ax.set(xscale="log", yscale="log", xlabel="d (objects, compressed to 0.1 d)")
    ax.set(ylabel="seconds", title=f"App. D: compress d -> 0.1 d, k = {DEGREE}")
    written = "\n".join(
        f"{names[p]}: {min(v):,.0f}-{max(v):,.0f}x faster than the paper"
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
    handles = [Line2D([], [], color=grey, label=names[s], **styles[s]) for s in styles]
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
