"""tchakaloff reproduce fig4: the target, and a small run of the protocol writes what its
verdict reports, panel by panel."""

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from scipy.special import jv  # noqa: E402
from tchakaloff.reproduce import fig4  # noqa: E402


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_harmonic_is_the_papers_target_unless_asked():
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    r, theta = np.hypot(x[:, 0], x[:, 1]), np.arctan2(x[:, 1], x[:, 0])
    assert np.allclose(fig4.harmonic(x), jv(6, 20 * r) * np.cos(6 * theta))
    assert np.allclose(fig4.harmonic(x, 2, 6.0), jv(2, 6 * r) * np.cos(2 * theta))
    paper, quick = fig4.harmonic_data(30, 30, 0), fig4.harmonic_data(30, 30, 0, (2, 6.0))
    assert torch.equal(paper[0], quick[0]) and not torch.equal(paper[3], quick[3])


def test_small_run_reports_each_panel_from_its_own_curve(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fig4, "WIDTH", 400)
    monkeypatch.setattr(fig4, "SIZE", 200)
    setting = fig4.Setting(512, 256, 128, {"SGD": 2, "Rprop": 2, "AdamW": 3}, 2, target=(2, 6.0))
    monkeypatch.setattr(fig4, "QUICK", setting)
    paths = fig4.run(tmp_path, quick=True, seed=0)
    assert {p.name for p in paths} >= {"fig4.png", "fig4_verdict.csv", "fig4_summary.csv"}
    out = capsys.readouterr().out
    assert "target J2(6 r) cos(2 theta)" in out and "J6(20 r) cos(6 theta)" in out

    curves = read_rows(tmp_path / "fig4.csv")
    summary = {row["optimizer"]: row for row in read_rows(tmp_path / "fig4_summary.csv")}
    verdict = read_rows(tmp_path / "fig4_verdict.csv")
    assert len(verdict) == 2 * len(fig4.PANELS)
    finals = set()
    for panel, row in summary.items():
        test = {
            net: np.array([float(c[f"test_loss_{net}"]) for c in curves if c["optimizer"] == panel])
            for net in fig4.NETS
        }
        assert len(test["orig"]) == 1 + setting.epochs[panel]  # epoch 0 and every epoch
        assert float(row["largest_gap_cp"]) == pytest.approx(fig4.largest_gap(test, "cp"))
        ratio = test["naive"][-1] / test["cp"][-1]
        assert float(row["naive_over_cp_final"]) == pytest.approx(ratio)
        what = f"{panel}: final test loss, naive / compressed"
        check = next(v for v in verdict if v["check"] == what)
        assert check["result"] == ("pass" if ratio >= fig4.NAIVE_BEHIND else "FAIL")
        finals.add(float(row["final_test_orig"]))
    assert len(finals) == len(fig4.PANELS)  # each panel its own run, not one value three times
