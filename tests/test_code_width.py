"""Code cells fit the page: no line of a chapter's code longer than MAX_WIDTH characters.

The HTML book shows code cells in a box about 88 characters wide at 1400 px;
a longer line is cut at the right edge (issue 13). The failure lists every
offending line as ``cell index:line number (length)``.
"""

import json
import pathlib

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
MAX_WIDTH = 88


def long_lines(path, width=MAX_WIDTH):
    """[(cell index, line number, length)] of the code lines of ``path`` longer than ``width``."""
    cells = json.loads(path.read_text())["cells"]
    return [
        (k, n, len(line))
        for k, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        for n, line in enumerate("".join(cell["source"]).split("\n"), start=1)
        if len(line) > width
    ]


def test_long_lines_finds_what_it_should(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "y = " + "1" * 90]},
                    {"cell_type": "markdown", "source": ["a" * 200]}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert long_lines(path) == [(0, 2, 94)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    bad = long_lines(path)
    listing = ", ".join(f"{k}:{n} ({w})" for k, n, w in bad)
    assert bad == [], f"{path.name}: {len(bad)} code lines over {MAX_WIDTH} characters: {listing}"
