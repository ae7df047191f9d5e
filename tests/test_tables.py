"""rnnlib.figures.tables.Table: aligned text (what nbval compares) and escaped HTML (what the book shows)."""

import pytest

from rnnlib.figures.tables import Table


def test_text_and_html():
    t = Table(["model", "nats"], [["a<b", "0.002"], ["left to right", 2.019]])
    assert repr(t).splitlines() == ["model          nats", "-------------  -----",
                                    "a<b            0.002", "left to right  2.019"]
    h = t._repr_html_()
    assert h.startswith("<table><thead><tr><th>model</th>") and "<td>a&lt;b</td>" in h
    assert h.count("<tr>") == 3


def test_rows_must_match_the_header():
    with pytest.raises(ValueError, match=r"rows must have 2 cells, as header; row 1 has 1"):
        Table(["a", "b"], [["1", "2"], ["3"]])
