"""Tests for rnnlib.data.tasks: the adding problem and the copy-memory task."""

import numpy as np
import pytest

from rnnlib.data import tasks


def rng(seed=0):
    return np.random.default_rng(seed)


# --- adding problem -------------------------------------------------------------
@pytest.mark.parametrize("T", [2, 3, 10, 51])
def test_adding_shapes_markers_and_target(T):
    x, y = tasks.adding_problem(200, T, rng(T))
    assert x.shape == (200, T, 2) and x.dtype == np.float64
    assert y.shape == (200, 1) and y.dtype == np.float64
    values, markers = x[:, :, 0], x[:, :, 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = T // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1)  # one marker in the first half
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1)  # one in the second half
    np.testing.assert_allclose(y[:, 0], np.sum(values * markers, axis=1), rtol=0, atol=1e-15)


def test_adding_markers_cover_each_half():
    T = 10
    x, _ = tasks.adding_problem(2000, T, rng(1))
    t1 = tasks.first_marker(x)
    t2 = T - 1 - np.argmax(x[:, ::-1, 1], axis=1)
    assert set(t1) == set(range(T // 2)) and set(t2) == set(range(T // 2, T))


def test_first_marker():
    x, y = tasks.adding_problem(50, 20, rng(2))
    t1 = tasks.first_marker(x)
    assert t1.shape == (50,) and np.all(t1 < 10)
    assert np.all(x[np.arange(50), t1, 1] == 1.0)
    assert np.all(x[np.arange(50), :, 1][np.arange(20) < t1[:, None]] == 0)  # nothing before it
    with pytest.raises(ValueError, match="x"):
        tasks.first_marker(x[:, :, :1])
    x0 = x.copy()
    x0[3, :, 1] = 0
    with pytest.raises(ValueError, match="without any marker"):
        tasks.first_marker(x0)


def test_adding_is_reproducible_and_seed_dependent():
    a = tasks.adding_problem(8, 12, rng(7))
    b = tasks.adding_problem(8, 12, rng(7))
    c = tasks.adding_problem(8, 12, rng(8))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_adding_baseline_by_monte_carlo():
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(1 / 6, rel=1e-15)
    _, y = tasks.adding_problem(200_000, 10, rng(3))
    mse_of_mean = float(np.mean((y - 1.0) ** 2))  # predicting the mean 1.0
    # standard error of the mean of (y - 1)^2 is ~0.00044 here; 0.003 is ~7 of them
    assert mse_of_mean == pytest.approx(tasks.ADDING_BASELINE_MSE, abs=3e-3)
    assert float(np.mean(y)) == pytest.approx(1.0, abs=3e-3)


# --- copy task --------------------------------------------------------------------
@pytest.mark.parametrize("T", [1, 5, 30])
def test_copy_structure(T):
    N, L = 40, T + 20
    x, y = tasks.copy_problem(N, T, rng(T))
    assert x.shape == (N, L, 10) and x.dtype == np.float64
    assert y.shape == (N, L) and y.dtype.kind == "i"
    np.testing.assert_array_equal(x.sum(axis=2), 1.0)  # one-hot
    tokens = x.argmax(axis=2)  # (N, L)
    symbols = tokens[:, :10]
    assert np.all((symbols >= 1) & (symbols <= 8))
    np.testing.assert_array_equal(tokens[:, 10:T + 9], 0)  # T - 1 blanks
    np.testing.assert_array_equal(tokens[:, T + 9], 9)  # the delimiter
    np.testing.assert_array_equal(tokens[:, T + 10:], 0)  # 10 blanks to read out
    np.testing.assert_array_equal(y[:, :T + 10], 0)
    np.testing.assert_array_equal(y[:, T + 10:], symbols)  # the symbols, in order


def test_copy_options_and_reproducibility():
    x, y = tasks.copy_problem(5, 4, rng(0), n_symbols=3, length=2)
    assert x.shape == (5, 8, 5) and y.shape == (5, 8)
    assert x.argmax(axis=2)[0, 5] == 4  # delimiter = n_symbols + 1 at step T + length - 1
    a = tasks.copy_problem(6, 7, rng(9))
    b = tasks.copy_problem(6, 7, rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert set(np.unique(tasks.copy_problem(3000, 2, rng(1))[1][:, -10:])) == set(range(1, 9))


def test_copy_baseline_formula_and_monte_carlo():
    assert tasks.copy_baseline(100) == pytest.approx(10 * np.log(8) / 120, rel=1e-15)
    assert tasks.copy_baseline(5, length=3, n_symbols=4) == pytest.approx(3 * np.log(4) / 11, rel=1e-15)
    # the memoryless strategy: certain blank before the read-out, uniform over 8 symbols in it
    T = 10
    x, y = tasks.copy_problem(5000, T, rng(4))
    p = np.zeros(y.shape + (9,))
    p[:, :T + 10, 0] = 1.0
    p[:, T + 10:, 1:] = 1 / 8
    picked = np.take_along_axis(p, y[..., None], axis=2)[..., 0]
    assert float(-np.mean(np.log(picked))) == pytest.approx(tasks.copy_baseline(T), rel=1e-12)


# --- errors -------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, name", [
    (lambda: tasks.adding_problem(0, 10, rng()), ValueError, "N"),
    (lambda: tasks.adding_problem(4.0, 10, rng()), TypeError, "N"),
    (lambda: tasks.adding_problem(4, 1, rng()), ValueError, "T"),
    (lambda: tasks.adding_problem(4, "10", rng()), TypeError, "T"),
    (lambda: tasks.adding_problem(4, 10, 0), TypeError, "rng"),
    (lambda: tasks.copy_problem(4, 0, rng()), ValueError, "T"),
    (lambda: tasks.copy_problem(4, 5, np.random), TypeError, "rng"),
    (lambda: tasks.copy_problem(4, 5, rng(), n_symbols=1), ValueError, "n_symbols"),
    (lambda: tasks.copy_problem(4, 5, rng(), length=0), ValueError, "length"),
    (lambda: tasks.copy_baseline(-1), ValueError, "T"),
])
def test_bad_input_names_the_argument(call, exc, name):
    with pytest.raises(exc, match=rf"^{name} "):
        call()
