r"""The mistake catalogue of Chapter 7, "Deeper and both ways": references, cases, named wrong answers.

For each exercise of :mod:`rnnlib.exercises.ch7`: the reference (``*_reference``),
the seeded cases (``*_cases(rng)``) and the catalogue of the slips readers make,
each with the diagnosis the check prints (``*_MISTAKES``).

Shapes: ``x`` (N, T, D); a direction's outputs (N, T, H), both (N, T, 2H);
``lengths`` (N,) ints in [1, T]; ``ids`` (N, T) ints in [0, V); ``de`` (N, T, D).
"""

from __future__ import annotations

import numpy as np

from rnnlib.layers import GRU
from ._check import Mistake

G = {"rnn": 1, "lstm": 4, "gru": 3}


# ---------------------------------------------------------------------------
# 1. Parameters of a torch stack
# ---------------------------------------------------------------------------
def n_params_reference(kind, D, H, num_layers, bidirectional):
    """Scalar parameters of ``torch.nn.<KIND>(D, H, num_layers, bidirectional=...)`` (two biases)."""
    dirs = 2 if bidirectional else 1
    total = 0
    for k in range(num_layers):
        D_k = D if k == 0 else dirs * H  # layer k > 0 reads both directions of layer k - 1
        total += dirs * G[kind] * H * (D_k + H + 2)  # weight_ih, weight_hh, bias_ih, bias_hh
    return total


def n_params_cases(rng):
    return [("lstm", 3, 5, 2, True), ("gru", 4, 6, 3, False), ("rnn", 2, 7, 2, True),
            ("lstm", 8, 4, 3, True), ("gru", 5, 3, 1, True)]


def _n_params_with(kind, D, H, num_layers, bidirectional, *, upper="dirsH", biases=2, dirs_mult=True):
    dirs = 2 if bidirectional else 1
    total = 0
    for k in range(num_layers):
        D_k = D if k == 0 else {"dirsH": dirs * H, "D": D, "H": H}[upper]
        total += (dirs if dirs_mult else 1) * G[kind] * H * (D_k + H + biases)
    return total


N_PARAMS_MISTAKES = [
    Mistake("upper-input-D", lambda *a: _n_params_with(*a, upper="D"),
            "Layers above the first do not read x: their input is the layer below's output, "
            "size H (or 2H when bidirectional), not D."),
    Mistake("upper-input-H", lambda *a: _n_params_with(*a, upper="H"),
            "With two directions, the layer above reads both: [h_fwd ; h_bwd] has 2H entries, "
            "so its weight_ih is (G*H, 2H)."),
    Mistake("one-bias", lambda *a: _n_params_with(*a, biases=1),
            "torch keeps two biases per layer and direction, bias_ih and bias_hh (G*H each): "
            "count both (rnnlib merges them into one b, torch does not)."),
    Mistake("directions-not-doubled", lambda *a: _n_params_with(*a, dirs_mult=False),
            "A bidirectional layer has two independent sets of weights, one per direction "
            "(the _reverse tensors): multiply each layer's count by 2."),
]


# ---------------------------------------------------------------------------
# 2. Both directions
# ---------------------------------------------------------------------------
def _layer_fn(D, H, seed):
    layer = GRU(D, H, seed=seed)
    return lambda x: layer.forward(x)[0].copy()


def bidirectional_reference(x, run_fwd, run_bwd):
    """``[run_fwd(x) ; reversed(run_bwd(reversed(x)))]`` on the last axis: (N, T, 2H)."""
    h_fwd = run_fwd(x)  # (N, T, H), h_fwd[:, t] has read x_0 .. x_t
    h_bwd = run_bwd(x[:, ::-1])[:, ::-1]  # (N, T, H), h_bwd[:, t] has read x_t .. x_{T-1}
    return np.concatenate([h_fwd, h_bwd], axis=-1)


def bidirectional_cases(rng):
    cases = []
    for k, (N, T, D, H) in enumerate([(2, 5, 3, 4), (3, 4, 2, 2), (1, 6, 2, 3)]):
        x = rng.standard_normal((N, T, D))
        cases.append((x, _layer_fn(D, H, 10 + k), _layer_fn(D, H, 20 + k)))
    return cases


