# Type stubs of the compiled core (private; the public API is the tchakaloff package).
# Points are C-contiguous float64 (n, m) arrays and weights float64 (n,) arrays or None;
# the core refuses anything else instead of copying it.

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, type_check_only

import numpy as np
from numpy.typing import NDArray

openmp: bool
isa: str  # "baseline" or "x86-64-v3": the instruction set this build was compiled for
cpu_runs_x86_64_v3: bool  # whether this CPU runs the x86-64-v3 build

class ReductionError(ArithmeticError): ...

# pybind11 enums: their members are instances of the class, which is no enum.Enum
@type_check_only
class _Enum:
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class Basis(_Enum):
    monomial: ClassVar[Basis]
    chebyshev: ClassVar[Basis]
    __members__: ClassVar[dict[str, Basis]]

class Partition(_Enum):
    kd: ClassVar[Partition]
    greedy: ClassVar[Partition]
    __members__: ClassVar[dict[str, Partition]]

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
    merge: int  # greedy: objects removed per group; 0: max(1, N / 8)
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
    order: Sequence[int] | NDArray[np.integer[Any]],  # any sequence of ints (copied)
    offsets: Sequence[int] | NDArray[np.integer[Any]],
    degree: int,
    options: CompressOptions = ...,
    progress: Callable[[int, int], None] | None = None,
) -> Compression: ...
def idle_cores() -> int: ...
