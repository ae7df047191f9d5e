r"""The classic mistakes made when moving recurrent weights between libraries, measured.

Each entry of :data:`MIXUPS` is one way of loading a PyTorch ``state_dict``
wrongly (a wrong gate order, a dropped second bias, the other GRU form, the
other update convention). :func:`mixup_errors` measures how far each one
moves the outputs against PyTorch's own equations, run here in NumPy on the
state dict itself (:func:`torch_equations_forward`, no torch needed), and
:func:`name_mixup` recognises which mistake produced a given output, so an
exercise check can name it. The layouts themselves live in
:mod:`rnnlib.torch_io` and :mod:`rnnlib.conventions`.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array, check_rng, check_size, make_rng
from rnnlib.activations import sigmoid
from rnnlib.conventions import (_RNNLIB_GATES, TORCH_GATES, _check_kind, _restack,
                          gru_as_other_form, gru_forward_chung)
from rnnlib.layers import GRU
from rnnlib.torch_io import KEYS, from_torch_state_dict

MIXUPS = {  # key -> what was done wrong; measured by mixup_errors
    "lstm_correct": "torch LSTM weights converted correctly (rnnlib.from_torch_state_dict)",
    "lstm_order_ifog": "torch LSTM blocks read as i, f, o, g (CS231n's stacking) instead of i, f, g, o",
    "lstm_order_fiog": "torch LSTM blocks not reordered at all (read as rnnlib's f, i, o, c_tilde)",
    "lstm_drop_bias_hh": "torch LSTM loaded with bias_ih only (bias_hh dropped)",
    "gru_correct": "torch GRU weights converted correctly (rnnlib.from_torch_state_dict)",
    "gru_order_zrn": "torch GRU blocks read as z, r, n (Keras/rnnlib order) instead of r, z, n",
    "gru_drop_bias_hh": "torch GRU loaded with bias_ih only (bias_hh, and so b_hn, dropped)",
    "gru_reset_before": "torch GRU weights run in the reset-before form (Cho et al. v3, d2l)",
    "gru_swapped_update": "torch GRU run with h = (1 - z) h_prev + z h~ without flipping z (Chung et al.)",
}


def random_torch_state_dict(kind, input_size, hidden_size, rng) -> dict:
    """A random one-layer ``torch.nn.LSTM/GRU`` state dict with torch's init, made with NumPy.

    Parameters
    ----------
    kind : {"lstm", "gru"}
    input_size, hidden_size : int (D and H)
    rng : np.random.Generator

    Returns
    -------
    dict
        ``weight_ih_l0`` (GH, D), ``weight_hh_l0`` (GH, H), ``bias_ih_l0``, ``bias_hh_l0`` (GH,),
        float64, each entry ~ U(-1/sqrt(H), 1/sqrt(H)).
    """
    G = len(_RNNLIB_GATES[_check_kind(kind)])
    D, H = check_size("input_size", input_size), check_size("hidden_size", hidden_size)
    rng, k = check_rng(rng), 1.0 / np.sqrt(H)
    return {key: rng.uniform(-k, k, shape) for key, shape in zip(KEYS, ((G * H, D), (G * H, H), (G * H,), (G * H,)))}


def torch_equations_forward(state_dict, kind, x):
    r"""PyTorch's LSTM/GRU equations in NumPy on the state dict as it is (zero initial state).

    Parameters
    ----------
    state_dict : dict of ndarray (one-layer ``torch.nn.LSTM/GRU`` layout)
    kind : {"lstm", "gru"}
    x : ndarray (N, T, D)

    Returns
    -------
    hs : ndarray (N, T, H), float64

    Notes
    -----
    torch's documented equations, ``x @ W.T``: LSTM blocks i, f, g, o of :math:`x W_{ih}^T + b_{ih} + h W_{hh}^T
    + b_{hh}`; GRU blocks r, z, n, :math:`n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn}))`,
    :math:`h' = (1 - z) \odot n + z \odot h`.
    """
    from_torch_state_dict(state_dict, _check_kind(kind))  # validates keys and shapes
    W_ih, W_hh, b_ih, b_hh = (np.asarray(state_dict[k], np.float64) for k in KEYS)
    H = W_hh.shape[1]
    x = check_array("x", x, ("N", "T", "D"), (None, None, W_ih.shape[1]), dtype=np.float64)
    N, T, _ = x.shape
    h, c, hs = np.zeros((N, H)), np.zeros((N, H)), np.empty((N, T, H))
    for t in range(T):
        gi, gh = x[:, t] @ W_ih.T + b_ih, h @ W_hh.T + b_hh  # (N, GH) each
        if kind == "lstm":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:
            (i_r, i_z, i_n), (h_r, h_z, h_n) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
            r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
            n = np.tanh(i_n + r * h_n)
            h = (1.0 - z) * n + z * h
        hs[:, t] = h
    return hs


def load_torch_with_order(state_dict, kind, order):
    """Read torch weights *believing* their blocks are stacked in ``order`` (a mix-up if wrong).

    Parameters
    ----------
    state_dict : dict of ndarray (one-layer ``torch.nn.LSTM/GRU`` layout)
    kind : {"lstm", "gru"}
    order : tuple of str
        A permutation of torch's letters; correct: LSTM ``("i", "f", "g", "o")``, GRU ``("r", "z", "n")``.

    Returns
    -------
    LSTM or GRU
    """
    true = TORCH_GATES[_check_kind(kind)]
    if not isinstance(order, (tuple, list)) or sorted(order) != sorted(true):
        raise ValueError(f"order must be a permutation of {true} for kind={kind!r}; got {order!r}")
    from_torch_state_dict(state_dict, kind)  # validates
    return from_torch_state_dict({k: _restack(np.asarray(state_dict[k]), order, true, axis=0) for k in KEYS}, kind)


def drop_bias_hh(state_dict) -> dict:
    """A copy of a torch state dict with ``bias_hh_l0`` (GH,) zeroed: the "one bias is enough" mix-up.

    Parameters
    ----------
    state_dict : dict of ndarray (torch layout)

    Returns
    -------
    dict
    """
    if not isinstance(state_dict, dict) or "bias_hh_l0" not in state_dict:
        raise ValueError(f"state_dict must be a dict with the keys {list(KEYS)}")
    out = {k: np.array(v) for k, v in state_dict.items()}
    out["bias_hh_l0"][:] = 0.0  # only bias_ih kept
    return out


def _mixup_outputs(state_dict, kind, x) -> dict:
    """Each key of ``MIXUPS`` starting with ``kind`` -> its hidden states (N, T, H) for ``x``."""
    correct = from_torch_state_dict(state_dict, _check_kind(kind))
    x = check_array("x", x, ("N", "T", "D"), (None, None, correct.input_size), dtype=np.float64)
    layers = {"correct": correct, "drop_bias_hh": from_torch_state_dict(drop_bias_hh(state_dict), kind)}
    if kind == "lstm":
        layers["order_ifog"] = load_torch_with_order(state_dict, kind, ("i", "f", "o", "g"))
        layers["order_fiog"] = load_torch_with_order(state_dict, kind, ("f", "i", "o", "g"))
    else:
        layers["order_zrn"] = load_torch_with_order(state_dict, kind, ("z", "r", "n"))
        layers["reset_before"] = GRU.from_params(gru_as_other_form(correct), reset_after=False)
    out = {f"{kind}_{k}": layer.forward(x)[0] for k, layer in layers.items()}
    if kind == "gru":
        out["gru_swapped_update"] = gru_forward_chung(x, correct)
    return {k: out[k] for k in MIXUPS if k in out}


def mixup_errors(rng=None, *, seed=0, N=4, T=7, D=8, H=16) -> dict:
    """Max abs difference from PyTorch's equations for each mix-up, on random torch weights.

    Parameters
    ----------
    rng : np.random.Generator, optional (default ``np.random.default_rng(seed)``)
    seed : int
    N, T, D, H : int (batch, steps, input and hidden size; ``x`` ~ N(0, 1) (N, T, D))

    Returns
    -------
    dict
        Each key of :data:`MIXUPS` -> float: ~1e-16 for ``*_correct``, 0.1-1 for each mistake.
    """
    rng = make_rng(seed, rng)
    N, T, D, H = (check_size(nm, v) for nm, v in (("N", N), ("T", T), ("D", D), ("H", H)))
    x = rng.standard_normal((N, T, D))
    out = {}
    for kind in ("lstm", "gru"):
        sd = random_torch_state_dict(kind, D, H, rng)
        ref = torch_equations_forward(sd, kind, x)  # the reference: no conversion at all
        out.update({k: float(np.max(np.abs(hs - ref))) for k, hs in _mixup_outputs(sd, kind, x).items()})
    return out


def name_mixup(state_dict, kind, x, hs, tol=1e-8):
    """Name the conversion (correct or a mix-up) that turns ``state_dict`` and ``x`` into ``hs``.

    Parameters
    ----------
    state_dict : dict of ndarray (one-layer ``torch.nn.LSTM/GRU`` layout)
    kind : {"lstm", "gru"}
    x : ndarray (N, T, D)
    hs : ndarray (N, T, H), hidden states someone computed (zero initial state)
    tol : float (largest max abs difference that counts as a match)

    Returns
    -------
    str or None
        A key of :data:`MIXUPS` (e.g. ``"gru_reset_before"``), or None if none matches.
    """
    candidates = _mixup_outputs(state_dict, kind, x)
    hs = check_array("hs", hs, ("N", "T", "H"), next(iter(candidates.values())).shape)
    errors = {k: float(np.max(np.abs(hs - v))) for k, v in candidates.items()}
    best = min(errors, key=errors.get)
    return best if errors[best] <= tol else None
