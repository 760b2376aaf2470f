# Type stubs of the compiled core (private; the public API is the tchakaloff package).
# Points are C-contiguous float64 (n, m) arrays and weights float64 (n,) arrays or None;
# the core refuses anything else instead of copying it.

import enum
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

openmp: bool
isa: str  # "baseline" or "x86-64-v3": the instruction set this build was compiled for
cpu_runs_x86_64_v3: bool  # whether this CPU runs the x86-64-v3 build

class ReductionError(ArithmeticError): ...

class Basis(enum.Enum):
    monomial = ...
    chebyshev = ...

def n_moments(dim: int, degree: int) -> int: ...
def exponents(dim: int, degree: int) -> NDArray[np.int64]: ...
def moments(
    points: NDArray[np.float64], weights: NDArray[np.float64] | None, degree: int
) -> NDArray[np.float64]: ...
def reduce(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    degree: int,
    basis: Basis = ...,
    threads: int = 0,
) -> dict[str, Any]: ...  # indices, weights, moment_error, levels
def compress(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    degree: int,
    size: int,
    prefer_central: bool = True,
    partition: str = "kd",
    merge: int = 1,
    prepass: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
    metric: NDArray[np.float64] | None = None,
    threads: int = 0,
    refine_steps: int = ...,
) -> dict[str, Any]: ...  # indices, weights, labels, cells, moment_error
def reduce_cells(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    order: Sequence[int],
    offsets: Sequence[int],
    degree: int,
    prefer_central: bool = True,
    progress: Callable[[int, int], None] | None = None,
    threads: int = 0,
) -> dict[str, Any]: ...
def idle_cores() -> int: ...
