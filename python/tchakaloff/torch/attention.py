"""Multi-head attention whose heads are permutation-invariant units, and their compression.

The output of a multi-head attention layer is a sum over its heads,
``sum_h W_o^h softmax(Q^h K^h^T / sqrt(d)) V^h``: head h is the object
(W_q^h, W_k^h, W_v^h, W_o^h), and the heads compress like the neurons of a hidden layer: a
few real heads of the layer with multiplicities c that scale their context. Either the
moments of the head objects are matched cell by cell (:func:`tchakaloff.compress_layer`,
the same mechanism; the output is of degree 2 in (W_v^h, W_o^h), so the cells are cut along
(W_q^h, W_k^h) only while every moment is matched in all coordinates), or, given typical
inputs, the heads' contributions to the output (:func:`tchakaloff.compress_contributions`,
as :func:`~tchakaloff.torch.compress_mlp` does for neurons).

:class:`CompressedAttention` trains like the wide layer: head h's context is multiplied by
c_h (a buffer) and the gradients of its parameters (its rows of W_q, W_k, W_v and its columns
of W_o) are divided by c_h, so that it receives the gradient each of the c_h heads it stands
for receives in the wide layer, for any optimiser that updates parameters elementwise.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .._threads import blas_on_one_thread, core_threads
from .._validation import as_size
from ..compression import Compression, compress
from ..contributions import ContributionCompression, compress_contributions
from ..layer import compress_layer, incoming_metric, neuron_objects, random_neurons
from .weighted import _scale_gradient, distinct_rows


class MultiHeadAttention(nn.Module):
    """Batch-first multi-head attention without biases, ``(B, T, d_in) -> (B, T, d_out)``.

    Head h owns rows ``h * head_dim`` to ``(h + 1) * head_dim`` of ``W_q``, ``W_k`` and
    ``W_v`` (``nn.Linear(d_in, heads * head_dim, bias=False)``) and the same columns of
    ``W_o`` (``nn.Linear(heads * head_dim, d_out, bias=False)``); scores are
    ``Q K^T / sqrt(head_dim)``, masked above the diagonal when `causal`.
    """

    def __init__(self, d_in: int, d_out: int, heads: int, head_dim: int, *, causal: bool = True):
        super().__init__()
        for name, value in (
            ("d_in", d_in),
            ("d_out", d_out),
            ("heads", heads),
            ("head_dim", head_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.heads, self.head_dim, self.causal = heads, head_dim, causal
        self.W_q = nn.Linear(d_in, heads * head_dim, bias=False)
        self.W_k = nn.Linear(d_in, heads * head_dim, bias=False)
        self.W_v = nn.Linear(d_in, heads * head_dim, bias=False)
        self.W_o = nn.Linear(heads * head_dim, d_out, bias=False)

    @property
    def d_in(self) -> int:
        return self.W_q.in_features

    @property
    def d_out(self) -> int:
        return self.W_o.out_features

    def _heads(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """(B, T, d_in) -> (B, heads, T, head_dim)."""
        batch, length, _ = x.shape
        projected = nn.functional.linear(x, weight)
        return projected.view(batch, length, self.heads, self.head_dim).transpose(1, 2)

    def context(
        self,
        x: torch.Tensor,
        w_q: torch.Tensor,
        w_k: torch.Tensor,
        w_v: torch.Tensor,
        *,
        last: bool = False,
    ) -> torch.Tensor:
        """Every head's attention-weighted values, (B, heads, T, head_dim), or (B, heads, 1,
        head_dim) for the last token alone (which attends to every token)."""
        if x.dim() != 3 or x.shape[-1] != self.d_in:
            raise ValueError(
                f"input must be (batch, tokens, {self.d_in}), got shape {tuple(x.shape)}"
            )
        q, k, v = self._heads(x, w_q), self._heads(x, w_k), self._heads(x, w_v)
        if last:
            q = q[:, :, -1:]
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if self.causal and not last:
            length = x.shape[1]
            above = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(above, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    def _output(self, context: torch.Tensor, w_o: torch.Tensor) -> torch.Tensor:
        batch, _, length, _ = context.shape
        merged = context.transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        return nn.functional.linear(merged, w_o)

    def _weights(self) -> list[torch.Tensor]:
        return [self.W_q.weight, self.W_k.weight, self.W_v.weight, self.W_o.weight]

    def _attend(self, x: torch.Tensor, last: bool) -> torch.Tensor:
        w_q, w_k, w_v, w_o = self._weights()
        return self._output(self.context(x, w_q, w_k, w_v, last=last), w_o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._attend(x, last=False)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The output at the last token, (B, d_out): ``self(x)[:, -1]`` at a T-th of the
        cost (only the last query is scored)."""
        return self._attend(x, last=True)[:, 0]

    def extra_repr(self) -> str:
        return (
            f"d_in={self.d_in}, d_out={self.d_out}, heads={self.heads}, "
            f"head_dim={self.head_dim}, causal={self.causal}"
        )


