r"""Token models of chapter 7: embedding -> (stacked, bidirectional) layer -> readout at every step.

:class:`TokenModel` chains an :class:`rnnlib.Embedding`, an ``RNN``/``LSTM``/
``GRU`` with any ``num_layers``, ``bidirectional``, ``dropout``, and a
:class:`rnnlib.Linear` on the (N, T, dirs*H) outputs. Its ``params``/``grads``
are merged dicts (``"emb.W"``, ``"rnn.W_x_l1"``, ``"out.W"``) holding the
layers' own arrays, so :class:`rnnlib.Adam` updates them in place.

:func:`masked_xent` is the mean cross-entropy over the *real* tokens of a
padded batch (padding gets no loss and no gradient); :func:`fit` is a small
Adam loop with gradient clipping and a held-out evaluation.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_size, make_rng
from rnnlib.activations import log_softmax
from rnnlib.embedding import Embedding
from rnnlib.layers import GRU, LSTM, RNN, Linear
from rnnlib.optim import Adam, clip_grad_norm

KINDS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def masked_xent(logits, y, lengths=None):
    r"""Mean cross-entropy (nats) over real tokens and its gradient.

    Parameters
    ----------
    logits : ndarray (N, T, C)
    y : int ndarray (N, T)
        Classes; entries after each length are ignored.
    lengths : None or int ndarray (N,)

    Returns
    -------
    loss : float
        :math:`\frac{1}{M}\sum_{n, t < \ell_n} -\log \mathrm{softmax}(z_{n,t})_{y_{n,t}}`,
        M the number of real tokens.
    dlogits : ndarray (N, T, C)
        :math:`(\mathrm{softmax}(z) - \mathrm{onehot}(y)) / M` at real tokens, 0 at padding.
    """
    N, T, C = logits.shape
    mask = np.ones((N, T), bool) if lengths is None else np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    M = int(mask.sum())
    logp = log_softmax(logits, axis=-1)  # (N, T, C)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]  # (N, T)
    loss = -float(np.sum(picked * mask)) / M
    dlogits = np.exp(logp)
    np.put_along_axis(dlogits, y[..., None], np.take_along_axis(dlogits, y[..., None], -1) - 1, -1)
    dlogits *= (mask / M)[..., None]
    return loss, dlogits.astype(logits.dtype, copy=False)


class TokenModel:
    r"""Embedding, recurrent layer(s), linear readout at every step.

    Parameters
    ----------
    V : int
        Vocabulary size (ids in [0, V)).
    D, H : int
        Embedding size and hidden size.
    C : int
        Number of output classes (V for a language model).
    kind : {"rnn", "lstm", "gru"}
    num_layers, bidirectional, dropout
        Passed to the layer (see :mod:`rnnlib.stacked`).
    padding_idx : int or None
        Passed to the embedding.
    seed, rng, dtype
        One generator initialises the embedding, the layer, the readout, in that order.
    """

    def __init__(self, V, D, H, C, *, kind="lstm", num_layers=1, bidirectional=False, dropout=0.0,
                 padding_idx=None, seed=0, rng=None, dtype=np.float64):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}; got {kind!r}")
        rng = make_rng(seed, rng)
        self.emb = Embedding(V, D, rng=rng, padding_idx=padding_idx, dtype=dtype)
        self.rnn = KINDS[kind](D, H, num_layers=num_layers, bidirectional=bidirectional,
                               dropout=dropout, rng=rng, dtype=dtype)
        self.out = Linear(self.rnn.num_directions * H, check_size("C", C), rng=rng, dtype=dtype)
        self._lengths = None

    @property
    def params(self) -> dict:
        """``{"emb.W", "rnn.<key>", "out.W", "out.b"}``: the layers' own arrays."""
        return {f"{name}.{k}": v for name, part in self._parts() for k, v in part.params.items()}

    @property
    def grads(self) -> dict:
        """Gradients with the keys of :attr:`params`."""
        return {f"{name}.{k}": v for name, part in self._parts() for k, v in part.grads.items()}

    def _parts(self):
        return (("emb", self.emb), ("rnn", self.rnn), ("out", self.out))

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (embedding + layer + readout)."""
        return self.emb.n_params + self.rnn.n_params + self.out.n_params

    def zero_grad(self):
        """Set every gradient to zero in place."""
        for g in self.grads.values():
            g[...] = 0.0

    def train(self, mode=True):
        """Training mode (dropout on); returns the model."""
        self.rnn.train(mode)
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns the model."""
        return self.train(False)

    def forward(self, ids, lengths=None):
        """``ids`` (N, T) -> logits (N, T, C); ``lengths`` (N,) for a padded batch."""
        e = self.emb.forward(ids)  # (N, T, D)
        hs, _ = self.rnn.forward(e, lengths=lengths)  # (N, T, dirs*H)
        return self.out.forward(hs)  # (N, T, C)

    def backward(self, dlogits):
        """Backpropagate ``dlogits`` (N, T, C); gradients are added to :attr:`grads`."""
        dhs = self.out.backward(dlogits)
        de, _ = self.rnn.backward(dhs)
        self.emb.backward(de)


def evaluate(model, batches, *, mask_layer=True) -> float:
    """Mean :func:`masked_xent` over ``batches`` (a list of ``(ids, y, lengths)``), in eval mode.

    ``mask_layer=False``: the layer runs over the padding as if it were data
    (no ``lengths``); the loss still counts the real tokens only.
    """
    model.eval()
    total, count = 0.0, 0
    for ids, y, lengths in batches:
        loss, _ = masked_xent(model.forward(ids, lengths if mask_layer else None), y, lengths)
        m = ids.size if lengths is None else int(np.sum(lengths))
        total, count = total + loss * m, count + m
    model.train()
    return total / count


def fit(model, batch_fn, steps, *, lr=3e-3, clip=1.0, rng=None, seed=0, held_out=None, every=100,
        mask_layer=True):
    """Train with Adam on ``batch_fn(rng) -> (ids, y, lengths)``.

    Parameters
    ----------
    model : TokenModel
    batch_fn : callable
        Draws one training batch from the generator it is given.
    steps : int
    lr, clip : float
        Adam learning rate; global-norm gradient clipping.
    rng, seed
        The generator of the training batches (``rng``, else seeded by ``seed``).
    held_out : list of (ids, y, lengths), optional
        Evaluated (mean nats per real token) every ``every`` steps and at the end.
    mask_layer : bool
        False: the layer is run without ``lengths``, over the padding (the loss
        still counts real tokens only): what happens without masks.

    Returns
    -------
    dict
        ``"step"``, ``"train"`` (mean training loss over each stretch of
        ``every`` steps) and ``"held_out"`` lists.
    """
    rng = make_rng(seed, rng)
    opt = Adam(model.params, lr=lr)
    hist = {"step": [], "train": [], "held_out": []}
    run = []
    model.train()
    for step in range(1, check_size("steps", steps) + 1):
        ids, y, lengths = batch_fn(rng)
        loss, dlogits = masked_xent(model.forward(ids, lengths if mask_layer else None), y, lengths)
        model.zero_grad()
        model.backward(dlogits)
        grads = model.grads
        clip_grad_norm(grads, clip)
        opt.step(grads)
        run.append(loss)
        if step % every == 0 or step == steps:
            hist["step"].append(step)
            hist["train"].append(float(np.mean(run)))
            run = []
            if held_out is not None:
                hist["held_out"].append(evaluate(model, held_out, mask_layer=mask_layer))
    return hist
