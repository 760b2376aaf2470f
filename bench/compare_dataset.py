"""Dataset compression against the subsets a user would try instead, on the Fig. 3 task.

Data: the paper's teacher-student task (random width-50 ReLU teacher, x ~ U[-1, 1]^2, label
noise 3), d = 1e4 training rows (x1, x2, y), kept size d' = 1e3. Methods, all weighted so
that the total weight stays d:

  ours        tchakaloff.compress_dataset(x, y, size=d', degree=5): d' real rows, moments
              of (x, y) up to degree 5 kept in 17 cells (the rows left over go to the cells
              of largest Taylor remainder);
  random      a uniform random subset of d' rows (tchakaloff.baselines.random_subset),
              weights d / d';
  kmeans      d' k-means centroids of the standardized rows (x, y) (scikit-learn, through
              tchakaloff.baselines.kmeans_merge), weights the cluster sizes; the centroids
              are synthetic rows, mapped back to the original units;
  first rows  the first d' rows, weights d / d' (the paper's naive subset).

Measured for each method:
  landscape   |L_w(theta) - L(theta)| / L(theta) for random students theta, L the full-data
              MSE and L_w the weighted MSE of the kept rows: 50 students with PyTorch's default
              initialisation ("default init") and 50 with every weight ~ U(-1, 1) like the
              teacher ("teacher scale"); median and 90th percentile;
  training    the clean test MSE after the Fig. 3 training (400 epochs, cosine schedule,
              one shared initialisation) in the four panels, full data as the reference;
  seconds     wall time to build the subset.
And the claim that compressing is cheaper than training: compress 1e6 rows of the same task
(m = 3, k = 5) to 1e4, against one epoch of full-data training of the student on those 1e6
rows with each panel's optimiser (steps only, no evaluation; best over 1 and 2 torch threads).

This is a benchmark, not a test: it asserts the correctness of ours (real rows with their own
labels, weights > 0 with total d, moments of degree <= 5 kept) and reports everything else.

Usage (from the repository root):
  python bench/compare_dataset.py              # 1 seed, all panels, about 4 minutes on 2 cores
  python bench/compare_dataset.py --seeds 3    # training numbers averaged over 3 seeds
  python bench/compare_dataset.py --quick      # the two mini-batch panels only, 100 epochs
Writes bench/results/compare_dataset.json (compare_dataset_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import tchakaloff
import torch
from _environment import run_meta
from tchakaloff.baselines import kmeans_merge, random_subset
from tchakaloff.reproduce import fig3, panel_label
from tchakaloff.reproduce.training import Optimiser, student, teacher_task, train

D, D_KEPT, DEGREE = 10_000, 1_000, 5
METHODS = ("ours", "random", "kmeans", "first rows")
PANELS = [(name, lr, batch) for name, lr, batch, _ in fig3.PANELS]  # without the paper's files


def subsets(task, seed: int) -> dict[str, dict]:
    """Every method's rows (x, y), weights and build time."""
    x, y = task.x, task.y
    out = {}
    start = time.perf_counter()
    res = tchakaloff.compress_dataset(x, y, size=D_KEPT, degree=DEGREE)
    out["ours"] = {"x": res.X, "y": res.y, "w": res.weights, "s": time.perf_counter() - start}
    check_ours(res, x, y)

    start = time.perf_counter()
    rows, w = random_subset(D, D_KEPT, rng=seed)
    out["random"] = {"x": x[rows], "y": y[rows], "w": w, "s": time.perf_counter() - start}

    start = time.perf_counter()
    centroids, mass = kmeans_merge(np.column_stack([x, y]), size=D_KEPT, rng=seed)
    out["kmeans"] = {
        "x": centroids[:, :2],
        "y": centroids[:, 2],
        "w": mass,
        "s": time.perf_counter() - start,
    }

    start = time.perf_counter()
    out["first rows"] = {
        "x": x[:D_KEPT],
        "y": y[:D_KEPT],
        "w": np.full(D_KEPT, D / D_KEPT),
        "s": time.perf_counter() - start,
    }
    return out


