"""Invalid inputs shared by the moments and reduce tests: (id, points, weights, degree, match).

`match` is a regular expression on the ValueError message naming the problem; every message
must also say what to do (see HELPFUL)."""

from __future__ import annotations

import re

import numpy as np

_rng = np.random.default_rng(2024)
_X = _rng.normal(size=(40, 3))
_W = _rng.uniform(0.5, 1.5, size=40)


def _with(array, index, value):
    out = np.array(array, dtype=np.float64)
    out[index] = value
    return out


BAD_INPUTS = [
    ("nan_in_points", _with(_X, (7, 1), np.nan), None, 2, r"NaN or inf"),
    ("inf_in_points", _with(_X, (0, 0), np.inf), None, 2, r"NaN or inf"),
    ("minus_inf_in_points", _with(_X, (39, 2), -np.inf), _W, 2, r"NaN or inf"),
    ("nan_in_weights", _X, _with(_W, 5, np.nan), 2, r"weight 5 is nan"),
    ("inf_in_weights", _X, _with(_W, 6, np.inf), 2, r"weight 6 is inf"),
    ("negative_weight", _X, _with(_W, 3, -0.5), 2, r"weight 3 is -0\.5.*>= 0"),
    ("all_zero_weights", _X, np.zeros(40), 2, r"positive, finite total"),
    ("weights_overflow_total", _X, np.full(40, 1e308), 2, r"positive, finite total"),
    ("points_1d", _X[:, 0], None, 2, r"2-d.*reshape\(-1, 1\)"),
    ("points_3d", _X.reshape(40, 3, 1), None, 2, r"2-d \(n, m\), got shape \(40, 3, 1\)"),
    ("points_0d", np.float64(1.0), None, 2, r"2-d"),
    ("weights_too_short", _X, _W[:39], 2, r"shape \(40,\), one per point"),
    ("weights_too_long", _X, np.ones(41), 2, r"shape \(40,\), one per point"),
    ("weights_2d", _X, _W.reshape(40, 1), 2, r"shape \(40,\), one per point"),
    ("weights_scalar", _X, 1.0, 2, r"shape \(40,\), one per point"),
    ("empty_points", np.zeros((0, 3)), None, 2, r"empty; pass at least one row"),
    ("empty_points_and_weights", np.zeros((0, 2)), np.zeros(0), 1, r"empty"),
    ("zero_columns", np.zeros((5, 0)), None, 2, r"no columns"),
    ("negative_degree", _X, None, -1, r"degree must be >= 0"),
    ("float_degree", _X, None, 2.0, r"degree must be a non-negative integer"),
    ("fractional_degree", _X, None, 1.5, r"degree must be a non-negative integer"),
    ("string_degree", _X, None, "2", r"degree must be a non-negative integer"),
    ("bool_degree", _X, None, True, r"degree must be a non-negative integer"),
    ("none_degree", _X, None, None, r"degree must be a non-negative integer"),
    ("complex_points", _X + 1j, None, 2, r"must be real"),
    ("complex_weights", _X, _W + 0j, 2, r"weights must be real"),
    ("string_points", np.array([["1", "2"], ["3", "4"]]), None, 2, r"numeric"),
    ("object_points", np.array([[1.0, None]], dtype=object), None, 2, r"numeric"),
    ("ragged_list_points", np.array([[1.0], [2.0, 3.0]], dtype=object), None, 1, r"numeric"),
    ("datetime_points", np.array([[1], [2]], dtype="datetime64[s]"), None, 1, r"numeric"),
    ("string_weights", _X, np.array(["1"] * 40), 2, r"weights must be real"),
    ("object_weights", _X, np.array([1.0] * 40, dtype=object), 2, r"weights must be real"),
]

# Every message says what to do (or what is required), not just what went wrong.
HELPFUL = re.compile(
    r"must|pass|remove|repair|lower|rescale|at least|one per point|reshape|supports", re.I
)


def check_helpful(message: str) -> None:
    assert len(message) > 25, message
    assert HELPFUL.search(message), message
