r"""Checks for the exercises of Chapter 3, "The GRU".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

===============================  ===============================================================
check                            the reader writes
===============================  ===============================================================
:func:`check_gru_step`           ``gru_step(x_t, h_prev, W_x, W_h, b, b_hn) -> h_next``
                                 (reset after the matmul, the library form)
:func:`check_gru_step_before`    ``gru_step_before(x_t, h_prev, W_x, W_h, b) -> h_next``
                                 (reset before the matmul, Cho et al. 2014 v3)
:func:`check_update_gate_backward`
                                 ``update_gate_backward(dh_next, h_prev, z, h_tilde) -> (dz, da_z)``
:func:`check_keras_to_torch`     ``keras_to_torch(kernel, recurrent_kernel, bias) -> state_dict``
:func:`check_count_params`       ``count_params(D, H) -> (n_gru, n_lstm)``
:func:`check_which_form`         ``which_form(x, params, hs) -> (form, update)``
:func:`check_gru_backward`       ``gru_backward(dhs, caches, dstate_T=None) -> (dx, dh0, grads)``:
                                 backpropagation through time from the T step caches of
                                 :func:`rnnlib.gru_step_forward`, a loop over
                                 :func:`rnnlib.gru_step_backward` (rnnlib's sequence convention)
===============================  ===============================================================

Shapes follow the book: batch-first row vectors, ``x_t`` (N, D), ``h`` (N, H),
``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), ``b_hn`` (H,), blocks stacked
z, r, h_tilde (:data:`rnnlib.gru.GATES`). The update is
:math:`h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t` (z = 1 keeps the
old state). The catalogues name, among others, the five classic GRU slips:
z and 1 - z swapped, the reset on the wrong side of the matmul, PyTorch's
gate order r, z, n read as rnnlib's / Keras's z, r, h, sigmoid and tanh
swapped, and a forgotten ``b_hn``.

The seeded cases, the references and the catalogues of named mistakes live in
:mod:`rnnlib.exercises._ch3_mistakes` (the sequence backward's in
:mod:`rnnlib.exercises._ch3_bptt`); this module builds the checks from them and
re-exports their public names.
"""

from __future__ import annotations

from ._ch3_bptt import (GRU_BACKWARD_MISTAKES, GRU_BACKWARD_SIZES, GRU_NO_FINAL,  # noqa: F401 - re-exported
                        gru_backward_cases, gru_backward_problems, gru_backward_reference)
from ._ch3_mistakes import (COUNT_MISTAKES, KERAS_MISTAKES, STEP_BEFORE_MISTAKES, STEP_MISTAKES, UPDATE_MISTAKES,
                            WHICH_MISTAKES, count_cases, count_params_reference, gru_step_before_reference,
                            gru_step_reference, keras_cases, keras_to_torch_reference, step_before_cases,
                            step_cases, update_backward_cases, update_gate_backward_reference, which_form_cases,
                            which_form_reference)
from ._ch3_mistakes import (FORM_LABELS, KERAS_ORDER, SIGMOID_TANH, STEP_SIZES,  # noqa: F401 - re-exported
                            SWAPPED_UPDATE, TORCH_ORDER, TORCH_ORDER_GRU, run_form)
from ._check import Exercise

# ---------------------------------------------------------------------------
# 1. One step, reset after the matmul
# ---------------------------------------------------------------------------
_STEP = Exercise(
    name="gru_step",
    reference=gru_step_reference,
    make_cases=step_cases,
    mistakes=STEP_MISTAKES,
    hint=("z, r = sigmoid of the first two blocks of x_t @ W_x + h_prev @ W_h + b; "
          "h_tilde = tanh(x_t @ W_xh + b_h + r * (h_prev @ W_hh + b_hn)); "
          "h_next = z * h_prev + (1 - z) * h_tilde, shape (N, H)."),
)


def check_gru_step(fn):
    """Check ``fn(x_t, h_prev, W_x, W_h, b, b_hn) -> h_next`` (N, H), the reset-after step."""
    return _STEP.check(fn)


# ---------------------------------------------------------------------------
# 2. One step, reset before the matmul
# ---------------------------------------------------------------------------
_STEP_BEFORE = Exercise(
    name="gru_step_before",
    reference=gru_step_before_reference,
    make_cases=step_before_cases,
    mistakes=STEP_BEFORE_MISTAKES,
    hint=("z, r as before; h_tilde = tanh(x_t @ W_xh + (r * h_prev) @ W_hh + b_h); "
          "h_next = z * h_prev + (1 - z) * h_tilde."),
)


