r"""Checks for the exercises of Chapter 6, "Reading real code".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

===============================  ===============================================
check                            the reader writes
===============================  ===============================================
:func:`check_indentation`        ``indentation(text) -> ndarray (L,)``: leading
                                 spaces of the current line read up to each
                                 character, 0 at a newline
:func:`check_bpc_from_probs`     ``bpc_from_probs(probs, targets) -> float``:
                                 probs (L, V), targets (L,)
:func:`check_run_windows`        ``run_windows(forward, x, T) -> hs`` (N, L, H):
                                 windows of T steps, the state carried
===============================  ===============================================

The cases, the references and the catalogues of named mistakes live in
:mod:`rnnlib.exercises._ch6_mistakes`, whose public names this module re-exports.
"""

from __future__ import annotations

from ._ch6_mistakes import (BPC_PROBS_MISTAKES, INDENT_MISTAKES, INDENT_SNIPPETS, LN2, WINDOW_MISTAKES,  # noqa: F401
                            bpc_from_probs_reference, bpc_probs_cases, indentation_cases, indentation_reference,
                            run_windows_reference, window_cases)
from ._check import WIDTH, Exercise

_INDENT = Exercise(
    name="indentation",
    width=WIDTH,
    reference=indentation_reference,
    make_cases=indentation_cases,
    mistakes=INDENT_MISTAKES,
    hint="walk the characters: a newline resets the count to 0 and says 'still leading'; a space while "
         "leading adds 1; any other character ends the leading part. Return floats, one per character.",
)


def check_indentation(fn):
    """Check ``fn(text) -> ndarray (L,)`` on snippets that tell the common mistakes apart."""
    return _INDENT.check(fn)


_BPC_PROBS = Exercise(
    name="bpc_from_probs",
    width=WIDTH,
    reference=bpc_from_probs_reference,
    make_cases=bpc_probs_cases,
    mistakes=BPC_PROBS_MISTAKES,
    hint="bpc = -mean over t of log2 probs[t, targets[t]].",
)


def check_bpc_from_probs(fn):
    """Check ``fn(probs (L, V), targets (L,)) -> float``."""
    return _BPC_PROBS.check(fn)


_WINDOWS = Exercise(
    name="run_windows",
    width=WIDTH,
    reference=run_windows_reference,
    make_cases=window_cases,
    mistakes=WINDOW_MISTAKES,
    hint="state = None; for a in range(0, L, T): hs_k, state = forward(x[:, a:a + T], state); "
         "then np.concatenate the hs_k along axis 1.",
)


def check_run_windows(fn):
    """Check ``fn(forward, x (N, L, D), T) -> hs (N, L, H)`` with an LSTM and a GRU."""
    return _WINDOWS.check(fn)


EXERCISES = {
    "indentation": _INDENT,
    "bpc_from_probs": _BPC_PROBS,
    "run_windows": _WINDOWS,
}

__all__ = ["check_indentation", "check_bpc_from_probs", "check_run_windows", "indentation_reference",
           "bpc_from_probs_reference", "run_windows_reference", "INDENT_MISTAKES", "BPC_PROBS_MISTAKES",
           "WINDOW_MISTAKES", "EXERCISES"]
