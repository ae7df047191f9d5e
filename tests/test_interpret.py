"""rnnlib.figures.interpret: recording activations over a text, ranking units by correlation, the strip plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlib.training.loop  # noqa: E402
from rnnlib import gates  # noqa: E402
from rnnlib.training import charlm  # noqa: E402
from rnnlib.figures import interpret  # noqa: E402
from rnnlib.data import toy_language as tl  # noqa: E402
from rnnlib.training.model import SequenceModel  # noqa: E402
from rnnlib.figures.style import symbol_color  # noqa: E402

CODEC = tl.CharCodec(tl.ToyLanguage().alphabet)
V = CODEC.V
TEXT = 'a ("b" [c])\nthe {cat}\n'


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _model(kind, H=5, seed=0):
    return SequenceModel(kind, V, H, V, mode="many_to_many", seed=seed)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_record_activations_keys_shapes_and_prime(kind):
    model = _model(kind)
    trace = interpret.record_activations(model, CODEC, TEXT)
    assert tuple(trace) == interpret.RECORDED[kind]
    assert all(a.shape == (len(TEXT), 5) and a.dtype == np.float64 for a in trace.values())
    # row t is the state after text[t], read after the prime, from a zero state
    hs, _ = model.rnn.forward(charlm.one_hot(CODEC.encode("\n" + TEXT), V)[None])
    np.testing.assert_allclose(trace["h"], hs[0, 1:], rtol=1e-12)
    no_prime = interpret.record_activations(model.rnn, CODEC, TEXT, prime="")
    hs0, _ = model.rnn.forward(charlm.one_hot(CODEC.encode(TEXT), V)[None])
    np.testing.assert_allclose(no_prime["h"], hs0[0], rtol=1e-12)


def test_record_activations_lstm_matches_the_gate_trace():
    model = _model("lstm")
    trace = interpret.record_activations(model, CODEC, TEXT)
    ref = gates.lstm_trace(model.rnn, charlm.one_hot(CODEC.encode("\n" + TEXT), V)[None])
    for k in ("f", "i", "o", "c_tilde", "c", "h"):
        np.testing.assert_allclose(trace[k], ref[k][0, 1:], rtol=1e-12)
    assert np.all((trace["f"] > 0) & (trace["f"] < 1))


def test_record_activations_rejects_bad_input():
    with pytest.raises(TypeError, match="SequenceModel"):
        interpret.record_activations("lstm", CODEC, TEXT)
    with pytest.raises(ValueError, match="V=3"):
        interpret.record_activations(_model("gru"), tl.CharCodec("ab\n"), "ab")
    with pytest.raises(ValueError, match="non-empty"):
        interpret.record_activations(_model("gru"), CODEC, "")
    with pytest.raises(TypeError, match="CharCodec"):
        interpret.record_activations(_model("gru"), "abc", "a")


def test_correlations_match_numpy_and_handle_constant_units():
    rng = np.random.default_rng(0)
    acts = rng.standard_normal((40, 4))
    signal = rng.standard_normal(40)
    acts[:, 2] = 3.0  # constant unit
    r = interpret.correlations(acts, signal)
    for j in (0, 1, 3):
        assert r[j] == pytest.approx(np.corrcoef(acts[:, j], signal)[0, 1], rel=1e-12)
    assert r[2] == 0.0
    np.testing.assert_array_equal(interpret.correlations(acts, np.ones(40)), 0.0)
    assert interpret.correlations(acts[:, :1], -2 * acts[:, 0] + 1)[0] == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        interpret.correlations(acts, signal[:-1])


def test_rank_units_sorts_by_size_and_keeps_the_sign():
    rng = np.random.default_rng(1)
    depth = np.cumsum(rng.choice([-1, 1], size=200))
    acts = rng.standard_normal((200, 5))
    acts[:, 3] = -depth + 0.1 * rng.standard_normal(200)  # strongest, negative
    acts[:, 1] = depth + 5.0 * rng.standard_normal(200)  # weaker, positive
    ranking = interpret.rank_units(acts, depth)
    assert ranking.units[0] == 3 and ranking.r[0] < -0.95
    assert list(ranking.units[:2]) == [3, 1]
    assert np.all(np.diff(np.abs(ranking.r)) <= 0)
    assert sorted(ranking.units) == list(range(5))
    top = interpret.rank_units(acts, depth, top=2)
    assert top.units.shape == top.r.shape == (2,)
    with pytest.raises(ValueError, match="top"):
        interpret.rank_units(acts, depth, top=0)


def _counting_lstm(H=3, seed=0):
    """An LSTM set by hand whose unit 0 adds tanh(0.5) to its cell at ( [ { and subtracts it at ) ] }."""
    rng = np.random.default_rng(seed)
    model = SequenceModel("lstm", V, H, V, mode="many_to_many", seed=seed)
    p = {k: 0.3 * rng.standard_normal(v.shape) for k, v in model.rnn.params.items()}
    f, i, o, c = (slice(k * H, k * H + 1) for k in range(4))  # unit 0 of each block f, i, o, c_tilde
    p["W_h"][:, 0::H] = 0.0  # unit 0 ignores the state: its gates read only the character
    p["W_x"][:, 0::H] = 0.0
    p["b"][f], p["b"][i], p["b"][o], p["b"][c] = 30.0, -30.0, 30.0, 0.0  # keep, closed, expose
    for ch in "([{":
        p["W_x"][CODEC.encode(ch)[0], i], p["W_x"][CODEC.encode(ch)[0], c] = 60.0, 0.5
    for ch in ")]}":
        p["W_x"][CODEC.encode(ch)[0], i], p["W_x"][CODEC.encode(ch)[0], c] = 60.0, -0.5
    model.rnn.set_params(p)
    return model


def test_the_counting_unit_of_a_hand_set_lstm_is_found():
    probe = tl.generate(40, np.random.default_rng(2))
    trace = interpret.record_activations(_counting_lstm(), CODEC, probe.text)
    np.testing.assert_allclose(trace["c"][:, 0], np.tanh(0.5) * probe.depth, atol=1e-3)
    ranking = interpret.rank_units(trace["c"], probe.depth)
    assert ranking.units[0] == 0 and ranking.r[0] > 0.999
    means = interpret.gate_means_at(trace, probe.text, "(a)", unit=0)
    assert means["i"]["("] > 0.99 and means["i"]["a"] < 0.01 and means["i"][")"] > 0.99
    assert means["c_tilde"]["("] == pytest.approx(np.tanh(0.5)) and means["f"]["a"] > 0.99
    quote = interpret.rank_units(trace["c"], probe.in_quote, top=1)
    assert abs(quote.r[0]) < 0.9  # no unit was built to follow quotes


def test_gate_means_at():
    trace = {"f": np.arange(len(TEXT) * 2, dtype=float).reshape(-1, 2)}
    means = interpret.gate_means_at(trace, TEXT, "()z", unit=1)
    k_open, k_close = TEXT.index("("), TEXT.index(")")
    assert means["f"]["("] == trace["f"][k_open, 1] and means["f"][")"] == trace["f"][k_close, 1]
    assert np.isnan(means["f"]["z"])
    groups = interpret.gate_means_at(trace, TEXT, {"open": "([{", "none": "z"}, unit=0)
    opening = [k for k, ch in enumerate(TEXT) if ch in "([{"]
    assert groups["f"]["open"] == pytest.approx(trace["f"][opening, 0].mean()) and np.isnan(groups["f"]["none"])
    with pytest.raises(ValueError, match="unit"):
        interpret.gate_means_at(trace, TEXT, "(", unit=2)
    with pytest.raises(TypeError, match="chars"):
        interpret.gate_means_at(trace, TEXT, {"x": ""}, unit=0)
    with pytest.raises(ValueError):
        interpret.gate_means_at(trace, TEXT[:-1], "(", unit=0)


def test_plot_char_strip_lays_out_characters_and_colours():
    fig, ax = plt.subplots()
    values = np.linspace(-1, 1, len(TEXT))
    image = interpret.plot_char_strip(ax, TEXT, values, width=8, title="unit 3")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == len(TEXT) and texts.count("↵") == 2
    grid = image.get_array()
    # 'a ("b" [c])' is 11 characters + newline: rows of 8 -> 2 rows, then "the {cat}" + newline -> 2 rows
    assert grid.shape == (4, 8)
    assert grid[0, 0] == values[0] and np.ma.is_masked(grid[1, 5])
    assert ax.get_title(loc="left") == "unit 3"
    dark = [t for t in ax.texts if t.get_color() == "white"]
    assert dark  # the extremes of the colour map get white letters
    with pytest.raises(ValueError):
        interpret.plot_char_strip(ax, TEXT, values[:-1])
    with pytest.raises(ValueError, match="width"):
        interpret.plot_char_strip(ax, TEXT, values, width=0)


def test_plot_unit_gates_one_strip_per_panel_in_its_colour():
    trace = interpret.record_activations(_model("lstm"), CODEC, TEXT)
    fig = plt.figure()
    axes = interpret.plot_unit_gates(fig, TEXT, trace, unit=2, names=("c", "f", "i"), width=20)
    assert len(axes) == 3
    assert "forget gate of unit 2" in axes[1].get_title(loc="left")
    assert axes[1].title.get_color() == symbol_color("f") or axes[1]._left_title.get_color() == symbol_color("f")
    assert axes[1].images[0].get_clim() == (0.0, 1.0)
    c_lim = axes[0].images[0].get_clim()
    assert c_lim[1] == pytest.approx(np.max(np.abs(trace["c"][:, 2])))
    fig2, ax2 = plt.subplots(6, 1)
    assert len(interpret.plot_unit_gates(ax2, TEXT, trace, 0, c_limit=2.0)) == 6
    assert ax2[0].images[0].get_clim() == (-2.0, 2.0)
    with pytest.raises(ValueError, match="no"):
        interpret.plot_unit_gates(fig, TEXT, trace, 0, names=("z",))
    with pytest.raises(ValueError, match="need 6 axes"):
        interpret.plot_unit_gates(ax2[:2], TEXT, trace, 0)


def test_plot_unit_vs_signal_and_bpc_curves():
    fig, ax = plt.subplots()
    ax2 = interpret.plot_unit_vs_signal(ax, np.sin(np.arange(30)), np.arange(30) % 4, label="unit 7")
    assert ax.lines[0].get_color() == symbol_color("c") and len(ax2.lines) == 1
    assert ax.get_ylabel() == "unit 7" and ax2.get_ylabel() == "bracket depth"
    assert not ax2.yaxis_inverted()
    fig, ax = plt.subplots()
    ax2 = interpret.plot_unit_vs_signal(ax, np.arange(5.0), -np.arange(5.0), flip_signal=True)
    assert ax2.yaxis_inverted() and ax2.get_ylabel() == "bracket depth (axis reversed)"
    model = _model("gru")
    ids = CODEC.encode(tl.generate(40, np.random.default_rng(0)).text)
    cfg = rnnlib.training.loop.TrainConfig(steps=4, batch_size=4, eval_every=2, eval_size=8, loss="xent", probe_size=0)
    hist = rnnlib.training.loop.train(model, charlm.window_task(ids, V, 10), cfg)
    fig, ax = plt.subplots()
    lines = interpret.plot_bpc_curves(ax, {"GRU": hist}, {"unigram": 4.1, "4-gram": 1.84})
    assert len(lines) == 1
    np.testing.assert_allclose(lines[0].get_ydata(), hist.eval_loss / np.log(2))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["GRU", "unigram (4.10)", "4-gram (1.84)"]
    mse = rnnlib.training.loop.train(SequenceModel("rnn", 2, 3, 1), lambda n, r: (r.random((n, 4, 2)), r.random((n, 1))),
                                rnnlib.training.loop.TrainConfig(steps=2, eval_every=2, eval_size=4, probe_size=0))
    with pytest.raises(ValueError, match="xent"):
        interpret.plot_bpc_curves(ax, {"x": mse})
    with pytest.raises(TypeError):
        interpret.plot_bpc_curves(ax, {})
