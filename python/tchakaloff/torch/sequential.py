"""Compressed feed-forward networks of any depth: MLPs and plain CNNs.

:func:`compress_mlp` keeps, in every hidden layer of a ``nn.Sequential``, a few real units
(neurons of an ``nn.Linear``, channels of an ``nn.Conv2d``) with multiplicities c > 0, chosen
by :func:`tchakaloff.compress_contributions` on calibration inputs. It returns a
:class:`CompressedNetwork` that computes like the wide network and trains like it: unit j's
activation is multiplied by c_j (a buffer) and the gradient of every weight is divided by the
multiplicities of the two units it joins, so each kept weight receives the gradient that
each of the copies it stands for receives in the wide network (for one hidden layer this is
:class:`~tchakaloff.torch.CompressedMLP`'s rule).

How units are chosen, layer by layer from the input to the output:
- the calibration inputs are passed through the layers compressed so far, so every layer is
  compressed against what it will actually receive;
- a unit's contribution is its first-order effect on the network's output, a_i(x) times the
  gradient of the output with respect to a_i(x) (through the still-wide layers after it),
  evaluated on the calibration rows along a few output directions (every output when there
  are at most 16, else 16 random ones). For the last hidden layer this is exact: the
  output is linear in a_i;
- the kept units' contributions should add up to the wide network's output minus the error
  the earlier layers left, so each layer also corrects, to first order, the layers before it.
Front to back is what makes both possible: a layer's inputs are final when it is compressed,
and the layers after it are still the original ones that define its contribution.

Identical units (same incoming weights, bias and outgoing weights) are merged first, exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .._threads import blas_on_one_thread
from .._validation import as_size
from ..contributions import ContributionCompression, compress_gram
from .weighted import (
    PER_UNIT,
    CompressedNetwork,
    _Hidden,
    _incoming,
    _inputs,
    _keep,
    _outgoing,
    _per_unit,
    _Stage,
    _units,
    distinct_rows,
    leaves,
)

_LAYERS = (nn.Linear, nn.Conv2d)
_SUPPORTED = (
    "nn.Linear and nn.Conv2d layers with elementwise activations (ReLU, GELU, Tanh, SiLU, ...), "
    "nn.Dropout, nn.MaxPool2d/AvgPool2d/AdaptiveAvgPool2d, nn.Flatten, and nn.BatchNorm1d/2d "
    "directly after a layer (folded in)"
)
# Calibration rows on which the gradients of the layers before the last hidden one are
# taken, and output directions per row: M = rows x probes coordinates (the digits MLPs of
# the README match as well with 64 to 512 rows).
_ROWS = 64
# Calibration rows used at all (evenly spaced): the wide output and the last hidden
# layer's Gram matrix, whose cost grows with them (512 or all 1347 digits images: the same
# output error).
_CALIBRATION_ROWS = 512
_PROBES = 16


def _fold_batchnorm(layer: nn.Module, norm: nn.Module) -> nn.Module:
    """`layer` followed by `norm` (its running statistics) as one layer of the same kind."""
    if norm.num_features != (
        layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels
    ):
        raise ValueError(f"{norm} does not match the {layer} before it")
    folded = copy.deepcopy(layer)
    with torch.no_grad():
        scale = (
            norm.weight / torch.sqrt(norm.running_var + norm.eps)
            if norm.affine
            else (1.0 / torch.sqrt(norm.running_var + norm.eps))
        )
        shift = norm.bias if norm.affine else torch.zeros_like(scale)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        folded.weight.mul_(scale.reshape(-1, *[1] * (layer.weight.dim() - 1)))
        new_bias = (bias - norm.running_mean) * scale + shift
        if folded.bias is None:
            folded.bias = nn.Parameter(new_bias.clone())
        else:
            folded.bias.copy_(new_bias)
    return folded


def _stages(model: nn.Module) -> tuple[list[nn.Module], list[_Stage]]:
    """Split a Sequential into the modules before the first layer and one stage per layer."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(
            f"model must be an nn.Sequential of {_SUPPORTED}; got {type(model).__name__}"
        )
    prefix: list[nn.Module] = []
    stages: list[_Stage] = []
    for module in leaves(model):
        if isinstance(module, _LAYERS):
            if isinstance(module, nn.Conv2d) and module.groups != 1:
                raise ValueError(f"{module} is a grouped convolution; supported: {_SUPPORTED}")
            stages.append(_Stage(module))
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            last = stages[-1] if stages else None
            if last is None or last.before_scale or last.after_scale:
                raise ValueError(
                    f"{module} must come directly after an nn.Linear or nn.Conv2d to be folded "
                    "into it; move it there, or fold it into the layer before compressing"
                )
            last.layer = _fold_batchnorm(last.layer, module)
        elif isinstance(module, nn.PReLU) and module.num_parameters > 1:
            # its slopes are parameters of the units: they would need the 1/c rule too
            raise ValueError(
                f"{module} has one slope per unit, which compress_mlp does not carry; use "
                "nn.PReLU() (one shared slope) or another activation"
            )
        elif isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) != (1, -1):
            raise ValueError(
                f"{module} must keep the batch dimension and flatten the rest (start_dim=1, "
                "end_dim=-1), so that every channel's inputs to the next layer are one block"
            )
        elif isinstance(module, nn.Flatten) or (stages and stages[-1].after_scale):
            if not isinstance(module, (nn.Flatten, *PER_UNIT)):
                raise ValueError(f"unsupported module {module}; supported: {_SUPPORTED}")
            (stages[-1].after_scale if stages else prefix).append(module)
        elif isinstance(module, PER_UNIT):
            (stages[-1].before_scale if stages else prefix).append(module)
        else:
            raise ValueError(f"unsupported module {module}; supported: {_SUPPORTED}")
    if len(stages) < 2:
        raise ValueError(
            f"model must have at least two nn.Linear/nn.Conv2d layers (one hidden layer); "
            f"got {len(stages)}"
        )
    return prefix, stages


