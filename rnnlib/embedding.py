r"""Token embeddings: a row lookup that is a one-hot vector times a matrix.

For a token id :math:`v` with one-hot row :math:`o_v \in \{0, 1\}^V`,

.. math::

    e = o_v W = W_{v,:}, \qquad W \in \mathbb{R}^{V \times D},

so the forward pass is an index into ``W`` (no matmul), and the gradient
:math:`\partial L / \partial W = \sum_{n,t} o_{v_{n,t}}^\top\, \partial L / \partial e_{n,t}`
adds each position's ``de`` into the row of its token: a *scatter-add*
(``np.add.at``), where a token that appears twice collects both gradients.

:class:`Embedding` matches ``torch.nn.Embedding`` (init N(0, 1); with
``padding_idx`` that row starts at zero and never receives a gradient).
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array, check_dtype, check_size, make_rng
from rnnlib._params import Parametric


class Embedding(Parametric):
    r"""A lookup table of V vectors of size D: ``ids`` (N, T) -> ``e`` (N, T, D).

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        V (vocabulary size) and D.
    seed : int
        Seed of the default generator (ignored if ``rng`` is given).
    rng : np.random.Generator, optional
    padding_idx : int or None
        A token id in [0, V) whose row is zero and gets no gradient (the
        padding symbol of a padded batch), as torch's ``padding_idx``.
    dtype : np.float32 or np.float64

    Attributes
    ----------
    params, grads : dict
        ``W`` (V, D), rows drawn from N(0, 1) (torch's default).
    """

    def __init__(self, num_embeddings, embedding_dim, *, seed=0, rng=None, padding_idx=None,
                 dtype=np.float64):
        self.num_embeddings = check_size("num_embeddings", num_embeddings)
        self.embedding_dim = check_size("embedding_dim", embedding_dim)
        self.dtype = check_dtype(dtype)
        V = self.num_embeddings
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"padding_idx must be an int in [0, {V}) or None; "
                                f"got {type(padding_idx).__name__} {padding_idx!r}")
            if not 0 <= padding_idx < V:
                raise ValueError(f"padding_idx must be in [0, num_embeddings) = [0, {V}); got {padding_idx}")
            padding_idx = int(padding_idx)
        self.padding_idx = padding_idx
        rng = make_rng(seed, rng)
        W = rng.standard_normal((V, self.embedding_dim)).astype(self.dtype)
        if padding_idx is not None:
            W[padding_idx] = 0.0
        self.params = {"W": W}
        self.zero_grad()
        self._ids = None


    def __repr__(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad}, dtype={self.dtype.name})"

    def check_ids(self, ids):
        """``ids`` as an integer array with every entry in [0, V)."""
        V = self.num_embeddings
        a = np.asarray(ids) if isinstance(ids, (list, tuple)) or np.isscalar(ids) else ids
        if not isinstance(a, np.ndarray):
            raise TypeError(f"ids must be an integer array (N, T) of token ids in [0, {V}); "
                            f"got {type(ids).__name__}")
        if a.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers in [0, {V}) (N, T); got dtype {a.dtype}")
        if a.size == 0:
            raise ValueError(f"ids must not be empty; got shape {a.shape}")
        if a.min() < 0 or a.max() >= V:
            raise ValueError(f"ids must lie in [0, num_embeddings) = [0, {V}); "
                             f"got values from {a.min()} to {a.max()}")
        return a

    def forward(self, ids):
        """Look up the rows: ``ids`` (N, T) ints -> ``e`` (N, T, D) (any leading shape works).

        ``e[n, t] = W[ids[n, t]]``, the one-hot row of the token times ``W``.
        """
        ids = self.check_ids(ids)
        self._ids = ids
        return self.params["W"][ids]  # (N, T, D): fancy indexing copies

    def backward(self, de):
        """Scatter-add ``de`` (N, T, D) into the rows of ``grads["W"]``; returns None.

        ``dW[v] += sum of de[n, t] over the positions where ids[n, t] = v``: a token
        that occurs twice collects both gradients (``np.add.at``, not ``dW[ids] = de``).
        The ``padding_idx`` row gets nothing.
        """
        if self._ids is None:
            raise RuntimeError("Embedding.backward called before forward: run forward(ids) first")
        shape = self._ids.shape + (self.embedding_dim,)
        de = check_array("de", de, tuple(f"n{k}" for k in range(len(shape) - 1)) + ("D",), shape,
                         dtype=self.dtype)
        dW = np.zeros_like(self.params["W"])
        # e = onehot(ids) @ W  ->  dW = onehot(ids)^T @ de: repeated ids add up
        np.add.at(dW, self._ids.reshape(-1), de.reshape(-1, self.embedding_dim))
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0.0
        self.grads["W"] += dW
        return None
