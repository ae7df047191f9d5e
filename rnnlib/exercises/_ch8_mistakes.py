r"""References, seeded cases and catalogues of named mistakes for the exercises of Chapter 8.

Three exercises, each with the wrong versions a reader is likely to write:

* ``teacher_forcing_pair(answer_ids, start_id, end_id) -> (dec_in, dec_out)``:
  the decoder's input is the target shifted right by one (``^596``), its
  output the target followed by the end symbol (``596$``);
* ``beam_step(scores, probs, k) -> (new_scores, beam, token)``: one step of
  beam search, scores as sums of log-probabilities;
* ``attention_weights(scores, mask) -> alpha``: the softmax of attention
  scores (N, Tq, Tk) over the source axis, padding masked.

:mod:`rnnlib.exercises.ch8` builds the checks from these and re-exports them.
"""

from __future__ import annotations

import numpy as np

from ._check import Mistake


# ---------------------------------------------------------------------------
# 1. Teacher forcing: the shifted target
# ---------------------------------------------------------------------------
def teacher_forcing_cases(rng):
    """Tuples ``(answer_ids (L,), start_id, end_id)``."""
    cases = [(np.array([5, 9, 6]), 12, 13), (np.array([8]), 12, 13)]
    for L in (2, 4):
        cases.append((rng.integers(0, 10, size=L), 12, 13))
    return cases


def teacher_forcing_reference(answer_ids, start_id, end_id):
    """``(^ + answer, answer + $)``: int arrays (L + 1,)."""
    answer_ids = np.asarray(answer_ids)
    return (np.concatenate([[start_id], answer_ids]), np.concatenate([answer_ids, [end_id]]))


def _cat(*parts):
    return np.concatenate([np.atleast_1d(np.asarray(p)) for p in parts])


TEACHER_FORCING_MISTAKES = [
    Mistake("unshifted", lambda a, s, e: (_cat(a, e), _cat(a, e)),
            "You fed the decoder the very sequence it must predict (input = target = 596$): at step t it "
            "sees y_t and learns to copy its input, a loss near 0 in training and nonsense at test time, "
            "when y_t is not there. Shift: input ^596, target 596$."),
    Mistake("unshifted-start", lambda a, s, e: (_cat(s, a), _cat(s, a)),
            "Input and target are the same sequence (^596 twice): the decoder learns to copy its input. "
            "The target is the input shifted left by one, ending with the end symbol: 596$."),
    Mistake("swapped", lambda a, s, e: (_cat(a, e), _cat(s, a)),
            "Input and target are swapped: the decoder should read ^596 and predict 596$."),
    Mistake("no-end", lambda a, s, e: (_cat(s, a[:-1]), _cat(a)),
            "No end symbol: the target must end with $ (and the input start with ^ followed by the whole "
            "answer), or the decoder never learns where to stop."),
]


# ---------------------------------------------------------------------------
# 2. One step of beam search
# ---------------------------------------------------------------------------
def beam_cases(rng):
    """Tuples ``(scores (n,), probs (n, V), k)``; scores are sums of log-probabilities."""
    cases = []
    for n, V, k in ((1, 5, 3), (3, 6, 3), (2, 4, 2), (4, 7, 1)):
        probs = rng.dirichlet(np.ones(V), size=n)
        scores = -rng.uniform(0.1, 3.0, size=n)
        cases.append((scores, probs, k))
    return cases


def _top(cand, k, ascending=False):
    flat = cand.ravel()
    order = np.argsort(flat if ascending else -flat, kind="stable")[:k]
    beam, token = np.divmod(order, cand.shape[1])
    return flat[order], beam, token


def beam_step_reference(scores, probs, k):
    r"""The k best extensions: ``score + log p``, best first, with their beam and token indices."""
    return _top(np.asarray(scores)[:, None] + np.log(probs), k)


