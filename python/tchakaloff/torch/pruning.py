"""Structured pruning a user would try instead of moment matching, for the comparison tables.

Every function takes an ``nn.Sequential`` of ``nn.Linear`` / ``nn.Conv2d`` layers (nested
Sequentials are read in order) separated by elementwise activations, dropout, 2-d pooling and
at most one ``nn.Flatten``, and returns a pruned deep copy with the same modules: hidden layer
l (every Linear/Conv2d but the last) keeps ``widths[l]`` units (output features or output
channels), and the next layer keeps the matching input columns or channels. The output layer's
width and bias never change, and the input model is left untouched.

- :func:`torch_pruning`: Torch-Pruning's dependency graph with its magnitude, group-norm or
  Taylor importance (DepGraph, CVPR 2023), at the exact widths asked for.
- :func:`magnitude`: the units with the largest norm of incoming times outgoing weights.
- :func:`random_units`: a uniform random subset, optionally rescaled by width / kept.
- :func:`kmeans_merge`: k-means neuron merging, front to back.

None of them rescales except :func:`random_units` with ``rescale=True`` and the summed
outgoing weights of :func:`kmeans_merge`.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from .._validation import as_rng
from ..baselines import random_subset
from .weighted import PER_UNIT, Layer, _Hidden, _incoming, _keep, _outgoing, _set_units, leaves

_SUPPORTED = (
    "an nn.Sequential (nested ones allowed) of nn.Linear and nn.Conv2d (groups=1) layers with, "
    "between them, elementwise activations (nn.ReLU, nn.GELU, nn.Tanh, nn.SiLU, ...), "
    "nn.Dropout, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d and at most one nn.Flatten "
    "(from the conv layers to the linear ones)"
)
_IMPORTANCES = ("l2", "group_norm", "taylor")


def _unsupported(what: str) -> ValueError:
    return ValueError(f"{what}; the pruning baselines support {_SUPPORTED}")


def _layers(model: nn.Module) -> list[tuple[Layer, bool]]:
    """The Linear/Conv2d layers of the model in order, each with whether an nn.Flatten runs
    before it; raises ValueError for anything the pruning cannot carry through."""
    if not isinstance(model, nn.Sequential):
        raise _unsupported(f"model is a {type(model).__name__}")
    layers: list[tuple[Layer, bool]] = []
    flattened = False
    for module in leaves(model):
        if isinstance(module, nn.Flatten):
            if flattened:
                raise _unsupported("model has more than one nn.Flatten")
            if (module.start_dim, module.end_dim) != (1, -1):
                raise _unsupported(
                    f"nn.Flatten must keep the batch dimension (start_dim=1, end_dim=-1), got "
                    f"start_dim={module.start_dim}, end_dim={module.end_dim}"
                )
            flattened = True
        elif isinstance(module, nn.Conv2d):
            if module.groups != 1:
                raise _unsupported(f"{module} is a grouped convolution")
            if flattened or any(isinstance(layer, nn.Linear) for layer, _ in layers):
                raise _unsupported(f"{module} comes after an nn.Flatten or an nn.Linear")
            layers.append((module, flattened))
        elif isinstance(module, nn.Linear):
            layers.append((module, flattened))
        elif not isinstance(module, PER_UNIT):
            raise _unsupported(f"model contains {type(module).__name__}")
    if len(layers) < 2:
        raise _unsupported(
            f"model has {len(layers)} Linear/Conv2d layer(s), so no hidden layer to prune"
        )
    return layers


def _hidden_layers(model: nn.Module) -> list[_Hidden]:
    """Every hidden layer of the model with the layer it feeds, checked to fit together."""
    layers = _layers(model)
    hidden = []
    for index, ((layer, _), (following, flattened)) in enumerate(zip(layers, layers[1:])):
        units = layer.weight.shape[0]
        inputs = following.weight.shape[1]
        block = 1
        if isinstance(layer, nn.Conv2d) and isinstance(following, nn.Linear):
            if not flattened:
                raise _unsupported(f"{layer} feeds {following} without an nn.Flatten between")
            # nn.Flatten lays (C, H, W) out channel-major, so in_features = C * H * W.
            block = inputs // units
        if inputs != units * block or block == 0:
            raise ValueError(
                f"layer {index + 1} ({following}) takes {inputs} inputs, which does not fit the "
                f"{units} units of layer {index} ({layer}); pass a model that runs"
            )
        hidden.append(_Hidden(layer, following, block))
    return hidden


def _check_widths(widths: Sequence[int], hidden: list[_Hidden]) -> list[int]:
    units = [h.layer.weight.shape[0] for h in hidden]
    widths = list(widths)
    if len(widths) != len(hidden):
        raise ValueError(
            f"widths must give one kept width per hidden layer ({len(hidden)} layers of widths "
            f"{units}), got {len(widths)}"
        )
    for index, (kept, width) in enumerate(zip(widths, units)):
        if isinstance(kept, bool) or not isinstance(kept, numbers.Integral):
            raise ValueError(f"widths[{index}] must be an integer number of units, got {kept!r}")
        if not 1 <= kept <= width:
            raise ValueError(
                f"widths[{index}] must lie in [1, {width}] (the units of hidden layer {index}), "
                f"got {kept}"
            )
    return [int(kept) for kept in widths]


def _prepare(
    model: nn.Module, widths: Sequence[int]
) -> tuple[nn.Sequential, list[_Hidden], list[int]]:
    """Check the model and widths, then return a deep copy to prune, its hidden layers and
    the widths as ints."""
    kept = _check_widths(widths, _hidden_layers(model))
    pruned = cast(nn.Sequential, copy.deepcopy(model))  # _hidden_layers checked it is one
    return pruned, _hidden_layers(pruned), kept


def _largest(scores: torch.Tensor, kept: int) -> torch.Tensor:
    """Indices of the `kept` largest scores, in the units' order (ties: the first ones)."""
    return torch.sort(torch.argsort(scores, descending=True, stable=True)[:kept]).values


