"""Chapter 9 exercise checks: references pass, every catalogued mistake is named as itself
(including the product form without log space, recognised by its inf/NaN on T = 3000),
stubs are "not attempted", and no reader function makes a check raise."""

import numpy as np
import pytest

from rnnlib import linear_recurrence, rel_error
from rnnlib.exercises import ch9
from rnnlib.scan import linear_recurrence_backward

CHECKS = {"closed_form": ch9.check_closed_form, "recurrence_backward": ch9.check_recurrence_backward,
          "mingru_forward": ch9.check_mingru_forward}
MISTAKES = [(k, m) for k in CHECKS for m in ch9.EXERCISES[k].mistakes]


def stub(*args):
    raise NotImplementedError


def broken(*args):
    raise RuntimeError("oops")


@pytest.mark.parametrize("key", list(CHECKS))
def test_reference_passes_and_stub_is_not_attempted(key):
    assert CHECKS[key](ch9.EXERCISES[key].reference).status == "passed"
    assert CHECKS[key](stub).status == "not-attempted"
    out = CHECKS[key](broken)
    assert out.status == "raised" and "RuntimeError" in out.message
    assert CHECKS[key](42).status == "wrong-type"


@pytest.mark.parametrize("key,mistake", MISTAKES, ids=[f"{k}-{m.id}" for k, m in MISTAKES])
def test_each_mistake_is_named(key, mistake):
    out = CHECKS[key](mistake.func)
    assert out.status == "known-mistake" and out.mistake == mistake.id, out.message
    assert mistake.diagnosis in out.message


def test_cumprod_without_log_space_is_named():
    out = ch9.check_closed_form(ch9.cumprod_naive)
    assert out.status == "known-mistake" and out.mistake == "cumprod-no-log"
    assert "underflows" in out.message


def test_other_correct_methods_pass_and_a_wrong_answer_gets_a_hint():
    assert ch9.check_closed_form(lambda a, b, h0: linear_recurrence(a, b, h0, "log-scan")).passed
    assert ch9.check_closed_form(lambda a, b, h0: linear_recurrence(a, b, h0, "scan")).passed
    out = ch9.check_closed_form(lambda a, b, h0: 2 * linear_recurrence(a, b, h0))
    assert out.status == "mismatch" and "Hint" in out.message


def test_backward_reference_is_the_scan_gradient():
    rng = np.random.default_rng(0)
    a, dhs, dfin = rng.uniform(0.2, 1, (2, 6, 3)), rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 3))
    b, h0 = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 3))
    _, db, _ = linear_recurrence_backward(a, linear_recurrence(a, b, h0), h0, dhs, dfin)
    assert rel_error(ch9.recurrence_backward_reference(a, dhs, dfin), db) < 1e-14


def test_mistakes_differ_from_the_reference_and_each_other():
    for key, ex in ch9.EXERCISES.items():
        case = ex.cases()[0]
        ref = ex.reference(*case)
        outs = [m.func(*case) for m in ex.mistakes]
        for o in outs:
            assert np.max(np.abs(o - ref)) > 1e-3, key
        for i in range(len(outs)):
            for j in range(i + 1, len(outs)):
                assert np.max(np.abs(outs[i] - outs[j])) > 1e-3, (key, i, j)
