"""tchakaloff.torch.sequential: every hidden layer of a deep MLP or CNN keeps real units with
multiplicities; the compressed net computes like the wide one, trains along its trajectory
when the wide net's units are exact copies, folds into a plain nn.Sequential, and is far more
accurate than a random subnetwork. tchakaloff.contributions: the selection underneath."""

from __future__ import annotations

import copy
import functools
import io
import re

import numpy as np
import pytest
import torch
from _bad_inputs import check_helpful
from _trajectories import OPTIMISERS, batches
from tchakaloff.contributions import compress_contributions
from tchakaloff.torch.sequential import CompressedNetwork, compress_mlp
from torch import nn

# Copies of every distinct unit of the two hidden layers (64 and 48 units in all).
COPIES_1 = torch.tensor([1, 12, 5, 9, 3, 14, 7, 13])
COPIES_2 = torch.tensor([4, 11, 6, 2, 16, 9])
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def uniform(generator, *shape, scale=1.0):
    return (torch.rand(*shape, generator=generator, dtype=torch.float64) * 2 - 1) * scale


def deep_network_of_copies(seed, activation="tanh", n_in=3, n_out=2):
    """A float64 net n_in -> 64 -> 48 -> n_out whose hidden units are copies (shuffled) of
    8 and 6 distinct units: copies of a first-layer unit have equal rows in layer 1 and equal
    columns in layer 2, copies of a second-layer unit equal rows in layer 2 (over the first
    layer's copies alike) and equal columns in layer 3. Returns the net, the distinct units
    (w1, b1, w2, b2) and the distinct unit behind every hidden unit of both layers."""
    generator = torch.Generator().manual_seed(seed)
    rows_1 = torch.repeat_interleave(torch.arange(len(COPIES_1)), COPIES_1)
    rows_1 = rows_1[torch.randperm(len(rows_1), generator=generator)]
    rows_2 = torch.repeat_interleave(torch.arange(len(COPIES_2)), COPIES_2)
    rows_2 = rows_2[torch.randperm(len(rows_2), generator=generator)]
    w1 = uniform(generator, len(COPIES_1), n_in)
    b1 = uniform(generator, len(COPIES_1))
    # a unit of layer 2 sums 64 inputs, the output 48: scaled so that pre-activations are O(1)
    w2 = uniform(generator, len(COPIES_2), len(COPIES_1), scale=4 / len(rows_1))
    b2 = uniform(generator, len(COPIES_2), scale=0.5)
    w3 = uniform(generator, n_out, len(COPIES_2), scale=4 / len(rows_2))
    b3 = uniform(generator, n_out, scale=0.5)
    net = nn.Sequential(
        nn.Linear(n_in, len(rows_1)),
        ACTIVATIONS[activation](),
        nn.Linear(len(rows_1), len(rows_2)),
        ACTIVATIONS[activation](),
        nn.Linear(len(rows_2), n_out),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(w1[rows_1])
        net[0].bias.copy_(b1[rows_1])
        net[2].weight.copy_(w2[rows_2][:, rows_1])
        net[2].bias.copy_(b2[rows_2])
        net[4].weight.copy_(w3[:, rows_2])
        net[4].bias.copy_(b3)
    return net, (w1, b1, w2, b2), rows_1, rows_2


def calibration_of_copies():
    return uniform(torch.Generator().manual_seed(2), 300, 3)


def row_index(rows, row):
    """The only index i with rows[i] == row exactly (a conv layer's rows are its filters)."""
    equal = (rows == row).reshape(len(rows), -1).all(1)
    (matches,) = torch.nonzero(equal, as_tuple=True)
    assert len(matches) == 1, f"{len(matches)} matching rows"
    return int(matches[0])


def train_side_by_side(wide, small, make_optimiser, steps=50):
    """Train both nets on the same batches; return the largest output gap over the steps."""
    probe = uniform(torch.Generator().manual_seed(7), 40, 3)
    opt_wide, opt_small = make_optimiser(wide.parameters()), make_optimiser(small.parameters())
    gap = 0.0
    for x, y in batches(1, steps, n_in=3):
        for net, opt in ((wide, opt_wide), (small, opt_small)):
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            opt.step()
        with torch.no_grad():
            step_gap = float((wide(probe) - small(probe)).abs().max())
        gap = max(gap, step_gap if np.isfinite(step_gap) else np.inf)
    return gap


def sources(small, w1, w2):
    """The distinct unit behind every kept unit of the two hidden layers."""
    source_1 = [row_index(w1, row) for row in small.layers[0].weight.detach()]
    source_2 = [row_index(w2[:, source_1], row) for row in small.layers[1].weight.detach()]
    return torch.tensor(source_1), torch.tensor(source_2)


@pytest.mark.parametrize("size", [10, [8, 6], [40, 30]])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_exact_copies_keep_the_distinct_units_with_their_counts(activation, size):
    wide, (w1, _, w2, _), _, _ = deep_network_of_copies(0, activation)
    small = compress_mlp(wide, size=size, calibration=calibration_of_copies())
    assert isinstance(small, CompressedNetwork)
    assert small.widths == [len(COPIES_1), len(COPIES_2)]
    source_1, source_2 = sources(small, w1, w2)
    assert sorted(source_1.tolist()) == list(range(len(COPIES_1)))
    assert sorted(source_2.tolist()) == list(range(len(COPIES_2)))
    c1, c2 = small.multiplicities
    torch.testing.assert_close(c1, COPIES_1[source_1].double(), rtol=0, atol=0)
    torch.testing.assert_close(c2, COPIES_2[source_2].double(), rtol=0, atol=0)
    x = uniform(torch.Generator().manual_seed(3), 100, 3) * 2
    with torch.no_grad():
        torch.testing.assert_close(small(x), wide(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_deep_compressed_copies_follow_the_wide_trajectory(activation, name):
    wide, (w1, _, w2, _), rows_1, rows_2 = deep_network_of_copies(0, activation)
    small = compress_mlp(wide, size=10, calibration=calibration_of_copies())
    source_1, source_2 = sources(small, w1, w2)
    start = copy.deepcopy(wide)
    assert train_side_by_side(wide, small, OPTIMISERS[name]) < 1e-6
    # every copy of a kept unit moved exactly like it: rows of layer 1, blocks of layer 2
    with torch.no_grad():
        for j, distinct in enumerate(source_1):
            copies = wide[0].weight[rows_1 == distinct]
            torch.testing.assert_close(copies, small.layers[0].weight[j].expand_as(copies))
            for k, other in enumerate(source_2):
                block = wide[2].weight[rows_2 == other][:, rows_1 == distinct]
                torch.testing.assert_close(block, small.layers[1].weight[k, j].expand_as(block))
        for k, other in enumerate(source_2):
            columns = wide[4].weight[:, rows_2 == other]
            torch.testing.assert_close(
                columns, small.layers[2].weight[:, k, None].expand_as(columns)
            )
        assert float((wide[0].weight - start[0].weight).abs().max()) > 1e-3  # they did move
        assert float((wide[2].weight - start[2].weight).abs().max()) > 1e-3


def test_without_the_division_sgd_leaves_the_wide_trajectory():
    wide, _, _, _ = deep_network_of_copies(0)
    small = compress_mlp(
        wide,
        size=10,
        calibration=calibration_of_copies(),
        divide_gradients=False,
    )
    assert train_side_by_side(wide, small, OPTIMISERS["sgd"]) > 1e-2


def gaussian(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@functools.cache
def random_wide_net(seed):
    """A float64 GELU net 4 -> 256 -> 256 -> 3 (torch's default init) and its compression to
    32 units per hidden layer on Gaussian calibration inputs. Tests must not modify them."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(4, 256), nn.GELU(), nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 3)
    ).double()
    small = compress_mlp(net, size=32, calibration=gaussian(100 + seed, 1000, 4), rng=seed)
    return net, small


def small_cnn(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 3),
    ).double()


@functools.cache
def compressed_cnn(seed):
    net = small_cnn(seed)
    return net, compress_mlp(net, size=4, calibration=gaussian(200 + seed, 300, 1, 8, 8))


def kept_units(wide_layers, small_layers):
    """Which unit of every wide hidden layer each kept unit is, checking on the way that its
    incoming weights (over the kept inputs) and bias are that unit's, exactly."""
    kept, inputs = [], slice(None)
    for wide, small in zip(wide_layers[:-1], small_layers[:-1]):
        candidates = wide.weight.detach()[:, inputs]
        rows = [row_index(candidates, row) for row in small.weight.detach()]
        assert len(set(rows)) == len(rows)
        torch.testing.assert_close(small.bias.detach(), wide.bias.detach()[rows], rtol=0, atol=0)
        kept.append(torch.tensor(rows))
        inputs = kept[-1]
    return kept


def test_every_kept_neuron_is_a_neuron_of_the_wide_mlp():
    wide, small = random_wide_net(0)
    kept = kept_units(wide[0::2], small.layers)
    assert [len(k) for k in kept] == small.widths
    assert all(width <= 32 for width in small.widths)
    for c in small.multiplicities:
        assert bool((c > 0).all()) and bool(torch.isfinite(c).all())
    last, out = wide[4], small.layers[2]
    torch.testing.assert_close(out.weight, last.weight[:, kept[1]], rtol=0, atol=0)
    torch.testing.assert_close(out.bias, last.bias, rtol=0, atol=0)
    # so the compressed net is the wide net's subnetwork, each unit weighted by its multiplicity
    x = gaussian(5, 200, 4)
    gelu = nn.functional.gelu
    c1, c2 = small.multiplicities
    with torch.no_grad():
        h = gelu(x @ wide[0].weight[kept[0]].T + wide[0].bias[kept[0]]) * c1
        h = gelu(h @ wide[2].weight[kept[1]][:, kept[0]].T + wide[2].bias[kept[1]]) * c2
        expected = h @ last.weight[:, kept[1]].T + last.bias
        torch.testing.assert_close(small(x), expected, rtol=1e-12, atol=1e-12)


def test_every_kept_channel_is_a_channel_of_the_wide_cnn():
    wide, small = compressed_cnn(0)
    assert small.widths == [4, 4]
    convs = [wide[0], wide[2]]
    kept = kept_units([*convs, wide[6]], small.layers)
    # the linear layer keeps the 4 x 4 block of flattened inputs of every kept channel
    blocks = wide[6].weight.reshape(3, 8, 16)[:, kept[1]].reshape(3, -1)
    torch.testing.assert_close(small.layers[2].weight, blocks, rtol=0, atol=0)
    x = gaussian(6, 20, 1, 8, 8)
    c1, c2 = small.multiplicities
    conv2d = nn.functional.conv2d
    with torch.no_grad():
        h = torch.relu(conv2d(x, convs[0].weight[kept[0]], convs[0].bias[kept[0]], padding=1))
        h = h * c1[:, None, None]
        w2 = convs[1].weight[kept[1]][:, kept[0]]
        h = torch.relu(conv2d(h, w2, convs[1].bias[kept[1]], padding=1))
        h = nn.functional.max_pool2d(h, 2) * c2[:, None, None]
        expected = h.flatten(1) @ blocks.T + wide[6].bias
        torch.testing.assert_close(small(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("build", "inputs"),
    [(lambda: random_wide_net(0)[1], (200, 4)), (lambda: compressed_cnn(0)[1], (20, 1, 8, 8))],
    ids=["mlp", "cnn"],
)
def test_fold_computes_the_same_function(build, inputs):
    small = build()
    folded = small.fold()
    assert isinstance(folded, nn.Sequential)
    assert not any(isinstance(m, CompressedNetwork) for m in folded.modules())
    assert len(list(folded.buffers())) == 0  # the multiplicities are absorbed
    layers = [m for m in folded if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert [layer.weight.shape[0] for layer in layers[:-1]] == small.widths
    x = gaussian(7, *inputs)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), small(x), rtol=1e-10, atol=1e-12)
    # with multiplicities far from 1 the folding is not a no-op
    assert any(float((c - 1).abs().max()) > 0.1 for c in small.multiplicities)


def test_state_dict_round_trip_and_multiplicities_are_buffers():
    small = random_wide_net(0)[1]
    names = {f"multiplicities_{i}" for i in range(len(small.widths))}
    assert names <= set(dict(small.named_buffers()))
    assert names.isdisjoint(dict(small.named_parameters()))
    assert all(not c.requires_grad for c in small.multiplicities)
    buffer = io.BytesIO()
    torch.save(small.state_dict(), buffer)
    other = copy.deepcopy(small)
    with torch.no_grad():
        for tensor in (*other.parameters(), *other.buffers()):
            tensor.mul_(1.5).add_(0.25)
    x = gaussian(8, 50, 4)
    with torch.no_grad():
        assert float((other(x) - small(x)).abs().max()) > 1e-3
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    torch.testing.assert_close(other(x), small(x), rtol=0, atol=0)
    for c, loaded in zip(small.multiplicities, other.multiplicities):
        torch.testing.assert_close(loaded, c, rtol=0, atol=0)
    # the loaded multiplicities divide the gradients: each weight's by the multiplicities of
    # the two units it joins, each bias by its unit's (reference: plain autograd, no division)
    other.zero_grad()
    other(x).square().sum().backward()
    leaves = [p.detach().clone().requires_grad_() for p in other.parameters()]
    w0, b0, w1, b1, w2, b2 = leaves
    c1, c2 = small.multiplicities
    h = nn.functional.gelu(x @ w0.T + b0) * c1
    h = nn.functional.gelu(h @ w1.T + b1) * c2
    (h @ w2.T + b2).square().sum().backward()
    divisors = [c1[:, None], c1, c2[:, None] * c1[None, :], c2, c2[None, :], 1.0]
    for param, leaf, divisor in zip(other.parameters(), leaves, divisors):
        torch.testing.assert_close(param.grad, leaf.grad / divisor)
    optimiser = torch.optim.AdamW(other.parameters(), lr=0.1, weight_decay=0.5)
    for _ in range(3):
        optimiser.zero_grad()
        other(x).square().mean().backward()
        optimiser.step()
    for c, trained in zip(small.multiplicities, other.multiplicities):
        torch.testing.assert_close(trained, c, rtol=0, atol=0)


def relative_mse(prediction, wide):
    return float((prediction - wide).pow(2).mean() / (wide - wide.mean(0)).pow(2).mean())


def random_subnetwork_output(net, x, size, generator):
    """A uniformly random `size` of the units of every hidden layer, each standing for
    width / size units (the unbiased estimate of the sum over units)."""
    gelu = nn.functional.gelu
    linears = [net[0], net[2], net[4]]
    h, columns, scale = x, slice(None), 1.0
    for layer in linears[:-1]:
        rows = torch.randperm(layer.out_features, generator=generator)[:size]
        h = gelu(h @ (layer.weight[rows][:, columns] * scale).T + layer.bias[rows])
        columns, scale = rows, layer.out_features / size
    return h @ (linears[-1].weight[:, columns] * scale).T + linears[-1].bias


def test_compressed_net_is_far_more_accurate_than_a_random_subnetwork():
    ratios = []
    for seed in range(3):
        wide, small = random_wide_net(seed)
        x = gaussian(300 + seed, 2000, 4)  # fresh inputs from the calibration's distribution
        with torch.no_grad():
            reference = wide(x)
            everything = random_subnetwork_output(wide, x, 256, torch.Generator())
            torch.testing.assert_close(everything, reference)  # the estimate's own check
            compressed = relative_mse(small(x), reference)
            generator = torch.Generator().manual_seed(seed)
            random = np.median(
                [
                    relative_mse(random_subnetwork_output(wide, x, 32, generator), reference)
                    for _ in range(5)
                ]
            )
        ratios.append(random / compressed)
    assert np.median(ratios) >= 5, ratios


def test_a_small_calibration_set_is_matched_exactly():
    # 20 rows and one output: 20 coordinates, which the last hidden layer's 21 or more units
    # match exactly, whatever the first layer left
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Linear(4, 256), nn.GELU(), nn.Linear(256, 64), nn.GELU(), nn.Linear(64, 1)
    ).double()
    calibration = gaussian(17, 20, 4)
    small = compress_mlp(model, size=32, calibration=calibration)
    assert all(width <= 32 for width in small.widths)
    with torch.no_grad():
        wide = model(calibration)
        error = float((small(calibration) - wide).abs().max())
    assert error < 1e-4 * float(wide.abs().max())


def with_running_statistics(norm, seed):
    """Give a BatchNorm layer running statistics and an affine map far from the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.running_mean.copy_(uniform(generator, norm.num_features))
        norm.running_var.copy_(torch.rand(norm.num_features, generator=generator) * 3 + 0.2)
        if norm.affine:
            norm.weight.copy_(uniform(generator, norm.num_features, scale=2))
            norm.bias.copy_(uniform(generator, norm.num_features))
    return norm


BATCHNORM_MODELS = {
    "linear": lambda: nn.Sequential(
        nn.Linear(3, 16), with_running_statistics(nn.BatchNorm1d(16), 1), nn.ReLU(),
        nn.Linear(16, 2),
    ),
    "linear_no_bias_no_affine": lambda: nn.Sequential(
        nn.Linear(3, 16, bias=False), with_running_statistics(nn.BatchNorm1d(16, affine=False), 2),
        nn.Tanh(), nn.Linear(16, 2),
    ),
    "conv": lambda: nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), with_running_statistics(nn.BatchNorm2d(6), 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(6 * 4 * 4, 2),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BATCHNORM_MODELS))
def test_batchnorm_after_a_layer_is_folded_in(name):
    torch.manual_seed(0)
    model = BATCHNORM_MODELS[name]().double()
    inputs = (200, 1, 4, 4) if name == "conv" else (200, 3)
    x = gaussian(9, *inputs)
    with torch.no_grad():
        expected = model.eval()(x)
        batch_statistics = copy.deepcopy(model).train()(x)
    assert float((expected - batch_statistics).abs().max()) > 1e-2  # the running ones matter
    model.train()
    before = copy.deepcopy(model.state_dict())
    width = model[0].weight.shape[0]
    small = compress_mlp(model, size=width, calibration=gaussian(10, *inputs))
    assert model.training  # left as it was, and untouched
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    assert small.widths == [width]
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in small.modules())
    torch.testing.assert_close(small.multiplicities[0], torch.ones(width, dtype=torch.float64))
    with torch.no_grad():
        torch.testing.assert_close(small(x), expected, rtol=0, atol=1e-10)
        torch.testing.assert_close(small.fold()(x), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "model",
    [
        nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 2)),
        nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2)),
        nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.ReLU(), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2)
        ),
    ],
    ids=["after_activation", "before_any_layer", "conv_after_activation"],
)
def test_batchnorm_elsewhere_is_refused(model):
    shape = (20, 1, 3, 3) if isinstance(model[0], nn.Conv2d) else (20, 3)
    with pytest.raises(ValueError, match=r"BatchNorm.d.* must come directly after") as error:
        compress_mlp(model, size=2, calibration=gaussian(11, *shape))
    check_helpful(str(error.value))


def mlp():
    return nn.Sequential(
        nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2)
    )


def compress_call(model=None, size=4, calibration=None):
    model = mlp() if model is None else model
    calibration = gaussian(12, 50, 3) if calibration is None else calibration
    return lambda: compress_mlp(model, size=size, calibration=calibration)


def with_nan(x, index, value=float("nan")):
    x = x.clone()
    x[index] = value
    return x


BAD_NETWORK_INPUTS = {
    "lstm_inside": (
        compress_call(nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.LSTM(16, 8), nn.Linear(8, 2))),
        r"unsupported module LSTM",
    ),
    "attention_inside": (
        compress_call(
            nn.Sequential(nn.Linear(3, 16), nn.MultiheadAttention(16, 2), nn.Linear(16, 2))
        ),
        r"unsupported module MultiheadAttention",
    ),
    "not_a_sequential": (compress_call(nn.Linear(3, 2)), r"must be an nn.Sequential"),
    "one_layer": (compress_call(nn.Sequential(nn.Linear(3, 2), nn.ReLU())), r"at least two"),
    "no_layer": (compress_call(nn.Sequential(nn.ReLU())), r"at least two"),
    "size_list_too_short": (compress_call(size=[4]), r"size has 1 values .* 2 hidden layers"),
    "size_list_too_long": (compress_call(size=(4, 4, 4)), r"size has 3 values .* 2 hidden layers"),
    "zero_size": (compress_call(size=0), r"at least 1 unit"),
    "negative_size": (compress_call(size=-3), r"at least 1 unit"),
    "zero_in_size_list": (compress_call(size=[4, 0]), r"at least 1 unit"),
    "zero_fraction": (compress_call(size=0.0), r"fractional size must lie in \(0, 1\]"),
    "fraction_above_one": (compress_call(size=1.5), r"fractional size must lie in \(0, 1\]"),
    "string_size": (compress_call(size="4"), r"size must be an int"),
    "bool_size": (compress_call(size=True), r"size must be an int"),
    "nan_in_calibration": (
        compress_call(calibration=with_nan(gaussian(13, 50, 3), (7, 1))),
        r"calibration contains NaN or inf",
    ),
    "inf_in_calibration": (
        compress_call(calibration=with_nan(gaussian(13, 50, 3), (0, 2), float("inf"))),
        r"calibration contains NaN or inf",
    ),
    "numpy_calibration": (
        compress_call(calibration=np.zeros((50, 3))),
        r"calibration must be a torch.Tensor.*got ndarray",
    ),
    "list_calibration": (
        compress_call(calibration=[[0.0, 1.0, 2.0]]),
        r"calibration must be a torch.Tensor.*got list",
    ),
    "one_dimensional_calibration": (
        compress_call(calibration=gaussian(14, 3)),
        r"calibration must be a batch \(n, ...\)",
    ),
    "empty_calibration": (
        compress_call(calibration=torch.zeros(0, 3)),
        r"calibration must be a batch \(n, ...\)",
    ),
    "calibration_of_the_wrong_width": (
        compress_call(calibration=gaussian(15, 50, 5)),
        r"cannot take calibration inputs of shape \(50, 5\)",
    ),
    "grouped_convolution": (
        compress_call(
            nn.Sequential(
                nn.Conv2d(1, 8, 3),
                nn.ReLU(),
                nn.Conv2d(8, 8, 1, groups=2),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(8 * 36, 2),
            ),
            calibration=gaussian(20, 50, 1, 8, 8),
        ),
        r"Conv2d\(8, 8.*groups=2\) is a grouped convolution",
    ),
    "flatten_of_the_batch": (
        compress_call(
            nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(0, -1), nn.Linear(4 * 36, 2)),
            calibration=gaussian(21, 50, 1, 8, 8),
        ),
        r"start_dim=1",
    ),
    "per_unit_prelu": (
        compress_call(nn.Sequential(nn.Linear(3, 16), nn.PReLU(16), nn.Linear(16, 2))),
        r"PReLU\(num_parameters=16\) has one slope per unit.*use nn.PReLU\(\)",
    ),
    # nn.Linear takes the extra dimensions as batch dimensions: the wide pass runs
    "calibration_with_extra_dimensions": (
        compress_call(calibration=gaussian(16, 50, 1, 3, 3)),
        r"calibration inputs of shape \(50, 1, 3, 3\)",
    ),
}


def helpful(message):
    """check_helpful, where a list of what is supported, or what to use instead, also says
    what to do."""
    if not re.search(r"supported: nn.Linear and nn.Conv2d|; use ", message):
        check_helpful(message)


@pytest.mark.parametrize(("build", "match"), BAD_NETWORK_INPUTS.values(), ids=BAD_NETWORK_INPUTS)
def test_bad_input_is_refused_with_a_helpful_message(build, match):
    with pytest.raises(ValueError, match=match) as error:
        build()
    helpful(str(error.value))


def low_rank(seed, width, rank, coordinates=400):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(width, rank)) @ rng.normal(size=(rank, coordinates))


def check_selection(result, width, size):
    """Kept rows: a sorted subset of the input's, at most `size`, with weights > 0."""
    assert 1 <= len(result) <= size
    assert result.indices.dtype == np.int64
    assert np.all(np.diff(result.indices) > 0)
    assert 0 <= result.indices[0] and result.indices[-1] < width
    assert result.weights.shape == result.indices.shape
    assert np.all(np.isfinite(result.weights)) and np.all(result.weights > 0)


def relative_gap(total, target):
    return float(np.linalg.norm(total - target) / np.linalg.norm(target))


@pytest.mark.parametrize("extra", [0, 3])
@pytest.mark.parametrize("rank", [1, 4, 10])
def test_rank_plus_one_rows_sum_to_the_whole_exactly(rank, extra):
    units = low_rank(rank, 80, rank)
    size = rank + 1 + extra
    result = compress_contributions(units, size=size, rng=0)
    check_selection(result, 80, size)
    total = result.weights @ units[result.indices]
    assert relative_gap(total, units.sum(0)) < 1e-8
    assert result.relative_error < 1e-6
    # a random subset of the same size, rescaled, is nowhere near
    subset = np.random.default_rng(1).choice(80, size, replace=False)
    assert relative_gap(units[subset].sum(0) * 80 / size, units.sum(0)) > 1e-2


@pytest.mark.parametrize("extra", [0, 4])
def test_float32_contributions_are_summed_to_float32_accuracy(extra):
    for seed in range(10):
        units = low_rank(seed, 60, 5).astype(np.float32)
        result = compress_contributions(units, size=6 + extra, rng=seed)
        check_selection(result, 60, 6 + extra)
        total = result.weights @ units[result.indices].astype(np.float64)
        assert relative_gap(total, units.astype(np.float64).sum(0)) < 1e-5


# Rows that are copies and multiples of four independent directions: (direction, factor).
GROUPS = [(0, 1.0), (0, 1.0), (0, 2.0), (1, 1.0), (1, 0.5), (2, 1.0), (2, 1.0), (2, 1.0),
          (3, 3.0), (3, 1.0), (1, 0.5), (0, 1.0)]  # fmt: skip


@pytest.mark.parametrize("target", ["sum", "positive_combination"])
def test_duplicated_and_multiplied_rows_share_each_direction(target):
    directions = np.random.default_rng(3).normal(size=(4, 60))
    which = np.array([d for d, _ in GROUPS])
    factors = np.array([f for _, f in GROUPS])
    units = factors[:, None] * directions[which]
    if target == "sum":
        coefficients = np.bincount(which, weights=factors)  # 5.0, 2.0, 3.0, 4.0
        goal = None
    else:
        coefficients = np.array([0.3, 2.5, 1.0, 7.0])
        goal = coefficients @ directions
    result = compress_contributions(units, goal, size=5, rng=0)
    check_selection(result, len(units), 5)
    # the directions are independent: the weights of each direction's rows, times their
    # factors, must add up to that direction's coefficient
    share = np.bincount(which[result.indices], result.weights * factors[result.indices], 4)
    np.testing.assert_allclose(share, coefficients, rtol=1e-8)
    total = result.weights @ units[result.indices]
    assert relative_gap(total, coefficients @ directions) < 1e-8


@pytest.mark.parametrize("size", [12, 20])
def test_size_of_at_least_the_width_keeps_every_row_with_weight_one(size):
    units = np.random.default_rng(4).normal(size=(12, 30))
    result = compress_contributions(units, size=size)
    np.testing.assert_array_equal(result.indices, np.arange(12))
    np.testing.assert_array_equal(result.weights, np.ones(12))
    assert result.relative_error < 1e-7


def test_weights_are_the_least_squares_fit_on_the_kept_rows():
    # 40 generic rows in 300 coordinates: 10 of them cannot sum to the whole exactly
    units = np.random.default_rng(5).normal(size=(40, 300)) + 0.5
    target = units.sum(0)
    result = compress_contributions(units, size=10, rng=0)
    check_selection(result, 40, 10)
    kept = units[result.indices]
    fit, *_ = np.linalg.lstsq(kept.T, target, rcond=None)
    np.testing.assert_allclose(result.weights, fit, rtol=1e-6)
    gap = relative_gap(result.weights @ kept, target)
    assert 1e-3 < gap < 0.5
    np.testing.assert_allclose(result.relative_error, gap, rtol=1e-6)
    # a scaled target scales the weights and keeps the rows
    scaled = compress_contributions(units, 3 * target, size=10, rng=0)
    np.testing.assert_array_equal(scaled.indices, result.indices)
    np.testing.assert_allclose(scaled.weights, 3 * result.weights, rtol=1e-9)


@pytest.mark.parametrize(
    ("contributions", "target", "size", "match"),
    [
        (np.ones(5), None, 2, r"non-empty \(w, M\) array"),
        (np.zeros((0, 3)), None, 2, r"non-empty \(w, M\) array"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), None, 1, r"NaN or inf"),
        (np.eye(3), np.ones(4), 2, r"target must be a finite \(3,\) array"),
        (np.eye(3), np.array([1.0, np.inf, 0.0]), 2, r"target must be a finite \(3,\) array"),
        (np.eye(3), None, 0, r"size must be a positive integer"),
        (np.eye(3), None, -1, r"size must be a positive integer"),
        (np.eye(3), None, 2.0, r"size must be a positive integer"),
        (np.eye(3), None, True, r"size must be a positive integer"),
    ],
)
def test_bad_contributions_are_refused(contributions, target, size, match):
    with pytest.raises(ValueError, match=match):
        compress_contributions(contributions, target, size=size)


def test_a_dead_layer_keeps_a_unit_and_the_output():
    # every first-layer unit is off on the calibration data: nothing to match but the total,
    # and the result must still be a working network with the wide one's output
    torch.manual_seed(4)
    model = nn.Sequential(
        nn.Linear(3, 50), nn.ReLU(), nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 2)
    ).double()
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    x = gaussian(5, 100, 3)
    small = compress_mlp(model, size=10, calibration=x)
    assert all(1 <= width <= 10 for width in small.widths)
    with torch.no_grad():
        torch.testing.assert_close(small(x), model(x))


def test_contributions_that_are_all_zero_keep_the_total():
    result = compress_contributions(np.zeros((20, 30)), size=5)
    check_selection(result, 20, 5)
    assert result.weights.sum() == pytest.approx(20)


def test_the_total_is_met_exactly_when_the_output_can_be():
    # rank 10 < size: the quadrature matches the output and the total exactly, and so must
    # the re-fit that weighs both
    units = low_rank(3, 200, 10)
    result = compress_contributions(units, size=30, total=200.0, rng=0)
    check_selection(result, 200, 30)
    assert result.relative_error < 1e-8
    assert result.weights.sum() == pytest.approx(200, rel=1e-8)


def test_the_total_is_traded_against_the_output_when_both_cannot_be_met():
    units = low_rank(3, 200, 40)  # rank 40 > size 30: no exact answer
    free = compress_contributions(units, size=30, rng=0)
    held = compress_contributions(units, size=30, total=200.0, rng=0)
    check_selection(held, 200, 30)
    assert abs(held.weights.sum() - 200) < 0.5 * abs(free.weights.sum() - 200)
