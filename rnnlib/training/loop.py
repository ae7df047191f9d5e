r"""Train a :class:`~rnnlib.training.model.SequenceModel` on a synthetic task, and record it.

:func:`train` runs Adam with gradient clipping by global norm on fresh
batches from a task generator ``task_fn(N, rng) -> (x, y)`` (e.g.
``lambda N, rng: adding_problem(N, 50, rng)``), evaluates on a held-out set
drawn once, and returns a :class:`History` of everything the chapter plots.
The settings sit in a :class:`TrainConfig`. One training step is

.. math::

    g = \nabla_\theta L(\theta; x, y), \quad
    g \leftarrow g \cdot \min(1, c / \lVert g \rVert), \quad
    \theta \leftarrow \operatorname{Adam}(\theta, g),

with :math:`\lVert g \rVert` the global norm over all parameters (Pascanu et
al. 2013). Randomness: the training batches come from one generator and the
held-out set from another, both spawned from ``config.seed``
(``np.random.SeedSequence(seed).spawn(2)``), so a run is a deterministic
function of the model's initial parameters and the config.

This is the only rnnlib module that imports tqdm (for the progress bar).

References
----------
Pascanu, R., Mikolov, T. & Bengio, Y. (2013). On the difficulty of training
recurrent neural networks. ICML.
Williams, R. J. & Peng, J. (1990). An efficient gradient-based algorithm for
on-line training of recurrent network trajectories. Neural Computation 2(4).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from rnnlib.training.model import LOSSES, SequenceModel, input_gradient_norms, loss_and_grad
from rnnlib.optim import Adam, clip_grad_norm, global_norm


@dataclass
class TrainConfig:
    """Settings of :func:`train`.

    The defaults are the chapter's adding-problem run (with
    ``SequenceModel(kind, 2, 32, 1)``, T = 50): LSTM and GRU reach a held-out
    MSE below 0.01 within 1000 steps, the tanh RNN stays near 1/6.
    """

    steps: int = 1000  # number of parameter updates
    batch_size: int = 64  # N of each training batch
    lr: float = 1e-2  # Adam learning rate
    clip: float | None = 1.0  # max global gradient norm; None: no clipping
    eval_every: int = 100  # evaluate after every this many updates (and before the first)
    eval_size: int = 512  # sequences in the held-out set
    seed: int = 0  # seeds the training batches and the held-out set
    loss: str = "mse"  # "mse" (regression) or "xent" (classification)
    tbptt: int | None = None  # truncated BPTT length k; None: full BPTT (see train)
    probe_size: int = 128  # held-out sequences for the input-gradient probe; 0: off
    probe_position: Callable | None = None  # x -> (N,) step to probe, e.g. tasks.first_marker; None: t = 0
    accuracy_last: int | None = None  # "xent": accuracy over the last k steps only (copy task: 10)
    progress: bool | None = None  # progress bar; None: auto (see train)

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_every", "eval_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive int; got {v!r}")
        if isinstance(self.lr, bool) or not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")
        if self.clip is not None and (isinstance(self.clip, bool)
                                      or not (isinstance(self.clip, (int, float)) and self.clip > 0)):
            raise ValueError(f"clip must be a positive number or None; got {self.clip!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        for name in ("tbptt", "accuracy_last"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0):
                raise ValueError(f"{name} must be a positive int or None; got {v!r}")
        if isinstance(self.probe_size, bool) or not isinstance(self.probe_size, (int, np.integer)) \
                or self.probe_size < 0:
            raise ValueError(f"probe_size must be a non-negative int; got {self.probe_size!r}")
        if self.probe_position is not None and not callable(self.probe_position):
            raise TypeError(f"probe_position must be a function x -> (N,) steps, or None; "
                            f"got {type(self.probe_position).__name__}")


@dataclass
class History:
    r"""Everything recorded by :func:`train` (arrays, in step order).

    Attributes
    ----------
    train_loss : ndarray (steps,)
        Loss of each training batch, before its update.
    grad_norm : ndarray (steps,)
        Global gradient norm of each batch *before* clipping.
    eval_steps : int ndarray (E,)
        Number of updates done at each evaluation (0 = the initial model).
    eval_loss : ndarray (E,)
        Mean loss on the held-out set.
    eval_accuracy : ndarray (E,)
        ``"xent"`` only (else empty): fraction of correct argmax predictions
        (over the last ``accuracy_last`` steps if set).
    input_grad : ndarray (E, T)
        Mean over the probe sequences of :math:`\lVert \partial \ell_n / \partial x_{n,t} \rVert`
        (see :func:`rnnlib.training.model.input_gradient_norms`); empty if the probe is off.
    input_grad_at : ndarray (E,)
        Mean over the probe sequences of that norm at ``probe_position(x)``
        (or t = 0); empty if the probe is off.
    probe_label : str
        Where ``input_grad_at`` is read: the name of ``probe_position`` or ``"t = 0"``.
    config : TrainConfig
    seconds : float
        Wall time of the run.
    """

    train_loss: np.ndarray
    grad_norm: np.ndarray
    eval_steps: np.ndarray
    eval_loss: np.ndarray
    eval_accuracy: np.ndarray
    input_grad: np.ndarray
    input_grad_at: np.ndarray
    probe_label: str
    config: TrainConfig = field(repr=False)
    seconds: float = 0.0

    @property
    def final_eval_loss(self) -> float:
        """Held-out loss after the last update."""
        return float(self.eval_loss[-1])


def _check_eval_set(x, model):
    if not (isinstance(x, np.ndarray) and x.ndim == 3 and x.shape[-1] == model.rnn.input_size):
        raise ValueError(f"task_fn must return x of shape (N, T, {model.rnn.input_size}); "
                         f"got {getattr(x, 'shape', type(x).__name__)}")


def _show_progress(config) -> bool:
    """Auto: only for long runs (>= 200 steps) in a terminal, never under CI."""
    if config.progress is not None:
        return bool(config.progress)
    return config.steps >= 200 and not os.environ.get("CI") and sys.stderr.isatty()


def loss_and_backward(model, x, y, loss="mse", tbptt=None):
    r"""Forward, loss and backward on one batch; gradients are *added* to ``model.grads``.

    Parameters
    ----------
    model : SequenceModel
    x : ndarray (N, T, D)
    y : ndarray
        Targets as for :func:`rnnlib.training.model.loss_and_grad`.
    loss : {"mse", "xent"}
    tbptt : int or None
        Truncation length k (``None`` or k >= T: full BPTT).

    Returns
    -------
    loss : float
        The batch loss; the same value with or without truncation (the
        forward pass is never truncated, only the gradient).

    Notes
    -----
    Truncated BPTT, exactly:

    * ``"many_to_one"``: the layer first runs over :math:`x_1 \dots x_{T-k}`
      and its final state :math:`h_{T-k}` is kept as a *constant*; then
      forward and backward run over the last k steps from that state. The
      gradient of the loss therefore flows back through at most k steps:
      :math:`\partial L / \partial x_t` is taken as 0 for :math:`t \le T-k`
      and the weights get only the terms of the last k steps.
    * ``"many_to_many"``: the sequence is cut into consecutive chunks of k
      steps (the last may be shorter); each chunk runs forward from the
      previous chunk's final state (a constant) and backward within itself.
      The loss of a chunk of length :math:`k_c` is weighted by :math:`k_c / T`,
      so the weighted sum is the full mean loss. Each output's gradient
      reaches back at most to the start of its chunk (Williams & Peng's
      BPTT(k, k)).
    """
    T = x.shape[1]
    if tbptt is None or tbptt >= T:
        pred = model.forward(x)
        value, dpred = loss_and_grad(pred, y, loss)
        model.backward(dpred)
        return value
    k = int(tbptt)
    if model.mode == "many_to_one":
        _, state = model.rnn.forward(x[:, : T - k])  # h_{T-k}: no gradient will flow into it
        pred = model.forward(x[:, T - k :], state)  # the last k steps
        value, dpred = loss_and_grad(pred, y, loss)
        model.backward(dpred)
        return value
    total, state = 0.0, None
    for start in range(0, T, k):
        stop = min(start + k, T)
        pred, state = model.forward(x[:, start:stop], state, return_state=True)
        value, dpred = loss_and_grad(pred, y[:, start:stop], loss)
        w = (stop - start) / T  # chunk weight: the weighted sum is the mean over all T
        model.backward(w * dpred)
        total += w * value
    return total


def _accuracy(pred, y, last):
    if last is not None and pred.ndim == 3:
        pred, y = pred[:, -last:], y[:, -last:]
    return float(np.mean(np.argmax(pred, axis=-1) == y))


def train(model, task_fn, config: TrainConfig | None = None, *, eval_task_fn=None) -> History:
    r"""Train ``model`` in place with Adam and gradient clipping; return its :class:`History`.

    Parameters
    ----------
    model : SequenceModel
        Trained in place (its ``grads`` are zeroed before each step).
    task_fn : callable
        ``task_fn(N, rng) -> (x, y)``: ``x`` (N, T, D), ``y`` the targets for
        ``config.loss`` (e.g. (N, 1) floats for the adding problem, (N, T)
        integer labels for the copy task).
    config : TrainConfig, optional
        ``None``: ``TrainConfig()``.
    eval_task_fn : callable, optional
        Same signature as ``task_fn``; where given, the held-out set is drawn
        from it instead (e.g. windows of a held-out text, where ``task_fn``
        draws windows of the training text). ``None``: from ``task_fn``.

    Returns
    -------
    History

    Notes
    -----
    Per step: draw a batch from the training generator, :func:`loss_and_backward`
    (full or truncated BPTT, ``config.tbptt``), record the global gradient norm,
    clip to ``config.clip``, one Adam step. The held-out set (``eval_size``
    sequences) is drawn once, before training, from its own generator; it is
    evaluated before the first update, every ``eval_every`` updates and after
    the last. At each evaluation the input-gradient probe (full BPTT, whatever
    ``tbptt`` is) runs on the first ``probe_size`` held-out sequences.

    The progress bar (tqdm, on stderr) shows by default only for runs of at
    least 200 steps when stderr is a terminal and the ``CI`` environment
    variable is unset; in a notebook it is off unless ``progress=True``.
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"model must be a SequenceModel; got {type(model).__name__}")
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig; got {type(config).__name__}")
    if not callable(task_fn):
        raise TypeError(f"task_fn must be a function (N, rng) -> (x, y); got {type(task_fn).__name__}")
    if eval_task_fn is not None and not callable(eval_task_fn):
        raise TypeError(f"eval_task_fn must be None or a function (N, rng) -> (x, y); "
                        f"got {type(eval_task_fn).__name__}")
    t_start = time.perf_counter()
    train_seq, eval_seq = np.random.SeedSequence(config.seed).spawn(2)
    rng, eval_rng = np.random.default_rng(train_seq), np.random.default_rng(eval_seq)
    x_eval, y_eval = (task_fn if eval_task_fn is None else eval_task_fn)(config.eval_size, eval_rng)
    _check_eval_set(x_eval, model)
    n_probe = min(config.probe_size, config.eval_size)
    probe_label = getattr(config.probe_position, "__name__", "probe position") \
        if config.probe_position is not None else "t = 0"

    params, grads = model.params, model.grads  # shared arrays: stay valid across zero_grad()
    opt = Adam(params, lr=config.lr)
    train_loss = np.zeros(config.steps)
    grad_norm = np.zeros(config.steps)
    ev_steps, ev_loss, ev_acc, probe, probe_at = [], [], [], [], []

    def evaluate(done):
        pred = model.forward(x_eval)
        ev_steps.append(done)
        ev_loss.append(loss_and_grad(pred, y_eval, config.loss)[0])
        if config.loss == "xent":
            ev_acc.append(_accuracy(pred, y_eval, config.accuracy_last))
        if n_probe:
            xp, yp = x_eval[:n_probe], y_eval[:n_probe]
            g = input_gradient_norms(model, xp, yp, config.loss)  # (n, T)
            where = (np.zeros(n_probe, dtype=int) if config.probe_position is None
                     else np.asarray(config.probe_position(xp)))
            if where.shape != (n_probe,) or where.dtype.kind not in "iu" \
                    or where.min() < 0 or where.max() >= xp.shape[1]:
                raise ValueError(f"probe_position must return one step in [0, {xp.shape[1]}) per "
                                 f"sequence, shape ({n_probe},); got {where.dtype} {where.shape}")
            probe.append(g.mean(axis=0))
            probe_at.append(float(g[np.arange(n_probe), where].mean()))

    bar = tqdm(range(config.steps), disable=not _show_progress(config), mininterval=1.0,
               desc=f"{model.kind} {config.loss}", file=sys.stderr)
    evaluate(0)
    for step in bar:
        x, y = task_fn(config.batch_size, rng)
        model.zero_grad()
        train_loss[step] = loss_and_backward(model, x, y, config.loss, config.tbptt)
        if config.clip is None:
            grad_norm[step] = global_norm(grads)
        else:
            grad_norm[step] = clip_grad_norm(grads, config.clip)  # norm before clipping
        if not np.isfinite(grad_norm[step]):
            raise FloatingPointError(f"gradient norm is {grad_norm[step]} at step {step}: training "
                                     "diverged (lower lr, or set clip)")
        opt.step(grads)
        done = step + 1
        if done % config.eval_every == 0 or done == config.steps:
            evaluate(done)
            bar.set_postfix(eval_loss=f"{ev_loss[-1]:.4g}", refresh=False)
    bar.close()

    T = x_eval.shape[1]
    return History(
        train_loss=train_loss, grad_norm=grad_norm,
        eval_steps=np.array(ev_steps, dtype=int), eval_loss=np.array(ev_loss),
        eval_accuracy=np.array(ev_acc),
        input_grad=np.array(probe).reshape(-1, T) if n_probe else np.zeros((0, T)),
        input_grad_at=np.array(probe_at), probe_label=probe_label,
        config=config, seconds=time.perf_counter() - t_start,
    )
