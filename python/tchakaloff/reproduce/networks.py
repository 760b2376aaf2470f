"""Trained networks compressed at equal kept width: :func:`tchakaloff.torch.compress_mlp`
against structured pruning and neuron merging, with and without fine-tuning.

Data: scikit-learn's ``load_digits`` (1797 images of 8 x 8 pixels, 10 classes), pixels / 16,
one fixed stratified split (``train_test_split(test_size=0.25, random_state=0)``: 1347
training and 450 test images, so one test image is 0.22 points of accuracy). Models, trained
here from a seeded initialisation with Adam (lr 1e-3, constant), batch 64, cross-entropy, the
batch order of epoch e drawn from ``default_rng([seed, e])``:

- ``relu_mlp``: Linear(64, 1024) - ReLU - Linear(1024, 1024) - ReLU - Linear(1024, 10);
- ``gelu_mlp``: the same with GELU;
- ``cnn``: Conv2d(1, 64, 3, padding=1) - ReLU - Conv2d(64, 64, 3, padding=1) - ReLU -
  MaxPool2d(2) - Flatten - Linear(64 * 4 * 4, 10), on the images as (n, 1, 8, 8).

Every hidden layer (both MLP layers; both conv layers) is cut to the same kept width, MLPs to
256, 128 and 64 units, the CNN to 32 and 16 channels, by each method:

  ours             ``compress_mlp(model, size=w, calibration=x_train)``: real units with
                   multiplicities (:class:`~tchakaloff.torch.CompressedNetwork`);
  tp_l2, tp_group_norm, tp_taylor
                   Torch-Pruning with filter-norm, group-norm and Taylor importance (Taylor
                   on the cross-entropy gradient over the training set);
  kmeans           k-means merging of units, front to back;
  magnitude        the units of largest ||incoming|| x ||outgoing||, not rescaled;
  random_rescaled  a uniform random subset, outgoing weights times width / kept
                   (see :mod:`tchakaloff.torch.pruning`).

Measured on the test set, without fine-tuning: accuracy, its drop from the wide model's (in
points), and the relative logit error mean((logits - wide logits)^2) / var(wide logits).
Every method is timed as the best of 3 calls (they are deterministic for a seed) and
compared with the fastest training epoch of the wide model, both in this process at torch's
thread count: on cores shared with other jobs, torch's thread team waits for a descheduled
thread and one epoch of the same net took from 0.16 s to over 3 s, so the best time is the
one that measures the work rather than the load. Then every small model is fine-tuned for 5
epochs with a fresh Adam whose rate falls from the training rate to 0 along a cosine (lr
1e-3 annealed, batch 64; ours is the CompressedNetwork itself, so the gradients are divided
by the multiplicities and it trains like the wide network; the baselines are plain
nn.Sequential), and the wide model is trained 5 more epochs the same way, on the same
batches; each of them 3 times, on 3 batch orders, from the same start, and the test
accuracies averaged (one run moves a model by a test image or two either way).

Two references, not compressions and not read by the goals, say what a network of the kept
width reaches by training: ``scratch``, the model of that width trained from its own seeded
initialisation exactly as the wide one was; ``distilled``, ours trained for as many epochs
again (the rate annealed as in fine-tuning, the 1/c rule kept) to the wide model's logits on
the training images. Both are then fine-tuned like every model.

Goals, printed as a verdict table per model: for the MLPs at every width, ours has the
smallest drop of all methods (ties count for ours), a logit error at least 3 times below the
best baseline's, a drop of at most 0.3 points at 256 and 1.0 at 128, and after fine-tuning an
accuracy at most 0.3 points below the fine-tuned wide model's; for the CNN at 16 channels, a
drop of at most 2 points and the smallest of all methods; everywhere, compression faster than
one training epoch of the wide model. A run trains one copy of every model (``seed``), and
the same method moves by a test image or more from one copy to the next:
``bench/compare_networks.py`` runs three seeds and judges the goals on their mean
(:func:`average`).

Full setting: the three models, MLPs trained 60 epochs and the CNN 30 (all reach training
accuracy 1.0); measured 66 s on the 2-core machine while it was quiet. ``--quick``: the
ReLU MLP and the CNN only, trained and measured as in the full setting (so their numbers
are the full run's); measured 43 s on the quiet machine.

Outputs: ``networks.csv`` (one row per model, method or reference and kept width, and one
for each wide model), ``networks.png`` (per model: accuracy, logit error and accuracy after
fine-tuning against the kept width).
"""

