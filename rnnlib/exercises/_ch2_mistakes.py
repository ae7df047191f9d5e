r"""The mistake catalogue of Chapter 2, "The LSTM": cases, references and named wrong answers.

For each exercise of :mod:`rnnlib.exercises.ch2` that is checked against a reference,
this module holds what its :class:`~rnnlib.exercises._check.Exercise` is built from:

* the seeded cases, ``*_cases(rng) -> list of argument tuples``;
* the reference, ``*_reference``: the right answer;
* the catalogue, ``*_MISTAKES``: the slips readers make, each a wrong implementation
  with the diagnosis the check prints when the reader's output matches it. Most come
  from one implementation with switches (``_lstm_step``, ``_cell_backward``,
  ``_torch_split``) whose defaults give the right answer, so that each mistake
  differs from the reference in exactly one place.

The catalogues are most of a chapter's checking code and grow for their own reason
(a new slip seen in a reader's answer), so they live apart from the checks;
:mod:`rnnlib.exercises.ch2` imports and re-exports every public name
(``ch2.STEP_MISTAKES``, ``ch2.lstm_step_reference`` ...).

Shapes as in :mod:`rnnlib.exercises.ch2`: ``x_t`` (N, D), ``h``, ``c`` (N, H),
``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,), blocks stacked f, i, o, c_tilde;
PyTorch's ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), blocks i, f, g, o.
"""

from __future__ import annotations

import numpy as np

from rnnlib.activations import sigmoid
from rnnlib.gates import lstm_per_gate_params
from rnnlib.lstm import lstm_step_forward
from rnnlib.torch_io import from_torch_state_dict
from ._check import Mistake

# ---------------------------------------------------------------------------
# 1. One forward step (stacked f, i, o, c_tilde)
# ---------------------------------------------------------------------------
STEP_SIZES = [(3, 4, 4), (1, 4, 4), (2, 3, 5), (4, 5, 2)]  # (N, D, H); D == H first


def step_cases(rng):
    """Tuples ``(x_t, h_prev, c_prev, W_x, W_h, b)`` for :func:`~rnnlib.exercises.ch2.check_lstm_step`."""
    cases = []
    for N, D, H in STEP_SIZES:
        x_t = rng.standard_normal((N, D))
        h_prev = np.tanh(rng.standard_normal((N, H)))
        c_prev = 1.5 * rng.standard_normal((N, H))  # a cell state is not bounded
        W_x = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
        W_h = rng.standard_normal((H, 4 * H)) / np.sqrt(H)
        b = rng.standard_normal(4 * H)
        cases.append((x_t, h_prev, c_prev, W_x, W_h, b))
    return cases


def _lstm_step(order=("f", "i", "o", "c"), gate_act=sigmoid, cand_act=np.tanh, *, bias=True,
               cell=lambda f, i, c_prev, h_prev, c_tilde: f * c_prev + i * c_tilde,
               out=lambda o, c_next, c_prev: o * np.tanh(c_next), swap_returns=False):
    """An LSTM step with switches for the catalogued slips (the defaults give the right step)."""
    def step(x_t, h_prev, c_prev, W_x, W_h, b):
        a = x_t @ W_x + h_prev @ W_h + (b if bias else 0.0)  # (N, 4H)
        blocks = dict(zip(order, np.split(a, 4, axis=1)))
        f, i, o = (gate_act(blocks[g]) for g in ("f", "i", "o"))
        c_tilde = cand_act(blocks["c"])
        c_next = cell(f, i, c_prev, h_prev, c_tilde)
        h_next = out(o, c_next, c_prev)
        return (c_next, h_next) if swap_returns else (h_next, c_next)
    return step


def lstm_step_reference(x_t, h_prev, c_prev, W_x, W_h, b):
    """(h_next, c_next) of one LSTM step, blocks f, i, o, c_tilde (= :func:`rnnlib.lstm_step_forward`)."""
    (h_next, c_next), _ = lstm_step_forward(x_t, (h_prev, c_prev), W_x, W_h, b)
    return h_next, c_next