def _hidden_sizes(size: object, widths: list[int]) -> list[int]:
    """Kept width of every hidden layer from an int, a fraction, or one value per layer."""
    if isinstance(size, (list, tuple, np.ndarray)):
        if len(size) != len(widths):
            raise ValueError(
                f"size has {len(size)} values but the model has {len(widths)} hidden layers "
                f"(widths {widths}); pass one value per hidden layer, or a single value"
            )
        sizes = [as_size(s, w, "unit") for s, w in zip(size, widths)]
    else:
        sizes = [as_size(size, w, "unit") for w in widths]
    for index, (kept, width) in enumerate(zip(sizes, widths)):
        if kept > width:
            raise ValueError(
                f"size {kept} is larger than hidden layer {index}'s width {width}; pass at most "
                f"the width (or a fraction of it)"
            )
    return sizes


def _hidden(stages: list[_Stage], index: int) -> _Hidden:
    """Layer `index` with the layer its units feed (a block of inputs each after a Flatten)."""
    layer, after = stages[index].layer, stages[index + 1].layer
    return _Hidden(layer, after, _inputs(after) // _units(layer))


def _distinct_units(stages: list[_Stage], index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Representatives of the distinct units of layer `index` (same incoming weights, bias and
    outgoing weights) and how many copies each has."""
    hidden = _hidden(stages, index)
    rows = torch.cat([_incoming(hidden), _outgoing(hidden).flatten(1)], dim=1)
    first, counts = distinct_rows(rows.cpu().numpy())
    return torch.as_tensor(first), torch.as_tensor(counts)


def _activation(stage: _Stage, x: torch.Tensor) -> torch.Tensor:
    """The stage's layer and the per-unit modules after it: its activation at the scale
    point, where the multiplicities apply."""
    return nn.Sequential(*stage.before_scale)(stage.layer(x))


def _rest(stages: list[_Stage], index: int, activation: torch.Tensor) -> torch.Tensor:
    """From the scale point of layer `index` (unit weights 1) through the still-wide layers
    after it to the network's output."""
    x = nn.Sequential(*stages[index].after_scale)(activation)
    for stage in stages[index + 1 :]:
        x = nn.Sequential(*stage.after_scale)(_activation(stage, x))
    return x


def _linear_rest(stages: list[_Stage], index: int, activation: torch.Tensor) -> bool:
    """Whether the output is a linear function of layer `index`'s (2-d) activations."""
    identity = (nn.Flatten, nn.Dropout, nn.Identity)  # dropout: evaluation mode
    last = stages[-1]
    return (
        index == len(stages) - 2
        and activation.dim() == 2
        and isinstance(last.layer, nn.Linear)
        and all(isinstance(m, identity) for m in [*stages[index].after_scale, *last.before_scale])
        and all(isinstance(m, identity) for m in last.after_scale)
    )


def _select(
    stages: list[_Stage],
    index: int,
    activation: torch.Tensor,
    goal: torch.Tensor,
    groups: tuple[torch.Tensor, torch.Tensor],
    size: int,
    rng: np.random.Generator,
    subset: torch.Tensor,
) -> ContributionCompression:
    """Units of layer `index` (among the distinct ones) whose weighted contributions add up
    to the wide output, corrected for the earlier layers' error. `groups` are the distinct
    units' indices and their numbers of copies."""
    distinct, copies = groups
    if _linear_rest(stages, index, activation):
        # u_i(x, o) = a_i(x) W[o, i]: the Gram matrix is a Hadamard product, exactly
        outgoing = stages[-1].layer.weight.detach()[:, distinct] * copies.to(activation.dtype)
        a = activation[:, distinct]
        target = goal.reshape(len(goal), -1)
        if stages[-1].layer.bias is not None:
            target = target - stages[-1].layer.bias.detach()
        # the float64 product of both sides, without a float64 copy of the second
        gram = (a.T @ a).double().mul_(outgoing.T @ outgoing)
        linear = ((target @ outgoing) * a).sum(0)
    else:
        units, target = _contributions(stages, index, activation[subset], goal[subset], rng)
        units = units[distinct] * copies[:, None].to(units.dtype)
        gram = (units @ units.T).double()
        linear = units @ target
    square = float((target.double() ** 2).sum())
    with blas_on_one_thread():
        return compress_gram(
            gram.numpy(),
            linear.double().numpy(),
            square,
            size=size,
            total=float(copies.sum()),
            rng=rng,
        )


def _contributions(
    stages: list[_Stage], index: int, activation: torch.Tensor, goal: torch.Tensor, rng
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each unit's first-order contribution to the output along a few directions, and the
    target they should sum to (the wide output, corrected for the earlier layers' error)."""
    a = activation.detach().requires_grad_(True)
    out = _rest(stages, index, a)
    outputs = out.shape[1] if out.dim() > 1 else 1
    out = out.reshape(len(out), outputs)
    if outputs <= _PROBES:
        probes = torch.eye(outputs, dtype=out.dtype)
    else:
        probes = torch.as_tensor(
            rng.standard_normal((_PROBES, outputs)) / np.sqrt(_PROBES), dtype=out.dtype
        )
    seeds = probes[:, None, :].expand(len(probes), *out.shape)
    (gradients,) = torch.autograd.grad(out, a, grad_outputs=seeds, is_grads_batched=True)
    # contribution[unit, probe, row]: summed over a channel's positions
    units = (gradients * a.detach()).reshape(len(probes), len(a), a.shape[1], -1).sum(-1)
    units = units.permute(2, 0, 1).reshape(a.shape[1], -1)
    correction = (goal.reshape(len(goal), outputs) - out.detach()) @ probes.T  # rows x probes
    target = units.sum(0) + correction.T.reshape(-1)
    return units, target


def compress_mlp(
    model: nn.Module,
    *,
    size: int | float | Sequence[int | float],
    calibration: torch.Tensor,
    divide_gradients: bool = True,
    rng: np.random.Generator | int | None = 0,
) -> CompressedNetwork:
    """Compress every hidden layer of a feed-forward network to real units with multiplicities.

    Parameters
    ----------
    model : nn.Sequential
        nn.Linear and nn.Conv2d layers (nested Sequentials are fine) with elementwise
        activations, dropout, pooling and nn.Flatten between them; nn.BatchNorm directly after
        a layer is folded into it (with its running statistics). Left untouched.
    size : int, float or sequence
        Kept units of every hidden layer: a count, a fraction of the width, or one value per
        hidden layer. Exactly this many are kept unless fewer distinct units exist or the
        layer is matched as well with fewer.
    calibration : tensor
        Typical inputs, (n, ...) as the model takes them; a few hundred to a few thousand
        rows (up to 512 of them, evenly spaced, weigh the last hidden layer's units; 64 the
        earlier layers' gradients).
    divide_gradients : bool, default True
        The wide network's dynamics (see :class:`CompressedNetwork`).
    rng : numpy Generator or seed, default 0
        Seeds the random output directions and eigen-features; the result is a function of
        the model, the calibration data and rng.

    Returns
    -------
    CompressedNetwork
        Computes like the wide model on inputs like the calibration data; ``.fold()`` gives a
        plain nn.Sequential.

    Notes
    -----
    There is no `degree`: a unit's weights enter the output through its contribution, and
    the output is linear in that, so the degree-1 moments of the contributions (their sum)
    are what is matched, on the calibration data, instead of the C(m + k, k) moments of a
    unit's m parameters (out of reach at m in the hundreds). The multiplicities are the
    kept units' non-negative least-squares weights with their total held near the layer's
    width (the paper's constant moment: the kept units stand for as many as there were,
    which is what makes the compressed network move like the wide one under Adam).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model must be a torch.nn.Sequential of layers, got {type(model).__name__}"
        )
    # Work on an evaluation-mode copy: dropout off, batch norms folded with their running
    # statistics, and nothing (a PReLU's weight, say) shared with the input model.
    prefix, stages = _stages(copy.deepcopy(model).eval())
    sizes = _hidden_sizes(size, [_units(s.layer) for s in stages[:-1]])
    x = _calibration(calibration, stages[0].layer)
    generator = np.random.default_rng(rng)
    x = x[_evenly(len(x), _CALIBRATION_ROWS)]
    subset = _evenly(len(x), _ROWS)
    try:
        with torch.no_grad():
            inputs = nn.Sequential(*prefix)(x)  # what enters the layer being compressed
            goal = _rest(stages, 0, _activation(stages[0], inputs))
    except RuntimeError as error:  # torch's own words on a shape mismatch
        raise ValueError(
            f"the model cannot take calibration inputs of shape {tuple(x.shape)} ({error}); "
            "pass a batch of inputs shaped like the model's input"
        ) from error
    if goal.dim() != 2:  # e.g. an MLP given images: nn.Linear takes extra dims as batch
        raise ValueError(
            f"the model maps calibration inputs of shape {tuple(x.shape)} to outputs of shape "
            f"{tuple(goal.shape)}, not one output row per input; pass a batch of inputs shaped "
            "like the model's input"
        )
    multiplicities: list[torch.Tensor] = []
    for index, kept in enumerate(sizes):
        with torch.no_grad():
            activation = _activation(stages[index], inputs)
        distinct, copies = _distinct_units(stages, index)
        if len(distinct) <= kept:
            chosen, weights = distinct, copies
        else:
            # copies contribute alike: one row per group, times its number of copies
            picked = _select(
                stages, index, activation, goal, (distinct, copies), kept, generator, subset
            )
            chosen = distinct[picked.indices]
            weights = torch.as_tensor(picked.weights) * copies[picked.indices]
        _keep(_hidden(stages, index), chosen)
        c = weights.to(stages[index].layer.weight.dtype)
        multiplicities.append(c)
        # the next layer's input: the kept units' activations, scaled, not a new pass
        with torch.no_grad():
            kept_activation = activation[:, chosen] * _per_unit(c, activation.dim())
            inputs = nn.Sequential(*stages[index].after_scale)(kept_activation)
    network = CompressedNetwork(prefix, stages, multiplicities, divide_gradients=divide_gradients)
    return network.train(model.training)


def _evenly(n: int, count: int) -> torch.Tensor:
    """`count` (at most n) indices spread evenly over range(n)."""
    return torch.as_tensor(np.linspace(0, n - 1, min(n, count)).round().astype(np.int64))


def _calibration(calibration: object, first: nn.Module) -> torch.Tensor:
    if not isinstance(calibration, torch.Tensor):
        raise ValueError(
            "calibration must be a torch.Tensor of typical inputs, got "
            f"{type(calibration).__name__}"
        )
    x = calibration.detach().to(first.weight.dtype)
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(
            f"calibration must be a batch (n, ...) of inputs, got shape {tuple(x.shape)}"
        )
    if not bool(torch.all(torch.isfinite(x))):
        raise ValueError("calibration contains NaN or inf; pass finite inputs")
    return x
