r"""Backpropagation through time from the step functions, with switches for the readers' slips.

The exercises "the LSTM over a sequence, backwards" (:mod:`rnnlib.exercises.ch2`) and
"the GRU over a sequence, backwards" (:mod:`rnnlib.exercises.ch3`) ask the reader to
write the sequence backward of rnnlib's calling convention,
``dx, dstate0, grads = X_backward(dhs, caches, dstate_T=None)``, as a loop over the
per-step caches of ``X_step_forward`` that calls ``X_step_backward``.

:func:`bptt` is that loop, written once for both cells (the LSTM's state gradient is
the pair ``(dh, dc)``, the GRU's the array ``dh``). Its defaults give the right answer;
each keyword argument switches on one of the slips the catalogues of
:mod:`rnnlib.exercises._ch2_bptt` and :mod:`rnnlib.exercises._ch3_bptt` name, so that a
catalogued mistake differs from the reference in exactly one place. The right loop,
for step ``t`` from ``T - 1`` down to 0::

    dh = dh_next + dhs[:, t]                            # from above and from step t + 1
    dx_t, dstate_prev, g = X_step_backward(dh (, dc_next), caches[t])
    dx[:, t] = dx_t;  grads += g                        # parameters: summed over time
    dh_next (, dc_next) = dstate_prev                   # carried to step t - 1
"""

from __future__ import annotations

import numpy as np


def _zeros_like_state(dhs):
    N, _, H = dhs.shape
    return np.zeros((N, H), dtype=np.result_type(dhs, np.float64))


def bptt(dhs, caches, dstate_T, step_backward, *, pair, upstream="each-step", carry_h=True, carry_c=True,
         final="both", order="backward", cache_shift=0, grads_rule="sum", dx_layout="time",
         swap_state=False, dc_in=None, drop=()):
    r"""The sequence backward over per-step caches; the keyword arguments switch on one slip each.

    Parameters
    ----------
    dhs : ndarray (N, T, H)
        :math:`\partial L / \partial h_t` from the layer above, every step.
    caches : list of T step caches
        From ``lstm_step_forward`` / ``gru_step_forward``, in time order.
    dstate_T : state gradient or None
        Gradient with respect to the final state beyond ``dhs[:, -1]``: ``(dh_T, dc_T)``
        for the LSTM (``pair=True``), ``dh_T`` (N, H) for the GRU; ``None`` = zeros.
    step_backward : callable
        ``step_backward(dstate_next, cache) -> (dx_t, dstate_prev, grads)``.
    pair : bool
        True for the LSTM (state ``(h, c)``), False for the GRU (state ``h``).
    upstream : {"each-step", "none", "last-only", "after-step"}
        Where ``dhs[:, t]`` enters: at step t (right), never, only ``dhs[:, -1]`` at the
        start, or after step t's backward (one step late).
    carry_h, carry_c : bool
        Carry ``dh_prev`` / ``dc_prev`` to the step before (``False``: that step gets only
        ``dhs[:, t]``, or a zero cell gradient; the final-state gradient is then lost).
        ``carry_c="stale"``: every step gets ``dc_T`` and ``dc0`` is returned as ``dc_T``
        (``dc_next`` never reassigned).
    final : {"both", "none", "h-only"}
        Which parts of ``dstate_T`` are used.
    order : {"backward", "forward"}
        The loop over t.
    cache_shift : int
        Step t reads ``caches[t + cache_shift]`` (-1: one cache too early, wrapping at t = 0).
    grads_rule : {"sum", "last", "mean"}
        Parameter gradients summed over time, overwritten by each step, or averaged.
    dx_layout : {"time", "reversed", "time-major"}
        ``dx`` (N, T, D) in time order, in loop order, or stacked as (T, N, D).
    swap_state : bool
        Return ``(dc0, dh0)`` instead of ``(dh0, dc0)`` (LSTM).
    dc_in : callable or None
        ``dc_in(dc_next, dh, cache)``: the cell gradient passed to the step (LSTM; None: ``dc_next``).
    drop : tuple of str
        Keys left out of ``grads``.

    Returns
    -------
    dx : ndarray (N, T, D)
    dstate0 : ``(dh0, dc0)`` of ndarray (N, H), or ``dh0`` (N, H)
    grads : dict
        Keyed like the parameters (``W_x``, ``W_h``, ``b`` and, reset-after GRU, ``b_hn``).
    """
    T = dhs.shape[1]
    zero = _zeros_like_state(dhs)
    if dstate_T is None:
        dstate_T = (None, None) if pair else None
    dh_T, dc_T = dstate_T if pair else (dstate_T, None)
    dh_next = zero if dh_T is None or final == "none" else dh_T
    dc_next = zero if dc_T is None or final != "both" else dc_T
    if upstream == "last-only":
        dh_next = dh_next + dhs[:, -1]
    dxs, grads, done = [], None, []
    for t in (range(T - 1, -1, -1) if order == "backward" else range(T)):
        cache = caches[t + cache_shift]
        dh = dh_next + dhs[:, t] if upstream == "each-step" else dh_next
        if not carry_h:
            dh = dhs[:, t]
        if pair:
            dc = dc_next if carry_c else zero
            if dc_in is not None:
                dc = dc_in(dc, dh, cache)
            dx_t, (dh_prev, dc_prev), g = step_backward((dh, dc), cache)
            if carry_c != "stale":
                dc_next = dc_prev
        else:
            dx_t, dh_prev, g = step_backward(dh, cache)
        dh_next = dh_prev + dhs[:, t] if upstream == "after-step" else dh_prev
        dxs.append(dx_t)
        done.append(t)
        if grads is None or grads_rule == "last":
            grads = {k: v.copy() for k, v in g.items()}
        else:
            grads = {k: grads[k] + g[k] for k in grads}
    if grads_rule == "mean":
        grads = {k: v / T for k, v in grads.items()}
    grads = {k: v for k, v in grads.items() if k not in drop}
    if dx_layout != "reversed":
        dxs = [dxs[done.index(t)] for t in range(T)]  # back in time order
    dx = np.stack(dxs, axis=0 if dx_layout == "time-major" else 1)
    if not pair:
        return dx, dh_next, grads
    return dx, ((dc_next, dh_next) if swap_state else (dh_next, dc_next)), grads
