"""The layer classes (rnnlib.layers): contract, state structure, dtype, bookkeeping.

``RNN``, ``LSTM``, ``GRU`` (both reset forms) and ``Linear``: shapes of the
public contract, the structure of states and state gradients, float32/float64,
gradient accumulation and ``zero_grad``, ``parameters``/``n_params``,
``set_params``/``from_params``, and finite-difference checks of ``backward``
through the classes. The last test checks that every public name of the core
is exercised somewhere in tests/.
"""

from __future__ import annotations

import pathlib
import re
import zlib

import numpy as np
import pytest

import rnnlib
from rnnlib import GRU, LSTM, RNN, Linear, numerical_gradient, rel_error

# Float64 centred differences agree with a correct backward to ~1e-9 relative;
# a wrong term gives O(1e-2..1). See tests/test_cells.py for the step size.
GRAD_RTOL = 1e-7
FD_STEP = 1e-5

# (factory, name): the four recurrent layer variants of the book
LAYERS = [
    pytest.param(lambda D, H, **kw: RNN(D, H, **kw), id="rnn"),
    pytest.param(lambda D, H, **kw: LSTM(D, H, **kw), id="lstm"),
    pytest.param(lambda D, H, **kw: GRU(D, H, **kw), id="gru_after"),
    pytest.param(lambda D, H, **kw: GRU(D, H, reset_after=False, **kw), id="gru_before"),
]


def _rng(*parts):
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def _state(layer, N, rng, scale=0.8):
    """A random non-zero state with the layer's structure."""
    H = layer.hidden_size
    if isinstance(layer, LSTM):
        return (scale * rng.standard_normal((N, H)), rng.standard_normal((N, H)))
    return scale * rng.standard_normal((N, H))


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


# -- the contract ------------------------------------------------------------------

@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 5, 4, 2)])
def test_contract_shapes_and_state_structure(make, N, T, D, H):
    layer = make(D, H, seed=0)
    rng = _rng("contract", N, T, D, H)
    x = rng.standard_normal((N, T, D))
    hs, state = layer.forward(x, state=None)
    assert hs.shape == (N, T, H)
    if isinstance(layer, LSTM):
        assert isinstance(state, tuple) and len(state) == 2
        np.testing.assert_array_equal(state[0], hs[:, -1])  # h_T is the last output
        assert state[1].shape == (N, H)
    else:
        assert isinstance(state, np.ndarray) and state.shape == (N, H)
        np.testing.assert_array_equal(state, hs[:, -1])
    dx, dstate0 = layer.backward(rng.standard_normal((N, T, H)), dstate=None)
    assert dx.shape == (N, T, D)
    assert type(dstate0) is type(state)
    assert [s.shape for s in _flat(dstate0)] == [(N, H)] * len(_flat(state))
    assert set(layer.params) == set(layer.grads)
    for k in layer.params:
        assert layer.grads[k].shape == layer.params[k].shape


@pytest.mark.parametrize("make", LAYERS)
def test_state_none_means_zeros(make):
    layer = make(3, 4, seed=1)
    rng = _rng("zeros")
    x, dhs = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    zeros = tuple(np.zeros((2, 4)) for _ in _flat(_state(layer, 2, rng)))
    zeros = zeros if isinstance(layer, LSTM) else zeros[0]
    hs_none, st_none = layer.forward(x)
    dx_none, d0_none = layer.backward(dhs)
    g_none = {k: v.copy() for k, v in layer.grads.items()}
    layer.zero_grad()
    hs_zero, st_zero = layer.forward(x, zeros)
    dx_zero, d0_zero = layer.backward(dhs, zeros)
    np.testing.assert_array_equal(hs_none, hs_zero)
    np.testing.assert_array_equal(dx_none, dx_zero)
    for a, b in zip(_flat(st_none) + _flat(d0_none), _flat(st_zero) + _flat(d0_zero)):
        np.testing.assert_array_equal(a, b)
    for k in g_none:
        np.testing.assert_array_equal(g_none[k], layer.grads[k])


