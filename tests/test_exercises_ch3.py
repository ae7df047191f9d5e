"""Chapter 3 exercise checks: the reference passes, every catalogued mistake is named as itself,
the five classic GRU slips are caught when written by hand, and no reader function can make a check raise."""

import numpy as np

import rnnlib
from rnnlib import conventions, gates
from rnnlib.exercises import ch3
from rnnlib.experiments.mixups import torch_equations_forward

EXERCISES = ch3.EXERCISES


def test_required_mistakes_are_catalogued():
    step = {m.id for m in EXERCISES["gru_step"].mistakes}
    assert {"swapped-update", "reset-before", "torch-order", "sigmoid-tanh-swapped", "missing-b_hn"} <= step
    before = {m.id for m in EXERCISES["gru_step_before"].mistakes}
    assert {"swapped-update", "reset-after", "torch-order", "sigmoid-tanh-swapped"} <= before


# --- the references are the real thing -----------------------------------------------------
def test_step_references_match_rnnlib_and_the_per_gate_cell():
    for case in ch3.step_cases(np.random.default_rng(3)):
        x_t, h, W_x, W_h, b, b_hn = case
        ref = ch3.gru_step_reference(*case)
        np.testing.assert_allclose(ref, rnnlib.gru_step_forward(*case, reset_after=True)[0], rtol=0, atol=1e-12)
        per_gate = gates.gru_per_gate_params({"W_x": W_x, "W_h": W_h, "b": b, "b_hn": b_hn})
        np.testing.assert_allclose(ref, gates.gru_step_per_gate(x_t, h, **per_gate)[0], rtol=0, atol=1e-12)
        ref_before = ch3.gru_step_before_reference(x_t, h, W_x, W_h, b)
        np.testing.assert_allclose(ref_before, rnnlib.gru_step_forward(x_t, h, W_x, W_h, b, reset_after=False)[0],
                                   rtol=0, atol=1e-12)


def test_update_gate_backward_reference_is_the_finite_difference_gradient():
    rng = np.random.default_rng(4)
    dh, h_prev, z, h_tilde = ch3.update_backward_cases(rng)[0]
    a_z = np.log(z / (1 - z))  # the pre-activation whose sigmoid is z

    def h_of_z(zz):
        return zz * h_prev + (1 - zz) * h_tilde

    def h_of_a(aa):
        return h_of_z(rnnlib.sigmoid(aa))

    dz, da_z = ch3.update_gate_backward_reference(dh, h_prev, z, h_tilde)
    assert rnnlib.rel_error(rnnlib.numerical_gradient(h_of_z, z.copy(), df=dh), dz) < 1e-7
    assert rnnlib.rel_error(rnnlib.numerical_gradient(h_of_a, a_z.copy(), df=dh), da_z) < 1e-7


def test_keras_to_torch_reference_computes_the_same_gru():
    for kernel, recurrent_kernel, bias in ch3.keras_cases(np.random.default_rng(5)):
        sd = ch3.keras_to_torch_reference(kernel, recurrent_kernel, bias)
        H = recurrent_kernel.shape[0]
        assert sd["weight_ih_l0"].shape == (3 * H, kernel.shape[0]) and sd["weight_hh_l0"].shape == (3 * H, H)
        x = np.random.default_rng(6).standard_normal((2, 5, kernel.shape[0]))
        keras_layer = conventions.from_keras_weights(kernel, recurrent_kernel, bias, "gru")
        np.testing.assert_allclose(torch_equations_forward(sd, "gru", x), keras_layer.forward(x)[0],
                                   rtol=0, atol=1e-12)


def test_count_reference_matches_rnnlib_layers():
    for D, H in ch3.count_cases(np.random.default_rng(0)):
        assert ch3.count_params_reference(D, H) == (rnnlib.GRU(D, H).n_params, rnnlib.LSTM(D, H).n_params)


def test_which_form_cases_cover_all_four_labels_and_are_told_apart():
    cases = ch3.which_form_cases(np.random.default_rng(0))
    labels = [ch3.which_form_reference(*c) for c in cases]
    assert sorted(labels) == sorted(ch3.FORM_LABELS * 2)
    for x, params, hs in cases:  # the right candidate is exact, every other one far off
        errors = sorted(np.max(np.abs(ch3.run_form(x, params, *lab) - hs)) for lab in ch3.FORM_LABELS)
        assert errors[0] < 1e-12 and errors[1] > 1e-3


# --- hand-written versions of the classic slips, as a reader would type them ---------------
def _split(a):
    H = a.shape[-1] // 3
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:]


