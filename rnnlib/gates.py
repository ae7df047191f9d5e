r"""Gate by gate: the cells as the chapters derive them, gate traces, two LSTM variants.

* **One matmul per gate.** :func:`lstm_step_per_gate`, :func:`gru_step_per_gate`
  transcribe the equations of :mod:`rnnlib.lstm` / :mod:`rnnlib.gru` one line
  per gate, the book's symbols as argument names (``W_xf``, ``W_hf``, ``b_f``...):
  the reference the fused cells are tested against. :func:`lstm_per_gate_params`
  and :func:`gru_per_gate_params` split stacked parameters into those names:
  ``(h, c), gates = lstm_step_per_gate(x_t, (h, c), **lstm_per_gate_params(layer))``.
  They follow the fused cells' convention (a state in, a state out, the LSTM's
  state the pair ``(h, c)``), and return the gate values where those return a cache.
* **Traces for inspectors.** :func:`lstm_trace` / :func:`gru_trace` read every gate and
  state over time, (N, T, H) each, off the cache of one fast sequence run.
  :func:`with_gate_bias` copies the parameters with one gate's bias shifted.
* **Variants** (forward only): peephole connections, :func:`lstm_peephole_step_forward`
  (Gers & Schmidhuber 2000), and coupled input-forget gates, :func:`lstm_coupled_step_forward`.

References
----------
Gers, F. A. & Schmidhuber, J. (2000). Recurrent nets that time and count. IJCNN.
Greff, K. et al. (2017). LSTM: A search space odyssey. IEEE TNNLS 28(10).
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnlib import gru as _gru
from rnnlib import lstm as _lstm
from rnnlib._checks import check_array, check_state_pair
from rnnlib.activations import sigmoid
from rnnlib.layers import GRU, LSTM, Recurrent

# per gate: input weight W_x* (D, H), recurrent weight W_h* (H, H), bias b_* (H,)
LSTM_PARAM_NAMES = ("W_xf", "W_hf", "b_f", "W_xi", "W_hi", "b_i", "W_xo", "W_ho", "b_o", "W_xc", "W_hc", "b_c")
GRU_PARAM_NAMES = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")  # (+ b_hn)
CIFG_GATES = ("f", "o", "c_tilde")  # stacking of CIFG parameters: the LSTM's minus the i block

_SUFFIX = {"lstm": {"f": "f", "i": "i", "o": "o", "c_tilde": "c"},  # stacked gate -> symbol subscript
           "gru": {"z": "z", "r": "r", "h_tilde": "h"}}
_ORDER = {"lstm": _lstm.GATES, "gru": _gru.GATES, "cifg": CIFG_GATES}


def _stacked_params(name, params, kind):
    """Validated ``{W_x (D, GH), W_h (H, GH), b (GH,) [, b_hn (H,)]}`` from a dict or a layer."""
    G = len(_ORDER[kind])  # number of stacked blocks
    cls = {"lstm": LSTM, "gru": GRU}.get(kind)
    if isinstance(params, Recurrent):
        if cls is None or not isinstance(params, cls):
            want = "a params dict" if cls is None else f"an rnnlib {cls.__name__} or its params dict"
            raise TypeError(f"{name} must be {want}; got {type(params).__name__}")
        params = params.params
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of arrays (W_x, W_h, b); got {type(params).__name__}")
    allowed = {"W_x", "W_h", "b"} | ({"b_hn"} if kind == "gru" else set())
    missing, extra = sorted({"W_x", "W_h", "b"} - set(params)), sorted(set(params) - allowed)
    if missing or extra:
        raise ValueError(f"{name} must have keys {sorted(allowed)} for kind={kind!r}; "
                         f"missing {missing}, unexpected {extra}")
    W_x = check_array(f"{name}['W_x']", params["W_x"], ("D", f"{G}H"))
    if W_x.shape[1] % G:
        raise ValueError(f"{name}['W_x'] must have shape (D, {G}H) ({', '.join(_ORDER[kind])} stacked); "
                         f"got {W_x.shape}")
    H = W_x.shape[1] // G
    out = {"W_x": W_x,
           "W_h": check_array(f"{name}['W_h']", params["W_h"], ("H", f"{G}H"), (H, G * H)),
           "b": check_array(f"{name}['b']", params["b"], (f"{G}H",), (G * H,))}
    if "b_hn" in params:
        out["b_hn"] = check_array(f"{name}['b_hn']", params["b_hn"], ("H",), (H,))
    return out


def _check_step(x_t, state_prev, D, H, lstm=True):
    """``x_t`` and ``(h_prev, c_prev)`` (LSTM) or ``h_prev``, validated."""
    x_t = check_array("x_t", x_t, ("N", "D"), (None, D))
    if lstm:
        return x_t, check_state_pair("state_prev", state_prev, ("h_prev", "c_prev"), (len(x_t), H))
    return x_t, check_array("h_prev", state_prev, ("N", "H"), (len(x_t), H))


def _check_per_gate(arrays: dict):
    """Check per-gate arrays named by symbol: ``W_x*`` (D, H), ``W_h*`` (H, H), ``b_*`` (H,)."""
    first = next(k for k in arrays if k.startswith("W_x"))
    D, H = check_array(first, arrays[first], ("D", "H")).shape
    spec = {"W_x": (("D", "H"), (D, H)), "W_h": (("H", "H"), (H, H))}
    return D, H, {k: check_array(k, a, *spec.get(k[:3], (("H",), (H,)))) for k, a in arrays.items()}


# -- one matmul per gate ---------------------------------------------------------

def lstm_per_gate_params(params) -> dict:
    """Split stacked LSTM parameters (f, i, o, c_tilde) into per-gate arrays.

    Parameters
    ----------
    params : LSTM or dict
        ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,).

    Returns
    -------
    dict
        ``LSTM_PARAM_NAMES``: ``W_x*`` (D, H), ``W_h*`` (H, H), ``b_*`` (H,), * in f, i, o, c (copies).
    """
    return _per_gate(_stacked_params("params", params, "lstm"), "lstm")


def gru_per_gate_params(params) -> dict:
    """Split stacked GRU parameters (z, r, h_tilde) into per-gate arrays.

    Parameters
    ----------
    params : GRU or dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) [+ ``b_hn`` (H,)].

    Returns
    -------
    dict
        ``GRU_PARAM_NAMES`` (copies), shapes as for the LSTM, plus ``b_hn`` (H,) if present.
    """
    return _per_gate(_stacked_params("params", params, "gru"), "gru")


def _per_gate(p, kind):
    split = _lstm.split_gates if kind == "lstm" else _gru.split_gates
    blocks = {pre: split(p[k]) for pre, k in (("W_x", "W_x"), ("W_h", "W_h"), ("b_", "b"))}
    out = {f"{pre}{s}": blocks[pre][gate].copy() for gate, s in _SUFFIX[kind].items() for pre in blocks}
    return dict(out, b_hn=p["b_hn"].copy()) if "b_hn" in p else out


def lstm_step_per_gate(x_t, state_prev, *, W_xf, W_hf, b_f, W_xi, W_hi, b_i,
                       W_xo, W_ho, b_o, W_xc, W_hc, b_c):
    r"""One LSTM step with one matmul per gate, exactly as the equations read.

    Parameters
    ----------
    x_t : ndarray (N, D)
    state_prev : tuple (h_prev, c_prev) of ndarray (N, H)
    W_xf, W_xi, W_xo, W_xc : ndarray (D, H)
    W_hf, W_hi, W_ho, W_hc : ndarray (H, H)
    b_f, b_i, b_o, b_c : ndarray (H,)

    Returns
    -------
    state_next : tuple (h_next, c_next) of ndarray (N, H)
    gates : dict
        ``f``, ``i``, ``o``, ``c_tilde``, each (N, H).

    Notes
    -----
    .. math::
        f_t = \sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f) \text{ (i, o alike)},\;
        \tilde C_t = \tanh(x_t W_{xc} + h_{t-1} W_{hc} + b_c),\;
        C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t,\; h_t = o_t \odot \tanh(C_t)
    """
    D, H, p = _check_per_gate(dict(W_xf=W_xf, W_hf=W_hf, b_f=b_f, W_xi=W_xi, W_hi=W_hi, b_i=b_i,
                                   W_xo=W_xo, W_ho=W_ho, b_o=b_o, W_xc=W_xc, W_hc=W_hc, b_c=b_c))
    W_xf, W_hf, b_f, W_xi, W_hi, b_i, W_xo, W_ho, b_o, W_xc, W_hc, b_c = (p[k] for k in LSTM_PARAM_NAMES)
    x_t, (h_prev, c_prev) = _check_step(x_t, state_prev, D, H)
    f = sigmoid(x_t @ W_xf + h_prev @ W_hf + b_f)  # forget gate (N, H)
    i = sigmoid(x_t @ W_xi + h_prev @ W_hi + b_i)  # input gate
    o = sigmoid(x_t @ W_xo + h_prev @ W_ho + b_o)  # output gate
    c_tilde = np.tanh(x_t @ W_xc + h_prev @ W_hc + b_c)  # candidate
    c_next = f * c_prev + i * c_tilde
    h_next = o * np.tanh(c_next)
    return (h_next, c_next), {"f": f, "i": i, "o": o, "c_tilde": c_tilde}


def gru_step_per_gate(x_t, h_prev, *, W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h,
                      b_hn=None, reset_after=None):
    r"""One GRU step with one matmul per gate, in either form.

    Parameters
    ----------
    x_t : ndarray (N, D)
    h_prev : ndarray (N, H)
    W_xz, W_xr, W_xh : ndarray (D, H)
    W_hz, W_hr, W_hh : ndarray (H, H)
    b_z, b_r, b_h : ndarray (H,)
    b_hn : ndarray (H,) or None
        Candidate's recurrent bias, reset-after form only.
    reset_after : bool or None
        Reset after the recurrent matmul or before it; ``None``: after iff ``b_hn`` is given.

    Returns
    -------
    h_next : ndarray (N, H)
    gates : dict
        ``z``, ``r``, ``h_tilde``, each (N, H).

    Notes
    -----
    .. math::
        z_t = \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z) \text{ (r alike)},\;
        \tilde h_t = \tanh(x_t W_{xh} + b_h + r_t \odot (h_{t-1} W_{hh} + b_{hn})) \text{ (after) or }
        \tanh(x_t W_{xh} + (r_t \odot h_{t-1}) W_{hh} + b_h),\; h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t
    """
    reset_after = b_hn is not None if reset_after is None else reset_after
    if bool(reset_after) != (b_hn is not None):
        raise ValueError("b_hn (H,) is required when reset_after=True and must be None when "
                         f"reset_after=False (one bias b_h); got reset_after={reset_after}, b_hn={type(b_hn).__name__}")
    D, H, p = _check_per_gate(dict(W_xz=W_xz, W_hz=W_hz, b_z=b_z, W_xr=W_xr, W_hr=W_hr, b_r=b_r, W_xh=W_xh,
                                   W_hh=W_hh, b_h=b_h, **({"b_hn": b_hn} if reset_after else {})))
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = (p[k] for k in GRU_PARAM_NAMES)
    x_t, h_prev = _check_step(x_t, h_prev, D, H, lstm=False)
    z = sigmoid(x_t @ W_xz + h_prev @ W_hz + b_z)  # update gate (N, H)
    r = sigmoid(x_t @ W_xr + h_prev @ W_hr + b_r)  # reset gate
    if reset_after:
        h_tilde = np.tanh(x_t @ W_xh + b_h + r * (h_prev @ W_hh + p["b_hn"]))
    else:
        h_tilde = np.tanh(x_t @ W_xh + (r * h_prev) @ W_hh + b_h)
    h_next = z * h_prev + (1.0 - z) * h_tilde  # z = 1 keeps the old state
    return h_next, {"z": z, "r": r, "h_tilde": h_tilde}


# -- traces ------------------------------------------------------------------------

def _trace_setup(layer_or_params, x, kind):
    p = _stacked_params("layer_or_params", layer_or_params, kind)
    D, H = p["W_x"].shape[0], p["W_h"].shape[0]
    x = check_array("x", x, ("N", "T", "D"), (None, None, D), dtype=p["W_x"].dtype)

    def state(name, s):  # None -> zeros (N, H)
        return np.zeros((x.shape[0], H), x.dtype) if s is None else check_array(
            name, s, ("N", "H"), (x.shape[0], H), dtype=x.dtype)
    return p, x, state


def lstm_trace(layer_or_params, x, state=None) -> dict:
    """Every LSTM gate and state over time, from one run of :func:`rnnlib.lstm.lstm_forward`.

    Parameters
    ----------
    layer_or_params : LSTM or dict
        ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,). The layer is not modified.
    x : ndarray (N, T, D)
    state : None (zeros) or tuple (h0, c0) of ndarray (N, H)

    Returns
    -------
    dict
        ``f``, ``i``, ``o``, ``c_tilde``, ``c``, ``h``, each (N, T, H).
    """
    p, x, check_state = _trace_setup(layer_or_params, x, "lstm")
    state = (None, None) if state is None else state
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(f"state must be None or a tuple (h0, c0) of arrays (N, H); got {type(state).__name__}")
    h0, c0 = check_state("state[0] (h)", state[0]), check_state("state[1] (c)", state[1])
    _, _, cache = _lstm.lstm_forward(x, (h0, c0), p["W_x"], p["W_h"], p["b"])
    trace = dict(_lstm.split_gates(cache.gates), c=cache.cs, h=cache.hs)  # (T, N, H) each
    return {k: np.ascontiguousarray(v.transpose(1, 0, 2)) for k, v in trace.items()}  # -> (N, T, H)


def gru_trace(layer_or_params, x, state=None) -> dict:
    """Every GRU gate and the state over time, from one run of :func:`rnnlib.gru.gru_forward`.

    Parameters
    ----------
    layer_or_params : GRU or dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,); with ``b_hn`` (H,) the
        reset-after form, without it reset-before. The layer is not modified.
    x : ndarray (N, T, D)
    state : None or ndarray (N, H)

    Returns
    -------
    dict
        ``z``, ``r``, ``h_tilde``, ``h``, each (N, T, H).
    """
    p, x, check_state = _trace_setup(layer_or_params, x, "gru")
    if isinstance(state, (tuple, list)):
        raise TypeError("state for a GRU must be None or an array h0 (N, H); got a tuple (only the LSTM has (h, c))")
    h0 = check_state("state", state)
    _, _, cache = _gru.gru_forward(x, h0, p["W_x"], p["W_h"], p["b"], p.get("b_hn"), reset_after="b_hn" in p)
    trace = dict(_gru.split_gates(cache.gates), h=cache.hs)
    return {k: np.ascontiguousarray(v.transpose(1, 0, 2)) for k, v in trace.items()}


def with_gate_bias(params, kind, gate, delta) -> dict:
    """A copy of stacked parameters with one gate's bias block shifted by ``delta``.

    Parameters
    ----------
    params : LSTM, GRU or dict
        Stacked parameters (not modified).
    kind : {"lstm", "gru"}
    gate : str
        LSTM: ``"f"``, ``"i"``, ``"o"``, ``"c_tilde"``; GRU: ``"z"``, ``"r"``,
        ``"h_tilde"`` (the input-side ``b_h``, outside the reset product).
    delta : float or ndarray (H,)

    Returns
    -------
    dict
        Same keys as ``params``; only ``b[k*H:(k+1)*H]`` differs, k the gate's position.
    """
    if kind not in _SUFFIX or gate not in _ORDER[kind]:
        raise ValueError(f"kind must be 'lstm' (gates {_ORDER['lstm']}) or 'gru' (gates {_ORDER['gru']}); "
                         f"got kind={kind!r}, gate={gate!r}")
    out = {k: v.copy() for k, v in _stacked_params("params", params, kind).items()}
    H = out["W_h"].shape[0]
    if np.ndim(delta) != 0:
        delta = check_array("delta", delta, ("H",), (H,))
    elif not isinstance(delta, numbers.Real) or not np.isfinite(delta):
        raise TypeError(f"delta must be a finite number or an array (H,); got {delta!r}")
    k = _ORDER[kind].index(gate)
    out["b"][k * H:(k + 1) * H] += delta
    return out


# -- variants ------------------------------------------------------------------------

def lstm_peephole_step_forward(x_t, state_prev, params, p_f, p_i, p_o):
    r"""One step of the peephole LSTM (Gers & Schmidhuber 2000), forward only.

    Parameters
    ----------
    x_t : ndarray (N, D)
    state_prev : tuple (h_prev, c_prev) of ndarray (N, H)
    params : LSTM or dict
        Stacked ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,), order f, i, o, c_tilde.
    p_f, p_i, p_o : ndarray (H,)
        Diagonal peephole weights: cell k sees only its own state.

    Returns
    -------
    state_next : tuple (h_next, c_next) of ndarray (N, H)
    gates : dict
        ``f``, ``i``, ``o``, ``c_tilde``, each (N, H).

    Notes
    -----
    The gates also see the cell, f and i the old state, o the new one (zero peepholes: plain LSTM):

    .. math::
        f_t = \sigma(x_t W_{xf} + h_{t-1} W_{hf} + C_{t-1} \odot p_f + b_f),\;
        i_t = \sigma(\dots + C_{t-1} \odot p_i + b_i),\;
        o_t = \sigma(\dots + C_t \odot p_o + b_o)
    """
    p = _stacked_params("params", params, "lstm")
    H = p["W_h"].shape[0]
    x_t, (h_prev, c_prev) = _check_step(x_t, state_prev, p["W_x"].shape[0], H)
    p_f, p_i, p_o = (check_array(nm, v, ("H",), (H,)) for nm, v in (("p_f", p_f), ("p_i", p_i), ("p_o", p_o)))
    a = _lstm.split_gates(x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"])  # (N, H) per gate
    f = sigmoid(a["f"] + c_prev * p_f)  # peeks at C_{t-1}
    i = sigmoid(a["i"] + c_prev * p_i)  # peeks at C_{t-1}
    c_tilde = np.tanh(a["c_tilde"])
    c_next = f * c_prev + i * c_tilde
    o = sigmoid(a["o"] + c_next * p_o)  # peeks at the new C_t
    h_next = o * np.tanh(c_next)
    return (h_next, c_next), {"f": f, "i": i, "o": o, "c_tilde": c_tilde}


def cifg_params(params) -> dict:
    """The CIFG parameters of an LSTM: its f, o, c_tilde blocks (the input gate's dropped).

    Parameters
    ----------
    params : LSTM or dict
        ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,).

    Returns
    -------
    dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), stacked :data:`CIFG_GATES` (copies).
    """
    blocks = {k: _lstm.split_gates(v) for k, v in _stacked_params("params", params, "lstm").items()}
    return {k: np.concatenate([b[g] for g in CIFG_GATES], axis=-1) for k, b in blocks.items()}


def lstm_coupled_step_forward(x_t, state_prev, params):
    r"""One step of the coupled input-forget gate LSTM (CIFG, Greff et al. 2017), forward only.

    Parameters
    ----------
    x_t : ndarray (N, D)
    state_prev : tuple (h_prev, c_prev) of ndarray (N, H)
    params : dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), stacked f, o, c_tilde (a quarter
        fewer weights than the LSTM); :func:`cifg_params` takes them from an LSTM.

    Returns
    -------
    state_next : tuple (h_next, c_next) of ndarray (N, H)
    gates : dict
        ``f``, ``i`` (= 1 - f), ``o``, ``c_tilde``, each (N, H).

    Notes
    -----
    The cell writes exactly as much as it forgets; f, o, C~ and h are as in the LSTM:

    .. math:: i_t = 1 - f_t,\quad C_t = f_t \odot C_{t-1} + (1 - f_t) \odot \tilde C_t
    """
    p = _stacked_params("params", params, "cifg")
    H = p["W_h"].shape[0]
    x_t, (h_prev, c_prev) = _check_step(x_t, state_prev, p["W_x"].shape[0], H)
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]  # (N, 3H): f, o, c_tilde
    f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    c_tilde = np.tanh(a[:, 2 * H:])
    i = 1.0 - f  # the coupling: no input-gate weights
    c_next = f * c_prev + i * c_tilde
    h_next = o * np.tanh(c_next)
    return (h_next, c_next), {"f": f, "i": i, "o": o, "c_tilde": c_tilde}
