"""The nine wrong answers that used to pass (issue 14, section 1): each is now rejected.

Chapter 4's adding batch (a marker that never reaches an end of its half, half rounded up
for odd T, rows that repeat), Chapter 5's sampler (ignoring the rng it is given; Gaussian
instead of Gumbel noise) and bracket checker (brackets inside quotes ignored; a quote
closing the nearest open quote).
"""

import numpy as np
import pytest

from rnnlib.activations import softmax
from rnnlib.exercises import ch4, ch5


def batch_with_positions(first, second):
    """An adding batch whose marker positions come from ``first(T, N, rng)``, ``second(T, N, rng)``."""
    def adding_batch(N, T, rng):
        v = rng.random((N, T))
        t1, t2 = first(T, N, rng), second(T, N, rng)
        m = np.zeros((N, T))
        rows = np.arange(N)
        m[rows, t1] = 1.0
        m[rows, t2] = 1.0
        return np.stack([v, m], axis=-1), (v[rows, t1] + v[rows, t2])[:, None]
    return adding_batch


def test_the_positions_helper_is_right_when_given_the_right_positions():
    right = batch_with_positions(lambda T, N, r: r.integers(0, T // 2, N), lambda T, N, r: r.integers(T // 2, T, N))
    assert ch4.check_adding_batch(right).passed


def test_second_marker_never_on_the_last_step_is_rejected():
    wrong = batch_with_positions(lambda T, N, r: r.integers(0, T // 2, N),
                                 lambda T, N, r: r.integers(T // 2, T - 1, N))
    res = ch4.check_adding_batch(wrong)
    assert not res.passed and "marker 2 never fell on step(s) 19" in res.message, res.message


def test_first_marker_never_on_step_0_is_rejected():
    wrong = batch_with_positions(lambda T, N, r: r.integers(1, T // 2, N), lambda T, N, r: r.integers(T // 2, T, N))
    res = ch4.check_adding_batch(wrong)
    assert not res.passed and "marker 1 never fell on step(s) 0 " in res.message, res.message


def test_half_rounded_up_is_rejected_on_odd_T():
    up = lambda T: -(-T // 2)  # noqa: E731 - ceil(T / 2)
    wrong = batch_with_positions(lambda T, N, r: r.integers(0, up(T), N), lambda T, N, r: r.integers(up(T), T, N))
    res = ch4.check_adding_batch(wrong)
    assert not res.passed and "for odd T=15 your first half has 8 steps" in res.message, res.message
    assert any(T % 2 for _, T, _ in ch4.BATCH_CASES)


def test_rows_that_repeat_are_rejected():
    def tiled(N, T, rng):
        x, y = ch4.adding_batch_reference(1, T, rng)
        return np.tile(x, (N, 1, 1)), np.tile(y, (N, 1))
    res = ch4.check_adding_batch(tiled)
    assert not res.passed and "only 1 of your 256 sequences have different values" in res.message, res.message
    only_values = lambda N, T, rng: (lambda x, y: (x, y))(*ch4.adding_batch_reference(N, T, rng))  # noqa: E731

    def same_values(N, T, rng):  # markers drawn per row, but every row has the same values
        x, _ = only_values(N, T, rng)
        x[..., 0] = x[0, :, 0]
        m = x[..., 1]
        return x, (x[..., 0] * m).sum(axis=1, keepdims=True)
    res = ch4.check_adding_batch(same_values)
    assert not res.passed and "sequences have different values" in res.message, res.message


def fixed_generator(logits, temperature, rng):
    return ch5.sample_with_temperature_reference(logits, temperature, np.random.default_rng(0))


def global_seeded(logits, temperature, rng):
    np.random.seed(0)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    p = softmax(logits / temperature, axis=1)
    u = np.random.random((len(logits), 1))
    return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), logits.shape[1] - 1)


@pytest.mark.parametrize("sampler", [fixed_generator, global_seeded], ids=["default_rng(0)", "np.random.seed"])
def test_a_sampler_that_ignores_its_rng_is_rejected(sampler):
    res = ch5.check_sample_with_temperature(sampler)
    assert not res.passed and "ignores the rng it is given" in res.message, res.message


def test_gaussian_noise_is_named_and_scaled_gaussian_is_rejected():
    res = ch5.check_sample_with_temperature(next(m.func for m in ch5.SAMPLE_MISTAKES if m.id == "gaussian-noise"))
    assert res.mistake == "gaussian-noise"

    def scaled(logits, temperature, rng):  # Gumbel's variance, still not Gumbel
        if temperature == 0:
            return np.argmax(logits, axis=1)
        return np.argmax(logits / temperature + np.pi / 6 ** 0.5 * rng.standard_normal(logits.shape), axis=1)
    res = ch5.check_sample_with_temperature(scaled)
    assert not res.passed and "far from softmax" in res.message


def test_the_gumbel_trick_and_a_loop_over_rows_pass():
    def gumbel(logits, temperature, rng):
        if temperature == 0:
            return np.argmax(logits, axis=1)
        return np.argmax(logits / temperature - np.log(-np.log(rng.random(logits.shape))), axis=1)

    def per_row(logits, temperature, rng):
        if temperature == 0:
            return np.argmax(logits, axis=1)
        return np.array([rng.choice(len(r), p=softmax(r / temperature)) for r in logits])
    assert ch5.check_sample_with_temperature(gumbel).passed
    assert ch5.check_sample_with_temperature(per_row).passed


def quotes_hide_brackets(line):  # written as a reader would, not taken from the catalogue
    depth, quoted, opened = [], False, {")": "(", "]": "[", "}": "{"}
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth.append(ch)
        elif not quoted and ch in ")]}":
            if not depth or depth.pop() != opened[ch]:
                return False
    return not depth and not quoted


def quote_closes_nearest(line):
    stack, opened = [], {")": "(", "]": "[", "}": "{"}
    for ch in line:
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != opened[ch]:
                return False
        elif ch == '"':
            if '"' in stack:
                k = max(i for i, c in enumerate(stack) if c == '"')
                stack.pop(k)
            else:
                stack.append('"')
    return not stack


@pytest.mark.parametrize("fn,mistake", [(quotes_hide_brackets, "quotes-hide-brackets"),
                                        (quote_closes_nearest, "quote-closes-nearest")])
def test_plausible_quote_semantics_are_told_apart(fn, mistake):
    res = ch5.check_is_well_formed(fn)
    assert not res.passed and res.mistake == mistake, res.message
    generated = ch5.EXERCISES["is_well_formed"].cases()[len(ch5.WELL_FORMED_LINES):]
    assert any(fn(line) != ch5.is_well_formed_reference(line) for (line,) in generated)
