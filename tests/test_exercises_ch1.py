"""Chapter 1 exercise checks: the reference passes, every catalogued mistake is named,
and no reader function can make a check raise."""

import numpy as np

import rnnlib
from rnnlib import exercises
from rnnlib.exercises import Exercise, Mistake, check_function
from rnnlib.exercises import ch1

EXERCISES = ch1.EXERCISES


def test_required_chapter_1_mistakes_are_catalogued():
    step = {m.id for m in EXERCISES["rnn_step"].mistakes}
    assert {"sigmoid", "missing-bias", "W_hh-transposed", "W_xh-transposed", "column-vectors",
            "dropped-batch-axis"} <= step
    seq = {m.id for m in EXERCISES["rnn_sequence"].mistakes}
    assert {"off-by-one", "time-major", "state-not-carried"} <= seq
    bwd = {m.id for m in EXERCISES["rnn_step_backward"].mistakes}
    assert {"dW_hh-uses-h_next", "W_hh-not-transposed", "db-not-summed"} <= bwd


# --- hand-written versions of the mistakes, as a reader would type them ---------
def test_handwritten_mistakes_are_named():
    def sig(x_t, h_prev, W_xh, W_hh, b_h):
        return 1.0 / (1.0 + np.exp(-(x_t @ W_xh + h_prev @ W_hh + b_h)))

    def transposed(x_t, h_prev, W_xh, W_hh, b_h):
        return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)

    def column(x_t, h_prev, W_xh, W_hh, b_h):
        return np.tanh(W_xh.T @ x_t.T + W_hh.T @ h_prev.T + b_h[:, None])

    def seq_off_by_one(x, h0, W_xh, W_hh, b_h):
        h, hs = h0, []
        for t in range(x.shape[1]):
            hs.append(h)  # stores h_{t-1}
            h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        return np.stack(hs, axis=1)

    def seq_time_major(x, h0, W_xh, W_hh, b_h):
        h, hs = h0, []
        for t in range(x.shape[1]):
            h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
            hs.append(h)
        return np.array(hs)  # (T, N, H)

    assert ch1.check_rnn_step(sig).mistake == "sigmoid"
    assert ch1.check_rnn_step(transposed).mistake == "W_hh-transposed"
    assert ch1.check_rnn_step(column).mistake == "column-vectors"
    assert ch1.check_rnn_sequence(seq_off_by_one).mistake == "off-by-one"
    assert ch1.check_rnn_sequence(seq_time_major).mistake == "time-major"


def test_W_xh_transposed_is_named_although_it_raises_when_D_differs_from_H():
    result = ch1.check_rnn_step(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b))
    assert result.mistake == "W_xh-transposed"
    assert "ValueError" in result.message  # and it says it also raised on the other cases


def test_rnnlib_functions_pass_the_checks():
    assert ch1.check_rnn_step(lambda *a: rnnlib.rnn_step_forward(*a)[0]).passed

    def bwd(dh_next, x_t, h_prev, h_next, W_xh, W_hh):
        cache = rnnlib.rnn.RNNStepCache(x_t, h_prev, h_next, W_xh, W_hh)
        dx_t, dh_prev, grads = rnnlib.rnn_step_backward(dh_next, cache)
        return dx_t, dh_prev, grads["W_xh"], grads["W_hh"], grads["b_h"]  # the exercise's tuple

    assert ch1.check_rnn_step_backward(bwd).passed
    assert ch1.check_rnn_sequence(lambda *a: rnnlib.rnn_forward(*a)[0]).passed
    assert ch1.check_count_params(
        lambda D, H, V: rnnlib.RNN(D, H).n_params + rnnlib.Linear(H, V).n_params).passed


# --- failures that must come back as messages, never as tracebacks ------------
def test_raising_function_gives_type_and_text():
    def broken(*args):
        raise KeyError("oops")

    result = ch1.check_rnn_step(broken)
    assert result.status == "raised"
    assert "KeyError" in result.message and "oops" in result.message
    assert "Traceback" not in result.message


def test_wrong_return_type():
    result = ch1.check_rnn_step(lambda *a: [[0.0] * 4] * 3)
    assert result.status == "wrong-type"
    assert "NumPy array" in result.message and "list" in result.message
    result = ch1.check_count_params(lambda D, H, V: "42")
    assert result.status == "wrong-type" and "number" in result.message
    result = ch1.check_rnn_step_backward(lambda *a: np.zeros(3))
    assert result.status == "wrong-type" and "tuple of 5" in result.message


def test_wrong_shape_names_expected_and_got():
    result = ch1.check_rnn_step(lambda x, h, Wx, Wh, b: np.zeros((7, 7)))
    assert result.status == "wrong-shape"
    assert "(3, 4)" in result.message and "(7, 7)" in result.message


def test_input_mutation_is_reported():
    def mutating(x_t, h_prev, W_xh, W_hh, b_h):
        h_prev *= 0.5
        return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)

    result = ch1.check_rnn_step(mutating)
    assert result.status == "mutated-input"
    assert "h_prev" in result.message


