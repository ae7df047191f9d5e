r"""Stacked, bidirectional and padded runs of the recurrent layers (chapter 7).

``RNN``, ``LSTM`` and ``GRU`` built with ``num_layers=L``, ``bidirectional=True``
or ``dropout=p``, and any layer called with ``lengths=``, run through this
module; the plain layer without ``lengths`` keeps its own fast path.
Everything here is built on the *single-layer classes'* ``forward`` /
``backward``: one parameter-sharing copy ("twin") of a plain layer per
(layer k, direction d, time segment).

Layer k, direction d (0 forward, 1 backward), in torch's order:

.. math::

    h^{(k)}_t = \text{cell}\big(x^{(k)}_t, h^{(k)}_{t-1}\big), \qquad
    x^{(k+1)}_t = m^{(k)}_t \odot \big[\overrightarrow{h}^{(k)}_t ;
    \overleftarrow{h}^{(k)}_t\big],

with :math:`x^{(0)} = x` and :math:`m^{(k)}` the dropout mask (ones in
evaluation mode; never after the last layer). The backward direction reads
each sequence from its own last step back to step 0.

Padded batches (``lengths``, torch's ``pack_padded_sequence``): the time axis
is cut at every distinct length; during the segment
:math:`[\ell_{j-1}, \ell_j)` only the sequences with length
:math:`\ge \ell_j` step, the others keep their state. Outputs after a
sequence's length are zero, and its final state is the one at its own last
step. The backward direction runs on each sequence reversed *within its
length* (:func:`reverse_index`), then its outputs are put back in place.

States: ``h`` (L·dirs, N, H), layer-major, direction-minor (index
``k * dirs + d``); the LSTM's is the pair ``(h, c)``. A plain layer also takes
and returns the chapter 1-6 form (N, H).

Parameters of a stacked layer have torch's suffixes: ``W_x_l0``,
``W_x_l0_reverse``, ``b_hn_l1`` ... (:func:`param_key`).
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnlib._checks import check_array, check_size
from rnnlib.init import init_params

NAMES = {"rnn": ("W_xh", "W_hh", "b_h"), "lstm": ("W_x", "W_h", "b"), "gru": ("W_x", "W_h", "b")}


# -- configuration -------------------------------------------------------------
def check_dropout(dropout) -> float:
    """A dropout probability in [0, 1)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise TypeError(f"dropout must be a float in [0, 1); got {type(dropout).__name__} {dropout!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be a float in [0, 1); got {dropout}")
    return float(dropout)


def setup(layer, num_layers, bidirectional, dropout, rng, init, init_kw):
    """Give ``layer`` its stack configuration (called by ``Recurrent.__init__``).

    ``layer.params`` already holds layer 0's forward parameters, drawn first
    from ``rng`` (so a stacked layer's first layer equals the plain layer with
    the same seed); the other layers and directions are drawn next, in torch's
    order, and the dropout generator is spawned from ``rng`` last.
    """
    layer.num_layers = check_size("num_layers", num_layers)
    if not isinstance(bidirectional, (bool, np.bool_)):
        raise TypeError(f"bidirectional must be True or False; got {bidirectional!r}")
    layer.bidirectional = bool(bidirectional)
    layer.num_directions = 2 if layer.bidirectional else 1
    layer.dropout = check_dropout(dropout)
    layer.training = True
    layer.dropout_masks = []
    layer._twins = {}
    layer._deep_cache = None
    layer.dropout_rng = rng.spawn(1)[0]
    if is_plain(layer):
        return
    first, layer.params = layer.params, {}
    for k, d in units(layer):
        p = first if (k, d) == (0, 0) else init_params(
            layer.kind, in_size(layer, k), layer.hidden_size, rng, scheme=init,
            dtype=layer.dtype, **init_kw)
        for name, v in p.items():
            layer.params[param_key(name, k, d, False)] = v
    layer.zero_grad()


def is_plain(layer) -> bool:
    """One layer, one direction: the chapter 1-6 layer (its parameter keys have no suffix)."""
    return layer.num_layers == 1 and layer.num_directions == 1


