"""A feed-forward network whose hidden units carry multiplicities, and the gradient rule
that makes it train like the wide network it stands for."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Union, cast

import numpy as np
import scipy.linalg  # noqa: F401  (its BLAS loaded before the first BLAS thread limit)
import torch
from torch import nn


class _Elementwise(nn.Module):
    """Wraps a plain function (torch.tanh, functional.gelu, ...) as a module for nn.Sequential."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


# Modules that act on every unit (feature or channel) separately: a subset of the units, or a
# positive scale of each, passes through them unchanged (the scale after the nonlinearity).
PER_UNIT = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish, nn.Softplus,
    nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Identity, _Elementwise, nn.Dropout,
    nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
)  # fmt: skip


def leaves(model: nn.Module) -> Iterator[nn.Module]:
    """The modules of nested nn.Sequential containers, in the order they run."""
    for child in model.children():
        if isinstance(child, nn.Sequential):
            yield from leaves(child)
        else:
            yield child


Layer = Union[nn.Linear, nn.Conv2d]


class _Hidden(NamedTuple):
    """A hidden layer, the layer its units feed, and how many inputs of that layer each unit
    feeds: H*W after an nn.Flatten (channel-major, as nn.Flatten lays them out), else 1."""

    layer: Layer
    following: Layer
    block: int


def _incoming(hidden: _Hidden) -> torch.Tensor:
    """(units, fan_in [+ 1]): every unit's flattened incoming weights, then its bias."""
    layer = hidden.layer
    rows = layer.weight.detach().flatten(1)
    if layer.bias is None:
        return rows
    return torch.cat([rows, layer.bias.detach()[:, None]], dim=1)


def _outgoing(hidden: _Hidden) -> torch.Tensor:
    """(units, following out, block * kernel): the weights every unit feeds."""
    weight = hidden.following.weight.detach()
    return weight.reshape(weight.shape[0], hidden.layer.weight.shape[0], -1).transpose(0, 1)


def _set_units(
    hidden: _Hidden, weight: torch.Tensor, bias: torch.Tensor | None, outgoing: torch.Tensor
) -> None:
    """Replace the units of a hidden layer by new ones (incoming weight, bias, and outgoing
    weights laid out as :func:`_outgoing` gives them), in place."""
    layer, following, _ = hidden
    units = weight.shape[0]
    layer.weight = nn.Parameter(weight.contiguous(), requires_grad=layer.weight.requires_grad)
    if layer.bias is not None:
        assert bias is not None  # a layer with a bias gets new ones
        layer.bias = nn.Parameter(bias.contiguous(), requires_grad=layer.bias.requires_grad)
    shape = following.weight.shape
    following.weight = nn.Parameter(
        outgoing.transpose(0, 1).reshape(shape[0], -1, *shape[2:]).contiguous(),
        requires_grad=following.weight.requires_grad,
    )
    if isinstance(layer, nn.Linear):
        layer.out_features = units
    else:
        layer.out_channels = units
    if isinstance(following, nn.Linear):
        following.in_features = units * hidden.block
    else:
        following.in_channels = units


def _keep(hidden: _Hidden, kept: torch.Tensor, scale: float = 1.0) -> None:
    """Keep the units `kept` of a hidden layer and their inputs to the next layer, the
    outgoing weights multiplied by `scale`."""
    layer = hidden.layer
    bias = None if layer.bias is None else layer.bias.detach()[kept]
    _set_units(hidden, layer.weight.detach()[kept], bias, _outgoing(hidden)[kept] * scale)


def distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first of every group of identical rows, in row order, and the group sizes
    (float64): exact copies of a unit merge into one of that multiplicity."""
    rows = np.ascontiguousarray(rows)
    # one opaque record per row: np.unique compares bytes instead of sorting column by column
    records = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, counts = np.unique(records, return_index=True, return_counts=True)
    order = np.argsort(first)
    return first[order], counts[order].astype(np.float64)


class _ScaleGradient(torch.autograd.Function):
    """Identity in the forward pass, gradient times `scale` in the backward pass."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(scale)
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (scale,) = ctx.saved_tensors
        return grad * scale, None


