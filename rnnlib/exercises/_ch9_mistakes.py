r"""The mistake catalogue of Chapter 9, "Recurrence without the loop": references and named wrong answers.

For the exercises of :mod:`rnnlib.exercises.ch9`:

* ``closed_form(a, b, h0) -> hs``: the linear recurrence :math:`h_t = a_t h_{t-1} + b_t`
  for all t, any way the reader likes, but it must survive a long sequence;
* ``recurrence_backward(a, dhs, dh_final) -> g``: :math:`g_t = \bar h_t + a_{t+1} g_{t+1}`,
  :math:`g_T = \bar h_T + \bar h_{\text{final}}`, the gradient reaching every :math:`h_t`;
* ``mingru_forward(x, h0, W_z, b_z, W_h, b_h) -> hs``: a minGRU layer (positive g).

Shapes: ``a``, ``b``, ``dhs``, ``hs`` (N, T, H); ``h0``, ``dh_final`` (N, H); ``x`` (N, T, D);
``W_z``, ``W_h`` (D, H); ``b_z``, ``b_h`` (H,).
"""

from __future__ import annotations

import numpy as np

from rnnlib.minimal import g, sigmoid
from rnnlib.scan import _backward, linear_recurrence
from ._check import Mistake

LONG_T = 3000
"""The long case: the running product of a underflows long before (a <= 0.9)."""


# ---------------------------------------------------------------------------
# 1. the closed form
# ---------------------------------------------------------------------------
def closed_form_reference(a, b, h0):
    """:func:`rnnlib.linear_recurrence` by the loop."""
    return linear_recurrence(a, b, h0, "loop")


def closed_form_cases(rng):
    cases = []
    for N, T, H in [(2, 6, 3), (1, 1, 2), (3, 20, 1), (2, LONG_T, 2)]:
        cases.append((rng.uniform(0.3, 0.9, (N, T, H)), rng.standard_normal((N, T, H)),
                      rng.standard_normal((N, H))))
    return cases


def cumprod_naive(a, b, h0):
    """The product form without a guard: A_t (h0 + sum_k b_k / A_k), A = cumprod(a)."""
    with np.errstate(all="ignore"):
        A = np.cumprod(a, axis=1)
        return A * (h0[:, None, :] + np.cumsum(b / A, axis=1))


CUMPROD_DIAGNOSIS = (
    "Your answer is right on the short sequences and gives inf or NaN on the long one (T = 3000): "
    "the cumulative product A_t = a_1 ... a_t underflows to 0 after a few hundred steps and b_k / A_k "
    "overflows. Work in log space (cumsum of log a, then logaddexp), or avoid the division altogether "
    "(a loop, or a scan that only multiplies).")

CLOSED_FORM_MISTAKES = [
    Mistake("forgot-h0", lambda a, b, h0: linear_recurrence(a, b, None),
            "Your states ignore h0: the closed form has the term (a_1 ... a_t) h0 as well as the sum over "
            "the inputs. With h0 = 0 you would not have noticed."),
    Mistake("product-includes-k", lambda a, b, h0: linear_recurrence(a, a * b, h0),
            "You multiplied b_k by a_k too: in h_t = a_t h_{t-1} + b_t the coefficient a_t acts on the old "
            "state only, so b_k is weighted by the product over j > k, not j >= k."),
    Mistake("h0-not-decayed", lambda a, b, h0: linear_recurrence(a, b, None) + h0[:, None, :],
            "You added h0 to every state unchanged: it decays like everything else, by the product "
            "a_1 ... a_t."),
]

# ---------------------------------------------------------------------------
# 2. the backward recurrence
# ---------------------------------------------------------------------------
def recurrence_backward_reference(a, dhs, dh_final):
    """g_t = dhs_t + a_{t+1} g_{t+1}, g_T = dhs_T + dh_final (the db of rnnlib.scan)."""
    N, T, H = a.shape
    _, db, _ = _backward(a, np.zeros_like(a), np.zeros((N, H)), dhs, dh_final, "loop")
    return db


def backward_cases(rng):
    return [(rng.uniform(0.2, 1.0, (N, T, H)), rng.standard_normal((N, T, H)), rng.standard_normal((N, H)))
            for N, T, H in [(2, 5, 3), (1, 1, 1), (3, 9, 2)]]


