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
compared with ``np.allclose(rtol=1e-6, atol=1e-9)``.

A mistake is matched on the cases where the reader's function returned; if
it raised on the others, the message says so too. This lets a mistake that
only "works" for some shapes (``x_t @ W_xh.T`` needs D == H) still be named.
Mistake implementations themselves may raise on some cases: such a mistake is
simply not matched on those.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import numbers
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

RTOL = 1e-6
ATOL = 1e-9
WIDTH = 78  # the chapters wrap their checks' messages at this width: the HTML book's output boxes
STATUSES = ("not-attempted", "mutated-input", "passed", "known-mistake", "raised",
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
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - a check must never raise into the notebook
        return _Raised(exc)


def _same_inputs(a, b) -> bool:
    """Exact equality of nested arguments (to detect in-place mutation)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same_inputs(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_inputs(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _is_number(v) -> bool:
    return isinstance(v, (numbers.Number, np.number)) and not isinstance(v, (bool, np.bool_))


def _kind(v) -> str:
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape}"
    if isinstance(v, (tuple, list)):
        return f"a {type(v).__name__} of length {len(v)}"
    if v is None:
        return "None"
    if _is_number(v) or isinstance(v, str):
        return f"{type(v).__name__} {v!r}"
    return f"an object of type {type(v).__name__}"


def _compare(expected, got, path="output"):
    """First structural difference between two outputs, or None if they agree.

    Returns ``(status, text)`` with status ``"wrong-type"``, ``"wrong-shape"``
    or ``"mismatch"``; for a mismatch the text is the max abs difference.
    """
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return "wrong-type", f"{path} should be a NumPy array of shape {expected.shape}; got {_kind(got)}"
        if got.shape != expected.shape:
            return "wrong-shape", f"{path} should have shape {expected.shape}; got shape {got.shape}"
        if got.dtype.kind not in "fiu":
            return "wrong-type", f"{path} should hold numbers; got dtype {got.dtype}"
        if not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
            diff = np.abs(got.astype(np.float64) - expected)
            return "mismatch", f"{path}: max abs diff = {float(np.nanmax(diff)) if np.any(np.isfinite(diff)) else float('nan'):.3g}"
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return "wrong-type", f"{path} should be a tuple of {len(expected)} values; got {_kind(got)}"
        if len(got) != len(expected):
            return "wrong-type", f"{path} should have {len(expected)} values; got {len(got)}"
        for k, (e, g) in enumerate(zip(expected, got)):
            diff = _compare(e, g, f"{path}[{k}]")
            if diff is not None:
                return diff
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "wrong-type", f"{path} should be a dict with keys {sorted(expected)}; got {_kind(got)}"
        if set(got) != set(expected):
            return "wrong-type", f"{path} should have keys {sorted(expected)}; got {sorted(got)}"
        for k in expected:
            diff = _compare(expected[k], got[k], f"{path}[{k!r}]")
            if diff is not None:
                return diff
        return None
    if _is_number(expected):
        if not _is_number(got):
            return "wrong-type", f"{path} should be a number; got {_kind(got)}"
        if not np.isclose(float(got), float(expected), rtol=RTOL, atol=ATOL):
            return "mismatch", f"{path}: expected {expected!r}, got {got!r}"
        return None
    if isinstance(expected, str):
        if not isinstance(got, str):
            return "wrong-type", f"{path} should be a string; got {_kind(got)}"
        if got != expected:
            return "mismatch", f"{path}: expected {expected!r}, got {got!r}"
        return None
    return (None if _same_inputs(expected, got)
            else ("mismatch", f"{path}: expected {expected!r}, got {got!r}"))


def _exception_text(exc, limit=300) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
    """

    name: str
    reference: Callable
    make_cases: Callable[[np.random.Generator], Sequence[tuple]]
    mistakes: Sequence[Mistake] = field(default_factory=list)
    hint: str = ""
    seed: int = 0
    width: Optional[int] = None

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
        try:
            result = self._check(fn)
        except Exception as exc:  # noqa: BLE001 - last resort: a bug in a check must not break a notebook
            result = CheckResult(False, "raised", f"{self.name}: the check itself failed "
                                 f"({_exception_text(exc)}). Please report this.")
        return result if self.width is None else dataclasses.replace(result, width=self.width)

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
        if not raised and all(_compare(expected[k], outputs[k]) is None for k in ok):
            return CheckResult(True, "passed", f"{name}: correct! It matches the reference on "
                               f"{len(cases)} test cases.")

        if ok:
            for m in self.mistakes:
                match = True
                for k in ok:
                    wrong = _call(m.func, copy.deepcopy(cases[k]))
                    if isinstance(wrong, _Raised) or _compare(wrong, outputs[k]) is not None:
                        match = False
                        break
                if match:
                    extra = ""
                    if raised:
                        extra = (f" (It also raised {_exception_text(outputs[raised[0]].exc)} on "
                                 f"{len(raised)} of the {len(cases)} cases.)")
                    return CheckResult(False, "known-mistake", f"{name}: not yet. {m.diagnosis}{extra}",
                                       mistake=m.id)

        if raised:
            exc = outputs[raised[0]].exc
            return CheckResult(False, "raised", f"{name}: your function raised {_exception_text(exc)} "
                               f"(on {len(raised)} of the {len(cases)} cases).{self._hint()}")

        for k in ok:
            diff = _compare(expected[k], outputs[k])
            if diff is not None and diff[0] in ("wrong-type", "wrong-shape"):
                status, text = diff
                return CheckResult(False, status, f"{name}: {text}.{self._hint()}")
        k = next(k for k in ok if _compare(expected[k], outputs[k]) is not None)
        _, text = _compare(expected[k], outputs[k])
        return CheckResult(False, "mismatch", f"{name}: doesn't match the reference ({text}).{self._hint()}")


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
