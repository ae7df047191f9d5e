"""Gradient checks for the stateless cell functions (rnnlib.rnn, rnnlib.lstm, rnnlib.gru).

Every analytic gradient of every step backward and every sequence backward is
compared with centred finite differences (``rnnlib.numerical_gradient``) in
float64, with respect to *every* input: the input, the initial state(s), each
weight and each bias (``b_hn`` included). Initial states, biases and the
upstream gradients (per-step ``dhs`` and the final-state gradients) are all
random and non-zero, so no term of the backward pass can hide behind a zero.

Also here: the step functions, looped over time, agree with the sequence
functions (the chapters derive the step and then use the sequence code), and
a deliberately wrong backward *fails* the same check.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import rnnlib
from rnnlib import gru, lstm, numerical_gradient, rel_error

# Float64 centred differences with h = 1e-6 agree with a correct analytic
# gradient to ~1e-9 relative (truncation O(h^2), round-off ~eps/h); a backward
# pass with a missing or wrong term is off by O(1e-2..1). 1e-7 separates them.
GRAD_RTOL = 1e-7
# Step of the centred differences: ~eps**(1/3), which balances truncation
# (O(h^2)) against round-off (O(eps * |L| / h)). With the default 1e-6 the
# round-off alone reaches 1e-7 relative when a gradient is ~1e-4 of the loss
# terms (it happens: with N = T = 1, dhs and dh_T hit the same h_1 and can cancel).
FD_STEP = 1e-5

# (N, T, D, H): the degenerate all-ones case plus two small ragged ones.
SIZES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 4, 2, 3)]
SIZE_IDS = ["N{}T{}D{}H{}".format(*s) for s in SIZES]
CELLS = ["rnn", "lstm", "gru_after", "gru_before"]


def _seed(*parts) -> int:
    """A deterministic seed per test case (``hash`` of a str is randomised per run)."""
    return zlib.crc32(repr(parts).encode())


def _params(cell, D, H, rng):
    """Random parameters with non-zero biases, scaled so the gates are not saturated."""
    G = {"rnn": 1, "lstm": 4}.get(cell, 3)
    p = {
        "W_x": 0.5 * rng.standard_normal((D, G * H)),
        "W_h": 0.5 * rng.standard_normal((H, G * H)),
        "b": 0.5 * rng.standard_normal(G * H),
    }
    if cell == "rnn":
        p = {"W_xh": p["W_x"], "W_hh": p["W_h"], "b_h": p["b"]}
    if cell == "gru_after":
        p["b_hn"] = 0.5 * rng.standard_normal(H)
    return p


def _gru_kw(cell):
    return {"reset_after": cell == "gru_after"} if cell.startswith("gru") else {}


# -- one step ------------------------------------------------------------------

def step_inputs(cell, N, D, H, rng):
    inp = {"x_t": rng.standard_normal((N, D)), "h_prev": 0.8 * rng.standard_normal((N, H))}
    if cell == "lstm":
        inp["c_prev"] = rng.standard_normal((N, H))
    inp.update(_params(cell, D, H, rng))
    return inp


STEP_STATE, SEQ_STATE = ("h_prev", "c_prev"), ("h0", "c0")  # keys of the states in the input dicts


def _fns(cell, seq):
    """The forward and backward functions of a cell ("gru_after" -> gru_forward, ...)."""
    base = cell.split("_")[0]
    pre = f"{base}_" if seq else f"{base}_step_"
    return getattr(rnnlib, pre + "forward"), getattr(rnnlib, pre + "backward")


def _call_forward(cell, inp, seq):
    """``forward(x, state, **params)``: the LSTM's state is the pair (h, c), the others' one array."""
    names = SEQ_STATE if seq else STEP_STATE
    x = inp["x" if seq else "x_t"]
    state = (inp[names[0]], inp[names[1]]) if cell == "lstm" else inp[names[0]]
    params = {k: v for k, v in inp.items() if k not in ("x", "x_t") + names}
    return _fns(cell, seq)[0](x, state, **params, **_gru_kw(cell))


def _flat_state(cell, state):
    return list(state) if cell == "lstm" else [state]


def _packed(cell, douts):
    return tuple(douts) if cell == "lstm" else douts[0]


def step_forward(cell, inp):
    """Outputs of one step as a list: [h_next] or, for the LSTM, [h_next, c_next]."""
    state_next, _ = _call_forward(cell, inp, seq=False)
    return _flat_state(cell, state_next)


def step_backward(cell, inp, douts):
    """Analytic gradients of one step, keyed like ``inp``."""
    _, cache = _call_forward(cell, inp, seq=False)
    dx_t, dstate_prev, grads = _fns(cell, seq=False)[1](_packed(cell, douts), cache)
    return {"x_t": dx_t, **dict(zip(STEP_STATE, _flat_state(cell, dstate_prev))), **grads}


# -- whole sequence ----------------------------------------------------------------

def seq_inputs(cell, N, T, D, H, rng):
    inp = {"x": rng.standard_normal((N, T, D)), "h0": 0.8 * rng.standard_normal((N, H))}
    if cell == "lstm":
        inp["c0"] = rng.standard_normal((N, H))
    inp.update(_params(cell, D, H, rng))
    return inp


def seq_forward(cell, inp):
    """[hs, h_T] or, for the LSTM, [hs, h_T, c_T]: everything a loss can depend on."""
    hs, state_T, _ = _call_forward(cell, inp, seq=True)
    return [hs, *_flat_state(cell, state_T)]


def seq_backward(cell, inp, douts):
    """Analytic gradients of a sequence for ``douts = [dhs, dh_T (, dc_T)]``, keyed like ``inp``."""
    _, _, cache = _call_forward(cell, inp, seq=True)
    dx, dstate0, grads = _fns(cell, seq=True)[1](douts[0], cache, dstate_T=_packed(cell, douts[1:]))
    return {"x": dx, **dict(zip(SEQ_STATE, _flat_state(cell, dstate0))), **grads}


def numeric(forward, inp, name, douts):
    """Finite-difference gradient of L = sum_k <out_k, dout_k> w.r.t. ``inp[name]``.

    The closure uses the perturbed array it is given.
    """
    def f(v):
        return np.concatenate([o.ravel() for o in forward({**inp, name: v})])

    df = np.concatenate([d.ravel() for d in douts])
    return numerical_gradient(f, inp[name], df, h=FD_STEP)


def _cases(inputs_fn, n_extra):
    """(cell, sizes, wrt) for every input of every cell."""
    out = []
    for cell in CELLS:
        for sizes, sid in zip(SIZES, SIZE_IDS):
            rng = np.random.default_rng(0)
            args = sizes if n_extra else (sizes[0], sizes[2], sizes[3])
            for name in inputs_fn(cell, *args, rng):
                out.append(pytest.param(cell, sizes, name, id=f"{cell}-{sid}-{name}"))
    return out


@pytest.mark.parametrize("cell, sizes, wrt", _cases(step_inputs, n_extra=False))
def test_step_backward_matches_finite_differences(cell, sizes, wrt):
    N, _, D, H = sizes
    rng = np.random.default_rng(_seed("step", cell, sizes))
    inp = step_inputs(cell, N, D, H, rng)
    douts = [rng.standard_normal(o.shape) for o in step_forward(cell, inp)]
    analytic = step_backward(cell, inp, douts)
    assert set(analytic) == set(inp)  # a gradient for every input, b_hn iff reset-after
    assert analytic[wrt].shape == inp[wrt].shape
    err = rel_error(analytic[wrt], numeric(lambda i: step_forward(cell, i), inp, wrt, douts))
    assert err < GRAD_RTOL, f"{cell} step d{wrt}: rel error {err:.2e}"


@pytest.mark.parametrize("cell, sizes, wrt", _cases(seq_inputs, n_extra=True))
def test_sequence_backward_matches_finite_differences(cell, sizes, wrt):
    N, T, D, H = sizes
    rng = np.random.default_rng(_seed("seq", cell, sizes))
    inp = seq_inputs(cell, N, T, D, H, rng)
    douts = [rng.standard_normal(o.shape) for o in seq_forward(cell, inp)]  # dhs, dh_T (, dc_T)
    analytic = seq_backward(cell, inp, douts)
    assert set(analytic) == set(inp)
    assert analytic[wrt].shape == inp[wrt].shape
    err = rel_error(analytic[wrt], numeric(lambda i: seq_forward(cell, i), inp, wrt, douts))
    assert err < GRAD_RTOL, f"{cell} sequence d{wrt}: rel error {err:.2e}"


# -- steps looped over time == sequence functions ----------------------------------

def _loop_steps(cell, inp):
    """Run the step functions over time; return hs (N, T, H), the final state, caches."""
    x, T = inp["x"], inp["x"].shape[1]
    w = {k: v for k, v in inp.items() if k not in ("x",) + SEQ_STATE}
    step = _fns(cell, seq=False)[0]
    state = (inp["h0"], inp["c0"]) if cell == "lstm" else inp["h0"]
    hs, caches = [], []
    for t in range(T):
        state, cache = step(x[:, t], state, **w, **_gru_kw(cell))  # the same call for every cell
        hs.append(state[0] if cell == "lstm" else state)
        caches.append(cache)
    return np.stack(hs, axis=1), state, caches


def _loop_steps_backward(cell, inp, caches, dhs, dstate_T):
    """BPTT written with the step backward functions only."""
    T = inp["x"].shape[1]
    grads = {k: np.zeros_like(v) for k, v in inp.items() if k not in ("x",) + SEQ_STATE}
    dx = np.zeros_like(inp["x"])
    step_backward_fn = _fns(cell, seq=False)[1]
    dstate = dstate_T
    for t in range(T - 1, -1, -1):
        if cell == "lstm":  # dhs[:, t] joins the gradient reaching h_t; C_t gets none from above
            dstate = (dstate[0] + dhs[:, t], dstate[1])
        else:
            dstate = dstate + dhs[:, t]
        dx[:, t], dstate, dparams = step_backward_fn(dstate, caches[t])
        assert set(dparams) == set(grads)  # keyed like the parameters, at every step
        for k, g in dparams.items():
            grads[k] += g  # parameter gradients accumulate over time
    return {"x": dx, **dict(zip(SEQ_STATE, _flat_state(cell, dstate))), **grads}


@pytest.mark.parametrize("sizes", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("cell", CELLS)
def test_step_loop_equals_sequence_function(cell, sizes):
    N, T, D, H = sizes
    rng = np.random.default_rng(_seed("loop", cell, sizes))
    inp = seq_inputs(cell, N, T, D, H, rng)
    outs = seq_forward(cell, inp)
    hs_loop, state_loop, caches = _loop_steps(cell, inp)
    # same equations, only the summation order of the hoisted input projection differs
    for a, b in zip([hs_loop, *_flat_state(cell, state_loop)], outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    douts = [rng.standard_normal(o.shape) for o in outs]
    seq = seq_backward(cell, inp, douts)
    loop = _loop_steps_backward(cell, inp, caches, douts[0], _packed(cell, douts[1:]))
    assert set(loop) == set(seq)
    for k in seq:
        np.testing.assert_allclose(loop[k], seq[k], rtol=1e-11, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
def test_missing_final_state_gradient_means_zero(cell):
    rng = np.random.default_rng(_seed("none", cell))
    inp = seq_inputs(cell, 2, 3, 2, 3, rng)
    dhs = rng.standard_normal((2, 3, 3))
    zeros = [np.zeros((2, 3))] * (2 if cell == "lstm" else 1)
    with_zeros = seq_backward(cell, inp, [dhs, *zeros])
    with_none = seq_backward(cell, inp, [dhs] + [None] * len(zeros))
    for k in with_zeros:
        np.testing.assert_array_equal(with_none[k], with_zeros[k])


@pytest.mark.parametrize("N, T", [(1, 4), (3, 1), (1, 1), (2, 3)])
@pytest.mark.parametrize("cell", CELLS)
def test_returned_hs_is_not_a_view_of_the_cache(cell, N, T):
    """Editing the returned hs in place must not change the backward pass.

    (Regression: with N == 1 or T == 1 the returned array used to be a view of
    the cache's hs.)
    """
    rng = np.random.default_rng(_seed("view", cell, N, T))
    inp = seq_inputs(cell, N, T, 2, 3, rng)
    douts = [rng.standard_normal(o.shape) for o in seq_forward(cell, inp)]
    before = seq_backward(cell, inp, douts)

    hs, state_T, cache = _call_forward(cell, inp, seq=True)
    hs[...] = 0.123  # the caller scribbles on the output
    for s in _flat_state(cell, state_T):
        s[...] = 0.456  # and on the final state
    after = _fns(cell, seq=True)[1](douts[0], cache, _packed(cell, douts[1:]))
    after_dx = after[0]
    np.testing.assert_array_equal(after_dx, before["x"])
    np.testing.assert_array_equal(after[-1]["W_h" if cell != "rnn" else "W_hh"],
                                  before["W_h" if cell != "rnn" else "W_hh"])


# -- the check can fail ----------------------------------------------------------------

def test_gradient_check_catches_a_missing_tanh_derivative():
    """An RNN backward that forgets tanh' (da = dh instead of dh * (1 - h^2))."""
    rng = np.random.default_rng(11)
    inp = step_inputs("rnn", 3, 4, 5, rng)
    dh = rng.standard_normal((3, 5))
    wrong_dW_xh = inp["x_t"].T @ dh  # should be x_t.T @ (dh * (1 - h^2))
    num = numeric(lambda i: step_forward("rnn", i), inp, "W_xh", [dh])
    assert rel_error(wrong_dW_xh, num) > 1e-3
    assert rel_error(step_backward("rnn", inp, [dh])["W_xh"], num) < GRAD_RTOL  # the real one passes


def test_gradient_check_catches_a_dropped_lstm_term():
    """dC_{t-1} without the path through h_t = o * tanh(C_t): only dc_next * f survives."""
    rng = np.random.default_rng(12)
    inp = step_inputs("lstm", 3, 4, 5, rng)
    dh, dc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    _, cache = _call_forward("lstm", inp, seq=False)
    wrong_dc_prev = rnnlib.lstm_step_backward((None, dc), cache)[1][1]  # dh's term dropped
    num = numeric(lambda i: step_forward("lstm", i), inp, "c_prev", [dh, dc])
    err_wrong = rel_error(wrong_dc_prev, num)
    assert err_wrong > 1e-3, err_wrong
    assert rel_error(step_backward("lstm", inp, [dh, dc])["c_prev"], num) < GRAD_RTOL


def test_gradient_check_catches_a_gru_reset_form_mixup():
    """Using the reset-before backward for a reset-after forward is caught."""
    rng = np.random.default_rng(13)
    inp = step_inputs("gru_after", 3, 4, 5, rng)
    dh = rng.standard_normal((3, 5))
    before = {k: v for k, v in inp.items() if k != "b_hn"}
    wrong_dh_prev = step_backward("gru_before", before, [dh])["h_prev"]
    num = numeric(lambda i: step_forward("gru_after", i), inp, "h_prev", [dh])
    assert rel_error(wrong_dh_prev, num) > 1e-3


# -- gate stacking helpers ----------------------------------------------------------------

@pytest.mark.parametrize("mod, G", [(lstm, 4), (gru, 3)])
def test_split_and_stack_gates_are_inverse(mod, G):
    rng = np.random.default_rng(5)
    H = 3
    for shape in [(G * H,), (2, G * H), (4, 2, G * H)]:
        a = rng.standard_normal(shape)
        blocks = mod.split_gates(a)
        assert tuple(blocks) == mod.GATES  # order f, i, o, c_tilde / z, r, h_tilde
        for k, name in enumerate(mod.GATES):
            np.testing.assert_array_equal(blocks[name], a[..., k * H:(k + 1) * H])
            assert np.shares_memory(blocks[name], a)  # views, as documented
        np.testing.assert_array_equal(mod.stack_gates(**blocks), a)


def test_split_gates_names_match_the_cell_computation():
    """The block split_gates calls "f" is the one the LSTM uses as forget gate."""
    D, H = 2, 3
    W_x, W_h = np.zeros((D, 4 * H)), np.zeros((H, 4 * H))
    b = lstm.stack_gates(f=np.full(H, 30.0), i=np.full(H, -30.0), o=np.full(H, 0.0), c_tilde=np.full(H, 0.5))
    x, h, c = np.zeros((1, D)), np.zeros((1, H)), np.ones((1, H))
    _, cache = rnnlib.lstm_step_forward(x, (h, c), W_x, W_h, b)
    np.testing.assert_allclose(cache.f, 1.0, atol=1e-12)
    np.testing.assert_allclose(cache.i, 0.0, atol=1e-12)
    np.testing.assert_allclose(cache.o, 0.5)
    np.testing.assert_allclose(cache.c_tilde, np.tanh(0.5))
    bg = gru.stack_gates(z=np.full(H, 30.0), r=np.full(H, -1.0), h_tilde=np.full(H, 2.0))
    _, gcache = rnnlib.gru_step_forward(x, h, np.zeros((D, 3 * H)), np.zeros((H, 3 * H)), bg, np.zeros(H))
    np.testing.assert_allclose(gcache.z, 1.0, atol=1e-12)
    np.testing.assert_allclose(gcache.r, 1 / (1 + np.e))
    np.testing.assert_allclose(gcache.h_tilde, np.tanh(2.0))
