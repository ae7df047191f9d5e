r"""The mistake catalogue of Chapter 5, "A cell that counts": cases, references and named wrong answers.

For the exercises of :mod:`rnnlib.exercises.ch5` this module holds what the checks
compare the reader's answer with:

* the seeded cases, ``*_cases(rng) -> list of argument tuples`` (for
  :func:`~rnnlib.exercises.ch5.check_is_well_formed`, hand-picked lines,
  :data:`WELL_FORMED_LINES`);
* the reference, ``*_reference``: the right answer (the well-formedness reference is
  :func:`rnnlib.data.toy_language.is_well_formed` itself);
* the catalogue, ``*_MISTAKES``: the slips readers make, each a wrong implementation
  with the diagnosis the check prints when the reader's output matches it. Sampling
  mistakes also carry the *distribution* they draw from (``_SamplingMistake``),
  because the sampling check compares frequencies, not draws.

The catalogues are most of a chapter's checking code and grow for their own reason
(a new slip seen in a reader's answer), so they live apart from the checks;
:mod:`rnnlib.exercises.ch5` imports and re-exports every public name
(``ch5.SAMPLE_MISTAKES``, ``ch5.bits_per_char_reference`` ...).

Shapes as in :mod:`rnnlib.exercises.ch5`: ``logits`` (N, V) for sampling and
(N, T, V) for bits per character, ``targets`` (N, T), ``acts`` (L, H), ``depth`` (L,).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from rnnlib.activations import log_softmax, softmax
from rnnlib.training.charlm import sample_from_logits
from rnnlib.figures.interpret import correlations
from rnnlib.data.toy_language import BRACKETS, CLOSERS, QUOTE
from ._check import Mistake

LN2 = np.log(2.0)

# ---------------------------------------------------------------------------
# 1. Sampling with a temperature (checked on frequencies)
# ---------------------------------------------------------------------------
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


@lru_cache(maxsize=64)
def _gaussian_max_distribution(row, tau, n=400_000):
    """Distribution of argmax(row / tau + N(0, 1) noise), by Monte Carlo (seeded; error about 0.001)."""
    z = np.asarray(row) / tau + np.random.default_rng(12345).standard_normal((n, len(row)))
    return np.bincount(np.argmax(z, axis=1), minlength=len(row)) / n


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
    _SamplingMistake(
        "gaussian-noise", lambda a, tau: _gaussian_max_distribution(tuple(a), tau),
        lambda logits, tau, rng: (np.argmax(logits, axis=1) if tau == 0 else
                                  np.argmax(logits / tau + rng.standard_normal(np.shape(logits)), axis=1)),
        "You added Gaussian noise to logits / T and took the argmax. That trick (the Gumbel-max trick) "
        "samples from the softmax only with Gumbel noise, -log(-log(u)) for u ~ U(0, 1): with normal noise "
        "the frequencies are off. Use g = -np.log(-np.log(rng.random(shape))), or rng.choice with "
        "p = softmax(logits / T)."),
]
SAMPLE_MISTAKE_NO_GREEDY = Mistake(
    "no-greedy", _no_greedy,
    "Temperature 0 means greedy decoding: return the argmax of each row (np.argmax(logits, axis=1)). "
    "Dividing by 0 gives inf and NaN probabilities. Handle T == 0 first.")


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


# ---------------------------------------------------------------------------
# 3. Are brackets and quotes closed?
# ---------------------------------------------------------------------------
WELL_FORMED_LINES = [
    'the cat sat', '(a [big] {red})', '"a dog" (ran "to it")', '{[("on" mat)]}', '',
    'the (cat] sat', 'a ) b ( c', '([a)]', '"a b', '("a) b"', '(a [b', '(a))(', 'cat ]', 'dog "sat" ("red"',
    '[[a] (b)] "c d" {e}', '{a "b" [c]} "d"',
]


WELL_FORMED_ALPHABET = list('()[]{}"') + ["a", " "]
WELL_FORMED_SEPARATING = 3  # generated lines kept per (reference, mistake) pair they tell apart


def _random_line(rng):
    """A short random line over brackets, quotes, a letter and a space (quotes and brackets favoured)."""
    p = np.array([2, 2, 1, 1, 1, 1, 3, 1, 1], dtype=float)
    return "".join(rng.choice(WELL_FORMED_ALPHABET, size=int(rng.integers(2, 9)), p=p / p.sum()))


def well_formed_cases(rng):
    """One-argument tuples ``(line,)``: the hand-picked :data:`WELL_FORMED_LINES`, then generated lines.

    From 3000 random lines (seeded), for each catalogued mistake the first
    :data:`WELL_FORMED_SEPARATING` lines on which it and the reference disagree, and 10
    more: so every plausible semantics in the catalogue (brackets inside quotes
    ignored, a quote closing the nearest open quote, ...) is told apart on generated
    lines too, not only on the hand-picked ones.
    """
    from rnnlib.data.toy_language import is_well_formed
    lines = list(WELL_FORMED_LINES)
    pool = [_random_line(rng) for _ in range(3000)]
    for m in WELL_FORMED_MISTAKES:
        separating = [ln for ln in pool if m.func(ln) != is_well_formed(ln) and ln not in lines]
        lines += separating[:WELL_FORMED_SEPARATING]
    lines += [ln for ln in pool[:10] if ln not in lines]
    return [(line,) for line in lines]


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


def _quotes_hide_brackets(line):
    """Brackets inside an open quote are text (ignored); a quote closes the open quote."""
    stack, quoted = [], False
    for ch in line:
        if ch == QUOTE:
            quoted = not quoted
        elif quoted:
            continue
        elif ch in BRACKETS:
            stack.append(ch)
        elif ch in CLOSERS:
            if not stack or stack.pop() != _MATCH[ch]:
                return False
    return not stack and not quoted


def _quote_closes_nearest(line):
    """A quote closes the nearest open quote anywhere on the stack, not only on top."""
    stack = []
    for ch in line:
        if ch in BRACKETS:
            stack.append(ch)
        elif ch in CLOSERS:
            if not stack or stack.pop() != _MATCH[ch]:
                return False
        elif ch == QUOTE:
            if QUOTE in stack:
                del stack[len(stack) - 1 - stack[::-1].index(QUOTE)]
            else:
                stack.append(QUOTE)
    return not stack


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
    Mistake("quotes-hide-brackets", _quotes_hide_brackets,
            "You treat everything inside quotes as text, so '\"(\"' passes. In this language a quote is one more bracket: brackets inside "
            "quotes count, and the quote must close before the brackets opened after it (one stack)."),
    Mistake("quote-closes-nearest", _quote_closes_nearest,
            "Your quote closes the nearest open quote even when a bracket opened after it is still open, "
            "so '\"(\")' passes. A quote closes only the quote on *top* of the stack; otherwise it opens "
            "a new quote."),
    Mistake("unclosed-ok", lambda line: _stack_check(line, final=False),
            "You never check what is left at the end: '(a [b' passes. The line is well formed only if "
            "the stack is empty after its last character."),
]


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
