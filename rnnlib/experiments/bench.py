r"""Benchmark rnnlib's layers against PyTorch, the matmul-FLOP limit and the per-gate loop.

Run ``python -m rnnlib.experiments.bench`` for the grid of issue 8 (RNN, LSTM, GRU;
N in {1, 32}, H in {64, 256}, T in {50, 200}, D = 64; float64 and float32),
or a part of it (``--kinds lstm --N 32 --H 256 --T 50 --dtypes float32``);
``--help`` lists the options. Each configuration times one forward and one
backward pass of

* ``rnnlib``: ``layer.forward(x)`` then ``layer.backward(dhs)`` (an
  :class:`rnnlib.LSTM`, ...; the GRU in its reset-after form);
* ``torch``: ``torch.nn.LSTM(D, H, batch_first=True)`` (...) with the same
  weights, ``out.backward(dhs)``, the input requiring a gradient, if torch is
  installed;
* ``per-gate`` (N = 1 only): the chapter-2 cells, one matmul per gate, in a
  loop over time, forward and backward (:mod:`rnnlib.experiments.baselines`);
* the matmul-FLOP limit: the FLOPs of the pass (:func:`rnnlib.experiments.timing.matmul_flops`) divided
  by the rate of a large square matmul, measured in the same round.

Everything runs on one thread (:func:`rnnlib.experiments.timing.one_thread`: threadpoolctl and
``torch.set_num_threads(1)``).
The implementations are interleaved in rounds, in an order that rotates, and
every ratio is a median over rounds of ratios taken within a round, so a
machine shared with other jobs slows both sides of a ratio alike. Times are the
benchmarking thread's CPU time (``time.thread_time``; ``--clock wall`` for wall
time), which ignores the moments another process holds the core. The results
and every round go to a JSON file (``--json``, default ``_build/bench.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np

from rnnlib.experiments import baselines

from rnnlib.experiments import timing
from rnnlib.gradcheck import rel_error
from rnnlib.experiments.timing import GATES, matmul_flops, matmul_rate, one_thread, sample_problem, time_per_call, timer
from rnnlib.torch_io import to_torch_state_dict

GRID = {"kinds": ["rnn", "lstm", "gru"], "N": [1, 32], "H": [64, 256], "T": [50, 200], "D": 64,
        "dtypes": ["float64", "float32"]}
TORCH_PIN = "pip install torch==2.13.0"  # the CPU build; never unpinned
TARGETS = {"torch": 1.0, "torch_lstm_f32": 2.0, "limit": 1.3, "per_gate_speedup": 5.0, "parity64": 1e-10}


def _import_torch():
    """torch, or None if it is not installed (tests replace this function)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_runner(torch, layer, kind, x, dhs):
    """A torch module with the layer's weights, and a function doing forward + backward."""
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    module = getattr(torch.nn, kind.upper())(x.shape[2], layer.hidden_size, batch_first=True, dtype=dtype)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(layer).items()})
    tx, tdh = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dhs)

    def run():
        module.zero_grad(set_to_none=True)
        tx.grad = None
        out, _ = module(tx)
        out.backward(tdh)
        return out
    return module, tx, run


def onednn_effect(kind, N, T, D, H, dtype, torch, rounds=5):
    """How much slower torch's layer is with oneDNN (mkldnn) switched off: median time ratio.

    A ratio well above 1 means torch used its fused oneDNN kernel for this
    configuration (its float32 LSTM); about 1 means it did not.
    """
    layer, x, dhs = sample_problem(kind, N, T, D, H, dtype)
    _, _, run_torch = _torch_runner(torch, layer, kind, x, dhs)

    def without_onednn():
        with warnings.catch_warnings():  # torch warns about TF32 on Intel GPUs when flags change
            warnings.simplefilter("ignore", UserWarning)
            with torch.backends.mkldnn.flags(enabled=False):
                run_torch()
    ratios = timing.compare({"oneDNN": run_torch, "without": without_onednn}, reference="oneDNN", rounds=rounds)
    return ratios["without"]["median"]