@pytest.mark.parametrize("make", LAYERS)
def test_layer_equals_the_sequence_function(make):
    layer = make(3, 4, seed=2)
    rng = _rng("func")
    x, s0 = rng.standard_normal((2, 5, 3)), _state(layer, 2, rng)
    hs, state = layer.forward(x, s0)
    p = layer.params
    if isinstance(layer, RNN):
        ref, state_ref, _ = rnnlib.rnn_forward(x, s0, **p)
    elif isinstance(layer, LSTM):
        ref, state_ref, _ = rnnlib.lstm_forward(x, s0, **p)
    else:
        ref, state_ref, _ = rnnlib.gru_forward(x, s0, **p, reset_after=layer.reset_after)
    np.testing.assert_array_equal(hs, ref)
    np.testing.assert_array_equal(state, state_ref)  # the same structure: h, or the pair (h, c)
    assert type(state) is type(state_ref)


@pytest.mark.parametrize("make", LAYERS)
def test_carrying_the_state_across_chunks_equals_one_long_forward(make):
    """forward(x[:, :k]) then forward(x[:, k:], state): truncated BPTT relies on it."""
    layer = make(2, 3, seed=3)
    rng = _rng("chunks")
    x, s0 = rng.standard_normal((2, 7, 2)), _state(layer, 2, rng)
    hs_full, st_full = layer.forward(x, s0)
    hs_a, st_a = layer.forward(x[:, :4], s0)
    hs_b, st_b = layer.forward(x[:, 4:], st_a)
    np.testing.assert_allclose(np.concatenate([hs_a, hs_b], axis=1), hs_full, rtol=1e-13, atol=1e-15)
    for a, b in zip(_flat(st_b), _flat(st_full)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("make", LAYERS)
def test_returned_final_state_is_independent_of_hs(make):
    layer = make(2, 3, seed=4)
    hs, state = layer.forward(_rng("indep").standard_normal((2, 4, 2)))
    saved = hs.copy()
    for s in _flat(state):
        s[...] = 99.0
    np.testing.assert_array_equal(hs, saved)


# -- dtype --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", LAYERS)
def test_dtype_is_kept_everywhere(make, dtype):
    layer = make(3, 4, seed=0, dtype=dtype)
    assert layer.dtype == np.dtype(dtype)
    assert all(v.dtype == dtype for v in layer.params.values())
    rng = _rng("dtype")
    x = rng.standard_normal((2, 5, 3))  # float64 input: cast to the layer's dtype
    hs, state = layer.forward(x, _state(layer, 2, rng))
    dx, d0 = layer.backward(rng.standard_normal((2, 5, 4)), _state(layer, 2, rng))
    for a in [hs, dx, *_flat(state), *_flat(d0), *layer.grads.values()]:
        assert a.dtype == dtype


def test_float32_layer_agrees_with_float64_layer():
    l64, l32 = LSTM(3, 4, seed=7), LSTM(3, 4, seed=7, dtype=np.float32)
    x = _rng("f32").standard_normal((2, 6, 3))
    hs64, _ = l64.forward(x)
    hs32, _ = l32.forward(x.astype(np.float32))
    assert rel_error(hs32, hs64) < 1e-6


# -- gradients through the classes -------------------------------------------------------

@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (2, 4, 3, 2)])
def test_layer_backward_matches_finite_differences(make, N, T, D, H):
    layer = make(D, H, seed=5)  # uniform init: non-zero biases
    rng = _rng("layer-grad", N, T, D, H, layer)
    x, s0 = rng.standard_normal((N, T, D)), _state(layer, N, rng)
    dhs, dT = rng.standard_normal((N, T, H)), _state(layer, N, rng, scale=1.0)
    is_lstm = isinstance(layer, LSTM)

    def run(x_, s0_):
        hs, st = layer.forward(x_, s0_)
        return np.concatenate([hs.ravel()] + [s.ravel() for s in _flat(st)])

    df = np.concatenate([dhs.ravel()] + [d.ravel() for d in _flat(dT)])
    layer.forward(x, s0)
    dx, d0 = layer.backward(dhs, dT)
    grads = {k: v.copy() for k, v in layer.grads.items()}

    checks = {"x": (dx, numerical_gradient(lambda v: run(v, s0), x, df, h=FD_STEP))}
    if is_lstm:
        checks["h0"] = (d0[0], numerical_gradient(lambda v: run(x, (v, s0[1])), s0[0], df, h=FD_STEP))
        checks["c0"] = (d0[1], numerical_gradient(lambda v: run(x, (s0[0], v)), s0[1], df, h=FD_STEP))
    else:
        checks["h0"] = (d0, numerical_gradient(lambda v: run(x, v), s0, df, h=FD_STEP))
    for k in layer.params:
        def with_param(v, k=k):
            layer.params[k] = v  # the perturbed array itself becomes the parameter
            return run(x, s0)

        checks[k] = (grads[k], numerical_gradient(with_param, layer.params[k], df, h=FD_STEP))
    errors = {k: rel_error(a, n) for k, (a, n) in checks.items()}
    assert max(errors.values()) < GRAD_RTOL, errors


