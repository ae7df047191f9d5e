"""Chapter 2 exercise checks: the references are right (against rnnlib, torch layout and finite
differences), every catalogued mistake is named as itself, hand-typed slips are named, and no reader
function can make a check raise."""

import numpy as np
import pytest

import rnnlib
from rnnlib import gates
from rnnlib.activations import sigmoid
from rnnlib.exercises import ch2

EXERCISES = ch2.EXERCISES


def test_required_mistakes_are_catalogued():
    step = {m.id for m in EXERCISES["lstm_step"].mistakes}
    assert {"gate-order-ifgo", "gate-order-ifog", "candidate-sigmoid", "gates-tanh", "cell-from-h",
            "output-before-tanh", "missing-bias"} <= step
    assert {"order-as-rnnlib", "not-transposed", "dropped-bias_hh"} <= {m.id for m in EXERCISES["torch_to_per_gate"].mistakes}
    assert {"no-h-path", "carousel-without-f"} <= {m.id for m in EXERCISES["cell_backward"].mistakes}
    assert "forget-means-erase" in {m.id for m in EXERCISES["predict_cell_state"].mistakes}


# --- the references themselves --------------------------------------------------------------

def test_lstm_step_reference_is_the_per_gate_cell():
    for x_t, h, c, W_x, W_h, b in EXERCISES["lstm_step"].cases():
        h1, c1 = ch2.lstm_step_reference(x_t, h, c, W_x, W_h, b)
        (h2, c2), _ = gates.lstm_step_per_gate(x_t, (h, c), **gates.lstm_per_gate_params({"W_x": W_x, "W_h": W_h, "b": b}))
        assert np.max(np.abs(h1 - h2)) < 1e-12 and np.max(np.abs(c1 - c2)) < 1e-12


def test_cell_backward_reference_matches_finite_differences():
    """d(L)/d(gate outputs) and dL/dC_{t-1} for L = sum(h_t * dh) + sum(C_t * dc)."""
    for dh, dc, c_prev, f, i, o, c_tilde, c_next in EXERCISES["cell_backward"].cases():
        def loss_parts(c_prev, f, i, o, c_tilde):
            c = f * c_prev + i * c_tilde
            return np.concatenate([o * np.tanh(c), c], axis=1)  # (N, 2H): h_t and C_t

        up = np.concatenate([dh, dc], axis=1)
        args = [c_prev, f, i, o, c_tilde]
        analytic = dict(zip(("c_prev", "f", "i", "o", "c_tilde"),
                            np.array(ch2.cell_backward_reference(dh, dc, c_prev, f, i, o, c_tilde, c_next))[[0, 1, 2, 3, 4]]))
        for k, name in enumerate(("c_prev", "f", "i", "o", "c_tilde")):
            def fk(v, k=k):
                a = list(args)
                a[k] = v
                return loss_parts(*a)
            num = rnnlib.numerical_gradient(fk, args[k].copy(), df=up)
            assert rnnlib.rel_error(num, analytic[name]) < 1e-7, name


def test_cell_backward_reference_agrees_with_lstm_step_backward():
    """Through the gates' derivatives it gives rnnlib's pre-activation gradient and dc_prev."""
    rng = np.random.default_rng(7)
    N, D, H = 3, 4, 5
    x_t, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    layer = rnnlib.LSTM(D, H, seed=2)
    (h1, c1), cache = rnnlib.lstm_step_forward(x_t, (h, c), **layer.params)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    dc_prev, df, di, do, dct = ch2.cell_backward_reference(dh, dc, c, cache.f, cache.i, cache.o, cache.c_tilde, c1)
    _, (_, dc_prev2), grads = rnnlib.lstm_step_backward((dh, dc), cache)
    db = grads["b"]
    da = np.concatenate([df * cache.f * (1 - cache.f), di * cache.i * (1 - cache.i), do * cache.o * (1 - cache.o),
                         dct * (1 - cache.c_tilde**2)], axis=1)
    assert np.max(np.abs(dc_prev - dc_prev2)) < 1e-12 and np.max(np.abs(da.sum(axis=0) - db)) < 1e-12


