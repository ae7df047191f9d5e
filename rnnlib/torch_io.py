r"""Conversion between rnnlib layers and PyTorch's ``state_dict`` layout.

No ``import torch`` here: arrays in, arrays out. Where the conventions differ:

================  =============================  =====================================
                  rnnlib                          ``torch.nn`` (``*_l0``)
================  =============================  =====================================
orientation       ``x @ W_x``: W_x is (D, G·H)    ``x @ weight_ih.T``: (G·H, D)
LSTM gate order   f, i, o, c_tilde               i, f, g, o
GRU gate order    z, r, h_tilde                  r, z, n
biases            one ``b`` (G·H,)                ``bias_ih`` and ``bias_hh`` (sum = b)
GRU reset-after   ``b`` + separate ``b_hn``      ``bias_hh``'s n block is ``b_hn``
================  =============================  =====================================

Because the two torch biases only ever appear as a sum (except the GRU's
candidate block), :func:`to_torch_state_dict` puts the whole bias in
``bias_ih`` and zeros in ``bias_hh``; :func:`from_torch_state_dict` adds them.
The gradients of both torch biases equal the gradient of their sum, so
``grads=True`` writes ``db`` into both. The GRU update convention
``h = z*h_prev + (1-z)*h_tilde`` is the same in both libraries.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array, check_dtype
from rnnlib.layers import GRU, LSTM, RNN

KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
KINDS = {"rnn": (RNN, 1), "lstm": (LSTM, 4), "gru": (GRU, 3)}
# position of each torch block in rnnlib's stacking
_TORCH_ORDER = {
    "rnn": [0],
    "lstm": [1, 0, 3, 2],  # torch i, f, g, o  <- rnnlib f(0), i(1), o(2), c_tilde(3)
    "gru": [1, 0, 2],  # torch r, z, n     <- rnnlib z(0), r(1), h_tilde(2)
}


def _blocks(a, G, order):
    """Reorder the G blocks of the last axis of ``a`` (rnnlib <-> torch)."""
    parts = np.split(a, G, axis=-1)
    return np.concatenate([parts[k] for k in order], axis=-1)


def _inverse(order):
    inv = [0] * len(order)
    for pos, k in enumerate(order):
        inv[k] = pos
    return inv


def _kind_of(layer):
    for kind, (cls, _) in KINDS.items():
        if isinstance(layer, cls):
            return kind
    raise TypeError(f"layer must be an rnnlib RNN, LSTM or GRU; got {type(layer).__name__}")


def to_torch_state_dict(layer, grads=False):
    """The layer's parameters (or gradients) in ``torch.nn.RNN/LSTM/GRU`` layout.

    Parameters
    ----------
    layer : RNN, LSTM or GRU
        A GRU must be ``reset_after=True`` (the form torch implements).
    grads : bool
        Convert ``layer.grads`` instead of ``layer.params``.

    Returns
    -------
    dict
        ``weight_ih_l0`` (G·H, D), ``weight_hh_l0`` (G·H, H), ``bias_ih_l0``
        (G·H,), ``bias_hh_l0`` (G·H,) as NumPy arrays (copies); load with
        ``{k: torch.from_numpy(v) for k, v in sd.items()}``.
    """
    kind = _kind_of(layer)
    if kind == "gru" and not layer.reset_after:
        raise ValueError("layer is a GRU with reset_after=False: torch.nn.GRU implements only the "
                         "reset-after form, so these weights have no torch equivalent")
    G = KINDS[kind][1]
    H = layer.hidden_size
    src = layer.grads if grads else layer.params
    names = ("W_xh", "W_hh", "b_h") if kind == "rnn" else ("W_x", "W_h", "b")
    order = _TORCH_ORDER[kind]
    W_x, W_h, b = (_blocks(src[n], G, order) for n in names)
    if grads:
        bias_ih, bias_hh = b.copy(), b.copy()  # d(b_ih + b_hh)/d each = identity
    else:
        bias_ih, bias_hh = b.copy(), np.zeros_like(b)
    if kind == "gru":
        # torch's n block of bias_hh sits inside r * (h W_hn + b_hn): it is rnnlib's b_hn
        bias_hh[2 * H :] = src["b_hn"]
    return {
        "weight_ih_l0": np.ascontiguousarray(W_x.T),  # (G·H, D)
        "weight_hh_l0": np.ascontiguousarray(W_h.T),  # (G·H, H)
        "bias_ih_l0": bias_ih,
        "bias_hh_l0": bias_hh,
    }


def from_torch_state_dict(state_dict, kind, dtype=np.float64):
    """Build an rnnlib layer from a one-layer ``torch.nn.RNN/LSTM/GRU`` state dict.

    Parameters
    ----------
    state_dict : dict
        Keys ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``;
        values NumPy arrays (use ``t.detach().numpy()`` for torch tensors).
    kind : {"rnn", "lstm", "gru"}
        ``"gru"`` gives ``GRU(reset_after=True)``; ``"rnn"`` assumes tanh.
    dtype : float32 or float64

    Returns
    -------
    RNN, LSTM or GRU
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}; got {kind!r}")
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict must be a dict; got {type(state_dict).__name__}")
    missing = [k for k in KEYS if k not in state_dict]
    if missing:
        raise ValueError(f"state_dict is missing {missing} (a one-layer, unidirectional, biased "
                         f"torch.nn.{kind.upper()} has {list(KEYS)}); got keys {sorted(state_dict)}")
    extra = sorted(k for k in state_dict if k not in KEYS)
    if extra:  # else a stacked/bidirectional module would silently load as its first layer
        raise ValueError(f"state_dict has unexpected keys {extra}: only a one-layer, unidirectional "
                         f"torch.nn.{kind.upper()} without proj_size converts (keys {list(KEYS)})")
    dtype = check_dtype(dtype)
    cls, G = KINDS[kind]
    sd = {k: np.asarray(state_dict[k]) for k in KEYS}
    w_ih = check_array("state_dict['weight_ih_l0']", sd["weight_ih_l0"], ("G*H", "D"))
    if w_ih.shape[0] % G:
        raise ValueError(f"state_dict['weight_ih_l0'] must have {G}*H rows for kind={kind!r}; "
                         f"got shape {w_ih.shape}")
    H, D = w_ih.shape[0] // G, w_ih.shape[1]
    w_hh = check_array("state_dict['weight_hh_l0']", sd["weight_hh_l0"], ("G*H", "H"), (G * H, H))
    b_ih = check_array("state_dict['bias_ih_l0']", sd["bias_ih_l0"], ("G*H",), (G * H,))
    b_hh = check_array("state_dict['bias_hh_l0']", sd["bias_hh_l0"], ("G*H",), (G * H,))
    inv = _inverse(_TORCH_ORDER[kind])
    if kind == "gru":
        b = b_ih.astype(np.float64)
        b[: 2 * H] += b_hh[: 2 * H]  # r and z: the two biases only appear summed
        b_hn = b_hh[2 * H :]
    else:
        b = b_ih.astype(np.float64) + b_hh
    W_x, W_h, b = _blocks(w_ih.T, G, inv), _blocks(w_hh.T, G, inv), _blocks(b, G, inv)
    if kind == "rnn":
        params = {"W_xh": W_x, "W_hh": W_h, "b_h": b}
    else:
        params = {"W_x": W_x, "W_h": W_h, "b": b}
    kw = {"dtype": dtype}
    if kind == "gru":
        params["b_hn"] = b_hn
        kw["reset_after"] = True
    layer = cls(D, H, **kw)
    return layer.set_params(params)
