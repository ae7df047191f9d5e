"""rnnlib.data.toy_language: the generated language, its ground-truth signals and the character codec."""

import numpy as np
import pytest

from rnnlib.data import toy_language as tl

LANG = tl.ToyLanguage()


def _lines(text):
    assert text.endswith("\n")
    return text.split("\n")[:-1]


def test_generate_is_seeded_and_every_line_is_well_formed():
    a = tl.generate(300, np.random.default_rng(0))
    b = tl.generate(300, np.random.default_rng(0))
    c = tl.generate(300, np.random.default_rng(1))
    assert a.text == b.text and a.bits == b.bits and a.text != c.text
    lines = _lines(a.text)
    assert len(lines) == 300
    assert all(tl.is_well_formed(line) for line in lines)
    assert set(a.text) <= set(LANG.alphabet)


def test_lines_follow_the_grammar():
    toy = tl.generate(500, np.random.default_rng(3))
    words = set(LANG.words)
    for line in _lines(toy.text):
        assert line and not line.startswith(" ") and not line.endswith(" ") and "  " not in line
        tokens = line
        for ch in "()[]{}\"":
            tokens = tokens.replace(ch, " ")
        assert set(tokens.split()) <= words
    # groups actually nest to the maximum depth, never beyond; quotes hold no brackets
    assert toy.depth.min() == 0 and toy.depth.max() == LANG.max_depth
    inside = np.array(list(toy.text))[toy.in_quote == 1]
    assert not set(inside) & set("()[]{}\n")


def test_parameters_change_the_text():
    flat = tl.generate(200, np.random.default_rng(0), tl.ToyLanguage(max_depth=0, p_quote=0.0))
    assert not set(flat.text) & set("()[]{}\"") and flat.depth.max() == 0
    deep = tl.generate(200, np.random.default_rng(0), tl.ToyLanguage(max_depth=5, p_group=0.45))
    assert deep.depth.max() == 5
    few = tl.ToyLanguage(words=("ab", "ba"))
    assert set(tl.generate(50, np.random.default_rng(0), few).text) <= set(few.alphabet)
    short = tl.generate(100, np.random.default_rng(0), tl.ToyLanguage(line_items=(1, 1), p_group=0, p_quote=0))
    assert all(" " not in line for line in _lines(short.text))
    assert tl.ToyLanguage(max_depth=0, p_quote=0.0).alphabet == "\n abcdeghimnorst"


def test_bits_is_minus_log2_probability_of_a_tiny_language():
    # two words, one item per line, no groups or quotes: every line has probability 1/2
    lang = tl.ToyLanguage(words=("ab", "ba"), line_items=(1, 1), p_group=0.0, p_quote=0.0)
    toy = tl.generate(7, np.random.default_rng(0), lang)
    assert toy.bits == pytest.approx(7.0)
    # one or two items: 1 bit for the count, 1 per word
    lang2 = tl.ToyLanguage(words=("ab", "ba"), line_items=(1, 2), p_group=0.0, p_quote=0.0)
    toy2 = tl.generate(40, np.random.default_rng(0), lang2)
    n_items = sum(len(line.split()) for line in _lines(toy2.text))
    assert toy2.bits == pytest.approx(40 + n_items)


def test_bits_adds_the_item_choices():
    lang = tl.ToyLanguage(words=("ab", "ba"), line_items=(1, 1), max_depth=1, p_group=0.25, p_quote=0.25,
                          group_items=(1, 1), quote_words=(1, 1))
    rng = np.random.default_rng(5)
    for _ in range(50):
        line, bits = tl.generate_line(lang, rng)
        if line.startswith('"'):  # quote: p 1/4, one word of two
            expect = 2 + 1
        elif line[0] in "([{":  # group (p 1/4, 3 types) of one item at depth 1: word p 3/4 (no deeper group)
            expect = 2 + np.log2(3) + (np.log2(4 / 3) + 1) if line[1] not in '"' else 2 + np.log2(3) + 3
        else:  # a word: p 1/2, one of two
            expect = 1 + 1
        assert bits == pytest.approx(expect), line


def test_entropy_rate_is_below_what_the_grammar_allows_per_character():
    toy = tl.generate(1000, np.random.default_rng(0))
    rate = toy.bits / len(toy.text)
    assert 1.0 < rate < np.log2(len(LANG.alphabet))


