r"""The mistake catalogue of Chapter 6, "Reading real code": cases, references and named wrong answers.

For the exercises of :mod:`rnnlib.exercises.ch6`:

* ``indentation(text) -> ndarray (L,)``: the leading spaces of the current
  line read up to each character (:func:`rnnlib.data.code_signals.indentation`);
* ``bpc_from_probs(probs, targets) -> float``: bits per character from the
  model's probabilities ``probs`` (L, V) of the next character and the ids
  ``targets`` (L,) that came;
* ``run_windows(forward, x, T) -> hs``: run a recurrent layer over ``x``
  (N, L, D) in windows of T steps, carrying the state from window to
  window; ``forward(x, state=None) -> (hs, state)`` is the layer's forward.

Each ``*_cases(rng)`` gives the argument tuples, ``*_reference`` the right
answer, ``*_MISTAKES`` the slips, each a wrong implementation with the
diagnosis the check prints when the reader's output matches it.
"""

from __future__ import annotations

import numpy as np

from rnnlib.data.code_signals import indentation as indentation_reference
from rnnlib.layers import GRU, LSTM
from ._check import Mistake

LN2 = np.log(2.0)

# ---------------------------------------------------------------------------
# 1. The indentation signal
# ---------------------------------------------------------------------------
#: Snippets that tell the mistakes apart: spaces inside lines, blank lines, an odd continuation indent.
INDENT_SNIPPETS = (
    "def f(x):\n    return x + 1\n",
    "class A:\n    def g(self, a, b):\n        if a:\n            return (a,\n                    b)\n\n"
    "        return None\n",
    "x = [1, 2,\n     3]\ny = x\n",
    "  \n\tz = 0\n",
)


def indentation_cases(rng):
    """One tuple ``(text,)`` per snippet of :data:`INDENT_SNIPPETS` (``rng`` unused: the cases are fixed)."""
    return [(s,) for s in INDENT_SNIPPETS]


def _per_char(text, value_of_line):
    """Apply ``value_of_line(line, k) -> value`` to character k of each line (newline included)."""
    out = []
    for line in text.splitlines(keepends=True):
        out.extend(value_of_line(line, k) for k in range(len(line)))
    return np.array(out, dtype=np.float64)


def _all_spaces(text):
    return _per_char(text, lambda line, k: float(line[: k + 1].count(" ")) if line[k] != "\n" else 0.0)


def _whole_line(text):
    return _per_char(text, lambda line, k: 0.0 if line[k] == "\n"
                     else float(len(line.rstrip("\n")) - len(line.rstrip("\n").lstrip(" "))))


def _newline_keeps(text):
    ind = indentation_reference(text)
    prev = np.concatenate([[0.0], ind[:-1]])
    return np.where(np.array(list(text)) == "\n", prev, ind)


def _levels(text):
    return np.floor(indentation_reference(text) / 4.0)


INDENT_MISTAKES = [
    Mistake("all-spaces", _all_spaces,
            "You counted every space of the line so far, also those between words (x = 1 has two). "
            "Indentation is only the *leading* spaces: stop counting at the first other character."),
    Mistake("whole-line", _whole_line,
            "Every character of your line gets the line's full indentation, even the first space: you "
            "looked ahead. The signal is what a reader knows *after* character t: it rises 1, 2, 3, 4 "
            "through the leading spaces, then stays."),
    Mistake("newline-not-zero", _newline_keeps,
            "Your newline character keeps the line's indentation. The newline ends the line: after "
            "reading it the indentation of the new line is 0."),
    Mistake("levels", _levels,
            "You returned levels (spaces // 4). The signal counts spaces: a continuation line aligned "
            "with 5 or 20 spaces is not a whole number of levels."),
]

# ---------------------------------------------------------------------------
# 2. Bits per character from probabilities
# ---------------------------------------------------------------------------
def bpc_probs_cases(rng):
    """Tuples ``(probs (L, V), targets (L,))``; rows of ``probs`` sum to 1."""
    cases = []
    for L, V in [(6, 4), (9, 7), (5, 3)]:
        a = 1.5 * rng.standard_normal((L, V))
        p = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
        cases.append((p, rng.integers(0, V, size=L)))
    return cases


def bpc_from_probs_reference(probs, targets):
    """Mean over the L characters of -log2 probs[t, targets[t]]."""
    return float(-np.mean(np.log2(probs[np.arange(len(targets)), targets])))


