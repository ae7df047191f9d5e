r"""Checks for the exercises of Chapter 5, "A cell that counts".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

===================================  =================================================
check                                the reader writes
===================================  =================================================
:func:`check_sample_with_temperature`
                                     ``sample_with_temperature(logits, temperature, rng)
                                     -> ids`` (N,): one draw per row of ``logits``
                                     (N, V) from softmax(logits / temperature);
                                     the argmax when temperature is 0
:func:`check_bits_per_char`          ``bits_per_char(logits, targets) -> float``:
                                     logits (N, T, V), targets (N, T)
:func:`check_is_well_formed`         ``is_well_formed(line) -> bool``
:func:`check_find_depth_unit`        ``find_depth_unit(acts, depth) -> (unit, r)``:
                                     acts (L, H), depth (L,)
===================================  =================================================

Sampling is random, so :func:`check_sample_with_temperature` does not compare
draws with the reference's: it draws many times with a seeded generator and
compares the *frequencies* with the distribution each candidate (the right
one, and each catalogued mistake) implies, by total-variation distance. The
seed is fixed, so the verdict is the same on every run.

The check functions, the sampling check's settings (``SAMPLE_*``) and its frequency
comparison live here; the seeded cases, the references and the catalogues of named
mistakes in :mod:`rnnlib.exercises._ch5_mistakes`, whose public names this module
re-exports.
"""

from __future__ import annotations

import numpy as np

from rnnlib.activations import softmax
from rnnlib.data.toy_language import is_well_formed as is_well_formed_reference
from ._ch5_mistakes import (BPC_MISTAKES, DEPTH_UNIT_MISTAKES, SAMPLE_MISTAKE_NO_GREEDY, SAMPLE_MISTAKES,
                            WELL_FORMED_MISTAKES, bits_per_char_reference, bpc_cases, depth_unit_cases,
                            find_depth_unit_reference, sample_with_temperature_reference, well_formed_cases)
from ._ch5_mistakes import LN2, WELL_FORMED_ALPHABET, WELL_FORMED_LINES, WELL_FORMED_SEPARATING  # noqa: F401
from ._check import (WIDTH, Exercise, _call, _exception_text, _Raised, _same_inputs, guarded, not_attempted,
                     not_callable, result)



# ---------------------------------------------------------------------------
# 1. Sampling with a temperature (checked on frequencies)
# ---------------------------------------------------------------------------
SAMPLE_ROWS = np.array([[0.5, 2.0, -1.0, 1.0, 0.0, -1.5],  # two logit rows, V = 6; argmax not first
                        [-0.5, 0.3, 1.6, -1.2, 0.9, 0.1]])
SAMPLE_TEMPERATURES = (0.5, 2.0)  # neither 1 (where several mistakes agree with the reference)
SAMPLE_DRAWS = 10000  # draws per logit row and temperature
SAMPLE_TOLERANCE = 0.025  # largest total-variation distance accepted (correct samplers: <= 0.015 over 20 seeds)
REPRO_DRAWS = 100  # draws per row of the calls that test the use of rng
SAMPLE_SEED = 0


def _tv(p, q):
    return 0.5 * float(np.sum(np.abs(np.asarray(p) - np.asarray(q))))


def _draw(fn, rows, tau, seed):
    """Call ``fn`` on the rows repeated SAMPLE_DRAWS times (interleaved); return (out or _Raised, logits, copy)."""
    logits = np.tile(rows, (SAMPLE_DRAWS, 1))  # (2 * SAMPLE_DRAWS, V): rows alternate
    given = logits.copy()
    out = _call(fn, (given, tau, np.random.default_rng(seed)))
    return out, logits, given


def _as_ids(out, n, V):
    """(ids, None) or (None, message) for what the reader returned."""
    if not isinstance(out, np.ndarray):
        if isinstance(out, (list, tuple)):
            try:
                out = np.asarray(out)
            except (ValueError, TypeError, OverflowError):
                return None, f"should return an integer array of shape ({n},); got a ragged " \
                             f"{type(out).__name__} (its items have different lengths or types)"
        else:
            return None, f"should return an integer array of shape ({n},), one id per row; got " \
                         f"{type(out).__name__}"
    if out.shape != (n,):
        return None, f"should return one id per row of logits, shape ({n},); got shape {out.shape}"
    if out.dtype.kind not in "iu":
        return None, f"should return integer ids (np.argmax, rng.choice and searchsorted give them); " \
                     f"got dtype {out.dtype}"
    if out.min() < 0 or out.max() >= V:
        return None, f"ids must lie in [0, {V}); got values in [{out.min()}, {out.max()}]"
    return out, None


