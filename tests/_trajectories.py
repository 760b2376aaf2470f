"""Shared by the tests that train a compressed network beside the wide one: the batches both
see, and the elementwise optimisers under which the 1/c rule makes them move alike."""

import torch


def batches(seed, steps, n_in=2, n_out=2, batch=16):
    """`steps` float64 batches (x, y) of a smooth target on U[-1, 1]^n_in, drawn from 200
    fixed points."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(200, n_in, generator=generator, dtype=torch.float64) * 2 - 1
    y = torch.sin(3 * x[:, :1]) * torch.cos(2 * x[:, -1:]) + torch.zeros(1, n_out)
    for _ in range(steps):
        pick = torch.randint(0, 200, (batch,), generator=generator)
        yield x[pick], y[pick]


OPTIMISERS = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.05),
    "sgd_momentum": lambda params: torch.optim.SGD(params, lr=0.02, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01),
    "adamw": lambda params: torch.optim.AdamW(params, lr=0.01, weight_decay=0.1),
    "rprop": lambda params: torch.optim.Rprop(params, lr=0.01),
}
