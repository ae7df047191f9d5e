"""Chapter 5 exercise checks: the reference passes, every catalogued mistake is named as itself,
the stub is not attempted, and wrong shapes, raising and input-mutating functions get a message."""

import numpy as np
import pytest

from rnnlib.training import charlm
from rnnlib.data import toy_language
from rnnlib.exercises import ch5

EXERCISES = ch5.EXERCISES
CHECKS = {
    "bits_per_char": ch5.check_bits_per_char,
    "is_well_formed": ch5.check_is_well_formed,
    "find_depth_unit": ch5.check_find_depth_unit,
}
SAMPLING_MISTAKES = [(m.id, m.func) for m in ch5.SAMPLE_MISTAKES] + [
    (ch5.SAMPLE_MISTAKE_NO_GREEDY.id, ch5.SAMPLE_MISTAKE_NO_GREEDY.func)]


def stub(*args):
    raise NotImplementedError


def test_every_exercise_has_a_check_and_the_sampler_five_mistakes():
    assert set(CHECKS) == set(EXERCISES)
    assert len(SAMPLING_MISTAKES) == 5


def test_required_mistakes_are_catalogued():
    assert {"probs-divided", "times-T", "not-normalised"} <= {m.id for m in ch5.SAMPLE_MISTAKES}
    assert {"log10", "nats", "per-sequence"} <= {m.id for m in EXERCISES["bits_per_char"].mistakes}
    assert {"count-only", "ignores-type", "count-per-type", "ignores-quotes"} <= {
        m.id for m in EXERCISES["is_well_formed"].mistakes}
    assert {"signed", "time-axis"} <= {m.id for m in EXERCISES["find_depth_unit"].mistakes}


# (reference passes, stubs, each mistake named: tests/test_exercises_catalogue.py)
def test_sampling_stub_is_not_attempted():
    result = ch5.check_sample_with_temperature(stub)
    assert result.status == "not-attempted" and not result.passed
    assert "not attempted yet" in repr(result)


@pytest.mark.parametrize("key", list(CHECKS))
def test_every_mistake_really_differs_from_the_reference(key):
    ex = EXERCISES[key]
    for m in ex.mistakes:
        assert any(m.func(*c) != ex.reference(*c) for c in ex.cases()), m.id


# --- sampling with temperature ------------------------------------------------
def test_sampling_reference_and_library_sampler_pass():
    for fn in (ch5.sample_with_temperature_reference, charlm.sample_from_logits):
        result = ch5.check_sample_with_temperature(fn)
        assert result.passed and result.status == "passed", result.message
        assert "correct" in result.message


@pytest.mark.parametrize("mistake_id,func", SAMPLING_MISTAKES, ids=[m for m, _ in SAMPLING_MISTAKES])
def test_each_sampling_mistake_is_diagnosed_as_itself(mistake_id, func):
    result = ch5.check_sample_with_temperature(func)
    assert result.status == "known-mistake", result.message
    assert result.mistake == mistake_id, result.message


def _normalised(logits, T):
    p = np.exp(logits / T)
    return p / p.sum(axis=1, keepdims=True)


def test_handwritten_samplers_as_a_reader_would_type_them():
    def with_choice(logits, T, rng):  # correct, another way of drawing
        if T == 0:
            return np.argmax(logits, axis=1)
        return np.array([rng.choice(len(p), p=p) for p in _normalised(logits, T)])

    def unnormalised_choice(logits, T, rng):  # rng.choice refuses weights that do not sum to 1
        if T == 0:
            return np.argmax(logits, axis=1)
        return np.array([rng.choice(len(p), p=p) for p in np.exp(logits / T)])

    def probs_divided_choice(logits, T, rng):
        if T == 0:
            return np.argmax(logits, axis=1)
        p = _normalised(logits, 1.0) / T
        p = p / p.sum(axis=1, keepdims=True)
        return np.array([rng.choice(len(q), p=q) for q in p])

    def times_T_choice(logits, T, rng):
        if T == 0:
            return np.argmax(logits, axis=1)
        return np.array([rng.choice(len(p), p=p) for p in _normalised(logits * T * T, T)])

    def no_greedy(logits, T, rng):
        return np.array([rng.choice(len(p), p=p) for p in _normalised(logits, T)])

    assert ch5.check_sample_with_temperature(with_choice).passed
    assert ch5.check_sample_with_temperature(unnormalised_choice).mistake == "not-normalised"
    assert ch5.check_sample_with_temperature(probs_divided_choice).mistake == "probs-divided"
    assert ch5.check_sample_with_temperature(times_T_choice).mistake == "times-T"
    with np.errstate(all="ignore"):
        assert ch5.check_sample_with_temperature(no_greedy).mistake == "no-greedy"


