r"""The mistake catalogue of Chapter 4, "Remembering across time": references and named wrong answers.

For the exercises of :mod:`rnnlib.exercises.ch4` this module holds what the checks
compare the reader's answer with:

* the reference, ``*_reference``: the right answer, and for the checks built on an
  :class:`~rnnlib.exercises._check.Exercise` the seeded cases, ``*_cases(rng)``;
* the catalogue of the slips readers make, each with the diagnosis the check prints:
  ``ADDING_BATCH_MISTAKES`` (wrong batches, from one generator with switches,
  ``_batch_with``, that draws like the reference), ``BASELINE_MISTAKES``,
  ``COPY_MISTAKES``, ``CLIP_MISTAKE_FUNCTIONS`` (wrong clipping functions, by id) and
  ``CONFIG_DIAGNOSES`` (what a failed training configuration got wrong);
* the settings of the training check (``CONFIG_T``, ``CONFIG_STEPS``, ``CONFIG_DEFAULTS``
  ...), here because the diagnoses quote them;

The catalogues are most of a chapter's checking code and grow for their own reason
(a new slip seen in a reader's answer), so they live apart from the checks;
:mod:`rnnlib.exercises.ch4` imports and re-exports every public name
(``ch4.ADDING_BATCH_MISTAKES``, ``ch4.CONFIG_DEFAULTS`` ...).

Shapes as in :mod:`rnnlib.exercises.ch4`: an adding batch is ``x`` (N, T, 2) (value,
marker) and ``y`` (N, 1); ``grads`` is a dict of arrays of any shapes.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlib.data.tasks import adding_problem, copy_baseline
from ._check import Mistake

# ---------------------------------------------------------------------------
# 1. An adding-problem batch (checked by its properties)
# ---------------------------------------------------------------------------
def adding_batch_reference(N, T, rng):
    """:func:`rnnlib.data.tasks.adding_problem`: x (N, T, 2), y (N, 1)."""
    return adding_problem(N, T, rng)


def _batch_with(N, T, rng, *, positions="halves", values="uniform", target="sum", n_markers=2):
    """An adding batch with the catalogued slips as switches (same draws as the reference)."""
    if values == "uniform":
        v = rng.random((N, T))  # (N, T)
    else:  # Hochreiter & Schmidhuber's [-1, 1]
        v = rng.uniform(-1.0, 1.0, size=(N, T))
    half = T // 2
    if positions == "halves":
        t1, t2 = rng.integers(0, half, size=N), rng.integers(half, T, size=N)
    elif positions == "anywhere":  # two independent draws over the whole sequence
        t1, t2 = rng.integers(0, T, size=N), rng.integers(0, T, size=N)
    else:  # "distinct": two different steps anywhere
        pos = np.stack([rng.choice(T, size=2, replace=False) for _ in range(N)])
        t1, t2 = pos[:, 0], pos[:, 1]
    rows = np.arange(N)
    m = np.zeros((N, T))
    m[rows, t1] = 1.0
    if n_markers == 2:
        m[rows, t2] = 1.0
    x = np.stack([v, m], axis=-1)  # (N, T, 2)
    u1, u2 = v[rows, t1], v[rows, t2]
    y = {"sum": u1 + u2, "mean": (u1 + u2) / 2, "first": u1, "all": v.sum(axis=1)}[target]
    return x, y[:, None]  # (N, T, 2), (N, 1)


def _fixed_seed(N, T, rng):
    return adding_problem(N, T, np.random.default_rng(0))


def _fresh_generator(N, T, rng):
    return adding_problem(N, T, np.random.default_rng())


ADDING_BATCH_MISTAKES = [
    Mistake("no-marker-channel", lambda N, T, rng: (lambda x, y: (x[..., 0], y))(*adding_problem(N, T, rng)),
            "x has shape (N, T): one number per step. The network needs two numbers at every step, the value "
            "and the marker, stacked on a last axis: x has shape (N, T, 2), e.g. "
            "np.stack([values, markers], axis=-1)."),
    Mistake("time-major", lambda N, T, rng: (lambda x, y: (x.transpose(1, 0, 2), y))(*adding_problem(N, T, rng)),
            "x is time-major, shape (T, N, 2). The book is batch-first: x has shape (N, T, 2)."),
    Mistake("channels-first", lambda N, T, rng: (lambda x, y: (x.transpose(0, 2, 1), y))(*adding_problem(N, T, rng)),
            "x has shape (N, 2, T), channels before time. The layers read x[:, t] as the input of step t, so "
            "x must be (N, T, 2): value and marker on the last axis."),
    Mistake("flat-target", lambda N, T, rng: (lambda x, y: (x, y[:, 0]))(*adding_problem(N, T, rng)),
            "y has shape (N,). The model's prediction has shape (N, 1); in plain NumPy, pred - y with y of "
            "shape (N,) broadcasts to an (N, N) matrix, comparing every prediction with every target "
            "(rnnlib.mse_loss refuses it). Return y with shape (N, 1), e.g. y[:, None]."),
    Mistake("fixed-seed", _fixed_seed,
            "Two different generators gave you the same batch: your function makes its own generator with a "
            "fixed seed, so every training batch would be the same few sequences. Draw from the rng you are given."),
    Mistake("global-random", _fresh_generator,
            "The same generator state gave two different batches: your function draws from somewhere else "
            "(np.random.* or an unseeded default_rng()). Draw everything from the rng you are given, so "
            "that a seed reproduces the batch."),
    Mistake("markers-anywhere", lambda N, T, rng: _batch_with(N, T, rng, positions="anywhere"),
            "Some sequences have both markers in the same half, or only one marker (the two positions "
            "coincided). Draw the first position from the first half, 0 <= t1 < T // 2, and the second from "
            "the second half, T // 2 <= t2 < T: then every sequence has two markers and a long lag."),
    Mistake("one-marker", lambda N, T, rng: _batch_with(N, T, rng, n_markers=1),
            "Every sequence has one marker: set channel 1 to 1 at both marked steps, t1 and t2."),
    Mistake("values-range", lambda N, T, rng: _batch_with(N, T, rng, values="pm1"),
            "Some values are negative. Hochreiter and Schmidhuber (1997) drew them from [-1, 1]; this book "
            "uses U[0, 1) (rng.random), like Le et al. (2015), and the baseline 1/6 is computed for it."),
    Mistake("sum-all", lambda N, T, rng: _batch_with(N, T, rng, target="all"),
            "y is the sum of all T values. The target is the sum of the two *marked* values only: the "
            "network must find them among the others."),
    Mistake("mean-not-sum", lambda N, T, rng: _batch_with(N, T, rng, target="mean"),
            "y is the mean of the two marked values. The target is their sum, u[t1] + u[t2], in [0, 2)."),
    Mistake("one-value", lambda N, T, rng: _batch_with(N, T, rng, target="first"),
            "y is only one of the marked values. The target is the sum of both, u[t1] + u[t2]."),
]


# ---------------------------------------------------------------------------
# 2. The adding problem's baseline
# ---------------------------------------------------------------------------
def baseline_cases(rng):
    """Tuples ``(low, high)``: the values are drawn from U[low, high)."""
    cases = [(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0), (0.5, 0.75)]
    lo = float(np.round(rng.uniform(-3, 3), 2))
    cases.append((lo, lo + float(np.round(rng.uniform(0.5, 4), 2))))
    return cases


def adding_baseline_reference(low, high):
    r"""MSE of the best constant, :math:`\operatorname{Var}(U_1 + U_2) = 2 (b - a)^2 / 12 = (b - a)^2 / 6`."""
    return (high - low) ** 2 / 6.0


BASELINE_MISTAKES = [
    Mistake("one-uniform", lambda a, b: (b - a) ** 2 / 12,
            "That is the variance of ONE uniform value, (b - a)^2 / 12. The target is the sum of two "
            "independent values, and the variances of independent terms add: 2 (b - a)^2 / 12."),
    Mistake("mean-of-one-value", lambda a, b: (b - a) ** 2 / 6 + ((a + b) / 2) ** 2,
            "You predicted the mean of one value, (a + b) / 2 (0.5 for U[0, 1)). The best constant is the "
            "mean of the target, E[U1 + U2] = a + b; any other constant c adds (a + b - c)^2 to the error."),
    Mistake("predict-zero", lambda a, b: (b - a) ** 2 / 6 + (a + b) ** 2,
            "That is the error of predicting 0, E[y^2]. A memoryless model can do better: predict the mean "
            "of the target, a + b, and the error is the variance alone."),
    Mistake("perfectly-correlated", lambda a, b: (b - a) ** 2 / 3,
            "(b - a)^2 / 3 = Var(2 U): as if both marked values were the same number. They are independent, "
            "so Var(U1 + U2) = Var(U1) + Var(U2) = (b - a)^2 / 6."),
    Mistake("std-not-variance", lambda a, b: (b - a) / np.sqrt(6),
            "You returned a standard deviation, sqrt(Var). The mean squared error is in squared units: "
            "Var(U1 + U2) itself."),
    Mistake("width-not-squared", lambda a, b: (b - a) / 6,
            "Var(U[a, b)) = (b - a)^2 / 12: square the width of the interval."),
]


# ---------------------------------------------------------------------------
# 3. The copy task's baseline
# ---------------------------------------------------------------------------
def copy_baseline_cases(rng):
    """Tuples ``(T, length, n_symbols)``."""
    return [(10, 5, 8), (100, 10, 8), (3, 2, 4), (50, 10, 2), (20, 3, 16)]


def copy_baseline_reference(T, length, n_symbols):
    """:func:`rnnlib.data.tasks.copy_baseline`: ``length * ln(n_symbols) / (T + 2 length)`` nats."""
    return copy_baseline(T, length, n_symbols)


COPY_MISTAKES = [
    Mistake("readout-only", lambda T, L, K: math.log(K),
            "ln(n_symbols) is the loss of one read-out step. The loss is averaged over all T + 2 length "
            "steps, and on the others the memoryless model predicts 'blank' with certainty (loss 0)."),
    Mistake("bits", lambda T, L, K: L * math.log2(K) / (T + 2 * L),
            "You used log2, which gives bits. Cross-entropy in rnnlib (and PyTorch) uses the natural "
            "log: nats. Use math.log."),
    Mistake("delay-only", lambda T, L, K: L * math.log(K) / T,
            "The sequence has T + 2 length steps (the symbols, the delay with its delimiter, the read-out), "
            "not T: divide by T + 2 * length."),
    Mistake("uniform-everywhere", lambda T, L, K: math.log(K + 1),
            "A uniform guess over blank and symbols at every step ignores what the input tells a model "
            "without memory: the delimiter says *when* the read-out starts, so before it 'blank' is "
            "certain (loss 0), and after it only the symbols are possible."),
    Mistake("blank-in-guess", lambda T, L, K: L * math.log(K + 1) / (T + 2 * L),
            "During the read-out the target is always a symbol, never blank: the best guess is uniform "
            "over the n_symbols symbols, ln(n_symbols), not over n_symbols + 1 classes."),
]


# ---------------------------------------------------------------------------
# 4. Gradient clipping by global norm (in place)
# ---------------------------------------------------------------------------
def clip_cases(rng):
    """Tuples ``(grads, max_norm)``; the dict's arrays are the ones to clip."""
    def grads_with_norms(shapes_norms):
        out = {}
        for key, (shape, norm) in shapes_norms.items():
            g = rng.standard_normal(shape)
            out[key] = g * (norm / np.linalg.norm(g))
        return out
    layer = {"W_x": ((2, 12), 3.0), "W_h": ((3, 12), 3.5), "b": ((12,), 1.5)}  # global norm ~4.85
    return [
        (grads_with_norms(layer), 1.0),  # clipped
        (grads_with_norms(layer), 100.0),  # below the maximum: unchanged
        (grads_with_norms({"a": ((4, 4), 3.0), "b": ((4,), 0.2)}), 1.0),  # one tensor alone is below
        (grads_with_norms({"W": ((3, 2), 0.5)}), 1.0),  # a single small tensor
        (grads_with_norms({"W": ((5, 3), 2.0), "b": ((3,), 2.0)}), 2.5),
    ]