def _parity(layer, x, dhs, module=None, tx=None, torch_run=None, per_gate=None):
    """Largest relative error of rnnlib's outputs, dx and weight gradients against torch / per-gate."""
    layer.zero_grad()
    hs, _ = layer.forward(x)
    dx, _ = layer.backward(dhs)
    errors = {}
    if torch_run is not None:
        out = torch_run()
        grads = to_torch_state_dict(layer, grads=True)
        pairs = [(hs, out.detach().numpy()), (dx, tx.grad.numpy())]
        pairs += [(grads[k], getattr(module, k).grad.numpy()) for k in grads]
        errors["torch"] = max(rel_error(a, b) for a, b in pairs)
    if per_gate is not None:
        p_hs, p_dx, p_grads = per_gate()
        pairs = [(hs, p_hs), (dx, p_dx)] + [(layer.grads[k], p_grads[k]) for k in layer.grads]
        errors["per_gate"] = max(rel_error(a, b) for a, b in pairs)
    return errors


def bench_config(kind, N, T, D, H, dtype, rounds=7, torch=None, clock="thread"):
    """Time one configuration; returns a JSON-able dict (times in seconds per pass)."""
    dtype = np.dtype(dtype)
    clk = timer(clock)
    layer, x, dhs = sample_problem(kind, N, T, D, H, dtype)

    def rnnlib_run():
        layer.zero_grad()
        layer.forward(x)
        layer.backward(dhs)
    runs = {"rnnlib": rnnlib_run}
    module = tx = None
    if torch is not None:
        module, tx, runs["torch"] = _torch_runner(torch, layer, kind, x, dhs)
    per_gate = partial(baselines.forward_backward, "per_gate", kind, layer.params, x, dhs) if N == 1 else None
    if per_gate is not None:
        runs["per_gate"] = per_gate
    parity = _parity(layer, x, dhs, module, tx, runs.get("torch"), per_gate)
    reps = {name: max(1, int(timing.TARGET_TIME / max(time_per_call(fn, 1, clk), 1e-6)))
            for name, fn in runs.items()}
    names, times, peak = list(runs) + ["peak"], {name: [] for name in runs}, []
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate the order
            if name == "peak":
                peak.append(matmul_rate(dtype, clock=clock))  # FLOP/s, this round
            else:
                times[name].append(time_per_call(runs[name], reps[name], clk))
    flops = matmul_flops(kind, N, T, D, H)
    t = np.array(times["rnnlib"])
    ratios = {}
    if "torch" in times:
        ratios["rnnlib/torch"] = t / np.array(times["torch"])
    ratios["rnnlib/limit"] = t / (flops["total"] / np.array(peak))
    if "per_gate" in times:
        ratios["rnnlib/per-gate"] = t / np.array(times["per_gate"])
    return {"kind": kind, "N": N, "T": T, "D": D, "H": H, "dtype": dtype.name, "flops": flops,
            "reps": reps, "times": times, "median_s": {k: float(np.median(v)) for k, v in times.items()},
            "peak_flops_per_s": peak,
            "ratios": {k: {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
                           "rounds": [float(r) for r in v]} for k, v in ratios.items()},
            "parity": parity}


