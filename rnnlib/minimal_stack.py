r"""A stack of minimal layers with a position-wise ``tanh(h W_p + b_p)`` between them.

See :class:`MinimalStack` for why a stack (the gates of one minimal layer cannot see
the past) and why a nonlinearity between the layers (a linear map would be absorbed
by the next layer's input matrices).

Shapes: ``x`` (N, T, D) -> ``hs`` (N, T, H); states: a list of ``num_layers`` arrays (N, H).
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_size
from rnnlib.layers import Linear
from rnnlib.minimal import MinGRU, MinLSTM


class MinimalStack:
    r"""``num_layers`` minimal layers with a position-wise ``tanh(h W_p + b_p)`` between them.

    Why a stack, and why a nonlinearity between: one minimal layer's gates read only
    :math:`x_t`, so *when* it writes cannot depend on what it has seen; the second
    layer's gates read the first layer's states, which summarise the past, and that
    restores some of what the dropped :math:`h_{t-1}` did. A purely linear projection
    between two layers would add nothing: the next layer's first operation is linear
    (:math:`u W_z`), so :math:`(h W_p) W_z = h (W_p W_z)`. The tanh makes it a
    position-wise layer of its own (the paper's models interleave the recurrent layers
    with position-wise MLPs; one Linear and a tanh is the smallest such layer). A tanh
    rather than a ReLU: the states of a positive layer are all > 0, and a ReLU of
    their projection can leave every unit dead at small H (measured at H = 4: 0 %,
    5 % and 25 % of the second projection's units alive for seeds 0, 1, 2).

    Parameters
    ----------
    kind : {"mingru", "minlstm"}
    input_size, hidden_size : int
    num_layers : int
    positive, seed, dtype
        As for :class:`MinGRU`; layer l is seeded ``seed + l``, projection l ``seed + 1000 + l``.

    Attributes
    ----------
    layers : list of MinGRU or MinLSTM
    projections : list of rnnlib.Linear (H -> H), one between two layers
    params, grads : dict
        Every parameter, keyed ``"layer{l}.W_z"``, ``"proj{l}.W"`` ...
    """

    def __init__(self, kind, input_size, hidden_size, num_layers=1, positive=True, seed=0,
                 dtype=np.float64):

        classes = {"mingru": MinGRU, "minlstm": MinLSTM}
        if kind not in classes:
            raise ValueError(f"kind must be one of {sorted(classes)}; got {kind!r}")
        self.num_layers = check_size("num_layers", num_layers)
        self.kind = kind
        H = check_size("hidden_size", hidden_size)
        self.layers = [classes[kind](input_size if l == 0 else H, H, positive, seed + l, dtype)
                       for l in range(self.num_layers)]
        self.projections = [Linear(H, H, seed=seed + 1000 + l, dtype=dtype)
                            for l in range(self.num_layers - 1)]
        self.input_size, self.hidden_size = self.layers[0].input_size, H
        self._us = None

    def _modules(self):
        for l, layer in enumerate(self.layers):
            yield f"layer{l}", layer
            if l < len(self.projections):
                yield f"proj{l}", self.projections[l]

    @property
    def params(self):
        return {f"{m}.{k}": v for m, mod in self._modules() for k, v in mod.params.items()}

    @property
    def grads(self):
        return {f"{m}.{k}": v for m, mod in self._modules() for k, v in mod.grads.items()}

    @property
    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    def zero_grad(self):
        for _, mod in self._modules():
            mod.zero_grad()

    def forward(self, x, state=None, method="log-scan"):
        """``x`` (N, T, D) -> ``hs`` (N, T, H) of the last layer, and the list of final states.

        ``state`` is None or a list of ``num_layers`` arrays (N, H).
        """
        if state is not None and (not isinstance(state, (list, tuple)) or len(state) != self.num_layers):
            raise TypeError(f"state must be None or a list of {self.num_layers} arrays (N, H); got "
                            f"{type(state).__name__}" + (f" of length {len(state)}"
                                                         if isinstance(state, (list, tuple)) else ""))
        finals, self._us, u = [], [], x
        for l, layer in enumerate(self.layers):
            hs, h_T = layer.forward(u, None if state is None else state[l], method)
            finals.append(h_T)
            if l < len(self.projections):
                u = np.tanh(self.projections[l].forward(hs))  # (N, T, H), position-wise
                self._us.append(u)
        return hs, finals

    def backward(self, dhs, dstate=None):
        """``dhs`` (N, T, H) of the last layer (and a list of final-state gradients) -> ``dx``, ``dstates0``."""
        if self._us is None:
            raise RuntimeError("MinimalStack.backward called before forward: run forward(x) first")
        dstates0 = [None] * self.num_layers
        d = dhs
        for l in range(self.num_layers - 1, -1, -1):
            d, dstates0[l] = self.layers[l].backward(d, None if dstate is None else dstate[l])
            if l > 0:
                u = self._us[l - 1]
                d = self.projections[l - 1].backward(d * (1.0 - u * u))  # u = tanh(v)
        return d, dstates0
