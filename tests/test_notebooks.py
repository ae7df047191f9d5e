"""House rules for the chapter notebooks, checked on the committed files.

nbval re-runs each notebook and compares outputs; these checks cover what it
does not: a notebook is committed executed top to bottom (counts 1..n, no
error outputs), imports nothing but the standard scientific stack and rnnlib
(no ``sys.path`` hacks, no star imports), and every solution code cell sits
collapsed between ``{solution-start}`` and ``{solution-end}``.
"""

import json
import pathlib
import re

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("[0-9]*.ipynb"))
ALLOWED_IMPORTS = {"numpy", "matplotlib", "rnnlib", "torch", "ipywidgets", "IPython", "math"}
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)


def cells(path):
    return json.loads(path.read_text())["cells"]


def code(path):
    return [c for c in cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_without_errors(path):
    counts = [c["execution_count"] for c in code(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run it from a fresh kernel"
    errors = [o.get("ename") for c in code(path) for o in c["outputs"] if o["output_type"] == "error"]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_imports_only_rnnlib_and_the_scientific_stack(path):
    source = "\n".join("".join(c["source"]) for c in code(path))
    modules = {(a or b).split(".")[0] for a, b in IMPORT.findall(source)}
    assert modules <= ALLOWED_IMPORTS, f"{path.name} imports {sorted(modules - ALLOWED_IMPORTS)}"
    assert "sys.path" not in source and not re.search(r"import\s+\*", source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_are_collapsed_and_closed(path):
    inside, solutions = False, 0
    for c in cells(path):
        text = "".join(c["source"])
        if c["cell_type"] == "markdown":
            if "{solution-start}" in text:
                assert not inside, f"{path.name}: solution-start inside another solution"
                inside = True
            if "{solution-end}" in text:
                assert inside, f"{path.name}: solution-end without a start"
                inside = False
        elif inside:
            solutions += 1
            assert c["metadata"].get("jupyter", {}).get("source_hidden"), (
                f"{path.name}: solution cell not collapsed: {text[:60]!r}")
    assert not inside, f"{path.name}: a solution is never closed"
