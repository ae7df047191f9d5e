r"""Checks for the exercises of Chapter 8, "From sequence to sequence".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

====================================  ==========================================================
check                                 the reader writes
====================================  ==========================================================
:func:`check_teacher_forcing_pair`    ``teacher_forcing_pair(answer_ids, start_id, end_id)
                                      -> (dec_in, dec_out)``, int arrays (L + 1,)
:func:`check_beam_step`               ``beam_step(scores, probs, k) -> (new_scores, beam, token)``,
                                      scores (n,), probs (n, V); outputs (k,), best first
:func:`check_attention_weights`       ``attention_weights(scores, mask) -> alpha``,
                                      scores (N, Tq, Tk), mask (N, Tk) bool, alpha (N, Tq, Tk)
====================================  ==========================================================

The references, cases and catalogues of named mistakes live in
:mod:`rnnlib.exercises._ch8_mistakes`; this module re-exports them.
"""

from __future__ import annotations

from ._ch8_mistakes import (ATTENTION_MISTAKES, BEAM_MISTAKES, TEACHER_FORCING_MISTAKES,  # noqa: F401
                            attention_cases, attention_weights_reference, beam_cases, beam_step_reference,
                            teacher_forcing_cases, teacher_forcing_reference, nan_as_minus_one)
from ._check import WIDTH, Exercise

_TEACHER = Exercise(
    name="teacher_forcing_pair",
    width=WIDTH,
    reference=teacher_forcing_reference,
    make_cases=teacher_forcing_cases,
    mistakes=TEACHER_FORCING_MISTAKES,
    hint="dec_in = [start_id] + answer, dec_out = answer + [end_id] (np.concatenate).",
)

_BEAM = Exercise(
    name="beam_step",
    width=WIDTH,
    reference=beam_step_reference,
    make_cases=beam_cases,
    mistakes=BEAM_MISTAKES,
    hint=("cand = scores[:, None] + np.log(probs) (n, V); take the k largest entries of cand "
          "(np.argsort(-cand, axis=None)[:k]); beam, token = np.divmod(index, V)."),
)

_ATTENTION = Exercise(
    name="attention_weights",
    width=WIDTH,
    reference=attention_weights_reference,
    make_cases=attention_cases,
    mistakes=ATTENTION_MISTAKES,
    hint=("e = np.where(mask[:, None, :], scores, -np.inf); subtract the max over the last axis, "
          "exponentiate, divide by the sum over the last axis."),
)


def check_teacher_forcing_pair(fn):
    """Check ``fn(answer_ids, start_id, end_id) -> (dec_in, dec_out)``: ``^596`` in, ``596$`` out."""
    return _TEACHER.check(fn)


def check_beam_step(fn):
    """Check ``fn(scores, probs, k) -> (new_scores, beam, token)``, the k best extensions, best first."""
    return _BEAM.check(fn)


def check_attention_weights(fn):
    """Check ``fn(scores, mask) -> alpha``: softmax over the source axis with padding masked.

    NaN entries of the output are compared as -1, so that the NaN of a softmax
    over the wrong axis (a column of -inf) is recognised as that mistake.
    """
    if not callable(fn):
        return _ATTENTION.check(fn)
    return _ATTENTION.check(nan_as_minus_one(fn))
