"""Fig. 7 (the paper's App. F): compressed attention heads train like the wide layer.

Task, in-context regression: an episode draws a continuous piecewise-linear f on [0, 1] with
16 equal segments, f(0) ~ N(0, 0.5^2) and slopes ~ N(0, 1); 8 context points x_i ~ U[0, 1]
with y_i = f(x_i) + N(0, 0.3^2), and a query x* ~ U[0, 1] whose clean f(x*) is the target.
The tokens are scalars, the sequence [x_1, y_1, ..., x_8, y_8, x*] (T = 17). Model: one causal
:class:`~tchakaloff.torch.MultiHeadAttention` layer without biases, 1 -> 1, heads of
dimension 2, PyTorch's default initialisation; the prediction is the output at the last
token, the loss the squared error.

Nets, all from the same initialisation and trained on the same fresh batches (Adam, constant
lr 1e-4, batch 256, epochs of 5 steps; test MSE on 10 fresh batches after every epoch and
before training):
  orig     the wide layer (4000 heads);
  cp       800 heads kept by the paper's moment matching at k = 3
           (:func:`~tchakaloff.torch.compress_attention` with ``degree=3``);
  cp_data  800 heads kept by their contributions on 256 calibration episodes
           (``calibration=``; the multiplicities' total held at 4000);
  cp_both  800 heads keeping both: the moments of k = 3 in 4 cells (660 heads) and, with the
           rest of the budget, the heads' contributions on the calibration episodes and the
           cells' leading degree-4 moments (``degree=3, calibration=``): ours;
  naive    800 random heads of the original, not rescaled (the paper's baseline).
The compressed nets divide the gradients of head h by its multiplicity c_h, so they follow
the wide layer's dynamics. Gaps: |test loss - original's| / original's at every evaluation.

Both settings also measure the output error right after compression on 5 initialisations
(``fig7_right_after.csv``). Full setting (the paper's): 4000 -> 800 heads, 50 epochs, seeds
0, 1, 2: 28 minutes on 2 cores. ``--quick``: one seed, 20 epochs, the same widths
(the curves and gaps of the first 20 epochs): 5 minutes on 2 cores. A step of the wide
layer scores 256 x 4000 x 17 query-key pairs for the last token alone
(:meth:`~tchakaloff.torch.MultiHeadAttention.predict`), which is where the time goes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypedDict

import numpy as np
from numpy.typing import NDArray

from ._common import (
    Check,
    RunProgress,
    paper_table,
    pyplot,
    report_verdict,
    save_figure,
    write_csv,
)

if TYPE_CHECKING:
    import torch

    from ..torch import MultiHeadAttention

log = logging.getLogger(__name__)

HEADS, KEPT, HEAD_DIM, DEGREE = 4000, 800, 2, 3
BATCH, STEPS_PER_EPOCH, LR, TEST_BATCHES, CALIBRATION = 256, 5, 1e-4, 10, 256


class Setting(TypedDict):
    epochs: int
    seeds: tuple[int, ...]  # added to the run's seed


FULL: Setting = {"epochs": 50, "seeds": (0, 1, 2)}
QUICK: Setting = {"epochs": 20, "seeds": (0,)}
RIGHT_AFTER_SEEDS = 5  # initialisations whose output error right after compression is measured
NETS = ("orig", "cp", "cp_data", "cp_both", "naive")
LABELS = {
    "orig": "original, 4000 heads",
    "cp": "compressed, 800 heads (moments, k = 3)",
    "cp_data": "compressed, <= 800 heads (contributions)",
    "cp_both": "compressed, 800 heads (moments + contributions)",
    "naive": "800 random heads",
}
PAPER_CSV = "fig7_attention_heads_adam_lr1e-4.csv"
# The paper's numbers (App. F): largest and mean relative test-loss gap to the original.
PAPER_GAPS = {"cp": (0.052, 0.009), "naive": (0.93, 0.38)}


def episodes(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` episodes as (sequences (count, 17, 1), targets (count,)), float32."""
    import torch

    slopes = torch.randn(count, 16, generator=generator)
    start = 0.5 * torch.randn(count, 1, generator=generator)
    knots = torch.cat([start, start + torch.cumsum(slopes / 16, dim=1)], dim=1)

    def f(x: torch.Tensor) -> torch.Tensor:
        segment = torch.clamp((x * 16).long(), max=15)
        within = x * 16 - segment
        left, right = knots.gather(1, segment), knots.gather(1, segment + 1)
        return left + (right - left) * within

    x = torch.rand(count, 9, generator=generator)
    y = f(x[:, :8]) + 0.3 * torch.randn(count, 8, generator=generator)
    context = torch.stack([x[:, :8], y], dim=2).reshape(count, 16)
    sequences = torch.cat([context, x[:, 8:]], dim=1)[:, :, None]
    return sequences, f(x[:, 8:])[:, 0]


