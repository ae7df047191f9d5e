"""The grader and the student edition (issue 14, section 5).

Three small generated submissions are graded in fresh kernels: a correct one, a partly
wrong one (a catalogued mistake, a cell that raises) and a hostile one (an endless loop
in a cell, a check replaced by a lambda, a check cell deleted, a function that loops
inside its check); a fourth kills its kernel. Every one gives rows, never a traceback.
"""

import csv

import nbformat
import pytest

from rnnlib.exercises import grade, student

v4 = nbformat.v4
SPEC = [{"module": "ch4", "check": "check_adding_baseline", "function": "adding_baseline"},
        {"module": "ch1", "check": "check_count_params", "function": "count_params"}]
IMPORTS = "from rnnlib import exercises"
BASELINE_OK = "def adding_baseline(low, high):\n    return (high - low) ** 2 / 6"
COUNT_OK = "def count_params(D, H, V):\n    return D * H + H * H + H + H * V + V"


def notebook(tmp_path, name, cells):
    nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                  "language": "python"}, "rnnlib_exercises": SPEC})
    nb.cells = [v4.new_code_cell(c) for c in cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def by_exercise(rows):
    return {r["exercise"]: r for r in rows}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("submissions")
    paths = [
        notebook(tmp, "alice", [IMPORTS, BASELINE_OK, "exercises.ch4.check_adding_baseline(adding_baseline)",
                                COUNT_OK, "exercises.ch1.check_count_params(count_params)"]),
        notebook(tmp, "bob", [IMPORTS, "def adding_baseline(low, high):\n    return (high - low) ** 2 / 12",
                              "1 / 0", COUNT_OK]),
        notebook(tmp, "mallory", [IMPORTS, "def adding_baseline(low, high):\n    while True:\n        pass",
                                  "while True:\n    pass",
                                  "import rnnlib.exercises.ch1 as c\nc.check_count_params = lambda f: 'passed'\n"
                                  "def count_params(D, H, V):\n    return 0"]),
        notebook(tmp, "dies", [IMPORTS, "import os\nos._exit(1)"]),
    ]
    out = tmp / "grades.csv"
    args = [str(p) for p in paths] + ["--csv", str(out), "--cell-timeout", "4", "--call-seconds", "0.5",
                                      "--check-seconds", "1"]
    assert grade.main(args) == 0
    with open(out) as f:
        rows = list(csv.DictReader(f))
    return {name: by_exercise([r for r in rows if r["student"] == name]) for name in ("alice", "bob", "mallory", "dies")}


def test_a_correct_submission_passes_everything(graded):
    rows = graded["alice"]
    assert set(rows) == {"adding_baseline", "count_params"}
    assert all(r["passed"] == "True" for r in rows.values())


def test_a_partly_wrong_submission_gets_the_named_mistake_and_a_notebook_row(graded):
    rows = graded["bob"]
    assert rows["adding_baseline"]["passed"] == "False" and rows["adding_baseline"]["status"] == "known-mistake"
    assert rows["count_params"]["passed"] == "True"
    assert rows[grade.NOTEBOOK]["status"] == "cell-errors" and "ZeroDivisionError" in rows[grade.NOTEBOOK]["message"]


def test_a_hostile_submission_gets_clear_rows(graded):
    rows = graded["mallory"]
    assert rows[grade.NOTEBOOK]["status"] == "cell-timeout"
    assert rows["adding_baseline"]["status"] == "timeout" and "took longer than 0.5 s" in rows["adding_baseline"]["message"]
    assert rows["count_params"]["passed"] == "False"  # the replaced check is not the one the grader runs
    assert rows["count_params"]["status"] == "mismatch"


def test_a_kernel_that_dies_gives_rows_not_a_traceback(graded):
    rows = graded["dies"]
    assert rows[grade.NOTEBOOK]["status"] == "kernel-died"
    assert rows["count_params"]["status"] == "not-graded" and rows["count_params"]["passed"] == "False"


def test_summary_counts_the_passed_exercises():
    rows = [grade._row("a", "a.ipynb", "f", True, "passed", "ok"), grade._row("a", "a.ipynb", "g", False, "raised", "x")]
    assert "a (a.ipynb): 1/2 exercises passed" in grade.summary(rows)


def test_student_edition_removes_solutions_and_outputs_and_keeps_checks():
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("```{exercise} E\n:label: ex-e\n```"),
                v4.new_code_cell("def f(x):\n    raise NotImplementedError", outputs=[], execution_count=3),
                v4.new_code_cell("exercises.ch1.check_rnn_step(f)", execution_count=4,
                                 outputs=[v4.new_output("stream", name="stdout", text="not attempted yet")]),
                v4.new_markdown_cell("```{solution-start} ex-e\n:class: dropdown\n```"),
                v4.new_code_cell("def f_solution(x):\n    return x\nexercises.ch1.check_rnn_step(f_solution)"),
                v4.new_markdown_cell("```{solution-end}\n```"),
                v4.new_markdown_cell("after")]
    out = student.student_edition(nb)
    sources = [c.source for c in out.cells]
    assert not any("solution" in s for s in sources) and "after" in sources
    assert "exercises.ch1.check_rnn_step(f)" in sources
    assert all(c.outputs == [] and c.execution_count is None for c in out.cells if c.cell_type == "code")
    assert out.metadata["rnnlib_exercises"] == [{"module": "ch1", "check": "check_rnn_step", "function": "f"}]
    assert len(nb.cells) == 7  # the source is unchanged


def test_student_edition_of_the_book_lists_every_check(tmp_path):
    assert student.main(["book/04_memory.ipynb", "--out", str(tmp_path)]) == 0
    nb = nbformat.read(tmp_path / "04_memory.ipynb", as_version=4)
    functions = [s["function"] for s in nb.metadata["rnnlib_exercises"]]
    assert "adding_batch" in functions and not any(f.endswith("_solution") for f in functions)
    assert not any("_solution(" in c.source for c in nb.cells)
