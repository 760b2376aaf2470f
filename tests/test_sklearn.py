"""tchakaloff.sklearn.CompressedEstimator: scikit-learn's estimator checks, exact agreement
with the full-data fit where the loss is a polynomial of the matched degree, and use in
Pipeline and GridSearchCV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from tchakaloff.sklearn import CompressedEstimator

ROOT = Path(__file__).resolve().parent.parent

# size=0.5 keeps half the rows of every data set the checks fit, so every check that fits
# runs on a compressed set (an integer size at or above the checks' 10-200 rows would keep
# every row and test nothing of ours).
CHECKED = [
    CompressedEstimator(Ridge(), size=0.5),
    CompressedEstimator(LogisticRegression(), size=0.5),
]


def expected_failures(estimator):
    return {
        # The check fits once on rows repeated k times and once on the same rows with weight
        # k. Both sets have the same moments, but they are different inputs to the cells
        # (27 rows against 15), so half of each keeps different rows: the two fits agree on
        # the moments of (x, y), not on the coefficients the check compares.
        "check_sample_weight_equivalence_on_dense_data": (
            "repeated rows and integer weights are compressed to different subsets"
        ),
    }


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def regression_task(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = np.sin(3 * X[:, 0]) * X[:, 1] + X[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return X, y


def test_kind_follows_the_wrapped_estimator():
    regressor = CompressedEstimator(Ridge(), size=100)
    classifier = CompressedEstimator(LogisticRegression(max_iter=1000), size=100)
    assert is_regressor(regressor) and not is_classifier(regressor)
    assert is_classifier(classifier) and not is_regressor(classifier)
    assert hasattr(classifier, "predict_proba") and not hasattr(regressor, "predict_proba")

    # Integer targets: counts for a regressor, classes for a classifier (not the dtype's say).
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2))
    counts = np.minimum(rng.poisson(np.exp(X[:, 0])), 3)
    assert not clone(regressor).fit(X, counts).compression_.discrete
    fitted = clone(classifier).fit(X, counts)
    assert fitted.compression_.discrete
    np.testing.assert_array_equal(fitted.classes_, np.unique(counts))
    with pytest.raises(AttributeError):
        clone(regressor).fit(X, counts).classes_  # noqa: B018


@pytest.mark.parametrize(
    "model, degree",
    [
        (Ridge(alpha=3.0), 2),  # squared error of an affine model: degree 2 in (x, y)
        (make_pipeline(PolynomialFeatures(2), LinearRegression()), 4),  # degree 4
    ],
)
def test_polynomial_losses_give_the_full_data_fit(model, degree):
    """The moments up to the loss's degree are kept, so the weighted fit on the kept rows is
    the full-data fit (the normal equations are the same), to rounding."""
    X, y = regression_task()
    compressed = CompressedEstimator(model, size=300, degree=degree).fit(X, y)
    assert len(compressed.compression_) <= 300
    full = clone(model).fit(X, y)
    X_test, _ = regression_task(n=500, seed=2)
    np.testing.assert_allclose(compressed.predict(X_test), full.predict(X_test), atol=1e-8)
    assert compressed.score(X_test, full.predict(X_test)) == pytest.approx(1.0, abs=1e-12)


def test_sample_weight_reaches_the_compression():
    X, y = regression_task()
    weights = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    compressed = CompressedEstimator(Ridge(), size=200, degree=2).fit(X, y, sample_weight=weights)
    assert compressed.compression_.weights.sum() == pytest.approx(weights.sum(), rel=1e-12)
    full = Ridge().fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(compressed.estimator_.coef_, full.coef_, rtol=1e-8)


def test_estimators_without_sample_weight_are_refused():
    X, y = regression_task(n=500)
    with pytest.raises(ValueError, match=r"KNeighborsRegressor\.fit does not take sample_weight"):
        CompressedEstimator(KNeighborsRegressor(), size=100).fit(X, y)


def test_grid_search_over_wrapped_and_own_parameters():
    """With a degree-2 loss every compressed fold fit is the full fold fit, so the search
    scores equal those of the same search over Ridge itself."""
    X, y = regression_task(n=3000)
    model = CompressedEstimator(Ridge(), size=200, degree=2)
    assert model.get_params()["estimator__alpha"] == 1.0
    folds = KFold(3, shuffle=True, random_state=0)
    alphas = [0.1, 100.0, 3000.0]
    search = GridSearchCV(model, {"estimator__alpha": alphas, "size": [100, 200]}, cv=folds).fit(
        X, y
    )
    reference = GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds).fit(X, y)
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        index = alphas.index(params["estimator__alpha"])
        assert score == pytest.approx(reference.cv_results_["mean_test_score"][index], abs=1e-9)
    assert search.best_params_["estimator__alpha"] == reference.best_params_["alpha"]
    assert search.best_estimator_.estimator_.alpha == reference.best_params_["alpha"]


def test_inside_a_pipeline():
    """The scaler sees every row, the compression the scaled ones. (Around a pipeline, see
    the polynomial test: the weights go to the last step.)"""
    X, y = regression_task()
    X = X * [1.0, 1000.0]  # a column in other units: the scaler matters
    inside = make_pipeline(StandardScaler(), CompressedEstimator(Ridge(), size=200, degree=2))
    reference = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    np.testing.assert_allclose(inside.fit(X, y).predict(X), reference.predict(X), atol=1e-8)
    assert inside[-1].n_features_in_ == 2


def test_classifier_keeps_every_class_and_its_weight():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5000, 2))
    labels = np.where(X[:, 0] + 0.5 * rng.normal(size=5000) > 1.0, "rare", "common")
    model = CompressedEstimator(LogisticRegression(), size=120).fit(X, labels)
    kept = model.compression_
    for label in ("rare", "common"):
        assert kept.weights[kept.y == label].sum() == pytest.approx(np.sum(labels == label))
    full = LogisticRegression().fit(X, labels)
    # The logistic loss is not a polynomial: close to the full fit, not equal to it.
    agreement = np.mean(model.predict(X) == full.predict(X))
    assert agreement > 0.98
    np.testing.assert_allclose(model.predict_proba(X), full.predict_proba(X), atol=0.05)


def test_import_tchakaloff_leaves_sklearn_out():
    code = "import sys, tchakaloff; assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_example_runs():
    script = ROOT / "examples" / "sklearn_compressed_estimator.py"
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compressed" in result.stdout
