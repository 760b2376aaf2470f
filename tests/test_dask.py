"""tchakaloff.dask: chunked reduction keeps the moments of all rows, chunked compression keeps
its contracts, and the result is the same on the threaded scheduler, on a real
distributed.LocalCluster, and after a worker is killed in the middle of a run."""

from __future__ import annotations

import os
import re
import signal
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import distributed
import numpy as np
import pytest
import tchakaloff
import tchakaloff.dask as td
from _reference import reference_moments
from tchakaloff.cli import main

RNG = np.random.default_rng(16)
X = RNG.normal(size=(21_000, 3))
W = RNG.uniform(0.5, 2.0, size=len(X))


def chunked(x: np.ndarray, chunks: int) -> da.Array:
    """x in `chunks` row chunks of unequal sizes (the last is the largest)."""
    bounds = np.linspace(0, len(x), chunks + 1).astype(int)
    sizes = tuple(int(s) for s in np.diff(bounds))
    return da.from_array(x, chunks=(sizes, x.shape[1]))


def assert_exact_moments(x, w, indices, weights, degree, rtol=1e-12):
    """The kept rows' raw moments equal all rows' (numpy reference, relative to sum |w x^a|)."""
    full, scale = reference_moments(x, w, degree)
    kept, _ = reference_moments(x[indices], weights, degree)
    assert np.all(np.abs(kept - full) <= rtol * scale)


def assert_subset(result, x, total, size=None):
    assert np.all(np.diff(result.indices) > 0)  # sorted, distinct
    assert result.indices[0] >= 0 and result.indices[-1] < len(x)
    assert np.all(result.weights > 0)
    np.testing.assert_allclose(result.weights.sum(), total, rtol=1e-12)
    if size is not None:
        assert len(result) <= size


@pytest.fixture
def threads():
    """The threaded scheduler with 2 threads (unless a test opens a Client)."""
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