def clip_by_global_norm_reference(grads, max_norm):
    """Scale every array in place by ``min(1, max_norm / n)``, n the global norm; return n."""
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def _per_tensor(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        n = np.linalg.norm(g)
        if n > max_norm:
            g *= max_norm / n
    return norm


def _always_rescale(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= max_norm / norm
    return norm


def _post_clip_norm(grads, max_norm):
    clip_by_global_norm_reference(grads, max_norm)
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def _not_in_place(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if norm > max_norm:
        for k in grads:
            grads[k] = grads[k] * (max_norm / norm)  # a new array: the caller's array is untouched
    return norm


def _no_sqrt(grads, max_norm):
    norm = float(sum(np.sum(g * g) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def _sum_of_norms(grads, max_norm):
    norm = float(sum(np.linalg.norm(g) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def _clip_by_value(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        np.clip(g, -max_norm, max_norm, out=g)
    return norm


CLIP_MISTAKE_FUNCTIONS = {
    "per-tensor": (_per_tensor,
                   "You clipped each array to the maximum on its own. Clipping by *global* norm computes one "
                   "norm over all the arrays together and scales all of them by the same factor, so the "
                   "direction of the whole gradient is kept."),
    "always-rescale": (_always_rescale,
                       "You rescaled the gradient even when its norm was below the maximum, which blows small "
                       "gradients up to norm max_norm. Scale only when the norm exceeds max_norm."),
    "post-clip-norm": (_post_clip_norm,
                       "The clipping is right, but you returned the norm *after* clipping (at most max_norm). "
                       "Return the norm before clipping: it is what a training log should show."),
    "not-in-place": (_not_in_place,
                     "The arrays you were given did not change: you computed new arrays (g = g * scale, or "
                     "grads[k] = grads[k] * scale). The optimiser holds the original arrays, so scale them in "
                     "place: g *= scale."),
    "no-sqrt": (_no_sqrt,
                "You used the sum of squares, not its square root: the global norm is "
                "sqrt(sum over arrays of sum(g**2))."),
    "sum-of-norms": (_sum_of_norms,
                     "You added up the norms of the arrays. The global norm is the norm of all the entries "
                     "together: sqrt(sum_k ||g_k||^2), not sum_k ||g_k||."),
    "clip-by-value": (_clip_by_value,
                      "You clipped each entry to [-max_norm, max_norm] (clipping by value). That changes the "
                      "direction of the gradient; clipping by norm scales the whole gradient instead."),
}


# ---------------------------------------------------------------------------
# 5. A GRU that solves T = 100 within a step budget (checked by training)
# ---------------------------------------------------------------------------
CONFIG_T = 100
"""Length of the adding problem in :func:`~rnnlib.exercises.ch4.check_gru_config`."""
CONFIG_STEPS = 200
"""The step budget: number of Adam updates."""
CONFIG_THRESHOLD = 0.01
"""Held-out MSE to reach (the baseline is 1/6)."""
CONFIG_DEFAULTS = {"hidden_size": 32, "lr": 1e-2, "batch_size": 64, "clip": 1.0, "update_bias": 0.0}
"""The chapter's settings; keys the reader leaves out keep these values."""
CONFIG_LIMITS = {"hidden_size": (4, 64), "batch_size": (8, 64)}
"""Size limits that keep one check under a minute on one core (H = 64 and N = 64: ~10-25 s)."""


CONFIG_DIAGNOSES = {
    "more-steps": "The step budget is the point of the exercise: the check always trains for "
                  f"{CONFIG_STEPS} updates. Remove 'steps' and make each update count for more.",
    "over-budget": "That model or batch is too large for the check's time budget: keep hidden_size <= "
                   f"{CONFIG_LIMITS['hidden_size'][1]} and batch_size <= {CONFIG_LIMITS['batch_size'][1]}. "
                   "Size is not what is missing here.",
    "default": "These are the chapter's settings. At T = 100 the GRU needs about 300 updates with them: "
               "the loss sits near the baseline while the network searches for the markers. Something "
               "must make that search faster.",
    "lr-too-small": "With a smaller learning rate every update moves the weights less, and the plateau at "
                    "the baseline gets longer, not shorter.",
    "lr-too-large": "With a learning rate this large Adam's steps overshoot (Adam moves every weight by "
                    "about lr per update, however much the gradient is clipped): the loss does not settle "
                    "below the baseline.",
    "lr-unchanged": "You kept lr = 0.01. The change you made did not shorten the plateau enough. Look at "
                    "the learning rate.",
}
