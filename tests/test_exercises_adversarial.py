"""An adversarial set of reader answers: correct variants, catalogued mistakes, hostile code.

Each answer has an expected outcome: ``"accept"`` (a correct variant, written differently
from the reference), ``"reject"`` (wrong: the check must not pass it; for a catalogued
mistake, the mistake's id) or ``"survive"`` (hostile: the check must return a reader
message, within the time budget, and leave NumPy's state as it found it). No answer may
make a check raise or print "please report". ``python -m pytest tests/test_exercises_adversarial.py``
runs them; :func:`test_counts` states how many there are of each kind.
"""

import math
import sys
import time

import numpy as np
import pytest

from rnnlib.activations import softmax
import rnnlib
from rnnlib.exercises import ch1, ch2, ch3, ch4, ch5
from rnnlib.exercises._guard import time_limits

ANSWERS = []  # (id, check, answer, expected)


def answer(check, expected, name=None):
    def register(fn):
        ANSWERS.append((name or fn.__name__, check, fn, expected))
        return fn
    return register


# --- ch1.rnn_step ---------------------------------------------------------------------------
STEP = ch1.check_rnn_step


@answer(STEP, "accept")
def step_einsum(x, h, Wx, Wh, b):
    return np.tanh(np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h, Wh) + b)


@answer(STEP, "accept")
def step_loops(x, h, Wx, Wh, b):
    out = np.zeros((x.shape[0], Wx.shape[1]))
    for n in range(x.shape[0]):
        for j in range(Wx.shape[1]):
            a = b[j] + sum(x[n, d] * Wx[d, j] for d in range(x.shape[1])) \
                + sum(h[n, k] * Wh[k, j] for k in range(h.shape[1]))
            out[n, j] = math.tanh(a)
    return out


@answer(STEP, "accept")
def step_exp_formula(x, h, Wx, Wh, b):
    a = x @ Wx + h @ Wh + b
    return 2 / (1 + np.exp(-2 * a)) - 1


@answer(STEP, "accept")
def step_float32(x, h, Wx, Wh, b):
    return np.tanh(x.astype(np.float32) @ Wx.astype(np.float32) + h.astype(np.float32) @ Wh.astype(np.float32)
                   + b.astype(np.float32))


@answer(STEP, "accept")
def step_stacked(x, h, Wx, Wh, b):
    return np.tanh(np.concatenate([x, h], axis=1) @ np.concatenate([Wx, Wh], axis=0) + b)


for _m in ch1.STEP_MISTAKES:
    ANSWERS.append((f"step_{_m.id}", STEP, _m.func, _m.id))


@answer(STEP, "reject")
def step_relu(x, h, Wx, Wh, b):
    return np.maximum(0, x @ Wx + h @ Wh + b)


@answer(STEP, "reject")
def step_list(x, h, Wx, Wh, b):
    return np.tanh(x @ Wx + h @ Wh + b).tolist()


@answer(STEP, "reject")
def step_right_for_one_row(x, h, Wx, Wh, b):
    if len(x) > 1:
        raise ValueError("not written yet")
    return np.tanh(x @ Wx + h @ Wh + b)


@answer(STEP, "survive")
def step_infinite_loop(x, h, Wx, Wh, b):
    while True:
        pass


@answer(STEP, "survive")
def step_swallows_everything(x, h, Wx, Wh, b):
    while True:
        try:
            time.sleep(0.01)
        except BaseException:  # noqa: BLE001
            pass


@answer(STEP, "survive")
def step_mutates_input(x, h, Wx, Wh, b):
    h *= 0.5
    return np.tanh(x @ Wx + h @ Wh + b)


@answer(STEP, "survive")
def step_seterr_raise(x, h, Wx, Wh, b):
    np.seterr(all="raise")
    return np.tanh(x @ Wx + h @ Wh + b) * np.float64(1e308) * 10


@answer(STEP, "survive")
def step_recursion(x, h, Wx, Wh, b):
    return step_recursion(x, h, Wx, Wh, b)


@answer(STEP, "survive")
def step_sys_exit(x, h, Wx, Wh, b):
    sys.exit(1)


