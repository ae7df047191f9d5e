"""Chapter 4 exercise checks: the references are right (against rnnlib and Monte Carlo), every
catalogued mistake is named as itself, other wrong answers get a message, and no reader function
can make a check raise. The GRU-config check is exercised with real (seeded, cached) training runs."""

import numpy as np
import pytest

import rnnlib
from rnnlib.data import tasks
from rnnlib.exercises import CheckResult
from rnnlib.exercises import ch4
from rnnlib.training.loop import History, TrainConfig

EXERCISES = ch4.EXERCISES
CHECKS = {
    "adding_baseline": ch4.check_adding_baseline,
    "copy_baseline": ch4.check_copy_baseline,
    "clip_by_global_norm": ch4.check_clip_by_global_norm,
}
ALL_CHECKS = {**CHECKS, "adding_batch": ch4.check_adding_batch, "gru_config": ch4.check_gru_config}
BASELINE_MISTAKES = [(key, m) for key in ("adding_baseline", "copy_baseline") for m in EXERCISES[key].mistakes]


def stub(*args):
    raise NotImplementedError


def broken(*args):
    raise RuntimeError("oops")


# --- the framework-based checks ---------------------------------------------------
def test_every_exercise_has_a_check_and_distinct_mistakes():
    assert set(CHECKS) == set(EXERCISES)
    for ex in EXERCISES.values():
        ids = [m.id for m in ex.mistakes]
        assert len(ids) == len(set(ids)) and len(ids) >= 4, ex.name
    ids = [m.id for m in ch4.ADDING_BATCH_MISTAKES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("key", ["adding_baseline", "copy_baseline"])
def test_reference_passes(key):
    result = CHECKS[key](EXERCISES[key].reference)
    assert isinstance(result, CheckResult)
    assert result.passed and result.status == "passed" and result.mistake is None
    assert "correct" in result.message


@pytest.mark.parametrize("key", list(ALL_CHECKS))
def test_stub_is_not_attempted(key):
    result = ALL_CHECKS[key](stub)
    assert not result.passed and result.status == "not-attempted"
    assert "not attempted yet" in repr(result)


@pytest.mark.parametrize("key", list(ALL_CHECKS))
def test_raising_and_non_callable_answers_get_a_message(key):
    result = ALL_CHECKS[key](broken)
    assert result.status == "raised" and "RuntimeError" in result.message and not result.passed
    result = ALL_CHECKS[key](3.0)
    assert result.status == "wrong-type" and not result.passed


@pytest.mark.parametrize("key,mistake", BASELINE_MISTAKES, ids=[f"{k}-{m.id}" for k, m in BASELINE_MISTAKES])
def test_each_baseline_mistake_is_diagnosed_as_itself(key, mistake):
    result = CHECKS[key](mistake.func)
    assert result.status == "known-mistake", result.message
    assert result.mistake == mistake.id, result.message
    assert mistake.diagnosis in result.message and not result.passed


def test_adding_baseline_reference_is_the_monte_carlo_variance():
    rng = np.random.default_rng(0)
    for low, high in [(0.0, 1.0), (2.0, 5.0), (-1.0, 1.0)]:
        y = rng.uniform(low, high, size=(400_000, 2)).sum(axis=1)
        best = np.mean((y - (low + high)) ** 2)  # the best constant is E[y] = low + high
        assert ch4.adding_baseline_reference(low, high) == pytest.approx(best, rel=1e-2)
    assert ch4.adding_baseline_reference(0.0, 1.0) == pytest.approx(tasks.ADDING_BASELINE_MSE, rel=1e-15)


def test_copy_baseline_reference_is_the_memoryless_cross_entropy():
    for T, L, K in [(10, 3, 8), (20, 5, 4)]:
        _, y = tasks.copy_problem(500, T, np.random.default_rng(1), n_symbols=K, length=L)
        logits = np.full(y.shape + (K + 1,), -60.0)
        logits[:, : T + L, 0] = 0.0  # blank before the read-out
        logits[:, T + L:, 1:] = 0.0  # uniform over the symbols during it
        loss, _ = rnnlib.softmax_cross_entropy(logits, y)
        assert ch4.copy_baseline_reference(T, L, K) == pytest.approx(loss, abs=1e-12)


def test_baseline_answers_that_match_no_mistake_get_the_hint():
    result = ch4.check_adding_baseline(lambda a, b: 0.5)
    assert result.status == "mismatch" and "Var(y)" in result.message
    result = ch4.check_copy_baseline(lambda T, L, K: "0.39")
    assert result.status == "wrong-type"


# --- clipping -----------------------------------------------------------------------
def test_clip_reference_and_rnnlib_pass():
    assert ch4.check_clip_by_global_norm(ch4.clip_by_global_norm_reference).passed
    assert ch4.check_clip_by_global_norm(rnnlib.clip_grad_norm).passed  # the library agrees


def test_clip_reference_matches_rnnlib_on_every_case():
    for grads, c in ch4.clip_cases(np.random.default_rng(0)):
        mine = {k: g.copy() for k, g in grads.items()}
        theirs = {k: g.copy() for k, g in grads.items()}
        assert ch4.clip_by_global_norm_reference(mine, c) == pytest.approx(rnnlib.clip_grad_norm(theirs, c))
        for k in grads:
            np.testing.assert_allclose(mine[k], theirs[k], rtol=1e-14)
    norms = [np.sqrt(sum(np.sum(g * g) for g in grads.values())) for grads, _ in ch4.clip_cases(np.random.default_rng(0))]
    cs = [c for _, c in ch4.clip_cases(np.random.default_rng(0))]
    assert any(n > c for n, c in zip(norms, cs)) and any(n < c for n, c in zip(norms, cs))  # both branches


@pytest.mark.parametrize("mistake_id", list(ch4.CLIP_MISTAKE_FUNCTIONS))
def test_each_clip_mistake_is_diagnosed_as_itself(mistake_id):
    func, diagnosis = ch4.CLIP_MISTAKE_FUNCTIONS[mistake_id]
    result = ch4.check_clip_by_global_norm(func)
    assert result.status == "known-mistake" and result.mistake == mistake_id, result.message
    assert diagnosis in result.message


def test_clip_rebinding_the_dict_is_not_in_place():
    def rebind(grads, c):
        n = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
        for k in list(grads):
            grads[k] = grads[k] * min(1.0, c / n)  # new arrays: the caller's stay unclipped
        return n

    assert ch4.check_clip_by_global_norm(rebind).mistake == "not-in-place"


def test_clip_wrong_returns_get_a_message():
    result = ch4.check_clip_by_global_norm(lambda g, c: None)
    assert result.status == "wrong-type" and "None" in result.message
    result = ch4.check_clip_by_global_norm(lambda g, c: {k: v * 0 for k, v in g.items()})
    assert result.status == "known-mistake" and result.mistake == "not-in-place"
    result = ch4.check_clip_by_global_norm(lambda g, c: (1.0, g))
    assert result.status == "wrong-type"


# --- the adding batch (property checks) ---------------------------------------------------
def test_adding_batch_reference_passes():
    result = ch4.check_adding_batch(ch4.adding_batch_reference)
    assert result.passed and result.status == "passed"


def test_a_batch_drawn_differently_also_passes():
    def other_order(N, T, rng):  # markers first, then values: another batch, also correct
        t2 = rng.integers(T // 2, T, size=N)
        t1 = rng.integers(0, T // 2, size=N)
        values = rng.uniform(0.0, 1.0, size=(N, T))
        m = np.zeros((N, T))
        m[np.arange(N), t1] = m[np.arange(N), t2] = 1
        y = values[np.arange(N), t1] + values[np.arange(N), t2]
        return np.dstack([values, m]), y.reshape(N, 1)

    assert ch4.check_adding_batch(other_order).passed


@pytest.mark.parametrize("mistake", ch4.ADDING_BATCH_MISTAKES, ids=[m.id for m in ch4.ADDING_BATCH_MISTAKES])
def test_each_adding_batch_mistake_is_diagnosed_as_itself(mistake):
    result = ch4.check_adding_batch(mistake.func)
    assert result.status == "known-mistake" and result.mistake == mistake.id, result.message
    assert mistake.diagnosis in result.message


def test_distinct_positions_anywhere_are_markers_anywhere():
    result = ch4.check_adding_batch(lambda N, T, rng: ch4._batch_with(N, T, rng, positions="distinct"))
    assert result.mistake == "markers-anywhere"


def _modified(change):
    def fn(N, T, rng):
        x, y = tasks.adding_problem(N, T, rng)
        return change(x, y, N, T)
    return fn


@pytest.mark.parametrize("change,status,text", [
    (lambda x, y, N, T: x, "wrong-type", "pair"),
    (lambda x, y, N, T: (x.tolist(), y), "wrong-type", "NumPy array"),
    (lambda x, y, N, T: (np.concatenate([x, x[..., :1]], axis=-1), y), "wrong-shape", "x should have shape"),
    (lambda x, y, N, T: (x, np.hstack([y, y])), "wrong-shape", "y should have shape"),
    (lambda x, y, N, T: (x * np.array([1.0, 2.0]), y), "mismatch", "only 0s and 1s"),
    (lambda x, y, N, T: (np.concatenate([x[..., :1], np.where(np.arange(T) % 2 == 0, 1.0, 0.0)[None, :, None]
                                         * np.ones((N, 1, 1))], axis=-1), y), "mismatch", "exactly two markers"),
    (lambda x, y, N, T: (x + np.array([1.0, 0.0]), y + 2.0), "mismatch", "[0, 1)"),
    (lambda x, y, N, T: (x * np.array([0.5, 1.0]), y / 2), "mismatch", "uniform on [0, 1)"),
    (lambda x, y, N, T: (x, y + 0.1), "mismatch", "not the sum"),
])
def test_other_wrong_batches_get_a_message(change, status, text):
    result = ch4.check_adding_batch(_modified(change))
    assert result.status == status and not result.passed, result.message
    assert text in result.message


def test_markers_bunched_at_one_position_are_caught():
    def bunched(N, T, rng):
        values = rng.random((N, T))
        m = np.zeros((N, T))
        m[:, 0] = 1.0  # first marker always at step 0: in the first half, but not uniform
        t2 = rng.integers(T // 2, T, size=N)
        m[np.arange(N), t2] = 1.0
        return np.stack([values, m], axis=-1), (values[:, 0] + values[np.arange(N), t2])[:, None]

    result = ch4.check_adding_batch(bunched)
    assert result.status == "mismatch" and "uniformly over the whole half" in result.message


def test_adding_batch_check_survives_odd_answers():
    for fn in (lambda N, T, rng: None, lambda N, T, rng: ("x", "y"), lambda N, T, rng: (np.zeros(3), np.zeros(3))):
        result = ch4.check_adding_batch(fn)
        assert isinstance(result, CheckResult) and not result.passed


# --- choosing a GRU configuration (real training runs, cached) ----------------------------
@pytest.mark.parametrize("config,status,mistake", [
    ({"lr": 3e-2}, "passed", None),  # the notebook's solution
    ({}, "known-mistake", "default"),
    ({"lr": 1e-3}, "known-mistake", "lr-too-small"),
    ({"lr": 0.5}, "known-mistake", "lr-too-large"),
    ({"update_bias": 1.0}, "known-mistake", "lr-unchanged"),
])
def test_gru_config_is_judged_by_training(config, status, mistake):
    result = ch4.check_gru_config(lambda: config)
    assert result.status == status and result.mistake == mistake, result.message
    assert result.passed == (status == "passed")
    key = {**ch4.CONFIG_DEFAULTS, **config}
    history = ch4.measure_gru_config(**key)  # cached: the run the check made
    assert f"{history.final_eval_loss:.3g}" in result.message
    assert (history.final_eval_loss < ch4.CONFIG_THRESHOLD) == result.passed
    if mistake:
        assert ch4.CONFIG_DIAGNOSES[mistake] in result.message


def test_the_chapter_settings_really_do_not_make_it():
    history = ch4.measure_gru_config(**ch4.CONFIG_DEFAULTS)
    assert history.eval_steps[-1] == ch4.CONFIG_STEPS
    assert history.final_eval_loss > 2 * ch4.CONFIG_THRESHOLD  # the exercise is not solved by doing nothing


@pytest.mark.parametrize("config,mistake", [
    ({"steps": 500}, "more-steps"),
    ({"hidden_size": 128}, "over-budget"),
    ({"batch_size": 65}, "over-budget"),
])
def test_gru_config_mistakes_found_before_training(config, mistake, monkeypatch):
    monkeypatch.setattr(ch4, "measure_gru_config", lambda *a: pytest.fail("must not train"))
    result = ch4.check_gru_config(lambda: config)
    assert result.status == "known-mistake" and result.mistake == mistake
    assert ch4.CONFIG_DIAGNOSES[mistake] in result.message


@pytest.mark.parametrize("answer", [
    [("lr", 0.03)], {"learning_rate": 0.03}, {"lr": 0}, {"lr": float("nan")}, {"lr": "0.03"}, {"lr": 2.0},
    {"hidden_size": 32.0}, {"hidden_size": True}, {"batch_size": 2}, {"clip": 0}, {"clip": "1"},
    {"update_bias": 50.0}, {"update_bias": None},
])
def test_gru_config_rejects_malformed_answers_without_training(answer, monkeypatch):
    monkeypatch.setattr(ch4, "measure_gru_config", lambda *a: pytest.fail("must not train"))
    result = ch4.check_gru_config(lambda: answer)
    assert result.status == "wrong-type" and not result.passed, result.message


def _fake_history(final):
    losses = np.array([0.9, 0.16, 0.1, 0.05, final])
    return History(train_loss=np.zeros(200), grad_norm=np.zeros(200), eval_steps=np.array([0, 50, 100, 150, 200]),
                   eval_loss=losses, eval_accuracy=np.zeros(0), input_grad=np.zeros((0, 100)),
                   input_grad_at=np.zeros(0), probe_label="t = 0", config=TrainConfig(steps=200))


def test_gru_config_other_failures(monkeypatch):
    monkeypatch.setattr(ch4, "measure_gru_config", lambda *a: _fake_history(0.03))
    result = ch4.check_gru_config(lambda: {"lr": 0.02, "clip": None})
    assert result.status == "mismatch" and "0.03" in result.message and result.mistake is None

    def diverge(*a):
        raise FloatingPointError("gradient norm is nan at step 3")

    monkeypatch.setattr(ch4, "measure_gru_config", diverge)
    result = ch4.check_gru_config(lambda: {"lr": 0.02})
    assert result.status == "raised" and "FloatingPointError" in result.message


def test_gru_config_passes_clip_none_and_types_to_training(monkeypatch):
    seen = []
    monkeypatch.setattr(ch4, "measure_gru_config", lambda *a: seen.append(a) or _fake_history(0.001))
    result = ch4.check_gru_config(lambda: {"lr": np.float64(0.05), "clip": None, "hidden_size": np.int64(16)})
    assert result.passed
    assert seen == [(16, 0.05, 64, None, 0.0)]
