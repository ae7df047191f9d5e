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

Stacked and bidirectional layers (:mod:`rnnlib.stacked`) name their
parameters as torch does: rnnlib ``W_x_l1`` / ``W_x_l0_reverse`` correspond
to ``weight_ih_l1`` / ``weight_ih_l0_reverse``.
"""

from __future__ import annotations

import re

import numpy as np

from rnnlib import stacked as _stacked
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


def _unit_to_torch(kind, src, H):
    """One (layer, direction) unit's ``{name: array}`` -> torch's four tensors (grads: both biases get db)."""
    G = KINDS[kind][1]
    names = ("W_xh", "W_hh", "b_h") if kind == "rnn" else ("W_x", "W_h", "b")
    order = _TORCH_ORDER[kind]
    W_x, W_h, b = (_blocks(src[n], G, order) for n in names)
    return W_x, W_h, b


def to_torch_state_dict(layer, grads=False):
    """The layer's parameters (or gradients) in ``torch.nn.RNN/LSTM/GRU`` layout.

    Parameters
    ----------
    layer : RNN, LSTM or GRU
        A GRU must be ``reset_after=True`` (the form torch implements). Stacked
        and bidirectional layers give every layer's and direction's tensors.
    grads : bool
        Convert ``layer.grads`` instead of ``layer.params``.

    Returns
    -------
    dict
        ``weight_ih_l{k}`` (G·H, D for k = 0, else dirs·H), ``weight_hh_l{k}``
        (G·H, H), ``bias_ih_l{k}`` (G·H,), ``bias_hh_l{k}`` (G·H,), each also with
        the suffix ``_reverse`` for the backward direction, in torch's key
        order, as NumPy arrays (copies); load with
        ``{k: torch.from_numpy(v) for k, v in sd.items()}``.
    """
    kind = _kind_of(layer)
    if kind == "gru" and not layer.reset_after:
        raise ValueError("layer is a GRU with reset_after=False: torch.nn.GRU implements only the "
                         "reset-after form, so these weights have no torch equivalent")
    H = layer.hidden_size
    src = layer.grads if grads else layer.params
    plain = _stacked.is_plain(layer)
    out = {}
    for k, d in _stacked.units(layer):
        unit = {n: src[_stacked.param_key(n, k, d, plain)] for n in _stacked.unit_names(layer)}
        W_x, W_h, b = _unit_to_torch(kind, unit, H)
        if grads:
            bias_ih, bias_hh = b.copy(), b.copy()  # d(b_ih + b_hh)/d each = identity
        else:
            bias_ih, bias_hh = b.copy(), np.zeros_like(b)
        if kind == "gru":
            # torch's n block of bias_hh sits inside r * (h W_hn + b_hn): it is rnnlib's b_hn
            bias_hh[2 * H :] = unit["b_hn"]
        sfx = f"_l{k}" + ("_reverse" if d else "")
        out["weight_ih" + sfx] = np.ascontiguousarray(W_x.T)  # (G·H, D or dirs·H)
        out["weight_hh" + sfx] = np.ascontiguousarray(W_h.T)  # (G·H, H)
        out["bias_ih" + sfx] = bias_ih
        out["bias_hh" + sfx] = bias_hh
    return out


_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")


def _stack_shape(state_dict, kind):
    """(num_layers, bidirectional) read off the keys, after checking they form a whole stack."""
    bad = sorted(k for k in state_dict if not (isinstance(k, str) and _KEY.match(k)))
    if bad:
        raise ValueError(f"state_dict has unexpected keys {bad}: a biased torch.nn.{kind.upper()} "
                         f"without proj_size has only weight_ih/weight_hh/bias_ih/bias_hh_l{{k}}"
                         f"[_reverse] keys")
    found = {(int(m.group(2)), bool(m.group(3))) for m in map(_KEY.match, state_dict)}
    if not found:
        raise ValueError(f"state_dict is missing {list(KEYS)}: it has no recurrent weights "
                         f"(got keys {sorted(state_dict)})")
    L = max(k for k, _ in found) + 1
    B = any(r for _, r in found)
    want = [f"{w}_l{k}{'_reverse' if r else ''}" for k in range(L) for r in ((False, True) if B else (False,))
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    missing = [k for k in want if k not in state_dict]
    if missing:
        raise ValueError(f"state_dict is missing {missing}: its keys describe an inconsistent stack "
                         f"(layers l0..l{L - 1}{', both directions' if B else ''} need {len(want)} "
                         f"keys; got keys {sorted(state_dict)})")
    return L, B


def from_torch_state_dict(state_dict, kind, dtype=np.float64):
    """Build an rnnlib layer from a ``torch.nn.RNN/LSTM/GRU`` state dict.

    Parameters
    ----------
    state_dict : dict
        Keys ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
        ``bias_hh_l{k}`` for k = 0 .. L-1, and the same with ``_reverse`` for
        a bidirectional module; values NumPy arrays (use
        ``t.detach().numpy()`` for torch tensors). ``num_layers`` and
        ``bidirectional`` are read off the keys.
    kind : {"rnn", "lstm", "gru"}
        ``"gru"`` gives ``GRU(reset_after=True)``; ``"rnn"`` assumes tanh.
    dtype : float32 or float64

    Returns
    -------
    RNN, LSTM or GRU
        With ``num_layers`` and ``bidirectional`` as in the torch module
        (``dropout`` is not in a state dict: 0, set ``layer.dropout`` if needed).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}; got {kind!r}")
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict must be a dict; got {type(state_dict).__name__}")
    L, B = _stack_shape(state_dict, kind)
    dtype = check_dtype(dtype)
    cls, G = KINDS[kind]
    sd = {k: np.asarray(v) for k, v in state_dict.items()}
    w0 = check_array("state_dict['weight_ih_l0']", sd["weight_ih_l0"], ("G*H", "D"))
    if w0.shape[0] % G:
        raise ValueError(f"state_dict['weight_ih_l0'] must have {G}*H rows for kind={kind!r}; "
                         f"got shape {w0.shape}")
    H, D = w0.shape[0] // G, w0.shape[1]
    dirs = 2 if B else 1
    inv = _inverse(_TORCH_ORDER[kind])
    params = {}
    for k in range(L):
        for d in range(dirs):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            D_in = D if k == 0 else dirs * H
            w_ih = check_array(f"state_dict['weight_ih{sfx}']", sd["weight_ih" + sfx],
                               ("G*H", "D" if k == 0 else "dirs*H"), (G * H, D_in))
            w_hh = check_array(f"state_dict['weight_hh{sfx}']", sd["weight_hh" + sfx], ("G*H", "H"),
                               (G * H, H))
            b_ih = check_array(f"state_dict['bias_ih{sfx}']", sd["bias_ih" + sfx], ("G*H",), (G * H,))
            b_hh = check_array(f"state_dict['bias_hh{sfx}']", sd["bias_hh" + sfx], ("G*H",), (G * H,))
            if kind == "gru":
                b = b_ih.astype(np.float64)
                b[: 2 * H] += b_hh[: 2 * H]  # r and z: the two biases only appear summed
            else:
                b = b_ih.astype(np.float64) + b_hh
            unit = dict(zip(_stacked.NAMES[kind], (_blocks(w_ih.T, G, inv), _blocks(w_hh.T, G, inv),
                                                    _blocks(b, G, inv))))
            if kind == "gru":
                unit["b_hn"] = b_hh[2 * H :]
            plain = L == 1 and not B
            params.update({_stacked.param_key(n, k, d, plain): v for n, v in unit.items()})
    kw = {"dtype": dtype, "num_layers": L, "bidirectional": B}
    if kind == "gru":
        kw["reset_after"] = True
    layer = cls(D, H, **kw)
    return layer.set_params(params)
