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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..activations import log_softmax, softmax
from ..charlm import sample_from_logits
from ..interpret import correlations
from ..toy_language import BRACKETS, CLOSERS, QUOTE
from ..toy_language import is_well_formed as is_well_formed_reference
from ._check import CheckResult, Exercise, Mistake, _call, _exception_text, _Raised, _same_inputs

WIDTH = 78  # printed messages are wrapped to fit the HTML book's output boxes
LN2 = np.log(2.0)


def _result(passed, status, message, mistake=None):
    return CheckResult(passed, status, message, mistake=mistake, width=WIDTH)


# ---------------------------------------------------------------------------
# 1. Sampling with a temperature (checked on frequencies)
# ---------------------------------------------------------------------------
SAMPLE_ROWS = np.array([[0.5, 2.0, -1.0, 1.0, 0.0, -1.5],  # two logit rows, V = 6; argmax not first
                        [-0.5, 0.3, 1.6, -1.2, 0.9, 0.1]])
SAMPLE_TEMPERATURES = (0.5, 2.0)  # neither 1 (where several mistakes agree with the reference)
SAMPLE_DRAWS = 3000  # draws per logit row and temperature
SAMPLE_TOLERANCE = 0.06  # largest total-variation distance accepted (sampling noise is about 0.02)
SAMPLE_SEED = 0


def sample_with_temperature_reference(logits, temperature, rng):
    """One draw per row from softmax(logits / temperature); argmax when temperature == 0."""
    return sample_from_logits(logits, temperature, rng)


