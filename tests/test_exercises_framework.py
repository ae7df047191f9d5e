"""The exercise-check framework against bad reader input (issue 14, sections 2 and 3).

Time budgets (per call, per check, a reader's ``except`` cannot swallow the stop, the
fallback without signals), NumPy's error state, exceptions our code meets while reading
an answer (huge ints, complex numbers, ragged lists), float32 answers, and the rule that
a mistake is named only when it explains every case.
"""

import signal
import threading
import time

import numpy as np
import pytest

from rnnlib.exercises import Exercise, Mistake, ch1, ch2, ch4, ch5
from rnnlib.exercises._guard import time_limits

FAST = dict(call=0.3, check=0.8)


def loop_forever(*args):
    while True:
        pass


def swallow_everything(*args):
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001 - a hostile reader
            pass


HAND_WRITTEN = [ch2.check_choose_forget_bias, ch4.check_adding_batch, ch4.check_clip_by_global_norm,
                ch4.check_gru_config, ch5.check_sample_with_temperature]


@pytest.mark.parametrize("check", [ch1.check_rnn_step] + HAND_WRITTEN, ids=lambda c: c.__name__)
def test_an_endless_loop_is_stopped_within_the_call_budget(check):
    with time_limits(**FAST):
        start = time.monotonic()
        res = check(loop_forever)
        elapsed = time.monotonic() - start
    assert res.status == "timeout" and not res.passed
    assert "took longer than 0.3 s on one call" in res.message
    assert elapsed < 2.0


def test_the_check_budget_adds_up_the_calls():
    def slow(*args):
        time.sleep(0.25)
        return ch1.rnn_step_reference(*args)
    with time_limits(call=1.0, check=0.6):
        res = ch1.check_rnn_step(slow)  # 4 cases x 0.25 s > 0.6 s
    assert res.status == "timeout" and "0.6 s over the calls of this check together" in res.message


def test_a_bare_except_in_the_readers_loop_does_not_swallow_the_stop():
    with time_limits(**FAST):
        start = time.monotonic()
        res = ch1.check_rnn_step(swallow_everything)
    assert res.status == "timeout" and time.monotonic() - start < 3.0


def test_the_alarm_is_put_back_after_a_check():
    before = signal.getsignal(signal.SIGALRM)
    with time_limits(**FAST):
        ch1.check_rnn_step(loop_forever)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_outside_the_main_thread_the_trace_fallback_stops_the_loop():
    out = {}

    def run():
        with time_limits(**FAST):
            out["res"] = ch1.check_rnn_step(loop_forever)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and out["res"].status == "timeout"


def test_the_kernels_interrupt_still_interrupts():
    def interrupted(*args):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        ch1.check_rnn_step(interrupted)


def test_sys_exit_in_the_readers_function_is_a_message():
    import sys
    res = ch1.check_rnn_step(lambda *a: sys.exit(3))
    assert res.status == "raised" and "SystemExit" in res.message


def test_seterr_raise_does_not_break_the_checks_and_is_kept(monkeypatch):
    old = np.seterr(all="raise")
    try:
        assert ch1.check_rnn_step(ch1.rnn_step_reference).passed
        assert ch2.check_lstm_step(ch2.lstm_step_reference).passed
        res = ch5.check_sample_with_temperature(ch5.sample_with_temperature_reference)
        assert res.passed, res.message
        assert np.geterr()["over"] == "raise"  # the reader's own setting is left as it was
    finally:
        np.seterr(**old)


def test_a_function_that_sets_seterr_inside_does_not_leak_it():
    before = np.geterr()

    def sets_raise(*args):
        np.seterr(all="raise")
        return ch1.rnn_step_reference(*args)
    assert ch1.check_rnn_step(sets_raise).passed
    assert np.geterr() == before


@pytest.mark.parametrize("check,answer,words", [
    (ch2.check_choose_forget_bias, lambda: 10**400, "too large to be a float"),
    (ch4.check_gru_config, lambda: {"lr": 10**400}, "lr must be a number"),
    (ch4.check_gru_config, lambda: {"hidden_size": 10**5000}, "hidden_size"),
    (ch1.check_count_params, lambda D, H, V: 10**400, "too large to be a float"),
    (ch1.check_count_params, lambda D, H, V: (D - 10.0 * H) ** 0.5, "complex number"),
    (ch4.check_adding_baseline, lambda a, b: complex(a, b), "complex number"),
    (ch1.check_rnn_step, lambda x, h, W, U, b: np.tanh(x @ W + h @ U + b) + 0j, "complex numbers"),
    (ch5.check_sample_with_temperature, lambda lg, t, r: [[1, 2], [3]] * 3000, "ragged"),
    (ch1.check_rnn_step, lambda *a: [[1, 2], [3]], "should be a NumPy array"),
    (ch1.check_predict_regime, lambda rho: "x" * 10**5, "expected 'vanish'"),
])
def test_odd_return_values_get_a_reader_message(check, answer, words):
    res = check(answer)
    assert not res.passed and "please report" not in res.message.lower(), res.message
    assert words in res.message, res.message


