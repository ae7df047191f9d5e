"""Chapter 3 exercise checks: the reference passes, every catalogued mistake is named as itself,
the five classic GRU slips are caught when written by hand, and no reader function can make a check raise."""

import numpy as np
import pytest

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


# --- the whole sequence, backwards (gru_backward from the step caches) --------------------------

def _gru_loss_parts(x, h0, reset_after, **params):
    """hs (N, T, H) and h_T flattened side by side: L = sum(parts * upstream)."""
    hs, h_T, _ = rnnlib.gru_forward(x, h0, **params, reset_after=reset_after)
    return np.concatenate([hs.reshape(len(x), -1), h_T], axis=1)


def test_gru_backward_reference_matches_rnnlib_gru_backward():
    """On the check's own cases, both forms: the same numbers as the library's fused sequence backward."""
    problems = ch3.gru_backward_problems(np.random.default_rng(EXERCISES["gru_backward"].seed))
    assert {p["reset_after"] for p in problems} == {True, False}
    cases = EXERCISES["gru_backward"].cases()
    assert all(np.array_equal(p["dhs"], c[0]) for p, c in zip(problems, cases))  # the same draws
    for p in problems:
        _, _, cache = rnnlib.gru_forward(p["x"], p["h0"], **p["params"], reset_after=p["reset_after"])
        dx, dh0, grads = ch3.gru_backward_reference(p["dhs"], p["caches"], p["dstate_T"])
        dx2, dh02, grads2 = rnnlib.gru_backward(p["dhs"], cache, p["dstate_T"])
        assert set(grads) == set(grads2) == set(p["params"])
        for a, b in [(dx, dx2), (dh0, dh02)] + [(grads[k], grads2[k]) for k in grads]:
            assert a.shape == b.shape and np.max(np.abs(a - b)) < 1e-12


def test_gru_backward_reference_matches_finite_differences():
    """L = sum(hs * dhs) + sum(h_T * dh_T), float64, relative error < 1e-7, both forms."""
    for p in ch3.gru_backward_problems(np.random.default_rng(12)):
        N, T, H = p["dhs"].shape
        dh_T = np.zeros((N, H)) if p["dstate_T"] is None else p["dstate_T"]
        up = np.concatenate([p["dhs"].reshape(N, -1), dh_T], axis=1)
        dx, dh0, grads = ch3.gru_backward_reference(p["dhs"], p["caches"], p["dstate_T"])
        inputs = {"x": p["x"], "h0": p["h0"], **p["params"]}
        analytic = {"x": dx, "h0": dh0, **grads}
        for name in inputs:
            num = rnnlib.numerical_gradient(
                lambda v, name=name: _gru_loss_parts(**{**inputs, name: v}, reset_after=p["reset_after"]),
                inputs[name].copy(), df=up)
            assert rnnlib.rel_error(num, analytic[name]) < 1e-7, (name, p["reset_after"])


def test_gru_backward_required_mistakes_are_catalogued():
    assert {"dh-not-carried", "upstream-not-added", "grads-overwritten", "loop-forwards", "cache-off-by-one",
            "final-state-ignored", "reset-before-backward", "no-b_hn"} <= {
        m.id for m in EXERCISES["gru_backward"].mistakes}


def _bptt_gru(dhs, caches, dstate_T=None):  # a reader's answer, CS231n style
    N, T, H = dhs.shape
    dh = np.zeros((N, H)) if dstate_T is None else dstate_T
    dx = np.zeros((N, T, caches[0].x_t.shape[1]))
    grads = {}
    for t in reversed(range(T)):
        dx[:, t], dh, g = rnnlib.gru_step_backward(dh + dhs[:, t], caches[t])
        for k, v in g.items():
            grads[k] = grads.get(k, 0) + v
    return dx, dh, grads