# -- bookkeeping ---------------------------------------------------------------------

@pytest.mark.parametrize("make", LAYERS)
def test_gradients_accumulate_until_zero_grad(make):
    layer = make(3, 2, seed=6)
    rng = _rng("acc")
    x1, x2 = rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 2, 3))
    d1, d2 = rng.standard_normal((2, 4, 2)), rng.standard_normal((3, 2, 2))
    layer.forward(x1)
    layer.backward(d1)
    g1 = {k: v.copy() for k, v in layer.grads.items()}
    assert any(np.any(v != 0) for v in g1.values())
    layer.backward(d1)  # the same backward again: grads double
    for k in g1:
        np.testing.assert_allclose(layer.grads[k], 2 * g1[k], rtol=1e-14)
    layer.zero_grad()
    for k, v in layer.grads.items():
        assert v.shape == layer.params[k].shape and v.dtype == layer.params[k].dtype
        assert not np.any(v)
    layer.forward(x2)
    layer.backward(d2)
    g2 = {k: v.copy() for k, v in layer.grads.items()}
    layer.zero_grad()
    layer.forward(x1)
    layer.backward(d1)
    layer.forward(x2)
    layer.backward(d2)  # two different batches accumulate
    for k in g1:
        np.testing.assert_allclose(layer.grads[k], g1[k] + g2[k], rtol=1e-13)


@pytest.mark.parametrize("make", LAYERS)
def test_parameters_share_the_arrays(make):
    layer = make(3, 2, seed=0)
    triples = layer.parameters()
    assert [t[0] for t in triples] == list(layer.params)
    for name, p, g in triples:
        assert p is layer.params[name] and g is layer.grads[name]
    opt = rnnlib.SGD(dict((n, p) for n, p, _ in triples), lr=0.1)
    before = {k: v.copy() for k, v in layer.params.items()}
    layer.forward(np.ones((1, 2, 3)))
    layer.backward(np.ones((1, 2, 2)))
    opt.step(layer.grads)  # an optimiser built on parameters() updates the layer
    for k in before:
        np.testing.assert_allclose(layer.params[k], before[k] - 0.1 * layer.grads[k])


@pytest.mark.parametrize("cls, kw, per_gate_blocks, extra", [
    (RNN, {}, 1, 0), (LSTM, {}, 4, 0), (GRU, {}, 3, 1), (GRU, {"reset_after": False}, 3, 0)])
