r"""Checks for the exercises of Chapter 1, "The simple recurrent layer".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

==========================  ====================================================
check                       the reader writes
==========================  ====================================================
:func:`check_rnn_step`      ``rnn_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_next``
:func:`check_rnn_step_backward`
                            ``rnn_step_backward(dh_next, x_t, h_prev, h_next, W_xh, W_hh)
                            -> (dx_t, dh_prev, dW_xh, dW_hh, db_h)``
:func:`check_readout_loss`  ``readout_loss(hs, W_hy, b_y, targets) -> (loss, dhs, dW_hy, db_y)``:
                            readout, mean softmax cross-entropy over N T, and its backward
:func:`check_count_params`  ``count_params(D, H, V) -> int`` (RNN + linear readout)
:func:`check_predict_regime`
                            ``predict_regime(rho) -> "vanish" | "explode" | "neither"``
:func:`check_rnn_sequence`  ``rnn_sequence(x, h0, W_xh, W_hh, b_h) -> hs`` (N, T, H)
==========================  ====================================================

Shapes follow the book: batch-first row vectors, ``x_t`` (N, D), ``h`` (N, H),
``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,), ``x`` (N, T, D).
The first cases of the step checks have D == H, so that a transposed
``W_xh`` still runs and can be named rather than only raising a shape error.

The readout-and-loss exercise's cases, reference and catalogue of mistakes live in
:mod:`rnnlib.exercises._ch1_mistakes`; this module builds its check and re-exports them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rnnlib.activations import sigmoid
from rnnlib.experiments.radius import RadiusExperiment, classify_regime, radius_sweep
from ._ch1_mistakes import (OVERFLOW_LOGIT, READOUT_MISTAKES, READOUT_SIZES,  # noqa: F401 - re-exported
                            OverflowAwareExercise, readout_cases, readout_loss_reference)
from ._check import WIDTH, Exercise, Mistake

# ---------------------------------------------------------------------------
# 1. One forward step
# ---------------------------------------------------------------------------
STEP_SIZES = [(3, 4, 4), (1, 4, 4), (2, 3, 5), (4, 5, 2)]  # (N, D, H); D == H first


def _step_args(rng, N, D, H):
    x_t = rng.standard_normal((N, D))
    h_prev = np.tanh(rng.standard_normal((N, H)))
    W_xh = rng.standard_normal((D, H)) / np.sqrt(D)
    W_hh = rng.standard_normal((H, H)) / np.sqrt(H)  # not symmetric: W_hh.T is caught
    b_h = rng.standard_normal(H)
    return x_t, h_prev, W_xh, W_hh, b_h


def step_cases(rng):
    """Argument tuples ``(x_t, h_prev, W_xh, W_hh, b_h)`` for :func:`check_rnn_step`."""
    return [_step_args(rng, *sizes) for sizes in STEP_SIZES]


def rnn_step_reference(x_t, h_prev, W_xh, W_hh, b_h):
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), shape (N, H)."""
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)


STEP_MISTAKES = [
    Mistake("sigmoid",
            lambda x, h, Wx, Wh, b: sigmoid(x @ Wx + h @ Wh + b),
            "You applied a sigmoid where the simple RNN uses tanh. The sigmoid's outputs lie in (0, 1) "
            "and it belongs to the gates of the LSTM and GRU; the RNN's state is tanh(...), in (-1, 1)."),
    Mistake("no-activation",
            lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
            "You returned the pre-activation a_t = x_t W_xh + h_prev W_hh + b_h. Apply np.tanh to it."),
    Mistake("missing-bias",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh),
            "The bias b_h is missing: add it inside the tanh, tanh(x_t W_xh + h_prev W_hh + b_h)."),
    Mistake("no-recurrence",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b),
            "The previous state h_prev is not used: without the term h_prev @ W_hh the layer has no memory."),
    Mistake("W_hh-transposed",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
            "You multiplied by W_hh transposed (h_prev @ W_hh.T). With row vectors the state is on the "
            "left: h_prev @ W_hh, where W_hh[k, j] links unit k at t-1 to unit j at t."),
    Mistake("W_xh-transposed",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b),
            "You multiplied by W_xh transposed (x_t @ W_xh.T), which only runs when D == H. "
            "W_xh has shape (D, H): x_t @ W_xh maps (N, D) to (N, H)."),
    Mistake("swapped-weights",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wh + h @ Wx + b),
            "The two weights are swapped: the input goes through W_xh and the state through W_hh "
            "(x_t @ W_xh + h_prev @ W_hh)."),
    Mistake("column-vectors",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b).T,
            "Your result is transposed, shape (H, N): you worked with column vectors. This book is "
            "batch-first with row vectors, so h_next has shape (N, H), one row per example."),
    Mistake("dropped-batch-axis",
            lambda x, h, Wx, Wh, b: np.squeeze(np.tanh(x @ Wx + h @ Wh + b)),
            "For a batch of one (N = 1) you returned shape (H,) instead of (1, H): something dropped "
            "the batch axis (np.squeeze, or indexing [0]). Keep the shape (N, H) for every N."),
]

