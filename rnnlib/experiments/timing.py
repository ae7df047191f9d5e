r"""Timing NumPy code fairly on a shared machine, and the matmul-FLOP limit.

Used by the benchmark command (:mod:`rnnlib.experiments.bench`) and the performance chapter.

* :func:`one_thread`: BLAS (and torch) on one thread for a block of code;
* :func:`compare`: several functions timed against one of them, interleaved
  in rounds, as medians of within-round ratios (a busy neighbour slows both
  sides of a ratio alike);
* :func:`matmul_flops`: the matmul FLOPs of one forward and backward pass of
  a recurrent layer; :func:`matmul_rate`: the machine's peak matmul rate;
  :func:`product_rate`: the rate of one product of given shapes;
* :func:`page_faults`: how often a function makes the kernel hand out fresh memory;
* :func:`time_split`: how much of a pass the matmuls take.

Times are the calling thread's CPU time (``time.thread_time``) unless
``clock="wall"``: on a shared machine it ignores the moments another process
holds the core.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from rnnlib._loops import step_matmul_operands
from rnnlib.layers import GRU, LSTM, RNN

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks G stacked in W_x, W_h
LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
PEAK_N = 1024  # side of the square matmul that measures the peak rate
TARGET_TIME = 0.02  # seconds: each timing repeats a pass until it lasts about this long


def matmul_flops(kind, N, T, D, H):
    r"""Matmul FLOPs of one forward and one backward pass, counted as rnnlib computes them.

    Forward: the input projection for all steps, :math:`2 T N D \cdot GH`, and one
    recurrent product per step, :math:`2 N H \cdot GH`: in all
    :math:`2 T N (D + H) G H`, G the number of gate blocks (1, 4, 3). Backward:
    :math:`dh_{t-1} = da_t W_h^\top` at every step (t = 1 gives dh_0),
    :math:`dW_x`, :math:`dW_h` and :math:`dx` as one product each over all rows:
    twice the forward. Both GRU forms and the per-gate cells do the same count
    (the per-gate GRU backward adds one (N, H) x (H, H) product per step, not
    counted). Elementwise work and bias sums are not counted.

    Returns
    -------
    dict
        ``forward``, ``backward``, ``total`` (ints).
    """
    fwd = 2 * T * N * (D + H) * GATES[kind] * H
    return {"forward": fwd, "backward": 2 * fwd, "total": 3 * fwd}


def timer(name):
    """The clock function: ``"thread"`` (CPU time of this thread) or ``"wall"``."""
    return {"thread": time.thread_time, "wall": time.perf_counter}[name]


def time_per_call(fn, reps, clock):
    """Seconds per call of ``fn()``, over ``reps`` calls, measured with the function ``clock``."""
    t0 = clock()
    for _ in range(reps):
        fn()
    return (clock() - t0) / reps


_PEAK_ARRAYS = {}


def page_faults(fn, reps=3):
    """Page faults per call of ``fn()`` (minor ones: a fresh page mapped and zeroed by the kernel).

    Counts this process's minor faults over ``reps`` calls (``resource.getrusage``);
    returns ``None`` where the ``resource`` module does not exist (Windows).
    A high count means each call gets fresh memory from the operating system,
    which costs system time on top of the arithmetic.
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(reps):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / reps


def product_rate(M, K, N, dtype, repeats=3, clock="thread"):
    """FLOP/s of an (M, K) @ (K, N) matmul into a preallocated result, best of ``repeats``.

    Each repeat calls the product until about ``TARGET_TIME`` has passed, so
    tiny products are timed over many calls. The weight and the result are laid
    out as in rnnlib's loops (:func:`rnnlib._loops.step_matmul_operands`), so
    with ``M`` the batch size this is the rate of a recurrent layer's per-step
    product; compare it with
    :func:`matmul_rate` to see how far small batches are from the peak.
    """
    rng = np.random.default_rng(0)
    a = rng.random((M, K)).astype(dtype)
    b, out = step_matmul_operands(rng.random((K, N)).astype(dtype), M, dtype)  # laid out as rnnlib does
    clk = timer(clock)

    def call():
        np.matmul(a, b, out=out)
    reps = max(1, int(TARGET_TIME / max(time_per_call(call, 1, clk), 1e-7)))
    best = min(time_per_call(call, reps, clk) for _ in range(repeats))
    return 2 * M * K * N / best


def matmul_rate(dtype, n=None, repeats=2, clock="thread"):
    """FLOP/s of an (n, n) @ (n, n) matmul (n = ``PEAK_N``) on the current threads, best of ``repeats``."""
    n = PEAK_N if n is None else n
    key = (np.dtype(dtype), n)
    if key not in _PEAK_ARRAYS:
        rng = np.random.default_rng(0)
        _PEAK_ARRAYS[key] = tuple(rng.random((n, n)).astype(dtype) for _ in range(3))
    a, b, out = _PEAK_ARRAYS[key]
    best = min(time_per_call(lambda: np.matmul(a, b, out=out), 1, timer(clock)) for _ in range(repeats))
    return 2 * n**3 / best


