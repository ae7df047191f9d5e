"""The addition data (rnnlib.data.addition) and additive attention (rnnlib.attention).

Attention's backward is finite-difference checked in float64 (every input and
parameter, padding masked) to < 1e-7 relative, and compared with torch's
autograd of the same formula to < 1e-10.
"""

from __future__ import annotations


import numpy as np
import pytest
from _requires import require

from rnnlib.attention import AdditiveAttention, additive_attention_backward, additive_attention_forward
from rnnlib.data.addition import (ALPHABET, AdditionCodec, Batch, batches, make_problems, random_number,
                                  split_problems)
from rnnlib.gradcheck import numerical_gradient, rel_error

FD_RTOL = 1e-7  # centred differences, h = 1e-6, float64: a right gradient is ~1e-9 off, a wrong one O(1)


# --- data -------------------------------------------------------------------
def test_random_number_has_at_most_digits_digits():
    rng = np.random.default_rng(0)
    nums = [random_number(3, rng) for _ in range(2000)]
    assert max(nums) < 1000 and min(nums) >= 0
    assert sum(n < 10 for n in nums) > 500  # a third of the draws have one digit (then 0-9)


def test_make_problems_are_distinct_unordered_pairs_and_split_holds_them_out():
    probs = make_problems(300, 2, np.random.default_rng(1))
    keys = {(min(p), max(p)) for p in probs}
    assert len(keys) == 300
    train, held = split_problems(probs, 50)
    assert len(train) == 250 and len(held) == 50
    assert not keys.intersection({(min(p), max(p)) for p in train} & {(min(p), max(p)) for p in held})
    with pytest.raises(ValueError, match="distinct unordered pairs"):
        split_problems([(1, 2), (3, 4), (2, 1)], 1)
    with pytest.raises(ValueError, match="n must be at most 55"):
        make_problems(56, 1, np.random.default_rng(0))
    assert len(make_problems(55, 1, np.random.default_rng(0))) == 55  # all of them


def test_codec_pads_reverses_masks_and_shifts_the_target():
    fwd, rev = AdditionCodec(3, reverse=False), AdditionCodec(3, reverse=True)
    b = fwd.encode([(535, 61)])
    assert fwd.source_text(b.src[0]) == "535+61 " and b.src_mask[0].tolist() == [True] * 6 + [False]
    assert b.src_len.tolist() == [6]
    r = rev.encode(["535+61"])
    assert rev.source_text(r.src[0]) == " 16+535" and r.src_mask[0].tolist() == [False] + [True] * 6
    assert fwd.chars.decode(b.tgt_in[0]) == "^596$" and fwd.chars.decode(b.tgt_out[0]) == "596$ "
    assert b.tgt_mask[0].tolist() == [True] * 4 + [False]
    assert b.answers == ["596"] and fwd.decode_answer(b.tgt_out[0]) == "596"
    assert fwd.chars.decode(fwd.keras_target(["7"])[0]) == "7   "
    assert len(ALPHABET) == fwd.V == 14


def test_codec_bad_input_names_the_problem():
    codec = AdditionCodec(2)
    with pytest.raises(ValueError, match=r"\['x'\] outside the alphabet '0123456789\+ \^\$'"):
        codec.encode(["1x+2"])
    with pytest.raises(ValueError, match="at most 5"):
        codec.encode_source("123+45")
    with pytest.raises(ValueError, match="more than 2 digit"):
        codec.encode([(100, 1)])
    with pytest.raises(ValueError, match="empty"):
        codec.encode([])
    with pytest.raises(ValueError, match="form 'a\\+b'"):
        codec.encode(["12+"])
    with pytest.raises(TypeError, match="reverse must be a bool"):
        AdditionCodec(2, reverse="yes")


def test_batches_cover_every_problem_once():
    codec = AdditionCodec(2)
    data = codec.encode(make_problems(70, 2, np.random.default_rng(2)))
    parts = list(batches(data, 32, np.random.default_rng(0)))
    assert [len(p.src) for p in parts] == [32, 32, 6] and all(isinstance(p, Batch) for p in parts)
    assert sorted(a for p in parts for a in p.answers) == sorted(data.answers)
    for p in parts:  # rows stay together
        assert [codec.decode_answer(t) for t in p.tgt_out] == p.answers


