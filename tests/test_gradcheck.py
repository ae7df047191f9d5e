"""rnnlib.gradcheck: numerical_gradient, rel_error, max_rel_error, check_grads.

The checker is itself checked: on functions with known derivatives, on its
promise to pass the perturbed array to ``f`` and restore it bit for bit, and
on its ability to reject a wrong gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib import check_grads, gradcheck, max_rel_error, numerical_gradient, rel_error

# Float64 centred differences on smooth O(1) functions: ~1e-10 relative.
GRAD_RTOL = 1e-7


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x, df = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    # elementwise cube with an upstream gradient: d/dx sum(x^3 * df) = 3 x^2 df
    assert rel_error(numerical_gradient(lambda v: v**3, x, df), 3 * x**2 * df) < GRAD_RTOL
    # scalar-valued f, df=None: gradient of sum(sin(x)) is cos(x)
    assert rel_error(numerical_gradient(lambda v: np.sin(v).sum(), x), np.cos(x)) < GRAD_RTOL
    # matrix product: d/dA sum((A @ B) * G) = G @ B.T
    A, B, G = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    assert rel_error(numerical_gradient(lambda v: v @ B, A, G), G @ B.T) < GRAD_RTOL


def test_numerical_gradient_df_none_means_ones():
    x = np.random.default_rng(1).standard_normal(5)
    f = lambda v: np.tanh(v) * 2  # noqa: E731
    np.testing.assert_allclose(numerical_gradient(f, x), numerical_gradient(f, x, np.ones(5)), rtol=1e-12)


def test_numerical_gradient_passes_the_perturbed_array_and_restores_it():
    x = np.random.default_rng(2).standard_normal((2, 3))
    original = x.copy()
    seen = []

    def f(v):
        seen.append((v is x, v.copy()))
        return v**2

    grad = numerical_gradient(f, x)
    assert all(same for same, _ in seen)  # f gets x itself ...
    assert any(not np.array_equal(v, original) for _, v in seen)  # ... perturbed ...
    np.testing.assert_array_equal(x, original)  # ... and x is restored exactly
    assert len(seen) == 2 * x.size  # two evaluations per entry
    assert grad.shape == x.shape and grad.dtype == np.float64


def test_a_closure_that_ignores_its_argument_gives_zero():
    """Why f must use its argument: cs231n's lambda that ignores it sees no perturbation."""
    x = np.ones(3)
    frozen = x.copy()
    assert not np.any(numerical_gradient(lambda v: frozen**2, x))


def test_numerical_gradient_step_argument():
    x = np.array([1.0, 2.0])
    # for a cubic the centred difference has error exactly h^2 (times f'''/6 = 1)
    g = numerical_gradient(lambda v: v**3, x, h=1e-2)
    np.testing.assert_allclose(g, 3 * x**2 + 1e-4, rtol=1e-9)