def test_sampling_check_messages_for_other_errors():
    def probs(logits, T, rng):  # returns the distribution, not draws
        return _normalised(logits, T or 1.0)

    def floats(logits, T, rng):
        return np.argmax(logits, axis=1).astype(float)

    def global_rng(logits, T, rng):
        if T == 0:
            return np.argmax(logits, axis=1)
        return np.array([np.random.choice(len(p), p=p) for p in _normalised(logits, T)])

    def first_row_only(logits, T, rng):
        if T == 0:
            return np.argmax(logits, axis=1)
        p = _normalised(logits[:1], T)[0]
        return rng.choice(len(p), p=p, size=len(logits))

    def mutates(logits, T, rng):
        if T == 0:
            return np.argmax(logits, axis=1)
        logits /= T
        return charlm.sample_from_logits(logits, 1.0, rng)

    def raises(logits, T, rng):
        raise KeyError("oops")

    def out_of_range(logits, T, rng):
        return np.full(len(logits), 99)

    assert ch5.check_sample_with_temperature(probs).status == "wrong-shape"
    assert ch5.check_sample_with_temperature(floats).status == "wrong-type"
    assert ch5.check_sample_with_temperature(out_of_range).status == "wrong-type"
    r = ch5.check_sample_with_temperature(global_rng)
    assert r.status == "mismatch" and "rng you are given" in r.message
    r = ch5.check_sample_with_temperature(first_row_only)
    assert r.status == "mismatch" and "row 1" in r.message
    assert ch5.check_sample_with_temperature(mutates).status == "mutated-input"
    r = ch5.check_sample_with_temperature(raises)
    assert r.status == "raised" and "KeyError" in r.message
    assert ch5.check_sample_with_temperature("not a function").status == "wrong-type"


def test_sampling_check_is_deterministic():
    a = ch5.check_sample_with_temperature(charlm.sample_from_logits)
    b = ch5.check_sample_with_temperature(charlm.sample_from_logits)
    assert a.message == b.message


# --- the Exercise-based checks: bad functions get a message -------------------
def test_bits_per_char_bad_functions():
    assert ch5.check_bits_per_char(lambda a, y: np.zeros(3)).status == "wrong-type"
    assert ch5.check_bits_per_char(lambda a, y: 1 / 0).status == "raised"
    assert ch5.check_bits_per_char(lambda a, y: 1.0).status == "mismatch"

    def mutating(logits, targets):
        logits -= logits.max(axis=-1, keepdims=True)
        return ch5.bits_per_char_reference(logits, targets)

    assert ch5.check_bits_per_char(mutating).status == "mutated-input"

    def via_charlm(logits, targets):  # the library route: mean loss in nats, then bits
        from rnnlib.training.model import loss_and_grad
        return charlm.bits_per_char(loss_and_grad(logits, targets, "xent")[0])

    assert ch5.check_bits_per_char(via_charlm).passed


def test_is_well_formed_bad_functions():
    assert ch5.check_is_well_formed(lambda line: [line]).status in ("wrong-type", "mismatch")
    assert ch5.check_is_well_formed(lambda line: True).status == "mismatch"
    assert ch5.check_is_well_formed(lambda line: line[0] == "(").status in ("raised", "mismatch")
    assert ch5.check_is_well_formed(toy_language.is_well_formed).passed


def test_find_depth_unit_bad_functions():
    assert ch5.check_find_depth_unit(lambda a, d: 3).status == "wrong-type"
    assert ch5.check_find_depth_unit(lambda a, d: (0, 0.0)).status == "mismatch"

    def mutating(acts, depth):
        acts -= acts.mean(axis=0)
        return ch5.find_depth_unit_reference(acts, depth)

    assert ch5.check_find_depth_unit(mutating).status == "mutated-input"

    def with_corrcoef(acts, depth):  # a reader's correct version
        r = np.array([np.corrcoef(acts[:, j], depth)[0, 1] for j in range(acts.shape[1])])
        j = int(np.argmax(np.abs(r)))
        return j, r[j]

    assert ch5.check_find_depth_unit(with_corrcoef).passed
