"""The scripts in examples/ run, and what they compute is checked against numpy.

Each runs in this process as `__main__` (as `python examples/NAME.py` would), and the
checks read the variables it leaves."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str, as_script: bool = True) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__" if as_script else "example")


def monomials(points: np.ndarray, degree: int) -> np.ndarray:
    """Every x^a y^b (a + b <= degree) at every point, by numpy."""
    powers = [(a, total - a) for total in range(degree + 1) for a in range(total + 1)]
    return np.column_stack([points[:, 0] ** a * points[:, 1] ** b for a, b in powers])


def test_every_example_has_a_test():
    tested = {"cubature.py", "dataset_fit.py", "torch_mlp.py", "dask_npy.py"}
    tested.add("sklearn_compressed_estimator.py")  # run by tests/test_sklearn.py
    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_cubature(capsys):
    found = run("cubature.py")
    samples, weights = found["samples"], found["weights"]
    rule, degree = found["rule"], found["DEGREE"]
    assert len(rule) <= (degree + 1) * (degree + 2) // 2
    assert np.all(rule.weights > 0)
    assert np.isclose(rule.weights.sum(), np.pi)
    exact = weights @ monomials(samples, degree)
    kept = rule.weights @ monomials(samples[rule.indices], degree)
    np.testing.assert_allclose(kept, exact, rtol=0, atol=1e-12 * np.pi)
    assert "nodes" in capsys.readouterr().out


def test_dataset_fit():
    pytest.importorskip("sklearn")
    found = run("dataset_fit.py")
    compressed, X, y = found["compressed"], found["X"], found["y"]
    assert len(compressed) == found["SIZE"]
    np.testing.assert_array_equal(compressed.X, X[compressed.indices])  # real rows
    np.testing.assert_array_equal(compressed.y, y[compressed.indices])
    assert np.isclose(compressed.weights.sum(), len(X))
    errors = found["errors"]
    assert errors["compressed"] < errors["random subset"]


def test_torch_mlp():
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")  # the digits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small network on shared cores: one thread is fastest
    try:
        found = run("torch_mlp.py")
    finally:
        torch.set_num_threads(threads)
    plain, compressed, model, X = found["plain"], found["compressed"], found["model"], found["X"]
    assert compressed.widths == [found["KEPT"]] * 2
    linear = [layer for layer in plain if isinstance(layer, torch.nn.Linear)]
    assert [layer.out_features for layer in linear] == [found["KEPT"], found["KEPT"], 10]
    with torch.no_grad():  # the folded network computes what the compressed one does
        torch.testing.assert_close(plain(X), compressed(X), rtol=1e-4, atol=1e-4)
    accuracy = found["accuracy"]
    assert accuracy(plain) > accuracy(found["naive"])
    assert accuracy(plain) > accuracy(model) - 0.05


def test_dask_npy(tmp_path, monkeypatch):
    pytest.importorskip("dask")
    rows = np.random.default_rng(1).uniform(-1, 1, size=(300_000, 2))
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    monkeypatch.setattr(sys, "argv", ["dask_npy.py", str(path)])
    run("dask_npy.py")  # as `python examples/dask_npy.py rows.npy`
    found = run("dask_npy.py", as_script=False)
    kept, degree = found["compress_file"](path), found["DEGREE"]
    assert len(kept) <= found["SIZE"]
    np.testing.assert_array_equal(kept.points, rows[kept.indices])
    exact = monomials(rows, degree).sum(axis=0)
    matched = kept.weights @ monomials(rows[kept.indices], degree)
    np.testing.assert_allclose(matched, exact, rtol=0, atol=1e-9 * len(rows))
