r"""What a reader of Python source keeps track of, computed from the text, one number per character.

Karpathy, Johnson & Fei-Fei (2015) looked for cells that follow a property
of the text. Here the properties are computed exactly from the text itself,
so a unit's value can be compared with them (chapter 6). Value ``t`` of each
signal describes character ``text[t]``:

* :func:`position_in_line` - the character's column, counted from 1; a
  newline is 0 (the next line starts);
* :func:`indentation` - the leading spaces of the current line *read so
  far*: it rises through the indentation, then stays until the newline
  (which is 0). Causal: it only uses characters up to ``t``;
* :func:`scan_python` - one left-to-right scan that tracks string literals,
  comments and bracket depth:

  - ``in_string``: 1 for every character of a string literal, its quotes
    included (one quote, ``'`` or ``"``, at each end, or three of the same
    kind for a triple-quoted string over several lines); a backslash inside a string escapes
    the next character; a one-quote string also ends at an unescaped newline;
  - ``in_comment``: 1 from a ``#`` outside any string to the end of its line
    (the newline excluded);
  - ``bracket_depth``: the number of ``( [ {`` opened and not yet closed,
    outside strings and comments, *after* reading the character (an opening
    bracket counts itself, a closing one does not); never below 0.

The scan does not know string prefixes (they do not change where a literal
ends, except that a raw string's backslash still escapes the quote, as here)
nor the nested same-quote f-strings of Python 3.12; those are rare in the
standard library. :func:`code_signals` returns all of them in a dict.

Only NumPy is imported here.
"""

from __future__ import annotations

import numpy as np

NEWLINE = "\n"
OPENING, CLOSING = "([{", ")]}"
#: The names :func:`code_signals` returns, in order.
SIGNALS = ("indentation", "position_in_line", "in_string", "in_comment", "bracket_depth")


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return text


def position_in_line(text) -> np.ndarray:
    """Column of each character (1 for the first of a line), 0 for a newline; float64 (L,)."""
    text = _check_text(text)
    out = np.zeros(len(text))
    col = 0
    for t, ch in enumerate(text):
        col = 0 if ch == NEWLINE else col + 1
        out[t] = col
    return out


def indentation(text) -> np.ndarray:
    """Leading spaces of the current line read up to each character (0 at a newline); float64 (L,).

    Example: ``"  x = 1\\n"`` gives ``[1, 2, 2, 2, 2, 2, 2, 0]``.
    """
    text = _check_text(text)
    out = np.zeros(len(text))
    indent, leading = 0, True
    for t, ch in enumerate(text):
        if ch == NEWLINE:
            indent, leading = 0, True
        elif leading and ch == " ":
            indent += 1
        else:
            leading = False
        out[t] = indent
    return out


def scan_python(text):
    """One scan of Python source: ``in_string``, ``in_comment``, ``bracket_depth``, each float64 (L,).

    See the module docstring for the exact rules.
    """
    text = _check_text(text)
    L = len(text)
    in_string, in_comment, depth = np.zeros(L), np.zeros(L), np.zeros(L)
    d, t = 0, 0
    while t < L:
        ch = text[t]
        if ch in "'\"":  # a string literal starts here: find where it ends
            delim = ch * 3 if text.startswith(ch * 3, t) else ch
            u = t + len(delim)
            while u < L and not text.startswith(delim, u):
                if text[u] == "\\":
                    u += 2
                    continue
                if len(delim) == 1 and text[u] == NEWLINE:  # unterminated one-quote string
                    break
                u += 1
            end = min(u + len(delim), L) if u < L and text.startswith(delim, u) else min(u, L)
            in_string[t:end] = 1.0
            depth[t:end] = d
            t = end
            continue
        if ch == "#":  # a comment, to the end of the line
            end = text.find(NEWLINE, t)
            end = L if end < 0 else end
            in_comment[t:end] = 1.0
            depth[t:end] = d
            t = end
            continue
        if ch in OPENING:
            d += 1
        elif ch in CLOSING:
            d = max(d - 1, 0)
        depth[t] = d
        t += 1
    return in_string, in_comment, depth


def code_signals(text) -> dict:
    """All the signals of ``text``: ``{name: float64 (L,)}`` for the names of :data:`SIGNALS`."""
    in_string, in_comment, depth = scan_python(text)
    return {"indentation": indentation(text), "position_in_line": position_in_line(text),
            "in_string": in_string, "in_comment": in_comment, "bracket_depth": depth}


__all__ = ["SIGNALS", "position_in_line", "indentation", "scan_python", "code_signals"]
