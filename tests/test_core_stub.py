"""The type stub of the compiled core names exactly what the core exports, and mypy's
stubtest finds the stub's classes, members and types in the runtime module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tchakaloff import _core

STUB = Path(__file__).resolve().parent.parent / "python" / "tchakaloff" / "_core.pyi"
# What every pybind11 class has and a stub leaves out: its metaclass, module-local
# capsules, and the refusing constructor of a class built by the core only.
PYBIND11_INTERNALS = [
    r"tchakaloff\._core\.[A-Z]\w*",
    r".*\.__pybind11_module_local_\w*",
    r"tchakaloff\._core\.(Compression|Reduction)\.__init__",
]


def test_stub_matches_the_core() -> None:
    tree = ast.parse(STUB.read_text())
    stubbed = {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    } | {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    stubbed = {name for name in stubbed if not name.startswith("_")}  # typing helpers
    exported = {name for name in dir(_core) if not name.startswith("_")}
    assert stubbed == exported


def test_stubtest(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy needs Python 3.11 here: pip install the test extra")
    allowlist = tmp_path / "allowlist.txt"
    allowlist.write_text("\n".join(PYBIND11_INTERNALS) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tchakaloff._core", "--allowlist", str(allowlist)],
        cwd=tmp_path,  # the installed package, as a user imports it
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
