"""The documentation builds with warnings as errors, every page's code cells run, and so
do the examples in the docstrings that the API reference shows.

A failing cell, a docstring that does not render or a broken cross-reference fails the
build. The cells run in a Jupyter kernel of this interpreter (myst-nb)."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "python" / "tchakaloff"
WITH_EXAMPLES = sorted(
    "tchakaloff." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if ">>> " in path.read_text()
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("sphinx", "myst_nb", "furo"):  # in the test extra: missing is a failure
        importlib.import_module(tool)
    out = tmp_path_factory.mktemp("docs")
    # kernels from this interpreter only, not a user's own kernelspecs
    env = {**os.environ, "JUPYTER_DATA_DIR": str(out / "jupyter")}
    # pages in parallel: each runs its cells on one thread (docs/conf.py)
    command = [sys.executable, "-m", "sphinx", "-j", "auto", "-W", "--keep-going", "-q"]
    command += ["-b", "html"]
    command += ["-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-6000:]
    return out / "html"


def test_docs_build_with_warnings_as_errors(built: Path) -> None:
    pages = {path.stem for path in DOCS.glob("*.md")}
    assert {"index", "quickstart", "api", "reproduce"} <= pages
    for page in pages - {"sklearn", "cpp"}:  # those two only when their parts are present
        assert (built / f"{page}.html").is_file(), page


def test_every_page_with_code_shows_its_output(built: Path) -> None:
    with_code = [path for path in DOCS.glob("*.md") if "```{code-cell}" in path.read_text()]
    assert len(with_code) >= 7
    for path in with_code:
        html = (built / f"{path.stem}.html").read_text()
        cells = path.read_text().count("```{code-cell}")
        assert html.count('class="cell docutils container"') == cells, path.name
        assert "cell_output" in html, f"{path.name}: no cell printed anything"
        assert "Traceback" not in html, path.name


def test_api_reference_documents_the_public_functions(built: Path) -> None:
    import tchakaloff

    html = (built / "api.html").read_text()
    documented = set(re.findall(r'id="tchakaloff\.([A-Za-z_]+)"', html))
    assert set(tchakaloff.__all__) - {"__version__"} <= documented


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    results = doctest.testmod(module, optionflags=flags, raise_on_error=False)
    assert results.attempted > 0
    assert results.failed == 0