STEP_MISTAKES = [
    Mistake("gate-order-ifgo", _lstm_step(order=("i", "f", "c", "o")),
            "You split the four blocks in PyTorch's (and Keras's) order i, f, g, o. This exercise uses "
            "rnnlib's stacking f, i, o, c_tilde: W_x[:, :H] is the forget gate, W_x[:, H:2H] the input "
            "gate, W_x[:, 2H:3H] the output gate and W_x[:, 3H:] the candidate (rnnlib.lstm.split_gates)."),
    Mistake("gate-order-ifog", _lstm_step(order=("i", "f", "o", "c")),
            "You split the four blocks in CS231n's order i, f, o, g. This exercise uses rnnlib's stacking "
            "f, i, o, c_tilde: the first block is the forget gate, the second the input gate."),
    Mistake("candidate-sigmoid", _lstm_step(cand_act=sigmoid),
            "The candidate C~_t needs tanh, not a sigmoid: it is the new content, and must be able to "
            "be negative (values in (-1, 1)). Only the gates f, i, o use the sigmoid."),
    Mistake("gates-tanh", _lstm_step(gate_act=np.tanh),
            "The gates f, i, o need a sigmoid, not tanh: a gate is a fraction in (0, 1) that multiplies "
            "something. With tanh a 'gate' can be negative and flip the sign of the memory."),
    Mistake("activations-swapped", _lstm_step(gate_act=np.tanh, cand_act=sigmoid),
            "The sigmoid and tanh are swapped: f, i, o are sigmoids (fractions in (0, 1)) and the "
            "candidate C~_t is a tanh (content in (-1, 1))."),
    Mistake("cell-from-h", _lstm_step(cell=lambda f, i, c_prev, h_prev, c_tilde: f * h_prev + i * c_tilde),
            "C_t is computed from the hidden state: the forget gate must multiply the previous *cell* "
            "state, C_t = f * c_prev + i * c_tilde, not f * h_prev. The cell state is the memory that "
            "runs from step to step; h is only what the cell shows."),
    Mistake("output-before-tanh", _lstm_step(out=lambda o, c_next, c_prev: np.tanh(o * c_next)),
            "The output gate is applied after the tanh: h_t = o * tanh(C_t). You computed tanh(o * C_t), "
            "which squashes the gated value instead of gating the squashed one."),
    Mistake("missing-bias", _lstm_step(bias=False),
            "The bias b is missing: the pre-activations are x_t @ W_x + h_prev @ W_h + b (all four "
            "blocks at once, b has shape (4H,))."),
    Mistake("no-tanh-on-cell", _lstm_step(out=lambda o, c_next, c_prev: o * c_next),
            "h_t = o * tanh(C_t): the tanh on the cell state is missing. C_t is unbounded; the tanh "
            "keeps h_t in (-1, 1)."),
    Mistake("h-from-c_prev", _lstm_step(out=lambda o, c_next, c_prev: o * np.tanh(c_prev)),
            "h_t must be read from the *new* cell state: h_t = o * tanh(C_t) with C_t = c_next, "
            "not c_prev."),
    Mistake("no-forget-gate", _lstm_step(cell=lambda f, i, c_prev, h_prev, c_tilde: c_prev + i * c_tilde),
            "The forget gate is missing from the cell update: C_t = f * c_prev + i * c_tilde."),
    Mistake("no-input-gate", _lstm_step(cell=lambda f, i, c_prev, h_prev, c_tilde: f * c_prev + c_tilde),
            "The input gate is missing from the cell update: C_t = f * c_prev + i * c_tilde."),
    Mistake("returns-swapped", _lstm_step(swap_returns=True),
            "You returned (c_next, h_next); the exercise asks for (h_next, c_next), in that order."),
]


