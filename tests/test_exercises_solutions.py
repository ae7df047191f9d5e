"""The notebooks' solutions pass their own checks, run here outside the notebook.

For every check a cell calls on a solution, ``exercises.chN.check_x(x_solution)``, the
``def x_solution`` (in that cell or an earlier one) is taken out of the notebook (``ast``, the function
alone: no timing or training the cell may also run), executed with the notebook's
imports, and handed to the check, which must say "correct". The stub and check cells
before the solution must call the same check with the reader's name ``x``, so that the
student edition (``rnnlib.exercises.student``) and the grader find it.
nbval compares the committed outputs too; this test does not depend on them.
"""

import ast
import json
import pathlib
import re

import numpy as np
import pytest

import rnnlib
from rnnlib import exercises

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = ["01_simple_rnn.ipynb", "10_performance.ipynb", "11_pytorch.ipynb"]
SOLUTION_CHECK = re.compile(r"exercises\.(ch\d+)\.(check_\w+)\((\w+)_solution\)")


def _cells(name):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads((BOOK / name).read_text())["cells"]]


def _solutions(name):
    """``(module, check, function, source of def function_solution)`` for each checked solution."""
    code = [source for kind, source in _cells(name) if kind == "code"]
    defs = {}  # the solution may be defined in an earlier cell (chapter 10: with a measurement)
    for source in code:
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_solution"):
                defs[node.name] = ast.get_source_segment(source, node)
    found = []
    for source in code:
        for module, check, function in SOLUTION_CHECK.findall(source):
            assert f"{function}_solution" in defs, f"{name}: {check} is called on an undefined solution"
            found.append((module, check, function, defs[f"{function}_solution"]))
    return found


CASES = [(nb, *s) for nb in NOTEBOOKS for s in _solutions(nb)]


def test_every_chapter_here_has_checked_solutions():
    assert {nb for nb, *_ in CASES} == set(NOTEBOOKS)
    assert len(CASES) >= 10


@pytest.mark.parametrize("notebook,module,check,function,source", CASES,
                         ids=[f"{c[0][:2]}-{c[3]}" for c in CASES])
def test_solution_passes_its_check(notebook, module, check, function, source):
    namespace = {"np": np, "rnnlib": rnnlib, "exercises": exercises}
    exec(compile(source, f"{notebook}:{function}_solution", "exec"), namespace)
    result = getattr(getattr(exercises, module), check)(namespace[f"{function}_solution"])
    assert result.passed and "correct" in result.message, result.message


@pytest.mark.parametrize("notebook,module,check,function,source", CASES,
                         ids=[f"{c[0][:2]}-{c[3]}" for c in CASES])
def test_stub_and_check_cell_use_the_readers_name(notebook, module, check, function, source):
    sources = [s for kind, s in _cells(notebook) if kind == "code"]
    stub = [s for s in sources if f"def {function}(" in s and "raise NotImplementedError" in s]
    assert stub, f"{notebook}: no stub def {function}(...) raising NotImplementedError"
    assert f"exercises.{module}.{check}({function})" in sources, f"{notebook}: no check cell for {function}"
