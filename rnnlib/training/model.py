r"""A recurrent layer with a linear readout: the model that chapter 4 trains.

:class:`SequenceModel` stacks one recurrent layer (``RNN``, ``LSTM`` or
``GRU`` from :mod:`rnnlib.layers`) and a :class:`~rnnlib.layers.Linear`
readout, in one of two modes:

* ``"many_to_one"``: :math:`\hat y = h_T W + b`, one output per sequence
  (N, out) - the adding problem;
* ``"many_to_many"``: :math:`\hat y_t = h_t W + b` at every step
  (N, T, out) - the copy task.

Its ``params`` and ``grads`` are merged dicts with prefixed keys
(``"rnn.W_x"``, ``"out.W"``) holding the *same arrays* as the layers, so an
optimiser built on ``model.params`` updates the layers in place::

    model = SequenceModel("lstm", 2, 64, 1, forget_bias=1.0)
    opt = rnnlib.Adam(model.params, lr=3e-3)
    pred = model.forward(x); loss, dpred = loss_and_grad(pred, y, "mse")
    model.zero_grad(); model.backward(dpred); opt.step(model.grads)

:func:`loss_and_grad` picks the loss by name (``"mse"`` or ``"xent"``), and
:func:`input_gradient_norms` measures how much loss gradient reaches each
input :math:`x_t`. Only NumPy and the rnnlib core are imported here.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array, check_size, make_rng
from rnnlib.layers import GRU, LSTM, RNN, Linear, Recurrent
from rnnlib.losses import mse_loss, softmax_cross_entropy

KINDS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
MODES = ("many_to_one", "many_to_many")
LOSSES = ("mse", "xent")


class SequenceModel:
    r"""Recurrent layer + linear readout, trained as one set of parameters.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru"} or RNN, LSTM, GRU instance
        The recurrent layer: built from the name, or used as given (then
        ``input_size`` and ``hidden_size`` may be omitted and ``layer_kw``
        must be empty).
    input_size, hidden_size : int
        D and H (required with a name).
    output_size : int
        Size of the readout: 1 for the adding problem, the number of classes
        V for classification (default 1).
    mode : {"many_to_one", "many_to_many"}
        Readout on the last hidden state only, or at every step.
    seed : int
        Seed of the default generator (ignored if ``rng`` is given).
    rng : np.random.Generator, optional
        Initialises the layer (if built from a name), then the readout.
    dtype : np.float32 or np.float64
        With a name only; a given layer keeps its dtype.
    **layer_kw
        Passed to the layer class: ``forget_bias`` (LSTM), ``update_bias``,
        ``reset_after`` (GRU), ``init`` (all).

    Attributes
    ----------
    rnn : RNN, LSTM or GRU
    out : Linear
        ``W`` (H, out), ``b`` (out,).
    mode : str
    """

    def __init__(self, kind, input_size=None, hidden_size=None, output_size=1, *,
                 mode="many_to_one", seed=0, rng=None, dtype=np.float64, **layer_kw):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
        self.mode = mode
        rng = make_rng(seed, rng)
        if isinstance(kind, Recurrent):
            if layer_kw:
                raise TypeError(f"layer keyword arguments {sorted(layer_kw)} need a kind name, "
                                f"not a ready {type(kind).__name__} layer")
            for name, given, have in (("input_size", input_size, kind.input_size),
                                      ("hidden_size", hidden_size, kind.hidden_size)):
                if given is not None and given != have:
                    raise ValueError(f"{name}={given} does not match the given layer's {name}={have}")
            self.rnn = kind
        elif isinstance(kind, str) and kind in KINDS:
            if input_size is None or hidden_size is None:
                raise TypeError(f"input_size and hidden_size are required to build a {kind!r} layer")
            self.rnn = KINDS[kind](input_size, hidden_size, rng=rng, dtype=dtype, **layer_kw)
        else:
            raise ValueError(f"kind must be one of {sorted(KINDS)} or an RNN/LSTM/GRU layer; got {kind!r}")
        output_size = check_size("output_size", output_size)
        self.out = Linear(self.rnn.hidden_size, output_size, rng=rng, dtype=self.rnn.dtype)
        self._T = None  # length of the last forward's input

    # -- bookkeeping -----------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"rnn"``, ``"lstm"`` or ``"gru"``."""
        return self.rnn.kind

    @property
    def params(self) -> dict:
        """``{"rnn.<key>": array, "out.W": array, "out.b": array}``; the layers' own arrays."""
        merged = {f"rnn.{k}": v for k, v in self.rnn.params.items()}
        merged.update({f"out.{k}": v for k, v in self.out.params.items()})
        return merged

    @property
    def grads(self) -> dict:
        """Gradients with the keys of :attr:`params`; the layers' own arrays."""
        merged = {f"rnn.{k}": v for k, v in self.rnn.grads.items()}
        merged.update({f"out.{k}": v for k, v in self.out.grads.items()})
        return merged

    def zero_grad(self):
        """Set every gradient to zero *in place* (arrays already handed out stay valid)."""
        for g in self.grads.values():
            g[...] = 0.0

    def parameters(self):
        """List of ``(name, param, grad)`` triples."""
        grads = self.grads
        return [(k, p, grads[k]) for k, p in self.params.items()]

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (layer + readout)."""
        return self.rnn.n_params + self.out.n_params

    def __repr__(self):
        return (f"SequenceModel({self.rnn!r}, output_size={self.out.out_features}, "
                f"mode={self.mode!r}, n_params={self.n_params})")

    # -- forward / backward --------------------------------------------------
    def forward(self, x, state=None, *, return_state=False):
        r"""Predictions for a batch of sequences.

        Parameters
        ----------
        x : ndarray (N, T, D)
        state : None, ndarray (N, H) or tuple (h0, c0) for the LSTM
            Initial state (``None``: zeros). Gradients are not propagated
            into it (see :mod:`rnnlib.training.loop` for truncated BPTT).
        return_state : bool
            Also return the final state.

        Returns
        -------
        pred : ndarray (N, out) for ``"many_to_one"``, (N, T, out) for ``"many_to_many"``
            :math:`h_T W + b`, or :math:`h_t W + b` for every t.
        state : ndarray (N, H) or tuple (h_T, c_T)
            Only with ``return_state=True``.
        """
        hs, final = self.rnn.forward(x, state)  # (N, T, H)
        self._T = hs.shape[1]
        h = hs[:, -1] if self.mode == "many_to_one" else hs  # (N, H) or (N, T, H)
        pred = self.out.forward(h)  # (N, out) or (N, T, out)
        return (pred, final) if return_state else pred

    def backward(self, dpred):
        """Backpropagate ``dpred`` through the readout and the layer (full BPTT).

        Parameters
        ----------
        dpred : ndarray, shape of the last ``forward``'s ``pred``
            Gradient of the loss w.r.t. the predictions.

        Returns
        -------
        dx : ndarray (N, T, D)
            Gradient w.r.t. the inputs.

        Parameter gradients are *added* to ``grads`` (call :meth:`zero_grad` first).
        """
        if self._T is None:
            raise RuntimeError("SequenceModel.backward called before forward: run forward(x) first")
        dh = self.out.backward(dpred)  # (N, H) or (N, T, H)
        if self.mode == "many_to_one":
            dhs = np.zeros(dh.shape[:1] + (self._T,) + dh.shape[1:], dtype=dh.dtype)  # (N, T, H)
            dhs[:, -1] = dh  # only h_T feeds the readout
        else:
            dhs = dh
        dx, _ = self.rnn.backward(dhs)
        return dx


def loss_and_grad(pred, y, loss="mse"):
    r"""The mean loss and its gradient w.r.t. the predictions.

    Parameters
    ----------
    pred : ndarray (N, out) or (N, T, out)
    y : ndarray
        ``"mse"``: float targets, shape of ``pred``. ``"xent"``: integer
        class labels, shape of ``pred`` without its last axis.
    loss : {"mse", "xent"}
        :func:`rnnlib.mse_loss` or :func:`rnnlib.softmax_cross_entropy`
        (softmax over the last axis, nats).

    Returns
    -------
    loss : float
    dpred : ndarray, shape of ``pred``
    """
    if loss == "mse":
        return mse_loss(pred, y)
    if loss == "xent":
        return softmax_cross_entropy(pred, y)
    raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")


def input_gradient_norms(model, x, y, loss="mse"):
    r"""How much loss gradient reaches each input step, per sequence.

    Parameters
    ----------
    model : SequenceModel
        Its ``grads`` are left as they were (the last forward's cache is replaced).
    x : ndarray (N, T, D)
    y : ndarray
        Targets, as for :func:`loss_and_grad`.
    loss : {"mse", "xent"}

    Returns
    -------
    g : ndarray (N, T)
        :math:`g_{n,t} = \lVert \partial \ell_n / \partial x_{n,t} \rVert_2`,
        where :math:`\ell_n` is sequence n's own loss (the mean over its
        outputs, so the batch loss is :math:`L = \frac1N \sum_n \ell_n`).
        Sequence n's inputs affect only :math:`\ell_n`, hence
        :math:`\partial \ell_n / \partial x_n = N\, \partial L / \partial x_n`:
        one full-BPTT backward pass gives every entry.
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"model must be a SequenceModel; got {type(model).__name__}")
    x = check_array("x", x, ("N", "T", "D"), (None, None, model.rnn.input_size))
    saved = {k: g.copy() for k, g in model.grads.items()}
    pred = model.forward(x)
    _, dpred = loss_and_grad(pred, y, loss)
    dx = model.backward(dpred)  # (N, T, D), of the batch mean L
    for k, g in model.grads.items():  # restore: this is a measurement, not a training step
        g[...] = saved[k]
    return x.shape[0] * np.sqrt(np.sum(dx.astype(np.float64) ** 2, axis=2))  # (N, T)