def _bptt_gru_list(dhs, caches, dstate_T=None):  # dx in a list, grads summed with np.sum at the end
    dh = 0 * dhs[:, -1] if dstate_T is None else dstate_T
    dxs, gs = [], []
    for cache, dh_above in zip(caches[::-1], dhs.transpose(1, 0, 2)[::-1]):
        dx_t, dh, g = rnnlib.gru_step_backward(dh_above + dh, cache)
        dxs.append(dx_t)
        gs.append(g)
    grads = {k: np.sum([g[k] for g in gs], axis=0) for k in gs[0]}
    return np.stack(dxs[::-1], axis=1), dh, grads


@pytest.mark.parametrize("answer", [_bptt_gru, _bptt_gru_list])
def test_gru_backward_correct_answers_written_differently_pass(answer):
    result = ch3.check_gru_backward(answer)
    assert result.passed, result.message


def test_gru_backward_handwritten_slips_are_named():
    def fixed_keys(dhs, caches, dstate_T=None):  # grads initialised for W_x, W_h, b only
        dx, dh, grads = _bptt_gru(dhs, caches, dstate_T)
        return dx, dh, {k: grads[k] for k in ("W_x", "W_h", "b")}

    def no_carry(dhs, caches, dstate_T=None):
        N, T, H = dhs.shape
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        grads = {}
        for t in reversed(range(T)):
            dx[:, t], dh_prev, g = rnnlib.gru_step_backward(dhs[:, t], caches[t])
            grads = {k: grads.get(k, 0) + v for k, v in g.items()}
        return dx, dh_prev, grads

    def off_by_one(dhs, caches, dstate_T=None):
        N, T, H = dhs.shape
        dh = np.zeros((N, H)) if dstate_T is None else dstate_T
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        grads = {}
        for t in range(T - 1, -1, -1):
            dx[:, t], dh, g = rnnlib.gru_step_backward(dh + dhs[:, t], caches[t - 1])
            grads = {k: grads.get(k, 0) + v for k, v in g.items()}
        return dx, dh, grads

    def by_hand_reset_before(dhs, caches, dstate_T=None):  # eq-gru-bwd-before written out, for every cache
        N, T, H = dhs.shape
        dh = np.zeros((N, H)) if dstate_T is None else dstate_T
        dx = np.zeros((N, T, caches[0].x_t.shape[1]))
        grads = {"W_x": 0, "W_h": 0, "b": 0}
        for t in reversed(range(T)):
            c = caches[t]
            W_h = c.W_h
            d = dh + dhs[:, t]
            dz = d * (c.h_prev - c.h_tilde)
            da_n = d * (1 - c.z) * (1 - c.h_tilde**2)
            drh = da_n @ W_h[:, 2 * H:].T
            da_z, da_r = dz * c.z * (1 - c.z), drh * c.h_prev * c.r * (1 - c.r)
            da = np.concatenate([da_z, da_r, da_n], axis=1)
            dx[:, t] = da @ c.W_x.T
            dh = d * c.z + drh * c.r + np.concatenate([da_z, da_r], axis=1) @ W_h[:, :2 * H].T
            grads["W_x"] = grads["W_x"] + c.x_t.T @ da
            grads["W_h"] = grads["W_h"] + np.concatenate(
                [c.h_prev.T @ da_z, c.h_prev.T @ da_r, (c.r * c.h_prev).T @ da_n], axis=1)
            grads["b"] = grads["b"] + da.sum(axis=0)
        return dx, dh, grads

    for fn, mistake in [(fixed_keys, "no-b_hn"), (no_carry, "dh-not-carried"), (off_by_one, "cache-off-by-one"),
                        (by_hand_reset_before, "reset-before-backward")]:
        result = ch3.check_gru_backward(fn)
        assert result.mistake == mistake, (fn.__name__, result.message)


def test_gru_backward_time_major_dx_is_named_not_just_a_wrong_shape():
    def time_major(dhs, caches, dstate_T=None):
        dx, dh0, grads = _bptt_gru(dhs, caches, dstate_T)
        return dx.transpose(1, 0, 2), dh0, grads
    assert ch3.check_gru_backward(time_major).mistake == "dx-time-major"
