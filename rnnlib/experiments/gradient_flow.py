r"""How much gradient reaches the first input: the measurement behind chapters 2 and 3.

The book measures the vanishing-gradient claim instead of stating it. For a layer run over
``x`` (N, T, D) from a zero state, take the scalar :math:`L = \sum h_T` (every unit of the
last hidden state, summed over the batch) and its gradient with respect to each input:

.. math:: g_t = \Big\lVert \frac{\partial \sum h_T}{\partial x_t} \Big\rVert_F ,\qquad t = 1, \dots, T.

One backward pass of the fast sequence functions (:mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`,
:mod:`rnnlib.gru`) with ``dhs`` zero except ones at the last step gives every :math:`g_t`
(:func:`input_gradient_profile`); :func:`input_gradient_norm` is :math:`g_1` for
``x`` ~ N(0, 1). :func:`gradient_norm_table` takes medians and quartiles over seeds (each
measurement from its own generator, seeded by ``[seed, T]``) for the six models of
:data:`DEFAULT_MODELS`: tanh RNN, LSTM with forget-gate bias 0, +1, +3 (Gers et al. 2000;
Jozefowicz et al. 2015), GRU with update-gate bias 0 and +3 (z = 1 keeps the state).

The numbers span hundreds of orders of magnitude (1e-90 at T = 400 is normal): work in
float64, whose smallest normal number is 2.2e-308. The layers are not modified.

References
----------
Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual prediction
with LSTM. Neural Computation 12(10).
Jozefowicz, R., Zaremba, W. & Sutskever, I. (2015). An empirical exploration of recurrent
network architectures. ICML.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array, check_rng, check_size
from rnnlib.gru import gru_backward, gru_forward
from rnnlib.layers import GRU, LSTM, RNN
from rnnlib.lstm import lstm_backward, lstm_forward
from rnnlib.rnn import rnn_backward, rnn_forward

DEFAULT_MODELS = {  # name -> (kind, keyword arguments of the layer class)
    "tanh RNN": ("rnn", {}),
    "LSTM default init": ("lstm", {}),
    "LSTM forget bias +1": ("lstm", {"forget_bias": 1.0}),
    "LSTM forget bias +3": ("lstm", {"forget_bias": 3.0}),
    "GRU default init": ("gru", {}),
    "GRU update bias +3": ("gru", {"update_bias": 3.0}),
}
_CLASSES = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _check_layer(layer):
    if not isinstance(layer, (RNN, LSTM, GRU)):
        raise TypeError(f"layer must be an rnnlib RNN, LSTM or GRU; got {type(layer).__name__}")
    return layer


def input_gradient_profile(layer, x):
    r"""Norm of the gradient of :math:`\sum h_T` with respect to every input :math:`x_t`.

    Parameters
    ----------
    layer : RNN, LSTM or GRU
        Not modified (its ``grads`` and cache are left alone).
    x : ndarray (N, T, D)
        Cast to the layer's dtype; the initial state is zero.

    Returns
    -------
    g : ndarray (T,)
        :math:`g_t = \lVert \partial (\sum h_T) / \partial x_t \rVert_F`, the norm over (N, D).
    """
    _check_layer(layer)
    x = check_array("x", x, ("N", "T", "D"), (None, None, layer.input_size), dtype=layer.dtype)
    N, T, _ = x.shape
    p, H = layer.params, layer.hidden_size
    h0 = np.zeros((N, H), layer.dtype)
    dhs = np.zeros((N, T, H), layer.dtype)
    dhs[:, -1] = 1.0  # L = sum(h_T): dL/dh_T = 1, no loss at earlier steps
    if layer.kind == "rnn":
        _, _, cache = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
        dx = rnn_backward(dhs, cache)[0]
    elif layer.kind == "lstm":
        _, _, cache = lstm_forward(x, (h0, h0), p["W_x"], p["W_h"], p["b"])
        dx = lstm_backward(dhs, cache)[0]
    else:
        _, _, cache = gru_forward(x, h0, p["W_x"], p["W_h"], p["b"], p.get("b_hn"), reset_after=layer.reset_after)
        dx = gru_backward(dhs, cache)[0]
    return np.sqrt(np.sum(dx.astype(np.float64) ** 2, axis=(0, 2)))  # (N, T, D) -> (T,)


def input_gradient_norm(layer, T, rng, N=1) -> float:
    r""":math:`\lVert \partial (\sum h_T) / \partial x_1 \rVert` for a random input ``x`` ~ N(0, 1).

    Parameters
    ----------
    layer : RNN, LSTM or GRU
        Not modified.
    T : int
        Sequence length.
    rng : np.random.Generator
        ``x = rng.standard_normal((N, T, D))`` is the only draw.
    N : int
        Batch size (the norm is over all N rows of :math:`\partial L / \partial x_1`).

    Returns
    -------
    float
    """
    _check_layer(layer)
    T, N, rng = check_size("T", T), check_size("N", N), check_rng(rng)
    x = rng.standard_normal((N, T, layer.input_size))
    return float(input_gradient_profile(layer, x)[0])


class GradientNormTable(NamedTuple):
    """Result of :func:`gradient_norm_table`: every measurement and its median over seeds."""

    models: tuple  # (M,) model names
    T_values: tuple  # (K,) sequence lengths
    seeds: tuple  # (S,)
    norms: np.ndarray  # (M, K, S) every measurement
    medians: np.ndarray  # (M, K) median over seeds

    def quantiles(self, q) -> np.ndarray:
        """Quantile(s) ``q`` over seeds, e.g. ``q=(0.25, 0.75)``: shape ``q.shape + (M, K)``."""
        return np.quantile(self.norms, q, axis=2)

    def to_markdown(self, fmt="{:.1e}", spread=True) -> str:
        """A Markdown table, one row per model, one column per T.

        Each entry is the median over seeds, followed (``spread=True``) by the quartiles
        over seeds in brackets: ``median [q25, q75]``.
        """
        q25, q75 = self.quantiles((0.25, 0.75))
        lines = ["| model | " + " | ".join(f"T={T}" for T in self.T_values) + " |",
                 "|---|" + "---|" * len(self.T_values)]
        for m, (name, row) in enumerate(zip(self.models, self.medians)):
            cells = [fmt.format(v) + (f" [{fmt.format(q25[m, k])}, {fmt.format(q75[m, k])}]" if spread else "")
                     for k, v in enumerate(row)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def gradient_norm_table(kinds_and_settings=None, T_values=(5, 50, 400), H=64, D=2, seeds=range(20),
                        N=1) -> GradientNormTable:
    r"""Median of :func:`input_gradient_norm` over seeds, for several models and lengths.

    Every entry ``norms[m, k, s]`` is a function of (model m, ``T_values[k]``, ``seeds[s]``)
    alone: it does not change with which other lengths, seeds or models were requested.

    Parameters
    ----------
    kinds_and_settings : dict, optional
        ``name -> (kind, kwargs)``, kind in {"rnn", "lstm", "gru"}, kwargs for the layer
        class (e.g. ``{"forget_bias": 3.0}``); default :data:`DEFAULT_MODELS`.
    T_values : sequence of int
    H, D : int
        Hidden and input size. D = 2 is the adding problem's input (value, marker); a wider
        input drives tanh units harder and the plain RNN's gradient vanishes faster.
    seeds : iterable of int
        Seed s builds the layer with ``rng = np.random.default_rng(s)`` (PyTorch's
        U(-1/sqrt(H), 1/sqrt(H)) init, float64): models of one kind share their weights for a
        seed and differ only in the bias trick. The input of length T is drawn from its own
        generator, ``np.random.default_rng([s, T])``.
    N : int
        Batch size of each measurement.

    Returns
    -------
    GradientNormTable
        ``medians`` (M, K) and all ``norms`` (M, K, S); ``quantiles(q)`` for the spread.
    """
    models = DEFAULT_MODELS if kinds_and_settings is None else kinds_and_settings
    if not isinstance(models, dict) or not models:
        raise TypeError(f"kinds_and_settings must be a non-empty dict name -> (kind, kwargs); got {models!r}")
    for name, spec in models.items():
        if not (isinstance(spec, tuple) and len(spec) == 2 and spec[0] in _CLASSES and isinstance(spec[1], dict)):
            raise ValueError(f"kinds_and_settings[{name!r}] must be (kind, kwargs) with kind in "
                             f"{tuple(_CLASSES)} and kwargs a dict; got {spec!r}")
    T_values = tuple(check_size("T_values entry", T) for T in T_values)
    H, D, N = check_size("H", H), check_size("D", D), check_size("N", N)
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative integers; got {seeds!r}")
    norms = np.empty((len(models), len(T_values), len(seeds)))
    for m, (kind, kwargs) in enumerate(models.values()):
        for s, seed in enumerate(seeds):
            layer = _CLASSES[kind](D, H, rng=np.random.default_rng(seed), dtype=np.float64, **kwargs)
            for k, T in enumerate(T_values):  # one generator per (seed, T): order-independent
                norms[m, k, s] = input_gradient_norm(layer, T, np.random.default_rng([seed, T]), N=N)
    return GradientNormTable(tuple(models), T_values, seeds, norms, np.median(norms, axis=2))
