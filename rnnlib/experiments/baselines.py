r"""The slower versions that :mod:`rnnlib.experiments.bench` and the performance chapter measure.

Each runs a whole sequence forward and backward and returns the same numbers as
the fast sequence functions (:func:`rnnlib.lstm.lstm_forward` ...), with one
optimisation fewer at every stage (:data:`STAGES`):

``"per_gate"``
    A loop over time of the cells as chapter 2 and 3 write them, one matmul per
    gate (:func:`rnnlib.gates.lstm_step_per_gate`, :func:`rnnlib.gates.gru_step_per_gate`;
    the simple RNN has one gate: :func:`rnnlib.rnn.rnn_step_forward`), and the
    matching backward steps written here, one matmul per gate and per gradient.
``"step_loop"``
    A loop over time of the fused step functions (:func:`rnnlib.lstm.lstm_step_forward`
    and ``_backward``): one matmul for all gates, but ``x_t W_x`` at every step and
    the weight gradients summed step by step.
``"allocating"``
    The whole-sequence algorithm (input projection hoisted out of the loop, one
    recurrent matmul per step, weight gradients as one matmul after the loop)
    with fresh arrays at every step, as rnnlib had before its in-place loops.
    LSTM only.
``"in_place"``
    rnnlib's sequence functions themselves.

Every stage starts from zero states and receives no gradient at the final
state, as a layer called with ``state=None`` does. The per-gate GRU backward
recomputes ``h_{t-1} W_hh + b_hn`` (the per-gate cell does not return it): one
extra (N, H) x (H, H) matmul per step.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rnnlib import gru as _gru
from rnnlib import lstm as _lstm
from rnnlib import rnn as _rnn
from rnnlib.gates import gru_per_gate_params, gru_step_per_gate, lstm_per_gate_params, lstm_step_per_gate

STAGES = ("per_gate", "step_loop", "allocating", "in_place")
_SYMBOL = {"lstm": ("f", "i", "o", "c"), "gru": ("z", "r", "h")}  # per-gate subscripts, stacking order


def forward_backward(stage, kind, params, x, dhs):
    """One forward and backward pass over a sequence, computed the way ``stage`` says.

    Parameters
    ----------
    stage : str
        One of :data:`STAGES`.
    kind : {"rnn", "lstm", "gru"}
    params : dict
        Stacked parameters as in ``layer.params``: ``W_xh, W_hh, b_h`` (RNN) or
        ``W_x, W_h, b`` (+ ``b_hn``: the reset-after GRU, without it reset-before).
    x : ndarray (N, T, D)
    dhs : ndarray (N, T, H)
        Gradient of the loss with respect to every hidden state.

    Returns
    -------
    hs : ndarray (N, T, H)
    dx : ndarray (N, T, D)
    grads : dict
        Same keys and shapes as ``params``.
    """
    runs = {"per_gate": _PER_GATE, "step_loop": _STEP_LOOP, "allocating": {"lstm": _lstm_allocating},
            "in_place": _IN_PLACE}
    if stage not in runs:
        raise ValueError(f"stage must be one of {STAGES}; got {stage!r}")
    if kind not in runs[stage]:
        raise ValueError(f"stage {stage!r} exists for kinds {sorted(runs[stage])}; got {kind!r}")
    return runs[stage][kind](params, np.asarray(x), np.asarray(dhs))


def stage_runs(kind, params, x, dhs, stages=STAGES):
    """``{stage: function of no argument}`` doing one :func:`forward_backward`, for timing.

    Stages that do not exist for ``kind`` ("allocating" is LSTM only) are left out.
    """
    return {stage: partial(forward_backward, stage, kind, params, x, dhs) for stage in stages
            if stage != "allocating" or kind == "lstm"}


def _zeros(x, H):
    return np.zeros((x.shape[0], H), np.result_type(x, np.float32))


# -- "in_place": rnnlib's sequence functions ---------------------------------------

def _rnn_in_place(p, x, dhs):
    hs, _, cache = _rnn.rnn_forward(x, _zeros(x, p["W_hh"].shape[0]), p["W_xh"], p["W_hh"], p["b_h"])
    dx, _, grads = _rnn.rnn_backward(dhs, cache)
    return hs, dx, grads


def _lstm_in_place(p, x, dhs):
    h0 = _zeros(x, p["W_h"].shape[0])
    hs, _, cache = _lstm.lstm_forward(x, (h0, h0), p["W_x"], p["W_h"], p["b"])
    dx, _, grads = _lstm.lstm_backward(dhs, cache)
    return hs, dx, grads


def _gru_in_place(p, x, dhs):
    hs, _, cache = _gru.gru_forward(x, _zeros(x, p["W_h"].shape[0]), p["W_x"], p["W_h"], p["b"], p.get("b_hn"),
                                 reset_after="b_hn" in p)
    dx, _, grads = _gru.gru_backward(dhs, cache)
    return hs, dx, grads


_IN_PLACE = {"rnn": _rnn_in_place, "lstm": _lstm_in_place, "gru": _gru_in_place}


# -- "step_loop": the fused step functions, one step at a time --------------------------

def _step_loop(kind, p, x, dhs):
    """The three cells through one loop: their step functions share one convention."""
    N, T, _ = x.shape
    step_forward, step_backward = {
        "rnn": (_rnn.rnn_step_forward, _rnn.rnn_step_backward),
        "lstm": (_lstm.lstm_step_forward, _lstm.lstm_step_backward),
        "gru": (partial(_gru.gru_step_forward, reset_after="b_hn" in p), _gru.gru_step_backward)}[kind]
    H = p["W_hh" if kind == "rnn" else "W_h"].shape[0]
    h = _zeros(x, H)
    state = (h, h) if kind == "lstm" else h  # the LSTM's state is the pair (h, c)
    caches, hs = [], np.empty((N, T, H), h.dtype)
    for t in range(T):
        state, cache = step_forward(x[:, t], state, **p)  # p: the parameters by name
        hs[:, t] = state[0] if kind == "lstm" else state
        caches.append(cache)
    dx, grads = np.empty_like(x, dtype=hs.dtype), {k: np.zeros_like(v) for k, v in p.items()}
    dh, dc = np.zeros((N, H), hs.dtype), None  # gradients from step t + 1 (none after step T)
    for t in range(T - 1, -1, -1):
        dstate = (dh + dhs[:, t], dc) if kind == "lstm" else dh + dhs[:, t]
        dx[:, t], dstate, step_grads = step_backward(dstate, caches[t])
        dh, dc = dstate if kind == "lstm" else (dstate, None)
        for k, g in step_grads.items():  # keyed like p
            grads[k] += g
    return hs, dx, grads


_STEP_LOOP = {kind: (lambda p, x, dhs, kind=kind: _step_loop(kind, p, x, dhs)) for kind in ("rnn", "lstm", "gru")}


# -- "per_gate": one matmul per gate --------------------------------------------------------

def lstm_step_per_gate_backward(dstate_next, x_t, state_prev, c_next, gates, p):
    r"""Backward of :func:`rnnlib.gates.lstm_step_per_gate`, one matmul per gate and gradient.

    Parameters
    ----------
    dstate_next : tuple (dh_next, dc_next) of ndarray (N, H)
        :math:`\partial L / \partial h_t` (total) and
        :math:`\partial L / \partial C_t` arriving from step t + 1.
    x_t : ndarray (N, D)
    state_prev : tuple (h_prev, c_prev) of ndarray (N, H)
        :math:`h_{t-1}, C_{t-1}`.
    c_next : ndarray (N, H)
        :math:`C_t`.
    gates : dict
        ``f, i, o, c_tilde`` (N, H), as the forward step returned them.
    p : dict
        Per-gate weights (:func:`rnnlib.gates.lstm_per_gate_params`).

    Returns
    -------
    dx_t : ndarray (N, D)
    dstate_prev : tuple (dh_prev, dc_prev) of ndarray (N, H)
    grads : dict
        One gradient per name in ``p``.
    """
    (dh_next, dc_next), (h_prev, c_prev) = dstate_next, state_prev
    f, i, o, c_tilde = gates["f"], gates["i"], gates["o"], gates["c_tilde"]
    tanh_c = np.tanh(c_next)
    # h_t = o ⊙ tanh(C_t)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
    df, di, dc_tilde, dc_prev = dc * c_prev, dc * c_tilde, dc * i, dc * f
    # f, i, o = sigma(a): sigma' = s (1 - s); C~ = tanh(a): tanh' = 1 - C~^2
    da = {"f": df * f * (1.0 - f), "i": di * i * (1.0 - i), "o": do * o * (1.0 - o),
          "c": dc_tilde * (1.0 - c_tilde**2)}
    # a_g = x_t W_xg + h_{t-1} W_hg + b_g for each gate g
    dx_t = sum(da[g] @ p[f"W_x{g}"].T for g in _SYMBOL["lstm"])
    dh_prev = sum(da[g] @ p[f"W_h{g}"].T for g in _SYMBOL["lstm"])
    grads = {}
    for g in _SYMBOL["lstm"]:
        grads[f"W_x{g}"], grads[f"W_h{g}"], grads[f"b_{g}"] = x_t.T @ da[g], h_prev.T @ da[g], da[g].sum(axis=0)
    return dx_t, (dh_prev, dc_prev), grads


def gru_step_per_gate_backward(dh_next, x_t, h_prev, gates, p):
    r"""Backward of :func:`rnnlib.gates.gru_step_per_gate`, one matmul per gate and gradient.

    Parameters
    ----------
    dh_next : ndarray (N, H)
        :math:`\partial L / \partial h_t` (total).
    x_t : ndarray (N, D)
    h_prev : ndarray (N, H)
    gates : dict
        ``z, r, h_tilde`` (N, H), as the forward step returned them.
    p : dict
        Per-gate weights (:func:`rnnlib.gates.gru_per_gate_params`); with ``b_hn``
        the reset-after form, without it reset-before.

    Returns
    -------
    dx_t : ndarray (N, D)
    dh_prev : ndarray (N, H)
    grads : dict
        One gradient per name in ``p``.
    """
    z, r, h_tilde = gates["z"], gates["r"], gates["h_tilde"]
    # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t
    dz, dh_tilde, dh_prev = dh_next * (h_prev - h_tilde), dh_next * (1.0 - z), dh_next * z
    # h~_t = tanh(a_h): tanh' = 1 - h~^2
    da_h = dh_tilde * (1.0 - h_tilde**2)
    grads = {}
    if "b_hn" in p:
        # a_h = x_t W_xh + b_h + r ⊙ (h_{t-1} W_hh + b_hn)
        hn = h_prev @ p["W_hh"] + p["b_hn"]  # recomputed: the forward step does not return it
        dr, dhn = da_h * hn, da_h * r
        dh_prev = dh_prev + dhn @ p["W_hh"].T
        grads["W_hh"], grads["b_hn"] = h_prev.T @ dhn, dhn.sum(axis=0)
    else:
        # a_h = x_t W_xh + (r ⊙ h_{t-1}) W_hh + b_h
        drh = da_h @ p["W_hh"].T
        dr = drh * h_prev
        dh_prev = dh_prev + drh * r
        grads["W_hh"] = (r * h_prev).T @ da_h
    # z, r = sigma(a): sigma' = s (1 - s)
    da = {"z": dz * z * (1.0 - z), "r": dr * r * (1.0 - r), "h": da_h}
    dx_t = sum(da[g] @ p[f"W_x{g}"].T for g in "zrh")
    dh_prev = dh_prev + da["z"] @ p["W_hz"].T + da["r"] @ p["W_hr"].T
    for g in "zrh":
        grads[f"W_x{g}"], grads[f"b_{g}"] = x_t.T @ da[g], da[g].sum(axis=0)
    grads["W_hz"], grads["W_hr"] = h_prev.T @ da["z"], h_prev.T @ da["r"]
    return dx_t, dh_prev, grads


def _per_gate(kind, p, x, dhs):
    if kind == "rnn":  # one gate: the step functions are already "per gate"
        return _step_loop("rnn", p, x, dhs)
    pg = lstm_per_gate_params(p) if kind == "lstm" else gru_per_gate_params(p)
    N, T, _ = x.shape
    H = pg["b_" + _SYMBOL[kind][0]].shape[0]
    h = c = _zeros(x, H)
    saved, hs = [], np.empty((N, T, H), h.dtype)
    for t in range(T):  # forward: the chapter's cells, with their input checks at every call
        if kind == "lstm":
            (h_next, c_next), gates = lstm_step_per_gate(x[:, t], (h, c), **pg)
            saved.append(((h, c), c_next, gates))
            h, c = h_next, c_next
        else:
            h_next, gates = gru_step_per_gate(x[:, t], h, **pg)
            saved.append((h, gates))
            h = h_next
        hs[:, t] = h
    dx, grads = np.empty_like(x, dtype=hs.dtype), {k: np.zeros_like(v) for k, v in pg.items()}
    dh = dc = np.zeros((N, H), hs.dtype)
    for t in range(T - 1, -1, -1):
        if kind == "lstm":
            state_prev, c_next, gates = saved[t]
            dx[:, t], (dh, dc), step_grads = lstm_step_per_gate_backward(
                (dh + dhs[:, t], dc), x[:, t], state_prev, c_next, gates, pg)
        else:
            h_prev, gates = saved[t]
            dx[:, t], dh, step_grads = gru_step_per_gate_backward(dh + dhs[:, t], x[:, t], h_prev, gates, pg)
        for k, g in step_grads.items():
            grads[k] += g
    return hs, dx, _stack(kind, grads)


def _stack(kind, g):
    """Per-gate gradients back to rnnlib's stacked layout (the keys of ``layer.params``)."""
    s = _SYMBOL[kind]
    out = {"W_x": np.concatenate([g[f"W_x{k}"] for k in s], axis=1),
           "W_h": np.concatenate([g[f"W_h{k}"] for k in s], axis=1),
           "b": np.concatenate([g[f"b_{k}"] for k in s])}
    return dict(out, b_hn=g["b_hn"]) if "b_hn" in g else out


