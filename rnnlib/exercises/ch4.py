r"""Checks for the exercises of Chapter 4, "Remembering across time".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult` (see :mod:`rnnlib.exercises._check`).

===============================  ===============================================
check                            the reader writes
===============================  ===============================================
:func:`check_adding_batch`       ``adding_batch(N, T, rng) -> (x, y)``, x (N, T, 2), y (N, 1)
:func:`check_adding_baseline`    ``adding_baseline(low, high) -> float``
:func:`check_copy_baseline`      ``copy_baseline(T, length, n_symbols) -> float`` (nats)
:func:`check_clip_by_global_norm`
                                 ``clip_by_global_norm(grads, max_norm) -> norm``,
                                 scaling the arrays of ``grads`` in place
:func:`check_gru_config`         ``choose_gru_config() -> dict``: settings that let
                                 a GRU solve the adding problem at T = 100 within
                                 :data:`CONFIG_STEPS` updates (checked by training)
===============================  ===============================================

Two of the checks cannot compare with a reference output: a random batch
differs with every way of drawing it, and a training run is judged by its
result. :func:`check_adding_batch` therefore checks the *properties* of the
batch (shapes, markers, values, target, use of the generator), and
:func:`check_gru_config` trains the model. Both still name the catalogued
mistakes (``result.mistake``).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np

from ..model import SequenceModel
from ..tasks import ADDING_BASELINE_MSE, adding_problem, copy_baseline
from ..training import TrainConfig, train
from ._check import CheckResult, Exercise, Mistake, _call, _exception_text, _Raised

WIDTH = 78  # printed messages are wrapped to fit the HTML book's output boxes


def _result(passed, status, message, mistake=None):
    return CheckResult(passed, status, message, mistake=mistake, width=WIDTH)


def _not_attempted(name):
    return _result(False, "not-attempted",
                   f"{name}: not attempted yet (the function still raises NotImplementedError).")


# ---------------------------------------------------------------------------
# 1. An adding-problem batch (checked by its properties)
# ---------------------------------------------------------------------------
BATCH_CASES = [(256, 20, 0), (512, 50, 1), (5, 4, 2)]  # (N, T, seed); N != T, neither is 2


def adding_batch_reference(N, T, rng):
    """:func:`rnnlib.tasks.adding_problem`: x (N, T, 2), y (N, 1)."""
    return adding_problem(N, T, rng)


def _marked(values, markers):
    """The first and second marked values of each row (rows with exactly two markers)."""
    idx = np.argsort(-markers, axis=1, kind="stable")[:, :2]  # (N, 2), positions of the two 1s, in order
    idx = np.sort(idx, axis=1)
    rows = np.arange(values.shape[0])[:, None]
    return values[rows, idx], idx  # (N, 2), (N, 2)


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
_BATCH_DIAGNOSIS = {m.id: m.diagnosis for m in ADDING_BATCH_MISTAKES}


def _known(name, mistake_id, detail=""):
    return _result(False, "known-mistake", f"{name}: not yet. {_BATCH_DIAGNOSIS[mistake_id]}{detail}",
                   mistake=mistake_id)


def _pair(out):
    """(x, y) as arrays, or an error text."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        kind = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) \
            else type(out).__name__
        return None, f"return the pair (x, y); got {kind}"
    x, y = out
    for nm, a in (("x", x), ("y", y)):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
            return None, f"{nm} should be a NumPy array of numbers; got {type(a).__name__}"
    return (x, y), None


