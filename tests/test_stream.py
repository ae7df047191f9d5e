"""rnnlib.training.stream: truncated BPTT over a long stream, held-out scoring, resumable checkpoints."""

from dataclasses import replace

import numpy as np
import pytest

import rnnlib
from rnnlib.optim import Adam
from rnnlib.training import charlm, stream
from rnnlib.training.model import SequenceModel

V = 7
IDS = np.random.default_rng(0).integers(0, V, 1201)


def _model(kind="lstm", H=6, seed=0, dtype=np.float64):
    return SequenceModel(kind, V, H, V, mode="many_to_many", seed=seed, dtype=dtype)


def test_batcher_lays_out_contiguous_streams():
    b = stream.StreamBatcher(IDS, 4, 10, offset=3)
    S = (IDS.size - 1 - 3) // 4
    np.testing.assert_array_equal(b.starts, 3 + S * np.arange(4))
    assert b.n_windows == S // 10
    x0, y0 = b.window(0)
    x1, _ = b.window(1)
    assert x0.shape == (4, 10)
    np.testing.assert_array_equal(x0[2], IDS[b.starts[2]:b.starts[2] + 10])
    np.testing.assert_array_equal(y0[:, :-1], x0[:, 1:])  # targets: one character later
    np.testing.assert_array_equal(x1[:, 0], y0[:, -1])  # window 1 continues where window 0 stopped
    with pytest.raises(IndexError):
        b.window(b.n_windows)
    with pytest.raises(ValueError, match="too short"):
        stream.StreamBatcher(IDS[:20], 4, 10)
    with pytest.raises(ValueError, match="offset"):
        stream.StreamBatcher(IDS, 4, 10, offset=-1)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_carried_state_reproduces_one_long_forward(kind):
    """Forward over two windows with the state carried == one forward over both (the state is not forgotten)."""
    m = _model(kind)
    b = stream.StreamBatcher(IDS, 3, 8)
    (xa, ya), (xb, yb) = b.window(0), b.window(1)
    eye = np.eye(V)
    la, state = stream.tbptt_window(m, xa, ya)
    lb, _ = stream.tbptt_window(m, xb, yb, state)
    full = m.forward(eye[np.concatenate([xa, xb], axis=1)])
    lfull, _ = rnnlib.training.model.loss_and_grad(full, np.concatenate([ya, yb], axis=1), "xent")
    assert abs((la + lb) / 2 - lfull) < 1e-12


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_window_gradient_is_exact_with_the_carried_state_held_fixed(kind):
    """FD check (float64, rel. error < 1e-6): the truncated gradient is the gradient of the window's loss
    as a function of the weights with h_0 (and c_0) held fixed."""
    m = _model(kind)
    b = stream.StreamBatcher(IDS, 3, 8)
    _, state = stream.tbptt_window(m, *b.window(0))
    x, y = b.window(1)
    m.zero_grad()
    stream.tbptt_window(m, x, y, state)
    grads = {k: g.copy() for k, g in m.grads.items()}  # before the FD calls add to m.grads
    rng = np.random.default_rng(1)
    for name, p in m.params.items():
        err = rnnlib.check_grads(lambda _: stream.tbptt_window(m, x, y, state)[0], p, grads[name],
                                 rng=rng, n_directions=3)
        assert err < 1e-6, (kind, name, err)


def test_the_gradient_is_cut_at_the_window():
    """The truncated gradient differs from full BPTT through both windows (which tbptt drops on purpose)."""
    m = _model("rnn")
    b = stream.StreamBatcher(IDS, 3, 8)
    (xa, ya), (xb, yb) = b.window(0), b.window(1)
    _, state = stream.tbptt_window(m, xa, ya)
    m.zero_grad()
    stream.tbptt_window(m, xb, yb, state)
    cut = m.grads["rnn.W_hh"].copy()
    m.zero_grad()
    eye = np.eye(V)
    pred = m.forward(eye[np.concatenate([xa, xb], axis=1)])
    _, d = rnnlib.training.model.loss_and_grad(pred, np.concatenate([ya, yb], axis=1), "xent")
    d[:, :8] = 0  # only the second window's loss ...
    m.backward(2 * d)  # ... its mean, back through both windows
    assert rnnlib.rel_error(cut, m.grads["rnn.W_hh"]) > 1e-3