_STEP = Exercise(
    name="rnn_step",
    width=WIDTH,
    reference=rnn_step_reference,
    make_cases=step_cases,
    mistakes=STEP_MISTAKES,
    hint="h_next = tanh(x_t @ W_xh + h_prev @ W_hh + b_h), an array of shape (N, H).",
)


def check_rnn_step(fn):
    """Check ``fn(x_t, h_prev, W_xh, W_hh, b_h) -> h_next`` (N, H)."""
    return _STEP.check(fn)


# ---------------------------------------------------------------------------
# 2. One backward step
# ---------------------------------------------------------------------------
def step_backward_cases(rng):
    """Tuples ``(dh_next, x_t, h_prev, h_next, W_xh, W_hh)``, h_next from a real forward step."""
    cases = []
    for N, D, H in STEP_SIZES:
        x_t, h_prev, W_xh, W_hh, b_h = _step_args(rng, N, D, H)
        h_next = rnn_step_reference(x_t, h_prev, W_xh, W_hh, b_h)
        dh_next = rng.standard_normal((N, H))
        cases.append((dh_next, x_t, h_prev, h_next, W_xh, W_hh))
    return cases


def _backward_from_da(da, x_t, h_prev, W_xh, W_hh, *, W_hh_T=True, W_xh_T=True, dW_h=None,
                      weights_T=False, db="sum"):
    """The right backward given ``da``, with switches for the catalogued slips."""
    dx_t = da @ (W_xh.T if W_xh_T else W_xh)
    dh_prev = da @ (W_hh.T if W_hh_T else W_hh)
    h_used = h_prev if dW_h is None else dW_h
    dW_xh = da.T @ x_t if weights_T else x_t.T @ da
    dW_hh = da.T @ h_used if weights_T else h_used.T @ da
    db_h = {"sum": da.sum(axis=0), "none": da, "mean": da.mean(axis=0)}[db]
    return dx_t, dh_prev, dW_xh, dW_hh, db_h


def rnn_step_backward_reference(dh_next, x_t, h_prev, h_next, W_xh, W_hh):
    """(dx_t, dh_prev, dW_xh, dW_hh, db_h) of one step; da = dh_next * (1 - h_next**2)."""
    da = dh_next * (1.0 - h_next**2)
    return _backward_from_da(da, x_t, h_prev, W_xh, W_hh)


def _bwd(deriv=lambda dh, hp, hn: dh * (1 - hn**2), **switches):
    def f(dh_next, x_t, h_prev, h_next, W_xh, W_hh):
        da = deriv(dh_next, h_prev, h_next)
        if switches.get("dW_h") == "h_next":
            return _backward_from_da(da, x_t, h_prev, W_xh, W_hh,
                                     **dict(switches, dW_h=h_next))
        return _backward_from_da(da, x_t, h_prev, W_xh, W_hh, **switches)
    return f


