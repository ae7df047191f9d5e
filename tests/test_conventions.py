"""Tests for rnnlib.conventions: Keras and CS231n layouts, the GRU update flip, the mix-ups.

The Keras and CS231n equations are written out here again, independently of rnnlib, from
the libraries' own code (keras/src/layers/rnn/{lstm,gru}.py; cs231n rnn_layers.py).
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import conventions as cv
from rnnlib.experiments import mixups as mx

TOL = 1e-12


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def keras_lstm(x, kernel, recurrent_kernel, bias):
    """keras LSTMCell, fused path: z = x @ kernel + h @ rk + bias, split i, f, c, o."""
    N, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h, c, hs = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(T):
        z0, z1, z2, z3 = np.split(x[:, t] @ kernel + h @ recurrent_kernel + bias, 4, axis=1)
        c = sig(z1) * c + sig(z0) * np.tanh(z2)
        h = sig(z3) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1)


def keras_gru(x, kernel, recurrent_kernel, bias, reset_after):
    """keras GRUCell, fused path, both forms; h = z * h_tm1 + (1 - z) * hh."""
    N, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, None)
    h, hs = np.zeros((N, H)), []
    for t in range(T):
        x_z, x_r, x_h = np.split(x[:, t] @ kernel + input_bias, 3, axis=1)
        if reset_after:
            inner = h @ recurrent_kernel + recurrent_bias
        else:
            inner = h @ recurrent_kernel[:, :2 * H]
        z, r = sig(x_z + inner[:, :H]), sig(x_r + inner[:, H:2 * H])
        if reset_after:
            recurrent_h = r * inner[:, 2 * H:]
        else:
            recurrent_h = (r * h) @ recurrent_kernel[:, 2 * H:]
        h = z * h + (1 - z) * np.tanh(x_h + recurrent_h)
        hs.append(h)
    return np.stack(hs, axis=1)


def cs231n_lstm(x, Wx, Wh, b):
    """cs231n lstm_step_forward in a loop: a = x Wx + h Wh + b, blocks i, f, o, g."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    h, c, hs = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1)


def _x(seed, N=3, T=6, D=4):
    return np.random.default_rng(seed).standard_normal((N, T, D))


def _maxdiff(a, b):
    return float(np.max(np.abs(a - b)))


# -- Keras ---------------------------------------------------------------------------------

def test_keras_lstm_round_trip_and_equations():
    layer, x = rnnlib.LSTM(4, 5, seed=0, forget_bias=1.0), _x(0)
    kernel, rk, bias = cv.to_keras_weights(layer)
    assert kernel.shape == (4, 20) and rk.shape == (5, 20) and bias.shape == (20,)
    np.testing.assert_array_equal(bias[5:10], layer.params["b"][:5])  # keras f (2nd) = rnnlib f (1st)
    assert _maxdiff(keras_lstm(x, kernel, rk, bias), layer.forward(x)[0]) < TOL
    back = cv.from_keras_weights(kernel, rk, bias, "lstm")
    for k in layer.params:
        np.testing.assert_array_equal(back.params[k], layer.params[k])


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_gru_round_trip_and_equations(reset_after):
    layer, x = rnnlib.GRU(4, 5, seed=1, reset_after=reset_after), _x(1)
    kernel, rk, bias = cv.to_keras_weights(layer)
    assert bias.shape == ((2, 15) if reset_after else (15,))
    assert _maxdiff(keras_gru(x, kernel, rk, bias, reset_after), layer.forward(x)[0]) < TOL
    back = cv.from_keras_weights(kernel, rk, bias, "gru")
    assert back.reset_after is reset_after
    for k in layer.params:
        np.testing.assert_array_equal(back.params[k], layer.params[k])


