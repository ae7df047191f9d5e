r"""Chapter 2's full-sequence backward exercise: cases, reference and named mistakes for ``lstm_backward``.

The reader writes ``lstm_backward(dhs, caches, dstate_T=None) -> (dx, (dh0, dc0), grads)``,
the sequence backward of rnnlib's calling convention (as :func:`rnnlib.lstm_backward`),
from the per-step caches of :func:`rnnlib.lstm_step_forward` and a loop over t that
calls :func:`rnnlib.lstm_step_backward` (the exercise CS231n sets for its LSTM).

* :func:`lstm_backward_problems` draws seeded problems (inputs, parameters, the step
  caches, upstream gradients); :func:`lstm_backward_cases` keeps the arguments the reader
  gets, ``(dhs, caches, dstate_T)``. The tests compare the reference on the same problems
  with :func:`rnnlib.lstm_backward` and with finite differences.
* :func:`lstm_backward_reference` is the right loop (:func:`rnnlib.exercises._bptt.bptt`);
* :data:`LSTM_BACKWARD_MISTAKES` the slips, each the same loop with one switch.

Shapes: ``dhs`` (N, T, H); ``caches`` a list of T :class:`rnnlib.lstm.LSTMStepCache`;
``dstate_T`` ``(dh_T, dc_T)`` of (N, H) or None; ``dx`` (N, T, D); ``grads`` keys
``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,).
"""

from __future__ import annotations

import numpy as np

from rnnlib.lstm import lstm_step_backward, lstm_step_forward
from ._bptt import bptt
from ._check import Mistake

LSTM_BACKWARD_SIZES = [(2, 4, 3, 3), (1, 5, 2, 4), (3, 3, 4, 2), (2, 1, 3, 3), (2, 6, 3, 2)]  # (N, T, D, H)
LSTM_NO_FINAL = 3  # the case whose dstate_T is None (the convention's default: zeros)


def lstm_backward_problems(rng):
    """One dict per size of :data:`LSTM_BACKWARD_SIZES`, everything a test needs.

    Keys: ``x`` (N, T, D), ``state0`` ``(h0, c0)``, ``params`` (``W_x``, ``W_h``, ``b``),
    ``caches`` (the T step caches of :func:`rnnlib.lstm_step_forward`), ``dhs`` (N, T, H)
    and ``dstate_T`` (a pair of (N, H), or None for case :data:`LSTM_NO_FINAL`).
    """
    problems = []
    for k, (N, T, D, H) in enumerate(LSTM_BACKWARD_SIZES):
        x = rng.standard_normal((N, T, D))
        state0 = (np.tanh(rng.standard_normal((N, H))), rng.standard_normal((N, H)))
        params = {"W_x": rng.standard_normal((D, 4 * H)) / np.sqrt(D),
                  "W_h": rng.standard_normal((H, 4 * H)) / np.sqrt(H),
                  "b": 0.5 * rng.standard_normal(4 * H)}
        caches, state = [], state0
        for t in range(T):
            state, cache = lstm_step_forward(x[:, t], state, **params)
            caches.append(cache)
        dhs = rng.standard_normal((N, T, H))
        dstate_T = (rng.standard_normal((N, H)), rng.standard_normal((N, H)))
        problems.append({"x": x, "state0": state0, "params": params, "caches": caches, "dhs": dhs,
                         "dstate_T": None if k == LSTM_NO_FINAL else dstate_T})
    return problems


def lstm_backward_cases(rng):
    """Tuples ``(dhs, caches, dstate_T)`` for :func:`~rnnlib.exercises.ch2.check_lstm_backward`."""
    return [(p["dhs"], p["caches"], p["dstate_T"]) for p in lstm_backward_problems(rng)]


def _lstm(**switches):
    return lambda dhs, caches, dstate_T=None: bptt(dhs, caches, dstate_T, lstm_step_backward, pair=True,
                                                   **switches)


def lstm_backward_reference(dhs, caches, dstate_T=None):
    r"""``(dx, (dh0, dc0), grads)``: :func:`rnnlib.lstm_step_backward` from t = T - 1 down to 0.

    Step t gets :math:`\mathrm{d}h_t` = ``dhs[:, t]`` plus what step t + 1 sent back to
    :math:`h_t`, and the cell gradient step t + 1 sent back to :math:`C_t` (``dstate_T`` at
    the last step); the parameter gradients are summed over the steps.
    """
    return _lstm()(dhs, caches, dstate_T)


