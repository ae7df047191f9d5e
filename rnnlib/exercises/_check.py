r"""The exercise-check framework shared by every chapter.

A *check* runs the reader's function and the reference on the same seeded
inputs and explains the difference. It never raises into the notebook: every
outcome is a :class:`CheckResult` whose ``repr`` is plain, deterministic text
(nbval compares it). The outcomes, in the order they are tested:

===================  ========================================================
``status``           when
===================  ========================================================
``"not-attempted"``  the function raises ``NotImplementedError`` (the stub)
``"mutated-input"``  it changed one of its input arrays in place
``"passed"``         its output matches the reference on every case
``"known-mistake"``  its output matches one of the catalogued :class:`Mistake`
                     implementations (``result.mistake`` is the mistake's id)
``"raised"``         it raised another exception (type and text shown)
``"timeout"``        it ran longer than its time budget (:mod:`._guard`)
``"wrong-type"``     it returned the wrong kind of object
``"wrong-shape"``    it returned an array of the wrong shape
``"mismatch"``       right type and shape, wrong numbers (max abs diff + hint)
===================  ========================================================

How a chapter defines a check (see :mod:`rnnlib.exercises.ch1`)::

    _STEP = Exercise(
        name="rnn_step",
        reference=ref_step,                      # the right answer
        make_cases=step_cases,                   # rng -> list of argument tuples
        mistakes=[Mistake("sigmoid", sigmoid_step, "You used a sigmoid ...")],
        hint="h_next = tanh(x_t @ W_xh + h_prev @ W_hh + b_h), shape (N, H).",
    )

    def check_rnn_step(fn):
        return _STEP.check(fn)

``Exercise(..., width=78)`` wraps the printed message at 78 characters (the
``message`` attribute stays one line), so it fits the output boxes of the HTML
book.

A case is a tuple of positional arguments. The reader's function gets deep
copies (so a function that mutates its inputs cannot corrupt the reference),
and the copies are compared with the originals afterwards. Outputs may be
arrays, numbers, strings, or tuples / lists / dicts of those; they are
compared with ``np.allclose(rtol=1e-6, atol=1e-9)``. An answer computed in
float32 (or float16) is compared at float32 precision (:data:`F32_RTOL`,
:data:`F32_ATOL`) and accepted, with a note, unless the exercise asks for float64
(``Exercise(float64=True)``); a float64 answer that is off by float32 rounding only
is told so.

A mistake is named only when it explains *every* case: where the reader's
function returned, the mistake returns the same; where it raised, the mistake
raises an exception of the same type (so ``x_t @ W_xh.T``, which only runs when
D == H, is still named, while an answer that is right for N == 1 and raises
for N > 1 is not blamed for a mistake that agrees with it on N == 1 only).

Every check runs inside :func:`._guard.check_scope` (NumPy errors ignored, a time
budget for the reader's calls); :func:`guarded` gives hand-written checks the
same protection. Only an exception in our own code, which is a bug, is reported
as "the check itself failed, please report this".
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import numbers
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from ._compare import (ATOL, F32_ATOL, F32_RTOL, RTOL, _compare, _exception_text,  # noqa: F401 - re-exported
                       _is_number, _kind, _low_precision, _same_inputs)
from ._guard import ReaderTimeout, check_scope, run_reader, timeout_text

WIDTH = 78  # the chapters wrap their checks' messages at this width: the HTML book's output boxes
STATUSES = ("not-attempted", "mutated-input", "passed", "known-mistake", "raised", "timeout",
            "wrong-type", "wrong-shape", "mismatch")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check; printing it (or its repr) gives the plain-text message.

    Attributes
    ----------
    passed : bool
    status : str
        One of :data:`STATUSES`.
    message : str
        What the reader sees.
    mistake : str or None
        Id of the matched :class:`Mistake` when ``status == "known-mistake"``.
    width : int or None
        If set, ``str``/``repr`` wrap the message at this many characters
        (so it fits the code-output box of the HTML book); ``message`` itself
        is never wrapped.
    """

    passed: bool
    status: str
    message: str
    mistake: Optional[str] = None
    width: Optional[int] = None

    def _text(self):
        if self.width is None:
            return self.message
        return textwrap.fill(self.message, width=self.width, break_long_words=False,
                             break_on_hyphens=False)

    def __str__(self):
        return self._text()

    def __repr__(self):
        return self._text()

    def _repr_pretty_(self, p, cycle):  # IPython: same plain text
        p.text(self._text())


