"""Tests for rnnlib.training.model: SequenceModel's backward (finite differences), params sharing, probe."""

import numpy as np
import pytest

import rnnlib
from rnnlib.training.model import SequenceModel, input_gradient_norms, loss_and_grad

KINDS = [("rnn", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {}), ("gru", {"reset_after": False})]
MODES = ["many_to_one", "many_to_many"]
N, T, D, H, V = 3, 5, 2, 4, 3


def _model(kind, kw, mode, seed=0):
    return SequenceModel(kind, D, H, V, mode=mode, seed=seed, **kw)


def _batch(mode, loss, seed=1):
    r = np.random.default_rng(seed)
    x = r.standard_normal((N, T, D))
    if loss == "xent":
        y = r.integers(0, V, size=(N,) if mode == "many_to_one" else (N, T))
    else:
        y = r.standard_normal((N, V) if mode == "many_to_one" else (N, T, V))
    return x, y


@pytest.mark.parametrize("kind, kw", KINDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loss", ["mse", "xent"])
def test_backward_matches_finite_differences(kind, kw, mode, loss):
    model = _model(kind, kw, mode)
    x, y = _batch(mode, loss)

    def L(_):  # the perturbed array is a model parameter or x itself, read by forward
        return loss_and_grad(model.forward(x), y, loss)[0]

    model.zero_grad()
    pred = model.forward(x)
    assert pred.shape == ((N, V) if mode == "many_to_one" else (N, T, V))
    _, dpred = loss_and_grad(pred, y, loss)
    dx = model.backward(dpred)
    grads = {k: g.copy() for k, g in model.grads.items()}
    assert set(grads) == set(model.params)
    for k, p in model.params.items():
        num = rnnlib.numerical_gradient(L, p)
        assert rnnlib.rel_error(grads[k], num) < 1e-7, k
    num_dx = rnnlib.numerical_gradient(L, x)
    assert rnnlib.rel_error(dx, num_dx) < 1e-7


def test_many_to_one_reads_out_the_last_hidden_state():
    model = _model("lstm", {}, "many_to_one")
    x, _ = _batch("many_to_one", "mse")
    pred = model.forward(x)
    np.testing.assert_allclose(pred, model.out.forward(model.rnn.forward(x)[0][:, -1]), rtol=0, atol=0)


def test_params_are_shared_with_the_layers_and_the_optimiser():
    model = _model("gru", {}, "many_to_one")
    params = model.params
    assert set(params) == {"rnn.W_x", "rnn.W_h", "rnn.b", "rnn.b_hn", "out.W", "out.b"}
    assert params["rnn.W_x"] is model.rnn.params["W_x"] and params["out.W"] is model.out.params["W"]
    assert model.n_params == sum(p.size for p in params.values()) == 2 * 12 + 4 * 12 + 12 + 4 + 4 * 3 + 3
    assert set(_model("rnn", {}, "many_to_one").params) == {"rnn.W_xh", "rnn.W_hh", "rnn.b_h", "out.W", "out.b"}

    opt = rnnlib.Adam(model.params, lr=0.1)
    grads = model.grads  # handed out once, as train() does
    before = {k: v.copy() for k, v in params.items()}
    x, y = _batch("many_to_one", "mse")
    for _ in range(2):
        model.zero_grad()  # in place: `grads` stays valid
        model.backward(loss_and_grad(model.forward(x), y, "mse")[1])
        assert all(grads[k] is model.grads[k] for k in grads)
        assert any(np.any(g != 0) for g in grads.values())
        opt.step(grads)
    for k in params:  # the optimiser moved the layers' own arrays
        assert not np.array_equal(model.params[k], before[k]), k
        assert model.params[k] is params[k]


def test_grads_accumulate_and_zero_grad_zeroes():
    model = _model("rnn", {}, "many_to_many")
    x, y = _batch("many_to_many", "xent")
    dpred = loss_and_grad(model.forward(x), y, "xent")[1]
    model.backward(dpred)
    once = {k: g.copy() for k, g in model.grads.items()}
    model.forward(x)
    model.backward(dpred)
    for k, g in model.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-14)
    model.zero_grad()
    assert not any(np.any(g) for g in model.grads.values())


def test_forward_with_state_and_from_layer():
    layer = rnnlib.LSTM(D, H, seed=3)
    model = SequenceModel(layer, output_size=1, seed=4)
    assert model.rnn is layer and model.kind == "lstm" and model.out.params["W"].shape == (H, 1)
    x = np.random.default_rng(0).standard_normal((N, T, D))
    pred, (h, c) = model.forward(x, return_state=True)
    _, state = layer.forward(x[:, :2])
    pred2 = model.forward(x[:, 2:], state)  # continuing from a state gives the same prediction
    np.testing.assert_allclose(pred, pred2, rtol=1e-13)
    assert "SequenceModel(LSTM(" in repr(model)


def test_construction_is_seeded():
    a, b = _model("gru", {}, "many_to_one", seed=5), _model("gru", {}, "many_to_one", seed=5)
    c = SequenceModel("gru", D, H, V, rng=np.random.default_rng(5))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.params[k], c.params[k])
    assert not np.array_equal(a.params["rnn.W_x"], _model("gru", {}, "many_to_one", seed=6).params["rnn.W_x"])


@pytest.mark.parametrize("mode, loss", [("many_to_one", "mse"), ("many_to_many", "xent")])
def test_input_gradient_norms_are_per_sequence_loss_gradients(mode, loss):
    model = _model("gru", {"update_bias": 1.0}, mode)
    x, y = _batch(mode, loss)
    model.zero_grad()
    model.backward(loss_and_grad(model.forward(x), y, loss)[1])  # some grads to keep
    kept = {k: g.copy() for k, g in model.grads.items()}
    g = input_gradient_norms(model, x, y, loss)
    assert g.shape == (N, T)
    for k in kept:
        np.testing.assert_array_equal(model.grads[k], kept[k])
    n = 1  # sequence 1 alone: its own loss, finite differences
    x1, y1 = x[n:n + 1].copy(), y[n:n + 1]
    num = rnnlib.numerical_gradient(lambda x_: loss_and_grad(model.forward(x_), y1, loss)[0], x1)
    np.testing.assert_allclose(g[n], np.linalg.norm(num[0], axis=1), rtol=1e-6)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: SequenceModel("lstmx", 2, 4), ValueError, "kind"),
    (lambda: SequenceModel("lstm", 2, 4, mode="seq2seq"), ValueError, "mode"),
    (lambda: SequenceModel("lstm", 2, None), TypeError, "hidden_size"),
    (lambda: SequenceModel("lstm", 2, 0), ValueError, "hidden_size"),
    (lambda: SequenceModel("lstm", 2, 4, 0), ValueError, "output_size"),
    (lambda: SequenceModel("lstm", 2, 4, rng=3), TypeError, "rng"),
    (lambda: SequenceModel(rnnlib.GRU(2, 4), 3, 4), ValueError, "input_size"),
    (lambda: SequenceModel(rnnlib.GRU(2, 4), forget_bias=1.0), TypeError, "kind name"),
    (lambda: SequenceModel("rnn", 2, 4).backward(np.zeros((1, 1))), RuntimeError, "before forward"),
    (lambda: SequenceModel("rnn", 2, 4).forward(np.zeros((1, 3, 5))), ValueError, "x must"),
    (lambda: loss_and_grad(np.zeros((2, 1)), np.zeros((2, 1)), "l1"), ValueError, "loss"),
    (lambda: input_gradient_norms(rnnlib.RNN(2, 3), np.zeros((1, 2, 2)), np.zeros((1, 1))), TypeError, "model"),
])
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