@answer(STEP, "survive")
def step_returns_generator(x, h, Wx, Wh, b):
    return (row for row in np.tanh(x @ Wx + h @ Wh + b))


@answer(STEP, "survive")
def step_broken_repr(x, h, Wx, Wh, b):
    class Evil:
        def __repr__(self):
            raise RuntimeError("no repr")

        def __eq__(self, other):
            raise RuntimeError("no eq")
    return Evil()


@answer(STEP, "survive")
def step_object_array(x, h, Wx, Wh, b):
    return np.array([[None] * Wx.shape[1]] * len(x))


@answer(STEP, "survive")
def step_nan(x, h, Wx, Wh, b):
    return np.full((len(x), Wx.shape[1]), np.nan)


@answer(STEP, "survive")
def step_deletes_a_module(x, h, Wx, Wh, b):
    sys.modules.pop("rnnlib.exercises.ch3", None)
    raise KeyError("deleted")


# --- ch1.count_params --------------------------------------------------------------------------
COUNT = ch1.check_count_params


@answer(COUNT, "accept")
def count_numpy_int(D, H, V):
    return np.int64(D * H + H * H + H + H * V + V)


@answer(COUNT, "accept")
def count_float(D, H, V):
    return float(H * (D + H + 1) + V * (H + 1))


for _m in ch1.COUNT_MISTAKES:
    ANSWERS.append((f"count_{_m.id}", COUNT, _m.func, _m.id))


@answer(COUNT, "survive")
def count_huge(D, H, V):
    return 10 ** 400


@answer(COUNT, "survive")
def count_complex(D, H, V):
    return (D - 100.0 * H) ** 0.5


@answer(COUNT, "survive")
def count_string(D, H, V):
    return str(D * H + H * H + H + H * V + V)


@answer(COUNT, "survive")
def count_exponential(D, H, V):
    return 2 ** (2 ** 40)


# --- ch1.rnn_step_backward ----------------------------------------------------------------------
BACK = ch1.check_rnn_step_backward


@answer(BACK, "accept")
def back_list(dh, x, hp, hn, Wx, Wh):
    da = dh * (1 - hn ** 2)
    return [da @ Wx.T, da @ Wh.T, x.T @ da, hp.T @ da, np.sum(da, axis=0)]


@answer(BACK, "accept")
def back_from_a(dh, x, hp, hn, Wx, Wh):
    a = np.arctanh(np.clip(hn, -1 + 1e-15, 1 - 1e-15))
    da = dh / np.cosh(a) ** 2
    return da @ Wx.T, da @ Wh.T, x.T @ da, hp.T @ da, da.sum(0)


for _m in ch1.BACKWARD_MISTAKES:
    ANSWERS.append((f"back_{_m.id}", BACK, _m.func, _m.id))


@answer(BACK, "reject")
def back_mean_reshape(dh, x, hp, hn, Wx, Wh):  # right for N == 1, raises for N > 1
    da = dh * (1 - hn ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, hp.T @ da, da.reshape(hn.shape[1])


# --- ch4.clip_by_global_norm ----------------------------------------------------------------------
CLIP = ch4.check_clip_by_global_norm


@answer(CLIP, "accept")
def clip_loop(grads, max_norm):
    total = 0.0
    for g in grads.values():
        total += float(np.sum(g * g))
    norm = total ** 0.5
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


@answer(CLIP, "accept")
def clip_out(grads, max_norm):
    norm = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()])))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    for k in grads:
        np.multiply(grads[k], scale, out=grads[k])
    return norm


for _k, (_f, _d) in ch4.CLIP_MISTAKE_FUNCTIONS.items():
    ANSWERS.append((f"clip_{_k}", CLIP, _f, _k))


@answer(CLIP, "survive")
def clip_clears_the_dict(grads, max_norm):
    grads.clear()
    return 0.0


