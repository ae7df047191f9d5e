r"""Checks for the exercises of Chapter 11, "From rnnlib to PyTorch".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

=============================  ============================================================
check                          the reader writes
=============================  ============================================================
:func:`check_torch_gru_step`   ``torch_gru_step(x_t, h_prev, sd) -> h_next`` (N, H): one
                               step of PyTorch's GRU equations on a one-layer state dict
:func:`check_split_bias`       ``split_bias(sd, alpha) -> new_sd``: the LSTM state dict with
                               the total bias b = bias_ih + bias_hh split as
                               bias_ih = alpha b, bias_hh = (1 - alpha) b, the input untouched
=============================  ============================================================

PyTorch's layout (``torch.nn.GRU`` / ``torch.nn.LSTM``, one layer): ``weight_ih_l0``
(G H, D), ``weight_hh_l0`` (G H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (G H,); GRU blocks
**r, z, n**, :math:`n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn}))`,
:math:`h' = (1 - z) \odot n + z \odot h`. No torch is needed: the reference is
:func:`rnnlib.experiments.mixups.torch_equations_forward`'s step, in NumPy.
"""

from __future__ import annotations

import numpy as np

from rnnlib.activations import sigmoid
from ._check import WIDTH, Exercise, Mistake

# ---------------------------------------------------------------------------
# 1. One step of PyTorch's GRU
# ---------------------------------------------------------------------------
GRU_SIZES = [(2, 4, 4), (1, 3, 5), (3, 5, 2)]  # (N, D, H); D == H first


def _state_dict(rng, D, H, G):
    s = 1 / np.sqrt(H)
    return {"weight_ih_l0": rng.uniform(-s, s, (G * H, D)), "weight_hh_l0": rng.uniform(-s, s, (G * H, H)),
            "bias_ih_l0": rng.uniform(-s, s, G * H), "bias_hh_l0": rng.uniform(-s, s, G * H)}


def gru_step_cases(rng):
    """Tuples ``(x_t, h_prev, sd)`` with torch-initialised weights and non-zero biases."""
    return [(rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H))), _state_dict(rng, D, H, 3))
            for N, D, H in GRU_SIZES]


