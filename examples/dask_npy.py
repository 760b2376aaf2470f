"""Compress the rows of a .npy file chunk by chunk with Dask.

The file is read one chunk of rows at a time, so memory is bounded by the chunk, not the
file; every chunk is a task on the active Dask scheduler (threads here; a
`distributed.Client` runs the same code on a cluster). The kept rows match the moments of
all rows up to the degree, cell by cell.

    python examples/dask_npy.py [rows.npy]    (without a file: 2e6 generated rows)
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import tchakaloff
import tchakaloff.dask

SIZE, DEGREE = 20_000, 4


def compress_file(path: Path) -> tchakaloff.dask.ChunkedCompression:
    kept = tchakaloff.dask.compress(path, size=SIZE, degree=DEGREE, chunks=250_000)
    rows = np.load(path, mmap_mode="r")
    total = kept.weights.sum()
    print(f"kept {len(kept)} of {len(rows)} rows in {kept.chunks} chunks, weight {total:.0f}")
    full = tchakaloff.moments(rows, degree=DEGREE)
    compressed = tchakaloff.moments(kept.points, kept.weights, degree=DEGREE)
    difference = np.abs(compressed - full).max() / np.abs(full).max()
    print(f"largest moment difference, relative to the largest moment: {difference:.1e}")
    return kept


if __name__ == "__main__":
    if len(sys.argv) > 1:
        compress_file(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rows.npy"
            np.save(path, np.random.default_rng(0).normal(size=(2_000_000, 3)))
            compress_file(path)
