"""Side-by-side benchmark of trained-network compression at equal kept width:
tchakaloff's compress_mlp against Torch-Pruning (L2, group-norm and Taylor importance),
k-means merging, magnitude pruning and a rescaled random subset, with two references for
scale: the model of the kept width trained from scratch, and ours distilled to the wide
model's logits.

The comparison is the one of ``tchakaloff reproduce networks`` (see
:mod:`tchakaloff.reproduce.networks` for the models, data, methods and goals): two MLPs
64-1024-1024-10 (ReLU, GELU) and a small CNN trained on scikit-learn's digits, every hidden
layer cut to the same width, measured on the test set before and after 5 epochs of
fine-tuning. Every model is trained from 3 seeds (``--seeds``), and the goals are judged
on the mean over them: one trained model moves a method's accuracy by a test image or more.
Every method runs in this one process, at torch's thread count, so their seconds and the
wide model's epoch time are comparable.

Recorded: the environment, every number of every method on every seed, their means, and
per kept width the ratios the goals read: the best baseline's relative logit MSE over ours,
and our compression seconds over one training epoch of the wide model. This is a
benchmark, not a test: it asserts that every method keeps the asked width in every hidden
layer (ours at most that) and records which goals hold, never asserts speed.

Usage (from the repository root):
  python bench/compare_networks.py               # full setting, 3 seeds: 3.5 min, 2 cores
  python bench/compare_networks.py --quick --seeds 0 --out /tmp/networks.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import torch
from _environment import run_meta
from tchakaloff.reproduce import networks


def record(comparison: networks.Comparison) -> dict[str, Any]:
    goals = networks.goals(comparison)
    return {
        "model": comparison.model,
        "description": networks.title(comparison.model, comparison.full_width),
        "full_width": comparison.full_width,
        "epochs": comparison.epochs,
        "finetune_epochs": comparison.finetune_epochs,
        "finetune_runs": comparison.finetune_runs,
        "wide": {
            "train_accuracy": comparison.train_accuracy,
            "accuracy": comparison.accuracy,
            "accuracy_finetuned": comparison.accuracy_finetuned,
            "epoch_seconds": comparison.epoch_seconds,
        },
        "methods": [dataclasses.asdict(r) for r in comparison.results],
        "ratios": [
            {
                "width": g["width"],
                "mse_ratio_best_baseline_over_ours": g["mse_ratio"],
                "best_baseline_by_mse": g["best_baseline_by_mse"],
                "compress_seconds_over_epoch_seconds": g["compress_over_epoch"],
            }
            for g in goals
        ],
        "goals": goals,
        "all_goals_met": all(all(g["checks"].values()) for g in goals),
        "verdict": networks.verdict(comparison),
    }


def compared(
    model: str, setting: networks.Setting, seed: int, data: networks.Digits
) -> networks.Comparison:
    comparison = networks.compare(model, setting, seed, data)
    for r in comparison.results:
        # Every method is compared at the width it was asked for, ours at most that.
        if r.method == "ours":
            assert all(0 < kept <= r.width for kept in r.kept), (model, r)
        else:
            assert all(kept == r.width for kept in r.kept), (model, r)
    return comparison


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the reproduction's quick setting")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="trained copies of every model"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "compare_networks.json"
    )
    args = parser.parse_args(argv)
    setting = networks.QUICK if args.quick else networks.FULL
    data = networks.digits()
    # per model, one comparison per seed: the goals are judged on their mean
    comparisons = {
        model: [compared(model, setting, seed, data) for seed in args.seeds]
        for model in setting.models
    }
    means = [record(networks.average(runs)) for runs in comparisons.values()]
    report = {
        "meta": {
            **run_meta(
                "compare_networks.py",
                argv,
                ("tchakaloff", "numpy", "torch", "torch-pruning", "scikit-learn"),
            ),
            "torch_threads": torch.get_num_threads(),
            "setting": dataclasses.asdict(setting),
            "seeds": args.seeds,
            "data": "sklearn load_digits / 16, train_test_split(test_size=0.25, random_state=0, "
            f"stratify=y): {len(data.x_train)} training, {len(data.x_test)} test images",
            "training": f"Adam lr {networks.LR:g} (constant), batch {networks.BATCH}, "
            "cross-entropy; fine-tuning the same with a fresh optimiser, the rate annealed "
            f"from {networks.LR:g} to 0 along a cosine, {setting.finetune_runs} times on their "
            "own batch orders, test accuracies averaged",
            "relative_logit_mse": "mean((logits - wide logits)^2) / var(wide logits), test set",
            "seconds": f"best of {networks.TIMING_REPEATS} calls; epoch_seconds: the fastest of "
            "the wide model's training epochs",
            "methods": networks.METHODS,
            "references": networks.REFERENCES,
        },
        "all_goals_met": all(r["all_goals_met"] for r in means),
        "mean_over_seeds": means,
        "seeds": [
            {"seed": seed, "models": [record(runs[index]) for runs in comparisons.values()]}
            for index, seed in enumerate(args.seeds)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=float) + "\n")
    for seed in report["seeds"]:
        for r in seed["models"]:
            print(f"seed {seed['seed']}: {r['verdict']}\n")
    for r in means:
        print(f"mean over seeds {args.seeds}: {r['verdict']}\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
