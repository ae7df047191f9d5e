r"""Thin layer classes over the stateless sequence functions.

``RNN``, ``LSTM`` and ``GRU`` hold ``params`` and ``grads`` (dicts with the same
keys), validate what they are given, keep the cache of the last ``forward``
and call :mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`, :mod:`rnnlib.gru`. ``Linear``
is the readout ``y = h W + b``. Gradients *accumulate* across ``backward``
calls, as in PyTorch: call ``zero_grad()`` between updates.

Shapes: ``x`` (N, T, D) -> ``hs`` (N, T, H); a state is ``h`` (N, H), or for
the LSTM the tuple ``(h, c)``.
"""

from __future__ import annotations

import numpy as np

from rnnlib import gru as _gru
from rnnlib import lstm as _lstm
from rnnlib import rnn as _rnn
from rnnlib import stacked as _stacked
from rnnlib._checks import check_array, check_dtype, check_params, check_size, make_rng
from rnnlib._params import Parametric
from rnnlib.init import SCHEMES, init_params



class Recurrent(Parametric):
    """Base class: parameter bookkeeping, validation, forward/backward plumbing."""

    kind = ""  # "rnn", "lstm" or "gru"
    n_states = 1  # 2 for the LSTM: (h, c)

    def __init__(self, input_size, hidden_size, *, num_layers=1, bidirectional=False, dropout=0.0,
                 seed=0, rng=None, dtype=np.float64, init="uniform", **init_kw):
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.dtype = check_dtype(dtype)
        if init not in SCHEMES:  # checked here so the message names `init`, not init_params' `scheme`
            raise ValueError(f"init must be one of {SCHEMES}; got {init!r}")
        rng = make_rng(seed, rng)
        self.params = init_params(self.kind, self.input_size, self.hidden_size, rng,
                                  scheme=init, dtype=self.dtype, **init_kw)
        self.zero_grad()
        self._cache = None
        # num_layers, bidirectional, dropout, train()/eval(): rnnlib.stacked (chapter 7)
        _stacked.setup(self, num_layers, bidirectional, dropout, rng, init, init_kw)

    # -- bookkeeping -------------------------------------------------------
    def _param_shapes(self) -> dict:
        if not _stacked.is_plain(self):
            return _stacked.param_shapes(self)
        D, H = self.input_size, self.hidden_size
        G = {"rnn": 1, "lstm": 4, "gru": 3}[self.kind]
        names = {"rnn": ("W_xh", "W_hh", "b_h")}.get(self.kind, ("W_x", "W_h", "b"))
        shapes = {
            names[0]: (("D", f"{G}H" if G > 1 else "H"), (D, G * H)),
            names[1]: (("H", f"{G}H" if G > 1 else "H"), (H, G * H)),
            names[2]: ((f"{G}H" if G > 1 else "H",), (G * H,)),
        }
        if "b_hn" in self.params:
            shapes["b_hn"] = (("H",), (H,))
        return shapes

    def set_params(self, params: dict):
        """Replace the parameters (validated, copied, cast to the layer's dtype)."""
        params = check_params("params", params, self._param_shapes(), dtype=self.dtype)
        self.params = {k: np.array(v, dtype=self.dtype) for k, v in params.items()}
        self.zero_grad()
        self._cache = None
        return self


    def train(self, mode=True):
        """Training mode (dropout between layers active); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (no dropout); returns the layer."""
        return self.train(False)

    def __repr__(self):
        extra = f", reset_after={self.reset_after}" if self.kind == "gru" else ""
        if not _stacked.is_plain(self) or self.dropout:
            extra += (f", num_layers={self.num_layers}, bidirectional={self.bidirectional}, "
                      f"dropout={self.dropout}")
        return (f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}"
                f"{extra}, dtype={self.dtype.name})")

    # -- states --------------------------------------------------------------
    def _check_state(self, name, state, N):
        """Validate a state (or state gradient) for batch size N; None -> zeros."""
        H = self.hidden_size
        if state is None:
            return tuple(np.zeros((N, H), self.dtype) for _ in range(self.n_states))
        if self.n_states == 1:
            if isinstance(state, (tuple, list)):
                raise TypeError(f"{name} for {type(self).__name__} must be an array h (N, H); "
                                f"got a {type(state).__name__} (only the LSTM has a (h, c) state)")
            return (check_array(name, state, ("N", "H"), (N, H), dtype=self.dtype),)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            got = type(state).__name__
            got += f" of length {len(state)}" if isinstance(state, (tuple, list)) else ""
            raise TypeError(f"{name} for LSTM must be a tuple (h, c) of arrays (N, H); got {got}")
        return (check_array(f"{name}[0] (h)", state[0], ("N", "H"), (N, H), dtype=self.dtype),
                check_array(f"{name}[1] (c)", state[1], ("N", "H"), (N, H), dtype=self.dtype))

    def _pack(self, states):
        return states[0] if self.n_states == 1 else tuple(states)

    # -- forward / backward ------------------------------------------------
    def forward(self, x, state=None, lengths=None):
        """Run the layer over a batch of sequences.

        Parameters
        ----------
        x : ndarray (N, T, D)
            Padded when ``lengths`` is given.
        state : None, ndarray (N, H), or for the LSTM a tuple (h0, c0)
            Initial state; ``None`` means zeros. A stacked or bidirectional
            layer takes (L*dirs, N, H) arrays in torch's order (layer-major,
            direction-minor); a plain layer takes (N, H) or (1, N, H).
        lengths : None or int array (N,)
            Each sequence's length in [1, T] (``None``: all T), as torch's
            ``pack_padded_sequence``.

        Returns
        -------
        hs : ndarray (N, T, dirs*H)
            The last layer's hidden state at every step (forward direction,
            then backward), zero after each sequence's length.
        state : ndarray (N, H) / (L*dirs, N, H), or a tuple (h, c) of them
            Final state (each sequence's at its own last step), same form as
            the initial one.
        """
        if lengths is not None or not _stacked.is_plain(self) or _stacked.is_3d(state):
            return _stacked.forward(self, x, state, lengths)  # rnnlib.stacked
        self._deep_cache = None
        x = check_array("x", x, ("N", "T", "D"), (None, None, self.input_size), dtype=self.dtype)
        states0 = self._check_state("state", state, x.shape[0])
        # the previous pass's buffers are reused: its cache is replaced anyway
        hs, state_T, cache = self._forward(x, self._pack(states0), None if self._cache is None else self._cache[1])
        self._cache = (x.shape, cache)
        return hs, state_T

    def backward(self, dhs, dstate=None):
        """Backpropagation through time for the last :meth:`forward`.

        Parameters
        ----------
        dhs : ndarray (N, T, dirs*H)
            Gradient of the loss w.r.t. every returned hidden state.
        dstate : None, ndarray (N, H) / (L*dirs, N, H) or tuple (dh_T, dc_T)
            Gradient w.r.t. the returned final state (``None`` = 0).

        Returns
        -------
        dx : ndarray (N, T, D)
        dstate0 : ndarray (N, H) or tuple (dh0, dc0)
            Gradient w.r.t. the initial state (same structure as the state).

        Parameter gradients are *added* to ``self.grads``.
        """
        if self._deep_cache is not None or not _stacked.is_plain(self):
            return _stacked.backward(self, dhs, dstate)  # the last forward was stacked or padded
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: "
                               "run forward(x) first")
        (N, T, _), cache = self._cache
        dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, self.hidden_size), dtype=self.dtype)
        dstate_T = None if dstate is None else self._pack(self._check_state("dstate", dstate, N))
        dx, dstate0, grads = self._backward(dhs, cache, dstate_T)
        for k, g in grads.items():
            self.grads[k] += g
        return dx, dstate0

    @classmethod
    def from_params(cls, params: dict, **kw):
        """Build a layer whose sizes are read off ``params`` (validated, copied).

        For the GRU, the form follows the keys unless ``reset_after`` is given:
        a ``b_hn`` entry means the reset-after form.
        """
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
        first = "W_xh" if cls.kind == "rnn" else "W_x"
        second = "W_hh" if cls.kind == "rnn" else "W_h"
        for k in (first, second):
            if k not in params:
                raise ValueError(f"params must contain {k!r}; got keys {sorted(params)}")
        W_x = check_array(f"params[{first!r}]", params[first], ("D", "GH"))
        W_h = check_array(f"params[{second!r}]", params[second], ("H", "GH"))
        if cls.kind == "gru" and "reset_after" not in kw:
            kw["reset_after"] = "b_hn" in params
        layer = cls(W_x.shape[0], W_h.shape[0], **kw)
        return layer.set_params(params)