def test_generic_mismatch_gives_max_abs_diff_and_hint():
    result = ch1.check_rnn_step(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b) + 0.25)
    assert result.status == "mismatch"
    assert "max abs diff = 0.25" in result.message and "Hint:" in result.message


def test_not_callable_and_odd_returns_never_raise():
    assert ch1.check_rnn_step(3).status == "wrong-type"
    assert ch1.check_rnn_step(lambda *a: object()).status == "wrong-type"
    assert ch1.check_rnn_step(lambda *a: None).status == "wrong-type"
    assert ch1.check_predict_regime(lambda rho: "vanishing").status == "mismatch"
    assert ch1.check_rnn_step(lambda *a: np.array(["a"] * 12).reshape(3, 4)).status == "wrong-type"


def test_a_broken_reference_does_not_raise_either():
    ex = Exercise("f", reference=lambda x: 1 / 0, make_cases=lambda rng: [(1.0,)])
    result = ex.check(lambda x: x)
    assert result.status == "raised" and "check itself failed" in result.message


def test_result_repr_is_the_plain_deterministic_message():
    a = ch1.check_rnn_step(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b) * 1.1)
    b = ch1.check_rnn_step(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b) * 1.1)
    assert repr(a) == str(a) == repr(b) and a.message == b.message
    assert " ".join(repr(a).split()) == " ".join(a.message.split())  # only wrapped
    assert all(len(line) <= ch1.WIDTH for line in repr(a).splitlines())
    assert "0x" not in repr(a)


def test_unwrapped_by_default():
    ex = Exercise("f", reference=lambda x: x, make_cases=lambda rng: [(1.0,)], hint="word " * 40)
    result = ex.check(lambda x: x + 1)
    assert repr(result) == result.message and "\n" not in repr(result)


def test_check_function_and_custom_mistakes():
    def cases(rng):
        return [(rng.standard_normal(3),) for _ in range(3)]

    double = Mistake("double", lambda v: 2 * v, "You doubled it.")
    ok = check_function(lambda v: v**2, lambda v: v**2, cases, [double], name="square")
    assert ok.passed
    wrong = check_function(lambda v: v + v, lambda v: v**2, cases, [double], name="square")
    assert wrong.mistake == "double" and "You doubled it." in wrong.message
    assert set(exercises.STATUSES) >= {ok.status, wrong.status}


def test_measured_regimes_and_count_formula():
    assert ch1.measured_regimes() == {0.5: "vanish", 0.8: "vanish", 1.0: "neither",
                                      1.25: "explode", 2.0: "explode"}
    assert ch1.count_params_reference(3, 5, 7) == 3 * 5 + 25 + 5 + 35 + 7


# -- the reporting helpers of hand-written checks (rnnlib.exercises._check) ---------------

def test_hand_written_check_helpers_say_what_happened():
    from rnnlib.exercises import _check
    r = _check.not_callable("f", 3)
    assert (r.passed, r.status, r.message, r.width) == (False, "wrong-type", "f: expected a function; got int.", 78)
    r = _check.not_attempted("f", width=None)
    assert r.status == "not-attempted" and "NotImplementedError" in r.message and r.width is None
    r = _check.reader_raised("f", ValueError("bad shape"), " for N=2")
    assert r.status == "raised" and r.message == "f: your function raised ValueError: bad shape for N=2."
    r = _check.result(True, "passed", "f: correct! " + "word " * 30, mistake=None)
    assert r.passed and max(len(line) for line in str(r).splitlines()) <= _check.WIDTH
    assert "\n" not in r.message  # only the printed text is wrapped


# --- the readout and its loss (issue 14: chapter 1 back-propagates a real loss) ---------
def test_required_readout_mistakes_are_catalogued():
    ids = {m.id for m in EXERCISES["readout_loss"].mistakes}
    assert {"not-averaged", "divided-by-N", "no-max-subtraction", "db-not-summed-over-time",
            "W_hy-not-transposed", "dW_hy-transposed"} <= ids


def _loop_answer(hs, W_hy, b_y, targets):  # one position at a time, as a beginner writes it
    N, T, H = hs.shape
    V = W_hy.shape[1]
    loss, dhs = 0.0, np.zeros_like(hs)
    dW_hy, db_y = np.zeros((H, V)), np.zeros(V)
    for n in range(N):
        for t in range(T):
            z = hs[n, t] @ W_hy + b_y
            p = np.exp(z - z.max())
            p /= p.sum()
            loss -= np.log(p[targets[n, t]]) / (N * T)
            dz = p.copy()
            dz[targets[n, t]] -= 1
            dz /= N * T
            dhs[n, t] = W_hy @ dz
            dW_hy += np.outer(hs[n, t], dz)
            db_y += dz
    return loss, dhs, dW_hy, db_y


def _einsum_answer(hs, W_hy, b_y, targets):  # log-sum-exp and einsum
    z = np.einsum("nth,hv->ntv", hs, W_hy) + b_y
    m = z.max(axis=-1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)
    dz = np.exp(logp)
    np.put_along_axis(dz, targets[..., None], np.take_along_axis(dz, targets[..., None], -1) - 1, -1)
    dz /= targets.size
    return (-picked.mean(), np.einsum("ntv,hv->nth", dz, W_hy), np.einsum("nth,ntv->hv", hs, dz),
            dz.sum(axis=(0, 1)))


