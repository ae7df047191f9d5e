r"""A character corpus every reader already has: the Python standard library's own source.

The corpus is read at run time from the ``.py`` files of the *running*
Python (``sysconfig.get_paths()["stdlib"]``); nothing is copied into the
repository. The files are a fixed list, :data:`TRAIN_FILES` and
:data:`HELDOUT_FILES`, split *by file*: no held-out file has a single line in
the training part, so the held-out score measures how well a model reads
modules it has never seen.

* :func:`stdlib_dir`, :func:`read_files` - where the files are, their text;
* :func:`build_vocab` - the characters of the training part that occur at
  least ``min_count`` times, then the unknown symbol :data:`UNK`;
* :func:`encode` - text -> ids, any character outside the vocabulary -> UNK;
* :func:`load_corpus` - all of it, as a :class:`StdlibCorpus` that records
  the Python version, the files found and missing, and the sizes.

What varies between Python versions: the files change a little from release
to release (Python 3.11.7: 3 353 244 training characters in 89 files,
182 594 held-out characters in 13 files; the sizes of 3.12 and 3.13 differ by
a few per cent), so every number measured on the corpus varies a little
too. A listed file that a Python does not have is skipped and named in
:attr:`StdlibCorpus.missing`, never silently. Every listed file exists in
CPython 3.11, 3.12 and 3.13.

Only NumPy, the standard library and the rnnlib core are imported here.
"""

from __future__ import annotations

import platform
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlib._checks import check_size
from rnnlib.data.toy_language import CharCodec

#: The unknown symbol: stands for every character outside the vocabulary (U+FFFD).
UNK = "\ufffd"

#: Training files, relative to the standard-library directory (89 files, ~3.4 MB).
TRAIN_FILES = (
    "argparse.py", "ast.py", "base64.py", "bdb.py", "bisect.py", "calendar.py", "cmd.py", "code.py",
    "codecs.py", "collections/__init__.py", "configparser.py", "contextlib.py", "copy.py",
    "dataclasses.py", "difflib.py", "dis.py", "doctest.py", "email/message.py", "email/feedparser.py",
    "email/utils.py", "enum.py", "filecmp.py", "fileinput.py", "fnmatch.py", "ftplib.py",
    "functools.py", "gettext.py", "gzip.py", "hmac.py", "html/parser.py", "http/client.py",
    "http/cookies.py", "http/server.py", "imaplib.py", "inspect.py", "ipaddress.py",
    "logging/__init__.py", "logging/handlers.py", "mimetypes.py", "netrc.py", "ntpath.py",
    "numbers.py", "operator.py", "optparse.py", "os.py", "pdb.py", "pickle.py", "platform.py",
    "plistlib.py", "poplib.py", "posixpath.py", "pprint.py", "profile.py", "pstats.py",
    "py_compile.py", "pyclbr.py", "random.py", "re/_compiler.py", "re/_parser.py", "reprlib.py",
    "runpy.py", "sched.py", "selectors.py", "shelve.py", "shutil.py", "smtplib.py", "socket.py",
    "statistics.py", "subprocess.py", "symtable.py", "tabnanny.py", "tarfile.py", "tempfile.py",
    "threading.py", "timeit.py", "trace.py", "traceback.py", "typing.py", "unittest/case.py",
    "urllib/parse.py", "uuid.py", "wave.py", "weakref.py", "xml/dom/minidom.py", "zipapp.py",
    "asyncio/base_events.py", "asyncio/tasks.py", "asyncio/streams.py", "concurrent/futures/_base.py",
)

#: Held-out files (13 files, ~0.18 MB): small, varied modules none of the training files contain.
HELDOUT_FILES = (
    "textwrap.py", "heapq.py", "fractions.py", "csv.py", "json/decoder.py", "json/encoder.py",
    "shlex.py", "queue.py", "glob.py", "string.py", "getopt.py", "colorsys.py", "graphlib.py",
)


def stdlib_dir() -> Path:
    """The directory of the running Python's standard library (``sysconfig``'s ``"stdlib"`` path)."""
    return Path(sysconfig.get_paths()["stdlib"])


def _check_files(name, files):
    if isinstance(files, str) or not all(isinstance(f, str) and f for f in files):
        raise TypeError(f"{name} must be a sequence of relative paths (str); got {files!r}")
    files = tuple(files)
    if not files:
        raise ValueError(f"{name} must list at least one file")
    return files


def read_files(files, root=None):
    r"""Read and join the text of ``files`` (paths relative to ``root``).

    Parameters
    ----------
    files : sequence of str
        E.g. :data:`TRAIN_FILES`.
    root : str or Path, optional
        Default :func:`stdlib_dir`.

    Returns
    -------
    text : str
        The files in the given order, each decoded as UTF-8 (undecodable bytes
        become U+FFFD), ``"\r\n"`` turned into ``"\n"``, and ending in a newline.
    found, missing : tuple of str
        The files read, and the files not present under ``root``.
    """
    files = _check_files("files", files)
    root = stdlib_dir() if root is None else Path(root)
    parts, found, missing = [], [], []
    for rel in files:
        path = root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
        parts.append(text if text.endswith("\n") else text + "\n")
        found.append(rel)
    return "".join(parts), tuple(found), tuple(missing)