_PER_GATE = {kind: (lambda p, x, dhs, kind=kind: _per_gate(kind, p, x, dhs)) for kind in ("rnn", "lstm", "gru")}


# -- "allocating": the sequence algorithm with fresh arrays at every step -------------------

def _lstm_allocating(p, x, dhs):
    W_x, W_h, b = p["W_x"], p["W_h"], p["b"]
    N, T, D = x.shape
    H = W_h.shape[0]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
    a = (x_tm.reshape(T * N, D) @ W_x + b).reshape(T, N, 4 * H)  # hoisted input projection
    h = c = np.zeros((N, H), a.dtype)
    gates, cs, tanh_cs, hs = [], [], [], []
    for t in range(T):
        f, i, o, c_tilde, c, tanh_c, h = _lstm._pointwise(a[t] + h @ W_h, c)  # new arrays every step
        gates.append(np.concatenate([f, i, o, c_tilde], axis=1))
        cs.append(c)
        tanh_cs.append(tanh_c)
        hs.append(h)
    dhs_tm = dhs.transpose(1, 0, 2)
    dh, dc, da = np.zeros((N, H), a.dtype), np.zeros((N, H), a.dtype), [None] * T
    for t in range(T - 1, -1, -1):
        c_prev = cs[t - 1] if t > 0 else np.zeros((N, H), a.dtype)
        f, i, o, c_tilde = np.split(gates[t], 4, axis=1)
        da[t], dc = _lstm._pointwise_backward(dh + dhs_tm[t], dc, c_prev, f, i, o, c_tilde, tanh_cs[t])
        dh = da[t] @ W_h.T
    da2 = np.concatenate(da)  # (T*N, 4H)
    h_prev = np.concatenate([np.zeros((N, H), a.dtype)] + hs[:-1])  # (T*N, H)
    grads = {"W_x": x_tm.reshape(T * N, D).T @ da2, "W_h": h_prev.T @ da2, "b": da2.sum(axis=0)}
    dx = (da2 @ W_x.T).reshape(T, N, D).transpose(1, 0, 2)
    return np.stack(hs, axis=1), dx, grads