BACKWARD_MISTAKES = [
    Mistake("no-tanh-derivative", _bwd(lambda dh, hp, hn: dh),
            "You skipped the derivative of tanh: da = dh_next * (1 - h_next**2), not dh_next. "
            "Every gradient then comes out too large."),
    Mistake("derivative-from-h_prev", _bwd(lambda dh, hp, hn: dh * (1 - hp**2)),
            "The tanh derivative must use this step's output h_next (tanh'(a_t) = 1 - h_t**2), "
            "not the previous state h_prev."),
    Mistake("derivative-not-squared", _bwd(lambda dh, hp, hn: dh * (1 - hn)),
            "tanh'(a) = 1 - tanh(a)**2: square h_next, da = dh_next * (1 - h_next**2)."),
    Mistake("sigmoid-derivative", _bwd(lambda dh, hp, hn: dh * hn * (1 - hn)),
            "h * (1 - h) is the derivative of a sigmoid. For tanh it is 1 - h**2."),
    Mistake("W_hh-not-transposed", _bwd(W_hh_T=False),
            "dh_prev should be da @ W_hh.T: the forward pass multiplies by W_hh on the right, so the "
            "backward pass multiplies by its transpose."),
    Mistake("W_xh-not-transposed", _bwd(W_xh_T=False),
            "dx_t should be da @ W_xh.T (shape (N, D)); da @ W_xh only runs when D == H."),
    Mistake("dW_hh-uses-h_next", _bwd(dW_h="h_next"),
            "dW_hh pairs da_t with the state that was multiplied by W_hh in the forward pass, "
            "h_{t-1} (h_prev), not h_t: dW_hh = h_prev.T @ da."),
    Mistake("weight-grads-transposed", _bwd(weights_T=True),
            "Your weight gradients are transposed: a gradient has the shape of its parameter, "
            "dW_xh = x_t.T @ da is (D, H) and dW_hh = h_prev.T @ da is (H, H)."),
    Mistake("db-not-summed", _bwd(db="none"),
            "db_h must have the shape of b_h, (H,): the bias is shared by every example of the "
            "batch, so sum da over the batch axis, da.sum(axis=0)."),
    Mistake("db-averaged", _bwd(db="mean"),
            "db_h is the sum of da over the batch, not the mean: the loss already decides how examples "
            "are weighted."),
]

_BACKWARD = Exercise(
    name="rnn_step_backward",
    width=WIDTH,
    reference=rnn_step_backward_reference,
    make_cases=step_backward_cases,
    mistakes=BACKWARD_MISTAKES,
    hint=("da = dh_next * (1 - h_next**2); dx_t = da @ W_xh.T; dh_prev = da @ W_hh.T; "
          "dW_xh = x_t.T @ da; dW_hh = h_prev.T @ da; db_h = da.sum(axis=0). "
          "Return the five as a tuple in that order."),
)


def check_rnn_step_backward(fn):
    """Check ``fn(dh_next, x_t, h_prev, h_next, W_xh, W_hh) -> (dx_t, dh_prev, dW_xh, dW_hh, db_h)``."""
    return _BACKWARD.check(fn)


# ---------------------------------------------------------------------------
# 2b. The readout, its loss and their backward (catalogue in _ch1_mistakes)
# ---------------------------------------------------------------------------
_READOUT = OverflowAwareExercise(
    name="readout_loss",
    width=WIDTH,
    reference=readout_loss_reference,
    make_cases=readout_cases,
    mistakes=READOUT_MISTAKES,
    hint=("z = hs @ W_hy + b_y; p = softmax over the last axis (subtract the max first); "
          "loss = mean of -log p[target] over N*T; dz = (p - onehot) / (N*T); dhs = dz @ W_hy.T; "
          "dW_hy = sum over n, t of h^T dz, (H, V); db_y = dz.sum(axis=(0, 1)). "
          "Return (loss, dhs, dW_hy, db_y)."),
)


def check_readout_loss(fn):
    """Check ``fn(hs, W_hy, b_y, targets) -> (loss, dhs, dW_hy, db_y)``, the mean softmax CE."""
    return _READOUT.check(fn)


# ---------------------------------------------------------------------------
# 3. Counting parameters
# ---------------------------------------------------------------------------
def count_cases(rng):
    """Tuples ``(D, H, V)`` of distinct sizes, so that each slip gives another count."""
    cases = [(3, 5, 7), (10, 16, 4), (1, 2, 3)]
    for _ in range(2):
        D, H, V = (int(v) for v in rng.choice(np.arange(2, 60), size=3, replace=False))
        cases.append((D, H, V))
    return cases


def count_params_reference(D, H, V):
    """W_xh (D*H) + W_hh (H*H) + b_h (H) + W_hy (H*V) + b_y (V)."""
    return D * H + H * H + H + H * V + V


