"""rnnlib.activations: sigmoid, tanh, softmax, log_softmax.

Values against the textbook formulas where those are safe, the identities the
backward passes rely on (derivatives from saved outputs), dtype handling, and
exact limits without floating-point warnings at +-1e4.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rnnlib
from rnnlib import activations, log_softmax, numerical_gradient, rel_error, sigmoid, softmax, tanh

# Float64 centred differences vs an exact derivative: ~1e-10 relative.
GRAD_RTOL = 1e-7


def _strict():
    """Turn every floating-point event except underflow, and every warning, into an error."""
    warnings.simplefilter("error")
    return np.errstate(all="raise", under="ignore")


def test_package_exports_the_module_functions():
    assert rnnlib.sigmoid is activations.sigmoid and rnnlib.softmax is activations.softmax
    assert rnnlib.tanh is activations.tanh and rnnlib.log_softmax is activations.log_softmax


def test_sigmoid_matches_the_formula_on_both_branches():
    a = np.linspace(-30, 30, 601)  # both a >= 0 and a < 0 branches, no overflow here
    np.testing.assert_allclose(sigmoid(a), 1.0 / (1.0 + np.exp(-a)), rtol=1e-14, atol=0)
    # 1 - sigmoid(a) cancels for large a: compare to within one ulp of 1
    np.testing.assert_allclose(sigmoid(-a), 1.0 - sigmoid(a), rtol=1e-12, atol=np.finfo(float).eps)
    assert sigmoid(np.array(0.0)) == 0.5


def test_sigmoid_derivative_is_s_times_one_minus_s():
    a = np.linspace(-6, 6, 25)
    s = sigmoid(a)
    assert rel_error(numerical_gradient(lambda v: sigmoid(v), a.copy()), s * (1 - s)) < GRAD_RTOL


def test_tanh_derivative_is_one_minus_tanh_squared():
    a = np.linspace(-4, 4, 25)
    np.testing.assert_allclose(tanh(a), np.tanh(a))
    assert rel_error(numerical_gradient(lambda v: tanh(v), a.copy()), 1 - tanh(a) ** 2) < GRAD_RTOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [sigmoid, tanh, softmax, log_softmax])
def test_dtype_and_shape_are_kept(fn, dtype):
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(dtype)
    out = fn(a)
    assert out.dtype == dtype and out.shape == a.shape


def test_sigmoid_of_integers_is_float():
    """Regression: sigmoid(int array) used to be cast back to int (sigmoid(0) == 0)."""
    out = sigmoid(np.array([-2, 0, 2]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [1 / (1 + np.e**2), 0.5, 1 / (1 + np.e**-2)])
    assert sigmoid(0) == 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_limits_without_warnings(dtype):
    big = np.array([-1e4, -800.0, 800.0, 1e4], dtype=dtype)
    with warnings.catch_warnings(), _strict():
        s, t = sigmoid(big), tanh(big)
        p = softmax(np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype))
        lp = log_softmax(np.array([[1e4, 0.0, -1e4]], dtype=dtype))
    np.testing.assert_array_equal(s, [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(t, [-1.0, -1.0, 1.0, 1.0])
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(lp, [[0.0, -1e4, -2e4]], rtol=1e-6)  # finite where log(softmax) is -inf


def test_naive_formulas_would_warn():
    """The point of the stable versions: the textbook formulas overflow at these inputs."""
    with warnings.catch_warnings(), _strict(), pytest.raises(FloatingPointError):
        1.0 / (1.0 + np.exp(-np.array([-1e4])))
    with warnings.catch_warnings(), _strict(), pytest.raises(FloatingPointError):
        np.exp(np.array([1e4, 0.0])) / np.exp(np.array([1e4, 0.0])).sum()


def test_softmax_sums_to_one_and_ignores_shifts():
    a = np.random.default_rng(1).standard_normal((4, 6)) * 5
    p = softmax(a)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(p, np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(softmax(a + 123.0), p, rtol=1e-12)  # shift invariance
    assert np.all(p > 0)


def test_softmax_axis_argument():
    a = np.random.default_rng(2).standard_normal((3, 4, 5))
    p0 = softmax(a, axis=0)
    np.testing.assert_allclose(p0.sum(axis=0), 1.0, rtol=1e-14)
    np.testing.assert_allclose(p0, np.moveaxis(softmax(np.moveaxis(a, 0, -1)), -1, 0), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(a, axis=1), np.log(softmax(a, axis=1)), rtol=1e-12)


def test_log_softmax_is_log_of_softmax():
    a = np.random.default_rng(3).standard_normal((5, 7)) * 3
    np.testing.assert_allclose(log_softmax(a), np.log(softmax(a)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.exp(log_softmax(a)).sum(axis=-1), 1.0, rtol=1e-14)


def test_softmax_jacobian_matches_finite_differences():
    """d softmax / da applied to an upstream g is p * (g - <g, p>): the identity behind
    the cross-entropy gradient."""
    rng = np.random.default_rng(4)
    a, g = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    p = softmax(a)
    analytic = p * (g - (g * p).sum(axis=-1, keepdims=True))
    assert rel_error(numerical_gradient(lambda v: softmax(v), a, g), analytic) < GRAD_RTOL
