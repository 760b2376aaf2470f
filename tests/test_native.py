"""The two builds of the core: which one is loaded, and both keep the contract."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from _reference import moment_mismatch
from tchakaloff import _native
from tchakaloff._native import options

BUILDS = [_native._baseline]
try:
    from tchakaloff import _core_x86_64_v3

    BUILDS.append(_core_x86_64_v3)
except ImportError:  # a build without it: only the baseline is tested
    pass


def import_core(**env: str) -> subprocess.CompletedProcess:
    """Import the package in a fresh interpreter; its stdout is the loaded build."""
    return subprocess.run(
        [sys.executable, "-c", "from tchakaloff._native import core; print(core.isa)"],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_fastest_build_the_cpu_runs_is_loaded():
    fast = len(BUILDS) > 1 and _native._baseline.cpu_runs_x86_64_v3
    assert import_core().stdout.strip() == ("x86-64-v3" if fast else "baseline")
    assert _native.core.isa == ("x86-64-v3" if fast else "baseline")


def test_the_baseline_can_be_forced_and_a_bad_choice_is_refused():
    assert import_core(TCHAKALOFF_CORE="baseline").stdout.strip() == "baseline"
    refused = import_core(TCHAKALOFF_CORE="avx9000")
    assert refused.returncode != 0
    assert "TCHAKALOFF_CORE must be 'auto' or 'baseline'" in refused.stderr


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.isa)
def test_every_build_keeps_the_moments(build):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20_000, 3))
    w = rng.uniform(0.5, 2.0, size=len(x))
    greedy = build.Partition.greedy  # each build has its own option types
    for result, degree in (
        (build.reduce(x, w, 4), 4),
        (build.compress(x, w, 3, 2_000), 3),
        (build.compress(x, w, 2, 1_000, options(build.CompressOptions, partition=greedy)), 2),
    ):
        indices, weights = result.indices, result.weights
        assert len(np.unique(indices)) == len(indices)
        assert (weights > 0).all()
        assert np.isclose(weights.sum(), w.sum(), rtol=1e-12)
        assert moment_mismatch(x, w, indices, weights, degree) < 1e-10
