r"""Truncated BPTT over one long text, with a resumable checkpoint.

Chapter 5 trains on short windows, each read from a zero state. A real
corpus is one long stream, and what a model knows at character t (the
indentation of this block, the string it is inside) may have been set up
hundreds of characters before. Truncated backpropagation through time reads
the stream in windows of T characters and

* **carries the state**: window k+1 starts from the final state of window k
  (:math:`h_0^{(k+1)} = h_T^{(k)}`, and :math:`c` for the LSTM), so the
  forward pass never forgets at a window boundary;
* **cuts the gradient**: that carried state is a constant of window k+1's
  loss. Its backward pass stops at the window's first step
  (``layer.backward(dhs)`` without a ``dstate``), so one update costs T
  steps of backward, whatever the length of the text.

The text is laid out as N parallel streams (:class:`StreamBatcher`): N
contiguous pieces, read side by side, one window of each per update. A
pass over the text is an epoch; each epoch starts at a random offset in
:math:`[0, T)` from a zero state.

* :class:`StreamConfig`, :class:`StreamHistory`, :func:`train_stream` - the
  loop (Adam, clipping, held-out bits per character, tqdm on long runs);
* :func:`tbptt_window` - one window: forward from the carried state,
  backward cut at the window, returns the loss and the state to carry;
* :func:`stream_log_likelihoods`, :func:`stream_bpc` - held-out scoring
  with the state carried through the whole text;
* :func:`save_checkpoint`, :func:`load_checkpoint` - ``np.savez`` of the
  weights, Adam's moments, the step, the generator's state, the carried state
  and the history, so a long run continues where it stopped.

References
----------
Williams, R. J. & Peng, J. (1990). An efficient gradient-based algorithm for
on-line training of recurrent network trajectories. Neural Computation 2(4).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from rnnlib._checks import check_size
from rnnlib.activations import log_softmax
from rnnlib.optim import Adam, clip_grad_norm
from rnnlib.training.charlm import LN2, _check_ids, _check_model
from rnnlib.training.model import loss_and_grad


class StreamBatcher:
    r"""Lay a text out as N parallel streams and cut them into windows of T characters.

    Parameters
    ----------
    ids : int ndarray (L,)
    n_streams : int
        N.
    window : int
        T.
    offset : int
        Where stream 0 starts (an epoch's random shift, in :math:`[0, T)`).

    Attributes
    ----------
    starts : int ndarray (N,)
        Stream n reads ``ids[starts[n] : starts[n] + S + 1]``, S its length.
    n_windows : int
        :math:`\lfloor S / T \rfloor` windows per epoch.
    """

    def __init__(self, ids, n_streams, window, offset=0):
        self.ids = _check_ids("ids", ids, min_len=2)
        self.N, self.T = check_size("n_streams", n_streams), check_size("window", window)
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
            raise ValueError(f"offset must be a non-negative int; got {offset!r}")
        S = (self.ids.size - 1 - int(offset)) // self.N  # stream length (predictions)
        if S < self.T:
            raise ValueError(f"ids ({self.ids.size} characters) are too short for {self.N} streams of at "
                             f"least window={self.T} characters after offset {offset}")
        self.starts = int(offset) + S * np.arange(self.N)  # (N,)
        self.n_windows = S // self.T

    def window(self, k):
        """Window k: input ids (N, T) and target ids (N, T), the characters one step later."""
        if not 0 <= k < self.n_windows:
            raise IndexError(f"window {k} out of range [0, {self.n_windows})")
        pos = self.starts[:, None] + k * self.T + np.arange(self.T)  # (N, T)
        return self.ids[pos], self.ids[pos + 1]


def tbptt_window(model, x_ids, y_ids, state=None):
    r"""Forward and backward on one window from a carried state; gradients are *added* to ``model.grads``.

    Parameters
    ----------
    model : SequenceModel
        A character model (``"many_to_many"``, input and output size V).
    x_ids, y_ids : int ndarray (N, T)
        Input characters and their next characters.
    state : None, ndarray (N, H) or tuple (h, c)
        The final state of the previous window (``None``: zeros).

    Returns
    -------
    loss : float
        Mean cross-entropy of the window, nats per character.
    state : ndarray (N, H) or tuple (h, c)
        The final state, to carry into the next window.

    Notes
    -----
    The loss :math:`L = \frac{1}{NT} \sum_{n,t} -\ln p(y_{n,t})` is a function
    of the weights *with* :math:`h_0 =` ``state`` *held fixed*: the backward
    pass (``model.backward``, no ``dstate``) stops at the window's first
    step. The gradient is therefore exact for that function, and truncated for
    the loss of the whole stream.
    """
    model = _check_model(model)
    V = model.rnn.input_size
    x_ids, y_ids = np.asarray(x_ids), np.asarray(y_ids)
    if x_ids.ndim != 2 or x_ids.shape != y_ids.shape or x_ids.dtype.kind not in "iu" \
            or y_ids.dtype.kind not in "iu":
        raise ValueError(f"x_ids and y_ids must be integer arrays of the same shape (N, T); "
                         f"got {x_ids.dtype} {x_ids.shape} and {y_ids.dtype} {y_ids.shape}")
    x = np.eye(V, dtype=model.rnn.dtype)[x_ids]  # (N, T, V) one-hot
    logits, final = model.forward(x, state, return_state=True)  # h_0 = state: a constant here
    loss, dlogits = loss_and_grad(logits, y_ids, "xent")
    model.backward(dlogits)  # BPTT within the window only: no gradient into the carried state
    return loss, final


def stream_log_likelihoods(model, ids, *, n_streams=16, chunk=256) -> np.ndarray:
    r""":math:`\ln p(c_{t+1} \mid c_{\le t})` along N streams of a text, the state carried through each.

    Parameters
    ----------
    model : SequenceModel
        A character model.
    ids : int ndarray (L,)
    n_streams : int
        N contiguous pieces, scored side by side (as fast as one of them).
    chunk : int
        Characters per forward call (the state is carried from call to call).

    Returns
    -------
    ndarray (N, S), float64
        Natural-log probabilities; stream n predicts ``ids[n S + 1 : (n + 1) S + 1]``
        from a zero state at ``ids[n S]``, :math:`S = \lfloor (L - 1) / N \rfloor`.
        The last :math:`(L - 1) \bmod N` characters are not scored.
    """
    model = _check_model(model)
    V = model.rnn.input_size
    ids = _check_ids("ids", ids, V, min_len=2)
    n_streams, chunk = check_size("n_streams", n_streams), check_size("chunk", chunk)
    S = (ids.size - 1) // n_streams
    if S < 1:
        raise ValueError(f"ids ({ids.size} characters) are too short for {n_streams} streams")
    pos = S * np.arange(n_streams)[:, None] + np.arange(S)  # (N, S)
    x_ids, y_ids = ids[pos], ids[pos + 1]
    eye = np.eye(V, dtype=model.rnn.dtype)
    out = np.empty((n_streams, S))
    state = None
    for a in range(0, S, chunk):
        b = min(a + chunk, S)
        logits, state = model.forward(eye[x_ids[:, a:b]], state, return_state=True)  # (N, b - a, V)
        logp = log_softmax(logits.astype(np.float64), axis=-1)
        out[:, a:b] = np.take_along_axis(logp, y_ids[:, a:b, None], axis=-1)[..., 0]
    return out


def stream_bpc(model, ids, *, n_streams=16, chunk=256) -> float:
    """Bits per character of ``model`` on ``ids`` (see :func:`stream_log_likelihoods`)."""
    return -float(np.mean(stream_log_likelihoods(model, ids, n_streams=n_streams, chunk=chunk))) / LN2


@dataclass
class StreamConfig:
    """Settings of :func:`train_stream`."""

    steps: int = 2000  # parameter updates (one window of every stream each)
    n_streams: int = 32  # N: parallel streams, the batch
    window: int = 64  # T: the truncation length
    lr: float = 2e-3  # Adam learning rate at the start
    lr_final: float | None = None  # decayed linearly to this by the last step; None: constant
    clip: float | None = 1.0  # max global gradient norm; None: no clipping
    eval_every: int = 250  # held-out evaluation every this many updates (and at 0 and the end)
    eval_chars: int | None = None  # held-out characters scored at each evaluation; None: all
    eval_streams: int = 16  # streams of the held-out scoring
    seed: int = 0  # seeds the epochs' offsets
    progress: bool | None = None  # tqdm bar; None: only for >= 200 steps in a terminal, not under CI

    def __post_init__(self):
        for name in ("steps", "n_streams", "window", "eval_every", "eval_streams"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive int; got {v!r}")
        for name in ("lr", "lr_final", "clip"):
            v = getattr(self, name)
            if (v is not None or name == "lr") and (isinstance(v, bool) or not isinstance(v, (int, float))
                                                    or not v > 0):
                raise ValueError(f"{name} must be a positive number{'' if name == 'lr' else ' or None'}; "
                                 f"got {v!r}")
        if self.eval_chars is not None and (not isinstance(self.eval_chars, (int, np.integer))
                                            or self.eval_chars < 2):
            raise ValueError(f"eval_chars must be an int >= 2 or None; got {self.eval_chars!r}")


@dataclass
class StreamHistory:
    """What :func:`train_stream` records.

    Attributes
    ----------
    train_bpc : ndarray (steps done,)
        Bits per character of each training window, before its update.
    eval_steps : int ndarray (E,)
    eval_bpc : ndarray (E,)
        Held-out bits per character (the first ``eval_chars`` characters).
    seconds : float
        Wall time of the training, summed over resumed runs.
    epochs : float
        Passes over the training text.
    config : StreamConfig
    """

    train_bpc: np.ndarray
    eval_steps: np.ndarray
    eval_bpc: np.ndarray
    seconds: float = 0.0
    epochs: float = 0.0
    config: StreamConfig = field(default_factory=StreamConfig, repr=False)

    @property
    def done(self) -> bool:
        """All ``config.steps`` updates made."""
        return self.train_bpc.size >= self.config.steps


def _flat_state(state):
    if state is None:
        return {}
    return {"state/h": state[0], "state/c": state[1]} if isinstance(state, tuple) else {"state/h": state}


def save_checkpoint(path, model, opt, *, step, rng, state=None, extra=None):
    """Write a resumable checkpoint (``np.savez``, written to a temporary file then renamed).

    Parameters
    ----------
    path : str or Path, ending in ``.npz``
    model : SequenceModel
    opt : Adam
        Built on ``model.params``.
    step : int
        Updates done.
    rng : np.random.Generator
        Its bit generator's state is stored (as JSON).
    state : None, ndarray (N, H) or tuple (h, c)
        The carried state.
    extra : dict of ndarray, optional
        Anything else (keys must not start with ``param/``, ``adam_``, ``state/``).
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"path must end in .npz; got {path!r}")
    if not isinstance(opt, Adam):
        raise TypeError(f"opt must be an Adam optimiser; got {type(opt).__name__}")
    arrays = {f"param/{k}": p for k, p in model.params.items()}
    arrays.update({f"adam_m/{k}": m for k, m in opt.m.items()})
    arrays.update({f"adam_v/{k}": v for k, v in opt.v.items()})
    arrays.update(adam_t=np.array(opt.t), step=np.array(int(step)),
                  rng_state=np.array(json.dumps(rng.bit_generator.state)), **_flat_state(state))
    for k, v in (extra or {}).items():
        if k.startswith(("param/", "adam_", "state/")) or k in arrays:
            raise ValueError(f"extra key {k!r} clashes with the checkpoint's own keys")
        arrays[k] = np.asarray(v)
    tmp = path[:-4] + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_checkpoint(path, model, opt):
    """Restore ``model``'s weights and ``opt``'s moments *in place* from :func:`save_checkpoint`'s file.

    Returns
    -------
    step : int
    rng : np.random.Generator
        In the saved state.
    state : None, ndarray (N, H) or tuple (h, c)
    extra : dict of ndarray
    """
    with np.load(os.fspath(path)) as f:
        data = {k: f[k] for k in f.files}
    for prefix, target in (("param/", model.params), ("adam_m/", opt.m), ("adam_v/", opt.v)):
        for k, a in target.items():
            if prefix + k not in data or data[prefix + k].shape != a.shape:
                raise ValueError(f"checkpoint {path} does not fit this model: {prefix + k} "
                                 f"{'missing' if prefix + k not in data else data[prefix + k].shape} "
                                 f"for shape {a.shape}")
            a[...] = data[prefix + k]
    opt.t = int(data["adam_t"])
    rng = np.random.default_rng()
    rng.bit_generator.state = json.loads(str(data["rng_state"]))
    state = (data["state/h"], data["state/c"]) if "state/c" in data else data.get("state/h")
    extra = {k: v for k, v in data.items()
             if not k.startswith(("param/", "adam_", "state/")) and k not in ("step", "rng_state")}
    return int(data["step"]), rng, state, extra


