"""rnnlib.experiments.realcode_train (the cache of chapter 6) and rnnlib.figures.interpret_code."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlib.experiments import realcode_train as rt  # noqa: E402
from rnnlib.figures import interpret_code as ic  # noqa: E402
from rnnlib.training.stream import StreamConfig  # noqa: E402

TINY = StreamConfig(steps=2, n_streams=2, window=8, eval_every=1, eval_chars=200, eval_streams=2, progress=False)


def test_build_model():
    m = rt.build_model("lstm", 10, hidden=4)
    assert m.rnn.input_size == 10 and m.out.out_features == 10 and m.rnn.dtype == np.float32
    assert m.mode == "many_to_many"
    with pytest.raises(ValueError, match="kind"):
        rt.build_model("transformer", 10)


def test_run_collect_and_load_cache_roundtrip(tmp_path):
    for kind in rt.KINDS:
        rt.run_kind(kind, config=TINY, ckpt_dir=tmp_path)
    out = rt.collect(config=TINY, ckpt_dir=tmp_path, out=tmp_path / "cache.npz")
    models, curves, meta, codec = rt.load_cache(out)
    assert set(models) == set(rt.KINDS) and meta["models"]["gru"]["steps"] == 2
    assert codec.vocab == meta["vocab"] and codec.V == models["lstm"].rnn.input_size
    with np.load(tmp_path / "rnn.npz") as f:
        np.testing.assert_array_equal(models["rnn"].params["rnn.W_hh"], f["param/rnn.W_hh"])
    np.testing.assert_array_equal(curves["lstm"]["eval_steps"], [0, 1, 2])
    assert 5.0 < meta["models"]["lstm"]["heldout_bpc"] < 8.0  # untrained: about log2 V = 6.6


def _traces():
    rng = np.random.default_rng(0)
    s = np.repeat([0.0, 1.0, 2.0, 1.0, 0.0], 20)  # (100,)
    h = rng.standard_normal((100, 5))
    h[:, 3] = -s + 0.1 * rng.standard_normal(100)  # unit 3 of h: r close to -1
    c = rng.standard_normal((100, 5))
    c[:, 1] = s + 0.5 * rng.standard_normal(100)  # unit 1 of c: strong but weaker
    return {"LSTM": {"c": c, "h": h}, "RNN": {"h": rng.standard_normal((100, 5))}}, {"depth": s}


def test_best_units_picks_the_largest_abs_correlation_over_quantities():
    traces, signals = _traces()
    rows = ic.best_units(traces, signals, kinds={"LSTM": "lstm", "RNN": "rnn"})
    assert [(r.model, r.signal) for r in rows] == [("LSTM", "depth"), ("RNN", "depth")]
    assert rows[0].quantity == "h" and rows[0].unit == 3 and rows[0].r < -0.95
    assert abs(rows[1].r) < 0.5
    assert ic.strongest(rows, "depth") == rows[0]
    table = ic.units_table(rows)
    assert table.splitlines()[0] == "| signal | LSTM | RNN |" and "(h 3)" in table
    with pytest.raises(ValueError, match="kinds"):
        ic.best_units(traces, signals, kinds={"LSTM": "lstm", "RNN": "cnn"})
    with pytest.raises(TypeError):
        ic.units_table([])
    with pytest.raises(ValueError, match="no row"):
        ic.strongest(rows, "quotes")


def test_plot_stream_curves():
    fig, ax = plt.subplots()
    lines = ic.plot_stream_curves(ax, {"a": {"eval_steps": [0, 5, 10], "eval_bpc": [6.0, 3.0, 2.5]}},
                                  {"unigram": 4.4})
    assert len(lines) == 1 and list(lines[0].get_xdata()) == [5, 10]
    assert len(ax.lines) == 2
    plt.close(fig)
    with pytest.raises(TypeError):
        ic.plot_stream_curves(ax, {})
