"""Tests for rnnlib.experiments.compare: counting matrix products, parameter counts, training the two GRU forms."""

import numpy as np
import pytest

import rnnlib
from rnnlib import conventions, gates
from rnnlib.experiments import compare
from rnnlib.training.loop import TrainConfig

D, H, N = 3, 5, 2


def _gru(reset_after=True, seed=0):
    return rnnlib.GRU(D, H, seed=seed, reset_after=reset_after).params


# -- count_matmuls --------------------------------------------------------------------------

@pytest.mark.parametrize("reset_after, shapes", [
    (True, [((N, D), (D, 3 * H)), ((N, H), (H, 3 * H))]),
    (False, [((N, D), (D, 3 * H)), ((N, H), (H, 2 * H)), ((N, H), (H, H))]),
])
def test_gru_step_products(reset_after, shapes):
    p = _gru(reset_after)
    rng = np.random.default_rng(0)
    x_t, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    (h_next, _), products = compare.count_matmuls(rnnlib.gru_step_forward, x_t, h, p["W_x"], p["W_h"], p["b"],
                                                   p.get("b_hn"), reset_after=reset_after)
    assert products == shapes
    # the recorded run computes exactly what a plain run computes, and returns plain arrays
    expected, _ = rnnlib.gru_step_forward(x_t, h, p["W_x"], p["W_h"], p["b"], p.get("b_hn"),
                                          reset_after=reset_after)
    assert type(h_next) is np.ndarray
    np.testing.assert_array_equal(h_next, expected)


def test_per_gate_cell_uses_six_products_and_sequences_hoist_the_input():
    p = _gru()
    rng = np.random.default_rng(1)
    x_t, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    _, products = compare.count_matmuls(gates.gru_step_per_gate, x_t, h, **gates.gru_per_gate_params(p))
    assert products == [((N, D), (D, H)), ((N, H), (H, H))] * 3
    T = 7
    x = rng.standard_normal((N, T, D))
    for reset_after, per_step in ((True, 1), (False, 2)):
        q = p if reset_after else conventions.gru_as_other_form(p)
        _, products = compare.count_matmuls(rnnlib.gru_forward, x, np.zeros((N, H)), q["W_x"], q["W_h"], q["b"],
                                            q.get("b_hn"), reset_after=reset_after)
        assert products[0] == ((T * N, D), (D, 3 * H))  # one input projection for every step
        assert len(products) == 1 + per_step * T


def test_count_matmuls_sees_np_matmul_and_keyword_arrays_and_leaves_inputs_alone():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 4))
    a_copy = a.copy()
    result, products = compare.count_matmuls(lambda u, v=None: np.matmul(u, v) + (u @ v) * 0, a, v=b)
    assert products == [((2, 3), (3, 4)), ((2, 3), (3, 4))]
    np.testing.assert_array_equal(result, a @ b)
    np.testing.assert_array_equal(a, a_copy)
    assert type(a) is np.ndarray
    # products between arrays made inside the function are not recorded; non-arrays pass through
    _, products = compare.count_matmuls(lambda k: np.ones((2, 2)) @ np.ones((2, 2)) * k, 3)
    assert products == []


# -- n_params ---------------------------------------------------------------------------------

@pytest.mark.parametrize("D_, H_", [(1, 1), (3, 5), (32, 128)])
def test_n_params_matches_rnnlib_layers_and_the_converted_layouts(D_, H_):
    for reset_after in (True, False):
        layer = rnnlib.GRU(D_, H_, reset_after=reset_after)
        assert compare.n_params("gru", D_, H_, reset_after=reset_after) == layer.n_params
        assert compare.n_params("gru", D_, H_, reset_after=reset_after, library="keras") == \
            sum(a.size for a in conventions.to_keras_weights(layer))
    layer = rnnlib.GRU(D_, H_)
    assert compare.n_params("gru", D_, H_, library="torch") == \
        sum(a.size for a in rnnlib.to_torch_state_dict(layer).values())
    lstm = rnnlib.LSTM(D_, H_)
    assert compare.n_params("lstm", D_, H_) == lstm.n_params == 4 * (D_ * H_ + H_ * H_ + H_)
    assert compare.n_params("lstm", D_, H_, library="torch") == \
        sum(a.size for a in rnnlib.to_torch_state_dict(lstm).values())
    assert compare.n_params("lstm", D_, H_, library="keras") == \
        sum(a.size for a in conventions.to_keras_weights(lstm))
    assert compare.n_params("gru", D_, H_) == 3 * (D_ * H_ + H_ * H_ + H_) + H_


