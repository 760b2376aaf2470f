"""Side-by-side benchmark of hidden-layer compression: tchakaloff.compress_layer against the
sub-networks a user would try instead, at compression time (before any training).

Every method gets the same two-layer network x -> fc2(s(fc1(x))) with 2 inputs, 1 output and
width 1e4, drawn by PyTorch's default nn.Linear initialisation (torch.manual_seed(seed)), and
keeps about 1e3 neurons:

  ours            tchakaloff.compress_layer, k = 5 (neuron (a, w1, w2, b), m = 4, N = 126),
                  defaults: rounds that at most halve the width (shrink=2), cells cut along
                  the incoming weights and bias (cells="incoming");
  ours_1round     the same in a single round (shrink=None);
  compress_cells  one round with tchakaloff.compress's own cells over all four coordinates
                  (shrink=None, cells="all"): a single tchakaloff.compress call;
  random          a uniform random sub-network, multiplicities 1 (the paper's naive net);
  random_rescaled the same with multiplicities d / d' (mean over 10 draws; best and worst
                  draw recorded too);
  magnitude       the d' neurons of largest |a| * |(w, b)|, multiplicities 1 (pruning);
  magnitude_rescaled  the same with multiplicities d / d';
  kmeans          k-means merging of the standardised neuron objects into d' centroids
                  weighted by cluster size (scikit-learn, new neurons, not a sub-network).

Error: mean over 2e4 inputs x ~ U[-1, 1]^2 of (f_small(x) - f(x))^2 divided by the variance
of f(x) over the same inputs, for ReLU and tanh (the neurons are the same; only s changes).
Every method keeps len(indices) <= 1000 neurons; ours keeps 882 (7 cells of N = 126).

This is a benchmark, not a test: it asserts that ours is correct (rows of the original,
positive multiplicities with total = width) and records the targets of the layer
compression (ReLU error <= 0.3 and >= 30x below the mean rescaled random sub-network, tanh
error <= 1e-3, for every network seed), never speed.

Usage (from the repository root):
  python bench/compare_layer.py                      # 5 network seeds, ~1-2 minutes
  python bench/compare_layer.py --seeds 1 --out /tmp/layer.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from _environment import run_meta
from tchakaloff.layer import (
    LayerCompression,
    compress_layer,
    merge_by_kmeans,
    prune_by_magnitude,
    random_neurons,
)

WIDTH, SIZE, DEGREE, N_TEST, RANDOM_DRAWS = 10_000, 1000, 5, 20_000, 10
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
}


def network(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    torch.manual_seed(seed)
    fc1, fc2 = torch.nn.Linear(2, WIDTH), torch.nn.Linear(WIDTH, 1)
    return tuple(p.detach().double().numpy() for p in (fc1.weight, fc1.bias, fc2.weight))


def relative_errors(
    layer: LayerCompression, x: np.ndarray, full: dict[str, np.ndarray]
) -> dict[str, float]:
    return {
        name: float(np.mean((layer.output(x, s) - full[name]) ** 2) / full[name].var())
        for name, s in ACTIVATIONS.items()
    }


def timed(build: Callable[[], LayerCompression]) -> tuple[LayerCompression, float]:
    start = time.perf_counter()
    layer = build()
    return layer, time.perf_counter() - start


def one_network(seed: int) -> dict[str, Any]:
    w_in, b_in, w_out = network(seed)
    x = np.random.default_rng([seed, 1]).uniform(-1, 1, size=(N_TEST, 2))
    pre = x @ w_in.T + b_in
    full = {name: s(pre) @ w_out.T for name, s in ACTIVATIONS.items()}
    args = (w_in, b_in, w_out)
    methods: dict[str, Any] = {}

    def record(name: str, layer: LayerCompression, seconds: float) -> None:
        methods[name] = {"kept": len(layer), "seconds": seconds, **relative_errors(layer, x, full)}

    ours, seconds = timed(lambda: compress_layer(*args, size=SIZE, degree=DEGREE))
    assert np.all(np.diff(ours.indices) > 0) and len(ours) <= SIZE
    assert np.all(ours.weights > 0) and abs(ours.weights.sum() - WIDTH) < 1e-8 * WIDTH
    np.testing.assert_array_equal(ours.W_in, w_in[ours.indices])
    record("ours", ours, seconds)
    record(
        "ours_1round",
        *timed(lambda: compress_layer(*args, size=SIZE, degree=DEGREE, shrink=None)),
    )
    record(
        "compress_cells",
        *timed(lambda: compress_layer(*args, size=SIZE, degree=DEGREE, shrink=None, cells="all")),
    )
    record("random", *timed(lambda: random_neurons(*args, size=SIZE, rescale=False, rng=seed)))
    draws = [
        relative_errors(random_neurons(*args, size=SIZE, rng=[seed, draw]), x, full)
        for draw in range(RANDOM_DRAWS)
    ]
    methods["random_rescaled"] = {
        "kept": SIZE,
        "draws": RANDOM_DRAWS,
        **{name: float(np.mean([d[name] for d in draws])) for name in ACTIVATIONS},
        **{f"{name}_best": float(np.min([d[name] for d in draws])) for name in ACTIVATIONS},
        **{f"{name}_worst": float(np.max([d[name] for d in draws])) for name in ACTIVATIONS},
    }
    record("magnitude", *timed(lambda: prune_by_magnitude(*args, size=SIZE)))
    record("magnitude_rescaled", *timed(lambda: prune_by_magnitude(*args, size=SIZE, rescale=True)))
    record("kmeans", *timed(lambda: merge_by_kmeans(*args, size=SIZE, rng=seed)))
    relu_ratio = methods["random_rescaled"]["relu"] / methods["ours"]["relu"]
    return {
        "seed": seed,
        "output_variance": {name: float(full[name].var()) for name in ACTIVATIONS},
        "methods": methods,
        "relu_ratio_to_random_rescaled": float(relu_ratio),
        "targets_met": {
            "relu_error_le_0.3": methods["ours"]["relu"] <= 0.3,
            "relu_30x_below_random_rescaled": relu_ratio >= 30,
            "tanh_error_le_1e-3": methods["ours"]["tanh"] <= 1e-3,
        },
    }


def table(results: list[dict[str, Any]]) -> str:
    names = list(results[0]["methods"])
    lines = [
        "| method | kept | ReLU error (median / worst) | tanh error (median / worst) |",
        "|---|---|---|---|",
    ]
    for name in names:
        rows = [r["methods"][name] for r in results]
        cells = [
            f"{np.median([row[a] for row in rows]):.3g} / {np.max([row[a] for row in rows]):.3g}"
            for a in ACTIVATIONS
        ]
        lines.append(f"| {name} | {rows[0]['kept']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="networks, seeds 0 .. seeds-1")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "compare_layer.json"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = [one_network(seed) for seed in range(args.seeds)]
    report = {
        "meta": {
            **run_meta("compare_layer.py", argv, ("tchakaloff", "numpy", "torch", "scikit-learn")),
            "network": f"nn.Linear(2, {WIDTH}) -> s -> nn.Linear({WIDTH}, 1), PyTorch default "
            "initialisation after torch.manual_seed(seed)",
            "size": SIZE,
            "degree": DEGREE,
            "error": f"mean over {N_TEST} x ~ U[-1, 1]^2 of (f_small - f)^2 / var(f), "
            "output bias left out (it is shared)",
            "random_rescaled": f"mean over {RANDOM_DRAWS} draws",
        },
        "table": table(results),
        "all_targets_met": all(all(r["targets_met"].values()) for r in results),
        "networks": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=float) + "\n")
    print(report["table"])
    for r in results:
        print(
            f"seed {r['seed']}: ratio {r['relu_ratio_to_random_rescaled']:.0f}x", r["targets_met"]
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