def check_ours(res, x, y) -> None:
    assert np.all(np.diff(res.indices) > 0) and len(res) <= D_KEPT
    assert np.array_equal(res.X, x[res.indices]) and np.array_equal(res.y, y[res.indices])
    assert np.all(res.weights > 0) and np.isclose(res.weights.sum(), len(x), rtol=1e-12)
    full = tchakaloff.moments(np.column_stack([x, y]), degree=DEGREE)
    kept = tchakaloff.moments(np.column_stack([res.X, res.y]), res.weights, degree=DEGREE)
    assert np.all(np.abs(kept - full) <= 1e-9 * np.abs(full).max())


def random_students(rng: np.random.Generator, scale: str, count: int = 50):
    """(w1, b1, w2, b2) of `count` width-50 students: PyTorch's default initialisation
    (U(-1/sqrt(fan_in), 1/sqrt(fan_in))) or every weight ~ U(-1, 1)."""
    for _ in range(count):
        a1, a2 = (1 / np.sqrt(2), 1 / np.sqrt(50)) if scale == "default init" else (1.0, 1.0)
        yield (
            rng.uniform(-a1, a1, (50, 2)),
            rng.uniform(-a1, a1, 50),
            rng.uniform(-a2, a2, 50),
            rng.uniform(-a2, a2),
        )


def landscape(task, sets: dict[str, dict], seed: int) -> dict[str, dict]:
    out: dict[str, dict] = {method: {} for method in sets}
    for scale in ("default init", "teacher scale"):
        errors: dict[str, list[float]] = {method: [] for method in sets}
        for w1, b1, w2, b2 in random_students(np.random.default_rng(seed), scale):

            def loss(x, y, w1=w1, b1=b1, w2=w2, b2=b2):
                return (np.maximum(x @ w1.T + b1, 0) @ w2 + b2 - y) ** 2

            full = loss(task.x, task.y).mean()
            for method, s in sets.items():
                weighted = s["w"] @ loss(s["x"], s["y"]) / s["w"].sum()
                errors[method].append(abs(weighted - full) / full)
        for method, values in errors.items():
            out[method][scale] = {
                "median": float(np.median(values)),
                "p90": float(np.quantile(values, 0.9)),
            }
    return out


def training(task, sets: dict[str, dict], seed: int, panels, epochs: int) -> dict[str, dict]:
    model = student(seed)
    out: dict[str, dict] = {}
    for name, lr, batch in panels:
        optimiser = Optimiser(name, lr, batch)
        row = {
            "full": train(model, task.x, task.y, None, task, optimiser, epochs=epochs, seed=seed)
        }
        for method, s in sets.items():
            row[method] = train(
                model, s["x"], s["y"], s["w"], task, optimiser, epochs=epochs, seed=seed
            )
        out[panel_label(name, lr, batch)] = {key: float(value[1][-1]) for key, value in row.items()}
    return out


