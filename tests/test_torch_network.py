"""tchakaloff.torch: a compressed two-layer network trains along the wide network's trajectory
(exactly, when the wide network's neurons are exact copies), folds into a plain network, and
keeps its multiplicities fixed."""

import io

import numpy as np
import pytest
import torch
from _trajectories import OPTIMISERS, batches
from tchakaloff.torch import CompressedMLP, compress_two_layer, random_subnetwork
from torch import nn

COPIES = torch.tensor([1, 4, 2, 6, 3, 1, 5])


def wide_network_of_copies(seed, n_in=2, n_out=2, activation=None):
    """A float64 two-layer net whose hidden neurons are COPIES[j] exact copies of neuron j,
    in shuffled order; returns the net and the distinct neuron of every hidden row."""
    generator = torch.Generator().manual_seed(seed)
    distinct = len(COPIES)
    rows = torch.repeat_interleave(torch.arange(distinct), COPIES)
    rows = rows[torch.randperm(len(rows), generator=generator)]
    w1 = torch.rand(distinct, n_in, generator=generator, dtype=torch.float64) * 2 - 1
    b1 = torch.rand(distinct, generator=generator, dtype=torch.float64) * 2 - 1
    w2 = (torch.rand(n_out, distinct, generator=generator, dtype=torch.float64) * 2 - 1) / 4
    b2 = torch.rand(n_out, generator=generator, dtype=torch.float64) - 0.5
    net = nn.Sequential(
        nn.Linear(n_in, len(rows)),
        nn.ReLU() if activation is None else activation,
        nn.Linear(len(rows), n_out),
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(w1[rows])
        net[0].bias.copy_(b1[rows])
        net[2].weight.copy_(w2[:, rows])
        net[2].bias.copy_(b2)
    return net, rows


def train_side_by_side(wide, small, make_optimiser, steps=50, after_step=None):
    """Train both nets on the same batches; return the largest output gap over the steps."""
    probe = torch.linspace(-1, 1, 30, dtype=torch.float64)[:, None].repeat(1, 2)
    probe[:, 1] = probe[:, 1].flip(0)
    opt_wide, opt_small = make_optimiser(wide.parameters()), make_optimiser(small.parameters())
    gap = 0.0
    for x, y in batches(1, steps):
        for net, opt in ((wide, opt_wide), (small, opt_small)):
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            before = [p.detach().clone() for p in net.parameters()]
            opt.step()
            if after_step is not None and net is small:
                after_step(small, before)
        with torch.no_grad():
            gap = max(gap, float((wide(probe) - small(probe)).abs().max()))
    return gap


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_compressed_copies_follow_the_wide_trajectory(name):
    wide, rows = wide_network_of_copies(0)
    small = compress_two_layer(wide[0], wide[2], size=10, degree=2)
    assert small.width == len(COPIES)
    kept = [int(torch.nonzero((wide[0].weight == row).all(1))[0]) for row in small.fc1.weight]
    source = rows[kept]
    torch.testing.assert_close(small.multiplicities, COPIES[source].double(), rtol=0, atol=0)

    gap = train_side_by_side(wide, small, OPTIMISERS[name])
    assert gap < 1e-6
    # every copy of neuron j moved exactly like the compressed neuron j
    for j, distinct in enumerate(source):
        copies = rows == distinct
        torch.testing.assert_close(
            wide[0].weight[copies], small.fc1.weight[j].expand(int(copies.sum()), -1)
        )
        torch.testing.assert_close(wide[2].weight[:, copies][:, 0], small.fc2.weight[:, j])
    start = wide_network_of_copies(0)[0][0].weight
    assert float((wide[0].weight - start).detach().abs().max()) > 1e-3  # they did move


def test_without_the_division_sgd_leaves_the_trajectory():
    wide, _ = wide_network_of_copies(0)
    small = compress_two_layer(wide[0], wide[2], size=10, degree=2)
    small.divide_gradients = False
    assert train_side_by_side(wide, small, OPTIMISERS["sgd"]) > 1e-2


def test_adam_ignores_the_division_up_to_eps_but_not_a_divided_learning_rate():
    # Adam's step does not depend on the gradient's scale: without the division the
    # trajectory differs only through eps ...
    wide, _ = wide_network_of_copies(0)
    small = compress_two_layer(wide[0], wide[2], size=10, degree=2)
    small.divide_gradients = False
    assert train_side_by_side(wide, small, OPTIMISERS["adam"]) < 1e-4

    # ... while a per-neuron learning rate lr / c_j (the SGD reading of the theorem) makes
    # neuron j move c_j times too slowly.
    def divide_the_step(net, before):
        with torch.no_grad():
            c = net.multiplicities
            for param, old, scale in zip(
                (net.fc1.weight, net.fc1.bias, net.fc2.weight),
                before[:3],
                (c[:, None], c, c[None, :]),
            ):
                param.copy_(old + (param - old) / scale)

    wide, _ = wide_network_of_copies(0)
    small = compress_two_layer(wide[0], wide[2], size=10, degree=2)
    small.divide_gradients = False
    assert train_side_by_side(wide, small, OPTIMISERS["adam"], after_step=divide_the_step) > 1e-2


def test_fold_computes_the_same_function_for_any_activation_and_outputs():
    torch.manual_seed(0)
    fc1, fc2 = nn.Linear(3, 400), nn.Linear(400, 3)
    small = compress_two_layer(fc1, fc2, size=120, degree=2, activation=torch.tanh)
    folded = small.fold()
    assert isinstance(folded, nn.Sequential)
    assert [type(layer) for layer in folded][::2] == [nn.Linear, nn.Linear]
    x = torch.rand(64, 3) * 2 - 1
    torch.testing.assert_close(folded(x), small(x), rtol=1e-5, atol=1e-6)
    # numpy reference for the compressed function
    c = small.multiplicities.double().numpy()
    w1, b1 = small.fc1.weight.double().detach().numpy(), small.fc1.bias.double().detach().numpy()
    w2, b2 = small.fc2.weight.double().detach().numpy(), small.fc2.bias.double().detach().numpy()
    reference = (np.tanh(x.double().numpy() @ w1.T + b1) * c) @ w2.T + b2
    np.testing.assert_allclose(small(x).detach().double().numpy(), reference, atol=1e-5)
    # and it is close to the wide net
    with torch.no_grad():
        wide = fc2(torch.tanh(fc1(x)))
        assert float((small(x) - wide).pow(2).mean()) < 0.1 * float(wide.var())


def test_multiplicities_are_a_fixed_buffer():
    torch.manual_seed(1)
    fc1, fc2 = nn.Linear(2, 300), nn.Linear(300, 1)
    small = compress_two_layer(fc1, fc2, size=60, degree=2)
    before = small.multiplicities.clone()
    assert all(p is not small.multiplicities for p in small.parameters())
    assert not small.multiplicities.requires_grad
    assert "multiplicities_0" in dict(small.named_buffers())
    opt = torch.optim.AdamW(small.parameters(), lr=0.05, weight_decay=0.5)
    for x, y in batches(2, 20, n_out=1):
        opt.zero_grad()
        nn.functional.mse_loss(small(x.float()), y.float()).backward()
        opt.step()
    torch.testing.assert_close(small.multiplicities, before, rtol=0, atol=0)
    np.testing.assert_allclose(float(before.sum()), 300, rtol=1e-6)


def test_state_dict_round_trip():
    torch.manual_seed(2)
    fc1, fc2 = nn.Linear(2, 300), nn.Linear(300, 2)
    small = compress_two_layer(fc1, fc2, size=60, degree=2, activation=nn.GELU())
    buffer = io.BytesIO()
    torch.save(small.state_dict(), buffer)
    buffer.seek(0)
    fresh = CompressedMLP(
        nn.Linear(2, small.width), nn.Linear(small.width, 2), torch.ones(small.width), nn.GELU()
    )
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.rand(10, 2)
    torch.testing.assert_close(fresh(x), small(x), rtol=0, atol=0)
    torch.testing.assert_close(fresh.multiplicities, small.multiplicities, rtol=0, atol=0)
    # the loaded multiplicities also divide the gradients
    for net in (fresh, small):
        net.zero_grad()
        net(x).sum().backward()
    torch.testing.assert_close(fresh.fc1.weight.grad, small.fc1.weight.grad)


def test_gradients_are_divided_per_neuron():
    torch.manual_seed(3)
    fc1, fc2 = nn.Linear(2, 5), nn.Linear(5, 2)
    c = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    small = CompressedMLP(fc1, fc2, c, nn.Tanh())
    x = torch.rand(7, 2)
    small(x).square().sum().backward()
    # reference: the same weighted network without division, by plain autograd
    w1 = fc1.weight.detach().clone().requires_grad_()
    b1 = fc1.bias.detach().clone().requires_grad_()
    w2 = fc2.weight.detach().clone().requires_grad_()
    b2 = fc2.bias.detach().clone().requires_grad_()
    (((torch.tanh(x @ w1.T + b1) * c) @ w2.T + b2).square().sum()).backward()
    torch.testing.assert_close(fc1.weight.grad, w1.grad / c[:, None])
    torch.testing.assert_close(fc1.bias.grad, b1.grad / c)
    torch.testing.assert_close(fc2.weight.grad, w2.grad / c[None, :])
    torch.testing.assert_close(fc2.bias.grad, b2.grad)


def test_random_subnetwork():
    torch.manual_seed(4)
    fc1, fc2 = nn.Linear(2, 100), nn.Linear(100, 1)
    naive = random_subnetwork(fc1, fc2, size=10, rng=0)
    scaled = random_subnetwork(fc1, fc2, size=10, rescale=True, rng=0)
    torch.testing.assert_close(naive.multiplicities, torch.ones(10))
    torch.testing.assert_close(scaled.multiplicities, torch.full((10,), 10.0))
    torch.testing.assert_close(naive.fc1.weight, scaled.fc1.weight)
    kept = [int(torch.nonzero((fc1.weight == row).all(1))[0]) for row in naive.fc1.weight]
    assert len(set(kept)) == 10
    torch.testing.assert_close(naive.fc2.weight, fc2.weight[:, kept])
    x = torch.rand(5, 2)
    expected = torch.relu(fc1(x))[:, kept] @ fc2.weight[:, kept].T + fc2.bias
    torch.testing.assert_close(naive(x), expected)


def test_layers_without_bias():
    torch.manual_seed(5)
    fc1, fc2 = nn.Linear(2, 200, bias=False), nn.Linear(200, 1, bias=False)
    small = compress_two_layer(fc1, fc2, size=40, degree=2)
    assert small.fc1.bias is None and small.fc2.bias is None
    x = torch.rand(8, 2)
    torch.testing.assert_close(small.fold()(x), small(x))


def _two_layer(width=30, fc2_in=30, **kwargs):
    options = {"size": 10, "degree": 1, **kwargs}
    return lambda: compress_two_layer(nn.Linear(2, width), nn.Linear(fc2_in, 1), **options)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: compress_two_layer(nn.Conv1d(2, 3, 1), nn.Linear(3, 1), size=2, degree=1),
            "nn.Linear",
        ),
        (_two_layer(fc2_in=20), "fc2 takes 20"),
        (_two_layer(activation="relu"), "activation must be"),
        (_two_layer(size=0), "at least 1 neuron"),
        (lambda: CompressedMLP(nn.Linear(2, 3), nn.Linear(3, 1), torch.ones(4)), r"shape \(3,\)"),
        (
            lambda: CompressedMLP(nn.Linear(2, 3), nn.Linear(3, 1), torch.tensor([1.0, 0.0, 2.0])),
            "> 0",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(build, match):
    with pytest.raises(ValueError, match=match):
        build()
