r"""Other libraries' weight layouts, the GRU update convention, and the classic mix-ups.

=======  ====================  ==========  =========================================
library  orientation           LSTM        GRU blocks and biases
=======  ====================  ==========  =========================================
rnnlib   ``x @ W_x`` (D, GH)   f, i, o, c  z, r, h; ``b`` (3H,) + ``b_hn`` (H,)
PyTorch  ``x @ W.T`` (GH, D)   i, f, g, o  r, z, n; ``bias_ih`` + ``bias_hh`` (3H,)
Keras    ``x @ kernel``        i, f, c, o  z, r, h; (2, 3H) reset-after, (3H,) before
CS231n   ``x @ Wx``            i, f, o, g  (none)
=======  ====================  ==========  =========================================

PyTorch conversion is :mod:`rnnlib.torch_io`; Keras and CS231n are here. A CS231n call
``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)`` is, in rnnlib's convention (the LSTM's state a pair),
``rnnlib.lstm_step_forward(x, (prev_h, prev_c), **from_cs231n_lstm(Wx, Wh, b).params)``. The Keras facts were read in
keras-team/keras ``keras/src/layers/rnn/{lstm,gru}.py`` (Keras 3): LSTM blocks i, f, c, o, one bias; GRU
blocks z, r, h; ``reset_after=True`` keeps "separate biases for input and recurrent kernels", ``bias``
(2, 3H), and computes ``r * (h_tm1 @ rk[:, 2H:] + recurrent_bias[2H:])``; ``reset_after=False`` has one
bias (3H,) and ``(r * h_tm1) @ rk[:, 2H:]``. Both end in ``h = z * h_tm1 + (1 - z) * hh`` (rnnlib's).

:func:`flip_update_gate` turns GRU weights into ones for Chung et al.'s (2014) update :math:`h_t =
(1 - z_t) h_{t-1} + z_t \tilde h_t` (run by :func:`gru_forward_chung`). The classic conversion mistakes
are measured and named in :mod:`rnnlib.experiments.mixups`.

References
----------
Chung, J. et al. (2014). Empirical evaluation of gated recurrent neural networks on sequence modeling.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array, check_dtype
from rnnlib.gates import _stacked_params
from rnnlib.gru import gru_step_forward
from rnnlib.layers import GRU, LSTM

TORCH_GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
KERAS_GATES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}
CS231N_LSTM_GATES = ("i", "f", "o", "g")
_RNNLIB_GATES = {"lstm": ("f", "i", "o", "c_tilde"), "gru": ("z", "r", "h_tilde")}
_NAME = {"i": "i", "f": "f", "o": "o", "g": "c_tilde", "c": "c_tilde",  # letter -> rnnlib gate
         "z": "z", "r": "r", "n": "h_tilde", "h": "h_tilde"}


def _restack(a, src, dst, axis=-1):
    """Reorder the blocks of ``a`` along ``axis`` from order ``src`` to ``dst`` (letters or names)."""
    blocks = dict(zip((_NAME.get(g, g) for g in src), np.split(a, len(src), axis=axis)))
    return np.concatenate([blocks[_NAME.get(g, g)] for g in dst], axis=axis)


def _check_kind(kind):  # -> kind, or a clear error
    if kind not in _RNNLIB_GATES:
        raise ValueError(f"kind must be 'lstm' or 'gru'; got {kind!r}")
    return kind


def _kind_of(layer, kinds=("lstm", "gru")):
    if isinstance(layer, (LSTM, GRU)) and layer.kind in kinds:
        return layer.kind
    raise TypeError(f"layer must be an rnnlib {' or '.join(k.upper() for k in kinds)}; got {type(layer).__name__}")


def _check_weights(names, W_x, W_h, G):
    """Validate (D, GH) and (H, GH) weights under the caller's argument names."""
    W_x = check_array(names[0], W_x, ("D", f"{G}H"))
    if W_x.shape[1] % G:
        raise ValueError(f"{names[0]} must have shape (D, {G}H) ({G} gate blocks); got {W_x.shape}")
    return W_x, check_array(names[1], W_h, ("H", f"{G}H"), (W_x.shape[1] // G, W_x.shape[1]))


# -- Keras and CS231n -------------------------------------------------------------------

def to_keras_weights(layer):
    """The weights of an rnnlib LSTM or GRU in ``keras.layers.LSTM/GRU`` layout.

    Parameters
    ----------
    layer : LSTM or GRU

    Returns
    -------
    kernel, recurrent_kernel : ndarray (D, GH), (H, GH)
    bias : ndarray
        LSTM (4H,); GRU reset-after (2, 3H): row 0 input bias, row 1 recurrent bias (zero but ``b_hn``
        in the h block); GRU reset-before (3H,). Load: ``keras_layer.set_weights([kernel, recurrent_kernel, bias])``.
    """
    kind = _kind_of(layer)
    src, dst = _RNNLIB_GATES[kind], KERAS_GATES[kind]
    kernel, recurrent_kernel, b = (_restack(layer.params[k], src, dst) for k in ("W_x", "W_h", "b"))
    if kind == "gru" and layer.reset_after:  # row 0: input bias; row 1: recurrent, only b_hn (inside r * ...)
        b_recurrent = np.concatenate([np.zeros(2 * layer.hidden_size, b.dtype), layer.params["b_hn"]])
        return kernel, recurrent_kernel, np.stack([b, b_recurrent])
    return kernel, recurrent_kernel, b


def from_keras_weights(kernel, recurrent_kernel, bias, kind, dtype=np.float64):
    """Build an rnnlib LSTM or GRU from ``keras_layer.get_weights()``.

    Parameters
    ----------
    kernel, recurrent_kernel : ndarray (D, GH), (H, GH)
    bias : ndarray (4H,) (LSTM); (2, 3H) (GRU, reset-after) or (3H,) (GRU, reset-before)
    kind : {"lstm", "gru"}
    dtype : float32 or float64

    Returns
    -------
    LSTM or GRU
        A GRU's ``reset_after`` follows the shape of ``bias``.
    """
    G = len(_RNNLIB_GATES[_check_kind(kind)])
    kernel, recurrent_kernel = _check_weights(("kernel", "recurrent_kernel"), kernel, recurrent_kernel, G)
    H = recurrent_kernel.shape[0]
    reset_after = kind == "gru" and np.ndim(bias) == 2
    if reset_after:
        bias = check_array("bias", bias, ("2", "3H"), (2, 3 * H))
        b = bias[0] + np.concatenate([bias[1, :2 * H], np.zeros(H)])  # z, r: the biases only appear summed
    else:
        b = check_array("bias", bias, (f"{G}H",), (G * H,))
    src, dst = KERAS_GATES[kind], _RNNLIB_GATES[kind]
    params = {k: _restack(a, src, dst) for k, a in (("W_x", kernel), ("W_h", recurrent_kernel), ("b", b))}
    if kind == "lstm":
        return LSTM.from_params(params, dtype=check_dtype(dtype))
    if reset_after:
        params["b_hn"] = bias[1, 2 * H:]
    return GRU.from_params(params, reset_after=reset_after, dtype=check_dtype(dtype))


def to_cs231n_lstm(layer) -> dict:
    """An rnnlib LSTM's weights in the CS231n assignment layout.

    Parameters
    ----------
    layer : LSTM

    Returns
    -------
    dict
        ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,), blocks i, f, o, g: ``a = x @ Wx + prev_h @ Wh + b``.
    """
    _kind_of(layer, ("lstm",))
    return {k2: _restack(layer.params[k], _RNNLIB_GATES["lstm"], CS231N_LSTM_GATES)
            for k, k2 in (("W_x", "Wx"), ("W_h", "Wh"), ("b", "b"))}


def from_cs231n_lstm(Wx, Wh, b, dtype=np.float64):
    """Build an rnnlib LSTM from CS231n-layout weights (blocks i, f, o, g).

    Parameters
    ----------
    Wx, Wh, b : ndarray (D, 4H), (H, 4H), (4H,)
    dtype : float32 or float64

    Returns
    -------
    LSTM
    """
    Wx, Wh = _check_weights(("Wx", "Wh"), Wx, Wh, 4)
    b = check_array("b", b, ("4H",), (Wx.shape[1],))
    params = {k: _restack(a, CS231N_LSTM_GATES, _RNNLIB_GATES["lstm"]) for k, a in (("W_x", Wx), ("W_h", Wh), ("b", b))}
    return LSTM.from_params(params, dtype=check_dtype(dtype))


# -- the GRU update convention --------------------------------------------------------

def flip_update_gate(params) -> dict:
    r"""GRU parameters for the other update convention, computing the same function.

    Parameters
    ----------
    params : GRU or dict (``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) [+ ``b_hn`` (H,)])

    Returns
    -------
    dict
        A copy with the z block of ``W_x``, ``W_h`` and ``b`` negated (the flip is its own inverse):
        :math:`z' = \sigma(-a_z) = 1 - z`, so :math:`(1 - z') h_{t-1} + z' \tilde h_t = z h_{t-1} + (1 - z) \tilde h_t`.
    """
    out = {k: v.copy() for k, v in _stacked_params("params", params, "gru").items()}
    H = out["W_h"].shape[0]
    for k in ("W_x", "W_h", "b"):
        out[k][..., :H] *= -1.0  # z block
    return out


def gru_forward_chung(x, params, h0=None):
    r"""Run a GRU with the update of Chung et al. (2014), :math:`h_t = (1 - z_t) h_{t-1} + z_t \tilde h_t`.

    Parameters
    ----------
    x : ndarray (N, T, D)
    params : GRU or dict (rnnlib's stacking; reset-after iff it has ``b_hn``)
    h0 : ndarray (N, H) or None

    Returns
    -------
    hs : ndarray (N, T, H)
        Given ``flip_update_gate(p)`` as ``params``, equal to rnnlib's GRU with ``p``.
    """
    p = _stacked_params("params", params, "gru")
    H = p["W_h"].shape[0]
    x = check_array("x", x, ("N", "T", "D"), (None, None, p["W_x"].shape[0]))
    N, T, _ = x.shape
    h = np.zeros((N, H), x.dtype) if h0 is None else check_array("h0", h0, ("N", "H"), (N, H))
    hs = np.empty((N, T, H), np.result_type(x, p["W_x"]))
    for t in range(T):
        _, cache = gru_step_forward(x[:, t], h, p["W_x"], p["W_h"], p["b"], p.get("b_hn"),
                                    reset_after="b_hn" in p)  # z, r, h~ as usual
        h = hs[:, t] = (1.0 - cache.z) * h + cache.z * cache.h_tilde  # z = 1 takes the candidate
    return hs


def gru_as_other_form(params) -> dict:
    r"""The same GRU weights for the other reset placement (a different function).

    Parameters
    ----------
    params : GRU or dict (reset-after with ``b_hn`` (H,), reset-before without)

    Returns
    -------
    dict
        After -> before: ``b_hn`` is added to the candidate block of ``b``, as one sums ``b_ih + b_hh`` for
        the other gates; the forms then agree exactly wherever :math:`r = 1`, so only the place of the
        reset differs. Before -> after: ``b_hn = 0``.
    """
    out = {k: v.copy() for k, v in _stacked_params("params", params, "gru").items()}
    H = out["W_h"].shape[0]
    if "b_hn" in out:
        out["b"][2 * H:] += out.pop("b_hn")
    else:
        out["b_hn"] = np.zeros(H, out["b"].dtype)
    return out