BEAM_MISTAKES = [
    Mistake("no-log", lambda s, p, k: _top(s[:, None] + p, k),
            "You added probabilities to the scores. A beam score is a log-probability: the probability of "
            "a sequence is a product, so its log is the sum of the log p of its steps: score + log(p)."),
    Mistake("product-with-log", lambda s, p, k: _top(s[:, None] * p, k),
            "You multiplied the (log) score by a probability. Either multiply probabilities or add "
            "log-probabilities: score + log(p)."),
    Mistake("forget-history", lambda s, p, k: _top(np.log(p), k),
            "The new scores ignore the scores of the prefixes: each extension's score is the prefix's "
            "score plus log p of the new symbol."),
    Mistake("ascending", lambda s, p, k: _top(s[:, None] + np.log(p), k, ascending=True),
            "You kept the k *lowest* scores: log-probabilities are negative and the best is the largest "
            "(closest to 0); sort in decreasing order."),
]


# ---------------------------------------------------------------------------
# 3. Attention weights: softmax over the source axis, padding masked
# ---------------------------------------------------------------------------
def attention_cases(rng):
    """Tuples ``(scores (N, Tq, Tk), mask (N, Tk) bool)``; Tq != Tk so the axes differ."""
    cases = []
    for N, Tq, Tk in ((2, 3, 5), (1, 4, 6), (3, 2, 4)):
        scores = rng.standard_normal((N, Tq, Tk))
        lengths = rng.integers(2, Tk, size=N)
        mask = np.arange(Tk)[None, :] < lengths[:, None]
        cases.append((scores, mask))
    return cases


def _softmax(e, axis):
    with np.errstate(invalid="ignore"):  # a softmax over all -inf (wrong axis) gives NaN, as the reader's would
        e = e - np.max(e, axis=axis, keepdims=True)
        w = np.exp(e)
        return w / w.sum(axis=axis, keepdims=True)


def nan_as_minus_one(fn):
    """``fn`` with NaN entries of an array output replaced by -1 (so NaN outputs can be compared)."""
    def wrapped(*args):
        out = fn(*args)
        if isinstance(out, np.ndarray) and out.dtype.kind == "f":
            out = np.where(np.isnan(out), -1.0, out)
        return out
    return wrapped


def attention_weights_reference(scores, mask):
    r"""``softmax`` over the last axis (source positions) of the scores, -inf where ``mask`` is False."""
    return _softmax(np.where(mask[:, None, :], scores, -np.inf), axis=-1)


ATTENTION_MISTAKES = [
    Mistake("wrong-axis", nan_as_minus_one(lambda e, m: _softmax(np.where(m[:, None, :], e, -np.inf), axis=1)),
            "Your weights sum to 1 over the *output* steps (axis 1). Each output step t distributes one "
            "unit of attention over the source positions s: softmax over the last axis. (With the padded "
            "scores at -inf, a padded column is all -inf and its softmax over axis 1 is NaN.)"),
    Mistake("no-mask", lambda e, m: _softmax(e, axis=-1),
            "Padding is not masked: the padded source positions get weight and their (meaningless) "
            "encoder outputs leak into the context. Set their scores to -inf before the softmax."),
    Mistake("wrong-axis-no-mask", lambda e, m: _softmax(e, axis=1),
            "Softmax over the output steps (axis 1) and no mask: normalise over the source positions "
            "(last axis) and set the padded positions' scores to -inf first."),
    Mistake("mask-after-softmax", lambda e, m: _softmax(e, axis=-1) * m[:, None, :],
            "You zeroed the padded positions after the softmax: the remaining weights no longer sum to 1. "
            "Mask the scores (set them to -inf) before the softmax, or renormalise."),
    Mistake("wrong-axis-big-negative",
            lambda e, m: _softmax(np.where(m[:, None, :], e, -1e9), axis=1),
            "Your weights sum to 1 over the *output* steps (axis 1): normalise over the source "
            "positions (last axis), so that each output step's weights sum to 1."),
    Mistake("mask-with-zero", lambda e, m: _softmax(np.where(m[:, None, :], e, 0.0), axis=-1),
            "You set the padded scores to 0, which still gives them weight exp(0). A masked score must be "
            "-inf (weight exactly 0)."),
]
