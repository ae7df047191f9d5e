r"""The readout-and-loss exercise of Chapter 1: cases, reference and named wrong answers.

The reader writes ``readout_loss(hs, W_hy, b_y, targets) -> (loss, dhs, dW_hy, db_y)``:
the readout :math:`z_t = h_t W_{hy} + b_y`, the mean softmax cross-entropy over the
N T positions (rnnlib's convention, :func:`rnnlib.softmax_cross_entropy`) and its
backward,

.. math::

    \mathrm{d}z_t = \frac{p_t - \operatorname{onehot}(c_t)}{N T}, \quad
    \mathrm{d}W_{hy} = \sum_t h_t^\top \mathrm{d}z_t, \quad
    \mathrm{d}b_y = \sum_t \sum_n \mathrm{d}z_t[n, :], \quad
    \mathrm{d}\hat h_t = \mathrm{d}z_t W_{hy}^\top .

This module holds what the check :func:`rnnlib.exercises.ch1.check_readout_loss` is built
from: the seeded cases (:func:`readout_cases`), the reference
(:func:`readout_loss_reference`) and the catalogue :data:`READOUT_MISTAKES`, most of it
one implementation with switches (``_readout``) whose defaults give the right answer.
:mod:`rnnlib.exercises.ch1` re-exports every public name.

Shapes: ``hs`` (N, T, H), ``W_hy`` (H, V), ``b_y`` (V,), ``targets`` int (N, T) with values
in [0, V); ``dhs`` (N, T, H), ``dW_hy`` (H, V), ``db_y`` (V,). The first cases have H == V,
so that a transposed ``W_hy`` still runs and can be named; the last has every logit near 800
(their differences of order 1, so every probability is moderate), where a softmax without
the max subtracted overflows (``exp(800)`` is ``inf`` in float64) and one with it is exact.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlib.losses import softmax_cross_entropy
from ._check import Exercise, Mistake, _Raised

READOUT_SIZES = [(2, 3, 4, 4), (1, 4, 4, 4), (3, 2, 5, 3), (2, 5, 3, 6)]  # (N, T, H, V); H == V first
OVERFLOW_LOGIT = 800.0  # exp(800) overflows float64 (the largest finite exp is near exp(709.8))


def _case(rng, N, T, H, V, big=0.0):
    hs = np.tanh(rng.standard_normal((N, T, H)))
    W_hy = rng.standard_normal((H, V)) / np.sqrt(H)
    b_y = rng.standard_normal(V) + big  # big: every logit near `big`, their differences moderate
    targets = rng.integers(0, V, size=(N, T))
    return hs, W_hy, b_y, targets


def readout_cases(rng):
    """Tuples ``(hs, W_hy, b_y, targets)``: :data:`READOUT_SIZES`, then one with logits near 800."""
    cases = [_case(rng, *sizes) for sizes in READOUT_SIZES]
    cases.append(_case(rng, 2, 3, 4, 5, big=OVERFLOW_LOGIT))
    return cases


def _grads(hs, W_hy, dz, *, W_T=True, dW_T=False, db="sum"):
    """dhs, dW_hy, db_y from dz (N, T, V), with switches for the catalogued slips."""
    H, V = W_hy.shape
    dhs = dz @ (W_hy.T if W_T else W_hy)
    dW_hy = hs.reshape(-1, H).T @ dz.reshape(-1, V)  # (H, V): sum over n and t
    db_y = {"sum": lambda: dz.sum(axis=(0, 1)), "batch-only": lambda: dz.sum(axis=0),
            "mean": lambda: dz.mean(axis=(0, 1))}[db]()
    return dhs, (dW_hy.T if dW_T else dW_hy), db_y


def readout_loss_reference(hs, W_hy, b_y, targets):
    """(loss, dhs, dW_hy, db_y) from :func:`rnnlib.softmax_cross_entropy` (a mean over N T)."""
    loss, dz = softmax_cross_entropy(hs @ W_hy + b_y, targets)
    return (loss, *_grads(hs, W_hy, dz))


def _readout(*, scale="mean", stable=True, axis=-1, sign=1.0, onehot=True, **grad_switches):
    """The readout and loss with switches for the catalogued slips (the defaults are right).

    ``scale``: what the loss and the gradient are divided by, ``"mean"`` (N T), ``"sum"``
    (nothing), ``"N"`` (the batch size only) or ``"loss-only"`` (the loss a mean, the
    gradient not divided).
    """
    def f(hs, W_hy, b_y, targets):
        N, T, _ = hs.shape
        V = W_hy.shape[1]
        z = hs @ W_hy + b_y  # (N, T, V)
        if stable:
            z = z - z.max(axis=axis, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=axis, keepdims=True)
        Y = np.eye(V)[targets]  # (N, T, V)
        nll = -np.log(np.sum(p * Y, axis=-1))  # (N, T)
        M = {"mean": N * T, "sum": 1, "N": N, "loss-only": N * T}[scale]
        dz = sign * (p - (Y if onehot else 0.0)) / (1 if scale == "loss-only" else M)
        return (float(nll.sum() / M), *_grads(hs, W_hy, dz, **grad_switches))
    return f


READOUT_MISTAKES = [
    Mistake("not-averaged", _readout(scale="sum"),
            "You summed the loss over the N*T positions and did not divide the gradient: rnnlib's loss "
            "is the mean, L = -(1/(N*T)) sum log p[target], so dz = (p - onehot) / (N*T). A mean keeps the "
            "loss and the gradient of the same size whatever N and T, so one learning rate suits them all."),
    Mistake("divided-by-N", _readout(scale="N"),
            "You divided by the batch size N only. Every step of every sequence is a prediction, and the "
            "loss is the mean over all N*T of them: divide the loss and dz by N*T."),
    Mistake("gradient-not-averaged", _readout(scale="loss-only"),
            "Your loss is the mean, but the gradient is not divided: the 1/(N*T) in front of the loss "
            "stays in front of its derivative, dz = (p - onehot) / (N*T)."),
    Mistake("no-max-subtraction", _readout(stable=False),
            "Your answer is right for moderate logits but gives inf or nan when a logit is large (one "
            f"case has logits near {OVERFLOW_LOGIT:g}, and np.exp(800) overflows). Subtract each row's "
            "maximum before the exponential, z - z.max(axis=-1, keepdims=True): the softmax does not "
            "change, and the largest exponential is exp(0) = 1."),
    Mistake("softmax-over-time", _readout(axis=1),
            "Your softmax normalises over the time axis (axis=1). With z of shape (N, T, V) the classes "
            "are the last axis: each row z[n, t, :] becomes probabilities, axis=-1."),
    Mistake("gradient-sign", _readout(sign=-1.0),
            "The sign of dz is flipped: d(-log p_c)/dz_k = p_k - [k = c], so dz = (p - onehot) / (N*T), "
            "not (onehot - p) / (N*T)."),
    Mistake("no-onehot", _readout(onehot=False),
            "dz is missing the one-hot term: the derivative of -log p_c with respect to z_k is "
            "p_k - [k = c], so subtract 1 at the target class, dz = (p - onehot) / (N*T)."),
    Mistake("W_hy-not-transposed", _readout(W_T=False),
            "dhs should be dz @ W_hy.T, shape (N, T, H): the readout multiplies h_t by W_hy on the right, "
            "so the gradient goes back through its transpose. dz @ W_hy only runs when H == V."),
    Mistake("dW_hy-transposed", _readout(dW_T=True),
            "dW_hy is transposed: a gradient has the shape of its parameter, (H, V), sum over n and t of "
            "h_t[n]^T dz_t[n] (e.g. hs.reshape(-1, H).T @ dz.reshape(-1, V))."),
    Mistake("db-not-summed-over-time", _readout(db="batch-only"),
            "db_y must have the shape of b_y, (V,): the bias is shared by every example and every step, "
            "so sum dz over the batch and the time axes, dz.sum(axis=(0, 1))."),
    Mistake("db-averaged", _readout(db="mean"),
            "db_y is the sum of dz over the batch and the time axes, not the mean: the 1/(N*T) is "
            "already inside dz."),
]


def _marked(v):
    """``v`` with every array or number holding an inf or nan replaced by a marker of its shape.

    Two answers that both overflow on a case then agree there, wherever their infs and nans
    fall (one reader's ``-log(0)`` is ``inf``, another's ``0/0`` is ``nan``).
    """
    if isinstance(v, (tuple, list)):
        return type(v)(_marked(x) for x in v)
    try:
        a = np.asarray(v, dtype=np.float64)
    except Exception:  # noqa: BLE001 - whatever the reader returned: compared as it is
        return v
    if np.all(np.isfinite(a)):
        return v
    return np.full(a.shape, -1.25e300) if isinstance(v, np.ndarray) else -1.25e300


class OverflowAwareExercise(Exercise):
    """An :class:`Exercise` whose mistakes may overflow: inf and nan match inf and nan.

    Only naming a mistake is affected (an answer with an inf or nan never passes): where the
    mistake's output and the reader's both hold a non-finite value, they agree on it.
    """

    def _mistake_explains(self, m, cases, outputs) -> bool:
        marked = [o if isinstance(o, _Raised) else _marked(o) for o in outputs]
        wrapped = dataclasses.replace(m, func=lambda *a: _marked(m.func(*a)))
        return super()._mistake_explains(wrapped, cases, marked)
