"""Stacked, bidirectional, padded and dropout runs (rnnlib.stacked) and Embedding, without torch.

Finite differences (float64) for every quantity of the stacked, bidirectional
and masked paths on random sizes (N = T = 1 included, lengths that hit 1 and
T); padded runs against each sequence run alone; dropout with its mask held
fixed (by re-seeding the layer's own generator) and its statistics; the
embedding's scatter-add gradient; state-dict round trips; bad input. The
torch comparison is in tests/test_stacked_torch.py.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import rnnlib
from rnnlib import GRU, LSTM, RNN, Embedding, numerical_gradient, rel_error

# Centred differences (step 1e-5) agree with a correct float64 backward to ~1e-9
# relative; a wrong term (a missed reversal, a mask applied on one side only)
# gives O(1e-2..1).
GRAD_RTOL = 1e-7
FD_STEP = 1e-5
CLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _rng(*parts):
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def _flat(s):
    return list(s) if isinstance(s, tuple) else [s]


def _problem(kind, L, B, N, T, D, H, use_lengths, seed):
    rng = _rng(kind, L, B, N, T, D, H, use_lengths, seed)
    dirs = 2 if B else 1
    layer = CLS[kind](D, H, num_layers=L, bidirectional=B, seed=seed)
    x = rng.standard_normal((N, T, D))
    ns = 2 if kind == "lstm" else 1
    s0 = [rng.standard_normal((L * dirs, N, H)) for _ in range(ns)]
    dhs = rng.standard_normal((N, T, dirs * H))
    ds = [rng.standard_normal((L * dirs, N, H)) for _ in range(ns)]
    lengths = None
    if use_lengths:
        lengths = rng.integers(1, T + 1, N)
        lengths[0] = T
        lengths[-1] = 1  # both ends of [1, T]
    pack = tuple if kind == "lstm" else (lambda a: a[0])
    return layer, x, pack(s0), dhs, pack(ds), lengths


def _loss(layer, x, state, dhs, dstate, lengths):
    hs, fin = layer.forward(x, state, lengths=lengths)
    return float(np.sum(hs * dhs) + sum(np.sum(a * b) for a, b in zip(_flat(fin), _flat(dstate))))


CASES = [  # (kind, L, B, N, T, D, H, lengths)
    ("rnn", 2, False, 3, 4, 2, 3, False), ("lstm", 2, True, 2, 3, 3, 2, False),
    ("gru", 3, True, 1, 1, 2, 2, False), ("lstm", 1, False, 1, 1, 1, 1, True),
    ("rnn", 1, True, 4, 5, 2, 2, True), ("lstm", 2, True, 4, 4, 2, 2, True),
    ("gru", 2, False, 3, 5, 3, 2, True), ("gru", 1, False, 3, 4, 2, 3, True),
]


@pytest.mark.parametrize("case", CASES, ids=["{}-L{}-B{}-N{}T{}D{}H{}-len{}".format(*c) for c in CASES])
def test_backward_matches_finite_differences(case):
    kind, L, B, N, T, D, H, use_lengths = case
    layer, x, s0, dhs, ds, lengths = _problem(kind, L, B, N, T, D, H, use_lengths, seed=1)
    layer.zero_grad()
    layer.forward(x, s0, lengths=lengths)
    dx, dstate0 = layer.backward(dhs, ds)
    f = lambda _: _loss(layer, x, s0, dhs, ds, lengths)  # noqa: E731  (reads the perturbed arrays)
    errs = {"dx": rel_error(dx, numerical_gradient(f, x, h=FD_STEP))}
    for j, (s, g) in enumerate(zip(_flat(s0), _flat(dstate0))):
        errs[f"dstate0[{j}]"] = rel_error(g, numerical_gradient(f, s, h=FD_STEP))
    for k, p in layer.params.items():
        errs[f"d{k}"] = rel_error(layer.grads[k], numerical_gradient(f, p, h=FD_STEP))
    assert len(errs) == 1 + len(_flat(s0)) + len(layer.params)
    assert max(errs.values()) < GRAD_RTOL, errs


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("B", [False, True])
def test_padded_batch_equals_each_sequence_run_alone(kind, B):
    """pack_padded_sequence semantics: outputs, final state and gradients of the real steps."""
    N, T, D, H, L = 4, 6, 3, 4, 2
    layer, x, s0, dhs, ds, lengths = _problem(kind, L, B, N, T, D, H, True, seed=2)
    hs, fin = layer.forward(x, s0, lengths=lengths)
    dx, d0 = layer.backward(dhs, ds)
    for n in range(N):
        ell = lengths[n]
        one = lambda s: s[:, n:n + 1]  # noqa: E731
        h1, f1 = layer.forward(x[n:n + 1, :ell], tuple(map(one, _flat(s0))) if kind == "lstm" else one(s0))
        dx1, d01 = layer.backward(dhs[n:n + 1, :ell], tuple(map(one, _flat(ds))) if kind == "lstm" else one(ds))
        np.testing.assert_allclose(hs[n, :ell], h1[0], rtol=0, atol=1e-14)
        assert np.all(hs[n, ell:] == 0)  # zeros after the length
        np.testing.assert_allclose(dx[n, :ell], dx1[0], rtol=0, atol=1e-13)
        assert np.all(dx[n, ell:] == 0)  # padding gets no gradient
        for a, b in zip(_flat(fin), _flat(f1)):
            np.testing.assert_allclose(a[:, n], b[:, 0], rtol=0, atol=1e-14)
        for a, b in zip(_flat(d0), _flat(d01)):
            np.testing.assert_allclose(a[:, n], b[:, 0], rtol=0, atol=1e-13)


def test_without_lengths_padding_changes_the_final_state():
    """What masking fixes: a short sequence's final state after running over its padding."""
    layer = LSTM(2, 3, seed=0)
    x = np.zeros((1, 5, 2))
    x[0, :2] = _rng("pad").standard_normal((2, 2))
    _, (h_alone, _) = layer.forward(x[:, :2])
    _, (h_padded, _) = layer.forward(x)
    _, (h_masked, _) = layer.forward(x, lengths=np.array([2]))
    assert np.abs(h_padded - h_alone).max() > 1e-3
    np.testing.assert_array_equal(h_masked, h_alone)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_plain_layer_unchanged_and_its_state_forms(kind):
    N, T, D, H = 3, 5, 2, 4
    rng = _rng("plain", kind)
    x = rng.standard_normal((N, T, D))
    ref = CLS[kind](D, H, seed=3)
    new = CLS[kind](D, H, seed=3, num_layers=1, bidirectional=False, dropout=0.0)
    for k in ref.params:
        np.testing.assert_array_equal(ref.params[k], new.params[k])
    hs, fin = ref.forward(x)
    hs2, fin2 = new.forward(x, lengths=np.full(N, T))  # the masked path, one segment
    np.testing.assert_array_equal(hs, hs2)
    assert all(a.shape == (N, H) for a in _flat(fin2))
    s3 = tuple(s[None] for s in _flat(fin)) if kind == "lstm" else fin[None]  # (1, N, H) torch form
    hs3, fin3 = new.forward(x, s3)
    assert all(a.shape == (1, N, H) for a in _flat(fin3))
    hs4, fin4 = ref.forward(x, fin)
    np.testing.assert_allclose(hs3, hs4, rtol=1e-15, atol=0)
    d0 = new.backward(np.ones_like(hs3))[1]
    assert all(a.shape == (1, N, H) for a in _flat(d0))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_default_state_of_a_stack_is_zeros_in_torch_form(kind):
    layer = CLS[kind](2, 3, num_layers=2, bidirectional=True, seed=0)
    x = _rng("zeros", kind).standard_normal((4, 5, 2))
    hs, fin = layer.forward(x)
    zeros = tuple(np.zeros((4, 4, 3)) for _ in _flat(fin))
    hs0, fin0 = layer.forward(x, zeros if kind == "lstm" else zeros[0])
    assert all(a.shape == (4, 4, 3) for a in _flat(fin))
    np.testing.assert_array_equal(hs, hs0)
    for a, b in zip(_flat(fin), _flat(fin0)):
        np.testing.assert_array_equal(a, b)
    dx, d0 = layer.backward(np.ones_like(hs))
    assert all(a.shape == (4, 4, 3) for a in _flat(d0))


