"""rnnlib.experiments.radius: spectral-radius scaling and the Jacobian-norm measurements."""

import numpy as np
import pytest

from rnnlib.experiments import radius as E
from rnnlib import rnn_step_forward


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- spectral radius --------------------------------------------------------
@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0, 1.7, 3.0])
def test_scale_to_spectral_radius_is_exact(rho):
    W = _rng(1).standard_normal((12, 12))
    scaled = E.scale_to_spectral_radius(W, rho)
    assert E.spectral_radius(scaled) == pytest.approx(rho, abs=1e-12)
    assert scaled is not W and np.all(np.isfinite(scaled))
    # the direction is kept: a positive multiple of W
    if rho > 0:
        ratio = scaled / W
        assert np.allclose(ratio, ratio.flat[0])


def test_spectral_radius_of_known_matrix():
    W = np.array([[0.0, 2.0], [-2.0, 0.0]])  # eigenvalues +-2i
    assert E.spectral_radius(W) == pytest.approx(2.0)
    assert E.spectral_radius(np.diag([0.5, -3.0, 1.0])) == pytest.approx(3.0)


def test_scale_to_spectral_radius_rejects_bad_input():
    with pytest.raises(ValueError, match="spectral radius 0"):
        E.scale_to_spectral_radius(np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="rho"):
        E.scale_to_spectral_radius(np.eye(3), -1.0)
    with pytest.raises(ValueError, match="square"):
        E.scale_to_spectral_radius(np.ones((2, 3)), 1.0)


def test_random_rnn_params_shapes_and_radius():
    p = E.random_rnn_params(5, 7, 1.3, _rng())
    assert p["W_xh"].shape == (5, 7) and p["W_hh"].shape == (7, 7) and p["b_h"].shape == (7,)
    assert E.spectral_radius(p["W_hh"]) == pytest.approx(1.3, abs=1e-12)
    with pytest.raises(TypeError, match="Generator"):
        E.random_rnn_params(5, 7, 1.0, 0)


# --- Jacobians against finite differences -----------------------------------
def _tiny_rnn(seed=3, D=2, H=3, T=5):
    rng = _rng(seed)
    params = {"W_xh": rng.standard_normal((D, H)), "W_hh": rng.standard_normal((H, H)) * 0.8,
              "b_h": rng.standard_normal(H) * 0.3}
    x = rng.standard_normal((T, D))
    return params, x


def _run_from(params, x, h_start, t_start):
    """h_T as a function of h_{t_start} (0-based: x[t_start:] are the remaining inputs)."""
    h = h_start[None]
    for t in range(t_start, x.shape[0]):
        h, _ = rnn_step_forward(x[t][None], h, params["W_xh"], params["W_hh"], params["b_h"])
    return h[0]


def _fd_jacobian(f, h, eps=1e-6):
    J = np.empty((f(h).size, h.size))
    for k in range(h.size):
        e = np.zeros_like(h)
        e[k] = eps
        J[:, k] = (f(h + e) - f(h - e)) / (2 * eps)
    return J


def test_step_jacobian_matches_finite_differences():
    params, x = _tiny_rnn()
    _, _, hs = E.hidden_jacobian_norms(params, x)
    J = E.rnn_step_jacobians(hs, params["W_hh"])
    assert J.shape == (5, 3, 3)
    # J[s-1] = d h_s / d h_{s-1}; for s = 1 the previous state is h_0 = 0
    h_prev = [np.zeros(3)] + list(hs[:-1])
    for s in range(1, 6):
        fd = _fd_jacobian(lambda h: _run_from(params, x[: s], h, s - 1), h_prev[s - 1])
        assert np.allclose(J[s - 1], fd, atol=1e-8)


