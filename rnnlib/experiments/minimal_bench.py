r"""Chapter 9's measurements as a script: the CPU timing grid and the task table.

``python -m rnnlib.experiments.minimal_bench`` (``--part timing``, ``--part tasks`` or
``--part all``) writes ``benchmarks/minimal-timing.json`` and ``benchmarks/minimal-tasks-{selective,adding}.json``
(``--out DIR`` to change the folder). The chapter loads them and runs a small version live.

Timing (:func:`timing_grid`): one thread, float64, N = 32, D = H = 256, T in {64, 512, 4096};
forward passes of rnnlib's GRU and of a MinGRU by every method, the recurrence solvers
alone, and the floors measured in the same round: the input matmul, a pass over the
same bytes (``np.add(a, b, out=h)``: read two arrays, write one) and ``np.exp`` over
the same elements. Times are the thread's CPU time (``time.thread_time``), minimum and
median over ``repeats`` (default 5) interleaved rounds. :func:`thread_grid` times torch's log-space scan and loop with 1
and 2 threads (wall clock).

Tasks: :func:`rnnlib.experiments.minimal_tasks.task_table`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnlib.experiments.minimal_tasks import MODELS, TaskConfig, task_table
from rnnlib.experiments.timing import one_thread
from rnnlib.layers import GRU
from rnnlib.minimal import MinGRU
from rnnlib.scan import _solve

METHODS = ("loop", "chunked", "scan", "log-scan")
"""The MinGRU methods the grid times ("cumprod" is left out: it fails at T = 4096)."""

TRANSCENDENTALS = {"gru": 3, "loop": 2, "chunked": 2, "scan": 2, "log-scan": 13}
r"""Transcendental calls per element of (N, T, H) in a forward pass, counted in the code.