@pytest.mark.parametrize("D, H", [(1, 1), (3, 5)])
def test_n_params(cls, kw, per_gate_blocks, extra, D, H):
    layer = cls(D, H, **kw)
    assert layer.n_params == per_gate_blocks * (D * H + H * H + H) + extra * H
    assert layer.n_params == sum(v.size for v in layer.params.values())


def test_parameter_keys():
    assert all(isinstance(layer, rnnlib.Recurrent) for layer in (RNN(2, 3), LSTM(2, 3), GRU(2, 3)))
    assert set(RNN(2, 3).params) == {"W_xh", "W_hh", "b_h"}
    assert set(LSTM(2, 3).params) == {"W_x", "W_h", "b"}
    assert set(GRU(2, 3).params) == {"W_x", "W_h", "b", "b_hn"}
    assert set(GRU(2, 3, reset_after=False).params) == {"W_x", "W_h", "b"}


@pytest.mark.parametrize("make", LAYERS)
def test_seed_and_rng(make):
    a, b, c = make(3, 4, seed=0), make(3, 4, seed=0), make(3, 4, seed=1)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        assert not np.array_equal(a.params[k], c.params[k])
    d = make(3, 4, seed=0, rng=np.random.default_rng(1))  # an explicit rng wins over seed
    for k in a.params:
        np.testing.assert_array_equal(d.params[k], c.params[k])


@pytest.mark.parametrize("make", LAYERS)
def test_set_params_copies_casts_and_resets(make):
    layer = make(3, 2, seed=0)
    new = {k: np.full(v.shape, 0.25, np.float32) for k, v in layer.params.items()}
    layer.forward(np.ones((1, 2, 3)))
    layer.backward(np.ones((1, 2, 2)))
    assert layer.set_params(new) is layer
    for k in new:
        assert layer.params[k].dtype == np.float64 and layer.params[k] is not new[k]
        np.testing.assert_array_equal(layer.params[k], 0.25)
        assert not np.any(layer.grads[k])  # grads reset
    new[next(iter(new))][...] = 7.0  # editing the source does not touch the layer
    assert all(np.all(v == 0.25) for v in layer.params.values())
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((1, 2, 2)))  # the old cache is gone


@pytest.mark.parametrize("make", LAYERS)
def test_from_params_reads_sizes_and_copies(make):
    src = make(3, 5, seed=9)
    kw = {"reset_after": src.reset_after} if isinstance(src, GRU) else {}
    layer = type(src).from_params(src.params, **kw)
    assert (layer.input_size, layer.hidden_size) == (3, 5)
    for k in src.params:
        np.testing.assert_array_equal(layer.params[k], src.params[k])
        assert layer.params[k] is not src.params[k]
    x = _rng("fp").standard_normal((2, 3, 3))
    np.testing.assert_array_equal(layer.forward(x)[0], src.forward(x)[0])
    l32 = type(src).from_params(src.params, dtype=np.float32, **kw)
    assert all(v.dtype == np.float32 for v in l32.params.values())


def test_bias_options_of_the_layers():
    H = 3
    base, fb = LSTM(2, H, seed=4), LSTM(2, H, seed=4, forget_bias=1.5)
    np.testing.assert_allclose(fb.params["b"] - base.params["b"], [1.5] * H + [0.0] * 3 * H)
    base, ub = GRU(2, H, seed=4), GRU(2, H, seed=4, update_bias=-2.0)
    np.testing.assert_allclose(ub.params["b"] - base.params["b"], [-2.0] * H + [0.0] * 2 * H)


def test_repr_names_the_sizes():
    assert repr(LSTM(2, 3)) == "LSTM(input_size=2, hidden_size=3, dtype=float64)"
    assert "reset_after=False" in repr(GRU(2, 3, reset_after=False))
    assert "float32" in repr(RNN(2, 3, dtype=np.float32))


# -- Linear --------------------------------------------------------------------------

