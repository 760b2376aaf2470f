"""Fig. 2: the error of a compressed symmetric function falls like d^-alpha, alpha ~ (k+1)/m + 1/2.

f(theta) = (1/d) sum_i (1/10) sum_a sigmoid(<w_i, x_a>), w_i and x_a ~ U[-1, 1]^m (x_a redrawn per
trial); the compressed value is the weighted mean over the kept objects; d' = max(0.1 d, N).
Full setting (the paper's): m = 1..4, k = 1..6, d = 1e3 * 2^j up to 1.28e5, 20 trials.
Every trial compresses the same objects three ways: "greedy" (the paper's scheme at the
paper's degree, whose alphas are compared with the paper's), "kd" (one-shot k-d cells) and the
default (partition="auto": the degree raised up to k + 3 as the size allows, see
tchakaloff.compression.raised_degree), whose errors are compared with the paper's means.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from numpy.typing import NDArray

from ..compression import compress
from ..reduction import n_moments
from ._common import (
    Check,
    RunProgress,
    fit_exponent,
    paper_table,
    pyplot,
    report_verdict,
    save_figure,
    write_csv,
)


class Setting(TypedDict):
    dims: list[int]  # m
    degrees: list[int]  # k
    sizes: list[int]  # d
    trials: int


# (partition, m, k, d) -> mean |error|
Means = dict[tuple[str, int, int, int], float]
# (m, k, alpha greedy, alpha kd, alpha default, the paper's alpha, the predicted alpha)
Fit = tuple[int, int, float, float, float, float, float]

FULL: Setting = {
    "dims": [1, 2, 3, 4],
    "degrees": [1, 2, 3, 4, 5, 6],
    "sizes": [1000 * 2**j for j in range(8)],
    "trials": 20,
}
QUICK: Setting = {
    "dims": [1, 2, 3],
    "degrees": [1, 2, 3, 4],
    "sizes": [1000 * 2**j for j in range(5)],
    "trials": 5,
}


PARTITIONS = ("greedy", "kd", "auto")
ALPHA_BELOW = 0.15  # how far below the paper's exponent ours may fall
# The default against the paper's means: at d >= 4e3 for m = 2..4, where the paper's mean is
# above 1e-13 (below it is rounding); the geometric mean of the ratios and the largest.
DEFAULT_DIMS, DEFAULT_MIN_D, PAPER_FLOOR = (2, 3, 4), 4000, 1e-13
DEFAULT_GEOMEAN, DEFAULT_LARGEST = 0.5, 1.0


def sigmoid_errors(m: int, k: int, d: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """(|f(all) - f(compressed)|, seconds compressing) per partition, for one trial."""
    w = rng.uniform(-1, 1, size=(d, m))
    x = rng.uniform(-1, 1, size=(10, m))
    values = (1 / (1 + np.exp(-w @ x.T))).mean(axis=1)
    results = []
    for partition in PARTITIONS:
        start = time.perf_counter()
        kept = compress(w, size=max(d // 10, n_moments(m, k)), degree=k, partition=partition)
        seconds = time.perf_counter() - start
        error = abs(values.mean() - kept.weights @ values[kept.indices] / d)
        results.append((error, seconds))
    return results


def paper_errors() -> dict[tuple[int, ...], float]:
    """Mean |orig - comp| per (m, k, d) from the published table."""
    table = paper_table("fig2_error_list.csv")
    errors = np.abs(table["orig"] - table["comp"])
    keys = np.column_stack([table["m"], table["k"], table["d"]]).astype(int)
    unique, group = np.unique(keys, axis=0, return_inverse=True)
    means = np.bincount(group.ravel(), weights=errors) / np.bincount(group.ravel())
    return {tuple(int(v) for v in key): float(mean) for key, mean in zip(unique, means)}


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    # One random stream per m (seed + m): a run of one m alone draws the same objects as the
    # whole grid does for it.
    rngs = {m: np.random.default_rng(seed + m) for m in setting["dims"]}
    grid = [
        (m, k, d) for m in setting["dims"] for k in setting["degrees"] for d in setting["sizes"]
    ]
    trials: list[tuple[int, int, int, int, str, float, float]] = []
    # the work of a cell of the grid grows about like d
    bar = RunProgress(sum(d for _, _, d in grid), "fig2")
    for m, k, d in grid:
        bar.advance(d, f"m {m} k {k} d {d}")
        for trial in range(setting["trials"]):
            for partition, (error, seconds) in zip(PARTITIONS, sigmoid_errors(m, k, d, rngs[m])):
                trials.append((m, k, d, trial, partition, error, seconds))
    bar.close()
    paper = paper_errors()

    grouped: dict[tuple[str, int, int, int], list[float]] = {}
    for t in trials:
        grouped.setdefault((t[4], *t[:3]), []).append(t[5])
    mean: Means = {key: float(np.mean(errors)) for key, errors in grouped.items()}
    sizes = np.array(setting["sizes"], dtype=float)
    fits: list[Fit] = []
    for m in setting["dims"]:
        for k in setting["degrees"]:
            greedy, kd, default = (
                fit_exponent(sizes, np.array([mean[p, m, k, d] for d in setting["sizes"]]))
                for p in PARTITIONS
            )
            theirs = fit_exponent(
                sizes, np.array([paper.get((m, k, d), np.nan) for d in setting["sizes"]])
            )
            fits.append((m, k, greedy, kd, default, theirs, (k + 1) / m + 0.5))

    paths = [
        write_csv(
            out / "fig2_trials.csv",
            ["m", "k", "d", "trial", "partition", "error", "seconds"],
            trials,
        ),
        write_csv(
            out / "fig2.csv",
            [
                "m",
                "k",
                "d",
                "mean_error_greedy",
                "mean_error_kd",
                "mean_error_default",
                "paper_mean_error",
                "ratio_greedy_to_paper",
                "ratio_default_to_paper",
            ],
            [
                (
                    m,
                    k,
                    d,
                    *(mean[p, m, k, d] for p in PARTITIONS),
                    paper.get((m, k, d), np.nan),
                    mean["greedy", m, k, d] / paper.get((m, k, d), np.nan),
                    mean["auto", m, k, d] / paper.get((m, k, d), np.nan),
                )
                for m, k, d in grid
            ],
        ),
        write_csv(
            out / "fig2_alpha.csv",
            [
                "m",
                "k",
                "alpha_greedy",
                "alpha_kd",
                "alpha_default",
                "paper_alpha",
                "predicted_alpha",
            ],
            fits,
        ),
    ]
    paths.append(_plot(out / "fig2.png", setting, mean, paper, fits, quick))
    paths.append(_verdict(out / "fig2_verdict.csv", fits, mean, paper, setting, quick))
    return paths


def default_ratios(mean: Means, paper: dict[tuple[int, ...], float]) -> NDArray[np.float64]:
    """The default's mean error / the paper's at the points the comparison covers."""
    return np.array(
        [
            value / paper[m, k, d]
            for (partition, m, k, d), value in mean.items()
            if partition == "auto"
            and m in DEFAULT_DIMS
            and d >= DEFAULT_MIN_D
            and paper.get((m, k, d), 0.0) > PAPER_FLOOR
        ]
    )


def _verdict(
    path: Path,
    fits: list[Fit],
    mean: Means,
    paper_means: dict[tuple[int, ...], float],
    setting: Setting,
    quick: bool,
) -> Path:
    """Our fitted alpha (greedy, the paper's scheme) beside the paper's, per (m, k); then the
    default's errors against the paper's means and its alphas."""
    checks = []
    for m, k, greedy, kd, _, paper, predicted in fits:
        what = f"alpha m={m} k={k} (greedy; kd {kd:.2f}, theory {predicted:.2f})"
        if np.isnan(greedy) or np.isnan(paper):
            checks.append(Check(what, greedy, paper, "too few points above 5e-15", None))
            continue
        passed = bool(greedy >= paper - ALPHA_BELOW)
        checks.append(Check(what, greedy, paper, f">= paper's - {ALPHA_BELOW}", passed))
    ratios = default_ratios(mean, paper_means)
    where = f"d >= {DEFAULT_MIN_D:,}, m = 2-4, paper's above {PAPER_FLOOR:g}"
    if len(ratios):
        # a default error of exactly 0 (every value matched to rounding) counts as 1e-3x
        geomean = float(np.exp(np.log(np.maximum(ratios, 1e-3)).mean()))
        checks += [
            Check(
                f"default / paper, geometric mean over {len(ratios)} points ({where})",
                geomean,
                1.0,
                f"<= {DEFAULT_GEOMEAN}x",
                geomean <= DEFAULT_GEOMEAN,
            ),
            Check(
                "default / paper, largest over the same points",
                float(ratios.max()),
                1.0,
                f"<= {DEFAULT_LARGEST}x",
                float(ratios.max()) <= DEFAULT_LARGEST,
            ),
        ]
    gaps = [default - paper for _, _, _, _, default, paper, _ in fits]
    gaps = [g for g in gaps if np.isfinite(g)]
    if gaps:
        checks.append(
            Check(
                f"default's alpha - paper's, smallest over {len(gaps)} (m, k)",
                min(gaps),
                0.0,
                f">= -{ALPHA_BELOW}",
                min(gaps) >= -ALPHA_BELOW,
            )
        )
    notes = []
    if quick:
        notes.append(
            f"quick: m <= {max(setting['dims'])}, k <= {max(setting['degrees'])}, "
            f"d <= {max(setting['sizes']):,}, {setting['trials']} trials; paper: m <= 4, "
            "k <= 6, d <= 128,000, 20 trials. Fits drop errors below 5e-15 (rounding); with "
            "few trials and sizes the quick fits move by more than 0.15 with the draw (the "
            "last full run met it at every m, k)"
        )
    return report_verdict(path, "Fig. 2: error ~ d^-alpha of a compressed sum", checks, notes)


# one line style per source, in every panel: ours solid with a marker per partition, the
# paper's dashed with crosses, the theory dotted
STYLES: dict[str, dict[str, Any]] = {  # matplotlib's keyword arguments
    "auto": {"ls": "-", "marker": "D", "lw": 2.6, "markersize": 3.5, "alpha": 0.45},
    "greedy": {"ls": "-", "marker": "o", "lw": 1.6, "markersize": 4},
    "kd": {"ls": "-.", "marker": "s", "lw": 1.3, "markersize": 3.5, "mfc": "none"},
    "paper": {"ls": "--", "marker": "x", "lw": 1.1, "alpha": 0.6},
    "theory": {"ls": ":", "lw": 1.2, "alpha": 0.8},
}
NAMES = {
    "auto": "ours, default (degree raised)",
    "greedy": "ours, greedy",
    "kd": "ours, k-d cells",
    "paper": "paper",
    "theory": "(k+1)/m + 1/2",
}


def _plot(
    path: Path,
    setting: Setting,
    mean: Means,
    paper: dict[tuple[int, ...], float],
    fits: list[Fit],
    quick: bool,
) -> Path:
    from matplotlib.lines import Line2D

    plt = pyplot()
    dims, sizes = setting["dims"], setting["sizes"]
    fig, axes = plt.subplots(1, len(dims) + 1, figsize=(4.2 * (len(dims) + 1), 4.6))
    colours = dict(
        zip(setting["degrees"], plt.cm.viridis(np.linspace(0, 0.85, len(setting["degrees"]))))
    )
    for ax, m in zip(axes, dims):
        for k, colour in colours.items():
            for source in PARTITIONS:
                ax.plot(
                    sizes, [mean[source, m, k, d] for d in sizes], color=colour, **STYLES[source]
                )
            ax.plot(
                sizes,
                [paper.get((m, k, d), np.nan) for d in sizes],
                color=colour,
                **STYLES["paper"],
            )
        ax.set(xscale="log", yscale="log", title=f"m = {m}", xlabel="d (objects)")
        ax.set_ylabel("mean |f(all) - f(compressed)|")
    ax = axes[-1]
    for m in dims:
        rows = [f for f in fits if f[0] == m]
        degrees = [r[1] for r in rows]
        colour = plt.cm.tab10(m - 1)
        for source, column in (("greedy", 2), ("kd", 3), ("paper", 5), ("theory", 6)):
            ax.plot(degrees, [r[column] for r in rows], color=colour, **STYLES[source])
        ax.annotate(
            f"m={m}",
            (degrees[-1], rows[-1][6]),
            xytext=(4, 0),
            textcoords="offset points",
            color=colour,
            fontsize=8,
            va="center",
        )
    ax.set(title="fitted alpha against k", xlabel="k (degree)", ylabel="alpha (error ~ d^-alpha)")
    ax.set_xticks(setting["degrees"])
    grey = "0.35"
    handles = [Line2D([], [], color=grey, label=NAMES[s], **STYLES[s]) for s in STYLES]
    handles += [Line2D([], [], color=c, lw=3, label=f"k = {k}") for k, c in colours.items()]
    handles += [
        Line2D([], [], color=plt.cm.tab10(m - 1), lw=3, label=f"m = {m} (alpha panel)")
        for m in dims
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.03),  # above the quick note
        ncol=min(len(handles), 7),
        fontsize=9,
        frameon=False,
    )
    if quick:
        fig.text(
            0.5,
            0.005,
            "quick: fewer m, k, d and trials than the paper (see the verdict); "
            "a missing alpha: too few errors above 5e-15",
            ha="center",
            fontsize=8,
        )
    return save_figure(fig, path, rect=(0, 0.16, 1, 1))