def environment(torch=None):
    """Versions, BLAS and thread settings, CPU, as a dict."""
    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpu": _cpu_name(), "cpu_avx512": _cpu_has("avx512f"),
            "torch": None if torch is None else torch.__version__}
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: d.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                                      "architecture")} for d in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed (thread count from OPENBLAS_NUM_THREADS: " \
                              f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        info["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
    return info


def _cpu_has(flag):
    """Whether /proc/cpuinfo lists ``flag`` (None where there is no /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return any(flag in line.split() for line in text.splitlines() if line.startswith("flags"))


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def check_targets(results):
    """Issue 8's targets against the measured medians: a list of dicts (name, ok, worst value, where)."""
    def where(r):
        return f"{r['kind']} {r['dtype']} N={r['N']} H={r['H']} T={r['T']}"

    checks = []

    def add(name, rows, key, limit, higher_is_better=False):
        rows = [r for r in rows if key in r["ratios"]]
        if not rows:
            return
        val = (lambda r: 1 / r["ratios"][key]["median"]) if higher_is_better else (lambda r: r["ratios"][key]["median"])
        worst = min(rows, key=val) if higher_is_better else max(rows, key=val)
        ok = val(worst) >= limit if higher_is_better else val(worst) <= limit
        checks.append({"target": name, "ok": bool(ok), "worst": round(val(worst), 3), "at": where(worst),
                       "n_configs": len(rows)})

    add("rnnlib/torch <= 1.0 (all float64; RNN, GRU float32)",
        [r for r in results if r["dtype"] == "float64" or r["kind"] != "lstm"], "rnnlib/torch", TARGETS["torch"])
    add("rnnlib/torch <= 2.0 (LSTM float32, N=32, H=256)",
        [r for r in results if r["kind"] == "lstm" and r["dtype"] == "float32" and r["N"] == 32 and r["H"] == 256],
        "rnnlib/torch", TARGETS["torch_lstm_f32"])
    add("rnnlib/limit <= 1.3 (N=32, H=256)", [r for r in results if r["N"] == 32 and r["H"] == 256],
        "rnnlib/limit", TARGETS["limit"])
    add("per-gate/rnnlib >= 5 (N=1)", [r for r in results if r["N"] == 1], "rnnlib/per-gate",
        TARGETS["per_gate_speedup"], higher_is_better=True)
    rows = [r for r in results if r["dtype"] == "float64" and "torch" in r["parity"]]
    if rows:
        worst = max(rows, key=lambda r: r["parity"]["torch"])
        checks.append({"target": "parity with torch < 1e-10 relative (float64)",
                       "ok": worst["parity"]["torch"] < TARGETS["parity64"],
                       "worst": worst["parity"]["torch"], "at": where(worst), "n_configs": len(rows)})
    return checks


def _fmt(ratio):
    return f"{ratio['median']:5.2f} [{ratio['min']:.2f}-{ratio['max']:.2f}]" if ratio else " " * 16 + "-"


def report(result, out=None):
    """Print the table, the per-round ratios and the targets of a :func:`run` result (to stdout)."""
    out = sys.stdout if out is None else out
    env, m = result["environment"], result["meta"]
    pw = print
    pw(f"rnnlib.experiments.bench: forward + backward per pass, {m['rounds']} rounds, implementations interleaved", file=out)
    pw(f"  numpy {env['numpy']}, torch {env['torch'] or 'not installed'}, CPU {env['cpu']}", file=out)
    pools = env["threadpools"]
    if isinstance(pools, list):
        for p in pools:
            arch = f" ({p['architecture']} kernels)" if p.get("architecture") else ""
            version = f" {p['version']}" if p.get("version") else ""
            pw(f"  {p['user_api']}: {p['internal_api']}{version}{arch}, {p['num_threads']} thread(s)", file=out)
    else:
        pw(f"  {pools}", file=out)
    if env["torch"]:
        pw(f"  torch threads: {env['torch_threads']} (oneDNN/mkldnn available: {env['torch_mkldnn']})", file=out)
    else:
        pw(f"  PyTorch is not installed: no torch columns. Install the CPU build with `{TORCH_PIN}`.", file=out)
    pw(f"  clock: {m['clock']}; matmul peak ({m['peak_n']}^3, best round): "
       + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in m["peak_flops"].items()), file=out)
    pw("  FLOPs per pass = 6 T N (D + H) G H (forward 2 T N (D+H) G H, backward twice), G = 1, 4, 3", file=out)
    pw("  ratio columns: median [min-max] over rounds of within-round ratios; limit = FLOPs / peak", file=out)
    head = (f"{'kind':4} {'dtype':7} {'N':>3} {'H':>4} {'T':>4} | {'rnnlib ms':>9} {'torch ms':>9} | "
            f"{'rnnlib/torch':^22} | {'rnnlib/limit':^22} | {'rnnlib/per-gate':^22} | parity")
    pw("", file=out)
    pw(head, file=out)
    pw("-" * len(head), file=out)
    for r in result["results"]:
        ms, ra = r["median_s"], r["ratios"]
        torch_ms = f"{ms['torch'] * 1e3:9.2f}" if "torch" in ms else f"{'-':>9}"
        par = " ".join(f"{k} {v:.0e}" for k, v in r["parity"].items())
        pw(f"{r['kind']:4} {r['dtype']:7} {r['N']:3d} {r['H']:4d} {r['T']:4d} | {ms['rnnlib'] * 1e3:9.2f} {torch_ms} | "
           f"{_fmt(ra.get('rnnlib/torch')):^22} | {_fmt(ra.get('rnnlib/limit')):^22} | "
           f"{_fmt(ra.get('rnnlib/per-gate')):^22} | {par}", file=out)
    pw("\nper-round paired ratios:", file=out)
    for r in result["results"]:
        for k, v in r["ratios"].items():
            pw(f"  {r['kind']} {r['dtype']} N={r['N']} H={r['H']} T={r['T']} {k}: "
               + " ".join(f"{x:.2f}" for x in v["rounds"]), file=out)
    if result["targets"]:
        pw("\ntargets (issue 8), on the configurations run:", file=out)
        for c in result["targets"]:
            pw(f"  [{'PASS' if c['ok'] else 'FAIL'}] {c['target']}: worst {c['worst']:.3g} at {c['at']} "
               f"({c['n_configs']} configs)", file=out)