class RNN(Recurrent):
    r"""Simple tanh RNN layer: :math:`h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)`.

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    seed : int
        Seed for the default generator (ignored if ``rng`` is given).
    rng : np.random.Generator, optional
    dtype : np.float32 or np.float64
    init : {"uniform", "xavier", "orthogonal"}
        See :func:`rnnlib.init.init_params`.

    Attributes
    ----------
    params, grads : dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,).
    """

    kind = "rnn"

    def _forward(self, x, state0, reuse):
        return _rnn.rnn_forward(x, state0, **self.params, reuse=reuse)

    def _backward(self, dhs, cache, dstate_T):
        return _rnn.rnn_backward(dhs, cache, dstate_T)


class LSTM(Recurrent):
    r"""LSTM layer, gates stacked f, i, o, c_tilde (see :mod:`rnnlib.lstm`).

    Parameters
    ----------
    input_size, hidden_size : int
    seed, rng, dtype, init
        As for :class:`RNN`.
    forget_bias : float
        Added to the forget-gate bias at initialisation (default 0).

    Attributes
    ----------
    params, grads : dict
        ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,).

    The state is the tuple ``(h, c)``, each (N, H).
    """

    kind = "lstm"
    n_states = 2

    def __init__(self, input_size, hidden_size, *, forget_bias=0.0, **kw):
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, **kw)

    def _forward(self, x, state0, reuse):
        return _lstm.lstm_forward(x, state0, **self.params, reuse=reuse)

    def _backward(self, dhs, cache, dstate_T):
        return _lstm.lstm_backward(dhs, cache, dstate_T)


