"""Tests for rnnlib.experiments.carousel: the path ablations of chapters 2 and 3.

Each ablated backward pass is checked against finite differences of a forward pass in
which the blocked route is frozen (its value recorded from the unperturbed run), so the
ablations are checked independently of the backward code.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib.experiments import carousel as cs
from rnnlib.experiments import gradient_flow as gf

H, D, T = 3, 2, 4  # short: the hidden-only gradient of x_1 stays far above rounding


def _lstm_run(x, W_x, W_h, b, frozen=None, freeze=None):
    """sum(h_T) of an LSTM; ``freeze="h"`` feeds the gates the recorded h_{t-1},
    ``freeze="c"`` uses the recorded C_{t-1} in the cell update."""
    h, c, hs, cs_ = np.zeros((1, H)), np.zeros((1, H)), [], []
    for t in range(x.shape[1]):
        h_in = frozen[0][t] if freeze == "h" else h
        c_in = frozen[1][t] if freeze == "c" else c
        a = x[:, t] @ W_x + h_in @ W_h + b
        f, i, o = (rnnlib.sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
        hs.append(h), cs_.append(c)
        c = f * c_in + i * np.tanh(a[:, 3 * H:])
        h = o * np.tanh(c)
    return h.sum(), (hs, cs_)


def _gru_run(x, W_x, W_h, b, b_hn, frozen=None, freeze=None):
    """sum(h_T) of a GRU; ``freeze="gates"`` gives z, r, h~ the recorded h_{t-1},
    ``freeze="direct"`` uses the recorded h_{t-1} in z ⊙ h_{t-1}."""
    h, hs = np.zeros((1, H)), []
    for t in range(x.shape[1]):
        h_gates = frozen[t] if freeze == "gates" else h
        h_keep = frozen[t] if freeze == "direct" else h
        ax, ah = x[:, t] @ W_x + b, h_gates @ W_h
        z, r = rnnlib.sigmoid(ax[:, :H] + ah[:, :H]), rnnlib.sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        h_tilde = np.tanh(ax[:, 2 * H:] + r * (ah[:, 2 * H:] + b_hn))
        hs.append(h)
        h = z * h_keep + (1 - z) * h_tilde
    return h.sum(), hs


def _fd_profile(fun, x):
    return np.linalg.norm(rnnlib.numerical_gradient(lambda x_: fun(x_), x.copy()), axis=(0, 2))  # (T,)


@pytest.mark.parametrize("path, freeze", [("full", None), ("cell", "h"), ("hidden", "c")])
def test_lstm_paths_match_finite_differences_of_frozen_forwards(path, freeze):
    W_x, W_h, b, _ = cs.build("lstm", 1, H=H, D=D, forget_bias=1.0)
    x = np.random.default_rng(0).standard_normal((1, T, D))
    _, frozen = _lstm_run(x, W_x, W_h, b)
    num = _fd_profile(lambda x_: _lstm_run(x_, W_x, W_h, b, frozen, freeze)[0], x)
    g = cs.lstm_path_profile(W_x, W_h, b, x, path)
    assert g.shape == (T,) and rnnlib.rel_error(g[0], num[0]) < 1e-7 and rnnlib.rel_error(g, num) < 1e-7


@pytest.mark.parametrize("path, freeze", [("full", None), ("direct", "gates"), ("hidden", "direct")])
def test_gru_paths_match_finite_differences_of_frozen_forwards(path, freeze):
    W_x, W_h, b, b_hn = cs.build("gru", 2, H=H, D=D, update_bias=1.0)
    x = np.random.default_rng(1).standard_normal((1, T, D))
    frozen = _gru_run(x, W_x, W_h, b, b_hn)[1]
    num = _fd_profile(lambda x_: _gru_run(x_, W_x, W_h, b, b_hn, frozen, freeze)[0], x)
    g = cs.gru_path_profile(W_x, W_h, b, b_hn, x, path)
    assert g.shape == (T,) and rnnlib.rel_error(g[0], num[0]) < 1e-7 and rnnlib.rel_error(g, num) < 1e-7


def test_full_path_is_the_gradient_flow_measurement():
    x = np.random.default_rng([0, 40]).standard_normal((1, 40, 2))
    W_x, W_h, b, _ = cs.build("lstm", 0, forget_bias=3.0)
    layer = rnnlib.LSTM(2, 64, rng=np.random.default_rng(0), forget_bias=3.0)
    np.testing.assert_allclose(cs.lstm_path_profile(W_x, W_h, b, x), gf.input_gradient_profile(layer, x), rtol=1e-12)
    W_x, W_h, b, b_hn = cs.build("gru", 0, update_bias=3.0)
    layer = rnnlib.GRU(2, 64, rng=np.random.default_rng(0), update_bias=3.0)
    np.testing.assert_allclose(cs.gru_path_profile(W_x, W_h, b, b_hn, x), gf.input_gradient_profile(layer, x), rtol=1e-12)


def test_input_bias_shifts_only_the_input_gate():
    W_x, W_h, b, _ = cs.build("lstm", 0, H=4, forget_bias=3.0, input_bias=-3.0)
    ref = rnnlib.LSTM(2, 4, rng=np.random.default_rng(0), forget_bias=3.0).params["b"]
    np.testing.assert_array_equal(b - ref, np.r_[np.zeros(4), -3 * np.ones(4), np.zeros(8)])


def test_lyapunov_factor_of_uncoupled_units_is_the_largest_forget_gate():
    """W_h = 0 and x = 0: the backward product is diag(f)^T, so the growth is max_j f_j."""
    Hs = 4
    b = np.zeros(4 * Hs)
    b[:Hs] = [0.0, 1.0, 2.5, 1.5]  # forget biases: f = sigma(b_f), constant over time
    x = np.zeros((1, 300, 2))
    got = cs.lyapunov_factor(np.ones((2, 4 * Hs)), np.zeros((Hs, 4 * Hs)), b, x, burn_in=100)
    assert got == pytest.approx(float(rnnlib.sigmoid(np.array(2.5))), rel=1e-6)


def test_lyapunov_factor_matches_the_growth_of_the_full_gradient():
    """The full g_t grows or decays, over long distances, at the rate lyapunov_factor reports."""
    W_x, W_h, b, _ = cs.build("lstm", 3, forget_bias=3.0, input_bias=-3.0)
    x = np.random.default_rng(3).standard_normal((1, 400, 2))
    g = cs.lstm_path_profile(W_x, W_h, b, x)
    slope = np.exp(np.polyfit(np.arange(400)[:300], np.log(g[:300]), 1)[0])  # g_t vs t: 1 / factor
    assert 1 / slope == pytest.approx(cs.lyapunov_factor(W_x, W_h, b, x), rel=0.01)


@pytest.fixture(scope="module")
def summaries():
    """The chapter-2 settings at T = 400, seeds 0..4 (~3 s)."""
    return {"lstm": cs.path_summary("lstm", range(5), forget_bias=3.0),
            "lstm closed input": cs.path_summary("lstm", range(5), forget_bias=3.0, input_bias=-3.0),
            "gru": cs.path_summary("gru", range(5), update_bias=3.0)}


def test_summary_shapes_and_agreement_with_the_table(summaries):
    s = summaries["lstm"]
    assert set(s) == {"g_full", "g_cell", "g_hidden", "keep_product_median", "keep_product_max",
                      "keep_mean", "abs_c_median", "abs_c_max", "lyapunov"}
    assert all(v.shape == (5,) for v in s.values())
    table = gf.gradient_norm_table({"m": ("lstm", {"forget_bias": 3.0})}, T_values=(400,), seeds=range(5))
    np.testing.assert_allclose(s["g_full"], table.norms[0, 0], rtol=1e-12)
    assert set(summaries["gru"]) >= {"g_full", "g_direct", "g_hidden"}


def test_the_mechanism_the_book_states(summaries):
    """Chapter 2: with b_f + 3 neither pure route carries the gradient over 400 steps; the
    mixed routes do, growing ~1 per step. Closing the input gate makes the LSTM like the GRU."""
    s, closed, gru = summaries["lstm"], summaries["lstm closed input"], summaries["gru"]
    assert np.all(s["g_full"] > 1e3 * s["g_cell"]) and np.all(s["g_hidden"] < 1e-300)
    assert np.all(s["keep_product_max"] < 1e-4) and np.all(s["lyapunov"] > 0.98)
    assert np.all(s["abs_c_median"] > 0.5)
    assert np.all(closed["g_full"] < 1e-6) and np.all(closed["lyapunov"] < 0.98)
    assert np.all(gru["g_full"] < 1e-6) and np.all(gru["keep_mean"] > 0.94)


def test_bad_arguments_are_named():
    W_x, W_h, b, b_hn = cs.build("gru", 0, H=2)
    with pytest.raises(ValueError, match="path"):
        cs.gru_path_profile(W_x, W_h, b, b_hn, np.zeros((1, 3, 2)), "cell")
    with pytest.raises(ValueError, match="path"):
        cs.lstm_path_profile(*cs.build("lstm", 0, H=2)[:3], np.zeros((1, 3, 2)), "direct")
    with pytest.raises(ValueError, match="kind"):
        cs.build("rnn", 0)
    with pytest.raises(ValueError, match="T"):
        cs.path_summary("lstm", range(1), T=0)