@pytest.mark.parametrize("lead", [(1,), (4,), (2, 3)])
def test_linear_forward_backward(lead):
    lin = Linear(3, 5, seed=2)
    rng = _rng("linear", lead)
    h, dy = rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (5,))
    y = lin.forward(h)
    assert y.shape == lead + (5,)
    np.testing.assert_allclose(y, h @ lin.params["W"] + lin.params["b"])
    dh = lin.backward(dy)
    assert dh.shape == h.shape
    grads = {k: v.copy() for k, v in lin.grads.items()}
    errors = {"h": rel_error(dh, numerical_gradient(lambda v: lin.forward(v), h, dy, h=FD_STEP))}
    for k in ("W", "b"):
        def with_param(v, k=k):
            lin.params[k] = v
            return lin.forward(h)

        errors[k] = rel_error(grads[k], numerical_gradient(with_param, lin.params[k], dy, h=FD_STEP))
    assert max(errors.values()) < GRAD_RTOL, errors


def test_linear_bookkeeping():
    lin = Linear(4, 2, seed=0)
    bound = 1 / np.sqrt(4)
    assert all(np.all(np.abs(v) <= bound) for v in lin.params.values())
    assert lin.n_params == 4 * 2 + 2
    assert [(n, p is lin.params[n], g is lin.grads[n]) for n, p, g in lin.parameters()] == [
        ("W", True, True), ("b", True, True)]
    h = np.ones((3, 4))
    lin.forward(h)
    lin.backward(np.ones((3, 2)))
    lin.backward(np.ones((3, 2)))
    np.testing.assert_allclose(lin.grads["b"], [6.0, 6.0])  # accumulated twice over 3 rows
    lin.zero_grad()
    assert not any(np.any(g) for g in lin.grads.values())
    l32 = Linear(4, 2, dtype=np.float32)
    assert l32.forward(h).dtype == np.float32 and l32.backward(np.ones((3, 2))).dtype == np.float32
    np.testing.assert_array_equal(Linear(4, 2, seed=3).params["W"], Linear(4, 2, seed=3).params["W"])
    assert not np.array_equal(Linear(4, 2, seed=3).params["W"], Linear(4, 2, seed=4).params["W"])


# -- every public name is tested ----------------------------------------------------------

def test_every_public_name_is_exercised_by_the_tests():
    """Each name in rnnlib.__all__, the gate helpers and the Recurrent methods is
    used in the *code* (not comments or docstrings) of tests/test_*.py.

    A heuristic guard: a new public function without a test makes it fail.
    """
    here = pathlib.Path(__file__)
    code = "\n".join(p.read_text() for p in here.parent.glob("test_*.py") if p != here)
    code += here.read_text().split("# -- every public name is tested")[0]
    code = re.sub(r'(\"\"\"|\'\'\')(.*?)\1', "", code, flags=re.S)  # docstrings
    code = re.sub(r"#.*", "", code)  # comments
    modules = "rnnlib|activations|rnn|lstm|gru|init|losses|optim|gradcheck|torch_io|layers"
    missing = []
    for n in rnnlib.__all__:
        # rnnlib.name / module.name, or a bare name that is not a keyword argument
        if not re.search(rf"(?:\b(?:{modules})\.|(?<![.\w])){n}\b(?!\s*=[^=])", code):
            missing.append(n)
    for n in ["split_gates", "stack_gates", "set_params", "zero_grad", "parameters", "n_params", "from_params"]:
        if not re.search(rf"\.{n}\b", code):
            missing.append(n)
    assert not missing, f"public names without a test: {missing}"


def test_gru_from_params_infers_the_form_from_b_hn():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4))
    for reset_after in (True, False):
        src = rnnlib.GRU(4, 5, reset_after=reset_after, seed=3)
        layer = rnnlib.GRU.from_params(src.params)
        assert layer.reset_after is reset_after
        np.testing.assert_array_equal(layer.forward(x)[0], src.forward(x)[0])
