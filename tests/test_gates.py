"""Tests for rnnlib.gates: per-gate cells, traces, gate-bias shifts, peephole and CIFG variants."""

import numpy as np
import pytest

import rnnlib
from rnnlib import gates
from rnnlib.activations import sigmoid

TOL = 1e-12


def _data(seed, N=3, D=4, H=5):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))


# -- per-gate parameters and cells ---------------------------------------------------------

def test_lstm_per_gate_params_names_shapes_and_copies():
    layer = rnnlib.LSTM(4, 5, seed=0)
    pg = gates.lstm_per_gate_params(layer)
    assert tuple(pg) == gates.LSTM_PARAM_NAMES
    for k, v in pg.items():
        assert v.shape == {"W_x": (4, 5), "W_h": (5, 5)}.get(k[:3], (5,)), k
    np.testing.assert_array_equal(pg["W_xf"], layer.params["W_x"][:, :5])  # f is the first block
    np.testing.assert_array_equal(pg["b_c"], layer.params["b"][15:])  # c_tilde the last
    pg["W_xf"][:] = 0.0  # copies: the layer is untouched
    assert np.any(layer.params["W_x"][:, :5] != 0.0)
    assert gates.lstm_per_gate_params(layer.params).keys() == pg.keys()  # a dict works too


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_per_gate_params(reset_after):
    layer = rnnlib.GRU(4, 5, seed=1, reset_after=reset_after)
    pg = gates.gru_per_gate_params(layer)
    assert tuple(pg) == gates.GRU_PARAM_NAMES + (("b_hn",) if reset_after else ())
    np.testing.assert_array_equal(pg["W_hr"], layer.params["W_h"][:, 5:10])  # r is the second block
    np.testing.assert_array_equal(pg["b_h"], layer.params["b"][10:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_step_per_gate_equals_fused_step(seed):
    rng, x_t, h, c = _data(seed)
    layer = rnnlib.LSTM(4, 5, rng=rng, forget_bias=float(seed))
    (h1, c1), g = gates.lstm_step_per_gate(x_t, (h, c), **gates.lstm_per_gate_params(layer))
    (h2, c2), cache = rnnlib.lstm_step_forward(x_t, (h, c), **layer.params)
    assert np.max(np.abs(h1 - h2)) < TOL and np.max(np.abs(c1 - c2)) < TOL
    for name in ("f", "i", "o", "c_tilde"):
        assert np.max(np.abs(g[name] - getattr(cache, name))) < TOL


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_gru_step_per_gate_equals_fused_step(reset_after, seed):
    rng, x_t, h, _ = _data(seed)
    layer = rnnlib.GRU(4, 5, rng=rng, reset_after=reset_after, update_bias=float(seed))
    h1, g = gates.gru_step_per_gate(x_t, h, **gates.gru_per_gate_params(layer))  # form inferred from b_hn
    h2, cache = rnnlib.gru_step_forward(x_t, h, **layer.params, reset_after=reset_after)
    assert np.max(np.abs(h1 - h2)) < TOL
    for name in ("z", "r", "h_tilde"):
        assert np.max(np.abs(g[name] - getattr(cache, name))) < TOL
    h3, _ = gates.gru_step_per_gate(x_t, h, **gates.gru_per_gate_params(layer), reset_after=reset_after)
    np.testing.assert_array_equal(h1, h3)


def test_gru_step_per_gate_form_mismatch_is_named():
    _, x_t, h, _ = _data(0)
    after = gates.gru_per_gate_params(rnnlib.GRU(4, 5, reset_after=True))
    with pytest.raises(ValueError, match="b_hn"):
        gates.gru_step_per_gate(x_t, h, **after, reset_after=False)
    before = gates.gru_per_gate_params(rnnlib.GRU(4, 5, reset_after=False))
    with pytest.raises(ValueError, match="b_hn"):
        gates.gru_step_per_gate(x_t, h, **before, reset_after=True)


def test_per_gate_bad_inputs_name_the_argument():
    _, x_t, h, c = _data(0)
    pg = gates.lstm_per_gate_params(rnnlib.LSTM(4, 5))
    with pytest.raises(ValueError, match="x_t"):
        gates.lstm_step_per_gate(x_t[:, :3], (h, c), **pg)
    with pytest.raises(ValueError, match=r"state_prev\[1\] \(c_prev\)"):
        gates.lstm_step_per_gate(x_t, (h, c[:2]), **pg)
    with pytest.raises(TypeError, match=r"state_prev must be a pair \(h_prev, c_prev\)"):
        gates.lstm_step_per_gate(x_t, h, **pg)
    with pytest.raises(ValueError, match="W_hi"):
        gates.lstm_step_per_gate(x_t, (h, c), **dict(pg, W_hi=np.zeros((5, 4))))
    with pytest.raises(ValueError, match="b_o"):
        gates.lstm_step_per_gate(x_t, (h, c), **dict(pg, b_o=np.full(5, np.nan)))
    with pytest.raises(TypeError, match="params"):
        gates.lstm_per_gate_params(rnnlib.GRU(4, 5))
    with pytest.raises(ValueError, match="missing"):
        gates.gru_per_gate_params({"W_x": np.zeros((4, 15))})
    with pytest.raises(ValueError, match=r"params\['W_x'\]"):
        gates.gru_per_gate_params({"W_x": np.zeros((4, 14)), "W_h": np.zeros((5, 15)), "b": np.zeros(15)})


# -- traces -----------------------------------------------------------------------------------

def test_lstm_trace_matches_layer_and_per_gate_steps():
    rng = np.random.default_rng(3)
    layer = rnnlib.LSTM(4, 5, rng=rng)
    x = rng.standard_normal((2, 6, 4))
    state = (rng.standard_normal((2, 5)), rng.standard_normal((2, 5)))
    tr = gates.lstm_trace(layer, x, state)
    assert list(tr) == ["f", "i", "o", "c_tilde", "c", "h"]
    assert all(v.shape == (2, 6, 5) for v in tr.values())
    assert layer._cache is None and not any(g.any() for g in layer.grads.values())  # layer untouched
    hs, (h_T, c_T) = layer.forward(x, state)
    assert np.max(np.abs(tr["h"] - hs)) < TOL and np.max(np.abs(tr["c"][:, -1] - c_T)) < TOL
    h, c = state
    pg = gates.lstm_per_gate_params(layer)
    for t in range(6):  # every gate, every step, against the one-matmul-per-gate cell
        (h, c), g = gates.lstm_step_per_gate(x[:, t], (h, c), **pg)
        for name in ("f", "i", "o", "c_tilde"):
            assert np.max(np.abs(tr[name][:, t] - g[name])) < TOL
    assert np.max(np.abs(gates.lstm_trace(layer.params, x)["h"] - layer.forward(x)[0])) < TOL  # zero state


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_trace_matches_layer_and_per_gate_steps(reset_after):
    rng = np.random.default_rng(4)
    layer = rnnlib.GRU(4, 5, rng=rng, reset_after=reset_after)
    x, h = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 5))
    tr = gates.gru_trace(layer.params, x, h)
    assert list(tr) == ["z", "r", "h_tilde", "h"]
    assert np.max(np.abs(tr["h"] - layer.forward(x, h)[0])) < TOL
    pg = gates.gru_per_gate_params(layer)
    for t in range(6):
        h, g = gates.gru_step_per_gate(x[:, t], h, **pg)
        for name in ("z", "r", "h_tilde"):
            assert np.max(np.abs(tr[name][:, t] - g[name])) < TOL