def test_structure_signals_by_hand():
    depth, in_quote = tl.structure_signals('a ("b" [c])\n')
    np.testing.assert_array_equal(depth, [0, 0, 1, 1, 1, 1, 1, 2, 2, 1, 0, 0])
    np.testing.assert_array_equal(in_quote, [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    d, q = tl.structure_signals(")(")  # malformed text: the count goes negative
    np.testing.assert_array_equal(d, [-1, 0])
    assert tl.structure_signals("")[0].shape == (0,)


def test_innermost_bracket():
    np.testing.assert_array_equal(tl.innermost_bracket("([a])"), [0, 1, 1, 0, -1])
    np.testing.assert_array_equal(tl.innermost_bracket('{"a" (x)}'), [2, 2, 2, 2, 2, 0, 0, 2, -1])
    np.testing.assert_array_equal(tl.innermost_bracket(")a(]"), [-1, -1, 0, -1])  # malformed: pops anyway
    toy = tl.generate(100, np.random.default_rng(4))
    inner = tl.innermost_bracket(toy.text)
    assert np.array_equal(inner == -1, toy.depth == 0)
    assert set(np.unique(inner)) == {-1, 0, 1, 2}
    with pytest.raises(TypeError):
        tl.innermost_bracket(None)


def test_generate_returns_the_signals_of_its_text():
    toy = tl.generate(50, np.random.default_rng(2))
    d, q = tl.structure_signals(toy.text)
    np.testing.assert_array_equal(d, toy.depth)
    np.testing.assert_array_equal(q, toy.in_quote)
    assert toy.depth.shape == toy.in_quote.shape == (len(toy.text),)
    assert toy.depth[np.array(list(toy.text)) == "\n"].max() == 0  # every line closes its brackets


def test_codec_round_trip_and_ids():
    codec = tl.CharCodec(LANG.alphabet)
    assert codec.V == len(LANG.alphabet) == 23 and codec.vocab[0] == "\n"
    text = tl.generate(20, np.random.default_rng(0)).text
    ids = codec.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert codec.decode(ids) == text
    assert codec.decode(ids.reshape(-1, 1)) == text  # any shape, C order
    assert codec.decode(np.array([], dtype=int)) == ""
    assert [codec.vocab[k] for k in codec.encode("cat")] == list("cat")
    assert tl.CharCodec.from_text("bca") == tl.CharCodec("abc")
    assert "V=3" in repr(tl.CharCodec("abc"))


def test_codec_rejects_bad_input():
    codec = tl.CharCodec("abc")
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['z'\]"):
        codec.encode("abz")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        codec.decode([0, 3])
    with pytest.raises(TypeError, match="integers"):
        codec.decode([0.5])
    with pytest.raises(TypeError, match="str"):
        codec.encode(["a"])
    with pytest.raises(ValueError, match="repeated"):
        tl.CharCodec("abca")
    with pytest.raises(ValueError, match="at least one"):
        tl.CharCodec("")
    with pytest.raises(TypeError):
        tl.CharCodec.from_text(3)


@pytest.mark.parametrize("kw, match", [
    ({"words": ()}, "words"), ({"words": ("Cat",)}, "lowercase"), ({"max_depth": -1}, "max_depth"),
    ({"line_items": (3, 2)}, "line_items"), ({"group_items": (0, 2)}, "group_items"),
    ({"p_group": 1.5}, "p_group"), ({"p_group": 0.6, "p_quote": 0.6}, "p_group \\+ p_quote"),
])
def test_language_rejects_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        tl.ToyLanguage(**kw)


def test_generate_rejects_bad_arguments():
    with pytest.raises(TypeError, match="Generator"):
        tl.generate(3, 0)
    with pytest.raises(ValueError):
        tl.generate(0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="ToyLanguage"):
        tl.generate(3, np.random.default_rng(0), {"max_depth": 2})
    with pytest.raises(TypeError):
        tl.structure_signals(b"()")


# --- structure ---------------------------------------------------------------
@pytest.mark.parametrize("line, ok", [
    ("", True), ("the cat", True), ("(a [b] {c})", True), ('a "b c" (d "e")', True), ('{[("x")]}', True),
    ("(]", False), (")(", False), ("([)]", False), ('"a', False), ('("a) b"', False), ("(a [b", False),
    ("a)", False), ('"(a"', False),
])
def test_is_well_formed(line, ok):
    assert tl.is_well_formed(line) is ok


def test_complete_lines_and_fraction():
    texts = ["(a)\n(b\nc", "d]\n"]
    assert tl.complete_lines(texts) == ["(a)", "(b", "d]"]
    assert tl.complete_lines("x\ny") == ["x"]
    assert tl.well_formed_fraction(texts) == pytest.approx(1 / 3)
    assert tl.well_formed_fraction(tl.generate(60, np.random.default_rng(0)).text) == 1.0
    assert np.isnan(tl.well_formed_fraction(["no newline"]))
    with pytest.raises(TypeError):
        tl.complete_lines([1])
    with pytest.raises(TypeError):
        tl.is_well_formed(None)
