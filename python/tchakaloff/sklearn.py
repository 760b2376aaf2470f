"""A scikit-learn meta-estimator that fits its estimator on a compressed training set.

``CompressedEstimator(estimator, size=...)`` compresses the rows (X, y) with
:func:`tchakaloff.compress_dataset` in ``fit`` and fits a clone of `estimator` on the kept rows
with their weights as ``sample_weight``. It is a classifier when `estimator` is one and a
regressor when it is one, so it works wherever the wrapped estimator does: in a ``Pipeline``,
in ``GridSearchCV`` (over ``size`` and ``estimator__<param>`` alike), in ``cross_val_score``.

Importing this module imports scikit-learn (>= 1.6); ``import tchakaloff`` does not.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
    from sklearn.utils import Tags, get_tags
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - only with an old or missing scikit-learn
    raise ImportError(
        "tchakaloff.sklearn needs scikit-learn >= 1.6 (estimator tags and validate_data): "
        "pip install 'scikit-learn>=1.6'"
    ) from error

from .dataset import DatasetCompression, compress_dataset


def _wrapped_has(method: str) -> Callable[[CompressedEstimator], bool]:
    """For `available_if`: the method exists when the wrapped estimator (fitted or not) has it,
    so ``hasattr(model, "predict_proba")`` answers as it would for the wrapped estimator."""

    def check(self: CompressedEstimator) -> bool:
        getattr(getattr(self, "estimator_", self.estimator), method)  # AttributeError if not
        return True

    return check


class CompressedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit `estimator` on a weighted subset of the training rows with the same moments.

    ``fit(X, y)`` keeps `size` rows of (X, y) with :func:`tchakaloff.compress_dataset` and fits
    a clone of `estimator` on them with their weights as ``sample_weight`` (total: the number
    of rows, or the sum of the ``sample_weight`` passed to ``fit``, so a regularisation
    parameter keeps its meaning). Prediction, scoring and ``classes_`` are those of the fitted
    clone, ``estimator_``.

    Parameters
    ----------
    estimator : scikit-learn estimator
        A regressor or classifier whose ``fit`` takes ``sample_weight`` (or a ``Pipeline``
        whose last step does). Others are refused in ``fit``: the kept rows only stand for the
        data set with their weights.
    size : int or float
        Rows to keep (an int), or a fraction of the rows (a float in (0, 1]). A size of at
        least the number of rows keeps every row with weight 1 (the wrapped estimator is then
        fitted on the full data).
    degree : int or "auto", default "auto"
        Degree of the moments of (x, y) kept in every cell; see
        :func:`tchakaloff.compress_dataset`. "auto" takes the highest degree the size allows
        (k = 12 for 2e3 rows of (x1, x2, y)); for a smooth model a low degree such as 4 gave
        the same test error in the benchmark at a thirtieth of the time (0.19 s against 5.8 s).
    representation : {"auto", "moments", "kernel"}, default "auto"
        Moments of cells, or kernel features (the default from 4 columns of (x, y) on); see
        :func:`tchakaloff.compress_dataset`.
    standardize : bool, default True
        Cut the cells in units of each column's standard deviation.
    cells : {"x", "all"}, default "x"
        Columns the cells are cut along; "all" for losses that are not polynomial in y
        (absolute error, Huber, epsilon-insensitive).
    partition : {"kd", "greedy"}, default "kd"
        Balanced k-d cells (fast) or the paper's greedy balls (lower error, slower).
    random_state : int, numpy.random.Generator or None, default None
        Picks among the many valid subsets (``rng`` of :func:`tchakaloff.compress_dataset`,
        named as scikit-learn names it). None keeps the input order: the result is then
        deterministic, not random.
    n_jobs : int, optional
        Threads of the compression (the wrapped estimator has its own setting).

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of `estimator`.
    compression_ : tchakaloff.DatasetCompression
        The kept rows (``indices``, ``weights``, ``X``, ``y``) and how well they match.
    n_features_in_ : int
        Columns of X seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a data frame with string column names.

    Notes
    -----
    **Regression or classification** is decided by the wrapped estimator
    (``sklearn.base.is_classifier``), not by the dtype of y: a classifier's labels are
    compressed class by class in x (every class keeps its rows' total weight and at least one
    row), a regressor's target is a column of the moments, integer or not.

    **Preprocessing** belongs in front: ``make_pipeline(StandardScaler(),
    CompressedEstimator(...))`` fits the scaler on every row and compresses the scaled ones.
    Wrapping a whole ``Pipeline`` instead gives the weights to its last step only, so the
    steps before it are fitted on the kept rows without their weights (exact only for
    weight-free steps such as ``PolynomialFeatures``).

    **When the weighted compressed set is the right input.** The weights make every weighted
    sum ``sum_j c_j g(x_j, y_j)`` over the kept rows equal the sum over all rows for every
    polynomial g of degree <= `degree`, and close to it for smooth g. A fit whose objective is
    such a sum of a smooth per-row loss of a smooth model sees (nearly) the full-data objective:

    - linear and polynomial models with squared or logistic loss (``Ridge``, ``LinearRegression``
      on ``PolynomialFeatures``, ``LogisticRegression``), ``KernelRidge`` and ``SVR``/``SVC``
      with a smooth kernel whose length scale is longer than the cells, neural networks: the
      right input. In bench/compare_sklearn.py, KernelRidge on 2e4 rows compressed to 2e3 has
      the test error of the full fit on the 2e4 rows (0.3 % above it), and a random subset of
      2e3 of 1e5 rows has 32x the error of the compressed one. A
      loss that is not a polynomial in y (SVR's epsilon-insensitive loss, absolute error,
      Huber) needs ``cells="all"``: SVR's test error there is 3x lower with it than with
      the default ``cells="x"``.
    - trees and tree ensembles (``HistGradientBoostingRegressor``, random forests): not the
      right input. Their loss is a sum over leaves, piecewise constant in x, which moments
      do not pin down, and a leaf's minimum size counts rows, not weight. With moments (2-3
      columns) the weighted compressed rows still beat the same rows unweighted and a random
      subset, 2x in test error, but stay far above the full fit (13x); with kernel features
      (make_friedman1, 10 features) the weights made the fit worse than the same rows
      without them in 5 of 5 data sets. Fit them on the full data: they scale to it.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        size: float,
        degree: int | str = "auto",
        representation: str = "auto",
        standardize: bool = True,
        cells: str = "x",
        partition: str = "kd",
        random_state: np.random.Generator | int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.size = size
        self.degree = degree
        self.representation = representation
        self.standardize = standardize
        self.cells = cells
        self.partition = partition
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **fit_params: Any
    ) -> CompressedEstimator:
        """Compress (X, y) and fit a clone of the estimator on the kept rows and weights.

        Parameters
        ----------
        X : (n, p) array-like of numbers
        y : (n,) or (n, q) array-like
            Class labels for a classifier, numeric targets for a regressor.
        sample_weight : (n,) array-like, optional
            Weights of the rows; the kept weights have the same total.
        **fit_params
            Passed on to the wrapped estimator's ``fit``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            The wrapped estimator's ``fit`` takes no ``sample_weight``; bad input (see
            :func:`tchakaloff.compress_dataset`).
        """
        classifier = is_classifier(self.estimator)
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=not classifier, y_numeric=not classifier
        )
        if classifier:
            check_classification_targets(y)
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        self.compression_: DatasetCompression = compress_dataset(
            X,
            y,
            size=self.size,
            degree=self.degree,
            representation=self.representation,
            sample_weight=weights,
            standardize=self.standardize,
            cells=self.cells,
            discrete=classifier,
            partition=self.partition,
            rng=self.random_state,
            n_jobs=self.n_jobs,
        )
        estimator = clone(self.estimator)
        self.compression_.fit(estimator, **fit_params)  # refuses estimators without weights
        self.estimator_ = estimator
        return self

    def _checked(self, X: ArrayLike) -> NDArray[Any]:
        check_is_fitted(self)
        return validate_data(self, X, reset=False)

    @available_if(_wrapped_has("predict"))
    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The fitted estimator's ``predict``."""
        X = self._checked(X)
        return self.estimator_.predict(X)

    @available_if(_wrapped_has("predict_proba"))
    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """The fitted estimator's ``predict_proba``."""
        X = self._checked(X)
        return self.estimator_.predict_proba(X)

    @available_if(_wrapped_has("predict_log_proba"))
    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """The fitted estimator's ``predict_log_proba``."""
        X = self._checked(X)
        return self.estimator_.predict_log_proba(X)

    @available_if(_wrapped_has("decision_function"))
    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """The fitted estimator's ``decision_function``."""
        X = self._checked(X)
        return self.estimator_.decision_function(X)

    @available_if(_wrapped_has("score"))
    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The fitted estimator's ``score`` (accuracy for a classifier, R^2 for a regressor)."""
        X = self._checked(X)
        return float(self.estimator_.score(X, y, sample_weight=sample_weight))

    @property
    def classes_(self) -> NDArray[Any]:
        """The fitted classifier's classes (AttributeError for a regressor or before fit)."""
        return self.estimator_.classes_

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        wrapped = get_tags(self.estimator)
        classifier = wrapped.estimator_type == "classifier"
        tags.estimator_type = wrapped.estimator_type
        tags.classifier_tags = wrapped.classifier_tags
        tags.regressor_tags = wrapped.regressor_tags
        tags.non_deterministic = wrapped.non_deterministic
        # compress_dataset takes dense finite numbers; one class column for class labels
        tags.input_tags = dataclasses.replace(
            wrapped.input_tags, sparse=False, allow_nan=False, string=False, categorical=False
        )
        tags.target_tags = dataclasses.replace(
            wrapped.target_tags,
            required=True,
            multi_output=wrapped.target_tags.multi_output and not classifier,
        )
        return tags