@dataclass(frozen=True)
class Mistake:
    """A catalogued wrong implementation and the diagnosis to print when it matches.

    Attributes
    ----------
    id : str
        Short identifier, e.g. ``"sigmoid"``; reported as ``CheckResult.mistake``.
    func : callable
        Same signature as the reference, computes the wrong thing.
    diagnosis : str
        Friendly explanation of the mistake and how to fix it.
    """

    id: str
    func: Callable
    diagnosis: str


class _Raised:
    """Marker for a call that raised (kept apart from any legitimate return value)."""

    def __init__(self, exc):
        self.exc = exc


def _call(fn, args):
    """``fn(*args)`` within the time budget, or :class:`_Raised` (a :class:`ReaderTimeout` propagates)."""
    try:
        return run_reader(fn, args)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a check must never raise into the notebook
        return _Raised(exc)


@dataclass
class Exercise:
    """One checkable exercise: a reference, seeded cases and a mistake catalogue.

    Attributes
    ----------
    name : str
        The function name the reader writes (used in messages).
    reference : callable
        The correct implementation.
    make_cases : callable
        ``make_cases(rng) -> list of argument tuples``.
    mistakes : list of Mistake
        Checked in order; the first that matches is reported.
    hint : str
        Printed with a generic mismatch.
    seed : int
        Seed of the generator handed to ``make_cases``.
    width : int or None
        Passed to every :class:`CheckResult`: wrap the printed message at
        this width (None: one line).
    float64 : bool
        The exercise asks for float64: a float32 answer is refused (with a
        "precision only" message) instead of accepted at float32 precision.
    """

    name: str
    reference: Callable
    make_cases: Callable[[np.random.Generator], Sequence[tuple]]
    mistakes: Sequence[Mistake] = field(default_factory=list)
    hint: str = ""
    seed: int = 0
    width: Optional[int] = None
    float64: bool = False

    def cases(self):
        """The argument tuples, regenerated from the seed (fresh arrays each time)."""
        return [tuple(c) for c in self.make_cases(np.random.default_rng(self.seed))]

    def _hint(self) -> str:
        return f" Hint: {self.hint}" if self.hint else ""

    def _arg_name(self, k) -> str:
        """Name of positional argument ``k`` of the reference (``argument k+1`` if unknown)."""
        try:
            names = list(inspect.signature(self.reference).parameters)
            return f"argument {names[k]}"
        except (TypeError, ValueError, IndexError):
            return f"argument {k + 1}"

    def check(self, fn) -> CheckResult:
        """Check the reader's ``fn``; never raises. See the module docstring for the order."""
        result = _guarded_run(self.name, self._check, fn)
        return result if self.width is None else dataclasses.replace(result, width=self.width)

    def _mistake_explains(self, m, cases, outputs) -> bool:
        """True if mistake ``m`` gives the reader's output on every case (raising where it raised)."""
        for case, out in zip(cases, outputs):
            wrong = _own_call(m.func, copy.deepcopy(case))
            if isinstance(out, _Raised):
                if not (isinstance(wrong, _Raised) and type(wrong.exc) is type(out.exc)):
                    return False
            elif isinstance(wrong, _Raised) or _compare(wrong, out) is not None:
                return False
        return True

    def _check(self, fn) -> CheckResult:
        name = self.name
        if not callable(fn):
            return CheckResult(False, "wrong-type", f"{name}: expected a function; got {_kind(fn)}.")
        cases = self.cases()
        expected = [self.reference(*copy.deepcopy(c)) for c in cases]
        outputs = []
        for case in cases:
            args = copy.deepcopy(case)
            out = _call(fn, args)
            if isinstance(out, _Raised) and isinstance(out.exc, NotImplementedError):
                return not_attempted(name, width=None)  # check() applies self.width
            if not isinstance(out, _Raised) and not _same_inputs(case, args):
                which = [self._arg_name(k) for k, (a, b) in enumerate(zip(case, args))
                         if not _same_inputs(a, b)]
                return CheckResult(False, "mutated-input",
                                   f"{name}: your function changed its input {', '.join(which)} in place "
                                   f"(e.g. with +=, *= or out=). Compute new arrays instead: the caller "
                                   f"still needs its inputs.")
            outputs.append(out)

        ok = [k for k, o in enumerate(outputs) if not isinstance(o, _Raised)]
        raised = [k for k, o in enumerate(outputs) if isinstance(o, _Raised)]
        diffs = {k: _compare(expected[k], outputs[k], float64=self.float64) for k in ok}
        if not raised and all(d is None for d in diffs.values()):
            note = ""
            if any(_low_precision(outputs[k]) for k in ok):
                note = (" (Your answer is float32: it matches to float32 precision, which is all this "
                        "exercise asks; the book computes in float64.)")
            return CheckResult(True, "passed", f"{name}: correct! It matches the reference on "
                               f"{len(cases)} test cases.{note}")

        if ok:
            for m in self.mistakes:
                if self._mistake_explains(m, cases, outputs):
                    extra = ""
                    if raised:
                        extra = (f" (It also raised {_exception_text(outputs[raised[0]].exc)} on "
                                 f"{len(raised)} of the {len(cases)} cases, as this mistake does.)")
                    return CheckResult(False, "known-mistake", f"{name}: not yet. {m.diagnosis}{extra}",
                                       mistake=m.id)

        if raised:
            exc = outputs[raised[0]].exc
            right = sum(1 for d in diffs.values() if d is None)
            also = f" It is right on {right} of the other {len(ok)}." if ok else ""
            return CheckResult(False, "raised", f"{name}: your function raised {_exception_text(exc)} "
                               f"(on {len(raised)} of the {len(cases)} cases).{also}{self._hint()}")

        for k in ok:
            diff = diffs[k]
            if diff is not None and diff[0] in ("wrong-type", "wrong-shape"):
                status, text = diff
                return CheckResult(False, status, f"{name}: {text}.{self._hint()}")
        _, text = next(d for d in diffs.values() if d is not None)
        return CheckResult(False, "mismatch", f"{name}: doesn't match the reference ({text}).{self._hint()}")


