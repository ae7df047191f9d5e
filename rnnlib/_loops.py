r"""Helpers for the whole-sequence loops of :mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`, :mod:`rnnlib.gru`.

The one-step functions allocate their results and read like the equations;
the sequence functions compute the same equations into preallocated buffers.
What they share lives here (NumPy only):

* :func:`halve_sigmoid_columns` and :func:`from_tanh_`: the sigmoid gates
  computed by the same ``tanh`` call as the candidate,
  :math:`\sigma(a) = (1 + \tanh(a/2))/2`;
* :func:`operands_buffer`: one buffer holding ``[x_t | h_{t-1}]`` for every
  step, so that ``dW_x`` and ``dW_h`` come from one matmul, and
  :func:`operand_views`, the caches' ``x``, ``h0``, ``hs`` views of it;
* :func:`buffer`: an empty buffer, or the same-shaped one of an earlier
  cache (the layers reuse their last pass's memory), and :func:`check_reuse`;
* :func:`step_matmul_operands`: the weight and the scratch buffer for the
  product done at every step, ``h_{t-1} W_h`` (forward) or ``da_t W_h^T``
  (backward), laid out for the fastest BLAS path.
"""

from __future__ import annotations

import numpy as np


def step_matmul_operands(W: np.ndarray, N: int, dtype) -> tuple:
    """The weight and an output buffer for the per-step product ``(N, K) @ W -> (N, M)``.

    Parameters
    ----------
    W : ndarray (K, M)
        ``W_h`` (forward) or the view ``W_h.T`` (backward).
    N : int
        Batch size.
    dtype : np.dtype
        Dtype of the product.

    Returns
    -------
    W : ndarray (K, M)
        The same values, column-major where that pays (a copy only if needed).
    out : ndarray (N, M)
        Empty buffer for ``np.matmul(h, W, out=out)``, column-major likewise.

    Notes
    -----
    OpenBLAS (Haswell kernels) multiplies a float32 batch by a weight matrix
    ~1.35x faster when the weight and the result are column-major: measured
    ~60 us saved per call for a (256, 1024) weight, for every N > 1. float64,
    and N = 1 (a matrix-vector product), gain nothing, so they keep row-major
    buffers and no copy. In the backward, ``W_h.T`` is already column-major.
    """
    K, M = W.shape
    if column_major_pays(N, dtype):
        return np.asfortranarray(W), np.empty((M, N), dtype).T
    return W, np.empty((N, M), dtype)


def column_major_pays(N: int, dtype) -> bool:
    """Whether :func:`step_matmul_operands` lays the per-step product out column-major (float32, N > 1)."""
    return np.dtype(dtype) == np.float32 and N > 1


def halve_sigmoid_columns(W_x, W_h, b, n_sigmoid, order_h="C"):
    r"""Copies of ``W_x``, ``W_h``, ``b`` with their first ``n_sigmoid`` columns halved.

    With these weights the pre-activation of a sigmoid gate comes out as
    :math:`a/2`, and :math:`\sigma(a) = (1 + \tanh(a/2)) / 2`: one ``tanh``
    call then covers the sigmoid gates and the candidate, and
    :func:`from_tanh_` finishes the sigmoid gates. Halving is exact in binary
    floating point (a power of two), so the products equal those of the
    original weights, halved, bit for bit. The sigmoid itself then differs
    from ``1 / (1 + exp(-a))`` by at most ~2.2e-16 *absolute* in float64
    (measured over a in [-60, 60]); for a closed gate that is a large
    *relative* error, because ``1 + tanh(a/2)`` cancels: 9e-9 relative at
    a = -20, 1.7e-4 at a = -30, and the result is exactly 0 for a below about
    -38 (where the true value is < 3e-17). Compare the fast and the step paths
    with an absolute tolerance (or a relative one on values not near 0).
    Measured at N = 32, H = 256 (one thread): the gates' nonlinearities take
    about 40% less time in float32 and about 10% less in float64.

    Parameters
    ----------
    W_x : ndarray (D, GH)
    W_h : ndarray (H, GH) or (H, K)
        Only its first ``n_sigmoid`` columns are halved.
    b : ndarray (GH,)
    n_sigmoid : int
        Number of leading columns that feed a sigmoid (3H for the LSTM, 2H for the GRU).
    order_h : {"C", "F"}
        Memory layout of the copy of ``W_h``: "F" where :func:`column_major_pays`,
        so that :func:`step_matmul_operands` need not copy it again.

    Returns
    -------
    W_x, W_h, b : ndarray
        New arrays, same shapes and dtypes.
    """
    out = []
    for W, order in ((W_x, "C"), (W_h, order_h), (b, "C")):
        W = W.copy(order=order)
        W[..., :n_sigmoid] *= 0.5
        out.append(W)
    return tuple(out)


