r"""The simple (Elman) recurrent cell: one step, and a whole sequence.

Equation (row vectors, batch-first, see the notation page):

.. math:: h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)

with ``x_t`` (N, D), ``h_t`` (N, H), ``W_xh`` (D, H), ``W_hh`` (H, H),
``b_h`` (H,).

* :func:`rnn_step_forward` / :func:`rnn_step_backward` do one time step with
  an explicit cache (the form the chapters derive).
* :func:`rnn_forward` / :func:`rnn_backward` run a whole sequence, the fast
  way: the input projection ``x W_xh + b_h`` for all T steps is one matmul,
  each step does one recurrent matmul, and the weight gradients are single
  matmuls after the backward loop. Internally the loop runs time-major
  (T, N, H) so each step touches contiguous memory, and computes in place into
  preallocated buffers (``out=``), because at small batch sizes the time goes
  into per-call overhead and temporaries rather than arithmetic.

The four functions follow the calling convention of all three cells (the
table on the notation page): a state in, a state out; step and sequence
backwards return ``dx, dstate, grads`` with ``grads`` keyed like the
parameters; the final-state gradient of :func:`rnn_backward` is optional and
last. The simple RNN's state is the array ``h``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array
from rnnlib._loops import buffer, check_reuse, operand_views, operands_buffer, step_matmul_operands


class RNNStepCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from the forward step."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    h_next: np.ndarray  # (N, H), saved output: tanh' = 1 - h_next**2
    W_xh: np.ndarray  # (D, H)
    W_hh: np.ndarray  # (H, H)


def _check_weights(W_xh, W_hh, b_h):
    W_xh = check_array("W_xh", W_xh, ("D", "H"))
    D, H = W_xh.shape
    W_hh = check_array("W_hh", W_hh, ("H", "H"), (H, H))
    b_h = check_array("b_h", b_h, ("H",), (H,))
    return W_xh, W_hh, b_h


def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    r"""One step of the simple RNN.

    Parameters
    ----------
    x_t : ndarray (N, D)
        Input at time t.
    h_prev : ndarray (N, H)
        Hidden state :math:`h_{t-1}`.
    W_xh : ndarray (D, H)
    W_hh : ndarray (H, H)
    b_h : ndarray (H,)

    Returns
    -------
    h_next : ndarray (N, H)
        :math:`h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)`.
    cache : RNNStepCache
    """
    W_xh, W_hh, b_h = _check_weights(W_xh, W_hh, b_h)
    D, H = W_xh.shape
    x_t = check_array("x_t", x_t, ("N", "D"), (None, D))
    h_prev = check_array("h_prev", h_prev, ("N", "H"), (x_t.shape[0], H))
    h_next = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)  # (N, H)
    return h_next, RNNStepCache(x_t, h_prev, h_next, W_xh, W_hh)


def rnn_step_backward(dh_next, cache: RNNStepCache):
    r"""Backward of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh_next : ndarray (N, H)
        :math:`\partial L / \partial h_t`.
    cache : RNNStepCache

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
        :math:`\partial L / \partial h_{t-1}` (through this step only).
    grads : dict
        ``{"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,)}``, keyed like the parameters.
    """
    dh_next = check_array("dh_next", dh_next, ("N", "H"), cache.h_next.shape)
    # h_t = tanh(a_t), a_t = x_t W_xh + h_{t-1} W_hh + b_h
    da = dh_next * (1.0 - cache.h_next**2)  # (N, H)
    dx_t = da @ cache.W_xh.T  # (N, D)
    dh_prev = da @ cache.W_hh.T  # (N, H)
    grads = {"W_xh": cache.x_t.T @ da,  # (D, H)
             "W_hh": cache.h_prev.T @ da,  # (H, H)
             "b_h": da.sum(axis=0)}  # (H,)
    return dx_t, dh_prev, grads


class RNNCache(NamedTuple):
    """Cache of :func:`rnn_forward`, time-major."""

    xh: np.ndarray  # (T + 1, N, D + H): row t is [x_{t+1} | h_t] (see _loops.operands_buffer)
    da: np.ndarray  # (T, N, H): scratch for the backward's dL/da_t
    W_xh: np.ndarray  # (D, H)
    W_hh: np.ndarray  # (H, H)

    x, h0, hs = operand_views("W_xh")  # views of xh: (T, N, D), (N, H), (T, N, H)


def rnn_forward(x, h0, W_xh, W_hh, b_h, *, reuse=None):
    r"""Run the simple RNN over a whole sequence.

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0 : ndarray (N, H)
        Initial state :math:`h_0`.
    W_xh : ndarray (D, H)
    W_hh : ndarray (H, H)
    b_h : ndarray (H,)
    reuse : RNNCache, optional
        A cache of an earlier call whose buffers this call may overwrite (that
        cache is then invalid); the layer classes pass their previous one.

    Returns
    -------
    hs : ndarray (N, T, H)
        :math:`h_1, \dots, h_T`.
    h_T : ndarray (N, H)
        The final state (a copy of ``hs[:, -1]``).
    cache : RNNCache

    Notes
    -----
    ``x_t W_xh + b_h`` for all T steps is one matmul; step t adds
    ``h_{t-1} W_hh`` and writes ``h_t = tanh(a_t)`` next to x_{t+1} in one
    operands buffer (:func:`rnnlib._loops.operands_buffer`), which the
    backward uses for ``dW_xh`` and ``dW_hh`` in one matmul.
    """
    W_xh, W_hh, b_h = _check_weights(W_xh, W_hh, b_h)
    D, H = W_xh.shape
    x = check_array("x", x, ("N", "T", "D"), (None, None, D))
    N, T, _ = x.shape
    h0 = check_array("h0", h0, ("N", "H"), (N, H))
    reuse = check_reuse(reuse, RNNCache, "rnn_forward")
    dt = np.result_type(x, W_xh, b_h)
    xh = operands_buffer(x.transpose(1, 0, 2), h0, dt, reuse)  # (T + 1, N, D + H): [x_{t+1} | h_t]
    hs = xh[1:, :, D:]  # (T, N, H) view: a_t = x_t W_xh + b_h (+ h_{t-1} W_hh), then h_t in place
    # hoisted input projection, written straight into the h slots (rows of xh: a view)
    np.matmul(xh[:T, :, :D].reshape(T * N, D), W_xh, out=hs.reshape(T * N, H))
    hs += b_h
    W_hh_, hW = step_matmul_operands(W_hh, N, dt)  # hW: h_{t-1} W_hh (N, H)
    for t in range(T):
        a = hs[t]
        a += np.matmul(xh[t, :, D:], W_hh_, out=hW)  # a_t = x_t W_xh + b_h + h_{t-1} W_hh
        np.tanh(a, out=a)  # h_t = tanh(a_t)
    cache = RNNCache(xh, buffer(reuse, "da", (T, N, H), dt), W_xh, W_hh)
    # a copy, so a caller editing hs cannot corrupt the cache (.copy(), not
    # ascontiguousarray: with N == 1 or T == 1 the transpose may already be
    # contiguous and ascontiguousarray would return a view of the cache)
    return hs.transpose(1, 0, 2).copy(), hs[-1].copy(), cache


def rnn_backward(dhs, cache: RNNCache, dstate_T=None):
    r"""Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dhs : ndarray (N, T, H)
        :math:`\partial L / \partial h_t` from the layer above, every step.
    cache : RNNCache
    dstate_T : ndarray (N, H) or None
        Gradient with respect to the returned final state ``h_T``, beyond
        what ``dhs[:, -1]`` holds (``None`` = 0).

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict
        ``{"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,)}``.
    """
    T, N, H = cache.hs.shape
    D = cache.W_xh.shape[0]
    dt = cache.xh.dtype
    dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, H))
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, N, H)
    W_hhT, dh_next = step_matmul_operands(cache.W_hh.T, N, dt)  # dh_next: dL/dh_t from step t + 1
    dh_next[...] = 0.0 if dstate_T is None else check_array("dstate_T", dstate_T, ("N", "H"), (N, H))
    dh = np.empty((N, H), dt)
    da = cache.da  # (T, N, H): dL/da_t for every step
    hs = cache.hs
    for t in range(T - 1, -1, -1):
        np.add(dh_next, dhs_tm[t], out=dh)  # total gradient reaching h_t
        # h_t = tanh(a_t): tanh' = 1 - h_t^2, from the saved output
        da_t = np.square(hs[t], out=da[t])
        np.subtract(1.0, da_t, out=da_t)
        da_t *= dh  # dL/da_t = dL/dh_t ⊙ (1 - h_t^2)
        # a_t = x_t W_xh + h_{t-1} W_hh + b_h
        np.matmul(da_t, W_hhT, out=dh_next)  # dL/dh_{t-1}
    # the same equation for the weights: sums over all (t, n) rows, one matmul for
    # W_xh and W_hh together (rows [x_t | h_{t-1}] of the operands buffer)
    da2 = da.reshape(T * N, H)
    dW = cache.xh[:T].reshape(T * N, D + H).T @ da2  # (D + H, H)
    grads = {"W_xh": dW[:D], "W_hh": dW[D:], "b_h": da2.sum(axis=0)}
    dx = (da2 @ cache.W_xh.T).reshape(T, N, D).transpose(1, 0, 2)  # -> (N, T, D)
    return dx, np.ascontiguousarray(dh_next), grads
