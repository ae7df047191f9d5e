r"""The LSTM cell: one step, a whole sequence, and the gate stacking.

Equations (row vectors, batch-first; :math:`\sigma` the logistic sigmoid,
:math:`\odot` the elementwise product):

.. math::

    f_t &= \sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f) \\
    i_t &= \sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i) \\
    o_t &= \sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o) \\
    \tilde C_t &= \tanh(x_t W_{xc} + h_{t-1} W_{hc} + b_c) \\
    C_t &= f_t \odot C_{t-1} + i_t \odot \tilde C_t \\
    h_t &= o_t \odot \tanh(C_t)

rnnlib stacks the four gates along the last axis in the order
**f, i, o, c_tilde** (:data:`GATES`): ``W_x`` is (D, 4H), ``W_h`` (H, 4H),
``b`` (4H,). The three sigmoid gates are contiguous, so one ``sigmoid`` call
covers ``[:, :3H]`` and one ``tanh`` the last ``H`` columns. PyTorch stacks
i, f, g, o and Keras i, f, c, o: :mod:`rnnlib.torch_io` converts.

The one-step functions compute the pointwise part (everything after the
matmuls) with two private functions that allocate their results and read
like the equations. The whole-sequence functions compute the same equations
in place, into slices of preallocated time-major buffers (``out=`` arguments,
one comment per equation), because at small batch sizes the time goes into
per-call overhead and temporaries rather than arithmetic; the tests check the
two against each other and against PyTorch.

The four functions follow the calling convention of all three cells (the
table on the notation page), with the LSTM's state the pair ``(h, c)`` where
the other cells have one array: ``(h_next, c_next), cache =
lstm_step_forward(x_t, (h_prev, c_prev), W_x, W_h, b)``, ``dx_t, (dh_prev,
dc_prev), grads = lstm_step_backward((dh_next, dc_next), cache)``, and the
same for a sequence, the final-state gradient optional and last.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array, check_state_pair
from rnnlib._loops import (buffer, check_reuse, column_major_pays, from_tanh_, halve_sigmoid_columns,
                     operand_views, operands_buffer, step_matmul_operands)
from rnnlib.activations import sigmoid

GATES = ("f", "i", "o", "c_tilde")
"""Order of the four gate blocks along the last axis of ``W_x``, ``W_h``, ``b``."""


def split_gates(a: np.ndarray) -> dict:
    """Split a stacked array (..., 4H) into ``{"f", "i", "o", "c_tilde"}`` blocks (..., H).

    Works for weights ``W_x`` (D, 4H), ``W_h`` (H, 4H), bias ``b`` (4H,) and
    pre-activations (N, 4H). The blocks are views.
    """
    a = np.asarray(a)
    if a.ndim < 1 or a.shape[-1] % 4 != 0:
        raise ValueError(f"a must have a last axis of size 4H (f, i, o, c_tilde stacked); got shape {a.shape}")
    return dict(zip(GATES, np.split(a, 4, axis=-1)))


def stack_gates(f, i, o, c_tilde) -> np.ndarray:
    """Inverse of :func:`split_gates`: concatenate blocks (..., H) into (..., 4H)."""
    blocks = [np.asarray(v) for v in (f, i, o, c_tilde)]
    if len({v.shape for v in blocks}) != 1:  # else a wrong H would concatenate silently
        raise ValueError(f"f, i, o, c_tilde must all have the same shape (..., H); got "
                         f"{[v.shape for v in blocks]}")
    return np.concatenate(blocks, axis=-1)


def _pointwise(a, c_prev):
    """Gates and new state from pre-activations ``a`` (N, 4H) and ``c_prev`` (N, H)."""
    H = c_prev.shape[-1]
    s = sigmoid(a[:, : 3 * H])  # f, i, o together
    f, i, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :]
    c_tilde = np.tanh(a[:, 3 * H :])
    c = f * c_prev + i * c_tilde  # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
    tanh_c = np.tanh(c)
    h = o * tanh_c  # h_t = o ⊙ tanh(C_t)
    return f, i, o, c_tilde, c, tanh_c, h


def _pointwise_backward(dh, dc, c_prev, f, i, o, c_tilde, tanh_c):
    """Gradient w.r.t. the pre-activations (N, 4H) and ``c_prev`` (N, H).

    ``dh`` and ``dc`` are the total gradients reaching h_t and C_t from above.
    """
    # h_t = o ⊙ tanh(C_t)
    do = dh * tanh_c
    dc = dc + dh * o * (1.0 - tanh_c**2)
    # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
    df = dc * c_prev
    di = dc * c_tilde
    dc_tilde = dc * i
    dc_prev = dc * f
    # gates: sigma' = s (1 - s), tanh' = 1 - C~^2, from the saved outputs
    da = np.concatenate(
        [df * f * (1.0 - f), di * i * (1.0 - i), do * o * (1.0 - o), dc_tilde * (1.0 - c_tilde**2)],
        axis=1,
    )  # (N, 4H), order f, i, o, c_tilde
    return da, dc_prev


def _check_weights(W_x, W_h, b):
    W_x = check_array("W_x", W_x, ("D", "4H"))
    D, H4 = W_x.shape
    if H4 % 4:
        raise ValueError(f"W_x must have shape (D, 4H) (gates f, i, o, c_tilde stacked); got {W_x.shape}")
    W_h = check_array("W_h", W_h, ("H", "4H"), (H4 // 4, H4))
    b = check_array("b", b, ("4H",), (H4,))
    return W_x, W_h, b


class LSTMStepCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from the forward step."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    f: np.ndarray  # (N, H) forget gate
    i: np.ndarray  # (N, H) input gate
    o: np.ndarray  # (N, H) output gate
    c_tilde: np.ndarray  # (N, H) candidate
    c_next: np.ndarray  # (N, H) C_t
    tanh_c: np.ndarray  # (N, H) tanh(C_t)
    W_x: np.ndarray  # (D, 4H)
    W_h: np.ndarray  # (H, 4H)


def lstm_step_forward(x_t, state_prev, W_x, W_h, b):
    r"""One LSTM step (gates stacked f, i, o, c_tilde).

    Parameters
    ----------
    x_t : ndarray (N, D)
    state_prev : tuple (h_prev, c_prev) of ndarray (N, H)
        :math:`h_{t-1}` and :math:`C_{t-1}`.
    W_x : ndarray (D, 4H)
    W_h : ndarray (H, 4H)
    b : ndarray (4H,)

    Returns
    -------
    state_next : tuple (h_next, c_next) of ndarray (N, H)
        :math:`h_t = o_t \odot \tanh(C_t)` and
        :math:`C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t`.
    cache : LSTMStepCache
    """
    W_x, W_h, b = _check_weights(W_x, W_h, b)
    D, H = W_x.shape[0], W_h.shape[0]
    x_t = check_array("x_t", x_t, ("N", "D"), (None, D))
    h_prev, c_prev = check_state_pair("state_prev", state_prev, ("h_prev", "c_prev"), (x_t.shape[0], H))
    a = x_t @ W_x + h_prev @ W_h + b  # (N, 4H) pre-activations of f, i, o, c_tilde
    f, i, o, c_tilde, c, tanh_c, h = _pointwise(a, c_prev)
    return (h, c), LSTMStepCache(x_t, h_prev, c_prev, f, i, o, c_tilde, c, tanh_c, W_x, W_h)


def lstm_step_backward(dstate_next, cache: LSTMStepCache):
    r"""Backward of :func:`lstm_step_forward`.

    Parameters
    ----------
    dstate_next : tuple (dh_next, dc_next) of ndarray (N, H) or None
        :math:`\partial L / \partial h_t` (total), and
        :math:`\partial L / \partial C_t` arriving from step t + 1 (not via
        h_t); either may be ``None`` (zeros).
    cache : LSTMStepCache

    Returns
    -------
    dx_t : ndarray (N, D)
    dstate_prev : tuple (dh_prev, dc_prev) of ndarray (N, H)
    grads : dict
        ``{"W_x": (D, 4H), "W_h": (H, 4H), "b": (4H,)}``, keyed like the parameters.
    """
    shape = cache.c_next.shape
    dh_next, dc_next = (np.zeros(shape, cache.c_next.dtype) if d is None else d for d in check_state_pair(
        "dstate_next", dstate_next, ("dh_next", "dc_next"), shape, allow_none=True))  # None -> zeros
    da, dc_prev = _pointwise_backward(
        dh_next, dc_next, cache.c_prev, cache.f, cache.i, cache.o, cache.c_tilde, cache.tanh_c
    )
    # a = x_t W_x + h_{t-1} W_h + b
    dx_t = da @ cache.W_x.T  # (N, D)
    dh_prev = da @ cache.W_h.T  # (N, H)
    grads = {"W_x": cache.x_t.T @ da, "W_h": cache.h_prev.T @ da, "b": da.sum(axis=0)}
    return dx_t, (dh_prev, dc_prev), grads


class LSTMCache(NamedTuple):
    """Cache of :func:`lstm_forward`, time-major (T, N, ...)."""

    xh: np.ndarray  # (T + 1, N, D + H): row t is [x_{t+1} | h_t] (see _loops.operands_buffer)
    c0: np.ndarray  # (N, H)
    gates: np.ndarray  # (T, N, 4H): f, i, o, c_tilde after their nonlinearity
    cs: np.ndarray  # (T, N, H): C_1..C_T
    tanh_cs: np.ndarray  # (T, N, H)
    da: np.ndarray  # (T, N, 4H): scratch for the backward's dL/da_t
    W_x: np.ndarray
    W_h: np.ndarray

    x, h0, hs = operand_views("W_x")  # views of xh: (T, N, D), (N, H), (T, N, H)


def lstm_forward(x, state0, W_x, W_h, b, *, reuse=None):
    r"""Run the LSTM over a sequence (hoisted input projection, fused gates).

    Parameters
    ----------
    x : ndarray (N, T, D)
    state0 : tuple (h0, c0) of ndarray (N, H)
        Initial hidden and cell states.
    W_x : ndarray (D, 4H)
    W_h : ndarray (H, 4H)
    b : ndarray (4H,)
    reuse : LSTMCache, optional
        A cache of an earlier call whose buffers this call may overwrite (that
        cache is then invalid); the layer classes pass their previous one.

    Returns
    -------
    hs : ndarray (N, T, H)
    state_T : tuple (h_T, c_T) of ndarray (N, H)
        Final hidden state (a copy of ``hs[:, -1]``) and cell state.
    cache : LSTMCache

    Notes
    -----
    The equations of :mod:`rnnlib.lstm`, computed in place: ``x_t W_x + b`` for
    all T steps is one matmul into the ``gates`` buffer (T, N, 4H); step t adds
    ``h_{t-1} W_h`` (one matmul for the four gates) and applies the
    nonlinearities in place, so that ``gates[t]`` ends up holding f, i, o, C~.
    The sigmoid gates use :math:`\sigma(a) = (1 + \tanh(a/2))/2` with halved
    weight columns (:func:`rnnlib._loops.halve_sigmoid_columns`), so one
    ``tanh`` call covers all four blocks. h_t is written next to x_{t+1} in
    one operands buffer (:func:`rnnlib._loops.operands_buffer`).
    """
    W_x, W_h, b = _check_weights(W_x, W_h, b)
    D, H = W_x.shape[0], W_h.shape[0]
    x = check_array("x", x, ("N", "T", "D"), (None, None, D))
    N, T, _ = x.shape
    h0, c0 = check_state_pair("state0", state0, ("h0", "c0"), (N, H))
    reuse = check_reuse(reuse, LSTMCache, "lstm_forward")
    dt = np.result_type(x, W_x, b)
    xh = operands_buffer(x.transpose(1, 0, 2), h0, dt, reuse)  # (T + 1, N, D + H): [x_{t+1} | h_t]
    hs = xh[1:, :, D:]  # (T, N, H) view: h_1..h_T, written by the loop
    order = "F" if column_major_pays(N, dt) else "C"  # W_h's layout for step_matmul_operands
    W_x2, W_h2, b2 = halve_sigmoid_columns(W_x, W_h, b, 3 * H, order)  # f, i, o columns halved
    gates = buffer(reuse, "gates", (T, N, 4 * H), dt)  # a_t = x_t W_x + b (+ h_{t-1} W_h), then f, i, o, C~
    np.matmul(xh[:T, :, :D].reshape(T * N, D), W_x2, out=gates.reshape(T * N, 4 * H))  # hoisted input projection
    gates += b2
    cs, tanh_cs = (buffer(reuse, name, (T, N, H), dt) for name in ("cs", "tanh_cs"))
    g = split_gates(gates)  # views (T, N, H) per gate
    sig = gates[:, :, : 3 * H]  # f, i, o
    W_h_, hW = step_matmul_operands(W_h2, N, dt)  # hW: h_{t-1} W_h (N, 4H)
    ic = np.empty((N, H), dt)  # i ⊙ C~
    c = c0
    for t in range(T):
        a = gates[t]
        a += np.matmul(xh[t, :, D:], W_h_, out=hW)  # a_t = x_t W_x + b + h_{t-1} W_h (f, i, o halved)
        np.tanh(a, out=a)  # tanh(a/2) for f, i, o; C~_t = tanh(a_t[C~])
        from_tanh_(sig[t])  # f, i, o = (1 + tanh(a/2)) / 2 = sigma(a)
        c = np.multiply(g["f"][t], c, out=cs[t])  # C_t = f ⊙ C_{t-1}
        c += np.multiply(g["i"][t], g["c_tilde"][t], out=ic)  #     + i ⊙ C~_t
        tanh_c = np.tanh(c, out=tanh_cs[t])
        np.multiply(g["o"][t], tanh_c, out=hs[t])  # h_t = o ⊙ tanh(C_t)
    cache = LSTMCache(xh, c0, gates, cs, tanh_cs, buffer(reuse, "da", (T, N, 4 * H), dt), W_x, W_h)
    # copies, never views of the cache (see rnn_forward)
    return hs.transpose(1, 0, 2).copy(), (hs[-1].copy(), cs[-1].copy()), cache


def lstm_backward(dhs, cache: LSTMCache, dstate_T=None):
    r"""Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dhs : ndarray (N, T, H)
    cache : LSTMCache
    dstate_T : tuple (dh_T, dc_T) of ndarray (N, H) or None, or None
        Gradients w.r.t. the returned final state: ``dh_T`` beyond what
        ``dhs[:, -1]`` holds, and ``dc_T`` (``None``, for the pair or either
        entry, = 0).

    Returns
    -------
    dx : ndarray (N, T, D)
    dstate0 : tuple (dh0, dc0) of ndarray (N, H)
    grads : dict
        ``{"W_x": (D, 4H), "W_h": (H, 4H), "b": (4H,)}``.
    """
    T, N, H = cache.cs.shape
    D = cache.W_x.shape[0]
    dt = cache.cs.dtype
    dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, H))
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, N, H)
    W_hT, dh_next = step_matmul_operands(cache.W_h.T, N, dt)  # dh_next: dL/dh_t from step t + 1
    dh_T, dc_T = (None, None) if dstate_T is None else check_state_pair(
        "dstate_T", dstate_T, ("dh_T", "dc_T"), (N, H), allow_none=True)
    dh_next[...] = 0.0 if dh_T is None else dh_T
    dc = np.zeros((N, H), dt) if dc_T is None else dc_T.astype(dt)  # a copy: updated in place
    g = split_gates(cache.gates)  # views (T, N, H): f, i, o, c_tilde
    sig, cand = slice(0, 3 * H), slice(3 * H, 4 * H)  # the f, i, o block | the C~ block
    da = cache.da  # (T, N, 4H): dL/da_t for every step
    dgates = np.empty((N, 4 * H), dt)  # dL/d(f, i, o, C~) at step t
    dg = split_gates(dgates)
    local = np.empty((N, 4 * H), dt)  # d(f, i, o, C~)/da_t at step t
    dh, tmp = np.empty((N, H), dt), np.empty((N, H), dt)
    for t in range(T - 1, -1, -1):
        c_prev = cache.cs[t - 1] if t > 0 else cache.c0
        tanh_c = cache.tanh_cs[t]
        np.add(dh_next, dhs_tm[t], out=dh)  # total gradient reaching h_t
        # h_t = o ⊙ tanh(C_t):  dL/do = dh ⊙ tanh(C_t),  dL/dC_t += dh ⊙ o ⊙ (1 - tanh(C_t)^2)
        np.multiply(dh, tanh_c, out=dg["o"])
        np.square(tanh_c, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= g["o"][t]
        tmp *= dh
        dc += tmp  # total gradient reaching C_t
        # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
        np.multiply(dc, c_prev, out=dg["f"])
        np.multiply(dc, g["c_tilde"][t], out=dg["i"])
        np.multiply(dc, g["i"][t], out=dg["c_tilde"])
        dc *= g["f"][t]  # dL/dC_{t-1}
        # (f, i, o, C~) = (sigma, sigma, sigma, tanh)(a_t), derivatives from the saved outputs:
        # sigma' = s (1 - s) = s - s^2;  tanh' = 1 - C~^2
        s = cache.gates[t]
        np.square(s, out=local)
        np.subtract(s[:, sig], local[:, sig], out=local[:, sig])
        np.subtract(1.0, local[:, cand], out=local[:, cand])
        da_t = np.multiply(dgates, local, out=da[t])  # upstream ⊙ local derivative
        # a_t = x_t W_x + h_{t-1} W_h + b
        np.matmul(da_t, W_hT, out=dh_next)  # dL/dh_{t-1} through a_t
    # the same equation for the weights: sums over all (t, n) rows, one matmul for
    # W_x and W_h together (rows [x_t | h_{t-1}] of the operands buffer)
    da2 = da.reshape(T * N, 4 * H)
    dW = cache.xh[:T].reshape(T * N, D + H).T @ da2  # (D + H, 4H)
    grads = {"W_x": dW[:D], "W_h": dW[D:], "b": da2.sum(axis=0)}
    dx = (da2 @ cache.W_x.T).reshape(T, N, D).transpose(1, 0, 2)  # -> (N, T, D)
    return dx, (np.ascontiguousarray(dh_next), dc), grads
