"""tchakaloff.torch.pruning: every baseline returns a pruned copy at the widths asked for,
keeps real units of the original (the subset methods, checked row by row, with Torch-Pruning's
scores recomputed here from their definitions), merges exact copies exactly (k-means), and
leaves the input model untouched."""

import numpy as np
import pytest
import torch
from tchakaloff.torch.pruning import kmeans_merge, magnitude, random_units, torch_pruning
from torch import nn
from torch.nn import functional


def seeded(seed, build):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build()


def mlp(seed=0):
    return seeded(
        seed,
        lambda: nn.Sequential(
            nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)
        ),
    )


def cnn(seed=0):
    # The first block nested, as models are often written.
    return seeded(
        seed,
        lambda: nn.Sequential(
            nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU()),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 4 * 4, 3),
        ),
    )


def inputs(net, n=16, seed=1):
    shape = (n, 8) if isinstance(layers(net)[0], nn.Linear) else (n, 1, 8, 8)
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def labels(x):
    return torch.arange(len(x)) % 3


def layers(net):
    return [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


NETS = {"mlp": (mlp, [5, 7]), "cnn": (cnn, [3, 5])}

PRUNERS = {
    "tp_l2": lambda net, widths, x: torch_pruning(
        net, widths, importance="l2", example_inputs=x[:2]
    ),
    "tp_group_norm": lambda net, widths, x: torch_pruning(
        net, widths, importance="group_norm", example_inputs=x[:2]
    ),
    "tp_taylor": lambda net, widths, x: torch_pruning(
        net, widths, importance="taylor", example_inputs=x[:2], calibration=x, labels=labels(x)
    ),
    "magnitude": lambda net, widths, x: magnitude(net, widths),
    "random": lambda net, widths, x: random_units(net, widths, rng=0),
    "random_rescaled": lambda net, widths, x: random_units(net, widths, rescale=True, rng=0),
    "kmeans": lambda net, widths, x: kmeans_merge(net, widths, rng=0),
}
SUBSETS = [name for name in PRUNERS if name != "kmeans"]


def scales(name, net, widths):
    """The factor on each hidden layer's outgoing weights: width / kept when rescaled."""
    units = [layer.weight.shape[0] for layer in layers(net)[:-1]]
    return [w / k if name == "random_rescaled" else 1.0 for w, k in zip(units, widths)]


def incoming_rows(layer, kept_inputs, units_in, scale):
    weight = layer.weight.detach()
    if kept_inputs is not None:
        weight = weight.reshape(weight.shape[0], units_in, -1)[:, kept_inputs] * scale
    rows = weight.flatten(1)
    if layer.bias is not None:
        rows = torch.cat([rows, layer.bias.detach()[:, None]], dim=1)
    return rows


def kept_units(original, pruned, factors):
    """The original unit behind every unit of every pruned hidden layer, matched by its
    incoming weights and bias (restricted to the kept inputs, times the previous layer's
    factor); fails if a pruned unit is no unit of the original."""
    before, after = layers(original), layers(pruned)
    kept, previous, scale = [], None, 1.0
    for index, (old, new) in enumerate(zip(before, after)):
        units_in = before[index - 1].weight.shape[0] if index else None
        candidates = incoming_rows(old, previous, units_in, scale)
        rows = incoming_rows(new, None, None, 1.0)
        if index == len(before) - 1:
            # The output layer keeps all its units: only its inputs were pruned.
            torch.testing.assert_close(rows, candidates, rtol=1e-6, atol=0)
            break
        match = torch.cdist(rows.double(), candidates.double()).argmin(dim=1)
        torch.testing.assert_close(rows, candidates[match], rtol=1e-6, atol=0)
        assert len(set(match.tolist())) == len(match), "a unit was kept twice"
        kept.append(match)
        previous, scale = match, factors[index]
    return kept


def snapshot(net):
    return {key: value.clone() for key, value in net.state_dict().items()}


@pytest.mark.parametrize("net_name", NETS)
@pytest.mark.parametrize("name", PRUNERS)
def test_widths_structure_and_untouched_original(name, net_name):
    build, widths = NETS[net_name]
    net = build()
    x = inputs(net)
    before = snapshot(net)
    pruned = PRUNERS[name](net, widths, x)
    assert type(pruned) is nn.Sequential and pruned is not net
    assert [type(m) for m in pruned.modules()] == [type(m) for m in net.modules()]
    assert [layer.weight.shape[0] for layer in layers(pruned)] == [*widths, 3]
    assert pruned(x).shape == net(x).shape
    torch.testing.assert_close(layers(pruned)[-1].bias, layers(net)[-1].bias, rtol=0, atol=0)
    after = net.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert all(p.grad is None for p in net.parameters())
    assert all(p.grad is None for p in pruned.parameters())


@pytest.mark.parametrize("net_name", NETS)
@pytest.mark.parametrize("name", SUBSETS)
def test_subset_methods_keep_units_of_the_original(name, net_name):
    build, widths = NETS[net_name]
    net = build()
    pruned = PRUNERS[name](net, widths, inputs(net))
    kept = kept_units(net, pruned, scales(name, net, widths))
    assert [len(units) for units in kept] == widths


def score_term(importance, parameter, units=None):
    """Per unit: sum of w**2 (or |w * dL/dw| for Taylor) over its rows, or over its columns of
    the next layer when `units` is given (blocks of columns after nn.Flatten)."""
    value = parameter.detach()
    value = (value * parameter.grad).abs() if importance == "taylor" else value**2
    if units is not None:
        value = value.reshape(value.shape[0], units, -1).transpose(0, 1)
    return value.flatten(1).sum(dim=1)


def reference_scores(importance, net, x):
    """Torch-Pruning's scores of every hidden layer, from their definitions, on the unpruned
    network: filter norm, group norm, or |w * dL/dw| over the group."""
    hidden = layers(net)
    if importance == "taylor":
        net.zero_grad()
        functional.cross_entropy(net(x), labels(x)).backward()
    scores = []
    for layer, following in zip(hidden, hidden[1:]):
        score = score_term(importance, layer.weight)
        if importance != "l2":
            score = score + score_term(importance, following.weight, layer.weight.shape[0])
        scores.append(score)
    net.zero_grad(set_to_none=True)
    return scores


@pytest.mark.parametrize("net_name", NETS)
@pytest.mark.parametrize("importance", ["l2", "group_norm", "taylor"])
def test_torch_pruning_keeps_the_best_scored_units(importance, net_name):
    build, widths = NETS[net_name]
    net = build()
    x = inputs(net)
    pruned = PRUNERS[f"tp_{importance}"](net, widths, x)
    kept = kept_units(net, pruned, [1.0] * len(widths))
    for units, score, k in zip(kept, reference_scores(importance, net, x), widths):
        best = torch.sort(torch.argsort(score, descending=True)[:k]).values
        assert sorted(units.tolist()) == best.tolist()


@pytest.mark.parametrize("net_name", NETS)
def test_magnitude_keeps_the_largest_incoming_times_outgoing(net_name):
    build, widths = NETS[net_name]
    net = build()
    kept = kept_units(net, magnitude(net, widths), [1.0] * len(widths))
    hidden = layers(net)
    for units, layer, following, k in zip(kept, hidden, hidden[1:], widths):
        rows = torch.cat([layer.weight.detach().flatten(1), layer.bias.detach()[:, None]], 1)
        n = layer.weight.shape[0]
        columns = following.weight.detach().reshape(following.weight.shape[0], n, -1)
        score = rows.norm(dim=1).numpy() * columns.transpose(0, 1).flatten(1).norm(dim=1).numpy()
        assert sorted(units.tolist()) == sorted(np.argsort(-score)[:k].tolist())


@pytest.mark.parametrize("net_name", NETS)
def test_full_width_random_units_rescaled_is_the_original(net_name):
    build, _ = NETS[net_name]
    net = build()
    full = [layer.weight.shape[0] for layer in layers(net)[:-1]]
    same = random_units(net, full, rescale=True, rng=3)
    x = inputs(net)
    torch.testing.assert_close(same(x), net(x), rtol=0, atol=0)
    assert all(torch.equal(a, b) for a, b in zip(snapshot(same).values(), snapshot(net).values()))


def test_random_units_differ_by_seed_and_repeat_with_it():
    net = mlp()
    first = kept_units(net, random_units(net, [5, 7], rng=1), [1.0, 1.0])
    again = kept_units(net, random_units(net, [5, 7], rng=1), [1.0, 1.0])
    other = kept_units(net, random_units(net, [5, 7], rng=2), [1.0, 1.0])
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def copies(distinct, repeats, generator):
    """Which distinct unit every one of distinct * repeats units copies, shuffled."""
    rows = torch.arange(distinct).repeat_interleave(repeats)
    return rows[torch.randperm(len(rows), generator=generator)]


def mlp_of_copies(seed=0):
    """8-32-32-3 whose hidden layers are each 4 distinct units repeated 8 times."""
    generator = torch.Generator().manual_seed(seed)
    net = mlp(seed)
    first, second = copies(4, 8, generator), copies(4, 8, generator)
    with torch.no_grad():
        for layer, rows in [(net[0], first), (net[2], second)]:
            layer.weight.copy_(layer.weight[:4][rows])
            layer.bias.copy_(layer.bias[:4][rows])
    return net


def cnn_of_copies(seed=0):
    """The CNN with 2 distinct channels x 4 in its first conv and 4 x 2 in its second."""
    generator = torch.Generator().manual_seed(seed)
    net = cnn(seed)
    with torch.no_grad():
        for layer, rows in [
            (net[0][0], copies(2, 4, generator)),
            (net[1], copies(4, 2, generator)),
        ]:
            layer.weight.copy_(layer.weight[: rows.max() + 1][rows])
            layer.bias.copy_(layer.bias[: rows.max() + 1][rows])
    return net


@pytest.mark.parametrize(
    ("build", "widths"),
    [
        (mlp_of_copies, [4, 4]),
        (mlp_of_copies, [4, 32]),
        # More clusters than distinct units: duplicates are split off, still exact.
        (mlp_of_copies, [6, 5]),
        (cnn_of_copies, [2, 4]),
    ],
)
def test_kmeans_merges_exact_copies_exactly(build, widths):
    net = build()
    x = inputs(net)
    merged = kmeans_merge(net, widths, rng=0)
    assert [layer.weight.shape[0] for layer in layers(merged)] == [*widths, 3]
    torch.testing.assert_close(merged(x), net(x), rtol=0, atol=1e-5)


def test_torch_pruning_runs_under_no_grad():
    net = mlp()
    x = inputs(net)
    with torch.no_grad():
        pruned = torch_pruning(
            net, [5, 7], importance="taylor", example_inputs=x, calibration=x, labels=labels(x)
        )
    assert [layer.weight.shape[0] for layer in layers(pruned)] == [5, 7, 3]


def bad_model(name):
    return {
        "batchnorm": lambda: nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 2)),
        "one_layer": lambda: nn.Sequential(nn.Linear(4, 2)),
        "not_sequential": lambda: nn.Linear(4, 2),
        "two_flatten": lambda: nn.Sequential(
            nn.Flatten(), nn.Linear(4, 6), nn.Flatten(), nn.Linear(6, 2)
        ),
        "conv_without_flatten": lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2)),
    }[name]()


