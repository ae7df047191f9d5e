r"""Time budgets, a quiet numeric state and safe reading of answers, for every exercise check.

A check calls the reader's function, which may loop forever, change NumPy's error
state, return a complex number, a ragged list or an integer with 400 digits. This
module keeps all of that from reaching the notebook:

* :func:`run_reader` calls the reader's function under a **time budget**: at most
  :data:`CALL_SECONDS` per call and :data:`CHECK_SECONDS` for all the calls of one
  check (the time spent in our own code, e.g. a reference training run, does not
  count). On Unix, in the main thread, a ``SIGALRM`` timer stops the function; it
  repeats every 0.05 s after the deadline, so a bare ``except:`` in the reader's
  loop does not swallow it for good. Elsewhere (another thread, Windows) a trace
  function checks the clock on every line of Python the reader's code runs. The
  kernel's interrupt (``KeyboardInterrupt``) works as usual: it is never caught.
  :func:`time_limits` changes the budgets (the tests use short ones).
* :func:`check_scope` runs a whole check under ``np.errstate(all="ignore")``, so a
  reader's ``np.seterr(all="raise")`` cannot make *our* reference computations
  raise, and the reader's function runs under the same state (its own calls to
  ``np.seterr`` are undone when it returns).
* :func:`as_real` and :func:`short_repr` read a returned value into a float or a
  short text, turning complex numbers, huge integers and odd objects into a
  reader message instead of an exception.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import warnings
import numbers
from contextlib import contextmanager

import numpy as np

CALL_SECONDS = 10.0  # one call of the reader's function
CHECK_SECONDS = 30.0  # all the calls of one check together


class ReaderTimeout(BaseException):
    """The reader's function ran out of time.

    A ``BaseException``, so that ``except Exception`` in the reader's code does not
    swallow it. ``seconds`` is the budget that ran out, ``scope`` ``"call"`` or ``"check"``.
    """

    def __init__(self, seconds, scope="call"):
        super().__init__(f"the reader's function took longer than {seconds:g} s")
        self.seconds = seconds
        self.scope = scope


class _State(threading.local):
    depth = 0  # nesting of check_scope (a check may call another check)
    spent = 0.0  # seconds spent in the reader's function during the current check
    armed = False  # a time limit is running


_STATE = _State()


@contextmanager
def time_limits(call=None, check=None):
    """Temporarily change :data:`CALL_SECONDS` / :data:`CHECK_SECONDS` (``None``: keep)."""
    global CALL_SECONDS, CHECK_SECONDS
    old = CALL_SECONDS, CHECK_SECONDS
    CALL_SECONDS = old[0] if call is None else float(call)
    CHECK_SECONDS = old[1] if check is None else float(check)
    try:
        yield
    finally:
        CALL_SECONDS, CHECK_SECONDS = old


@contextmanager
def check_scope():
    """One check: a fresh time budget, NumPy errors ignored, no RuntimeWarnings printed."""
    if _STATE.depth == 0:
        _STATE.spent = 0.0
    _STATE.depth += 1
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        _STATE.depth -= 1


def _signals_usable():
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _invoke(fn, args):
    """The one frame between us and the reader's code: stops only hit frames below it."""
    return fn(*args)


def _in_reader(frame):
    """True if ``frame`` runs inside :func:`_invoke` (the reader's code, or what it called)."""
    while frame is not None:
        if frame.f_code is _invoke.__code__:
            return True
        frame = frame.f_back
    return False


def _stopper(budget):
    """A trace function that raises :class:`ReaderTimeout` on every line the reader's code runs.

    Once the time is up it is set on the reader's frames and as the global trace, so an
    ``except:`` that catches the first stop is stopped again on its next line.
    """
    def stop(frame, event, arg):
        if event in ("line", "call") and _STATE.armed and _in_reader(frame):
            raise ReaderTimeout(*budget)
        return stop
    return stop


def run_reader(fn, args):
    """``fn(*args)`` within the time budget, under ``np.errstate(all="ignore")``.

    Raises :class:`ReaderTimeout` when a budget runs out; any exception of ``fn``
    propagates unchanged (the caller turns it into a message). Re-entrant: a check
    called from within the reader's function runs under the outer budget.
    """
    if _STATE.armed:
        with np.errstate(all="ignore"):
            return _invoke(fn, args)
    left = CHECK_SECONDS - _STATE.spent
    if left <= 0:
        raise ReaderTimeout(CHECK_SECONDS, "check")
    seconds = min(CALL_SECONDS, left)
    budget = (CALL_SECONDS, "call") if seconds >= CALL_SECONDS else (CHECK_SECONDS, "check")
    stop = _stopper(budget)
    use_signal = _signals_usable()
    previous_trace = sys.gettrace()
    if use_signal:
        def on_alarm(signum, frame):
            if not (_STATE.armed and _in_reader(frame)):
                return  # in our own code between two reader frames: the next alarm comes soon
            exc = ReaderTimeout(*budget)  # built first: its __init__ must not meet the trace
            f = frame
            while f is not None and f.f_code is not _invoke.__code__:
                f.f_trace, f.f_trace_lines = stop, True
                f = f.f_back
            sys.settrace(stop)
            raise exc
        previous_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)  # then every 0.05 s until disarmed
    else:  # another thread or no SIGALRM: the clock is checked on every line the reader runs
        end = time.monotonic() + seconds

        def watch(frame, event, arg):
            if time.monotonic() > end:
                return stop(frame, event, arg)
            return watch
        sys.settrace(watch)
    start = time.monotonic()
    _STATE.armed = True
    try:
        with np.errstate(all="ignore"):
            return _invoke(fn, args)
    finally:
        _STATE.armed = False
        sys.settrace(previous_trace)
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
        _STATE.spent += time.monotonic() - start


def timeout_text(name, exc) -> str:
    """The reader message for a :class:`ReaderTimeout`."""
    where = ("on one call" if exc.scope == "call"
             else "over the calls of this check together")
    return (f"{name}: your function took longer than {exc.seconds:g} s {where}, so the check stopped it. "
            "Look for a loop that never ends (a while loop whose condition never changes) or "
            "work that grows much faster than the input.")


def short_repr(v, limit=60) -> str:
    """``repr(v)`` cut to ``limit`` characters; never raises (huge ints, broken __repr__)."""
    try:
        if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 200:
            return f"an integer with about {int(v.bit_length() * 0.30103) + 1} digits"
        text = repr(v)
    except Exception:  # noqa: BLE001 - a reader's object may have a broken __repr__
        return f"an object of type {type(v).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_real(v):
    """``(float, None)`` for a real number, else ``(None, what is wrong)`` (a reader message).

    Refuses bools, complex numbers (even with a zero imaginary part: the answer should be
    real by construction), integers too large for a float, and non-numbers.
    """
    if isinstance(v, (bool, np.bool_)):
        return None, f"a bool ({v!r}), not a number"
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, (complex, np.complexfloating)):
        return None, (f"a complex number ({short_repr(v)}): a square root or a fractional power of a "
                      "negative number gives one; the answer is real")
    if not isinstance(v, (numbers.Real, np.integer, np.floating)):
        kind = "None (no return statement?)" if v is None else f"{type(v).__name__} {short_repr(v)}"
        return None, f"{kind}, not a number"
    try:
        return float(v), None
    except (OverflowError, ValueError, TypeError):
        return None, f"{short_repr(v)}, too large to be a float"
