"""What every chapter's exercise catalogue must do, checked for all of them at once.

For each chapter module listed in ``CHAPTERS`` and each of its ``EXERCISES``
(checked by ``check_<name>``): the reference passes, the stub is "not
attempted yet", mistake ids are distinct, and every catalogued mistake is
diagnosed *as that mistake*, with its own message. The chapter test files keep
what is particular to a chapter (the required mistakes, hand-typed wrong
answers, checks that train or measure).

A chapter module is the way in: where its cases, references and catalogues live
in private modules (``_ch2_mistakes`` ...), it re-exports their public names,
which is checked here for every chapter that has them.
"""

import ast
import importlib
import pathlib

import pytest

from rnnlib.exercises import CheckResult

CHAPTERS = ["ch1", "ch2", "ch3", "ch5", "ch6", "ch7", "ch10", "ch11"]
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


# Chapters whose checks are built from private modules (the catalogues, a long check): the chapter
# module is the way in and re-exports every public name defined there.
PRIVATE_PARTS = {"ch1": ["_ch1_mistakes"], "ch2": ["_ch2_mistakes", "_ch2_bptt"],
                 "ch3": ["_ch3_mistakes", "_ch3_bptt"], "ch4": ["_ch4_mistakes", "_ch4_batch"],
                 "ch5": ["_ch5_mistakes"], "ch6": ["_ch6_mistakes"]}
PARTS = [(ch, part) for ch, parts in PRIVATE_PARTS.items() for part in parts]


def _public_top_level_names(module):
    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return sorted(n for n in names if not n.startswith("_"))


@pytest.mark.parametrize("chapter,part", PARTS, ids=[f"{c}-{p}" for c, p in PARTS])
def test_chapter_module_reexports_the_public_names_of_its_parts(chapter, part):
    chapter_module = importlib.import_module(f"rnnlib.exercises.{chapter}")
    part_module = importlib.import_module(f"rnnlib.exercises.{part}")
    names = _public_top_level_names(part_module)
    assert names, part
    missing = [n for n in names if getattr(chapter_module, n, None) is not getattr(part_module, n)]
    assert missing == [], f"rnnlib.exercises.{chapter} does not re-export {missing} from {part}"
