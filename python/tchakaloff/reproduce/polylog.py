"""App. G: polylogarithmic compression with ``degree="auto"``.

f = (1/d) sum_i (1/10) sum_a 1 / (A + <w_i, x_a>), w_i and x_a ~ U[-1, 1]^m, A = 1.05 (m = 1)
or 2.05 (m = 2); the objects are kept at d' = round(120 ln d) (m = 1) or round(20 ln^2 d)
(m = 2). The paper raised k per trial until the true error stopped improving (an oracle);
``degree="auto"`` picks k from m and d' alone (see :func:`tchakaloff.compress`).
Full setting: d = 1e3 * 2^j up to 1.28e5, 5 trials (the paper's, about 10 minutes here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compression import compress
from ._common import paper_table, progress, pyplot, save_figure, write_csv

FULL = {"sizes": [1000 * 2**j for j in range(8)], "trials": 5}
QUICK = {"sizes": [1000 * 4**j for j in range(4)], "trials": 3}
SHIFT = {1: 1.05, 2: 2.05}


def kept_size(m: int, d: int) -> int:
    return round(120 * np.log(d)) if m == 1 else round(20 * np.log(d) ** 2)


def trial(m: int, d: int, rng: np.random.Generator) -> tuple[int, float]:
    """(degree picked, |f(all) - f(compressed)|) for one draw."""
    w = rng.uniform(-1, 1, size=(d, m))
    x = rng.uniform(-1, 1, size=(10, m))
    values = (1 / (SHIFT[m] + w @ x.T)).mean(axis=1)
    kept = compress(w, size=kept_size(m, d), degree="auto", partition="kd")  # App. G: cells
    return kept.degree, abs(values.mean() - kept.weights @ values[kept.indices] / d)


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    rng = np.random.default_rng(seed)
    grid = [(m, d) for m in SHIFT for d in setting["sizes"]]
    rows = []
    for m, d in progress(grid, len(grid), "polylog"):
        for t in range(setting["trials"]):
            rows.append((m, d, kept_size(m, d), t, *trial(m, d, rng)))

    paper = {m: paper_table(f"fig8_polylog_error_{m}d.csv") for m in SHIFT}
    summary = []
    for m, d in grid:
        ours = np.mean([r[5] for r in rows if r[:2] == (m, d)])
        theirs = paper[m]["least_error"][paper[m]["d"] == d]
        summary.append((m, d, kept_size(m, d), ours, theirs.mean() if len(theirs) else np.nan))
    paths = [
        write_csv(out / "polylog_trials.csv", ["m", "d", "kept", "trial", "degree", "error"], rows),
        write_csv(
            out / "polylog.csv", ["m", "d", "kept", "mean_error", "paper_mean_error"], summary
        ),
    ]

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, m in zip(axes, SHIFT):
        mine = [s for s in summary if s[0] == m]
        ax.loglog([s[1] for s in mine], [max(s[3], 1e-17) for s in mine], "o-", label="ours (auto)")
        sizes = np.unique(paper[m]["d"])
        ax.loglog(
            sizes,
            [paper[m]["least_error"][paper[m]["d"] == d].mean() for d in sizes],
            "x--",
            label="paper (best k per trial)",
        )
        law = "120 ln d" if m == 1 else "20 ln^2 d"
        ax.set(title=f"m = {m}, d' = {law}", xlabel="d", ylabel="mean |error|")
        ax.legend(fontsize=8)
    return [*paths, save_figure(fig, out / "polylog.png")]