def test_handwritten_gru_slips_are_named():
    sig = rnnlib.sigmoid

    def swapped_update(x_t, h_prev, W_x, W_h, b, b_hn):
        (xz, xr, xh), (hz, hr, hh), (bz, br, bh) = _split(W_x), _split(W_h), _split(b)
        z, r = sig(x_t @ xz + h_prev @ hz + bz), sig(x_t @ xr + h_prev @ hr + br)
        n = np.tanh(x_t @ xh + bh + r * (h_prev @ hh + b_hn))
        return (1 - z) * h_prev + z * n

    def reset_before(x_t, h_prev, W_x, W_h, b, b_hn):
        (xz, xr, xh), (hz, hr, hh), (bz, br, bh) = _split(W_x), _split(W_h), _split(b)
        z, r = sig(x_t @ xz + h_prev @ hz + bz), sig(x_t @ xr + h_prev @ hr + br)
        n = np.tanh(x_t @ xh + bh + (r * h_prev) @ hh + b_hn)
        return z * h_prev + (1 - z) * n

    def torch_order(x_t, h_prev, W_x, W_h, b, b_hn):
        (xr, xz, xh), (hr, hz, hh), (br, bz, bh) = _split(W_x), _split(W_h), _split(b)  # r, z, n
        z, r = sig(x_t @ xz + h_prev @ hz + bz), sig(x_t @ xr + h_prev @ hr + br)
        n = np.tanh(x_t @ xh + bh + r * (h_prev @ hh + b_hn))
        return z * h_prev + (1 - z) * n

    def sigmoid_tanh_swapped(x_t, h_prev, W_x, W_h, b, b_hn):
        (xz, xr, xh), (hz, hr, hh), (bz, br, bh) = _split(W_x), _split(W_h), _split(b)
        z, r = np.tanh(x_t @ xz + h_prev @ hz + bz), np.tanh(x_t @ xr + h_prev @ hr + br)
        n = sig(x_t @ xh + bh + r * (h_prev @ hh + b_hn))
        return z * h_prev + (1 - z) * n

    def missing_b_hn(x_t, h_prev, W_x, W_h, b, b_hn):
        a = x_t @ W_x + b
        H = h_prev.shape[1]
        zr = sig(a[:, :2 * H] + h_prev @ W_h[:, :2 * H])
        z, r = zr[:, :H], zr[:, H:]
        n = np.tanh(a[:, 2 * H:] + r * (h_prev @ W_h[:, 2 * H:]))
        return z * h_prev + (1 - z) * n

    assert ch3.check_gru_step(swapped_update).mistake == "swapped-update"
    assert ch3.check_gru_step(reset_before).mistake == "reset-before"
    assert ch3.check_gru_step(torch_order).mistake == "torch-order"
    assert ch3.check_gru_step(sigmoid_tanh_swapped).mistake == "sigmoid-tanh-swapped"
    assert ch3.check_gru_step(missing_b_hn).mistake == "missing-b_hn"
    # the reset-after step given to the reset-before check (with b_hn dropped) is the other form
    assert ch3.check_gru_step_before(lambda x, h, Wx, Wh, b: missing_b_hn(x, h, Wx, Wh, b, None)).mistake == \
        "reset-after"


def test_handwritten_conversion_and_form_slips_are_named():
    def keep_keras_order(kernel, recurrent_kernel, bias):
        return {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent_kernel.T,
                "bias_ih_l0": bias[0], "bias_hh_l0": bias[1]}

    assert ch3.check_keras_to_torch(keep_keras_order).mistake == "order-unchanged"

    def always_default(x, params, hs):
        return "after", "seed"

    assert ch3.check_which_form(always_default).mistake == "always-library-default"


def test_rnnlib_functions_pass_the_checks():
    assert ch3.check_gru_step(lambda *a: rnnlib.gru_step_forward(*a, reset_after=True)[0]).passed
    assert ch3.check_gru_step_before(lambda *a: rnnlib.gru_step_forward(*a, reset_after=False)[0]).passed

    def to_torch(kernel, recurrent_kernel, bias):
        sd = rnnlib.to_torch_state_dict(conventions.from_keras_weights(kernel, recurrent_kernel, bias, "gru"))
        return sd

    # rnnlib merges the z, r biases (only their sum matters): the same GRU, but not a copy of the numbers
    result = ch3.check_keras_to_torch(to_torch)
    assert result.status == "known-mistake" and result.mistake == "gate-biases-merged"
    assert "computes the same GRU" in result.message
    assert ch3.check_count_params(lambda D, H: (rnnlib.GRU(D, H).n_params, rnnlib.LSTM(D, H).n_params)).passed


# --- failures that must come back as messages, never as tracebacks ---------------------------
def test_raising_function_gives_type_and_text():
    def broken(*args):
        raise KeyError("oops")

    result = ch3.check_gru_step(broken)
    assert result.status == "raised" and "KeyError" in result.message and "oops" in result.message
    assert "Traceback" not in result.message


def test_wrong_shape_and_type():
    result = ch3.check_gru_step(lambda x, h, Wx, Wh, b, bhn: np.zeros((7, 7)))
    assert result.status == "wrong-shape" and "(3, 5)" in result.message and "(7, 7)" in result.message
    result = ch3.check_update_gate_backward(lambda dh, hp, z, ht: dh * (hp - ht))
    assert result.status == "wrong-type" and "tuple of 2" in result.message
    result = ch3.check_keras_to_torch(lambda k, rk, b: [k.T, rk.T, b[0], b[1]])
    assert result.status == "wrong-type" and "dict" in result.message
    result = ch3.check_which_form(lambda x, p, hs: "after")
    assert result.status == "wrong-type"
    result = ch3.check_count_params(lambda D, H: 3 * (D * H + H * H + H) + H)
    assert result.status == "wrong-type" and "tuple of 2" in result.message


def test_input_mutation_is_reported():
    def mutating(x_t, h_prev, W_x, W_h, b, b_hn):
        b_hn += 0.0 * b_hn + 1.0
        return ch3.gru_step_reference(x_t, h_prev, W_x, W_h, b, b_hn)

    result = ch3.check_gru_step(mutating)
    assert result.status == "mutated-input" and "b_hn" in result.message


def test_generic_mismatch_gives_max_abs_diff_and_hint():
    result = ch3.check_gru_step(lambda *a: ch3.gru_step_reference(*a) + 0.25)
    assert result.status == "mismatch"
    assert "max abs diff = 0.25" in result.message and "Hint:" in result.message
