r"""A small generated language with long-range structure, and a character codec.

Chapter 5 trains character-level language models on text this module writes,
so no corpus is downloaded. A line of the language is a sequence of *items*
separated by single spaces and ended by a newline; an item is

* a **word** from a small vocabulary (``cat``, ``ran`` ...),
* a **group**: an opening bracket ``(``, ``[`` or ``{``, one or more items, and
  the matching closing bracket, nested up to ``max_depth`` levels, or
* a **quote**: ``"``, one or more words, ``"`` (no brackets inside quotes).

For example ``the cat (sat [on "a red" mat]) ran``. Every line closes all its
brackets and quotes, so to predict the text a model has to remember which
brackets are open (to close them with the right type, in the right order) and
whether a quote is open: the structure Karpathy et al. (2015) found single
LSTM cells keeping track of.

* :class:`ToyLanguage` - the grammar's parameters (a frozen dataclass);
* :func:`generate` - seeded text plus the per-character ground truth
  (:class:`ToyText`: bracket depth and an inside-quote flag);
* :func:`structure_signals` - that ground truth for any text;
  :func:`innermost_bracket` - the type of the innermost open bracket;
* :class:`CharCodec` - characters <-> integer ids (``encode``, ``decode``,
  ``vocab``, ``V``);
* :func:`is_well_formed`, :func:`complete_lines`, :func:`well_formed_fraction` -
  do (generated) lines close their brackets and quotes, in order?

Only NumPy is imported here.

References
----------
Karpathy, A. (2015). The unreasonable effectiveness of recurrent neural
networks. Blog post, karpathy.github.io, 21 May 2015.
Karpathy, A., Johnson, J. & Fei-Fei, L. (2015). Visualizing and understanding
recurrent networks. arXiv:1506.02078.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_size
from rnnlib._checks import check_rng

#: Opening bracket -> closing bracket.
BRACKETS = {"(": ")", "[": "]", "{": "}"}
OPENERS = tuple(BRACKETS)
CLOSERS = tuple(BRACKETS.values())
QUOTE = '"'
NEWLINE = "\n"
DEFAULT_WORDS = ("the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "it", "big", "red")


def _check_range(name, value, low=1):
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
            or not low <= value[0] <= value[1]):
        raise ValueError(f"{name} must be a tuple (min, max) of ints with {low} <= min <= max; got {value!r}")


def _check_prob(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1]; got {value!r}")


@dataclass(frozen=True)
class ToyLanguage:
    """Parameters of the generated language (see the module docstring for the grammar).

    The defaults give lines of about 25 to 70 characters over 23 symbols
    (14 letters, space, newline, six brackets and the quote).
    """

    words: tuple = DEFAULT_WORDS  # the vocabulary; lowercase a-z only
    max_depth: int = 3  # deepest bracket nesting (0: no brackets)
    line_items: tuple = (3, 7)  # (min, max) items per line, uniform
    group_items: tuple = (1, 3)  # (min, max) items inside a group
    quote_words: tuple = (1, 3)  # (min, max) words inside a quote
    p_group: float = 0.3  # chance that an item is a group (while depth < max_depth)
    p_quote: float = 0.12  # chance that an item is a quote

    def __post_init__(self):
        if not isinstance(self.words, tuple) or not self.words:
            raise ValueError(f"words must be a non-empty tuple of strings; got {self.words!r}")
        for w in self.words:
            if not (isinstance(w, str) and w and all("a" <= ch <= "z" for ch in w)):
                raise ValueError(f"every word must be lowercase letters a-z; got {w!r}")
        if isinstance(self.max_depth, bool) or not isinstance(self.max_depth, numbers.Integral) \
                or self.max_depth < 0:
            raise ValueError(f"max_depth must be an int >= 0; got {self.max_depth!r}")
        for name in ("line_items", "group_items", "quote_words"):
            _check_range(name, getattr(self, name))
        for name in ("p_group", "p_quote"):
            _check_prob(name, getattr(self, name))
        if self.p_group + self.p_quote > 1.0:
            raise ValueError(f"p_group + p_quote must be <= 1; got {self.p_group + self.p_quote:g}")

    @property
    def alphabet(self) -> str:
        """Every character the language can produce, sorted: newline, space, quote, brackets, letters."""
        letters = set("".join(self.words))
        symbols = {NEWLINE, " "} | ({QUOTE} if self.p_quote > 0 else set())
        if self.max_depth > 0 and self.p_group > 0:
            symbols |= set(OPENERS) | set(CLOSERS)
        return "".join(sorted(letters | symbols))


class ToyText(NamedTuple):
    """Result of :func:`generate`: the text and its per-character ground truth."""

    text: str  # n_lines lines, each ended by "\n"
    depth: np.ndarray  # (L,) int: open brackets *after* reading each character
    in_quote: np.ndarray  # (L,) int 0/1: inside a quote after reading each character
    bits: float  # -log2 of the probability that the grammar writes exactly this text


def _item(lang, rng, depth, out):
    """Append one item (word, group or quote) at bracket depth ``depth`` to ``out``; return its bits."""
    n_words = len(lang.words)
    can_nest = depth < lang.max_depth
    u = rng.random()
    if u < lang.p_quote:
        lo, hi = lang.quote_words
        n = rng.integers(lo, hi + 1)
        words = [lang.words[k] for k in rng.integers(0, n_words, size=n)]
        out.append(QUOTE + " ".join(words) + QUOTE)
        return -np.log2(lang.p_quote) + np.log2(hi - lo + 1) + n * np.log2(n_words)
    if u < lang.p_quote + lang.p_group and can_nest:
        opener = OPENERS[rng.integers(0, len(OPENERS))]
        lo, hi = lang.group_items
        n = rng.integers(lo, hi + 1)
        inner = []
        bits = -np.log2(lang.p_group) + np.log2(len(OPENERS)) + np.log2(hi - lo + 1)
        for _ in range(n):
            bits += _item(lang, rng, depth + 1, inner)
        out.append(opener + " ".join(inner) + BRACKETS[opener])
        return bits
    out.append(lang.words[rng.integers(0, n_words)])
    p_word = 1.0 - lang.p_quote - (lang.p_group if can_nest else 0.0)  # at max depth a "group" draw is a word
    return -np.log2(p_word) + np.log2(n_words)


def generate_line(lang: ToyLanguage, rng: np.random.Generator):
    r"""One line of the language, without its newline, and its information content in bits.

    Parameters
    ----------
    lang : ToyLanguage
    rng : np.random.Generator
        Draws, in order: the number of items, then for each item one uniform
        number (word, group or quote) and its content, depth first.

    Returns
    -------
    line : str
    bits : float
        :math:`-\log_2` of the probability of this line (with its newline)
        under the grammar. Each line has exactly one derivation (words are
        distinct and delimited), so this is also the line's probability.
    """
    lo, hi = lang.line_items
    n = rng.integers(lo, hi + 1)
    items = []
    bits = np.log2(hi - lo + 1)
    for _ in range(n):
        bits += _item(lang, rng, 0, items)
    return " ".join(items), float(bits)


def generate(n_lines, rng, lang: ToyLanguage | None = None) -> ToyText:
    r"""Seeded text of the toy language and its ground-truth structure signals.

    Parameters
    ----------
    n_lines : int
        Number of lines; each ends with ``"\n"``.
    rng : np.random.Generator
    lang : ToyLanguage, optional
        Default ``ToyLanguage()``.

    Returns
    -------
    ToyText
        ``text`` (a str of length L), ``depth`` (L,) and ``in_quote`` (L,),
        from :func:`structure_signals`, and ``bits``, the information content
        :math:`-\log_2 P(\text{text})` under the grammar. ``bits / L`` is the
        entropy of the language per character, estimated on this text: no
        model can average fewer bits per character on such text.

    Examples
    --------
    >>> toy = generate(2, np.random.default_rng(0))
    >>> toy.text.count("\n")
    2
    """
    n_lines = check_size("n_lines", n_lines)
    rng = check_rng(rng)
    lang = ToyLanguage() if lang is None else lang
    if not isinstance(lang, ToyLanguage):
        raise TypeError(f"lang must be a ToyLanguage; got {type(lang).__name__}")
    lines, bits = zip(*(generate_line(lang, rng) for _ in range(n_lines)))
    text = "".join(line + NEWLINE for line in lines)
    depth, in_quote = structure_signals(text)
    return ToyText(text, depth, in_quote, float(sum(bits)))


def structure_signals(text: str):
    r"""Bracket depth and inside-quote flag after each character of ``text``.

    Parameters
    ----------
    text : str, length L

    Returns
    -------
    depth : ndarray (L,) int
        :math:`d_t = d_{t-1} + [c_t \text{ opens}] - [c_t \text{ closes}]`,
        :math:`d_0 = 0`, counting the three bracket types alike and ignoring
        quotes. An opening bracket is counted at its own position, so
        ``"(a)"`` gives ``[1, 1, 0]``. On malformed text it may go negative.
    in_quote : ndarray (L,) int
        1 after an odd number of ``"`` (the opening quote itself is 1, the
        closing quote 0), else 0.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (L,) code points
    step = np.zeros(chars.shape, dtype=np.int64)
    for ch in OPENERS:
        step[chars == ord(ch)] = 1
    for ch in CLOSERS:
        step[chars == ord(ch)] = -1
    depth = np.cumsum(step)
    in_quote = np.cumsum(chars == ord(QUOTE)) % 2
    return depth, in_quote.astype(np.int64)


