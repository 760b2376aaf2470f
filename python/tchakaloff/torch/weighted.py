"""A feed-forward network whose hidden units carry multiplicities, and the gradient rule
that makes it train like the wide network it stands for."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

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


class _ScaleGradient(torch.autograd.Function):
    """Identity in the forward pass, gradient times `scale` in the backward pass."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(scale)
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (scale,) = ctx.saved_tensors
        return grad * scale, None


@dataclass
class _Stage:
    """A layer, the per-unit modules after it up to the scale point, and the modules from the
    scale point to the next layer (nn.Flatten and what follows it)."""

    layer: nn.Module
    before_scale: list[nn.Module] = field(default_factory=list)
    after_scale: list[nn.Module] = field(default_factory=list)


def _units(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _inputs(layer: nn.Module) -> int:
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
        return getattr(self, f"multiplicities_{index}")

    @property
    def multiplicities(self) -> list[torch.Tensor]:
        return [self._multiplicity(i) for i in range(len(self.layers) - 1)]

    @property
    def widths(self) -> list[int]:
        return [_units(layer) for layer in self.layers[:-1]]

    def _input_scale(self, index: int) -> torch.Tensor | None:
        """Multiplicity of every input of layer `index` (a channel's block of inputs repeated
        when a Flatten lies between), or None for the network's input."""
        if index == 0:
            return None
        c = self._multiplicity(index - 1)
        return c.repeat_interleave(_inputs(self.layers[index]) // len(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prefix(x)
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            weight, bias = layer.weight, layer.bias
            if self.divide_gradients:
                inverse = torch.ones(weight.shape[:2], dtype=weight.dtype, device=weight.device)
                if index < last:
                    inverse = inverse / self._multiplicity(index)[:, None]
                into = self._input_scale(index)
                if into is not None:
                    inverse = inverse / into[None, :]
                weight = _ScaleGradient.apply(
                    weight, inverse.reshape(*inverse.shape, *[1] * (weight.dim() - 2))
                )
                if bias is not None and index < last:
                    bias = _ScaleGradient.apply(bias, 1.0 / self._multiplicity(index))
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
        for index, layer in enumerate(self.layers):
            layer = copy.deepcopy(layer)
            into = self._input_scale(index)
            if into is not None:
                with torch.no_grad():
                    layer.weight.mul_(into.reshape(1, -1, *[1] * (layer.weight.dim() - 2)))
            modules.append(layer)
            modules.extend(copy.deepcopy(m) for m in self.before_scale[index])
            modules.extend(copy.deepcopy(m) for m in self.after_scale[index])
        return nn.Sequential(*modules)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, divide_gradients={self.divide_gradients}"