def test_stack_layout_seeding_and_parameter_count():
    D, H = 5, 7
    plain = LSTM(D, H, seed=4)
    deep = LSTM(D, H, seed=4, num_layers=3, bidirectional=True)
    for k in plain.params:  # layer 0 forward = the plain layer with the same seed
        np.testing.assert_array_equal(plain.params[k], deep.params[k + "_l0"])
    assert sorted(deep.params) == sorted(f"{n}_l{k}{r}" for n in ("W_x", "W_h", "b") for k in range(3)
                                         for r in ("", "_reverse"))
    assert deep.params["W_x_l1"].shape == (2 * H, 4 * H)
    # torch's count: 4H(D + H + 2) per direction of layer 0, 4H(2H + H + 2) above; rnnlib has one bias
    assert deep.n_params == 2 * (4 * H * (D + H + 1) + 2 * 4 * H * (2 * H + H + 1))
    assert "num_layers=3, bidirectional=True" in repr(deep)
    assert deep.eval() is deep and not deep.training and deep.train() is deep and deep.training
    with pytest.raises(ValueError, match=r"params must contain 'W_x'; got keys \['W_h_l0'"):
        LSTM.from_params(deep.params)


def test_set_params_of_a_stack_and_shared_arrays():
    g = GRU(2, 3, num_layers=2, bidirectional=True, seed=0)
    other = GRU(2, 3, num_layers=2, bidirectional=True, seed=1)
    x = _rng("sp").standard_normal((2, 4, 2))
    g.set_params(other.params)
    np.testing.assert_array_equal(g.forward(x)[0], other.forward(x)[0])
    with pytest.raises(ValueError, match=r"missing \['b_hn_l1_reverse'\]"):
        g.set_params({k: v for k, v in other.params.items() if k != "b_hn_l1_reverse"})
    g.params["W_x_l1"] += 0.5  # an optimiser updates in place: the next forward sees it
    assert np.abs(g.forward(x)[0] - other.forward(x)[0]).max() > 1e-3


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_dict_round_trip_of_a_stack(kind):
    layer = CLS[kind](3, 4, num_layers=2, bidirectional=True, seed=5)
    sd = rnnlib.to_torch_state_dict(layer)
    assert list(sd)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert list(sd)[4] == "weight_ih_l0_reverse" and sd["weight_ih_l1"].shape[1] == 8
    back = rnnlib.from_torch_state_dict(sd, kind)
    assert back.num_layers == 2 and back.bidirectional
    for k in layer.params:
        np.testing.assert_allclose(back.params[k], layer.params[k], rtol=0, atol=1e-15)
    gd = rnnlib.to_torch_state_dict(layer, grads=True)
    assert gd.keys() == sd.keys()