def test_trace_bad_inputs():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="x"):
        gates.lstm_trace(rnnlib.LSTM(5, 3), x)
    with pytest.raises(TypeError, match="tuple"):
        gates.lstm_trace(rnnlib.LSTM(4, 3), x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"state\[1\] \(c\)"):
        gates.lstm_trace(rnnlib.LSTM(4, 3), x, (np.zeros((2, 3)), np.zeros((2, 4))))
    with pytest.raises(TypeError, match="only the LSTM"):
        gates.gru_trace(rnnlib.GRU(4, 3), x, (np.zeros((2, 3)),))
    with pytest.raises(TypeError, match="layer_or_params"):
        gates.gru_trace(rnnlib.RNN(4, 3), x)


# -- gate-bias shifts -----------------------------------------------------------------------

@pytest.mark.parametrize("kind,gate_names", [("lstm", ("f", "i", "o", "c_tilde")), ("gru", ("z", "r", "h_tilde"))])
def test_with_gate_bias_shifts_only_its_block(kind, gate_names):
    layer = rnnlib.LSTM(3, 4, seed=5) if kind == "lstm" else rnnlib.GRU(3, 4, seed=5)
    before = {k: v.copy() for k, v in layer.params.items()}
    for k, gate in enumerate(gate_names):
        shifted = gates.with_gate_bias(layer, kind, gate, 2.0)
        diff = shifted["b"] - before["b"]
        np.testing.assert_allclose(diff[4 * k:4 * (k + 1)], 2.0, rtol=0, atol=1e-15)
        assert not np.any(np.delete(diff, np.s_[4 * k:4 * (k + 1)]))
        for key in before:
            if key != "b":
                np.testing.assert_array_equal(shifted[key], before[key])
    for key in before:  # the input is untouched
        np.testing.assert_array_equal(layer.params[key], before[key])
    delta = np.arange(4.0)
    shifted = gates.with_gate_bias(layer.params, kind, gate_names[0], delta)
    np.testing.assert_allclose(shifted["b"][:4] - before["b"][:4], delta, atol=1e-15)


