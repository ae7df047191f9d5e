"""One calling convention for the three cells (issue 13, part 2).

=================  ===========================================================
step forward       ``state_next, cache = X_step_forward(x_t, state_prev, *params)``
step backward      ``dx_t, dstate_prev, grads = X_step_backward(dstate_next, cache)``
sequence forward   ``hs, state_T, cache = X_forward(x, state0, *params, reuse=None)``
sequence backward  ``dx, dstate0, grads = X_backward(dhs, cache, dstate_T=None)``
=================  ===========================================================

A state is the array ``h`` (N, H) for the RNN and the GRU, the pair ``(h, c)``
for the LSTM, in arguments and returns alike; ``grads`` is always a dict with
exactly the keys of the layer's ``params``. These tests check the structure
for every cell with the same code, so a cell that drifts from the others fails
here. (The values are checked by finite differences in test_cells.py.)
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import rnnlib

N, T, D, H = 2, 4, 3, 5
# cell -> (layer, functions' name prefix, keyword arguments of the GRU's form)
CELLS = {
    "rnn": (lambda: rnnlib.RNN(D, H, seed=1), "rnn", {}),
    "lstm": (lambda: rnnlib.LSTM(D, H, seed=2, forget_bias=1.0), "lstm", {}),
    "gru_after": (lambda: rnnlib.GRU(D, H, seed=3, reset_after=True), "gru", {"reset_after": True}),
    "gru_before": (lambda: rnnlib.GRU(D, H, seed=4, reset_after=False), "gru", {"reset_after": False}),
}


def _setup(cell, seed=0):
    make, prefix, kw = CELLS[cell]
    layer = make()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    state0 = (h0, rng.standard_normal((N, H))) if cell == "lstm" else h0
    return layer, prefix, kw, x, state0, rng


def _fn(prefix, name):
    return getattr(rnnlib, f"{prefix}_{name}")


def _assert_state(cell, state, what):
    """A state (or state gradient) of the cell's structure: (N, H), or a pair of (N, H) for the LSTM."""
    if cell == "lstm":
        assert type(state) is tuple and len(state) == 2, f"{what}: the LSTM's is a pair (h, c); got {type(state)}"
        parts = state
    else:
        assert isinstance(state, np.ndarray), f"{what}: one array for {cell}; got {type(state).__name__}"
        parts = (state,)
    for s in parts:
        assert isinstance(s, np.ndarray) and s.shape == (N, H), (what, getattr(s, "shape", s))


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("cell", CELLS)
def test_step_functions_share_one_shape(cell):
    layer, prefix, kw, x, state0, rng = _setup(cell)
    out = _fn(prefix, "step_forward")(x[:, 0], state0, **layer.params, **kw)
    assert type(out) is tuple and len(out) == 2  # state_next, cache
    state_next, cache = out
    _assert_state(cell, state_next, "state_next")
    dstate_next = tuple(rng.standard_normal((N, H)) for _ in _flat(state_next))
    back = _fn(prefix, "step_backward")(dstate_next if cell == "lstm" else dstate_next[0], cache)
    assert type(back) is tuple and len(back) == 3  # dx_t, dstate_prev, grads
    dx_t, dstate_prev, grads = back
    assert dx_t.shape == (N, D)
    _assert_state(cell, dstate_prev, "dstate_prev")
    assert isinstance(grads, dict) and list(grads) == list(layer.params)  # same keys, same order
    for k in grads:
        assert grads[k].shape == layer.params[k].shape, k


@pytest.mark.parametrize("cell", CELLS)
def test_sequence_functions_share_one_shape(cell):
    layer, prefix, kw, x, state0, rng = _setup(cell)
    out = _fn(prefix, "forward")(x, state0, **layer.params, **kw)
    assert type(out) is tuple and len(out) == 3  # hs, state_T, cache
    hs, state_T, cache = out
    assert hs.shape == (N, T, H)
    _assert_state(cell, state_T, "state_T")
    np.testing.assert_array_equal(_flat(state_T)[0], hs[:, -1])  # h_T is the last of hs ...
    assert not np.shares_memory(_flat(state_T)[0], hs)  # ... as its own array
    back = _fn(prefix, "backward")(rng.standard_normal(hs.shape), cache)  # dstate_T left out
    assert type(back) is tuple and len(back) == 3  # dx, dstate0, grads
    dx, dstate0, grads = back
    assert dx.shape == (N, T, D)
    _assert_state(cell, dstate0, "dstate0")
    assert isinstance(grads, dict) and list(grads) == list(layer.params)
    for k in grads:
        assert grads[k].shape == layer.params[k].shape, k