def build_vocab(text, min_count=20) -> CharCodec:
    """The codec of ``text``'s characters seen at least ``min_count`` times (sorted), then :data:`UNK`.

    Parameters
    ----------
    text : str
        The training text (never the held-out text: the vocabulary is part
        of what is learned).
    min_count : int >= 1
        Rarer characters (a stray ``ß`` in a docstring) are read as UNK.

    Returns
    -------
    CharCodec
        ``V`` = the number of frequent characters + 1; id ``V - 1`` is UNK.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str; got {type(text).__name__} of length "
                         f"{len(text) if isinstance(text, str) else 'n/a'}")
    min_count = check_size("min_count", min_count)
    codes, counts = np.unique(_code_points(text), return_counts=True)  # sorted code points
    chars = [chr(c) for c, n in zip(codes.tolist(), counts.tolist()) if n >= min_count and chr(c) != UNK]
    return CharCodec("".join(chars) + UNK)


def encode(codec, text) -> np.ndarray:
    """``text`` (length L) -> int64 ids (L,); characters outside ``codec.vocab`` get the id of :data:`UNK`.

    ``codec`` must contain UNK (as :func:`build_vocab` makes it).
    """
    if not isinstance(codec, CharCodec):
        raise TypeError(f"codec must be a CharCodec; got {type(codec).__name__}")
    if UNK not in codec.vocab:
        raise ValueError(f"codec must contain the unknown symbol UNK ({UNK!r}); build it with build_vocab")
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    vocab = _code_points(codec.vocab)  # (V,)
    table = np.full(int(vocab.max()) + 2, codec.vocab.index(UNK), dtype=np.int64)  # code point -> id
    table[vocab] = np.arange(vocab.size)
    codes = np.minimum(_code_points(text), table.size - 1)  # (L,); beyond the table: UNK (its last entry)
    return table[codes]


def _code_points(text) -> np.ndarray:
    """The Unicode code point of each character of ``text``, uint32 (L,)."""
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)


@dataclass(frozen=True)
class StdlibCorpus:
    """The standard-library corpus of one Python, split by file (made by :func:`load_corpus`).

    Attributes
    ----------
    train_text, heldout_text : str
    codec : CharCodec
        From the training text (:func:`build_vocab`); last id is UNK.
    train_ids, heldout_ids : int64 ndarray (L_train,), (L_heldout,)
        The two texts encoded with :func:`encode`.
    python_version : str
        E.g. ``"3.11.7"``.
    root : str
        The standard-library directory read.
    train_files, heldout_files, missing : tuple of str
        Files read, and listed files this Python does not have.
    """

    train_text: str
    heldout_text: str
    codec: CharCodec
    train_ids: np.ndarray
    heldout_ids: np.ndarray
    python_version: str
    root: str
    train_files: tuple
    heldout_files: tuple
    missing: tuple

    @property
    def unk_fraction(self) -> float:
        """Fraction of held-out characters read as UNK."""
        return float(np.mean(self.heldout_ids == self.codec.V - 1))

    def summary(self) -> dict:
        """Python version, file counts, sizes in characters, V and the held-out UNK fraction."""
        return {"python": self.python_version, "train_files": len(self.train_files),
                "heldout_files": len(self.heldout_files), "missing": list(self.missing),
                "train_chars": len(self.train_text), "heldout_chars": len(self.heldout_text),
                "V": self.codec.V, "heldout_unk_fraction": self.unk_fraction}

    def __repr__(self):
        s = self.summary()
        return (f"StdlibCorpus(python={s['python']}, train={s['train_chars']} chars in "
                f"{s['train_files']} files, heldout={s['heldout_chars']} chars in "
                f"{s['heldout_files']} files, V={s['V']}, missing={s['missing']})")


def load_corpus(train_files=TRAIN_FILES, heldout_files=HELDOUT_FILES, *, root=None, min_count=20,
                codec=None) -> StdlibCorpus:
    """Read the corpus of the running Python, build the vocabulary, encode both parts.

    Parameters
    ----------
    train_files, heldout_files : sequence of str
        Relative paths (default :data:`TRAIN_FILES`, :data:`HELDOUT_FILES`);
        they must not overlap.
    root : str or Path, optional
        Default :func:`stdlib_dir`.
    min_count : int
        See :func:`build_vocab`.
    codec : CharCodec, optional
        Use this vocabulary instead of building one (e.g. the one a cached
        model was trained with on another Python); it must contain UNK.

    Returns
    -------
    StdlibCorpus
    """
    train_files = _check_files("train_files", train_files)
    heldout_files = _check_files("heldout_files", heldout_files)
    both = sorted(set(train_files) & set(heldout_files))
    if both:
        raise ValueError(f"train_files and heldout_files must not overlap; both list {both}")
    root = stdlib_dir() if root is None else Path(root)
    train_text, train_found, miss_train = read_files(train_files, root)
    heldout_text, held_found, miss_held = read_files(heldout_files, root)
    if not train_text or not heldout_text:
        raise FileNotFoundError(f"no {'training' if not train_text else 'held-out'} file found under {root}")
    if codec is None:
        codec = build_vocab(train_text, min_count)
    return StdlibCorpus(train_text=train_text, heldout_text=heldout_text, codec=codec,
                        train_ids=encode(codec, train_text), heldout_ids=encode(codec, heldout_text),
                        python_version=platform.python_version(), root=str(root),
                        train_files=train_found, heldout_files=held_found, missing=miss_train + miss_held)


__all__ = ["UNK", "TRAIN_FILES", "HELDOUT_FILES", "stdlib_dir", "read_files", "build_vocab", "encode",
           "StdlibCorpus", "load_corpus"]
