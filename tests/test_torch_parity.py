"""rnnlib against PyTorch: same weights, same numbers (the book's reference check).

For ``torch.nn.RNN`` (tanh), ``LSTM`` and ``GRU`` in float64: outputs, final
state, dx, the gradient of the initial state and all four parameter gradients
agree to < 1e-10 relative, with random non-zero initial states, random
upstream gradients for every step *and* for the final state. Both directions
of the conversion are checked, and so is the public contract of the issue.

The classic convention mix-ups the book warns about are measured against the
same torch weights and must each give a *large* error.

Outside CI a missing torch skips this file; with ``CI=true`` it fails, because
CI installs torch==2.13.0 and the parity tests must run there.
"""

from __future__ import annotations


import numpy as np
import pytest
from _requires import require

import rnnlib
from rnnlib import from_torch_state_dict, rel_error, to_torch_state_dict

torch = require("torch", "pip install torch==2.13.0")

# float64 parity: the two implementations agree to ~1e-15 relative; any
# convention slip (gate order, bias, reset form) is O(0.1). 1e-10 is far from both.
PARITY_RTOL = 1e-10
# float32 parity: ~1e-7 per operation, accumulated over a few steps.
FLOAT32_RTOL = 1e-5
# A convention mix-up must move the outputs by at least this much (max abs diff
# on a 7-step sequence); measured values are several times larger.
MIXUP_MIN = 0.05

TORCH_CLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
SIZES = [(3, 7, 4, 5), (1, 1, 1, 1), (2, 5, 3, 2)]  # (N, T, D, H)
SIZE_IDS = ["N{}T{}D{}H{}".format(*s) for s in SIZES]


@pytest.fixture(autouse=True)
def _torch_globals_do_not_leak():
    dtype, rng_state = torch.get_default_dtype(), torch.random.get_rng_state()
    yield
    assert torch.get_default_dtype() == dtype
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def torch_module(kind, D, H, seed, dtype=torch.float64):
    """A randomly initialised one-layer torch module (torch's own init, seeded locally)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TORCH_CLS[kind](D, H, batch_first=True, dtype=dtype)


def numpy_state_dict(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def problem(kind, N, T, D, H, seed, dtype=np.float64):
    """x, a non-zero initial state, upstream dhs and a final-state gradient."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    states = [rng.standard_normal((N, H)) for _ in range(2 if kind == "lstm" else 1)]
    dhs = rng.standard_normal((N, T, H))
    dstates = [rng.standard_normal((N, H)) for _ in states]
    pack = tuple if kind == "lstm" else (lambda s: s[0])
    cast = lambda a: a.astype(dtype)  # noqa: E731
    return cast(x), pack([cast(s) for s in states]), cast(dhs), pack([cast(d) for d in dstates])


def run_torch(module, kind, x, state, dhs, dstate):
    """Forward, and backward of L = <hs, dhs> + <final state, dstate>, in torch."""
    module.zero_grad(set_to_none=True)
    xt = torch.tensor(x, requires_grad=True)
    s0 = [torch.tensor(s[None], requires_grad=True) for s in _flat(state)]  # (1, N, H): num_layers first
    out, final = module(xt, tuple(s0) if kind == "lstm" else s0[0])
    final = list(final) if kind == "lstm" else [final]
    loss = (out * torch.tensor(dhs)).sum()
    for f, d in zip(final, _flat(dstate)):
        loss = loss + (f[0] * torch.tensor(d)).sum()
    loss.backward()
    return {
        "hs": out.detach().numpy(),
        "final": [f[0].detach().numpy() for f in final],
        "dx": xt.grad.numpy(),
        "dstate0": [s.grad[0].numpy() for s in s0],
        "grads": {k: p.grad.numpy() for k, p in module.named_parameters()},
    }


def run_rnnlib(layer, x, state, dhs, dstate):
    layer.zero_grad()
    hs, final = layer.forward(x, state)
    dx, dstate0 = layer.backward(dhs, dstate)
    return {"hs": hs, "final": _flat(final), "dx": dx, "dstate0": _flat(dstate0),
            "grads": to_torch_state_dict(layer, grads=True)}


