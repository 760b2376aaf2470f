"""The subsets a user would try instead of moment matching, for the comparison tables: a
uniform random subset and k-means merging, both weighted so that the total weight stays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_points, as_rng, as_weights


def random_subset(
    n: int, size: int, *, total: float | None = None, rng: np.random.Generator | int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """`size` distinct rows of n drawn uniformly, each weighted total / size (total n by default).

    Returns the sorted indices and their weights.
    """
    if not 1 <= size <= n:
        raise ValueError(f"size must lie in [1, {n}], got {size}")
    generator = as_rng(rng)
    indices = np.sort(generator.choice(n, size=size, replace=False)).astype(np.int64)
    weight = (n if total is None else float(total)) / size
    return indices, np.full(size, weight)


def kmeans_merge(
    objects: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    size: int,
    rng: np.random.Generator | int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Merge the objects into `size` weighted k-means centroids (scikit-learn), each carrying
    its cluster's weight. The centroids are synthetic objects, not rows of the input.

    The clustering measures every column in units of its standard deviation (k-means is not
    scale-free: a column of small numbers would otherwise be ignored); the centroids are
    returned in the objects' own units.

    Returns the (size, m) centroids and their weights (clusters left empty are dropped).
    """
    try:
        from sklearn.cluster import KMeans
    except ImportError as error:
        raise ImportError("kmeans_merge needs scikit-learn: pip install scikit-learn") from error
    x = as_points(objects, "objects")
    w = as_weights(weights, len(x))
    w = np.ones(len(x)) if w is None else w
    if not 1 <= size <= len(x):
        raise ValueError(f"size must lie in [1, {len(x)}], got {size}")
    centre, spread = x.mean(axis=0), x.std(axis=0)
    spread[spread == 0] = 1.0
    seed = int(as_rng(rng).integers(2**31 - 1))
    model = KMeans(n_clusters=size, n_init=1, random_state=seed)
    model.fit((x - centre) / spread, sample_weight=w)
    # numpy's stubs type every bincount as intp; with weights= it is float64 (no copy here)
    mass = np.bincount(model.labels_, weights=w, minlength=size).astype(np.float64, copy=False)
    keep = mass > 0
    return model.cluster_centers_[keep] * spread + centre, mass[keep]
