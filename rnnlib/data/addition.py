r"""The addition problem of "Learning to Execute", as strings: ``"535+61" -> "596"``.

Zaremba & Sutskever (2014) and the Keras example ``addition_rnn`` train a
sequence-to-sequence model on sums written as characters. This module makes
the data and nothing else (NumPy only):

* :func:`make_problems` draws distinct problems ``(a, b)`` the way the Keras
  example does (a number has 1..``digits`` digits, each uniform), and
  :func:`split_problems` keeps a held-out set whose problems never appear in
  training (``a+b`` and ``b+a`` count as the same problem);
* :class:`AdditionCodec` turns problems into padded id arrays: the source
  ``"535+61 "`` padded with spaces to ``2 * digits + 1`` characters, reversed
  if asked (the Keras example reverses the padded string, so the padding comes
  first), with a mask of the real characters; the target ``"^596$"``: a start
  symbol ``^``, the answer and an end symbol ``$``, padded with spaces after
  the end;
* :func:`batches` cuts a shuffled epoch into :class:`Batch` tuples.

Every character goes through :class:`rnnlib.data.toy_language.CharCodec`, the
codec of the language-model chapters, with the alphabet ``"0123456789+ ^$"``.

References
----------
Zaremba, W. & Sutskever, I. (2014). Learning to execute. arXiv:1410.4615.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_rng, check_size
from rnnlib.data.toy_language import CharCodec

PAD, START, END = " ", "^", "$"
ALPHABET = "0123456789+" + PAD + START + END  # id k is ALPHABET[k]


def random_number(digits: int, rng) -> int:
    """A number of 1..``digits`` digits (count uniform, then each digit uniform), as Keras draws it."""
    n = int(rng.integers(1, digits + 1))
    return int("".join(str(d) for d in rng.integers(0, 10, size=n)))


def make_problems(n: int, digits: int, rng) -> list:
    """``n`` distinct problems ``(a, b)``: no two share the unordered pair {a, b}.

    Parameters
    ----------
    n : int
        Number of problems. At most the number of distinct unordered pairs of
        numbers below ``10**digits``.
    digits : int
        Largest number of digits of each operand.
    rng : np.random.Generator

    Returns
    -------
    problems : list of (int, int), length n
    """
    n, digits = check_size("n", n), check_size("digits", digits)
    rng = check_rng(rng)
    m = 10**digits
    if n > m * (m + 1) // 2:
        raise ValueError(f"n must be at most {m * (m + 1) // 2} (distinct problems with {digits} digit(s)); "
                         f"got {n}")
    seen, problems = set(), []
    while len(problems) < n:
        a, b = random_number(digits, rng), random_number(digits, rng)
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            problems.append((a, b))
    return problems


def split_problems(problems, n_held: int):
    """Split into ``(train, held)``: the last ``n_held`` problems are held out.

    The problems of :func:`make_problems` are distinct as unordered pairs, so no
    held-out sum (nor its commuted form) is ever in training; this is checked.
    """
    n_held = check_size("n_held", n_held)
    if n_held >= len(problems):
        raise ValueError(f"n_held must be smaller than the number of problems ({len(problems)}); got {n_held}")
    train, held = list(problems[:-n_held]), list(problems[-n_held:])
    keys = {(min(a, b), max(a, b)) for a, b in train}
    clash = [p for p in held if (min(p), max(p)) in keys]
    if clash:
        raise ValueError(f"problems must be distinct unordered pairs; {len(clash)} held-out problem(s) "
                         f"also in training, e.g. {clash[0]}")
    return train, held


class Batch(NamedTuple):
    """A batch of encoded problems (N of them).

    src : int64 (N, S) source ids, S = 2 * digits + 1
    src_mask : bool (N, S), True at real characters (False at padding)
    src_len : int64 (N,), number of real source characters
    tgt_in : int64 (N, L) decoder inputs ``^596`` (padded), L = digits + 2
    tgt_out : int64 (N, L) decoder targets ``596$`` (padded): ``tgt_in`` shifted by one
    tgt_mask : bool (N, L), True where ``tgt_out`` is a real symbol (answer or ``$``)
    answers : list of str, the answers as text
    """

    src: np.ndarray
    src_mask: np.ndarray
    src_len: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_mask: np.ndarray
    answers: list


class AdditionCodec:
    """Problems <-> padded id arrays for sums of numbers with up to ``digits`` digits.

    Parameters
    ----------
    digits : int
    reverse : bool
        Reverse the padded source string (``"535+61 "`` -> ``" 16+535"``), as
        the Keras example and "Learning to Execute" do.

    Attributes
    ----------
    chars : CharCodec
        The character codec (alphabet :data:`ALPHABET`).
    V : int
        Alphabet size (14).
    src_len, tgt_len : int
        S = 2 * digits + 1 source characters; L = digits + 2 target steps
        (up to digits + 1 answer digits and the end symbol).
    """

    def __init__(self, digits: int, reverse: bool = True):
        self.digits = check_size("digits", digits)
        if not isinstance(reverse, (bool, np.bool_)):
            raise TypeError(f"reverse must be a bool; got {type(reverse).__name__}")
        self.reverse = bool(reverse)
        self.chars = CharCodec(ALPHABET)
        self.V = self.chars.V
        self.src_len = 2 * self.digits + 1
        self.tgt_len = self.digits + 2
        self.pad_id, self.start_id, self.end_id = (self.chars.encode(c)[0] for c in (PAD, START, END))

    def __repr__(self):
        return f"AdditionCodec(digits={self.digits}, reverse={self.reverse})"

    def _ids(self, text: str, what: str) -> np.ndarray:
        unknown = sorted(set(text) - set(ALPHABET))
        if unknown:
            raise ValueError(f"{what} {text!r} has character(s) {unknown} outside the alphabet {ALPHABET!r}")
        return self.chars.encode(text)

    def encode_source(self, question: str):
        """``"535+61"`` -> (ids (S,), mask (S,), length): padded, reversed if ``self.reverse``."""
        if not isinstance(question, str):
            raise TypeError(f"question must be a str; got {type(question).__name__}")
        if not question:
            raise ValueError("question must be a non-empty string such as '535+61'")
        ids = self._ids(question, "question")
        if len(question) > self.src_len:
            raise ValueError(f"question {question!r} has {len(question)} characters; this codec "
                             f"(digits={self.digits}) takes at most {self.src_len}")
        padded = np.full(self.src_len, self.pad_id, dtype=np.int64)
        padded[: len(ids)] = ids
        mask = np.arange(self.src_len) < len(ids)
        if self.reverse:
            padded, mask = padded[::-1].copy(), mask[::-1].copy()
        return padded, mask, len(ids)

    def encode_target(self, answer: str):
        """``"596"`` -> (tgt_in (L,), tgt_out (L,), mask (L,)): ``^596`` and ``596$``, padded."""
        if not isinstance(answer, str):
            raise TypeError(f"answer must be a str; got {type(answer).__name__}")
        ids = self._ids(answer, "answer")
        if len(answer) > self.digits + 1:
            raise ValueError(f"answer {answer!r} has {len(answer)} characters; at most {self.digits + 1} "
                             f"with digits={self.digits}")
        seq = np.concatenate([[self.start_id], ids, [self.end_id]])
        full = np.full(self.tgt_len + 1, self.pad_id, dtype=np.int64)
        full[: len(seq)] = seq
        mask = np.arange(self.tgt_len) < len(ids) + 1
        return full[:-1], full[1:], mask

    def encode(self, problems) -> Batch:
        """A list of problems ``(a, b)`` (or strings ``"a+b"``) -> a :class:`Batch`."""
        if len(problems) == 0:
            raise ValueError("problems is empty: a batch needs at least one problem")
        questions, answers = [], []
        for p in problems:
            if isinstance(p, str):
                parts = p.split("+")
                if len(parts) != 2 or not all(s.isdigit() for s in parts):
                    self._ids(p, "question")  # names unknown characters first
                    raise ValueError(f"question {p!r} must have the form 'a+b' with decimal numbers a, b")
                a, b = (int(s) for s in parts)
            else:
                a, b = p
            if not (0 <= a < 10**self.digits and 0 <= b < 10**self.digits):
                raise ValueError(f"problem {a}+{b} has an operand with more than {self.digits} digit(s)")
            questions.append(p if isinstance(p, str) else f"{a}+{b}")
            answers.append(str(a + b))
        src = [self.encode_source(q) for q in questions]
        tgt = [self.encode_target(s) for s in answers]
        return Batch(np.stack([s[0] for s in src]), np.stack([s[1] for s in src]),
                     np.array([s[2] for s in src], dtype=np.int64),
                     np.stack([t[0] for t in tgt]), np.stack([t[1] for t in tgt]),
                     np.stack([t[2] for t in tgt]), answers)

    def keras_target(self, answers) -> np.ndarray:
        """Answers -> int64 (N, digits + 1): the Keras example's target, the answer padded with spaces."""
        return np.stack([self._ids(s.ljust(self.digits + 1), "answer") for s in answers])

    def decode_answer(self, ids) -> str:
        """Output ids (up to the first ``$``; spaces dropped) -> the answer text."""
        text = self.chars.decode(np.asarray(ids, dtype=np.int64))
        return text.split(END)[0].replace(PAD, "")

    def source_text(self, src_row) -> str:
        """Source ids (S,) -> the string the encoder reads (reversed if the codec reverses)."""
        return self.chars.decode(np.asarray(src_row, dtype=np.int64))


def batches(data: Batch, batch_size: int, rng=None):
    """Yield :class:`Batch` slices of ``data`` (shuffled by ``rng`` if given; the last may be smaller)."""
    batch_size = check_size("batch_size", batch_size)
    N = len(data.src)
    if N == 0:
        raise ValueError("data is empty")
    order = np.arange(N) if rng is None else check_rng(rng).permutation(N)
    for start in range(0, N, batch_size):
        idx = order[start: start + batch_size]
        yield Batch(*(f[idx] for f in data[:-1]), [data.answers[i] for i in idx])