def _show_progress(config):
    if config.progress is not None:
        return bool(config.progress)
    return config.steps >= 200 and not os.environ.get("CI") and sys.stderr.isatty()


def train_stream(model, train_ids, heldout_ids, config=None, *, checkpoint=None, checkpoint_every=500,
                 time_limit=None) -> StreamHistory:
    r"""Train a character model in place by truncated BPTT over the training stream.

    Parameters
    ----------
    model : SequenceModel
        ``"many_to_many"``, input and output size V.
    train_ids, heldout_ids : int ndarray
    config : StreamConfig, optional
    checkpoint : str or Path, optional
        A ``.npz`` file: if it exists the run *resumes* from it (weights,
        Adam, step, generator, carried state, history); it is rewritten every
        ``checkpoint_every`` updates and at the end.
    checkpoint_every : int
    time_limit : float, optional
        Stop (after writing the checkpoint) once this many seconds have
        passed in this call; the history then has ``done == False``.

    Returns
    -------
    StreamHistory

    Notes
    -----
    Per update: the next window of every stream (:class:`StreamBatcher`),
    :func:`tbptt_window` from the carried state, clip, one Adam step at the
    scheduled rate. At the end of an epoch the state is reset to zeros and the
    next epoch's offset is drawn from the generator.
    """
    model = _check_model(model)
    config = StreamConfig() if config is None else config
    if not isinstance(config, StreamConfig):
        raise TypeError(f"config must be a StreamConfig; got {type(config).__name__}")
    V = model.rnn.input_size
    train_ids = _check_ids("train_ids", train_ids, V, min_len=2)
    heldout_ids = _check_ids("heldout_ids", heldout_ids, V, min_len=2)
    eval_ids = heldout_ids if config.eval_chars is None else heldout_ids[: config.eval_chars]
    checkpoint_every = check_size("checkpoint_every", checkpoint_every)
    opt = Adam(model.params, lr=config.lr)
    grads = model.grads
    step, rng, state = 0, np.random.default_rng(config.seed), None
    train_bpc = np.zeros(config.steps)
    ev_steps, ev_bpc, seconds, epoch, k = [], [], 0.0, 0, 0
    resumed = checkpoint is not None and os.path.exists(checkpoint)
    if resumed:
        step, rng, state, extra = load_checkpoint(checkpoint, model, opt)
        saved = json.loads(str(extra["config"]))
        if saved != json.loads(json.dumps(asdict(config))):
            raise ValueError(f"checkpoint {checkpoint} was written with another config: {saved}")
        train_bpc[:step] = extra["train_bpc"][:step]
        ev_steps, ev_bpc = list(extra["eval_steps"]), list(extra["eval_bpc"])
        seconds, epoch, k = float(extra["seconds"]), int(extra["epoch"]), int(extra["window_k"])
    offset_of = {}  # epoch -> offset, drawn in order from rng

    def batcher_for(e):
        if e not in offset_of:
            offset_of.clear()
            offset_of[e] = int(rng.integers(config.window))
        return StreamBatcher(train_ids, config.n_streams, config.window, offset_of[e])

    if resumed:  # this epoch's offset was drawn before saving
        offset_of[epoch] = int(extra["offset"])
    batcher = batcher_for(epoch)
    t0 = time.perf_counter()

    def save():
        extra = {"train_bpc": train_bpc[:step], "eval_steps": np.array(ev_steps, dtype=int),
                 "eval_bpc": np.array(ev_bpc), "seconds": np.array(seconds + time.perf_counter() - t0),
                 "epoch": np.array(epoch), "window_k": np.array(k), "offset": np.array(offset_of[epoch]),
                 "config": np.array(json.dumps(asdict(config)))}
        save_checkpoint(checkpoint, model, opt, step=step, rng=rng, state=state, extra=extra)

    if not ev_steps:  # the initial model
        ev_steps.append(0)
        ev_bpc.append(stream_bpc(model, eval_ids, n_streams=config.eval_streams))
    bar = tqdm(total=config.steps, initial=step, disable=not _show_progress(config), mininterval=2.0,
               desc=f"{model.kind} tbptt", file=sys.stderr)
    stopped = False
    while step < config.steps:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            stopped = True
            break
        if config.lr_final is not None:  # linear decay lr -> lr_final
            opt.lr = config.lr + (config.lr_final - config.lr) * step / max(config.steps - 1, 1)
        x_ids, y_ids = batcher.window(k)
        model.zero_grad()
        loss, state = tbptt_window(model, x_ids, y_ids, state)
        norm = clip_grad_norm(grads, config.clip) if config.clip is not None else 0.0
        if not np.isfinite(loss) or not np.isfinite(norm):
            raise FloatingPointError(f"loss {loss}, gradient norm {norm} at step {step}: training diverged")
        opt.step(grads)
        train_bpc[step] = loss / LN2
        step, k = step + 1, k + 1
        if k == batcher.n_windows:  # end of the epoch: zero state, new offset
            epoch, k, state = epoch + 1, 0, None
            batcher = batcher_for(epoch)
        if step % config.eval_every == 0 or step == config.steps:
            ev_steps.append(step)
            ev_bpc.append(stream_bpc(model, eval_ids, n_streams=config.eval_streams))
            bar.set_postfix(heldout_bpc=f"{ev_bpc[-1]:.3f}", refresh=False)
        bar.update(1)
        if checkpoint is not None and (step % checkpoint_every == 0 or step == config.steps):
            save()
    bar.close()
    if checkpoint is not None and stopped:
        save()
    chars = config.n_streams * config.window * step
    return StreamHistory(train_bpc=train_bpc[:step].copy(), eval_steps=np.array(ev_steps, dtype=int),
                         eval_bpc=np.array(ev_bpc), seconds=seconds + time.perf_counter() - t0,
                         epochs=chars / train_ids.size, config=config)


__all__ = ["StreamBatcher", "tbptt_window", "stream_log_likelihoods", "stream_bpc", "StreamConfig",
           "StreamHistory", "save_checkpoint", "load_checkpoint", "train_stream"]