def test_stream_log_likelihoods_equal_charlm_per_stream():
    m = _model("gru")
    ll = stream.stream_log_likelihoods(m, IDS, n_streams=4, chunk=7)
    S = (IDS.size - 1) // 4
    assert ll.shape == (4, S)
    for n in range(4):
        ref = charlm.log_likelihoods(m, IDS[n * S:(n + 1) * S + 1], chunk=50)
        np.testing.assert_allclose(ll[n], ref, rtol=1e-12, atol=1e-12)
    assert stream.stream_bpc(m, IDS, n_streams=4) == pytest.approx(-ll.mean() / np.log(2))
    with pytest.raises(ValueError, match="too short"):
        stream.stream_log_likelihoods(m, IDS[:3], n_streams=4)


def test_config_checks():
    with pytest.raises(ValueError, match="window"):
        stream.StreamConfig(window=0)
    with pytest.raises(ValueError, match="lr_final"):
        stream.StreamConfig(lr_final=-1.0)
    with pytest.raises(ValueError, match="eval_chars"):
        stream.StreamConfig(eval_chars=1)


CFG = stream.StreamConfig(steps=12, n_streams=3, window=8, lr=1e-2, lr_final=1e-3, eval_every=4,
                          eval_streams=2, seed=3, progress=False)


def test_train_stream_learns_and_records():
    ids = np.tile(np.arange(V), 200)  # a cycle: perfectly predictable
    m = _model("lstm", H=8)
    h = stream.train_stream(m, ids, ids[:300], replace(CFG, steps=60, eval_every=20, lr=3e-2))
    assert h.done and h.train_bpc.shape == (60,)
    np.testing.assert_array_equal(h.eval_steps, [0, 20, 40, 60])
    assert h.eval_bpc[-1] < 0.5 * h.eval_bpc[0]
    assert h.epochs == pytest.approx(60 * 3 * 8 / ids.size)
    with pytest.raises(TypeError, match="StreamConfig"):
        stream.train_stream(m, ids, ids, {"steps": 3})


def test_checkpoint_roundtrip(tmp_path):
    m = _model("lstm")
    opt = Adam(m.params, lr=1e-2)
    m.zero_grad()
    stream.tbptt_window(m, *stream.StreamBatcher(IDS, 2, 5).window(0))
    opt.step(m.grads)
    rng = np.random.default_rng(5)
    rng.random(3)
    state = (np.ones((2, 6)), np.zeros((2, 6)))
    p = tmp_path / "c.npz"
    stream.save_checkpoint(p, m, opt, step=7, rng=rng, state=state, extra={"x": np.arange(3)})
    m2 = _model("lstm", seed=9)
    opt2 = Adam(m2.params)
    step, rng2, state2, extra = stream.load_checkpoint(p, m2, opt2)
    assert step == 7 and opt2.t == 1 and list(extra) == ["x"]
    for k in m.params:
        np.testing.assert_array_equal(m2.params[k], m.params[k])
        np.testing.assert_array_equal(opt2.m[k], opt.m[k])
    assert rng2.random() == rng.random()
    np.testing.assert_array_equal(state2[0], state[0])
    with pytest.raises(ValueError, match="does not fit"):
        stream.load_checkpoint(p, _model("gru"), Adam(_model("gru").params))
    with pytest.raises(ValueError, match=".npz"):
        stream.save_checkpoint(tmp_path / "c.bin", m, opt, step=0, rng=rng)
    with pytest.raises(ValueError, match="clashes"):
        stream.save_checkpoint(p, m, opt, step=0, rng=rng, extra={"step": 1})


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, kind):
    ids = IDS[:400]  # short: epochs roll over (zero state, new offset) during the run
    straight = _model(kind)
    h1 = stream.train_stream(straight, ids, IDS[600:800], CFG)
    p = tmp_path / "run.npz"
    resumed = _model(kind)
    h0 = stream.train_stream(resumed, ids, IDS[600:800], CFG, checkpoint=p, checkpoint_every=5, time_limit=0.0)
    assert not h0.done and p.exists()
    for _ in range(50):  # restart from the file, a fresh model each time, until done
        resumed = _model(kind, seed=11)
        h2 = stream.train_stream(resumed, ids, IDS[600:800], CFG, checkpoint=p, checkpoint_every=5,
                                 time_limit=1e-3)
        if h2.done:
            break
    assert h2.done
    for k in straight.params:
        np.testing.assert_array_equal(resumed.params[k], straight.params[k])
    np.testing.assert_array_equal(h2.train_bpc, h1.train_bpc)
    np.testing.assert_array_equal(h2.eval_bpc, h1.eval_bpc)
    with pytest.raises(ValueError, match="another config"):
        stream.train_stream(_model(kind), ids, IDS[600:800], replace(CFG, lr=5e-3), checkpoint=p)
