"""Tests for rnnlib.experiments.gradient_flow: the input-gradient measurement and the table of chapters 2-3."""

import numpy as np
import pytest

import rnnlib
from rnnlib.experiments import gradient_flow as gf


def _layers(D, H, seed):
    return [rnnlib.RNN(D, H, seed=seed), rnnlib.LSTM(D, H, seed=seed, forget_bias=1.0),
            rnnlib.GRU(D, H, seed=seed), rnnlib.GRU(D, H, seed=seed, reset_after=False)]


@pytest.mark.parametrize("index", range(4))
def test_profile_matches_finite_differences(index):
    layer = _layers(3, 4, seed=index)[index]
    x = np.random.default_rng(index).standard_normal((2, 5, 3))
    g = gf.input_gradient_profile(layer, x)
    num = rnnlib.numerical_gradient(lambda x_: layer.forward(x_)[0][:, -1], x)  # d(sum h_T)/dx
    num_norms = np.sqrt(np.sum(num**2, axis=(0, 2)))
    assert g.shape == (5,)
    assert rnnlib.rel_error(g, num_norms) < 1e-7
    assert rnnlib.rel_error(g[0], num_norms[0]) < 1e-7  # the first input, the one the book reports


def test_input_gradient_norm_is_profile_at_first_step_and_leaves_layer_alone():
    layer = rnnlib.LSTM(2, 8, seed=0)
    params = {k: v.copy() for k, v in layer.params.items()}
    value = gf.input_gradient_norm(layer, 12, np.random.default_rng(5), N=3)
    x = np.random.default_rng(5).standard_normal((3, 12, 2))  # the documented single draw
    assert value == pytest.approx(gf.input_gradient_profile(layer, x)[0], rel=1e-14)
    assert layer._cache is None and not any(g.any() for g in layer.grads.values())
    for k in params:
        np.testing.assert_array_equal(layer.params[k], params[k])


def test_bad_inputs_name_the_argument():
    with pytest.raises(TypeError, match="layer"):
        gf.input_gradient_norm(rnnlib.Linear(2, 3), 5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        gf.input_gradient_norm(rnnlib.RNN(2, 3), 5, 0)
    with pytest.raises(ValueError, match="T"):
        gf.input_gradient_norm(rnnlib.RNN(2, 3), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        gf.input_gradient_profile(rnnlib.RNN(2, 3), np.zeros((1, 4, 3)))
    with pytest.raises(ValueError, match="kinds_and_settings"):
        gf.gradient_norm_table({"bad": ("transformer", {})}, T_values=(5,))
    with pytest.raises(ValueError, match="seeds"):
        gf.gradient_norm_table(T_values=(5,), seeds=())
    with pytest.raises(ValueError, match="H"):
        gf.gradient_norm_table(T_values=(5,), H=0)


@pytest.fixture(scope="module")
def table():
    """The published table: default models, T in (5, 50, 400), H=64, D=2, seeds 0..19 (~1 s)."""
    return gf.gradient_norm_table()


def test_table_shape_and_markdown(table):
    assert table.models == tuple(gf.DEFAULT_MODELS) and table.T_values == (5, 50, 400)
    assert table.norms.shape == (6, 3, 20) and table.medians.shape == (6, 3)
    np.testing.assert_array_equal(table.medians, np.median(table.norms, axis=2))
    q = table.quantiles((0.25, 0.75))
    assert q.shape == (2, 6, 3) and np.all(q[0] <= table.medians) and np.all(table.medians <= q[1])
    md = table.to_markdown()
    assert md.splitlines()[0] == "| model | T=5 | T=50 | T=400 |" and len(md.splitlines()) == 8
    m, k = 3, 1  # LSTM forget bias +3, T = 50: "median [q25, q75]"
    assert f"{table.medians[m, k]:.1e} [{q[0, m, k]:.1e}, {q[1, m, k]:.1e}]" in md.splitlines()[2 + m]
    assert "[" not in table.to_markdown(spread=False)
    assert np.all(np.isfinite(table.norms)) and np.all(table.norms > 0)  # float64: no underflow to 0


def test_table_claims_that_hold_for_every_seed(table):
    """Margins chosen from seeds 0..39 (per-seed ranges); asserted here per seed, not on medians."""
    n = dict(zip(table.models, table.norms))  # name -> (K, S)
    T5, T50, T400 = 0, 1, 2
    at5 = table.norms[:, T5]
    assert np.all(at5.max(axis=0) / at5.min(axis=0) < 1e3)  # short sequences: all alike (max 48)
    assert np.all(n["LSTM forget bias +3"][T50] > 1e3 * n["tanh RNN"][T50])
    for name in ("tanh RNN", "LSTM default init", "GRU default init"):
        assert np.all(n[name][T50] < 1e-8) and np.all(n[name][T400] < 1e-60), name
    assert np.all(n["LSTM forget bias +3"][T400] > 1e-3)  # the bias trick keeps it alive
    assert np.all((n["GRU update bias +3"][T400] > 1e-12) & (n["GRU update bias +3"][T400] < 1e-5))
    assert np.all(n["LSTM forget bias +1"][T400] < 1e-15)  # +1 only delays the decay


def test_custom_models_and_sizes():
    models = {"rnn": ("rnn", {}), "lstm fb+3": ("lstm", {"forget_bias": 3.0})}
    tab = gf.gradient_norm_table(models, T_values=(3, 30), H=8, D=3, seeds=(0, 1), N=2)
    assert tab.models == ("rnn", "lstm fb+3") and tab.norms.shape == (2, 2, 2) and tab.seeds == (0, 1)
    again = gf.gradient_norm_table(models, T_values=(3, 30), H=8, D=3, seeds=(0, 1), N=2)
    np.testing.assert_array_equal(tab.norms, again.norms)  # seeded: reproducible
    assert "| rnn |" in tab.to_markdown(fmt="{:.3g}")


def test_each_measurement_depends_only_on_its_model_seed_and_length():
    """Asking for a subset of lengths, seeds or models gives the same numbers (issue 12)."""
    models = {"rnn": ("rnn", {}), "lstm fb+3": ("lstm", {"forget_bias": 3.0}), "gru": ("gru", {})}
    full = gf.gradient_norm_table(models, T_values=(5, 20, 60), H=8, seeds=(0, 1, 2))
    only_60 = gf.gradient_norm_table(models, T_values=(60,), H=8, seeds=(0, 1, 2))
    np.testing.assert_array_equal(only_60.norms[:, 0], full.norms[:, 2])
    reordered = gf.gradient_norm_table(models, T_values=(60, 5), H=8, seeds=(2, 0))
    np.testing.assert_array_equal(reordered.norms[:, 0], full.norms[:, 2][:, [2, 0]])
    np.testing.assert_array_equal(reordered.norms[:, 1], full.norms[:, 0][:, [2, 0]])
    one_model = gf.gradient_norm_table({"x": models["lstm fb+3"]}, T_values=(20,), H=8, seeds=(1,))
    assert one_model.norms[0, 0, 0] == full.norms[1, 1, 1]
    layer = rnnlib.LSTM(2, 8, rng=np.random.default_rng(1), forget_bias=3.0)  # the documented draws
    assert one_model.norms[0, 0, 0] == gf.input_gradient_norm(layer, 20, np.random.default_rng([1, 20]))


def test_seeds_must_be_non_negative_integers():
    with pytest.raises(ValueError, match="seeds"):
        gf.gradient_norm_table(T_values=(5,), seeds=(-1,))
    with pytest.raises(ValueError, match="seeds"):
        gf.gradient_norm_table(T_values=(5,), seeds=(0.5,))
