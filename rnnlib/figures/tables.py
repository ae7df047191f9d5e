"""Small result tables for the chapters: HTML in the book, aligned plain text for nbval.

:class:`Table` holds a header and rows of already formatted cells. A notebook
shows it as an HTML table (``_repr_html_``, what the book renders), while its
plain-text ``repr`` is the same table in aligned columns, which is what
``pytest --nbval`` compares: the numbers in a table are checked, not only its
type. No third-party import (pandas is not a dependency of the book).
"""

from __future__ import annotations

import html


class Table:
    """A table of strings.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequences
        One entry per row, as many cells as ``header``; cells are turned into
        ``str`` (format numbers before, with the precision the claim needs).
    """

    def __init__(self, header, rows):
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in row] for row in rows]
        bad = [k for k, row in enumerate(self.rows) if len(row) != len(self.header)]
        if bad:
            raise ValueError(f"rows must have {len(self.header)} cells, as header; "
                             f"row {bad[0]} has {len(self.rows[bad[0]])}")

    def __repr__(self):
        widths = [max(len(r[k]) for r in [self.header, *self.rows]) for k in range(len(self.header))]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        return "\n".join([line(self.header), line(["-" * w for w in widths]), *map(line, self.rows)])

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
