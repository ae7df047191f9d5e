r"""Checks for the exercises of Chapter 2, "The LSTM".

Each ``check_*`` function takes the reader's answer and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

==============================  ================================================================
check                           the reader writes
==============================  ================================================================
:func:`check_lstm_step`         ``lstm_step(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_next, c_next)``,
                                weights stacked **f, i, o, c_tilde** (rnnlib's order)
:func:`check_cell_backward`     ``cell_backward(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next)
                                -> (dc_prev, df, di, do, dc_tilde)``: gradients with respect
                                to the gate *outputs* (after their sigmoid / tanh)
:func:`check_torch_to_per_gate` ``torch_to_per_gate(weight_ih, weight_hh, bias_ih, bias_hh) -> dict``
                                of the twelve per-gate arrays ``W_xf`` (D, H), ``W_hf`` (H, H),
                                ``b_f`` (H,), ... (:data:`rnnlib.gates.LSTM_PARAM_NAMES`)
:func:`check_predict_cell_state`
                                ``predict_cell_state(scenario, c_prev, c_tilde) -> c_next`` for
                                saturated gates: "keep" (f=1, i=0), "replace" (f=0, i=1),
                                "add" (f=1, i=1), "erase" (f=0, i=0)
:func:`check_choose_forget_bias`
                                ``choose_forget_bias() -> float``, checked by measuring the
                                gradient it lets through 100 steps (:mod:`rnnlib.experiments.gradient_flow`)
:func:`check_lstm_backward`     ``lstm_backward(dhs, caches, dstate_T=None) -> (dx, (dh0, dc0), grads)``:
                                backpropagation through time from the T step caches of
                                :func:`rnnlib.lstm_step_forward`, a loop over
                                :func:`rnnlib.lstm_step_backward` (rnnlib's sequence convention)
==============================  ================================================================

Shapes follow the book: batch-first row vectors, ``x_t`` (N, D), ``h``, ``c`` (N, H),
``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,); PyTorch's ``weight_ih`` is (4H, D),
``weight_hh`` (4H, H), blocks **i, f, g, o**. The first cases have D == H, so that a
transposed weight still runs and the mistake can be named.

The seeded cases, the references and the catalogues of named mistakes live in
:mod:`rnnlib.exercises._ch2_mistakes` (the sequence backward's in
:mod:`rnnlib.exercises._ch2_bptt`); this module builds the checks from them and
re-exports their public names.
"""

from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np

from rnnlib.activations import sigmoid
from rnnlib.experiments.gradient_flow import gradient_norm_table
from ._ch2_mistakes import (BACKWARD_MISTAKES, CELL_STATE_MISTAKES, STEP_MISTAKES, TORCH_MISTAKES,
                            cell_backward_cases, cell_backward_reference, cell_state_cases, lstm_step_reference,
                            predict_cell_state_reference, step_cases, torch_cases, torch_to_per_gate_reference)
from ._ch2_bptt import (LSTM_BACKWARD_MISTAKES, LSTM_BACKWARD_SIZES, LSTM_NO_FINAL,  # noqa: F401 - re-exported
                        lstm_backward_cases, lstm_backward_problems, lstm_backward_reference)
from ._ch2_mistakes import SATURATION, SCENARIOS, STEP_SIZES, TORCH_SIZES  # noqa: F401 - re-exported
from ._check import CheckResult, Exercise, _call, _Raised, guarded, not_attempted, not_callable, reader_raised
from ._guard import as_real

# ---------------------------------------------------------------------------
# 1. One forward step (stacked f, i, o, c_tilde)
# ---------------------------------------------------------------------------
_STEP = Exercise(
    name="lstm_step",
    reference=lstm_step_reference,
    make_cases=step_cases,
    mistakes=STEP_MISTAKES,
    hint=("a = x_t @ W_x + h_prev @ W_h + b, split into four (N, H) blocks f, i, o, c_tilde; "
          "sigmoid on f, i, o, tanh on c_tilde; c_next = f*c_prev + i*c_tilde; h_next = o*tanh(c_next). "
          "Return (h_next, c_next)."),
)