@pytest.mark.parametrize("reset_after", [True, False])
def test_random_keras_gru_weights_give_keras_outputs(reset_after):
    """Arbitrary Keras weights, with a non-zero recurrent bias in every block."""
    rng, x = np.random.default_rng(2), _x(2)
    kernel, rk = rng.uniform(-0.5, 0.5, (4, 15)), rng.uniform(-0.5, 0.5, (5, 15))
    bias = rng.uniform(-0.5, 0.5, (2, 15) if reset_after else (15,))
    layer = cv.from_keras_weights(kernel, rk, bias, "gru")
    assert _maxdiff(layer.forward(x)[0], keras_gru(x, kernel, rk, bias, reset_after)) < TOL
    rng_l = np.random.default_rng(3)
    k2, rk2, b2 = rng_l.uniform(-0.5, 0.5, (4, 20)), rng_l.uniform(-0.5, 0.5, (5, 20)), rng_l.uniform(-0.5, 0.5, 20)
    assert _maxdiff(cv.from_keras_weights(k2, rk2, b2, "lstm").forward(x)[0], keras_lstm(x, k2, rk2, b2)) < TOL


def test_keras_bad_inputs_name_the_argument():
    k, rk = np.zeros((4, 15)), np.zeros((5, 15))
    with pytest.raises(ValueError, match="kind"):
        cv.from_keras_weights(k, rk, np.zeros(15), "rnn")
    with pytest.raises(ValueError, match="kernel"):
        cv.from_keras_weights(np.zeros((4, 14)), rk, np.zeros(15), "gru")
    with pytest.raises(ValueError, match="recurrent_kernel"):
        cv.from_keras_weights(k, np.zeros((4, 15)), np.zeros(15), "gru")
    with pytest.raises(ValueError, match="bias"):
        cv.from_keras_weights(k, rk, np.zeros((2, 14)), "gru")
    with pytest.raises(ValueError, match="bias"):
        cv.from_keras_weights(np.zeros((4, 20)), np.zeros((5, 20)), np.zeros((2, 20)), "lstm")
    with pytest.raises(TypeError, match="layer"):
        cv.to_keras_weights(rnnlib.RNN(4, 5))


# -- CS231n --------------------------------------------------------------------------------

def test_cs231n_round_trip_and_equations():
    layer, x = rnnlib.LSTM(4, 5, seed=4), _x(4)
    w = cv.to_cs231n_lstm(layer)
    assert set(w) == {"Wx", "Wh", "b"}
    np.testing.assert_array_equal(w["b"][10:15], layer.params["b"][10:15])  # o is third in both
    assert _maxdiff(cs231n_lstm(x, **w), layer.forward(x)[0]) < TOL
    back = cv.from_cs231n_lstm(**w)
    for k in layer.params:
        np.testing.assert_array_equal(back.params[k], layer.params[k])
    with pytest.raises(TypeError, match="LSTM"):
        cv.to_cs231n_lstm(rnnlib.GRU(4, 5))
    with pytest.raises(ValueError, match="Wh"):
        cv.from_cs231n_lstm(w["Wx"], w["Wh"][:4], w["b"])
    with pytest.raises(ValueError, match="b"):
        cv.from_cs231n_lstm(w["Wx"], w["Wh"], w["b"][:19])


def test_porting_a_cs231n_lstm_step_call():
    """The README's recipe: cs231n's lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) is
    rnnlib.lstm_step_forward(x, (prev_h, prev_c), **from_cs231n_lstm(Wx, Wh, b).params)."""
    rng = np.random.default_rng(9)
    D, H = 4, 5
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    x, prev_h, prev_c = rng.standard_normal((3, D)), rng.standard_normal((3, H)), rng.standard_normal((3, H))
    a = x @ Wx + prev_h @ Wh + b  # cs231n's step, blocks i, f, o, g
    i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    (h, c), _ = rnnlib.lstm_step_forward(x, (prev_h, prev_c), **cv.from_cs231n_lstm(Wx, Wh, b).params)
    assert _maxdiff(h, next_h) < TOL and _maxdiff(c, next_c) < TOL


