"""tchakaloff.torch attention: heads are units; a layer of exactly copied heads compresses
exactly and then trains along the wide layer's trajectory; causal masking and folding are
checked against direct computations."""

import copy
import math

import pytest
import torch
from tchakaloff.torch import (
    CompressedAttention,
    MultiHeadAttention,
    compress_attention,
    random_heads,
)
from torch import nn

COPIES = torch.tensor([3, 1, 4, 2])


def attention_of_copies(seed, head_dim=2, d_in=1, d_out=1):
    """A float64 layer whose heads are COPIES[h] exact copies of head h, shuffled; returns the
    layer and the distinct head of every head."""
    generator = torch.Generator().manual_seed(seed)
    distinct = len(COPIES)
    source = torch.repeat_interleave(torch.arange(distinct), COPIES)
    source = source[torch.randperm(len(source), generator=generator)]
    layer = MultiHeadAttention(d_in, d_out, len(source), head_dim).double()
    rows = (source[:, None] * head_dim + torch.arange(head_dim)).reshape(-1)
    with torch.no_grad():
        for name in ("W_q", "W_k", "W_v"):
            base = torch.rand(distinct * head_dim, d_in, generator=generator, dtype=torch.float64)
            getattr(layer, name).weight.copy_(base[rows] * 2 - 1)
        base = torch.rand(d_out, distinct * head_dim, generator=generator, dtype=torch.float64)
        layer.W_o.weight.copy_((base[:, rows] * 2 - 1) / len(source))
    return layer, source


def tokens(seed, batch=16, length=7, d_in=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, length, d_in, generator=generator, dtype=torch.float64) * 2 - 1


def test_attention_matches_a_direct_causal_computation():
    torch.manual_seed(0)
    layer = MultiHeadAttention(3, 2, 4, 5).double()
    x = tokens(1, batch=3, length=6, d_in=3)
    expected = torch.zeros(3, 6, 2, dtype=torch.float64)
    for h in range(4):
        rows = slice(h * 5, (h + 1) * 5)
        q = x @ layer.W_q.weight[rows].T
        k = x @ layer.W_k.weight[rows].T
        v = x @ layer.W_v.weight[rows].T
        for i in range(6):
            scores = torch.stack([q[:, i] @ k[:, j].T for j in range(i + 1)]).diagonal(
                dim1=1, dim2=2
            )
            weights = torch.softmax(scores.T / math.sqrt(5), dim=1)  # (batch, i + 1)
            context = (weights[:, :, None] * v[:, : i + 1]).sum(1)
            expected[:, i] += context @ layer.W_o.weight[:, rows].T
    with torch.no_grad():
        torch.testing.assert_close(layer(x), expected)
    # the first output sees only the first token
    changed = x.clone()
    changed[:, 1:] += 1
    with torch.no_grad():
        torch.testing.assert_close(layer(changed)[:, 0], layer(x)[:, 0])
        assert not torch.allclose(layer(changed)[:, 1], layer(x)[:, 1])