def check_lstm_step(fn):
    """Check ``fn(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_next, c_next)``, blocks f, i, o, c_tilde."""
    return _STEP.check(fn)


# ---------------------------------------------------------------------------
# 2. The cell-state backward
# ---------------------------------------------------------------------------
_BACKWARD = Exercise(
    name="cell_backward",
    reference=cell_backward_reference,
    make_cases=cell_backward_cases,
    mistakes=BACKWARD_MISTAKES,
    hint=("dC = dc_next + dh_next * o * (1 - tanh(c_next)**2); dc_prev = dC * f; df = dC * c_prev; "
          "di = dC * c_tilde; do = dh_next * tanh(c_next); dc_tilde = dC * i. Return "
          "(dc_prev, df, di, do, dc_tilde)."),
)


def check_cell_backward(fn):
    """Check ``fn(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next) -> (dc_prev, df, di, do, dc_tilde)``."""
    return _BACKWARD.check(fn)


# ---------------------------------------------------------------------------
# 3. PyTorch weights into per-gate matrices
# ---------------------------------------------------------------------------
_TORCH = Exercise(
    name="torch_to_per_gate",
    reference=torch_to_per_gate_reference,
    make_cases=torch_cases,
    mistakes=TORCH_MISTAKES,
    hint=("Split each torch array into four blocks of H rows, in the order i, f, g (= c_tilde), o; "
          "transpose the weight blocks; add the two biases. Keys: W_xf, W_hf, b_f, W_xi, ..., b_c."),
)


def check_torch_to_per_gate(fn):
    """Check ``fn(weight_ih, weight_hh, bias_ih, bias_hh) -> dict`` of the twelve per-gate arrays."""
    return _TORCH.check(fn)


# ---------------------------------------------------------------------------
# 4. Predict the cell state for saturated gates
# ---------------------------------------------------------------------------
_CELL_STATE = Exercise(
    name="predict_cell_state",
    reference=predict_cell_state_reference,
    make_cases=cell_state_cases,
    mistakes=CELL_STATE_MISTAKES,
    hint="C_t = f * C_{t-1} + i * C~_t with f, i in {0, 1}: 'keep' f=1, i=0; 'replace' f=0, i=1; "
         "'add' f=1, i=1; 'erase' f=0, i=0.",
)


def check_predict_cell_state(fn):
    """Check ``fn(scenario, c_prev, c_tilde) -> c_next`` for the four scenarios of :data:`SCENARIOS`."""
    return _CELL_STATE.check(fn)


# ---------------------------------------------------------------------------
# 5. The whole sequence, backwards
# ---------------------------------------------------------------------------
_SEQUENCE_BACKWARD = Exercise(
    name="lstm_backward",
    reference=lstm_backward_reference,
    make_cases=lstm_backward_cases,
    mistakes=LSTM_BACKWARD_MISTAKES,
    hint=("start from dh_next, dc_next = dstate_T (zeros if None); for t from T-1 down to 0: "
          "dx_t, (dh_next, dc_next), g = rnnlib.lstm_step_backward((dh_next + dhs[:, t], dc_next), "
          "caches[t]); "
          "dx[:, t] = dx_t; add g to grads. Return (dx, (dh_next, dc_next), grads)."),
)


def check_lstm_backward(fn):
    """Check ``fn(dhs, caches, dstate_T=None) -> (dx, (dh0, dc0), grads)`` over T step caches."""
    return _SEQUENCE_BACKWARD.check(fn)


# ---------------------------------------------------------------------------
# 6. A forget bias that keeps the gradient alive over 100 steps (measured)
# ---------------------------------------------------------------------------
BIAS_T = 100
BIAS_THRESHOLD = 1e-3
BIAS_MAX = 10.0  # above: the gate can hardly ever close


