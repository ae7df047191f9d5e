r"""Checks for the exercises of Chapter 10, "Performance".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

==============================  ==========================================================
check                           the reader writes
==============================  ==========================================================
:func:`check_per_gate_flops`    ``per_gate_flops(N, D, H) -> int``: the matmul FLOPs of one
                                forward step of the per-gate LSTM cell (eight products)
:func:`check_batch_that_pays`   ``batch_that_pays(ratios) -> int``: the smallest batch size
                                whose measured ratio per_gate / in_place is at most 2
                                (``ratios`` a dict {N: ratio}), or None if there is none
==============================  ==========================================================

A product of shapes (N, K) x (K, H) costs 2 N K H FLOPs (a multiply and an add per
term), the count of :func:`rnnlib.experiments.timing.matmul_flops`; elementwise work
and biases are not counted.
"""

from __future__ import annotations

from ._check import WIDTH, Exercise, Mistake

# ---------------------------------------------------------------------------
# 1. The per-gate FLOPs
# ---------------------------------------------------------------------------
FLOP_SIZES = [(32, 64, 256), (1, 3, 5), (7, 2, 11), (4, 9, 6)]  # (N, D, H), D != H


def flops_cases(rng):
    """Tuples ``(N, D, H)``: the chapter's sizes, then small distinct ones."""
    return [tuple(s) for s in FLOP_SIZES]


def per_gate_flops_reference(N, D, H):
    """Four gates, each (N, D) x (D, H) and (N, H) x (H, H): 4 (2NDH + 2NHH) = 2N(D + H) 4H."""
    return 4 * (2 * N * D * H + 2 * N * H * H)


FLOP_MISTAKES = [
    Mistake("multiply-adds", lambda N, D, H: 4 * (N * D * H + N * H * H),
            "You counted multiply-adds, not FLOPs: each of the N*K*H terms of a product (N, K) x (K, H) "
            "is one multiplication and one addition, so the product costs 2*N*K*H FLOPs."),
    Mistake("one-gate", lambda N, D, H: 2 * N * D * H + 2 * N * H * H,
            "That is one gate. The LSTM has four (f, i, o and the candidate c_tilde), each with an input and "
            "a recurrent product: multiply by 4."),
    Mistake("input-only", lambda N, D, H: 4 * 2 * N * D * H,
            "You counted the input products x_t W_x only: each gate also multiplies the state, "
            "h_prev (N, H) x W_h (H, H), 2*N*H*H FLOPs more per gate."),
    Mistake("recurrent-only", lambda N, D, H: 4 * 2 * N * H * H,
            "You counted the recurrent products h_prev W_h only: each gate also multiplies the input, "
            "x_t (N, D) x W_x (D, H), 2*N*D*H FLOPs more per gate."),
    Mistake("with-biases", lambda N, D, H: 4 * (2 * N * D * H + 2 * N * H * H + N * H),
            "Close: you added the bias additions (N*H per gate). The count asked for is the matmuls "
            "only, as timing.matmul_flops counts them."),
    Mistake("D-for-H", lambda N, D, H: 4 * 2 * N * D * H * 2,
            "The recurrent product is (N, H) x (H, H), 2*N*H*H FLOPs, not 2*N*D*H: W_h maps the state "
            "(H) to a gate (H)."),
]

_FLOPS = Exercise(
    name="per_gate_flops",
    width=WIDTH,
    reference=per_gate_flops_reference,
    make_cases=flops_cases,
    mistakes=FLOP_MISTAKES,
    hint="A product (N, K) x (K, H) costs 2*N*K*H FLOPs; four gates, each an input (K = D) and a "
         "recurrent (K = H) product.",
)


def check_per_gate_flops(fn):
    """Check ``fn(N, D, H) -> int``, the matmul FLOPs of one per-gate LSTM forward step."""
    return _FLOPS.check(fn)


# ---------------------------------------------------------------------------
# 2. Where the batch starts to pay
# ---------------------------------------------------------------------------
PAY_LIMIT = 2.0


def pay_cases(rng):
    """One-argument tuples ``(ratios,)``: dicts {N: ratio}, some unsorted, one never paying,
    one equal to the limit, one where the ratio rises again after falling below it."""
    cases = [({1: 6.1, 4: 3.2, 16: 1.7, 64: 1.2},), ({64: 1.1, 1: 5.0, 16: 2.4, 4: 3.9},),
             ({1: 4.0, 4: 2.0, 16: 1.5},), ({1: 9.0, 8: 5.0, 32: 3.0},), ({2: 1.5, 8: 2.5, 32: 1.9},)]
    for _ in range(2):
        Ns = rng.choice([1, 2, 4, 8, 16, 32, 64, 128], size=5, replace=False)
        cases.append(({int(n): float(r) for n, r in zip(Ns, rng.uniform(1.0, 4.0, size=5).round(2))},))
    return cases


def batch_that_pays_reference(ratios):
    """The smallest N with ratios[N] <= 2, or None."""
    paying = [n for n, r in ratios.items() if r <= PAY_LIMIT]
    return min(paying) if paying else None


PAY_MISTAKES = [
    Mistake("first-in-dict-order", lambda r: next((n for n, v in r.items() if v <= PAY_LIMIT), None),
            "You returned the first N in the dict's order. A dict keeps the order its keys were put in, "
            "not sorted by N: take the smallest N whose ratio is at most 2 (min over those N)."),
    Mistake("strict", lambda r: min((n for n, v in r.items() if v < PAY_LIMIT), default=None),
            "'Within a factor 2' includes 2 itself: use ratio <= 2, not < 2."),
    Mistake("largest", lambda r: max((n for n, v in r.items() if v <= PAY_LIMIT), default=None),
            "You returned the largest paying N; the question is where it *starts* to pay: the smallest."),
    Mistake("returns-ratio", lambda r: min((v for v in r.values() if v <= PAY_LIMIT), default=None),
            "You returned a ratio; return the batch size N (the dict's key)."),
    Mistake("best-ratio", lambda r: min(r, key=r.get),
            "You returned the N with the smallest ratio. The question asks for the smallest N whose ratio "
            "is at most 2 (None if there is none)."),
]

_PAY = Exercise(
    name="batch_that_pays",
    width=WIDTH,
    reference=batch_that_pays_reference,
    make_cases=pay_cases,
    mistakes=PAY_MISTAKES,
    hint="min(N for N, ratio in ratios.items() if ratio <= 2), or None if no ratio is at most 2.",
)


def check_batch_that_pays(fn):
    """Check ``fn(ratios: dict) -> int or None``, the smallest N whose ratio is at most 2."""
    return _PAY.check(fn)


EXERCISES = {"per_gate_flops": _FLOPS, "batch_that_pays": _PAY}
