"""Numerically stable activation functions.

The gates of the LSTM and the GRU are logistic sigmoids, the candidates and
the simple RNN use tanh, and classifiers end in a softmax. All three are
written so that inputs as large as +-1e4 give exact limits (0, 1, -1, ...)
without overflow warnings. Derivatives are taken from the saved *outputs*
in the backward passes (``s * (1 - s)``, ``1 - h**2``), so none is needed here.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(a) = 1 / (1 + e^{-a})`, elementwise.

    Parameters
    ----------
    a : ndarray, any shape
        Pre-activations.

    Returns
    -------
    s : ndarray, same shape and dtype as ``a``
        Values in [0, 1].

    Notes
    -----
    ``exp(-a)`` overflows for large negative ``a``. With ``e = exp(-|a|)``,
    which is always in (0, 1], :math:`\sigma(a) = 1 / (1 + e)` for
    :math:`a \ge 0` and :math:`e / (1 + e)` for :math:`a < 0`.
    """
    a = np.asarray(a)
    e = np.exp(-np.abs(a))
    # keep float32/float64; integer input gives float64 (casting back to int gave sigmoid(0) == 0)
    dt = a.dtype if a.dtype.kind == "f" else e.dtype
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(dt, copy=False)


def tanh(a: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent, elementwise (NumPy's ``tanh`` is already stable).

    Parameters
    ----------
    a : ndarray, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``a``, values in [-1, 1].
    """
    return np.tanh(a)


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``: :math:`e^{a_k - m} / \sum_j e^{a_j - m}`, m = max.

    Parameters
    ----------
    a : ndarray, e.g. logits (N, V) or (N, T, V)
    axis : int
        Axis holding the classes.

    Returns
    -------
    p : ndarray, same shape as ``a``; sums to 1 along ``axis``.
    """
    a = np.asarray(a)
    e = np.exp(a - a.max(axis=axis, keepdims=True))  # largest exponent is 0
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Log of the softmax, :math:`a_k - m - \log\sum_j e^{a_j - m}`, stable."""
    a = np.asarray(a)
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
