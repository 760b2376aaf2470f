"""Compressed two-layer networks that train like the wide network they came from.

:func:`compress_two_layer` keeps a few neurons of ``fc2(s(fc1(x)))`` with multiplicities c
(:func:`tchakaloff.compress_layer`) and returns a :class:`CompressedMLP`: its hidden
activations are multiplied by c (a buffer, never trained) and the gradients of every kept
neuron's parameters (its row of fc1.weight, its fc1.bias entry, its column of fc2.weight) are
divided by c. This is the paper's dynamical lottery ticket: neuron j of the compressed net
then receives exactly the gradient that each of the c_j neurons it stands for receives in the
wide net, so any optimiser that updates parameters elementwise (SGD, momentum, weight decay,
Adam, AdamW, Rprop, RMSprop, ...) moves the compressed net along the wide net's trajectory,
exactly so when the wide net's neurons are c_j exact copies.

Dividing the *gradient* is what makes this hold for every such optimiser. The paper also
phrases it as a per-neuron learning rate lr / c_j: that is the same thing for plain SGD, but
not for Adam-type optimisers, whose step does not depend on the gradient's scale. For them
the division hardly matters (without it the step differs only through eps, as eps / c_j
instead of eps), whereas dividing the learning rate would make neuron j move c_j times too
slowly. Methods that look at all gradients at once (clipping by the global norm, L-BFGS,
second-order methods) see a different gradient vector and do not follow the wide net.
"""

from __future__ import annotations

from typing import Callable, Union, cast

import numpy as np
import torch
from torch import nn

from ..layer import LayerCompression, compress_layer, random_neurons
from .weighted import CompressedNetwork, _Elementwise, _Stage

Activation = Union[nn.Module, Callable[[torch.Tensor], torch.Tensor]]


def _as_module(activation: Activation) -> nn.Module:
    if isinstance(activation, nn.Module):
        return activation
    if callable(activation):
        return _Elementwise(activation)
    raise ValueError(
        f"activation must be an nn.Module or an elementwise function of a tensor, got "
        f"{activation!r}; e.g. activation=nn.ReLU() or activation=torch.tanh"
    )


def _check_linear(fc1: object, fc2: object) -> None:
    if not isinstance(fc1, nn.Linear) or not isinstance(fc2, nn.Linear):
        raise ValueError(
            f"fc1 and fc2 must be nn.Linear layers, got {type(fc1).__name__} and "
            f"{type(fc2).__name__}; for a Sequential pass net[0] and net[2]"
        )
    if fc2.in_features != fc1.out_features:
        raise ValueError(
            f"fc2 takes {fc2.in_features} inputs but fc1 has {fc1.out_features} neurons; pass "
            f"the two layers around one hidden layer, fc1 first"
        )


class CompressedMLP(CompressedNetwork):
    """``fc2(activation(fc1(x)) * multiplicities)`` with per-neuron gradients divided by them:
    the one-hidden-layer :class:`~tchakaloff.torch.CompressedNetwork`. ``.fold()`` gives
    ``nn.Sequential(fc1, activation, fc2)`` with the multiplicities absorbed into fc2.

    Parameters
    ----------
    fc1 : nn.Linear (in -> s)
        The kept neurons' incoming weights and biases (used as they are, not copied).
    fc2 : nn.Linear (s -> out)
        Their outgoing weights, and the original output bias.
    multiplicities : (s,) tensor or array
        Multiplicity c_j > 0 of every kept neuron. Stored as the buffer ``multiplicities_0``
        (saved in the state_dict, never changed by an optimiser).
    activation : nn.Module or callable, default nn.ReLU()
        Any elementwise activation.
    divide_gradients : bool, default True
        Divide the per-neuron gradients by the multiplicities (the dynamics of the wide
        network). False gives the plain gradients of the weighted network.

    Notes
    -----
    fc2.bias is shared by all neurons, so its gradient is left as it is.
    """

    def __init__(
        self,
        fc1: nn.Linear,
        fc2: nn.Linear,
        multiplicities: torch.Tensor | np.ndarray,
        activation: Activation | None = None,
        *,
        divide_gradients: bool = True,
    ) -> None:
        _check_linear(fc1, fc2)
        activation = _as_module(nn.ReLU() if activation is None else activation)
        super().__init__(
            [],
            [_Stage(fc1, [activation]), _Stage(fc2)],
            [torch.as_tensor(multiplicities)],
            divide_gradients=divide_gradients,
        )

    @classmethod
    def from_layer(
        cls,
        layer: LayerCompression,
        b_out: torch.Tensor | np.ndarray | None,
        activation: Activation | None = None,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        divide_gradients: bool = True,
    ) -> CompressedMLP:
        """Build the module from a :class:`~tchakaloff.LayerCompression` and the output bias."""
        n_out, size = layer.W_out.shape
        fc1 = nn.Linear(layer.W_in.shape[1], size, bias=layer.b_in is not None)
        fc2 = nn.Linear(size, n_out, bias=b_out is not None)
        fc1.to(dtype=dtype, device=device)
        fc2.to(dtype=dtype, device=device)
        with torch.no_grad():
            fc1.weight.copy_(torch.as_tensor(layer.W_in))
            fc2.weight.copy_(torch.as_tensor(layer.W_out))
            if layer.b_in is not None:
                fc1.bias.copy_(torch.as_tensor(layer.b_in))
            if b_out is not None:
                fc2.bias.copy_(torch.as_tensor(b_out))
        return cls(
            fc1,
            fc2,
            torch.as_tensor(layer.weights, dtype=dtype, device=device),
            activation,
            divide_gradients=divide_gradients,
        )

    @property
    def fc1(self) -> nn.Linear:
        return cast(nn.Linear, self.layers[0])  # nn.ModuleList types its items as nn.Module

    @property
    def fc2(self) -> nn.Linear:
        return cast(nn.Linear, self.layers[1])

    @property
    def activation(self) -> nn.Module:
        return cast(nn.Sequential, self.before_scale[0])[0]

    @property
    def multiplicities(self) -> torch.Tensor:  # type: ignore[override]
        """Multiplicity of every kept neuron (the buffer ``multiplicities_0``)."""
        return self._multiplicity(0)

    @property
    def width(self) -> int:
        """Number of kept neurons."""
        return self.fc1.out_features