def check_adding_batch(fn):
    """Check ``fn(N, T, rng) -> (x, y)``: a batch of the adding problem, by its properties.

    In order: the shapes (x (N, T, 2), y (N, 1)); that the batch is drawn from ``rng``
    (the same seed gives the same batch, another seed another); exactly two markers per
    sequence, one in each half; values in [0, 1) that look uniform; y = the sum of the
    two marked values of x.
    """
    name = "adding_batch"
    if not callable(fn):
        return _result(False, "wrong-type", f"{name}: expected a function; got {type(fn).__name__}.")
    outs = []
    for N, T, seed in BATCH_CASES:
        out = _call(fn, (N, T, np.random.default_rng(seed)))
        if isinstance(out, _Raised):
            if isinstance(out.exc, NotImplementedError):
                return _not_attempted(name)
            return _result(False, "raised", f"{name}: your function raised {_exception_text(out.exc)} "
                           f"for N={N}, T={T}.")
        pair, err = _pair(out)
        if err:
            return _result(False, "wrong-type", f"{name}: {err}.")
        outs.append(pair)

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # shapes
        if x.shape != (N, T, 2):
            shape_mistakes = {(N, T): "no-marker-channel", (T, N, 2): "time-major", (N, 2, T): "channels-first"}
            if x.shape in shape_mistakes:
                return _known(name, shape_mistakes[x.shape])
            return _result(False, "wrong-shape", f"{name}: for N={N}, T={T}, x should have shape "
                           f"({N}, {T}, 2); got {x.shape}.")
        if y.shape != (N, 1):
            if y.shape == (N,):
                return _known(name, "flat-target")
            return _result(False, "wrong-shape", f"{name}: for N={N}, T={T}, y should have shape "
                           f"({N}, 1); got {y.shape}.")

    N, T, seed = BATCH_CASES[0]  # use of the generator
    again = _call(fn, (N, T, np.random.default_rng(seed)))
    other = _call(fn, (N, T, np.random.default_rng(seed + 100)))
    for o in (again, other):
        if isinstance(o, _Raised) or _pair(o)[1]:
            return _result(False, "raised", f"{name}: a second call with N={N}, T={T} failed "
                           f"({_exception_text(o.exc) if isinstance(o, _Raised) else _pair(o)[1]}).")
    x0, y0 = outs[0]
    if not (np.array_equal(again[0], x0) and np.array_equal(again[1], y0)):
        return _known(name, "global-random")
    if np.array_equal(other[0], x0):
        return _known(name, "fixed-seed")

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # markers
        m = x[..., 1]
        if not np.all((m == 0) | (m == 1)):
            return _result(False, "mismatch", f"{name}: channel 1 (the markers) should hold only 0s and 1s; "
                           f"got values such as {float(m[(m != 0) & (m != 1)][0]):.3g}.")
        counts = m.sum(axis=1)
        if np.all(counts == 1):
            return _known(name, "one-marker")
        if np.any((counts != 1) & (counts != 2)):
            return _result(False, "mismatch", f"{name}: every sequence needs exactly two markers; some of "
                           f"yours have {int(counts[(counts != 1) & (counts != 2)][0])}.")
        half = T // 2
        first_in_first = m[:, :half].sum(axis=1) == 1
        second_in_second = m[:, half:].sum(axis=1) == 1
        if np.any(counts == 1) or not np.all(first_in_first & second_in_second):
            bad = int(np.sum((counts == 1) | ~(first_in_first & second_in_second)))
            return _known(name, "markers-anywhere", f" ({bad} of {N} sequences for T={T}.)")
        if N >= 20 * half:  # enough sequences to see every position of each half
            _, idx = _marked(x[..., 0], m)
            for k, (lo, hi) in enumerate(((0, half), (half, T))):
                seen = np.unique(idx[:, k]).size
                if seen < 0.9 * (hi - lo):
                    return _result(False, "mismatch", f"{name}: marker {k + 1} took only {seen} of the "
                                   f"{hi - lo} positions of its half in {N} sequences (T={T}). Draw it "
                                   f"uniformly over the whole half.")

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # values
        v = x[..., 0]
        if v.min() < 0 or v.max() >= 1:
            if v.min() < 0:
                return _known(name, "values-range")
            return _result(False, "mismatch", f"{name}: values (channel 0) should lie in [0, 1); the largest "
                           f"is {float(v.max()):.3g}.")
        if v.size >= 1000 and not (abs(v.mean() - 0.5) < 0.05 and abs(v.std() - 12**-0.5) < 0.05):
            return _result(False, "mismatch", f"{name}: the values should be uniform on [0, 1) (mean 0.5, "
                           f"std 0.289); yours have mean {v.mean():.3f}, std {v.std():.3f}. Use rng.random((N, T)).")

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # target
        v, m = x[..., 0], x[..., 1]
        marked, _ = _marked(v, m)  # (N, 2)
        got = y[:, 0]
        if np.allclose(got, marked.sum(axis=1), rtol=1e-12, atol=1e-12):
            continue
        candidates = {"sum-all": v.sum(axis=1), "mean-not-sum": marked.mean(axis=1)}
        for mid, want in candidates.items():
            if np.allclose(got, want, rtol=1e-12, atol=1e-12):
                return _known(name, mid)
        if np.allclose(got, marked[:, 0]) or np.allclose(got, marked[:, 1]):
            return _known(name, "one-value")
        diff = float(np.max(np.abs(got - marked.sum(axis=1))))
        return _result(False, "mismatch", f"{name}: y is not the sum of the two marked values of x (max abs "
                       f"diff {diff:.3g} for N={N}, T={T}). Compute y from the same values you put in x.")

    return _result(True, "passed", f"{name}: correct! Shapes, markers (one in each half), uniform values, "
                   f"the target and the use of rng all check out on {len(BATCH_CASES)} batches.")


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