LSTM_BACKWARD_MISTAKES = [
    Mistake("dc-not-carried", _lstm(carry_c=False),
            "The gradient is not carried along the cell state: each step must get the dc_prev that the "
            "step after it returned, lstm_step_backward((dh, dc_next), caches[t]) with dc_next the "
            "previous call's dc_prev (dc_T at the last step). That path, C_{t-1} -> C_t, is the "
            "constant error carousel: without it the LSTM's long-range gradient is gone."),
    Mistake("dc_next-never-updated", _lstm(carry_c="stale"),
            "dc_next is never updated: every step got dc_T (and you returned it as dc0). After each "
            "call, the cell gradient to pass to the step before is the dc_prev it returned: "
            "dx_t, (dh_next, dc_next), g = lstm_step_backward((dh, dc_next), caches[t])."),
    Mistake("dh-not-carried", _lstm(carry_h=False),
            "Each step got only the gradient from above, dhs[:, t]. h_t also feeds step t + 1, so the "
            "gradient reaching it is dhs[:, t] plus the dh_prev that step t + 1's backward returned "
            "(dh_T at the last step): dh = dh_next + dhs[:, t]."),
    Mistake("upstream-not-added", _lstm(upstream="none"),
            "The gradients from above, dhs, never enter: at step t the gradient reaching h_t is "
            "dh_next + dhs[:, t], the part sent back by step t + 1 plus the part from the layer above."),
    Mistake("only-last-upstream", _lstm(upstream="last-only"),
            "You used only dhs[:, -1], as if the loss read the last state only. Every h_t gets a "
            "gradient from above: add dhs[:, t] at every step, dh = dh_next + dhs[:, t]."),
    Mistake("upstream-one-step-late", _lstm(upstream="after-step"),
            "dhs[:, t] is added after step t's backward, so it reaches h_{t-1} instead of h_t (and dh0 "
            "includes dhs[:, 0]). dhs[:, t] is the gradient of h_t, the output of step t: add it before "
            "calling lstm_step_backward on caches[t]."),
    Mistake("cache-off-by-one", _lstm(cache_shift=-1),
            "Step t used caches[t - 1]. dhs[:, t] belongs to h_t, the output of the step whose cache is "
            "caches[t] (Python lists start at 0: caches[0] is the step from h_0 to h_1)."),
    Mistake("loop-forwards", _lstm(order="forward"),
            "The loop runs forwards in time. The gradient flows from the end back to the start: step t "
            "needs what step t + 1 returned, so loop for t in range(T - 1, -1, -1) (reversed(range(T)))."),
    Mistake("grads-overwritten", _lstm(grads_rule="last"),
            "Your weight gradients are those of one step only (each step overwrote the previous one). "
            "The same W_x, W_h, b are used at every step, so their gradients are summed over the T "
            "steps: grads[k] += g[k]."),
    Mistake("grads-averaged", _lstm(grads_rule="mean"),
            "You averaged the weight gradients over the T steps. The loss depends on W_x, W_h, b through "
            "every step, and the chain rule adds these contributions: sum over t, do not divide by T."),
    Mistake("final-state-ignored", _lstm(final="none"),
            "dstate_T is ignored: the gradient of the final state (dh_T, dc_T), beyond dhs[:, -1], is "
            "where the loop starts, dh_next, dc_next = dstate_T (zeros when it is None)."),
    Mistake("dc_T-ignored", _lstm(final="h-only"),
            "dc_T is ignored: the last step's cell gradient must start from dstate_T[1] (the gradient "
            "of the final cell state, e.g. from a decoder that reads it), not from zeros."),
    Mistake("h-path-added-twice", _lstm(dc_in=lambda dc, dh, cache: dc + dh * cache.o * (1 - cache.tanh_c**2)),
            "You added dh * o * (1 - tanh(C_t)**2) to the cell gradient before calling "
            "lstm_step_backward, which adds that h-path itself: its dc_next is the gradient reaching "
            "C_t from step t + 1 only. Pass the dc_prev of the step after unchanged."),
    Mistake("dx-reversed", _lstm(dx_layout="reversed"),
            "dx is reversed in time: the loop produces dx_t for t = T - 1 first, so stacking the list "
            "in that order puts dx_{T-1} at index 0. Store dx[:, t] = dx_t (or reverse the list)."),
    Mistake("dx-time-major", _lstm(dx_layout="time-major"),
            "dx is stacked along the first axis, (T, N, D). rnnlib is batch-first: dx has the shape of "
            "x, (N, T, D): np.stack(dx_list, axis=1)."),
    Mistake("state-swapped", _lstm(swap_state=True),
            "You returned (dc0, dh0); the convention is the state's order, (dh0, dc0), as in "
            "rnnlib.lstm_backward."),
]