def _layer_arrays(
    fc1: nn.Linear, fc2: nn.Linear
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    def numpy(tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().double().numpy()

    bias = None if fc1.bias is None else numpy(fc1.bias)
    return numpy(fc1.weight), bias, numpy(fc2.weight)


def _output_bias(fc2: nn.Linear) -> torch.Tensor | None:
    return None if fc2.bias is None else fc2.bias.detach().clone()


def compress_two_layer(
    fc1: nn.Linear,
    fc2: nn.Linear,
    *,
    size: float,
    degree: int,
    activation: Activation | None = None,
    rng: np.random.Generator | int | None = None,
    n_jobs: int | None = None,
) -> CompressedMLP:
    """Compress the hidden layer between fc1 and fc2 into a :class:`CompressedMLP`.

    The neurons (fc2.weight[:, i], fc1.weight[i], fc1.bias[i]) are compressed by
    :func:`tchakaloff.compress_layer`; the kept ones are copied into new layers (same dtype
    and device) and the originals are left untouched.

    Parameters
    ----------
    fc1, fc2 : nn.Linear
        The layers before and after the hidden activation.
    size : int or float
        Neurons to keep, or a fraction of the width.
    degree : int
        Moments matched per cell.
    activation : nn.Module or callable, default nn.ReLU()
        The hidden activation (any elementwise function).
    rng : numpy Generator or int, optional
        As in :func:`tchakaloff.compress_layer` (None: deterministic).
    n_jobs : int, optional
        Threads of the compression (the result does not depend on it).

    Returns
    -------
    CompressedMLP
        Train it with any elementwise optimiser to follow the wide network's dynamics;
        ``.fold()`` gives a plain network for inference.
    """
    _check_linear(fc1, fc2)
    _as_module(nn.ReLU() if activation is None else activation)
    layer = compress_layer(
        *_layer_arrays(fc1, fc2), size=size, degree=degree, rng=rng, n_jobs=n_jobs
    )
    return _module_like(fc1, fc2, layer, activation)


def _module_like(
    fc1: nn.Linear, fc2: nn.Linear, layer: LayerCompression, activation: Activation | None
) -> CompressedMLP:
    """The kept neurons as a module with fc2's output bias, on fc1's dtype and device."""
    return CompressedMLP.from_layer(
        layer, _output_bias(fc2), activation, dtype=fc1.weight.dtype, device=fc1.weight.device
    )


def random_subnetwork(
    fc1: nn.Linear,
    fc2: nn.Linear,
    *,
    size: int,
    rescale: bool = False,
    activation: Activation | None = None,
    rng: np.random.Generator | int | None = None,
) -> CompressedMLP:
    """`size` neurons drawn uniformly from the hidden layer, the baseline of the paper.

    Without ``rescale`` (the paper's naive baseline) every multiplicity is 1: a plain
    sub-network, trained with ordinary gradients. With ``rescale`` the multiplicities are
    width / size and the gradients are divided by them, like a compressed network.
    """
    _check_linear(fc1, fc2)
    layer = random_neurons(*_layer_arrays(fc1, fc2), size=size, rescale=rescale, rng=rng)
    return _module_like(fc1, fc2, layer, activation)
