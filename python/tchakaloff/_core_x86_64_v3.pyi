# The same module as _core, built for x86-64-v3 (see _native.py): the same names and types.

from ._core import *  # noqa: F403