class CompressedAttention(MultiHeadAttention):
    """:class:`MultiHeadAttention` whose head h's context is multiplied by ``multiplicities[h]``
    (a buffer), with the gradients of head h's parameters divided by it (the wide layer's
    dynamics; ``divide_gradients=False`` gives the plain gradients)."""

    multiplicities: torch.Tensor

    def __init__(
        self,
        d_in: int,
        d_out: int,
        heads: int,
        head_dim: int,
        multiplicities: torch.Tensor | np.ndarray,
        *,
        causal: bool = True,
        divide_gradients: bool = True,
    ):
        super().__init__(d_in, d_out, heads, head_dim, causal=causal)
        c = torch.as_tensor(multiplicities, dtype=self.W_q.weight.dtype)
        if c.shape != (heads,) or not bool(torch.all(torch.isfinite(c) & (c > 0))):
            raise ValueError(
                f"multiplicities must have shape ({heads},), one finite value > 0 per kept "
                f"head; got shape {tuple(c.shape)}"
            )
        self.register_buffer("multiplicities", c.clone())
        self.divide_gradients = divide_gradients

    def _weights(self) -> list[torch.Tensor]:
        weights = super()._weights()
        if not self.divide_gradients:
            return weights
        per_row = (1.0 / self.multiplicities).repeat_interleave(self.head_dim)
        return [_scale_gradient(w, per_row[:, None]) for w in weights[:3]] + [
            _scale_gradient(weights[3], per_row[None, :])
        ]

    def _attend(self, x: torch.Tensor, last: bool) -> torch.Tensor:
        w_q, w_k, w_v, w_o = self._weights()
        context = self.context(x, w_q, w_k, w_v, last=last)
        return self._output(context * self.multiplicities[None, :, None, None], w_o)

    def fold(self) -> MultiHeadAttention:
        """A plain :class:`MultiHeadAttention` with the multiplicities absorbed into W_o's
        columns, for inference (trained further it would follow ordinary dynamics)."""
        plain = MultiHeadAttention(
            self.d_in, self.d_out, self.heads, self.head_dim, causal=self.causal
        ).to(self.W_q.weight)
        plain.load_state_dict({k: v for k, v in self.state_dict().items() if k != "multiplicities"})
        with torch.no_grad():
            plain.W_o.weight.mul_(self.multiplicities.repeat_interleave(self.head_dim)[None, :])
        return plain

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, total multiplicity={float(self.multiplicities.sum()):g}, "
            f"divide_gradients={self.divide_gradients}"
        )


def _head_arrays(mha: MultiHeadAttention) -> tuple[np.ndarray, np.ndarray]:
    """The head objects as compress_layer's (W_in, W_out): W_in[h] = (W_q^h, W_k^h), the
    coordinates the cells are cut along, and W_out[:, h] = (W_v^h, W_o^h)."""
    heads, d = mha.heads, mha.head_dim

    def blocks(weight: torch.Tensor) -> np.ndarray:  # (heads, head_dim * d_in)
        return weight.detach().cpu().double().reshape(heads, d * mha.d_in).numpy()

    w_o = (
        mha.W_o.weight.detach()
        .cpu()
        .double()
        .reshape(mha.d_out, heads, d)
        .permute(1, 0, 2)
        .reshape(heads, mha.d_out * d)
        .numpy()
    )
    incoming = np.concatenate([blocks(mha.W_q.weight), blocks(mha.W_k.weight)], axis=1)
    outgoing = np.concatenate([blocks(mha.W_v.weight), w_o], axis=1)
    return incoming, outgoing.T