def nets(seed: int, heads: int = HEADS, kept: int = KEPT) -> dict[str, MultiHeadAttention]:
    """The nets of one run, from one initialisation."""
    import torch

    from ..torch import MultiHeadAttention, compress_attention, random_heads

    torch.manual_seed(seed)
    wide = MultiHeadAttention(1, 1, heads, HEAD_DIM)
    calibration, _ = episodes(CALIBRATION, torch.Generator().manual_seed(10_000 + seed))
    return {
        "orig": wide,
        "cp": compress_attention(wide, size=kept, degree=DEGREE),
        "cp_data": compress_attention(wide, size=kept, calibration=calibration, rng=seed),
        "cp_both": compress_attention(wide, size=kept, degree=DEGREE, calibration=calibration),
        "naive": random_heads(wide, size=kept, rng=seed),
    }


def right_after(
    seeds: Iterable[int], heads: int = HEADS, kept: int = KEPT
) -> dict[str, list[float]]:
    """Per net (and 800 random heads rescaled by heads / kept), the relative output error to
    the wide layer right after compression, on 2048 fresh episodes of every seed:
    mean (prediction - wide's)^2 / mean wide's^2."""
    import torch

    from ..torch import random_heads

    errors: dict[str, list[float]] = {}
    for seed in seeds:
        models = nets(seed, heads, kept)
        models["naive_rescaled"] = random_heads(models["orig"], size=kept, rescale=True, rng=seed)
        x, _ = episodes(2048, torch.Generator().manual_seed(30_000 + seed))
        with torch.no_grad():
            wide = models.pop("orig").predict(x).double()
            for name, model in models.items():
                error = ((model.predict(x).double() - wide) ** 2).mean() / (wide**2).mean()
                errors.setdefault(name, []).append(float(error))
    return errors