# -- dropout ------------------------------------------------------------------------
def test_dropout_gradcheck_with_the_mask_held_fixed():
    layer, x, s0, dhs, ds, lengths = _problem("lstm", 3, True, 3, 4, 2, 3, True, seed=6)
    layer.dropout = 0.4

    def f(_):
        layer.dropout_rng = np.random.default_rng(11)  # same generator state: same masks
        return _loss(layer, x, s0, dhs, ds, lengths)

    f(None)
    masks = [m.copy() for m in layer.dropout_masks]
    assert len(masks) == 2 and all(np.any(m == 0) for m in masks)
    layer.zero_grad()
    f(None)
    dx, d0 = layer.backward(dhs, ds)
    for m, m2 in zip(masks, layer.dropout_masks):
        np.testing.assert_array_equal(m, m2)
    errs = {"dx": rel_error(dx, numerical_gradient(f, x, h=FD_STEP))}
    for k in ("W_x_l1", "W_h_l2_reverse", "b_l0"):
        errs[k] = rel_error(layer.grads[k], numerical_gradient(f, layer.params[k], h=FD_STEP))
    assert max(errs.values()) < GRAD_RTOL, errs


def test_dropout_statistics_and_generator():
    p, N, T, H = 0.3, 64, 50, 16
    layer = GRU(4, H, num_layers=2, dropout=p, seed=7)
    x = _rng("drop").standard_normal((N, T, 4))
    state = np.random.get_state()[1].copy()
    layer.forward(x)
    (m,) = layer.dropout_masks
    assert np.array_equal(np.random.get_state()[1], state)  # the global generator is untouched
    assert set(np.unique(m)) == {0.0, 1 / (1 - p)}  # kept units scaled by 1/(1 - p)
    keep = np.mean(m > 0)
    sd = np.sqrt(p * (1 - p) / m.size)  # binomial standard deviation of the keep rate
    assert abs(keep - (1 - p)) < 5 * sd, keep
    # the layer's own generator: same seed, same masks; a second pass draws new ones
    twin = GRU(4, H, num_layers=2, dropout=p, seed=7)
    twin.forward(x)
    np.testing.assert_array_equal(twin.dropout_masks[0], m)
    layer.forward(x)
    assert not np.array_equal(layer.dropout_masks[0], m)
    # evaluation mode: no masks, the function of the p = 0 layer
    plain = GRU(4, H, num_layers=2, seed=7)
    np.testing.assert_array_equal(layer.eval().forward(x)[0], plain.forward(x)[0])
    assert layer.dropout_masks == [None]


