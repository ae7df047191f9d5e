r"""How a check compares the reader's output with the expected one, and describes what it got.

:func:`_compare` walks arrays, numbers, strings and tuples / lists / dicts of them and
returns the first difference as ``(status, text)`` (``"wrong-type"``, ``"wrong-shape"``
or ``"mismatch"``), or ``None`` when they agree; it never raises, whatever the reader
returned (complex numbers, ragged lists, integers too large for a float, objects with
a broken ``__eq__``). Numbers agree within ``rtol`` :data:`RTOL`, ``atol`` :data:`ATOL`;
an answer computed in float32 is compared at float32 precision (:data:`F32_RTOL`,
:data:`F32_ATOL`) and accepted unless the exercise asks for float64, and a float64
answer off by float32 rounding only is told so. :func:`_same_inputs` tells whether a
function changed its arguments in place. Used by :mod:`rnnlib.exercises._check`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._guard import as_real, short_repr

RTOL = 1e-6
ATOL = 1e-9
F32_RTOL = 1e-4  # an answer computed in float32 is compared at this precision
F32_ATOL = 1e-5


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
        return f"{type(v).__name__} {short_repr(v)}"
    return f"an object of type {type(v).__name__}"


def _low_precision(v) -> bool:
    """True if ``v`` holds a float32 / float16 array or scalar anywhere."""
    if isinstance(v, (np.ndarray, np.floating)):
        return v.dtype.kind == "f" and v.dtype.itemsize < 8
    if isinstance(v, (tuple, list)):
        return any(_low_precision(x) for x in v)
    if isinstance(v, dict):
        return any(_low_precision(x) for x in v.values())
    return False


_F32_TEXT = ("which is float32 rounding only: your computation went through float32 somewhere "
             "(np.float32, dtype=np.float32, a torch tensor); compute in float64")


def _close(expected, got, path, float64):
    """None if ``got`` (numbers, same shape) matches ``expected``; else (status, text)."""
    e = np.asarray(expected, dtype=np.float64)
    g = np.asarray(got)
    low = g.dtype.kind == "f" and g.dtype.itemsize < 8
    diff = np.abs(g.astype(np.float64) - e)
    worst = float(np.nanmax(diff)) if np.any(np.isfinite(diff)) else float("nan")
    f32_close = np.allclose(g, e, rtol=F32_RTOL, atol=F32_ATOL)
    if low and float64 and f32_close:
        return "wrong-type", (f"{path} is {g.dtype} (max abs diff = {worst:.3g}, precision only): "
                              "this exercise asks for float64; do not convert to float32")
    if np.allclose(g, e, rtol=RTOL, atol=ATOL) or (low and f32_close):
        return None  # a float32 answer is accepted at float32 precision (the pass message says so)
    if f32_close:
        return "mismatch", f"{path}: max abs diff = {worst:.3g}, {_F32_TEXT}"
    if np.ndim(e) == 0:
        return "mismatch", f"{path}: expected {short_repr(expected)}, got {short_repr(got)}"
    return "mismatch", f"{path}: max abs diff = {worst:.3g}"


def _compare(expected, got, path="output", float64=False):
    """First structural difference between two outputs, or None if they agree.

    Returns ``(status, text)`` with status ``"wrong-type"``, ``"wrong-shape"``
    or ``"mismatch"``; for a mismatch the text is the max abs difference. Never
    raises: whatever the reader returned, the answer is a text.
    """
    try:
        return _compare_raw(expected, got, path, float64)
    except Exception as exc:  # noqa: BLE001 - an object the comparison cannot read
        return "wrong-type", f"{path}: the check could not read {_kind(got)} ({_exception_text(exc)})"


def _compare_raw(expected, got, path, float64):
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return "wrong-type", f"{path} should be a NumPy array of shape {expected.shape}; got {_kind(got)}"
        if got.shape != expected.shape:
            return "wrong-shape", f"{path} should have shape {expected.shape}; got shape {got.shape}"
        if got.dtype.kind == "c":
            return "wrong-type", (f"{path} holds complex numbers (dtype {got.dtype}): a square root or a "
                                  "fractional power of a negative number gives them; the answer is real")
        if got.dtype.kind not in "fiu":
            return "wrong-type", f"{path} should hold numbers; got dtype {got.dtype}"
        return _close(expected, got, path, float64)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return "wrong-type", f"{path} should be a tuple of {len(expected)} values; got {_kind(got)}"
        if len(got) != len(expected):
            return "wrong-type", f"{path} should have {len(expected)} values; got {len(got)}"
        for k, (e, g) in enumerate(zip(expected, got)):
            diff = _compare_raw(e, g, f"{path}[{k}]", float64)
            if diff is not None:
                return diff
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "wrong-type", f"{path} should be a dict with keys {sorted(expected)}; got {_kind(got)}"
        if set(got) != set(expected):
            keys = sorted(map(short_repr, got))
            return "wrong-type", f"{path} should have keys {sorted(expected)}; got {keys}"
        for k in expected:
            diff = _compare_raw(expected[k], got[k], f"{path}[{k!r}]", float64)
            if diff is not None:
                return diff
        return None
    if _is_number(expected):
        _, problem = as_real(got)
        if problem:
            return "wrong-type", f"{path} should be a number; got {problem}"
        return _close(expected, got, path, float64)
    if isinstance(expected, str):
        if not isinstance(got, str):
            return "wrong-type", f"{path} should be a string; got {_kind(got)}"
        if got != expected:
            return "mismatch", f"{path}: expected {expected!r}, got {short_repr(got)}"
        return None
    return (None if _same_inputs(expected, got)
            else ("mismatch", f"{path}: expected {short_repr(expected)}, got {short_repr(got)}"))


def _exception_text(exc, limit=300) -> str:
    try:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    except Exception:  # noqa: BLE001 - a reader's exception class with a broken __str__
        text = ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
