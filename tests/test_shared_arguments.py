"""One meaning for the arguments every compression shares: `size` above the input keeps it
whole, `rng` is a Generator, a seed or None (None: the same result on every call), and
`n_jobs` sets threads without changing the result."""

from __future__ import annotations

import numpy as np
import pytest
import tchakaloff
import torch
from tchakaloff.torch import (
    MultiHeadAttention,
    compress_attention,
    compress_mlp,
    compress_two_layer,
)
from torch import nn

RNG = np.random.default_rng(20)
POINTS = RNG.normal(size=(600, 2))
TARGET = np.sin(POINTS[:, 0]) + 0.1 * RNG.normal(size=600)
FEATURES = RNG.normal(size=(600, 5))  # kernel path of compress_dataset and summarize
W_IN, B_IN, W_OUT = RNG.uniform(-1, 1, (400, 2)), RNG.uniform(-1, 1, 400), RNG.normal(size=(1, 400))


def _two_layer() -> tuple[nn.Linear, nn.Linear]:
    torch.manual_seed(0)
    return nn.Linear(2, 400).double(), nn.Linear(400, 1).double()


def _mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Linear(3, 24), nn.Tanh(), nn.Linear(24, 12), nn.ReLU(), nn.Linear(12, 2)
    )


def _attention() -> MultiHeadAttention:
    torch.manual_seed(2)
    return MultiHeadAttention(2, 2, 40, 2).double()


CALIBRATION = torch.randn(200, 3, generator=torch.Generator().manual_seed(3))
SEQUENCES = torch.randn(8, 5, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)

# name -> (call taking **shared arguments, the kept indices/weights of its result)
CALLS = {
    "compress": lambda **kw: tchakaloff.compress(POINTS, size=100, degree=3, **kw),
    "compress_greedy": lambda **kw: tchakaloff.compress(
        POINTS, size=100, degree=3, partition="greedy", **kw
    ),
    "compress_dataset": lambda **kw: tchakaloff.compress_dataset(
        POINTS, TARGET, size=100, degree=2, **kw
    ),
    "compress_dataset_kernel": lambda **kw: tchakaloff.compress_dataset(
        FEATURES, TARGET, size=60, **kw
    ),
    "compress_layer": lambda **kw: tchakaloff.compress_layer(
        W_IN, B_IN, W_OUT, size=120, degree=2, **kw
    ),
    "compress_two_layer": lambda **kw: compress_two_layer(*_two_layer(), size=120, degree=2, **kw),
    "compress_attention": lambda **kw: compress_attention(_attention(), size=20, degree=1, **kw),
    "compress_attention_calibrated": lambda **kw: compress_attention(
        _attention(), size=12, calibration=SEQUENCES, **kw
    ),
    "compress_mlp": lambda **kw: compress_mlp(_mlp(), size=6, calibration=CALIBRATION, **kw),
    "summarize": lambda **kw: tchakaloff.summarize(FEATURES, size=40, **kw),
}
# compress_mlp runs no reduction of the core (its least squares are numpy's)
TAKES_N_JOBS = [n for n in CALLS if n != "compress_mlp"]


def kept(result) -> tuple[np.ndarray, np.ndarray]:
    """Indices and weights of any result, as numpy arrays."""
    if isinstance(result, nn.Module):  # the torch helpers: the kept units' parameters
        state = result.state_dict()
        return tuple(
            np.concatenate([v.detach().numpy().ravel() for k, v in state.items() if key in k])
            for key in ("weight", "multiplicities")
        )
    return np.asarray(result.indices), np.asarray(result.weights)


def assert_same(a, b) -> None:
    for x, y in zip(kept(a), kept(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_rng_none_is_the_same_result_on_every_call(name):
    assert_same(CALLS[name](), CALLS[name](rng=None))
    assert_same(CALLS[name](), CALLS[name]())


@pytest.mark.parametrize("name", sorted(CALLS))
def test_rng_takes_a_seed_or_a_generator_alike(name):
    assert_same(CALLS[name](rng=7), CALLS[name](rng=np.random.default_rng(7)))


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", ["abc", -1, 1.5])
def test_a_bad_rng_is_one_value_error(name, bad):
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        CALLS[name](rng=bad)


@pytest.mark.parametrize("name", TAKES_N_JOBS)
def test_n_jobs_never_changes_the_result(name):
    assert_same(CALLS[name](n_jobs=1), CALLS[name](n_jobs=2))
    with pytest.raises(ValueError, match="n_jobs must be at least 1"):
        CALLS[name](n_jobs=0)


def test_compress_layer_rng_picks_another_valid_subset():
    """rng reaches the rounds: another seed keeps other neurons, with the same moments."""
    a = tchakaloff.compress_layer(W_IN, B_IN, W_OUT, size=120, degree=2, rng=1)
    b = tchakaloff.compress_layer(W_IN, B_IN, W_OUT, size=120, degree=2, rng=2)
    assert not np.array_equal(a.indices, b.indices)
    objects = np.column_stack([W_OUT.T, W_IN, B_IN])
    full = tchakaloff.moments(objects, degree=2)
    for result in (a, b):
        np.testing.assert_allclose(
            tchakaloff.moments(objects[result.indices], result.weights, degree=2),
            full,
            rtol=1e-8,
            atol=1e-9 * np.abs(full).max(),
        )


@pytest.mark.parametrize("size", [24, 25, 1000, [24, 12], [30, 100]])
def test_compress_mlp_size_above_the_width_keeps_the_layer(size):
    """As compress(points, size >= n) keeps every point: the network is reproduced."""
    model = _mlp()
    small = compress_mlp(model, size=size, calibration=CALIBRATION)
    assert small.widths == [24, 12]
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(small.fold()(x), model(x), rtol=1e-5, atol=1e-6)


def test_size_above_the_input_keeps_everything_everywhere():
    n = len(POINTS)
    full = tchakaloff.compress(POINTS, size=10 * n, degree=3)
    data = tchakaloff.compress_dataset(POINTS, TARGET, size=10 * n, degree=2)
    layer = tchakaloff.compress_layer(W_IN, B_IN, W_OUT, size=10_000, degree=2)
    for result, rows in ((full, n), (data, n), (layer, len(W_IN))):
        np.testing.assert_array_equal(np.sort(result.indices), np.arange(rows))
        np.testing.assert_allclose(result.weights, 1.0)