# ---------------------------------------------------------------------------
# 2. The cell-state backward
# ---------------------------------------------------------------------------
def cell_backward_cases(rng):
    """Tuples ``(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next)`` from real forward steps."""
    cases = []
    for N, D, H in STEP_SIZES:
        x_t = rng.standard_normal((N, D))
        h_prev = np.tanh(rng.standard_normal((N, H)))
        c_prev = 1.5 * rng.standard_normal((N, H))
        W_x = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
        W_h = rng.standard_normal((H, 4 * H)) / np.sqrt(H)
        b = rng.standard_normal(4 * H)
        (_, c_next), cache = lstm_step_forward(x_t, (h_prev, c_prev), W_x, W_h, b)
        dh_next, dc_next = rng.standard_normal((N, H)), rng.standard_normal((N, H))
        cases.append((dh_next, dc_next, c_prev, cache.f, cache.i, cache.o, cache.c_tilde, c_next))
    return cases


def _cell_backward(*, h_path=True, tanh_deriv=lambda c_next: 1.0 - np.tanh(c_next) ** 2, df_state="c_prev",
                   carousel=True, swap_di=False, do_state="tanh", pre_activation=False):
    """The cell backward with switches for the catalogued slips (the defaults give the right one)."""
    def backward(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next):
        tanh_c = np.tanh(c_next)
        # h_t = o ⊙ tanh(C_t)
        do = dh_next * (tanh_c if do_state == "tanh" else c_next)
        dc = dc_next + (dh_next * o * tanh_deriv(c_next) if h_path else 0.0)  # total gradient at C_t
        # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
        df = dc * (c_prev if df_state == "c_prev" else c_next)
        di, dc_tilde = (dc * i, dc * c_tilde) if swap_di else (dc * c_tilde, dc * i)
        dc_prev = dc * f if carousel else dc
        if pre_activation:  # one step too far: through the sigmoid / tanh
            df, di, do, dc_tilde = df * f * (1 - f), di * i * (1 - i), do * o * (1 - o), dc_tilde * (1 - c_tilde**2)
        return dc_prev, df, di, do, dc_tilde
    return backward


def cell_backward_reference(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next):
    r"""(dc_prev, df, di, do, dc_tilde): :math:`\mathrm{d}C_t = \mathrm{d}C_t^{\mathrm{next}} + \mathrm{d}h_t \odot o_t \odot (1 - \tanh^2 C_t)`,
    then :math:`\mathrm{d}f = \mathrm{d}C_t \odot C_{t-1}`, :math:`\mathrm{d}i = \mathrm{d}C_t \odot \tilde C_t`,
    :math:`\mathrm{d}\tilde C = \mathrm{d}C_t \odot i_t`, :math:`\mathrm{d}o = \mathrm{d}h_t \odot \tanh C_t`,
    :math:`\mathrm{d}C_{t-1} = \mathrm{d}C_t \odot f_t`."""
    return _cell_backward()(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next)


