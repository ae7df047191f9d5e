r"""Optimisers and gradient clipping, with their state in plain sight.

An optimiser is built on a dict of parameter arrays and updates them *in
place* from a dict of gradients with the same keys::

    opt = Adam(layer.params, lr=1e-3)
    opt.step(layer.grads)

To train several layers, merge their dicts with distinct keys
(``{"rnn.W_x": ..., "out.W": ...}``): the arrays are shared, not copied.
"""

from __future__ import annotations

import numbers

import numpy as np


def _check_grads(params, grads):
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays; got {type(grads).__name__}")
    if set(grads) != set(params):
        raise ValueError(f"grads must have the same keys as params; missing {sorted(set(params) - set(grads))}, "
                         f"unexpected {sorted(set(grads) - set(params))}")
    for k, g in grads.items():
        if not isinstance(g, np.ndarray) or g.dtype.kind not in "fiu":
            raise TypeError(f"grads[{k!r}] must be a float ndarray of shape {params[k].shape}; got "
                            f"{type(g).__name__}{' of dtype ' + str(g.dtype) if isinstance(g, np.ndarray) else ''}")
        if np.shape(g) != params[k].shape:
            raise ValueError(f"grads[{k!r}] must have shape {params[k].shape}; got {np.shape(g)}")


def _check_params(params):
    if not isinstance(params, dict) or not params:
        raise TypeError(f"params must be a non-empty dict of arrays; got {type(params).__name__}")
    for k, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{k!r}] must be a float ndarray; got {type(p).__name__}")
    return params


def _is_real(value) -> bool:
    """A real number (NumPy scalars included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_lr(lr):
    if not (_is_real(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    return float(lr)


class SGD:
    r"""Stochastic gradient descent with (heavy-ball) momentum.

    .. math:: v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + v

    Parameters
    ----------
    params : dict of ndarray
        Updated in place.
    lr : float
        Learning rate :math:`\eta`.
    momentum : float
        :math:`\mu` in [0, 1); 0 is plain SGD.

    Attributes
    ----------
    velocity : dict of ndarray
        :math:`v` for each parameter.
    """

    def __init__(self, params, lr=0.1, momentum=0.0):
        self.params = _check_params(params)
        self.lr = _check_lr(lr)
        if not (_is_real(momentum) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must lie in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        """Update every parameter from ``grads`` (same keys and shapes)."""
        _check_grads(self.params, grads)
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v -= self.lr * grads[k]
            p += v


class Adam:
    r"""Adam (Kingma & Ba 2015).

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1) g, \quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    Parameters
    ----------
    params : dict of ndarray
    lr, beta1, beta2, eps : float

    Attributes
    ----------
    t : int
        Number of steps taken (for bias correction).
    m, v : dict of ndarray
        First and second moment estimates.
    """

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = _check_params(params)
        self.lr = _check_lr(lr)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not (_is_real(b) and 0.0 <= b < 1.0):
                raise ValueError(f"{name} must lie in [0, 1); got {b!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        """One Adam update from ``grads`` (same keys and shapes as ``params``)."""
        _check_grads(self.params, grads)
        self.t += 1
        c1 = 1.0 - self.beta1**self.t  # bias corrections
        c2 = 1.0 - self.beta2**self.t
        for k, p in self.params.items():
            g = grads[k]
            m, v = self.m[k], self.v[k]
            m *= self.beta1
            m += (1.0 - self.beta1) * g  # running mean of g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g  # running mean of g^2
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def global_norm(grads) -> float:
    r"""The global L2 norm :math:`\sqrt{\sum_k \lVert g_k \rVert^2}` of a dict of arrays."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays; got {type(grads).__name__}")
    for k, g in grads.items():
        if np.asarray(g).dtype.kind not in "fiu":
            raise TypeError(f"grads[{k!r}] must be a numeric array; got {type(g).__name__} "
                            f"of dtype {np.asarray(g).dtype}")
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))


def clip_grad_norm(grads, max_norm) -> float:
    r"""Scale all gradients in place so their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict of ndarray
    max_norm : float > 0

    Returns
    -------
    norm : float
        The global norm *before* clipping (useful to log).

    Notes
    -----
    If :math:`n = \sqrt{\sum_k \lVert g_k\rVert^2} > c`, every
    :math:`g_k \leftarrow g_k \cdot c / n` (Pascanu et al. 2013); the direction is kept.
    """
    if not (_is_real(max_norm) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}")
    norm = global_norm(grads)
    for k, g in grads.items():  # scaled in place below
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise TypeError(f"grads[{k!r}] must be a float ndarray (clipped in place); got "
                            f"{type(g).__name__}{' of dtype ' + str(g.dtype) if isinstance(g, np.ndarray) else ''}")
    if norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm
