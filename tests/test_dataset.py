"""tchakaloff.compress_dataset: real rows with their own labels, weights that keep the total
(and every class's), losses that are polynomials of degree <= k kept exactly, clear errors."""

import itertools

import numpy as np
import pytest
import tchakaloff
from _bad_inputs import check_helpful


def joint_monomials(z: np.ndarray, degree: int) -> np.ndarray:
    """(n, N) values of every monomial of total degree <= degree, by itertools (no tchakaloff)."""
    columns = [np.ones(len(z))]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(z.shape[1]), d):
            columns.append(np.prod(z[:, list(combo)], axis=1))
    return np.column_stack(columns)


def teacher_data(n: int, rng: np.random.Generator, noise: float = 3.0):
    """The paper's Fig. 3 task: a random width-50 ReLU teacher, x ~ U[-1, 1]^2, noisy labels."""
    w1, b1 = rng.uniform(-1, 1, (50, 2)), rng.uniform(-1, 1, 50)
    w2, b2 = rng.uniform(-1, 1, 50), rng.uniform(-1, 1)
    x = rng.uniform(-1, 1, (n, 2))
    clean = np.maximum(x @ w1.T + b1, 0) @ w2 + b2
    return x, clean + noise * rng.normal(size=n)


@pytest.fixture(scope="module")
def data():
    return teacher_data(4000, np.random.default_rng(0))


@pytest.fixture(scope="module")
def compressed(data):
    x, y = data
    return tchakaloff.compress_dataset(x, y, size=400, degree=4)


def test_kept_rows_are_real_rows_with_their_own_labels(data, compressed):
    x, y = data
    res = compressed
    assert len(res) == 400
    assert np.all(np.diff(res.indices) > 0)
    assert res.indices.min() >= 0 and res.indices.max() < len(x)
    np.testing.assert_array_equal(res.X, x[res.indices])
    np.testing.assert_array_equal(res.y, y[res.indices])
    # every kept (x, y) pair occurs in the input as a whole row: nothing is synthesised
    full = {tuple(row) for row in np.column_stack([x, y])}
    assert all(tuple(row) in full for row in np.column_stack([res.X, res.y]))


def test_weights_positive_with_total_d(data, compressed):
    assert np.all(compressed.weights > 0)
    np.testing.assert_allclose(compressed.weights.sum(), len(data[0]), rtol=1e-12)
    x, y = data
    sample_weight = np.random.default_rng(1).uniform(0.2, 3.0, len(x))
    res = tchakaloff.compress_dataset(x, y, size=400, degree=3, sample_weight=sample_weight)
    assert np.all(res.weights > 0)
    np.testing.assert_allclose(res.weights.sum(), sample_weight.sum(), rtol=1e-12)


@pytest.mark.parametrize(
    ("standardize", "partition"), [(True, "kd"), (False, "kd"), (True, "greedy")]
)
def test_polynomial_losses_are_kept_exactly(data, standardize, partition):
    """Any loss that is a polynomial of degree <= k in (x, y): the weighted mean on the kept
    rows equals the full mean, including the squared error of polynomial models."""
    x, y = data
    k = 5
    res = tchakaloff.compress_dataset(
        x, y, size=600, degree=k, standardize=standardize, partition=partition, rng=1
    )
    rng = np.random.default_rng(2)
    z = np.column_stack([x, y])
    features = joint_monomials(z, k)
    for _ in range(5):
        coefficients = rng.normal(size=features.shape[1])
        loss = features @ coefficients
        np.testing.assert_allclose(
            res.weights @ loss[res.indices] / res.weights.sum(),
            loss.mean(),
            rtol=1e-9,
            atol=1e-9 * np.abs(loss).mean(),
        )
    # squared error of random polynomial models of degree 2 in x: degree 4 <= k in (x, y)
    model = joint_monomials(x, 2)
    for _ in range(5):
        residual = (model @ rng.normal(size=model.shape[1]) - y) ** 2
        np.testing.assert_allclose(
            res.weights @ residual[res.indices] / res.weights.sum(), residual.mean(), rtol=1e-9
        )


def test_weighted_least_squares_in_scikit_learn_matches_the_full_fit(data):
    """Hand the weights on as sample_weight: a quadratic least-squares model only sees
    moments of degree <= 4 of (x, y), so its fit on the kept rows is the full-data fit."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    x, y = data
    res = tchakaloff.compress_dataset(x, y, size=300, degree=4)
    full = make_pipeline(PolynomialFeatures(2), LinearRegression()).fit(x, y)
    small = make_pipeline(PolynomialFeatures(2), LinearRegression()).fit(
        res.X, res.y, linearregression__sample_weight=res.weights
    )
    np.testing.assert_allclose(small[-1].coef_, full[-1].coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(small[-1].intercept_, full[-1].intercept_, rtol=1e-8)
    # the fit() shortcut passes the weights for estimators that take sample_weight directly
    linear = res.fit(LinearRegression())
    reference = LinearRegression().fit(x, y)
    np.testing.assert_allclose(linear.coef_, reference.coef_, rtol=1e-8)


def test_landscape_error_on_the_fig3_task():
    """50 random students (PyTorch's default initialisation, in numpy): the compressed loss
    is within 1e-3 (median, relative) of the full loss, and >= 30x closer than a random
    subset of the same size."""
    rng = np.random.default_rng(3)
    x, y = teacher_data(10_000, rng)
    res = tchakaloff.compress_dataset(x, y, size=1000, degree=5)
    ours, uniform = [], []
    for _ in range(50):
        w1 = rng.uniform(-1, 1, (50, 2)) / np.sqrt(2)
        b1 = rng.uniform(-1, 1, 50) / np.sqrt(2)
        w2, b2 = rng.uniform(-1, 1, 50) / np.sqrt(50), rng.uniform(-1, 1) / np.sqrt(50)
        loss = (np.maximum(x @ w1.T + b1, 0) @ w2 + b2 - y) ** 2
        full = loss.mean()
        ours.append(abs(res.weights @ loss[res.indices] / len(x) - full) / full)
        subset = rng.choice(len(x), len(res), replace=False)
        uniform.append(abs(loss[subset].mean() - full) / full)
    assert np.median(ours) <= 1e-3
    assert np.median(uniform) >= 30 * np.median(ours)


@pytest.mark.parametrize("labels", ["int", "str"])
def test_classes_are_compressed_apart_and_keep_their_mass(labels):
    rng = np.random.default_rng(4)
    counts = {0: 3000, 1: 1500, 2: 400, 3: 8}  # class 3 has fewer rows than N: kept whole
    cls = np.repeat(list(counts), list(counts.values()))
    x = rng.normal(size=(len(cls), 2)) + cls[:, None]
    y = cls if labels == "int" else np.array(["a", "b", "c", "d"])[cls]
    sample_weight = rng.uniform(0.5, 2.0, len(x))
    k = 3
    # integer classes are asked for; strings are classes by default
    asked = {"discrete": True} if labels == "int" else {}
    res = tchakaloff.compress_dataset(
        x, y, size=500, degree=k, sample_weight=sample_weight, **asked
    )
    assert res.discrete
    assert len(res) == 500  # the shares' rounding leftovers are spent too
    np.testing.assert_array_equal(res.y, y[res.indices])
    assert res.y.dtype == y.dtype
    for c in np.unique(y):
        members = y == c
        kept = res.y == c
        np.testing.assert_allclose(
            res.weights[kept].sum(), sample_weight[members].sum(), rtol=1e-12
        )
        # cells never mix classes, and each class keeps its own moments in x
        assert set(res.cells[members]).isdisjoint(res.cells[~members])
        full = sample_weight[members] @ joint_monomials(x[members], k)
        sub = res.weights[kept] @ joint_monomials(res.X[kept], k)
        np.testing.assert_allclose(sub, full, rtol=1e-9, atol=1e-9 * np.abs(full).max())
    small = y == y[-1]
    np.testing.assert_array_equal(res.indices[res.y == y[-1]], np.flatnonzero(small))


def test_standardize_removes_units_and_affine_moments_stay(data):
    """Standardized cells do not depend on the units of a column (here x1 in thousandths);
    in raw units the stretched column takes the cuts and the cells change."""
    x, y = data
    stretched = x.copy()
    stretched[:, 0] = 1000 * x[:, 0] + 7
    a = tchakaloff.compress_dataset(x, y, size=400, degree=3)
    b = tchakaloff.compress_dataset(stretched, y, size=400, degree=3)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-8)
    raw = tchakaloff.compress_dataset(x, y, size=400, degree=3, standardize=False)
    raw_stretched = tchakaloff.compress_dataset(stretched, y, size=400, degree=3, standardize=False)
    assert not np.array_equal(raw.cells, raw_stretched.cells)


def test_cells_are_cut_along_x_unless_told(data):
    """cells="x": the cells do not depend on y (only the rows kept in them do); "all" cuts
    along y too."""
    x, y = data
    noisier = y + np.random.default_rng(12).normal(size=len(y))
    a, b = (tchakaloff.compress_dataset(x, t, size=400, degree=3) for t in (y, noisier))
    np.testing.assert_array_equal(a.cells, b.cells)
    c, d = (
        tchakaloff.compress_dataset(x, t, size=400, degree=3, cells="all") for t in (y, noisier)
    )
    assert not np.array_equal(c.cells, d.cells)
    assert not np.array_equal(a.cells, c.cells)
    with pytest.raises(ValueError, match="cells"):
        tchakaloff.compress_dataset(x, y, size=400, degree=3, cells="y")


def test_float_labels_are_regression_unless_told():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1000, 2))
    y = (x[:, 0] > 0).astype(np.float64)
    assert not tchakaloff.compress_dataset(x, y, size=200, degree=2).discrete
    res = tchakaloff.compress_dataset(x, y, size=200, degree=2, discrete=True)
    assert res.discrete
    np.testing.assert_allclose(res.weights[res.y == 1].sum(), (y == 1).sum(), rtol=1e-12)
    counts = y.astype(np.int64)
    assert not tchakaloff.compress_dataset(x, counts, size=200, degree=2, discrete=False).discrete


def test_integer_labels_are_regression_unless_asked():
    """Counts are numbers: by default an integer y is compressed exactly as the same values
    in floats, and its moments in (x, y) are kept; classes need discrete=True."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2000, 2))
    counts = rng.poisson(np.exp(x[:, 0]))
    as_int = tchakaloff.compress_dataset(x, counts, size=200, degree=2)
    as_float = tchakaloff.compress_dataset(x, counts.astype(np.float64), size=200, degree=2)
    assert not as_int.discrete
    np.testing.assert_array_equal(as_int.indices, as_float.indices)
    np.testing.assert_array_equal(as_int.weights, as_float.weights)
    assert as_int.y.dtype == counts.dtype
    joint = np.column_stack([x, counts])
    np.testing.assert_allclose(
        tchakaloff.moments(joint[as_int.indices], as_int.weights, degree=2),
        tchakaloff.moments(joint, degree=2),
        rtol=1e-9,
        atol=1e-9 * len(x),
    )
    classes = tchakaloff.compress_dataset(x, counts, size=200, degree=2, discrete=True)
    assert classes.discrete
    for c in np.unique(counts):
        kept = classes.weights[classes.y == c].sum()
        np.testing.assert_allclose(kept, (counts == c).sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [bool, str, object])
def test_bool_string_and_object_labels_stay_classes(dtype):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(1000, 2))
    y = (x[:, 0] > 0).astype(dtype)
    res = tchakaloff.compress_dataset(x, y, size=200, degree=2)
    assert res.discrete
    np.testing.assert_allclose(res.weights[res.y == y[0]].sum(), (y == y[0]).sum(), rtol=1e-12)


def test_fractional_size_and_all_rows():
    x, y = teacher_data(500, np.random.default_rng(6))
    assert len(tchakaloff.compress_dataset(x, y, size=0.2, degree=2)) <= 100
    res = tchakaloff.compress_dataset(x, y, size=500, degree=2)
    np.testing.assert_array_equal(res.indices, np.arange(500))
    np.testing.assert_allclose(res.weights, 1.0)


def _with(array: np.ndarray, index, value) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out[index] = value
    return out


_X, _Y = teacher_data(300, np.random.default_rng(7))
BAD = [
    ("nan_in_X", _with(_X, (5, 1), np.nan), _Y, {}, r"X contains NaN or inf.*row 5"),
    ("inf_in_y", _X, _with(_Y, 9, np.inf), {}, r"y contains NaN or inf.*row 9"),
    ("short_y", _X, _Y[:-1], {}, r"X has 300 rows but y has 299"),
    ("long_y", _X, np.append(_Y, 0.0), {}, r"X has 300 rows but y has 301"),
    ("size_zero", _X, _Y, {"size": 0}, r"at least 1 row"),
    ("size_fraction", _X, _Y, {"size": 1.5}, r"\(0, 1\]"),
    ("size_string", _X, _Y, {"size": "10"}, r"size must be an int"),
    ("degree_too_high", _X, _Y, {"size": 50, "degree": 5}, r"degree 5 is too high.*N = .*56"),
    ("negative_degree", _X, _Y, {"degree": -1}, r"degree must be >= 0"),
    ("float_degree", _X, _Y, {"degree": 2.0}, r"non-negative integer"),
    ("negative_weight", _X, _Y, {"sample_weight": _with(np.ones(300), 3, -1)}, r">= 0"),
    ("nan_weight", _X, _Y, {"sample_weight": _with(np.ones(300), 3, np.nan)}, r"NaN"),
    ("weights_too_short", _X, _Y, {"sample_weight": np.ones(299)}, r"one per point"),
    ("X_1d", _X[:, 0], _Y, {}, r"2-d.*reshape"),
    ("y_3d", _X, _Y.reshape(300, 1, 1), {}, r"y must have shape"),
    ("string_target", _X, np.array(["a"] * 300), {"discrete": False}, r"must be numeric"),
    (
        "classes_2d",
        _X,
        np.zeros((300, 2), dtype=int),
        {"discrete": True},
        r"discrete labels must be 1-d",
    ),
    ("none_label", _X, np.array([None] + ["a"] * 299, dtype=object), {}, r"contains None"),
    (
        "classes_too_many_for_size",
        _X,
        np.arange(300) % 10,
        {"size": 50, "degree": 2, "discrete": True},
        r"too small for 10 classes",
    ),
]


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_is_refused_with_a_clear_message(x, y, kwargs, match):
    options = {"size": 100, "degree": 2, **kwargs}
    with pytest.raises(ValueError, match=match) as error:
        tchakaloff.compress_dataset(x, y, **options)
    check_helpful(str(error.value))


def test_fit_routes_the_weights_into_a_pipeline_and_refuses_unweighted_estimators(data):
    """res.fit(make_pipeline(...)) gives the last step the weights: the quadratic fit on the
    kept rows is the full-data fit; an estimator without sample_weight is refused."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    x, y = data
    res = tchakaloff.compress_dataset(x, y, size=300, degree=4)
    small = res.fit(make_pipeline(PolynomialFeatures(2), LinearRegression()))
    full = make_pipeline(PolynomialFeatures(2), LinearRegression()).fit(x, y)
    np.testing.assert_allclose(small[-1].coef_, full[-1].coef_, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match=r"KNeighborsRegressor\.fit does not take sample_weight"):
        res.fit(make_pipeline(PolynomialFeatures(2), KNeighborsRegressor()))
    with pytest.raises(ValueError, match="does not take sample_weight"):
        res.fit(KNeighborsRegressor())


def test_size_at_least_n_keeps_every_row_like_compress(data):
    x, y = data
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(x))
    res = tchakaloff.compress_dataset(x, y, size=10 * len(x), degree=2, sample_weight=w)
    kept = tchakaloff.compress(np.c_[x, y], w, size=10 * len(x), degree=2)
    np.testing.assert_array_equal(res.indices, np.arange(len(x)))
    np.testing.assert_array_equal(res.indices, kept.indices)
    np.testing.assert_allclose(res.weights, w, rtol=1e-12)


def test_command_line_version_and_flags_after_the_command(capsys):
    from tchakaloff.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"tchakaloff {tchakaloff.__version__}"
    with pytest.raises(SystemExit) as stop:  # -v after the command parses; --help stops it
        main(["demo", "-v", "--help"])
    assert stop.value.code == 0
    assert "--verbose" in capsys.readouterr().out
