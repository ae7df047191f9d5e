r"""Loss functions, each returning the loss and its gradient.

* :func:`mse_loss` for regression (the adding problem):
  :math:`L = \frac{1}{M}\sum (\hat y - y)^2` over all M entries.
* :func:`softmax_cross_entropy` for classification over V classes:
  :math:`L = -\frac{1}{M}\sum_m \log \operatorname{softmax}(a_m)_{y_m}`,
  with the famous gradient :math:`(\operatorname{softmax}(a) - \text{onehot}(y)) / M`.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_array
from rnnlib.activations import log_softmax


def mse_loss(pred, target):
    r"""Mean squared error and its gradient.

    Parameters
    ----------
    pred : ndarray, any shape, e.g. (N, 1)
    target : ndarray, same shape as ``pred``

    Returns
    -------
    loss : float
        :math:`\frac{1}{M}\sum (\text{pred} - \text{target})^2`, M = ``pred.size``.
    dpred : ndarray, same shape as ``pred``
        :math:`2 (\text{pred} - \text{target}) / M`.
    """
    names = tuple(f"n{k}" for k in range(np.ndim(pred)))
    pred = check_array("pred", pred, names)
    target = check_array("target", target, names, pred.shape)
    diff = pred - target
    return float(np.mean(diff**2)), (2.0 / diff.size) * diff


def softmax_cross_entropy(logits, labels):
    r"""Mean softmax cross-entropy and its gradient w.r.t. the logits.

    Parameters
    ----------
    logits : ndarray (..., V), e.g. (N, V) or (N, T, V)
    labels : int ndarray (...), values in [0, V)

    Returns
    -------
    loss : float
        Mean over all positions of :math:`-\log p_{y}` (in nats).
    dlogits : ndarray, same shape as ``logits``
        :math:`(p - \text{onehot}(y)) / M`, M = number of positions.
    """
    if not isinstance(logits, np.ndarray) or logits.ndim < 1:
        raise TypeError(f"logits must be an array (..., V); got {type(logits).__name__}")
    logits = check_array("logits", logits, tuple(f"n{k}" for k in range(logits.ndim - 1)) + ("V",))
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array; got dtype {labels.dtype}")
    if labels.shape != logits.shape[:-1]:
        raise ValueError(f"labels must have shape {logits.shape[:-1]} (logits without its last axis); "
                         f"got {labels.shape}")
    V = logits.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= V):
        raise ValueError(f"labels must lie in [0, {V}); got values in [{labels.min()}, {labels.max()}]")
    logp = log_softmax(logits).reshape(-1, V)  # (M, V)
    y = labels.reshape(-1)
    M = y.size
    loss = -float(logp[np.arange(M), y].mean())
    dlogits = np.exp(logp)  # softmax probabilities
    dlogits[np.arange(M), y] -= 1.0
    return loss, (dlogits / M).reshape(logits.shape)