@pytest.mark.parametrize("cell", CELLS)
def test_final_state_gradient_is_optional_last_and_none_means_zero(cell):
    layer, prefix, kw, x, state0, rng = _setup(cell, seed=5)
    backward = _fn(prefix, "backward")
    _, state_T, cache = _fn(prefix, "forward")(x, state0, **layer.params, **kw)
    dhs = rng.standard_normal((N, T, H))
    zeros = tuple(np.zeros((N, H)) for _ in _flat(state_T))
    ways = {"omitted": backward(dhs, cache), "None": backward(dhs, cache, None),
            "keyword": backward(dhs, cache, dstate_T=None),
            "zeros": backward(dhs, cache, zeros if cell == "lstm" else zeros[0])}
    if cell == "lstm":  # either entry of the pair may be None
        ways["(None, None)"] = backward(dhs, cache, (None, None))
        ways["(0, None)"] = backward(dhs, cache, (zeros[0], None))
        ways["(None, 0)"] = backward(dhs, cache, (None, zeros[1]))
    ref = ways.pop("zeros")
    for name, got in ways.items():
        for a, b in zip(_flat(got[0]) + _flat(got[1]) + list(got[2].values()),
                        _flat(ref[0]) + _flat(ref[1]) + list(ref[2].values())):
            np.testing.assert_array_equal(a, b, err_msg=name)
    # and a non-zero final-state gradient does change the result (the argument is read)
    d = tuple(rng.standard_normal((N, H)) for _ in _flat(state_T))
    with_d = backward(dhs, cache, dstate_T=d if cell == "lstm" else d[0])
    assert not np.allclose(_flat(with_d[1])[0], _flat(ref[1])[0])


def test_lstm_step_backward_reads_none_as_zero():
    """The LSTM's step state gradient is a pair, and either entry may be None."""
    layer, _, _, x, state0, rng = _setup("lstm", seed=6)
    _, cache = rnnlib.lstm_step_forward(x[:, 0], state0, **layer.params)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    for pair, ref in [((None, dc), (np.zeros((N, H)), dc)), ((dh, None), (dh, np.zeros((N, H))))]:
        got, want = rnnlib.lstm_step_backward(pair, cache), rnnlib.lstm_step_backward(ref, cache)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        for k in want[2]:
            np.testing.assert_array_equal(got[2][k], want[2][k])


def test_signatures_line_up():
    """Same positional order everywhere; the final-state gradient is the last, optional argument."""
    for prefix in ("rnn", "lstm", "gru"):
        fwd = list(inspect.signature(_fn(prefix, "forward")).parameters.values())
        assert fwd[0].name == "x" and fwd[1].name in ("h0", "state0")
        assert fwd[-1].name == "reuse" and fwd[-1].kind is inspect.Parameter.KEYWORD_ONLY
        step = list(inspect.signature(_fn(prefix, "step_forward")).parameters)
        assert step[:2] == ["x_t", "state_prev" if prefix == "lstm" else "h_prev"]
        back = inspect.signature(_fn(prefix, "backward")).parameters
        assert list(back) == ["dhs", "cache", "dstate_T"] and back["dstate_T"].default is None
        step_back = inspect.signature(_fn(prefix, "step_backward")).parameters
        assert list(step_back) == ["dstate_next" if prefix == "lstm" else "dh_next", "cache"]


@pytest.mark.parametrize("cell", CELLS)
def test_the_layer_is_the_functions(cell):
    """The classes call the functions: same hs, state, dx, dstate0 and grads."""
    layer, prefix, kw, x, state0, rng = _setup(cell, seed=7)
    dhs = rng.standard_normal((N, T, H))
    d = tuple(rng.standard_normal((N, H)) for _ in _flat(state0))
    dstate = d if cell == "lstm" else d[0]
    hs, state_T, cache = _fn(prefix, "forward")(x, state0, **layer.params, **kw)
    dx, dstate0, grads = _fn(prefix, "backward")(dhs, cache, dstate)
    hs2, state_T2 = layer.forward(x, state0)
    dx2, dstate02 = layer.backward(dhs, dstate)
    for a, b in zip([hs, *_flat(state_T), dx, *_flat(dstate0)], [hs2, *_flat(state_T2), dx2, *_flat(dstate02)]):
        np.testing.assert_array_equal(a, b)
    assert type(state_T2) is type(state_T) and type(dstate02) is type(dstate0)
    assert list(layer.grads) == list(grads)
    for k in grads:
        np.testing.assert_array_equal(layer.grads[k], grads[k])
