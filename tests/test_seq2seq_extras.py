"""Chapter 8's benchmark script, figures and exercise checks (small sizes)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _requires import require  # noqa: E402

from rnnlib.exercises import _ch8_mistakes as M  # noqa: E402
from rnnlib.exercises import ch8  # noqa: E402
from rnnlib.experiments import seq2seq_bench as bench  # noqa: E402
from rnnlib.figures import seq2seq_plots  # noqa: E402
from rnnlib.training.seq2seq import EncoderDecoder, RepeatVector  # noqa: E402
from rnnlib.training.seq2seq_train import evaluate  # noqa: E402

TINY = {1: (40, 8), 2: (60, 10)}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- benchmark script ------------------------------------------------------------
def test_make_data_build_run_and_merge(tmp_path):
    codec, train, held = bench.make_data(1, True, sizes=TINY)
    assert len(train.src) == 32 and len(held.src) == 8 and codec.reverse
    assert isinstance(bench.build("repeat", codec, 4), RepeatVector)
    assert bench.build("attention", codec, 4).attention and not bench.build("decoder", codec, 4).attention
    with pytest.raises(ValueError, match="kind must be one of"):
        bench.build("transformer", codec)
    rec = bench.run(1, "attention", False, epochs=2, out_dir=str(tmp_path), hidden=8, sizes=TINY,
                    weights=str(tmp_path / "w.npz"))
    model, codec2 = bench.load_model(str(tmp_path / "w.npz"))
    assert model.attention and model.H == 8 and not codec2.reverse and codec2.digits == 1
    assert evaluate(model, held) == {"exact": rec["history"]["exact"][-1],
                                     "per_digit": rec["history"]["per_digit"][-1]}  # the trained model
    assert not np.allclose(model.params["out.W"], bench.build("attention", codec2, 8).params["out.W"])
    assert rec["finished"] and rec["history"]["epoch"] == [1, 2] and rec["n_train"] == 32
    saved = json.loads((tmp_path / f"{rec['name']}.json").read_text())
    assert saved["history"]["exact"] == rec["history"]["exact"]
    runs = bench.merge(str(tmp_path), str(tmp_path / "all.json"))
    assert [r["name"] for r in runs] == ["d1_attention_fwd_s0"]
    assert json.loads((tmp_path / "all.json").read_text())["runs"][0]["digits"] == 1
    (tmp_path / "seq2seq.json").write_text((tmp_path / "all.json").read_text())
    loaded = bench.load_results(tmp_path)
    assert loaded["speed"] is None and loaded["runs"][0]["name"] == "d1_attention_fwd_s0"
    assert all(d in bench.SIZES for plan in bench.PLANS.values() for d, *_ in plan)


def _torch_or_skip():
    return require("torch", "pip install torch==2.13.0")


def test_speed_times_both_implementations(tmp_path):
    _torch_or_skip()
    res = bench.speed(steps=2, hidden=8, digits=2, path=str(tmp_path / "speed.json"), sizes=TINY)
    assert res["steps_per_epoch"] == 2 and res["rnnlib_s_per_step"] > 0 and res["torch_s_per_step"] > 0
    assert res["rnnlib_wall_s_per_step"] > 0 and res["torch_wall_s_per_step"] > 0
    assert res["rnnlib_epochs_per_min"] == pytest.approx(60 / (2 * res["rnnlib_s_per_step"]))
    assert json.loads((tmp_path / "speed.json").read_text())["torch_version"].startswith("2.")


def test_torch_model_computes_the_same_loss_as_rnnlib():
    _torch_or_skip()
    import torch

    from rnnlib.experiments._seq2seq_torch import build_torch_model
    from rnnlib.torch_io import to_torch_state_dict
    from rnnlib.training.seq2seq import masked_cross_entropy

    codec, train, _ = bench.make_data(1, True, sizes=TINY)
    ours = EncoderDecoder(codec, 6, attention=True, attn_size=5, seed=3)
    theirs = build_torch_model(torch, codec.V, 6, 5).double()
    sd = {}
    for part in ("encoder", "decoder"):
        sd.update({f"{part}.{k}": torch.tensor(np.asarray(v))
                   for k, v in to_torch_state_dict(getattr(ours, part)).items()})
    a = ours.attn.params
    sd.update({"W_q.weight": torch.tensor(a["W_q"].T), "W_k.weight": torch.tensor(a["W_k"].T),
               "v.weight": torch.tensor(a["v"][None]), "out.weight": torch.tensor(ours.out.params["W"].T),
               "out.bias": torch.tensor(ours.out.params["b"])})
    theirs.load_state_dict(sd)
    logits = theirs(torch.as_tensor(train.src), torch.as_tensor(train.src_mask), torch.as_tensor(train.tgt_in))
    ref, _ = ours.forward(train)
    assert np.abs(logits.detach().numpy() - ref).max() < 1e-10
    assert masked_cross_entropy(ref, train.tgt_out, train.tgt_mask)[0] == pytest.approx(ours.loss(train))


# --- figures ---------------------------------------------------------------------
def test_attention_maps_draw_one_panel_per_sum():
    alpha = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    fig = seq2seq_plots.plot_attention_maps([(alpha, "12 ", "3$", "12"), (alpha, "45 ", "9$", "45")] * 3,
                                            ncols=4)
    axes = fig.axes
    assert len(axes) == 8 and sum(ax.axison for ax in axes) == 6
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["1", "2", "·"]
    assert axes[0].images[0].get_array().shape == (2, 3)
    with pytest.raises(ValueError, match="source must be a str of 3"):
        seq2seq_plots.plot_attention_map(axes[0], alpha, "12", "3$")
    with pytest.raises(ValueError, match="at least one"):
        seq2seq_plots.plot_attention_maps([])


def test_accuracy_curves_one_line_per_run():
    runs = [{"digits": 2, "kind": k, "reverse": r, "n_train": 4500,
             "history": {"epoch": [1, 2], "exact": [0.5, 0.99], "per_digit": [0.8, 1.0]}}
            for k in ("repeat", "attention") for r in (True, False)]
    _, ax = plt.subplots()
    seq2seq_plots.plot_accuracy_curves(ax, runs, 2, keras_epochs=55)
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(solid) == 2 and len(dashed) == 2
    assert ax.get_legend().get_texts()[0].get_text() == "repeat vector (Keras), reversed"
    with pytest.raises(ValueError, match="no run with digits=3"):
        seq2seq_plots.plot_accuracy_curves(ax, runs, 3)
    with pytest.raises(ValueError, match="metric"):
        seq2seq_plots.plot_accuracy_curves(ax, runs, 2, metric="loss")


# --- exercises -------------------------------------------------------------------
CHECKS = [(ch8.check_teacher_forcing_pair, M.teacher_forcing_reference, M.TEACHER_FORCING_MISTAKES),
          (ch8.check_beam_step, M.beam_step_reference, M.BEAM_MISTAKES),
          (ch8.check_attention_weights, M.attention_weights_reference, M.ATTENTION_MISTAKES)]


@pytest.mark.parametrize("check,reference,mistakes", CHECKS, ids=["teacher", "beam", "attention"])
def test_checks_pass_the_reference_and_name_every_mistake(check, reference, mistakes):
    assert check(reference).passed
    for m in mistakes:
        r = check(m.func)
        assert not r.passed and r.status == "known-mistake" and r.mistake == m.id, (m.id, r)

    def stub(*args):
        raise NotImplementedError

    assert check(stub).status == "not-attempted"
    assert check(lambda *a: "nonsense").status == "wrong-type"


def test_attention_check_names_a_readers_wrong_axis_with_nan():
    def wrong_axis(scores, mask):  # as a reader would write it: NaN in the padded columns
        e = np.where(mask[:, None, :], scores, -np.inf)
        with np.errstate(invalid="ignore"):
            w = np.exp(e - e.max(axis=1, keepdims=True))
            return w / w.sum(axis=1, keepdims=True)

    r = ch8.check_attention_weights(wrong_axis)
    assert r.mistake == "wrong-axis" and "last axis" in r.message


def test_exercise_references_are_right():
    din, dout = M.teacher_forcing_reference(np.array([5, 9, 6]), 12, 13)
    assert din.tolist() == [12, 5, 9, 6] and dout.tolist() == [5, 9, 6, 13]
    scores, probs = np.array([-1.0, -2.0]), np.array([[0.5, 0.5], [0.9, 0.1]])
    s, b, t = M.beam_step_reference(scores, probs, 3)
    np.testing.assert_allclose(s, [-1 + np.log(0.5), -1 + np.log(0.5), -2 + np.log(0.9)])
    assert b.tolist() == [0, 0, 1] and t.tolist() == [0, 1, 0]
    alpha = M.attention_weights_reference(np.zeros((1, 2, 3)), np.array([[True, True, False]]))
    np.testing.assert_allclose(alpha, [[[0.5, 0.5, 0.0]] * 2])
