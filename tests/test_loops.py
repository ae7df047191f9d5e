"""The fast-path helpers of ``rnnlib._loops`` and buffer reuse across passes.

* ``halve_sigmoid_columns`` + ``from_tanh_``: the sigmoid computed as
  ``(1 + tanh(a/2)) / 2`` from halved weight columns. Halving is exact, so the
  products must equal half the original products *bit for bit*; the sigmoid
  then agrees with ``rnnlib.sigmoid`` to rounding (tolerance 4 ulp of 1).
* ``operands_buffer``: the layout ``[x_{t+1} | h_t]`` the backward relies on.
* ``buffer`` and ``reuse=``: a new pass may overwrite an old cache's buffers
  (the layers do it to avoid page faults); results must not change, the
  memory must really be reused, and mismatched shapes must get fresh memory.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib import _loops

EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_halved_columns_give_exactly_half_the_products(dtype):
    rng = np.random.default_rng(0)
    D, H, n = 5, 4, 12  # 16 columns, the first 12 feed a sigmoid (an LSTM's f, i, o)
    W_x, W_h, b = (rng.standard_normal(s).astype(dtype) for s in ((D, 4 * H), (H, 4 * H), (4 * H,)))
    originals = [W.copy() for W in (W_x, W_h, b)]
    W_x2, W_h2, b2 = _loops.halve_sigmoid_columns(W_x, W_h, b, n)
    for W, W0 in zip((W_x, W_h, b), originals):  # inputs untouched
        np.testing.assert_array_equal(W, W0)
    for W2, W in zip((W_x2, W_h2, b2), (W_x, W_h, b)):
        assert W2.dtype == W.dtype and W2.shape == W.shape
        np.testing.assert_array_equal(W2[..., :n], 0.5 * W[..., :n])
        np.testing.assert_array_equal(W2[..., n:], W[..., n:])
    x = rng.standard_normal((7, D)).astype(dtype)
    np.testing.assert_array_equal((x @ W_x2)[:, :n], 0.5 * (x @ W_x)[:, :n])


def test_from_tanh_is_the_sigmoid_in_place():
    a = np.linspace(-40.0, 40.0, 2001)
    s = np.tanh(a / 2)
    out = _loops.from_tanh_(s)
    assert out is s
    np.testing.assert_allclose(s, rnnlib.sigmoid(a), rtol=0, atol=4 * EPS)
    assert s.min() >= 0.0 and s.max() <= 1.0



def test_from_tanh_error_is_absolute_not_relative():
    """The docstring of halve_sigmoid_columns: ~2e-16 absolute, large relative for closed gates."""
    import math

    def fast(a):
        return float(_loops.from_tanh_(np.tanh(np.array([a / 2])))[0])

    def exact(a):
        return 1.0 / (1.0 + math.exp(-a))

    a = np.linspace(-60.0, 60.0, 20001)
    assert np.max(np.abs(_loops.from_tanh_(np.tanh(a / 2)) - 1 / (1 + np.exp(-a)))) <= 2 * EPS
    rel = {v: abs(fast(v) - exact(v)) / exact(v) for v in (-20.0, -30.0)}
    assert 1e-9 < rel[-20.0] < 1e-7 and 1e-5 < rel[-30.0] < 1e-3  # documented: 9e-9 and 1.7e-4
    assert fast(-40.0) == 0.0 and exact(-40.0) > 0  # documented: exactly 0 below about -38
    assert abs(fast(-5.0) - exact(-5.0)) / exact(-5.0) < 1e-14  # open-ish gates: rounding only

def test_operands_buffer_layout():
    rng = np.random.default_rng(1)
    T, N, D, H = 3, 2, 4, 5
    x_tm, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    xh = _loops.operands_buffer(x_tm, h0, np.float64)
    assert xh.shape == (T + 1, N, D + H) and xh.flags.c_contiguous
    np.testing.assert_array_equal(xh[:T, :, :D], x_tm)
    np.testing.assert_array_equal(xh[0, :, D:], h0)
    np.testing.assert_array_equal(xh[T, :, :D], 0.0)
    # rows of the (T * N, D + H) view are [x_t | h_{t-1}], t = 1..T
    rows = xh[:T].reshape(T * N, D + H)
    assert np.shares_memory(rows, xh)


def test_buffer_reuses_only_a_matching_array():
    old = np.zeros((2, 3))
    cache = type("C", (), {"a": old, "b": np.zeros((2, 3), np.float32), "c": np.zeros((3, 2)).T})()
    assert _loops.buffer(cache, "a", (2, 3), np.float64) is old
    assert _loops.buffer(cache, "a", (3, 2), np.float64) is not old  # other shape
    assert _loops.buffer(cache, "b", (2, 3), np.float64).dtype == np.float64  # other dtype
    assert _loops.buffer(cache, "c", (2, 3), np.float64).flags.c_contiguous  # not C-contiguous: fresh
    assert _loops.buffer(cache, "missing", (2, 3), np.float64).shape == (2, 3)
    assert _loops.buffer(None, "a", (2, 3), np.float64).shape == (2, 3)


# -- reuse in the sequence functions and the layers ---------------------------------

def _run(kind, x, h0, p, reuse=None):
    if kind == "rnn":
        hs, _, cache = rnnlib.rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"], reuse=reuse)
        return hs, cache, lambda dhs: rnnlib.rnn_backward(dhs, cache)
    if kind == "lstm":
        hs, _, cache = rnnlib.lstm_forward(x, (h0, 0.5 * h0), p["W_x"], p["W_h"], p["b"], reuse=reuse)
        return hs, cache, lambda dhs: rnnlib.lstm_backward(dhs, cache)
    after = kind == "gru_after"
    hs, _, cache = rnnlib.gru_forward(x, h0, p["W_x"], p["W_h"], p["b"], p.get("b_hn") if after else None,
                                   reset_after=after, reuse=reuse)
    return hs, cache, lambda dhs: rnnlib.gru_backward(dhs, cache)


def _flat(result):
    """All arrays of a backward result, in order."""
    out = []
    for r in result:
        out.extend(r.values() if isinstance(r, dict) else [r])
    return out


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru_after", "gru_before"])
def test_reuse_gives_the_same_results_and_the_same_memory(kind):
    rng = np.random.default_rng(2)
    N, T, D, H = 3, 4, 2, 5
    layer = {"rnn": rnnlib.RNN, "lstm": rnnlib.LSTM}.get(kind, rnnlib.GRU)
    kw = {"reset_after": kind == "gru_after"} if kind.startswith("gru") else {}
    p = layer(D, H, seed=0, **kw).params
    x1, x2 = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    h0, dhs = rng.standard_normal((N, H)), rng.standard_normal((N, T, H))
    hs_fresh, _, back = _run(kind, x2, h0, p)
    fresh = back(dhs)

    _, old_cache, back1 = _run(kind, x1, h0, p)
    back1(dhs)  # fill the old scratch buffers with other numbers
    hs_reused, cache, back2 = _run(kind, x2, h0, p, reuse=old_cache)
    np.testing.assert_array_equal(hs_reused, hs_fresh)
    for a, b in zip(_flat(back2(dhs)), _flat(fresh)):
        np.testing.assert_array_equal(a, b)
    for name in ("xh", "gates", "da"):
        if hasattr(cache, name):
            assert getattr(cache, name) is getattr(old_cache, name), name

    # another T: nothing can be reused, and nothing breaks
    x3 = rng.standard_normal((N, T + 2, D))
    _, cache3, _ = _run(kind, x3, h0, p, reuse=cache)
    assert not np.shares_memory(cache3.xh, cache.xh)


@pytest.mark.parametrize("cls", [rnnlib.RNN, rnnlib.LSTM, rnnlib.GRU])
def test_layer_reuses_its_last_cache_and_stays_correct(cls):
    """forward(x1), forward(x2), backward == a fresh layer's forward(x2), backward."""
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 5, 3, 4
    x1, x2 = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    dhs = rng.standard_normal((N, T, H))
    layer, fresh = cls(D, H, seed=1), cls(D, H, seed=1)
    layer.forward(x1)
    first = layer._cache[1]
    hs, _ = layer.forward(x2)
    assert layer._cache[1].xh is first.xh  # the memory of the first pass, reused
    hs_f, _ = fresh.forward(x2)
    np.testing.assert_array_equal(hs, hs_f)
    dx, _ = layer.backward(dhs)
    dx_f, _ = fresh.backward(dhs)
    np.testing.assert_array_equal(dx, dx_f)
    for k in layer.grads:
        np.testing.assert_array_equal(layer.grads[k], fresh.grads[k])
    # a batch of another size: fresh buffers, same answers as a fresh layer
    x3 = rng.standard_normal((N + 1, T - 2, D))
    np.testing.assert_array_equal(layer.forward(x3)[0], cls(D, H, seed=1).forward(x3)[0])