@answer(CLIP, "survive")
def clip_iterates_keys(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


# --- ch5.sample_with_temperature -------------------------------------------------------------------
SAMPLE = ch5.check_sample_with_temperature


@answer(SAMPLE, "accept")
def sample_gumbel(logits, T, rng):
    if T == 0:
        return np.argmax(logits, axis=1)
    return np.argmax(logits / T - np.log(-np.log(rng.random(logits.shape))), axis=1)


@answer(SAMPLE, "accept")
def sample_searchsorted(logits, T, rng):
    if T == 0:
        return logits.argmax(axis=1)
    p = softmax(logits / T, axis=1)
    u = rng.random(len(p))
    return np.array([min(np.searchsorted(np.cumsum(row), x, side="right"), len(row) - 1) for row, x in zip(p, u)])


for _m in ch5.SAMPLE_MISTAKES + [ch5.SAMPLE_MISTAKE_NO_GREEDY]:
    ANSWERS.append((f"sample_{_m.id}", SAMPLE, _m.func, _m.id))


@answer(SAMPLE, "reject")
def sample_fixed_seed(logits, T, rng):
    return ch5.sample_with_temperature_reference(logits, T, np.random.default_rng(0))


@answer(SAMPLE, "reject")
def sample_argmax_always(logits, T, rng):
    return np.argmax(logits, axis=1)


@answer(SAMPLE, "survive")
def sample_ragged(logits, T, rng):
    return [[1, 2], [3]] * (len(logits) // 2)


@answer(SAMPLE, "survive")
def sample_divides_in_place(logits, T, rng):
    logits /= max(T, 1e-9)
    return np.argmax(logits, axis=1)


@answer(SAMPLE, "survive")
def sample_floats(logits, T, rng):
    return np.argmax(logits, axis=1).astype(float)


# --- ch2.lstm_backward and ch3.gru_backward: the whole sequence, backwards ------------------------
LSTM_BACK, GRU_BACK = ch2.check_lstm_backward, ch3.check_gru_backward


def _zeros_for(dhs):
    return np.zeros((dhs.shape[0], dhs.shape[2]))


@answer(LSTM_BACK, "accept")
def lstm_back_preallocated(dhs, caches, dstate_T=None):
    dh, dc = dstate_T if dstate_T is not None else (_zeros_for(dhs), _zeros_for(dhs))
    dx = np.empty(dhs.shape[:2] + caches[0].x_t.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in rnnlib.lstm_step_backward((dh, dc), caches[-1])[2].items()}
    for t in reversed(range(len(caches))):
        dx[:, t], (dh, dc), g = rnnlib.lstm_step_backward((dh + dhs[:, t], dc), caches[t])
        for k in grads:
            grads[k] += g[k]
    return dx, (dh, dc), grads


@answer(LSTM_BACK, "accept")
def lstm_back_enumerate_reversed(dhs, caches, dstate_T=None):
    dh, dc = (None, None) if dstate_T is None else dstate_T
    dh = _zeros_for(dhs) if dh is None else dh
    dxs, grads = {}, {}
    for t, cache in reversed(list(enumerate(caches))):
        dxs[t], (dh, dc), g = rnnlib.lstm_step_backward((dhs[:, t] + dh, dc), cache)
        grads = {k: grads.get(k, 0) + v for k, v in g.items()}
    return np.stack([dxs[t] for t in sorted(dxs)], axis=1), (dh, dc), grads


for _m in ch2.LSTM_BACKWARD_MISTAKES:
    ANSWERS.append((f"lstm_back_{_m.id}", LSTM_BACK, _m.func, _m.id))


@answer(LSTM_BACK, "dc_next-never-updated")
def lstm_back_dc_fed_every_step(dhs, caches, dstate_T=None):  # dc_next never reassigned
    dh, dc_next = dstate_T if dstate_T is not None else (_zeros_for(dhs), _zeros_for(dhs))
    dx = np.zeros(dhs.shape[:2] + caches[0].x_t.shape[1:])
    grads = {}
    for t in reversed(range(len(caches))):
        dx[:, t], (dh, _), g = rnnlib.lstm_step_backward((dh + dhs[:, t], dc_next), caches[t])
        grads = {k: grads.get(k, 0) + v for k, v in g.items()}
    return dx, (dh, dc_next), grads


@answer(LSTM_BACK, "reject")
def lstm_back_grads_as_list(dhs, caches, dstate_T=None):
    dx, state0, grads = ch2.lstm_backward_reference(dhs, caches, dstate_T)
    return dx, state0, list(grads.values())


@answer(LSTM_BACK, "survive")
def lstm_back_recurses_forever(dhs, caches, dstate_T=None):
    return lstm_back_recurses_forever(dhs, caches[::-1], dstate_T)


@answer(LSTM_BACK, "survive")
def lstm_back_clears_the_caches(dhs, caches, dstate_T=None):
    out = ch2.lstm_backward_reference(dhs, caches, dstate_T)
    caches.clear()
    return out


@answer(LSTM_BACK, "survive")
def lstm_back_waits_for_ever(dhs, caches, dstate_T=None):
    while len(caches) > 0:
        time.sleep(0.01)


@answer(GRU_BACK, "accept")
def gru_back_zip(dhs, caches, dstate_T=None):
    dh = _zeros_for(dhs) if dstate_T is None else dstate_T
    dxs, grads = [], {}
    for dh_above, cache in zip(np.moveaxis(dhs, 1, 0)[::-1], caches[::-1]):
        dx_t, dh, g = rnnlib.gru_step_backward(dh + dh_above, cache)
        dxs.insert(0, dx_t)
        grads.update({k: grads.get(k, 0) + v for k, v in g.items()})
    return np.stack(dxs, axis=1), dh, grads


@answer(GRU_BACK, "accept")
def gru_back_float32(dhs, caches, dstate_T=None):
    dx, dh0, grads = ch3.gru_backward_reference(dhs, caches, dstate_T)
    return dx.astype(np.float32), dh0.astype(np.float32), {k: v.astype(np.float32) for k, v in grads.items()}


for _m in ch3.GRU_BACKWARD_MISTAKES:
    ANSWERS.append((f"gru_back_{_m.id}", GRU_BACK, _m.func, _m.id))


@answer(GRU_BACK, "reject")
def gru_back_only_reset_after(dhs, caches, dstate_T=None):  # right for reset after, raises for reset before
    if not caches[0].reset_after:
        raise KeyError("b_hn")
    return ch3.gru_backward_reference(dhs, caches, dstate_T)


@answer(GRU_BACK, "reject")
def gru_back_b_hn_always(dhs, caches, dstate_T=None):  # a zero b_hn for the reset-before form too
    dx, dh0, grads = ch3.gru_backward_reference(dhs, caches, dstate_T)
    grads.setdefault("b_hn", np.zeros(dhs.shape[2]))
    return dx, dh0, grads


@answer(GRU_BACK, "survive")
def gru_back_mutates_dhs(dhs, caches, dstate_T=None):
    dhs[:, :-1] += 0.0 * dhs[:, 1:] + 1.0
    return ch3.gru_backward_reference(dhs, caches, dstate_T)


@answer(GRU_BACK, "survive")
def gru_back_nan(dhs, caches, dstate_T=None):
    dx, dh0, grads = ch3.gru_backward_reference(dhs, caches, dstate_T)
    return dx * np.nan, dh0, grads

# --- ch1.readout_loss ---------------------------------------------------------------------------
READOUT = ch1.check_readout_loss


def _readout_parts(hs, W_hy, b_y, targets):
    z = hs @ W_hy + b_y
    return z, np.eye(W_hy.shape[1])[targets], hs.shape[0] * hs.shape[1]


@answer(READOUT, "accept")
def readout_log_softmax(hs, W_hy, b_y, targets):
    z, onehot, M = _readout_parts(hs, W_hy, b_y, targets)
    logp = z - z.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    dz = (np.exp(logp) - onehot) / M
    return (-(logp * onehot).sum() / M, dz @ W_hy.T, np.einsum("nth,ntv->hv", hs, dz),
            dz.reshape(-1, dz.shape[-1]).sum(0))


@answer(READOUT, "accept")
def readout_lists(hs, W_hy, b_y, targets):  # lists for the loss, a 0-d array for it
    z, onehot, M = _readout_parts(hs, W_hy, b_y, targets)
    p = softmax(z, axis=-1)
    dz = (p - onehot) / M
    losses = [-math.log(p[n, t, targets[n, t]]) for n in range(hs.shape[0]) for t in range(hs.shape[1])]
    dW_hy = np.tensordot(hs, dz, axes=([0, 1], [0, 1]))
    return np.array(sum(losses) / M), dz @ W_hy.T, dW_hy, dz.sum((0, 1))


@answer(READOUT, "no-max-subtraction")
def readout_naive_exp(hs, W_hy, b_y, targets):
    z, onehot, M = _readout_parts(hs, W_hy, b_y, targets)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    dz = (p - onehot) / M
    dW_hy = np.tensordot(hs, dz, axes=([0, 1], [0, 1]))
    return -np.log((p * onehot).sum(-1)).mean(), dz @ W_hy.T, dW_hy, dz.sum((0, 1))


@answer(READOUT, "divided-by-N")
def readout_per_sequence(hs, W_hy, b_y, targets):
    z, onehot, _ = _readout_parts(hs, W_hy, b_y, targets)
    p = softmax(z, axis=-1)
    dz = (p - onehot) / len(hs)
    dW_hy = np.tensordot(hs, dz, axes=([0, 1], [0, 1]))
    return -np.log((p * onehot).sum(-1)).sum() / len(hs), dz @ W_hy.T, dW_hy, dz.sum((0, 1))


@answer(READOUT, "survive")
def readout_seterr_raise_naive(hs, W_hy, b_y, targets):
    np.seterr(all="raise")
    return readout_naive_exp(hs, W_hy, b_y, targets)


@answer(READOUT, "survive")
def readout_returns_generator(hs, W_hy, b_y, targets):
    return (a for a in readout_log_softmax(hs, W_hy, b_y, targets))


@answer(READOUT, "survive")
def readout_overwrites_targets(hs, W_hy, b_y, targets):
    targets[...] = 0
    return readout_log_softmax(hs, W_hy, b_y, targets)


@answer(READOUT, "survive")
def readout_loops(hs, W_hy, b_y, targets):
    while True:
        pass


# --- ch2.choose_forget_bias ---------------------------------------------------------------------------
BIAS = ch2.check_choose_forget_bias
ANSWERS += [("bias_three", BIAS, lambda: 3.0, "accept"), ("bias_numpy", BIAS, lambda: np.float32(2.0), "accept"),
            ("bias_one", BIAS, lambda: 1, "too-small"),
            ("bias_zero", BIAS, lambda: 0, "default"), ("bias_negative", BIAS, lambda: -1.0, "negative"),
            ("bias_huge_int", BIAS, lambda: 10 ** 400, "survive"), ("bias_nan", BIAS, lambda: float("nan"), "survive"),
            ("bias_complex", BIAS, lambda: 1 + 1j, "survive"), ("bias_loop", BIAS, lambda: step_infinite_loop(*[0] * 5),
                                                                   "survive")]


@pytest.mark.parametrize("name,check,fn,expected", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answer(name, check, fn, expected):
    errstate = np.geterr()
    with time_limits(call=0.5, check=2.0):
        start = time.monotonic()
        res = check(fn)
        elapsed = time.monotonic() - start
    assert np.geterr() == errstate
    assert "please report" not in res.message.lower(), res.message
    assert elapsed < 5.0
    if expected == "accept":
        assert res.passed, res.message
    elif expected == "reject":
        assert not res.passed and res.status != "not-attempted", res.message
    elif expected == "survive":
        assert not res.passed and res.status in ("raised", "timeout", "wrong-type", "wrong-shape", "mismatch",
                                                 "mutated-input", "known-mistake"), res.message
    else:  # a catalogued mistake, named as itself
        assert not res.passed and res.mistake == expected, res.message


def counts():
    kinds = {"accept": 0, "survive": 0, "reject": 0}
    for _, _, _, expected in ANSWERS:
        kinds[expected if expected in kinds else "reject"] += 1
    return kinds


def test_counts():
    c = counts()
    assert c["accept"] >= 10 and c["reject"] >= 40 and c["survive"] >= 20, c