def torch_pruning(
    model: nn.Sequential,
    widths: Sequence[int],
    *,
    importance: str,
    example_inputs: torch.Tensor,
    calibration: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
) -> nn.Sequential:
    """Prune every hidden layer to its width with Torch-Pruning (``pip install torch-pruning``).

    The dependency graph of Torch-Pruning prunes a layer's outputs together with everything
    they feed (the next layer's input columns or channels, through activations, pooling and
    nn.Flatten). As in Torch-Pruning's own pruners, every group is scored on the unpruned
    network first, then each hidden layer loses its lowest-scoring units; the kept weights
    are not rescaled.

    Parameters
    ----------
    model : nn.Sequential
        The network (see the module docstring); it is left untouched.
    widths : sequence of int
        Units to keep in every hidden layer, in order.
    importance : {"l2", "group_norm", "taylor"}
        How units are scored:

        - ``"l2"``: squared L2 norm of the unit's incoming weights (filter norm, Li et al.
          2017): ``MagnitudeImportance(p=2, group_reduction="first", normalizer=None)``.
        - ``"group_norm"``: squared L2 norm over the whole group, the unit's incoming weights
          and the next layer's weights it feeds (DepGraph): ``GroupMagnitudeImportance(p=2)``.
        - ``"taylor"``: first-order Taylor estimate ``sum |w * dL/dw|`` over the group
          (Molchanov et al. 2019): ``TaylorImportance()``, with the gradient of the
          cross-entropy of ``model(calibration)`` against ``labels``.
    example_inputs : tensor
        A batch the model accepts, traced to build the dependency graph.
    calibration, labels : tensor, optional
        Inputs and their class labels (or class probabilities) for ``importance="taylor"``.
        The gradient is taken in eval mode, so that dropout does not make it random.

    Returns
    -------
    nn.Sequential
        A pruned deep copy of the model.
    """
    try:
        import torch_pruning as tp
    except ImportError as error:
        raise ImportError("torch_pruning needs Torch-Pruning: pip install torch-pruning") from error
    if importance not in _IMPORTANCES:
        raise ValueError(f"importance must be one of {_IMPORTANCES}, got {importance!r}")
    if importance == "taylor" and (calibration is None or labels is None):
        raise ValueError(
            "importance='taylor' scores units with gradients: pass calibration inputs and their "
            "class labels (calibration=..., labels=...)"
        )
    pruned, hidden, kept = _prepare(model, widths)
    # MagnitudeImportance(p=2) alone is the group norm (it averages over the group); the
    # filter norm reads only the first member of the group, the layer's own outputs.
    scorer = {
        "l2": lambda: tp.importance.MagnitudeImportance(
            p=2, group_reduction="first", normalizer=None
        ),
        "group_norm": lambda: tp.importance.GroupMagnitudeImportance(p=2),
        "taylor": lambda: tp.importance.TaylorImportance(),
    }[importance]()
    # Tracing the graph and the Taylor gradients need autograd, also under torch.no_grad().
    with torch.enable_grad():
        graph = tp.DependencyGraph().build_dependency(pruned, example_inputs=example_inputs)
        if importance == "taylor" and calibration is not None and labels is not None:
            _cross_entropy_gradients(pruned, calibration, labels)
    doomed = []
    for h, k in zip(hidden, kept):
        prune_out = (
            tp.prune_linear_out_channels
            if isinstance(h.layer, nn.Linear)
            else tp.prune_conv_out_channels
        )
        units = h.layer.weight.shape[0]
        scores = scorer(graph.get_pruning_group(h.layer, prune_out, idxs=list(range(units))))
        weakest = torch.argsort(scores, stable=True)[: units - k]
        doomed.append((h.layer, prune_out, sorted(weakest.tolist())))
    for layer, prune_out, lowest in doomed:
        if lowest:
            graph.get_pruning_group(layer, prune_out, idxs=lowest).prune()
    pruned.zero_grad(set_to_none=True)
    return pruned


