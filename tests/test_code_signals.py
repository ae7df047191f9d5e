"""rnnlib.data.code_signals: per-character signals of Python source, checked against tokenize."""

import io
import tokenize

import numpy as np
import pytest

from rnnlib.data import code_signals as cs
from rnnlib.data.stdlib_corpus import HELDOUT_FILES, read_files


def test_position_and_indentation_by_hand():
    text = "if x:\n    y = (1,\n  2)\n"
    np.testing.assert_array_equal(cs.position_in_line("ab\ncd\n"), [1, 2, 0, 1, 2, 0])
    ind = cs.indentation(text)
    line2 = text.index("    y")
    np.testing.assert_array_equal(ind[:6], 0)
    np.testing.assert_array_equal(ind[line2:line2 + 6], [1, 2, 3, 4, 4, 4])
    assert ind[text.index("2)")] == 2 and ind[-1] == 0
    with pytest.raises(TypeError, match="str"):
        cs.indentation(b"x")


def test_scan_by_hand():
    text = 'f(a, "x(#", [b]) # c (\ns = """q\n\'p\'"""\n'
    s, c, d = cs.scan_python(text)
    lit = text.index('"x(#"')
    np.testing.assert_array_equal(s[lit:lit + 5], 1)  # quotes included; ( and # inside a string
    assert s[lit - 1] == 0 and s[lit + 5] == 0
    assert d[1] == 1 and d[text.index("[")] == 2 and d[text.index("]")] == 1 and d[text.index(")")] == 0
    assert np.all(d[lit:lit + 5] == 1)  # the bracket inside the string does not count
    com = text.index("# c")
    np.testing.assert_array_equal(c[com:com + 5], 1)
    assert c[com + 5] == 0 and d[com + 4] == 0  # newline not in the comment; ( in a comment ignored
    tri = text.index('"""q')
    assert np.all(s[tri:tri + 11] == 1) and s[tri + 11] == 0  # triple-quoted over a newline
    esc = cs.scan_python(r"'a\'b' + c")[0]
    np.testing.assert_array_equal(esc, [1] * 6 + [0] * 4)
    unterminated = cs.scan_python("'ab\nx")[0]
    np.testing.assert_array_equal(unterminated, [1, 1, 1, 0, 0])
    assert cs.scan_python(")")[2][0] == 0  # never below 0


@pytest.mark.parametrize("name", HELDOUT_FILES[:6])
def test_strings_and_comments_match_tokenize_on_real_files(name):
    """Every disagreement with Python's own tokenizer is a string prefix (r, b, f, u), which the scan skips."""
    text, _, _ = read_files([name])
    s, c, d = cs.scan_python(text)
    starts = np.cumsum([0] + [len(line) for line in text.splitlines(keepends=True)])
    ref_s, ref_c = np.zeros(len(text)), np.zeros(len(text))
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        a, b = starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == tokenize.STRING:
            ref_s[a:b] = 1
        elif tok.type == tokenize.COMMENT:
            ref_c[a:b] = 1
    np.testing.assert_array_equal(c, ref_c)
    for t in np.flatnonzero(s != ref_s):
        assert ref_s[t] == 1 and text[t] in "rRbBfFuU", (name, t, text[t - 5:t + 5])
    assert d[-1] == 0 and d.min() == 0  # a whole module closes all its brackets


def test_code_signals_dict():
    sig = cs.code_signals("x = [1,\n  2]\n")
    assert tuple(sig) == cs.SIGNALS
    assert all(v.shape == (13,) and v.dtype == np.float64 for v in sig.values())