def test_torch_to_per_gate_reference_against_torch_equations():
    """The per-gate cell with the converted weights reproduces PyTorch's equations (run in NumPy)."""
    from rnnlib.experiments.mixups import random_torch_state_dict, torch_equations_forward
    rng = np.random.default_rng(3)
    sd = random_torch_state_dict("lstm", 4, 6, rng)
    pg = ch2.torch_to_per_gate_reference(*(sd[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")))
    assert tuple(pg) == gates.LSTM_PARAM_NAMES
    x = rng.standard_normal((2, 5, 4))
    h = c = np.zeros((2, 6))
    hs = []
    for t in range(5):
        (h, c), _ = gates.lstm_step_per_gate(x[:, t], (h, c), **pg)
        hs.append(h)
    assert np.max(np.abs(np.stack(hs, axis=1) - torch_equations_forward(sd, "lstm", x))) < 1e-12


def test_predict_cell_state_reference_is_the_formula():
    for scenario, c_prev, c_tilde in EXERCISES["predict_cell_state"].cases():
        f, i = ch2.SCENARIOS[scenario]
        assert np.allclose(ch2.predict_cell_state_reference(scenario, c_prev, c_tilde), f * c_prev + i * c_tilde,
                           rtol=0, atol=1e-12)


# --- hand-written versions of the required mistakes, as a reader would type them -----------

def _split(a, H):
    return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]


def test_handwritten_lstm_step_mistakes_are_named():
    def torch_order(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        i, f, g, o = _split(x_t @ W_x + h_prev @ W_h + b, H)
        c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c

    def sig_candidate(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        f, i, o, g = _split(x_t @ W_x + h_prev @ W_h + b, H)
        c = sigmoid(f) * c_prev + sigmoid(i) * sigmoid(g)
        return sigmoid(o) * np.tanh(c), c

    def with_h(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        f, i, o, g = _split(x_t @ W_x + h_prev @ W_h + b, H)
        c = sigmoid(f) * h_prev + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c

    def o_first(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        f, i, o, g = _split(x_t @ W_x + h_prev @ W_h + b, H)
        c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
        return np.tanh(sigmoid(o) * c), c

    def no_bias(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        f, i, o, g = _split(x_t @ W_x + h_prev @ W_h, H)
        c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c

    for fn, mistake in [(torch_order, "gate-order-ifgo"), (sig_candidate, "candidate-sigmoid"),
                        (with_h, "cell-from-h"), (o_first, "output-before-tanh"), (no_bias, "missing-bias")]:
        result = ch2.check_lstm_step(fn)
        assert result.mistake == mistake, (fn.__name__, result.message)


def test_handwritten_torch_mistake_is_named():
    def as_rnnlib(weight_ih, weight_hh, bias_ih, bias_hh):
        H = weight_hh.shape[1]
        out = {}
        for k, g in enumerate("fioc"):
            rows = slice(k * H, (k + 1) * H)
            out[f"W_x{g}"], out[f"W_h{g}"] = weight_ih[rows].T, weight_hh[rows].T
            out[f"b_{g}"] = bias_ih[rows] + bias_hh[rows]
        return out

    assert ch2.check_torch_to_per_gate(as_rnnlib).mistake == "order-as-rnnlib"


# --- robustness: raising, wrong shape, mutating, wrong type -----------------------------------

def test_raising_function_gets_a_message():
    def broken(*args):
        raise ValueError("shapes do not align")

    for check in [getattr(ch2, f"check_{key}") for key in EXERCISES]:
        result = check(broken)
        assert result.status == "raised" and "ValueError: shapes do not align" in result.message


def test_wrong_shape_gets_a_message():
    def transposed(x_t, h_prev, c_prev, W_x, W_h, b):
        h, c = ch2.lstm_step_reference(x_t, h_prev, c_prev, W_x, W_h, b)
        return h.T.copy(), c.T.copy()

    result = ch2.check_lstm_step(transposed)
    assert result.status == "wrong-shape" and "should have shape" in result.message


def test_input_mutating_function_gets_a_message():
    def in_place(x_t, h_prev, c_prev, W_x, W_h, b):
        h, c = ch2.lstm_step_reference(x_t, h_prev, c_prev, W_x, W_h, b)
        c_prev *= 0.0  # "reuse the buffer"
        return h, c

    result = ch2.check_lstm_step(in_place)
    assert result.status == "mutated-input" and "c_prev" in result.message

    def in_place_backward(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next):
        out = ch2.cell_backward_reference(dh_next, dc_next, c_prev, f, i, o, c_tilde, c_next)
        dc_next += 1.0
        return out

    result = ch2.check_cell_backward(in_place_backward)
    assert result.status == "mutated-input" and "dc_next" in result.message


def test_wrong_type_and_keys_get_messages():
    assert ch2.check_lstm_step(lambda *a: ch2.lstm_step_reference(*a)[0]).status == "wrong-type"
    bad_keys = lambda *a: {k.replace("c", "g"): v for k, v in ch2.torch_to_per_gate_reference(*a).items()}  # noqa: E731
    result = ch2.check_torch_to_per_gate(bad_keys)
    assert result.status == "wrong-type" and "should have keys" in result.message
    assert ch2.check_lstm_step("not a function").status == "wrong-type"


# --- choosing a forget bias (checked by measurement) ------------------------------------------

@pytest.mark.parametrize("bias,status,mistake", [
    (3.0, "passed", None), (2, "passed", None), (np.float64(4.0), "passed", None),
    (-1.0, "known-mistake", "negative"), (0.0, "known-mistake", "default"), (1.0, "known-mistake", "too-small"),
    (50.0, "known-mistake", "too-large"),
])
def test_choose_forget_bias_is_measured(bias, status, mistake):
    result = ch2.check_choose_forget_bias(lambda: bias)
    assert result.status == status and result.mistake == mistake, result.message
    assert result.passed == (status == "passed")
    if status == "passed":
        assert ch2.measured_gradient(float(bias)) >= ch2.BIAS_THRESHOLD
        assert f"{ch2.measured_gradient(float(bias)):.1e}" in result.message
    elif mistake != "too-large":
        assert ch2.measured_gradient(float(bias)) < ch2.BIAS_THRESHOLD


def test_measured_gradient_grows_with_the_bias_and_matches_gradient_flow():
    values = [ch2.measured_gradient(b) for b in (0.0, 1.0, 2.0)]
    assert values[0] < values[1] < values[2]
    table = rnnlib.experiments.gradient_flow.gradient_norm_table({"m": ("lstm", {"forget_bias": 2.0})}, T_values=(100,))
    assert values[2] == table.medians[0, 0]


@pytest.mark.parametrize("answer", ["3", None, True, float("nan"), float("inf"), [3.0]])
def test_choose_forget_bias_rejects_non_numbers(answer):
    result = ch2.check_choose_forget_bias(lambda: answer)
    assert result.status == "wrong-type" and not result.passed


def test_choose_forget_bias_raising_and_not_callable():
    def broken():
        raise RuntimeError("oops")

    assert ch2.check_choose_forget_bias(broken).status == "raised"
    assert ch2.check_choose_forget_bias(3.0).status == "wrong-type"


# --- the whole sequence, backwards (lstm_backward from the step caches) -------------------------

def _lstm_loss_parts(x, h0, c0, W_x, W_h, b):
    """hs (N, T, H), h_T and c_T flattened side by side: L = sum(parts * upstream)."""
    hs, (h_T, c_T), _ = rnnlib.lstm_forward(x, (h0, c0), W_x, W_h, b)
    return np.concatenate([hs.reshape(len(x), -1), h_T, c_T], axis=1)


def test_lstm_backward_reference_matches_rnnlib_lstm_backward():
    """On the check's own cases: the same numbers as the library's fused sequence backward."""
    problems = ch2.lstm_backward_problems(np.random.default_rng(EXERCISES["lstm_backward"].seed))
    cases = EXERCISES["lstm_backward"].cases()
    assert all(np.array_equal(p["dhs"], c[0]) for p, c in zip(problems, cases))  # the same draws
    for p in problems:
        _, _, cache = rnnlib.lstm_forward(p["x"], p["state0"], **p["params"])
        dx, (dh0, dc0), grads = ch2.lstm_backward_reference(p["dhs"], p["caches"], p["dstate_T"])
        dx2, (dh02, dc02), grads2 = rnnlib.lstm_backward(p["dhs"], cache, p["dstate_T"])
        assert list(grads) == list(grads2) == ["W_x", "W_h", "b"]
        for a, b in [(dx, dx2), (dh0, dh02), (dc0, dc02)] + [(grads[k], grads2[k]) for k in grads]:
            assert a.shape == b.shape and np.max(np.abs(a - b)) < 1e-12


def test_lstm_backward_reference_matches_finite_differences():
    """L = sum(hs * dhs) + sum(h_T * dh_T) + sum(c_T * dc_T), float64, relative error < 1e-7."""
    for p in ch2.lstm_backward_problems(np.random.default_rng(11)):
        N, T, H = p["dhs"].shape
        dh_T, dc_T = p["dstate_T"] or (np.zeros((N, H)), np.zeros((N, H)))
        up = np.concatenate([p["dhs"].reshape(N, -1), dh_T, dc_T], axis=1)
        dx, (dh0, dc0), grads = ch2.lstm_backward_reference(p["dhs"], p["caches"], p["dstate_T"])
        inputs = {"x": p["x"], "h0": p["state0"][0], "c0": p["state0"][1], **p["params"]}
        analytic = {"x": dx, "h0": dh0, "c0": dc0, **grads}
        for name in inputs:
            num = rnnlib.numerical_gradient(lambda v, name=name: _lstm_loss_parts(**{**inputs, name: v}),
                                            inputs[name].copy(), df=up)
            assert rnnlib.rel_error(num, analytic[name]) < 1e-7, name


def test_lstm_backward_cases_make_every_slip_visible():
    """Every case has T steps of its own size, a non-zero final-state gradient but one (None)."""
    cases = EXERCISES["lstm_backward"].cases()
    assert [c[2] is None for c in cases] == [k == ch2.LSTM_NO_FINAL for k in range(len(cases))]
    assert any(c[0].shape[1] == 1 for c in cases) and any(c[0].shape[1] >= 5 for c in cases)
    assert {"dc-not-carried", "dh-not-carried", "upstream-not-added", "grads-overwritten", "loop-forwards",
            "cache-off-by-one", "final-state-ignored"} <= {m.id for m in EXERCISES["lstm_backward"].mistakes}


def _bptt_lstm(dhs, caches, dstate_T=None):  # a reader's answer, CS231n style
    N, T, H = dhs.shape
    dh_next, dc_next = dstate_T if dstate_T is not None else (np.zeros((N, H)), np.zeros((N, H)))
    dx = np.zeros((N, T, caches[0].x_t.shape[1]))
    grads = {"W_x": 0.0, "W_h": 0.0, "b": 0.0}
    for t in reversed(range(T)):
        dx[:, t], (dh_next, dc_next), g = rnnlib.lstm_step_backward((dh_next + dhs[:, t], dc_next), caches[t])
        for k in grads:
            grads[k] = grads[k] + g[k]
    return dx, (dh_next, dc_next), grads


def _bptt_lstm_list(dhs, caches, dstate_T=None):  # a list of dx, reversed at the end; grads from the first step
    T = len(caches)
    dh, dc = (None, None) if dstate_T is None else dstate_T
    dh = np.zeros_like(dhs[:, 0]) if dh is None else dh
    out, grads = [], None
    for t in range(T - 1, -1, -1):
        dx_t, (dh, dc), g = rnnlib.lstm_step_backward((dhs[:, t] + dh, dc), caches[t])
        out.append(dx_t)
        grads = dict(g) if grads is None else {k: grads[k] + v for k, v in g.items()}
    return np.stack(out[::-1], axis=1), (dh, dc), grads


def _bptt_lstm_recursive(dhs, caches, dstate_T=None):  # recursion over the remaining steps
    N, T, H = dhs.shape
    dh_T, dc_T = dstate_T if dstate_T is not None else (np.zeros((N, H)), np.zeros((N, H)))

    def back(t, dh, dc):
        if t < 0:
            return [], (dh, dc), {}
        dx_t, (dh, dc), g = rnnlib.lstm_step_backward((dh + dhs[:, t], dc), caches[t])
        dxs, state, rest = back(t - 1, dh, dc)
        return dxs + [dx_t], state, {k: g[k] + rest.get(k, 0) for k in g}
    dxs, state0, grads = back(T - 1, dh_T, dc_T)
    return np.stack(dxs, axis=1), state0, grads


def _bptt_lstm_float32(dhs, caches, dstate_T=None):
    dx, (dh0, dc0), grads = _bptt_lstm(dhs, caches, dstate_T)
    return dx.astype(np.float32), (dh0.astype(np.float32), dc0.astype(np.float32)), grads


@pytest.mark.parametrize("answer", [_bptt_lstm, _bptt_lstm_list, _bptt_lstm_recursive, _bptt_lstm_float32])
def test_lstm_backward_correct_answers_written_differently_pass(answer):
    result = ch2.check_lstm_backward(answer)
    assert result.passed, result.message


def test_lstm_backward_handwritten_slips_are_named():
    def no_cell_carry(dhs, caches, dstate_T=None):  # passes a zero cell gradient at every step
        N, T, H = dhs.shape
        dh = np.zeros((N, H)) if dstate_T is None else dstate_T[0]
        dx, grads = [], {"W_x": 0, "W_h": 0, "b": 0}
        for t in reversed(range(T)):
            dx_t, (dh, dc), g = rnnlib.lstm_step_backward((dh + dhs[:, t], np.zeros((N, H))), caches[t])
            dx.insert(0, dx_t)
            grads = {k: grads[k] + g[k] for k in grads}
        return np.stack(dx, 1), (dh, dc), grads

    def overwrite(dhs, caches, dstate_T=None):
        N, T, H = dhs.shape
        dh, dc = dstate_T if dstate_T is not None else (np.zeros((N, H)), np.zeros((N, H)))
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        for t in reversed(range(T)):
            dx[:, t], (dh, dc), grads = rnnlib.lstm_step_backward((dh + dhs[:, t], dc), caches[t])
        return dx, (dh, dc), grads

    def upstream_ignored(dhs, caches, dstate_T=None):
        N, T, H = dhs.shape
        dh, dc = dstate_T if dstate_T is not None else (np.zeros((N, H)), np.zeros((N, H)))
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        grads = {"W_x": 0, "W_h": 0, "b": 0}
        for t in reversed(range(T)):
            dx[:, t], (dh, dc), g = rnnlib.lstm_step_backward((dh, dc), caches[t])
            grads = {k: grads[k] + g[k] for k in grads}
        return dx, (dh, dc), grads

    def forwards(dhs, caches, dstate_T=None):
        N, T, H = dhs.shape
        dh, dc = dstate_T if dstate_T is not None else (np.zeros((N, H)), np.zeros((N, H)))
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        grads = {"W_x": 0, "W_h": 0, "b": 0}
        for t in range(T):
            dx[:, t], (dh, dc), g = rnnlib.lstm_step_backward((dh + dhs[:, t], dc), caches[t])
            grads = {k: grads[k] + g[k] for k in grads}
        return dx, (dh, dc), grads

    def no_final(dhs, caches, dstate_T=None):
        return _bptt_lstm(dhs, caches, None)

    def reversed_dx(dhs, caches, dstate_T=None):
        dx, state0, grads = _bptt_lstm(dhs, caches, dstate_T)
        return dx[:, ::-1], state0, grads

    for fn, mistake in [(no_cell_carry, "dc-not-carried"), (overwrite, "grads-overwritten"),
                        (upstream_ignored, "upstream-not-added"), (forwards, "loop-forwards"),
                        (no_final, "final-state-ignored"), (reversed_dx, "dx-reversed")]:
        result = ch2.check_lstm_backward(fn)
        assert result.mistake == mistake, (fn.__name__, result.message)


def test_lstm_backward_right_on_some_cases_only_is_not_blamed():
    """Right except when dstate_T is None (it unpacks None): a raise, not a catalogued mistake."""
    def no_none(dhs, caches, dstate_T=None):
        dh_T, dc_T = dstate_T  # TypeError on the None case
        return _bptt_lstm(dhs, caches, (dh_T, dc_T))
    result = ch2.check_lstm_backward(no_none)
    assert result.status == "raised" and result.mistake is None and "TypeError" in result.message
    assert f"right on {len(EXERCISES['lstm_backward'].cases()) - 1} of the other" in result.message


def test_lstm_backward_mutating_the_caches_is_reported():
    def in_place(dhs, caches, dstate_T=None):
        out = _bptt_lstm(dhs, caches, dstate_T)
        caches[0].W_h[...] = 0.0
        return out
    result = ch2.check_lstm_backward(in_place)
    assert result.status == "mutated-input" and "caches" in result.message