BAD_MODELS = ["batchnorm", "one_layer", "not_sequential", "two_flatten", "conv_without_flatten"]
BAD_WIDTHS = [
    ([5], r"one kept width per hidden layer \(2 layers"),
    ([0, 7], r"widths\[0\] must lie in \[1, 32\]"),
    ([5, 33], r"widths\[1\] must lie in \[1, 32\]"),
    ([2.5, 7], r"widths\[0\] must be an integer"),
]


@pytest.mark.parametrize("name", PRUNERS)
@pytest.mark.parametrize(("widths", "match"), BAD_WIDTHS)
def test_bad_widths_raise(name, widths, match):
    net = mlp()
    with pytest.raises(ValueError, match=match):
        PRUNERS[name](net, widths, inputs(net))


@pytest.mark.parametrize("name", PRUNERS)
@pytest.mark.parametrize("model", BAD_MODELS)
def test_unsupported_models_raise(name, model):
    with pytest.raises(ValueError, match=r"support an nn\.Sequential"):
        PRUNERS[name](bad_model(model), [3], torch.randn(2, 4))


def test_torch_pruning_checks_its_importance():
    net = mlp()
    x = inputs(net)
    with pytest.raises(ValueError, match=r"importance must be one of"):
        torch_pruning(net, [5, 7], importance="l1", example_inputs=x)
    with pytest.raises(ValueError, match=r"pass calibration inputs and their class labels"):
        torch_pruning(net, [5, 7], importance="taylor", example_inputs=x, calibration=x)