@pytest.mark.parametrize("N, dtype, expected", [(32, np.float32, True), (1, np.float32, False),
                                                (32, np.float64, False)])
def test_column_major_layout_choice_and_no_second_copy(N, dtype, expected):
    assert _loops.column_major_pays(N, dtype) is expected
    W = np.arange(12.0, dtype=dtype).reshape(3, 4)
    _, W_h2, _ = _loops.halve_sigmoid_columns(W, W, W[0], 2, "F" if expected else "C")
    W_used, out = _loops.step_matmul_operands(W_h2, N, dtype)
    assert W_used is W_h2  # already in the layout the per-step product wants: not copied again
    assert out.shape == (N, 4)
    if N > 1:  # a (1, M) array is both C- and F-contiguous
        assert out.flags.f_contiguous == expected


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru_after"])
def test_cache_views_of_the_operands_buffer(kind):
    """cache.x, cache.h0, cache.hs are views of xh holding the input, h_0 and the returned states."""
    rng = np.random.default_rng(4)
    N, T, D, H = 2, 3, 4, 5
    layer = {"rnn": rnnlib.RNN, "lstm": rnnlib.LSTM}.get(kind, rnnlib.GRU)
    p = layer(D, H, seed=0).params
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    hs, cache, _ = _run(kind, x, h0, p)
    assert set(type(cache)._fields).isdisjoint({"x", "h0", "hs"})  # properties, not stored twice
    np.testing.assert_array_equal(cache.x, x.transpose(1, 0, 2))
    np.testing.assert_array_equal(cache.h0, h0)
    np.testing.assert_array_equal(cache.hs, hs.transpose(1, 0, 2))
    assert all(np.shares_memory(v, cache.xh) for v in (cache.x, cache.h0, cache.hs))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru_after"])
def test_reuse_of_the_wrong_type_is_refused(kind):
    rng = np.random.default_rng(5)
    layer = {"rnn": rnnlib.RNN, "lstm": rnnlib.LSTM}.get(kind, rnnlib.GRU)
    p = layer(2, 3, seed=0).params
    x, h0 = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 3))
    other_kind, other_layer = ("lstm", rnnlib.LSTM) if kind == "rnn" else ("rnn", rnnlib.RNN)
    other = _run(other_kind, x, h0, other_layer(2, 3).params)[1]  # a cache of another cell
    for bad in ({"xh": np.zeros(3)}, other):
        with pytest.raises(TypeError, match=r"reuse must be None or a \w+Cache .* got"):
            _run(kind, x, h0, p, reuse=bad)