# -- the GRU update convention ------------------------------------------------------------------

@pytest.mark.parametrize("reset_after", [True, False])
def test_flip_update_gate_same_function_under_chung(reset_after):
    layer, x = rnnlib.GRU(4, 5, seed=5, reset_after=reset_after, update_bias=1.0), _x(5)
    hs = layer.forward(x)[0]
    flipped = cv.flip_update_gate(layer)
    assert _maxdiff(cv.gru_forward_chung(x, flipped), hs) < TOL
    assert _maxdiff(cv.gru_forward_chung(x, layer.params), hs) > 0.05  # unflipped: another function
    np.testing.assert_array_equal(flipped["W_h"][:, 5:], layer.params["W_h"][:, 5:])  # r, h blocks kept
    np.testing.assert_array_equal(flipped["b"][:5], -layer.params["b"][:5])
    twice = cv.flip_update_gate(flipped)
    for k in layer.params:
        np.testing.assert_array_equal(twice[k], layer.params[k])
    h0 = np.random.default_rng(0).standard_normal((3, 5))
    assert _maxdiff(cv.gru_forward_chung(x, flipped, h0), layer.forward(x, h0)[0]) < TOL
    with pytest.raises(ValueError, match="h0"):
        cv.gru_forward_chung(x, flipped, h0[:, :4])


def test_gru_as_other_form_folds_b_hn_and_agrees_when_r_is_one():
    layer, x = rnnlib.GRU(4, 5, seed=6), _x(6)
    before = cv.gru_as_other_form(layer)
    assert "b_hn" not in before
    np.testing.assert_allclose(before["b"][10:], layer.params["b"][10:] + layer.params["b_hn"], atol=1e-15)
    run_before = rnnlib.GRU.from_params(before, reset_after=False)
    assert _maxdiff(run_before.forward(x)[0], layer.forward(x)[0]) > 0.01  # a different function
    opened = dict(layer.params, b=layer.params["b"].copy())
    opened["b"][5:10] = 60.0  # r = sigmoid(60 + small) = 1.0 exactly: the reset does nothing
    a = rnnlib.GRU.from_params(opened).forward(x)[0]
    b = rnnlib.GRU.from_params(cv.gru_as_other_form(opened), reset_after=False).forward(x)[0]
    assert _maxdiff(a, b) < TOL
    back = cv.gru_as_other_form(before)
    np.testing.assert_array_equal(back["b_hn"], np.zeros(5))
    np.testing.assert_array_equal(back["b"], before["b"])


# -- torch state dicts and mix-ups -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_torch_equations_equal_correct_conversion(kind):
    rng = np.random.default_rng(7)
    sd = mx.random_torch_state_dict(kind, 4, 5, rng)
    G = 4 if kind == "lstm" else 3
    assert [sd[k].shape for k in rnnlib.torch_io.KEYS] == [(5 * G, 4), (5 * G, 5), (5 * G,), (5 * G,)]
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in sd.values())
    x = _x(7)
    assert _maxdiff(mx.torch_equations_forward(sd, kind, x), rnnlib.from_torch_state_dict(sd, kind).forward(x)[0]) < TOL
    correct = mx.load_torch_with_order(sd, kind, cv.TORCH_GATES[kind])
    assert _maxdiff(correct.forward(x)[0], rnnlib.from_torch_state_dict(sd, kind).forward(x)[0]) == 0.0
    with pytest.raises(ValueError, match="order"):
        mx.load_torch_with_order(sd, kind, ("a", "b", "c"))
    with pytest.raises(ValueError, match="x"):
        mx.torch_equations_forward(sd, kind, x[:, :, :3])
    with pytest.raises(TypeError, match="rng"):
        mx.random_torch_state_dict(kind, 4, 5, 0)


