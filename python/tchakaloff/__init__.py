"""Moment-matching compression of permutation-invariant sets.

Keep a small, re-weighted subset of n objects (neurons of a layer, samples of a data set,
points of a measure) whose moments up to degree k equal those of the whole set.
"""

from __future__ import annotations

import logging

try:
    from ._native import core  # noqa: F401  (fail early, with the message below)
except ImportError as error:  # pragma: no cover - only without a build
    raise ImportError(
        "tchakaloff's compiled core (tchakaloff._core) is missing. Install the package with "
        "`pip install .` from the source tree (a C++17 compiler and CMake are needed), or for "
        "development `pip install --no-build-isolation -e .` after installing "
        "scikit-build-core and pybind11."
    ) from error

from .compression import Compression, compress
from .contributions import ContributionCompression, compress_contributions
from .dataset import DatasetCompression, compress_dataset
from .kernel import Summary, summarize
from .layer import LayerCompression, compress_layer
from .reduction import Reduction, ReductionError, exponents, moments, n_moments, reduce

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"
__all__ = [
    "Compression",
    "ContributionCompression",
    "DatasetCompression",
    "LayerCompression",
    "Reduction",
    "ReductionError",
    "Summary",
    "__version__",
    "compress",
    "compress_contributions",
    "compress_dataset",
    "compress_layer",
    "exponents",
    "moments",
    "n_moments",
    "reduce",
    "summarize",
]