from __future__ import annotations

import copy
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._common import RunProgress, pyplot, save_figure, write_csv

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# Fine-tuning restarts a fresh Adam at the training rate and anneals it to 0 along a cosine,
# the usual recipe after pruning. At a constant tenth of the rate (lr 1e-4) every small model
# kept most of its drop: on the digits MLPs at 64 units ours ended 0.96 (ReLU) and 0.64
# (GELU) points behind the wide model on average over three seeds, against 0.69 and 0.49
# annealed, and the wide model's mean moved by less than 0.1 point.
LR, BATCH, TIMING_REPEATS = 1e-3, 64, 3
MODELS = {"relu_mlp": "ReLU MLP", "gelu_mlp": "GELU MLP", "cnn": "CNN"}
METHODS = {
    "ours": "ours (compress_mlp)",
    "tp_l2": "Torch-Pruning, L2",
    "tp_group_norm": "Torch-Pruning, group norm",
    "tp_taylor": "Torch-Pruning, Taylor",
    "kmeans": "k-means merging",
    "magnitude": "magnitude pruning",
    "random_rescaled": "random, rescaled",
}
BASELINES = tuple(name for name in METHODS if name != "ours")
# Not compressions but what a network of the kept width reaches by training, for scale: the
# goals never read them.
REFERENCES = {
    "scratch": "trained from scratch at the kept width",
    "distilled": "ours, then trained to the wide logits",
}
# The goals the verdict checks.
MSE_RATIO_GOAL = 3.0
FINETUNE_GAP_GOAL = 0.3
MLP_DROP_GOALS = {256: 0.3, 128: 1.0}
CNN_DROP_GOALS = {16: 2.0}
CSV_HEADER = [
    "model",
    "method",
    "kept_width",
    "accuracy",
    "drop_points",
    "relative_logit_mse",
    "accuracy_finetuned",
    "seconds",
    "epoch_seconds",
]


@dataclass(frozen=True)
class Setting:
    """What a run trains and compresses.

    Attributes
    ----------
    models : tuple of str
        Keys of :data:`MODELS`, in the order they run.
    mlp_epochs, cnn_epochs : int
        Training epochs of the wide models.
    finetune_epochs : int
        Epochs of fine-tuning for every compressed model and the wide one.
    finetune_runs : int
        Fine-tunings of every model, each on its own batch order, whose test accuracies
        are averaged (one run moves a model by a test image or two either way).
    hidden : int
        Units of each MLP hidden layer.
    channels : int
        Channels of each CNN conv layer.
    mlp_widths, cnn_widths : tuple of int
        Kept widths (every hidden layer of the model cut to the same width).
    """

    models: tuple[str, ...] = ("relu_mlp", "gelu_mlp", "cnn")
    mlp_epochs: int = 60
    cnn_epochs: int = 30
    finetune_epochs: int = 5
    finetune_runs: int = 3
    hidden: int = 1024
    channels: int = 64
    mlp_widths: tuple[int, ...] = (256, 128, 64)
    cnn_widths: tuple[int, ...] = (32, 16)

    def epochs(self, model: str) -> int:
        return self.cnn_epochs if model == "cnn" else self.mlp_epochs

    def widths(self, model: str) -> tuple[int, ...]:
        return self.cnn_widths if model == "cnn" else self.mlp_widths

    def full_width(self, model: str) -> int:
        return self.channels if model == "cnn" else self.hidden

    def work(self, model: str) -> int:
        """Estimated work of :func:`compare` on `model`, in parameter-epochs (an epoch costs
        about the net's parameter count; a compression less than a wide epoch, counted as
        one): what the run's progress bar counts."""
        full = _parameters(model, self.full_width(model))
        small = sum(_parameters(model, width) for width in self.widths(model))
        compressions = len(METHODS) * len(self.widths(model)) * full
        references = len(REFERENCES) * self.epochs(model) * small
        runs = self.finetune_runs * self.finetune_epochs
        finetuning = runs * ((len(METHODS) + len(REFERENCES)) * small + full)
        return self.epochs(model) * full + compressions + references + finetuning


