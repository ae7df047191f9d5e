"""rnnlib.data.stdlib_corpus: the standard-library corpus, split by file, vocabulary with UNK."""

import numpy as np
import pytest

from rnnlib.data import stdlib_corpus as sc
from rnnlib.data.toy_language import CharCodec


@pytest.fixture(scope="module")
def corpus():
    return sc.load_corpus()


def test_file_lists_are_disjoint_and_present_in_the_running_python(corpus):
    assert not set(sc.TRAIN_FILES) & set(sc.HELDOUT_FILES)
    assert corpus.missing == ()  # every listed file exists in CPython 3.11-3.13
    assert corpus.train_files == sc.TRAIN_FILES and corpus.heldout_files == sc.HELDOUT_FILES


def test_corpus_is_the_files_read_at_run_time(corpus):
    root = sc.stdlib_dir()
    first = (root / sc.HELDOUT_FILES[0]).read_text(encoding="utf-8")
    assert corpus.heldout_text.startswith(first)
    assert len(corpus.train_text) > 2_000_000 and 100_000 < len(corpus.heldout_text) < 400_000
    s = corpus.summary()
    assert s["train_chars"] == len(corpus.train_text) and s["python"].count(".") == 2
    assert corpus.train_ids.shape == (len(corpus.train_text),)
    assert corpus.codec.decode(corpus.train_ids[:500]) == corpus.train_text[:500]
    assert 0 <= corpus.unk_fraction < 1e-3
    assert "StdlibCorpus(python=" in repr(corpus)


def test_vocab_from_training_text_with_unk():
    codec = sc.build_vocab("aabb\nccc\n" + "z", min_count=2)
    assert codec.vocab == "\nabc" + sc.UNK  # z (once) is too rare; UNK last
    ids = sc.encode(codec, "abzq\n")
    np.testing.assert_array_equal(ids, [1, 2, 4, 4, 0])
    with pytest.raises(ValueError, match="UNK"):
        sc.encode(CharCodec("ab"), "a")
    with pytest.raises(TypeError, match="codec"):
        sc.encode("ab", "a")
    with pytest.raises(ValueError, match="non-empty"):
        sc.build_vocab("")


def test_read_files_reports_missing_and_normalises(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\r\ny = '\xff'")
    text, found, missing = sc.read_files(["a.py", "nope.py"], root=tmp_path)
    assert text == "x = 1\ny = '\ufffd'\n" and found == ("a.py",) and missing == ("nope.py",)
    with pytest.raises(TypeError, match="relative paths"):
        sc.read_files("a.py", root=tmp_path)


def test_load_corpus_checks_and_given_codec(tmp_path):
    (tmp_path / "t.py").write_text("aaaa bbbb\n" * 5)
    (tmp_path / "h.py").write_text("ab c\n")
    c = sc.load_corpus(["t.py"], ["h.py"], root=tmp_path, min_count=1)
    assert c.codec.vocab == "\n ab" + sc.UNK
    assert c.codec.decode(c.heldout_ids) == "ab " + sc.UNK + "\n"  # 'c' is not in the training part
    c2 = sc.load_corpus(["t.py"], ["h.py"], root=tmp_path, codec=CharCodec("ab" + sc.UNK))
    assert c2.codec.V == 3
    with pytest.raises(ValueError, match="overlap"):
        sc.load_corpus(["t.py"], ["t.py"], root=tmp_path)
    with pytest.raises(FileNotFoundError):
        sc.load_corpus(["x.py"], ["h.py"], root=tmp_path)
