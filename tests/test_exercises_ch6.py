"""Chapter 6 exercise checks (the generic ones, reference / stub / each mistake, are in
tests/test_exercises_catalogue.py): required mistakes, hand-typed answers, and that each mistake differs."""

import numpy as np
import pytest

from rnnlib.exercises import ch6

CHECKS = {"indentation": ch6.check_indentation, "bpc_from_probs": ch6.check_bpc_from_probs,
          "run_windows": ch6.check_run_windows}


def test_every_exercise_has_a_check_and_the_required_mistakes():
    assert set(CHECKS) == set(ch6.EXERCISES)
    assert {"all-spaces", "whole-line", "newline-not-zero"} <= {m.id for m in ch6.INDENT_MISTAKES}
    assert {"nats", "log-of-mean", "max-prob"} <= {m.id for m in ch6.BPC_PROBS_MISTAKES}
    assert {"reset", "c-reset", "first-state"} <= {m.id for m in ch6.WINDOW_MISTAKES}


@pytest.mark.parametrize("key", list(CHECKS))
def test_every_mistake_really_differs_from_the_reference(key):
    ex = ch6.EXERCISES[key]
    for m in ex.mistakes:
        diffs = []
        for c in ex.cases():
            a, b = np.asarray(m.func(*c)), np.asarray(ex.reference(*c))
            diffs.append(a.shape != b.shape or not np.allclose(a, b))
        assert any(diffs), m.id


def test_hand_written_answers():
    def indentation(text):  # a reader's loop
        out, n, leading = [], 0, True
        for ch in text:
            if ch == "\n":
                n, leading = 0, True
            elif ch == " " and leading:
                n += 1
            else:
                leading = False
            out.append(n)
        return np.array(out)  # ints are fine

    assert ch6.check_indentation(indentation).passed

    def run_windows(forward, x, T):  # one forward over everything is the same function
        return forward(x)[0]

    assert ch6.check_run_windows(run_windows).passed

    def run_windows_list(forward, x, T):
        return [forward(x)[0]]

    r = ch6.check_run_windows(run_windows_list)
    assert not r.passed and r.status == "wrong-type"

    def bpc_wrong_shape(probs, targets):
        return np.log2(probs)

    assert not ch6.check_bpc_from_probs(bpc_wrong_shape).passed
