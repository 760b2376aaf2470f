# Type stubs of the compiled core (private; the public API is the tchakaloff package).
# Points are C-contiguous float64 (n, m) arrays and weights float64 (n,) arrays or None;
# the core refuses anything else instead of copying it.

import enum
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

openmp: bool
isa: str  # "baseline" or "x86-64-v3": the instruction set this build was compiled for
cpu_runs_x86_64_v3: bool  # whether this CPU runs the x86-64-v3 build

class ReductionError(ArithmeticError): ...

class Basis(enum.Enum):
    monomial = ...
    chebyshev = ...

class Partition(enum.Enum):
    kd = ...
    greedy = ...

# Options carry the core's defaults, which are the product's; the arrays of a result are
# views of the result's own buffers (no copy).
class ReduceOptions:
    basis: Basis
    prefer_central: bool
    threads: int  # 0: automatic
    def __init__(self) -> None: ...

class CompressOptions:
    basis: Basis
    prefer_central: bool
    partition: Partition
    merge: int  # greedy: objects removed per group; 0: greedy_merge(N)
    prepass: float  # greedy: first k-d cut to prepass * size; < 0: greedy_prepass
    refine_steps: int  # kd: pivots per cell toward its next moments; 0: no search
    metric: NDArray[np.float64] | None
    threads: int  # 0: automatic
    def __init__(self) -> None: ...

class Reduction:
    @property
    def indices(self) -> NDArray[np.int64]: ...
    @property
    def weights(self) -> NDArray[np.float64]: ...
    @property
    def moment_error(self) -> float: ...
    @property
    def levels(self) -> int: ...

class Compression:
    @property
    def indices(self) -> NDArray[np.int64]: ...
    @property
    def weights(self) -> NDArray[np.float64]: ...
    @property
    def labels(self) -> NDArray[np.int64]: ...
    @property
    def cells(self) -> int: ...
    @property
    def moment_error(self) -> float: ...

def n_moments(dim: int, degree: int) -> int: ...
def auto_degree(dim: int, size: int) -> int: ...
def exponents(dim: int, degree: int) -> NDArray[np.int64]: ...
def moments(
    points: NDArray[np.float64], weights: NDArray[np.float64] | None, degree: int
) -> NDArray[np.float64]: ...
def reduce(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    degree: int,
    options: ReduceOptions = ...,
) -> Reduction: ...
def greedy_merge(n_moments: int) -> int: ...
def greedy_prepass(cut_dims: int, degree: int) -> float: ...
def compress(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    degree: int,
    size: int,
    options: CompressOptions = ...,
    progress: Callable[[int, int], None] | None = None,
) -> Compression: ...
def reduce_cells(
    points: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    order: Sequence[int],
    offsets: Sequence[int],
    degree: int,
    options: CompressOptions = ...,
    progress: Callable[[int, int], None] | None = None,
) -> Compression: ...
def idle_cores() -> int: ...
