r"""Grade submitted notebooks: run each in a fresh kernel, then every check on the student's functions.

``python -m rnnlib.exercises.grade alice.ipynb bob.ipynb ... [--csv grades.csv]``

For each notebook the grader

1. finds the checks to run: the ``rnnlib_exercises`` list that ``make student``
   writes into the notebook's metadata (:mod:`rnnlib.exercises.student`), or, if the
   notebook has none, the chapter of the same file name in ``--book`` (default: the
   ``book/`` folder next to the package), or else the check calls in the notebook
   itself. So a student who deletes a check cell is still graded on that exercise;
2. executes the notebook top to bottom in a fresh kernel with :mod:`nbclient`, each cell
   at most ``--cell-timeout`` seconds (a cell that runs longer is interrupted, and the
   grader goes on with the next cell); errors in cells do not stop it;
3. in the same kernel, imports the checks afresh (a notebook that replaced or deleted
   them does not change them) and runs each on the function of the student's name;
4. writes one row per (student, exercise): ``student, notebook, exercise, passed,
   status, message``, plus a row ``exercise = "(notebook)"`` when the notebook itself
   had trouble (cells that raised or timed out, a kernel that died, an unreadable
   file). It never raises on a submission: every problem is a row.

The rows go to ``--csv`` (if given) and a summary is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import sys
import textwrap

import nbformat

from .student import exercise_checks

MARKER = "<<rnnlib-grade>>"
NOTEBOOK = "(notebook)"
FIELDS = ("student", "notebook", "exercise", "passed", "status", "message")
BOOK = pathlib.Path(__file__).resolve().parents[2] / "book"

_GRADING_CELL = '''
def _rnnlib_grade(spec, call_seconds, check_seconds):
    import importlib, json, sys
    for name in [m for m in sys.modules if m == "rnnlib.exercises" or m.startswith("rnnlib.exercises.")]:
        del sys.modules[name]
    guard = importlib.import_module("rnnlib.exercises._guard")
    guard.CALL_SECONDS, guard.CHECK_SECONDS = call_seconds, check_seconds
    rows = []
    for item in spec:
        exercise = item["function"]
        try:
            fn = globals().get(exercise)
            if fn is None:
                rows.append([exercise, False, "missing", exercise + " is not defined: its cell was deleted, "
                             "renamed or raised before defining it."])
                continue
            res = getattr(importlib.import_module("rnnlib.exercises." + item["module"]), item["check"])(fn)
            rows.append([exercise, bool(res.passed), str(res.status), str(res.message)])
        except BaseException as exc:  # the grader must get a row, whatever happens
            rows.append([exercise, False, "grader-error", "the check could not run: %s: %s"
                         % (type(exc).__name__, exc)])
    return rows


print(MARKER_HERE + __import__("json").dumps(_rnnlib_grade(SPEC_HERE, CALL_HERE, CHECK_HERE)))
'''


def checks_for(path, nb, book=BOOK):
    """The checks to grade ``nb`` with (see the module docstring, step 1)."""
    spec = nb.metadata.get("rnnlib_exercises")
    if isinstance(spec, list) and spec and all(isinstance(s, dict) for s in spec):
        return [{k: str(s.get(k, "")) for k in ("module", "check", "function")} for s in spec]
    source = pathlib.Path(book) / pathlib.Path(path).name
    if source.is_file():
        return exercise_checks(nbformat.read(source, as_version=4))
    return exercise_checks(nb)


def _row(student, notebook, exercise, passed, status, message):
    return dict(zip(FIELDS, (student, notebook, exercise, bool(passed), status, message)))


def _cell_errors(nb):
    """Indices (1-based) and error names of the code cells that raised."""
    errors = []
    for k, cell in enumerate(nb.cells, 1):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                errors.append((k, out.get("ename", "Error")))
                break
    return errors


def grade_notebook(path, *, cell_timeout=60, kernel_name="python3", book=BOOK, student=None,
                   call_seconds=10.0, check_seconds=30.0):
    """Execute one notebook and run its checks; returns a list of row dicts (never raises).

    ``cell_timeout`` bounds each of the student's cells; the grading cell gets
    ``check_seconds`` per check (the checks' own budget for the student's calls, see
    :mod:`rnnlib.exercises._guard`) plus a margin for the checks' own work.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = pathlib.Path(path)
    student = student or path.stem
    rows = []
    try:
        nb = nbformat.read(path, as_version=4)
        spec = checks_for(path, nb, book)
    except Exception as exc:  # noqa: BLE001 - an unreadable submission is a row
        return [_row(student, path.name, NOTEBOOK, False, "unreadable",
                     f"the notebook could not be read ({type(exc).__name__}: {exc}).")]
    if not spec:
        return [_row(student, path.name, NOTEBOOK, False, "no-exercises", "no checked exercise found.")]
    code = _GRADING_CELL.replace("MARKER_HERE", repr(MARKER)).replace("SPEC_HERE", repr(spec))
    grading = nbformat.v4.new_code_cell(code.replace("CALL_HERE", repr(float(call_seconds)))
                                        .replace("CHECK_HERE", repr(float(check_seconds))))
    nb.cells.append(grading)
    grading_timeout = len(spec) * (check_seconds + 120) + 60

    def timeout_of(cell):
        return grading_timeout if cell is grading else cell_timeout
    client = NotebookClient(nb, timeout=cell_timeout, timeout_func=timeout_of, kernel_name=kernel_name,
                            allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent)}})
    trouble = None
    try:
        client.execute()
    except CellTimeoutError as exc:
        trouble = ("timeout", f"a cell ran longer than {cell_timeout} s and could not be interrupted ({exc}).")
    except DeadKernelError:
        trouble = ("kernel-died", "the kernel died while running the notebook (e.g. os._exit, a crash, "
                                  "running out of memory).")
    except Exception as exc:  # noqa: BLE001 - whatever nbclient raises, the student gets a row
        trouble = ("not-run", f"the notebook could not be run ({type(exc).__name__}: {exc}).")
    results = None
    for out in grading.get("outputs", []):
        text = out.get("text", "") if out.get("output_type") == "stream" else ""
        for line in text.splitlines():
            if line.startswith(MARKER):
                try:
                    results = json.loads(line[len(MARKER):])
                except ValueError:
                    results = None
    errors = [e for e in _cell_errors(nb) if e[0] != len(nb.cells)]  # not the grading cell
    if trouble:
        rows.append(_row(student, path.name, NOTEBOOK, False, *trouble))
    if errors:
        timed_out = [k for k, name in errors if name in ("CellTimeoutError", "KeyboardInterrupt")]
        text = ", ".join(f"{k} ({name})" for k, name in errors[:8])
        status = "cell-timeout" if timed_out else "cell-errors"
        extra = f" Cells interrupted after {cell_timeout} s: {timed_out}." if timed_out else ""
        rows.append(_row(student, path.name, NOTEBOOK, False, status,
                         f"{len(errors)} cell(s) raised: {text}.{extra} The exercises are graded anyway."))
    if results is None:
        why = trouble[1] if trouble else "the grading cell gave no result (the notebook interfered with it)."
        rows += [_row(student, path.name, s["function"], False, "not-graded", f"not graded: {why}") for s in spec]
        return rows
    rows += [_row(student, path.name, *r) for r in results]
    return rows


