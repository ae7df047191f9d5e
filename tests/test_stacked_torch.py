"""Stacked, bidirectional, padded layers and Embedding against PyTorch (float64, 1e-10 relative).

For ``num_layers`` in {1, 2, 3}, one and two directions, the three cells (GRU
reset-after), with and without ``lengths`` (torch:
``pack_padded_sequence(..., batch_first=True, enforce_sorted=False)``):
outputs, final states, dx, the initial-state gradients and every parameter
gradient, with random initial states and upstream gradients. Dropout is
compared in evaluation mode; ``Embedding`` against ``nn.Embedding`` with and
without ``padding_idx``; an rnnlib stack loads into torch.

Outside CI a missing torch skips this file; with ``CI=true`` it fails (as
tests/test_torch_parity.py).
"""

from __future__ import annotations


import numpy as np
import pytest
from _requires import require

import rnnlib
from rnnlib import rel_error

torch = require("torch", "pip install torch==2.13.0")

from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

# float64: the two agree to ~1e-15 relative (measured max 4e-16 over this grid);
# a missed reversal or an unmasked step is O(0.1).
PARITY_RTOL = 1e-10
TORCH_CLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


@pytest.fixture(autouse=True)
def _torch_globals_do_not_leak():
    dtype, rng_state = torch.get_default_dtype(), torch.random.get_rng_state()
    yield
    assert torch.get_default_dtype() == dtype
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def torch_module(kind, D, H, L, B, seed, dropout=0.0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TORCH_CLS[kind](D, H, num_layers=L, bidirectional=B, dropout=dropout,
                               batch_first=True, dtype=torch.float64)


def problem(kind, N, T, D, H, L, B, use_lengths, seed):
    rng = np.random.default_rng(seed)
    dirs, ns = (2 if B else 1), (2 if kind == "lstm" else 1)
    x = rng.standard_normal((N, T, D))
    s0 = [rng.standard_normal((L * dirs, N, H)) for _ in range(ns)]
    dhs = rng.standard_normal((N, T, dirs * H))
    ds = [rng.standard_normal((L * dirs, N, H)) for _ in range(ns)]
    lengths = None
    if use_lengths:
        lengths = rng.integers(1, T + 1, N)
        lengths[0], lengths[-1] = T, 1
        dhs = dhs * (np.arange(T)[None, :, None] < lengths[:, None, None])  # padded outputs are not outputs
    return x, s0, dhs, ds, lengths


def run_torch(module, kind, x, s0, dhs, ds, lengths):
    module.zero_grad(set_to_none=True)
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in s0]
    inp = xt if lengths is None else pack_padded_sequence(
        xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out, fin = module(inp, tuple(st) if kind == "lstm" else st[0])
    if lengths is not None:
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    fin = list(fin) if kind == "lstm" else [fin]
    loss = (out * torch.tensor(dhs)).sum() + sum((f * torch.tensor(d)).sum() for f, d in zip(fin, ds))
    loss.backward()
    return {"hs": out.detach().numpy(), "final": [f.detach().numpy() for f in fin], "dx": xt.grad.numpy(),
            "dstate0": [s.grad.numpy() for s in st],
            "grads": {k: p.grad.numpy() for k, p in module.named_parameters()}}


def run_rnnlib(layer, kind, x, s0, dhs, ds, lengths):
    pack = tuple if kind == "lstm" else (lambda a: a[0])
    flat = (lambda s: list(s)) if kind == "lstm" else (lambda s: [s])
    layer.zero_grad()
    hs, fin = layer.forward(x, pack(s0), lengths=lengths)
    dx, d0 = layer.backward(dhs, pack(ds))
    return {"hs": hs, "final": flat(fin), "dx": dx, "dstate0": flat(d0),
            "grads": rnnlib.to_torch_state_dict(layer, grads=True)}


def compare(ours, ref):
    errs = {k: rel_error(ours[k], ref[k]) for k in ("hs", "dx")}
    for k in ("final", "dstate0"):
        assert len(ours[k]) == len(ref[k])
        errs.update({f"{k}[{j}]": rel_error(a, b) for j, (a, b) in enumerate(zip(ours[k], ref[k]))})
    assert ours["grads"].keys() == ref["grads"].keys()
    errs.update({f"d{k}": rel_error(ours["grads"][k], v) for k, v in ref["grads"].items()})
    return errs


@pytest.mark.parametrize("use_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("B", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_stack_matches_torch(kind, L, B, use_lengths):
    N, T, D, H = 4, 6, 3, 5
    module = torch_module(kind, D, H, L, B, seed=L + 2 * B)
    layer = rnnlib.from_torch_state_dict(
        {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}, kind)
    assert (layer.num_layers, layer.bidirectional) == (L, B)
    args = problem(kind, N, T, D, H, L, B, use_lengths, seed=10 * L + B)
    errs = compare(run_rnnlib(layer, kind, *args), run_torch(module, kind, *args))
    assert len(errs) == 2 + 2 * (2 if kind == "lstm" else 1) + 4 * L * (2 if B else 1)
    assert max(errs.values()) < PARITY_RTOL, errs


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_rnnlib_stack_with_dropout_in_eval_mode_loads_into_torch(kind):
    N, T, D, H, L = 3, 5, 4, 3, 3
    layer = {"lstm": rnnlib.LSTM, "gru": rnnlib.GRU}[kind](D, H, num_layers=L, bidirectional=True,
                                                           dropout=0.5, seed=3).eval()
    module = torch_module(kind, D, H, L, True, seed=0, dropout=0.5).eval()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in rnnlib.to_torch_state_dict(layer).items()})
    args = problem(kind, N, T, D, H, L, True, True, seed=4)
    errs = compare(run_rnnlib(layer, kind, *args), run_torch(module, kind, *args))
    assert max(errs.values()) < PARITY_RTOL, errs


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_matches_torch(padding_idx):
    V, D = 7, 4
    emb = rnnlib.Embedding(V, D, seed=1, padding_idx=padding_idx)
    with torch.random.fork_rng(devices=[]):  # nn.Embedding draws its init from the global generator
        ref = torch.nn.Embedding(V, D, padding_idx=padding_idx, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(emb.params["W"]))
    ids = np.array([[3, 1, 1, 6], [0, 3, 1, 2], [5, 5, 5, 3]])  # repeats and the padding id
    de = np.random.default_rng(2).standard_normal((3, 4, D))
    e = emb.forward(ids)
    emb.backward(de)
    out = ref(torch.from_numpy(ids))
    (out * torch.from_numpy(de)).sum().backward()
    assert rel_error(e, out.detach().numpy()) < PARITY_RTOL
    assert rel_error(emb.grads["W"], ref.weight.grad.numpy()) < PARITY_RTOL
    if padding_idx is not None:
        assert np.all(emb.grads["W"][padding_idx] == 0) and np.all(e[ids == padding_idx] == 0)