def innermost_bracket(text: str) -> np.ndarray:
    """Which bracket type is innermost open after each character of ``text``.

    Parameters
    ----------
    text : str, length L

    Returns
    -------
    ndarray (L,) int
        Index into :data:`OPENERS` (0 for ``(``, 1 for ``[``, 2 for ``{``) of
        the most recently opened bracket still open after reading character t,
        or -1 when none is open. A closing bracket closes the innermost open
        bracket whatever its type (on malformed text); quotes are ignored. So
        ``"([a])"`` gives ``[0, 1, 1, 0, -1]``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    out = np.empty(len(text), dtype=np.int64)
    stack = []
    for t, ch in enumerate(text):
        if ch in BRACKETS:
            stack.append(OPENERS.index(ch))
        elif ch in CLOSERS and stack:
            stack.pop()
        out[t] = stack[-1] if stack else -1
    return out


class CharCodec:
    """Characters <-> integer ids 0..V-1, in the order of ``vocab``.

    Parameters
    ----------
    vocab : str or iterable of single characters
        The characters, each once; id k is ``vocab[k]``. Use
        ``CharCodec(lang.alphabet)`` or :meth:`from_text`.

    Attributes
    ----------
    vocab : str
    V : int
        Vocabulary size.
    """

    def __init__(self, vocab):
        vocab = "".join(vocab) if not isinstance(vocab, str) else vocab
        if not vocab:
            raise ValueError("vocab must hold at least one character")
        if len(set(vocab)) != len(vocab):
            dup = sorted({ch for ch in vocab if vocab.count(ch) > 1})
            raise ValueError(f"vocab must list each character once; repeated: {dup}")
        self.vocab = vocab
        self.V = len(vocab)
        self._index = {ch: k for k, ch in enumerate(vocab)}
        self._table = np.array(list(vocab))  # id -> character

    @classmethod
    def from_text(cls, text: str) -> "CharCodec":
        """The codec of the sorted set of characters of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        return cls("".join(sorted(set(text))))

    def __repr__(self):
        return f"CharCodec(V={self.V}, vocab={self.vocab!r})"

    def __eq__(self, other):
        return isinstance(other, CharCodec) and other.vocab == self.vocab

    __hash__ = None

    def encode(self, text: str) -> np.ndarray:
        """``text`` (length L) -> int64 ids (L,); raises ValueError naming unknown characters."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        try:
            return np.fromiter((self._index[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self.vocab))
            raise ValueError(f"text has characters outside the vocabulary: {unknown}") from None

    def decode(self, ids) -> str:
        """Integer ids (any shape, read in C order) -> the string of their characters."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers; got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.V):
            raise ValueError(f"ids must lie in [0, {self.V}); got values in [{ids.min()}, {ids.max()}]")
        return "".join(self._table[ids.ravel()]) if ids.size else ""