def _cross_entropy_gradients(
    model: nn.Module, calibration: torch.Tensor, labels: torch.Tensor
) -> None:
    """Leave the gradient of the cross-entropy on the calibration batch in every parameter's
    .grad (frozen parameters too: Taylor importance reads all of them), in eval mode."""
    frozen = [p for p in model.parameters() if not p.requires_grad]
    training = model.training
    for parameter in frozen:
        parameter.requires_grad_(True)
    model.eval()
    try:
        model.zero_grad(set_to_none=True)
        functional.cross_entropy(model(calibration), labels).backward()
    finally:
        model.train(training)
        for parameter in frozen:
            parameter.requires_grad_(False)


def magnitude(model: nn.Sequential, widths: Sequence[int]) -> nn.Sequential:
    """Keep the units with the largest ||incoming weights and bias|| x ||outgoing weights||.

    Every unit is scored in the unpruned network (the product is the unit's scale through a
    positively homogeneous activation such as ReLU); the kept weights are not rescaled.

    Parameters
    ----------
    model : nn.Sequential
        The network (see the module docstring); it is left untouched.
    widths : sequence of int
        Units to keep in every hidden layer, in order.

    Returns
    -------
    nn.Sequential
        A pruned deep copy of the model.
    """
    pruned, hidden, kept = _prepare(model, widths)
    with torch.no_grad():
        chosen = [
            _largest(_incoming(h).norm(dim=1) * _outgoing(h).flatten(1).norm(dim=1), k)
            for h, k in zip(hidden, kept)
        ]
        for h, units in zip(hidden, chosen):
            _keep(h, units)
    return pruned


def random_units(
    model: nn.Sequential,
    widths: Sequence[int],
    *,
    rescale: bool = False,
    rng: np.random.Generator | int | None = None,
) -> nn.Sequential:
    """Keep `widths[l]` units of every hidden layer drawn uniformly.

    Parameters
    ----------
    model : nn.Sequential
        The network (see the module docstring); it is left untouched.
    widths : sequence of int
        Units to keep in every hidden layer, in order.
    rescale : bool, default False
        Multiply the kept units' outgoing weights by width / kept, so that a layer's summed
        contribution keeps its scale (each kept unit stands for width / kept units).
    rng : numpy Generator or seed, optional

    Returns
    -------
    nn.Sequential
        A pruned deep copy of the model.
    """
    pruned, hidden, kept = _prepare(model, widths)
    generator = as_rng(rng)
    with torch.no_grad():
        for h, k in zip(hidden, kept):
            # Weighted width / kept each (the total weight stays the width).
            units, weights = random_subset(h.layer.weight.shape[0], k, rng=generator)
            indices = torch.as_tensor(units, device=h.layer.weight.device)
            _keep(h, indices, scale=float(weights[0]) if rescale else 1.0)
    return pruned


