"""rnnlib.torch_io without torch: layouts, gate orders, round trips, error messages.

The conversion is checked against a small NumPy transcription of the
equations in the torch.nn documentation, written in *torch's* layout
(``x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh``, gates i, f, g, o /
r, z, n). So this file proves the layout without importing torch;
tests/test_torch_parity.py checks against torch itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib import GRU, LSTM, RNN, from_torch_state_dict, to_torch_state_dict, torch_io
from rnnlib.activations import sigmoid

KEYS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
MAKE = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
G = {"rnn": 1, "lstm": 4, "gru": 3}


def random_state_dict(kind, D, H, rng, dtype=np.float64):
    """What ``{k: v.detach().numpy()}`` of a torch.nn.RNN/LSTM/GRU looks like."""
    g = G[kind]
    sd = {"weight_ih_l0": rng.uniform(-1, 1, (g * H, D)), "weight_hh_l0": rng.uniform(-1, 1, (g * H, H)),
          "bias_ih_l0": rng.uniform(-1, 1, g * H), "bias_hh_l0": rng.uniform(-1, 1, g * H)}
    return {k: v.astype(dtype) for k, v in sd.items()}


def torch_equations(kind, sd, x, h0, c0=None):
    """torch.nn's documented recurrences, in torch's layout. Returns hs (N, T, H), h_T, c_T."""
    W_ih, W_hh, b_ih, b_hh = (sd[k] for k in KEYS)
    H = W_hh.shape[1]
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        gi = x[:, t] @ W_ih.T + b_ih  # (N, G*H)
        gh = h @ W_hh.T + b_hh
        if kind == "rnn":
            h = np.tanh(gi + gh)
        elif kind == "lstm":
            a = gi + gh
            i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))  # torch: i, f, g, o
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:
            r = sigmoid(gi[:, :H] + gh[:, :H])  # torch: r, z, n
            z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])  # b_hn inside r * (...)
            h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, axis=1), h, c


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 6, 4, 5)])
def test_from_torch_state_dict_computes_torchs_equations(kind, N, T, D, H):
    rng = np.random.default_rng(G[kind] * 100 + H)
    sd = random_state_dict(kind, D, H, rng)
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    layer = from_torch_state_dict(sd, kind)
    assert type(layer) is MAKE[kind] and (layer.input_size, layer.hidden_size) == (D, H)
    hs_ref, h_ref, c_ref = torch_equations(kind, sd, x, h0, c0 if kind == "lstm" else None)
    hs, state = layer.forward(x, (h0, c0) if kind == "lstm" else h0)
    np.testing.assert_allclose(hs, hs_ref, rtol=1e-12, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(state[1], c_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_to_torch_state_dict_computes_the_same_function(kind):
    rng = np.random.default_rng(1)
    layer = MAKE[kind](3, 4, seed=2)  # uniform init: non-zero biases
    sd = to_torch_state_dict(layer)
    assert list(sd) == KEYS
    assert {k: v.shape for k, v in sd.items()} == {
        "weight_ih_l0": (G[kind] * 4, 3), "weight_hh_l0": (G[kind] * 4, 4),
        "bias_ih_l0": (G[kind] * 4,), "bias_hh_l0": (G[kind] * 4,)}
    x, h0, c0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    hs_ref, _, _ = torch_equations(kind, sd, x, h0, c0 if kind == "lstm" else None)
    hs, _ = layer.forward(x, (h0, c0) if kind == "lstm" else h0)
    np.testing.assert_allclose(hs, hs_ref, rtol=1e-12, atol=1e-14)


def _labelled(kind, D=2, H=3):
    """A layer whose gate blocks are filled with their block number (1, 2, ...)."""
    layer = MAKE[kind](D, H)
    g = G[kind]
    label = np.repeat(np.arange(1.0, g + 1), H)  # (g*H,) = 1..1 2..2 ...
    names = ("W_xh", "W_hh", "b_h") if kind == "rnn" else ("W_x", "W_h", "b")
    params = {names[0]: np.tile(label, (D, 1)), names[1]: np.tile(label, (H, 1)) * 10, names[2]: label * 100}
    if kind == "gru":
        params["b_hn"] = np.full(H, 7.0)
    return layer.set_params(params)


def _block_labels(a, g):
    """The label of each block along the first axis of a torch tensor."""
    return [float(b.flat[0]) for b in np.split(a, g, axis=0)]


def test_lstm_gate_order_f_i_o_c_becomes_i_f_g_o():
    sd = to_torch_state_dict(_labelled("lstm"))  # rnnlib blocks f=1, i=2, o=3, c_tilde=4
    assert _block_labels(sd["weight_ih_l0"], 4) == [2.0, 1.0, 4.0, 3.0]  # torch i, f, g, o
    assert _block_labels(sd["weight_hh_l0"], 4) == [20.0, 10.0, 40.0, 30.0]
    assert _block_labels(sd["bias_ih_l0"], 4) == [200.0, 100.0, 400.0, 300.0]
    assert not np.any(sd["bias_hh_l0"])  # the whole bias goes to bias_ih


def test_gru_gate_order_z_r_h_becomes_r_z_n_and_b_hn_goes_to_bias_hh():
    sd = to_torch_state_dict(_labelled("gru"))  # rnnlib blocks z=1, r=2, h_tilde=3; b_hn = 7
    assert _block_labels(sd["weight_ih_l0"], 3) == [2.0, 1.0, 3.0]  # torch r, z, n
    assert _block_labels(sd["weight_hh_l0"], 3) == [20.0, 10.0, 30.0]
    assert _block_labels(sd["bias_ih_l0"], 3) == [200.0, 100.0, 300.0]
    assert _block_labels(sd["bias_hh_l0"], 3) == [0.0, 0.0, 7.0]  # b_hn is torch's n block of bias_hh


def test_weights_are_transposed():
    layer = RNN(2, 3, seed=0)
    sd = to_torch_state_dict(layer)
    np.testing.assert_array_equal(sd["weight_ih_l0"], layer.params["W_xh"].T)  # (H, D) = W_xh.T
    np.testing.assert_array_equal(sd["weight_hh_l0"], layer.params["W_hh"].T)
    lstm = LSTM(2, 3, seed=0)
    W = to_torch_state_dict(lstm)["weight_ih_l0"]
    np.testing.assert_array_equal(W[0:3], rnnlib.lstm.split_gates(lstm.params["W_x"])["i"].T)
    np.testing.assert_array_equal(W[6:9], rnnlib.lstm.split_gates(lstm.params["W_x"])["c_tilde"].T)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_round_trip_rnnlib_torch_rnnlib_is_exact(kind):
    layer = MAKE[kind](3, 4, seed=5)
    back = from_torch_state_dict(to_torch_state_dict(layer), kind)
    assert set(back.params) == set(layer.params)
    for k in layer.params:
        np.testing.assert_array_equal(back.params[k], layer.params[k])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_round_trip_torch_rnnlib_torch_keeps_weights_and_bias_sums(kind):
    rng = np.random.default_rng(6)
    sd = random_state_dict(kind, 3, 4, rng)
    back = to_torch_state_dict(from_torch_state_dict(sd, kind))
    for k in ("weight_ih_l0", "weight_hh_l0"):
        np.testing.assert_array_equal(back[k], sd[k])
    # only the sum of the two biases is a parameter ...
    nb = 8 if kind == "gru" else None  # ... except torch's GRU n block (b_in and b_hn apart)
    np.testing.assert_allclose((back["bias_ih_l0"] + back["bias_hh_l0"])[:nb],
                               (sd["bias_ih_l0"] + sd["bias_hh_l0"])[:nb], rtol=1e-15)
    if kind == "gru":
        np.testing.assert_array_equal(back["bias_ih_l0"][8:], sd["bias_ih_l0"][8:])
        np.testing.assert_array_equal(back["bias_hh_l0"][8:], sd["bias_hh_l0"][8:])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradients_in_torch_layout(kind):
    layer = MAKE[kind](3, 4, seed=7)
    rng = np.random.default_rng(7)
    layer.forward(rng.standard_normal((2, 3, 3)))
    layer.backward(rng.standard_normal((2, 3, 4)))
    gd = to_torch_state_dict(layer, grads=True)
    # the same reordering as the parameters: convert a layer whose params *are* the grads
    as_params = MAKE[kind](3, 4, **({"reset_after": True} if kind == "gru" else {})).set_params(layer.grads)
    sd = to_torch_state_dict(as_params)
    np.testing.assert_array_equal(gd["weight_ih_l0"], sd["weight_ih_l0"])
    np.testing.assert_array_equal(gd["weight_hh_l0"], sd["weight_hh_l0"])
    # d(bias_ih + bias_hh)/d(each) = 1: both torch biases get db ...
    np.testing.assert_array_equal(gd["bias_ih_l0"], sd["bias_ih_l0"])
    if kind == "gru":  # ... except the n block of bias_hh, which is b_hn
        np.testing.assert_array_equal(gd["bias_hh_l0"][:8], sd["bias_ih_l0"][:8])
        np.testing.assert_array_equal(gd["bias_hh_l0"][8:], layer.grads["b_hn"])
    else:
        np.testing.assert_array_equal(gd["bias_hh_l0"], sd["bias_ih_l0"])


def test_to_torch_state_dict_returns_copies():
    layer = LSTM(2, 3, seed=0)
    saved = {k: v.copy() for k, v in layer.params.items()}
    for v in to_torch_state_dict(layer).values():
        v[...] = 0.0
    for k in saved:
        np.testing.assert_array_equal(layer.params[k], saved[k])
    sd = to_torch_state_dict(layer)
    assert all(v.flags.c_contiguous for v in sd.values())  # torch.from_numpy wants this


def test_from_torch_state_dict_dtype_and_copies():
    sd = random_state_dict("gru", 2, 3, np.random.default_rng(0), dtype=np.float32)
    layer = from_torch_state_dict(sd, "gru", dtype=np.float32)
    assert layer.dtype == np.float32 and all(v.dtype == np.float32 for v in layer.params.values())
    assert layer.reset_after is True
    l64 = from_torch_state_dict(sd, "gru")
    assert all(v.dtype == np.float64 for v in l64.params.values())
    saved = {k: v.copy() for k, v in l64.params.items()}
    for v in sd.values():
        v[...] = 0.0  # editing the state dict afterwards does not touch the layer
    for k in saved:
        np.testing.assert_array_equal(l64.params[k], saved[k])


# -- error messages ---------------------------------------------------------------------

def _sd(kind="lstm", D=2, H=3):
    return random_state_dict(kind, D, H, np.random.default_rng(0))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: from_torch_state_dict(_sd(), "transformer"), ValueError,
     r"kind must be one of \('rnn', 'lstm', 'gru'\); got 'transformer'"),
    (lambda: from_torch_state_dict([1, 2], "lstm"), TypeError, r"state_dict must be a dict; got list"),
    (lambda: from_torch_state_dict({k: v for k, v in _sd().items() if k != "bias_hh_l0"}, "lstm"),
     ValueError, r"state_dict is missing \['bias_hh_l0'\]"),
    # a stacked / bidirectional module loads (test_stacked_torch.py); half a layer does not
    (lambda: from_torch_state_dict({**_sd(), "weight_ih_l1": np.zeros((12, 3))}, "lstm"),
     ValueError, r"state_dict is missing \['weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1'\]: "
                 r"its keys describe an inconsistent stack \(layers l0..l1 need 8 keys"),
    (lambda: from_torch_state_dict({**_sd(), "weight_ih_l0_reverse": np.zeros((12, 2))}, "lstm"),
     ValueError, r"state_dict is missing \['weight_hh_l0_reverse', .*\]: .*both directions need 8"),
    (lambda: from_torch_state_dict(_sd("gru", H=4), "lstm"), ValueError,  # 12 rows: 3*4 read as 4*3
     r"state_dict\['weight_hh_l0'\] must have shape \(G\*H=12, H=3\); got shape \(12, 4\)"),
    (lambda: from_torch_state_dict({**_sd(), "weight_ih_l0": np.zeros((10, 2))}, "lstm"), ValueError,
     r"state_dict\['weight_ih_l0'\] must have 4\*H rows for kind='lstm'; got shape \(10, 2\)"),
    (lambda: from_torch_state_dict({**_sd(), "bias_ih_l0": np.zeros(11)}, "lstm"), ValueError,
     r"state_dict\['bias_ih_l0'\] must have shape \(G\*H=12\); got shape \(11,\)"),
    (lambda: from_torch_state_dict({**_sd(), "bias_hh_l0": np.zeros((12, 1))}, "lstm"), ValueError,
     r"state_dict\['bias_hh_l0'\] must have 1 dimensions"),
    (lambda: from_torch_state_dict({**_sd(), "weight_hh_l0": np.zeros((12, 3), int)}, "lstm"), TypeError,
     r"state_dict\['weight_hh_l0'\] must be a float32 or float64 array; got dtype int64"),
    (lambda: from_torch_state_dict({**_sd(), "weight_ih_l0": np.full((12, 2), np.nan)}, "lstm"), ValueError,
     r"state_dict\['weight_ih_l0'\] contains 24 NaN or inf"),
    (lambda: from_torch_state_dict(_sd(), "lstm", dtype=np.float16), TypeError,
     r"dtype must be np.float32 or np.float64; got float16"),
    (lambda: to_torch_state_dict(GRU(2, 3, reset_after=False)), ValueError,
     r"reset_after=False: torch.nn.GRU implements only the reset-after form"),
    (lambda: to_torch_state_dict(rnnlib.Linear(2, 3)), TypeError,
     r"layer must be an rnnlib RNN, LSTM or GRU; got Linear"),
], ids=["kind", "not-a-dict", "missing-key", "second-layer", "bidirectional", "gru-sd-as-lstm", "rows-not-4H",
        "bias-shape", "bias-rank", "int-weights", "nan-weights", "dtype", "gru-reset-before", "not-a-layer"])
def test_error_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_module_tables_match_the_docs():
    assert torch_io.KEYS == tuple(KEYS)
    assert rnnlib.lstm.GATES == ("f", "i", "o", "c_tilde") and rnnlib.gru.GATES == ("z", "r", "h_tilde")
