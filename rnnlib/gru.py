r"""The GRU cell in its two forms: one step, a whole sequence, gate stacking.

Equations (row vectors, batch-first). Gates:

.. math::

    z_t &= \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z) \\
    r_t &= \sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r)

Candidate, in one of two forms (``reset_after``):

.. math::

    \text{reset after (PyTorch, cuDNN, Keras default):}\quad
    \tilde h_t &= \tanh\big(x_t W_{xh} + b_h + r_t \odot (h_{t-1} W_{hh} + b_{hn})\big) \\
    \text{reset before (Cho et al. 2014 v3, d2l):}\quad
    \tilde h_t &= \tanh\big(x_t W_{xh} + (r_t \odot h_{t-1}) W_{hh} + b_h\big)

and the update, with the seed article's convention (z = 1 keeps the old state):

.. math:: h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t

rnnlib stacks the blocks in the order **z, r, h_tilde** (:data:`GATES`):
``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), and in the reset-after form a
second candidate bias ``b_hn`` (H,) that sits *inside* the reset product and
so cannot be merged into ``b``. PyTorch stacks r, z, n: :mod:`rnnlib.torch_io`
converts. The two forms are different functions, not reparametrisations.

The recurrent part of a step (everything after the input projection) and its
backward live in two private functions shared by the one-step and the
whole-sequence code.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_array
from .activations import sigmoid

GATES = ("z", "r", "h_tilde")
"""Order of the three blocks along the last axis of ``W_x``, ``W_h``, ``b``."""


def split_gates(a: np.ndarray) -> dict:
    """Split a stacked array (..., 3H) into ``{"z", "r", "h_tilde"}`` blocks (..., H) (views)."""
    a = np.asarray(a)
    if a.ndim < 1 or a.shape[-1] % 3 != 0:
        raise ValueError(f"a must have a last axis of size 3H (z, r, h_tilde stacked); got shape {a.shape}")
    return dict(zip(GATES, np.split(a, 3, axis=-1)))


def stack_gates(z, r, h_tilde) -> np.ndarray:
    """Inverse of :func:`split_gates`: blocks (..., H) -> (..., 3H)."""
    blocks = [np.asarray(v) for v in (z, r, h_tilde)]
    if len({v.shape for v in blocks}) != 1:  # else a wrong H would concatenate silently
        raise ValueError(f"z, r, h_tilde must all have the same shape (..., H); got "
                         f"{[v.shape for v in blocks]}")
    return np.concatenate(blocks, axis=-1)


def _recurrent(ax, h_prev, W_h, b_hn, reset_after):
    """Step given the input projection ``ax = x_t W_x + b`` (N, 3H).

    Returns z, r, h_tilde, u_n, h where ``u_n`` is what multiplies the
    candidate block of ``W_h``: ``h_prev`` (reset after) or ``r * h_prev``
    (reset before); and for reset-after also hn = h_prev W_hh + b_hn.
    """
    H = h_prev.shape[1]
    if reset_after:
        ah = h_prev @ W_h  # (N, 3H): one fused matmul for z, r and the candidate
        s = sigmoid(ax[:, : 2 * H] + ah[:, : 2 * H])
        z, r = s[:, :H], s[:, H:]
        hn = ah[:, 2 * H :] + b_hn  # h_{t-1} W_hh + b_hn
        h_tilde = np.tanh(ax[:, 2 * H :] + r * hn)
        extra = hn
    else:
        s = sigmoid(ax[:, : 2 * H] + h_prev @ W_h[:, : 2 * H])
        z, r = s[:, :H], s[:, H:]
        rh = r * h_prev  # reset applied before the matmul
        h_tilde = np.tanh(ax[:, 2 * H :] + rh @ W_h[:, 2 * H :])
        extra = rh
    h = z * h_prev + (1.0 - z) * h_tilde  # z = 1 keeps the old state
    return z, r, h_tilde, extra, h


def _recurrent_backward(dh, h_prev, z, r, h_tilde, extra, W_h, reset_after):
    """Backward of :func:`_recurrent` for the total gradient ``dh`` reaching h_t.

    Returns ``dax`` (N, 3H) (gradient of the input projection), ``dah`` (N, 3H)
    (gradient of the pre-activations multiplying ``W_h``, block by block) and
    ``dh_prev`` (N, H).
    """
    H = h_prev.shape[1]
    # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t
    dz = dh * (h_prev - h_tilde)
    dh_tilde = dh * (1.0 - z)
    dh_prev = dh * z
    # h~_t = tanh(a_n): tanh' = 1 - h~^2
    da_n = dh_tilde * (1.0 - h_tilde**2)
    if reset_after:
        # a_n = x W_xh + b_h + r ⊙ hn,  hn = h_{t-1} W_hh + b_hn
        dr = da_n * extra
        dhn = da_n * r
    else:
        # a_n = x W_xh + (r ⊙ h_{t-1}) W_hh + b_h
        drh = da_n @ W_h[:, 2 * H :].T
        dr = drh * h_prev
        dh_prev += drh * r
        dhn = da_n
    # z, r = sigma(.): sigma' = s (1 - s)
    da_zr = np.concatenate([dz * z * (1.0 - z), dr * r * (1.0 - r)], axis=1)  # (N, 2H)
    dax = np.concatenate([da_zr, da_n], axis=1)  # (N, 3H)
    dah = np.concatenate([da_zr, dhn], axis=1)  # (N, 3H)
    if reset_after:
        dh_prev += dah @ W_h.T
    else:
        dh_prev += da_zr @ W_h[:, : 2 * H].T
    return dax, dah, dh_prev


def _weight_grad_W_h(h_prev, extra, dah, reset_after):
    """dW_h (H, 3H) from stacked rows: the candidate block's input is h_prev or r*h_prev."""
    H = h_prev.shape[1]
    u_n = h_prev if reset_after else extra
    return np.concatenate([h_prev.T @ dah[:, : 2 * H], u_n.T @ dah[:, 2 * H :]], axis=1)


