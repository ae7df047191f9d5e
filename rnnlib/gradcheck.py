r"""Finite-difference gradient checks: the book's proof that a backward pass is right.

For a function :math:`f` with upstream gradient :math:`\bar y` (``df``), the
scalar :math:`L(x) = \sum f(x) \odot \bar y` has gradient

.. math:: \frac{\partial L}{\partial x_k} \approx \frac{L(x + h e_k) - L(x - h e_k)}{2h},

with error :math:`O(h^2)` (centred differences). In float64 with
:math:`h = 10^{-6}` this agrees with a correct analytic gradient to about
1e-9 relative, while a wrong one is off by order 1.

``f`` always receives the (perturbed) array as its argument: write
``lambda W: forward(x, W)`` rather than a closure that ignores its input.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_rng


def _as_float64_array(name, x):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float ndarray (float64 for gradient checks); got "
                        f"{type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    return x


def _weighted_sum(y, df):
    y = np.asarray(y, dtype=np.float64)
    if df is None:
        return float(np.sum(y))
    if np.shape(df) != y.shape:
        raise ValueError(f"df must have the shape of f's output {y.shape}; got {np.shape(df)}")
    return float(np.sum(y * df))


def numerical_gradient(f, x, df=None, h=1e-6):
    r"""Centred-difference gradient of :math:`\sum f(x) \odot df` w.r.t. ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returning an array or a scalar. It is called with ``x``
        itself, perturbed in place one entry at a time; every entry is restored.
    x : float ndarray, any shape
    df : ndarray or None
        Upstream gradient, same shape as ``f(x)``; ``None`` means ones.
    h : float
        Step.

    Returns
    -------
    grad : ndarray, same shape as ``x`` (float64)
    """
    x = _as_float64_array("x", x)
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        idx = it.multi_index
        old = x[idx].copy()
        x[idx] = old + h
        plus = _weighted_sum(f(x), df)
        x[idx] = old - h
        minus = _weighted_sum(f(x), df)
        x[idx] = old  # restore
        grad[idx] = (plus - minus) / (2.0 * h)
    return grad


def rel_error(a, b) -> float:
    r"""Norm-wise relative error :math:`\lVert a - b\rVert / \max(\lVert a\rVert + \lVert b\rVert, 10^{-300})`.

    0 when equal; never more than 1 (triangle inequality), which it reaches when
    one is zero and the other is not, or when ``b = -a``.
    Norm-based (Frobenius norms of the whole arrays), so tiny entries of a
    gradient do not dominate.

    Not CS231n's ``rel_error``, which has the same name but is elementwise:
    :math:`\max_k |a_k - b_k| / \max(10^{-8}, |a_k| + |b_k|)`, so a single
    tiny entry, where both values are mostly round-off, can set the result.
    This one is never the larger of the two while every :math:`|a_k| + |b_k|
    \geq 10^{-8}` (since :math:`|a_k - b_k| \leq m (|a_k| + |b_k|)` for every k
    implies :math:`\lVert a - b\rVert \leq m (\lVert a\rVert + \lVert b\rVert)`),
    and the elementwise one can be orders of magnitude larger when the error
    sits in small entries. :func:`max_rel_error` computes CS231n's.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    den = max(float(np.linalg.norm(a) + np.linalg.norm(b)), 1e-300)
    return float(np.linalg.norm(a - b) / den)


def max_rel_error(a, b) -> float:
    r"""CS231n's relative error: the largest elementwise :math:`|a_k - b_k| / \max(10^{-8}, |a_k| + |b_k|)`.

    The definition of ``rel_error`` in the CS231n assignments (there named
    ``rel_error``), for comparing numbers with theirs. Unlike :func:`rel_error`
    it looks at every entry on its own, so it is sensitive to entries near zero:
    where :math:`|a_k| + |b_k| < 10^{-8}` the floor takes over and the ratio is an
    absolute difference scaled by :math:`10^8`.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
        0 when equal; at most 1 where the floor does not apply.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def check_grads(f, x, grad, df=None, *, rng, n_directions=5, h=1e-6):
    r"""Cheap random-direction check of an analytic gradient (HIPS/autograd style).

    For random unit directions :math:`v`, compares the directional
    derivative :math:`(L(x + hv) - L(x - hv)) / 2h` with :math:`\langle
    \text{grad}, v\rangle`. Costs 2 evaluations per direction, whatever
    the size of ``x``.

    Parameters
    ----------
    f, x, df, h
        As in :func:`numerical_gradient`.
    grad : ndarray, shape of ``x``
        The analytic gradient to check.
    rng : np.random.Generator
    n_directions : int

    Returns
    -------
    err : float
        The largest relative error over the directions,
        :math:`|n - a| / \max(|n| + |a|, 10^{-300})`.
    """
    x = _as_float64_array("x", x)
    if np.shape(grad) != x.shape:
        raise ValueError(f"grad must have the shape of x {x.shape}; got {np.shape(grad)}")
    rng = check_rng(rng)
    x0 = x.copy()
    worst = 0.0
    for _ in range(n_directions):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        x[...] = x0 + h * v
        plus = _weighted_sum(f(x), df)
        x[...] = x0 - h * v
        minus = _weighted_sum(f(x), df)
        x[...] = x0  # restore
        num = (plus - minus) / (2.0 * h)
        ana = float(np.sum(grad * v))
        worst = max(worst, abs(num - ana) / max(abs(num) + abs(ana), 1e-300))
    return worst
