"""PyTorch side of tchakaloff (optional extra: pip install 'tchakaloff[torch]').

Only this subpackage imports torch.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - only without torch
    raise ImportError(
        "tchakaloff.torch needs PyTorch; install it first (e.g. pip install torch), "
        "then import tchakaloff.torch"
    ) from error

from .attention import CompressedAttention, MultiHeadAttention, compress_attention, random_heads
from .data import weighted_loader, weighted_loss, weighted_sampler
from .network import CompressedMLP, compress_two_layer, random_subnetwork
from .sequential import compress_mlp
from .weighted import CompressedNetwork

__all__ = [
    "CompressedAttention",
    "CompressedMLP",
    "CompressedNetwork",
    "MultiHeadAttention",
    "compress_attention",
    "compress_mlp",
    "compress_two_layer",
    "random_heads",
    "random_subnetwork",
    "weighted_loader",
    "weighted_loss",
    "weighted_sampler",
]