def test_copies_compress_exactly_to_the_distinct_heads():
    wide, source = attention_of_copies(0)
    small = compress_attention(wide, size=len(COPIES), degree=2)
    assert small.heads == len(COPIES)
    # every kept head is one of the wide layer's heads, with its number of copies
    for j in range(small.heads):
        block = small.W_q.weight[j * 2 : (j + 1) * 2]
        matches = [
            h for h in range(wide.heads) if torch.equal(wide.W_q.weight[h * 2 : h * 2 + 2], block)
        ]
        assert matches
        assert float(small.multiplicities[j]) == float(COPIES[source[matches[0]]])
    x = tokens(2)
    with torch.no_grad():
        torch.testing.assert_close(small(x), wide(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(small.fold()(x), wide(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "make_optimiser",
    [
        lambda params: torch.optim.SGD(params, lr=0.5),
        lambda params: torch.optim.Adam(params, lr=0.01),
    ],
    ids=["sgd", "adam"],
)
def test_compressed_copies_follow_the_wide_trajectory(make_optimiser):
    wide, _ = attention_of_copies(1)
    small = compress_attention(wide, size=len(COPIES), degree=2)
    x, probe = tokens(3, batch=64), tokens(4)
    with torch.no_grad():
        y = torch.sin(3 * x[:, -1:, 0]).squeeze(-1)
        start = float((small(probe) - wide(probe)).abs().max())
    wide_opt, small_opt = make_optimiser(wide.parameters()), make_optimiser(small.parameters())
    for step in range(50):
        batch = slice((step * 8) % 64, (step * 8) % 64 + 8)
        for net, opt in ((wide, wide_opt), (small, small_opt)):
            opt.zero_grad()
            nn.functional.mse_loss(net(x[batch])[:, -1, 0], y[batch]).backward()
            opt.step()
    with torch.no_grad():
        gap = float((small(probe) - wide(probe)).abs().max())
        moved = float((wide(probe) - attention_of_copies(1)[0](probe)).abs().max())
    assert start < 1e-12 and gap < 1e-6 and moved > 1e-3


def test_without_the_division_sgd_leaves_the_wide_trajectory():
    wide, _ = attention_of_copies(1)
    small = compress_attention(wide, size=len(COPIES), degree=2)
    small.divide_gradients = False
    x = tokens(3, batch=8)
    y = torch.sin(3 * x[:, -1, 0])
    for net in (wide, small):
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        for _ in range(20):
            opt.zero_grad()
            nn.functional.mse_loss(net(x)[:, -1, 0], y).backward()
            opt.step()
    with torch.no_grad():
        assert float((small(x) - wide(x)).abs().max()) > 1e-3


def test_random_heads_are_real_heads_and_state_dict_round_trips():
    torch.manual_seed(2)
    wide = MultiHeadAttention(2, 3, 12, 4)
    naive = random_heads(wide, size=5, rng=0)
    assert isinstance(naive, CompressedAttention) and naive.heads == 5
    assert torch.equal(naive.multiplicities, torch.ones(5))
    for j in range(5):
        block = naive.W_k.weight[j * 4 : (j + 1) * 4]
        assert any(torch.equal(wide.W_k.weight[h * 4 : (h + 1) * 4], block) for h in range(12))
    state = naive.state_dict()
    other = copy.deepcopy(naive)
    with torch.no_grad():
        for tensor in (*other.parameters(), *other.buffers()):
            tensor.add_(1.0)
    other.load_state_dict(state)
    x = torch.rand(3, 5, 2)
    with torch.no_grad():
        torch.testing.assert_close(other(x), naive(x))
    assert "multiplicities" in dict(naive.named_buffers())
    assert all(p is not naive.multiplicities for p in naive.parameters())


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: MultiHeadAttention(1, 1, 0, 2), "heads must be a positive integer"),
        (lambda: MultiHeadAttention(1, 1, 2.5, 2), "heads must be a positive integer"),
        (
            lambda: MultiHeadAttention(1, 1, 4, 2)(torch.rand(3, 5)),
            r"input must be \(batch, tokens, 1\)",
        ),
        (
            lambda: compress_attention(
                nn.MultiheadAttention(8, 2, batch_first=True), size=1, degree=1
            ),
            "not supported yet",
        ),
        (lambda: compress_attention(nn.Linear(2, 2), size=1, degree=1), "MultiHeadAttention"),
        (
            lambda: CompressedAttention(1, 1, 2, 2, torch.tensor([1.0, 0.0])),
            r"shape \(2,\), one finite value > 0",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_nan_weights_are_refused():
    layer = MultiHeadAttention(1, 1, 40, 2)
    with torch.no_grad():
        layer.W_v.weight[3, 0] = float("nan")
    with pytest.raises(ValueError):
        compress_attention(layer, size=10, degree=1)


def test_calibration_keeps_copies_exactly_and_beats_random_heads():
    wide, _ = attention_of_copies(5)
    small = compress_attention(wide, size=len(COPIES), calibration=tokens(6))
    assert small.heads == len(COPIES)
    assert sorted(small.multiplicities.tolist()) == sorted(COPIES.double().tolist())
    torch.manual_seed(7)
    layer = MultiHeadAttention(1, 1, 300, 2).double()
    small = compress_attention(layer, size=60, calibration=tokens(8, batch=64))
    assert small.heads <= 60
    assert float(small.multiplicities.sum()) == pytest.approx(300, rel=0.05)
    fresh = tokens(9, batch=64)
    with torch.no_grad():
        out = layer(fresh)
        ours = float(((small(fresh) - out) ** 2).mean())
        naive = float(
            ((random_heads(layer, size=60, rescale=True, rng=0)(fresh) - out) ** 2).mean()
        )
    assert ours < 1e-3 * naive


def test_attention_needs_a_degree_or_calibration():
    with pytest.raises(ValueError, match=r"degree .*calibration"):
        compress_attention(MultiHeadAttention(1, 1, 8, 2), size=4)


def test_predict_is_the_last_tokens_output():
    wide, _ = attention_of_copies(2)
    small = compress_attention(wide, size=len(COPIES), degree=2)
    x = tokens(10)
    with torch.no_grad():
        for layer in (wide, small):
            torch.testing.assert_close(layer.predict(x), layer(x)[:, -1], rtol=1e-12, atol=1e-14)


def test_degree_and_calibration_keep_moments_and_outputs():
    """Both given: the heads' moments in every cell and their outputs on the calibration
    sequences, on exactly `size` real heads; far closer on fresh inputs than moments alone."""
    wide, _ = attention_of_copies(5)
    small = compress_attention(wide, size=len(COPIES), degree=1, calibration=tokens(6))
    assert sorted(small.multiplicities.tolist()) == sorted(COPIES.double().tolist())
    torch.manual_seed(3)
    layer = MultiHeadAttention(1, 1, 2000, 2).double()
    both = compress_attention(layer, size=200, degree=2, calibration=tokens(4, batch=64))
    moments = compress_attention(layer, size=200, degree=2)
    assert both.heads == 200
    assert float(both.multiplicities.sum()) == pytest.approx(2000, rel=1e-7)
    assert bool(torch.all(both.multiplicities > 0))
    w_q = layer.W_q.weight.reshape(2000, 2)
    kept = both.W_q.weight.reshape(200, 2)
    assert all(bool((w_q == row).all(1).any()) for row in kept)  # real heads of the layer
    fresh = tokens(9, batch=64)
    with torch.no_grad():
        out = layer(fresh)
        ours = float(((both(fresh) - out) ** 2).mean())
        paper = float(((moments(fresh) - out) ** 2).mean())
    assert ours < 1e-6 * paper