@contextmanager
def one_thread(torch=None):
    """Run the block with BLAS (threadpoolctl, if installed) and torch (if given) on one thread.

    Restores the previous settings on exit. Without threadpoolctl, set
    ``OPENBLAS_NUM_THREADS=1`` before starting Python instead.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    limiter = threadpool_limits(limits=1) if threadpool_limits else None
    torch_threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)
        if limiter is not None:
            limiter.restore_original_limits()


def compare(runs, reference, rounds=5, clock="thread"):
    """Time several functions of no argument against one of them, interleaved in rounds.

    Parameters
    ----------
    runs : dict
        ``{name: function}``; each call is one unit of work (e.g. a forward and backward pass).
    reference : str
        The name every time is divided by.
    rounds : int
    clock : {"thread", "wall"}

    Returns
    -------
    dict
        ``{name: {"median": ..., "rounds": [...]}}``: time / reference time within
        each round, and the median over rounds.
    """
    clk = timer(clock)
    reps = {name: max(1, int(TARGET_TIME / max(time_per_call(fn, 1, clk), 1e-6))) for name, fn in runs.items()}
    names, times = list(runs), {name: [] for name in runs}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate the order
            times[name].append(time_per_call(runs[name], reps[name], clk))
    ref = np.array(times[reference])
    return {name: {"median": float(np.median(np.array(t) / ref)), "rounds": list(np.array(t) / ref)}
            for name, t in times.items()}


def sample_problem(kind, N, T, D, H, dtype, seed=0):
    """A layer (default init), an input x (N, T, D) and upstream gradients dhs (N, T, H), seeded."""
    rng = np.random.default_rng(seed)
    layer = LAYERS[kind](D, H, seed=seed, dtype=dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    return layer, x, dhs


def time_split(kind, N, T, D, H, dtype, repeats=5, clock="thread"):
    """Where the time of one pass goes: the matmuls alone, and everything else.

    Times a forward and backward pass of the layer (``rnnlib.LSTM`` etc.,
    which reuse the buffers of their previous pass), then a replay of exactly
    its matmuls (same shapes, same layouts, the reset-after
    GRU) with nothing in between, interleaved, medians over ``repeats``.

    Returns
    -------
    dict
        ``total``, ``matmul``, ``other`` (seconds per pass), ``flops`` and
        ``limit`` (FLOPs / peak rate measured alongside), ``calls_per_step``.
    """
    dtype = np.dtype(dtype)
    layer, x, dhs = sample_problem(kind, N, T, D, H, dtype)
    p, GH = layer.params, GATES[kind] * H

    def full():  # as the layer runs: buffers reused from its previous pass
        layer.forward(x)
        layer.backward(dhs)
    W_x, W_h = (p["W_xh"], p["W_hh"]) if kind == "rnn" else (p["W_x"], p["W_h"])
    xh2 = np.ones((T * N, D + H), dtype)  # rows [x_t | h_{t-1}], as in _loops.operands_buffer
    x2, hp2 = xh2[:, :D], xh2[:, D:]
    da = np.ones((T, N, GH), dtype) * 0.01
    P, h = np.empty((T * N, GH), dtype), np.zeros((N, H), dtype)

    def replay():  # the matmuls of rnn/lstm/gru_forward and _backward, in order
        np.matmul(x2, W_x, out=P)
        W_h_, hW = step_matmul_operands(W_h, N, dtype)
        for _ in range(T):
            np.matmul(h, W_h_, out=hW)
        W_hT, dh = step_matmul_operands(W_h.T, N, dtype)
        for t in range(T):
            np.matmul(da[t], W_hT, out=dh)
        da2 = da.reshape(T * N, GH)
        if kind == "gru":  # two: the candidate block differs between dW_x and dW_h
            return x2.T @ da2, hp2.T @ da2, da2 @ W_x.T
        return xh2.T @ da2, da2 @ W_x.T  # dW_x and dW_h stacked, then dx
    clk = timer(clock)
    times = {"total": [], "matmul": [], "peak": []}
    for _ in range(repeats):
        times["total"].append(time_per_call(full, 1, clk))
        times["matmul"].append(time_per_call(replay, 1, clk))
        times["peak"].append(matmul_rate(dtype, clock=clock))
    med = {k: float(np.median(v)) for k, v in times.items()}
    flops = matmul_flops(kind, N, T, D, H)["total"]
    return {"total": med["total"], "matmul": med["matmul"], "other": med["total"] - med["matmul"],
            "flops": flops, "limit": flops / med["peak"]}
