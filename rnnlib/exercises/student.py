r"""The student edition of the chapters: solutions removed, outputs cleared, checks kept.

``python -m rnnlib.exercises.student book/*.ipynb --out _build/student`` (``make student``)
writes one notebook per chapter into ``--out``, built from the same sources as the book:

* every cell from a ``{solution-start}`` markdown cell to its ``{solution-end}`` cell
  (both included) is removed, so the solutions (``..._solution`` functions) are gone;
* every output and execution count is cleared (a student runs the notebook herself);
* the exercise stubs (which raise ``NotImplementedError``) and the check cells stay,
  so a check says "not attempted yet" until the student writes the function;
* the notebook's metadata gets ``rnnlib_exercises``: the list of checks the chapter
  runs, ``{"module": "ch4", "check": "check_adding_batch", "function": "adding_batch"}``,
  which :mod:`rnnlib.exercises.grade` uses even if a student deletes a check cell.

:func:`exercise_checks` finds the checks of a notebook; :func:`student_edition` makes
the edition of one notebook (a new ``NotebookNode``; the source is not changed).
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import re

import nbformat

CHECK_CALL = re.compile(r"\b(ch\d+)\.(check_\w+)\(\s*([A-Za-z_]\w*)\s*\)")  # exercises.chN.check_x(x) or chN.check_x(x)
SOLUTION_START = "{solution-start}"
SOLUTION_END = "{solution-end}"


def _without_solutions(cells):
    """The cells outside the solution blocks."""
    kept, inside = [], False
    for cell in cells:
        is_md = cell.cell_type == "markdown"
        if is_md and SOLUTION_START in cell.source:
            inside = True
            continue
        if inside:
            if is_md and SOLUTION_END in cell.source:
                inside = False
            continue
        kept.append(cell)
    return kept


def exercise_checks(nb):
    """The checks a notebook runs outside its solutions, in order, without repeats.

    Returns
    -------
    list of dict
        ``{"module": "chN", "check": "check_x", "function": "x"}`` for every call
        ``exercises.chN.check_x(x)`` in a code cell outside the solution blocks.
    """
    found = []
    for cell in _without_solutions(nb.cells):
        if cell.cell_type != "code":
            continue
        for module, check, function in CHECK_CALL.findall(cell.source):
            item = {"module": module, "check": check, "function": function}
            if item not in found:
                found.append(item)
    return found


def student_edition(nb):
    """A copy of ``nb`` without solutions and outputs, with ``rnnlib_exercises`` in its metadata."""
    out = copy.deepcopy(nb)
    out.cells = _without_solutions(out.cells)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    out.metadata.pop("widgets", None)
    out.metadata["rnnlib_exercises"] = exercise_checks(nb)
    return out


def main(argv=None):
    """Write the student edition of each notebook given into ``--out``; print one line per notebook."""
    parser = argparse.ArgumentParser(prog="python -m rnnlib.exercises.student", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("_build/student"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        edition = student_edition(nb)
        nbformat.write(edition, args.out / path.name)
        removed = len(nb.cells) - len(edition.cells)
        print(f"{args.out / path.name}: {len(edition.metadata['rnnlib_exercises'])} checked exercises, "
              f"{removed} solution cells removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
