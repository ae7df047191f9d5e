r"""The check of Chapter 4's adding batch, which judges a random batch by its properties.

``check_adding_batch`` (re-exported by :mod:`rnnlib.exercises.ch4`, the way in) cannot
compare the reader's batch with a reference batch: a random batch differs with every
way of drawing it. It checks, in order, what every correct batch has: the shapes
(``x`` (N, T, 2), ``y`` (N, 1)), that it is drawn from the ``rng`` it is given (the
same seed gives the same batch, another seed another), exactly two markers per
sequence with one in each half, values in [0, 1) that look uniform, and ``y`` the sum
of the two marked values. A failed property is named as the catalogued mistake it
reveals (``ADDING_BATCH_MISTAKES`` in :mod:`rnnlib.exercises._ch4_mistakes`).

It is the longest check of the chapter, so it has a module of its own.
"""

from __future__ import annotations

import numpy as np

from ._ch4_mistakes import ADDING_BATCH_MISTAKES
from ._check import _call, _exception_text, _Raised, guarded, not_attempted, not_callable, reader_raised, result

BATCH_CASES = [(256, 20, 0), (512, 50, 1), (5, 4, 2), (600, 15, 3)]  # (N, T, seed); N != T, neither is 2
COVERAGE_RATIO = 25  # N / (positions of a half) from which every position must be seen: miss chance < 10 * e**-25


def _marked(values, markers):
    """The first and second marked values of each row (rows with exactly two markers)."""
    idx = np.argsort(-markers, axis=1, kind="stable")[:, :2]  # (N, 2), positions of the two 1s, in order
    idx = np.sort(idx, axis=1)
    rows = np.arange(values.shape[0])[:, None]
    return values[rows, idx], idx  # (N, 2), (N, 2)


_BATCH_DIAGNOSIS = {m.id: m.diagnosis for m in ADDING_BATCH_MISTAKES}


def _known(name, mistake_id, detail=""):
    return result(False, "known-mistake", f"{name}: not yet. {_BATCH_DIAGNOSIS[mistake_id]}{detail}",
                   mistake=mistake_id)


