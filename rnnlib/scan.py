r"""The linear recurrence :math:`h_t = a_t \odot h_{t-1} + b_t`, solved five ways, forward and backward.

A minimal GRU or LSTM (:mod:`rnnlib.minimal`) reduces to this recurrence once
its gates stop reading :math:`h_{t-1}`. Unrolled, it has the closed form

.. math:: h_t = \Big(\prod_{j \le t} a_j\Big) h_0 + \sum_{k \le t} \Big(\prod_{k < j \le t} a_j\Big) b_k ,

and every method below computes that same sum (``METHODS``):

``"loop"``
    step by step, two elementwise operations per step, in place;
``"cumprod"``
    the closed form with :math:`A_t = \prod_{j \le t} a_j`:
    :math:`h_t = A_t (h_0 + \sum_{k \le t} b_k / A_k)`. Fast and short, but
    :math:`A_t` underflows on long sequences (``1 / A`` becomes inf); then this
    method raises a ``ValueError`` and names the methods that work;
``"scan"``
    Blelloch's (1990) work-efficient parallel prefix scan over the pairs
    :math:`(a_t, b_t)` with the associative operator
    :math:`(a, b) \bullet (a', b') = (a a', a' b + b')` ("first (a, b), then
    (a', b')"): an up-sweep and a down-sweep of :math:`\log_2 T` levels each,
    every level one vectorised operation;
``"log-scan"``
    Heinsen's (2023) log-space form, ``cumsum`` of :math:`\log a` and a
    ``logaddexp.accumulate`` of :math:`\log b_k - \sum_{j \le k} \log a_j`.
    Logarithms need positive numbers: where ``b`` or ``h0`` has negative
    entries it runs twice, on the positive and on the negative parts
    (the recurrence is linear in ``(b, h0)``), a *signed* log-scan;
``"chunked"``
    the sequence cut into chunks of ``L`` steps: a loop of ``L`` steps over all
    chunks at once (each chunk started from zero, with the running product of
    ``a``), a loop over the chunk ends carrying the state, and one vectorised
    correction. No division, no logarithm: it never overflows.

The backward pass is the same recurrence run backwards in time. With
:math:`g_t = \partial L / \partial h_t` (everything that reaches :math:`h_t`),

.. math:: g_t = \bar h_t + a_{t+1} g_{t+1}, \qquad g_T = \bar h_T + \bar h_{\text{final}},

then :math:`\bar b_t = g_t`, :math:`\bar a_t = g_t h_{t-1}`, :math:`\bar h_0 = a_1 g_1`.
:func:`linear_recurrence_backward` solves it by reversing time and calling the
same solver, so every method has its backward.

Shapes: ``a``, ``b`` (N, T, H); ``h0`` (N, H); ``hs`` (N, T, H), ``hs[:, t]`` = :math:`h_{t+1}`.

References
----------
Blelloch, G. E. (1990). Prefix sums and their applications. CMU-CS-90-190.
Heinsen, F. A. (2023). Efficient parallelization of a ubiquitous sequential computation. arXiv:2311.06281.
Martin, E., Cundy, C. (2018). Parallelizing linear recurrent neural nets over sequence length. ICLR.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array

METHODS = ("loop", "cumprod", "scan", "log-scan", "chunked")
"""The solvers of :func:`linear_recurrence`, slowest-to-write first."""

CUMPROD_TINY = 1e-280
"""``"cumprod"`` refuses a running product below this: ``1 / A`` would be near overflow."""


def check_method(method, methods=METHODS) -> str:
    """Return ``method`` if it is one of ``methods``, else raise a ValueError naming them."""
    if not isinstance(method, str) or method not in methods:
        raise ValueError(f"method must be one of {methods}; got {method!r}")
    return method


# ---------------------------------------------------------------------------
# the solvers: (a, b, h0) -> hs, all (N, T, H) except h0 (N, H)
# ---------------------------------------------------------------------------
def _loop(a, b, h0):
    hs = np.empty_like(b)
    h = h0
    for t in range(b.shape[1]):
        # h_t = a_t * h_{t-1} + b_t, written straight into hs[:, t]
        np.multiply(a[:, t], h, out=hs[:, t])
        np.add(hs[:, t], b[:, t], out=hs[:, t])
        h = hs[:, t]
    return hs


def _cumprod(a, b, h0):
    A = np.cumprod(a, axis=1)  # A_t = a_1 ... a_t, (N, T, H)
    smallest = float(np.min(np.abs(A)))
    if smallest < CUMPROD_TINY:
        raise ValueError(
            f"method='cumprod' cannot represent this sequence: the running product of a reaches "
            f"{smallest:.3g} (T = {a.shape[1]}), so 1 / A overflows. Use method='loop', 'scan', "
            f"'chunked' or 'log-scan'")
    # h_t = A_t (h_0 + sum_k b_k / A_k)
    return A * (h0[:, None, :] + np.cumsum(b / A, axis=1))


def _combine(a1, b1, a2, b2):
    """(a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2 = (a1 a2) h + (a2 b1 + b2)."""
    return a1 * a2, a2 * b1 + b2


def _blelloch(a, b, h0):
    N, T, H = b.shape
    P = 1 << max(T - 1, 0).bit_length()  # T padded to a power of two
    A = np.ones((N, P, H), b.dtype)  # padding = the identity (1, 0)
    B = np.zeros((N, P, H), b.dtype)
    A[:, :T], B[:, :T] = a, b
    B[:, 0] += a[:, 0] * h0  # fold h0 in: then the B part of a prefix is h itself
    A0, B0 = A.copy(), B.copy()  # the elements, for the final inclusive step
    # up-sweep: node i (every 2d-th) := its left child (i - d) then itself
    d = 1
    while d < P:
        right, left = slice(2 * d - 1, None, 2 * d), slice(d - 1, None, 2 * d)
        A[:, right], B[:, right] = _combine(A[:, left], B[:, left], A[:, right], B[:, right])
        d *= 2
    # down-sweep (exclusive): the root gets the identity; each node passes its prefix p
    # to its left child and (p then left subtree) to its right child
    A[:, P - 1], B[:, P - 1] = 1.0, 0.0
    d = P // 2
    while d >= 1:
        right, left = slice(2 * d - 1, None, 2 * d), slice(d - 1, None, 2 * d)
        tA, tB = A[:, left].copy(), B[:, left].copy()  # the left subtree's total
        A[:, left], B[:, left] = A[:, right], B[:, right]  # left gets the prefix p
        A[:, right], B[:, right] = _combine(A[:, left], B[:, left], tA, tB)
        d //= 2
    # inclusive: (prefix before t) then element t; its B part is h_t (h_0 already folded in)
    _, hs = _combine(A, B, A0, B0)
    return np.ascontiguousarray(hs[:, :T])


def _log_scan_positive(log_a, log_b, log_h0):
    """Heinsen: log h_t = a*_t + logcumsumexp_k (log b_k - a*_k), a*_t = sum_{j<=t} log a_j."""
    a_star = np.cumsum(log_a, axis=1)  # (N, T, H)
    v = log_b - a_star
    v[:, 0] = np.logaddexp(v[:, 0], log_h0)  # h0 enters like a b_0 with a*_0 = 0
    np.logaddexp.accumulate(v, axis=1, out=v)
    v += a_star
    return np.exp(v, out=v)


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)  # log 0 = -inf: a zero contributes nothing to a logaddexp


def _log_scan(a, b, h0, log_a=None, log_b=None):
    if log_a is None:
        if np.any(a <= 0):
            raise ValueError("method='log-scan' needs every coefficient a > 0 (it takes log a); "
                             "use method='loop', 'scan' or 'chunked' for a <= 0")
        log_a = np.log(a)
    if log_b is not None and np.all(h0 >= 0):
        return _log_scan_positive(log_a, log_b, _log(h0))
    if np.all(b >= 0) and np.all(h0 >= 0):
        return _log_scan_positive(log_a, _log(b), _log(h0))
    # signed: h(b, h0) = h(b+, h0+) - h(b-, h0-), both parts >= 0
    plus = _log_scan_positive(log_a, _log(np.maximum(b, 0)), _log(np.maximum(h0, 0)))
    minus = _log_scan_positive(log_a, _log(np.maximum(-b, 0)), _log(np.maximum(-h0, 0)))
    return np.subtract(plus, minus, out=plus)


def chunk_length(T: int) -> int:
    """The chunk length ``"chunked"`` uses: about sqrt(T) (balances its two loops), at least 1."""
    return max(1, int(round(np.sqrt(T))))


def _chunked(a, b, h0, L=None):
    N, T, H = b.shape
    L = chunk_length(T) if L is None else L
    C = -(-T // L)  # number of chunks
    if C * L != T:  # pad the last chunk with the identity (1, 0)
        a = np.concatenate([a, np.ones((N, C * L - T, H), a.dtype)], axis=1)
        b = np.concatenate([b, np.zeros((N, C * L - T, H), b.dtype)], axis=1)
    a4 = a.reshape(N, C, L, H)
    b4 = b.reshape(N, C, L, H)
    hs = np.empty_like(b4)  # local states: each chunk started from 0
    P = np.empty_like(a4)  # running product of a inside each chunk
    hs[:, :, 0], P[:, :, 0] = b4[:, :, 0], a4[:, :, 0]
    for s in range(1, L):  # one loop of L steps over every chunk at once
        np.multiply(a4[:, :, s], hs[:, :, s - 1], out=hs[:, :, s])
        hs[:, :, s] += b4[:, :, s]
        np.multiply(a4[:, :, s], P[:, :, s - 1], out=P[:, :, s])
    carry = np.empty((N, C, H), b.dtype)  # the true state entering each chunk
    h = h0
    for c in range(C):  # a loop over the C chunk ends
        carry[:, c] = h
        h = P[:, c, L - 1] * h + hs[:, c, L - 1]
    hs += P * carry[:, :, None, :]  # h_t = local_t + (prod of a in the chunk up to t) h_in
    return hs.reshape(N, C * L, H)[:, :T]


_SOLVERS = {"loop": _loop, "cumprod": _cumprod, "scan": _blelloch, "chunked": _chunked}


def _solve(a, b, h0, method, log_a=None, log_b=None):
    if method == "log-scan":
        return _log_scan(a, b, h0, log_a, log_b)
    return _SOLVERS[method](a, b, h0)


def linear_recurrence(a, b, h0=None, method="loop", *, log_a=None):
    r"""Solve :math:`h_t = a_t \odot h_{t-1} + b_t` for every t.

    Parameters
    ----------
    a, b : ndarray (N, T, H)
        Coefficients and inputs (float32 or float64, finite).
    h0 : ndarray (N, H) or None
        Initial state; ``None`` = zeros.
    method : {"loop", "cumprod", "scan", "log-scan", "chunked"}
        See the module docstring; all agree where they are defined.
    log_a : ndarray (N, T, H), optional
        :math:`\log a` computed stably by the caller (``"log-scan"`` only); saves a
        ``log`` and stays finite where ``a`` rounds to 0.

    Returns
    -------
    hs : ndarray (N, T, H)
        ``hs[:, t]`` is the state after step t.
    """
    method = check_method(method)
    b = check_array("b", b, ("N", "T", "H"))
    a = check_array("a", a, ("N", "T", "H"), b.shape, dtype=b.dtype)
    N, _, H = b.shape
    h0 = np.zeros((N, H), b.dtype) if h0 is None else check_array("h0", h0, ("N", "H"), (N, H), dtype=b.dtype)
    if log_a is not None:
        log_a = check_array("log_a", log_a, ("N", "T", "H"), b.shape, dtype=b.dtype)
    return _solve(a, b, h0, method, log_a)


def _reverse_coefficients(a):
    """The coefficients of the backward recurrence, in reversed time: (1, a_T, ..., a_2)."""
    c = np.empty_like(a)
    c[:, 0] = 1.0  # multiplies the gradient of the final state
    c[:, 1:] = a[:, :0:-1]
    return c


def linear_recurrence_backward(a, hs, h0, dhs, dh_final=None, method="loop", *, log_a=None):
    r"""Gradients of :func:`linear_recurrence`: the same recurrence, run backwards.

    Parameters
    ----------
    a : ndarray (N, T, H)
        The forward coefficients.
    hs : ndarray (N, T, H)
        The forward states (for :math:`\bar a_t = g_t h_{t-1}`).
    h0 : ndarray (N, H) or None
        The forward initial state (``None`` = zeros).
    dhs : ndarray (N, T, H)
        Gradient of the loss w.r.t. every returned state.
    dh_final : ndarray (N, H) or None
        Gradient w.r.t. the final state if it is also used (``None`` = 0).
    method : str
        Any of :data:`METHODS`; the backward solve uses the same one.
    log_a : ndarray (N, T, H), optional
        :math:`\log a` (``"log-scan"`` only).

    Returns
    -------
    da, db : ndarray (N, T, H)
    dh0 : ndarray (N, H)
    """
    method = check_method(method)
    a = check_array("a", a, ("N", "T", "H"))
    N, T, H = a.shape
    hs = check_array("hs", hs, ("N", "T", "H"), a.shape, dtype=a.dtype)
    dhs = check_array("dhs", dhs, ("N", "T", "H"), a.shape, dtype=a.dtype)
    h0 = np.zeros((N, H), a.dtype) if h0 is None else check_array("h0", h0, ("N", "H"), (N, H), dtype=a.dtype)
    dh_final = (np.zeros((N, H), a.dtype) if dh_final is None
                else check_array("dh_final", dh_final, ("N", "H"), (N, H), dtype=a.dtype))
    if log_a is not None:
        log_a = check_array("log_a", log_a, ("N", "T", "H"), a.shape, dtype=a.dtype)
    return _backward(a, hs, h0, dhs, dh_final, method, log_a)


def _backward(a, hs, h0, dhs, dh_final, method, log_a=None):
    """Unchecked :func:`linear_recurrence_backward` (the layers call this)."""
    # forward: h_t = a_t h_{t-1} + b_t. Backward, reversed time s = T-1-t:
    # g_s = c_s g_{s-1} + dhs_s with c = (1, a_T, ..., a_2) and g_{-1} = dh_final
    c = _reverse_coefficients(a)
    log_c = None
    if method == "log-scan":
        log_c = np.empty_like(a)
        log_c[:, 0] = 0.0
        log_c[:, 1:] = (np.log(a) if log_a is None else log_a)[:, :0:-1]
    g = _solve(c, dhs[:, ::-1], dh_final, method, log_c)[:, ::-1]  # (N, T, H), g_t = dL/dh_t
    # b_t enters h_t with weight 1; a_t multiplies h_{t-1}; h0 is h_{t-1} of the first step
    db = np.ascontiguousarray(g)
    da = np.empty_like(db)
    da[:, 0] = db[:, 0] * h0
    np.multiply(db[:, 1:], hs[:, :-1], out=da[:, 1:])
    dh0 = a[:, 0] * db[:, 0]
    return da, db, dh0


def blelloch_schedule(T: int):
    """The combine operations of Blelloch's scan on ``T`` elements (padded to a power of two).

    Returns
    -------
    list of (phase, d, left, right)
        ``phase`` is ``"up"`` or ``"down"``, ``d`` the distance between the two nodes,
        and ``left``, ``right`` the positions combined: in the up-sweep
        ``right := left then right``; in the down-sweep ``left := prefix``,
        ``right := prefix then left``. The operations of one ``(phase, d)`` are
        independent (one vectorised step). Work: ``2 (P - 1)`` combines against the
        loop's ``T - 1``; depth: ``2 log2 P`` levels against ``T - 1`` steps.
    """
    P = 1 << max(int(T) - 1, 0).bit_length()
    ops, d = [], 1
    while d < P:
        ops += [("up", d, i - d, i) for i in range(2 * d - 1, P, 2 * d)]
        d *= 2
    d = P // 2
    while d >= 1:
        ops += [("down", d, i - d, i) for i in range(2 * d - 1, P, 2 * d)]
        d //= 2
    return ops
