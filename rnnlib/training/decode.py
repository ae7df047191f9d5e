r"""Decoding an encoder-decoder (free running): greedy search, beam search, and the accuracies.

At test time no target is there to force: the decoder feeds itself its own
previous symbol. Greedy search takes the most probable symbol at each step;
beam search keeps the ``k`` most probable prefixes, scored by the sum of
their log-probabilities,

.. math:: \mathrm{score}(y_{1..t}) = \sum_{j \le t} \log p(y_j \mid y_{<j}, x),

and a hypothesis ends when it emits ``$``. Scores of hypotheses of different
lengths are compared after dividing by :math:`\ell^{\,\lambda}` (``length_penalty``
:math:`\lambda`; 0 = raw sums, which favour short outputs).

The model must offer ``encode(src, src_mask) -> (enc_hs, state)`` and
``step(tokens, state, enc_hs, src_mask) -> (logp (N, V), state, alpha)``, as
:class:`rnnlib.training.seq2seq.EncoderDecoder` does, and a ``codec``.
"""

from __future__ import annotations

import numbers

import numpy as np


def _index_state(state, idx):
    return tuple(s[idx] for s in state) if isinstance(state, tuple) else state[idx]


def greedy_decode(model, src, src_mask, max_len=None):
    """Greedy free-running decoding of a batch.

    Parameters
    ----------
    model : EncoderDecoder
    src : int ndarray (N, S)
    src_mask : bool ndarray (N, S)
    max_len : int or None
        Steps to run (default the codec's target length, digits + 2).

    Returns
    -------
    ids : int64 (N, max_len)
        The emitted symbols; after a ``$`` the row holds padding.
    alphas : ndarray (N, max_len, S) or None
        Attention weights of every step (None without attention).
    """
    codec = model.codec
    max_len = codec.tgt_len if max_len is None else max_len
    if not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise ValueError(f"max_len must be a positive int; got {max_len!r}")
    enc_hs, state = model.encode(src, src_mask)
    N = len(enc_hs)
    tokens = np.full(N, codec.start_id, dtype=np.int64)
    done = np.zeros(N, dtype=bool)
    ids = np.full((N, max_len), codec.pad_id, dtype=np.int64)
    alphas = []
    for t in range(max_len):
        logp, state, alpha = model.step(tokens, state, enc_hs, src_mask)
        tokens = logp.argmax(axis=1)
        ids[:, t] = np.where(done, codec.pad_id, tokens)
        done |= tokens == codec.end_id
        if alpha is not None:
            alphas.append(alpha)
        if done.all():
            ids = ids[:, : t + 1]
            break
    return ids, (np.stack(alphas, axis=1) if alphas else None)


def beam_search(model, src_row, mask_row, k=3, max_len=None, length_penalty=0.0):
    """Beam search for one source sequence.

    Parameters
    ----------
    model : EncoderDecoder
    src_row : int ndarray (S,)
    mask_row : bool ndarray (S,)
    k : int >= 1
        Beam width (k = 1 is greedy search).
    max_len : int or None
        Longest output, ``$`` included (default digits + 2); a hypothesis still
        open then is ended there.
    length_penalty : float >= 0
        Hypotheses are ranked by ``score / length**length_penalty``.

    Returns
    -------
    best : list of (str, float), the k best (or fewer if fewer exist)
        Answer text and its score (sum of log-probabilities, divided by the
        length penalty), best first.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k (beam width) must be an int >= 1; got {type(k).__name__} {k!r}")
    if k < 1:
        raise ValueError(f"k (beam width) must be at least 1; got {k}")
    if not (isinstance(length_penalty, numbers.Real) and length_penalty >= 0):
        raise ValueError(f"length_penalty must be a number >= 0; got {length_penalty!r}")
    codec = model.codec
    max_len = codec.tgt_len if max_len is None else max_len
    if not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise ValueError(f"max_len must be a positive int; got {max_len!r}")
    src_row, mask_row = np.asarray(src_row), np.asarray(mask_row)
    if src_row.ndim != 1:
        raise ValueError(f"src_row must be one source sequence (S,); got shape {src_row.shape}")
    enc_hs, state = model.encode(src_row[None], mask_row[None])
    beams = [((), 0.0)]  # (symbols so far, sum of log-probabilities)
    finished = []

    def ranked(hyp):
        return hyp[1] / max(len(hyp[0]), 1) ** length_penalty

    for t in range(max_len):
        n = len(beams)
        tokens = np.array([b[0][-1] if b[0] else codec.start_id for b in beams], dtype=np.int64)
        logp, state, _ = model.step(tokens, state, np.repeat(enc_hs[:1], n, 0),
                                    np.repeat(mask_row[None], n, 0))
        cand = np.array([s for _, s in beams])[:, None] + logp  # (n, V): score of every extension
        order = np.argsort(-cand, axis=None, kind="stable")
        new, keep = [], []
        for flat in order:
            b, v = divmod(int(flat), logp.shape[1])
            hyp = (beams[b][0] + (v,), float(cand[b, v]))
            if v == codec.end_id or t == max_len - 1:
                finished.append(hyp)  # ends here: ``$`` or out of steps
            else:
                new.append(hyp)
                keep.append(b)
            if len(new) == k:
                break
        if length_penalty == 0 and len(finished) >= k and new:
            kth = sorted((h[1] for h in finished), reverse=True)[k - 1]
            if kth >= max(h[1] for h in new):
                break  # log-probabilities only fall: no open beam can overtake the k-th finished one
        if not new:
            break
        beams = new
        state = _index_state(state, np.array(keep))
    finished.sort(key=ranked, reverse=True)
    return [(codec.decode_answer(np.array(h[0], dtype=np.int64)), ranked(h)) for h in finished[:k]]


def exact_match(predicted, answers) -> float:
    """Fraction of problems whose whole answer is right."""
    if len(predicted) != len(answers) or not answers:
        raise ValueError(f"predicted and answers must be non-empty and of equal length; got "
                         f"{len(predicted)} and {len(answers)}")
    return float(np.mean([p == a for p, a in zip(predicted, answers)]))


def per_digit_accuracy(predicted, answers) -> float:
    """Fraction of right digits, right-aligned (units with units), over the longer of the two answers.

    A missing or extra digit counts as wrong: ``"596"`` against ``"1596"`` scores 3/4.
    """
    if len(predicted) != len(answers) or not answers:
        raise ValueError(f"predicted and answers must be non-empty and of equal length; got "
                         f"{len(predicted)} and {len(answers)}")
    right = total = 0
    for p, a in zip(predicted, answers):
        n = max(len(p), len(a))
        p, a = p.rjust(n), a.rjust(n)
        right += sum(x == y for x, y in zip(p, a))
        total += n
    return right / total