def _rnnlib_answer(hs, W_hy, b_y, targets):  # the chapter's tools: Linear and softmax_cross_entropy
    readout = rnnlib.Linear(*W_hy.shape)
    readout.params.update(W=W_hy.copy(), b=b_y.copy())
    loss, dz = rnnlib.softmax_cross_entropy(readout.forward(hs), targets)
    dhs = readout.backward(dz)
    return loss, dhs, readout.grads["W"], readout.grads["b"]


def _float32_answer(hs, W_hy, b_y, targets):
    out = _einsum_answer(hs.astype(np.float32), W_hy.astype(np.float32), b_y.astype(np.float32), targets)
    return tuple(np.float32(o) if np.ndim(o) == 0 else o for o in out)


def test_correct_readout_answers_pass_however_written():
    for answer in (_loop_answer, _einsum_answer, _rnnlib_answer, _float32_answer):
        result = ch1.check_readout_loss(answer)
        assert result.passed, (answer.__name__, result.message)
    assert "float32" in ch1.check_readout_loss(_float32_answer).message


def _typed(scale=None, naive=False, db_axes=(0, 1), dz_W=lambda dz, W: dz @ W.T, axis=2, sign=1):
    """A direct answer, as a reader types it, with one slip at a time."""
    def f(hs, W_hy, b_y, targets):
        N, T, H = hs.shape
        M = N * T if scale is None else scale(N, T)
        z = hs @ W_hy + b_y
        e = np.exp(z) if naive else np.exp(z - np.max(z, axis=axis, keepdims=True))
        p = e / np.sum(e, axis=axis, keepdims=True)
        onehot = np.zeros_like(p)
        for n in range(N):
            for t in range(T):
                onehot[n, t, targets[n, t]] = 1.0
        loss = -np.sum(onehot * np.log(p)) / M
        dz = sign * (p - onehot) / M
        dW_hy = np.tensordot(hs, dz, axes=([0, 1], [0, 1]))
        return loss, dz_W(dz, W_hy), dW_hy, dz.sum(axis=db_axes)
    return f


def test_handwritten_readout_mistakes_are_named():
    assert ch1.check_readout_loss(_typed()).passed
    cases = {
        "not-averaged": _typed(scale=lambda N, T: 1),
        "divided-by-N": _typed(scale=lambda N, T: N),
        "no-max-subtraction": _typed(naive=True),
        "db-not-summed-over-time": _typed(db_axes=0),
        "W_hy-not-transposed": _typed(dz_W=lambda dz, W: dz @ W),
        "softmax-over-time": _typed(axis=1),
        "gradient-sign": _typed(sign=-1),
    }
    for mistake, answer in cases.items():
        result = ch1.check_readout_loss(answer)
        assert result.status == "known-mistake" and result.mistake == mistake, (mistake, result.message)
    overflow = ch1.check_readout_loss(_typed(naive=True))
    assert "np.exp(800) overflows" in overflow.message and "z.max(axis=-1" in overflow.message


def test_an_answer_that_is_nan_everywhere_is_not_blamed_on_the_overflow():
    def all_nan(hs, W_hy, b_y, targets):
        return (np.nan, np.full(hs.shape, np.nan), np.full(W_hy.shape, np.nan), np.full(b_y.shape, np.nan))

    result = ch1.check_readout_loss(all_nan)
    assert not result.passed and result.mistake is None and result.status == "mismatch"


def test_readout_reference_agrees_with_finite_differences():
    """dhs, dW_hy, db_y of the reference against centred differences of its loss (float64, 1e-7)."""
    for hs, W_hy, b_y, targets in ch1.readout_cases(np.random.default_rng(7))[:4]:
        _, dhs, dW_hy, db_y = ch1.readout_loss_reference(hs, W_hy, b_y, targets)
        numeric = {
            "hs": rnnlib.numerical_gradient(lambda v: ch1.readout_loss_reference(v, W_hy, b_y, targets)[0],
                                            hs.copy()),
            "W_hy": rnnlib.numerical_gradient(lambda v: ch1.readout_loss_reference(hs, v, b_y, targets)[0],
                                              W_hy.copy()),
            "b_y": rnnlib.numerical_gradient(lambda v: ch1.readout_loss_reference(hs, W_hy, v, targets)[0],
                                             b_y.copy()),
        }
        for name, analytic in (("hs", dhs), ("W_hy", dW_hy), ("b_y", db_y)):
            assert rnnlib.rel_error(numeric[name], analytic) < 1e-7, name


def test_readout_overflow_case_overflows_a_naive_softmax_only():
    hs, W_hy, b_y, targets = ch1.readout_cases(np.random.default_rng(0))[-1]
    z = hs @ W_hy + b_y
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(np.exp(z)))
    assert all(np.all(np.isfinite(o)) for o in ch1.readout_loss_reference(hs, W_hy, b_y, targets))