FULL = Setting()
QUICK = Setting(models=("relu_mlp", "cnn"))


@dataclass(frozen=True)
class Digits:
    """The fixed split of scikit-learn's digits, pixels in [0, 1]: inputs (n, 64) float32 (or
    (n, 1, 8, 8) images) and labels (n,) int64."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any

    def images(self) -> Digits:
        """The same split with the inputs shaped (n, 1, 8, 8), as the CNN takes them."""
        return replace(
            self, x_train=self.x_train.reshape(-1, 1, 8, 8), x_test=self.x_test.reshape(-1, 1, 8, 8)
        )


def digits() -> Digits:
    """scikit-learn's digits / 16, split 3:1 into training and test images, stratified by
    class, with a fixed random_state so that every run and seed sees the same split."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.25, random_state=0, stratify=y
    )
    return Digits(
        torch.as_tensor(x_train, dtype=torch.float32),
        torch.as_tensor(y_train, dtype=torch.int64),
        torch.as_tensor(x_test, dtype=torch.float32),
        torch.as_tensor(y_test, dtype=torch.int64),
    )


def title(model: str, width: int) -> str:
    """How a model is named in the tables and plots, e.g. "ReLU MLP 64-1024-1024-10"."""
    if model == "cnn":
        return f"CNN conv{width}-conv{width}-maxpool-linear"
    return f"{MODELS[model]} 64-{width}-{width}-10"


