"""The linters the repository is kept with: ruff (Python) and clang-format (C++), pinned in
the test extra so that every machine checks the same rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ["python", "tests", "bench", "examples", "docs"]
CPP = sorted(
    str(path.relative_to(ROOT))
    for folder in ("cpp/src", "cpp/include", "cpp/bindings", "cpp/tests", "bench")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".cpp", ".hpp")
)


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("check", [["check"], ["format", "--check"]])
def test_ruff(check):
    result = run([sys.executable, "-m", "ruff", *check, *PYTHON])
    assert result.returncode == 0, result.stdout + result.stderr


def test_clang_format():
    beside_python = Path(sys.executable).parent / "clang-format"  # a venv not on PATH
    tool = shutil.which("clang-format") or (str(beside_python) if beside_python.exists() else None)
    assert tool, "clang-format is missing: pip install the test extra"
    assert len(CPP) > 20
    result = run([tool, "--dry-run", "--Werror", *CPP])
    assert result.returncode == 0, result.stderr[-4000:]
