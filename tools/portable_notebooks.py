"""Rewrite the chapters' source so that it reads the same in JupyterLab and in the HTML book.

Run from the repository root (idempotent: a second run changes nothing)::

    python tools/portable_notebooks.py            # rewrite book/*.ipynb and book/references.md
    python tools/portable_notebooks.py --check    # exit 1 and list what would change

Markdown constructs that render in one place only (issue 21, section 2), and
HTML noise (issue 13):

* **references to another page** (`` {ref}`ch-lstm` ``): jupyterlab-myst only
  knows labels of the open notebook, so it shows a bare label. They become
  Markdown links to the file, with the target's title as text
  (``[The LSTM](02_lstm.ipynb)``): JupyterLab opens the notebook, Sphinx links
  the page. Section labels of another page get the file and the label
  (``[Two GRUs](03_gru.ipynb#sec-gru-two-forms)``). References within a
  notebook stay ``{ref}`` (jupyterlab-myst resolves those).
* **citations** (`` {cite:t}`hochreiter1997long` ``) showed as the bare key in
  Jupyter. They become the author-year text as a link to the key,
  ``[Hochreiter and Schmidhuber (1997)](#hochreiter1997long)``; parenthetical
  ones ``([Hochreiter and Schmidhuber 1997](#hochreiter1997long))``.
  ``tools/book_widgets.py`` resolves such links to the entry on the
  References page, whose ``{bibliography}`` lists every work (``:all:``), with
  labels in the same author-year form.
* **exercise stubs** (a code cell raising ``NotImplementedError`` outside a
  solution) and the check cell under each: tagged ``hide-cell``, so the HTML
  shows them collapsed; in Jupyter they are unchanged.
* **equation numbers**: jupyterlab-myst numbers a notebook's equations (1),
  (2), ... where the HTML book says (2.1), (2.2). Each chapter of the numbered
  part of ``_toc.yml`` gets a first Markdown cell (id ``myst-numbering``,
  tagged ``remove-cell``, so Sphinx and the PDF never see it) holding mystmd
  front matter, ``numbering: {equation: {enumerator: "2.%s"}, exercise: ...}``:
  jupyterlab-myst reads the front matter of a notebook's first Markdown cell and
  formats every equation and exercise number, and every reference to them, with
  it. Every display equation of the book is a labelled ``{math}``, numbered in
  order in both, so the numbers agree (Exercise 2.1, (2.1)).
* **gated solutions** (``{solution-start}`` ... ``{solution-end}``): Sphinx puts
  the code cells between them into the collapsed solution box; jupyterlab-myst
  cannot (it draws "Start of Solution to Exercise 1" as a box of its own, empty,
  and the end as a second empty box). The start directive gets a one-line body,
  :data:`SOLUTION_BODY`, which says where the code is: in Jupyter the collapsed
  box is no longer empty. sphinx-exercise replaces a gated box's content with
  the cells between start and end, so the HTML and the PDF never show the line
  (checked in the ``-W`` build). The empty end box remains (jupyterlab-myst
  2.7.0's ``solution-end`` takes no body or options).
* **equation (2.12)** (``eq-lstm-bwd-preact``) was one line too wide for the
  page: now two rows in an ``aligned`` block.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BIB = ROOT / "references.bib"

LABEL = re.compile(r"^\((?P<label>[\w-]+)\)=\s*\n(?:\s*\n)*(?P<hashes>#+)\s+(?P<title>.+)$", re.MULTILINE)
REF = re.compile(r"\{ref\}`(?:(?P<text>[^`<]+?)\s*<(?P<target>[\w-]+)>|(?P<bare>[\w-]+))`")
CITE = re.compile(r"\{cite:(?P<kind>[tp])\}`(?P<keys>[^`]+)`")
SOLUTION_START, SOLUTION_END = "{solution-start}", "{solution-end}"
BIBLIOGRAPHY = "```{bibliography}\n```"
BIBLIOGRAPHY_ALL = "```{bibliography}\n:all:\n```"

TOC = ROOT / "_toc.yml"
NUMBERING_ID = "myst-numbering"
#: What Sphinx numbers per chapter (5.1) and jupyterlab-myst per notebook (1) in Markdown cells.
NUMBERED = ("equation", "exercise")
SOLUTION_BODY = "The solution is the code below (in Jupyter its cell is collapsed: click the three dots to open it)."
SOLUTION_START_BARE = re.compile(r"\A```\{solution-start\}(?P<head>[^\n]*\n(?::[\w-]+:[^\n]*\n)*)```\s*\Z")

EQUATION_FIXES = {
    # (2.12): four terms in one row overflowed the page (scrollWidth 864 of 703 px).
    (
        "\\mathrm{d}a_f = \\mathrm{d}f_t \\odot f_t (1 - f_t), \\quad\n"
        "\\mathrm{d}a_i = \\mathrm{d}i_t \\odot i_t (1 - i_t), \\quad\n"
        "\\mathrm{d}a_o = \\mathrm{d}o_t \\odot o_t (1 - o_t), \\quad\n"
        "\\mathrm{d}a_c = \\mathrm{d}\\tilde C_t \\odot \\left(1 - \\tilde C_t^2\\right)\n"
    ): (
        "\\begin{aligned}\n"
        "\\mathrm{d}a_f &= \\mathrm{d}f_t \\odot f_t (1 - f_t), &\n"
        "\\mathrm{d}a_i &= \\mathrm{d}i_t \\odot i_t (1 - i_t), \\\\\n"
        "\\mathrm{d}a_o &= \\mathrm{d}o_t \\odot o_t (1 - o_t), &\n"
        "\\mathrm{d}a_c &= \\mathrm{d}\\tilde C_t \\odot \\left(1 - \\tilde C_t^2\\right)\n"
        "\\end{aligned}\n"
    ),
}


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _set_source(cell, text: str):
    lines = text.splitlines(keepends=True)
    cell["source"] = lines if isinstance(cell["source"], list) else text


def _plain(title: str) -> str:
    """A heading as plain text (no emphasis or code marks)."""
    return re.sub(r"[*_`]", "", title).strip()


def page_labels(book: Path = BOOK) -> dict[str, tuple[str, str, bool]]:
    """label -> (file name, title, is the page's top heading) for every ``(label)=`` of the book."""
    labels = {}
    for path in sorted(book.glob("*.ipynb")) + sorted(book.glob("*.md")):
        if path.suffix == ".ipynb":
            texts = [_source(c) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
        else:
            texts = [path.read_text()]
        for text in texts:
            for m in LABEL.finditer(text):
                labels[m.group("label")] = (path.name, _plain(m.group("title")), len(m.group("hashes")) == 1)
    return labels


def bib_authors(bib: Path = BIB) -> dict[str, tuple[str, str]]:
    """key -> (authors as cited, year): 'Hochreiter and Schmidhuber', 'Cho et al.'."""
    from pybtex.database import parse_file

    out = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [" ".join(p.prelast_names + p.last_names) or " ".join(p.first_names) for p in people]
        last = [re.sub(r"[{}]", "", name) for name in last]
        if not last:
            names = re.sub(r"[{}]", "", entry.fields.get("organization", entry.fields.get("title", key)))
        elif len(last) == 1:
            names = last[0]
        elif len(last) == 2:
            names = f"{last[0]} and {last[1]}"
        else:
            names = f"{last[0]} et al."
        out[key] = (names, entry.fields.get("year", "n.d."))
    return out


def rewrite_refs(text: str, here: str, labels) -> str:
    """``{ref}`` to a label of another page -> a Markdown link to that page."""

    def sub(m):
        target = m.group("target") or m.group("bare")
        if target not in labels or labels[target][0] == here:
            return m.group(0)
        file, title, top = labels[target]
        link = file if top else f"{file}#{target}"
        return f"[{m.group('text') or title}]({link})"

    return REF.sub(sub, text)


def rewrite_cites(text: str, authors) -> str:
    """``{cite:t}`` / ``{cite:p}`` -> author-year Markdown links to the key."""

    def sub(m):
        keys = [k.strip() for k in m.group("keys").split(",")]
        if any(k not in authors for k in keys):
            missing = [k for k in keys if k not in authors]
            raise KeyError(f"citation keys not in references.bib: {missing}")
        if m.group("kind") == "t":
            return "; ".join(f"[{authors[k][0]} ({authors[k][1]})](#{k})" for k in keys)
        return "(" + "; ".join(f"[{authors[k][0]} {authors[k][1]}](#{k})" for k in keys) + ")"

    return CITE.sub(sub, text)


def tag_exercise_stubs(cells) -> None:
    """``hide-cell`` on each exercise stub (outside a solution) and on the check cell after it."""
    in_solution = False
    for k, cell in enumerate(cells):
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            in_solution = (in_solution or SOLUTION_START in text) and SOLUTION_END not in text
            continue
        if in_solution or cell["cell_type"] != "code" or "raise NotImplementedError" not in text:
            continue
        targets = [cell]
        nxt = cells[k + 1] if k + 1 < len(cells) else None
        if nxt is not None and nxt["cell_type"] == "code" and "exercises." in _source(nxt):
            targets.append(nxt)
        for target in targets:
            tags = target.setdefault("metadata", {}).setdefault("tags", [])
            if "hide-cell" not in tags:
                tags.append("hide-cell")


def chapter_numbers(toc: Path = TOC) -> dict[str, int]:
    """file name (``05_counting_cell.ipynb``) -> chapter number, for the numbered part of ``_toc.yml``.

    Sphinx numbers the chapters by their position in the numbered part (so
    ``10_performance`` is chapter 9), and their equations (chapter.k).
    """
    import yaml

    numbers = {}
    for part in yaml.safe_load(toc.read_text()).get("parts", []):
        if part.get("numbered"):
            for k, chapter in enumerate(part.get("chapters", []), start=len(numbers) + 1):
                numbers[Path(chapter["file"]).name + ".ipynb"] = k
    return numbers


def numbering_cell(chapter: int) -> dict:
    """The first Markdown cell of chapter ``chapter``: mystmd front matter for jupyterlab-myst, removed in the book."""
    return nbformat.v4.new_markdown_cell(
        "---\nnumbering:\n" + "".join(f"  {kind}:\n    enumerator: \"{chapter}.%s\"\n" for kind in NUMBERED)
        + "---",
        id=NUMBERING_ID, metadata={"tags": ["remove-cell"]})


def set_equation_numbering(nb: dict, chapter: int | None) -> None:
    """Insert, update or (``chapter=None``) remove the :func:`numbering_cell` at the top of ``nb``."""
    cells = nb["cells"]
    has = bool(cells) and cells[0].get("id") == NUMBERING_ID
    if chapter is None:
        if has:
            del cells[0]
        return
    want = numbering_cell(chapter)
    if has:
        if _source(cells[0]) != want["source"]:
            _set_source(cells[0], want["source"])
        tags = cells[0].setdefault("metadata", {}).setdefault("tags", [])
        if "remove-cell" not in tags:
            tags.append("remove-cell")
    else:
        cells.insert(0, want)


def add_solution_bodies(cells) -> None:
    """Give each bare ``{solution-start}`` directive the body :data:`SOLUTION_BODY`."""
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        m = SOLUTION_START_BARE.match(_source(cell))
        if m:
            _set_source(cell, f"```{{solution-start}}{m.group('head')}\n{SOLUTION_BODY}\n```")


def transform_notebook(nb: dict, name: str, labels, authors, chapter: int | None = None) -> dict:
    """The notebook ``nb`` (file ``name``, chapter number ``chapter``) with every rewrite applied, in place."""
    set_equation_numbering(nb, chapter)
    add_solution_bodies(nb["cells"])
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        new = rewrite_cites(rewrite_refs(text, name, labels), authors)
        for old, fixed in EQUATION_FIXES.items():
            new = new.replace(old, fixed)
        if new != text:
            _set_source(cell, new)
    tag_exercise_stubs(nb["cells"])
    return nb


def transform_markdown(text: str, name: str, labels, authors) -> str:
    """A Markdown page (intro, notation, references) with the same rewrites."""
    text = rewrite_cites(rewrite_refs(text, name, labels), authors)
    if name == "references.md" and BIBLIOGRAPHY_ALL not in text:
        text = text.replace(BIBLIOGRAPHY, BIBLIOGRAPHY_ALL)
    return text


def run(book: Path = BOOK, bib: Path = BIB, check: bool = False, toc: Path | None = None) -> list[str]:
    """Rewrite (or, with ``check``, only list) the files of ``book`` that change (``toc``: its ``_toc.yml``)."""
    labels, authors = page_labels(book), bib_authors(bib)
    toc = toc or (book.parent / "_toc.yml" if (book.parent / "_toc.yml").exists() else TOC)
    numbers = chapter_numbers(toc)
    changed = []
    for path in sorted(book.glob("*.ipynb")):
        raw = path.read_text()
        nb = transform_notebook(json.loads(raw), path.name, labels, authors, numbers.get(path.name))
        new = nbformat.writes(nbformat.from_dict(nb)) + "\n"
        if json.loads(new) != json.loads(raw):
            changed.append(path.name)
            if not check:
                path.write_text(new)
    for path in sorted(book.glob("*.md")):
        raw = path.read_text()
        new = transform_markdown(raw, path.name, labels, authors)
        if new != raw:
            changed.append(path.name)
            if not check:
                path.write_text(new)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="list the files that would change; exit 1 if any")
    args = parser.parse_args(argv)
    changed = run(check=args.check)
    verb = "would change" if args.check else "changed"
    print(f"portable_notebooks: {verb} {len(changed)} files" + (f": {', '.join(changed)}" if changed else ""))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