def _backward_same_index(a, dhs, dh_final):
    """g_t = dhs_t + a_t g_{t+1}: the coefficient of the wrong step."""
    N, T, H = a.shape
    g_ = np.zeros_like(dhs)
    nxt = dh_final
    for t in range(T - 1, -1, -1):
        g_[:, t] = dhs[:, t] + (a[:, t] * nxt if t < T - 1 else nxt)
        nxt = g_[:, t]
    return g_


BACKWARD_MISTAKES = [
    Mistake("run-forwards", lambda a, dhs, dh_final: linear_recurrence(a, dhs, dh_final),
            "You ran the recurrence forwards in time (g_t = dhs_t + a_t g_{t-1}). A gradient flows from the "
            "future: h_t influences h_{t+1}, ..., h_T, so g_t collects dhs_t plus a_{t+1} g_{t+1}, starting "
            "at the last step with dh_final. Reverse time, run the same recurrence, reverse back."),
    Mistake("same-index-a", _backward_same_index,
            "You used a_t where a_{t+1} belongs: h_{t+1} = a_{t+1} h_t + b_{t+1}, so the factor that carries "
            "g_{t+1} back to h_t is a_{t+1}. In reversed time the coefficients shift by one step."),
    Mistake("forgot-dh-final", lambda a, dhs, dh_final: recurrence_backward_reference(a, dhs, 0 * dh_final),
            "You left out dh_final: the final state is an output too, so its gradient joins g_T."),
]

# ---------------------------------------------------------------------------
# 3. a minGRU forward pass
# ---------------------------------------------------------------------------
def mingru_forward_reference(x, h0, W_z, b_z, W_h, b_h):
    """rnnlib.MinGRU (positive) with these parameters, by the loop."""
    z = sigmoid(x @ W_z + b_z)
    return linear_recurrence(1.0 - z, z * g(x @ W_h + b_h), h0)


def mingru_cases(rng):
    cases = []
    for N, T, D, H in [(2, 6, 3, 4), (1, 1, 2, 2), (3, 8, 2, 5)]:
        cases.append((rng.standard_normal((N, T, D)), rng.uniform(0.1, 1.0, (N, H)),
                      rng.standard_normal((D, H)), rng.standard_normal(H),
                      rng.standard_normal((D, H)), rng.standard_normal(H)))
    return cases


def _mingru_with(x, h0, W_z, b_z, W_h, b_h, *, z_reads_h=False, swap=False, cand="g", use_h0=True):
    h = h0 if use_h0 else np.zeros_like(h0)
    hs = np.zeros(x.shape[:2] + (W_z.shape[1],))
    for t in range(x.shape[1]):
        k_z = x[:, t] @ W_z + b_z + (h if z_reads_h else 0.0)
        z = 1.0 / (1.0 + np.exp(-k_z))
        k = x[:, t] @ W_h + b_h
        ht = {"g": g(k), "tanh": np.tanh(k), "linear": k}[cand]
        h = z * h + (1 - z) * ht if swap else (1 - z) * h + z * ht
        hs[:, t] = h
    return hs


MINGRU_MISTAKES = [
    Mistake("z-reads-h", lambda *a: _mingru_with(*a, z_reads_h=True),
            "Your update gate reads h_{t-1}: that is the GRU's gate, and it is exactly what makes the GRU "
            "sequential. In minGRU, z_t = sigmoid(x_t W_z + b_z) depends on the input alone, so all gates "
            "can be computed for every step at once."),
    Mistake("swapped-update", lambda *a: _mingru_with(*a, swap=True),
            "You swapped z and 1 - z: here h_t = (1 - z_t) h_{t-1} + z_t h~_t, so z is the share of the NEW "
            "value (the convention of Feng et al.; Chapter 3's GRU uses the other one)."),
    Mistake("tanh-candidate", lambda *a: _mingru_with(*a, cand="tanh"),
            "Your candidate goes through tanh. minGRU drops it: h~_t = g(x_t W_h + b_h) with g(k) = k + 1/2 "
            "for k >= 0 and sigmoid(k) below, which keeps every state positive (needed for the log-space scan)."),
    Mistake("linear-candidate", lambda *a: _mingru_with(*a, cand="linear"),
            "Your candidate is x_t W_h + b_h without g: that is the form for positive=False. This exercise "
            "asks for the positive form, h~_t = g(x_t W_h + b_h)."),
    Mistake("forgot-h0", lambda *a: _mingru_with(*a, use_h0=False),
            "Your first step starts from zeros instead of h0."),
]