def test_n_params_against_torch_itself():
    torch = pytest.importorskip("torch", reason="optional: pip install torch==2.13.0")
    for D_, H_ in [(3, 5), (32, 128)]:
        for kind, cls in (("gru", torch.nn.GRU), ("lstm", torch.nn.LSTM)):
            module = cls(D_, H_)
            assert compare.n_params(kind, D_, H_, library="torch") == sum(p.numel() for p in module.parameters())


def test_n_params_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        compare.n_params("rnn", 2, 3)
    with pytest.raises(ValueError, match="library"):
        compare.n_params("gru", 2, 3, library="jax")
    with pytest.raises(ValueError, match="reset-after"):
        compare.n_params("gru", 2, 3, reset_after=False, library="torch")
    with pytest.raises(TypeError, match="H"):
        compare.n_params("gru", 2, 3.5)
    with pytest.raises(ValueError, match="D"):
        compare.n_params("gru", 0, 3)


# -- two forms --------------------------------------------------------------------------------

def test_two_forms_models_start_from_the_same_weights():
    models = compare.two_forms_models(6, seed=4)
    after, before = models["after"], models["before"]
    assert after.rnn.reset_after and not before.rnn.reset_after
    for k in ("W", "b"):
        np.testing.assert_array_equal(after.out.params[k], before.out.params[k])
        assert after.out.params[k] is not before.out.params[k]  # copies: training one leaves the other
    expected = conventions.gru_as_other_form(after.rnn.params)
    for k in ("W_x", "W_h", "b"):
        np.testing.assert_array_equal(before.rnn.params[k], expected[k])
    # with every reset gate at 1 the two models compute the same predictions
    x = np.random.default_rng(0).standard_normal((3, 5, 2))
    for m in (after, before):
        m.rnn.params["b"][6:12] += 40.0  # r block: sigma(40) = 1 in float64
    np.testing.assert_allclose(after.forward(x), before.forward(x), rtol=0, atol=1e-12)
    with pytest.raises(AssertionError):  # but not in general
        m2 = compare.two_forms_models(6, seed=4)
        np.testing.assert_allclose(m2["after"].forward(x), m2["before"].forward(x), rtol=0, atol=1e-6)


def test_train_two_forms_small_run_is_deterministic_and_learns():
    config = TrainConfig(steps=40, batch_size=16, lr=1e-2, eval_every=20, eval_size=64, probe_size=0)
    a = compare.train_two_forms(T=6, hidden_size=8, seeds=(0, 1), config=config)
    b = compare.train_two_forms(T=6, hidden_size=8, seeds=(0, 1), config=config)
    assert a.final_loss.shape == (2, 2)
    np.testing.assert_array_equal(a.final_loss, b.final_loss)
    assert set(a.histories) == {(f, s) for f in compare.FORMS for s in (0, 1)}
    for (form, seed), h in a.histories.items():
        assert h.config.seed == seed
        assert h.final_eval_loss == a.final_loss[compare.FORMS.index(form), a.seeds.index(seed)]
        assert h.eval_loss[-1] < h.eval_loss[0]  # it learns something in 40 steps
    assert a.baseline == pytest.approx(1 / 6)
    table = a.to_markdown()
    assert "| reset after |" in table and "| reset before |" in table and "median" in table
    assert len(table.splitlines()) == 4


def test_train_two_forms_default_config_and_bad_arguments():
    with pytest.raises(ValueError, match="seeds"):
        compare.train_two_forms(seeds=())
    with pytest.raises(TypeError, match="TrainConfig"):
        compare.train_two_forms(config={"steps": 3})
    with pytest.raises(TypeError, match="T"):
        compare.train_two_forms(T=2.5)
