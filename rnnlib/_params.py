"""The ``params`` / ``grads`` bookkeeping every rnnlib layer shares.

A layer keeps its arrays in ``self.params`` (name -> array) and their
gradients in ``self.grads`` with the same keys and shapes; gradients
accumulate across ``backward`` calls until :meth:`Parametric.zero_grad`.
"""

from __future__ import annotations

import numpy as np


class Parametric:
    """Mixin for a layer with ``params`` and ``grads`` dicts of the same keys."""

    params: dict

    def zero_grad(self):
        """Set every gradient to zero (same keys and shapes as ``params``)."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def parameters(self):
        """List of ``(name, param, grad)`` triples."""
        return [(k, self.params[k], self.grads[k]) for k in self.params]

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return int(sum(v.size for v in self.params.values()))
