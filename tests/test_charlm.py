"""rnnlib.training.charlm: batches, temperature sampling, bits per character, n-gram baselines, well-formed lines."""

import numpy as np
import pytest

import rnnlib
import rnnlib.training.loop
from rnnlib.training import charlm
from rnnlib.data import toy_language as tl
from rnnlib.training.model import SequenceModel, loss_and_grad

CODEC = tl.CharCodec(tl.ToyLanguage().alphabet)
V = CODEC.V
TEXT = tl.generate(60, np.random.default_rng(0)).text
IDS = CODEC.encode("\n" + TEXT)


def _model(kind="lstm", H=8, seed=0, dtype=np.float64):
    return SequenceModel(kind, V, H, V, mode="many_to_many", seed=seed, dtype=dtype)


# --- data --------------------------------------------------------------------
def test_one_hot():
    x = charlm.one_hot(np.array([[2, 0], [1, 1]]), 3)
    assert x.shape == (2, 2, 3) and x.dtype == np.float64
    np.testing.assert_array_equal(x[0, 0], [0, 0, 1])
    np.testing.assert_array_equal(x.sum(-1), 1)
    assert charlm.one_hot([1], 3, np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        charlm.one_hot([3], 3)
    with pytest.raises(TypeError, match="integers"):
        charlm.one_hot([0.0], 3)


def test_window_task_windows_start_at_newlines_and_targets_are_shifted():
    task = charlm.window_task(IDS, V, 16, start_id=0)
    x, y = task(50, np.random.default_rng(0))
    assert x.shape == (50, 16, V) and y.shape == (50, 16) and y.dtype.kind == "i"
    inputs = np.argmax(x, axis=-1)  # (N, T)
    assert np.all(inputs[:, 0] == 0)  # every window starts at a newline
    np.testing.assert_array_equal(inputs[:, 1:], y[:, :-1])  # target t is input t + 1
    text = CODEC.decode(IDS)
    for row_x, row_y in zip(inputs[:5], y[:5]):
        window = CODEC.decode(row_x) + CODEC.decode(row_y[-1:])
        assert window in text
    x2, y2 = task(50, np.random.default_rng(0))
    np.testing.assert_array_equal(y, y2)
    x_any, _ = charlm.window_task(IDS, V, 16, dtype=np.float32)(400, np.random.default_rng(1))
    assert x_any.dtype == np.float32 and np.any(np.argmax(x_any[:, 0], -1) != 0)


def test_window_task_feeds_train():
    model = _model("gru", H=6)
    task = charlm.window_task(IDS, V, 12, start_id=0)
    cfg = rnnlib.training.loop.TrainConfig(steps=30, batch_size=8, lr=0.02, eval_every=30, eval_size=32, loss="xent",
                                      probe_size=0)
    hist = rnnlib.training.loop.train(model, task, cfg)
    assert hist.eval_loss[-1] < hist.eval_loss[0] - 0.5  # it learns the character frequencies at least


def test_window_task_rejects_bad_input():
    with pytest.raises(ValueError, match="T \\+ 1"):
        charlm.window_task(IDS[:5], V, 8)
    with pytest.raises(ValueError, match="start_id"):
        charlm.window_task(np.ones(50, dtype=int), V, 8, start_id=0)
    with pytest.raises(ValueError, match="1-D integer"):
        charlm.window_task(IDS.astype(float), V, 8)


# --- sampling ----------------------------------------------------------------
def test_temperature_probs():
    a = np.array([[1.0, 2.0, 0.5, -1.0]])
    np.testing.assert_allclose(charlm.temperature_probs(a, 1.0), rnnlib.softmax(a, axis=-1))
    cold, hot = charlm.temperature_probs(a, 0.3), charlm.temperature_probs(a, 5.0)
    np.testing.assert_allclose(cold.sum(-1), 1.0)
    assert cold.max() > rnnlib.softmax(a, axis=-1).max() > hot.max() > 0.25
    p = rnnlib.softmax(a, axis=-1)  # p(T) is p**(1/T) renormalised
    np.testing.assert_allclose(charlm.temperature_probs(a, 0.5), p**2 / np.sum(p**2), rtol=1e-12)
    with pytest.raises(ValueError, match="greedy"):
        charlm.temperature_probs(a, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        charlm.temperature_probs(a, -1.0)


def test_sample_from_logits_frequencies_match_the_distribution():
    a = np.array([0.2, 1.5, -0.3, 0.9])
    M = 20000
    for temperature in (0.5, 1.0, 2.0):
        ids = charlm.sample_from_logits(np.tile(a, (M, 1)), temperature, np.random.default_rng(0))
        assert ids.shape == (M,) and ids.dtype == np.int64
        freq = np.bincount(ids, minlength=4) / M
        p = charlm.temperature_probs(a, temperature)
        assert np.max(np.abs(freq - p)) < 0.015, (temperature, freq, p)


def test_sample_from_logits_greedy_seeded_and_one_draw_per_call():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((7, 5))
    np.testing.assert_array_equal(charlm.sample_from_logits(a, 0.0, rng), np.argmax(a, axis=1))
    d1 = charlm.sample_from_logits(a, 1.0, np.random.default_rng(1))
    d2 = charlm.sample_from_logits(a, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(d1, d2)
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    charlm.sample_from_logits(a, 0.7, r1)
    r2.random(7)
    assert r1.random() == r2.random()  # exactly one rng.random(N) call
    huge = np.array([[1000.0, -1000.0, 999.0]])  # no overflow, no NaN
    assert charlm.sample_from_logits(huge, 1.0, np.random.default_rng(0))[0] in (0, 2)
    with pytest.raises(ValueError, match=r"\(N, V\)"):
        charlm.sample_from_logits(a[0], 1.0, rng)
    with pytest.raises(TypeError, match="Generator"):
        charlm.sample_from_logits(a, 1.0, 0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sample_text_carries_the_state_like_a_full_forward(kind):
    model = _model(kind, seed=2)
    texts = charlm.sample_text(model, CODEC, 30, np.random.default_rng(0), temperature=0.0, n=2)
    assert len(texts) == 2 and all(len(t) == 30 for t in texts)
    # greedy: each character is the argmax of the logits of a full forward over what came before
    ids = CODEC.encode("\n" + texts[0])
    logits = model.forward(charlm.one_hot(ids[:-1], V)[None])[0]  # (30, V)
    np.testing.assert_array_equal(np.argmax(logits, axis=-1), ids[1:])
    assert texts[0] == texts[1]  # greedy draws no randomness


def test_sample_text_is_seeded_and_uses_the_prime():
    model = _model("lstm", seed=1)
    a = charlm.sample_text(model, CODEC, 40, np.random.default_rng(5), n=3)
    b = charlm.sample_text(model, CODEC, 40, np.random.default_rng(5), n=3)
    c = charlm.sample_text(model, CODEC, 40, np.random.default_rng(6), n=3)
    assert a == b and a != c and len(set(a)) == 3
    assert set("".join(a)) <= set(CODEC.vocab)
    greedy = charlm.sample_text(model, CODEC, 10, np.random.default_rng(0), temperature=0.0, prime="(a")[0]
    ids = CODEC.encode("(a" + greedy)
    logits = model.forward(charlm.one_hot(ids[:-1], V)[None])[0]  # (11, V)
    np.testing.assert_array_equal(np.argmax(logits[1:], axis=-1), ids[2:])
    m32 = _model("gru", dtype=np.float32)
    assert len(charlm.sample_text(m32, CODEC, 5, np.random.default_rng(0))[0]) == 5


def test_sample_text_rejects_bad_input():
    model = _model()
    with pytest.raises(TypeError, match="many_to_many"):
        charlm.sample_text(SequenceModel("lstm", V, 4, V, mode="many_to_one"), CODEC, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="prime"):
        charlm.sample_text(model, CODEC, 5, np.random.default_rng(0), prime="")
    with pytest.raises(ValueError, match="V=3"):
        charlm.sample_text(model, tl.CharCodec("ab\n"), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="same V"):
        charlm.sample_text(SequenceModel("lstm", V, 4, 5, mode="many_to_many"), CODEC, 5,
                           np.random.default_rng(0))
    with pytest.raises(TypeError, match="CharCodec"):
        charlm.sample_text(model, "abc", 5, np.random.default_rng(0))


# --- scoring -----------------------------------------------------------------
def test_bits_per_char():
    assert charlm.bits_per_char(np.log(V)) == pytest.approx(np.log2(V))
    assert charlm.bits_per_char(np.float32(np.log(2))) == pytest.approx(1.0)
    assert charlm.bits_per_char(0.0) == 0.0
    with pytest.raises(TypeError):
        charlm.bits_per_char(np.array([1.0, 2.0]))


def test_log_likelihoods_match_the_training_loss_and_do_not_depend_on_the_chunk():
    model = _model("lstm", seed=4)
    ids = IDS[:200]
    ll = charlm.log_likelihoods(model, ids)
    assert ll.shape == (199,) and np.all(ll < 0)
    np.testing.assert_allclose(charlm.log_likelihoods(model, ids, chunk=7), ll, rtol=1e-12)
    logits = model.forward(charlm.one_hot(ids[:-1], V)[None])
    loss, _ = loss_and_grad(logits, ids[1:][None], "xent")
    assert -ll.mean() == pytest.approx(loss, rel=1e-12)
    assert charlm.model_bpc(model, ids) == pytest.approx(loss / np.log(2), rel=1e-12)
    assert charlm.model_bpc(model, ids) == pytest.approx(np.log2(V), abs=0.3)  # untrained: near uniform


def test_ngram_unigram_by_hand():
    ids = CODEC.encode(TEXT)
    uni = charlm.NGramModel(1, V, k=0.5).fit(ids)
    counts = np.bincount(ids, minlength=V)
    p = (counts + 0.5) / (ids.size + 0.5 * V)
    np.testing.assert_allclose(uni.probs_given(np.zeros(3, dtype=int)), np.tile(p, (3, 1)))
    held = IDS[:300]
    assert uni.bpc(held) == pytest.approx(-np.mean(np.log2(p[held[1:]])), rel=1e-12)


def test_ngram_bigram_by_hand_and_unseen_context_is_uniform():
    codec = tl.CharCodec("abc")
    ids = codec.encode("abab" + "c")
    bi = charlm.NGramModel(2, 3, k=1.0, pad=2).fit(ids)  # contexts: c(pad) a b a b
    p = bi.probs_given(codec.encode("abc"))
    np.testing.assert_allclose(p[0], [1 / 5, 3 / 5, 1 / 5])  # after a: b twice
    np.testing.assert_allclose(p[1], [2 / 5, 1 / 5, 2 / 5])  # after b: a once, c once
    np.testing.assert_allclose(p[2], [2 / 4, 1 / 4, 1 / 4])  # after c (the pad): a once
    fresh = charlm.NGramModel(3, 3).fit(ids)
    np.testing.assert_allclose(fresh.probs_given([8]), [[1 / 3, 1 / 3, 1 / 3]])  # "cc" never seen
    np.testing.assert_allclose(bi.probs_given(np.arange(3)).sum(1), 1.0)
    ll = bi.log_likelihoods(codec.encode("abc"))
    np.testing.assert_allclose(ll, np.log([3 / 5, 2 / 5]))


def test_ngram_learns_a_deterministic_pattern_and_samples_it():
    codec = tl.CharCodec("abc\n")
    ids = codec.encode("abc\n" * 50)
    tri = charlm.NGramModel(3, codec.V, k=1e-3, pad=codec.encode("\n")[0]).fit(ids)
    assert tri.bpc(ids) < 0.05
    text = tri.sample_text(codec, 12, np.random.default_rng(0), temperature=0.0)[0]
    assert text == "abc\n" * 3
    again = tri.sample_text(codec, 12, np.random.default_rng(0), n=2)
    assert again == tri.sample_text(codec, 12, np.random.default_rng(0), n=2) and len(again) == 2


def test_longer_history_fits_the_toy_language_better():
    ids = CODEC.encode(tl.generate(1500, np.random.default_rng(0)).text)
    held = CODEC.encode("\n" + tl.generate(100, np.random.default_rng(1)).text)
    bpc = [charlm.NGramModel(n, V, k=0.1).fit(ids).bpc(held) for n in (1, 2, 3)]
    assert bpc[0] > bpc[1] > bpc[2]
    assert bpc[0] < np.log2(V)
    uni = charlm.NGramModel(1, V).fit(ids)
    s = uni.sample_text(CODEC, 50, np.random.default_rng(0), n=2)
    assert len(s) == 2 and all(len(t) == 50 for t in s)


def test_ngram_rejects_bad_input():
    with pytest.raises(ValueError, match="k must"):
        charlm.NGramModel(2, V, k=0)
    with pytest.raises(ValueError, match="pad"):
        charlm.NGramModel(2, V, pad=V)
    with pytest.raises(RuntimeError, match="before fit"):
        charlm.NGramModel(2, V).probs_given([0])
    with pytest.raises(RuntimeError, match="before fit"):
        charlm.NGramModel(2, V).sample_text(CODEC, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        charlm.NGramModel(2, 3).fit(np.array([0, 5]))
    with pytest.raises(ValueError, match="V=3"):
        charlm.NGramModel(1, 3).fit(np.array([0, 1])).sample_text(CODEC, 3, np.random.default_rng(0))
    assert "n=2" in repr(charlm.NGramModel(2, V))