_BASELINE = Exercise(
    name="adding_baseline",
    width=WIDTH,
    reference=adding_baseline_reference,
    make_cases=baseline_cases,
    mistakes=BASELINE_MISTAKES,
    hint="The best constant prediction is E[y]; its mean squared error is Var(y), y = U1 + U2.",
)


def check_adding_baseline(fn):
    """Check ``fn(low, high) -> float``: the memoryless MSE when the values are U[low, high)."""
    return _BASELINE.check(fn)


# ---------------------------------------------------------------------------
# 3. The copy task's baseline
# ---------------------------------------------------------------------------
def copy_baseline_cases(rng):
    """Tuples ``(T, length, n_symbols)``."""
    return [(10, 5, 8), (100, 10, 8), (3, 2, 4), (50, 10, 2), (20, 3, 16)]


def copy_baseline_reference(T, length, n_symbols):
    """:func:`rnnlib.tasks.copy_baseline`: ``length * ln(n_symbols) / (T + 2 length)`` nats."""
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

_COPY = Exercise(
    name="copy_baseline",
    width=WIDTH,
    reference=copy_baseline_reference,
    make_cases=copy_baseline_cases,
    mistakes=COPY_MISTAKES,
    hint="Add up the loss of the best memoryless guess at every step, then divide by the number of steps.",
)


def check_copy_baseline(fn):
    """Check ``fn(T, length, n_symbols) -> float``: the memoryless cross-entropy per step (nats)."""
    return _COPY.check(fn)


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


def _clip_outcome(fn):
    """Run ``fn(grads, max_norm)`` on copies and return ``(value returned, the caller's arrays after)``.

    The arrays are read from the caller's side after the call, so a function that
    replaces them (instead of scaling them in place) is seen to leave them unchanged.
    """
    def run(grads, max_norm):
        arrays = {k: np.array(g, dtype=np.float64, copy=True) for k, g in grads.items()}
        value = fn(dict(arrays), max_norm)  # a new dict holding the same arrays
        return value, arrays
    return run


_CLIP = Exercise(
    name="clip_by_global_norm",
    width=WIDTH,
    reference=_clip_outcome(clip_by_global_norm_reference),
    make_cases=clip_cases,
    mistakes=[Mistake(k, _clip_outcome(f), d) for k, (f, d) in CLIP_MISTAKE_FUNCTIONS.items()],
    hint=("n = sqrt(sum of g**2 over every entry of every array); if n > max_norm, scale every array "
          "in place by max_norm / n; return n."),
)