def epoch_seconds(task, optimiser: Optimiser, seed: int) -> float:
    """Wall time of one full-data epoch of the student: shuffle, then every step (forward,
    backward, optimiser), without any evaluation."""
    net = student(seed)
    xs = torch.as_tensor(task.x, dtype=torch.float32)
    ys = torch.as_tensor(task.y, dtype=torch.float32)
    optimizer = optimiser.build(net.parameters())
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    if optimiser.batch_size is None:
        batches = [slice(None)]
    else:
        batches = torch.split(torch.randperm(len(xs), generator=generator), optimiser.batch_size)
    for rows in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = ((net(xs[rows])[:, 0] - ys[rows]) ** 2).mean()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def compress_vs_epoch(seed: int) -> dict:
    """Compress 1e6 rows to 1e4 (best of 3) vs one full-data epoch of the student on them
    (best of 2, over 1 and 2 torch threads)."""
    task = teacher_task(1_000_000, 1_000, np.random.default_rng(seed))
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        res = tchakaloff.compress_dataset(task.x, task.y, size=10_000, degree=DEGREE)
        best = min(best, time.perf_counter() - start)
    epochs = {}
    for name, lr, batch in PANELS:
        times = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times[threads] = min(
                epoch_seconds(task, Optimiser(name, lr, batch), seed) for _ in range(2)
            )
        epochs[panel_label(name, lr, batch)] = {
            "seconds_1_thread": times[1],
            "seconds_2_threads": times[2],
            "seconds": min(times.values()),
        }
    torch.set_num_threads(1)
    return {"rows": 1_000_000, "kept": len(res), "compress_seconds": best, "epoch": epochs}


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="mini-batch panels, 100 epochs")
    parser.add_argument("--seeds", type=int, default=1, help="seeds for the training numbers")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or here / "results" / (
        "compare_dataset_quick.json" if args.quick else "compare_dataset.json"
    )
    panels = PANELS[2:] if args.quick else PANELS
    epochs = 100 if args.quick else 400
    torch.set_num_threads(1)  # a 2-50-1 network trains fastest on one thread

    seeds = [args.seed + s for s in range(args.seeds)]
    per_seed = []
    for seed in seeds:
        task = teacher_task(D, D, np.random.default_rng(seed))
        sets = subsets(task, seed)
        per_seed.append(
            {
                "seed": seed,
                "kept": {method: len(s["w"]) for method, s in sets.items()},
                "build_seconds": {method: s["s"] for method, s in sets.items()},
                "landscape": landscape(task, sets, seed),
                "training": training(task, sets, seed, panels, epochs),
            }
        )
        print(f"seed {seed} done", flush=True)

    summary = {"landscape": {}, "training": {}, "build_seconds": {}}
    for method in METHODS:
        summary["landscape"][method] = {
            scale: float(np.mean([r["landscape"][method][scale]["median"] for r in per_seed]))
            for scale in ("default init", "teacher scale")
        }
        summary["build_seconds"][method] = float(
            np.mean([r["build_seconds"][method] for r in per_seed])
        )
    for name, lr, batch in panels:
        key = panel_label(name, lr, batch)
        summary["training"][key] = {
            method: float(np.mean([r["training"][key][method] for r in per_seed]))
            for method in ("full", *METHODS)
        }
    speed = compress_vs_epoch(args.seed)

    meta = {
        **run_meta("compare_dataset.py", argv, ("tchakaloff", "numpy", "torch", "scikit-learn")),
        "task": f"teacher-student (Fig. 3), d = {D}, d' = {D_KEPT}, k = {DEGREE}",
        "epochs": epochs,
        "seeds": seeds,
        "landscape": "median over 50 random students of |L_w - L| / L; summary: mean over "
        "seeds of the per-seed medians",
        "training": "clean test MSE after the last epoch; summary: mean over seeds",
        "torch_threads": "1 for training (reproduction setting); both 1 and 2 for the epoch timing",
    }
    result = {"meta": meta, "summary": summary, "compress_vs_epoch": speed, "per_seed": per_seed}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")

    print(table(summary))
    print(f"\ncompress 1e6 -> {speed['kept']} rows: {speed['compress_seconds']:.2f} s")
    for key, value in speed["epoch"].items():
        print(f"one full-data epoch on 1e6 rows, {key}: {value['seconds']:.2f} s")
    print(f"wrote {out}")
    return 0


def table(summary: dict) -> str:
    keys = list(summary["training"])
    head = "| method | landscape error, default init | landscape error, teacher scale | "
    head += " | ".join(f"test MSE, {k}" for k in keys) + " | seconds |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    full = summary["training"]
    lines.append(
        "| full data (1e4 rows) | 0 | 0 | "
        + " | ".join(f"{full[k]['full']:.4f}" for k in keys)
        + " | - |"
    )
    for method in METHODS:
        land = summary["landscape"][method]
        lines.append(
            f"| {method} | {land['default init']:.1e} | {land['teacher scale']:.1e} | "
            + " | ".join(f"{full[k][method]:.4f}" for k in keys)
            + f" | {summary['build_seconds'][method]:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