# --- attention --------------------------------------------------------------
def _attention_inputs(seed=0, N=3, Tq=4, Tk=5, Hq=6, Hk=7, A=8):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((N, Tq, Hq)), rng.standard_normal((N, Tk, Hk))
    W_q, W_k, v = rng.standard_normal((Hq, A)), rng.standard_normal((Hk, A)), rng.standard_normal(A)
    mask = np.ones((N, Tk), bool)
    mask[0, -2:] = False
    mask[2, :1] = False
    return q, k, W_q, W_k, v, mask, rng.standard_normal((N, Tq, Hk))


def test_attention_weights_sum_to_one_over_the_source_and_ignore_padding():
    q, k, W_q, W_k, v, mask, _ = _attention_inputs()
    context, alpha, _ = additive_attention_forward(q, k, W_q, W_k, v, mask)
    np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(alpha[0, :, -2:] == 0.0) and np.all(alpha[2, :, 0] == 0.0)
    np.testing.assert_allclose(context, np.einsum("nqs,nsh->nqh", alpha, k), rtol=1e-12)
    k2 = k.copy()
    k2[0, -2:] += 100.0  # changing padded encoder outputs changes nothing
    np.testing.assert_array_equal(additive_attention_forward(q, k2, W_q, W_k, v, mask)[0][0], context[0])


def test_attention_backward_matches_finite_differences():
    q, k, W_q, W_k, v, mask, dc = _attention_inputs()
    _, _, cache = additive_attention_forward(q, k, W_q, W_k, v, mask)
    dq, dk, grads = additive_attention_backward(dc, cache)
    arrays = {"q": q, "k": k, "W_q": W_q, "W_k": W_k, "v": v}
    analytic = {"q": dq, "k": dk, **grads}
    for name, x in arrays.items():
        num = numerical_gradient(lambda _: additive_attention_forward(q, k, W_q, W_k, v, mask)[0], x, dc)
        assert rel_error(num, analytic[name]) < FD_RTOL, name


def test_attention_dalpha_path_matches_finite_differences():
    q, k, W_q, W_k, v, mask, _ = _attention_inputs(seed=3)
    da = np.random.default_rng(9).standard_normal((3, 4, 5))
    _, _, cache = additive_attention_forward(q, k, W_q, W_k, v, mask)
    dq, _, _ = additive_attention_backward(np.zeros((3, 4, 7)), cache, dalpha=da)
    num = numerical_gradient(lambda _: additive_attention_forward(q, k, W_q, W_k, v, mask)[1], q, da)
    assert rel_error(num, dq) < FD_RTOL


def test_attention_layer_accumulates_and_checks_its_input():
    q, k, _, _, _, mask, dc = _attention_inputs()
    layer = AdditiveAttention(6, 7, 8, seed=1)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(dc)
    layer.forward(q, k, mask)
    layer.backward(dc)
    once = {n: g.copy() for n, g in layer.grads.items()}
    layer.backward(dc)
    for n in once:
        np.testing.assert_allclose(layer.grads[n], 2 * once[n])
    with pytest.raises(ValueError, match="mask must have shape"):
        layer.forward(q, k, mask[:, :3])
    with pytest.raises(ValueError, match="at least one position per row"):
        layer.forward(q, k, np.zeros_like(mask))
    with pytest.raises(TypeError, match="bool"):
        layer.forward(q, k, mask.astype(int))
    with pytest.raises(ValueError, match="k must have shape"):
        layer.forward(q, k[:, :, :3], mask)


def _torch():
    return require("torch", "pip install torch==2.13.0")


def test_attention_matches_torch_autograd():
    torch = _torch()
    q, k, W_q, W_k, v, mask, dc = _attention_inputs(seed=5)
    context, alpha, cache = additive_attention_forward(q, k, W_q, W_k, v, mask)
    dq, dk, grads = additive_attention_backward(dc, cache)
    t = {n: torch.tensor(a, requires_grad=True) for n, a in
         (("q", q), ("k", k), ("W_q", W_q), ("W_k", W_k), ("v", v))}
    u = torch.tanh((t["q"] @ t["W_q"])[:, :, None, :] + (t["k"] @ t["W_k"])[:, None, :, :])
    e = (u @ t["v"]).masked_fill(~torch.tensor(mask)[:, None, :], float("-inf"))
    a = torch.softmax(e, dim=-1)
    c = a @ t["k"]
    (c * torch.tensor(dc)).sum().backward()
    assert rel_error(c.detach().numpy(), context) < 1e-12 and rel_error(a.detach().numpy(), alpha) < 1e-12
    for name, ours in (("q", dq), ("k", dk), ("W_q", grads["W_q"]), ("W_k", grads["W_k"]), ("v", grads["v"])):
        assert rel_error(t[name].grad.numpy(), ours) < 1e-10, name
