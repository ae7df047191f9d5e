"""Chapters 10 and 11 exercise checks: the references agree with rnnlib (and PyTorch), and
hand-written wrong answers get a message. The catalogue properties (reference passes, each
mistake named as itself) are tested for every chapter in test_exercises_catalogue.py.

Outside CI a missing torch skips the PyTorch comparison; with ``CI=true`` it fails
(the pattern of test_torch_parity.py)."""


import numpy as np
import pytest
from _requires import require

from rnnlib.exercises import ch10, ch11
from rnnlib.experiments import mixups, timing


def test_per_gate_flops_reference_is_timings_count():
    for N, D, H in ch10.FLOP_SIZES:
        assert ch10.per_gate_flops_reference(N, D, H) == timing.matmul_flops("lstm", N, 1, D, H)["forward"]


def test_batch_that_pays_edge_cases():
    assert ch10.batch_that_pays_reference({1: 3.0, 4: 2.0}) == 4
    assert ch10.batch_that_pays_reference({1: 3.0}) is None
    res = ch10.check_batch_that_pays(lambda r: sorted(r)[-1])
    assert not res.passed and res.status == "mismatch"
    res = ch10.check_batch_that_pays(lambda r: None)
    assert not res.passed


def test_torch_gru_step_reference_is_the_chapters_equations():
    rng = np.random.default_rng(3)
    for x, h, sd in ch11.gru_step_cases(rng):
        hs = mixups.torch_equations_forward(sd, "gru", x[:, None, :])  # zero initial state
        assert np.allclose(ch11.torch_gru_step_reference(x, np.zeros_like(h), sd), hs[:, 0], rtol=0, atol=1e-14)


def _torch():
    return require("torch", "pip install torch==2.13.0")


def test_torch_gru_step_reference_matches_torch():
    torch = _torch()
    for x, h, sd in ch11.gru_step_cases(np.random.default_rng(4)):
        H, D = sd["weight_hh_l0"].shape[1], sd["weight_ih_l0"].shape[1]
        gru = torch.nn.GRU(D, H, batch_first=True).double()
        gru.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
        with torch.no_grad():
            out, _ = gru(torch.from_numpy(x[:, None, :]), torch.from_numpy(h[None]))
        assert np.allclose(out[:, 0].numpy(), ch11.torch_gru_step_reference(x, h, sd), rtol=0, atol=1e-12)


def test_split_bias_keeps_the_outputs_and_rnnlib_b():
    from rnnlib import from_torch_state_dict
    sd, _ = ch11.split_cases(np.random.default_rng(5))[0]
    x = np.random.default_rng(6).standard_normal((2, 5, sd["weight_ih_l0"].shape[1]))
    for alpha in (0.0, 0.3, 1.0):
        new = ch11.split_bias_reference(sd, alpha)
        assert np.allclose(mixups.torch_equations_forward(new, "lstm", x),
                           mixups.torch_equations_forward(sd, "lstm", x), rtol=0, atol=1e-13)
        assert np.allclose(from_torch_state_dict(new, "lstm").params["b"],
                           from_torch_state_dict(sd, "lstm").params["b"], rtol=0, atol=1e-15)


def test_split_bias_in_place_is_caught():
    def in_place(sd, alpha):
        b = sd["bias_ih_l0"] + sd["bias_hh_l0"]
        sd["bias_ih_l0"], sd["bias_hh_l0"] = alpha * b, (1 - alpha) * b
        return sd
    res = ch11.check_split_bias(in_place)
    assert res.status == "mutated-input" and "argument sd" in res.message