def check_clip_by_global_norm(fn):
    """Check ``fn(grads, max_norm) -> norm``: clip a dict of arrays in place by their global norm.

    The function must return the norm *before* clipping (a number) and scale the
    caller's arrays in place.
    """
    name = _CLIP.name
    if not callable(fn):
        return _result(False, "wrong-type", f"{name}: expected a function; got {type(fn).__name__}.")
    grads, max_norm = _CLIP.cases()[0]
    out = _call(fn, ({k: g.copy() for k, g in grads.items()}, max_norm))
    if isinstance(out, _Raised):
        if isinstance(out.exc, NotImplementedError):
            return _not_attempted(name)
    elif isinstance(out, dict):
        return _result(False, "known-mistake", f"{name}: not yet. You returned a dict of new arrays. "
                       + CLIP_MISTAKE_FUNCTIONS["not-in-place"][1] + " Return the norm before clipping.",
                       mistake="not-in-place")
    elif isinstance(out, (bool, np.bool_)) or not isinstance(out, (numbers.Real, np.floating, np.integer)):
        got = "None (no return statement?)" if out is None else type(out).__name__
        return _result(False, "wrong-type", f"{name}: return the global norm before clipping, one number; "
                       f"got {got}.")
    return _CLIP.check(_clip_outcome(fn))


# ---------------------------------------------------------------------------
# 5. A GRU that solves T = 100 within a step budget (checked by training)
# ---------------------------------------------------------------------------
CONFIG_T = 100
"""Length of the adding problem in :func:`check_gru_config`."""
CONFIG_STEPS = 200
"""The step budget: number of Adam updates."""
CONFIG_THRESHOLD = 0.01
"""Held-out MSE to reach (the baseline is 1/6)."""
CONFIG_DEFAULTS = {"hidden_size": 32, "lr": 1e-2, "batch_size": 64, "clip": 1.0, "update_bias": 0.0}
"""The chapter's settings; keys the reader leaves out keep these values."""
CONFIG_LIMITS = {"hidden_size": (4, 64), "batch_size": (8, 64)}
"""Size limits that keep one check under a minute on one core (H = 64 and N = 64: ~10-25 s)."""


@lru_cache(maxsize=32)
def measure_gru_config(hidden_size=32, lr=1e-2, batch_size=64, clip=1.0, update_bias=0.0):
    """Train ``SequenceModel("gru", 2, hidden_size, 1, update_bias=...)`` on the adding problem.

    T = :data:`CONFIG_T`, :data:`CONFIG_STEPS` Adam updates, seed 0 for the weights, the
    batches and the held-out set (512 sequences, evaluated every 50 updates); ``clip=None``
    turns clipping off. Results are cached per setting.

    Returns
    -------
    History
        From :func:`rnnlib.training.train`.
    """
    model = SequenceModel("gru", 2, hidden_size, 1, seed=0, update_bias=update_bias)
    config = TrainConfig(steps=CONFIG_STEPS, batch_size=batch_size, lr=lr, clip=clip, eval_every=50,
                         eval_size=512, seed=0, loss="mse", probe_size=0, progress=False)
    return train(model, lambda N, rng: adding_problem(N, CONFIG_T, rng), config)


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


def _config_mistake(name, mistake_id, detail=""):
    return _result(False, "known-mistake", f"{name}: not yet. {detail}{CONFIG_DIAGNOSES[mistake_id]}",
                   mistake=mistake_id)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)