def _gru(order="rzn", reset="after", mix="torch", b_hn=True):
    """A torch GRU step with the catalogued slips as switches."""
    def step(x_t, h_prev, sd):
        W_ih, W_hh, b_ih, b_hh = (sd[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
        gi = np.split(x_t @ W_ih.T + b_ih, 3, axis=1)  # (N, H) x 3
        blocks = dict(zip(order, range(3)))
        r_, z_, n_ = blocks["r"], blocks["z"], blocks["n"]
        Wr, Wz, Wn = np.split(W_hh, 3, axis=0)[r_], np.split(W_hh, 3, axis=0)[z_], np.split(W_hh, 3, axis=0)[n_]
        br, bz, bn = np.split(b_hh, 3)[r_], np.split(b_hh, 3)[z_], np.split(b_hh, 3)[n_]
        r = sigmoid(gi[r_] + h_prev @ Wr.T + br)
        z = sigmoid(gi[z_] + h_prev @ Wz.T + bz)
        if reset == "after":
            n = np.tanh(gi[n_] + r * (h_prev @ Wn.T + (bn if b_hn else 0.0)))
        else:
            n = np.tanh(gi[n_] + (r * h_prev) @ Wn.T + bn)
        return (1 - z) * n + z * h_prev if mix == "torch" else z * n + (1 - z) * h_prev
    return step


torch_gru_step_reference = _gru()
torch_gru_step_reference.__doc__ = "h' = (1 - z) n + z h, blocks r, z, n of the torch state dict."

GRU_MISTAKES = [
    Mistake("rnnlib-order", _gru(order="zrn"),
            "You read the blocks in rnnlib's order z, r, h_tilde. PyTorch stacks r, z, n: the first H rows "
            "of weight_ih_l0 belong to the reset gate."),
    Mistake("z-swapped", _gru(mix="swapped"),
            "z and 1 - z are swapped: PyTorch's update is h' = (1 - z) * n + z * h, so z = 1 keeps the old "
            "state (as in rnnlib)."),
    Mistake("reset-before", _gru(reset="before"),
            "You applied the reset before the product, n = tanh(... + (r * h) W_hn^T + b_hn): that is "
            "the reset-before GRU of Cho et al., which PyTorch does not implement. PyTorch resets after it: "
            "r * (h W_hn^T + b_hn)."),
    Mistake("b_hn-outside", _gru(b_hn=False),
            "The recurrent bias of the candidate, b_hn (the last H entries of bias_hh_l0), is missing from "
            "inside the reset: n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))."),
]

_GRU = Exercise(
    name="torch_gru_step",
    width=WIDTH,
    reference=torch_gru_step_reference,
    make_cases=gru_step_cases,
    mistakes=GRU_MISTAKES,
    hint="gi = x_t @ W_ih.T + b_ih, gh = h @ W_hh.T + b_hh, each split r, z, n; r, z = sigmoid(gi + gh); "
         "n = tanh(gi_n + r * gh_n); h' = (1 - z) * n + z * h.",
)


def check_torch_gru_step(fn):
    """Check ``fn(x_t, h_prev, sd) -> h_next`` (N, H), PyTorch's GRU step."""
    return _GRU.check(fn)


# ---------------------------------------------------------------------------
# 2. Where the bias goes
# ---------------------------------------------------------------------------
def split_cases(rng):
    """Tuples ``(sd, alpha)``: LSTM state dicts with a non-zero bias_hh, alpha not 1/2."""
    return [(_state_dict(rng, D, H, 4), alpha) for (D, H), alpha in
            zip([(3, 4), (2, 2), (5, 3)], (0.25, 0.0, 0.7))]


def split_bias_reference(sd, alpha):
    """A new dict: weights as given, bias_ih = alpha b, bias_hh = (1 - alpha) b, b = bias_ih + bias_hh."""
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"]
    return {**sd, "bias_ih_l0": alpha * b, "bias_hh_l0": (1 - alpha) * b}


SPLIT_MISTAKES = [
    Mistake("ignores-bias_hh", lambda sd, a: {**sd, "bias_ih_l0": a * sd["bias_ih_l0"],
                                              "bias_hh_l0": (1 - a) * sd["bias_ih_l0"]},
            "You split bias_ih alone and dropped what bias_hh already held. The bias the layer uses is the "
            "sum b = bias_ih + bias_hh: split that sum."),
    Mistake("scaled-each", lambda sd, a: {**sd, "bias_ih_l0": a * sd["bias_ih_l0"],
                                          "bias_hh_l0": (1 - a) * sd["bias_hh_l0"]},
            "You scaled each bias by its share, which changes their sum. Add them first, b = bias_ih + "
            "bias_hh, then give alpha * b to bias_ih and (1 - alpha) * b to bias_hh."),
    Mistake("swapped", lambda sd, a: {**sd, "bias_ih_l0": (1 - a) * (sd["bias_ih_l0"] + sd["bias_hh_l0"]),
                                      "bias_hh_l0": a * (sd["bias_ih_l0"] + sd["bias_hh_l0"])},
            "The shares are swapped: bias_ih gets alpha * b, bias_hh the rest."),
    Mistake("halves", lambda sd, a: {**sd, "bias_ih_l0": (sd["bias_ih_l0"] + sd["bias_hh_l0"]) / 2,
                                     "bias_hh_l0": (sd["bias_ih_l0"] + sd["bias_hh_l0"]) / 2},
            "You split the bias half and half whatever alpha is: bias_ih = alpha * b, bias_hh = (1 - alpha) * b."),
]

_SPLIT = Exercise(
    name="split_bias",
    width=WIDTH,
    reference=split_bias_reference,
    make_cases=split_cases,
    mistakes=SPLIT_MISTAKES,
    hint="b = sd['bias_ih_l0'] + sd['bias_hh_l0']; return {**sd, 'bias_ih_l0': alpha * b, "
         "'bias_hh_l0': (1 - alpha) * b} (a new dict; the caller's is left as it was).",
)


def check_split_bias(fn):
    """Check ``fn(sd, alpha) -> new state dict`` with the total LSTM bias split alpha : 1 - alpha."""
    return _SPLIT.check(fn)


EXERCISES = {"torch_gru_step": _GRU, "split_bias": _SPLIT}