BACKWARD_MISTAKES = [
    Mistake("no-h-path", _cell_backward(h_path=False),
            "C_t reaches the loss by two paths: directly to C_{t+1} (dc_next) and through "
            "h_t = o * tanh(C_t). Add the second: dC = dc_next + dh_next * o * (1 - tanh(c_next)**2)."),
    Mistake("tanh-derivative-of-c", _cell_backward(tanh_deriv=lambda c: 1.0 - c**2),
            "The derivative of tanh(C_t) is 1 - tanh(C_t)**2, not 1 - C_t**2: C_t is not a tanh "
            "output (it is unbounded), so square np.tanh(c_next)."),
    Mistake("no-tanh-derivative", _cell_backward(tanh_deriv=lambda c: 1.0),
            "You skipped the derivative of the tanh in h_t = o * tanh(C_t): the h-path adds "
            "dh_next * o * (1 - tanh(c_next)**2) to dC."),
    Mistake("df-uses-c_next", _cell_backward(df_state="c_next"),
            "df multiplies the state the forget gate multiplied in the forward pass, C_{t-1}: "
            "df = dC * c_prev, not dC * c_next."),
    Mistake("carousel-without-f", _cell_backward(carousel=False),
            "dc_prev = dC * f: the gradient going back along the cell path is scaled by the forget "
            "gate, because C_t = f * C_{t-1} + ... (dC_t/dC_{t-1} = diag(f_t))."),
    Mistake("di-dc_tilde-swapped", _cell_backward(swap_di=True),
            "di and dc_tilde are swapped. In the product i * C~, each factor's gradient is dC times the "
            "*other* factor: di = dC * c_tilde and dc_tilde = dC * i."),
    Mistake("do-uses-c", _cell_backward(do_state="c"),
            "do = dh_next * tanh(c_next): the output gate multiplies tanh(C_t), not C_t."),
    Mistake("pre-activation-grads", _cell_backward(pre_activation=True),
            "You went one step further and multiplied by the derivatives of the sigmoid and tanh. This "
            "exercise asks for the gradients with respect to the gate *outputs* f, i, o, C~ (the values "
            "given to you); the factors f*(1-f) etc. come next, in lstm_step_backward."),
]


# ---------------------------------------------------------------------------
# 3. PyTorch weights into per-gate matrices
# ---------------------------------------------------------------------------
TORCH_SIZES = [(4, 4), (3, 5), (6, 2)]  # (D, H); D == H first


def torch_cases(rng):
    """Tuples ``(weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,))``."""
    return [tuple(rng.uniform(-1, 1, s) for s in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,)))
            for D, H in TORCH_SIZES]


def torch_to_per_gate_reference(weight_ih, weight_hh, bias_ih, bias_hh):
    """The twelve per-gate arrays, via :func:`rnnlib.from_torch_state_dict` and :func:`rnnlib.gates.lstm_per_gate_params`."""
    sd = {"weight_ih_l0": weight_ih, "weight_hh_l0": weight_hh, "bias_ih_l0": bias_ih, "bias_hh_l0": bias_hh}
    return lstm_per_gate_params(from_torch_state_dict(sd, "lstm"))


def _torch_split(order=("i", "f", "c", "o"), transpose=True, bias="both"):
    """Per-gate arrays read from torch blocks assumed to be in ``order``, with switches for the slips."""
    def convert(weight_ih, weight_hh, bias_ih, bias_hh):
        b = {"both": bias_ih + bias_hh, "ih": bias_ih, "hh": bias_hh}[bias]
        blocks = {k: dict(zip(order, np.split(a, 4, axis=0)))
                  for k, a in (("W_x", weight_ih), ("W_h", weight_hh), ("b_", b))}
        out = {}
        for g in ("f", "i", "o", "c"):  # the names' order of LSTM_PARAM_NAMES
            for k in ("W_x", "W_h"):
                out[f"{k}{g}"] = blocks[k][g].T if transpose else blocks[k][g]
            out[f"b_{g}"] = blocks["b_"][g]
        return out
    return convert


TORCH_MISTAKES = [
    Mistake("order-as-rnnlib", _torch_split(order=("f", "i", "o", "c")),
            "You read PyTorch's blocks as if they were stacked f, i, o, c_tilde (rnnlib's order). "
            "torch.nn.LSTM stacks i, f, g, o: rows 0:H are the input gate, H:2H the forget gate, "
            "2H:3H the candidate g, 3H:4H the output gate."),
    Mistake("order-cs231n", _torch_split(order=("i", "f", "o", "c")),
            "You read PyTorch's blocks in CS231n's order i, f, o, g. torch.nn.LSTM stacks i, f, g, o: "
            "the candidate g is the third block and the output gate the fourth."),
    Mistake("not-transposed", _torch_split(transpose=False),
            "PyTorch stores weights as (out, in) and computes x @ W.T; the book computes x @ W with W "
            "of shape (in, out). Transpose each block: W_xf = weight_ih[H:2H].T has shape (D, H)."),
    Mistake("dropped-bias_hh", _torch_split(bias="ih"),
            "bias_hh is missing. PyTorch adds two biases to every gate, bias_ih and bias_hh; they only "
            "ever appear as a sum, so b_f = bias_ih[H:2H] + bias_hh[H:2H]."),
    Mistake("dropped-bias_ih", _torch_split(bias="hh"),
            "bias_ih is missing. Each gate's bias is the sum of PyTorch's two: b_f = bias_ih[H:2H] + "
            "bias_hh[H:2H]."),
]