def test_with_gate_bias_opens_the_forget_gate_in_a_trace():
    rng = np.random.default_rng(6)
    layer, x = rnnlib.LSTM(3, 4, rng=rng), rng.standard_normal((2, 5, 3))
    f0 = gates.lstm_trace(layer, x)["f"]
    f2 = gates.lstm_trace(gates.with_gate_bias(layer, "lstm", "f", 2.0), x)["f"]
    assert np.all(f2 > f0)


def test_with_gate_bias_bad_inputs():
    layer = rnnlib.LSTM(3, 4)
    with pytest.raises(ValueError, match="gate"):
        gates.with_gate_bias(layer, "lstm", "z", 1.0)
    with pytest.raises(ValueError, match="kind"):
        gates.with_gate_bias(layer, "rnn", "f", 1.0)
    with pytest.raises(ValueError, match="delta"):
        gates.with_gate_bias(layer, "lstm", "f", np.ones(5))
    with pytest.raises(TypeError, match="delta"):
        gates.with_gate_bias(layer, "lstm", "f", "2")
    with pytest.raises(TypeError, match="params"):
        gates.with_gate_bias(layer, "gru", "z", 1.0)


# -- variants --------------------------------------------------------------------------------

def test_peephole_with_zero_peepholes_is_the_plain_lstm():
    rng, x_t, h, c = _data(7)
    layer = rnnlib.LSTM(4, 5, rng=rng)
    zero = np.zeros(5)
    (h1, c1), g = gates.lstm_peephole_step_forward(x_t, (h, c), layer, zero, zero, zero)
    (h2, c2), cache = rnnlib.lstm_step_forward(x_t, (h, c), **layer.params)
    assert np.max(np.abs(h1 - h2)) < TOL and np.max(np.abs(c1 - c2)) < TOL
    assert np.max(np.abs(g["o"] - cache.o)) < TOL


