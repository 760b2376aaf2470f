"""The package type-checks under ``mypy --strict`` (configured in pyproject.toml), with the
type checker and the stubs it reads pinned in the test extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy needs Python 3.11 here: pip install the test extra")
    # mypy's cache in pytest's cache folder of this checkout (created on a clean clone): the
    # first run checks everything, numpy and torch included (~15 s of CPU), later runs only
    # what changed (under 1 s). mypy re-checks whatever no longer matches its cache.
    cache = request.config.cache
    folder = cache.mkdir("mypy") if cache is not None else tmp_path
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