def from_tanh_(s: np.ndarray) -> np.ndarray:
    """``s = (1 + s) / 2`` in place: turns ``tanh(a/2)`` into ``sigmoid(a)``; returns ``s``."""
    s *= 0.5
    s += 0.5
    return s


def check_reuse(reuse, cache_type, producer: str):
    """``reuse`` unchanged if it is ``None`` or a ``cache_type``; else a TypeError naming the argument."""
    if reuse is not None and not isinstance(reuse, cache_type):
        raise TypeError(f"reuse must be None or a {cache_type.__name__} returned by an earlier "
                        f"{producer}; got {type(reuse).__name__}")
    return reuse


def buffer(reuse, name: str, shape: tuple, dtype) -> np.ndarray:
    """``getattr(reuse, name)`` if it is a C-contiguous array of this shape and dtype, else ``np.empty``.

    Parameters
    ----------
    reuse : NamedTuple or None
        A cache returned by an earlier pass, whose buffers may be overwritten.
    name : str
        The cache field.
    shape : tuple of int
    dtype : np.dtype

    Notes
    -----
    Why reuse: a fresh buffer of a few MB comes from the operating system as
    new pages, which the kernel zeroes at first touch. Measured at N = 32,
    H = 256, one thread: 5-14% of a forward and backward pass went into these
    page faults (system time), for example 43 ms of 340 ms for a float64 LSTM at
    T = 200. The layer classes pass their previous cache, which a new forward
    replaces anyway.
    """
    old = getattr(reuse, name, None) if reuse is not None else None
    if (isinstance(old, np.ndarray) and old.shape == tuple(shape) and old.dtype == np.dtype(dtype)
            and old.flags.c_contiguous and old.flags.writeable):
        return old
    return np.empty(shape, dtype)


def operand_views(weight_field: str) -> tuple:
    """Properties ``x``, ``h0``, ``hs`` for a cache holding an operands buffer ``xh``.

    Use in the body of a cache class: ``x, h0, hs = operand_views("W_x")``,
    where the field ``weight_field`` is the input weight (D, GH), whose first
    axis gives the width D of the x part of each row of ``xh``.

    Returns
    -------
    x : property
        Inputs x_1..x_T, (T, N, D) (a view of ``xh``).
    h0 : property
        Initial state, (N, H) (a view).
    hs : property
        Hidden states h_1..h_T, (T, N, H) (a view).
    """
    def D(cache):
        return getattr(cache, weight_field).shape[0]
    return (property(lambda c: c.xh[:-1, :, : D(c)], doc="Inputs x_1..x_T, (T, N, D) (a view)."),
            property(lambda c: c.xh[0, :, D(c) :], doc="Initial state, (N, H) (a view)."),
            property(lambda c: c.xh[1:, :, D(c) :], doc="Hidden states h_1..h_T, (T, N, H) (a view)."))


def operands_buffer(x_tm: np.ndarray, h0: np.ndarray, dtype, reuse=None) -> np.ndarray:
    """A buffer (T + 1, N, D + H) whose row t holds the operands ``[x_{t+1} | h_t]`` of step t + 1.

    Parameters
    ----------
    x_tm : ndarray (T, N, D)
        The inputs, time-major (a view is fine: they are copied in).
    h0 : ndarray (N, H)
        The initial state, copied into row 0.
    dtype : np.dtype
    reuse : NamedTuple or None
        An earlier cache whose ``xh`` buffer may be overwritten (see :func:`buffer`).

    Returns
    -------
    ndarray (T + 1, N, D + H)
        ``xh[:T, :, :D]`` holds x (row T's x part stays unset: there is no step
        T + 1), ``xh[0, :, D:]`` holds h_0. The forward loop writes h_t into
        ``xh[t, :, D:]``, so that afterwards ``xh[1:, :, D:]`` is h_1..h_T and
        ``xh[:T].reshape(T * N, D + H).T @ da`` gives ``dW_x`` stacked on ``dW_h``
        in one matmul (faster than two: one pass over ``da`` instead of two).
    """
    T, N, D = x_tm.shape
    H = h0.shape[-1]
    xh = buffer(reuse, "xh", (T + 1, N, D + H), dtype)
    xh[:T, :, :D] = x_tm
    xh[T, :, :D] = 0.0
    xh[0, :, D:] = h0
    return xh
