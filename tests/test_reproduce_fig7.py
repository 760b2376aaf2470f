"""tchakaloff reproduce fig7: the episodes follow App. F's recipe, and a small run of the
protocol trains the four nets on the same batches with the compressed nets closer to the
original than the random heads."""

import csv
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tchakaloff.reproduce import fig7  # noqa: E402


def test_episodes_are_piecewise_linear_regression_tasks():
    sequences, targets = fig7.episodes(500, torch.Generator().manual_seed(0))
    assert sequences.shape == (500, 17, 1) and targets.shape == (500,)
    x = sequences[:, 0:16:2, 0]
    assert float(x.min()) >= 0 and float(x.max()) <= 1  # context inputs in [0, 1]
    assert 0 <= float(sequences[:, -1, 0].min()) and float(sequences[:, -1, 0].max()) <= 1
    # the noise of the context labels is 0.3: their spread around a piecewise-linear f
    # with slopes of order 1 is far below their own spread
    assert 0.3 < float(sequences[:, 1:16:2, 0].std()) < 3


def test_a_small_run_keeps_the_compressed_nets_close():
    curves = fig7.run_seed(0, epochs=2, heads=1000, kept=200)
    for net in fig7.NETS:
        assert curves[f"test_{net}"].shape == (3,)
        assert np.isnan(curves[f"train_{net}"][0]) and np.all(
            np.isfinite(curves[f"train_{net}"][1:])
        )
    for net in ("cp", "cp_data", "cp_both"):
        assert fig7.gaps(curves, net)[0] < fig7.gaps(curves, "naive")[0]


def test_right_after_compression_moments_and_contributions_are_closest():
    errors = fig7.right_after([0, 1], heads=1000, kept=200)
    median = {net: float(np.median(e)) for net, e in errors.items()}
    assert median["cp_both"] < 1e-6
    assert median["cp_both"] < 1e-3 * median["cp"]
    assert median["cp"] < median["naive_rescaled"] and median["cp"] < median["naive"]


def test_plot_writes_the_three_panels(tmp_path):
    pytest.importorskip("matplotlib")
    epochs = np.arange(4)
    runs = {
        s: {f"test_{net}": 0.1 + 0.01 * (i + s) / (1 + epochs) for i, net in enumerate(fig7.NETS)}
        for s in (0, 1)
    }
    path = fig7.plot(tmp_path / "fig7.png", runs, epochs, quick=True)
    assert path.exists() and path.stat().st_size > 10_000


def test_run_prints_and_writes_a_verdict_table(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(fig7, "QUICK", {"epochs": 1, "seeds": (0,)})
    monkeypatch.setattr(fig7, "RIGHT_AFTER_SEEDS", 2)
    small = {"heads": 1000, "kept": 200}
    monkeypatch.setattr(fig7, "run_seed", functools.partial(fig7.run_seed, **small))
    monkeypatch.setattr(fig7, "right_after", functools.partial(fig7.right_after, **small))
    paths = fig7.run(tmp_path, quick=True)
    assert {p.name for p in paths} >= {"fig7.png", "fig7_verdict.csv"}
    out = capsys.readouterr().out
    assert out.startswith("Fig. 7 (quick, 1 seed(s))") and "note: quick:" in out
    with open(tmp_path / "fig7_verdict.csv", newline="") as handle:
        rows = {row["check"]: row for row in csv.DictReader(handle)}
    summary = np.genfromtxt(tmp_path / "fig7_summary.csv", delimiter=",", names=True, dtype=None)
    both = summary[summary["net"] == "cp_both"][0]
    row = rows[f"{fig7.LABELS['cp_both']}: largest test-loss gap"]
    assert float(row["ours"]) == pytest.approx(both["largest_gap"], rel=1e-2)
    assert row["result"] == ("pass" if both["largest_gap"] <= 0.05 else "FAIL")
    assert rows[f"{fig7.LABELS['naive']}: mean test-loss gap"]["result"] == "-"