@pytest.fixture(scope="module")
def cluster():
    """A real cluster of 2 worker processes with 1 thread each, torn down after the module."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as local:
        yield local


@pytest.mark.parametrize("chunks", [1, 2, 7])
@pytest.mark.parametrize("weighted", [False, True])
def test_reduce_keeps_all_moments_at_any_chunking(threads, chunks, weighted):
    w = W if weighted else None
    res = td.reduce(chunked(X, chunks), None if w is None else da.from_array(w), degree=5)
    assert_subset(res, X, len(X) if w is None else W.sum(), tchakaloff.n_moments(3, 5))
    assert np.array_equal(res.points, X[res.indices])
    assert_exact_moments(X, w, res.indices, res.weights, 5)
    assert res.chunks == chunks and res.depth >= 1


def test_reduce_merges_in_a_tree_of_split_every_children(threads):
    """7 chunks, 2 per merge: 3 levels (7 -> 4 -> 2 -> 1); moments still exact."""
    res = td.reduce(chunked(X, 7), degree=4, split_every=2)
    assert res.depth == 3
    assert_exact_moments(X, None, res.indices, res.weights, 4)


@pytest.mark.parametrize("chunks", [1, 2, 7])
@pytest.mark.parametrize("partition", td.PARTITIONS)
def test_compress_keeps_its_contract(threads, chunks, partition):
    """Rows of the input with weights > 0 and the input's total, exactly `size` of them, and
    every cell's moments: so all rows' moments too."""
    k, size = 3, 2010  # k-d cells of N = 20 (84 when "auto" raises k to 6) leave rows to spend
    res = td.compress(chunked(X, chunks), W, size=size, degree=k, partition=partition)
    assert_subset(res, X, W.sum(), size)
    assert np.array_equal(res.points, X[res.indices])
    assert len(res) == size
    assert_exact_moments(X, W, res.indices, res.weights, k, rtol=1e-10)


def test_compress_is_as_accurate_as_in_memory(threads):
    """A smooth symmetric function (the Fig. 2 sigmoid) of the kept rows: within a few times
    the in-memory compression's error, and far below a random subset's."""
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 1, size=(40_000, 3))
    errors = {"dask": [], "memory": [], "random": []}
    for _ in range(4):
        probe = rng.uniform(-1, 1, size=(10, 3))
        values = (1 / (1 + np.exp(-w @ probe.T))).mean(axis=1)
        ours = td.compress(chunked(w, 8), size=4000, degree=4)
        mem = tchakaloff.compress(w, size=4000, degree=4)
        pick = rng.choice(len(w), 4000, replace=False)
        errors["dask"].append(abs(values.mean() - ours.weights @ values[ours.indices] / len(w)))
        errors["memory"].append(abs(values.mean() - mem.weights @ values[mem.indices] / len(w)))
        errors["random"].append(abs(values.mean() - values[pick].mean()))
    mean = {key: np.mean(value) for key, value in errors.items()}
    assert mean["dask"] <= 3 * mean["memory"]
    assert mean["dask"] <= mean["random"] / 1000


@pytest.mark.parametrize("chunks", [1, 2, 7])
def test_compress_dataset_regression_keeps_its_contract(threads, chunks):
    x, y = X[:, :2], np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * X[:, 2]
    res = td.compress_dataset(chunked(x, chunks), da.from_array(y), size=1510, degree=3)
    assert_subset(res, x, len(x), 1510)
    assert len(res) == 1510  # 75 cells of N = 20 and 10 rows on the widest
    assert np.array_equal(res.X, x[res.indices]) and np.array_equal(res.y, y[res.indices])
    joint = np.column_stack([x, y])
    assert_exact_moments(joint, None, res.indices, res.weights, 3, rtol=1e-10)


@pytest.mark.parametrize("chunks", [1, 2, 7])
def test_compress_dataset_classes_keep_their_totals(threads, chunks):
    x = X[:, :2]
    labels = np.where(X[:, 2] > 0.5, "b", "a")  # classes of unequal size
    res = td.compress_dataset(chunked(x, chunks), labels, size=1000, degree=3)
    assert res.discrete and np.array_equal(res.y, labels[res.indices])
    assert_subset(res, x, len(x), 1000)
    assert len(res) == 1000  # each class's share is rarely a multiple of N = 10
    for label in ("a", "b"):
        rows = np.flatnonzero(labels == label)
        mine = res.y == label
        np.testing.assert_allclose(res.weights[mine].sum(), len(rows), rtol=1e-12)
        full, scale = reference_moments(x[rows], None, 3)
        kept, _ = reference_moments(res.X[mine], res.weights[mine], 3)
        assert np.all(np.abs(kept - full) <= 1e-10 * scale)


def test_same_result_on_threads_and_on_a_local_cluster(threads, cluster):
    x, y = X[:, :2], X[:, 2] ** 2
    runs = {}
    for where in ("threads", "cluster"):
        with distributed.Client(cluster) if where == "cluster" else dask.config.set():
            runs[where] = (
                td.reduce(chunked(X, 7), W, degree=4),
                td.compress(chunked(X, 7), W, size=1200, degree=3),
                td.compress(chunked(X, 7), size=1200, degree=3, partition="greedy", rng=1),
                td.compress_dataset(chunked(x, 7), y, size=800, degree=3),
            )
    for a, b in zip(runs["threads"], runs["cluster"]):
        assert np.array_equal(a.indices, b.indices)
        assert np.array_equal(a.weights, b.weights)


def _slow_rows(block: np.ndarray) -> np.ndarray:
    time.sleep(0.4)  # chunks that take a while to produce, so that a run can be interrupted
    return block


def test_a_worker_killed_mid_run_does_not_change_the_result(threads, cluster):
    x = chunked(X, 12).map_blocks(_slow_rows, dtype=X.dtype)
    expected = td.reduce(x, degree=4)
    with distributed.Client(cluster) as client, ThreadPoolExecutor(1) as pool:
        pids = client.run(os.getpid)
        run = pool.submit(td.reduce, x, degree=4)  # the client's computation, in a thread
        deadline = time.monotonic() + 30
        while not any(client.processing().values()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.6)  # a few chunks done, most still to go
        assert not run.done()
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        result = run.result(timeout=120)
        client.wait_for_workers(2, timeout=60)
        assert set(client.run(os.getpid).values()) != set(pids.values())  # a new process
    assert np.array_equal(result.indices, expected.indices)
    assert np.array_equal(result.weights, expected.weights)


def test_npy_file_and_memmap_give_the_in_memory_result_with_bounded_memory(threads, tmp_path):
    x = np.random.default_rng(3).normal(size=(400_000, 3))
    path = tmp_path / "rows.npy"
    np.save(path, x)
    expected = td.reduce(da.from_array(x, chunks=(20_000, 3)), degree=5)
    mapped = np.load(path, mmap_mode="r")
    tracemalloc.start()
    for source in (path, str(path), mapped):
        res = td.reduce(source, degree=5, chunks=20_000)
        assert np.array_equal(res.indices, expected.indices)
        assert np.array_equal(res.weights, expected.weights)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < x.nbytes / 4  # chunks of 480 kB in a file of 9.6 MB


def test_bad_input_raises_value_error_naming_the_fix(threads):
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        td.reduce(da.from_array(X, chunks=(5000, 2)), degree=2)
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        x = da.from_array(X, chunks=(5000, 3))
        td.compress(x[x[:, 0] > 0], size=500, degree=2)
    bad = X.copy()
    bad[13_457, 1] = np.nan  # in the third of 7 chunks
    for run in (
        lambda x: td.reduce(x, degree=2),
        lambda x: td.compress(x, size=500, degree=2),
        lambda x: td.compress_dataset(x[:, :2], X[:, 2], size=500, degree=2),
    ):
        with pytest.raises(ValueError, match=r"row 13457.*remove or impute"):
            run(chunked(bad, 7))
    with pytest.raises(ValueError, match=r"weights must be finite and >= 0 \(row 20 is -1\.0\)"):
        td.reduce(chunked(X, 3), np.where(np.arange(len(X)) == 20, -1.0, 1.0), degree=2)
    with pytest.raises(ValueError, match=r"below N = 20.*raise size or lower the degree"):
        td.compress(chunked(X, 2), size=10, degree=3)


def test_nan_in_a_chunk_is_reported_from_the_cluster(threads, cluster):
    bad = X.copy()
    bad[4000, 0] = np.inf
    with distributed.Client(cluster), pytest.raises(ValueError, match=r"row 4000"):
        td.reduce(chunked(bad, 7), degree=2)


def test_cli_compresses_a_file_and_refuses_bad_files(tmp_path, capsys):
    path, weights, out = tmp_path / "x.npy", tmp_path / "w.npy", tmp_path / "kept.npz"
    np.save(path, X)
    np.save(weights, W)
    args = [str(path), "--size", "2e3", "--degree", "3", "--chunks", "4000", "--out", str(out)]
    assert main(["compress", *args, "--weights", str(weights), "--no-progress"]) == 0
    kept = np.load(out)
    assert np.array_equal(kept["rows"], X[kept["indices"]])
    assert_exact_moments(X, W, kept["indices"], kept["weights"], 3, rtol=1e-10)
    assert "kept 2000 of 21000 rows" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["compress", "--help"])
    choices = re.search(r"--partition \{([a-z_,]+)\}", capsys.readouterr().out)
    assert choices is not None and tuple(choices.group(1).split(",")) == td.PARTITIONS

    np.save(tmp_path / "complex.npy", X.astype(complex))
    np.save(tmp_path / "cube.npy", np.zeros((4, 2, 2)))
    (tmp_path / "text.npy").write_text("not an array")
    for name, message in [
        ("missing.npy", "no such file"),
        ("complex.npy", r"dtype complex128; save real numbers"),
        ("cube.npy", r"shape \(4, 2, 2\); pass a 2-d"),
        ("text.npy", "not a .npy file; save the array with numpy.save"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(["compress", str(tmp_path / name), "--size", "10", "--degree", "1", "--out", "o"])
        assert exit_.value.code == 2
        assert re.search(message, capsys.readouterr().err)