def _p_true(probs, targets):
    return probs[np.arange(len(targets)), targets]


BPC_PROBS_MISTAKES = [
    Mistake("nats", lambda p, y: float(-np.mean(np.log(_p_true(p, y)))),
            "That is nats (natural log). Bits use log base 2: np.log2, or divide by np.log(2)."),
    Mistake("sum", lambda p, y: float(-np.sum(np.log2(_p_true(p, y)))),
            "You summed over the characters: that is the bits of the whole text. Per character means "
            "the mean."),
    Mistake("log-of-mean", lambda p, y: float(-np.log2(np.mean(_p_true(p, y)))),
            "You took the log of the mean probability. The code length of a text adds -log2 p of each "
            "character, so average the logs: -mean(log2 p), which is larger (Jensen)."),
    Mistake("max-prob", lambda p, y: float(-np.mean(np.log2(p.max(axis=1)))),
            "You scored each row's largest probability, whatever came next. Score the probability of the "
            "character that did come: probs[np.arange(L), targets]."),
    Mistake("whole-row", lambda p, y: float(-np.mean(np.log2(p))),
            "You averaged -log2 p over every entry of probs. Only the target's probability in each row "
            "counts: probs[np.arange(L), targets]."),
]

# ---------------------------------------------------------------------------
# 3. Carrying the state across windows
# ---------------------------------------------------------------------------
def _forward_of(layer):
    def forward(x, state=None):
        """The layer's forward: x (N, T, D) -> (hs (N, T, H), final state)."""
        return layer.forward(x, state)
    forward.layer = layer
    return forward


def window_cases(rng):
    """Tuples ``(forward, x (N, L, D), T)``: an LSTM and a GRU, L not always a multiple of T."""
    lstm = LSTM(3, 5, rng=np.random.default_rng(1), forget_bias=1.0)
    gru = GRU(3, 4, rng=np.random.default_rng(2))
    return [(_forward_of(lstm), rng.standard_normal((2, 11, 3)), 4),
            (_forward_of(gru), rng.standard_normal((3, 9, 3)), 3),
            (_forward_of(lstm), rng.standard_normal((1, 10, 3)), 5)]


def _windows(forward, x, T, next_state):
    hs, state, first = [], None, None
    for k, a in enumerate(range(0, x.shape[1], T)):
        h, final = forward(x[:, a:a + T], state)
        hs.append(h)
        first = final if k == 0 else first
        state = next_state(final, first)
    return np.concatenate(hs, axis=1)


def run_windows_reference(forward, x, T):
    """The windows of T steps run one after the other, each from the previous window's final state."""
    return _windows(forward, x, T, lambda final, first: final)


def _zero_c(final, first):
    return (final[0], np.zeros_like(final[1])) if isinstance(final, tuple) else final


def _swapped(final, first):
    return (final[1], final[0]) if isinstance(final, tuple) else final


def _dropped_tail(forward, x, T):
    L = (x.shape[1] // T) * T
    return run_windows_reference(forward, x[:, :L], T)


WINDOW_MISTAKES = [
    Mistake("reset", lambda f, x, T: _windows(f, x, T, lambda final, first: None),
            "Every window starts from zeros (state=None): at each boundary the model forgets the "
            "indentation, the open string, everything. Pass the previous window's final state."),
    Mistake("c-reset", lambda f, x, T: _windows(f, x, T, _zero_c),
            "For the LSTM you carried h but started c from zeros. The LSTM's state is the pair (h, c), "
            "and c is its memory: carry both, as forward returns them."),
    Mistake("swapped", lambda f, x, T: _windows(f, x, T, _swapped),
            "For the LSTM you passed (c, h): the state is (h, c), in that order."),
    Mistake("first-state", lambda f, x, T: _windows(f, x, T, lambda final, first: first),
            "Every window after the first starts from the state at the end of the *first* window. "
            "Update the carried state after each window."),
    Mistake("dropped-tail", _dropped_tail,
            "Your output misses the last steps: when L is not a multiple of T the last window is "
            "shorter, range(0, L, T) still reaches it; L // T windows do not."),
]


__all__ = ["INDENT_SNIPPETS", "indentation_cases", "indentation_reference", "INDENT_MISTAKES",
           "bpc_probs_cases", "bpc_from_probs_reference", "BPC_PROBS_MISTAKES", "window_cases",
           "run_windows_reference", "WINDOW_MISTAKES", "LN2"]