def _own_call(fn, args):
    """Call one of our own functions (a catalogued mistake): no time budget, exceptions kept."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - a mistake may raise on some cases, by design
        return _Raised(exc)


def _guarded_run(name, check, fn, *args, **kwargs) -> CheckResult:
    """``check(fn, ...)`` in a :func:`check_scope`; a timeout or a bug of ours becomes a result."""
    try:
        with check_scope():
            return check(fn, *args, **kwargs)
    except ReaderTimeout as exc:
        return CheckResult(False, "timeout", timeout_text(name, exc))
    except RecursionError as exc:
        return CheckResult(False, "raised", f"{name}: your function recursed too deeply "
                           f"({_exception_text(exc)}).")
    except Exception as exc:  # noqa: BLE001 - last resort: a bug in a check must not break a notebook
        return CheckResult(False, "raised", f"{name}: the check itself failed "
                           f"({_exception_text(exc)}). Please report this.")


def guarded(name, *, width=WIDTH):
    """Decorator for a hand-written check ``check(fn, ...)``: the protection of :meth:`Exercise.check`.

    The check runs in a :func:`check_scope` (time budget for the reader's calls made
    with :func:`_call`, NumPy errors ignored); a :class:`ReaderTimeout` becomes a
    ``"timeout"`` result and a bug of ours a "please report this" result, wrapped at ``width``.
    """
    def decorate(check):
        @functools.wraps(check)
        def wrapper(fn, *args, **kwargs):
            res = _guarded_run(name, check, fn, *args, **kwargs)
            return res if res.width is not None or width is None else dataclasses.replace(res, width=width)
        return wrapper
    return decorate


# -- for hand-written checks (those an Exercise cannot express) ---------------------

def result(passed, status, message, mistake=None, *, width=WIDTH) -> CheckResult:
    """A :class:`CheckResult` wrapped at ``width`` (the book's default; ``None``: one line)."""
    return CheckResult(passed, status, message, mistake=mistake, width=width)


def not_callable(name, fn, *, width=WIDTH) -> CheckResult:
    """The reader passed something that is not a function."""
    return result(False, "wrong-type", f"{name}: expected a function; got {type(fn).__name__}.", width=width)


def not_attempted(name, *, width=WIDTH) -> CheckResult:
    """The reader's function still raises ``NotImplementedError`` (the stub)."""
    return result(False, "not-attempted",
                  f"{name}: not attempted yet (the function still raises NotImplementedError).", width=width)


def reader_raised(name, exc, where="", *, width=WIDTH) -> CheckResult:
    """The reader's function raised ``exc``; ``where`` (e.g. ``" for N=2"``) says on which input."""
    return result(False, "raised", f"{name}: your function raised {_exception_text(exc)}{where}.", width=width)


def check_function(fn, reference, make_cases, mistakes=(), *, name="your function", hint="", seed=0):
    """One-off check without defining an :class:`Exercise` first (same rules)."""
    return Exercise(name, reference, make_cases, list(mistakes), hint, seed).check(fn)