BIDIRECTIONAL_MISTAKES = [
    Mistake("wrong-order", lambda x, f, b: np.concatenate([b(x[:, ::-1])[:, ::-1], f(x)], axis=-1),
            "The directions are concatenated backward first. torch (and rnnlib) put the forward "
            "direction first: [h_fwd ; h_bwd], so that weights and readouts line up."),
    Mistake("not-reversed-back", lambda x, f, b: np.concatenate([f(x), b(x[:, ::-1])], axis=-1),
            "The backward direction's outputs are still in reversed time: position t holds what it "
            "computed after reading x_{T-1} .. x_{T-1-t}. Reverse them back ([:, ::-1]) before "
            "concatenating, so that position t sees x_t .. x_{T-1}."),
    Mistake("input-not-reversed", lambda x, f, b: np.concatenate([f(x), b(x)], axis=-1),
            "run_bwd reads x in the original order: that is a second forward direction, which "
            "still cannot see the future. Feed it x[:, ::-1] and reverse its outputs back."),
    Mistake("summed", lambda x, f, b: f(x) + b(x[:, ::-1])[:, ::-1],
            "You added the two directions: the output must keep both, concatenated on the last "
            "axis (N, T, 2H)."),
]


# ---------------------------------------------------------------------------
# 3. A masked forward pass
# ---------------------------------------------------------------------------
def masked_rnn_reference(x, lengths, W_xh, W_hh, b_h):
    """tanh RNN over a padded batch: outputs zero after each length, state frozen there."""
    N, T, _ = x.shape
    h = np.zeros((N, W_hh.shape[0]))
    hs = np.zeros((N, T, W_hh.shape[0]))
    for t in range(T):
        h_new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        m = (t < lengths)[:, None]  # (N, 1): is step t real for sequence n?
        h = np.where(m, h_new, h)  # the state stops at the sequence's last step
        hs[:, t] = np.where(m, h_new, 0.0)  # the output is zero after it
    return hs, h


def _masked_with(x, lengths, W_xh, W_hh, b_h, *, state=True, output=True, strict=True):
    N, T, _ = x.shape
    h = np.zeros((N, W_hh.shape[0]))
    hs = np.zeros((N, T, W_hh.shape[0]))
    for t in range(T):
        h_new = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        m = ((t < lengths) if strict else (t <= lengths))[:, None]
        h = np.where(m, h_new, h) if state else h_new
        hs[:, t] = np.where(m, h_new, 0.0) if output else h_new
    return hs, h


def masked_rnn_cases(rng):
    cases = []
    for N, T, D, H in [(4, 5, 2, 3), (3, 6, 3, 2), (1, 3, 2, 2)]:
        lengths = rng.integers(1, T + 1, N)
        lengths[0] = T
        if N > 1:
            lengths[1] = 1
        cases.append((rng.standard_normal((N, T, D)), lengths, rng.standard_normal((D, H)) * 0.7,
                      rng.standard_normal((H, H)) * 0.7, rng.standard_normal(H) * 0.3))
    return cases


MASKED_RNN_MISTAKES = [
    Mistake("no-mask", lambda *a: _masked_with(*a, state=False, output=False),
            "The padding is run as if it were data: outputs after a sequence's length are not zero "
            "and its final state has moved on through the padding. Use m = t < lengths."),
    Mistake("output-masked-state-not", lambda *a: _masked_with(*a, state=False),
            "The outputs are zero after each length, but the state keeps stepping through the "
            "padding, so the final state is wrong. Keep h where the step is padding: "
            "h = np.where(m, h_new, h)."),
    Mistake("state-masked-output-not", lambda *a: _masked_with(*a, output=False),
            "The final state is right, but the outputs after each length are not zero: "
            "hs[:, t] = np.where(m, h_new, 0)."),
    Mistake("off-by-one", lambda *a: _masked_with(*a, strict=False),
            "One padding step too many: step t is real when t < lengths[n] (0-based t), "
            "not t <= lengths[n]."),
]


# ---------------------------------------------------------------------------
# 4. The embedding's gradient
# ---------------------------------------------------------------------------
def embedding_grad_reference(ids, de, V, padding_idx):
    """dW (V, D): de scatter-added into the rows of the ids; the padding row stays zero."""
    dW = np.zeros((V, de.shape[-1]))
    np.add.at(dW, ids.reshape(-1), de.reshape(-1, de.shape[-1]))  # repeated ids add up
    if padding_idx is not None:
        dW[padding_idx] = 0.0
    return dW