def build_model(model: str, seed: int, width: int) -> torch.nn.Sequential:
    """The untrained model `model` (a key of :data:`MODELS`) with `width` hidden units or
    channels, PyTorch's default initialisation drawn from torch.manual_seed(seed) without
    touching the global generator."""
    import torch
    from torch import nn

    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if model == "cnn":
            return nn.Sequential(
                nn.Conv2d(1, width, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(width * 4 * 4, 10),
            )
        activation = nn.ReLU if model == "relu_mlp" else nn.GELU
        return nn.Sequential(
            nn.Linear(64, width),
            activation(),
            nn.Linear(width, width),
            activation(),
            nn.Linear(width, 10),
        )


def _parameters(model: str, width: int) -> int:
    return sum(p.numel() for p in build_model(model, 0, width).parameters())


def train(
    net: torch.nn.Module,
    data: Digits,
    *,
    epochs: int,
    seed: int | tuple[int, ...],
    first_epoch: int = 0,
    lr: float = LR,
    anneal: bool = False,
    targets: torch.Tensor | None = None,
    on_epoch: Callable[[], None] = lambda: None,
) -> list[float]:
    """Train `net` in place with a fresh Adam (lr 1e-3 unless given, constant or with
    `anneal` falling to 0 along a cosine over the run), batch 64, cross-entropy (or, given
    `targets`, the mean squared error to these logits of the training images).

    Epoch e (counted from `first_epoch`) visits the training set in the order
    default_rng([*seed, e]).permutation, so nets trained with the same seed and epochs see
    the same batches. Returns the seconds of every epoch (optimisation steps only).
    `on_epoch` is called after every epoch (progress).
    """
    import torch

    def loss(pick: torch.Tensor) -> torch.Tensor:
        outputs = net(data.x_train[pick])
        if targets is None:
            return torch.nn.functional.cross_entropy(outputs, data.y_train[pick])
        return torch.nn.functional.mse_loss(outputs, targets[pick])

    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    n = len(data.x_train)
    steps = epochs * -(-n // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + np.cos(np.pi * step / steps)) if anneal else 1.0
    )
    net.train()
    seconds: list[float] = []
    for epoch in range(first_epoch, first_epoch + epochs):
        order = torch.as_tensor(np.random.default_rng([*np.atleast_1d(seed), epoch]).permutation(n))
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            pick = order[first : first + BATCH]
            optimiser.zero_grad()
            loss(pick).backward()
            optimiser.step()
            schedule.step()
        seconds.append(time.perf_counter() - start)
        on_epoch()
    net.eval()
    return seconds


def logits(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The net's outputs on x in eval mode, without gradients."""
    import torch

    net.eval()
    with torch.no_grad():
        outputs: torch.Tensor = net(x)
        return outputs


def accuracy(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Percentage of rows of x whose largest logit is the label."""
    return percent_correct(logits(net, x), y)


def percent_correct(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Percentage of rows of `outputs` whose largest entry is the label."""
    return 100.0 * float((outputs.argmax(dim=1) == y).double().mean())


def relative_logit_mse(net: torch.nn.Module, x: torch.Tensor, wide_logits: torch.Tensor) -> float:
    """mean((net(x) - wide_logits)^2) / var(wide_logits), over every logit of every row."""
    return float(((logits(net, x) - wide_logits) ** 2).mean() / wide_logits.var())


def compressors(data: Digits, seed: int) -> dict[str, Callable[[Any, int, Sequence[int]], Any]]:
    """One function per method of :data:`METHODS`: (wide model, kept width, kept width of
    every hidden layer) -> the small model. Seeded methods draw from `seed` and the width
    only, so a call is reproducible and independent of the others."""
    from ..torch import compress_mlp
    from ..torch.pruning import kmeans_merge, magnitude, random_units, torch_pruning

    def pruner(importance: str) -> Callable[[Any, int, Sequence[int]], Any]:
        # Taylor importance needs the loss gradient; the training set is the calibration data.
        extra = (
            {"calibration": data.x_train, "labels": data.y_train} if importance == "taylor" else {}
        )
        return lambda model, width, widths: torch_pruning(
            model, widths, importance=importance, example_inputs=data.x_train[:2], **extra
        )

    return {
        "ours": lambda model, width, widths: compress_mlp(
            model, size=width, calibration=data.x_train, rng=seed
        ),
        "tp_l2": pruner("l2"),
        "tp_group_norm": pruner("group_norm"),
        "tp_taylor": pruner("taylor"),
        "kmeans": lambda model, width, widths: kmeans_merge(
            model, widths, rng=np.random.default_rng([seed, width])
        ),
        "magnitude": lambda model, width, widths: magnitude(model, widths),
        "random_rescaled": lambda model, width, widths: random_units(
            model, widths, rescale=True, rng=np.random.default_rng([seed, width])
        ),
    }


def hidden_widths(net: torch.nn.Module) -> list[int]:
    """Units (or channels) of every hidden layer of a Sequential or CompressedNetwork."""
    from torch import nn

    widths: Sequence[int] | None = getattr(net, "widths", None)  # a CompressedNetwork's
    if widths is not None:
        return list(widths)
    layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    return [int(m.weight.shape[0]) for m in layers[:-1]]


@dataclass(frozen=True)
class MethodResult:
    """One method (or reference) at one kept width: the units it kept in every hidden layer,
    test accuracy (%), drop from the wide model's (points), relative logit error, mean test
    accuracy after fine-tuning (%), and the best seconds of the compression call (for a
    reference, the seconds of its training)."""

    method: str
    width: int
    kept: tuple[int, ...]
    accuracy: float
    drop: float
    relative_logit_mse: float
    accuracy_finetuned: float
    seconds: float


@dataclass(frozen=True)
class Comparison:
    """Every method on one trained model.

    Attributes
    ----------
    model : str
        Key of :data:`MODELS`.
    full_width : int
        Hidden units (or channels) of each hidden layer of the wide model.
    epochs, finetune_epochs, finetune_runs : int
        Training epochs of the wide model, fine-tuning epochs of every model, and the
        fine-tunings its accuracy after fine-tuning is the mean of.
    train_accuracy, accuracy, accuracy_finetuned : float
        The wide model's training and test accuracy (%), and its mean test accuracy after
        the fine-tuning epochs.
    epoch_seconds : float
        Seconds of the fastest training epoch of the wide model.
    test_images : int
        Size of the test set (one image is 100 / test_images points of accuracy).
    results : list of MethodResult
        Per kept width (widest first), per method in the order of :data:`METHODS`, then
        the :data:`REFERENCES`.
    """

    model: str
    full_width: int
    epochs: int
    finetune_epochs: int
    finetune_runs: int
    train_accuracy: float
    accuracy: float
    accuracy_finetuned: float
    epoch_seconds: float
    test_images: int
    results: list[MethodResult] = field(default_factory=list)

    def at(self, width: int) -> dict[str, MethodResult]:
        """The methods' results at one kept width, by method name."""
        return {r.method: r for r in self.results if r.width == width}

    @property
    def widths(self) -> list[int]:
        return sorted({r.width for r in self.results}, reverse=True)


def _timed(build: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The last result of `repeats` calls and the seconds of the fastest one."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = build()
        seconds.append(time.perf_counter() - start)
    return result, min(seconds)


def compare(
    model: str,
    setting: Setting,
    seed: int,
    data: Digits | None = None,
    bar: RunProgress | None = None,
) -> Comparison:
    """Train the wide `model`, compress it with every method at every kept width of the
    setting, measure the small models, fine-tune them and the wide model, measure again.
    `bar` advances by :meth:`Setting.work` over the call."""
    data = digits() if data is None else data
    if model == "cnn":
        data = data.images()
    # Built first, so that a missing optional dependency fails before the training.
    methods = compressors(data, seed)
    full_width = setting.full_width(model)
    wide = build_model(model, seed, full_width)
    epochs = setting.epochs(model)
    own_bar = bar is None
    bar = RunProgress(setting.work(model), model) if bar is None else bar
    full = _parameters(model, full_width)
    epoch_seconds = train(
        wide, data, epochs=epochs, seed=seed, on_epoch=lambda: bar.advance(full, f"train {model}")
    )
    wide_logits = logits(wide, data.x_test)
    wide_train_logits = logits(wide, data.x_train)
    wide_accuracy = percent_correct(wide_logits, data.y_test)
    train_accuracy = percent_correct(wide_train_logits, data.y_train)
    log.info(
        "%s: %d epochs, train %.2f%%, test %.2f%%, %.3f s per epoch (fastest)",
        model,
        epochs,
        train_accuracy,
        wide_accuracy,
        min(epoch_seconds),
    )
    hidden = len(hidden_widths(wide))

    def trained(
        net: torch.nn.Module, what: str, width: int, **options: Any
    ) -> tuple[torch.nn.Module, float]:
        """`net` trained in place (for as many epochs as the wide model and on its batches
        unless `options` say otherwise), and the seconds."""
        progress = functools.partial(bar.advance, _parameters(model, width), f"{what} {model}")
        seconds = train(net, data, **{"epochs": epochs, "seed": seed, **options}, on_epoch=progress)
        return net, sum(seconds)

    def finetuned(net: torch.nn.Module, what: str, width: int) -> float:
        """Mean test accuracy of copies of `net` fine-tuned on their own batch orders, every
        model the same way: the epochs after the wide model's, the rate annealed."""
        accuracies = []
        for run in range(setting.finetune_runs):
            tuned, _ = trained(
                copy.deepcopy(net),
                f"fine-tune {what}",
                width,
                epochs=setting.finetune_epochs,
                seed=(seed, run),
                first_epoch=epochs,
                anneal=True,
            )
            accuracies.append(accuracy(tuned, data.x_test, data.y_test))
        return float(np.mean(accuracies))

    def result(name: str, width: int, small: torch.nn.Module, seconds: float) -> MethodResult:
        small_accuracy = accuracy(small, data.x_test, data.y_test)
        measured = MethodResult(
            name,
            width,
            tuple(hidden_widths(small)),
            small_accuracy,
            wide_accuracy - small_accuracy,
            relative_logit_mse(small, data.x_test, wide_logits),
            finetuned(small, f"{name} {width}", width),
            seconds,
        )
        log.info("%s %s %d: %s", model, name, width, measured)
        return measured

    results = []
    for width in setting.widths(model):
        small: dict[str, torch.nn.Module] = {}
        for name, method in methods.items():
            small[name], seconds = _timed(
                functools.partial(method, wide, width, [width] * hidden), TIMING_REPEATS
            )
            bar.advance(full, f"{name} {width}")
            results.append(result(name, width, small[name], seconds))
        # the references: what a net of this width reaches by training (not in the goals)
        scratch = trained(build_model(model, seed, width), f"train {width}", width)
        results.append(result("scratch", width, *scratch))
        distilled = trained(
            copy.deepcopy(small["ours"]),
            f"distil {width}",
            width,
            first_epoch=epochs,
            anneal=True,
            targets=wide_train_logits,
        )
        results.append(result("distilled", width, *distilled))
    wide_finetuned = finetuned(wide, "wide", full_width)
    if own_bar:
        bar.close()
    return Comparison(
        model,
        full_width,
        epochs,
        setting.finetune_epochs,
        setting.finetune_runs,
        train_accuracy,
        wide_accuracy,
        wide_finetuned,
        min(epoch_seconds),
        len(data.y_test),
        results,
    )


def average(comparisons: Sequence[Comparison]) -> Comparison:
    """One model's comparisons on several trained copies (seeds) as one, every accuracy, drop,
    logit error and time the mean over them: what the goals should be judged on, since one
    trained model moves a method's accuracy by a test image or more."""
    first = comparisons[0]
    if any(c.model != first.model or c.widths != first.widths for c in comparisons):
        raise ValueError("average takes comparisons of one model at the same kept widths")

    def means(items: Sequence[Any]) -> dict[str, Any]:
        return {
            f.name: float(np.mean([getattr(item, f.name) for item in items]))
            for f in fields(items[0])
            if isinstance(getattr(items[0], f.name), float)
        }

    results = [
        replace(result, **means([c.results[index] for c in comparisons]))
        for index, result in enumerate(first.results)
    ]
    return replace(first, results=results, **means(comparisons))


def goals(comparison: Comparison) -> list[dict[str, Any]]:
    """Per kept width: ours against the baselines, and which goals (see the module
    docstring) hold. Each entry has the width, our drop, the baseline with the smallest drop
    and its drop, the baseline with the smallest logit error and its ratio to ours, the
    accuracy gap after fine-tuning (wide - ours, points) and the same gap of each reference
    (``reference_gaps``), compression seconds / epoch seconds, and ``checks``: goal name ->
    bool, only for the goals that apply at that width."""
    entries = []
    mlp = comparison.model != "cnn"
    for width in comparison.widths:
        row = comparison.at(width)
        ours = row["ours"]
        best_drop = min(BASELINES, key=lambda name: row[name].drop)
        best_mse = min(BASELINES, key=lambda name: row[name].relative_logit_mse)
        ratio = row[best_mse].relative_logit_mse / ours.relative_logit_mse
        gap = comparison.accuracy_finetuned - ours.accuracy_finetuned
        time_ratio = ours.seconds / comparison.epoch_seconds
        smallest = ours.drop <= row[best_drop].drop
        checks: dict[str, bool] = {}
        if mlp:
            checks["smallest drop"] = smallest
            checks[f"MSE ratio >= {MSE_RATIO_GOAL:g}"] = ratio >= MSE_RATIO_GOAL
            if width in MLP_DROP_GOALS:
                checks[f"drop <= {MLP_DROP_GOALS[width]:g}"] = ours.drop <= MLP_DROP_GOALS[width]
            checks[f"fine-tuned within {FINETUNE_GAP_GOAL:g}"] = gap <= FINETUNE_GAP_GOAL
        elif width in CNN_DROP_GOALS:
            checks["smallest drop"] = smallest
            checks[f"drop <= {CNN_DROP_GOALS[width]:g}"] = ours.drop <= CNN_DROP_GOALS[width]
        checks["compress < epoch"] = time_ratio < 1.0
        entries.append(
            {
                "width": width,
                "ours_drop": ours.drop,
                "best_baseline_drop": row[best_drop].drop,
                "best_baseline_by_drop": best_drop,
                "best_baseline_by_mse": best_mse,
                "mse_ratio": ratio,
                "finetune_gap": gap,
                "reference_gaps": {
                    name: comparison.accuracy_finetuned - row[name].accuracy_finetuned
                    for name in REFERENCES
                },
                "compress_over_epoch": time_ratio,
                "checks": checks,
            }
        )
    return entries


def verdict(comparison: Comparison) -> str:
    """The verdict table of one model, as printed by :func:`run`."""
    lines = [
        f"{title(comparison.model, comparison.full_width)}: wide test "
        f"{comparison.accuracy:.2f}% (train {comparison.train_accuracy:.2f}%, "
        f"{comparison.epochs} epochs), fine-tuned {comparison.accuracy_finetuned:.2f}%; "
        f"one epoch {comparison.epoch_seconds:.3f} s",
        f"{'width':>5} {'ours drop':>9} {'best baseline drop':>30} "
        f"{'MSE best baseline/ours':>26} {'wide-ours tuned':>15} {'(scratch, distilled)':>20} "
        f"{'compress/epoch':>14}  verdict",
    ]
    for entry in goals(comparison):
        failed = [name for name, ok in entry["checks"].items() if not ok]
        drop = f"{entry['best_baseline_drop']:.2f} ({entry['best_baseline_by_drop']})"
        ratio = f"{entry['mse_ratio']:.1f}x ({entry['best_baseline_by_mse']})"
        references = "({:.2f}, {:.2f})".format(*entry["reference_gaps"].values())
        lines.append(
            f"{entry['width']:>5} {entry['ours_drop']:>9.2f} {drop:>30} {ratio:>26} "
            f"{entry['finetune_gap']:>15.2f} {references:>20} "
            f"{entry['compress_over_epoch']:>14.2f}  "
            + ("pass" if not failed else "FAIL: " + ", ".join(failed))
        )
    return "\n".join(lines)


def csv_rows(comparison: Comparison) -> list[tuple[object, ...]]:
    """Rows of ``networks.csv`` for one model (header :data:`CSV_HEADER`): the wide model
    (no compression seconds), then every method at every width."""
    rows: list[tuple[object, ...]] = [
        (
            comparison.model,
            "wide",
            comparison.full_width,
            comparison.accuracy,
            0.0,
            0.0,
            comparison.accuracy_finetuned,
            float("nan"),
            comparison.epoch_seconds,
        )
    ]
    for r in comparison.results:
        rows.append(
            (
                comparison.model,
                r.method,
                r.width,
                r.accuracy,
                r.drop,
                r.relative_logit_mse,
                r.accuracy_finetuned,
                r.seconds,
                comparison.epoch_seconds,
            )
        )
    return rows


def run(
    out: Path, quick: bool = False, seed: int = 0, *, setting: Setting | None = None
) -> list[Path]:
    """Run the comparison, print the verdict tables, write ``networks.csv`` and
    ``networks.png`` into `out`.

    Parameters
    ----------
    out : Path
        Output folder.
    quick : bool, default False
        The reduced setting :data:`QUICK` instead of :data:`FULL`.
    seed : int, default 0
        Seeds the initialisations, batch orders and the seeded methods (the split is fixed).
    setting : Setting, optional
        Overrides `quick` with any setting, e.g. a small network for a smoke test.

    Returns
    -------
    list of Path
        The files written.
    """
    setting = setting if setting is not None else (QUICK if quick else FULL)
    data = digits()
    bar = RunProgress(sum(setting.work(model) for model in setting.models), "networks")
    comparisons = [compare(model, setting, seed, data, bar) for model in setting.models]
    bar.close()
    for comparison in comparisons:
        # The verdict is what the command reports, so it goes to stdout, not to the log.
        print(verdict(comparison) + "\n")
    rows = [row for comparison in comparisons for row in csv_rows(comparison)]
    return [
        write_csv(out / "networks.csv", CSV_HEADER, rows),
        plot(out / "networks.png", comparisons),
    ]


def plot(path: Path, comparisons: Sequence[Comparison]) -> Path:
    """Per model a column: test accuracy, relative logit error (log scale) and accuracy after
    fine-tuning against the kept width, one line per method (the references dotted), the
    wide model dashed (in the last row after the same fine-tuning). Our accuracy drop is
    written under the kept widths: on an axis that has to reach the pruned baselines, it is
    too small to read off."""
    plt = pyplot()
    columns = len(comparisons)
    fig, axes = plt.subplots(3, columns, figsize=(4.2 * columns + 2.6, 10.5), squeeze=False)
    lines = {**METHODS, **REFERENCES}
    markers = dict(zip(lines, "o^vs<D>xP"))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = dict(zip(lines, ["black", *cycle[: len(BASELINES)], "grey", "grey"]))
    near = ("ours", *REFERENCES)
    for column, comparison in enumerate(comparisons):
        widths = comparison.widths
        image = 100.0 / comparison.test_images
        tuned = (
            f"after {comparison.finetune_epochs} epochs of fine-tuning, mean of "
            f"{comparison.finetune_runs}\n(one test image = {image:.2f} points; lines below leave "
            "the axis)"
        )
        panels = (
            ("accuracy", "test accuracy (%)", comparison.accuracy, "no fine-tuning"),
            ("relative_logit_mse", "relative logit MSE to the wide model", None, "no fine-tuning"),
            ("accuracy_finetuned", "test accuracy (%)", comparison.accuracy_finetuned, tuned),
        )
        for row, (attribute, label, wide, when) in enumerate(panels):
            ax = axes[row, column]
            for method in lines:
                values = [getattr(comparison.at(w)[method], attribute) for w in widths]
                ax.plot(
                    widths,
                    values,
                    marker=markers[method],
                    color=colours[method],
                    lw=2.0 if method == "ours" else 1.0,
                    zorder=3 if method == "ours" else 2,
                    ls=":" if method in REFERENCES else "-",
                    label=lines[method] + (" (reference)" if method in REFERENCES else ""),
                )
            if wide is not None:
                # Drawn over the methods: ours often sits on it.
                ax.axhline(wide, color="grey", ls="--", zorder=4, label="wide model")
            ax.set_xscale("log", base=2)
            ticks = [str(w) for w in widths]
            if attribute == "accuracy":
                ticks = [f"{w}\nours drop {comparison.at(w)['ours'].drop:.2f}" for w in widths]
            ax.set_xticks(widths, ticks)
            ax.minorticks_off()
            unit = "channels" if comparison.model == "cnn" else "units per hidden layer"
            ax.set(xlabel=f"kept width ({unit})", ylabel=label)
            if attribute == "relative_logit_mse":
                ax.set_yscale("log")
            if attribute == "accuracy_finetuned":
                # zoomed on the wide model, ours and the references: the gaps are points
                close = [comparison.accuracy_finetuned]
                close += [r.accuracy_finetuned for r in comparison.results if r.method in near]
                ax.set_ylim(min(close) - 1.0, min(max(close) + 0.5, 100.0))
            name = title(comparison.model, comparison.full_width)
            ax.set_title(f"{name}\n{when}" if row == 0 else when, fontsize=9)
            ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[0, -1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=8)
    return save_figure(fig, path, dpi=110)
