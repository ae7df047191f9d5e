r"""The gate inspector's compute layer: each gate and state of an LSTM or GRU over time, as arrays.

This is the pure-NumPy part of :mod:`rnnlib.figures.inspector` (STYLE 15: a compute function,
a plotting function on an ``ax``, a thin widget wrapper). It lives apart from the
figures and widgets so that the numbers a figure shows can be computed, tested and
printed without matplotlib or ipywidgets; :mod:`rnnlib.figures.inspector` imports everything
here and re-exports the public names, so ``rnnlib.figures.inspector.inspect_gates`` is the
usual way in.

* :func:`inspect_gates` runs a layer over one sequence and returns each gate and
  state as a (T, H) array (time x unit), optionally with one gate's bias shifted
  (:func:`rnnlib.gates.with_gate_bias`).
* :func:`preset_sequence` and :func:`preset_params` give a small, seeded "write,
  hold, read" example: the input has three channels (a value, a *write* marker, a
  *read* marker) and hand-set weights make the LSTM store the value when the write
  marker is on and show it when the read marker is on (the GRU has no read gate: it
  stores at the write marker and keeps the state).
* :func:`summarize_step` puts one step of a trace into words.
* :data:`PANELS`, :data:`GATES`, :data:`SIGMOID_GATES`, :data:`MEMORY` name what is
  shown for each kind; the ``_check_*`` helpers validate the arguments shared with
  the plotting and widget functions.

Time steps are counted from 1 in the arguments (``t``, ``write``, ``read``) as in the
book's equations; row ``t - 1`` of a (T, H) array is step ``t``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_size
from rnnlib.gates import gru_trace, lstm_trace, with_gate_bias

#: Panels drawn for each kind, top to bottom: the gates, then the states.
PANELS = {"lstm": ("f", "i", "o", "c_tilde", "c", "h"), "gru": ("z", "r", "h_tilde", "h")}
#: Gates whose bias can be shifted (the stacked blocks of :mod:`rnnlib.lstm` / :mod:`rnnlib.gru`).
GATES = {"lstm": ("f", "i", "o", "c_tilde"), "gru": ("z", "r", "h_tilde")}
#: Gates that are sigmoids (values in (0, 1)).
SIGMOID_GATES = {"lstm": ("f", "i", "o"), "gru": ("z", "r")}
#: The state that carries memory: the cell state for the LSTM, the hidden state for the GRU.
MEMORY = {"lstm": "c", "gru": "h"}
#: Channels of :func:`preset_sequence`.
PRESET_CHANNELS = ("value", "write", "read")


def _check_kind(kind):
    if kind not in PANELS:
        raise ValueError(f"kind must be 'lstm' or 'gru'; got {kind!r}")
    return kind


def _check_gate(kind, gate):
    if gate not in GATES[kind]:
        raise ValueError(f"gate must be one of {GATES[kind]} for kind={kind!r}; got {gate!r}")
    return gate


def _check_delta(bias_delta):
    if isinstance(bias_delta, bool) or not isinstance(bias_delta, numbers.Real) or not np.isfinite(bias_delta):
        raise TypeError(f"bias_delta must be a finite number; got {bias_delta!r}")
    return float(bias_delta)


def inspect_gates(kind, params, x, state=None, gate=None, bias_delta=0.0) -> dict:
    r"""Every gate and state of the first sequence of ``x``, over time.

    Parameters
    ----------
    kind : {"lstm", "gru"}
    params : LSTM, GRU or dict
        Stacked parameters (``W_x`` (D, GH), ``W_h`` (H, GH), ``b`` (GH,) [, ``b_hn``]);
        not modified.
    x : ndarray (N, T, D) or (T, D)
        Only sequence 0 is returned (the others are run too).
    state : None or the initial state
        LSTM: tuple ``(h0, c0)`` of (N, H); GRU: ``h0`` (N, H). ``None``: zeros.
    gate : str, optional
        A gate of :data:`GATES` whose bias is shifted by ``bias_delta``.
    bias_delta : float
        Added to every unit's bias of ``gate`` (must be 0 when ``gate`` is None).

    Returns
    -------
    dict
        Keys :data:`PANELS` ``[kind]`` (LSTM ``f, i, o, c_tilde, c, h``; GRU
        ``z, r, h_tilde, h``), each an array (T, H): row ``t - 1`` is step t.
    """
    kind = _check_kind(kind)
    bias_delta = _check_delta(bias_delta)
    if gate is None:
        if bias_delta != 0.0:
            raise ValueError(f"bias_delta={bias_delta:g} needs a gate to shift (one of {GATES[kind]})")
    else:
        params = with_gate_bias(params, kind, _check_gate(kind, gate), bias_delta)
    if isinstance(x, np.ndarray) and x.ndim == 2:
        x = x[None]  # (T, D) -> (1, T, D)
    trace = (lstm_trace if kind == "lstm" else gru_trace)(params, x, state)
    return {name: trace[name][0].copy() for name in PANELS[kind]}  # (T, H) each


class PresetSequence(NamedTuple):
    """Result of :func:`preset_sequence`."""

    x: np.ndarray  # (N, T, 3): channels value, write, read
    write: int  # step (1-based) at which the write marker is on
    read: int  # step (1-based) at which the read marker is on
    values: np.ndarray  # (N,) the value shown at the write step
    channels: tuple  # ("value", "write", "read")


def preset_sequence(T=16, write=3, read=12, *, seed=0, N=1, noise=0.3) -> PresetSequence:
    """A short "write, hold, read" sequence for the inspector.

    Parameters
    ----------
    T : int
        Number of steps.
    write, read : int
        Steps (1-based, ``1 <= write < read <= T``) of the write and read markers.
    seed : int
        Seeds ``np.random.default_rng``: the stored values and the distractors.
    N : int
        Number of sequences (the inspector shows the first).
    noise : float
        Standard deviation of the distractor values on the value channel.

    Returns
    -------
    PresetSequence
        ``x`` (N, T, 3): channel 0 the value (N(0, noise^2) distractors, and at step
        ``write`` a value of size 0.7-1 and random sign), channel 1 the write marker
        (1 at ``write``, else 0), channel 2 the read marker (1 at ``read``).
    """
    T, N = check_size("T", T), check_size("N", N)
    if not (isinstance(write, numbers.Integral) and isinstance(read, numbers.Integral) and 1 <= write < read <= T):
        raise ValueError(f"need integers 1 <= write < read <= T={T}; got write={write!r}, read={read!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0.0 <= noise < np.inf:
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    rng = np.random.default_rng(seed)
    x = np.zeros((N, T, 3))
    x[:, :, 0] = noise * rng.standard_normal((N, T))  # distractors
    values = rng.choice([-1.0, 1.0], size=N) * rng.uniform(0.7, 1.0, size=N)
    x[:, write - 1, 0] = values
    x[:, write - 1, 1] = 1.0  # write marker
    x[:, read - 1, 2] = 1.0  # read marker
    return PresetSequence(x, int(write), int(read), values, PRESET_CHANNELS)


def preset_params(kind, H=4, *, seed=0, noise=0.1) -> dict:
    r"""Hand-set weights that make an LSTM or GRU store at the write marker (and the LSTM read at the read marker).

    For the input of :func:`preset_sequence` (D = 3: value, write, read). On top of
    small random weights (std ``noise``, seeded) the gates get:

    * LSTM: :math:`b_f = +4` and write -> f weight -8 (keep, except clear at the write);
      :math:`b_i = -4`, write -> i +8 (closed, except at the write); :math:`b_o = -4`,
      read -> o +8 (closed, except at the read); value -> candidate with gains of
      size 1.5-2.5 and alternating sign, so each unit stores its own copy.
    * GRU: :math:`b_z = +4` and write -> z weight -8 (keep the state, except take the
      candidate at the write); :math:`b_r = +4` (use the whole old state); value ->
      candidate gains as for the LSTM; ``b_hn`` (reset-after form) zero.

    Parameters
    ----------
    kind : {"lstm", "gru"}
    H : int
        Hidden units.
    seed : int
    noise : float
        Std of the random part of every weight.

    Returns
    -------
    dict
        Stacked parameters: ``W_x`` (3, GH), ``W_h`` (H, GH), ``b`` (GH,), and for the
        GRU ``b_hn`` (H,); G = 4 (f, i, o, c_tilde) or 3 (z, r, h_tilde).
    """
    kind, H = _check_kind(kind), check_size("H", H)
    rng = np.random.default_rng(seed)
    G = len(GATES[kind])
    W_x = noise * rng.standard_normal((3, G * H))  # rows: value, write, read
    W_h = noise * rng.standard_normal((H, G * H))
    b = np.zeros(G * H)
    gains = np.where(np.arange(H) % 2 == 0, 1.0, -1.0) * rng.uniform(1.5, 2.5, size=H)

    def block(k):  # columns of gate block k
        return slice(k * H, (k + 1) * H)

    if kind == "lstm":  # blocks f, i, o, c_tilde
        f, i, o, c = (block(k) for k in range(4))
        b[f], W_x[1, f] = 4.0, -8.0  # keep; clear at the write
        b[i], W_x[1, i] = -4.0, 8.0  # closed; open at the write
        b[o], W_x[2, o] = -4.0, 8.0  # closed; open at the read
        W_x[0, c] = gains  # candidate = tanh(gain * value)
        return {"W_x": W_x, "W_h": W_h, "b": b}
    z, r, h = (block(k) for k in range(3))  # blocks z, r, h_tilde
    b[z], W_x[1, z] = 4.0, -8.0  # keep; take the candidate at the write
    b[r] = 4.0  # use the old state
    W_x[0, h] = gains
    return {"W_x": W_x, "W_h": W_h, "b": b, "b_hn": np.zeros(H)}


def summarize_step(trace, kind, t, gate=None) -> str:
    """One line on step ``t`` of a trace: the mean of ``gate`` (if given) and the mean size of the states.

    Parameters
    ----------
    trace : dict of (T, H) arrays (from :func:`inspect_gates`)
    kind : {"lstm", "gru"}
    t : int (1-based step)
    gate : str, optional

    Returns
    -------
    str
        E.g. ``"at t = 12: mean f = 0.98, mean |C| = 0.80, mean |h| = 0.65"``.
    """
    kind = _check_kind(kind)
    T = _trace_length(trace, kind)
    t = _check_step(t, T)
    plain = {"f": "f", "i": "i", "o": "o", "c_tilde": "C~", "c": "C", "h": "h", "z": "z", "r": "r", "h_tilde": "h~"}
    parts = []
    if gate is not None:
        parts.append(f"mean {plain[_check_gate(kind, gate)]} = {np.mean(trace[gate][t - 1]):.2f}")
    for s in dict.fromkeys((MEMORY[kind], "h")):
        parts.append(f"mean |{plain[s]}| = {np.mean(np.abs(trace[s][t - 1])):.2f}")
    return f"at t = {t}: " + ", ".join(parts)


def _trace_length(trace, kind):
    if not isinstance(trace, dict) or any(k not in trace for k in PANELS[kind]):
        raise ValueError(f"trace must be a dict with keys {PANELS[kind]} (from inspect_gates) for kind={kind!r}")
    shapes = {np.shape(trace[k]) for k in PANELS[kind]}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"every array of trace must have the same shape (T, H); got {sorted(shapes)}")
    return next(iter(shapes))[0]


def _check_step(t, T):
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 1 <= t <= T:
        raise ValueError(f"t must be a time step in 1..{T}; got {t!r}")
    return int(t)


__all__ = ["PANELS", "GATES", "SIGMOID_GATES", "MEMORY", "PRESET_CHANNELS", "inspect_gates", "PresetSequence",
           "preset_sequence", "preset_params", "summarize_step"]
