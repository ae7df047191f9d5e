r"""Chapter 3's full-sequence backward exercise: cases, reference and named mistakes for ``gru_backward``.

The reader writes ``gru_backward(dhs, caches, dstate_T=None) -> (dx, dh0, grads)``, the
sequence backward of rnnlib's calling convention (as :func:`rnnlib.gru_backward`), from
the per-step caches of :func:`rnnlib.gru_step_forward` and a loop over t that calls
:func:`rnnlib.gru_step_backward`. Most cases come from the reset-after GRU (the
library's form), one from the reset-before form: ``grads`` is keyed like the parameters,
with ``b_hn`` in the reset-after form only.

* :func:`gru_backward_problems` draws seeded problems (inputs, parameters, form, step
  caches, upstream gradients); :func:`gru_backward_cases` keeps the reader's arguments
  ``(dhs, caches, dstate_T)``; the tests compare the reference on the same problems with
  :func:`rnnlib.gru_backward` and with finite differences.
* :func:`gru_backward_reference` is the right loop (:func:`rnnlib.exercises._bptt.bptt`);
* :data:`GRU_BACKWARD_MISTAKES` the slips, each the same loop with one switch, and the
  reset-before backward run on reset-after caches.

Shapes: ``dhs`` (N, T, H); ``caches`` a list of T :class:`rnnlib.gru.GRUStepCache`;
``dstate_T`` (N, H) or None; ``dx`` (N, T, D); ``dh0`` (N, H); ``grads`` keys ``W_x``
(D, 3H), ``W_h`` (H, 3H), ``b`` (3H,) and, reset after, ``b_hn`` (H,).
"""

from __future__ import annotations

import numpy as np

from rnnlib.gru import gru_step_backward, gru_step_forward
from ._bptt import bptt
from ._check import Mistake

GRU_BACKWARD_SIZES = [(2, 4, 3, 3, True), (1, 5, 2, 4, True), (3, 3, 4, 2, False), (2, 1, 3, 3, True),
                      (2, 6, 3, 2, True)]  # (N, T, D, H, reset_after)
GRU_NO_FINAL = 3  # the case whose dstate_T is None (the convention's default: zeros)


def gru_backward_problems(rng):
    """One dict per size of :data:`GRU_BACKWARD_SIZES`, everything a test needs.

    Keys: ``x`` (N, T, D), ``h0`` (N, H), ``params`` (``W_x``, ``W_h``, ``b`` and, reset
    after, ``b_hn``), ``reset_after``, ``caches`` (the T step caches of
    :func:`rnnlib.gru_step_forward`), ``dhs`` (N, T, H) and ``dstate_T`` ((N, H), or None
    for case :data:`GRU_NO_FINAL`).
    """
    problems = []
    for k, (N, T, D, H, reset_after) in enumerate(GRU_BACKWARD_SIZES):
        x = rng.standard_normal((N, T, D))
        h0 = np.tanh(rng.standard_normal((N, H)))
        params = {"W_x": rng.standard_normal((D, 3 * H)) / np.sqrt(D),
                  "W_h": rng.standard_normal((H, 3 * H)) / np.sqrt(H),
                  "b": 0.5 * rng.standard_normal(3 * H)}
        if reset_after:
            params["b_hn"] = 0.5 * rng.standard_normal(H)
        caches, h = [], h0
        for t in range(T):
            h, cache = gru_step_forward(x[:, t], h, **params, reset_after=reset_after)
            caches.append(cache)
        dhs = rng.standard_normal((N, T, H))
        dstate_T = rng.standard_normal((N, H))
        problems.append({"x": x, "h0": h0, "params": params, "reset_after": reset_after, "caches": caches,
                         "dhs": dhs, "dstate_T": None if k == GRU_NO_FINAL else dstate_T})
    return problems


def gru_backward_cases(rng):
    """Tuples ``(dhs, caches, dstate_T)`` for :func:`~rnnlib.exercises.ch3.check_gru_backward`."""
    return [(p["dhs"], p["caches"], p["dstate_T"]) for p in gru_backward_problems(rng)]


def _gru(step=gru_step_backward, **switches):
    return lambda dhs, caches, dstate_T=None: bptt(dhs, caches, dstate_T, step, pair=False, **switches)