COUNT_MISTAKES = [
    Mistake("no-biases", lambda D, H, V: D * H + H * H + H * V,
            "You counted the weights but not the biases b_h (H entries) and b_y (V entries)."),
    Mistake("no-readout", lambda D, H, V: D * H + H * H + H,
            "That is the recurrent layer alone. The question includes the readout y_t = h_t W_hy + b_y: "
            "add H*V + V."),
    Mistake("no-readout-bias", lambda D, H, V: D * H + H * H + H + H * V,
            "Almost: the readout's bias b_y (V entries) is missing."),
    Mistake("no-hidden-bias", lambda D, H, V: D * H + H * H + H * V + V,
            "Almost: the recurrent layer's bias b_h (H entries) is missing."),
    Mistake("W_hh-as-vector", lambda D, H, V: D * H + H + H + H * V + V,
            "W_hh is a matrix, (H, H): every unit at t-1 feeds every unit at t, so it has H*H entries, not H."),
    Mistake("W_hh-as-D-by-H", lambda D, H, V: 2 * D * H + H + H * V + V,
            "W_hh maps the state to the state, so it is (H, H), with H*H entries, not D*H."),
    Mistake("two-hidden-biases", lambda D, H, V: D * H + H * H + 2 * H + H * V + V,
            "You counted two hidden biases, as PyTorch stores them (bias_ih and bias_hh). They are only "
            "ever added together, so rnnlib keeps one b_h of H entries; for torch.nn.RNN your count is right."),
]

_COUNT = Exercise(
    name="count_params",
    width=WIDTH,
    reference=count_params_reference,
    make_cases=count_cases,
    mistakes=COUNT_MISTAKES,
    hint="Add up the sizes of W_xh, W_hh, b_h (the RNN) and W_hy, b_y (the readout).",
)


def check_count_params(fn):
    """Check ``fn(D, H, V) -> int``: parameters of an RNN (D -> H) plus a readout (H -> V)."""
    return _COUNT.check(fn)


# ---------------------------------------------------------------------------
# 4. Vanishing or exploding? (answer checked against a measurement)
# ---------------------------------------------------------------------------
REGIME_RADII = (0.5, 0.8, 1.0, 1.25, 2.0)
REGIME_LAG = 50
REGIME_LIMITS = (1e-2, 1e2)  # below: "vanish", above: "explode"


@lru_cache(maxsize=None)
def measured_regimes():
    """``{rho: regime}`` measured in the linear regime at lag :data:`REGIME_LAG`.

    Uses :func:`rnnlib.experiments.radius.radius_sweep` with zero inputs (H = 32, median over 5
    seeds) and :func:`rnnlib.experiments.radius.classify_regime` with :data:`REGIME_LIMITS`.
    """
    config = RadiusExperiment(steps=REGIME_LAG).linear()
    _, norms = radius_sweep(REGIME_RADII, config)
    return {rho: classify_regime(n[REGIME_LAG - 1], *REGIME_LIMITS) for rho, n in zip(REGIME_RADII, norms)}


def regime_cases(rng):
    """One case per radius in :data:`REGIME_RADII`."""
    return [(rho,) for rho in REGIME_RADII]


def predict_regime_reference(rho):
    """The measured regime of ``rho`` (see :func:`measured_regimes`)."""
    return measured_regimes()[rho]


def _by_rule(below, at, above):
    return lambda rho: below if rho < 1.0 else (at if rho == 1.0 else above)


REGIME_MISTAKES = [
    Mistake("swapped", _by_rule("explode", "neither", "vanish"),
            "Vanishing and exploding are swapped. In the linear regime the gradient over k steps "
            "behaves like rho**k: a radius below 1 shrinks it (0.8**50 is about 1e-5), above 1 grows it."),
    Mistake("one-vanishes", _by_rule("vanish", "vanish", "explode"),
            "At rho = 1 exactly, rho**k = 1 for every k: the linear-regime gradient neither vanishes nor "
            "explodes (the measured norm at lag 50 stays of order 1)."),
    Mistake("one-explodes", _by_rule("vanish", "explode", "explode"),
            "At rho = 1 exactly, rho**k = 1 for every k: the linear-regime gradient neither vanishes nor "
            "explodes (the measured norm at lag 50 stays of order 1)."),
    Mistake("all-vanish", lambda rho: "vanish",
            "tanh does not always shrink the gradient: in the linear regime (states near 0) its slope is "
            "1, so the gradient is W_hh.T multiplied k times and grows when rho > 1."),
]

