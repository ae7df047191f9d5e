r"""Synthetic long-memory tasks: the adding problem and the copy-memory task.

Both tasks are solved only by a network that carries information across many
time steps, and both have a *baseline*: the loss of the best predictor that
remembers nothing. A model that stays at the baseline has learnt the output
statistics but not the memory.

* :func:`adding_problem` - regression, many-to-one; baseline
  :data:`ADDING_BASELINE_MSE` = 1/6.
* :func:`first_marker` - where the first marker of each adding sequence sits
  (to measure the gradient that reaches it).
* :func:`copy_problem` - classification, many-to-many; baseline
  :func:`copy_baseline` = 10 ln 8 / (T + 20) nats per step.

Every generator takes an explicit ``rng: np.random.Generator`` and makes a
fixed sequence of draws from it, so the same generator state gives the same
batch. Shapes follow the book: ``x`` (N, T, D) batch-first. Only NumPy is
imported here.

References
----------
Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural
Computation 9(8). (Experiment 4: the adding problem.)
Le, Q. V., Jaitly, N. & Hinton, G. E. (2015). A simple way to initialize
recurrent networks of rectified linear units. arXiv:1504.00941.
Arjovsky, M., Shah, A. & Bengio, Y. (2016). Unitary evolution recurrent
neural networks. ICML. (The copy-memory task in the form used here.)
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_size
from rnnlib._checks import check_rng

ADDING_BASELINE_MSE = 1.0 / 6.0
r"""MSE of the constant prediction 1.0 on the adding problem.

The target is :math:`y = U_1 + U_2` with :math:`U_1, U_2` independent
:math:`U[0, 1)`. The constant minimising the expected squared error is the
mean :math:`E[y] = 1/2 + 1/2 = 1`, and its error is the variance

.. math:: E[(y - 1)^2] = \operatorname{Var}(U_1) + \operatorname{Var}(U_2)
          = \tfrac{1}{12} + \tfrac{1}{12} = \tfrac{1}{6} \approx 0.167,

since :math:`\operatorname{Var}(U[0,1)) = 1/12`. A model that ignores the
markers cannot beat it (the unmarked values are independent of ``y``).
"""

BLANK = 0
"""Copy task: the blank symbol (input and target)."""


def adding_problem(N, T, rng):
    r"""A batch of the adding problem.

    Parameters
    ----------
    N : int
        Number of sequences.
    T : int >= 2
        Sequence length.
    rng : np.random.Generator
        Draws, in this order: the values (N, T), the first marker positions
        (N,), the second marker positions (N,).

    Returns
    -------
    x : ndarray (N, T, 2), float64
        Channel 0: values :math:`u_{n,t} \sim U[0, 1)`. Channel 1: markers,
        0 everywhere except exactly two 1s per sequence.
    y : ndarray (N, 1), float64
        The sum of the two marked values.

    Notes
    -----
    Marker convention of Le et al. (2015) (also Arjovsky et al. 2016): the
    first marker is uniform over the first half, :math:`t_1 \in \{0, \dots,
    \lfloor T/2 \rfloor - 1\}`, the second uniform over the second half,
    :math:`t_2 \in \{\lfloor T/2 \rfloor, \dots, T - 1\}` (0-based). Hochreiter &
    Schmidhuber (1997) instead put the first marker among the first 10 steps
    and use values in [-1, 1]; not used here. So the first marker is on average
    :math:`\approx 3T/4` steps before the end: the network must keep a value
    for that long.

    .. math:: y_n = u_{n, t_1} + u_{n, t_2}
    """
    N, T, rng = check_size("N", N), check_size("T", T), check_rng(rng)
    if T < 2:
        raise ValueError(f"T must be at least 2 (one marker in each half); got {T}")
    half = T // 2
    values = rng.random((N, T))  # (N, T), U[0, 1)
    t1 = rng.integers(0, half, size=N)  # (N,), first half
    t2 = rng.integers(half, T, size=N)  # (N,), second half
    rows = np.arange(N)
    markers = np.zeros((N, T))
    markers[rows, t1] = 1.0
    markers[rows, t2] = 1.0
    x = np.stack([values, markers], axis=-1)  # (N, T, 2)
    y = (values[rows, t1] + values[rows, t2])[:, None]  # (N, 1)
    return x, y


def first_marker(x):
    """Position of the first marker of each adding-problem sequence.

    Parameters
    ----------
    x : ndarray (N, T, 2)
        Inputs from :func:`adding_problem`.

    Returns
    -------
    t1 : int ndarray (N,)
        The 0-based step of the first 1 in channel 1.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(f"x must be adding-problem inputs of shape (N, T, 2); got shape {x.shape}")
    marked = x[:, :, 1] > 0.5  # (N, T)
    if not marked.any(axis=1).all():
        raise ValueError("x has a sequence without any marker in channel 1")
    return np.argmax(marked, axis=1)


