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

The one-step functions compute the recurrent part of a step (everything after
the input projection) and its backward with two private functions that
allocate their results and read like the equations. The whole-sequence
functions compute the same equations in place, into slices of preallocated
time-major buffers (``out=`` arguments, one comment per equation), because at
small batch sizes the time goes into per-call overhead and temporaries rather
than arithmetic; the tests check the two against each other and against PyTorch.

The four functions follow the calling convention of all three cells (the
table on the notation page): a state in, a state out (the GRU's state is the
array ``h``); step and sequence backwards return ``dx, dstate, grads`` with
``grads`` keyed like the parameters (``b_hn`` included in the reset-after
form); the final-state gradient of :func:`gru_backward` is optional and last.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array
from rnnlib._loops import (buffer, check_reuse, column_major_pays, from_tanh_, halve_sigmoid_columns,
                     operand_views, operands_buffer, step_matmul_operands)
from rnnlib.activations import sigmoid

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

    Parameters
    ----------
    dh_next : ndarray (N, H)
        :math:`\partial L / \partial h_t`.
    cache : GRUStepCache

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
        :math:`\partial L / \partial h_{t-1}` (through this step only).
    grads : dict
        ``{"W_x": (D, 3H), "W_h": (H, 3H), "b": (3H,)}`` plus ``"b_hn": (H,)``
        in the reset-after form: keyed like the parameters.
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

    xh: np.ndarray  # (T + 1, N, D + H): row t is [x_{t+1} | h_t] (see _loops.operands_buffer)
    gates: np.ndarray  # (T, N, 3H): z, r, h_tilde
    extra: np.ndarray  # (T, N, H): hn (after) or r * h_prev (before)
    da: np.ndarray  # (T, N, 4H) (after) or (T, N, 3H) (before): scratch for the backward
    W_x: np.ndarray
    W_h: np.ndarray
    reset_after: bool

    x, h0, hs = operand_views("W_x")  # views of xh: (T, N, D), (N, H), (T, N, H)


def gru_forward(x, h0, W_x, W_h, b, b_hn=None, *, reset_after=True, reuse=None):
    r"""Run the GRU over a sequence (hoisted input projection, fused recurrent matmul).

    Parameters
    ----------
    x : ndarray (N, T, D)
    h0 : ndarray (N, H)
    W_x, W_h, b, b_hn, reset_after
        As in :func:`gru_step_forward`.
    reuse : GRUCache, optional
        A cache of an earlier call whose buffers this call may overwrite (that
        cache is then invalid); the layer classes pass their previous one.

    Returns
    -------
    hs : ndarray (N, T, H)
    h_T : ndarray (N, H)
        The final state (a copy of ``hs[:, -1]``).
    cache : GRUCache

    Notes
    -----
    The equations of :mod:`rnnlib.gru`, computed in place: ``x_t W_x + b`` for
    all T steps is one matmul into the ``gates`` buffer (T, N, 3H), which step t
    turns into z, r, h~. Reset after: one matmul ``h_{t-1} W_h`` per step for
    the three blocks; reset before: one for z and r, one for ``(r ⊙ h_{t-1}) W_hh``.
    z and r use :math:`\sigma(a) = (1 + \tanh(a/2))/2` with halved weight
    columns (:func:`rnnlib._loops.halve_sigmoid_columns`); h_t is written next
    to x_{t+1} in one operands buffer (:func:`rnnlib._loops.operands_buffer`).
    """
    W_x, W_h, b, b_hn = _check_weights(W_x, W_h, b, b_hn, reset_after)
    D, H = W_x.shape[0], W_h.shape[0]
    x = check_array("x", x, ("N", "T", "D"), (None, None, D))
    N, T, _ = x.shape
    h0 = check_array("h0", h0, ("N", "H"), (N, H))
    reuse = check_reuse(reuse, GRUCache, "gru_forward")
    dt = np.result_type(x, W_x, b)
    xh = operands_buffer(x.transpose(1, 0, 2), h0, dt, reuse)  # (T + 1, N, D + H): [x_{t+1} | h_t]
    hs = xh[1:, :, D:]  # (T, N, H) view: h_1..h_T, written by the loop
    order = "F" if column_major_pays(N, dt) else "C"  # W_h's layout for step_matmul_operands
    W_x2, W_h2, b2 = halve_sigmoid_columns(W_x, W_h, b, 2 * H, order)  # z, r columns halved
    gates = buffer(reuse, "gates", (T, N, 3 * H), dt)  # x_t W_x + b, then z, r, h~ in place
    np.matmul(xh[:T, :, :D].reshape(T * N, D), W_x2, out=gates.reshape(T * N, 3 * H))  # hoisted input projection
    gates += b2
    extra = buffer(reuse, "extra", (T, N, H), dt)
    zr, cand = gates[:, :, : 2 * H], gates[:, :, 2 * H :]  # z, r | h~
    if reset_after:
        W_h_, hW = step_matmul_operands(W_h2, N, dt)  # hW: h_{t-1} W_h (N, 3H)
    else:
        W_h_, hW = step_matmul_operands(W_h2[:, : 2 * H], N, dt)  # h_{t-1} W_h[z, r] (N, 2H)
        W_hh_, rhW = step_matmul_operands(W_h[:, 2 * H :], N, dt)  # (r ⊙ h_{t-1}) W_hh (N, H)
    tmp = np.empty((N, H), dt)
    for t in range(T):
        s, n, h = zr[t], cand[t], xh[t, :, D:]  # h = h_{t-1}
        np.matmul(h, W_h_, out=hW)  # h_{t-1} W_h (reset before: its z, r blocks)
        s += hW[:, : 2 * H]  # (halved) pre-activations of z, r
        from_tanh_(np.tanh(s, out=s))  # z, r = (1 + tanh(a/2)) / 2 = sigma(x_t W_x + b + h_{t-1} W_h)
        z, r = s[:, :H], s[:, H:]
        if reset_after:
            hn = np.add(hW[:, 2 * H :], b_hn, out=extra[t])  # hn = h_{t-1} W_hh + b_hn
            n += np.multiply(r, hn, out=tmp)  # x_t W_xh + b_h + r ⊙ hn
        else:
            rh = np.multiply(r, h, out=extra[t])  # reset before the matmul
            n += np.matmul(rh, W_hh_, out=rhW)  # x_t W_xh + b_h + (r ⊙ h_{t-1}) W_hh
        np.tanh(n, out=n)  # h~_t
        # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t (exact where z = 1: the state is kept)
        np.subtract(1.0, z, out=tmp)
        tmp *= n
        h_t = np.multiply(z, h, out=hs[t])
        h_t += tmp
    da = buffer(reuse, "da", (T, N, (4 if reset_after else 3) * H), dt)  # for the backward
    cache = GRUCache(xh, gates, extra, da, W_x, W_h, bool(reset_after))
    return hs.transpose(1, 0, 2).copy(), hs[-1].copy(), cache  # copies, never views of the cache (see rnn_forward)