_REGIME = Exercise(
    name="predict_regime",
    width=WIDTH,
    reference=predict_regime_reference,
    make_cases=regime_cases,
    mistakes=REGIME_MISTAKES,
    hint=('Return one of the strings "vanish", "explode" or "neither" for each rho, for a lag of '
          f"{REGIME_LAG} steps in the linear regime (norm below {REGIME_LIMITS[0]:g}: vanish, above "
          f"{REGIME_LIMITS[1]:g}: explode)."),
)


def check_predict_regime(fn):
    """Check ``fn(rho) -> "vanish" | "explode" | "neither"`` against the measured regimes."""
    return _REGIME.check(fn)


# ---------------------------------------------------------------------------
# 5. A whole sequence
# ---------------------------------------------------------------------------
SEQUENCE_SIZES = [(2, 4, 3, 3), (1, 5, 2, 4), (3, 2, 4, 2)]  # (N, T, D, H)


def sequence_cases(rng):
    """Tuples ``(x, h0, W_xh, W_hh, b_h)`` with ``x`` (N, T, D)."""
    cases = []
    for N, T, D, H in SEQUENCE_SIZES:
        x = rng.standard_normal((N, T, D))
        h0 = np.tanh(rng.standard_normal((N, H)))
        W_xh = rng.standard_normal((D, H)) / np.sqrt(D)
        W_hh = rng.standard_normal((H, H)) / np.sqrt(H)
        b_h = rng.standard_normal(H)
        cases.append((x, h0, W_xh, W_hh, b_h))
    return cases


def _sequence(step, *, carry=True, store_before=False):
    """A sequence forward built from a step function, with the catalogued slips as switches."""
    def f(x, h0, W_xh, W_hh, b_h):
        h, out = h0, []
        for t in range(x.shape[1]):
            h_new = step(x[:, t], h if carry else h0, W_xh, W_hh, b_h)
            out.append(h if store_before else h_new)
            h = h_new
        return np.stack(out, axis=1)  # (N, T, H)
    return f


def rnn_sequence_reference(x, h0, W_xh, W_hh, b_h):
    """hs[:, t-1] = h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), shape (N, T, H)."""
    return _sequence(rnn_step_reference)(x, h0, W_xh, W_hh, b_h)


SEQUENCE_MISTAKES = [
    Mistake("time-major", lambda *a: rnn_sequence_reference(*a).transpose(1, 0, 2),
            "Your states are time-major, shape (T, N, H). The book is batch-first: return (N, T, H), "
            "e.g. np.stack(states, axis=1)."),
    Mistake("off-by-one", _sequence(rnn_step_reference, store_before=True),
            "Off by one step: you stored h_{t-1} where h_t belongs, so the output starts with h_0 and "
            "misses h_T. Store the state after the update: hs[:, t] holds h_{t+1} in 0-based indexing."),
    Mistake("state-not-carried", _sequence(rnn_step_reference, carry=False),
            "Every step starts again from h0: the state is never carried forward. Feed each new state "
            "into the next step (h = step(x[:, t], h, ...))."),
    Mistake("final-state-only", lambda *a: rnn_sequence_reference(*a)[:, -1],
            "You returned only the last state h_T, shape (N, H). Return every state, (N, T, H)."),
    Mistake("sigmoid", _sequence(STEP_MISTAKES[0].func),
            STEP_MISTAKES[0].diagnosis),
    Mistake("missing-bias", _sequence(STEP_MISTAKES[2].func),
            STEP_MISTAKES[2].diagnosis),
    Mistake("W_hh-transposed", _sequence(STEP_MISTAKES[4].func),
            STEP_MISTAKES[4].diagnosis),
]

_SEQUENCE = Exercise(
    name="rnn_sequence",
    width=WIDTH,
    reference=rnn_sequence_reference,
    make_cases=sequence_cases,
    mistakes=SEQUENCE_MISTAKES,
    hint=("Loop over t, h = tanh(x[:, t] @ W_xh + h @ W_hh + b_h), keep every h, and stack them "
          "into an array of shape (N, T, H)."),
)


def check_rnn_sequence(fn):
    """Check ``fn(x, h0, W_xh, W_hh, b_h) -> hs`` of shape (N, T, H)."""
    return _SEQUENCE.check(fn)


EXERCISES = {
    "rnn_step": _STEP,
    "rnn_step_backward": _BACKWARD,
    "readout_loss": _READOUT,
    "count_params": _COUNT,
    "predict_regime": _REGIME,
    "rnn_sequence": _SEQUENCE,
}