def _same(a, b):
    """Equal arrays, NaN equal to NaN (an all-NaN target is reproducible, just wrong)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" == b.dtype.kind))


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


@guarded("adding_batch")
def check_adding_batch(fn):
    """Check ``fn(N, T, rng) -> (x, y)``: a batch of the adding problem, by its properties.

    In order: the shapes (x (N, T, 2), y (N, 1)); that the batch is drawn from ``rng``
    (the same seed gives the same batch, another seed another); exactly two markers per
    sequence, one in each half; values in [0, 1) that look uniform; y = the sum of the
    two marked values of x.
    """
    name = "adding_batch"
    if not callable(fn):
        return not_callable(name, fn)
    outs = []
    for N, T, seed in BATCH_CASES:
        out = _call(fn, (N, T, np.random.default_rng(seed)))
        if isinstance(out, _Raised):
            if isinstance(out.exc, NotImplementedError):
                return not_attempted(name)
            return reader_raised(name, out.exc, f" for N={N}, T={T}")
        pair, err = _pair(out)
        if err:
            return result(False, "wrong-type", f"{name}: {err}.")
        outs.append(pair)

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # shapes
        if x.shape != (N, T, 2):
            shape_mistakes = {(N, T): "no-marker-channel", (T, N, 2): "time-major", (N, 2, T): "channels-first"}
            if x.shape in shape_mistakes:
                return _known(name, shape_mistakes[x.shape])
            return result(False, "wrong-shape", f"{name}: for N={N}, T={T}, x should have shape "
                           f"({N}, {T}, 2); got {x.shape}.")
        if y.shape != (N, 1):
            if y.shape == (N,):
                return _known(name, "flat-target")
            return result(False, "wrong-shape", f"{name}: for N={N}, T={T}, y should have shape "
                           f"({N}, 1); got {y.shape}.")

    N, T, seed = BATCH_CASES[0]  # use of the generator
    again = _call(fn, (N, T, np.random.default_rng(seed)))
    other = _call(fn, (N, T, np.random.default_rng(seed + 100)))
    for o in (again, other):
        if isinstance(o, _Raised) or _pair(o)[1]:
            return result(False, "raised", f"{name}: a second call with N={N}, T={T} failed "
                           f"({_exception_text(o.exc) if isinstance(o, _Raised) else _pair(o)[1]}).")
    x0, y0 = outs[0]
    if not (_same(again[0], x0) and _same(again[1], y0)):
        return _known(name, "global-random")
    if _same(other[0], x0):
        return _known(name, "fixed-seed")

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # markers
        m = x[..., 1]
        if not np.all((m == 0) | (m == 1)):
            return result(False, "mismatch", f"{name}: channel 1 (the markers) should hold only 0s and 1s; "
                           f"got values such as {float(m[(m != 0) & (m != 1)][0]):.3g}.")
        counts = m.sum(axis=1)
        if np.all(counts == 1):
            return _known(name, "one-marker")
        if np.any((counts != 1) & (counts != 2)):
            return result(False, "mismatch", f"{name}: every sequence needs exactly two markers; some of "
                           f"yours have {int(counts[(counts != 1) & (counts != 2)][0])}.")
        half = T // 2
        first_in_first = m[:, :half].sum(axis=1) == 1
        second_in_second = m[:, half:].sum(axis=1) == 1
        if np.any(counts == 1) or not np.all(first_in_first & second_in_second):
            bad = int(np.sum((counts == 1) | ~(first_in_first & second_in_second)))
            up = (T + 1) // 2
            if T % 2 and np.all(counts == 2) and np.all((m[:, :up].sum(axis=1) == 1) & (m[:, up:].sum(axis=1) == 1)):
                return result(False, "mismatch", f"{name}: for odd T={T} your first half has {up} steps: "
                               f"the first half is steps 0 .. T//2 - 1 = {half - 1} (floor, T // 2), the "
                               f"second half steps {half} .. {T - 1}.", mistake=None)
            return _known(name, "markers-anywhere", f" ({bad} of {N} sequences for T={T}.)")
        if N > 1:  # rows are independent sequences
            rows = np.unique(x[..., 0], axis=0).shape[0]  # continuous values: distinct rows unless repeated
            if rows < N:
                return result(False, "mismatch", f"{name}: only {rows} of your {N} sequences have different values "
                               f"(N={N}, T={T}): every row must be drawn on its own, e.g. rng.random((N, T)) "
                               f"and one marker pair per row, not one sequence repeated (np.tile).")
        if N >= COVERAGE_RATIO * (T - half):  # enough sequences to see every position of each half
            _, idx = _marked(x[..., 0], m)
            for k, (lo, hi) in enumerate(((0, half), (half, T))):
                missed = sorted(set(range(lo, hi)) - set(np.unique(idx[:, k]).tolist()))
                if missed:
                    return result(False, "mismatch", f"{name}: marker {k + 1} never fell on step(s) "
                                   f"{', '.join(map(str, missed[:5]))}{' ...' if len(missed) > 5 else ''} of its "
                                   f"half [{lo}, {hi - 1}] in {N} sequences (T={T}). Draw it uniformly over the "
                                   f"whole half, ends included: rng.integers({lo}, {hi}) (the upper bound is "
                                   f"excluded).")

    for (N, T, _), (x, y) in zip(BATCH_CASES, outs):  # values
        v = x[..., 0]
        if v.min() < 0 or v.max() >= 1:
            if v.min() < 0:
                return _known(name, "values-range")
            return result(False, "mismatch", f"{name}: values (channel 0) should lie in [0, 1); the largest "
                           f"is {float(v.max()):.3g}.")
        if v.size >= 1000 and not (abs(v.mean() - 0.5) < 0.05 and abs(v.std() - 12**-0.5) < 0.05):
            return result(False, "mismatch", f"{name}: the values should be uniform on [0, 1) (mean 0.5, "
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
        return result(False, "mismatch", f"{name}: y is not the sum of the two marked values of x (max abs "
                       f"diff {diff:.3g} for N={N}, T={T}). Compute y from the same values you put in x.")

    return result(True, "passed", f"{name}: correct! Shapes, markers (one in each half), uniform values, "
                   f"the target and the use of rng all check out on {len(BATCH_CASES)} batches.")