# -- embedding ----------------------------------------------------------------------
def test_embedding_is_one_hot_times_matrix_and_its_gradient_scatter_adds():
    V, D = 6, 3
    emb = Embedding(V, D, seed=0, padding_idx=2)
    ids = np.array([[1, 2, 1, 5], [0, 1, 2, 2]])
    e = emb.forward(ids)
    onehot = np.eye(V)[ids]  # (N, T, V)
    np.testing.assert_array_equal(e, onehot @ emb.params["W"])
    assert np.all(emb.params["W"][2] == 0)
    de = _rng("emb").standard_normal(e.shape)
    emb.backward(de)
    expected = np.einsum("ntv,ntd->vd", onehot, de)
    expected[2] = 0  # padding_idx gets no gradient
    np.testing.assert_allclose(emb.grads["W"], expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(emb.grads["W"][1], de[0, 0] + de[0, 2] + de[1, 1], rtol=1e-15)
    emb.backward(de)  # accumulates
    np.testing.assert_allclose(emb.grads["W"], 2 * expected, rtol=1e-15, atol=1e-15)
    emb.zero_grad()
    W = emb.params["W"]
    num = numerical_gradient(lambda _: np.sum(emb.forward(ids) * de), W, h=FD_STEP)
    emb.forward(ids)
    emb.backward(de)
    num[2] = 0
    assert rel_error(emb.grads["W"], num) < GRAD_RTOL
    assert emb.n_params == V * D and "padding_idx=2" in repr(emb) and len(emb.parameters()) == 1


# -- bad input ------------------------------------------------------------------------
BAD = [
    (lambda: LSTM(3, 4).forward(np.zeros((2, 5, 3)), lengths=np.array([1, 2, 3])), ValueError,
     r"lengths must have shape \(N,\) = \(2,\), N from x; got shape \(3,\)"),
    (lambda: LSTM(3, 4).forward(np.zeros((2, 5, 3)), lengths=np.array([[1, 2]])), ValueError,
     r"lengths must have shape \(N,\) = \(2,\).*got shape \(1, 2\)"),
    (lambda: LSTM(3, 4).forward(np.zeros((2, 5, 3)), lengths=np.array([1.0, 2.0])), TypeError,
     r"lengths must be integers \(N,\) = \(2,\); got dtype float64"),
    (lambda: LSTM(3, 4).forward(np.zeros((2, 5, 3)), lengths=np.array([0, 2])), ValueError,
     r"lengths must lie in \[1, T\] = \[1, 5\], T from x; got values from 0 to 2"),
    (lambda: GRU(3, 4).forward(np.zeros((2, 5, 3)), lengths=[3, 6]), ValueError,
     r"lengths must lie in \[1, T\] = \[1, 5\].*got values from 3 to 6"),
    (lambda: GRU(3, 4).forward(np.zeros((2, 5, 3)), lengths="ab"), TypeError,
     r"lengths must be an integer array of shape \(N,\) = \(2,\); got str"),
    (lambda: GRU(3, 16, num_layers=2, bidirectional=True).forward(np.zeros((8, 5, 3)), np.zeros((2, 8, 16))),
     ValueError, r"state: expected \(L\*dirs, N, H\) = \(4, 8, 16\) .*got shape \(2, 8, 16\)"),
    (lambda: LSTM(3, 16, num_layers=2).forward(np.zeros((8, 5, 3)), (np.zeros((2, 8, 16)), np.zeros((8, 16)))),
     ValueError, r"state\[1\] \(c\): expected \(L\*dirs, N, H\) = \(2, 8, 16\) .*got shape \(8, 16\)"),
    (lambda: LSTM(3, 16, num_layers=2).forward(np.zeros((8, 5, 3)), np.zeros((2, 8, 16))), TypeError,
     r"state for LSTM must be a tuple \(h, c\) of arrays \(L\*dirs, N, H\) = \(2, 8, 16\)"),
    (lambda: RNN(3, 4, dropout=1.0), ValueError, r"dropout must be a float in \[0, 1\); got 1.0"),
    (lambda: RNN(3, 4, dropout=-0.1), ValueError, r"dropout must be a float in \[0, 1\); got -0.1"),
    (lambda: RNN(3, 4, dropout="0.5"), TypeError, r"dropout must be a float in \[0, 1\); got str"),
    (lambda: RNN(3, 4, num_layers=0), ValueError, r"num_layers must be a positive int; got 0"),
    (lambda: RNN(3, 4, bidirectional="yes"), TypeError, r"bidirectional must be True or False; got 'yes'"),
    (lambda: Embedding(5, 2).forward(np.array([[0, 5]])), ValueError,
     r"ids must lie in \[0, num_embeddings\) = \[0, 5\); got values from 0 to 5"),
    (lambda: Embedding(5, 2).forward(np.array([[0.0, 1.0]])), TypeError,
     r"ids must be integers in \[0, 5\) \(N, T\); got dtype float64"),
    (lambda: Embedding(5, 2, padding_idx=5), ValueError,
     r"padding_idx must be in \[0, num_embeddings\) = \[0, 5\); got 5"),
    (lambda: Embedding(5, 2).backward(np.zeros((1, 2, 2))), RuntimeError, r"before forward"),
    (lambda: rnnlib.from_torch_state_dict(
        {**rnnlib.to_torch_state_dict(LSTM(3, 4, num_layers=2)),
         "weight_ih_l1": np.zeros((16, 3))}, "lstm"), ValueError,
     r"state_dict\['weight_ih_l1'\] must have shape \(G\*H=16, dirs\*H=4\); got shape \(16, 3\)"),
    (lambda: rnnlib.from_torch_state_dict(
        {k: v for k, v in rnnlib.to_torch_state_dict(GRU(3, 4, num_layers=3)).items()
         if not k.endswith("_l1")}, "gru"), ValueError,
     r"state_dict is missing \['weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1'\]"),
]


@pytest.mark.parametrize("call, exc, match", BAD, ids=[f"bad{k}" for k in range(len(BAD))])
def test_bad_input_names_argument_expected_and_received(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_backward_checks_dhs_shape_of_the_stack():
    layer = RNN(2, 3, bidirectional=True)
    layer.forward(np.zeros((2, 4, 2)))
    with pytest.raises(ValueError, match=r"dhs must have shape \(N=2, T=4, dirs\*H=6\)"):
        layer.backward(np.zeros((2, 4, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        RNN(2, 3, num_layers=2).backward(np.zeros((1, 1, 3)))
