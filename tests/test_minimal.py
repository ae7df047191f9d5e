"""MinGRU, MinLSTM, MinimalStack and the linear-recurrence solvers of rnnlib.scan.

Every method agrees with the loop to 1e-10 relative in float64 (outputs, every
gradient) on random sizes including T = 1 and T = 4096, or raises a ValueError that
says why ("cumprod" where the running product underflows); every backward pass
is checked by finite differences (float64, including N = T = 1); bad input is
refused with messages naming the argument.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import MinGRU, MinLSTM, MinimalStack, linear_recurrence, linear_recurrence_backward, rel_error
from rnnlib.gradcheck import numerical_gradient
from rnnlib.minimal import LAYER_METHODS, g, g_prime, log_g, softplus
from rnnlib.scan import METHODS, chunk_length

AGREE = 1e-10  # methods against the loop, float64 (measured: <= 6e-14 at T = 4096)
FD_TOL = 1e-6  # finite differences, float64, h = 1e-6 (measured: <= 2e-7, at N = T = D = H = 1 where a gradient entry is 1.5e-4)
SIZES = [(1, 1, 1, 1), (2, 7, 3, 4), (3, 33, 2, 5), (2, 4096, 2, 3)]  # (N, T, D, H)


def _problem(N, T, H, rng, signed=True):
    a = rng.uniform(0.05, 1.0, (N, T, H))
    b = rng.standard_normal((N, T, H)) if signed else rng.uniform(0.01, 1, (N, T, H))
    return a, b, rng.standard_normal((N, H))


@pytest.mark.parametrize("N,T,H", [(1, 1, 1), (2, 5, 3), (3, 64, 2), (2, 100, 4), (1, 4096, 2), (2, 17, 1)])
def test_solvers_agree_forward_and_backward(N, T, H):
    rng = np.random.default_rng(T)
    a, b, h0 = _problem(N, T, H, rng)
    dhs, dfin = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    ref = linear_recurrence(a, b, h0, "loop")
    gref = linear_recurrence_backward(a, ref, h0, dhs, dfin, "loop")
    # the closed form, written out
    if T <= 5:
        for t in range(T):
            want = np.prod(a[:, :t + 1], axis=1) * h0 + sum(
                np.prod(a[:, k + 1:t + 1], axis=1) * b[:, k] for k in range(t + 1))
            assert rel_error(ref[:, t], want) < 1e-14
    for m in METHODS:
        if m == "cumprod" and np.min(np.cumprod(a, axis=1)) < 1e-280:
            with pytest.raises(ValueError, match="cumprod.*underflow|1 / A overflows"):
                linear_recurrence(a, b, h0, m)
            continue
        assert rel_error(linear_recurrence(a, b, h0, m), ref) < AGREE, m
        for got, want in zip(linear_recurrence_backward(a, ref, h0, dhs, dfin, m), gref):
            assert rel_error(got, want) < AGREE, m


def test_cumprod_breaks_on_a_long_sequence_and_says_what_to_use():
    rng = np.random.default_rng(0)
    a, b, h0 = _problem(2, 4096, 3, rng)
    with pytest.raises(ValueError, match="method='loop', 'scan'"):
        linear_recurrence(a, b, h0, "cumprod")
    # the unguarded product form gives non-finite numbers there: that is what the guard prevents
    with np.errstate(all="ignore"):
        A = np.cumprod(a, axis=1)
        naive = A * (h0[:, None] + np.cumsum(b / A, axis=1))
    assert not np.all(np.isfinite(naive))


def test_log_scan_with_zero_coefficient_refuses_and_given_log_a_is_used():
    a = np.array([[[0.5], [0.0]]]); b = np.ones((1, 2, 1))
    with pytest.raises(ValueError, match="a > 0"):
        linear_recurrence(a, b, method="log-scan")
    assert np.allclose(linear_recurrence(a, b, method="log-scan", log_a=np.log(np.array([[[0.5], [1e-300]]]))),
                       [[[1.0], [1.0]]])


@pytest.mark.parametrize("method", METHODS)
def test_solver_backward_finite_differences(method):
    rng = np.random.default_rng(1)
    for N, T, H in [(1, 1, 1), (2, 6, 3)]:
        a, b, h0 = _problem(N, T, H, rng)
        dhs, dfin = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))

        def loss(a_, b_, h_):
            hs = linear_recurrence(a_, b_, h_, method)
            return np.sum(hs * dhs) + np.sum(hs[:, -1] * dfin)
        da, db, dh0 = linear_recurrence_backward(a, linear_recurrence(a, b, h0), h0, dhs, dfin, method)
        assert rel_error(numerical_gradient(lambda v: loss(v, b, h0), a), da) < FD_TOL
        assert rel_error(numerical_gradient(lambda v: loss(a, v, h0), b), db) < FD_TOL
        assert rel_error(numerical_gradient(lambda v: loss(a, b, v), h0), dh0) < FD_TOL


def test_chunk_length_and_blelloch_padding():
    assert [chunk_length(T) for T in (1, 4, 64, 4096)] == [1, 2, 8, 64]
    rng = np.random.default_rng(2)
    for T in (3, 5, 9, 31, 33):  # not powers of two: padded with the identity (1, 0)
        a, b, h0 = _problem(1, T, 2, rng)
        assert rel_error(linear_recurrence(a, b, h0, "scan"), linear_recurrence(a, b, h0)) < AGREE


# ---------------------------------------------------------------------------
# the layers
# ---------------------------------------------------------------------------
def _run(layer, x, h0, dhs, dst, method):
    layer.zero_grad()
    hs, h_T = layer.forward(x, h0, method)
    dx, dh0 = layer.backward(dhs, dst)
    return hs, h_T, dx, dh0, {k: v.copy() for k, v in layer.grads.items()}


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
@pytest.mark.parametrize("positive", [True, False])
@pytest.mark.parametrize("N,T,D,H", SIZES)
def test_layer_methods_agree(cls, positive, N, T, D, H):
    rng = np.random.default_rng(N * 1000 + T)
    layer = cls(D, H, positive=positive, seed=T)
    x = 2 * rng.standard_normal((N, T, D))
    h0, dhs, dst = rng.standard_normal((N, H)), rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    ref = _run(layer, x, h0, dhs, dst, "loop")
    assert np.array_equal(ref[1], ref[0][:, -1])
    for m in LAYER_METHODS:
        try:
            out = _run(layer, x, h0, dhs, dst, m)
        except ValueError as exc:
            assert m == "cumprod" and T == 4096 and "underflow" not in str(exc).lower() or "cumprod" in str(exc)
            continue
        for got, want in zip(out[:4], ref[:4]):
            assert rel_error(got, want) < AGREE, m
        for k in ref[4]:
            assert rel_error(out[4][k], ref[4][k]) < AGREE, (m, k)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
@pytest.mark.parametrize("positive", [True, False])
@pytest.mark.parametrize("method", ["loop", "log-scan", "scan", "chunked"])
def test_layer_gradients_finite_differences(cls, positive, method):
    rng = np.random.default_rng(3)
    for N, T, D, H in [(1, 1, 1, 1), (2, 5, 3, 4)]:
        layer = cls(D, H, positive=positive, seed=1)
        x = 2 * rng.standard_normal((N, T, D))
        h0, dhs, dst = rng.standard_normal((N, H)), rng.standard_normal((N, T, H)), rng.standard_normal((N, H))

        def loss(*_):
            hs, h_T = layer.forward(x, h0, method)
            return np.sum(hs * dhs) + np.sum(h_T * dst)
        layer.zero_grad()
        layer.forward(x, h0, method)
        dx, dh0 = layer.backward(dhs, dst)
        assert rel_error(numerical_gradient(loss, x), dx) < FD_TOL
        assert rel_error(numerical_gradient(loss, h0), dh0) < FD_TOL
        for k, p in layer.params.items():
            assert rel_error(numerical_gradient(loss, p), layer.grads[k]) < FD_TOL, k


def test_layer_contract_names_shapes_and_equations():
    layer = MinGRU(3, 4, seed=0)
    assert sorted(layer.params) == ["W_h", "W_z", "b_h", "b_z"] and layer.params["W_z"].shape == (3, 4)
    assert layer.n_params == 2 * (3 * 4 + 4)
    lstm = MinLSTM(input_size=3, hidden_size=4, positive=False, seed=0, dtype=np.float32)
    assert sorted(lstm.params) == ["W_f", "W_h", "W_i", "b_f", "b_h", "b_i"]
    assert lstm.params["W_f"].dtype == np.float32
    # one step by hand from the equations
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 1, 3)), rng.uniform(0.1, 1, (2, 4))
    p = layer.params
    z = 1 / (1 + np.exp(-(x[:, 0] @ p["W_z"] + p["b_z"])))
    k = x[:, 0] @ p["W_h"] + p["b_h"]
    ht = np.where(k >= 0, k + 0.5, 1 / (1 + np.exp(-k)))
    hs, h_T = layer.forward(x, h0)
    assert np.allclose(h_T, (1 - z) * h0 + z * ht, rtol=1e-13)
    lstm64 = MinLSTM(3, 4, seed=0)
    q = lstm64.params
    f = 1 / (1 + np.exp(-(x[:, 0] @ q["W_f"] + q["b_f"])))
    i = 1 / (1 + np.exp(-(x[:, 0] @ q["W_i"] + q["b_i"])))
    k = x[:, 0] @ q["W_h"] + q["b_h"]
    ht = np.where(k >= 0, k + 0.5, 1 / (1 + np.exp(-k)))
    assert np.allclose(lstm64.forward(x, h0)[1], f / (f + i) * h0 + i / (f + i) * ht, rtol=1e-13)
    # float32 runs, and agrees with float64 to float32 precision
    assert rel_error(lstm.forward(x.astype(np.float32))[0],
                     MinLSTM(3, 4, positive=False, seed=0).forward(x)[0]) < 1e-5


def test_activations_are_stable_and_right():
    k = np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 800.0])
    assert np.all(np.isfinite(softplus(k))) and np.isclose(softplus(k)[-1], 800.0)
    assert np.allclose(softplus(k[1:5]), np.log1p(np.exp(k[1:5])))
    assert np.allclose(g(k[1:]), np.where(k[1:] >= 0, k[1:] + 0.5, 1 / (1 + np.exp(-k[1:]))))
    assert np.allclose(log_g(k[1:]), np.log(g(k[1:]))) and np.all(np.isfinite(log_g(k)))
    h = 1e-6
    kk = np.array([-3.0, -0.5, 0.7, 2.0])
    assert np.allclose(g_prime(kk), (g(kk + h) - g(kk - h)) / (2 * h), atol=1e-8)


def test_log_scan_survives_saturated_gates_where_products_underflow():
    layer = MinGRU(1, 2, seed=0)
    layer.params["W_z"][:] = 0.0
    layer.params["b_z"][:] = 40.0  # z = 1 - 4e-18: 1 - z rounds to about 0 in float64
    x = np.random.default_rng(0).standard_normal((1, 50, 1))
    ref = layer.forward(x, method="loop")[0]
    assert np.all(np.isfinite(layer.forward(x, method="log-scan")[0]))
    assert rel_error(layer.forward(x, method="log-scan")[0], ref) < AGREE


def test_gradients_accumulate_and_backward_needs_forward():
    layer = MinLSTM(2, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 1, 3)))
    x = np.random.default_rng(0).standard_normal((2, 4, 2))
    layer.forward(x)
    layer.backward(np.ones((2, 4, 3)))
    once = layer.grads["W_f"].copy()
    layer.backward(np.ones((2, 4, 3)))
    assert np.allclose(layer.grads["W_f"], 2 * once)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda l: l.forward(np.zeros((2, 3, 5))), r"x must have shape \(N, T, D=3\).*\(2, 3, 5\)"),
    (lambda l: l.forward(np.zeros((2, 3))), r"x must have 3 dimensions"),
    (lambda l: l.forward(np.full((1, 2, 3), np.nan)), r"x contains 6 NaN or inf"),
    (lambda l: l.forward(np.array([[[1.0, np.inf, 0.0]]])), r"x contains 1 NaN or inf"),
    (lambda l: l.forward(np.zeros((1, 2, 3)), method="parallel"), r"method must be one of .*'parallel'"),
    (lambda l: l.forward(np.zeros((1, 2, 3)), state=np.zeros((1, 5))), r"state must have shape \(N=1, H=4\)"),
    (lambda l: l.forward(np.zeros((1, 2, 3), dtype=np.int64)), r"x must be a float32 or float64 array"),
])
def test_bad_input_messages(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(MinGRU(3, 4))


def test_bad_constructor_and_state_types():
    with pytest.raises(TypeError, match="hidden_size must be a positive int"):
        MinGRU(3, 2.5)
    with pytest.raises(ValueError, match="input_size must be a positive int; got 0"):
        MinLSTM(0, 2)
    with pytest.raises(TypeError, match="positive must be True or False"):
        MinGRU(3, 2, positive="yes")
    with pytest.raises(TypeError, match="dtype must be np.float32 or np.float64"):
        MinGRU(3, 2, dtype=np.int32)
    with pytest.raises(TypeError, match="no cell state"):
        MinLSTM(3, 2).forward(np.zeros((1, 2, 3)), state=(np.zeros((1, 2)), np.zeros((1, 2))))
    layer = MinGRU(3, 2)
    layer.forward(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"dhs must have shape \(N=1, T=2, H=2\)"):
        layer.backward(np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="method must be one of"):
        linear_recurrence(np.ones((1, 2, 1)), np.ones((1, 2, 1)), method="fast")
    with pytest.raises(ValueError, match=r"a must have shape"):
        linear_recurrence(np.ones((1, 3, 1)), np.ones((1, 2, 1)))


# ---------------------------------------------------------------------------
# the stack
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
def test_stack_gradients_and_shapes(kind):
    rng = np.random.default_rng(4)
    stack = MinimalStack(kind, 3, 4, num_layers=3, seed=0)
    assert len(stack.layers) == 3 and len(stack.projections) == 2
    assert stack.n_params == sum(v.size for v in stack.params.values())
    x, dhs = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    h0 = [rng.standard_normal((2, 4)) for _ in range(3)]
    dst = [rng.standard_normal((2, 4)) for _ in range(3)]

    def loss(*_):
        hs, fin = stack.forward(x, h0)
        return np.sum(hs * dhs) + sum(np.sum(f * d) for f, d in zip(fin, dst))
    stack.zero_grad()
    hs, fin = stack.forward(x, h0)
    assert hs.shape == (2, 5, 4) and len(fin) == 3
    dx, d0 = stack.backward(dhs, dst)
    assert rel_error(numerical_gradient(loss, x), dx) < FD_TOL
    for l in range(3):
        assert rel_error(numerical_gradient(loss, h0[l]), d0[l]) < FD_TOL
    for k, p in stack.params.items():
        assert rel_error(numerical_gradient(loss, p), stack.grads[k]) < 1e-6, k  # measured <= 3e-8
    with pytest.raises(ValueError, match="kind must be one of"):
        MinimalStack("gru", 3, 4)
    with pytest.raises(TypeError, match="list of 3 arrays"):
        stack.forward(x, h0[0])


def test_exports():
    for name in ("MinGRU", "MinLSTM", "MinimalStack", "linear_recurrence", "linear_recurrence_backward"):
        assert name in rnnlib.__all__ and hasattr(rnnlib, name)
