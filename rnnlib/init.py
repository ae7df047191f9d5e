r"""Weight initialisers and the parameter sets of the three cells.

* :func:`uniform` is PyTorch's default for recurrent layers:
  every tensor drawn from :math:`U(-1/\sqrt{H}, 1/\sqrt{H})`.
* :func:`xavier_uniform` (Glorot & Bengio 2010) keeps the variance of
  activations roughly constant across a layer: :math:`U(-a, a)`,
  :math:`a = \sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`.
* :func:`orthogonal` (Saxe et al. 2014) gives a matrix whose singular values
  are all 1, a common choice for ``W_hh`` (each gate block separately).

:func:`init_params` builds the parameter dict of an RNN, LSTM or GRU with a
chosen scheme, plus the two bias tricks the book measures: a positive
LSTM forget-gate bias (Gers et al. 2000; Jozefowicz et al. 2015) and a
positive GRU update-gate bias (both keep the state, and the gradient, longer).
Every function takes an explicit ``np.random.Generator``.
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnlib._checks import check_dtype, check_rng, check_size

SCHEMES = ("uniform", "xavier", "orthogonal")
KINDS = ("rnn", "lstm", "gru")
N_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}




def uniform(shape, hidden_size, rng, dtype=np.float64):
    r"""Draw from :math:`U(-1/\sqrt{H}, 1/\sqrt{H})`, PyTorch's recurrent default.

    Parameters
    ----------
    shape : tuple of int
    hidden_size : int
        H, which sets the bound.
    rng : np.random.Generator
    dtype : float32 or float64

    Returns
    -------
    ndarray of ``shape``
    """
    rng = check_rng(rng)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    shape = tuple(check_size(f"shape[{k}]", s) for k, s in enumerate(shape))  # named errors, not NumPy's
    bound = 1.0 / np.sqrt(check_size("hidden_size", hidden_size))
    return rng.uniform(-bound, bound, size=shape).astype(check_dtype(dtype))


def xavier_uniform(fan_in, fan_out, rng, dtype=np.float64):
    r"""Glorot uniform matrix (fan_in, fan_out), bound :math:`\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`."""
    rng = check_rng(rng)
    fan_in, fan_out = check_size("fan_in", fan_in), check_size("fan_out", fan_out)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(check_dtype(dtype))


def orthogonal(rows, cols, rng, dtype=np.float64):
    """A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian).

    The sign of each column is fixed by the diagonal of R so the draw is
    uniform over orthogonal matrices (Mezzadri 2007).
    """
    rng = check_rng(rng)
    rows, cols = check_size("rows", rows), check_size("cols", cols)
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))  # make the decomposition unique
    if rows < cols:
        q = q.T
    return q.astype(check_dtype(dtype))


def init_params(kind, input_size, hidden_size, rng, *, scheme="uniform", dtype=np.float64,
                forget_bias=0.0, update_bias=0.0, reset_after=True):
    """Parameters of one recurrent layer, with the keys its layer class uses.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"}
    input_size, hidden_size : int
        D and H.
    rng : np.random.Generator
    scheme : {"uniform", "xavier", "orthogonal"}
        ``"uniform"``: PyTorch's default for every tensor (biases too).
        ``"xavier"``: Glorot uniform ``W_x`` and ``W_h`` per gate block, zero biases.
        ``"orthogonal"``: Glorot ``W_x``, orthogonal ``W_h`` per gate block, zero biases.
    dtype : float32 or float64
    forget_bias : float
        Added to the LSTM forget-gate bias ``b_f`` (LSTM only).
    update_bias : float
        Added to the GRU update-gate bias ``b_z`` (GRU only).
    reset_after : bool
        GRU form; adds ``b_hn`` when True.

    Returns
    -------
    params : dict of ndarray
        RNN: ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,).
        LSTM: ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,), gates f, i, o, c_tilde.
        GRU: ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) [+ ``b_hn`` (H,)], gates z, r, h_tilde.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    D, H = check_size("input_size", input_size), check_size("hidden_size", hidden_size)
    dtype = check_dtype(dtype)
    rng = check_rng(rng)
    if forget_bias and kind != "lstm":
        raise ValueError(f"forget_bias applies to kind='lstm' only; got kind={kind!r}")
    if update_bias and kind != "gru":
        raise ValueError(f"update_bias applies to kind='gru' only; got kind={kind!r}")
    G = N_BLOCKS[kind]
    if scheme == "uniform":
        W_x = uniform((D, G * H), H, rng, dtype)
        W_h = uniform((H, G * H), H, rng, dtype)
        b = uniform((G * H,), H, rng, dtype)
        b_hn = uniform((H,), H, rng, dtype)
    else:
        W_x = np.concatenate([xavier_uniform(D, H, rng, dtype) for _ in range(G)], axis=1)
        make_h = orthogonal if scheme == "orthogonal" else xavier_uniform
        W_h = np.concatenate([make_h(H, H, rng, dtype) for _ in range(G)], axis=1)
        b = np.zeros(G * H, dtype)
        b_hn = np.zeros(H, dtype)
    if kind == "lstm":
        b[:H] += forget_bias  # f is the first block
    if kind == "gru":
        b[:H] += update_bias  # z is the first block
    if kind == "rnn":
        return {"W_xh": W_x, "W_hh": W_h, "b_h": b}
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    if kind == "gru" and reset_after:
        params["b_hn"] = b_hn
    return params
