"""tchakaloff.compress_layer and the layer baselines: kept neurons are rows of the original,
multiplicities keep the width, a polynomial layer of degree <= k is reproduced exactly, and
exact copies merge into one neuron each."""

import numpy as np
import pytest
import tchakaloff
from tchakaloff.layer import (
    merge_by_kmeans,
    neuron_objects,
    prune_by_magnitude,
    random_neurons,
)


def uniform_layer(rng, width, n_in, n_out):
    """A layer drawn like nn.Linear's default initialisation."""
    bound_in, bound_out = 1 / np.sqrt(n_in), 1 / np.sqrt(width)
    w_in = rng.uniform(-bound_in, bound_in, size=(width, n_in))
    b_in = rng.uniform(-bound_in, bound_in, size=width)
    w_out = rng.uniform(-bound_out, bound_out, size=(n_out, width))
    return w_in, b_in, w_out


def hidden_sum(x, w_in, b_in, w_out, activation, weights=None):
    """Reference output without the output bias, neuron by neuron."""
    weights = np.ones(len(w_in)) if weights is None else weights
    out = np.zeros((len(x), w_out.shape[0]))
    for i in range(len(w_in)):
        pre = x @ w_in[i] + (0.0 if b_in is None else b_in[i])
        out += weights[i] * activation(pre)[:, None] * w_out[:, i][None, :]
    return out


def test_kept_neurons_are_rows_of_the_original_with_the_width_as_total():
    rng = np.random.default_rng(0)
    w_in, b_in, w_out = uniform_layer(rng, 3000, 2, 1)
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=300, degree=3)
    assert 0 < len(res) <= 300
    assert np.all(np.diff(res.indices) > 0)
    assert np.all(res.weights > 0)
    np.testing.assert_allclose(res.weights.sum(), 3000, rtol=1e-12)
    np.testing.assert_array_equal(res.W_in, w_in[res.indices])
    np.testing.assert_array_equal(res.b_in, b_in[res.indices])
    np.testing.assert_array_equal(res.W_out, w_out[:, res.indices])
    assert res.W_in.shape == (len(res), 2)
    assert res.W_out.shape == (1, len(res))
    assert res.degree == 3


def test_multiplicities_in_give_their_total_out():
    rng = np.random.default_rng(1)
    w_in, b_in, w_out = uniform_layer(rng, 2000, 1, 2)
    c = rng.uniform(0.5, 3.0, size=2000)
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=0.1, degree=2, multiplicities=c)
    assert len(res) <= 200
    np.testing.assert_allclose(res.weights.sum(), c.sum(), rtol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_polynomial_activation_of_degree_k_is_reproduced_exactly(with_bias):
    # a * (w.x + b)^2 is a polynomial of degree 3 in the neuron's coordinates, so matching
    # every cell's moments up to degree 3 keeps the layer's output for every input.
    rng = np.random.default_rng(2)
    w_in, b_in, w_out = uniform_layer(rng, 3000, 2, 2)
    b_in = b_in if with_bias else None
    x = rng.uniform(-1, 1, size=(50, 2))
    square = np.square
    full = hidden_sum(x, w_in, b_in, w_out, square)
    exact = tchakaloff.compress_layer(w_in, b_in, w_out, size=400, degree=3)
    assert len(exact) == 400  # the budget the cells leave matches degree-4 moments too
    np.testing.assert_allclose(exact.output(x, square), full, rtol=0, atol=1e-10)
    # one degree short, the same sizes no longer reproduce it: the check can fail
    short = tchakaloff.compress_layer(w_in, b_in, w_out, size=400, degree=2)
    assert np.abs(short.output(x, square) - full).max() > 1e-4


def test_exact_copies_merge_into_one_neuron_each():
    rng = np.random.default_rng(3)
    distinct = uniform_layer(rng, 7, 2, 3)
    copies = np.array([1, 4, 2, 6, 3, 1, 5])
    rows = rng.permutation(np.repeat(np.arange(7), copies))
    w_in, b_in, w_out = distinct[0][rows], distinct[1][rows], distinct[2][:, rows]
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=10, degree=2)
    assert len(res) == 7
    source = rows[res.indices]  # which distinct neuron every kept row is
    np.testing.assert_array_equal(np.sort(source), np.arange(7))
    np.testing.assert_array_equal(res.weights, copies[source])
    x = rng.uniform(-1, 1, size=(40, 2))
    relu = tchakaloff.layer.relu
    np.testing.assert_allclose(
        res.output(x), hidden_sum(x, w_in, b_in, w_out, relu), rtol=1e-13, atol=1e-14
    )


