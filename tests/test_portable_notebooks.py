"""tools/portable_notebooks.py: the source rewrites that make the chapters read the same
in JupyterLab and in the HTML book (cross-page references, citations, exercise stubs,
the too-wide equation), and that a second run changes nothing."""

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import portable_notebooks as P  # noqa: E402

LABELS = {"ch-lstm": ("02_lstm.ipynb", "The LSTM", True),
          "sec-two": ("03_gru.ipynb", "Two GRUs", False),
          "here": ("01_simple_rnn.ipynb", "Local", False)}
AUTHORS = {"hochreiter1997long": ("Hochreiter and Schmidhuber", "1997"),
           "cho2014learning": ("Cho et al.", "2014"), "elman1990finding": ("Elman", "1990")}


def test_references_to_other_pages_become_links():
    text = "See {ref}`ch-lstm`, {ref}`the two forms <sec-two>` and {ref}`here`."
    out = P.rewrite_refs(text, "01_simple_rnn.ipynb", LABELS)
    assert out == ("See [The LSTM](02_lstm.ipynb), [the two forms](03_gru.ipynb#sec-two) "
                   "and {ref}`here`.")
    assert P.rewrite_refs(text, "02_lstm.ipynb", LABELS).startswith("See {ref}`ch-lstm`")
    assert P.rewrite_refs("{ref}`unknown`", "x", LABELS) == "{ref}`unknown`"


def test_citations_become_author_year_links():
    assert P.rewrite_cites("{cite:t}`hochreiter1997long` showed", AUTHORS) == (
        "[Hochreiter and Schmidhuber (1997)](#hochreiter1997long) showed")
    assert P.rewrite_cites("as before {cite:p}`cho2014learning,elman1990finding`.", AUTHORS) == (
        "as before ([Cho et al. 2014](#cho2014learning); [Elman 1990](#elman1990finding)).")
    with pytest.raises(KeyError, match="nokey"):
        P.rewrite_cites("{cite:t}`nokey`", AUTHORS)


def test_bib_authors_reads_the_books_bibliography():
    authors = P.bib_authors()
    assert authors["hochreiter1997long"] == ("Hochreiter and Schmidhuber", "1997")
    assert authors["cho2014learning"] == ("Cho et al.", "2014")
    assert authors["elman1990finding"] == ("Elman", "1990")


def _nb(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_exercise_stubs_and_their_checks_are_hidden_in_html_only():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = _nb(md("```{exercise} E\n:label: ex-a\n\nDo it.\n```"),
             code("def f(x):\n    raise NotImplementedError  # replace with your code"),
             code("exercises.ch4.check_f(f)"),
             md("```{solution-start} ex-a\n:class: dropdown\n```"),
             code("def f_solution(x):\n    raise NotImplementedError  # a solution may say so too"),
             code("exercises.ch4.check_f(f_solution)"),
             md("```{solution-end}\n```"),
             code("print(1)"))
    P.tag_exercise_stubs(nb.cells)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags == [[], ["hide-cell"], ["hide-cell"], [], [], [], [], []]
    P.tag_exercise_stubs(nb.cells)
    assert [c.metadata.get("tags", []) for c in nb.cells] == tags  # idempotent


def test_chapter_numbers_follow_the_numbered_part_of_the_toc():
    numbers = P.chapter_numbers()
    assert numbers["01_simple_rnn.ipynb"] == 1 and numbers["05_counting_cell.ipynb"] == 5
    assert numbers["09_without_loop.ipynb"] == 9 and numbers["11_pytorch.ipynb"] == 11
    assert "notation.ipynb" not in numbers and "intro.ipynb" not in numbers


def test_equation_numbering_cell_is_first_removed_in_html_and_idempotent():
    md = nbformat.v4.new_markdown_cell
    nb = _nb(md("(ch-x)=\n# Title"), md("```{math}\n:label: eq-a\na = b\n```"))
    P.transform_notebook(nb, "05_x.ipynb", {}, {}, chapter=5)
    first = nb.cells[0]
    assert first.id == P.NUMBERING_ID and first.metadata["tags"] == ["remove-cell"]
    assert first.source == ('---\nnumbering:\n  equation:\n    enumerator: "5.%s"\n'
                            '  exercise:\n    enumerator: "5.%s"\n---')
    assert nb.cells[1].source.startswith("(ch-x)=")
    P.transform_notebook(nb, "05_x.ipynb", {}, {}, chapter=5)
    assert len(nb.cells) == 3  # idempotent
    P.transform_notebook(nb, "05_x.ipynb", {}, {}, chapter=9)  # the chapter moved in the toc
    assert len(nb.cells) == 3 and '"9.%s"' in nb.cells[0].source
    P.transform_notebook(nb, "05_x.ipynb", {}, {}, chapter=None)  # no longer numbered
    assert nb.cells[0].source.startswith("(ch-x)=")
    nbformat.validate(nb)


def test_bare_solution_start_gets_a_body_once():
    md = nbformat.v4.new_markdown_cell
    nb = _nb(md("```{solution-start} ex-a\n:class: dropdown\n```"), md("```{solution-end}\n```"),
             md("```{solution-start} ex-b\n:class: dropdown\n\nOwn text.\n```"))
    P.add_solution_bodies(nb.cells)
    assert nb.cells[0].source == ("```{solution-start} ex-a\n:class: dropdown\n\n" + P.SOLUTION_BODY
                                  + "\n```")
    assert nb.cells[1].source == "```{solution-end}\n```"
    assert nb.cells[2].source.endswith("Own text.\n```")  # a body of its own stays
    P.add_solution_bodies(nb.cells)
    assert nb.cells[0].source.count(P.SOLUTION_BODY) == 1


def test_wide_equation_is_split_in_two_rows():
    old = next(iter(P.EQUATION_FIXES))
    nb = _nb(nbformat.v4.new_markdown_cell("```{math}\n:label: eq-lstm-bwd-preact\n" + old + "```"))
    P.transform_notebook(nb, "02_lstm.ipynb", {}, {})
    assert "\\begin{aligned}" in nb.cells[0].source and "\\quad" not in nb.cells[0].source


def test_run_rewrites_a_copy_of_the_book_once(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_offline"))
    P.run(book)
    assert P.run(book) == []  # idempotent
    for path in book.glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))
        text = json.dumps(json.loads(path.read_text())["cells"])
        assert "{cite:" not in text, path.name
        cells = json.loads(path.read_text())["cells"]
        assert cells[0]["id"] == P.NUMBERING_ID, path.name
        assert not any(c["cell_type"] == "markdown" and P.SOLUTION_START_BARE.match("".join(c["source"]))
                       for c in cells), path.name
    assert ":all:" in (book / "references.md").read_text()


def test_the_committed_book_is_already_rewritten():
    """A chapter edited without running the tool afterwards fails here, naming it."""
    assert P.run(ROOT / "book", check=True) == [], "run `python tools/portable_notebooks.py`"