def units(layer):
    """(k, d) pairs in torch's order: layer-major, direction-minor."""
    return [(k, d) for k in range(layer.num_layers) for d in range(layer.num_directions)]


def in_size(layer, k) -> int:
    """Input size of layer k: D for the first, dirs*H above it."""
    return layer.input_size if k == 0 else layer.num_directions * layer.hidden_size


def param_key(name, k, d, plain) -> str:
    """``"W_x"`` for a plain layer, else ``"W_x_l{k}"`` plus ``"_reverse"`` for d = 1."""
    return name if plain else f"{name}_l{k}" + ("_reverse" if d else "")


def unit_names(layer):
    """Parameter names of one (layer, direction) unit."""
    return NAMES[layer.kind] + (("b_hn",) if getattr(layer, "reset_after", False) else ())


def param_shapes(layer) -> dict:
    """``{key: (axis names, shape)}`` for every parameter of a stacked layer (for ``set_params``)."""
    shapes = {}
    for k, d in units(layer):
        for name, spec in _twin(layer, k, d, 0)._param_shapes().items():
            shapes[param_key(name, k, d, False)] = spec
    return shapes


def _twin(layer, k, d, j):
    """Plain layer j of unit (k, d), sharing ``layer``'s parameter arrays (own cache and grads)."""
    twin = layer._twins.get((k, d, j))
    if twin is None:
        extra = {"reset_after": layer.reset_after} if layer.kind == "gru" else {}
        twin = type(layer)(in_size(layer, k), layer.hidden_size, dtype=layer.dtype, **extra)
        layer._twins[(k, d, j)] = twin
    plain = is_plain(layer)
    twin.params = {n: layer.params[param_key(n, k, d, plain)] for n in unit_names(layer)}
    return twin


# -- inputs ------------------------------------------------------------------------
def check_lengths(lengths, N, T):
    """``lengths`` (N,) integers in [1, T], as int64; None stays None."""
    if lengths is None:
        return None
    a = np.asarray(lengths) if isinstance(lengths, (list, tuple)) else lengths
    if not isinstance(a, np.ndarray):
        raise TypeError(f"lengths must be an integer array of shape (N,) = ({N},); "
                        f"got {type(lengths).__name__}")
    if a.dtype.kind not in "iu":
        raise TypeError(f"lengths must be integers (N,) = ({N},); got dtype {a.dtype}")
    if a.shape != (N,):
        raise ValueError(f"lengths must have shape (N,) = ({N},), N from x; got shape {a.shape}")
    if a.min() < 1 or a.max() > T:
        raise ValueError(f"lengths must lie in [1, T] = [1, {T}], T from x; "
                         f"got values from {a.min()} to {a.max()}")
    return a.astype(np.int64)


def check_state(layer, name, state, N):
    """A state (or its gradient) as a list of (L*dirs, N, H) arrays, and its form.

    The form is ``"stack"`` (L*dirs, N, H) or ``"plain"`` (N, H, a plain layer only).
    """
    LD, H = layer.num_layers * layer.num_directions, layer.hidden_size
    n_states = layer.n_states
    if state is None:
        form = "plain" if is_plain(layer) else "stack"  # None: the layer's natural form
        return [np.zeros((LD, N, H), layer.dtype) for _ in range(n_states)], form
    if n_states == 1:
        if isinstance(state, (tuple, list)):
            raise TypeError(f"{name} for {type(layer).__name__} must be an array h (L*dirs, N, H) "
                            f"= ({LD}, {N}, {H}); got a {type(state).__name__}")
        parts, names = [state], [name]
    else:
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"{name} for LSTM must be a tuple (h, c) of arrays (L*dirs, N, H) "
                            f"= ({LD}, {N}, {H}); got {type(state).__name__}")
        parts, names = list(state), [f"{name}[0] (h)", f"{name}[1] (c)"]
    out, forms = [], set()
    for nm, s in zip(names, parts):
        nd = np.ndim(s) if isinstance(s, np.ndarray) else None
        if is_plain(layer) and nd == 2:
            out.append(check_array(nm, s, ("N", "H"), (N, H), dtype=layer.dtype)[None])
            forms.add("plain")
            continue
        if nd is not None and (nd != 3 or s.shape != (LD, N, H)):
            raise ValueError(f"{nm}: expected (L*dirs, N, H) = ({LD}, {N}, {H}) (num_layers="
                             f"{layer.num_layers}, {layer.num_directions} direction(s), N from x); "
                             f"got shape {s.shape}")
        out.append(check_array(nm, s, ("L*dirs", "N", "H"), (LD, N, H), dtype=layer.dtype))
        forms.add("stack")
    if len(forms) > 1:
        raise ValueError(f"{name}: h and c must have the same form, (N, H) or (1, N, H)")
    return out, forms.pop()