GRU: sigmoid for r and z, tanh for n (3). MinGRU without logs: sigmoid for z, the
sigmoid inside g (2; ``np.where`` evaluates both branches). The log-scan adds
softplus(k_z) and softplus(-k_z) (exp and log1p each: 4), log g (a log and a
softplus: 3), the ``logaddexp`` of h0 into the first step and of the accumulate
(exp and log1p: 2 per element), the final exp (1), and a log of h0 (negligible): 2 + 11 = 13.
"""


def counts(T, N=32, D=256, H=256):
    """FLOPs of the matmuls, transcendental calls and bytes of a forward pass, by model."""
    M = N * T  # rows of the hoisted input matmul
    elems = N * T * H
    out = {"gru": {"matmul_flops": 2 * M * D * 3 * H + 2 * M * H * 3 * H,
                   "transcendentals": TRANSCENDENTALS["gru"] * elems}}
    for m in METHODS:
        out[m] = {"matmul_flops": 2 * M * D * 2 * H, "transcendentals": TRANSCENDENTALS[m] * elems}
    out["recurrence_bytes"] = 3 * elems * 8  # read a and b, write h (float64)
    out["elements"] = elems
    return out


def _rounds(fns, repeats):
    """Time every function of ``fns`` once per round, in an order that rotates; ``repeats`` rounds.

    Returns ``{name: {"min": s, "median": s, "all": [...]}}`` (thread CPU seconds). On a
    loaded machine the same call varied 3x between rounds; the minimum is the cost with
    the least interference, the median what a reader on a busy machine sees.
    """
    names = list(fns)
    times = {n: [] for n in names}
    for r in range(repeats):
        for n in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.thread_time()
            fns[n]()
            times[n].append(time.thread_time() - t0)
    return {n: {"min": float(min(v)), "median": float(np.median(v)), "all": [float(t) for t in v]}
            for n, v in times.items()}


def timing_grid(Ts=(64, 512, 4096), N=32, D=256, H=256, repeats=5, seed=0, progress=print):
    """Forward-pass times (thread CPU seconds) for the grid; see the module docstring.

    Each row has ``layer`` (GRU and MinGRU by method), ``solver`` (the recurrence alone on
    the same (N, T, H) arrays) and ``floor`` (the minGRU's one matmul, a pass over the
    recurrence's bytes, elementwise ``np.exp`` and ``np.logaddexp`` over its elements,
    ``np.logaddexp.accumulate`` and ``np.cumsum`` along time), all timed in the same rounds.
    """
    rows = []
    with one_thread():
        for T in Ts:
            rng = np.random.default_rng(seed)
            x = rng.standard_normal((N, T, D))
            gru, mingru = GRU(D, H, seed=seed), MinGRU(D, H, seed=seed)
            a = rng.uniform(0.1, 0.9, (N, T, H))
            b = rng.uniform(0.1, 1.0, (N, T, H))
            h0, out = np.zeros((N, H)), np.empty((N, T, H))
            W = np.concatenate([mingru.params["W_z"], mingru.params["W_h"]], axis=1)
            x2 = x.reshape(N * T, D)
            fns = {"layer/gru": lambda: gru.forward(x)}
            for m in METHODS:
                fns[f"layer/{m}"] = lambda m=m: mingru.forward(x, method=m)
                fns[f"solver/{m}"] = lambda m=m: _solve(a, b, h0, m)
            fns.update({
                "floor/matmul": lambda: x2 @ W,  # the minGRU's only matmul
                "floor/pass": lambda: np.add(a, b, out=out),  # read a and b, write h
                "floor/exp": lambda: np.exp(a, out=out),
                "floor/logaddexp": lambda: np.logaddexp(a, b, out=out),
                "floor/logaddexp.accumulate": lambda: np.logaddexp.accumulate(a, axis=1, out=out),
                "floor/cumsum": lambda: np.cumsum(a, axis=1, out=out),
            })
            res = _rounds(fns, repeats)
            row = {"T": T, "N": N, "D": D, "H": H, "layer": {}, "solver": {}, "floor": {}}
            for name, v in res.items():
                part, key = name.split("/")
                row[part][key] = v
            row["counts"] = counts(T, N, D, H)
            rows.append(row)
            if progress:
                progress(f"T={T} (min ms): " + "; ".join(
                    f"{part} " + ", ".join(f"{k} {v['min'] * 1e3:.1f}" for k, v in row[part].items())
                    for part in ("layer", "solver", "floor")))
            del x, a, b, out, x2, gru, mingru, fns
    return rows


def thread_grid(Ts=(512, 4096), N=32, H=256, threads=(1, 2), repeats=3, seed=0):
    """torch (float64): the log-space scan (cumsum + logcumsumexp) and the loop, by thread count.

    Wall-clock medians in seconds; ``None`` if torch is not installed.
    """
    try:
        import torch
    except ImportError:
        return None
    old = torch.get_num_threads()
    rows = []
    try:
        for T in Ts:
            g = torch.Generator().manual_seed(seed)
            log_a = -torch.rand((N, T, H), generator=g, dtype=torch.float64) - 0.1
            log_b = -torch.rand((N, T, H), generator=g, dtype=torch.float64)
            a, b = log_a.exp(), log_b.exp()

            def log_scan():
                a_star = log_a.cumsum(dim=1)
                return (a_star + (log_b - a_star).logcumsumexp(dim=1)).exp()

            def loop():
                h, hs = torch.zeros((N, H), dtype=torch.float64), torch.empty((N, T, H), dtype=torch.float64)
                for t in range(T):
                    h = torch.addcmul(b[:, t], a[:, t], h)
                    hs[:, t] = h
                return hs

            for n in threads:
                torch.set_num_threads(n)
                for name, fn in (("log-scan", log_scan), ("loop", loop)):
                    ts = []
                    for _ in range(repeats):
                        t0 = time.perf_counter()
                        fn()
                        ts.append(time.perf_counter() - t0)
                    rows.append({"T": T, "threads": n, "method": name, "seconds": float(np.median(ts))})
    finally:
        torch.set_num_threads(old)
    return rows


def environment():
    """Machine, versions and the load average when the run started."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    return {"machine": model, "cpu_count": os.cpu_count(),
            "numpy": np.__version__, "python": platform.python_version(),
            "loadavg": list(os.getloadavg()), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


