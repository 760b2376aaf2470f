"""tchakaloff.torch.data: the weighted loss reproduces the full-data loss and gradient for
polynomial models, the sampler draws rows in proportion to their weights, and the loader
serves batches of kept rows."""

import math

import numpy as np
import pytest
import tchakaloff
import torch
from tchakaloff.torch import weighted_loader, weighted_loss, weighted_sampler


def quadratic_features(x: torch.Tensor) -> torch.Tensor:
    """1, x1, x2, x1^2, x1 x2, x2^2 (written out, no tchakaloff)."""
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([torch.ones_like(x1), x1, x2, x1 * x1, x1 * x2, x2 * x2], dim=1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3000, 2))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 + 0.5 * rng.normal(size=len(x))
    return x, y, tchakaloff.compress_dataset(x, y, size=300, degree=4)


def test_weighted_loss_and_gradient_equal_the_full_ones_for_a_polynomial_model(data):
    """(q(x) - y)^2 with q quadratic has degree 4 in (x, y), and so does its gradient in q's
    coefficients: both are kept exactly by a degree-4 compression."""
    x, y, res = data
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):
        theta = torch.randn(6, dtype=torch.float64, generator=generator, requires_grad=True)
        full_pred = quadratic_features(torch.from_numpy(x)) @ theta
        full = torch.nn.functional.mse_loss(full_pred, torch.from_numpy(y))
        (full_grad,) = torch.autograd.grad(full, theta)
        pred = quadratic_features(torch.from_numpy(res.X)) @ theta
        losses = torch.nn.functional.mse_loss(pred, torch.from_numpy(res.y), reduction="none")
        ours = weighted_loss(losses, res.weights)
        (grad,) = torch.autograd.grad(ours, theta)
        torch.testing.assert_close(ours, full, rtol=1e-9, atol=0)
        torch.testing.assert_close(grad, full_grad, rtol=1e-8, atol=1e-10)


def test_weighted_loss_is_the_weighted_mean():
    losses = torch.tensor([[1.0, 3.0], [4.0, 4.0], [0.0, 2.0]])
    weights = np.array([1.0, 2.0, 5.0])
    expected = (1.0 * 2.0 + 2.0 * 4.0 + 5.0 * 1.0) / 8.0
    torch.testing.assert_close(weighted_loss(losses, weights), torch.tensor(expected))
    torch.testing.assert_close(weighted_loss(losses, torch.ones(3)), losses.mean())


@pytest.mark.parametrize(
    ("losses", "weights", "match"),
    [
        (torch.ones(3), torch.ones(4), r"3 losses but 4 weights"),
        (torch.tensor(2.0), torch.ones(1), r"reduction='none'"),
        (torch.ones(3), torch.tensor([1.0, -1.0, 1.0]), r">= 0"),
        (torch.ones(3), torch.tensor([1.0, float("nan"), 1.0]), r"finite"),
        (torch.ones(3), torch.zeros(3), r"positive total"),
        (torch.ones(3), torch.ones(3, 1), r"1-d"),
        (torch.ones(3), np.array(["a", "b", "c"]), r"real numbers"),
    ],
)
def test_weighted_loss_refuses_bad_input(losses, weights, match):
    with pytest.raises(ValueError, match=match):
        weighted_loss(losses, weights)


def test_sampler_draws_in_proportion_to_the_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    sampler = weighted_sampler(weights, generator=torch.Generator().manual_seed(2))
    assert len(sampler) == 10  # round(total weight): as many draws as the full data's rows
    n = 200_000
    draws = list(weighted_sampler(weights, num_samples=n, generator=torch.Generator()))
    counts = np.bincount(draws, minlength=5)
    p = weights / weights.sum()
    expected = n * p
    assert counts[4] == 0
    # each count within 5 binomial standard deviations of its expectation
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9)
    a = list(weighted_sampler(weights, num_samples=50, generator=torch.Generator().manual_seed(3)))
    b = list(weighted_sampler(weights, num_samples=50, generator=torch.Generator().manual_seed(3)))
    assert a == b


def test_loader_serves_kept_rows_for_an_epoch_of_d_draws(data):
    x, _, res = data
    loader = weighted_loader(res, batch_size=256, generator=torch.Generator().manual_seed(4))
    batches = list(loader)
    assert len(batches) == math.ceil(len(x) / 256)
    assert sum(len(bx) for bx, _ in batches) == len(x)
    kept = {tuple(row) for row in np.column_stack([res.X, res.y]).astype(np.float32)}
    for bx, by in batches:
        assert bx.dtype == torch.get_default_dtype() and bx.shape[1] == 2
        rows = np.column_stack([bx.numpy(), by.numpy()])
        assert all(tuple(row) in kept for row in rows)


def test_loader_with_class_labels_and_plain_datasets():
    rng = np.random.default_rng(5)
    cls = rng.integers(0, 3, 900)
    x = rng.normal(size=(900, 2)) + cls[:, None]
    res = tchakaloff.compress_dataset(x, cls, size=200, degree=2, discrete=True)
    bx, by = next(iter(weighted_loader(res, batch_size=64, dtype=torch.float64)))
    assert by.dtype == torch.int64 and bx.dtype == torch.float64 and len(bx) == 64

    class Rows(torch.utils.data.Dataset):  # no batch indexing: rows are collated one by one
        def __len__(self):
            return len(res)

        def __getitem__(self, i):
            return torch.as_tensor(res.X[i]), int(res.y[i])

    batches = list(weighted_loader(Rows(), res.weights, batch_size=100))
    assert sum(len(b[0]) for b in batches) == 900

    names = tchakaloff.compress_dataset(x, np.array(["a", "b", "c"])[cls], size=200, degree=2)
    with pytest.raises(ValueError, match="encode the classes as integers"):
        weighted_loader(names, batch_size=8)
    with pytest.raises(ValueError, match="one weight per row"):
        weighted_loader(Rows(), np.ones(3), batch_size=8)
    with pytest.raises(ValueError, match="pass the rows' weights"):
        weighted_loader(Rows(), batch_size=8)
    with pytest.raises(ValueError, match="batch_size must be"):
        weighted_loader(res, batch_size=0)


@pytest.mark.parametrize(
    ("dtype", "weights"),
    [
        (torch.float16, np.full(4, 2.5e5)),  # a total of 1e6 overflows float16
        (torch.float32, [1e300] * 4),  # a list of floats would become float32 infinities
        (torch.float32, np.full(4, 1e-300)),  # underflows float32
        (torch.float64, [1e308, 1e308, 1e308, 1e308]),  # the total overflows float64
    ],
)
def test_weighted_loss_survives_extreme_weights(dtype, weights):
    losses = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=dtype)
    value = weighted_loss(losses, weights)
    assert value.dtype == dtype
    assert float(value) == pytest.approx(3.0, rel=1e-3)