class GRU(Recurrent):
    r"""GRU layer, blocks stacked z, r, h_tilde, :math:`h_t = z \odot h_{t-1} + (1-z) \odot \tilde h`.

    Parameters
    ----------
    input_size, hidden_size : int
    reset_after : bool
        True (default, PyTorch/cuDNN/Keras): reset applied to ``h W_hh + b_hn``;
        False (Cho et al. 2014 v3, d2l): reset applied to ``h`` before the matmul.
    update_bias : float
        Added to the update-gate bias at initialisation (default 0).
    seed, rng, dtype, init
        As for :class:`RNN`.

    Attributes
    ----------
    params, grads : dict
        ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), and ``b_hn`` (H,) if ``reset_after``.
    """

    kind = "gru"

    def __init__(self, input_size, hidden_size, *, reset_after=True, update_bias=0.0, **kw):
        if not isinstance(reset_after, (bool, np.bool_)):
            raise TypeError(f"reset_after must be True or False; got {reset_after!r}")
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, reset_after=self.reset_after,
                         update_bias=update_bias, **kw)

    def _forward(self, x, state0, reuse):
        return _gru.gru_forward(x, state0, **self.params, reset_after=self.reset_after, reuse=reuse)

    def _backward(self, dhs, cache, dstate_T):
        return _gru.gru_backward(dhs, cache, dstate_T)


class Linear(Parametric):
    r"""Affine readout :math:`y = h W + b` applied over the last axis.

    Parameters
    ----------
    in_features, out_features : int
        H and the output size (e.g. V).
    seed, rng, dtype
        As for :class:`RNN`; W and b ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default).

    Attributes
    ----------
    params, grads : dict
        ``W`` (in, out), ``b`` (out,).
    """

    def __init__(self, in_features, out_features, *, seed=0, rng=None, dtype=np.float64):
        self.in_features = check_size("in_features", in_features)
        self.out_features = check_size("out_features", out_features)
        self.dtype = check_dtype(dtype)
        rng = make_rng(seed, rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.params = {
            "W": rng.uniform(-bound, bound, (self.in_features, self.out_features)).astype(self.dtype),
            "b": rng.uniform(-bound, bound, self.out_features).astype(self.dtype),
        }
        self.zero_grad()
        self._h = None


    def forward(self, h):
        """``h`` (..., in) -> ``y`` (..., out), e.g. (N, H) -> (N, V) or (N, T, H) -> (N, T, V)."""
        h = np.asarray(h) if isinstance(h, (list, tuple)) else h
        if not isinstance(h, np.ndarray) or h.ndim < 1:
            raise TypeError(f"h must be an array (..., {self.in_features}); got {type(h).__name__}")
        h = check_array("h", h, tuple(f"n{k}" for k in range(h.ndim - 1)) + ("in",),
                        (None,) * (h.ndim - 1) + (self.in_features,), dtype=self.dtype)
        self._h = h
        return h @ self.params["W"] + self.params["b"]

    def backward(self, dy):
        """``dy`` (..., out) -> ``dh`` (..., in); adds to ``grads``."""
        if self._h is None:
            raise RuntimeError("Linear.backward called before forward: run forward(h) first")
        shape = self._h.shape[:-1] + (self.out_features,)
        dy = check_array("dy", dy, tuple(f"n{k}" for k in range(len(shape) - 1)) + ("out",), shape,
                         dtype=self.dtype)
        h2 = self._h.reshape(-1, self.in_features)  # flatten leading axes: (M, in)
        dy2 = dy.reshape(-1, self.out_features)
        self.grads["W"] += h2.T @ dy2
        self.grads["b"] += dy2.sum(axis=0)
        return dy @ self.params["W"].T
