"""The compiled core, loaded once for the whole package.

It is built for the x86-64 baseline and, where the compiler can, also for x86-64-v3 (AVX2
and FMA: about 1.2x faster). The x86-64-v3 build is loaded where the CPU runs it, unless
the environment sets TCHAKALOFF_CORE=baseline. The two builds keep the same guarantees;
FMA rounds differently, so exact ties between equally valid subsets may break differently.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TypeVar

from . import _core as _baseline


def _load() -> ModuleType:
    choice = os.environ.get("TCHAKALOFF_CORE", "auto").strip().lower()
    if choice not in ("auto", "baseline"):
        raise ImportError(f"TCHAKALOFF_CORE must be 'auto' or 'baseline', got {choice!r}")
    if choice == "baseline" or not _baseline.cpu_runs_x86_64_v3:
        return _baseline
    try:
        from . import _core_x86_64_v3
    except ImportError:  # built without it (another compiler or architecture)
        return _baseline
    return _core_x86_64_v3


core = _load()


_Options = TypeVar("_Options")


def options(kind: type[_Options], **fields: object) -> _Options:
    """The core's options of `kind` (``core.ReduceOptions`` or ``core.CompressOptions``),
    with the core's defaults, which are the product's, and `fields` set."""
    result = kind()
    for name, value in fields.items():
        setattr(result, name, value)
    return result
