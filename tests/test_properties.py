"""Property tests (hypothesis): what must hold for *any* sizes and inputs.

* A GRU whose update gate is saturated at z = 1 returns its state unchanged,
  and passes the state gradient through unchanged.
* An LSTM with f = 1 and i = 0 carries its cell unchanged (the constant error
  carousel), and the cell gradient with it.
* Layers keep their dtype and shapes for random sizes.
* sigmoid / tanh / softmax raise no floating-point warning anywhere in
  [-1e4, 1e4], reach their exact limits, and softmax rows sum to 1.

Examples are derandomised (same examples every run, so CI is deterministic)
and not stored in a database.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlib
from rnnlib import GRU, LSTM, RNN, log_softmax, sigmoid, softmax, tanh

PROFILE = settings(max_examples=25, deadline=None, derandomize=True, database=None)
BIG = 1e4  # a bias this large saturates a sigmoid to exactly 0.0 or 1.0 in float32 and float64

sizes = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
dtypes = st.sampled_from([np.float32, np.float64])


def _data(seed, N, T, D, H, x_scale):
    rng = np.random.default_rng(seed)
    return rng, x_scale * rng.standard_normal((N, T, D)), rng.standard_normal((N, H))


@PROFILE
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=seeds, reset_after=st.booleans(), dtype=dtypes,
       x_scale=st.floats(min_value=0.0, max_value=100.0))
def test_gru_with_z_saturated_at_one_keeps_its_state(N, T, D, H, seed, reset_after, dtype, x_scale):
    layer = GRU(D, H, seed=seed % 1000, reset_after=reset_after, update_bias=BIG, dtype=dtype)
    rng, x, h0 = _data(seed, N, T, D, H, x_scale)
    h0 = h0.astype(dtype)
    hs, h_T = layer.forward(x, h0)
    # z = sigmoid(>= 1e4 - |x W_xz + h W_hz|) == 1.0 exactly, so h_t = 1 * h_{t-1} + 0 * h~_t
    np.testing.assert_array_equal(hs, np.broadcast_to(h0[:, None], hs.shape))
    np.testing.assert_array_equal(h_T, h0)
    # and the gradient flows through unchanged: dh0 = dh_T + sum_t dhs_t
    dhs, dh_T = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    dx, dh0 = layer.backward(dhs, dh_T)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dh0, dh_T + dhs.sum(axis=1), rtol=tol, atol=tol)
    assert not np.any(dx)  # nothing reaches the input through a closed gate


@PROFILE
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=seeds, dtype=dtypes,
       x_scale=st.floats(min_value=0.0, max_value=100.0))
def test_lstm_with_f_one_and_i_zero_carries_the_cell(N, T, D, H, seed, dtype, x_scale):
    layer = LSTM(D, H, seed=seed % 1000, dtype=dtype)
    b = layer.params["b"].copy()
    b[:H] += BIG  # f block: forget gate = 1
    b[H:2 * H] -= BIG  # i block: input gate = 0
    layer.set_params({**layer.params, "b": b})
    rng, x, h0 = _data(seed, N, T, D, H, x_scale)
    c0 = rng.standard_normal((N, H)).astype(dtype)
    hs, (h_T, c_T) = layer.forward(x, (h0, c0))
    np.testing.assert_array_equal(c_T, c0)  # C_t = 1 * C_{t-1} + 0 * C~_t, exactly
    # the cell gradient is carried back unchanged too (no dh: only the carousel path)
    dc_T = rng.standard_normal((N, H))
    _, (dh0, dc0) = layer.backward(np.zeros((N, T, H)), (np.zeros((N, H)), dc_T))
    np.testing.assert_array_equal(dc0, dc_T.astype(dtype))
    assert not np.any(dh0)


@PROFILE
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=seeds, dtype=dtypes,
       kind=st.sampled_from(["rnn", "lstm", "gru_after", "gru_before"]))
def test_layers_keep_dtype_and_shape(N, T, D, H, seed, dtype, kind):
    make = {"rnn": lambda: RNN(D, H, dtype=dtype), "lstm": lambda: LSTM(D, H, dtype=dtype),
            "gru_after": lambda: GRU(D, H, dtype=dtype), "gru_before": lambda: GRU(D, H, reset_after=False, dtype=dtype)}
    layer = make[kind]()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    hs, state = layer.forward(x)
    dx, d0 = layer.backward(rng.standard_normal((N, T, H)).astype(dtype))
    flat = list(state) if kind == "lstm" else [state]
    dflat = list(d0) if kind == "lstm" else [d0]
    assert hs.shape == (N, T, H) and dx.shape == (N, T, D)
    assert all(s.shape == (N, H) for s in flat + dflat) and len(flat) == len(dflat)
    for a in [hs, dx, *flat, *dflat, *layer.grads.values(), *layer.params.values()]:
        assert a.dtype == dtype
    assert np.all(np.isfinite(hs)) and np.all(np.abs(hs) <= 1)  # tanh-bounded outputs


def _finite_floats(dtype):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                      elements=st.floats(-BIG, BIG, width=32 if dtype == np.float32 else 64))


@PROFILE
@given(data=st.data(), dtype=dtypes)
def test_activations_raise_no_warnings_and_stay_in_range(data, dtype):
    a = data.draw(_finite_floats(dtype))
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        s, t, p, lp = sigmoid(a), tanh(a), softmax(a), log_softmax(a)
    for out in (s, t, p, lp):
        assert out.dtype == dtype and out.shape == a.shape and np.all(np.isfinite(out))
    assert np.all((s >= 0) & (s <= 1)) and np.all((t >= -1) & (t <= 1))
    assert np.all((p >= 0) & (p <= 1)) and np.all(lp <= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # the row maximum has the largest probability, as log_softmax agrees
    rows_max = np.argmax(a, axis=-1)
    np.testing.assert_array_equal(np.take_along_axis(p, rows_max[..., None], -1)[..., 0], p.max(axis=-1))


@PROFILE
@given(dtype=dtypes, magnitude=st.floats(min_value=800.0, max_value=BIG), n=st.integers(1, 5))
def test_exact_limits_at_large_inputs(dtype, magnitude, n):
    a = np.full(n, magnitude, dtype)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        assert np.all(sigmoid(a) == 1.0) and np.all(sigmoid(-a) == 0.0)
        assert np.all(tanh(a) == 1.0) and np.all(tanh(-a) == -1.0)
        row = np.zeros(n + 1, dtype)
        row[0] = magnitude  # one huge logit: all the mass
        np.testing.assert_array_equal(softmax(row), np.eye(n + 1, dtype=dtype)[0])
        np.testing.assert_array_equal(rnnlib.softmax(-row)[1:], np.full(n, 1.0 / n, dtype))