def check_gru_step_before(fn):
    """Check ``fn(x_t, h_prev, W_x, W_h, b) -> h_next`` (N, H), the reset-before step."""
    return _STEP_BEFORE.check(fn)


# ---------------------------------------------------------------------------
# 3. The update gate's backward
# ---------------------------------------------------------------------------
_UPDATE = Exercise(
    name="update_gate_backward",
    reference=update_gate_backward_reference,
    make_cases=update_backward_cases,
    mistakes=UPDATE_MISTAKES,
    hint="dz = dh_next * (h_prev - h_tilde); da_z = dz * z * (1 - z); return the tuple (dz, da_z).",
)


def check_update_gate_backward(fn):
    """Check ``fn(dh_next, h_prev, z, h_tilde) -> (dz, da_z)``, each (N, H)."""
    return _UPDATE.check(fn)


# ---------------------------------------------------------------------------
# 4. Keras weights to a PyTorch state dict
# ---------------------------------------------------------------------------
_KERAS = Exercise(
    name="keras_to_torch",
    reference=keras_to_torch_reference,
    make_cases=keras_cases,
    mistakes=KERAS_MISTAKES,
    hint=("Reorder the blocks z, r, h -> r, z, h along the last axis of kernel, recurrent_kernel, "
          "bias[0] and bias[1]; transpose the two kernels; return a dict with keys weight_ih_l0, "
          "weight_hh_l0, bias_ih_l0 (from bias[0]), bias_hh_l0 (from bias[1])."),
)


def check_keras_to_torch(fn):
    """Check ``fn(kernel, recurrent_kernel, bias) -> dict`` (a ``torch.nn.GRU`` state dict)."""
    return _KERAS.check(fn)


# ---------------------------------------------------------------------------
# 5. Counting parameters
# ---------------------------------------------------------------------------
_COUNT = Exercise(
    name="count_params",
    reference=count_params_reference,
    make_cases=count_cases,
    mistakes=COUNT_MISTAKES,
    hint="Add up W_x (D, GH), W_h (H, GH), b (GH,) and, for the reset-after GRU, b_hn (H,); G = 3 or 4.",
)


def check_count_params(fn):
    """Check ``fn(D, H) -> (n_gru, n_lstm)`` for rnnlib's reset-after GRU and its LSTM."""
    return _COUNT.check(fn)


# ---------------------------------------------------------------------------
# 6. Which form and which update convention produced these states?
# ---------------------------------------------------------------------------
_WHICH = Exercise(
    name="which_form",
    reference=which_form_reference,
    make_cases=which_form_cases,
    mistakes=WHICH_MISTAKES,
    hint=("Compute the states of all four candidates (form 'after'/'before' x update 'seed'/'chung') from "
          "h0 = 0 and return the (form, update) tuple whose states equal hs."),
)


def check_which_form(fn):
    """Check ``fn(x, params, hs) -> (form, update)`` with form in {"after", "before"}, update in {"seed", "chung"}."""
    return _WHICH.check(fn)


# ---------------------------------------------------------------------------
# 7. The whole sequence, backwards
# ---------------------------------------------------------------------------
_SEQUENCE_BACKWARD = Exercise(
    name="gru_backward",
    reference=gru_backward_reference,
    make_cases=gru_backward_cases,
    mistakes=GRU_BACKWARD_MISTAKES,
    hint=("start from dh_next = dstate_T (zeros if None); for t from T-1 down to 0: "
          "dx_t, dh_next, g = rnnlib.gru_step_backward(dh_next + dhs[:, t], caches[t]); dx[:, t] = dx_t; "
          "add g to grads (its keys: b_hn only in the reset-after form). Return (dx, dh_next, grads)."),
)


def check_gru_backward(fn):
    """Check ``fn(dhs, caches, dstate_T=None) -> (dx, dh0, grads)`` over T step caches."""
    return _SEQUENCE_BACKWARD.check(fn)


EXERCISES = {
    "gru_step": _STEP,
    "gru_step_before": _STEP_BEFORE,
    "update_gate_backward": _UPDATE,
    "keras_to_torch": _KERAS,
    "count_params": _COUNT,
    "which_form": _WHICH,
    "gru_backward": _SEQUENCE_BACKWARD,
}