def _kept_heads(
    mha: MultiHeadAttention, indices: np.ndarray, weights: np.ndarray
) -> CompressedAttention:
    """Heads `indices` copied with multiplicities `weights`, on mha's dtype and device."""
    kept = torch.as_tensor(indices, device=mha.W_q.weight.device)
    rows = (kept[:, None] * mha.head_dim + torch.arange(mha.head_dim, device=kept.device)).reshape(
        -1
    )
    small = CompressedAttention(
        mha.d_in, mha.d_out, len(kept), mha.head_dim, weights, causal=mha.causal
    ).to(mha.W_q.weight)
    with torch.no_grad():
        for name in ("W_q", "W_k", "W_v"):
            getattr(small, name).weight.copy_(getattr(mha, name).weight[rows])
        small.W_o.weight.copy_(mha.W_o.weight[:, rows])
    return small


def _check_attention(mha: object) -> MultiHeadAttention:
    if isinstance(mha, nn.MultiheadAttention):
        raise ValueError(
            "torch.nn.MultiheadAttention is not supported yet: its head objects (4 x embed_dim "
            "x head_dim coordinates with the input and output projections) are too large for "
            "full moments; build a tchakaloff.torch.MultiHeadAttention with the same weights "
            "(W_q, W_k, W_v from in_proj_weight, W_o from out_proj.weight, no biases)"
        )
    if not isinstance(mha, MultiHeadAttention):
        raise ValueError(
            f"mha must be a tchakaloff.torch.MultiHeadAttention, got {type(mha).__name__}"
        )
    return mha