@guarded("sample_with_temperature")
def check_sample_with_temperature(fn):
    """Check ``fn(logits, temperature, rng) -> ids`` (N,) on the frequencies of seeded draws."""
    name = "sample_with_temperature"
    if not callable(fn):
        return not_callable(name, fn)
    n, V = 2 * SAMPLE_DRAWS, SAMPLE_ROWS.shape[1]
    # 1. sampling cases: frequencies per logit row
    freqs, raised = {}, {}
    for k, tau in enumerate(SAMPLE_TEMPERATURES):
        out, logits, given = _draw(fn, SAMPLE_ROWS, tau, SAMPLE_SEED + k)
        if isinstance(out, _Raised):
            if isinstance(out.exc, NotImplementedError):
                return not_attempted(name)
            raised[tau] = out.exc
            continue
        if not _same_inputs(logits, given):
            return result(False, "mutated-input", f"{name}: your function changed its input logits in place "
                           "(e.g. with /=). Compute a new array instead: the caller still needs its logits.")
        ids, problem = _as_ids(out, n, V)
        if problem:
            status = "wrong-shape" if "shape" in problem else "wrong-type"
            return result(False, status, f"{name}: {problem}.")
        small = np.tile(SAMPLE_ROWS, (REPRO_DRAWS, 1))
        first, again, other = (_as_ids(_call(fn, (small.copy(), tau, np.random.default_rng(seed))),
                                       len(small), V)[0] for seed in (7 + k, 7 + k, 1007 + k))
        if first is None or again is None or not np.array_equal(first, again):
            return result(False, "mismatch", f"{name}: two calls with generators seeded alike gave different "
                           "draws. Draw only from the rng you are given (rng.random, rng.choice), not "
                           "np.random, so a seed reproduces the samples.")
        if other is not None and np.array_equal(first, other):
            return result(False, "mismatch", f"{name}: two calls with differently seeded generators gave the "
                           f"same {len(small)} draws: your function ignores the rng it is given (a generator "
                           "of its own, e.g. np.random.default_rng(0), or np.random.seed). Draw from rng.")
        freqs[tau] = [np.bincount(ids[j::2], minlength=V) / SAMPLE_DRAWS for j in range(len(SAMPLE_ROWS))]
    if raised:
        exc = next(iter(raised.values()))
        text = str(exc).lower()
        if isinstance(exc, ValueError) and ("sum" in text or "probabilit" in text) and not freqs:
            m = SAMPLE_MISTAKES[2]
            return result(False, "known-mistake", f"{name}: not yet. {m.diagnosis} (It raised "
                           f"{_exception_text(exc).rstrip('.')}.)", mistake=m.id)
        return result(False, "raised", f"{name}: your function raised {_exception_text(exc)} at temperature "
                       f"{next(iter(raised)):g}. Hint: p = softmax(logits / T) per row, then one draw per row.")

    def distance(dist):  # worst total-variation distance over cases and rows
        return max(_tv(f, dist(row, tau)) for tau, fs in freqs.items() for f, row in zip(fs, SAMPLE_ROWS))

    ref_distance = distance(lambda a, tau: softmax(a / tau))
    if ref_distance > SAMPLE_TOLERANCE:
        for m in SAMPLE_MISTAKES:
            if distance(m.distribution) <= SAMPLE_TOLERANCE:
                return result(False, "known-mistake", f"{name}: not yet. {m.diagnosis}", mistake=m.id)
        tau, j = max(((t, j) for t in freqs for j in range(len(SAMPLE_ROWS))),
                     key=lambda tj: _tv(freqs[tj[0]][tj[1]], softmax(SAMPLE_ROWS[tj[1]] / tj[0])))
        return result(False, "mismatch", f"{name}: the frequencies of your draws are far from "
                       f"softmax(logits / T) (total-variation distance {ref_distance:.2f}; sampling noise "
                       f"is below {SAMPLE_TOLERANCE}). For row {j} of the logits at T = {tau:g} expected "
                       f"{np.round(softmax(SAMPLE_ROWS[j] / tau), 2)}, got {np.round(freqs[tau][j], 2)}. "
                       "Hint: one draw per row, each from its own row's distribution.")
    # 2. greedy: temperature 0 is the argmax, exactly
    out, logits, given = _draw(fn, SAMPLE_ROWS, 0.0, SAMPLE_SEED)
    expected = np.argmax(logits, axis=1)
    if isinstance(out, _Raised) or not _same_inputs(logits, given) \
            or _as_ids(out, n, V)[1] is not None or not np.array_equal(out, expected):
        extra = f" (It raised {_exception_text(out.exc)}.)" if isinstance(out, _Raised) else ""
        return result(False, "known-mistake", f"{name}: not yet. Your draws are right for T > 0, but "
                       f"{SAMPLE_MISTAKE_NO_GREEDY.diagnosis}{extra}", mistake=SAMPLE_MISTAKE_NO_GREEDY.id)
    return result(True, "passed", f"{name}: correct! Over {SAMPLE_DRAWS} draws per row the frequencies are "
                   f"within {ref_distance:.3f} (total variation) of softmax(logits / T) at T = "
                   f"{' and '.join(f'{t:g}' for t in SAMPLE_TEMPERATURES)}, and T = 0 gives the argmax.")