def test_drop_bias_hh_copies_and_zeroes():
    sd = mx.random_torch_state_dict("lstm", 3, 4, np.random.default_rng(8))
    dropped = mx.drop_bias_hh(sd)
    assert not dropped["bias_hh_l0"].any() and sd["bias_hh_l0"].any()
    np.testing.assert_array_equal(dropped["bias_ih_l0"], sd["bias_ih_l0"])
    with pytest.raises(ValueError, match="state_dict"):
        mx.drop_bias_hh({"weight_ih_l0": sd["weight_ih_l0"]})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixup_errors_are_large_and_correct_is_exact(seed):
    errors = mx.mixup_errors(seed=seed)
    assert list(errors) == list(mx.MIXUPS)
    for name, err in errors.items():
        if name.endswith("_correct"):
            assert err < TOL, name
        else:
            assert err > 0.05, name
    assert mx.mixup_errors(np.random.default_rng(seed)) == errors  # rng or seed, same draw
    with pytest.raises(ValueError, match="H"):
        mx.mixup_errors(H=0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_name_mixup_names_each_mistake(kind):
    rng = np.random.default_rng(9)
    sd, x = mx.random_torch_state_dict(kind, 4, 6, rng), rng.standard_normal((3, 7, 4))
    outputs = mx._mixup_outputs(sd, kind, x)
    assert set(outputs) == {k for k in mx.MIXUPS if k.startswith(kind)}
    for name, hs in outputs.items():
        assert mx.name_mixup(sd, kind, x, hs) == name
    assert mx.name_mixup(sd, kind, x, mx.torch_equations_forward(sd, kind, x)) == f"{kind}_correct"
    assert mx.name_mixup(sd, kind, x, rng.uniform(-1, 1, (3, 7, 6))) is None
    with pytest.raises(ValueError, match="hs"):
        mx.name_mixup(sd, kind, x, np.zeros((3, 7, 5)))


# -- against PyTorch itself ----------------------------------------------------------------------

def _torch_run(kind, D, H, x, seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    module = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H, batch_first=True).double()
    with torch.no_grad():
        out = module(torch.from_numpy(x))[0].numpy()
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}, out


def test_keras_and_cs231n_paths_agree_with_torch():
    x = _x(10, N=2, T=7, D=3)
    sd, out = _torch_run("lstm", 3, 6, x, 0)
    assert _maxdiff(mx.torch_equations_forward(sd, "lstm", x), out) < TOL
    layer = rnnlib.from_torch_state_dict(sd, "lstm")
    kernel, rk, bias = cv.to_keras_weights(layer)
    assert _maxdiff(keras_lstm(x, kernel, rk, bias), out) < TOL
    assert _maxdiff(cv.from_keras_weights(kernel, rk, bias, "lstm").forward(x)[0], out) < TOL
    w = cv.to_cs231n_lstm(layer)
    assert _maxdiff(cs231n_lstm(x, **w), out) < TOL
    assert _maxdiff(cv.from_cs231n_lstm(**w).forward(x)[0], out) < TOL
    assert mx.name_mixup(sd, "lstm", x, out) == "lstm_correct"


def test_keras_gru_path_and_mixups_against_torch():
    x = _x(11, N=2, T=7, D=3)
    sd, out = _torch_run("gru", 3, 6, x, 1)
    assert _maxdiff(mx.torch_equations_forward(sd, "gru", x), out) < TOL
    kernel, rk, bias = cv.to_keras_weights(rnnlib.from_torch_state_dict(sd, "gru"))
    assert _maxdiff(keras_gru(x, kernel, rk, bias, True), out) < TOL
    assert _maxdiff(cv.from_keras_weights(kernel, rk, bias, "gru").forward(x)[0], out) < TOL
    assert mx.name_mixup(sd, "gru", x, out) == "gru_correct"
    wrong = mx.load_torch_with_order(sd, "gru", ("z", "r", "n")).forward(x)[0]
    assert _maxdiff(wrong, out) > 0.05
