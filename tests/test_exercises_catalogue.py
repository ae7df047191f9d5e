"""What every chapter's exercise catalogue must do, checked for all of them at once.

For each chapter module listed in ``CHAPTERS`` and each of its ``EXERCISES``
(checked by ``check_<name>``): the reference passes, the stub is "not
attempted yet", mistake ids are distinct, and every catalogued mistake is
diagnosed *as that mistake*, with its own message. The chapter test files keep
what is particular to a chapter (the required mistakes, hand-typed wrong
answers, checks that train or measure).
"""

import importlib

import pytest

from rnnlib.exercises import CheckResult

CHAPTERS = ["ch1", "ch2", "ch3", "ch5"]
MODULES = {name: importlib.import_module(f"rnnlib.exercises.{name}") for name in CHAPTERS}
EXERCISES = [(ch, key, ex) for ch, mod in MODULES.items() for key, ex in mod.EXERCISES.items()]
MISTAKES = [(ch, key, m) for ch, key, ex in EXERCISES for m in ex.mistakes]


def check_of(chapter, key):
    return getattr(MODULES[chapter], f"check_{key}")


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("chapter,key,exercise", EXERCISES, ids=[f"{c}-{k}" for c, k, _ in EXERCISES])
def test_exercise_has_a_check_and_distinct_mistakes(chapter, key, exercise):
    assert callable(check_of(chapter, key))
    ids = [m.id for m in exercise.mistakes]
    assert len(ids) >= 4 and len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("chapter,key,exercise", EXERCISES, ids=[f"{c}-{k}" for c, k, _ in EXERCISES])
def test_reference_passes(chapter, key, exercise):
    result = check_of(chapter, key)(exercise.reference)
    assert isinstance(result, CheckResult)
    assert result.passed and result.status == "passed" and result.mistake is None
    assert "correct" in result.message


@pytest.mark.parametrize("chapter,key,exercise", EXERCISES, ids=[f"{c}-{k}" for c, k, _ in EXERCISES])
def test_stub_is_not_attempted(chapter, key, exercise):
    result = check_of(chapter, key)(stub)
    assert not result.passed and result.status == "not-attempted"
    assert "not attempted yet" in repr(result)


@pytest.mark.parametrize("chapter,key,mistake", MISTAKES, ids=[f"{c}-{k}-{m.id}" for c, k, m in MISTAKES])
def test_each_catalogued_mistake_is_diagnosed_as_itself(chapter, key, mistake):
    result = check_of(chapter, key)(mistake.func)
    assert result.status == "known-mistake", result.message
    assert result.mistake == mistake.id, result.message
    assert mistake.diagnosis in result.message
    assert not result.passed
