"""Sphinx configuration: MyST pages whose code cells run at every build (myst-nb), and the
API reference from the numpydoc docstrings. Built with warnings as errors by
tests/test_docs.py."""

from __future__ import annotations

import os
from pathlib import Path

import tchakaloff

DOCS = Path(__file__).resolve().parent

project = "tchakaloff"
author = "the tchakaloff authors"
release = version = tchakaloff.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]

# Pages of parts that may be missing from a checkout: each is built, and listed where the
# index says OPTIONAL_PAGES, only when what it documents is there.
OPTIONAL_PAGES = {
    "sklearn": DOCS.parent / "python" / "tchakaloff" / "sklearn.py",
    "cpp": DOCS / "cpp.md",
}
present_pages = [page for page, needs in OPTIONAL_PAGES.items() if needs.exists()]
exclude_patterns += [f"{page}.md" for page in OPTIONAL_PAGES if page not in present_pages]


def _list_optional_pages(app, docname: str, source: list[str]) -> None:
    if docname == "index":
        source[0] = source[0].replace("OPTIONAL_PAGES", "\n".join(present_pages))


def setup(app) -> None:
    app.connect("source-read", _list_optional_pages)


# The cells run on one thread unless told otherwise (numpy, torch and the core all read it):
# a thread team on shared cores waits at every barrier for the busiest core.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Every code cell runs at every build, and a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_show_tb = True
nb_execution_in_temp = True  # cells that write files write them in a temporary folder
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_preserve_defaults = True
autodoc_mock_imports: list[str] = []
# Every reference a docstring makes to a function, method or module must resolve; the types
# in signatures and parameter lists ("(n, m) array", "torch.Tensor") are left as text.
nitpicky = True
nitpick_ignore_regex = [("py:class", ".*")]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

html_theme = "furo"
html_title = f"tchakaloff {release}"
