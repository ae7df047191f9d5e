r"""Character-level language modelling: batches, sampling, bits per character, baselines.

A character language model reads a text one character at a time and, at every
step, outputs a distribution over the next character. With a
:class:`~rnnlib.training.model.SequenceModel` in ``"many_to_many"`` mode the input at
step t is the one-hot vector of character :math:`c_t` and the target is the
id of :math:`c_{t+1}`; the loss is the softmax cross-entropy in nats.

* **Data** - :func:`one_hot`; :func:`window_task`, a ``task_fn(N, rng)`` for
  :func:`rnnlib.training.loop.train` that cuts windows of T characters out of a
  corpus, each starting at a newline.
* **Sampling** - :func:`sample_from_logits` (temperature, greedy at 0) and
  :func:`sample_text`, which runs the recurrent layer one character at a
  time and carries its state.
* **Scoring** - :func:`bits_per_char` (nats -> bits), :func:`log_likelihoods`
  and :func:`model_bpc` on held-out text.
* **Baselines** - :class:`NGramModel`: add-k smoothed counts of n-character
  strings; n = 1 is the unigram model, which ignores history altogether.

Whether generated lines close their brackets is checked by
:func:`rnnlib.data.toy_language.is_well_formed` and
:func:`~rnnlib.data.toy_language.well_formed_fraction`.

Only NumPy and the rnnlib core are imported here.
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnlib._checks import check_size
from rnnlib.activations import log_softmax
from rnnlib._checks import check_rng
from rnnlib.training.model import SequenceModel
from rnnlib.data.toy_language import NEWLINE, CharCodec

LN2 = float(np.log(2.0))


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def one_hot(ids, V, dtype=np.float64) -> np.ndarray:
    """Integer ids (...) -> one-hot vectors (..., V)."""
    ids = np.asarray(ids)
    V = check_size("V", V)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers; got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids must lie in [0, {V}); got values in [{ids.min()}, {ids.max()}]")
    return np.eye(V, dtype=dtype)[ids]


def _check_ids(name, ids, V=None, min_len=1):
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or ids.size < min_len:
        raise ValueError(f"{name} must be a 1-D integer array of at least {min_len} ids; "
                         f"got {ids.dtype} of shape {ids.shape}")
    if V is not None and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must lie in [0, {V}); got values in [{ids.min()}, {ids.max()}]")
    return ids


def window_task(ids, V, T, *, start_id=None, dtype=np.float64):
    r"""A ``task_fn(N, rng) -> (x, y)`` of next-character windows, for :func:`rnnlib.training.loop.train`.

    Parameters
    ----------
    ids : int ndarray (L,)
        The encoded training text.
    V : int
        Vocabulary size.
    T : int
        Window length (the number of predictions per window).
    start_id : int, optional
        Windows start only where ``ids`` holds this id (e.g. the newline's), so
        the model always begins reading at the start of a line, from a zero
        state. ``None``: any position.
    dtype : np.float32 or np.float64
        Of ``x``.

    Returns
    -------
    task_fn : callable
        ``task_fn(N, rng)`` draws N start positions s (with replacement, one
        ``rng.choice`` call) and returns ``x`` (N, T, V), the one-hot
        characters ``ids[s : s + T]``, and ``y`` (N, T), the ids
        ``ids[s + 1 : s + T + 1]``: target t is the character after input t.
    """
    ids = _check_ids("ids", ids, V, min_len=2)
    T = check_size("T", T)
    if ids.size < T + 1:
        raise ValueError(f"ids must hold at least T + 1 = {T + 1} characters; got {ids.size}")
    starts = np.arange(ids.size - T)
    if start_id is not None:
        starts = starts[ids[: ids.size - T] == start_id]
        if starts.size == 0:
            raise ValueError(f"start_id={start_id} never occurs early enough to start a window of {T}")
    eye = np.eye(V, dtype=dtype)
    offsets = np.arange(T + 1)

    def task_fn(N, rng):
        s = rng.choice(starts, size=N)  # (N,)
        w = ids[s[:, None] + offsets]  # (N, T + 1)
        return eye[w[:, :-1]], w[:, 1:]  # (N, T, V), (N, T)

    return task_fn


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------
def _check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not 0.0 <= temperature < np.inf:
        raise ValueError(f"temperature must be a finite number >= 0; got {temperature!r}")
    return float(temperature)


def temperature_probs(logits, temperature) -> np.ndarray:
    r"""The distribution :math:`p = \operatorname{softmax}(a / \tau)` over the last axis.

    Parameters
    ----------
    logits : ndarray (..., V)
    temperature : float > 0

    Returns
    -------
    p : ndarray (..., V), rows summing to 1
    """
    temperature = _check_temperature(temperature)
    if temperature == 0.0:
        raise ValueError("temperature 0 is greedy decoding (argmax), not a distribution; "
                         "use sample_from_logits")
    return np.exp(log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1))


def sample_from_logits(logits, temperature, rng) -> np.ndarray:
    r"""One draw per row from :math:`\operatorname{softmax}(a / \tau)`; the argmax when :math:`\tau = 0`.

    Parameters
    ----------
    logits : ndarray (N, V)
        Unnormalised log-probabilities :math:`a`.
    temperature : float >= 0
        :math:`\tau`: 1 samples the model's own distribution, below 1 sharpens
        it, above 1 flattens it; 0 is greedy decoding.
    rng : np.random.Generator
        One ``rng.random(N)`` call per draw (none when greedy).

    Returns
    -------
    ids : int64 ndarray (N,)

    Notes
    -----
    :math:`p_k = e^{a_k/\tau} / \sum_j e^{a_j/\tau} \propto p_k(\tau{=}1)^{1/\tau}`.
    The draw inverts the cumulative distribution: the first k with
    :math:`u < \sum_{j \le k} p_j`, :math:`u \sim U[0, 1)`.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.dtype.kind not in "fiu":
        raise ValueError(f"logits must be a numeric array (N, V); got {logits.dtype} of shape {logits.shape}")
    temperature = _check_temperature(temperature)
    rng = check_rng(rng)
    if temperature == 0.0:
        return np.argmax(logits, axis=1).astype(np.int64)
    cdf = np.cumsum(temperature_probs(logits, temperature), axis=1)  # (N, V)
    u = rng.random(len(logits))[:, None] * cdf[:, -1:]  # scaled by the total: rounding cannot overshoot
    return np.minimum(np.sum(cdf <= u, axis=1), logits.shape[1] - 1).astype(np.int64)


def _check_model(model):
    if not isinstance(model, SequenceModel) or model.mode != "many_to_many":
        raise TypeError(f"model must be a many_to_many SequenceModel; got {model!r}")
    if model.rnn.input_size != model.out.out_features:
        raise ValueError(f"a character model reads and predicts the same V characters; got input size "
                         f"{model.rnn.input_size} and output size {model.out.out_features}")
    return model


def _check_prime(codec, prime):
    if not isinstance(codec, CharCodec):
        raise TypeError(f"codec must be a CharCodec; got {type(codec).__name__}")
    if not isinstance(prime, str) or not prime:
        raise ValueError(f"prime must be a non-empty str (e.g. a newline); got {prime!r}")
    return codec.encode(prime)


def sample_text(model, codec, length, rng, *, temperature=1.0, prime=NEWLINE, n=1) -> list:
    r"""Generate ``n`` texts of ``length`` characters from a trained character model.

    Parameters
    ----------
    model : SequenceModel
        ``"many_to_many"``, input and output size V (``codec.V``).
    codec : CharCodec
    length : int
        Characters to generate after the prime.
    rng : np.random.Generator
    temperature : float >= 0
        See :func:`sample_from_logits` (0: greedy).
    prime : str
        Read first (not included in the result); default a newline, the
        state in which every line of the corpus starts.
    n : int
        Independent samples, generated as one batch.

    Returns
    -------
    list of n str

    Notes
    -----
    The layer runs on (n, 1, V) chunks with ``state=`` the previous final
    state, so each new character is read from where the last one left off:
    :math:`c_{t+1} \sim \operatorname{softmax}(h_t W + b)`, then
    :math:`h_{t+1}` from :math:`c_{t+1}` and :math:`h_t`.
    """
    model = _check_model(model)
    length, n = check_size("length", length), check_size("n", n)
    prime_ids = _check_prime(codec, prime)
    rng = check_rng(rng)
    if codec.V != model.rnn.input_size:
        raise ValueError(f"codec has V={codec.V} characters but the model reads {model.rnn.input_size}")
    dtype = model.rnn.dtype
    x = one_hot(np.broadcast_to(prime_ids, (n, prime_ids.size)), codec.V, dtype)  # (n, P, V)
    hs, state = model.rnn.forward(x)
    h = hs[:, -1]  # (n, H)
    out = np.empty((n, length), dtype=np.int64)
    eye = np.eye(codec.V, dtype=dtype)
    for t in range(length):
        logits = model.out.forward(h)  # (n, V)
        out[:, t] = sample_from_logits(logits, temperature, rng)
        hs, state = model.rnn.forward(eye[out[:, t]][:, None, :], state)  # (n, 1, H)
        h = hs[:, 0]
    return [codec.decode(row) for row in out]


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
def bits_per_char(loss_nats) -> float:
    r"""A mean cross-entropy per character in nats, converted to bits: :math:`L / \ln 2`.

    :math:`-\log_2 p = -\ln p / \ln 2`, so a loss of :math:`\ln V` nats
    (a uniform guess over V characters) is :math:`\log_2 V` bits.
    """
    if isinstance(loss_nats, bool) or not isinstance(loss_nats, (numbers.Real, np.floating)):
        raise TypeError(f"loss_nats must be a number (mean nats per character); got {loss_nats!r}")
    return float(loss_nats) / LN2


def log_likelihoods(model, ids, *, chunk=512) -> np.ndarray:
    r""":math:`\ln p(c_{t+1} \mid c_1 \dots c_t)` for every character after the first.

    Parameters
    ----------
    model : SequenceModel
        A character model (``"many_to_many"``, input and output size V).
    ids : int ndarray (L,)
        The encoded text; ``ids[0]`` is only read (start it with a newline).
    chunk : int
        The text is run as one sequence from a zero state, ``chunk`` steps
        per forward call, the state carried from call to call.

    Returns
    -------
    ndarray (L - 1,)
        Natural-log probabilities of ``ids[1:]``.
    """
    model = _check_model(model)
    V = model.rnn.input_size
    ids = _check_ids("ids", ids, V, min_len=2)
    chunk = check_size("chunk", chunk)
    x_ids, y_ids = ids[:-1], ids[1:]
    out = np.empty(y_ids.size)
    state = None
    for start in range(0, x_ids.size, chunk):
        stop = min(start + chunk, x_ids.size)
        x = one_hot(x_ids[start:stop], V, model.rnn.dtype)[None]  # (1, T, V)
        logits, state = model.forward(x, state, return_state=True)  # (1, T, V)
        logp = log_softmax(logits[0].astype(np.float64), axis=-1)  # (T, V)
        out[start:stop] = logp[np.arange(stop - start), y_ids[start:stop]]
    return out


def model_bpc(model, ids, *, chunk=512) -> float:
    """Bits per character of ``model`` on ``ids[1:]`` (see :func:`log_likelihoods`)."""
    return bits_per_char(-float(np.mean(log_likelihoods(model, ids, chunk=chunk))))


class NGramModel:
    r"""Add-k smoothed n-gram model over characters: the history is the last n - 1 of them.

    .. math::

        p(c \mid u) = \frac{\operatorname{count}(u\,c) + k}{\operatorname{count}(u) + kV},

    with u the n - 1 preceding characters (fewer at the start of a text, which
    is padded on the left with ``pad``). n = 1 is the unigram model,
    :math:`p(c) = (\operatorname{count}(c) + k) / (L + kV)`, which ignores
    history. A context never seen in training gets the uniform distribution.

    Parameters
    ----------
    n : int >= 1
    V : int
    k : float > 0
        Added to every count (k = 1: Laplace).
    pad : int
        Id that pads the left of a text (default 0, the newline of a
        :class:`~rnnlib.data.toy_language.CharCodec` built from the toy language).

    Attributes
    ----------
    keys, counts : ndarray
        Sorted ids of the seen (context, next) pairs, :math:`u \cdot V + c`, and their counts.
    context_keys, context_counts : ndarray
        Sorted ids of the seen contexts and their counts.
    """

    def __init__(self, n, V, *, k=0.1, pad=0):
        self.n, self.V = check_size("n", n), check_size("V", V)
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not 0.0 < k < np.inf:
            raise ValueError(f"k must be a positive number; got {k!r}")
        if isinstance(pad, bool) or not isinstance(pad, numbers.Integral) or not 0 <= pad < self.V:
            raise ValueError(f"pad must be an id in [0, {self.V}); got {pad!r}")
        self.k, self.pad = float(k), int(pad)
        self.keys = self.counts = self.context_keys = self.context_counts = None

    def __repr__(self):
        return f"NGramModel(n={self.n}, V={self.V}, k={self.k:g})"

    def _contexts(self, ids):
        """Context id of each position of ``ids`` (L,): the n - 1 ids before it, base V."""
        padded = np.concatenate([np.full(self.n - 1, self.pad, dtype=np.int64), ids])
        ctx = np.zeros(ids.size, dtype=np.int64)
        for j in range(self.n - 1):  # most significant digit = oldest character
            ctx = ctx * self.V + padded[j : j + ids.size]
        return ctx

    def fit(self, ids) -> "NGramModel":
        """Count the n-grams of the encoded training text ``ids`` (L,); returns self."""
        ids = _check_ids("ids", ids, self.V)
        ctx = self._contexts(ids)
        self.keys, self.counts = np.unique(ctx * self.V + ids, return_counts=True)
        self.context_keys, self.context_counts = np.unique(ctx, return_counts=True)
        return self

    def _lookup(self, table, counts, query):
        pos = np.minimum(np.searchsorted(table, query), table.size - 1)
        return np.where(table[pos] == query, counts[pos], 0)

    def probs_given(self, contexts) -> np.ndarray:
        """The smoothed distributions (M, V) for context ids (M,) (as made by the ids' last n - 1)."""
        if self.keys is None:
            raise RuntimeError("NGramModel.probs_given called before fit: call fit(ids) first")
        contexts = np.asarray(contexts, dtype=np.int64)
        pair = contexts[:, None] * self.V + np.arange(self.V)  # (M, V)
        num = self._lookup(self.keys, self.counts, pair) + self.k
        den = self._lookup(self.context_keys, self.context_counts, contexts) + self.k * self.V
        return num / den[:, None]

    def log_likelihoods(self, ids) -> np.ndarray:
        """:math:`\\ln p(c_{t+1} \\mid \\text{history})` for ``ids[1:]`` (L - 1,), histories from ``ids``."""
        if self.keys is None:
            raise RuntimeError("NGramModel.log_likelihoods called before fit: call fit(ids) first")
        ids = _check_ids("ids", ids, self.V, min_len=2)
        ctx = self._contexts(ids)[1:]  # context of each target ids[1:]
        # eq. of the class docstring for the target only: two lookups per character, not V
        num = self._lookup(self.keys, self.counts, ctx * self.V + ids[1:]) + self.k
        den = self._lookup(self.context_keys, self.context_counts, ctx) + self.k * self.V
        return np.log(num / den)

    def bpc(self, ids) -> float:
        """Bits per character on ``ids[1:]``."""
        return bits_per_char(-float(np.mean(self.log_likelihoods(ids))))

    def sample_text(self, codec, length, rng, *, temperature=1.0, prime=NEWLINE, n=1) -> list:
        """Generate ``n`` texts as :func:`sample_text` does, from the n-gram distributions."""
        if self.keys is None:
            raise RuntimeError("NGramModel.sample_text called before fit: call fit(ids) first")
        length, n = check_size("length", length), check_size("n", n)
        prime_ids = _check_prime(codec, prime)
        if codec.V != self.V:
            raise ValueError(f"codec has V={codec.V} characters but the model has V={self.V}")
        rng = check_rng(rng)
        hist = np.concatenate([np.full(self.n - 1, self.pad, dtype=np.int64), prime_ids])
        hist = np.tile(hist[len(hist) - (self.n - 1):] if self.n > 1 else hist[:0], (n, 1))  # (n, n-1)
        out = np.empty((n, length), dtype=np.int64)
        powers = self.V ** np.arange(self.n - 2, -1, -1, dtype=np.int64)  # base-V digits, oldest first
        for t in range(length):
            ctx = hist @ powers if self.n > 1 else np.zeros(n, dtype=np.int64)
            logits = np.log(self.probs_given(ctx))  # (n, V)
            out[:, t] = sample_from_logits(logits, temperature, rng)
            if self.n > 1:
                hist = np.concatenate([hist[:, 1:], out[:, t : t + 1]], axis=1)
        return [codec.decode(row) for row in out]


__all__ = ["LN2", "one_hot", "window_task", "temperature_probs", "sample_from_logits", "sample_text",
           "bits_per_char", "log_likelihoods", "model_bpc", "NGramModel"]
