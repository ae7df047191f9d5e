r"""Additive attention (Bahdanau et al. 2015), forward and backward, NumPy only.

A query :math:`q_t` (a decoder state) reads the keys :math:`k_s` (the encoder
outputs, which are also the values) through a score, a softmax over the
source positions s, and a weighted sum:

.. math::

    e_{ts} &= v^\top \tanh(q_t W_q + k_s W_k) \\
    \alpha_{ts} &= \frac{m_s\, e^{e_{ts}}}{\sum_{s'} m_{s'}\, e^{e_{ts'}}} \\
    c_t &= \sum_s \alpha_{ts}\, k_s

The mask :math:`m_s \in \{0, 1\}` removes padding: a masked position gets
:math:`\alpha = 0` exactly (its score is set to :math:`-\infty` before the
softmax). The softmax runs over the *source* axis s, so every row
:math:`\alpha_{t\cdot}` sums to 1.

Shapes (batch first): q (N, Tq, Hq), k (N, Tk, Hk), mask (N, Tk) bool;
W_q (Hq, A), W_k (Hk, A), v (A,); outputs context (N, Tq, Hk) and
alpha (N, Tq, Tk).

References
----------
Bahdanau, D., Cho, K. & Bengio, Y. (2015). Neural machine translation by
jointly learning to align and translate. ICLR.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array, check_dtype, check_size, make_rng


class AttentionCache(NamedTuple):
    """What :func:`additive_attention_backward` needs from the forward."""

    q: np.ndarray  # (N, Tq, Hq)
    k: np.ndarray  # (N, Tk, Hk)
    u: np.ndarray  # (N, Tq, Tk, A): tanh(q_t W_q + k_s W_k)
    alpha: np.ndarray  # (N, Tq, Tk)
    W_q: np.ndarray
    W_k: np.ndarray
    v: np.ndarray


def _check_mask(mask, N, Tk):
    if mask is None:
        return np.ones((N, Tk), dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != (N, Tk):
        raise ValueError(f"mask must have shape (N, Tk) = ({N}, {Tk}); got {mask.shape}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be a bool array (True at real positions); got dtype {mask.dtype}")
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(f"mask must keep at least one position per row; rows {empty[:5].tolist()} "
                         "are all padding")
    return mask


def additive_attention_forward(q, k, W_q, W_k, v, mask=None):
    r"""Additive attention of queries ``q`` over keys/values ``k``.

    Parameters
    ----------
    q : ndarray (N, Tq, Hq)
        Queries, e.g. the decoder's hidden states.
    k : ndarray (N, Tk, Hk)
        Keys and values, e.g. the encoder's outputs.
    W_q : ndarray (Hq, A)
    W_k : ndarray (Hk, A)
    v : ndarray (A,)
    mask : bool ndarray (N, Tk) or None
        True at real source positions; None keeps all.

    Returns
    -------
    context : ndarray (N, Tq, Hk)
        :math:`c_t = \sum_s \alpha_{ts} k_s`.
    alpha : ndarray (N, Tq, Tk)
        Attention weights; each row sums to 1 over s; 0 at masked positions.
    cache : AttentionCache
    """
    W_q = check_array("W_q", W_q, ("Hq", "A"))
    Hq, A = W_q.shape
    W_k = check_array("W_k", W_k, ("Hk", "A"), (None, A))
    v = check_array("v", v, ("A",), (A,))
    q = check_array("q", q, ("N", "Tq", "Hq"), (None, None, Hq))
    N = q.shape[0]
    k = check_array("k", k, ("N", "Tk", "Hk"), (N, None, W_k.shape[0]))
    mask = _check_mask(mask, N, k.shape[1])
    qp = q @ W_q  # (N, Tq, A)
    kp = k @ W_k  # (N, Tk, A)
    u = np.tanh(qp[:, :, None, :] + kp[:, None, :, :])  # (N, Tq, Tk, A)
    e = u @ v  # e_ts = v^T u_ts: (N, Tq, Tk)
    e = np.where(mask[:, None, :], e, -np.inf)  # padding never gets weight
    e = e - e.max(axis=-1, keepdims=True)
    alpha = np.exp(e)
    alpha /= alpha.sum(axis=-1, keepdims=True)  # softmax over the source axis s
    context = alpha @ k  # c_t = sum_s alpha_ts k_s: (N, Tq, Hk)
    return context, alpha, AttentionCache(q, k, u, alpha, W_q, W_k, v)


def additive_attention_backward(dcontext, cache: AttentionCache, dalpha=None):
    r"""Gradients of :func:`additive_attention_forward`.

    Parameters
    ----------
    dcontext : ndarray (N, Tq, Hk)
        Gradient of the loss w.r.t. ``context``.
    cache : AttentionCache
    dalpha : ndarray (N, Tq, Tk) or None
        Gradient w.r.t. the returned weights, if the loss uses them directly.

    Returns
    -------
    dq : ndarray (N, Tq, Hq)
    dk : ndarray (N, Tk, Hk)
        Through both roles of k: values (the weighted sum) and keys (the score).
    grads : dict
        ``W_q`` (Hq, A), ``W_k`` (Hk, A), ``v`` (A,).
    """
    q, k, u, alpha, W_q, W_k, v = cache
    N, Tq, Tk = alpha.shape
    dcontext = check_array("dcontext", dcontext, ("N", "Tq", "Hk"), (N, Tq, k.shape[2]))
    # c_t = sum_s alpha_ts k_s
    dalpha_total = dcontext @ k.transpose(0, 2, 1)  # (N, Tq, Tk)
    if dalpha is not None:
        dalpha_total = dalpha_total + check_array("dalpha", dalpha, ("N", "Tq", "Tk"), (N, Tq, Tk))
    dk = alpha.transpose(0, 2, 1) @ dcontext  # k as values: (N, Tk, Hk)
    # alpha = softmax_s(e): de = alpha * (dalpha - sum_s alpha dalpha); masked alpha = 0 -> de = 0
    de = alpha * (dalpha_total - np.sum(alpha * dalpha_total, axis=-1, keepdims=True))
    # e_ts = v^T u_ts,  u = tanh(q W_q + k W_k)
    dv = np.einsum("nqsa,nqs->a", u, de)
    dpre = de[..., None] * v * (1.0 - u * u)  # (N, Tq, Tk, A)
    dqp, dkp = dpre.sum(axis=2), dpre.sum(axis=1)  # (N, Tq, A), (N, Tk, A)
    A = v.shape[0]
    grads = {"W_q": q.reshape(-1, q.shape[2]).T @ dqp.reshape(-1, A),
             "W_k": k.reshape(-1, k.shape[2]).T @ dkp.reshape(-1, A),
             "v": dv}
    dq = dqp @ W_q.T
    dk += dkp @ W_k.T  # k as keys
    return dq, dk, grads


class AdditiveAttention:
    """Layer around :func:`additive_attention_forward` with ``params`` / ``grads`` dicts.

    Parameters
    ----------
    query_size, key_size, attn_size : int
        Hq, Hk and A.
    seed, rng, dtype
        Every parameter ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (fan_in = Hq, Hk, A).

    Attributes
    ----------
    params, grads : dict
        ``W_q`` (Hq, A), ``W_k`` (Hk, A), ``v`` (A,); gradients accumulate.
    """

    def __init__(self, query_size, key_size, attn_size, *, seed=0, rng=None, dtype=np.float64):
        Hq, Hk, A = (check_size(n, s) for n, s in (("query_size", query_size), ("key_size", key_size),
                                                     ("attn_size", attn_size)))
        self.dtype = check_dtype(dtype)
        rng = make_rng(seed, rng)
        self.params = {name: rng.uniform(-1 / np.sqrt(fan), 1 / np.sqrt(fan), shape).astype(self.dtype)
                       for name, fan, shape in (("W_q", Hq, (Hq, A)), ("W_k", Hk, (Hk, A)), ("v", A, (A,)))}
        self.zero_grad()
        self._cache = None

    def zero_grad(self):
        """Set every gradient to zero."""
        self.grads = {k: np.zeros_like(p) for k, p in self.params.items()}

    def forward(self, q, k, mask=None):
        """``q`` (N, Tq, Hq), ``k`` (N, Tk, Hk), ``mask`` (N, Tk) -> (context (N, Tq, Hk), alpha (N, Tq, Tk))."""
        context, alpha, self._cache = additive_attention_forward(
            q, k, self.params["W_q"], self.params["W_k"], self.params["v"], mask)
        return context, alpha

    def backward(self, dcontext):
        """``dcontext`` (N, Tq, Hk) -> (dq, dk); adds the parameter gradients to ``grads``."""
        if self._cache is None:
            raise RuntimeError("AdditiveAttention.backward called before forward: run forward(q, k) first")
        dq, dk, grads = additive_attention_backward(dcontext, self._cache)
        for name, g in grads.items():
            self.grads[name] += g
        return dq, dk