def test_peephole_equations_by_hand():
    rng, x_t, h, c = _data(8)
    layer = rnnlib.LSTM(4, 5, rng=rng)
    p_f, p_i, p_o = rng.standard_normal((3, 5))
    P = gates.lstm_per_gate_params(layer)
    f = sigmoid(x_t @ P["W_xf"] + h @ P["W_hf"] + c * p_f + P["b_f"])
    i = sigmoid(x_t @ P["W_xi"] + h @ P["W_hi"] + c * p_i + P["b_i"])
    c_new = f * c + i * np.tanh(x_t @ P["W_xc"] + h @ P["W_hc"] + P["b_c"])
    o = sigmoid(x_t @ P["W_xo"] + h @ P["W_ho"] + c_new * p_o + P["b_o"])  # o sees the new cell
    (h1, c1), _ = gates.lstm_peephole_step_forward(x_t, (h, c), layer.params, p_f, p_i, p_o)
    assert np.max(np.abs(c1 - c_new)) < TOL and np.max(np.abs(h1 - o * np.tanh(c_new))) < TOL
    h2 = rnnlib.lstm_step_forward(x_t, (h, c), **layer.params)[0][0]
    assert np.max(np.abs(h1 - h2)) > 1e-3  # non-zero peepholes change the output
    with pytest.raises(ValueError, match="p_i"):
        gates.lstm_peephole_step_forward(x_t, (h, c), layer, p_f, p_i[:4], p_o)


def test_cifg_equals_lstm_whose_input_gate_is_one_minus_forget():
    """Honest check: 1 - sigmoid(a) = sigmoid(-a), so a plain LSTM whose input-gate weights are
    the negated forget-gate weights has i = 1 - f exactly; the CIFG step computes 1 - f itself."""
    rng, x_t, h, c = _data(9)
    layer = rnnlib.LSTM(4, 5, rng=rng)
    coupled = {}
    for k, v in layer.params.items():
        blocks = rnnlib.lstm.split_gates(v)
        coupled[k] = rnnlib.lstm.stack_gates(blocks["f"], -blocks["f"], blocks["o"], blocks["c_tilde"])
    (h1, c1), g = gates.lstm_coupled_step_forward(x_t, (h, c), gates.cifg_params(coupled))
    (h2, c2), cache = rnnlib.lstm_step_forward(x_t, (h, c), **coupled)
    assert np.max(np.abs(h1 - h2)) < TOL and np.max(np.abs(c1 - c2)) < TOL
    assert np.max(np.abs(g["i"] - cache.i)) < TOL
    np.testing.assert_array_equal(g["i"], 1.0 - g["f"])
    (h3, _), _ = gates.lstm_coupled_step_forward(x_t, (h, c), gates.cifg_params(layer))  # its own i block dropped
    np.testing.assert_array_equal(h3, h1)  # the CIFG never reads the input-gate weights


def test_cifg_params_shapes_and_errors():
    p = gates.cifg_params(rnnlib.LSTM(4, 5))
    assert {k: v.shape for k, v in p.items()} == {"W_x": (4, 15), "W_h": (5, 15), "b": (15,)}
    _, x_t, h, c = _data(0)
    with pytest.raises(ValueError, match=r"params\['W_x'\] must have shape \(D, 3H\)"):  # LSTM params are not CIFG's
        gates.lstm_coupled_step_forward(x_t, (h, c), rnnlib.LSTM(4, 5).params)
    with pytest.raises(ValueError, match=r"params\['W_h'\]"):  # 4H = 12 splits in 3, but W_h gives it away
        gates.lstm_coupled_step_forward(x_t, (h[:, :3], c[:, :3]), rnnlib.LSTM(4, 3).params)
    with pytest.raises(TypeError, match="params dict"):
        gates.lstm_coupled_step_forward(x_t, (h, c), rnnlib.LSTM(4, 5))
    with pytest.raises(ValueError, match=r"state_prev\[0\] \(h_prev\)"):
        gates.lstm_coupled_step_forward(x_t, (h[:, :4], c), p)