def compress_attention(
    mha: MultiHeadAttention,
    *,
    size: float,
    degree: int | None = None,
    calibration: torch.Tensor | None = None,
    shrink: float | None = 2.0,
    n_jobs: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> CompressedAttention:
    """Keep at most `size` heads of a multi-head attention layer, with multiplicities.

    Three ways to choose them; identical heads are merged first, exactly, every way, and the
    original layer is left untouched.

    - `degree` (the paper's): the moments of the head objects (W_q^h, W_k^h, W_v^h, W_o^h)
      matched cell by cell, by :func:`tchakaloff.compress_layer` with the query and key
      blocks as the coordinates the cells are cut along and the value and output blocks as
      the ones the output is polynomial in. Needs no data; each cell keeps at most
      N = C(m + k, k) heads, m = 3 head_dim d_in + d_out head_dim, so `size` // N cells.
    - `calibration` (typical inputs, (B, T, d_in)): the layer's output is linear in each
      head's contribution W_o^h context^h(x), so the heads come from
      :func:`tchakaloff.compress_contributions` on those contributions (every token of the
      calibration sequences), with the multiplicities' total held at the number of heads.
      Exact on such inputs, but the kept heads' parameters no longer stand for the others'
      distribution, so in training the layer drifts from the wide one (App. F setting: up
      to a 9-12 % test-loss gap after a few epochs).
    - both (recommended): one reduction keeps the moments of every k-d cell (as the paper's
      way, without rounds) and, with the budget the cells leave, the heads' contributions on
      the calibration sequences and the cells' leading degree-(k + 1) moments
      (:func:`tchakaloff.compress` with ``functions=``). Exactly `size` heads; at the App. F
      setting (4000 -> 800, k = 3) the output error right after compression is ~1e-11
      relative, against ~2e-2 for the moments alone, and the layer trains like the wide one.

    Parameters
    ----------
    mha : MultiHeadAttention
    size : int or float
        Heads to keep, or a fraction of them.
    degree : int, optional
        Moments matched per cell.
    calibration : tensor, optional
        Typical input sequences whose outputs the kept heads should reproduce.
    shrink : float or None, default 2.0
        `degree` alone: as in :func:`tchakaloff.compress_layer`.
    n_jobs : int, optional
        Threads of the compression when `degree` is given (the result does not depend on it).
    rng : numpy Generator or seed, optional
        Picks among the valid subsets (with `degree`) and seeds the randomised
        eigen-features (`calibration` alone); None gives the same result on every call.

    Returns
    -------
    CompressedAttention
        Train it with any elementwise optimiser to follow the wide layer's dynamics;
        ``.fold()`` gives a plain :class:`MultiHeadAttention`.
    """
    mha = _check_attention(mha)
    core_threads(n_jobs)  # checked on every path, as the other compressions do
    incoming, outgoing = _head_arrays(mha)
    if calibration is None:
        if degree is None:
            raise ValueError(
                "give degree (match the moments of the head objects), calibration (match "
                "the heads' contributions on typical inputs), or both"
            )
        layer = compress_layer(
            incoming,
            None,
            outgoing,
            size=size,
            degree=degree,
            shrink=shrink,
            rng=rng,
            n_jobs=n_jobs,
        )
        assert layer.indices is not None  # compress_layer keeps neurons of the layer
        return _kept_heads(mha, layer.indices, layer.weights)
    kept = as_size(size, mha.heads, "head")
    # objects as compress_layer's: (W_v, W_o), then the (W_q, W_k) the cells are cut along
    objects = neuron_objects(incoming, None, outgoing)
    first, copies = distinct_rows(objects)
    if len(first) <= kept:
        return _kept_heads(mha, first, copies)
    units = _contributions(mha, calibration)[first]
    picked: Compression | ContributionCompression
    if degree is not None:
        picked = compress(
            objects[first],
            copies,
            size=kept,
            degree=degree,
            metric=incoming_metric(objects[first], outgoing.shape[0]),
            functions=units,
            rng=rng,
            n_jobs=n_jobs,
        )
        return _kept_heads(mha, first[picked.indices], picked.weights)
    with blas_on_one_thread():
        picked = compress_contributions(
            units * copies[:, None], size=kept, total=float(mha.heads), rng=rng
        )
    return _kept_heads(mha, first[picked.indices], picked.weights * copies[picked.indices])


def _contributions(mha: MultiHeadAttention, calibration: object) -> np.ndarray:
    """(heads, sequences x tokens x d_out): every head's share of the output on the
    calibration sequences (as many of them as keep the attention scores to about 1e8
    numbers, 400 MB in float32)."""
    if not isinstance(calibration, torch.Tensor) or calibration.dim() != 3:
        raise ValueError(
            f"calibration must be a (sequences, tokens, {mha.d_in}) tensor of typical inputs"
        )
    x = calibration.detach().to(mha.W_q.weight)
    if not bool(torch.all(torch.isfinite(x))):
        raise ValueError("calibration contains NaN or inf; pass finite inputs")
    length = x.shape[1]
    rows = max(1, int(1e8 // (mha.heads * length * max(length, mha.d_out))))
    x = x[:rows]
    with torch.no_grad():
        context = mha.context(x, mha.W_q.weight, mha.W_k.weight, mha.W_v.weight)
        w_o = mha.W_o.weight.view(mha.d_out, mha.heads, mha.head_dim)
        units = torch.einsum("bhtd,ohd->hbto", context, w_o).reshape(mha.heads, -1)
    return units.double().cpu().numpy()


def random_heads(
    mha: MultiHeadAttention,
    *,
    size: int,
    rescale: bool = False,
    rng: np.random.Generator | int | None = None,
) -> CompressedAttention:
    """`size` heads drawn uniformly, multiplicity 1 (the paper's naive baseline) or, with
    `rescale`, heads / size each."""
    mha = _check_attention(mha)
    incoming, outgoing = _head_arrays(mha)
    layer = random_neurons(incoming, None, outgoing, size=size, rescale=rescale, rng=rng)
    assert layer.indices is not None  # random_neurons keeps neurons of the layer
    return _kept_heads(mha, layer.indices, layer.weights)