# ---------------------------------------------------------------------------
# well-formed lines (of generated text)
# ---------------------------------------------------------------------------
def is_well_formed(line: str) -> bool:
    r"""True if every bracket and quote of ``line`` closes, in the right order.

    One stack: an opening bracket is pushed; a closing bracket must match the
    bracket on top (``(`` for ``)`` ...) and pops it; a quote closes the
    quote on top of the stack if there is one, otherwise it opens a quote
    (is pushed). At the end the stack must be empty. So ``([a] "b")`` is well
    formed, and ``(]``, ``)(``, ``([)]``, ``"a`` and ``("a)"`` are not (the
    last opens a quote inside the brackets and closes it outside).
    """
    if not isinstance(line, str):
        raise TypeError(f"line must be a str; got {type(line).__name__}")
    match = {close: open_ for open_, close in BRACKETS.items()}
    stack = []
    for ch in line:
        if ch in BRACKETS:
            stack.append(ch)
        elif ch in CLOSERS:
            if not stack or stack.pop() != match[ch]:
                return False
        elif ch == QUOTE:
            if stack and stack[-1] == QUOTE:
                stack.pop()
            else:
                stack.append(QUOTE)
    return not stack


def complete_lines(texts) -> list:
    r"""The lines of generated texts that end with a newline (without it).

    Each text is assumed to start at the beginning of a line (it was primed
    with a newline), so its first line is complete; the part after its last
    newline is cut off mid-line and dropped.
    """
    if isinstance(texts, str):
        texts = [texts]
    lines = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be str or a list of str; got an item of type {type(text).__name__}")
        lines.extend(text.split(NEWLINE)[:-1])
    return lines


def well_formed_fraction(texts) -> float:
    """Fraction of the complete lines of ``texts`` (:func:`complete_lines`) that are :func:`is_well_formed`.

    Returns NaN if there is no complete line.
    """
    lines = complete_lines(texts)
    if not lines:
        return float("nan")
    return float(np.mean([is_well_formed(line) for line in lines]))


__all__ = ["BRACKETS", "OPENERS", "CLOSERS", "QUOTE", "NEWLINE", "DEFAULT_WORDS", "ToyLanguage", "ToyText",
           "generate_line", "generate", "structure_signals", "innermost_bracket", "CharCodec",
           "is_well_formed", "complete_lines", "well_formed_fraction"]
