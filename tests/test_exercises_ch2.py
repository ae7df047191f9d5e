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
