r"""Measurements behind the book's claims: pure NumPy, seeded, deterministic.

Chapter 1 measures how the gradient of the last hidden state with respect to
an earlier one shrinks or grows with the distance between them (the *lag*).
For any recurrent cell :math:`h_t = F(x_t, h_{t-1})` the chain rule gives

.. math::

    \frac{\partial h_T}{\partial h_t} = J_T J_{T-1} \cdots J_{t+1},
    \qquad J_s = \frac{\partial h_s}{\partial h_{s-1}} \in \mathbb{R}^{H \times H},

written in the usual column layout, :math:`(J_s)_{jk} = \partial h_{s,j} /
\partial h_{s-1,k}`. For the simple tanh RNN (row vectors, as in the code),
:math:`h_s = \tanh(x_s W_{xh} + h_{s-1} W_{hh} + b_h)` and

.. math:: J_s = \operatorname{diag}(1 - h_s^2)\, W_{hh}^\top .

The module is split the same way, so later chapters only add a Jacobian:

* :func:`rnn_step_jacobians` - the per-step :math:`J_s` of the tanh RNN
  (the LSTM and GRU chapters add theirs next to it);
* :func:`jacobian_products` / :func:`jacobian_product_norms` - the products
  :math:`\partial h_T / \partial h_{T-k}` for every lag :math:`k` and their
  norms, for any cell;
* :func:`hidden_jacobian_norms` - one tanh-RNN sequence, end to end;
* :func:`radius_sweep` - the chapter's experiment: norms against the lag for
  several spectral radii of :math:`W_{hh}`, median over seeds, set up by a
  :class:`RadiusExperiment`.

Norms are the *spectral* norm (largest singular value, ``ord="spectral"``):
the most any unit vector can be stretched. ``ord="fro"`` gives the Frobenius
norm instead. Only NumPy and the rnnlib core are imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnnlib._checks import check_rng
from rnnlib.rnn import rnn_forward

NORMS = ("spectral", "fro")




def _check_square(name, W):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square matrix (H, H); got shape {W.shape}")
    return W


def spectral_radius(W) -> float:
    r"""Largest absolute eigenvalue :math:`\rho(W) = \max_k |\lambda_k|` of a square matrix."""
    W = _check_square("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W, rho):
    r"""Return ``W`` rescaled so that its spectral radius is exactly ``rho``.

    Eigenvalues scale linearly, :math:`\rho(cW) = |c|\,\rho(W)`, so
    :math:`W \rho / \rho(W)` has radius ``rho`` (up to rounding).

    Parameters
    ----------
    W : ndarray (H, H)
        Must have a non-zero eigenvalue.
    rho : float, >= 0

    Returns
    -------
    ndarray (H, H), a new array.
    """
    W = _check_square("W", W)
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0; got {rho}")
    r = spectral_radius(W)
    if r == 0.0:
        raise ValueError("W has spectral radius 0 (nilpotent or zero); it cannot be rescaled")
    return W * (rho / r)


def random_rnn_params(input_size, hidden_size, rho, rng):
    r"""Parameters of a tanh RNN whose ``W_hh`` has spectral radius ``rho``.

    ``W_xh`` has entries :math:`N(0, 1/D)` (so :math:`x_t W_{xh}` has unit
    variance for unit-variance inputs), ``W_hh`` is a Gaussian matrix
    rescaled with :func:`scale_to_spectral_radius`, and ``b_h`` is zero.

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    rho : float
    rng : np.random.Generator

    Returns
    -------
    dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,), the keys of :class:`rnnlib.RNN`.
    """
    rng = check_rng(rng)
    D, H = int(input_size), int(hidden_size)
    W_xh = rng.standard_normal((D, H)) / np.sqrt(D)
    W_hh = scale_to_spectral_radius(rng.standard_normal((H, H)) / np.sqrt(H), rho)
    return {"W_xh": W_xh, "W_hh": W_hh, "b_h": np.zeros(H)}


def rnn_step_jacobians(hs, W_hh):
    r"""Per-step Jacobians :math:`J_s = \partial h_s / \partial h_{s-1}` of the tanh RNN.

    Parameters
    ----------
    hs : ndarray (T, H)
        The states :math:`h_1, \dots, h_T` of one sequence.
    W_hh : ndarray (H, H)

    Returns
    -------
    J : ndarray (T, H, H)
        ``J[s-1] = diag(1 - h_s**2) @ W_hh.T``, i.e.
        ``J[s-1][j, k]`` :math:`= \partial h_{s,j} / \partial h_{s-1,k}`.
    """
    hs = np.asarray(hs, dtype=np.float64)
    W_hh = _check_square("W_hh", W_hh)
    if hs.ndim != 2 or hs.shape[1] != W_hh.shape[0]:
        raise ValueError(f"hs must have shape (T, H) with H={W_hh.shape[0]}; got {hs.shape}")
    # h_s = tanh(a_s), a_s = ... + h_{s-1} W_hh  ->  da_s/dh_{s-1} = W_hh.T (column layout)
    return (1.0 - hs**2)[:, :, None] * W_hh.T[None, :, :]  # (T, H, H)


def jacobian_products(jacobians):
    r"""Products :math:`P_k = J_T J_{T-1} \cdots J_{T-k+1} = \partial h_T / \partial h_{T-k}`.

    Parameters
    ----------
    jacobians : ndarray (T, H, H)
        ``jacobians[s-1]`` is :math:`J_s = \partial h_s / \partial h_{s-1}`.

    Returns
    -------
    P : ndarray (T, H, H)
        ``P[k-1]`` is the Jacobian of :math:`h_T` with respect to
        :math:`h_{T-k}`, for lags ``k = 1 .. T`` (``P[T-1]`` is
        :math:`\partial h_T / \partial h_0`).
    """
    J = np.asarray(jacobians, dtype=np.float64)
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise ValueError(f"jacobians must have shape (T, H, H); got {J.shape}")
    T, H, _ = J.shape
    P = np.empty_like(J)
    prod = np.eye(H)
    for k in range(1, T + 1):
        prod = prod @ J[T - k]  # multiply on the right: one step further back in time
        P[k - 1] = prod
    return P


def _matrix_norms(P, ord):
    if ord == "spectral":
        return np.linalg.norm(P, ord=2, axis=(1, 2))
    if ord == "fro":
        return np.linalg.norm(P, ord="fro", axis=(1, 2))
    raise ValueError(f"ord must be one of {NORMS}; got {ord!r}")


def jacobian_product_norms(jacobians, ord="spectral"):
    r"""Norms :math:`\lVert \partial h_T / \partial h_{T-k} \rVert` for lags ``k = 1 .. T``.

    Parameters
    ----------
    jacobians : ndarray (T, H, H)
        Per-step Jacobians, as returned by :func:`rnn_step_jacobians`.
    ord : {"spectral", "fro"}
        Spectral norm (largest singular value) or Frobenius norm.

    Returns
    -------
    lags : ndarray (T,) of int
        ``1, 2, ..., T``.
    norms : ndarray (T,)
        ``norms[k-1]`` is the norm at lag ``k``.
    """
    P = jacobian_products(jacobians)
    return np.arange(1, P.shape[0] + 1), _matrix_norms(P, ord)


def hidden_jacobian_norms(params, x, h0=None, ord="spectral"):
    r"""Run a tanh RNN over one sequence and measure :math:`\lVert \partial h_T / \partial h_{T-k} \rVert`.

    Parameters
    ----------
    params : dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,).
    x : ndarray (T, D)
        One input sequence (batch of one).
    h0 : ndarray (H,), optional
        Initial state; zeros by default.
    ord : {"spectral", "fro"}

    Returns
    -------
    lags : ndarray (T,) of int
    norms : ndarray (T,)
    hs : ndarray (T, H)
        The states, to see how saturated they are.
    """
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence of shape (T, D); got shape {x.shape}")
    H = W_hh.shape[0]
    h0 = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    hs, _, _ = rnn_forward(x[None], h0[None], W_xh, W_hh, b_h)  # (1, T, H)
    hs = hs[0]  # (T, H)
    lags, norms = jacobian_product_norms(rnn_step_jacobians(hs, W_hh), ord=ord)
    return lags, norms, hs


@dataclass(frozen=True)
class RadiusExperiment:
    """Set-up of the spectral-radius experiment (:func:`radius_sweep`)."""

    hidden_size: int = 32  # H
    input_size: int = 8  # D
    steps: int = 60  # T: the longest lag measured
    input_scale: float = 1.0  # std of the inputs x_t; 0 keeps h_t = 0: the linear regime
    n_seeds: int = 5  # independent (W_xh, W_hh, x) draws; the median is reported
    seed: int = 0  # base seed: draw s uses np.random.default_rng([seed, s])
    ord: str = "spectral"  # matrix norm: "spectral" or "fro"

    def linear(self) -> "RadiusExperiment":
        """The same experiment with zero inputs (tanh never leaves its linear part)."""
        return replace(self, input_scale=0.0)


def radius_sweep(radii, config: RadiusExperiment = RadiusExperiment()):
    r"""Measure :math:`\lVert \partial h_T / \partial h_{T-k} \rVert` against the lag for several radii.

    For each seed ``s`` one Gaussian ``W_hh`` direction, one ``W_xh`` and
    one input sequence :math:`x_t \sim N(0, \text{input\_scale}^2)` are drawn
    (``np.random.default_rng([config.seed, s])``); ``W_hh`` is then rescaled
    to each radius, so the curves differ only in the radius. With
    ``h_0 = 0``, ``b_h = 0`` and ``input_scale = 0`` every state stays 0,
    :math:`1 - h^2 = 1`, and :math:`\partial h_T / \partial h_{T-k} =
    (W_{hh}^\top)^k` exactly: the linear regime.

    Parameters
    ----------
    radii : sequence of float
    config : RadiusExperiment

    Returns
    -------
    lags : ndarray (T,) of int
        ``1 .. config.steps``.
    norms : ndarray (len(radii), T)
        Median over the seeds of the norm at each lag.
    """
    radii = [float(r) for r in radii]
    T, H, D = config.steps, config.hidden_size, config.input_size
    all_norms = np.empty((len(radii), config.n_seeds, T))
    for s in range(config.n_seeds):
        rng = np.random.default_rng([config.seed, s])
        base = random_rnn_params(D, H, 1.0, rng)  # radius 1, rescaled below
        x = config.input_scale * rng.standard_normal((T, D))
        for j, rho in enumerate(radii):
            params = dict(base, W_hh=base["W_hh"] * rho)  # radius exactly rho
            _, all_norms[j, s], _ = hidden_jacobian_norms(params, x, ord=config.ord)
    return np.arange(1, T + 1), np.median(all_norms, axis=1)


def states_for_radius(rho, config: RadiusExperiment = RadiusExperiment(), seed_index: int = 0):
    """The states ``(T, H)`` of draw ``seed_index`` of :func:`radius_sweep` at radius ``rho``."""
    rng = np.random.default_rng([config.seed, seed_index])
    base = random_rnn_params(config.input_size, config.hidden_size, 1.0, rng)
    x = config.input_scale * rng.standard_normal((config.steps, config.input_size))
    params = dict(base, W_hh=base["W_hh"] * float(rho))
    return hidden_jacobian_norms(params, x, ord=config.ord)[2]


def classify_regime(norm, low=1e-2, high=1e2) -> str:
    """``"vanish"`` below ``low``, ``"explode"`` above ``high``, else ``"neither"``."""
    if norm < low:
        return "vanish"
    if norm > high:
        return "explode"
    return "neither"
