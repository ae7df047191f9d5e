r"""Padded batches of token ids for chapter 7: a task where the future matters, and text windows.

* :func:`last_symbol_task` - sequences of random symbols with random lengths;
  every position is tagged with the symbol at the sequence's *own last step*.
  A left-to-right layer cannot know it before reading it, nor whether the
  sequence ends here: :func:`causal_baseline` is the loss of the best such
  model, computed exactly.
* :func:`pad` - pad a list of id sequences into (N, T) plus ``lengths``.
* :func:`text_windows` - a ``batch_fn(N, rng)`` of next-token windows of a
  long id sequence (all of length T, so no padding): inputs, targets.

Id 0 is the padding symbol in :func:`last_symbol_task` and :func:`pad`.
Every generator takes an explicit ``rng``. Only NumPy is imported here.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_rng, check_size

PAD = 0


def last_symbol_task(N, T, rng, n_symbols=8, min_len=2):
    r"""Tag every position with the sequence's last symbol.

    Parameters
    ----------
    N, T : int
        Batch size and padded length.
    rng : np.random.Generator
    n_symbols : int
        K: symbols are ids 1..K (0 is padding), uniform and independent.
    min_len : int
        Lengths are uniform in [min_len, T].

    Returns
    -------
    ids : int ndarray (N, T)
        Symbols, then 0 after each length.
    lengths : int ndarray (N,)
    y : int ndarray (N, T)
        Class 0..K-1 of the last symbol, ``ids[n, lengths[n] - 1] - 1``, at
        every real position (0 at padding; ignore it with ``lengths``).
    """
    N, T, K = check_size("N", N), check_size("T", T), check_size("n_symbols", n_symbols)
    rng = check_rng(rng)
    if not 1 <= min_len <= T:
        raise ValueError(f"min_len must be in [1, T] = [1, {T}]; got {min_len}")
    lengths = rng.integers(min_len, T + 1, N)
    ids = rng.integers(1, K + 1, (N, T))
    ids[np.arange(T)[None, :] >= lengths[:, None]] = PAD
    last = ids[np.arange(N), lengths - 1] - 1  # (N,)
    y = np.where(np.arange(T)[None, :] < lengths[:, None], last[:, None], 0)
    return ids, lengths, y


def causal_baseline(T, n_symbols=8, min_len=2) -> float:
    r"""Expected cross-entropy (nats per real token) of the best left-to-right model on :func:`last_symbol_task`.

    At position t (0-based) a causal model has read :math:`x_0 .. x_t` but not
    whether the sequence goes on. It ends here with the hazard
    :math:`h_t = P(\ell = t + 1 \mid \ell > t)` (:math:`1/(T - t)` once
    :math:`t + 1 \ge` ``min_len``, else 0), and then the tag is :math:`x_t`;
    otherwise the tag is a future symbol, uniform over K. The best prediction
    is therefore :math:`p(x_t) = h_t + (1 - h_t)/K`, :math:`p(\text{other}) = (1 - h_t)/K`,
    and its expected loss, averaged over real tokens, is

    .. math::

        \frac{\sum_t P(\ell > t)\,\big[(h_t + (1 - h_t)/K)\,a_t + (1 - h_t)(K - 1)/K\, b_t\big]}
             {\sum_t P(\ell > t)},
        \quad a_t = -\ln p(x_t),\ b_t = -\ln \frac{1 - h_t}{K}.

    It lies between 0 (what reading the future allows) and :math:`\ln K`.
    """
    T, K = check_size("T", T), check_size("n_symbols", n_symbols)
    if not 1 <= min_len <= T:
        raise ValueError(f"min_len must be in [1, T] = [1, {T}]; got {min_len}")
    n_len = T - min_len + 1  # lengths uniform on [min_len, T]
    num = den = 0.0
    for t in range(T):
        alive = min(n_len, T - t) / n_len  # P(l > t) = P(l >= t + 1)
        h = 1.0 / (T - t) if t + 1 >= min_len else 0.0
        p_same = h + (1 - h) / K
        a = -np.log(p_same)
        b = -np.log((1 - h) / K) if h < 1 else 0.0
        num += alive * (p_same * a + (1 - h) * (K - 1) / K * b)
        den += alive
    return float(num / den)


def pad(seqs, T=None):
    """Pad id sequences (lists or 1-D int arrays) with 0 into (N, T); returns ``ids, lengths``."""
    if not seqs:
        raise ValueError("seqs must hold at least one sequence")
    lengths = np.array([len(s) for s in seqs])
    if lengths.min() < 1:
        raise ValueError("every sequence must hold at least one id")
    T = int(lengths.max()) if T is None else check_size("T", T)
    if lengths.max() > T:
        raise ValueError(f"T={T} is shorter than the longest sequence ({lengths.max()})")
    ids = np.full((len(seqs), T), PAD, dtype=np.int64)
    for n, s in enumerate(seqs):
        ids[n, : len(s)] = s
    return ids, lengths


def text_windows(ids, T):
    """A ``batch_fn(N, rng) -> (x_ids (N, T), y (N, T))``: windows of ``ids`` and the next ids."""
    ids = np.asarray(ids)
    T = check_size("T", T)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or ids.size < T + 1:
        raise ValueError(f"ids must be a 1-D int array of at least T + 1 = {T + 1} ids; "
                         f"got {ids.dtype} {ids.shape}")
    offsets = np.arange(T + 1)

    def batch_fn(N, rng):
        s = rng.integers(0, ids.size - T, N)  # (N,) start positions
        w = ids[s[:, None] + offsets]  # (N, T + 1)
        return w[:, :-1], w[:, 1:]

    return batch_fn
