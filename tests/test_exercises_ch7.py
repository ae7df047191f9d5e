"""Chapter 7 exercise checks: the issue's required mistakes are catalogued and named, hand-typed
answers (right and wrong) get the right status, and the references agree with rnnlib."""

import numpy as np
import pytest

import rnnlib
from rnnlib.exercises import ch7
from rnnlib.experiments.deeper import n_params_model


def test_required_mistakes_are_catalogued():
    ids = {k: {m.id for m in ex.mistakes} for k, ex in ch7.EXERCISES.items()}
    assert {"wrong-order", "not-reversed-back"} <= ids["bidirectional"]
    assert "output-masked-state-not" in ids["masked_rnn"]
    assert "on-at-eval" in ids["dropout"]
    assert "assign-not-accumulate" in ids["embedding_grad"]


def test_references_agree_with_rnnlib():
    # masked forward = rnnlib's RNN with lengths
    x, lengths, W_xh, W_hh, b_h = ch7.masked_rnn_cases(np.random.default_rng(0))[0]
    layer = rnnlib.RNN(*W_xh.shape).set_params({"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    hs, h = layer.forward(x, lengths=lengths)
    ref_hs, ref_h = ch7.masked_rnn_reference(x, lengths, W_xh, W_hh, b_h)
    np.testing.assert_allclose(hs, ref_hs, atol=1e-14)
    np.testing.assert_allclose(h, ref_h, atol=1e-14)
    # the torch count is rnnlib's plus one more bias per layer and direction
    for kind, D, H, L, B in ch7.n_params_cases(None):
        dirs = 2 if B else 1
        rnnlib_count = n_params_model(kind, 1, D, H, 1, L, B) - D - (dirs * H + 1)  # minus emb, readout
        extra_b = L * dirs * {"rnn": 1, "lstm": 4, "gru": 3}[kind] * H
        extra_b -= L * dirs * H if kind == "gru" else 0  # rnnlib's GRU already has b_hn
        assert ch7.n_params_reference(kind, D, H, L, B) == rnnlib_count + extra_b
    # the embedding gradient = rnnlib.Embedding's
    ids, de, V, pad = ch7.embedding_grad_cases(np.random.default_rng(1))[0]
    emb = rnnlib.Embedding(V, de.shape[-1], padding_idx=pad)
    emb.forward(ids)
    emb.backward(de)
    np.testing.assert_allclose(emb.grads["W"], ch7.embedding_grad_reference(ids, de, V, pad), atol=1e-15)


def test_hand_typed_answers():
    def bidi(x, f, b):
        return np.concatenate([f(x), np.flip(b(np.flip(x, 1)), 1)], -1)

    assert ch7.check_bidirectional(bidi).passed

    def bidi_wrong(x, f, b):  # an uncatalogued slip: the backward direction dropped
        return np.concatenate([f(x), f(x)], -1)

    r = ch7.check_bidirectional(bidi_wrong)
    assert r.status == "mismatch" and "Hint" in r.message

    def dropout_eval_on(h, p, u, training):  # the classic: the mask is applied whatever the mode
        return h * (u < 1 - p) / (1 - p)

    r = ch7.check_dropout(dropout_eval_on)
    assert r.mistake == "on-at-eval" and "evaluation" in r.message

    def emb_assign(ids, de, V, padding_idx):
        dW = np.zeros((V, de.shape[-1]))
        dW[ids.ravel()] = de.reshape(-1, de.shape[-1])
        if padding_idx is not None:
            dW[padding_idx] = 0
        return dW

    assert ch7.check_embedding_grad(emb_assign).mistake == "assign-not-accumulate"
    r = ch7.check_n_params(lambda *a: "many")
    assert not r.passed and r.status in ("wrong-type", "mismatch")


@pytest.mark.parametrize("key", list(ch7.EXERCISES))
def test_raising_and_non_callable_answers_get_a_message(key):
    check = getattr(ch7, f"check_{key}")

    def broken(*args):
        raise RuntimeError("oops")

    assert check(broken).status == "raised"
    assert check(42).status == "wrong-type"