def check_gru_config(fn):
    """Check ``fn() -> dict``: settings that take a GRU below MSE 0.01 on T = 100 in 200 updates.

    Allowed keys (missing ones keep :data:`CONFIG_DEFAULTS`): ``hidden_size`` (int, 4-64),
    ``lr`` (0 < lr <= 1), ``batch_size`` (int, 8-64), ``clip`` (> 0, or None for no
    clipping), ``update_bias`` (-10 to 10, added to the update gate's bias, see
    ``rnnlib.GRU``). The check trains with :func:`measure_gru_config` (seed 0).
    """
    name = "choose_gru_config"
    if not callable(fn):
        return _result(False, "wrong-type", f"{name}: expected a function; got {type(fn).__name__}.")
    out = _call(fn, ())
    if isinstance(out, _Raised):
        if isinstance(out.exc, NotImplementedError):
            return _not_attempted(name)
        return _result(False, "raised", f"{name}: your function raised {_exception_text(out.exc)}.")
    if not isinstance(out, dict):
        return _result(False, "wrong-type", f"{name}: return a dict such as {{'lr': ..., 'hidden_size': ...}}; "
                       f"got {type(out).__name__}.")
    if "steps" in out:
        return _config_mistake(name, "more-steps")
    unknown = sorted(str(k) for k in out if k not in CONFIG_DEFAULTS)
    if unknown:
        return _result(False, "wrong-type", f"{name}: unknown key(s) {unknown}; the allowed keys are "
                       f"{sorted(CONFIG_DEFAULTS)}.")
    cfg = {**CONFIG_DEFAULTS, **out}
    for key in ("hidden_size", "batch_size"):
        v = cfg[key]
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
            return _result(False, "wrong-type", f"{name}: {key} must be a positive int; got {v!r}.")
        lo, hi = CONFIG_LIMITS[key]
        if v > hi:
            return _config_mistake(name, "over-budget", f"{key} = {v}. ")
        if v < lo:
            return _result(False, "wrong-type", f"{name}: {key} must be at least {lo}; got {v}.")
    if not (_is_real(cfg["lr"]) and 0 < cfg["lr"] <= 1):
        return _result(False, "wrong-type", f"{name}: lr must be a number with 0 < lr <= 1; got {cfg['lr']!r}.")
    if cfg["clip"] is not None and not (_is_real(cfg["clip"]) and cfg["clip"] > 0):
        return _result(False, "wrong-type", f"{name}: clip must be a positive number or None; "
                       f"got {cfg['clip']!r}.")
    if not (_is_real(cfg["update_bias"]) and -10 <= cfg["update_bias"] <= 10):
        return _result(False, "wrong-type", f"{name}: update_bias must be a number between -10 and 10; "
                       f"got {cfg['update_bias']!r}.")
    key = (int(cfg["hidden_size"]), float(cfg["lr"]), int(cfg["batch_size"]),
           None if cfg["clip"] is None else float(cfg["clip"]), float(cfg["update_bias"]))
    try:
        history = measure_gru_config(*key)
    except Exception as exc:  # noqa: BLE001 - a check must never raise into the notebook
        return _result(False, "raised", f"{name}: training with these settings failed "
                       f"({_exception_text(exc)}).")
    final = history.final_eval_loss
    curve = ", ".join(f"{v:.3g}" for v in history.eval_loss[1:])
    measured = (f"Measured held-out MSE after {', '.join(str(s) for s in history.eval_steps[1:])} updates: "
                f"{curve}. ")
    if final < CONFIG_THRESHOLD:
        return _result(True, "passed", f"{name}: correct! {measured}That is below {CONFIG_THRESHOLD:g} "
                       f"within {CONFIG_STEPS} updates (baseline {ADDING_BASELINE_MSE:.3f}).")
    lr = cfg["lr"]
    if key == tuple(CONFIG_DEFAULTS.values()):
        return _config_mistake(name, "default", measured)
    if lr < CONFIG_DEFAULTS["lr"]:
        return _config_mistake(name, "lr-too-small", measured)
    if lr > 0.1:
        return _config_mistake(name, "lr-too-large", measured)
    if lr == CONFIG_DEFAULTS["lr"]:
        return _config_mistake(name, "lr-unchanged", measured)
    return _result(False, "mismatch", f"{name}: not yet. {measured}The target is below {CONFIG_THRESHOLD:g} "
                   f"after {CONFIG_STEPS} updates; the learning rate is the setting that matters most.")


EXERCISES = {
    "adding_baseline": _BASELINE,
    "copy_baseline": _COPY,
    "clip_by_global_norm": _CLIP,
}
"""The exercises checked against a reference with :class:`~rnnlib.exercises._check.Exercise`;
``adding_batch`` is checked by its properties and ``gru_config`` by training."""