def _inverse_cdf(weights, rng):
    """Inverse-CDF draws from unnormalised weights (N, V): the first k with u < cumsum(w)_k."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(weights))[:, None]
    return np.minimum(np.sum(cdf <= u, axis=1), weights.shape[1] - 1)


def _sampler(weights_of):
    def sample(logits, temperature, rng):
        if temperature == 0:
            return np.argmax(logits, axis=1)
        return _inverse_cdf(weights_of(np.asarray(logits, dtype=np.float64), temperature), rng)
    return sample


def _no_greedy(logits, temperature, rng):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities contain NaN")
    return _inverse_cdf(p, rng)


@dataclass(frozen=True)
class _SamplingMistake:
    id: str
    distribution: Callable  # (logits_row (V,), temperature) -> the distribution this mistake samples from
    func: Callable  # a sampler with this mistake (for the tests and the docs)
    diagnosis: str


def _inverse_cdf_distribution(w):
    """Distribution of :func:`_inverse_cdf` for one row of unnormalised weights (V,)."""
    cdf = np.clip(np.cumsum(w), 0.0, 1.0)
    p = np.diff(np.concatenate([[0.0], cdf]))
    p[-1] += 1.0 - cdf[-1]  # mass beyond the last weight is clipped to the last id
    return p


SAMPLE_MISTAKES = [
    _SamplingMistake(
        "probs-divided", lambda a, tau: softmax(a),
        _sampler(lambda a, tau: (softmax(a, axis=1) / tau) / (softmax(a, axis=1) / tau).sum(1, keepdims=True)),
        "Your draws follow softmax(logits), whatever the temperature. Dividing the *probabilities* by T "
        "(and renormalising) cancels T out. Divide the *logits* by T before the softmax: "
        "p = softmax(logits / T), which is p**(1/T) renormalised."),
    _SamplingMistake(
        "times-T", lambda a, tau: softmax(a * tau),
        _sampler(lambda a, tau: softmax(a * tau, axis=1)),
        "Your draws follow softmax(logits * T): you multiplied by the temperature. A low temperature must "
        "sharpen the distribution, so divide: softmax(logits / T)."),
    _SamplingMistake(
        "not-normalised", lambda a, tau: _inverse_cdf_distribution(np.exp(a / tau)),
        _sampler(lambda a, tau: np.exp(a / tau)),
        "Your weights exp(logits / T) were not divided by their sum, so they are not probabilities "
        "(rng.choice refuses them; a cumulative-sum draw favours the first characters). Normalise each "
        "row: p = e / e.sum(axis=1, keepdims=True), i.e. a softmax."),
]
SAMPLE_MISTAKE_NO_GREEDY = Mistake(
    "no-greedy", _no_greedy,
    "Temperature 0 means greedy decoding: return the argmax of each row (np.argmax(logits, axis=1)). "
    "Dividing by 0 gives inf and NaN probabilities. Handle T == 0 first.")


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
            out = np.asarray(out)
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


def check_sample_with_temperature(fn):
    """Check ``fn(logits, temperature, rng) -> ids`` (N,) on the frequencies of seeded draws."""
    name = "sample_with_temperature"
    if not callable(fn):
        return _result(False, "wrong-type", f"{name}: expected a function; got {type(fn).__name__}.")
    n, V = 2 * SAMPLE_DRAWS, SAMPLE_ROWS.shape[1]
    # 1. sampling cases: frequencies per logit row
    freqs, raised = {}, {}
    for k, tau in enumerate(SAMPLE_TEMPERATURES):
        out, logits, given = _draw(fn, SAMPLE_ROWS, tau, SAMPLE_SEED + k)
        if isinstance(out, _Raised):
            if isinstance(out.exc, NotImplementedError):
                return _result(False, "not-attempted",
                               f"{name}: not attempted yet (the function still raises NotImplementedError).")
            raised[tau] = out.exc
            continue
        if not _same_inputs(logits, given):
            return _result(False, "mutated-input", f"{name}: your function changed its input logits in place "
                           "(e.g. with /=). Compute a new array instead: the caller still needs its logits.")
        ids, problem = _as_ids(out, n, V)
        if problem:
            status = "wrong-shape" if "shape" in problem else "wrong-type"
            return _result(False, status, f"{name}: {problem}.")
        again = _call(fn, (logits.copy(), tau, np.random.default_rng(SAMPLE_SEED + k)))
        if isinstance(again, _Raised) or not np.array_equal(np.asarray(again), ids):
            return _result(False, "mismatch", f"{name}: two calls with generators seeded alike gave different "
                           "draws. Draw only from the rng you are given (rng.random, rng.choice), not "
                           "np.random, so a seed reproduces the samples.")
        freqs[tau] = [np.bincount(ids[j::2], minlength=V) / SAMPLE_DRAWS for j in range(len(SAMPLE_ROWS))]
    if raised:
        exc = next(iter(raised.values()))
        text = str(exc).lower()
        if isinstance(exc, ValueError) and ("sum" in text or "probabilit" in text) and not freqs:
            m = SAMPLE_MISTAKES[2]
            return _result(False, "known-mistake", f"{name}: not yet. {m.diagnosis} (It raised "
                           f"{_exception_text(exc).rstrip('.')}.)", mistake=m.id)
        return _result(False, "raised", f"{name}: your function raised {_exception_text(exc)} at temperature "
                       f"{next(iter(raised)):g}. Hint: p = softmax(logits / T) per row, then one draw per row.")

    def distance(dist):  # worst total-variation distance over cases and rows
        return max(_tv(f, dist(row, tau)) for tau, fs in freqs.items() for f, row in zip(fs, SAMPLE_ROWS))

    ref_distance = distance(lambda a, tau: softmax(a / tau))
    if ref_distance > SAMPLE_TOLERANCE:
        for m in SAMPLE_MISTAKES:
            if distance(m.distribution) <= SAMPLE_TOLERANCE:
                return _result(False, "known-mistake", f"{name}: not yet. {m.diagnosis}", mistake=m.id)
        tau, j = max(((t, j) for t in freqs for j in range(len(SAMPLE_ROWS))),
                     key=lambda tj: _tv(freqs[tj[0]][tj[1]], softmax(SAMPLE_ROWS[tj[1]] / tj[0])))
        return _result(False, "mismatch", f"{name}: the frequencies of your draws are far from "
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
        return _result(False, "known-mistake", f"{name}: not yet. Your draws are right for T > 0, but "
                       f"{SAMPLE_MISTAKE_NO_GREEDY.diagnosis}{extra}", mistake=SAMPLE_MISTAKE_NO_GREEDY.id)
    return _result(True, "passed", f"{name}: correct! Over {SAMPLE_DRAWS} draws per row the frequencies are "
                   f"within {ref_distance:.3f} (total variation) of softmax(logits / T) at T = "
                   f"{' and '.join(f'{t:g}' for t in SAMPLE_TEMPERATURES)}, and T = 0 gives the argmax.")


# ---------------------------------------------------------------------------
# 2. Bits per character
# ---------------------------------------------------------------------------
def bpc_cases(rng):
    """Tuples ``(logits (N, T, V), targets (N, T))``, N != T so per-sequence and per-character differ."""
    cases = []
    for N, T, V in [(2, 5, 4), (3, 7, 6), (1, 4, 3)]:
        logits = 2.0 * rng.standard_normal((N, T, V))
        cases.append((logits, rng.integers(0, V, size=(N, T))))
    return cases


def _log_p_true(logits, targets, log=np.log):
    p = softmax(logits, axis=-1)
    return log(np.take_along_axis(p, targets[..., None], axis=-1)[..., 0])  # (N, T)


def bits_per_char_reference(logits, targets):
    """Mean over all N*T characters of -log2 softmax(logits)[target]."""
    logp = log_softmax(logits, axis=-1)
    return float(-np.mean(np.take_along_axis(logp, targets[..., None], axis=-1)) / LN2)


BPC_MISTAKES = [
    Mistake("nats", lambda a, y: float(-np.mean(_log_p_true(a, y)))
            , "That is the loss in nats (natural log). Bits need log base 2: divide the mean "
              "-ln p by ln 2 (np.log(2)), or use np.log2."),
    Mistake("log10", lambda a, y: float(-np.mean(_log_p_true(a, y, np.log10))),
            "You used log10: that measures in decimal digits (bans), not bits. Use np.log2, or divide "
            "the natural-log loss by ln 2."),
    Mistake("times-ln2", lambda a, y: float(-np.mean(_log_p_true(a, y)) * LN2),
            "You multiplied the loss in nats by ln 2. Since log2 p = ln p / ln 2, divide by ln 2 instead."),
    Mistake("per-sequence", lambda a, y: float(-np.mean(np.sum(_log_p_true(a, y, np.log2), axis=1))),
            "You summed over the T characters of each sequence and averaged over sequences: that is bits "
            "per *sequence*. Average over every character (all N * T of them)."),
    Mistake("total", lambda a, y: float(-np.sum(_log_p_true(a, y, np.log2))),
            "You returned the total number of bits of the whole batch. Bits per character is the mean "
            "over the N * T characters."),
    Mistake("no-softmax", lambda a, y: float(-np.mean(np.take_along_axis(a, y[..., None], axis=-1)) / LN2),
            "You used the logits as if they were log-probabilities. Apply log_softmax first: "
            "log p = a - log(sum(exp(a))) over the last axis."),
    Mistake("sign", lambda a, y: float(np.mean(_log_p_true(a, y, np.log2))),
            "Your result is negative: log2 p <= 0, so bits per character is the mean of -log2 p."),
]

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
WELL_FORMED_LINES = [
    'the cat sat', '(a [big] {red})', '"a dog" (ran "to it")', '{[("on" mat)]}', '',
    'the (cat] sat', 'a ) b ( c', '([a)]', '"a b', '("a) b"', '(a [b', '(a))(', 'cat ]', 'dog "sat" ("red"',
    '[[a] (b)] "c d" {e}', '{a "b" [c]} "d"',
]


def well_formed_cases(rng):
    """One-argument tuples ``(line,)``: hand-picked lines that tell the mistakes apart."""
    return [(line,) for line in WELL_FORMED_LINES]


_MATCH = {close: open_ for open_, close in BRACKETS.items()}


def _stack_check(line, *, typed=True, quotes=True, final=True):
    stack = []
    for ch in line:
        if ch in BRACKETS:
            stack.append(ch)
        elif ch in CLOSERS:
            if not stack or stack[-1] == QUOTE or (typed and stack[-1] != _MATCH[ch]):
                return False
            stack.pop()
        elif ch == QUOTE and quotes:
            if stack and stack[-1] == QUOTE:
                stack.pop()
            else:
                stack.append(QUOTE)
    return not stack if final else True


def _count_only(line):
    return sum(line.count(c) for c in BRACKETS) == sum(line.count(c) for c in CLOSERS) \
        and line.count(QUOTE) % 2 == 0


def _count_per_type(line):
    return all(line.count(o) == line.count(c) for o, c in BRACKETS.items()) and line.count(QUOTE) % 2 == 0


WELL_FORMED_MISTAKES = [
    Mistake("count-only", _count_only,
            "You only compare how many brackets open and close. ')(' and '(]' have equal counts but are "
            "not well formed: walk the line with a stack, push each opening bracket, and let a closing "
            "bracket pop only the matching one on top."),
    Mistake("count-per-type", _count_per_type,
            "You count each bracket type separately, which ignores the order: ') b (' and '([)]' pass. "
            "Use a stack: a closing bracket must match the most recent unclosed opening bracket."),
    Mistake("ignores-type", lambda line: _stack_check(line, typed=False),
            "Your stack lets any closing bracket close any opening one, so '(a]' passes. Check that the "
            "closing bracket matches the type on top of the stack: ( with ), [ with ], { with }."),
    Mistake("ignores-quotes", lambda line: _stack_check(line, quotes=False),
            "Your brackets are right but quotes are ignored: '\"a b' passes. A quote opens a quoted span "
            "unless one is open on top of the stack, in which case it closes it."),
    Mistake("quotes-separately", lambda line: _stack_check(line, quotes=False) and line.count(QUOTE) % 2 == 0,
            "You check brackets and quotes separately, so '(\"a) b\"' passes: the quote opened inside "
            "the brackets closes after them. Push quotes on the same stack as the brackets."),
    Mistake("unclosed-ok", lambda line: _stack_check(line, final=False),
            "You never check what is left at the end: '(a [b' passes. The line is well formed only if "
            "the stack is empty after its last character."),
]

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
def depth_unit_cases(rng):
    """Tuples ``(acts (L, H), depth (L,))`` with L > H, built so that each mistake picks another answer.

    Unit ``best`` follows ``-depth`` closely (the strongest correlation is negative), unit ``pos`` follows
    ``+depth`` less closely, unit ``loud`` has a large variance and a weak correlation, unit ``offset`` sits
    far from zero, the rest is noise.
    """
    cases = []
    for L, H, best, pos, loud, offset in [(120, 8, 5, 2, 6, 1), (90, 10, 1, 7, 3, 9), (150, 6, 4, 0, 2, 3)]:
        steps = rng.choice([-1, 0, 0, 1], size=L)
        depth = np.clip(np.cumsum(steps), 0, 3).astype(np.float64)  # (L,)
        acts = 0.3 * rng.standard_normal((L, H))  # (L, H)
        acts[:, best] = -0.5 * depth + 0.1 * rng.standard_normal(L)
        acts[:, pos] = 0.3 * depth + 0.4 * rng.standard_normal(L)
        acts[:, loud] = 0.4 * depth + 4.0 * rng.standard_normal(L)
        acts[:, offset] = 5.0 + 0.2 * depth + 0.1 * rng.standard_normal(L)
        cases.append((acts, depth))
    return cases


def find_depth_unit_reference(acts, depth):
    """(unit, r): the unit with the largest |Pearson r| with ``depth`` over time, and its signed r."""
    r = correlations(acts, depth)  # (H,)
    unit = int(np.argmax(np.abs(r)))
    return unit, float(r[unit])


def _standardise(a, axis=0):
    return (a - a.mean(axis=axis, keepdims=True)) / a.std(axis=axis, keepdims=True)


def _signed(acts, depth):
    r = correlations(acts, depth)
    return int(np.argmax(r)), float(np.max(r))


def _abs_r(acts, depth):
    unit, r = find_depth_unit_reference(acts, depth)
    return unit, abs(r)


def _time_axis(acts, depth):
    p = (_standardise(acts) * _standardise(depth)[:, None]).mean(axis=1)  # (L,): averaged over units
    t = int(np.argmax(np.abs(p)))
    return t, float(p[t])


def _covariance(acts, depth):
    cov = (acts - acts.mean(0)).T @ (depth - depth.mean()) / len(depth)  # (H,)
    unit = int(np.argmax(np.abs(cov)))
    return unit, float(cov[unit])


def _uncentred(acts, depth):
    cos = acts.T @ depth / np.sqrt(np.sum(acts**2, axis=0) * np.sum(depth**2))  # (H,)
    unit = int(np.argmax(np.abs(cos)))
    return unit, float(cos[unit])


DEPTH_UNIT_MISTAKES = [
    Mistake("signed", _signed,
            "You took the largest *signed* correlation. A unit that goes down as the depth goes up "
            "(r close to -1) counts just as well: take the argmax of |r|, and return r with its sign."),
    Mistake("abs-r", _abs_r,
            "Right unit, but return its correlation with its sign: r, not |r| (the sign says whether the "
            "unit goes up or down with the depth)."),
    Mistake("time-axis", _time_axis,
            "Your answer is a time step, not a unit: you averaged over the units (axis 1) and took the "
            "argmax over time. Correlate over time (axis 0): one r per unit, shape (H,), then the argmax "
            "over units."),
    Mistake("covariance", _covariance,
            "You used the covariance, which favours units with a large spread. Divide by both standard "
            "deviations (Pearson r) so that every unit is on the same scale, -1 to 1."),
    Mistake("uncentred", _uncentred,
            "You did not subtract the means, so a unit that sits far from zero looks correlated with "
            "anything positive. Centre both the activations and the depth before the products."),
]

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