@lru_cache(maxsize=64)
def measured_gradient(forget_bias: float) -> float:
    r"""Median over 20 seeds of :math:`\lVert \partial (\sum h_T) / \partial x_1 \rVert`, T = 100, H = 64.

    Measured with :func:`rnnlib.experiments.gradient_flow.gradient_norm_table` (PyTorch's init, float64, D = 2).
    """
    table = gradient_norm_table({"LSTM": ("lstm", {"forget_bias": float(forget_bias)})}, T_values=(BIAS_T,))
    return float(table.medians[0, 0])


@guarded("choose_forget_bias", width=None)
def check_choose_forget_bias(fn):
    """Check ``fn() -> float``: a forget bias in [0, 10] whose measured gradient over 100 steps is >= 1e-3."""
    name = "choose_forget_bias"
    if not callable(fn):
        return not_callable(name, fn, width=None)
    out = _call(fn, ())
    if isinstance(out, _Raised):
        if isinstance(out.exc, NotImplementedError):
            return not_attempted(name, width=None)
        return reader_raised(name, out.exc, width=None)
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (numbers.Real, np.floating, np.integer)):
        return CheckResult(False, "wrong-type", f"{name}: return one number, the bias; got {type(out).__name__}.")
    b, problem = as_real(out)
    if problem:  # e.g. 10**400, too large for a float
        return CheckResult(False, "wrong-type", f"{name}: return one number, the bias; got {problem}.")
    if not np.isfinite(b):
        return CheckResult(False, "wrong-type", f"{name}: the bias must be a finite number; got {b!r}.")
    f0 = float(sigmoid(np.array(b)))  # the forget gate at zero input
    if b > BIAS_MAX:
        return CheckResult(False, "known-mistake",
                           f"{name}: not yet. b_f = {b:g} gives f = sigmoid({b:g}) = 1 - {np.exp(-b):.0e}: the "
                           f"gradient gets through, but the gate can no longer close, so the cell can never "
                           f"forget, and training would need huge weights to change that. Choose a bias of at "
                           f"most {BIAS_MAX:g}.", mistake="too-large")
    g = measured_gradient(b)
    measured = f"measured ||dh_T/dx_1|| = {g:.1e} at T = {BIAS_T}"
    if g >= BIAS_THRESHOLD:
        return CheckResult(True, "passed", f"{name}: correct! With b_f = {b:g} the {measured}, above "
                           f"{BIAS_THRESHOLD:g}: the forget gates start near sigmoid({b:g}) = {f0:.3f}, open enough "
                           f"for the gradient to survive {BIAS_T} steps (chapter 2, 'Where the gradient flows', "
                           f"measures which routes carry it).")
    if b < 0:
        return CheckResult(False, "known-mistake",
                           f"{name}: not yet ({measured}). A negative bias pushes f below 1/2: every step back "
                           f"halves the gradient or worse. The cell path keeps gradient when f is close to 1, "
                           f"so the bias must be positive.", mistake="negative")
    if b == 0:
        return CheckResult(False, "known-mistake",
                           f"{name}: not yet ({measured}). b_f = 0 is the default init: f starts near 1/2 and "
                           f"the LSTM loses gradient about as fast as the plain RNN. Make f start close to 1.",
                           mistake="default")
    return CheckResult(False, "known-mistake",
                       f"{name}: not yet ({measured}, below {BIAS_THRESHOLD:g}). b_f = {b:g} opens the forget "
                       f"gate only to about {f0:.2f}, and a product of {BIAS_T} "
                       f"such factors is tiny. Try a larger bias (the table in the chapter has +1 and +3).", mistake="too-small")


EXERCISES = {
    "lstm_step": _STEP,
    "cell_backward": _BACKWARD,
    "torch_to_per_gate": _TORCH,
    "predict_cell_state": _CELL_STATE,
    "lstm_backward": _SEQUENCE_BACKWARD,
}
"""The exercises checked with :class:`~rnnlib.exercises._check.Exercise`; ``choose_forget_bias`` is
checked by measurement (:func:`check_choose_forget_bias`)."""