def test_only_a_bug_of_ours_says_please_report():
    def broken_reference(x):
        raise RuntimeError("bug in the reference")
    ex = Exercise("f", broken_reference, lambda rng: [(1.0,)])
    res = ex.check(lambda x: x)
    assert res.status == "raised" and "Please report" in res.message


def test_float32_is_accepted_with_a_note_unless_float64_is_asked():
    f32 = lambda *a: ch1.rnn_step_reference(*a).astype(np.float32)  # noqa: E731
    res = ch1.check_rnn_step(f32)
    assert res.passed and "float32 precision" in res.message
    strict = Exercise("rnn_step", ch1.rnn_step_reference, ch1.step_cases, float64=True)
    res = strict.check(f32)
    assert not res.passed and res.status == "wrong-type" and "precision only" in res.message
    assert "float64" in res.message
    res = ch1.check_rnn_step_backward(lambda *a: tuple(np.float32(v) for v in
                                                       ch1.rnn_step_backward_reference(*a)))
    assert res.passed


def test_float64_off_by_float32_rounding_is_told_so():
    def rounded(*args):
        h = ch1.rnn_step_reference(*args)
        return h * (1 + 5e-6)  # relative error of a float32 intermediate, a bit more
    res = ch1.check_rnn_step(rounded)
    assert res.status == "mismatch" and "float32 rounding only" in res.message


def test_every_catalogued_mistake_in_float32_is_still_named():
    for ex in (ch1.EXERCISES["rnn_step"], ch1.EXERCISES["rnn_step_backward"]):
        for m in ex.mistakes:
            def f32(*a, _f=m.func):
                out = _f(*a)
                return tuple(np.float32(v) for v in out) if isinstance(out, tuple) else np.float32(out)
            res = ex.check(f32)
            assert res.mistake == m.id, (m.id, res.message)


def test_a_mistake_is_named_only_when_it_explains_every_case():
    def sums_for_one_row(dh_next, x_t, h_prev, h_next, W_xh, W_hh):  # right when N == 1, raises when N > 1
        out = ch1.rnn_step_backward_reference(dh_next, x_t, h_prev, h_next, W_xh, W_hh)
        return out[:4] + (out[4].reshape(h_next.shape[1]) if len(x_t) == 1 else out[4].reshape(-1, 1, 7),)
    res = ch1.check_rnn_step_backward(sums_for_one_row)
    assert res.status == "raised" and res.mistake is None, res.message
    assert "right on 1 of the other 1" in res.message
    # a mistake that raises where the reader raised is still named (x_t @ W_xh.T needs D == H)
    transposed = next(m for m in ch1.STEP_MISTAKES if m.id == "W_xh-transposed")
    res = ch1.check_rnn_step(transposed.func)
    assert res.mistake == "W_xh-transposed" and "as this mistake does" in res.message


def test_clip_over_keys_is_not_blamed_for_per_tensor_clipping():
    def over_keys(grads, max_norm):
        norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
        if norm > max_norm:
            for g in grads:
                g *= max_norm / norm  # a key, not an array: TypeError
        return norm
    res = ch4.check_clip_by_global_norm(over_keys)
    assert res.mistake is None and res.status == "raised" and "TypeError" in res.message


def test_a_correct_in_place_clip_that_returns_the_dict_is_told_exactly_that():
    def returns_dict(grads, max_norm):
        ch4.clip_by_global_norm_reference(grads, max_norm)
        return grads
    res = ch4.check_clip_by_global_norm(returns_dict)
    assert res.mistake is None and "clipped in place, correctly" in res.message


def test_an_all_nan_target_is_not_called_irreproducible():
    def nan_target(N, T, rng):
        x, y = ch4.adding_batch_reference(N, T, rng)
        return x, np.full_like(y, np.nan)
    res = ch4.check_adding_batch(nan_target)
    assert res.mistake != "global-random" and not res.passed
    assert "not the sum" in res.message


def test_mistakes_that_raise_are_kept_apart_from_readers_that_raise():
    ex = Exercise("f", lambda x: 2 * x, lambda rng: [(1.0,), (2.0,)],
                  [Mistake("half", lambda x: 1.0 if x == 1.0 else 1 / 0, "half")])
    res = ex.check(lambda x: 1.0 if x == 1.0 else [][1])  # IndexError where the mistake gives ZeroDivision
    assert res.mistake is None and res.status == "raised"
    res = ex.check(lambda x: 1.0 if x == 1.0 else 1 / 0)
    assert res.mistake == "half"
