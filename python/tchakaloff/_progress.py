"""Progress bars for long calls into the core (tqdm, an optional dependency)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_callback(
    enabled: bool, description: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A `(done, total)` callback that drives a tqdm bar, or None when not `enabled`."""
    if not enabled:
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError as error:
        raise ImportError("progress=True draws with tqdm: pip install tqdm") from error
    bar = tqdm(desc=description, leave=False)

    def report(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield report
    finally:
        bar.close()