def test_loss(net: MultiHeadAttention, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    import torch

    with torch.no_grad():
        return float(np.mean([float(((net.predict(x)[:, 0] - y) ** 2).mean()) for x, y in batches]))


def run_seed(
    seed: int,
    epochs: int,
    heads: int = HEADS,
    kept: int = KEPT,
    on_epoch: Callable[[], None] = lambda: None,
) -> dict[str, NDArray[np.float64]]:
    """Train the four nets on the same batches; per net, the test loss at epochs 0..epochs
    and the mean training loss of every epoch (nan at epoch 0). `on_epoch` is called after
    every epoch (progress)."""
    import torch

    models = nets(seed, heads, kept)
    for name, model in models.items():
        log.info("seed %d: %s has %d heads", seed, name, model.heads)
    optimisers = {name: torch.optim.Adam(m.parameters(), lr=LR) for name, m in models.items()}
    data = torch.Generator().manual_seed(seed)
    test = [
        episodes(BATCH, torch.Generator().manual_seed(20_000 + seed * 100 + b))
        for b in range(TEST_BATCHES)
    ]
    curves: dict[str, dict[str, list[float]]]
    curves = {name: {"test": [test_loss(m, test)], "train": [np.nan]} for name, m in models.items()}
    for _ in range(epochs):
        batches = [episodes(BATCH, data) for _ in range(STEPS_PER_EPOCH)]
        for name, model in models.items():
            losses: list[float] = []
            for x, y in batches:
                optimisers[name].zero_grad()
                loss = ((model.predict(x)[:, 0] - y) ** 2).mean()
                loss.backward()
                optimisers[name].step()
                losses.append(float(loss.detach()))
            curves[name]["train"].append(float(np.mean(losses)))
            curves[name]["test"].append(test_loss(model, test))
        on_epoch()
    return {f"{kind}_{name}": np.array(c[kind]) for name, c in curves.items() for kind in c}


def gaps(curves: dict[str, NDArray[np.float64]], net: str) -> NDArray[np.float64]:
    relative: NDArray[np.float64] = (
        np.abs(curves[f"test_{net}"] - curves["test_orig"]) / curves["test_orig"]
    )
    return relative


def run(out: Path, quick: bool = False, seed: int = 0) -> list[Path]:
    setting = QUICK if quick else FULL
    seeds = [seed + s for s in setting["seeds"]]
    bar = RunProgress(len(seeds) * setting["epochs"], "fig7")
    runs = {s: run_seed(s, setting["epochs"], on_epoch=lambda: bar.advance(1)) for s in seeds}
    bar.close()
    epochs = np.arange(setting["epochs"] + 1)

    rows: list[list[object]] = []
    for s, curves in runs.items():
        for e in epochs:
            rows.append(
                [
                    s,
                    e,
                    *(
                        f"{curves[f'{kind}_{n}'][e]:.6g}"
                        for n in NETS
                        for kind in ("train", "test")
                    ),
                ]
            )
    header = ["seed", "epoch", *(f"{kind}_loss_{n}" for n in NETS for kind in ("train", "test"))]
    paths = [write_csv(out / "fig7.csv", header, rows)]

    summary: list[tuple[str, float, float, float]] = []
    for net in NETS[1:]:
        largest = [float(gaps(c, net).max()) for c in runs.values()]
        mean = [float(gaps(c, net).mean()) for c in runs.values()]
        final = [float(c[f"test_{net}"][-1] / c["test_orig"][-1]) for c in runs.values()]
        summary.append((net, max(largest), float(np.mean(mean)), float(np.mean(final))))
    paths.append(
        write_csv(
            out / "fig7_summary.csv",
            ["net", "largest_gap", "mean_gap", "final_loss_over_original"],
            summary,
        )
    )
    after = right_after(range(seed, seed + RIGHT_AFTER_SEEDS))
    paths.append(
        write_csv(
            out / "fig7_right_after.csv",
            ["net", *(f"seed_{s}" for s in range(seed, seed + RIGHT_AFTER_SEEDS)), "median"],
            [[net, *errors, float(np.median(errors))] for net, errors in after.items()],
        )
    )
    paths.append(_verdict(out / "fig7_verdict.csv", summary, after, quick, len(seeds), setting))
    paths.append(plot(out / "fig7.png", runs, epochs, quick))
    return paths


def _verdict(
    path: Path,
    summary: list[tuple[str, float, float, float]],
    after: dict[str, list[float]],
    quick: bool,
    n_seeds: int,
    setting: Setting,
) -> Path:
    """The verdict table: the gaps during training (the paper's beside ours, where it
    published them) and the output error right after compression."""
    largest = {row[0]: row[1] for row in summary}
    mean = {row[0]: row[2] for row in summary}
    checks = []
    for net in NETS[1:]:
        paper: tuple[float | str, ...] = PAPER_GAPS.get(net, ("-", "-"))
        judged = net == "cp_both"  # the others are shown beside it
        for what, gap, published, limit in (
            ("largest", largest[net], paper[0], 0.05),
            ("mean", mean[net], paper[1], 0.01),
        ):
            criterion = f"<= {limit:.0%}" if judged else "shown"
            passed = gap <= limit if judged else None
            checks.append(
                Check(f"{LABELS[net]}: {what} test-loss gap", gap, published, criterion, passed)
            )
    ratio = mean["naive"] / max(mean["cp_both"], 1e-12)
    paper_ratio = PAPER_GAPS["naive"][1] / PAPER_GAPS["cp"][1]
    checks.append(
        Check(
            "random heads' mean gap / compressed (both)", ratio, paper_ratio, ">= 10", ratio >= 10
        )
    )
    median = {net: float(np.median(errors)) for net, errors in after.items()}
    margin = min(median["naive"], median["naive_rescaled"]) / max(median["cp_both"], 1e-300)
    checks += [
        Check(
            f"right after compression: output error, {LABELS['cp_both']}",
            median["cp_both"],
            "-",
            "<= 1e-3",
            median["cp_both"] <= 1e-3,
        ),
        Check(
            "right after compression: random heads' error / compressed (both)",
            margin,
            "-",
            ">= 100",
            margin >= 100,
        ),
    ]
    notes = [
        f"gaps: |test loss - original's| / original's over the epochs; right after compression: "
        f"median relative output error over {RIGHT_AFTER_SEEDS} seeds "
        + ", ".join(f"{net} {value:.2g}" for net, value in median.items())
    ]
    if quick:
        notes.append(
            f"quick: {n_seeds} seed(s), {setting['epochs']} epochs; paper: "
            f"{len(FULL['seeds'])} seeds, {FULL['epochs']} epochs"
        )
    title = f"Fig. 7 ({'quick, ' if quick else ''}{n_seeds} seed(s)): attention heads"
    return report_verdict(path, title, checks, notes)


def plot(
    path: Path,
    runs: dict[int, dict[str, NDArray[np.float64]]],
    epochs: NDArray[np.int_],
    quick: bool,
) -> Path:
    """Test loss of every net (ours, the paper's) and, where the curves overlap, the relative
    gap of every net to its original, ours beside the paper's."""
    plt = pyplot()
    paper = paper_table(PAPER_CSV)
    fig, (ours, theirs, gap) = plt.subplots(
        1, 3, figsize=(17, 4.8), gridspec_kw={"width_ratios": [1, 1, 1.15]}
    )
    theirs.sharey(ours)
    colours = {
        "orig": "black",
        "cp": "tab:blue",
        "cp_data": "tab:green",
        "cp_both": "tab:purple",
        "naive": "tab:red",
    }
    for net in NETS:
        curves = np.array([c[f"test_{net}"] for c in runs.values()])
        ours.plot(epochs, curves.mean(0), color=colours[net], marker="o", markersize=3)
        if len(curves) > 1:
            ours.fill_between(epochs, curves.min(0), curves.max(0), color=colours[net], alpha=0.2)
        if net != "orig":
            gaps_of_seeds = np.array([gaps(c, net) for c in runs.values()])
            gap.plot(
                epochs,
                np.maximum(gaps_of_seeds.mean(0), 1e-5),
                color=colours[net],
                marker="o",
                markersize=3,
                label=f"ours: {LABELS[net]}",
            )
    for net in ("orig", "cp", "naive"):
        theirs.plot(paper["epoch"], paper[f"test_loss_{net}"], color=colours[net])
        if net != "orig":
            relative = np.abs(paper[f"test_loss_{net}"] / paper["test_loss_orig"] - 1)
            gap.plot(
                paper["epoch"],
                np.maximum(relative, 1e-5),
                color=colours[net],
                linestyle="--",
                label=f"paper: {LABELS[net]}",
            )
    gap.axhline(0.05, color="grey", linewidth=0.8, linestyle=":", label="5 % (largest allowed)")
    gap.axhline(0.01, color="grey", linewidth=0.8, linestyle="-.", label="1 % (mean allowed)")
    seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
    ours.set_title(
        f"ours ({seeds}"
        + (", band: min-max" if len(runs) > 1 else "")
        + (", quick: 20 epochs" if quick else "")
        + ")"
    )
    theirs.set_title("paper (App. F, one run)")
    gap.set_title(f"|test loss / original's - 1| (ours: mean of {seeds})")
    for axis in (ours, theirs, gap):
        axis.set_xlabel("epoch (5 Adam steps of 256 episodes)")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
    ours.set_ylabel("test MSE at the query")
    gap.set_ylabel("relative test-loss gap (floor 1e-5)")
    for net in NETS:  # one key for the loss panels, in the first
        ours.plot([], [], color=colours[net], marker="o", markersize=3, label=LABELS[net])
    ours.legend(fontsize=7, loc="upper right")
    gap.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return save_figure(fig, path)
