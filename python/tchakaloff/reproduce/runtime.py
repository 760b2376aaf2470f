"""App. D: time to compress d -> max(0.1 d, N) objects at k = 5, beside the published times.

Objects ~ U[-1, 1]^m. Full setting (the paper's): m = 1..5, d = 1e3 * 2^j up to 1.28e5,
one run each (best of 3 below a second), for the default "kd" partition, for "kd_fast" (the
same cells without the search for the next moments) and for "greedy" (the paper's scheme;
in the quick setting only up to d = 16000).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..compression import compress
from ..reduction import n_moments
from ._common import paper_table, progress, pyplot, save_figure, write_csv

FULL = {
    "dims": [1, 2, 3, 4, 5],
    "sizes": [1000 * 2**j for j in range(8)],
    "greedy_sizes": [1000 * 2**j for j in range(8)],
}
QUICK = {
    "dims": [1, 2, 3, 4, 5],
    "sizes": [1000 * 4**j for j in range(4)] + [128000],
    "greedy_sizes": [1000, 4000, 16000],
}
DEGREE = 5


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    rng = np.random.default_rng(seed)
    table = paper_table("fig6_time_list.csv")
    rows = []
    grid = [(p, m, d) for p in ("kd", "kd_fast") for m in setting["dims"] for d in setting["sizes"]]
    grid += [("greedy", m, d) for m in setting["dims"] for d in setting["greedy_sizes"]]
    for partition, m, d in progress(grid, len(grid), "runtime"):
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
    csv_path = write_csv(
        out / "runtime.csv",
        ["partition", "m", "k", "d", "seconds", "paper_seconds", "speedup"],
        rows,
    )

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(setting["dims"])))
    styles = {"kd": "o-", "kd_fast": ".-", "greedy": "s:"}
    for colour, m in zip(colours, setting["dims"]):
        for partition, style in styles.items():
            mine = [r for r in rows if r[1] == m and r[0] == partition]
            ax.loglog(
                [r[3] for r in mine],
                [r[4] for r in mine],
                style,
                color=colour,
                label=f"m={m} {partition}",
            )
        published = [r for r in rows if r[1] == m and r[0] == "kd"]
        ax.loglog(
            [r[3] for r in published],
            [r[5] for r in published],
            "x--",
            color=colour,
            alpha=0.6,
            label=f"m={m} paper (M4 Pro)",
        )
    ax.set(xlabel="d", ylabel="seconds", title="compress d -> 0.1 d, k = 5")
    ax.legend(fontsize=7, ncol=2)
    return [csv_path, save_figure(fig, out / "runtime.png")]