def pack(layer, states, form):
    """List of (L*dirs, N, H) arrays -> the layer's state in ``form``."""
    states = [s[0] if form == "plain" else s for s in states]
    return states[0] if layer.n_states == 1 else tuple(states)


def is_3d(state) -> bool:
    """Whether a state is given in torch's (L*dirs, N, H) form (h, or h of an LSTM's (h, c))."""
    if isinstance(state, (tuple, list)) and state:
        state = state[0]
    return isinstance(state, np.ndarray) and state.ndim == 3


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def segments(lengths, T):
    """``[(t0, t1, active)]``: during [t0, t1) the sequences ``active`` step (None = all)."""
    if lengths is None:
        return [(0, T, None)]
    out, t0 = [], 0
    for t1 in np.unique(lengths):
        act = np.flatnonzero(lengths >= t1)
        out.append((t0, int(t1), None if act.size == lengths.size else act))
        t0 = int(t1)
    return out


def reverse_index(lengths, T):
    """(N, T) index reversing each sequence within its length (padding stays); its own inverse."""
    t = np.arange(T)
    ell = lengths[:, None]
    return np.where(t < ell, ell - 1 - t, t)


def _reverse(a, idx):
    """Sequences of ``a`` (N, T, ...) reversed in time (all of T if ``idx`` is None)."""
    if idx is None:
        return np.ascontiguousarray(a[:, ::-1])
    return np.take_along_axis(a, idx[:, :, None], axis=1)


# -- one direction of one layer, over the segments ----------------------------------
def _run(layer, twins, x, states0, segs):
    """Forward through the segments; returns hs (N, T, H) and final states [(N, H)]."""
    N, T, _ = x.shape
    if len(segs) == 1 and segs[0][2] is None and segs[0][1] == T:
        hs, fin = twins[0].forward(x, _one(layer, states0))
        return hs, _flat(fin)
    hs = np.zeros((N, T, layer.hidden_size), layer.dtype)
    S = [s.copy() for s in states0]
    for twin, (t0, t1, act) in zip(twins, segs):
        rows = slice(None) if act is None else act
        # copies: a cache may keep its initial state, and S is updated below
        h_seg, fin = twin.forward(x[rows, t0:t1], _one(layer, [s[rows].copy() for s in S]))
        hs[rows, t0:t1] = h_seg
        for s, f in zip(S, _flat(fin)):
            s[rows] = f  # sequences that have ended keep their state
    return hs, S


def _back(layer, twins, dhs, dfinal, segs, D_in):
    """Backward through the segments in reverse; returns dx (N, T, D_in) and dstates0."""
    N, T, _ = dhs.shape
    for twin in twins:
        twin.zero_grad()
    if len(segs) == 1 and segs[0][2] is None and segs[0][1] == T:
        dx, ds0 = twins[0].backward(dhs, _one(layer, dfinal))
        return dx, _flat(ds0)
    dx = np.zeros((N, T, D_in), layer.dtype)  # padded steps get no gradient
    dS = [d.copy() for d in dfinal]
    for twin, (t0, t1, act) in reversed(list(zip(twins, segs))):
        rows = slice(None) if act is None else act
        dx_seg, ds0 = twin.backward(dhs[rows, t0:t1], _one(layer, [d[rows].copy() for d in dS]))
        dx[rows, t0:t1] = dx_seg
        for d, g in zip(dS, _flat(ds0)):
            d[rows] = g  # a sequence inactive in this segment passes its state gradient through
    return dx, dS


