r"""Training and evaluating the sequence-to-sequence models of :mod:`rnnlib.training.seq2seq`.

:func:`train_seq2seq` is a small epoch loop (the general loop of
:mod:`rnnlib.training.loop` draws fresh batches from a task function; here the
training set is fixed, as in the Keras example, and visited once per epoch in
a new order): for each minibatch,

.. math::

    g = \nabla_\theta L, \quad g \leftarrow g \cdot \min(1, c/\lVert g\rVert), \quad
    \theta \leftarrow \operatorname{Adam}(\theta, g),

then, after every epoch, the exact-match and per-digit accuracy of free-running
(greedy) answers on the held-out problems. It can stop early once a target
exact-match accuracy is reached.

:func:`evaluate` scores a model on a :class:`~rnnlib.data.addition.Batch`;
:func:`teacher_forced_accuracy` measures what training sees (every step given
the true prefix), and :func:`exposure_bias` compares it with free running,
symbol by symbol, before and after a problem's first error.
"""

from __future__ import annotations

import numbers
import time

import numpy as np

from rnnlib.data.addition import Batch, batches
from rnnlib.optim import Adam, clip_grad_norm
from rnnlib.training.decode import exact_match, greedy_decode, per_digit_accuracy


def evaluate(model, data: Batch, batch_size=1000) -> dict:
    """Free-running answers of ``model`` on ``data``: ``{"exact": float, "per_digit": float}``."""
    predicted = []
    for b in batches(data, batch_size):
        predicted += model.predict(b)
    return {"exact": exact_match(predicted, data.answers),
            "per_digit": per_digit_accuracy(predicted, data.answers)}


def teacher_forced_accuracy(model, data: Batch) -> dict:
    """Accuracy when every step is given the true previous symbol (the training condition).

    Returns ``{"exact": fraction of problems with every target symbol right,
    "symbol": fraction of target symbols right}`` (padding excluded).
    """
    logits, _ = model.forward(data)
    right = (logits.argmax(axis=-1) == data.tgt_out) | ~data.tgt_mask
    return {"exact": float(right.all(axis=1).mean()),
            "symbol": float(right[data.tgt_mask].mean())}


def exposure_bias(model, data: Batch) -> dict:
    """Accuracy of each target symbol with the true prefix (teacher forcing) and with the model's own.

    Both modes share every prefix up to the first wrong symbol (greedy decoding
    of a prefix that was right is the teacher-forced step), so the first error
    sits at the same place in both, and exact match is the same. They differ
    *after* it: teacher forcing hands the decoder the true symbol again, free
    running its own mistake.

    Returns
    -------
    dict
        ``tf_symbol`` and ``free_symbol``: fraction of target symbols right
        (padding excluded); ``tf_after_error`` and ``free_after_error``: the same
        over the symbols after a problem's first error (None if no error);
        ``n_after_error``: how many such symbols; ``exact``: exact match (equal
        in both modes).
    """
    logits, _ = model.forward(data)
    tf_right = logits.argmax(axis=-1) == data.tgt_out
    ids, _ = greedy_decode(model, data.src, data.src_mask)
    free = np.full(data.tgt_out.shape, -1, dtype=np.int64)
    free[:, : ids.shape[1]] = ids
    free_right = free == data.tgt_out
    mask = data.tgt_mask
    wrong = ~tf_right & mask
    first = np.where(wrong.any(axis=1), wrong.argmax(axis=1), mask.shape[1])
    after = (np.arange(mask.shape[1])[None, :] > first[:, None]) & mask
    n_after = int(after.sum())
    return {"tf_symbol": float(tf_right[mask].mean()), "free_symbol": float(free_right[mask].mean()),
            "tf_after_error": float(tf_right[after].mean()) if n_after else None,
            "free_after_error": float(free_right[after].mean()) if n_after else None,
            "n_after_error": n_after, "exact": float((tf_right | ~mask).all(axis=1).mean())}


def train_seq2seq(model, train: Batch, held: Batch, *, epochs=10, batch_size=32, lr=1e-2, lr_decay=0.93,
                  clip=1.0, seed=0, target=None, extra_epochs=0, time_limit=None, log=None) -> dict:
    """Train ``model`` with Adam and clipping; evaluate on ``held`` after every epoch.

    Parameters
    ----------
    model : EncoderDecoder or RepeatVector
    train, held : Batch
        Training problems and held-out problems (never seen in training).
    epochs : int
        Most epochs to run.
    batch_size : int
        32 in the Keras example.
    lr : float
        Adam's learning rate in the first epoch (Keras's default is 1e-3; with
        1e-3 these models learned several times slower per epoch).
    lr_decay : float
        The learning rate is multiplied by this after every epoch.
    clip : float or None
        Max global gradient norm.
    seed : int
        Seeds the generator of the epoch orders.
    target : float or None
        Stop ``extra_epochs`` epochs after the held-out exact match first reaches this.
    time_limit : float or None
        Stop after the epoch during which this many seconds have passed.
    log : callable or None
        Called with the history after every epoch (e.g. to print or save).

    Returns
    -------
    history : dict
        ``epoch``, ``loss`` (mean training loss of the epoch), ``exact``,
        ``per_digit`` (held-out, free running), ``seconds`` (cumulative training
        time, evaluation excluded), lists with one entry per epoch; and
        ``reached`` (first epoch with exact >= target, or None).
    """
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be a positive int; got {v!r}")
    if len(train.src) == 0 or len(held.src) == 0:
        raise ValueError("train and held must hold at least one problem each")
    rng = np.random.default_rng(seed)
    opt = Adam(model.params, lr=lr)
    hist = {"epoch": [], "loss": [], "exact": [], "per_digit": [], "seconds": [], "reached": None}
    spent, extra = 0.0, None
    for epoch in range(1, epochs + 1):
        opt.lr = lr * lr_decay ** (epoch - 1)
        t0, losses = time.perf_counter(), []
        for b in batches(train, batch_size, rng):
            model.zero_grad()
            losses.append(model.loss_and_grads(b))
            if clip is not None:
                clip_grad_norm(model.grads, clip)
            opt.step(model.grads)
        spent += time.perf_counter() - t0
        score = evaluate(model, held)
        hist["epoch"].append(epoch)
        hist["loss"].append(float(np.mean(losses)))
        hist["exact"].append(score["exact"])
        hist["per_digit"].append(score["per_digit"])
        hist["seconds"].append(spent)
        if log is not None:
            log(hist)
        if target is not None and hist["reached"] is None and score["exact"] >= target:
            hist["reached"], extra = epoch, extra_epochs
        elif extra is not None:
            extra -= 1
        if extra is not None and extra <= 0 or time_limit is not None and spent > time_limit:
            break
    return hist