def _check_weights(W_x, W_h, b, b_hn, reset_after):
    W_x = check_array("W_x", W_x, ("D", "3H"))
    D, H3 = W_x.shape
    if H3 % 3:
        raise ValueError(f"W_x must have shape (D, 3H) (z, r, h_tilde stacked); got {W_x.shape}")
    H = H3 // 3
    W_h = check_array("W_h", W_h, ("H", "3H"), (H, H3))
    b = check_array("b", b, ("3H",), (H3,))
    if reset_after:
        if b_hn is None:
            raise ValueError("b_hn (H,) is required when reset_after=True")
        b_hn = check_array("b_hn", b_hn, ("H",), (H,))
    elif b_hn is not None:
        raise ValueError("b_hn must be None when reset_after=False (the reset-before form has one bias)")
    return W_x, W_h, b, b_hn


class GRUStepCache(NamedTuple):
    """What :func:`gru_step_backward` needs from the forward step."""

    x_t: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    z: np.ndarray  # (N, H) update gate
    r: np.ndarray  # (N, H) reset gate
    h_tilde: np.ndarray  # (N, H) candidate
    extra: np.ndarray  # (N, H) hn = h_prev W_hh + b_hn (after) or r * h_prev (before)
    W_x: np.ndarray  # (D, 3H)
    W_h: np.ndarray  # (H, 3H)
    reset_after: bool


def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn=None, *, reset_after=True):
    r"""One GRU step.

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev : ndarray (N, H)
    W_x : ndarray (D, 3H), blocks z, r, h_tilde
    W_h : ndarray (H, 3H), blocks z, r, h_tilde
    b : ndarray (3H,)
    b_hn : ndarray (H,) or None
        Candidate's recurrent bias; required iff ``reset_after``.
    reset_after : bool
        Reset after the recurrent matmul (PyTorch) or before it (Cho et al.).

    Returns
    -------
    h_next : ndarray (N, H)
        :math:`h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t`.
    cache : GRUStepCache
    """
    W_x, W_h, b, b_hn = _check_weights(W_x, W_h, b, b_hn, reset_after)
    D, H = W_x.shape[0], W_h.shape[0]
    x_t = check_array("x_t", x_t, ("N", "D"), (None, D))
    h_prev = check_array("h_prev", h_prev, ("N", "H"), (x_t.shape[0], H))
    z, r, h_tilde, extra, h = _recurrent(x_t @ W_x + b, h_prev, W_h, b_hn, reset_after)
    return h, GRUStepCache(x_t, h_prev, z, r, h_tilde, extra, W_x, W_h, bool(reset_after))