def compare(ours, ref):
    """Relative error of every quantity, keyed by name."""
    errs = {k: rel_error(ours[k], ref[k]) for k in ("hs", "dx")}
    for k in ("final", "dstate0"):
        assert len(ours[k]) == len(ref[k])
        for j, (a, b) in enumerate(zip(ours[k], ref[k])):
            errs[f"{k}[{j}]"] = rel_error(a, b)
    assert set(ours["grads"]) == set(ref["grads"])
    for k in ref["grads"]:
        errs[f"d{k}"] = rel_error(ours["grads"][k], ref["grads"][k])
    return errs


@pytest.mark.parametrize("sizes", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_torch_weights_in_rnnlib_give_torchs_numbers(kind, sizes):
    N, T, D, H = sizes
    module = torch_module(kind, D, H, seed=sum(sizes))
    layer = from_torch_state_dict(numpy_state_dict(module), kind)
    args = problem(kind, N, T, D, H, seed=len(kind) + N)
    errs = compare(run_rnnlib(layer, *args), run_torch(module, kind, *args))
    assert len(errs) == 2 + 2 * (2 if kind == "lstm" else 1) + 4  # every quantity compared
    assert max(errs.values()) < PARITY_RTOL, errs


@pytest.mark.parametrize("kind, kw", [("rnn", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {"update_bias": 0.5})])
def test_rnnlib_weights_loaded_into_torch_give_the_same_numbers(kind, kw):
    N, T, D, H = 3, 6, 4, 5
    layer = {"rnn": rnnlib.RNN, "lstm": rnnlib.LSTM, "gru": rnnlib.GRU}[kind](D, H, seed=11, **kw)
    assert all(np.any(v != 0) for v in layer.params.values())  # non-zero biases too
    module = torch_module(kind, D, H, seed=0)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(layer).items()})
    args = problem(kind, N, T, D, H, seed=3)
    ours, ref = run_rnnlib(layer, *args), run_torch(module, kind, *args)
    errs = compare(ours, ref)
    assert errs["hs"] < PARITY_RTOL and all(v < PARITY_RTOL for k, v in errs.items() if k.startswith("final"))
    assert max(errs.values()) < PARITY_RTOL, errs  # gradients too


def test_public_contract_of_the_issue():
    N, T, D, H = 2, 5, 3, 4
    rng = np.random.default_rng(0)
    x, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))

    layer = rnnlib.LSTM(input_size=D, hidden_size=H, seed=0, dtype=np.float64)
    hs, state = layer.forward(x, state=None)        # x (N, T, D) -> hs (N, T, H); state (h, c)
    dx, dstate0 = layer.backward(dhs, dstate=None)  # dx (N, T, D); dstate0 same structure as state
    assert hs.shape == (N, T, H) and isinstance(state, tuple) and [s.shape for s in state] == [(N, H)] * 2
    assert dx.shape == (N, T, D) and isinstance(dstate0, tuple) and [s.shape for s in dstate0] == [(N, H)] * 2
    assert layer.params.keys() == layer.grads.keys()
    sd = rnnlib.to_torch_state_dict(layer)
    gd = rnnlib.to_torch_state_dict(layer, grads=True)
    layer2 = rnnlib.from_torch_state_dict(sd, kind="lstm")
    for k in layer.params:
        np.testing.assert_array_equal(layer2.params[k], layer.params[k])

    module = torch_module("lstm", D, H, seed=0)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    ref = run_torch(module, "lstm", x, tuple(np.zeros((N, H)) for _ in range(2)), dhs,
                    tuple(np.zeros((N, H)) for _ in range(2)))
    assert rel_error(hs, ref["hs"]) < PARITY_RTOL and rel_error(dx, ref["dx"]) < PARITY_RTOL
    for k, g in gd.items():
        assert rel_error(g, ref["grads"][k]) < PARITY_RTOL, k


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_layers_stay_float32_and_match_torch_float32(kind):
    N, T, D, H = 3, 7, 4, 5
    module = torch_module(kind, D, H, seed=5, dtype=torch.float32)
    sd = numpy_state_dict(module)
    assert all(v.dtype == np.float32 for v in sd.values())
    layer = from_torch_state_dict(sd, kind, dtype=np.float32)
    args = problem(kind, N, T, D, H, seed=5, dtype=np.float32)
    ours, ref = run_rnnlib(layer, *args), run_torch(module, kind, *args)
    for a in [ours["hs"], ours["dx"], *ours["final"], *ours["dstate0"], *layer.grads.values(),
              *ours["grads"].values()]:
        assert a.dtype == np.float32
    errs = compare(ours, ref)
    assert max(errs.values()) < FLOAT32_RTOL, errs


