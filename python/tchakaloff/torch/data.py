"""Training on a compressed data set: a weighted loss for full batches, and a sampler that
draws rows with probability proportional to their weights for mini-batches.

Full batch: the loss of the kept rows is ``sum_j c_j l_j / sum_j c_j`` (:func:`weighted_loss`),
which is the full-data loss up to the compression error. Mini-batches: an epoch draws as many
rows as the full data set has (``round(sum_j c_j)`` = d by default), with replacement, row j
with probability ``c_j / sum c`` (:func:`weighted_sampler`, :func:`weighted_loader`); a batch's
plain mean loss is then an unbiased estimate of the full-data loss, and an epoch takes as many
optimiser steps as an epoch on the full data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    TensorDataset,
    WeightedRandomSampler,
)

from ..dataset import DatasetCompression


def _as_weight_tensor(weights: ArrayLike | torch.Tensor) -> torch.Tensor:
    try:
        # a list of Python floats would become float32, where 1e300 is inf
        tensor = torch.as_tensor(
            weights if isinstance(weights, torch.Tensor) else np.asarray(weights)
        )
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"weights must be real numbers: {error}") from error
    if tensor.dtype.is_complex or tensor.dtype == torch.bool:
        raise ValueError(f"weights must be real numbers, got {tensor.dtype}")
    tensor = tensor.detach().to(torch.float64)
    if tensor.ndim != 1 or len(tensor) == 0:
        raise ValueError(
            f"weights must be a non-empty 1-d array, one per row; got shape {tuple(tensor.shape)}"
        )
    if not (torch.isfinite(tensor).all() and (tensor >= 0).all() and tensor.sum() > 0):
        raise ValueError(
            "weights must be finite and >= 0 with a positive total; pass the compression's "
            "weights unchanged"
        )
    return tensor


def weighted_loss(losses: torch.Tensor, weights: ArrayLike | torch.Tensor) -> torch.Tensor:
    """``sum_j c_j l_j / sum_j c_j``: the full-batch loss of a compressed data set.

    Parameters
    ----------
    losses : (s,) or (s, ...) tensor
        Per-row losses, e.g. ``torch.nn.functional.mse_loss(pred, target, reduction="none")``;
        trailing dimensions are averaged per row (as a mean reduction would).
    weights : (s,) tensor or array
        The rows' weights (:attr:`tchakaloff.DatasetCompression.weights`), >= 0.

    Returns
    -------
    Scalar tensor, differentiable in `losses`. With unit weights it is ``losses.mean()``.
    """
    if losses.ndim == 0:
        raise ValueError("losses must hold one loss per row; pass reduction='none' to the loss")
    c = _as_weight_tensor(weights)
    if len(c) != len(losses):
        raise ValueError(f"got {len(losses)} losses but {len(c)} weights; pass one weight per row")
    # shares of the total, formed in float64 before they meet the losses' dtype: weights of
    # 1e300 or totalling 1e6 overflow float32 or float16 themselves, shares in [0, 1] do not
    shares = c / c.max()
    shares = (shares / shares.sum()).to(dtype=losses.dtype, device=losses.device)
    per_row = losses.reshape(len(losses), -1).mean(dim=1)
    return (shares * per_row).sum()


def weighted_sampler(
    weights: ArrayLike | torch.Tensor,
    *,
    num_samples: int | None = None,
    generator: torch.Generator | None = None,
) -> WeightedRandomSampler:
    """Draw row j with probability ``c_j / sum c``, with replacement.

    Parameters
    ----------
    weights : (s,) tensor or array
        The rows' weights, >= 0.
    num_samples : int, optional
        Rows per epoch. Default ``round(sum c)``: as many as the full data set had rows (the
        weights of :func:`tchakaloff.compress_dataset` total d), so an epoch takes as many
        optimiser steps as a full-data epoch.
    generator : torch.Generator, optional
        Source of the draws (reproducible epochs).
    """
    c = _as_weight_tensor(weights).to(torch.float64)
    if num_samples is None:
        num_samples = max(1, round(float(c.sum())))
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    # torch annotates weights as Sequence[float]; it takes a tensor (as_tensor inside)
    return WeightedRandomSampler(c, int(num_samples), replacement=True, generator=generator)  # type: ignore[arg-type]


def _as_dataset(compression: DatasetCompression, dtype: torch.dtype) -> TensorDataset:
    x = torch.as_tensor(compression.X, dtype=dtype)
    y = np.asarray(compression.y)
    if compression.discrete and y.dtype.kind in "biu":
        target = torch.as_tensor(y.astype(np.int64))  # class indices, as cross-entropy wants
    elif y.dtype.kind in "biuf":
        target = torch.as_tensor(y.astype(np.float64)).to(dtype)
    else:
        raise ValueError(
            f"labels of dtype {y.dtype} cannot become a tensor; encode the classes as integers "
            "(e.g. sklearn.preprocessing.LabelEncoder) before compressing"
        )
    return TensorDataset(x, target)


def weighted_loader(
    data: DatasetCompression | Dataset[Any],
    weights: ArrayLike | torch.Tensor | None = None,
    *,
    batch_size: int,
    num_samples: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    **loader_options: Any,
) -> DataLoader[Any]:
    """Mini-batches of rows drawn with probability proportional to their weights.

    Parameters
    ----------
    data : DatasetCompression or torch Dataset
        A compression (its kept rows and weights; X becomes `dtype`, float targets too,
        integer class labels int64), or any dataset with `weights` given.
    weights : (s,) tensor or array, optional
        Required for a Dataset; taken from the compression otherwise.
    batch_size : int
    num_samples : int, optional
        Rows per epoch, ``round(sum c)`` by default (see :func:`weighted_sampler`).
    generator : torch.Generator, optional
    dtype : torch.dtype, optional
        Floating dtype of a compression's tensors (``torch.get_default_dtype()``).
    **loader_options
        Passed to :class:`torch.utils.data.DataLoader` (e.g. ``num_workers``).

    Returns
    -------
    DataLoader
        Each pass yields ``ceil(num_samples / batch_size)`` batches (x, y) whose plain mean
        loss estimates the full-data loss. A TensorDataset (and a compression) is indexed one
        batch at a time, not row by row.
    """
    if isinstance(data, DatasetCompression):
        if weights is not None:
            raise ValueError("a compression carries its own weights; leave weights=None")
        weights = data.weights
        data = _as_dataset(data, dtype or torch.get_default_dtype())
    elif weights is None:
        raise ValueError("pass the rows' weights for a Dataset (or pass the compression)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    sampler = weighted_sampler(weights, num_samples=num_samples, generator=generator)
    if hasattr(data, "__len__") and len(data) != len(sampler.weights):
        raise ValueError(
            f"the dataset has {len(data)} rows but there are {len(sampler.weights)} weights; "
            "pass one weight per row"
        )
    if isinstance(data, TensorDataset):
        # Index whole batches (tensor[list]) instead of collating batch_size single rows.
        batches = BatchSampler(sampler, int(batch_size), drop_last=False)
        return DataLoader(data, sampler=batches, batch_size=None, **loader_options)
    return DataLoader(data, sampler=sampler, batch_size=int(batch_size), **loader_options)