def _nzr_to_zrn(a):
    """Reorder the last axis from blocks (n, z, r) to rnnlib's (z, r, n)."""
    H = a.shape[-1] // 3
    return np.concatenate([a[..., H:], a[..., :H]], axis=-1)


def gru_backward(dhs, cache: GRUCache, dstate_T=None):
    r"""Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dhs : ndarray (N, T, H)
        :math:`\partial L / \partial h_t` from the layer above, every step.
    cache : GRUCache
    dstate_T : ndarray (N, H) or None
        Gradient with respect to the returned final state ``h_T``, beyond
        what ``dhs[:, -1]`` holds (``None`` = 0).

    Returns
    -------
    dx : ndarray (N, T, D)
    dh0 : ndarray (N, H)
    grads : dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) and, reset-after only, ``b_hn`` (H,).

    Notes
    -----
    Reset after, the candidate block differs between the gradient of the input
    projection (``dL/da_n``) and that of ``h_{t-1} W_h`` (``dL/dhn = r ⊙ dL/da_n``).
    One buffer (T, N, 4H) holds the blocks in the order ``a_n | z | r | hn``, so
    that its first 3H columns are the former (blocks n, z, r) and its last 3H
    columns the latter (blocks z, r, n, as ``W_h`` stacks them): no copies, one
    matmul each; the x-side results are put back in the order z, r, n at the end.
    """
    T, N, H = cache.hs.shape
    D = cache.W_x.shape[0]
    dt = cache.gates.dtype
    reset_after = cache.reset_after
    dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, H))
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, N, H)
    h_prev = cache.xh[:T, :, D:]  # (T, N, H) view: h_0..h_{T-1}
    g = split_gates(cache.gates)  # views (T, N, H): z, r, h_tilde
    if reset_after:
        da = cache.da  # (T, N, 4H): a_n | z | r | hn
        dax, dah = da[:, :, : 3 * H], da[:, :, H:]  # blocks (n, z, r) | (z, r, n)
        d = {"n": da[:, :, :H], "z": da[:, :, H : 2 * H], "r": da[:, :, 2 * H : 3 * H], "hn": da[:, :, 3 * H :]}
        dzr = da[:, :, H : 3 * H]
        W_hT, dh_next = step_matmul_operands(cache.W_h.T, N, dt)  # dh_next: dL/dh_t from step t + 1
    else:
        da = dax = dah = cache.da  # (T, N, 3H): z | r | a_n
        d = split_gates(da)
        d["n"] = d["h_tilde"]
        dzr = da[:, :, : 2 * H]
        W_hT, dh_next = step_matmul_operands(cache.W_h[:, : 2 * H].T, N, dt)
        W_hhT, drh = step_matmul_operands(cache.W_h[:, 2 * H :].T, N, dt)  # drh: dL/d(r ⊙ h_{t-1})
    dh_next[...] = 0.0 if dstate_T is None else check_array("dstate_T", dstate_T, ("N", "H"), (N, H))
    dh, tmp = np.empty((N, H), dt), np.empty((N, H), dt)
    for t in range(T - 1, -1, -1):
        z, r, h_tilde = g["z"][t], g["r"][t], g["h_tilde"][t]
        da_z, da_r, da_n = d["z"][t], d["r"][t], d["n"][t]
        np.add(dh_next, dhs_tm[t], out=dh)  # total gradient reaching h_t
        # z, r = sigma(a): sigma' = s (1 - s) = s - s^2, from the saved outputs
        zr_t = cache.gates[t, :, : 2 * H]
        np.square(zr_t, out=dzr[t])
        np.subtract(zr_t, dzr[t], out=dzr[t])
        # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t, h~_t = tanh(a_n):
        #   dL/da_z = dh ⊙ (h_{t-1} - h~_t) ⊙ sigma'(a_z)
        np.subtract(h_prev[t], h_tilde, out=tmp)
        tmp *= dh
        da_z *= tmp
        #   dL/da_n = dh ⊙ (1 - z) ⊙ (1 - h~_t^2)
        np.square(h_tilde, out=da_n)
        np.subtract(1.0, da_n, out=da_n)
        da_n *= np.subtract(1.0, z, out=tmp)
        da_n *= dh
        if reset_after:
            # a_n = x_t W_xh + b_h + r ⊙ hn,  hn = h_{t-1} W_hh + b_hn
            da_r *= cache.extra[t]  # dL/da_r = dL/da_n ⊙ hn ⊙ sigma'(a_r)
            da_r *= da_n
            np.multiply(da_n, r, out=d["hn"][t])  # dL/dhn
            # h_{t-1} reaches h_t directly (z ⊙ h_{t-1}) and through h_{t-1} W_h
            np.matmul(dah[t], W_hT, out=dh_next)
        else:
            # a_n = x_t W_xh + (r ⊙ h_{t-1}) W_hh + b_h
            np.matmul(da_n, W_hhT, out=drh)
            da_r *= h_prev[t]  # dL/da_r = dL/d(r ⊙ h_{t-1}) ⊙ h_{t-1} ⊙ sigma'(a_r)
            da_r *= drh
            # h_{t-1} reaches h_t directly, through r ⊙ h_{t-1} and through h_{t-1} W_h[z, r]
            np.matmul(dzr[t], W_hT, out=dh_next)
            drh *= r
            dh_next += drh
        dh *= z
        dh_next += dh
    # the same equations for the weights: sums over all (t, n) rows, one matmul each
    dax2, dah2 = dax.reshape(T * N, 3 * H), dah.reshape(T * N, 3 * H)
    h_prev2 = h_prev.reshape(T * N, H)
    x2 = cache.x.reshape(T * N, D)
    if reset_after:
        W_x = np.concatenate([cache.W_x[:, 2 * H :], cache.W_x[:, : 2 * H]], axis=1)  # blocks n, z, r, like dax
        grads = {
            "W_x": _nzr_to_zrn(x2.T @ dax2),
            "W_h": h_prev2.T @ dah2,
            "b": _nzr_to_zrn(dax2.sum(axis=0)),
            "b_hn": dah2[:, 2 * H :].sum(axis=0),
        }
    else:
        W_x = cache.W_x
        grads = {
            "W_x": x2.T @ dax2,
            # the candidate block of W_h multiplies r ⊙ h_{t-1}
            "W_h": _weight_grad_W_h(h_prev2, cache.extra.reshape(T * N, H), dah2, reset_after),
            "b": dax2.sum(axis=0),
        }
    dx = (dax2 @ W_x.T).reshape(T, N, D).transpose(1, 0, 2)  # -> (N, T, D)
    return dx, np.ascontiguousarray(dh_next), grads
