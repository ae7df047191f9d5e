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

The check functions of this module are the way in. The adding batch's property check
lives in :mod:`rnnlib.exercises._ch4_batch`; the references, the seeded cases and the
catalogues of named mistakes in :mod:`rnnlib.exercises._ch4_mistakes`. This module
re-exports their public names.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np

from rnnlib.training.model import SequenceModel
from rnnlib.data.tasks import ADDING_BASELINE_MSE, adding_problem
from rnnlib.training.loop import TrainConfig, train
from ._ch4_batch import BATCH_CASES, COVERAGE_RATIO, check_adding_batch  # noqa: F401 - re-exported
from ._ch4_mistakes import (BASELINE_MISTAKES, CLIP_MISTAKE_FUNCTIONS, CONFIG_DEFAULTS, CONFIG_DIAGNOSES,
                            CONFIG_LIMITS, CONFIG_STEPS, CONFIG_T, CONFIG_THRESHOLD, COPY_MISTAKES,
                            adding_baseline_reference, baseline_cases, clip_cases,
                            clip_by_global_norm_reference, copy_baseline_cases, copy_baseline_reference)
from ._ch4_mistakes import ADDING_BATCH_MISTAKES, _batch_with, adding_batch_reference  # noqa: F401 - re-exported
from ._check import (WIDTH, Exercise, Mistake, _call, _exception_text, _Raised, guarded, not_attempted,
                     not_callable, reader_raised, result)
from ._guard import as_real, short_repr

# ---------------------------------------------------------------------------
# 1. An adding-problem batch (checked by its properties)
# ---------------------------------------------------------------------------
# check_adding_batch and BATCH_CASES live in rnnlib.exercises._ch4_batch (imported above).


# ---------------------------------------------------------------------------
# 2. The adding problem's baseline
# ---------------------------------------------------------------------------
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


@guarded("clip_by_global_norm")
def check_clip_by_global_norm(fn):
    """Check ``fn(grads, max_norm) -> norm``: clip a dict of arrays in place by their global norm.

    The function must return the norm *before* clipping (a number) and scale the
    caller's arrays in place.
    """
    name = _CLIP.name
    if not callable(fn):
        return not_callable(name, fn)
    grads, max_norm = _CLIP.cases()[0]
    arrays = {k: g.copy() for k, g in grads.items()}
    out = _call(fn, (dict(arrays), max_norm))
    if isinstance(out, _Raised):
        if isinstance(out.exc, NotImplementedError):
            return not_attempted(name)
    elif isinstance(out, dict):
        _, clipped = _clip_outcome(clip_by_global_norm_reference)(grads, max_norm)
        if all(np.allclose(arrays[k], clipped[k]) for k in clipped):
            return result(False, "wrong-type", f"{name}: not yet. Your arrays are clipped in place, "
                           "correctly, but the function should return the global norm before clipping "
                           "(one number), not the dict.")
        if all(np.array_equal(arrays[k], grads[k]) for k in grads):
            return result(False, "known-mistake", f"{name}: not yet. You returned a dict of new arrays. "
                           + CLIP_MISTAKE_FUNCTIONS["not-in-place"][1] + " Return the norm before clipping.",
                           mistake="not-in-place")
        return result(False, "wrong-type", f"{name}: return the global norm before clipping, one number; "
                       "got a dict.")
    elif isinstance(out, (bool, np.bool_)) or not isinstance(out, (numbers.Real, np.floating, np.integer)):
        got = "None (no return statement?)" if out is None else type(out).__name__
        return result(False, "wrong-type", f"{name}: return the global norm before clipping, one number; "
                       f"got {got}.")
    return _CLIP.check(_clip_outcome(fn))


# ---------------------------------------------------------------------------
# 5. A GRU that solves T = 100 within a step budget (checked by training)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=32)
def measure_gru_config(hidden_size=32, lr=1e-2, batch_size=64, clip=1.0, update_bias=0.0):
    """Train ``SequenceModel("gru", 2, hidden_size, 1, update_bias=...)`` on the adding problem.

    T = :data:`CONFIG_T`, :data:`CONFIG_STEPS` Adam updates, seed 0 for the weights, the
    batches and the held-out set (512 sequences, evaluated every 50 updates); ``clip=None``
    turns clipping off. Results are cached per setting.

    Returns
    -------
    History
        From :func:`rnnlib.training.loop.train`.
    """
    model = SequenceModel("gru", 2, hidden_size, 1, seed=0, update_bias=update_bias)
    config = TrainConfig(steps=CONFIG_STEPS, batch_size=batch_size, lr=lr, clip=clip, eval_every=50,
                         eval_size=512, seed=0, loss="mse", probe_size=0, progress=False)
    return train(model, lambda N, rng: adding_problem(N, CONFIG_T, rng), config)


