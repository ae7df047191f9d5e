"""Every rnnlib module is small and says what lives in it (STYLE 1).

The house aim is a module under about 400 lines; the test allows 450 so that a
module near the aim does not fail for one more function, but a module that grows
past that must be split by concern. Every module, the private ones included,
opens with a docstring: a summary line and at least a sentence more on what
lives there.
"""

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "rnnlib"
MAX_LINES = 450
MODULES = sorted(PKG.rglob("*.py"))


def _name(path):
    return str(path.relative_to(PKG.parent))


def test_the_package_is_found():
    assert PKG / "__init__.py" in MODULES and PKG / "exercises" / "_check.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_is_under_the_line_limit(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{_name(path)} has {n} lines (limit {MAX_LINES}): split it by concern"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_opens_with_a_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f"{_name(path)} has no module docstring"
    summary, *rest = doc.strip().splitlines()
    assert summary.strip(), f"{_name(path)}: the docstring should open with a summary line"
    assert any(line.strip() for line in rest), \
        f"{_name(path)}: the docstring should say more than its summary line (what lives here)"