def gru_step_backward(dh_next, cache: GRUStepCache):
    r"""Backward of :func:`gru_step_forward`.

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
    grads : dict
        ``{"W_x": (D, 3H), "W_h": (H, 3H), "b": (3H,)}`` plus ``"b_hn": (H,)``
        in the reset-after form.
    """
    H = cache.h_prev.shape[1]
    dh_next = check_array("dh_next", dh_next, ("N", "H"), cache.h_prev.shape)
    dax, dah, dh_prev = _recurrent_backward(
        dh_next, cache.h_prev, cache.z, cache.r, cache.h_tilde, cache.extra, cache.W_h, cache.reset_after
    )
    grads = {
        "W_x": cache.x_t.T @ dax,
        "W_h": _weight_grad_W_h(cache.h_prev, cache.extra, dah, cache.reset_after),
        "b": dax.sum(axis=0),
    }
    if cache.reset_after:
        grads["b_hn"] = dah[:, 2 * H :].sum(axis=0)
    return dax @ cache.W_x.T, dh_prev, grads


class GRUCache(NamedTuple):
    """Cache of :func:`gru_forward`, time-major."""

    x: np.ndarray  # (T, N, D)
    h0: np.ndarray  # (N, H)
    gates: np.ndarray  # (T, N, 3H): z, r, h_tilde
    extra: np.ndarray  # (T, N, H): hn (after) or r * h_prev (before)
    hs: np.ndarray  # (T, N, H)
    W_x: np.ndarray
    W_h: np.ndarray
    reset_after: bool


def gru_forward(x, h0, W_x, W_h, b, b_hn=None, *, reset_after=True):
    r"""Run the GRU over a sequence (hoisted input projection, fused recurrent matmul).

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0 : ndarray (N, H)
    W_x, W_h, b, b_hn, reset_after
        As in :func:`gru_step_forward`.

    Returns
    -------
    hs : ndarray (N, T, H)
    cache : GRUCache
    """
    W_x, W_h, b, b_hn = _check_weights(W_x, W_h, b, b_hn, reset_after)
    D, H = W_x.shape[0], W_h.shape[0]
    x = check_array("x", x, ("N", "T", "D"), (None, None, D))
    N, T, _ = x.shape
    h0 = check_array("h0", h0, ("N", "H"), (N, H))
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (N, T, D) -> (T, N, D)
    ax = (x_tm.reshape(T * N, D) @ W_x + b).reshape(T, N, 3 * H)  # hoisted input projection
    dt = ax.dtype
    gates = np.empty((T, N, 3 * H), dt)
    extra, hs = np.empty((T, N, H), dt), np.empty((T, N, H), dt)
    h = h0
    for t in range(T):
        z, r, h_tilde, extra[t], h = _recurrent(ax[t], h, W_h, b_hn, reset_after)
        gates[t] = np.concatenate([z, r, h_tilde], axis=1)
        hs[t] = h
    cache = GRUCache(x_tm, h0, gates, extra, hs, W_x, W_h, bool(reset_after))
    return hs.transpose(1, 0, 2).copy(), cache  # a copy, never a view of the cache (see rnn_forward)


def gru_backward(dhs, dh_T, cache: GRUCache):
    r"""Backpropagation through time for :func:`gru_forward`.

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) and, reset-after only, ``b_hn`` (H,).
    """
    T, N, H = cache.hs.shape
    D = cache.x.shape[2]
    dt = cache.hs.dtype
    dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, H))
    dh = np.zeros((N, H), dt) if dh_T is None else check_array("dh_T", dh_T, ("N", "H"), (N, H))
    dhs_tm = dhs.transpose(1, 0, 2)
    dax, dah = np.empty((T, N, 3 * H), dt), np.empty((T, N, 3 * H), dt)
    h_prev = np.concatenate([cache.h0[None], cache.hs[:-1]])  # (T, N, H): h_0..h_{T-1}
    for t in range(T - 1, -1, -1):
        z, r, h_tilde = np.split(cache.gates[t], 3, axis=1)
        dax[t], dah[t], dh = _recurrent_backward(
            dh + dhs_tm[t], h_prev[t], z, r, h_tilde, cache.extra[t], cache.W_h, cache.reset_after
        )
    dax2, dah2 = dax.reshape(T * N, 3 * H), dah.reshape(T * N, 3 * H)
    grads = {
        "W_x": cache.x.reshape(T * N, D).T @ dax2,
        "W_h": _weight_grad_W_h(h_prev.reshape(T * N, H), cache.extra.reshape(T * N, H), dah2, cache.reset_after),
        "b": dax2.sum(axis=0),
    }
    if cache.reset_after:
        grads["b_hn"] = dah2[:, 2 * H :].sum(axis=0)
    dx = (dax2 @ cache.W_x.T).reshape(T, N, D).transpose(1, 0, 2)  # -> (N, T, D)
    return dx, dh, grads
