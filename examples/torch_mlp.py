"""Compress every hidden layer of a trained MLP to a few of its own units.

A 64-256-256-10 ReLU network trained on scikit-learn's digits is cut to 32 units per hidden
layer (`tchakaloff.torch.compress_mlp`), without fine-tuning, and compared with 32 random
units per layer rescaled; then folded into a plain `nn.Sequential`.

    python examples/torch_mlp.py
"""

import torch
from sklearn.datasets import load_digits
from tchakaloff.torch import compress_mlp
from tchakaloff.torch.pruning import random_units
from torch import nn

WIDTH, KEPT = 256, 32

digits, labels = load_digits(return_X_y=True)
X, y = torch.tensor(digits / 16, dtype=torch.float32), torch.tensor(labels)
train, test = slice(0, 1347), slice(1347, None)

torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(64, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(), nn.Linear(WIDTH, 10)
)
optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
for _ in range(100):  # full batch
    optimiser.zero_grad()
    torch.autograd.backward(nn.functional.cross_entropy(model(X[train]), y[train]))
    optimiser.step()

compressed = compress_mlp(model, size=KEPT, calibration=X[train])
plain = compressed.fold()  # nn.Sequential(Linear(64, 32), ReLU, Linear(32, 32), ReLU, ...)
naive = random_units(model, [KEPT, KEPT], rescale=True, rng=0)


def accuracy(net: nn.Module) -> float:
    with torch.no_grad():
        return float((net(X[test]).argmax(dim=1) == y[test]).float().mean())


print(f"hidden widths {WIDTH} -> {compressed.widths}")
for name, net in [("wide", model), ("compressed", plain), ("random units", naive)]:
    print(f"{name}: test accuracy {accuracy(net):.3f}")
