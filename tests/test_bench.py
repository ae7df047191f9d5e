"""The benchmark command (rnnlib.experiments.bench) and the slower versions it measures (rnnlib.experiments.baselines).

A tiny grid runs end to end with and without PyTorch and writes its JSON; the
per-gate backward steps are gradient-checked; every stage of the performance
chapter gives the fused layer's numbers. Timings are not checked (that is the
benchmark's job, on a quiet machine), only that they exist and are positive.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnlib
from rnnlib.experiments import baselines, bench, timing
from rnnlib.gates import gru_per_gate_params, gru_step_per_gate, lstm_per_gate_params, lstm_step_per_gate
from rnnlib.gradcheck import numerical_gradient, rel_error

TINY = ["--kinds", "rnn", "lstm", "gru", "--N", "1", "2", "--H", "3", "--T", "4", "--D", "2",
        "--dtypes", "float64", "--rounds", "2"]


@pytest.fixture(autouse=True)
def _small_peak_matmul(monkeypatch):
    monkeypatch.setattr(timing, "PEAK_N", 128)  # the peak-rate matmul and the timings, kept cheap for tests
    monkeypatch.setattr(timing, "TARGET_TIME", 0.002)


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


# -- FLOP count ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, G", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_flop_count_is_the_documented_formula(kind, G):
    N, T, D, H = 2, 3, 4, 5
    f = timing.matmul_flops(kind, N, T, D, H)
    projection, recurrent = 2 * T * N * D * G * H, T * 2 * N * H * G * H
    assert f["forward"] == projection + recurrent == 2 * T * N * (D + H) * G * H
    # backward: dh_{t-1} every step, then dW_x, dW_h and dx over all rows
    assert f["backward"] == recurrent + projection + recurrent + projection == 2 * f["forward"]
    assert f["total"] == 6 * T * N * (D + H) * G * H


# -- the per-gate baseline ----------------------------------------------------------------

def _rng_data(seed, N, D, H):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((N, D)), rng.standard_normal((N, H)) * 0.5, rng.standard_normal((N, H))


def test_lstm_per_gate_step_backward_matches_finite_differences():
    N, D, H = 3, 4, 5
    rng, x, h, c = _rng_data(0, N, D, H)
    p = lstm_per_gate_params(rnnlib.LSTM(D, H, seed=1).params)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))

    def loss_parts(x_t, h_prev, c_prev, params):
        (h_next, c_next), _ = lstm_step_per_gate(x_t, (h_prev, c_prev), **params)
        return np.sum(h_next * dh) + np.sum(c_next * dc)

    (h_next, c_next), gates = lstm_step_per_gate(x, (h, c), **p)
    dx, (dh_prev, dc_prev), grads = baselines.lstm_step_per_gate_backward((dh, dc), x, (h, c), c_next, gates, p)
    checks = [(dx, numerical_gradient(lambda v: loss_parts(v, h, c, p), x)),
              (dh_prev, numerical_gradient(lambda v: loss_parts(x, v, c, p), h)),
              (dc_prev, numerical_gradient(lambda v: loss_parts(x, h, v, p), c))]
    for k in p:
        checks.append((grads[k], numerical_gradient(lambda v, k=k: loss_parts(x, h, c, dict(p, **{k: v})), p[k])))
    assert max(rel_error(a, n) for a, n in checks) < 1e-7


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_per_gate_step_backward_matches_finite_differences(reset_after):
    N, D, H = 3, 4, 5
    rng, x, h, _ = _rng_data(2, N, D, H)
    p = gru_per_gate_params(rnnlib.GRU(D, H, seed=3, reset_after=reset_after).params)
    dh = rng.standard_normal((N, H))

    def loss(x_t, h_prev, params):
        return np.sum(gru_step_per_gate(x_t, h_prev, **params)[0] * dh)

    _, gates = gru_step_per_gate(x, h, **p)
    dx, dh_prev, grads = baselines.gru_step_per_gate_backward(dh, x, h, gates, p)
    assert set(grads) == set(p)
    checks = [(dx, numerical_gradient(lambda v: loss(v, h, p), x)),
              (dh_prev, numerical_gradient(lambda v: loss(x, v, p), h))]
    for k in p:
        checks.append((grads[k], numerical_gradient(lambda v, k=k: loss(x, h, dict(p, **{k: v})), p[k])))
    assert max(rel_error(a, n) for a, n in checks) < 1e-7


CASES = [("rnn", {}), ("lstm", {}), ("gru", {"reset_after": True}), ("gru", {"reset_after": False})]


@pytest.mark.parametrize("kind, kw", CASES, ids=["rnn", "lstm", "gru-after", "gru-before"])
@pytest.mark.parametrize("stage", baselines.STAGES)
def test_every_stage_gives_the_layers_numbers(stage, kind, kw):
    if stage == "allocating" and kind != "lstm":
        with pytest.raises(ValueError, match="allocating"):
            baselines.forward_backward(stage, kind, {}, np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
        return
    N, T, D, H = 3, 5, 4, 6
    rng = np.random.default_rng(4)
    layer = {"rnn": rnnlib.RNN, "lstm": rnnlib.LSTM, "gru": rnnlib.GRU}[kind](D, H, seed=5, **kw)
    x, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    hs, _ = layer.forward(x)
    dx, _ = layer.backward(dhs)
    s_hs, s_dx, s_grads = baselines.forward_backward(stage, kind, layer.params, x, dhs)
    assert set(s_grads) == set(layer.grads)
    pairs = [(hs, s_hs), (dx, s_dx)] + [(layer.grads[k], s_grads[k]) for k in layer.grads]
    assert max(rel_error(a, b) for a, b in pairs) < 1e-12


def test_forward_backward_names_the_bad_stage():
    with pytest.raises(ValueError, match="stage must be one of"):
        baselines.forward_backward("fast", "lstm", {}, np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))


# -- the command -----------------------------------------------------------------------------

def test_tiny_grid_runs_and_writes_json(tmp_path, capsys):
    path = tmp_path / "out" / "bench.json"
    result = bench.main(TINY + ["--json", str(path)])
    saved = json.loads(path.read_text())
    assert saved["meta"]["grid"]["kinds"] == ["rnn", "lstm", "gru"]
    assert len(saved["results"]) == len(result["results"]) == 3 * 2  # kinds x N
    torch = _torch_or_none()
    text = capsys.readouterr().out
    for r in saved["results"]:
        assert all(t > 0 for t in r["times"]["rnnlib"]) and len(r["times"]["rnnlib"]) == 2
        assert set(r["ratios"]) >= {"rnnlib/limit"}
        assert ("rnnlib/per-gate" in r["ratios"]) == (r["N"] == 1)
        assert ("rnnlib/torch" in r["ratios"]) == (torch is not None)
        if r["N"] == 1:  # the per-gate baseline is timed, and checked, at N = 1
            assert r["parity"]["per_gate"] < 1e-12
        assert r["flops"] == timing.matmul_flops(r["kind"], r["N"], r["T"], r["D"], r["H"])
    assert "per-round paired ratios" in text and "targets (issue 8)" in text
    assert "thread" in text  # the thread count is reported
    if torch is not None:
        assert saved["environment"]["torch"] == torch.__version__
        assert all(r["parity"]["torch"] < 1e-10 for r in saved["results"])


def test_without_torch_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "_import_torch", lambda: None)
    path = tmp_path / "bench.json"
    bench.main(["--kinds", "lstm", "--N", "1", "--H", "2", "--T", "3", "--D", "2", "--dtypes", "float32",
                "--rounds", "1", "--json", str(path)])
    text = capsys.readouterr().out
    assert "PyTorch is not installed" in text and "pip install torch==2.13.0" in text
    saved = json.loads(path.read_text())
    assert saved["meta"]["torch_installed"] is False and saved["environment"]["torch"] is None
    assert all("rnnlib/torch" not in r["ratios"] for r in saved["results"])


def test_thread_settings_are_restored():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [d["num_threads"] for d in threadpoolctl.threadpool_info()]
    torch = _torch_or_none()
    torch_before = torch.get_num_threads() if torch else None
    result = bench.run(["rnn"], [1], [2], [2], 2, ["float64"], rounds=1)
    assert all(p["num_threads"] == 1 for p in result["environment"]["threadpools"])
    assert [d["num_threads"] for d in threadpoolctl.threadpool_info()] == before
    if torch:
        assert result["environment"]["torch_threads"] == 1 and torch.get_num_threads() == torch_before


def test_targets_are_judged_on_the_medians():
    def row(kind, dtype, N, H, torch, limit, per_gate=None, parity=1e-16):
        ratios = {"rnnlib/torch": {"median": torch}, "rnnlib/limit": {"median": limit}}
        if per_gate:
            ratios["rnnlib/per-gate"] = {"median": per_gate}
        return {"kind": kind, "dtype": dtype, "N": N, "H": H, "T": 50, "ratios": ratios,
                "parity": {"torch": parity}}
    rows = [row("lstm", "float32", 32, 256, 2.5, 1.5), row("gru", "float64", 32, 256, 0.9, 1.2),
            row("rnn", "float64", 1, 64, 0.3, 5.0, per_gate=0.1)]
    checks = bench.check_targets(rows)
    # torch <= 1 (GRU 0.9, RNN 0.3); LSTM float32 <= 2 (2.5); limit <= 1.3 (1.5); per-gate >= 5 (10); parity
    assert [c["ok"] for c in checks] == [True, False, False, True, True]
    assert checks[2]["worst"] == 1.5 and "lstm float32" in checks[2]["at"]
    assert checks[3]["worst"] == pytest.approx(10.0)


def test_product_rate_counts_flops_per_second(monkeypatch):
    """2 M K N FLOPs per call divided by the (fake) seconds per call."""
    monkeypatch.setattr(timing, "time_per_call", lambda fn, reps, clk: (fn(), 0.5)[1])
    assert timing.product_rate(3, 4, 5, "float64", repeats=2) == pytest.approx(2 * 3 * 4 * 5 / 0.5)


def test_page_faults_counts_fresh_memory():
    """Touching a new 64 MB array every call faults; reusing one array does not."""
    pytest.importorskip("resource")  # POSIX only; page_faults returns None elsewhere
    kept = np.ones(8 * 2**20)

    def fresh():
        np.ones(8 * 2**20)  # 64 MB: mmap-ed by malloc, returned to the OS when freed

    def reuse():
        kept.fill(2.0)
    assert timing.page_faults(fresh, reps=2) > 16  # 16384 pages of 4 kB, or 32 huge pages of 2 MB
    assert timing.page_faults(reuse, reps=2) < 10


def test_product_rate_is_a_positive_rate():
    assert timing.product_rate(2, 3, 4, "float32", repeats=1) > 0


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_time_split_adds_up_for_every_kind(kind):
    split = timing.time_split(kind, 2, 3, 2, 4, "float64", repeats=1)
    assert split["matmul"] > 0 and split["other"] == pytest.approx(split["total"] - split["matmul"])


def test_time_split_adds_up():
    split = timing.time_split("lstm", 2, 3, 2, 4, "float64", repeats=1)
    assert split["total"] > 0 and split["matmul"] > 0
    assert split["other"] == pytest.approx(split["total"] - split["matmul"])
    assert split["flops"] == timing.matmul_flops("lstm", 2, 3, 2, 4)["total"] and split["limit"] > 0


def test_compare_gives_ratios_to_the_reference():
    x = np.ones(1000)
    out = timing.compare({"one": lambda: np.sin(x), "three": lambda: [np.sin(x) for _ in range(3)]},
                         reference="one", rounds=3)
    assert out["one"]["rounds"] == [1.0, 1.0, 1.0] and out["one"]["median"] == 1.0
    assert len(out["three"]["rounds"]) == 3 and out["three"]["median"] > 0


def test_one_thread_pins_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [d["num_threads"] for d in threadpoolctl.threadpool_info()]
    with timing.one_thread():
        assert all(d["num_threads"] == 1 for d in threadpoolctl.threadpool_info())
    assert [d["num_threads"] for d in threadpoolctl.threadpool_info()] == before
