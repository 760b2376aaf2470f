"""The teacher-student task of Figs. 3 and 5a and the training loop shared by both.

Teacher: a 2-layer ReLU network of width 50 with every weight and bias ~ U(-1, 1); inputs
x ~ U[-1, 1]^2; training labels teacher(x) + N(0, noise^2); test labels clean. Student: the
same architecture with PyTorch's default initialisation. Training minimises the MSE with a
learning rate annealed to 0 by a cosine schedule (stepped once per epoch).

A training set is given as rows and weights. Full batch: the loss is the weighted mean
``sum_j c_j l_j / sum_j c_j``. Mini-batches: the full data set (unit weights) is shuffled
without replacement, a weighted set draws ``round(sum c)`` rows per epoch with replacement
and probability proportional to c, so every run takes as many steps per epoch.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from ..torch.data import weighted_loss, weighted_sampler


@dataclass(frozen=True)
class Task:
    """Training rows with noisy labels and test rows with clean ones."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    x_test: NDArray[np.float64]
    y_test: NDArray[np.float64]


def teacher_task(
    n: int, n_test: int, rng: np.random.Generator, *, width: int = 50, noise: float = 3.0
) -> Task:
    """Draw a random teacher, then n noisy training rows and n_test clean test rows."""
    w1, b1 = rng.uniform(-1, 1, (width, 2)), rng.uniform(-1, 1, width)
    w2, b2 = rng.uniform(-1, 1, width), rng.uniform(-1, 1)

    def teacher(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.maximum(x @ w1.T + b1, 0) @ w2 + b2

    x = rng.uniform(-1, 1, (n, 2))
    x_test = rng.uniform(-1, 1, (n_test, 2))
    return Task(x, teacher(x) + noise * rng.normal(size=n), x_test, teacher(x_test))


def student(seed: int, width: int = 50) -> torch.nn.Module:
    """The teacher's architecture with PyTorch's default initialisation, seeded."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Linear(2, width), torch.nn.ReLU(), torch.nn.Linear(width, 1)
        )


@dataclass(frozen=True)
class Optimiser:
    """An optimiser setting: name ("GD", "SGD", "AdamW"), learning rate, batch size (None:
    full batch)."""

    name: str
    lr: float
    batch_size: int | None

    def build(self, parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        if self.name in ("GD", "SGD"):
            return torch.optim.SGD(parameters, lr=self.lr)
        if self.name == "AdamW":
            return torch.optim.AdamW(parameters, lr=self.lr)
        raise ValueError(f"unknown optimiser {self.name!r}; use GD, SGD or AdamW")


def train(
    model: torch.nn.Module,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    task: Task,
    optimiser: Optimiser,
    *,
    epochs: int,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Train a copy of `model` on the rows (x, y) with `weights` (None: the full data).

    Returns the training loss of every epoch (mean over its batches) and the clean test MSE
    before training and after every epoch, both of length epochs + 1 (entry 0 is the initial
    model, whose training loss is taken on the whole training set).
    """
    net = copy.deepcopy(model)
    xs = torch.as_tensor(x, dtype=torch.float32)
    ys = torch.as_tensor(y, dtype=torch.float32)
    xt = torch.as_tensor(task.x_test, dtype=torch.float32)
    yt = torch.as_tensor(task.y_test, dtype=torch.float32)
    c = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    optimizer = optimiser.build(net.parameters())
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    generator = torch.Generator().manual_seed(seed)
    sampler = None if weights is None else weighted_sampler(weights, generator=generator)

    def loss_on(rows: torch.Tensor | None) -> torch.Tensor:
        if rows is None:  # full batch
            losses = (net(xs)[:, 0] - ys) ** 2
            return losses.mean() if c is None else weighted_loss(losses, c)
        outputs: torch.Tensor = net(xs[rows])
        return ((outputs[:, 0] - ys[rows]) ** 2).mean()

    def test_loss() -> float:
        with torch.no_grad():
            return float(((net(xt)[:, 0] - yt) ** 2).mean())

    with torch.no_grad():
        train_losses, test_losses = [float(loss_on(None))], [test_loss()]
    for _ in range(epochs):
        if optimiser.batch_size is None:
            batches: list[torch.Tensor | None] = [None]
        else:
            if sampler is None:
                order = torch.randperm(len(xs), generator=generator)
            else:
                order = torch.as_tensor(list(sampler))
            batches = list(torch.split(order, optimiser.batch_size))
        total = 0.0
        for rows in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_on(rows)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        schedule.step()
        train_losses.append(total / len(batches))
        test_losses.append(test_loss())
    return np.array(train_losses), np.array(test_losses)