def test_rel_error_values():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, np.zeros(3)) == 1.0
    assert rel_error(a, -a) == 1.0  # the maximum: ||a - b|| <= ||a|| + ||b||
    assert rel_error(a, 2 * a) == pytest.approx(1 / 3)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    b = a + 1e-6
    assert rel_error(a, b) == rel_error(b, a)
    np.testing.assert_allclose(rel_error(a, b), np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
    assert rel_error(3.0, 3.0) == 0.0  # scalars too
    assert gradcheck.rel_error is rel_error


def test_rel_error_is_norm_based():
    """A tiny entry with a large relative error does not dominate."""
    a = np.array([1.0, 1e-12])
    b = np.array([1.0, 2e-12])
    assert rel_error(a, b) < 1e-12


def _cs231n_rel_error(x, y):
    """CS231n's rel_error, as its assignments write it (a reference for max_rel_error)."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def test_max_rel_error_is_cs231n_definition():
    rng = np.random.default_rng(4)
    for shape in [(3,), (2, 5), (4, 3, 2)]:
        a = rng.standard_normal(shape)
        b = a + 1e-5 * rng.standard_normal(shape)
        assert max_rel_error(a, b) == _cs231n_rel_error(a, b)
    a = np.array([1.0, -2.0, 3.0])
    assert max_rel_error(a, a) == 0.0
    assert max_rel_error(a, np.zeros(3)) == 1.0
    assert max_rel_error(a, np.array([1.0, -2.0, 6.0])) == pytest.approx(1 / 3)  # the worst entry sets it
    assert max_rel_error(np.zeros(2), np.array([0.0, 1e-10])) == pytest.approx(1e-2)  # the 1e-8 floor
    assert max_rel_error(2.0, 2.0) == 0.0
    assert max_rel_error(np.ones((1, 2)), [[1.0, 1.0]]) == 0.0  # array_like
    with pytest.raises(ValueError, match=r"a and b must have the same shape; got \(2, 1\) and \(2,\)"):
        max_rel_error(np.ones((2, 1)), np.ones(2))
    assert rnnlib.max_rel_error is max_rel_error and "max_rel_error" in rnnlib.__all__


def test_rel_error_and_max_rel_error_differ_where_documented():
    """Same value on entries of one size, orders apart when one entry is tiny (see rel_error's docstring)."""
    a = np.array([1.0, 1e-12])
    b = np.array([1.0, 2e-12])
    assert rel_error(a, b) < 1e-12 < 1e-5 < max_rel_error(a, b)  # 1e-12 / 1e-8: the floor
    c = np.array([1.0, -2.0, 3.0])
    d = c * (1 + 1e-6)  # the same relative change in every entry: the same value
    assert rel_error(c, d) == pytest.approx(max_rel_error(c, d), rel=1e-9)
    rng, checked = np.random.default_rng(5), 0
    for _ in range(200):  # the norm-wise one is never the larger (no entry below the 1e-8 floor)
        shape = tuple(rng.integers(1, 5, size=rng.integers(1, 3)))
        u = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 3, size=shape)
        v = u + rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 1)
        if np.min(np.abs(u) + np.abs(v)) >= 1e-8:
            checked += 1
            assert rel_error(u, v) <= max_rel_error(u, v) * (1 + 1e-12)
    assert checked > 150


def test_check_grads_accepts_the_right_gradient_and_rejects_a_wrong_one():
    rng = np.random.default_rng(3)
    x, df = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    f = lambda v: np.tanh(v) * v  # noqa: E731
    right = (1 - np.tanh(x) ** 2) * x * df + np.tanh(x) * df
    wrong = np.tanh(x) * df  # product rule with one term dropped
    original = x.copy()
    assert check_grads(f, x, right, df, rng=np.random.default_rng(0)) < GRAD_RTOL
    assert check_grads(f, x, wrong, df, rng=np.random.default_rng(0)) > 1e-2
    assert check_grads(f, x, 1.01 * right, df, rng=np.random.default_rng(0)) > 1e-3
    np.testing.assert_array_equal(x, original)


def test_check_grads_costs_two_evaluations_per_direction():
    calls = []
    x = np.ones(50)
    check_grads(lambda v: calls.append(1) or v.sum(), x, np.ones(50), rng=np.random.default_rng(0),
                n_directions=3)
    assert len(calls) == 6  # independent of x.size


def test_check_grads_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"grad must have the shape of x \(3,\); got \(2,\)"):
        check_grads(lambda v: v, x, np.ones(2), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a np.random.Generator; got int"):
        check_grads(lambda v: v, x, np.ones(3), rng=0)


def test_numerical_gradient_errors():
    with pytest.raises(TypeError, match="x must be a float ndarray.*int64"):
        numerical_gradient(lambda v: v, np.arange(3))
    with pytest.raises(TypeError, match="x must be a float ndarray.*list"):
        numerical_gradient(lambda v: v, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"df must have the shape of f's output \(3,\); got \(2,\)"):
        numerical_gradient(lambda v: v, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"a and b must have the same shape; got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))