def _scale_gradient(tensor: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """`tensor` in the forward pass, its gradient times `scale` in the backward pass."""
    scaled: torch.Tensor = _ScaleGradient.apply(tensor, scale)  # type: ignore[no-untyped-call]  # torch leaves Function.apply unannotated
    return scaled


@dataclass
class _Stage:
    """A layer, the per-unit modules after it up to the scale point, and the modules from the
    scale point to the next layer (nn.Flatten and what follows it)."""

    layer: Layer
    before_scale: list[nn.Module] = field(default_factory=list)
    after_scale: list[nn.Module] = field(default_factory=list)


def _units(layer: Layer) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _inputs(layer: Layer) -> int:
    return layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels


def _per_unit(values: torch.Tensor, ndim: int) -> torch.Tensor:
    """A (units,) vector shaped to broadcast along dim 1 of an `ndim`-d activation."""
    return values.reshape(-1, *[1] * (ndim - 2))


class CompressedNetwork(nn.Module):
    """A feed-forward network whose hidden units carry multiplicities.

    Built by :func:`compress_mlp`. Its forward pass is the original module sequence with
    every hidden layer's activations multiplied by that layer's multiplicities (after the
    activation, before any nn.Flatten). With ``divide_gradients`` (the default) the gradient
    of every weight is divided by the multiplicities of the units it joins, and of every bias
    by its unit's: trained with any elementwise optimiser (SGD, momentum, weight decay, Adam,
    AdamW, Rprop, ...) it follows the wide network's trajectory, exactly when the wide
    network's units are copies of the kept ones.

    Attributes
    ----------
    layers : nn.ModuleList
        The nn.Linear / nn.Conv2d layers (kept units only).
    widths : list of int
        Kept units per hidden layer.
    multiplicities : list of tensors
        One per hidden layer; buffers ``multiplicities_0``, ``multiplicities_1``, ... of the
        state_dict, never trained.
    """

    def __init__(
        self,
        prefix: Sequence[nn.Module],
        stages: Sequence[_Stage],
        multiplicities: Sequence[torch.Tensor],
        *,
        divide_gradients: bool = True,
    ) -> None:
        super().__init__()
        if len(multiplicities) != len(stages) - 1:
            raise ValueError("one multiplicity vector per hidden layer is needed")
        self.prefix = nn.Sequential(*prefix)
        self.layers = nn.ModuleList([stage.layer for stage in stages])
        self.before_scale = nn.ModuleList([nn.Sequential(*s.before_scale) for s in stages])
        self.after_scale = nn.ModuleList([nn.Sequential(*s.after_scale) for s in stages])
        self.divide_gradients = divide_gradients
        for index, (stage, c) in enumerate(zip(stages, multiplicities)):
            c = torch.as_tensor(c, dtype=stage.layer.weight.dtype, device=stage.layer.weight.device)
            if c.shape != (_units(stage.layer),) or not bool(
                torch.all(torch.isfinite(c) & (c > 0))
            ):
                raise ValueError(
                    f"multiplicities of hidden layer {index} must have shape "
                    f"({_units(stage.layer)},), one finite value > 0 per kept unit (drop units "
                    f"of weight 0); got shape {tuple(c.shape)}"
                )
            self.register_buffer(f"multiplicities_{index}", c.clone())

    def _multiplicity(self, index: int) -> torch.Tensor:
        multiplicity: torch.Tensor = getattr(self, f"multiplicities_{index}")
        return multiplicity

    def _layer(self, index: int) -> Layer:
        """Layer `index` (nn.ModuleList types its items as nn.Module)."""
        return cast(Layer, self.layers[index])

    @property
    def multiplicities(self) -> list[torch.Tensor]:
        return [self._multiplicity(i) for i in range(len(self.layers) - 1)]

    @property
    def widths(self) -> list[int]:
        return [_units(self._layer(i)) for i in range(len(self.layers) - 1)]

    def _input_scale(self, index: int) -> torch.Tensor | None:
        """Multiplicity of every input of layer `index` (a channel's block of inputs repeated
        when a Flatten lies between), or None for the network's input."""
        if index == 0:
            return None
        c = self._multiplicity(index - 1)
        return c.repeat_interleave(_inputs(self._layer(index)) // len(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prefix(x)
        last = len(self.layers) - 1
        for index in range(len(self.layers)):
            layer = self._layer(index)
            weight, bias = layer.weight, layer.bias
            if self.divide_gradients:
                # 1 / (c_out c_in) for every weight, as a broadcast of its two sides
                inverse = torch.ones((), dtype=weight.dtype, device=weight.device)
                if index < last:
                    inverse = inverse / self._multiplicity(index)[:, None]
                into = self._input_scale(index)
                if into is not None:
                    inverse = inverse / into[None, :]
                weight = _scale_gradient(
                    weight, inverse.reshape(*inverse.shape, *[1] * (weight.dim() - inverse.dim()))
                )
                if bias is not None and index < last:
                    bias = _scale_gradient(bias, 1.0 / self._multiplicity(index))
            if isinstance(layer, nn.Linear):
                x = nn.functional.linear(x, weight, bias)
            else:
                x = layer._conv_forward(x, weight, bias)
            x = self.before_scale[index](x)
            if index < last:
                x = x * _per_unit(self._multiplicity(index), x.dim())
            x = self.after_scale[index](x)
        return x

    def fold(self) -> nn.Sequential:
        """A plain nn.Sequential computing the same function, the multiplicities absorbed into
        the next layer's input weights, for inference (trained further it would follow
        ordinary, not the wide network's, dynamics)."""
        modules: list[nn.Module] = [copy.deepcopy(m) for m in self.prefix]
        for index in range(len(self.layers)):
            layer = copy.deepcopy(self._layer(index))
            into = self._input_scale(index)
            if into is not None:
                with torch.no_grad():
                    layer.weight.mul_(into.reshape(1, -1, *[1] * (layer.weight.dim() - 2)))
            modules.append(layer)
            for around in (self.before_scale[index], self.after_scale[index]):
                modules.extend(copy.deepcopy(m) for m in cast(nn.Sequential, around))
        return nn.Sequential(*modules)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, divide_gradients={self.divide_gradients}"