def summary(rows) -> str:
    """Plain-text summary: one line per student (passed / graded), then the failed exercises."""
    lines, students = [], {}
    for r in rows:
        if r["exercise"] != NOTEBOOK:
            students.setdefault((r["student"], r["notebook"]), []).append(r)
    for (student, notebook), rs in students.items():
        lines.append(f"{student} ({notebook}): {sum(r['passed'] for r in rs)}/{len(rs)} exercises passed")
    for r in rows:
        if not r["passed"]:
            msg = textwrap.shorten(r["message"], 110)
            lines.append(f"  {r['student']} {r['exercise']}: {r['status']} - {msg}")
    return "\n".join(lines)


def main(argv=None):
    """Command line: grade the notebooks, write the CSV, print the summary; exit status 0."""
    parser = argparse.ArgumentParser(prog="python -m rnnlib.exercises.grade", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--csv", type=pathlib.Path, help="write the rows to this CSV file")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    parser.add_argument("--call-seconds", type=float, default=10.0, help="budget of one call of a student's "
                        "function inside a check (default 10)")
    parser.add_argument("--check-seconds", type=float, default=30.0, help="budget of all the calls of one "
                        "check (default 30)")
    parser.add_argument("--book", type=pathlib.Path, default=BOOK, help="folder of the chapter sources")
    args = parser.parse_args(argv)
    rows = []
    for path in args.notebooks:
        print(f"grading {path} ...", file=sys.stderr)
        rows += grade_notebook(path, cell_timeout=args.cell_timeout, kernel_name=args.kernel, book=args.book,
                               call_seconds=args.call_seconds, check_seconds=args.check_seconds)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    print(summary(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