def gru_backward_reference(dhs, caches, dstate_T=None):
    r"""``(dx, dh0, grads)``: :func:`rnnlib.gru_step_backward` from t = T - 1 down to 0.

    Step t gets :math:`\mathrm{d}h_t` = ``dhs[:, t]`` plus what step t + 1 sent back to
    :math:`h_t` (``dstate_T`` at the last step); the parameter gradients are summed over
    the steps.
    """
    return _gru()(dhs, caches, dstate_T)


def _step_as_reset_before(dh, cache):
    """The reset-before step backward, whatever form the cache comes from (a slip)."""
    return gru_step_backward(dh, cache._replace(reset_after=False, extra=cache.r * cache.h_prev))


GRU_BACKWARD_MISTAKES = [
    Mistake("dh-not-carried", _gru(carry_h=False),
            "Each step got only the gradient from above, dhs[:, t]. h_t also feeds step t + 1, so the "
            "gradient reaching it is dhs[:, t] plus the dh_prev that step t + 1's backward returned "
            "(dstate_T at the last step): dh = dh_next + dhs[:, t]."),
    Mistake("upstream-not-added", _gru(upstream="none"),
            "The gradients from above, dhs, never enter: at step t the gradient reaching h_t is "
            "dh_next + dhs[:, t], the part sent back by step t + 1 plus the part from the layer above."),
    Mistake("only-last-upstream", _gru(upstream="last-only"),
            "You used only dhs[:, -1], as if the loss read the last state only. Every h_t gets a "
            "gradient from above: add dhs[:, t] at every step, dh = dh_next + dhs[:, t]."),
    Mistake("upstream-one-step-late", _gru(upstream="after-step"),
            "dhs[:, t] is added after step t's backward, so it reaches h_{t-1} instead of h_t (and dh0 "
            "includes dhs[:, 0]). dhs[:, t] is the gradient of h_t, the output of step t: add it before "
            "calling gru_step_backward on caches[t]."),
    Mistake("cache-off-by-one", _gru(cache_shift=-1),
            "Step t used caches[t - 1]. dhs[:, t] belongs to h_t, the output of the step whose cache is "
            "caches[t] (Python lists start at 0: caches[0] is the step from h_0 to h_1)."),
    Mistake("loop-forwards", _gru(order="forward"),
            "The loop runs forwards in time. The gradient flows from the end back to the start: step t "
            "needs what step t + 1 returned, so loop for t in range(T - 1, -1, -1) (reversed(range(T)))."),
    Mistake("grads-overwritten", _gru(grads_rule="last"),
            "Your weight gradients are those of one step only (each step overwrote the previous one). "
            "The same W_x, W_h, b, b_hn are used at every step, so their gradients are summed over the T "
            "steps: grads[k] += g[k]."),
    Mistake("grads-averaged", _gru(grads_rule="mean"),
            "You averaged the weight gradients over the T steps. The loss depends on the weights through "
            "every step, and the chain rule adds these contributions: sum over t, do not divide by T."),
    Mistake("final-state-ignored", _gru(final="none"),
            "dstate_T is ignored: the gradient of the final state h_T, beyond dhs[:, -1], is where the "
            "loop starts, dh_next = dstate_T (zeros when it is None)."),
    Mistake("no-b_hn", _gru(drop=("b_hn",)),
            "grads has no b_hn. The reset-after GRU has four parameters, W_x, W_h, b and b_hn (the "
            "candidate's bias inside the reset product), and grads is keyed like them: sum every key "
            "gru_step_backward returns (the reset-before form has no b_hn, so take the keys from it)."),
    Mistake("reset-before-backward", _gru(step=_step_as_reset_before),
            "These are the gradients of the reset-before GRU (Cho et al.), (r * h_prev) @ W_hh, but the "
            "caches come from the reset-after form (cache.reset_after is True): h_tilde = tanh(x W_xh + "
            "b_h + r * (h_prev W_hh + b_hn)), equation eq-gru-bwd-after, with a gradient for b_hn. "
            "rnnlib.gru_step_backward reads the form from the cache."),
    Mistake("dx-reversed", _gru(dx_layout="reversed"),
            "dx is reversed in time: the loop produces dx_t for t = T - 1 first, so stacking the list "
            "in that order puts dx_{T-1} at index 0. Store dx[:, t] = dx_t (or reverse the list)."),
    Mistake("dx-time-major", _gru(dx_layout="time-major"),
            "dx is stacked along the first axis, (T, N, D). rnnlib is batch-first: dx has the shape of "
            "x, (N, T, D): np.stack(dx_list, axis=1)."),
]
