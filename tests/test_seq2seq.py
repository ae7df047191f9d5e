"""Encoder-decoder models, decoding and training (rnnlib.training.seq2seq, decode, seq2seq_train).

The loss gradient of every model is finite-difference checked end to end in
float64, for every parameter of the encoder (reached only through the decoder)
and of the decoder, attention and readout: < 1e-5 relative (random
directions for most, full numerical gradients of the encoder's W_h and the
attention's W_k). The weights are
scaled up 4x so that every gradient is well above the finite-difference noise
(at the default init the attention's gradients are ~1e-6 and the check would
measure round-off).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlib.data.addition import AdditionCodec, make_problems, split_problems
from rnnlib.gradcheck import check_grads, numerical_gradient, rel_error
from rnnlib.training.decode import beam_search, exact_match, greedy_decode, per_digit_accuracy
from rnnlib.training.seq2seq import EncoderDecoder, RepeatVector, masked_cross_entropy, one_hot
from rnnlib.training.seq2seq_train import evaluate, exposure_bias, teacher_forced_accuracy, train_seq2seq

FD_RTOL = 1e-5  # a right gradient: <= ~1e-6 (round-off, when a random direction's derivative is small);
# a wrong one (a missing path, a wrong sign): O(1)


def _batch(digits=2, n=4, reverse=True, seed=0):
    codec = AdditionCodec(digits, reverse=reverse)
    return codec, codec.encode(make_problems(n, digits, np.random.default_rng(seed)))


def _fd_check(model, batch, full=()):
    """Relative errors per parameter: random-direction checks, full numerical gradients for ``full``."""
    for p in model.params.values():
        p *= 4.0
    model.zero_grad()
    model.loss_and_grads(batch)
    errors = {}
    for name, p in model.params.items():
        assert np.abs(model.grads[name]).max() > 1e-4, name  # the check measures a real gradient
        if name in full:
            errors[name] = rel_error(numerical_gradient(lambda _: model.loss(batch), p), model.grads[name])
        else:
            errors[name] = check_grads(lambda _: model.loss(batch), p, model.grads[name],
                                       rng=np.random.default_rng(0), n_directions=4)
    return errors


@pytest.mark.parametrize("cell,attention", [("lstm", True), ("gru", True), ("rnn", True), ("lstm", False),
                                            ("gru", False)])
def test_encoder_decoder_gradient_matches_finite_differences(cell, attention):
    codec, batch = _batch(reverse=cell != "gru")
    full = ("encoder.W_h", "attention.W_k") if cell == "lstm" and attention else ()
    errors = _fd_check(EncoderDecoder(codec, 5, cell=cell, attention=attention, attn_size=4, seed=1), batch,
                       full)
    assert max(errors.values()) < FD_RTOL, errors
    assert {n.split(".")[0] for n in errors} >= {"encoder", "decoder", "out"}


def test_repeat_vector_gradient_matches_finite_differences():
    codec, batch = _batch(n=3)
    errors = _fd_check(RepeatVector(codec, 5, seed=2), batch)
    assert max(errors.values()) < FD_RTOL, errors


def test_masked_cross_entropy_ignores_padding_and_its_gradient_is_right():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((3, 4, 5)), rng.integers(0, 5, (3, 4))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    loss, d = masked_cross_entropy(logits, labels, mask)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert loss == pytest.approx(-np.mean([logp[n, t, labels[n, t]] for n, t in zip(*np.nonzero(mask))]))
    assert np.all(d[~mask] == 0)
    num = numerical_gradient(lambda x: masked_cross_entropy(x, labels, mask)[0], logits)
    assert rel_error(num, d) < 1e-8
    labels2 = labels.copy()
    labels2[~mask] = (labels2[~mask] + 1) % 5  # labels under the mask do not matter
    assert masked_cross_entropy(logits, labels2, mask)[0] == loss
    assert one_hot(np.array([[2]]), 4).tolist() == [[[0, 0, 1, 0]]]


def test_models_reject_bad_batches():
    codec, batch = _batch()
    model = EncoderDecoder(codec, 4)
    with pytest.raises(ValueError, match="empty batch"):
        model.encode(np.zeros((0, 5), np.int64), np.zeros((0, 5), bool))
    with pytest.raises(ValueError, match="at most 5 characters"):
        model.encode(np.zeros((2, 7), np.int64), np.ones((2, 7), bool))
    with pytest.raises(ValueError, match="ids must lie in"):
        model.encode(np.full((1, 5), 14), np.ones((1, 5), bool))
    with pytest.raises(TypeError, match="Batch"):
        model.loss((batch.src, batch.src_mask))
    with pytest.raises(ValueError, match="cell must be one of"):
        EncoderDecoder(codec, 4, cell="transformer")
    with pytest.raises(TypeError, match="AdditionCodec"):
        RepeatVector("0123456789", 4)


def test_greedy_decoding_feeds_back_its_own_argmax():
    codec, batch = _batch(n=6, seed=3)
    model = EncoderDecoder(codec, 8, attention=True, seed=4)
    ids, alphas = greedy_decode(model, batch.src, batch.src_mask)
    assert alphas.shape == (6, ids.shape[1], codec.src_len)
    np.testing.assert_allclose(alphas.sum(-1), 1.0, rtol=1e-12)
    assert np.all(alphas[~np.broadcast_to(batch.src_mask[:, None, :], alphas.shape)] == 0)
    # re-run with teacher forcing on the greedy output: argmax must reproduce it step by step
    for n in range(6):
        enc_hs, state = model.encode(batch.src[n:n + 1], batch.src_mask[n:n + 1])
        tok = codec.start_id
        for t in range(ids.shape[1]):
            logp, state, _ = model.step(np.array([tok]), state, enc_hs, batch.src_mask[n:n + 1])
            tok = int(logp.argmax())
            assert ids[n, t] == tok
            if tok == codec.end_id:
                break
    assert model.predict(batch) == [codec.decode_answer(r) for r in ids]
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(model, batch.src, batch.src_mask, max_len=0)


def _sequence_logprob(model, codec, src, mask, symbols):
    enc_hs, state = model.encode(src[None], mask[None])
    tok, total = codec.start_id, 0.0
    for s in symbols:
        logp, state, _ = model.step(np.array([tok]), state, enc_hs, mask[None])
        total += float(logp[0, s])
        tok = s
    return total


def test_beam_search_returns_k_best_with_their_log_probabilities():
    codec, batch = _batch(n=3, seed=5)
    model = EncoderDecoder(codec, 8, attention=True, seed=6)
    for p in model.params.values():
        p *= 3.0  # a peaked model, so that beams differ
    for n in range(3):
        best = beam_search(model, batch.src[n], batch.src_mask[n], k=4)
        assert len(best) == 4
        scores = [s for _, s in best]
        assert scores == sorted(scores, reverse=True)
        for text, score in best[:1]:
            syms = list(codec.chars.encode(text)) + [codec.end_id]
            if len(syms) <= codec.tgt_len:
                assert score == pytest.approx(_sequence_logprob(model, codec, batch.src[n], batch.src_mask[n],
                                                                syms), abs=1e-9)
        greedy_ids, _ = greedy_decode(model, batch.src[n:n + 1], batch.src_mask[n:n + 1])
        one = beam_search(model, batch.src[n], batch.src_mask[n], k=1)
        assert one[0][0] == codec.decode_answer(greedy_ids[0])  # width 1 is greedy search
        assert best[0][1] >= one[0][1] - 1e-12  # a wider beam never finds a worse best
    long = beam_search(model, batch.src[0], batch.src_mask[0], k=2, length_penalty=1.0)
    assert len(long) == 2


def test_beam_search_rejects_bad_width():
    codec, batch = _batch(n=1)
    model = EncoderDecoder(codec, 4)
    with pytest.raises(ValueError, match="at least 1; got 0"):
        beam_search(model, batch.src[0], batch.src_mask[0], k=0)
    with pytest.raises(TypeError, match="beam width"):
        beam_search(model, batch.src[0], batch.src_mask[0], k=2.5)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(model, batch.src[0], batch.src_mask[0], k=2, length_penalty=-1)


def test_accuracies():
    assert exact_match(["596", "12", "7"], ["596", "13", "7"]) == pytest.approx(2 / 3)
    assert per_digit_accuracy(["596"], ["1596"]) == pytest.approx(3 / 4)
    assert per_digit_accuracy(["590", "12"], ["596", "12"]) == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="equal length"):
        exact_match(["1"], [])


def test_training_learns_one_digit_sums():
    codec = AdditionCodec(1, reverse=True)
    train, held = split_problems(make_problems(55, 1, np.random.default_rng(0)), 5)
    tr, he = codec.encode(train), codec.encode(held)
    model = EncoderDecoder(codec, 24, attention=True, seed=0)
    before = evaluate(model, tr)
    seen = []
    hist = train_seq2seq(model, tr, he, epochs=40, batch_size=10, lr=1e-2, lr_decay=1.0,
                         log=lambda h: seen.append(h["epoch"][-1]))
    after = evaluate(model, tr)
    assert before["exact"] < 0.2 and after["exact"] > 0.5, (before, after)
    assert hist["loss"][-1] < hist["loss"][0] / 3
    assert seen == hist["epoch"] and hist["seconds"] == sorted(hist["seconds"])
    tf = teacher_forced_accuracy(model, tr)
    assert tf["symbol"] >= after["per_digit"] - 0.1 and 0 <= tf["exact"] <= 1
    bias = exposure_bias(model, tr)
    assert bias["exact"] == pytest.approx(after["exact"])  # same first error, same exact match
    assert bias["tf_symbol"] == pytest.approx(tf["symbol"])
    assert bias["n_after_error"] > 0 and 0 <= bias["free_after_error"] <= 1
    with pytest.raises(ValueError, match="epochs"):
        train_seq2seq(model, tr, he, epochs=0)


def test_training_stops_after_target_and_time_limit():
    codec = AdditionCodec(1)
    tr, he = (codec.encode(p) for p in split_problems(make_problems(20, 1, np.random.default_rng(1)), 4))
    model = RepeatVector(codec, 8)
    hist = train_seq2seq(model, tr, he, epochs=5, target=0.0, extra_epochs=1)
    assert hist["reached"] == 1 and hist["epoch"] == [1, 2]
    hist = train_seq2seq(model, tr, he, epochs=5, time_limit=0.0)
    assert hist["epoch"] == [1]