# ---------------------------------------------------------------------------
# 4. Predict the cell state for saturated gates
# ---------------------------------------------------------------------------
SCENARIOS = {"keep": (1, 0), "replace": (0, 1), "add": (1, 1), "erase": (0, 0)}  # name -> (f, i)
SATURATION = 40.0  # sigmoid(40) = 1 and sigmoid(-40) = 4e-18 in float64


def cell_state_cases(rng):
    """Tuples ``(scenario, c_prev (N, H), c_tilde (N, H))``, every scenario twice."""
    cases = []
    for N, H in ((2, 3), (1, 5)):
        for name in SCENARIOS:
            cases.append((name, 1.5 * rng.standard_normal((N, H)), np.tanh(rng.standard_normal((N, H)))))
    return cases


def predict_cell_state_reference(scenario, c_prev, c_tilde):
    """C_t from :func:`rnnlib.lstm_step_forward` with the gates driven to 0 or 1 by biases of ±40.

    The candidate is fed in through the input: ``x_t = arctanh(c_tilde)`` and an identity
    block in ``W_x``, so ``C~_t = tanh(x_t) = c_tilde``.
    """
    f, i = SCENARIOS[scenario]
    N, H = c_prev.shape
    W_x = np.zeros((H, 4 * H))
    W_x[:, 3 * H:] = np.eye(H)  # C~ = tanh(x_t)
    b = np.concatenate([np.full(H, SATURATION if f else -SATURATION), np.full(H, SATURATION if i else -SATURATION),
                        np.zeros(2 * H)])
    (_, c_next), _ = lstm_step_forward(np.arctanh(c_tilde), (np.zeros((N, H)), c_prev), W_x, np.zeros((H, 4 * H)), b)
    return c_next


def _by_gates(rule):
    return lambda scenario, c_prev, c_tilde: rule(*SCENARIOS[scenario], c_prev, c_tilde)


CELL_STATE_MISTAKES = [
    Mistake("forget-means-erase", _by_gates(lambda f, i, c, ct: (1 - f) * c + i * ct),
            "A forget gate of 1 *keeps* the old cell state: C_t = f * C_{t-1} + ..., so f = 1 copies "
            "C_{t-1} and f = 0 erases it. The name is misleading; think of f as a 'keep' gate."),
    Mistake("coupled-gates", _by_gates(lambda f, i, c, ct: f * c + (1 - f) * ct),
            "You mixed old and new with weights f and 1 - f. That is the coupled variant (CIFG, and the "
            "GRU's update); the LSTM's input gate is independent: C_t = f * C_{t-1} + i * C~_t, so "
            "'add' (f = i = 1) gives C_{t-1} + C~_t and 'erase' (f = i = 0) gives 0."),
    Mistake("input-gate-ignored", _by_gates(lambda f, i, c, ct: f * c + ct),
            "The input gate multiplies the candidate: with i = 0 nothing new is written, so 'keep' "
            "gives exactly C_{t-1} and 'erase' gives 0."),
    Mistake("returned-h", lambda s, c, ct: np.tanh(predict_cell_state_reference(s, c, ct)),
            "You returned tanh(C_t), what the output path shows, not the cell state C_t itself. The "
            "cell state is not squashed: 'add' can leave the range (-1, 1)."),
]