# ---------------------------------------------------------------------------
# 2. Bits per character
# ---------------------------------------------------------------------------
_BPC = Exercise(
    name="bits_per_char",
    width=WIDTH,
    reference=bits_per_char_reference,
    make_cases=bpc_cases,
    mistakes=BPC_MISTAKES,
    hint="bpc = mean over all N*T positions of -log2 softmax(logits)[target] = (mean loss in nats) / ln 2.",
)


def check_bits_per_char(fn):
    """Check ``fn(logits (N, T, V), targets (N, T)) -> float``."""
    return _BPC.check(fn)


# ---------------------------------------------------------------------------
# 3. Are brackets and quotes closed?
# ---------------------------------------------------------------------------
_WELL_FORMED = Exercise(
    name="is_well_formed",
    width=WIDTH,
    reference=is_well_formed_reference,
    make_cases=well_formed_cases,
    mistakes=WELL_FORMED_MISTAKES,
    hint="one stack: push ( [ { and opening quotes; a closer must match the top; empty at the end.",
)


def check_is_well_formed(fn):
    """Check ``fn(line: str) -> bool`` on lines that tell the common mistakes apart."""
    return _WELL_FORMED.check(fn)


# ---------------------------------------------------------------------------
# 4. Which unit counts?
# ---------------------------------------------------------------------------
_DEPTH_UNIT = Exercise(
    name="find_depth_unit",
    width=WIDTH,
    reference=find_depth_unit_reference,
    make_cases=depth_unit_cases,
    mistakes=DEPTH_UNIT_MISTAKES,
    hint="r_j = mean_t of standardised acts[:, j] times standardised depth; unit = argmax_j |r_j|.",
)


def check_find_depth_unit(fn):
    """Check ``fn(acts (L, H), depth (L,)) -> (unit, r)``."""
    return _DEPTH_UNIT.check(fn)


EXERCISES = {
    "bits_per_char": _BPC,
    "is_well_formed": _WELL_FORMED,
    "find_depth_unit": _DEPTH_UNIT,
}
"""The exercises checked with :class:`~rnnlib.exercises._check.Exercise`; ``sample_with_temperature`` is
checked on frequencies (:func:`check_sample_with_temperature`)."""

__all__ = ["check_sample_with_temperature", "check_bits_per_char", "check_is_well_formed",
           "check_find_depth_unit", "sample_with_temperature_reference", "bits_per_char_reference",
           "find_depth_unit_reference", "SAMPLE_MISTAKES", "SAMPLE_MISTAKE_NO_GREEDY", "BPC_MISTAKES",
           "WELL_FORMED_MISTAKES", "DEPTH_UNIT_MISTAKES", "EXERCISES"]