# -- the classic mix-ups, measured -------------------------------------------------------

def _torch_outputs(module, kind, x, state):
    with torch.no_grad():
        s0 = [torch.tensor(s[None]) for s in _flat(state)]
        out, _ = module(torch.tensor(x), tuple(s0) if kind == "lstm" else s0[0])
    return out.numpy()


def _swap_blocks(a, G, i, j):
    """Swap gate blocks i and j along the first axis of a torch tensor."""
    blocks = np.split(a, G, axis=0)
    blocks[i], blocks[j] = blocks[j], blocks[i]
    return np.concatenate(blocks, axis=0)


def mixups(kind, sd, D, H):
    """Layers built from torch weights with one classic mistake each."""
    out = {"correct": from_torch_state_dict(sd, kind)}
    out["bias_hh dropped"] = from_torch_state_dict({**sd, "bias_hh_l0": np.zeros_like(sd["bias_hh_l0"])}, kind)
    if kind == "lstm":
        # CS231n stacks i, f, o, g: read torch's i, f, g, o rows with that order
        out["gate order i,f,o,g"] = from_torch_state_dict({k: _swap_blocks(v, 4, 2, 3) for k, v in sd.items()}, kind)
    if kind == "gru":
        p = out["correct"].params
        # reset *before* the matmul (Cho et al. v3, d2l), same weights; b_hn folded into b's candidate block
        b = p["b"].copy()
        b[2 * H:] += p["b_hn"]
        out["reset before"] = rnnlib.GRU(D, H, reset_after=False).set_params({"W_x": p["W_x"], "W_h": p["W_h"], "b": b})
        # h = (1 - z) h_prev + z h~: the same as rnnlib's update with z' = sigma(-a_z) = 1 - z
        flip = np.concatenate([-np.ones(H), np.ones(2 * H)])
        out["update z <-> 1-z"] = rnnlib.GRU(D, H).set_params(
            {"W_x": p["W_x"] * flip, "W_h": p["W_h"] * flip, "b": p["b"] * flip, "b_hn": p["b_hn"]})
        # Keras stacks z, r, h: read torch's r, z, n rows with that order
        out["gate order z,r,n (Keras)"] = from_torch_state_dict(
            {k: _swap_blocks(v, 3, 0, 1) for k, v in sd.items()}, kind)
    return out


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_classic_mixups_give_large_errors_against_torch(kind):
    N, T, D, H = 4, 7, 4, 5
    worst_correct, smallest = 0.0, {}
    for seed in range(3):  # several draws: the claim must not depend on a lucky seed
        module = torch_module(kind, D, H, seed=100 + seed)
        x, state, _, _ = problem(kind, N, T, D, H, seed=seed)
        ref = _torch_outputs(module, kind, x, state)
        for name, layer in mixups(kind, numpy_state_dict(module), D, H).items():
            diff = float(np.abs(layer.forward(x, state)[0] - ref).max())
            if name == "correct":
                worst_correct = max(worst_correct, diff)
            else:
                smallest[name] = min(smallest.get(name, np.inf), diff)
    assert worst_correct < 1e-12
    expected = {"rnn": 1, "lstm": 2, "gru": 4}[kind]
    assert len(smallest) == expected
    assert all(v > MIXUP_MIN for v in smallest.values()), smallest


def test_swapped_update_construction_is_the_one_minus_z_convention():
    """The sign flip used above really computes h = (1 - z) h_prev + z h~ with torch's z."""
    D, H = 3, 4
    module = torch_module("gru", D, H, seed=1)
    sd = numpy_state_dict(module)
    swapped = mixups("gru", sd, D, H)["update z <-> 1-z"]
    p = from_torch_state_dict(sd, "gru").params
    rng = np.random.default_rng(2)
    x_t, h_prev = rng.standard_normal((2, D)), rng.standard_normal((2, H))
    _, cache = rnnlib.gru_step_forward(x_t, h_prev, **p)  # z, h~ of the correct GRU
    expected = (1 - cache.z) * h_prev + cache.z * cache.h_tilde
    got, _ = swapped.forward(x_t[:, None], h_prev)
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-13)
