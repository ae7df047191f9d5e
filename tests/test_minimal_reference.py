"""rnnlib's MinGRU / MinLSTM against the outside reference, ``mingru-pytorch==0.2.1``.

Its ``minGRU(dim)`` and ``minLSTM(dim)`` (no biases, positive g, log-space scan) get
their weights copied into rnnlib's layers: ``to_hidden_and_gate.weight`` has rows
[h~; z], ``to_hidden_and_f_i_gate.weight`` rows [h~; f; i], each (H, D) = our W.T.
Outputs, dx and every weight gradient agree to < 1e-10 relative in float64
(measured ~1e-15), minLSTM with ``prev_hidden=None``.

The known discrepancy of 0.2.1 is tested too: minLSTM's parallel path *with*
``prev_hidden`` takes ``log_g(prev_hidden)``, i.e. starts from g(h0) instead of h0,
so it disagrees with its own step-by-step path (which rnnlib matches), and equals
rnnlib started from g(h0). minGRU's two paths agree.

Outside CI a missing torch or minGRU_pytorch skips this file; with CI=true it fails
(.ci/run installs both).
"""


import numpy as np
import pytest
from _requires import require

from rnnlib import MinGRU, MinLSTM, rel_error
from rnnlib.minimal import g

torch = require("torch", "pip install torch==2.13.0")
MINGRU = "pip install --no-deps mingru-pytorch==0.2.1 einops==0.8.2"
minGRU = require("minGRU_pytorch.minGRU", MINGRU).minGRU
minLSTM = require("minGRU_pytorch.minLSTM", MINGRU).minLSTM

PARITY = 1e-10
ROWS = {"mingru": ("h", "z"), "minlstm": ("h", "f", "i")}


def _pair(kind, D, seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ref = (minGRU if kind == "mingru" else minLSTM)(D).double()
    lin = ref.to_hidden_and_gate if kind == "mingru" else ref.to_hidden_and_f_i_gate
    W = lin.weight.detach().numpy()  # (G D, D), rows by block
    ours = (MinGRU if kind == "mingru" else MinLSTM)(D, D, positive=True)
    for j, n in enumerate(ROWS[kind]):
        ours.params[f"W_{n}"] = W[j * D:(j + 1) * D].T.copy()
        ours.params[f"b_{n}"] = np.zeros(D)  # the reference has no biases
    ours.zero_grad()
    return ref, lin, ours


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
@pytest.mark.parametrize("N,T,D", [(3, 9, 5), (2, 2, 1), (1, 64, 4)])
@pytest.mark.parametrize("method", ["log-scan", "loop", "chunked"])
def test_outputs_and_gradients_match_the_reference(kind, N, T, D, method):
    ref, lin, ours = _pair(kind, D, seed=T)
    rng = np.random.default_rng(N + T)
    x, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    xt = torch.tensor(x, requires_grad=True)
    out = ref(xt)  # prev_hidden=None: h0 = 0
    out.backward(torch.tensor(dhs))
    hs, _ = ours.forward(x, method=method)
    dx, _ = ours.backward(dhs)
    assert rel_error(hs, out.detach().numpy()) < PARITY
    assert rel_error(dx, xt.grad.numpy()) < PARITY
    gW = lin.weight.grad.numpy()
    for j, n in enumerate(ROWS[kind]):
        assert rel_error(ours.grads[f"W_{n}"], gW[j * D:(j + 1) * D].T) < PARITY, n


def _paths(ref, x, h0):
    """The reference's parallel path and its step-by-step path, both from prev_hidden = h0."""
    with torch.no_grad():
        par = ref(torch.tensor(x), prev_hidden=torch.tensor(h0[:, None])).numpy()
        h, steps = torch.tensor(h0[:, None]), []
        for t in range(x.shape[1]):
            h = ref(torch.tensor(x[:, t:t + 1]), prev_hidden=h)
            steps.append(h)
    return par, torch.cat(steps, 1).numpy()


def test_mingru_with_a_state_paths_agree_and_match_rnnlib():
    ref, _, ours = _pair("mingru", 5, seed=0)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((3, 9, 5)), rng.uniform(0.1, 1.5, (3, 5))
    par, step = _paths(ref, x, h0)
    assert rel_error(par, step) < PARITY
    assert rel_error(ours.forward(x, h0)[0], step) < PARITY


def test_minlstm_0_2_1_parallel_path_with_a_state_applies_g_to_it():
    ref, _, ours = _pair("minlstm", 5, seed=0)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((3, 9, 5)), rng.uniform(0.1, 1.5, (3, 5))
    par, step = _paths(ref, x, h0)
    assert np.max(np.abs(par - step)) > 0.05  # the known 0.2.1 discrepancy (0.2-0.4 measured)
    assert rel_error(ours.forward(x, h0)[0], step) < PARITY  # rnnlib = the step path = the equations
    assert rel_error(ours.forward(x, g(h0))[0], par) < PARITY  # the parallel path starts from g(h0)