def test_relu_layer_is_closer_than_a_rescaled_random_subnetwork():
    rng = np.random.default_rng(4)
    w_in, b_in, w_out = uniform_layer(rng, 4000, 2, 1)
    x = rng.uniform(-1, 1, size=(500, 2))
    full = np.maximum(x @ w_in.T + b_in, 0) @ w_out.T
    ours = tchakaloff.compress_layer(w_in, b_in, w_out, size=400, degree=3)
    error = np.mean((ours.output(x) - full) ** 2)
    random_error = np.mean(
        [
            np.mean((random_neurons(w_in, b_in, w_out, size=400, rng=seed).output(x) - full) ** 2)
            for seed in range(5)
        ]
    )
    assert error * 10 < random_error


def test_one_round_over_all_coordinates_is_one_compress_call():
    rng = np.random.default_rng(12)
    w_in, b_in, w_out = uniform_layer(rng, 2000, 2, 1)
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=200, degree=2, shrink=None, cells="all")
    # compress_layer hands the distinct neurons over in np.unique's (sorted) order
    objects = neuron_objects(w_in, b_in, w_out)
    first = np.unique(objects, axis=0, return_index=True)[1]
    reference = tchakaloff.compress(objects[first], size=200, degree=2, partition="kd")
    order = np.argsort(first[reference.indices])
    np.testing.assert_array_equal(res.indices, first[reference.indices][order])
    np.testing.assert_allclose(res.weights, reference.weights[order], rtol=1e-15)


@pytest.mark.parametrize("cells", ["incoming", "all"])
@pytest.mark.parametrize("shrink", [None, 1.5, 4.0])
def test_every_round_keeps_moments_so_cubic_layers_stay_exact(cells, shrink):
    rng = np.random.default_rng(13)
    w_in, b_in, w_out = uniform_layer(rng, 1500, 1, 1)
    x = rng.uniform(-1, 1, size=(30, 1))
    cube = lambda z: z**3  # noqa: E731  (a * (w x + b)^3 has degree 4 <= k)
    res = tchakaloff.compress_layer(
        w_in, b_in, w_out, size=100, degree=4, shrink=shrink, cells=cells
    )
    assert len(res) <= 100
    np.testing.assert_allclose(
        res.output(x, cube), hidden_sum(x, w_in, b_in, w_out, cube), rtol=0, atol=1e-9
    )


def test_random_neurons_with_and_without_rescale():
    rng = np.random.default_rng(6)
    w_in, b_in, w_out = uniform_layer(rng, 100, 3, 2)
    scaled = random_neurons(w_in, b_in, w_out, size=20, rng=7)
    plain = random_neurons(w_in, b_in, w_out, size=20, rescale=False, rng=7)
    np.testing.assert_array_equal(scaled.indices, plain.indices)
    assert len(np.unique(scaled.indices)) == 20
    np.testing.assert_array_equal(scaled.weights, np.full(20, 5.0))
    np.testing.assert_array_equal(plain.weights, np.ones(20))
    np.testing.assert_array_equal(plain.W_out, w_out[:, plain.indices])


def test_magnitude_pruning_keeps_the_largest_contributions():
    rng = np.random.default_rng(8)
    w_in, b_in, w_out = uniform_layer(rng, 60, 2, 2)
    res = prune_by_magnitude(w_in, b_in, w_out, size=10)
    scores = [
        np.sqrt(np.sum(w_out[:, i] ** 2) * (np.sum(w_in[i] ** 2) + b_in[i] ** 2)) for i in range(60)
    ]
    np.testing.assert_array_equal(res.indices, np.sort(np.argsort(scores)[-10:]))
    np.testing.assert_array_equal(res.weights, np.ones(10))
    rescaled = prune_by_magnitude(w_in, b_in, w_out, size=10, rescale=True)
    np.testing.assert_array_equal(rescaled.weights, np.full(10, 6.0))


