"""Input validation shared by every public entry point of rnnlib.

Each helper raises ``TypeError`` (wrong kind of object or dtype) or
``ValueError`` (wrong shape, non-finite values, bad sizes) with a message
that names the argument, says what was expected and what was received, so
that a reader never meets a bare NumPy broadcasting error from deep inside
the library.
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be np.float32 or np.float64; got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64; got {dt}")
    return dt


def check_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a ``np.random.Generator``, else raise TypeError."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator; got {type(rng).__name__} "
            "(make one with np.random.default_rng(seed))"
        )
    return rng


def make_rng(seed=0, rng=None) -> np.random.Generator:
    """The generator a function or layer draws from: ``rng`` if given (checked), else one seeded by ``seed``."""
    if rng is not None:
        return check_rng(rng)
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"seed must be a non-negative int (or None); got {seed!r}") from exc


def check_size(name: str, value) -> int:
    """A strictly positive integer size (``input_size``, ``hidden_size``, ...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int; got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def _describe(shape_names, expected) -> str:
    parts = []
    for nm, ex in zip(shape_names, expected):
        parts.append(nm if ex is None else f"{nm}={ex}")
    return "(" + ", ".join(parts) + ")"


def check_array(name: str, a, shape_names, expected=None, *, dtype=None) -> np.ndarray:
    """Validate a float array and return it (cast to ``dtype`` if given).

    Parameters
    ----------
    name : str
        The argument's name, used in messages (``"x"``, ``"state"``...).
    a : array_like
        The value received.
    shape_names : tuple of str
        Names of the axes, e.g. ``("N", "T", "D")``; fixes the rank.
    expected : tuple of int or None, optional
        Required size of each axis (``None`` = any size >= 1).
    dtype : np.dtype, optional
        Cast the validated array to this float dtype.
    """
    if expected is None:
        expected = (None,) * len(shape_names)
    if isinstance(a, (tuple, list)) and any(isinstance(v, np.ndarray) for v in a):
        raise TypeError(
            f"{name} must be a NumPy array of shape {_describe(shape_names, expected)}; "
            f"got a {type(a).__name__} of arrays"
        )
    if not isinstance(a, np.ndarray):
        if isinstance(a, (list, tuple)) or np.isscalar(a):
            try:
                a = np.asarray(a)
            except ValueError as exc:  # ragged nested lists: say which argument
                raise ValueError(
                    f"{name} must be an array of shape {_describe(shape_names, expected)}; "
                    f"got a ragged nested {type(a).__name__} ({exc})"
                ) from exc
        else:
            raise TypeError(
                f"{name} must be a NumPy array of shape {_describe(shape_names, expected)}; "
                f"got {type(a).__name__}"
            )
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must be a float32 or float64 array; got dtype {a.dtype} "
            f"(convert with {name}.astype(np.float64))"
        )
    if a.ndim != len(shape_names):
        raise ValueError(
            f"{name} must have {len(shape_names)} dimensions {_describe(shape_names, expected)}; "
            f"got shape {a.shape}"
        )
    for axis, (nm, want, got) in enumerate(zip(shape_names, expected, a.shape)):
        if want is not None and got != want:
            raise ValueError(
                f"{name} must have shape {_describe(shape_names, expected)}; got shape {a.shape} "
                f"(axis {axis}, {nm}, is {got}, expected {want})"
            )
        if want is None and got == 0:
            raise ValueError(f"{name} has an empty axis {nm}: shape {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name} contains {bad} NaN or inf value(s); all entries must be finite")
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


def check_params(name: str, params, shapes: dict, dtype=None) -> dict:
    """Check a dict of parameter arrays against ``{key: (shape_names, expected)}``."""
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of arrays; got {type(params).__name__}")
    missing = [k for k in shapes if k not in params]
    extra = [k for k in params if k not in shapes]
    if missing or extra:
        raise ValueError(
            f"{name} must have exactly the keys {sorted(shapes)}; "
            f"missing {missing}, unexpected {extra}"
        )
    return {
        k: check_array(f"{name}[{k!r}]", params[k], names, expected, dtype=dtype)
        for k, (names, expected) in shapes.items()
    }


def check_state_pair(name: str, state, parts: tuple, shape: tuple, *, allow_none=False) -> tuple:
    """Validate an LSTM state (or state gradient): a pair of arrays (N, H).

    Parameters
    ----------
    name : str
        The argument's name (``"state_prev"``, ``"dstate_T"``...).
    state : tuple or list of length 2
        ``(h, c)``; with ``allow_none``, either entry may be ``None`` (zeros).
    parts : tuple of str
        Names of the two entries in messages, e.g. ``("h_prev", "c_prev")``.
    shape : tuple of int or None
        Required shape ``(N, H)`` (``None`` entries = any size).

    Returns
    -------
    tuple
        The two validated arrays (or ``None`` where allowed).
    """
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        got = type(state).__name__
        got += f" of length {len(state)}" if isinstance(state, (tuple, list)) else ""
        if isinstance(state, np.ndarray):
            got += f" of shape {state.shape}"
        raise TypeError(f"{name} must be a pair ({parts[0]}, {parts[1]}) of arrays (N, H): the "
                        f"LSTM's state is h and c{' (either may be None)' if allow_none else ''}; got {got}")
    return tuple(None if (allow_none and s is None) else check_array(f"{name}[{k}] ({part})", s, ("N", "H"), shape)
                 for k, (part, s) in enumerate(zip(parts, state)))