def embedding_grad_cases(rng):
    cases = []
    for N, T, V, D, pad in [(2, 5, 4, 3, 0), (3, 4, 6, 2, None), (1, 6, 3, 2, 2)]:
        ids = rng.integers(0, V, (N, T))
        ids[0, :2] = 1  # a repeated id in every case
        cases.append((ids, rng.standard_normal((N, T, D)), V, pad))
    return cases


def _assign(ids, de, V, padding_idx):
    dW = np.zeros((V, de.shape[-1]))
    dW[ids.reshape(-1)] += de.reshape(-1, de.shape[-1])  # buffered: repeated ids keep one value
    if padding_idx is not None:
        dW[padding_idx] = 0.0
    return dW


def _mean(ids, de, V, padding_idx):
    dW = embedding_grad_reference(ids, de, V, padding_idx)
    counts = np.bincount(ids.reshape(-1), minlength=V)
    return dW / np.maximum(counts, 1)[:, None]


EMBEDDING_GRAD_MISTAKES = [
    Mistake("assign-not-accumulate", _assign,
            "A token that occurs more than once keeps only one of its gradients: dW[ids] = de "
            "(and even dW[ids] += de, which NumPy buffers) writes each row once. Every occurrence "
            "must add up: np.add.at(dW, ids.ravel(), de.reshape(-1, D))."),
    Mistake("mean-not-sum", _mean,
            "You averaged the gradients of a repeated token. e = onehot(ids) @ W, so "
            "dW = onehot(ids).T @ de: a sum over occurrences, not a mean."),
    Mistake("padding-row-kept", lambda ids, de, V, p: embedding_grad_reference(ids, de, V, None),
            "The padding row received gradient. With padding_idx, that row is not trained "
            "(torch's nn.Embedding): set dW[padding_idx] = 0."),
    Mistake("transposed", lambda ids, de, V, p: embedding_grad_reference(ids, de, V, p).T,
            "dW has shape (D, V): the table W is (V, D), one row per token, and so is its gradient."),
]


# ---------------------------------------------------------------------------
# 5. Dropout between layers
# ---------------------------------------------------------------------------
def dropout_reference(h, p, u, training):
    """Inverted dropout: keep the entries where ``u < 1 - p`` and scale them by 1/(1 - p).

    ``u`` holds uniform draws in [0, 1), the shape of ``h`` (a layer draws them
    from its own generator, ``rng.random(h.shape)``).
    """
    if not training:
        return h.copy()  # evaluation: the identity
    keep = u < 1.0 - p  # True with probability 1 - p
    return h * keep / (1.0 - p)


def dropout_cases(rng):
    cases = []
    for shape, p, training in [((4, 6, 5), 0.3, True), ((3, 5, 4), 0.5, False),
                               ((2, 7, 3), 0.2, True), ((5, 4, 2), 0.4, False)]:
        cases.append((rng.standard_normal(shape), p, rng.random(shape), training))
    return cases


def _drop_with(h, p, u, training, *, at_eval="identity", scale=True, keep_prob=None):
    if not training and at_eval == "identity":
        return h.copy()
    if not training and at_eval == "scaled":
        return h * (1.0 - p)
    q = 1.0 - p if keep_prob is None else keep_prob(p)
    keep = u < q
    return h * keep / (q if scale else 1.0)


DROPOUT_MISTAKES = [
    Mistake("on-at-eval", lambda h, p, u, tr: _drop_with(h, p, u, True),
            "Dropout is still on in evaluation mode (training=False): the model is then judged "
            "with random units missing. At evaluation return h unchanged."),
    Mistake("no-rescale", lambda h, p, u, tr: _drop_with(h, p, u, tr, scale=False),
            "The kept entries are not scaled by 1/(1 - p): the next layer then sees inputs "
            "(1 - p) times smaller in training than at evaluation."),
    Mistake("scaled-at-eval", lambda h, p, u, tr: _drop_with(h, p, u, tr, at_eval="scaled"),
            "At evaluation you multiplied by (1 - p): that is the original, non-inverted dropout. "
            "With the 1/(1 - p) scaling in training, evaluation is the identity."),
    Mistake("keep-with-p", lambda h, p, u, tr: _drop_with(h, p, u, tr, keep_prob=lambda p: p),
            "Each entry is kept with probability p: p is the probability of *dropping* it. "
            "keep = u < 1 - p, then scale by 1/(1 - p)."),
]