def run(kinds=GRID["kinds"], N=GRID["N"], H=GRID["H"], T=GRID["T"], D=GRID["D"], dtypes=GRID["dtypes"],
        rounds=7, use_torch=True, clock="thread", progress=None):
    """Run the grid on one thread; returns ``{"meta", "environment", "results", "targets"}``."""
    torch = _import_torch() if use_torch else None
    with one_thread(torch):
        env = environment(torch)
        results = []
        for kind in kinds:
            for dtype in dtypes:
                for n in N:
                    for h in H:
                        for t in T:
                            if progress:
                                print(f"  {kind} {dtype} N={n} H={h} T={t} ...", file=progress, flush=True)
                            results.append(bench_config(kind, n, t, D, h, dtype, rounds, torch, clock))
    peak = {}
    for r in results:
        peak[r["dtype"]] = max(peak.get(r["dtype"], 0.0), max(r["peak_flops_per_s"]))
    meta = {"rounds": rounds, "clock": clock, "grid": {"kinds": list(kinds), "N": list(N), "H": list(H),
                                                      "T": list(T), "D": D, "dtypes": list(dtypes)},
            "peak_flops": peak, "peak_n": timing.PEAK_N, "torch_installed": torch is not None,
            "torch_install": TORCH_PIN}
    return {"meta": meta, "environment": env, "results": results, "targets": check_targets(results)}


def main(argv=None):
    """Command line: ``python -m rnnlib.experiments.bench [options]``."""
    ap = argparse.ArgumentParser(prog="python -m rnnlib.experiments.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", nargs="+", choices=list(GATES), default=GRID["kinds"])
    ap.add_argument("--N", nargs="+", type=int, default=GRID["N"], help="batch sizes")
    ap.add_argument("--H", nargs="+", type=int, default=GRID["H"], help="hidden sizes")
    ap.add_argument("--T", nargs="+", type=int, default=GRID["T"], help="sequence lengths")
    ap.add_argument("--D", type=int, default=GRID["D"], help="input size")
    ap.add_argument("--dtypes", nargs="+", choices=["float64", "float32"], default=GRID["dtypes"])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds per configuration")
    ap.add_argument("--clock", choices=["thread", "wall"], default="thread",
                    help="thread CPU time (default; robust on a shared machine) or wall time")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    ap.add_argument("--json", default="_build/bench.json", help="where to write the results")
    args = ap.parse_args(argv)
    if min(args.N + args.H + args.T + [args.D, args.rounds]) < 1:
        ap.error("--N, --H, --T, --D and --rounds must be positive")
    result = run(args.kinds, args.N, args.H, args.T, args.D, args.dtypes, args.rounds,
                 use_torch=not args.no_torch, clock=args.clock, progress=sys.stderr)
    report(result)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(f"\nresults written to {path}")
    return result


if __name__ == "__main__":
    main()
