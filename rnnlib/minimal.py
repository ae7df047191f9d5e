r"""minGRU and minLSTM (Feng et al. 2024): gates that read only :math:`x_t`, a linear recurrence.

Take the GRU of Chapter 3 and let neither the update gate nor the candidate
read :math:`h_{t-1}`; take the LSTM, drop the output gate and the cell/hidden
split, and normalise its two gates. Both become
:math:`h_t = a_t \odot h_{t-1} + b_t` with ``a`` and ``b`` computed from the
inputs alone, for all steps at once, and solved by :mod:`rnnlib.scan`:

.. math::

    \text{MinGRU:}\quad z_t = \sigma(x_t W_z + b_z),\ \tilde h_t = g(x_t W_h + b_h),\
    h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t

    \text{MinLSTM:}\quad f_t = \sigma(x_t W_f + b_f),\ i_t = \sigma(x_t W_i + b_i),\
    f'_t = \frac{f_t}{f_t + i_t},\ i'_t = \frac{i_t}{f_t + i_t},\
    h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t

With ``positive=True`` (the paper's log-space version) :math:`g(k) = k + 1/2`
for :math:`k \ge 0` and :math:`\sigma(k)` below, so :math:`\tilde h > 0`;
with ``positive=False``, :math:`g(k) = k`.

:class:`rnnlib.minimal_stack.MinimalStack` stacks them.

Shapes: ``x`` (N, T, D) -> ``hs`` (N, T, H); the state is ``h`` (N, H).

References
----------
Feng, L., Tung, F., Ahmed, M. O., Bengio, Y., Hajimirsadeghi, H. (2024). Were RNNs all we
needed? arXiv:2410.01201.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_array, check_dtype, check_size, make_rng
from rnnlib._params import Parametric
from rnnlib.scan import _backward, _solve, check_method

LAYER_METHODS = ("loop", "cumprod", "scan", "log-scan", "chunked")
"""Methods the layers accept: every solver of :mod:`rnnlib.scan`."""


def _exp_neg_abs(k):
    """``exp(-|k|)``, in (0, 1]: the one exponential that softplus needs."""
    e = np.abs(k)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def sigmoid(k):
    r""":math:`\sigma(k) = (1 + \tanh(k / 2)) / 2`: one transcendental, no overflow, no branch.

    Four passes over the array with no masks (``np.where`` and masked ufuncs cost
    5-10x a plain pass here). Where :math:`\sigma(k) < 10^{-16}` (k < -37) the result
    is exact only to about 1e-17 absolute; the log-space path uses softplus instead.
    """
    s = np.multiply(k, 0.5)
    np.tanh(s, out=s)
    s *= 0.5
    s += 0.5
    return s


def softplus(k):
    r""":math:`\log(1 + e^k) = \max(k, 0) + \log(1 + e^{-|k|})` without overflow."""
    out = np.log1p(_exp_neg_abs(k))
    out += np.maximum(k, 0.0)
    return out


def g(k):
    r"""The paper's positive activation: :math:`k + 1/2` for :math:`k \ge 0`, :math:`\sigma(k)` below.

    Computed as :math:`\sigma(\min(k, 0)) + \max(k, 0)`, which is the same function without a branch.
    """
    out = sigmoid(np.minimum(k, 0.0))
    out += np.maximum(k, 0.0)
    return out


def log_g(k):
    r""":math:`\log g(k)`: :math:`\log(k + 1/2)` for :math:`k \ge 0`, :math:`-\mathrm{softplus}(-k)` below.

    Both branches in one expression: :math:`\log(\max(k, 0) + 1/2) + \log 2 - \mathrm{softplus}(-\min(k, 0))`
    (for k >= 0 the last two terms cancel, for k < 0 the first two do).
    """
    out = np.maximum(k, 0.0)
    out += 0.5
    np.log(out, out=out)
    out += np.log(2.0)
    out -= softplus(-np.minimum(k, 0.0))
    return out


def g_prime(k):
    r""":math:`g'(k)`: 1 for :math:`k \ge 0`, :math:`\sigma(k)(1 - \sigma(k))` below."""
    s = sigmoid(np.minimum(k, 0.0))  # 1/2 for k >= 0
    out = s * (1.0 - s)
    out[k >= 0] = 1.0
    return out


class MinCache(NamedTuple):
    """What ``backward`` needs from ``forward``."""
    x: np.ndarray  # (N, T, D)
    k: dict  # pre-activations by gate name, each (N, T, H)
    gates: dict  # gate values by name, each (N, T, H)
    h_tilde: np.ndarray  # (N, T, H)
    a: np.ndarray  # (N, T, H) coefficient of h_{t-1}
    log_a: np.ndarray  # (N, T, H) or None
    hs: np.ndarray  # (N, T, H)
    h0: np.ndarray  # (N, H)
    method: str


class _Minimal(Parametric):
    """Shared bookkeeping: params/grads, checks, forward/backward around the gate maths."""

    gate_names = ()  # "z" for MinGRU; "f", "i" for MinLSTM; "h" (the candidate) is added

    def __init__(self, input_size, hidden_size, positive=True, seed=0, dtype=np.float64, *, rng=None):
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        if not isinstance(positive, (bool, np.bool_)):
            raise TypeError(f"positive must be True or False; got {positive!r}")
        self.positive = bool(positive)
        self.dtype = check_dtype(dtype)
        rng = make_rng(seed, rng)
        D, H = self.input_size, self.hidden_size
        bound = 1.0 / np.sqrt(D)  # nn.Linear's default, as in the reference implementation
        names = self.gate_names + ("h",)
        self.params = {f"W_{n}": rng.uniform(-bound, bound, (D, H)).astype(self.dtype) for n in names}
        self.params.update({f"b_{n}": rng.uniform(-bound, bound, H).astype(self.dtype) for n in names})
        self.zero_grad()
        self._cache = None


    def __repr__(self):
        return (f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"positive={self.positive}, dtype={self.dtype.name})")

    def _stacked(self):
        """The weights side by side, (D, G H), and the biases, (G H,): one matmul for all gates."""
        names = self.gate_names + ("h",)
        return (np.concatenate([self.params[f"W_{n}"] for n in names], axis=1),
                np.concatenate([self.params[f"b_{n}"] for n in names]))

    def forward(self, x, state=None, method="log-scan"):
        """Run the layer over a batch of sequences.

        Parameters
        ----------
        x : ndarray (N, T, D)
        state : ndarray (N, H) or None
            Initial state :math:`h_0`; ``None`` = zeros.
        method : {"loop", "cumprod", "scan", "log-scan", "chunked"}
            How the linear recurrence is solved (:mod:`rnnlib.scan`); all agree where
            defined. ``"cumprod"`` raises a ValueError on sequences whose running product
            of coefficients underflows; ``"log-scan"`` handles negative values (from
            ``positive=False`` or a signed state) by scanning positive and negative parts.

        Returns
        -------
        hs : ndarray (N, T, H)
        h_T : ndarray (N, H)
            The last state (a copy of ``hs[:, -1]``).
        """
        method = check_method(method, LAYER_METHODS)
        x = check_array("x", x, ("N", "T", "D"), (None, None, self.input_size), dtype=self.dtype)
        N, H = x.shape[0], self.hidden_size
        if state is None:
            h0 = np.zeros((N, H), self.dtype)
        elif isinstance(state, (tuple, list)):
            raise TypeError(f"state for {type(self).__name__} must be an array h (N, H); got a "
                            f"{type(state).__name__} (minimal layers have no cell state)")
        else:
            h0 = check_array("state", state, ("N", "H"), (N, H), dtype=self.dtype)
        names = self.gate_names + ("h",)
        W, bias = self._stacked()
        K = (x.reshape(-1, self.input_size) @ W).reshape(N, -1, len(names) * H)  # (N, T, G H)
        K += bias
        k = {n: K[..., j * H:(j + 1) * H] for j, n in enumerate(names)}  # views, each (N, T, H)
        h_tilde = g(k["h"]) if self.positive else k["h"]
        gates, a, coeff_b, log_a, log_coeff_b = self._gates(k, method == "log-scan")
        b = coeff_b * h_tilde
        log_b = None
        if log_coeff_b is not None and self.positive:
            log_b = log_coeff_b
            log_b += log_g(k["h"])
        hs = _solve(a, b, h0, method, log_a, log_b)
        self._cache = MinCache(x, k, gates, h_tilde, a, log_a, hs, h0, method)
        return hs, hs[:, -1].copy()

    def backward(self, dhs, dstate=None):
        """Gradients for the last :meth:`forward`, solved with the same method.

        Parameters
        ----------
        dhs : ndarray (N, T, H)
            Gradient of the loss w.r.t. every returned state.
        dstate : ndarray (N, H) or None
            Gradient w.r.t. the returned ``h_T`` (``None`` = 0).

        Returns
        -------
        dx : ndarray (N, T, D)
        dstate0 : ndarray (N, H)
            Gradient w.r.t. the initial state.

        Parameter gradients are *added* to ``self.grads``.
        """
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run forward(x) first")
        c = self._cache
        N, T, _ = c.x.shape
        H = self.hidden_size
        dhs = check_array("dhs", dhs, ("N", "T", "H"), (N, T, H), dtype=self.dtype)
        if isinstance(dstate, (tuple, list)):
            raise TypeError(f"dstate for {type(self).__name__} must be an array (N, H); "
                            f"got a {type(dstate).__name__}")
        dfinal = (np.zeros((N, H), self.dtype) if dstate is None
                  else check_array("dstate", dstate, ("N", "H"), (N, H), dtype=self.dtype))
        # h_t = a_t h_{t-1} + b_t: the backward is the same recurrence reversed in time
        da, db, dh0 = _backward(c.a, c.hs, c.h0, dhs, dfinal, c.method, c.log_a)
        # b_t = coeff_t * h~_t
        dk = self._gates_backward(da, db, c)
        dh_tilde = db * self._coeff_b(c)
        # h~ = g(k_h) (or k_h)
        dk["h"] = dh_tilde * g_prime(c.k["h"]) if self.positive else dh_tilde
        names = self.gate_names + ("h",)
        dK = np.concatenate([dk[n] for n in names], axis=-1).reshape(N * T, -1)  # (N T, G H)
        W, _ = self._stacked()
        dW = c.x.reshape(N * T, -1).T @ dK  # k = x W + b
        db_all = dK.sum(axis=0)
        for j, n in enumerate(names):
            self.grads[f"W_{n}"] += dW[:, j * H:(j + 1) * H]
            self.grads[f"b_{n}"] += db_all[j * H:(j + 1) * H]
        dx = (dK @ W.T).reshape(c.x.shape)
        return dx, dh0


class MinGRU(_Minimal):
    r"""Minimal GRU: :math:`h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t`, z and h~ from x_t only.

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    positive : bool
        True (default): :math:`\tilde h = g(x W_h + b_h) > 0`, the paper's log-space form;
        False: :math:`\tilde h = x W_h + b_h`.
    seed : int
        Seed of the default generator (ignored if ``rng`` is given).
    dtype : np.float32 or np.float64
    rng : np.random.Generator, optional

    Attributes
    ----------
    params, grads : dict
        ``W_z``, ``W_h`` (D, H); ``b_z``, ``b_h`` (H,). Initialised U(-1/sqrt(D), 1/sqrt(D)).
    """

    gate_names = ("z",)

    def _gates(self, k, want_logs):
        z = sigmoid(k["z"])
        a = 1.0 - z
        if not want_logs:
            return {"z": z}, a, z, None, None
        # log(1 - z) = -softplus(k_z) and log z = -softplus(-k_z), finite even where z rounds
        # to 0 or 1; both are max(., 0) + log(1 + exp(-|k_z|)): one exp and one log1p
        L = np.log1p(_exp_neg_abs(k["z"]))
        log_a = np.maximum(k["z"], 0.0)
        log_a += L
        np.negative(log_a, out=log_a)
        log_z = np.minimum(k["z"], 0.0)
        log_z -= L
        return {"z": z}, a, z, log_a, log_z

    def _coeff_b(self, c):
        return c.gates["z"]

    def _gates_backward(self, da, db, c):
        z = c.gates["z"]
        # a = 1 - z and b = z h~:  dz = db h~ - da;  z = sigmoid(k_z)
        dz = db * c.h_tilde - da
        return {"z": dz * z * (1.0 - z)}


class MinLSTM(_Minimal):
    r"""Minimal LSTM: :math:`h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t`, f' + i' = 1.

    Parameters
    ----------
    input_size, hidden_size, positive, seed, dtype, rng
        As for :class:`MinGRU`.

    Attributes
    ----------
    params, grads : dict
        ``W_f``, ``W_i``, ``W_h`` (D, H); ``b_f``, ``b_i``, ``b_h`` (H,).
    """

    gate_names = ("f", "i")

    def _gates(self, k, want_logs):
        f, i = sigmoid(k["f"]), sigmoid(k["i"])
        s = f + i
        f_n, i_n = f / s, i / s  # f' and i'
        gates = {"f": f, "i": i, "f_n": f_n, "i_n": i_n}
        if not want_logs:
            return gates, f_n, i_n, None, None
        # log f' = -softplus(log(i / f)) with log(i / f) = softplus(-k_f) - softplus(-k_i)
        diff = softplus(-k["f"]) - softplus(-k["i"])
        return gates, f_n, i_n, -softplus(diff), -softplus(-diff)

    def _coeff_b(self, c):
        return c.gates["i_n"]

    def _gates_backward(self, da, db, c):
        f, i, f_n, i_n = (c.gates[n] for n in ("f", "i", "f_n", "i_n"))
        # a = f' = f / (f + i), b = i' h~ with i' = i / (f + i):
        # d f'/d f = f' i' / f, d f'/d i = -f' i' / i (and the opposite for i')
        d_fn, d_in = da, db * c.h_tilde
        common = (d_fn - d_in) * f_n * i_n
        # f = sigmoid(k_f): df/dk_f = f (1 - f)
        return {"f": common * (1.0 - f), "i": -common * (1.0 - i)}