def _config_mistake(name, mistake_id, detail=""):
    return result(False, "known-mistake", f"{name}: not yet. {detail}{CONFIG_DIAGNOSES[mistake_id]}",
                   mistake=mistake_id)


def _is_real(v):
    value, problem = as_real(v)
    return problem is None and math.isfinite(value)


@guarded("choose_gru_config")
def check_gru_config(fn):
    """Check ``fn() -> dict``: settings that take a GRU below MSE 0.01 on T = 100 in 200 updates.

    Allowed keys (missing ones keep :data:`CONFIG_DEFAULTS`): ``hidden_size`` (int, 4-64),
    ``lr`` (0 < lr <= 1), ``batch_size`` (int, 8-64), ``clip`` (> 0, or None for no
    clipping), ``update_bias`` (-10 to 10, added to the update gate's bias, see
    ``rnnlib.GRU``). The check trains with :func:`measure_gru_config` (seed 0).
    """
    name = "choose_gru_config"
    if not callable(fn):
        return not_callable(name, fn)
    out = _call(fn, ())
    if isinstance(out, _Raised):
        if isinstance(out.exc, NotImplementedError):
            return not_attempted(name)
        return reader_raised(name, out.exc)
    if not isinstance(out, dict):
        return result(False, "wrong-type", f"{name}: return a dict such as {{'lr': ..., 'hidden_size': ...}}; "
                       f"got {type(out).__name__}.")
    if "steps" in out:
        return _config_mistake(name, "more-steps")
    unknown = sorted(short_repr(k) for k in out if k not in CONFIG_DEFAULTS)
    if unknown:
        return result(False, "wrong-type", f"{name}: unknown key(s) {unknown}; the allowed keys are "
                       f"{sorted(CONFIG_DEFAULTS)}.")
    cfg = {**CONFIG_DEFAULTS, **out}
    for key in ("hidden_size", "batch_size"):
        v = cfg[key]
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
            return result(False, "wrong-type", f"{name}: {key} must be a positive int; got {short_repr(v)}.")
        lo, hi = CONFIG_LIMITS[key]
        if v > hi:
            return _config_mistake(name, "over-budget", f"{key} = {short_repr(v)}. ")
        if v < lo:
            return result(False, "wrong-type", f"{name}: {key} must be at least {lo}; got {v}.")
    if not (_is_real(cfg["lr"]) and 0 < cfg["lr"] <= 1):
        return result(False, "wrong-type", f"{name}: lr must be a number with 0 < lr <= 1; got {short_repr(cfg['lr'])}.")
    if cfg["clip"] is not None and not (_is_real(cfg["clip"]) and cfg["clip"] > 0):
        return result(False, "wrong-type", f"{name}: clip must be a positive number or None; "
                       f"got {short_repr(cfg['clip'])}.")
    if not (_is_real(cfg["update_bias"]) and -10 <= cfg["update_bias"] <= 10):
        return result(False, "wrong-type", f"{name}: update_bias must be a number between -10 and 10; "
                       f"got {short_repr(cfg['update_bias'])}.")
    key = (int(cfg["hidden_size"]), float(cfg["lr"]), int(cfg["batch_size"]),
           None if cfg["clip"] is None else float(cfg["clip"]), float(cfg["update_bias"]))
    try:
        history = measure_gru_config(*key)
    except Exception as exc:  # noqa: BLE001 - a check must never raise into the notebook
        return result(False, "raised", f"{name}: training with these settings failed "
                       f"({_exception_text(exc)}).")
    final = history.final_eval_loss
    curve = ", ".join(f"{v:.3g}" for v in history.eval_loss[1:])
    measured = (f"Measured held-out MSE after {', '.join(str(s) for s in history.eval_steps[1:])} updates: "
                f"{curve}. ")
    if final < CONFIG_THRESHOLD:
        return result(True, "passed", f"{name}: correct! {measured}That is below {CONFIG_THRESHOLD:g} "
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
    return result(False, "mismatch", f"{name}: not yet. {measured}The target is below {CONFIG_THRESHOLD:g} "
                   f"after {CONFIG_STEPS} updates; the learning rate is the setting that matters most.")


EXERCISES = {
    "adding_baseline": _BASELINE,
    "copy_baseline": _COPY,
    "clip_by_global_norm": _CLIP,
}
"""The exercises checked against a reference with :class:`~rnnlib.exercises._check.Exercise`;
``adding_batch`` is checked by its properties and ``gru_config`` by training."""
