r"""The selective copying task (Gu & Dao 2023), small enough for a CPU.

A sequence of ``T`` steps holds ``K`` data tokens (symbols ``1 .. V``) at random
positions, in order, among noise tokens (symbol 0); then ``K`` marker steps
(symbol ``V + 1``) ask for the data tokens, in the order they came. The network
reads one-hot inputs and must output, at each marker step, the next data token.
Unlike the copy task of Chapter 4 the data sit at *random* places: the model must
decide from the content of each step whether to store it, which is what gates
that read :math:`x_t` can do and a time-invariant convolution cannot.

Shapes: ``x`` (N, T + K, V + 2) one-hot; ``y`` (N, K) integer labels in ``[0, V)``
(symbol s is label s - 1), the targets of the last K steps.

References
----------
Gu, A., Dao, T. (2023). Mamba: linear-time sequence modeling with selective state spaces.
arXiv:2312.00752.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_rng, check_size


def selective_copy(N, T, rng, n_tokens=4, n_symbols=8):
    """A batch of the selective copying task.

    Parameters
    ----------
    N : int
        Batch size.
    T : int
        Length of the part holding the data (noise + data), >= ``n_tokens``.
    rng : np.random.Generator
    n_tokens : int
        K, the number of data tokens to copy.
    n_symbols : int
        V, the number of data symbols.

    Returns
    -------
    x : ndarray (N, T + K, V + 2), float64 one-hot
        Symbol 0 = noise, 1..V = data, V + 1 = "recall now".
    y : ndarray (N, K), int
        Labels of the data tokens in order (symbol - 1).
    """
    N, T = check_size("N", N), check_size("T", T)
    K, V = check_size("n_tokens", n_tokens), check_size("n_symbols", n_symbols)
    check_rng(rng)
    if K > T:
        raise ValueError(f"n_tokens must be <= T; got n_tokens={K}, T={T}")
    tokens = rng.integers(0, V, size=(N, K))  # labels (N, K)
    positions = np.sort(np.argsort(rng.random((N, T)), axis=1)[:, :K], axis=1)  # K distinct steps, in order
    symbols = np.zeros((N, T + K), dtype=np.int64)
    np.put_along_axis(symbols, positions, tokens + 1, axis=1)
    symbols[:, T:] = V + 1
    x = np.zeros((N, T + K, V + 2))
    np.put_along_axis(x, symbols[..., None], 1.0, axis=2)
    return x, tokens


def selective_copy_chance(n_symbols=8) -> float:
    """Accuracy of a model that guesses: 1 / V."""
    return 1.0 / check_size("n_symbols", n_symbols)
