"""A positive cubature rule from samples.

At most C(m + k, k) of the samples, with positive weights, integrate every polynomial of
degree <= k exactly as all the samples do (Tchakaloff's theorem; `tchakaloff.reduce`).

    python examples/cubature.py
"""

import numpy as np
import tchakaloff
from numpy.typing import NDArray

DEGREE = 8

rng = np.random.default_rng(0)
samples = rng.uniform(-1, 1, size=(400_000, 2))
samples = samples[(samples**2).sum(axis=1) <= 1]  # uniform on the unit disk
weights = np.full(len(samples), np.pi / len(samples))  # their total: the disk's area

rule = tchakaloff.reduce(samples, weights, degree=DEGREE)
nodes, node_weights = samples[rule.indices], rule.weights
print(f"{len(samples)} samples -> {len(rule)} nodes with weights > 0, exact to degree {DEGREE}")


def integrand(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """A polynomial of degree 8 and a smooth function beside it."""
    return x[:, 0] ** 4 * x[:, 1] ** 4 - 3 * x[:, 0] ** 2 + np.exp(x[:, 1])


print(f"samples: {weights @ integrand(samples):.12f}")
print(f"nodes:   {node_weights @ integrand(nodes):.12f}")