TASK_STEPS = {"selective": 1500, "adding": 800}
"""Adam updates per run of the chapter's task table (sized to finish in about an hour on a
loaded 2-core machine, three seeds, the two tasks in parallel)."""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("timing", "tasks", "all"), default="all")
    p.add_argument("--out", default="benchmarks")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--thread-T", type=int, nargs="+", default=[512, 4096],
                   help="sequence lengths of the torch thread comparison (4096 takes minutes per call)")
    p.add_argument("--steps", type=int, default=None,
                   help=f"Adam updates per run (default: {TASK_STEPS})")
    p.add_argument("--task", choices=("selective", "adding", "both"), default="both")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="training seeds of the task table (rows are written after every run)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.part in ("timing", "all"):
        res = {"environment": environment(), "grid": timing_grid(repeats=args.repeats),
               "threads": thread_grid(Ts=tuple(args.thread_T))}
        (out / "minimal-timing.json").write_text(json.dumps(res, indent=1))
    if args.part in ("tasks", "all"):
        steps = {k: args.steps or v for k, v in TASK_STEPS.items()}
        configs = {"selective": TaskConfig("selective", steps=steps["selective"], eval_size=256),
                   "adding": TaskConfig("adding", T=100, steps=steps["adding"], eval_size=256)}
        for task in (("selective", "adding") if args.task == "both" else (args.task,)):
            tasks_for_seeds(configs[task], args.seeds, out / f"minimal-tasks-{task}.json")


def tasks_for_seeds(cfg, seeds, path, models=None):
    """The task table for ``cfg`` once per seed (seed-major), rewriting ``path`` after every run.

    A run cut short leaves the seeds finished so far in the file. Returns the result dict
    ``{"environment", "seeds", "rows"}``; every row's ``config`` names its seed.
    """
    res = {"environment": environment(), "seeds": list(seeds), "rows": []}
    for seed in seeds:
        one = replace(cfg, seed=seed)
        for m in models or MODELS:
            res["rows"] += task_table(models=(m,), configs=[one])
            Path(path).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()


def load(name):
    """A result file of ``benchmarks/`` (``"minimal-timing"``, ``"minimal-tasks-selective"`` ...), as a dict."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `python -m rnnlib.experiments.minimal_bench` first")
    return json.loads(path.read_text())


def grid_table(rows, stat="min"):
    """Markdown table of the timing grid (ms) with the ratios the chapter discusses."""
    head = ("| T | GRU | minGRU loop | chunked | scan | log-scan | solver: loop | log-scan | "
            "floor: matmul | pass | exp | GRU / minGRU loop | log-scan / loop (layer) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        L, S, F = r["layer"], r["solver"], r["floor"]
        ms = lambda v: f"{v[stat] * 1e3:.1f}"  # noqa: E731
        lines.append(f"| {r['T']} | {ms(L['gru'])} | {ms(L['loop'])} | {ms(L['chunked'])} | {ms(L['scan'])} | "
                     f"{ms(L['log-scan'])} | {ms(S['loop'])} | {ms(S['log-scan'])} | {ms(F['matmul'])} | "
                     f"{ms(F['pass'])} | {ms(F['exp'])} | {L['gru'][stat] / L['loop'][stat]:.2f} | "
                     f"{L['log-scan'][stat] / L['loop'][stat]:.2f} |")
    return "\n".join(lines)


def html_table(markdown):
    """A pipe-delimited markdown table as an HTML ``<table>`` (the book renders HTML outputs)."""
    lines = [ln.strip() for ln in markdown.strip().splitlines() if ln.strip()]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines if not set(ln) <= set("|-: ")]
    head, body = cells[0], cells[1:]
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # noqa: E731
    rows = ["<tr>" + "".join(f"<th>{esc(c)}</th>" for c in head) + "</tr>"]
    rows += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body]
    return "<table>\n" + "\n".join(rows) + "\n</table>"