def test_jacobian_products_match_finite_differences_at_every_lag():
    params, x = _tiny_rnn()
    T = x.shape[0]
    _, norms, hs = E.hidden_jacobian_norms(params, x)
    P = E.jacobian_products(E.rnn_step_jacobians(hs, params["W_hh"]))
    states = [np.zeros(3)] + list(hs)  # states[t] = h_t
    for k in range(1, T + 1):
        t = T - k
        fd = _fd_jacobian(lambda h: _run_from(params, x, h, t), states[t])
        assert np.allclose(P[k - 1], fd, atol=1e-8), k
        assert norms[k - 1] == pytest.approx(np.linalg.norm(fd, 2), rel=1e-6)


def test_frobenius_option_and_bad_ord():
    params, x = _tiny_rnn()
    _, spec, hs = E.hidden_jacobian_norms(params, x, ord="spectral")
    _, fro, _ = E.hidden_jacobian_norms(params, x, ord="fro")
    P = E.jacobian_products(E.rnn_step_jacobians(hs, params["W_hh"]))
    assert np.allclose(fro, [np.linalg.norm(p, "fro") for p in P])
    assert np.all(fro >= spec - 1e-12)
    with pytest.raises(ValueError, match="ord"):
        E.jacobian_product_norms(E.rnn_step_jacobians(hs, params["W_hh"]), ord="max")


def test_linear_regime_is_the_matrix_power():
    # zero input, zero bias, h0 = 0: every state is 0 and d h_T / d h_{T-k} = (W_hh.T)^k exactly
    p = E.random_rnn_params(4, 6, 1.4, _rng(5))
    x = np.zeros((8, 4))
    lags, norms, hs = E.hidden_jacobian_norms(p, x)
    assert np.all(hs == 0)
    expected = [np.linalg.norm(np.linalg.matrix_power(p["W_hh"].T, k), 2) for k in lags]
    assert np.allclose(norms, expected, rtol=1e-12)


# --- the sweep ----------------------------------------------------------------
def test_radius_sweep_linear_regime_vanishes_below_one_and_explodes_above():
    cfg = E.RadiusExperiment(steps=50).linear()
    lags, norms = E.radius_sweep([0.5, 0.8, 1.0, 1.5, 3.0], cfg)
    assert lags.tolist() == list(range(1, 51))
    assert norms.shape == (5, 50)
    assert norms[0, -1] < 1e-10 and norms[1, -1] < 1e-3  # vanish
    assert np.all(np.diff(norms[0, 5:]) < 0)
    assert 1e-2 < norms[2, -1] < 1e2  # radius 1: neither
    assert norms[3, -1] > 1e6 and norms[4, -1] > 1e20  # explode
    # asymptotically the growth rate per step is the radius
    rate = (norms[4, -1] / norms[4, -11]) ** (1 / 10)
    assert rate == pytest.approx(3.0, rel=0.05)


def test_radius_sweep_saturation_shrinks_the_gradient():
    lags, driven = E.radius_sweep([1.5, 3.0], E.RadiusExperiment())
    _, linear = E.radius_sweep([1.5, 3.0], E.RadiusExperiment().linear())
    assert np.all(driven[:, -1] < linear[:, -1] * 1e-3)
    assert driven[0, -1] < 1.0  # radius 1.5 with unit inputs: vanishes
    hs = E.states_for_radius(3.0)
    assert hs.shape == (60, 32) and np.mean(np.abs(hs) > 0.95) > 0.3


def test_radius_sweep_is_deterministic_and_seeded():
    a = E.radius_sweep([0.9, 2.0], E.RadiusExperiment(steps=20))[1]
    b = E.radius_sweep([0.9, 2.0], E.RadiusExperiment(steps=20))[1]
    c = E.radius_sweep([0.9, 2.0], E.RadiusExperiment(steps=20, seed=1))[1]
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_classify_regime():
    assert E.classify_regime(1e-5) == "vanish"
    assert E.classify_regime(3.0) == "neither"
    assert E.classify_regime(1e5) == "explode"
    assert E.classify_regime(0.5, low=1.0) == "vanish"
