"""rnnlib.init, rnnlib.losses, rnnlib.optim.

Initialisers: bounds, orthogonality, where the forget/update bias lands,
reproducibility. Losses: known values and finite-difference gradients.
Optimisers: SGD (with and without momentum) and Adam against two updates
computed by hand, Adam on a quadratic, and gradient clipping.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib import (SGD, Adam, clip_grad_norm, global_norm, init, init_params, losses, mse_loss,
                    numerical_gradient, optim, orthogonal, rel_error, softmax_cross_entropy, uniform,
                    xavier_uniform)

# Float64 centred differences agree with a correct gradient to ~1e-9 relative.
GRAD_RTOL = 1e-7

KIND_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


# -- initialisers -------------------------------------------------------------------

def test_uniform_bounds_are_one_over_sqrt_H():
    H = 16
    w = uniform((4000,), H, np.random.default_rng(0))
    bound = 1 / np.sqrt(H)
    assert np.all(np.abs(w) <= bound)
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound  # fills the interval, not a narrower one
    assert abs(w.mean()) < 0.02
    assert uniform((2, 3), H, np.random.default_rng(0), np.float32).dtype == np.float32
    assert init.uniform is uniform


def test_xavier_bounds():
    fan_in, fan_out = 30, 20
    w = xavier_uniform(fan_in, fan_out, np.random.default_rng(1))
    bound = np.sqrt(6 / (fan_in + fan_out))
    assert w.shape == (fan_in, fan_out)
    assert np.all(np.abs(w) <= bound) and np.abs(w).max() > 0.98 * bound
    # the point of the bound: Var = bound^2 / 3 = 2 / (fan_in + fan_out)
    assert w.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.1)


@pytest.mark.parametrize("rows, cols", [(5, 5), (6, 3), (3, 6), (1, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_is_orthogonal(rows, cols, dtype):
    q = orthogonal(rows, cols, np.random.default_rng(2), dtype)
    assert q.shape == (rows, cols) and q.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=tol)  # orthonormal columns
    else:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=tol)  # orthonormal rows
    if rows == cols:
        np.testing.assert_allclose(np.linalg.svd(q.astype(np.float64), compute_uv=False), 1.0, atol=tol)


def test_orthogonal_draws_differ_and_repeat():
    a = orthogonal(4, 4, np.random.default_rng(3))
    b = orthogonal(4, 4, np.random.default_rng(3))
    c = orthogonal(4, 4, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("scheme", ["uniform", "xavier", "orthogonal"])
def test_init_params_keys_shapes_and_scheme(kind, scheme):
    D, H, G = 3, 5, KIND_BLOCKS[kind]
    p = init_params(kind, D, H, np.random.default_rng(5), scheme=scheme)
    names = ("W_xh", "W_hh", "b_h") if kind == "rnn" else ("W_x", "W_h", "b")
    expected = {names[0]: (D, G * H), names[1]: (H, G * H), names[2]: (G * H,)}
    if kind == "gru":
        expected["b_hn"] = (H,)
    assert {k: v.shape for k, v in p.items()} == expected
    W_x, W_h, b = (p[n] for n in names)
    if scheme == "uniform":  # PyTorch's default: every tensor, biases included
        for v in p.values():
            assert np.all(np.abs(v) <= 1 / np.sqrt(H)) and np.any(v != 0)
    else:
        assert not np.any(b) and not np.any(p.get("b_hn", 0.0))
        for k in range(G):
            blk_x, blk_h = W_x[:, k * H:(k + 1) * H], W_h[:, k * H:(k + 1) * H]
            assert np.all(np.abs(blk_x) <= np.sqrt(6 / (D + H)))
            if scheme == "xavier":
                assert np.all(np.abs(blk_h) <= np.sqrt(6 / (2 * H)))
            else:  # each gate block of W_h is orthogonal
                np.testing.assert_allclose(blk_h.T @ blk_h, np.eye(H), atol=1e-13)


def test_init_params_gru_forms_and_dtype():
    assert "b_hn" not in init_params("gru", 2, 3, np.random.default_rng(0), reset_after=False)
    for scheme in ("uniform", "xavier", "orthogonal"):
        p = init_params("lstm", 2, 3, np.random.default_rng(0), scheme=scheme, dtype=np.float32)
        assert all(v.dtype == np.float32 for v in p.values())


def test_init_params_same_seed_same_params_different_seed_different():
    for kind in ("rnn", "lstm", "gru"):
        a = init_params(kind, 3, 4, np.random.default_rng(7))
        b = init_params(kind, 3, 4, np.random.default_rng(7))
        c = init_params(kind, 3, 4, np.random.default_rng(8))
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
            assert not np.array_equal(a[k], c[k])


def test_forget_bias_lands_in_the_f_block():
    H = 4
    p = init_params("lstm", 2, H, np.random.default_rng(0), scheme="xavier", forget_bias=2.0)
    np.testing.assert_array_equal(p["b"], [2.0] * H + [0.0] * 3 * H)  # f is first
    np.testing.assert_array_equal(rnnlib.lstm.split_gates(p["b"])["f"], 2.0)
    # and the cell really uses that block as its forget gate
    p = init_params("lstm", 2, H, np.random.default_rng(0), scheme="xavier", forget_bias=40.0)
    _, cache = rnnlib.lstm_step_forward(np.zeros((1, 2)), (np.zeros((1, H)), np.ones((1, H))), **p)
    np.testing.assert_allclose(cache.f, 1.0, atol=1e-15)
    np.testing.assert_allclose(np.concatenate([cache.i, cache.o]), 0.5)


def test_update_bias_lands_in_the_z_block():
    H = 4
    p = init_params("gru", 2, H, np.random.default_rng(0), scheme="xavier", update_bias=3.0)
    np.testing.assert_array_equal(p["b"], [3.0] * H + [0.0] * 2 * H)  # z is first
    np.testing.assert_array_equal(rnnlib.gru.split_gates(p["b"])["z"], 3.0)
    p = init_params("gru", 2, H, np.random.default_rng(0), scheme="xavier", update_bias=40.0)
    h_prev = np.linspace(-1, 1, H)[None]
    h_next, cache = rnnlib.gru_step_forward(np.ones((1, 2)), h_prev, **p)
    np.testing.assert_allclose(cache.z, 1.0, atol=1e-15)
    np.testing.assert_allclose(h_next, h_prev, atol=1e-15)  # z = 1 keeps the state


def test_uniform_init_bias_tricks_add_to_the_draw():
    a = init_params("lstm", 2, 3, np.random.default_rng(1))
    b = init_params("lstm", 2, 3, np.random.default_rng(1), forget_bias=1.0)
    np.testing.assert_allclose(b["b"] - a["b"], [1.0] * 3 + [0.0] * 9)


# -- losses -------------------------------------------------------------------------

def test_mse_loss_value_and_gradient():
    loss, d = mse_loss(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]]))
    assert loss == 2.5  # (1 + 4) / 2
    np.testing.assert_array_equal(d, [[1.0], [2.0]])  # 2 (pred - target) / M
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _, d = mse_loss(pred, target)
    num = numerical_gradient(lambda v: mse_loss(v, target)[0], pred)
    assert rel_error(d, num) < GRAD_RTOL
    assert losses.mse_loss is mse_loss


def test_softmax_cross_entropy_known_values():
    loss, _ = softmax_cross_entropy(np.zeros((3, 5)), np.array([0, 1, 4]))
    assert loss == pytest.approx(np.log(5), rel=1e-15)  # uniform prediction: log V nats
    loss, d = softmax_cross_entropy(np.array([[1.0, 2.0, 3.0]]), np.array([2]))
    e = np.exp([1.0, 2.0, 3.0])
    assert loss == pytest.approx(-np.log(e[2] / e.sum()), rel=1e-14)
    np.testing.assert_allclose(d, [e / e.sum() - [0, 0, 1]], rtol=1e-14)  # p - onehot


@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (2, 3, 5)])
def test_softmax_cross_entropy_gradient(shape):
    rng = np.random.default_rng(len(shape))
    logits = 2 * rng.standard_normal(shape)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    loss, d = softmax_cross_entropy(logits, labels)
    assert d.shape == logits.shape
    num = numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], logits)
    assert rel_error(d, num) < GRAD_RTOL or (not np.any(d) and not np.any(num))


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    with np.errstate(all="raise", under="ignore"):
        loss, d = softmax_cross_entropy(logits, np.array([0, 0]))
    assert loss == pytest.approx(1e4)  # first row right (0), second off by 2e4 nats, mean 1e4
    assert np.all(np.isfinite(d))


# -- optimisers ------------------------------------------------------------------------

P0, G1, G2 = [1.0, -2.0], [0.5, 1.0], [-1.0, 2.0]


def _two_steps(opt_cls, **kw):
    params = {"w": np.array(P0)}
    w = params["w"]
    opt = opt_cls(params, **kw)
    opt.step({"w": np.array(G1)})
    after1 = w.copy()
    opt.step({"w": np.array(G2)})
    assert params["w"] is w  # updated in place
    return opt, after1, w


def test_sgd_two_steps_by_hand():
    _, p1, p2 = _two_steps(SGD, lr=0.1)
    np.testing.assert_allclose(p1, [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 1.0], rtol=1e-15)  # [0.95, -2.1]
    np.testing.assert_allclose(p2, [0.95 + 0.1 * 1.0, -2.1 - 0.1 * 2.0], rtol=1e-15)  # [1.05, -2.3]


def test_sgd_momentum_two_steps_by_hand():
    opt, p1, p2 = _two_steps(SGD, lr=0.1, momentum=0.9)
    # v1 = -lr g1 = [-0.05, -0.1]
    np.testing.assert_allclose(p1, [0.95, -2.1], rtol=1e-15)
    # v2 = 0.9 v1 - lr g2 = [-0.045 + 0.1, -0.09 - 0.2] = [0.055, -0.29]
    np.testing.assert_allclose(opt.velocity["w"], [0.055, -0.29], rtol=1e-14)
    np.testing.assert_allclose(p2, [0.95 + 0.055, -2.1 - 0.29], rtol=1e-14)  # [1.005, -2.39]


def test_adam_two_steps_by_hand():
    opt, p1, p2 = _two_steps(Adam, lr=0.1)  # beta1 0.9, beta2 0.999, eps 1e-8
    # t = 1: m_hat = g1, v_hat = g1^2, so the step is lr * g1 / (|g1| + eps)
    np.testing.assert_allclose(p1, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 - 0.1 * 1.0 / (1.0 + 1e-8)], rtol=1e-15)
    # t = 2: m = 0.9 (0.1 g1) + 0.1 g2, v = 0.999 (0.001 g1^2) + 0.001 g2^2
    m = np.array([0.9 * 0.05 + 0.1 * -1.0, 0.9 * 0.1 + 0.1 * 2.0])  # [-0.055, 0.29]
    v = np.array([0.999 * 0.00025 + 0.001 * 1.0, 0.999 * 0.001 + 0.001 * 4.0])  # [0.00124975, 0.004999]
    assert opt.t == 2
    np.testing.assert_allclose(opt.m["w"], m, rtol=1e-14)
    np.testing.assert_allclose(opt.v["w"], v, rtol=1e-14)
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)  # bias corrections 0.19 and 0.001999
    np.testing.assert_allclose(p2, p1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(p2, [0.9000000020 - 0.1 * (-0.055 / 0.19) / np.sqrt(0.00124975 / 0.001999),
                                    -2.0999999990 - 0.1 * (0.29 / 0.19) / np.sqrt(0.004999 / 0.001999)],
                               rtol=1e-9)


def test_adam_minimises_an_ill_conditioned_quadratic():
    A = np.diag([1.0, 10.0, 100.0])
    theta_star = np.array([1.0, -2.0, 0.5])
    params = {"theta": np.zeros(3)}
    f = lambda th: 0.5 * (th - theta_star) @ A @ (th - theta_star)  # noqa: E731
    f0 = f(params["theta"])
    opt = Adam(params, lr=0.02)
    for _ in range(1500):
        opt.step({"theta": A @ (params["theta"] - theta_star)})
    assert f(params["theta"]) < 1e-6 * f0
    np.testing.assert_allclose(params["theta"], theta_star, atol=1e-3)


def test_optimisers_update_every_key_of_a_merged_dict():
    rnn, out = rnnlib.RNN(2, 3, seed=0), rnnlib.Linear(3, 2, seed=0)
    params = {**{f"rnn.{k}": v for k, v in rnn.params.items()}, **{f"out.{k}": v for k, v in out.params.items()}}
    before = {k: v.copy() for k, v in params.items()}
    opt = optim.Adam(params, lr=0.01)
    opt.step({k: np.ones_like(v) for k, v in params.items()})
    for k, v in rnn.params.items():  # the layers' own arrays moved
        np.testing.assert_allclose(v, before[f"rnn.{k}"] - 0.01, rtol=1e-6)
    np.testing.assert_allclose(out.params["W"], before["out.W"] - 0.01, rtol=1e-6)


def test_clip_grad_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == 5.0
    a = grads["a"]
    assert clip_grad_norm(grads, 1.0) == 5.0  # returns the norm before clipping
    assert grads["a"] is a  # in place
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-15)  # exactly max_norm
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-15)  # direction kept
    np.testing.assert_allclose(grads["b"], [[0.8]], rtol=1e-15)


def test_clip_grad_norm_leaves_small_gradients_untouched():
    rng = np.random.default_rng(0)
    grads = {"a": rng.standard_normal(7), "b": rng.standard_normal((2, 3))}
    saved = {k: v.copy() for k, v in grads.items()}
    n = global_norm(grads)
    assert clip_grad_norm(grads, n * 1.5) == n
    assert clip_grad_norm(grads, n) == n  # at the threshold: untouched too
    for k in grads:
        np.testing.assert_array_equal(grads[k], saved[k])


def test_clip_grad_norm_on_a_layer():
    layer = rnnlib.LSTM(3, 4, seed=0)
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    layer.forward(x)
    layer.backward(100 * np.ones((2, 5, 4)))
    n = global_norm(layer.grads)
    assert n > 1.0
    np.testing.assert_allclose(n, np.sqrt(sum((g**2).sum() for g in layer.grads.values())), rtol=1e-14)
    optim.clip_grad_norm(layer.grads, 1.0)
    assert global_norm(layer.grads) == pytest.approx(1.0, rel=1e-14)