def copy_problem(N, T, rng, n_symbols=8, length=10):
    r"""A batch of the copy-memory task (Arjovsky et al. 2016).

    Parameters
    ----------
    N : int
        Number of sequences.
    T : int >= 1
        The delay: steps between the end of the symbols and the delimiter,
        delimiter included.
    rng : np.random.Generator
        One draw: the symbols (N, length).
    n_symbols : int >= 2
        Symbols are ``1 .. n_symbols`` (default 8).
    length : int
        Number of symbols to remember (default 10).

    Returns
    -------
    x : ndarray (N, T + 2 length, n_symbols + 2), float64
        One-hot inputs. Alphabet: 0 blank, ``1 .. n_symbols`` symbols,
        ``n_symbols + 1`` the delimiter (9 with the defaults, so D = 10).
    y : int ndarray (N, T + 2 length)
        Targets in ``0 .. n_symbols``: blank (0) everywhere except the last
        ``length`` steps, which hold the symbols. A readout of
        ``n_symbols + 1`` classes suffices; any larger one also works.

    Notes
    -----
    With the defaults the total length is T + 20, 0-based::

        steps 0 .. 9          the 10 symbols     target blank
        steps 10 .. T + 8     T - 1 blanks       target blank
        step  T + 9           delimiter          target blank
        steps T + 10 .. T+19  10 blanks          target = the 10 symbols

    This is the standard layout of Arjovsky et al. (2016):
    the delimiter is the T-th step after the symbols, and the network must
    output the symbols in order after it. See :func:`copy_baseline`.
    """
    N, T, rng = check_size("N", N), check_size("T", T), check_rng(rng)
    n_symbols, length = check_size("n_symbols", n_symbols), check_size("length", length)
    if n_symbols < 2:
        raise ValueError(f"n_symbols must be at least 2; got {n_symbols}")
    L = T + 2 * length  # total length
    delimiter = n_symbols + 1
    symbols = rng.integers(1, n_symbols + 1, size=(N, length))  # (N, length)
    tokens = np.full((N, L), BLANK, dtype=np.int64)  # (N, L)
    tokens[:, :length] = symbols
    tokens[:, T + length - 1] = delimiter
    y = np.full((N, L), BLANK, dtype=np.int64)  # (N, L)
    y[:, L - length:] = symbols
    x = np.eye(n_symbols + 2)[tokens]  # (N, L, n_symbols + 2) one-hot
    return x, y


def copy_baseline(T, length=10, n_symbols=8):
    r"""Cross-entropy per step (nats) of the memoryless copy-task strategy.

    Parameters
    ----------
    T : int
        The delay, as in :func:`copy_problem`.
    length, n_symbols : int
        As in :func:`copy_problem` (defaults 10 and 8).

    Returns
    -------
    float
        :math:`\dfrac{\text{length} \cdot \ln(\text{n\_symbols})}{T + 2\,\text{length}}`,
        i.e. :math:`10 \ln 8 / (T + 20)` with the defaults.

    Notes
    -----
    The target is blank for the first T + length steps, and the input's
    delimiter tells *when* the read-out starts, without any memory of the
    symbols. The best memoryless model therefore predicts blank with
    probability 1 there (loss 0), then a uniform guess over the
    ``n_symbols`` symbols for the last ``length`` steps (loss
    :math:`\ln(\text{n\_symbols})` each). Averaged over the
    :math:`T + 2\,\text{length}` steps this is the formula above.
    """
    T, length, n_symbols = check_size("T", T), check_size("length", length), check_size("n_symbols", n_symbols)
    return length * float(np.log(n_symbols)) / (T + 2 * length)
