"""Fit a model on a compressed training set.

100,000 rows of a noisy regression task are compressed to 2,000 real rows with weights
(`tchakaloff.compress_dataset`); a kernel ridge regression fitted on them with those
weights as sample weights is compared with one fitted on 2,000 random rows.

    python examples/dataset_fit.py
"""

import numpy as np
import tchakaloff
from sklearn.kernel_ridge import KernelRidge

SIZE = 2_000

rng = np.random.default_rng(0)


def task(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, size=(n, 2))
    return x, np.sin(3 * x[:, 0]) * x[:, 1] + 0.3 * rng.normal(size=n)


X, y = task(100_000)
X_test, y_test = task(5_000)
truth = np.sin(3 * X_test[:, 0]) * X_test[:, 1]


def model() -> KernelRidge:
    # alpha is per unit of weight: the compressed weights total 100,000, the subset's 2,000
    return KernelRidge(alpha=1e-3, kernel="rbf", gamma=2.0)


compressed = tchakaloff.compress_dataset(X, y, size=SIZE, degree=5)
fitted = compressed.fit(model())  # sample_weight=compressed.weights
subset = rng.choice(len(X), SIZE, replace=False)
baseline = model().fit(X[subset], y[subset], sample_weight=np.full(SIZE, len(X) / SIZE))

errors = {
    "compressed": float(np.mean((fitted.predict(X_test) - truth) ** 2)),
    "random subset": float(np.mean((baseline.predict(X_test) - truth) ** 2)),
}
print(f"kept {len(compressed)} rows, total weight {compressed.weights.sum():.0f}")
for name, error in errors.items():
    print(f"{name}: mean squared error to the noise-free target {error:.2e}")
