r"""Chapter 9's task table: minimal layers (1, 2, 3 deep) against a GRU and an LSTM of equal size.

Two tasks: the selective copying task (:mod:`rnnlib.data.selective`, accuracy on
the recalled tokens) and the adding problem of Chapter 4 (:func:`rnnlib.data.tasks.adding_problem`,
held-out MSE; baseline 1/6). Every model is a recurrent part and a linear readout
(:class:`TaskNet`), trained with Adam and gradient clipping in float64 for the
same number of updates on the same batches. The hidden sizes are chosen so that
every model has about the same number of parameters as the reference GRU
(:func:`hidden_for_budget`).

``python -m rnnlib.experiments.minimal_bench --part tasks`` runs the full table;
:func:`run_task` trains one model (the chapter runs a small one live).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from rnnlib.data.selective import selective_copy
from rnnlib.data.tasks import adding_problem
from rnnlib.layers import GRU, LSTM, Linear
from rnnlib.losses import mse_loss, softmax_cross_entropy
from rnnlib.minimal_stack import MinimalStack
from rnnlib.optim import Adam, clip_grad_norm

MODELS = ("mingru-1", "mingru-2", "mingru-3", "minlstm-1", "minlstm-2", "minlstm-3", "gru", "lstm")
"""Model names: a minimal stack ``kind-layers``, or the one-layer GRU / LSTM."""


@dataclass
class TaskConfig:
    """One training run of the table (the defaults are the table's settings)."""
    task: str = "selective"  # "selective" or "adding"
    T: int = 64  # selective: data part (+ n_tokens recall steps); adding: sequence length
    n_tokens: int = 4  # selective copying: tokens to copy
    n_symbols: int = 8  # selective copying: data symbols
    budget_hidden: int = 32  # the GRU's hidden size; the others match its parameter count
    steps: int = 1500  # Adam updates
    batch_size: int = 32
    lr: float = 3e-3
    clip: float = 1.0
    eval_size: int = 512  # held-out sequences (own seed)
    method: str = "loop"  # how the minimal layers solve it (all agree; "log-scan" is ~10x slower here)
    seed: int = 0


class TaskNet:
    """A recurrent part (minimal stack, GRU or LSTM) and a linear readout.

    ``mode="last"`` reads out ``h_T`` (N, out); ``mode="tail"`` reads out the last ``k``
    states (N, k, out).
    """

    def __init__(self, model, input_size, hidden_size, output_size, *, seed=0, method="log-scan"):
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}; got {model!r}")
        self.name, self.method = model, method
        if model in ("gru", "lstm"):
            self.rec = (GRU if model == "gru" else LSTM)(input_size, hidden_size, seed=seed)
        else:
            kind, layers = model.split("-")
            self.rec = MinimalStack(kind, input_size, hidden_size, int(layers), seed=seed)
        self.out = Linear(hidden_size, output_size, seed=seed + 7)
        self._shape = None

    @property
    def params(self):
        return {**{f"rec.{k}": v for k, v in self.rec.params.items()},
                **{f"out.{k}": v for k, v in self.out.params.items()}}

    @property
    def grads(self):
        return {**{f"rec.{k}": v for k, v in self.rec.grads.items()},
                **{f"out.{k}": v for k, v in self.out.grads.items()}}

    @property
    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    def zero_grad(self):
        self.rec.zero_grad()
        self.out.zero_grad()

    def forward(self, x, k):
        """``x`` (N, T, D) -> readout of the last ``k`` states, (N, k, out)."""
        if isinstance(self.rec, MinimalStack):
            hs, _ = self.rec.forward(x, method=self.method)
        else:
            hs, _ = self.rec.forward(x)
        self._shape = hs.shape
        return self.out.forward(hs[:, -k:])

    def backward(self, dy):
        """``dy`` (N, k, out): gradients into every parameter."""
        N, T, H = self._shape
        dhs = np.zeros((N, T, H))
        dhs[:, -dy.shape[1]:] = self.out.backward(dy)
        self.rec.backward(dhs)