def kmeans_merge(
    model: nn.Sequential,
    widths: Sequence[int],
    *,
    rng: np.random.Generator | int | None = None,
) -> nn.Sequential:
    """Merge the units of every hidden layer into `widths[l]` k-means clusters, front to back.

    A layer's units are clustered (scikit-learn KMeans) by their incoming weights and bias
    (a conv unit by its flattened kernel), every column measured in units of its standard
    deviation. A merged unit's incoming weights and bias are its cluster's mean and its
    outgoing weights the sum of its members' outgoing weights, so exact copies of a unit merge
    without changing the network's function. The next layer is then clustered on its merged
    incoming weights. A layer kept at full width is left as it is.

    Parameters
    ----------
    model : nn.Sequential
        The network (see the module docstring); it is left untouched.
    widths : sequence of int
        Units to keep in every hidden layer, in order.
    rng : numpy Generator or seed, optional
        Seeds the k-means initialisation of every layer.

    Returns
    -------
    nn.Sequential
        A merged deep copy of the model (its units are synthetic, not units of the input).
    """
    try:
        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning
    except ImportError as error:
        raise ImportError("kmeans_merge needs scikit-learn: pip install scikit-learn") from error
    pruned, hidden, kept = _prepare(model, widths)
    generator = as_rng(rng)
    with torch.no_grad():
        for h, k in zip(hidden, kept):
            units = h.layer.weight.shape[0]
            seed = int(generator.integers(2**31 - 1))
            if k == units:
                continue
            x = _incoming(h).cpu().double().numpy()
            centre, spread = x.mean(axis=0), x.std(axis=0)
            spread[spread == 0] = 1.0
            with warnings.catch_warnings():
                # Fewer distinct units than clusters leaves clusters empty; _fill_empty
                # splits duplicates off instead, which keeps the function exact.
                warnings.filterwarnings(
                    "ignore", message="Number of distinct clusters", category=ConvergenceWarning
                )
                clustering = KMeans(n_clusters=k, n_init=1, random_state=seed)
                labels = clustering.fit_predict((x - centre) / spread)
            _merge(h, _fill_empty(labels, k))
    return pruned


def _fill_empty(labels: np.ndarray, k: int) -> np.ndarray:
    """Move one member of the largest cluster into every empty one, so that exactly k units
    remain (k <= units, so the largest cluster has two members while one is empty)."""
    labels = labels.copy()
    counts = np.bincount(labels, minlength=k)
    for empty in np.flatnonzero(counts == 0):
        largest = int(np.argmax(counts))
        labels[np.flatnonzero(labels == largest)[-1]] = empty
        counts[largest] -= 1
        counts[empty] = 1
    return labels


def _merge(hidden: _Hidden, labels: np.ndarray) -> None:
    """Replace the units by their clusters: mean incoming weights and bias, summed outgoing."""
    layer = hidden.layer
    weight = layer.weight.detach()
    index = torch.as_tensor(labels, dtype=torch.long, device=weight.device)
    k = int(labels.max()) + 1
    count = torch.bincount(index, minlength=k).to(weight.dtype)

    def mean(values: torch.Tensor) -> torch.Tensor:
        total = values.new_zeros((k, *values.shape[1:])).index_add_(0, index, values)
        return total / count.reshape(-1, *[1] * (values.dim() - 1))

    outgoing = _outgoing(hidden)
    summed = outgoing.new_zeros((k, *outgoing.shape[1:])).index_add_(0, index, outgoing)
    bias = None if layer.bias is None else mean(layer.bias.detach())
    _set_units(hidden, mean(weight), bias, summed)
