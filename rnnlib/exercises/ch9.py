r"""Checks for the exercises of Chapter 9, "Recurrence without the loop".

===============================  ===============================================
check                            the reader writes
===============================  ===============================================
:func:`check_closed_form`        ``closed_form(a, b, h0) -> hs``, (N, T, H), working
                                 on a sequence of T = 3000 steps too
:func:`check_recurrence_backward`
                                 ``recurrence_backward(a, dhs, dh_final) -> g``, the
                                 gradient reaching every h_t, (N, T, H)
:func:`check_mingru_forward`     ``mingru_forward(x, h0, W_z, b_z, W_h, b_h) -> hs``
===============================  ===============================================

Each returns a :class:`~rnnlib.exercises._check.CheckResult` naming the catalogued
mistakes of :mod:`rnnlib.exercises._ch9_mistakes` (``result.mistake``). The
closed-form check also recognises the product form without log space: right on
the short cases, inf or NaN on the long one.
"""

from __future__ import annotations

import copy

import numpy as np

from ._ch9_mistakes import (BACKWARD_MISTAKES, CLOSED_FORM_MISTAKES, CUMPROD_DIAGNOSIS, LONG_T,  # noqa: F401
                            MINGRU_MISTAKES, backward_cases, closed_form_cases, closed_form_reference,
                            cumprod_naive, mingru_cases, mingru_forward_reference,
                            recurrence_backward_reference)
from ._check import WIDTH, Exercise, _call, _Raised, not_attempted, not_callable, result

_CLOSED = Exercise(
    name="closed_form",
    width=WIDTH,
    reference=closed_form_reference,
    make_cases=closed_form_cases,
    mistakes=CLOSED_FORM_MISTAKES,
    hint="h_t = (a_1...a_t) h0 + sum_k (a_{k+1}...a_t) b_k; any method that never divides by a product works.",
)


def check_closed_form(fn):
    """Check ``fn(a, b, h0) -> hs`` (N, T, H), including a case with T = 3000."""
    name = _CLOSED.name
    if not callable(fn):
        return not_callable(name, fn)
    cases = _CLOSED.cases()
    outs = [_call(fn, copy.deepcopy(c)) for c in cases]
    if any(isinstance(o, _Raised) and isinstance(o.exc, NotImplementedError) for o in outs):
        return not_attempted(name)
    short_ok = all(not isinstance(o, _Raised) and isinstance(o, np.ndarray) and o.shape == c[1].shape
                   and np.allclose(o, closed_form_reference(*c), rtol=1e-6, atol=1e-9)
                   for o, c in zip(outs, cases) if c[0].shape[1] < LONG_T)
    long_out = [o for o, c in zip(outs, cases) if c[0].shape[1] == LONG_T][0]
    if (short_ok and isinstance(long_out, np.ndarray) and long_out.shape == cases[-1][1].shape
            and not np.all(np.isfinite(long_out))):
        return result(False, "known-mistake", f"{name}: not yet. {CUMPROD_DIAGNOSIS}", mistake="cumprod-no-log")
    return _CLOSED.check(fn)


_BACKWARD = Exercise(
    name="recurrence_backward",
    width=WIDTH,
    reference=recurrence_backward_reference,
    make_cases=backward_cases,
    mistakes=BACKWARD_MISTAKES,
    hint="g_T = dhs_T + dh_final, then for t = T-1 down to 1: g_t = dhs_t + a_{t+1} g_{t+1}.",
)


def check_recurrence_backward(fn):
    """Check ``fn(a, dhs, dh_final) -> g`` (N, T, H): the gradient reaching every h_t."""
    return _BACKWARD.check(fn)


_MINGRU = Exercise(
    name="mingru_forward",
    width=WIDTH,
    reference=mingru_forward_reference,
    make_cases=mingru_cases,
    mistakes=MINGRU_MISTAKES,
    hint="z = sigmoid(x W_z + b_z), h~ = g(x W_h + b_h), h_t = (1 - z_t) h_{t-1} + z_t h~_t.",
)


def check_mingru_forward(fn):
    """Check ``fn(x, h0, W_z, b_z, W_h, b_h) -> hs`` (N, T, H): a minGRU layer, positive form."""
    return _MINGRU.check(fn)


EXERCISES = {"closed_form": _CLOSED, "recurrence_backward": _BACKWARD, "mingru_forward": _MINGRU}
"""The exercises of this chapter, by name."""
