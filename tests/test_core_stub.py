"""The type stub of the compiled core names exactly what the core exports."""

import ast
from pathlib import Path

from tchakaloff import _core

STUB = Path(__file__).resolve().parent.parent / "python" / "tchakaloff" / "_core.pyi"


def test_stub_matches_the_core():
    tree = ast.parse(STUB.read_text())
    stubbed = {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    } | {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    exported = {name for name in dir(_core) if not name.startswith("_")}
    assert stubbed == exported
