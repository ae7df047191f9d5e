"""Tests for rnnlib.training.loop (train, truncated BPTT, clipping) and rnnlib.figures.curves (Agg)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib.figures import curves  # noqa: E402
from rnnlib.data import tasks  # noqa: E402
from rnnlib.training import loop as training  # noqa: E402
from rnnlib.training.model import SequenceModel, loss_and_grad  # noqa: E402
from rnnlib.training.loop import History, TrainConfig, loss_and_backward, train  # noqa: E402


def adding(T):
    return lambda N, rng: tasks.adding_problem(N, T, rng)


def copy(T):
    return lambda N, rng: tasks.copy_problem(N, T, rng, n_symbols=3, length=2)


SMALL = dict(batch_size=16, eval_every=5, eval_size=32, probe_size=8, progress=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- the training loop ----------------------------------------------------------
def test_train_is_deterministic_for_a_seed():
    runs = []
    for seed in (0, 0, 1):
        model = SequenceModel("lstm", 2, 6, 1, seed=3)
        runs.append((train(model, adding(8), TrainConfig(steps=12, seed=seed, **SMALL)), model))
    (a, ma), (b, mb), (c, _) = runs
    for name in ("train_loss", "grad_norm", "eval_steps", "eval_loss", "input_grad", "input_grad_at"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for k in ma.params:
        np.testing.assert_array_equal(ma.params[k], mb.params[k])
    assert not np.array_equal(a.train_loss, c.train_loss)  # another seed: other batches


def test_history_layout():
    model = SequenceModel("gru", 2, 5, 1, seed=0)
    cfg = TrainConfig(steps=12, probe_position=tasks.first_marker, **SMALL)
    h = train(model, adding(10), cfg)
    assert isinstance(h, History) and h.config is cfg and h.seconds > 0
    assert h.train_loss.shape == h.grad_norm.shape == (12,)
    np.testing.assert_array_equal(h.eval_steps, [0, 5, 10, 12])  # before training, every 5, at the end
    assert h.eval_loss.shape == (4,) and h.eval_accuracy.size == 0  # no accuracy for "mse"
    assert h.input_grad.shape == (4, 10) and h.input_grad_at.shape == (4,)
    assert h.probe_label == "first_marker" and h.final_eval_loss == h.eval_loss[-1]
    assert np.all(h.input_grad > 0) and np.all(h.input_grad_at > 0)
    off = train(SequenceModel("gru", 2, 5, 1), adding(10), TrainConfig(steps=3, **{**SMALL, "probe_size": 0}))
    assert off.input_grad.shape == (0, 10) and off.input_grad_at.size == 0 and off.probe_label == "t = 0"


def test_probe_reads_the_first_marker():
    model = SequenceModel("rnn", 2, 5, 1, seed=0)
    cfg = TrainConfig(steps=1, probe_position=tasks.first_marker, **SMALL)
    h = train(model, adding(10), cfg)
    x, y = adding(10)(32, np.random.default_rng(np.random.SeedSequence(0).spawn(2)[1]))  # the held-out set
    model2 = SequenceModel("rnn", 2, 5, 1, seed=0)
    g = rnnlib.training.model.input_gradient_norms(model2, x[:8], y[:8])  # before the update: eval at step 0
    np.testing.assert_allclose(h.input_grad[0], g.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(h.input_grad_at[0], g[np.arange(8), tasks.first_marker(x[:8])].mean(), rtol=1e-12)


def test_loss_decreases_on_an_easy_task():
    model = SequenceModel("gru", 2, 8, 1, seed=0)
    h = train(model, adding(4), TrainConfig(steps=150, batch_size=32, lr=1e-2, eval_every=50,
                                            eval_size=256, progress=False))
    assert h.eval_loss[-1] < 0.3 * tasks.ADDING_BASELINE_MSE < h.eval_loss[0]


def test_classification_records_accuracy():
    model = SequenceModel("gru", 5, 8, 4, mode="many_to_many", seed=0)
    cfg = TrainConfig(steps=10, loss="xent", accuracy_last=2, **SMALL)
    h = train(model, copy(3), cfg)
    assert h.eval_accuracy.shape == h.eval_loss.shape == (3,)
    assert np.all((h.eval_accuracy >= 0) & (h.eval_accuracy <= 1))
    assert h.input_grad.shape == (3, 7)


@pytest.mark.parametrize("clip", [1e-3, None])
def test_clipping_records_the_norm_before_and_updates_with_the_clipped_gradient(clip):
    cfg = TrainConfig(steps=1, lr=1e-2, clip=clip, **SMALL)
    model = SequenceModel("lstm", 2, 6, 1, seed=1)
    h = train(model, adding(8), cfg)
    # the same step by hand
    ref = SequenceModel("lstm", 2, 6, 1, seed=1)
    x, y = adding(8)(16, np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0]))
    ref.backward(loss_and_grad(ref.forward(x), y)[1])
    norm = rnnlib.global_norm(ref.grads)
    assert h.grad_norm[0] == pytest.approx(norm, rel=1e-12) and norm > 1e-3  # recorded before clipping
    grads = ref.grads
    if clip is not None:
        rnnlib.clip_grad_norm(grads, clip)
        assert rnnlib.global_norm(grads) == pytest.approx(clip, rel=1e-12)
    rnnlib.Adam(ref.params, lr=1e-2).step(grads)
    for k in ref.params:
        np.testing.assert_allclose(model.params[k], ref.params[k], rtol=1e-12, atol=1e-15)


def test_clipping_changes_later_updates():
    # Adam's first step barely sees a rescaling; later steps mix differently scaled gradients
    kw = dict(steps=6, lr=1e-2, **SMALL)
    a = train(SequenceModel("rnn", 2, 6, 1, seed=2), adding(8), TrainConfig(clip=1e-4, **kw))
    b = train(SequenceModel("rnn", 2, 6, 1, seed=2), adding(8), TrainConfig(clip=None, **kw))
    assert not np.allclose(a.train_loss[1:], b.train_loss[1:])


# --- truncated BPTT -------------------------------------------------------------
def _truncated_reference(model, x, y, loss, k):
    """Finite differences of the truncated objective: states entering each chunk frozen."""
    T = x.shape[1]
    if model.mode == "many_to_one":
        chunks = [(T - k, T)]
        _, frozen = model.rnn.forward(x[:, :T - k])
        states = [frozen]
    else:
        chunks = [(s, min(s + k, T)) for s in range(0, T, k)]
        states, state = [], None
        for s, e in chunks:
            states.append(state)
            _, state = model.forward(x[:, s:e], state, return_state=True)

    def L(_):
        total = 0.0
        for (s, e), st in zip(chunks, states):
            pred = model.forward(x[:, s:e], st)
            if model.mode == "many_to_one":
                total += loss_and_grad(pred, y, loss)[0]
            else:  # chunk losses weighted by their share of the T steps
                total += (e - s) / T * loss_and_grad(pred, y[:, s:e], loss)[0]
        return total

    return {key: rnnlib.numerical_gradient(L, p) for key, p in model.params.items()}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("mode, loss", [("many_to_one", "mse"), ("many_to_many", "xent")])
def test_tbptt_is_the_truncated_gradient_and_full_bptt_when_long_enough(kind, mode, loss):
    T, k = 7, 3
    model = SequenceModel(kind, 5, 4, 4, mode=mode, seed=0)
    x, labels = copy(T - 6)(3, np.random.default_rng(1))  # (3, 7, 5)
    y = labels if loss == "xent" else np.random.default_rng(2).standard_normal((3, 4))

    def grads_with(tbptt):
        model.zero_grad()
        value = loss_and_backward(model, x, y, loss, tbptt)
        return value, {kk: g.copy() for kk, g in model.grads.items()}

    full_value, full = grads_with(None)
    for long_enough in (T, T + 5):
        value, g = grads_with(long_enough)
        assert value == full_value
        for kk in full:
            np.testing.assert_array_equal(g[kk], full[kk])
    value, trunc = grads_with(k)
    assert value == pytest.approx(full_value, rel=1e-12)  # the forward pass is never truncated
    W_h = "rnn.W_hh" if kind == "rnn" else "rnn.W_h"
    assert rnnlib.rel_error(trunc[W_h], full[W_h]) > 1e-4  # a different gradient
    ref = _truncated_reference(model, x, y, loss, k)
    for kk in ref:
        assert rnnlib.rel_error(trunc[kk], ref[kk]) < 1e-7, kk


def test_tbptt_in_train():
    h = train(SequenceModel("gru", 2, 5, 1, seed=0), adding(10), TrainConfig(steps=5, tbptt=3, **SMALL))
    full = train(SequenceModel("gru", 2, 5, 1, seed=0), adding(10), TrainConfig(steps=5, **SMALL))
    assert h.train_loss[0] == pytest.approx(full.train_loss[0], rel=1e-12)  # same first forward
    assert not np.allclose(h.train_loss[1:], full.train_loss[1:])  # other updates


# --- config and errors -------------------------------------------------------------
@pytest.mark.parametrize("kw, exc, name", [
    ({"steps": 0}, ValueError, "steps"), ({"batch_size": 2.5}, ValueError, "batch_size"),
    ({"lr": -1}, ValueError, "lr"), ({"clip": 0}, ValueError, "clip"),
    ({"loss": "l1"}, ValueError, "loss"), ({"tbptt": 0}, ValueError, "tbptt"),
    ({"eval_every": True}, ValueError, "eval_every"), ({"probe_size": -1}, ValueError, "probe_size"),
    ({"probe_position": 3}, TypeError, "probe_position"), ({"accuracy_last": 0}, ValueError, "accuracy_last"),
])
def test_config_errors_name_the_field(kw, exc, name):
    with pytest.raises(exc, match=rf"^{name} "):
        TrainConfig(**kw)


def test_eval_task_fn_supplies_the_held_out_set():
    """With eval_task_fn the held-out losses are those of its set; training batches still come from task_fn."""
    held_out = {}

    def eval_fn(N, rng):
        held_out["set"] = tasks.adding_problem(N, 12, np.random.default_rng(99))  # another T, another seed
        return held_out["set"]
    cfg = TrainConfig(steps=6, **SMALL)
    model, same = SequenceModel("gru", 2, 5, 1, seed=0), SequenceModel("gru", 2, 5, 1, seed=0)
    h = train(model, adding(8), cfg, eval_task_fn=eval_fn)
    plain = train(same, adding(8), cfg)
    np.testing.assert_array_equal(h.train_loss, plain.train_loss)  # the same training batches and updates
    x, y = held_out["set"]
    assert h.input_grad.shape[1] == 12  # the probe runs on the held-out set's length
    assert h.final_eval_loss == pytest.approx(loss_and_grad(model.forward(x), y, "mse")[0], rel=1e-12)
    assert h.final_eval_loss != pytest.approx(plain.final_eval_loss, rel=1e-6)
    with pytest.raises(TypeError, match="eval_task_fn"):
        train(model, adding(8), cfg, eval_task_fn=3)


def test_train_errors():
    model = SequenceModel("rnn", 2, 3, 1)
    with pytest.raises(TypeError, match="model"):
        train(rnnlib.RNN(2, 3), adding(5), TrainConfig(steps=1, **SMALL))
    with pytest.raises(TypeError, match="task_fn"):
        train(model, None, TrainConfig(steps=1, **SMALL))
    with pytest.raises(TypeError, match="config"):
        train(model, adding(5), {"steps": 1})
    with pytest.raises(ValueError, match="task_fn must return x"):
        train(model, copy(3), TrainConfig(steps=1, **SMALL))
    for bad in (lambda x: np.zeros(3, dtype=int), lambda x: np.full(len(x), 5), lambda x: np.zeros(len(x))):
        with pytest.raises(ValueError, match="probe_position must return"):
            train(model, adding(5), TrainConfig(steps=1, probe_position=bad, **SMALL))


def test_progress_bar_default(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert not training._show_progress(TrainConfig(steps=5000))
    assert training._show_progress(TrainConfig(steps=5, progress=True))
    monkeypatch.delenv("CI")
    assert not training._show_progress(TrainConfig(steps=5))  # short runs: never
    assert not training._show_progress(TrainConfig(steps=5000, progress=False))


# --- curves ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def histories():
    out = {}
    for kind in ("rnn", "gru"):
        model = SequenceModel(kind, 2, 5, 1, seed=0)
        out[kind.upper()] = train(model, adding(8), TrainConfig(steps=10, probe_position=tasks.first_marker,
                                                                **SMALL))
    model = SequenceModel("gru", 5, 6, 4, mode="many_to_many", seed=0)
    xent = train(model, copy(2), TrainConfig(steps=10, loss="xent", accuracy_last=2, **SMALL))
    return out, xent


def test_training_curves_draw_on_an_ax(histories):
    hist, xent = histories
    fig, axes = plt.subplots(1, 3)
    lines = curves.plot_training_curves(axes[0], hist, baseline=tasks.ADDING_BASELINE_MSE)
    assert len(lines) == 2 and lines[0].get_color() != lines[1].get_color()
    assert axes[0].get_yscale() == "log" and "MSE" in axes[0].get_ylabel()
    assert axes[0].get_xlabel() == "training step"
    dashed = [ln for ln in axes[0].get_lines() if ln.get_label() == "baseline"]
    assert len(dashed) == 1 and dashed[0].get_linestyle() == "--"
    np.testing.assert_array_equal(lines[0].get_xdata(), hist["RNN"].eval_steps)
    train_lines = curves.plot_training_curves(axes[1], hist, metric="train", smooth=3)
    assert len(train_lines[0].get_xdata()) == 10 and "training" in axes[1].get_ylabel()
    curves.plot_training_curves(axes[2], {"copy": xent}, metric="accuracy", colors={"copy": "#000000"})
    assert axes[2].get_yscale() == "linear" and "accuracy" in axes[2].get_ylabel()
    fig.canvas.draw()


def test_gradient_norms_over_training_draw(histories):
    hist, _ = histories
    fig, ax = plt.subplots()
    lines = curves.plot_gradient_norms_over_training(ax, hist)
    assert len(lines) == 2 and ax.get_yscale() == "log"
    assert "first marker" in ax.get_ylabel() and ax.get_xlabel() == "training step"
    np.testing.assert_allclose(lines[1].get_ydata(), hist["GRU"].input_grad_at)
    fig.canvas.draw()


def test_curves_errors(histories):
    hist, _ = histories
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="metric"):
        curves.plot_training_curves(ax, hist, metric="loss")
    with pytest.raises(ValueError, match="no accuracy"):
        curves.plot_training_curves(ax, hist, metric="accuracy")
    with pytest.raises(TypeError, match="histories"):
        curves.plot_training_curves(ax, [1, 2])
    with pytest.raises(TypeError, match="History"):
        curves.plot_gradient_norms_over_training(ax, {"a": 3})
    with pytest.raises(ValueError, match="colors"):
        curves.plot_training_curves(ax, hist, colors={"RNN": "k"})
    with pytest.raises(ValueError, match="smooth"):
        curves.plot_training_curves(ax, hist, metric="train", smooth=0)


def test_moving_average():
    np.testing.assert_allclose(curves._moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])
