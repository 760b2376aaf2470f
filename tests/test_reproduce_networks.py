"""tchakaloff reproduce networks: a tiny setting runs end to end, writes its CSV and PNG, and
ours matches the trained network's logits better than a rescaled random subset."""

import csv

import pytest

pytest.importorskip("torch")
pytest.importorskip("torch_pruning")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from tchakaloff.reproduce import EXPERIMENTS, networks


def test_tiny_run_writes_outputs_and_ours_beats_random(tmp_path, capsys):
    setting = networks.Setting(
        models=("relu_mlp",), mlp_epochs=3, finetune_epochs=1, hidden=64, mlp_widths=(16,)
    )
    paths = EXPERIMENTS["networks"](tmp_path, seed=0, setting=setting)

    assert {p.name for p in paths} == {"networks.csv", "networks.png"}
    assert all(p.stat().st_size > 0 for p in paths)
    with open(tmp_path / "networks.csv", newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"wide", *networks.METHODS, *networks.REFERENCES}
    assert all(row["model"] == "relu_mlp" for row in rows.values())
    assert all(int(rows[m]["kept_width"]) == 16 for m in set(rows) - {"wide"})
    assert float(rows["ours"]["relative_logit_mse"]) < float(
        rows["random_rescaled"]["relative_logit_mse"]
    )
    # The verdict table is the command's output.
    assert "ReLU MLP" in capsys.readouterr().out


def _comparison(model, shift):
    result = networks.MethodResult("ours", 16, (16,), 90.0 + shift, 1.0 - shift, 0.1, 91.0, 0.01)
    return networks.Comparison(model, 64, 3, 1, 3, 100.0, 91.0, 92.0 + shift, 0.1, 450, [result])


def test_average_takes_the_mean_of_every_number_and_keeps_the_rest():
    mean = networks.average([_comparison("relu_mlp", 0.0), _comparison("relu_mlp", 2.0)])

    assert (mean.model, mean.full_width, mean.test_images) == ("relu_mlp", 64, 450)
    assert mean.accuracy_finetuned == 93.0
    (result,) = mean.results
    assert (result.method, result.width, result.kept) == ("ours", 16, (16,))
    assert (result.accuracy, result.drop, result.accuracy_finetuned) == (91.0, 0.0, 91.0)
    with pytest.raises(ValueError, match="one model"):
        networks.average([_comparison("relu_mlp", 0.0), _comparison("gelu_mlp", 0.0)])
