"""Chapter 7's data, model and measurement helpers: rnnlib.data.padded, rnnlib.training.tokens,
rnnlib.experiments.deeper (the parts the chapter and benchmarks/deeper.json rely on)."""

import numpy as np
import pytest

from rnnlib import check_grads, numerical_gradient, rel_error
from rnnlib.data import padded
from rnnlib.experiments import deeper
from rnnlib.training.tokens import TokenModel, evaluate, fit, masked_xent


def test_last_symbol_task_and_its_causal_baseline():
    rng = np.random.default_rng(0)
    ids, lengths, y = padded.last_symbol_task(5000, 12, rng, n_symbols=8)
    assert ids.shape == y.shape == (5000, 12) and lengths.min() >= 2 and lengths.max() <= 12
    real = np.arange(12)[None] < lengths[:, None]
    assert np.all(ids[~real] == 0) and np.all((ids[real] >= 1) & (ids[real] <= 8))
    last = ids[np.arange(5000), lengths - 1] - 1
    assert np.all(y == np.where(real, last[:, None], 0))
    # Monte Carlo of the optimal causal predictor agrees with the closed form
    t = np.arange(12)[None]
    h = np.where(t + 1 >= 2, 1 / (12 - t), 0.0)
    same = ids - 1 == y
    loss = np.where(same, -np.log(h + (1 - h) / 8), -np.log(np.maximum((1 - h) / 8, 1e-300)))
    assert abs(loss[real].mean() - padded.causal_baseline(12, 8, 2)) < 0.01
    assert padded.causal_baseline(1, 8, 1) == 0.0  # a single step: the model has read the tag
    assert 0 < padded.causal_baseline(12, 8, 2) < np.log(8)
    with pytest.raises(ValueError, match=r"min_len must be in \[1, T\] = \[1, 4\]; got 5"):
        padded.causal_baseline(4, 8, 5)


def test_pad_and_text_windows():
    ids, lengths = padded.pad([[3, 4, 5], [6]], T=4)
    np.testing.assert_array_equal(ids, [[3, 4, 5, 0], [6, 0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])
    with pytest.raises(ValueError, match="shorter than the longest"):
        padded.pad([[1, 2, 3]], T=2)
    text = np.arange(50)
    x, y = padded.text_windows(text, 8)(4, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and np.all(y == x + 1)


def test_masked_xent_ignores_padding_and_its_gradient():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 4, 5))
    y = rng.integers(0, 5, (3, 4))
    lengths = np.array([4, 1, 2])
    loss, d = masked_xent(logits, y, lengths)
    assert np.all(d[1, 1:] == 0) and np.all(d[2, 2:] == 0)
    num = numerical_gradient(lambda _: masked_xent(logits, y, lengths)[0], logits, h=1e-6)
    assert rel_error(d, num) < 1e-7
    logits2 = logits.copy()
    logits2[1, 1:] = 100.0  # padding logits do not matter
    assert masked_xent(logits2, y, lengths)[0] == loss


@pytest.mark.parametrize("B, L, use_lengths", [(True, 2, True), (False, 1, False)])
def test_token_model_backward_matches_finite_differences(B, L, use_lengths):
    model = TokenModel(6, 3, 4, 5, kind="gru", num_layers=L, bidirectional=B, seed=2)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 6, (3, 5))
    y = rng.integers(0, 5, (3, 5))
    lengths = np.array([5, 1, 3]) if use_lengths else None
    f = lambda _: masked_xent(model.forward(ids, lengths), y, lengths)[0]  # noqa: E731
    model.zero_grad()
    _, d = masked_xent(model.forward(ids, lengths), y, lengths)
    model.backward(d)
    grads = {k: g.copy() for k, g in model.grads.items()}
    assert grads.keys() == model.params.keys() and "emb.W" in grads and "out.b" in grads
    for k, p in model.params.items():  # random directions: every entry of the stack is too slow
        assert check_grads(f, p, grads[k], rng=np.random.default_rng(4), n_directions=2) < 1e-6, k
    assert model.n_params == deeper.n_params_model("gru", 6, 3, 4, 5, L, B)


def test_fit_learns_the_task_with_both_directions():
    model = TokenModel(9, 8, 16, 8, kind="gru", bidirectional=True, seed=0)
    held = [tuple(np.array(a) for a in (lambda i, ell, y: (i, y, ell))(
        *padded.last_symbol_task(64, 8, np.random.default_rng(5))))]
    before = evaluate(model, held)

    def batch(rng):
        ids, lengths, y = padded.last_symbol_task(32, 8, rng)
        return ids, y, lengths

    hist = fit(model, batch, 60, lr=1e-2, seed=1, held_out=held, every=30)
    assert hist["step"] == [30, 60] and len(hist["held_out"]) == 2
    assert hist["held_out"][-1] < 0.5 * before and model.rnn.training  # fit leaves training mode on


def test_budget_padding_effect_and_windows():
    H = deeper.hidden_for_budget("lstm", 23, 16, 23, 22599, num_layers=2)
    assert deeper.n_params_model("lstm", 23, 16, H, 23, 2) <= 22599 < deeper.n_params_model(
        "lstm", 23, 16, H + 1, 23, 2)
    rows = deeper.padding_effect(n_pad=(0, 3))
    assert rows[0]["without_lengths"] == 0 and rows[1]["without_lengths"] > 1e-3
    assert all(r["with_lengths"] == 0 for r in rows)
    batches = deeper.held_windows(np.arange(300), 10)
    x, y, ell = batches[0]
    assert x.shape == (29, 10) and ell is None and np.all(y == x + 1)
    train, held, codec, entropy = deeper.toy_data(20, n_held_lines=10)
    assert train.max() < codec.V and 0.5 < entropy < 3


def test_load_results_reads_the_committed_measurements():
    res = deeper.load_results()
    assert {"depth", "dropout", "bidir", "settings"} <= set(res)
    assert len(res["depth"]) == 3 * res["settings"]["seeds"]
    assert all(r["n_params"] <= r["budget"] for r in res["depth"])