def test_kmeans_merge_weights_clusters_and_reproduces_distinct_groups():
    rng = np.random.default_rng(9)
    # three tight groups of neurons: merging into three recovers their means and sizes
    centres = uniform_layer(rng, 3, 2, 1)
    groups = np.repeat(np.arange(3), [10, 20, 30])
    w_in = centres[0][groups] + 1e-6 * rng.normal(size=(60, 2))
    b_in = centres[1][groups]
    w_out = centres[2][:, groups]
    res = merge_by_kmeans(w_in, b_in, w_out, size=3, rng=0)
    assert res.indices is None
    np.testing.assert_allclose(np.sort(res.weights), [10, 20, 30])
    order = np.argsort(res.weights)
    np.testing.assert_allclose(res.W_in[order], centres[0], atol=1e-5)
    np.testing.assert_allclose(res.b_in[order], centres[1], atol=1e-12)
    np.testing.assert_allclose(res.W_out[:, order], centres[2], atol=1e-12)


def test_neuron_objects_layout():
    rng = np.random.default_rng(10)
    w_in, b_in, w_out = uniform_layer(rng, 5, 3, 2)
    objects = neuron_objects(w_in, b_in, w_out)
    assert objects.shape == (5, 2 + 3 + 1)
    np.testing.assert_array_equal(objects[2], [*w_out[:, 2], *w_in[2], b_in[2]])
    assert neuron_objects(w_in, None, w_out).shape == (5, 5)


_W_IN, _B_IN, _W_OUT = uniform_layer(np.random.default_rng(11), 50, 2, 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((_W_IN, _B_IN, _W_OUT.T), {}, r"fc2\.weight, not its transpose"),
        ((_W_IN, _B_IN, _W_OUT[0]), {}, r"reshape\(1, -1\)"),
        ((_W_IN[:, 0], _B_IN, _W_OUT), {}, r"W_in must be 2-d"),
        ((_W_IN, _B_IN[:49], _W_OUT), {}, r"b_in must have shape \(50,\)"),
        ((_W_IN * np.nan, _B_IN, _W_OUT), {}, r"W_in contains NaN or inf"),
        ((_W_IN, _B_IN * np.inf, _W_OUT), {}, r"b_in contains NaN or inf"),
        ((_W_IN, _B_IN, _W_OUT.astype(complex)), {}, r"real numeric"),
        ((_W_IN, _B_IN, _W_OUT), {"size": 0}, r"at least 1 neuron"),
        ((_W_IN, _B_IN, _W_OUT), {"size": 1.5}, r"\(0, 1\]"),
        ((_W_IN, _B_IN, _W_OUT), {"size": "10"}, r"int \(neurons to keep\)"),
        ((_W_IN, _B_IN, _W_OUT), {"size": 5}, r"below N"),
        ((_W_IN, _B_IN, _W_OUT), {"degree": -1}, r"degree must be >= 0"),
        ((_W_IN, _B_IN, _W_OUT), {"multiplicities": np.zeros(50)}, r"> 0"),
        ((_W_IN, _B_IN, _W_OUT), {"multiplicities": np.ones(49)}, r"shape \(50,\)"),
        ((_W_IN, _B_IN, _W_OUT), {"shrink": 1.0}, r"shrink must be a number >= 1.01"),
        ((_W_IN, _B_IN, _W_OUT), {"shrink": 1.0001}, r"at least 1% of the neurons"),
        ((_W_IN, _B_IN, _W_OUT), {"cells": "outgoing"}, r"cells must be"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(args, kwargs, match):
    options = {"size": 20, "degree": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        tchakaloff.compress_layer(*args, **options)


def test_small_shrink_still_compresses():
    """A shrink so close to 1 that ceil(width / shrink) rounds back to the width still
    removes neurons in every round (this once returned the layer uncompressed)."""
    rng = np.random.default_rng(6)
    w_in, b_in, w_out = uniform_layer(rng, 90, 2, 1)  # ceil(90 / 1.01) = 90
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=80, degree=2, shrink=1.01)
    assert len(res) == 80


def test_layer_whose_cell_residual_defeats_divide_and_conquer_svd():
    """PyTorch's initialisation of a 1e4-neuron layer (seed 0) compressed with shrink=1.5
    gives a cell whose 188 x 84 residual of next moments LAPACK's divide-and-conquer SVD
    cannot decompose ("SVD did not converge"); the fill reads its directions from the small
    Gram matrix instead."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(2, 10_000), torch.nn.Linear(10_000, 1)
    w_in, b_in, w_out = (t.detach().double().numpy() for t in (fc1.weight, fc1.bias, fc2.weight))
    res = tchakaloff.compress_layer(w_in, b_in, w_out, size=1000, degree=5, shrink=1.5)
    assert len(res) == 1000
    assert res.weights.sum() == pytest.approx(10_000)