def _one(layer, states):
    return states[0] if layer.n_states == 1 else tuple(states)


# -- the whole stack ------------------------------------------------------------------
def forward(layer, x, state=None, lengths=None):
    """Stacked / bidirectional / padded forward; see :meth:`rnnlib.layers.Recurrent.forward`."""
    x = check_array("x", x, ("N", "T", "D"), (None, None, layer.input_size), dtype=layer.dtype)
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)
    states0, form = check_state(layer, "state", state, N)
    segs = segments(lengths, T)
    idx = None if lengths is None else reverse_index(lengths, T)
    dirs, H = layer.num_directions, layer.hidden_size
    finals = [np.empty_like(s) for s in states0]  # (L*dirs, N, H) each
    masks, inp = [], x
    for k in range(layer.num_layers):
        outs = []
        for d in range(dirs):
            u = k * dirs + d
            twins = [_twin(layer, k, d, j) for j in range(len(segs))]
            x_in = inp if d == 0 else _reverse(inp, idx)  # backward direction: read from the end
            hs, fin = _run(layer, twins, x_in, [s[u] for s in states0], segs)
            outs.append(hs if d == 0 else _reverse(hs, idx))  # put its outputs back in time order
            for f, v in zip(finals, fin):
                f[u] = v
        out = outs[0] if dirs == 1 else np.concatenate(outs, axis=2)  # (N, T, dirs*H): [fwd ; bwd]
        mask = None
        if k < layer.num_layers - 1 and layer.training and layer.dropout > 0:
            keep = 1.0 - layer.dropout
            mask = (layer.dropout_rng.random(out.shape) < keep).astype(layer.dtype) / keep
            out = out * mask  # x^{(k+1)} = m^{(k)} * h^{(k)}
        masks.append(mask)
        inp = out
    layer.dropout_masks = masks[:-1]
    layer._deep_cache = (N, T, segs, idx, masks, form)
    assert out.shape == (N, T, dirs * H)
    return out, pack(layer, finals, form)


def backward(layer, dhs, dstate=None):
    """Backward of the last :func:`forward`; see :meth:`rnnlib.layers.Recurrent.backward`."""
    if layer._deep_cache is None:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward: run forward(x) first")
    N, T, segs, idx, masks, form = layer._deep_cache
    dirs, H, plain = layer.num_directions, layer.hidden_size, is_plain(layer)
    dhs = check_array("dhs", dhs, ("N", "T", "dirs*H"), (N, T, dirs * H), dtype=layer.dtype)
    dfinal, _ = check_state(layer, "dstate", dstate, N)
    dstate0 = [np.empty_like(d) for d in dfinal]
    dout = dhs
    for k in reversed(range(layer.num_layers)):
        if masks[k] is not None:
            dout = dout * masks[k]  # x^{(k+1)} = m * h^{(k)}  ->  dh^{(k)} = m * dx^{(k+1)}
        din = None
        for d in range(dirs):
            u = k * dirs + d
            twins = [layer._twins[(k, d, j)] for j in range(len(segs))]
            g = dout[..., d * H:(d + 1) * H]  # this direction's half of [fwd ; bwd]
            g = g if d == 0 else _reverse(g, idx)
            dx, ds0 = _back(layer, twins, g, [df[u] for df in dfinal], segs, in_size(layer, k))
            dx = dx if d == 0 else _reverse(dx, idx)
            din = dx if din is None else din + dx  # both directions read the same input
            for s, v in zip(dstate0, ds0):
                s[u] = v
            for twin in twins:
                for n, gr in twin.grads.items():
                    layer.grads[param_key(n, k, d, plain)] += gr
        dout = din
    return dout, pack(layer, dstate0, form)
