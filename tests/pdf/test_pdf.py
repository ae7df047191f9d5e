"""The PDF book (``make pdf``), checked as a reader would look at it.

Built by ``make pdf`` into ``_build/pdf/recurrent-layers-by-hand.pdf`` (LaTeX
via jupyter-book's ``pdflatex`` builder, engine xelatex). The tests read the
file, its LaTeX log and its text (``pdftotext``):

* LaTeX finished without errors, undefined references or citations;
* the text has no ``??`` (an unresolved reference) and no widget printed as its
  Python repr (``FrameSlider(children=...``): every widget has a static image;
* the page count is in a sane range;
* each chapter starts with the number the HTML gives it (the front matter is
  unnumbered in both), and the title page names the book.

Without the PDF (no TeX on a reader's machine, so ``make pdf`` could not run)
the tests skip and say why; under ``CI=true`` that is a failure, since
``.ci/run`` installs TeX.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "_build" / "pdf" / "recurrent-layers-by-hand.pdf"
LOG = ROOT / "_build" / "latex" / "recurrent-layers-by-hand.log"
HTML = ROOT / "_build" / "html"
WIDGET_REPR = re.compile(r"\b(FrameSlider|SelectionSlider|IntSlider|FloatSlider|Dropdown|VBox|HBox|"
                         r"Output|Stack|Image)\(\s*(children|description|value|layout|index)=")


def _need(condition, reason):
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs TeX and runs `make pdf`)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pdf_text():
    _need(PDF.exists(), f"{PDF.relative_to(ROOT)} not built: run `make pdf` (needs TeX, see README)")
    _need(shutil.which("pdftotext") is not None, "pdftotext not installed (poppler-utils)")
    out = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True,
                         text=True, check=True)
    return out.stdout


def _pages():
    out = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", out.stdout, re.M).group(1))


def test_latex_log_has_no_errors_or_undefined_references(pdf_text):
    log = LOG.read_text(errors="replace")
    assert not re.search(r"^! ", log, re.M), "LaTeX error in " + str(LOG)
    for bad in ("There were undefined references", "Citation `", "Reference `",
                "Missing character"):
        assert bad not in log, f"{bad!r} in the LaTeX log"


def test_no_unresolved_reference_marks(pdf_text):
    lines = [line.strip() for line in pdf_text.splitlines() if "??" in line]
    assert not lines, f"unresolved references (??): {lines[:5]}"


def test_no_widget_printed_as_its_repr(pdf_text):
    hits = [m.group(0) for m in WIDGET_REPR.finditer(pdf_text)]
    assert not hits, f"widgets printed as Python repr: {hits[:5]}"


def test_page_count_is_sane(pdf_text):
    n_chapters = len(_chapters())
    pages = _pages()
    assert 8 * n_chapters <= pages <= 60 * n_chapters + 40, f"{pages} pages for {n_chapters} chapters"


def test_title_page_names_the_book(pdf_text):
    title = yaml.safe_load((ROOT / "_config.yml").read_text())["title"]
    assert title in pdf_text[:2000]


def _chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbered = [p for p in toc["parts"] if p.get("numbered")]
    return [c["file"] for part in numbered for c in part["chapters"]]


def _html_number_and_title(doc):
    page = (HTML / f"{doc}.html").read_text()
    m = re.search(r'<h1><span class="section-number">(\d+)\.\s*</span>(.*?)<a class="headerlink"',
                  page, re.S)
    assert m, f"{doc}.html: its title carries no chapter number"
    return int(m.group(1)), re.sub(r"<[^>]+>", "", m.group(2)).strip()


def test_every_chapter_has_the_number_the_html_gives_it(pdf_text):
    _need(HTML.exists(), "_build/html not built: run `make book` first")
    toc_lines = pdf_text.split("Bibliography")[0] if "Bibliography" in pdf_text else pdf_text
    for doc in _chapters():
        number, title = _html_number_and_title(doc)
        words = re.escape(title.split("\u2019")[0][:25]).replace(r"\ ", r"\s+")
        line = re.search(rf"^\s*(\d+)\s+{words}", toc_lines, re.M)
        assert line, f"chapter {title!r} not found with a number in the PDF's contents"
        assert int(line.group(1)) == number, (
            f"{title!r}: chapter {line.group(1)} in the PDF, {number} in the HTML")