def n_params_of(model, D, H, out):
    """Parameter count of ``TaskNet(model, D, H, out)`` without building it."""
    if model == "gru":
        return 3 * (D * H + H * H + H) + H + H * out + out  # W_x, W_h, b (3H) and b_hn
    if model == "lstm":
        return 4 * (D * H + H * H + H) + H * out + out
    kind, layers = model.split("-")
    g = 2 if kind == "mingru" else 3
    L = int(layers)
    first = g * (D * H + H)
    rest = (L - 1) * (g * (H * H + H) + H * H + H)  # a layer and the projection before it
    return first + rest + H * out + out


def hidden_for_budget(model, D, out, budget):
    """The hidden size whose parameter count is closest to ``budget``."""
    return min(range(1, 1024), key=lambda H: abs(n_params_of(model, D, H, out) - budget))


def _batch(cfg, N, rng):
    if cfg.task == "selective":
        return selective_copy(N, cfg.T, rng, cfg.n_tokens, cfg.n_symbols)
    x, y = adding_problem(N, cfg.T, rng)
    return x, y[:, None, :]  # (N, 1, 1): the readout of the last state


def _loss(cfg, pred, y):
    if cfg.task == "selective":
        return softmax_cross_entropy(pred, y)
    return mse_loss(pred, y)


def _score(cfg, pred, y):
    """Selective: accuracy on the recalled tokens; adding: MSE."""
    if cfg.task == "selective":
        return float(np.mean(np.argmax(pred, axis=-1) == y))
    return float(np.mean((pred - y) ** 2))


def run_task(model, cfg: TaskConfig, eval_every=300):
    """Train ``model`` on ``cfg.task``; return a dict with the curve and the final score.

    The GRU has ``cfg.budget_hidden`` units; every other model gets the hidden size
    that gives it the GRU's parameter count. Batches and the held-out set are drawn
    from their own generators (seeds ``cfg.seed`` and ``cfg.seed + 10**6``), the
    same for every model.
    """
    D, out, k = ((cfg.n_symbols + 2, cfg.n_symbols, cfg.n_tokens) if cfg.task == "selective" else (2, 1, 1))
    budget = n_params_of("gru", D, cfg.budget_hidden, out)
    H = cfg.budget_hidden if model == "gru" else hidden_for_budget(model, D, out, budget)
    net = TaskNet(model, D, H, out, seed=cfg.seed, method=cfg.method)
    opt = Adam(net.params, lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    x_ev, y_ev = _batch(cfg, cfg.eval_size, np.random.default_rng(cfg.seed + 10**6))
    steps, scores, losses = [], [], []
    start = time.process_time()
    for step in range(cfg.steps + 1):
        if step % eval_every == 0 or step == cfg.steps:
            pred = net.forward(x_ev, k)
            steps.append(step)
            scores.append(_score(cfg, pred, y_ev))
            losses.append(float(_loss(cfg, pred, y_ev)[0]))
        if step == cfg.steps:
            break
        x, y = _batch(cfg, cfg.batch_size, rng)
        _, dpred = _loss(cfg, net.forward(x, k), y)
        net.zero_grad()
        net.backward(dpred)
        grads = net.grads
        clip_grad_norm(grads, cfg.clip)
        opt.step(grads)
    return {"model": model, "hidden_size": H, "n_params": net.n_params, "steps": steps,
            "score": scores, "loss": losses, "final": scores[-1], "cpu_seconds": time.process_time() - start,
            "config": asdict(cfg)}


def task_table(models=MODELS, configs=None, progress=print):
    """Every model on every task configuration; a list of :func:`run_task` results."""
    configs = configs or [TaskConfig("selective"), TaskConfig("adding", T=100)]
    rows = []
    for cfg in configs:
        for m in models:
            rows.append(run_task(m, cfg))
            if progress:
                r = rows[-1]
                progress(f"{cfg.task:9s} {m:10s} H={r['hidden_size']:3d} params={r['n_params']:6d} "
                         f"final={r['final']:.4f} cpu={r['cpu_seconds']:.1f}s")
    return rows
