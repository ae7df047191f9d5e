r"""Sequence-to-sequence models built from rnnlib's layers: encoder-decoder, attention, the Keras baseline.

:class:`EncoderDecoder` reads the source with one recurrent layer (the
encoder) and hands its final state to a second one (the decoder), which reads
the target shifted right by one (teacher forcing: ``^596`` in, ``596$`` out):

.. math::

    h^{enc}_s &= \mathrm{cell}_{enc}(x_s, h^{enc}_{s-1}), \qquad h^{dec}_0 = h^{enc}_S \\
    h^{dec}_t &= \mathrm{cell}_{dec}(y_{t-1}, h^{dec}_{t-1}) \\
    p(y_t \mid y_{<t}, x) &= \operatorname{softmax}(o_t W + b), \qquad
    o_t = h^{dec}_t \;\text{or}\; [h^{dec}_t; c_t]

With ``attention=True``, :math:`c_t` is the additive attention of
:math:`h^{dec}_t` over all encoder outputs (:mod:`rnnlib.attention`): the
score is Bahdanau's, placed after the decoder cell as in Luong et al. (2015),
so that teacher forcing runs the decoder over the whole target in one call.
The loss is the mean cross-entropy over the real target symbols (answer and
``$``; padding masked). Its gradient flows from the decoder into the encoder
through the decoder's initial state and, with attention, through every
encoder output.

:class:`RepeatVector` is the Keras example's model: the encoder's last hidden
state repeated as the input of every output step of a second LSTM (started
from zeros), no feedback of the previous symbol, fixed-length output.

Inputs are one-hot vectors of the alphabet (V = 14 symbols). Both models
expose ``params``/``grads`` dicts (keys ``"encoder.W_x"``, ...; the arrays
are the layers' own), ``zero_grad``, ``loss(batch)``,
``loss_and_grads(batch)`` (gradients accumulate) and ``predict(batch)``.

References
----------
Sutskever, I., Vinyals, O. & Le, Q. V. (2014). Sequence to sequence learning
with neural networks. NeurIPS.
Luong, M.-T., Pham, H. & Manning, C. D. (2015). Effective approaches to
attention-based neural machine translation. EMNLP.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_size
from rnnlib.activations import log_softmax
from rnnlib.attention import AdditiveAttention
from rnnlib.data.addition import AdditionCodec, Batch
from rnnlib.layers import GRU, LSTM, RNN, Linear
from rnnlib.training.decode import greedy_decode

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def one_hot(ids, V, dtype=np.float64) -> np.ndarray:
    """int ids (...) -> one-hot (..., V)."""
    return np.eye(V, dtype=dtype)[ids]


def masked_cross_entropy(logits, labels, mask):
    r"""Mean of :math:`-\log p_{y}` over the positions where ``mask`` is True, and its gradient.

    Parameters
    ----------
    logits : ndarray (N, L, V)
    labels : int ndarray (N, L)
    mask : bool ndarray (N, L)

    Returns
    -------
    loss : float
    dlogits : ndarray (N, L, V)
        :math:`m\,(p - \text{onehot}(y)) / \sum m`; zero at masked positions.
    """
    logp = log_softmax(logits)
    n = max(int(mask.sum()), 1)
    picked = np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]
    loss = -float(np.sum(picked * mask)) / n
    dlogits = np.exp(logp)
    np.put_along_axis(dlogits, labels[..., None], np.take_along_axis(dlogits, labels[..., None], -1) - 1.0, -1)
    dlogits *= (mask / n)[..., None].astype(dlogits.dtype)
    return loss, dlogits


def _new_cell(cell, D, H, rng, dtype):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}; got {cell!r}")
    kw = {"forget_bias": 1.0} if cell == "lstm" else {}  # Keras's unit_forget_bias
    return CELLS[cell](D, H, rng=rng, dtype=dtype, **kw)


class _Model:
    """Shared bookkeeping: merged params/grads over named sub-layers, input checks."""

    def _collect(self, layers: dict):
        self.layers = layers
        self.params = {f"{m}.{k}": v for m, layer in layers.items() for k, v in layer.params.items()}
        self.grads = {f"{m}.{k}": v for m, layer in layers.items() for k, v in layer.grads.items()}

    def zero_grad(self):
        """Zero every gradient in place (the arrays stay those of the layers)."""
        for g in self.grads.values():
            g.fill(0.0)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return int(sum(p.size for p in self.params.values()))

    def check_source(self, src, src_mask):
        """Validate source ids (N, S) and mask (N, S); ValueError for empty or too-long batches."""
        src = np.asarray(src)
        if src.ndim != 2 or src.dtype.kind not in "iu":
            raise TypeError(f"src must be an int array (N, S); got {src.dtype} array of shape {src.shape}")
        N, S = src.shape
        if N == 0:
            raise ValueError("src is an empty batch (N = 0): give at least one problem")
        if S > self.codec.src_len:
            raise ValueError(f"src has {S} steps; this model was built for sources of at most "
                             f"{self.codec.src_len} characters (digits={self.codec.digits})")
        if src.min() < 0 or src.max() >= self.V:
            raise ValueError(f"src ids must lie in [0, {self.V}); got values in [{src.min()}, {src.max()}]")
        src_mask = np.asarray(src_mask)
        if src_mask.shape != src.shape or src_mask.dtype != bool:
            raise ValueError(f"src_mask must be a bool array of shape {src.shape}; got "
                             f"{src_mask.dtype} {src_mask.shape}")
        return src, src_mask

    def _check_batch(self, batch):
        if not isinstance(batch, Batch):
            raise TypeError(f"batch must be an rnnlib.data.addition.Batch; got {type(batch).__name__}")
        self.check_source(batch.src, batch.src_mask)
        return batch


class EncoderDecoder(_Model):
    """Encoder-decoder with teacher forcing, optionally with additive attention.

    Parameters
    ----------
    codec : AdditionCodec
        Fixes the alphabet (V) and the longest source and target.
    hidden_size : int
        H of both cells.
    cell : {"lstm", "gru", "rnn"}
    attention : bool
        Readout from ``[h_dec; context]`` instead of ``h_dec``.
    attn_size : int or None
        A of the attention (default H).
    seed, dtype
        One generator, seeded, initialises every layer in turn.
    """

    def __init__(self, codec: AdditionCodec, hidden_size=128, *, cell="lstm", attention=False,
                 attn_size=None, seed=0, dtype=np.float64):
        if not isinstance(codec, AdditionCodec):
            raise TypeError(f"codec must be an AdditionCodec; got {type(codec).__name__}")
        self.codec, self.V, self.cell = codec, codec.V, cell
        H = self.H = check_size("hidden_size", hidden_size)
        self.attention = bool(attention)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        layers = {"encoder": _new_cell(cell, self.V, H, rng, dtype),
                  "decoder": _new_cell(cell, self.V, H, rng, dtype)}
        if self.attention:
            layers["attention"] = AdditiveAttention(H, H, check_size("attn_size", attn_size or H),
                                                    rng=rng, dtype=dtype)
        layers["out"] = Linear(2 * H if self.attention else H, self.V, rng=rng, dtype=dtype)
        self._collect(layers)
        self.encoder, self.decoder, self.out = layers["encoder"], layers["decoder"], layers["out"]
        self.attn = layers.get("attention")

    def __repr__(self):
        return (f"EncoderDecoder(cell={self.cell!r}, H={self.H}, attention={self.attention}, "
                f"{self.codec!r})")

    # -- pieces shared by training and decoding -------------------------
    def encode(self, src, src_mask):
        """Source ids (N, S) -> (encoder outputs (N, S, H), final state)."""
        src, src_mask = self.check_source(src, src_mask)
        return self.encoder.forward(one_hot(src, self.V, self.dtype))

    def readout(self, dec_hs, enc_hs, src_mask):
        """Decoder states (N, L, H) -> (logits (N, L, V), alpha (N, L, S) or None)."""
        if not self.attention:
            return self.out.forward(dec_hs), None
        context, alpha = self.attn.forward(dec_hs, enc_hs, src_mask)
        return self.out.forward(np.concatenate([dec_hs, context], axis=-1)), alpha

    def step(self, tokens, state, enc_hs, src_mask):
        """One free-running step: tokens (N,) -> (log-probabilities (N, V), state, alpha (N, S) or None)."""
        hs, state = self.decoder.forward(one_hot(np.asarray(tokens)[:, None], self.V, self.dtype), state)
        logits, alpha = self.readout(hs, enc_hs, src_mask)
        return log_softmax(logits[:, 0]), state, None if alpha is None else alpha[:, 0]

    # -- teacher forcing -----------------------------------------------------
    def forward(self, batch: Batch):
        """Teacher-forced pass: (logits (N, L, V), alpha (N, L, S) or None)."""
        batch = self._check_batch(batch)
        enc_hs, state = self.encode(batch.src, batch.src_mask)
        dec_hs, _ = self.decoder.forward(one_hot(batch.tgt_in, self.V, self.dtype), state)
        self._enc_hs = enc_hs
        return self.readout(dec_hs, enc_hs, batch.src_mask)

    def loss(self, batch: Batch) -> float:
        """Mean cross-entropy (nats) of ``tgt_out`` given ``tgt_in``, padding masked."""
        logits, _ = self.forward(batch)
        return masked_cross_entropy(logits, batch.tgt_out, batch.tgt_mask)[0]

    def loss_and_grads(self, batch: Batch) -> float:
        """The loss; adds its gradient to ``grads`` (decoder -> encoder included)."""
        logits, _ = self.forward(batch)
        loss, dlogits = masked_cross_entropy(logits, batch.tgt_out, batch.tgt_mask)
        dfeat = self.out.backward(dlogits)
        if self.attention:
            H = self.H
            dq, denc = self.attn.backward(dfeat[..., H:])  # context -> decoder states and encoder outputs
            ddec = dfeat[..., :H] + dq
        else:
            ddec, denc = dfeat, np.zeros_like(self._enc_hs)
        _, dstate0 = self.decoder.backward(ddec)
        self.encoder.backward(denc, dstate0)  # the decoder's initial state is the encoder's final one
        return loss

    def predict(self, batch: Batch) -> list:
        """Greedy answers (free running) for a batch."""
        ids, _ = greedy_decode(self, batch.src, batch.src_mask)
        return [self.codec.decode_answer(row) for row in ids]


class RepeatVector(_Model):
    """The Keras ``addition_rnn`` model: encoder LSTM, last state repeated, decoder LSTM, softmax.

    Parameters
    ----------
    codec : AdditionCodec
    hidden_size : int
        128 in the Keras example.
    cell : {"lstm", "gru", "rnn"}
    seed, dtype

    The output is the answer padded with spaces to ``digits + 1`` characters
    (:meth:`AdditionCodec.keras_target`), predicted all at once.
    """

    def __init__(self, codec: AdditionCodec, hidden_size=128, *, cell="lstm", seed=0, dtype=np.float64):
        if not isinstance(codec, AdditionCodec):
            raise TypeError(f"codec must be an AdditionCodec; got {type(codec).__name__}")
        self.codec, self.V, self.cell = codec, codec.V, cell
        H = self.H = check_size("hidden_size", hidden_size)
        self.dtype = np.dtype(dtype)
        self.L = codec.digits + 1
        rng = np.random.default_rng(seed)
        self._collect({"encoder": _new_cell(cell, self.V, H, rng, dtype),
                       "decoder": _new_cell(cell, H, H, rng, dtype),
                       "out": Linear(H, self.V, rng=rng, dtype=dtype)})
        self.encoder, self.decoder, self.out = (self.layers[k] for k in ("encoder", "decoder", "out"))

    def __repr__(self):
        return f"RepeatVector(cell={self.cell!r}, H={self.H}, {self.codec!r})"

    def targets(self, batch: Batch) -> np.ndarray:
        """(N, digits + 1) ids: ``tgt_out`` with ``$`` turned into padding (= the answer, left-aligned)."""
        t = batch.tgt_out[:, : self.L].copy()
        t[t == self.codec.end_id] = self.codec.pad_id
        return t

    def forward(self, batch: Batch) -> np.ndarray:
        """Logits (N, digits + 1, V)."""
        batch = self._check_batch(batch)
        enc_hs, _ = self.encoder.forward(one_hot(batch.src, self.V, self.dtype))
        h_T = enc_hs[:, -1]
        dec_hs, _ = self.decoder.forward(np.repeat(h_T[:, None, :], self.L, axis=1))  # RepeatVector
        return self.out.forward(dec_hs)

    def loss(self, batch: Batch) -> float:
        """Mean cross-entropy over all ``digits + 1`` output positions (padding included, as in Keras)."""
        logits = self.forward(batch)
        return masked_cross_entropy(logits, self.targets(batch), np.ones(logits.shape[:2], bool))[0]

    def loss_and_grads(self, batch: Batch) -> float:
        """The loss; adds its gradient to ``grads``."""
        logits = self.forward(batch)
        loss, dlogits = masked_cross_entropy(logits, self.targets(batch), np.ones(logits.shape[:2], bool))
        dx_dec, _ = self.decoder.backward(self.out.backward(dlogits))
        dhs = np.zeros((len(batch.src), batch.src.shape[1], self.H), self.dtype)
        dhs[:, -1] = dx_dec.sum(axis=1)  # the repeated vector's gradient: sum over output steps
        self.encoder.backward(dhs)
        return loss

    def predict(self, batch: Batch) -> list:
        """Answers: argmax at every output position."""
        ids = self.forward(batch).argmax(axis=-1)
        return [self.codec.decode_answer(row) for row in ids]
