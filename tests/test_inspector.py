"""Tests for rnnlib.figures.inspector (and its compute layer, rnnlib.experiments.inspector_compute): gate traces for the
LSTM and GRU, the preset example, panels and widgets."""

import subprocess
import sys

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib import gates  # noqa: E402
from rnnlib.figures import inspector  # noqa: E402
from rnnlib.experiments import inspector_compute  # noqa: E402
from rnnlib.figures.style import symbol_color  # noqa: E402

KINDS = ("lstm", "gru")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _layer(kind, seed=0, **kw):
    cls = rnnlib.LSTM if kind == "lstm" else rnnlib.GRU
    return cls(3, 5, seed=seed, **kw)


def _x(seed=0, N=2, T=6, D=3):
    return np.random.default_rng(seed).standard_normal((N, T, D))


# -- compute -----------------------------------------------------------------------------

def test_compute_layer_is_reexported_and_needs_no_display():
    for name in inspector_compute.__all__:  # the inspector's public names are all still here
        assert getattr(inspector, name) is getattr(inspector_compute, name), name
    code = ("import sys, rnnlib.experiments.inspector_compute; bad = sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'IPython')); print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"rnnlib.experiments.inspector_compute pulled in: {out.stdout.strip()}"



@pytest.mark.parametrize("kind", KINDS)
def test_inspect_gates_keys_shapes_and_sequence_zero(kind):
    layer, x = _layer(kind), _x()
    trace = inspector.inspect_gates(kind, layer, x)
    assert tuple(trace) == inspector.PANELS[kind]
    full = (gates.lstm_trace if kind == "lstm" else gates.gru_trace)(layer, x)
    for name, values in trace.items():
        assert values.shape == (6, 5), name
        np.testing.assert_array_equal(values, full[name][0])  # sequence 0 only
    # a (T, D) input is one sequence
    one = inspector.inspect_gates(kind, layer.params, x[1])
    np.testing.assert_allclose(one["h"], full["h"][1], rtol=0, atol=1e-12)


def test_inspect_gates_lstm_matches_the_per_gate_equations():
    layer, x = _layer("lstm", seed=3, forget_bias=1.0), _x(seed=3, N=1)
    pg = gates.lstm_per_gate_params(layer)
    h = c = np.zeros((1, 5))
    trace = inspector.inspect_gates("lstm", layer, x)
    for t in range(x.shape[1]):
        (h, c), g = gates.lstm_step_per_gate(x[:, t], (h, c), **pg)
        for name in ("f", "i", "o", "c_tilde"):
            assert np.max(np.abs(trace[name][t] - g[name][0])) < 1e-12
        assert np.max(np.abs(trace["c"][t] - c[0])) < 1e-12 and np.max(np.abs(trace["h"][t] - h[0])) < 1e-12


@pytest.mark.parametrize("reset_after", [True, False])
def test_inspect_gates_gru_matches_the_per_gate_equations(reset_after):
    layer, x = _layer("gru", seed=4, reset_after=reset_after), _x(seed=4, N=1)
    pg = gates.gru_per_gate_params(layer)
    h = np.zeros((1, 5))
    trace = inspector.inspect_gates("gru", layer, x)
    for t in range(x.shape[1]):
        h, g = gates.gru_step_per_gate(x[:, t], h, **pg)
        for name in ("z", "r", "h_tilde"):
            assert np.max(np.abs(trace[name][t] - g[name][0])) < 1e-12
        assert np.max(np.abs(trace["h"][t] - h[0])) < 1e-12


@pytest.mark.parametrize("kind,gate", [("lstm", "f"), ("lstm", "o"), ("gru", "z"), ("gru", "h_tilde")])
def test_bias_shift_is_with_gate_bias_and_leaves_params_alone(kind, gate):
    layer, x = _layer(kind, seed=1), _x(seed=1)
    before = {k: v.copy() for k, v in layer.params.items()}
    shifted = inspector.inspect_gates(kind, layer, x, gate=gate, bias_delta=2.0)
    expected = inspector.inspect_gates(kind, gates.with_gate_bias(layer, kind, gate, 2.0), x)
    for name in shifted:
        np.testing.assert_array_equal(shifted[name], expected[name])
    assert not np.allclose(shifted[gate], inspector.inspect_gates(kind, layer, x)[gate])
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])
    if gate in inspector.SIGMOID_GATES[kind]:  # a larger bias opens a sigmoid gate further
        assert np.all(shifted[gate] > inspector.inspect_gates(kind, layer, x)[gate])


def test_inspect_gates_initial_state():
    layer, x = _layer("lstm"), _x(N=1)
    h0, c0 = np.full((1, 5), 0.5), np.full((1, 5), 2.0)
    trace = inspector.inspect_gates("lstm", layer, x, state=(h0, c0))
    np.testing.assert_allclose(trace["h"], rnnlib.lstm_forward(x, (h0, c0), **layer.params)[0][0], atol=1e-12)
    gtrace = inspector.inspect_gates("gru", _layer("gru"), x, state=h0)
    assert not np.allclose(gtrace["h"], inspector.inspect_gates("gru", _layer("gru"), x)["h"])


def test_inspect_gates_rejects_bad_input():
    layer, x = _layer("lstm"), _x()
    with pytest.raises(ValueError, match="kind"):
        inspector.inspect_gates("rnn", layer, x)
    with pytest.raises(ValueError, match="gate must be one of"):
        inspector.inspect_gates("lstm", layer, x, gate="z", bias_delta=1.0)
    with pytest.raises(ValueError, match="needs a gate"):
        inspector.inspect_gates("lstm", layer, x, bias_delta=1.0)
    with pytest.raises(TypeError, match="bias_delta"):
        inspector.inspect_gates("lstm", layer, x, gate="f", bias_delta=float("nan"))
    with pytest.raises(TypeError):
        inspector.inspect_gates("gru", layer, x)  # an LSTM layer for kind="gru"
    with pytest.raises(ValueError):
        inspector.inspect_gates("lstm", layer, x[..., :2])  # D mismatch


# -- the preset example ------------------------------------------------------------------

def test_preset_sequence_markers_and_seeding():
    p = inspector.preset_sequence(T=10, write=2, read=8, seed=5, N=3)
    assert p.x.shape == (3, 10, 3) and p.channels == ("value", "write", "read")
    assert np.array_equal(np.flatnonzero(p.x[0, :, 1]), [1]) and np.array_equal(np.flatnonzero(p.x[0, :, 2]), [7])
    np.testing.assert_array_equal(p.x[:, 1, 0], p.values)
    assert np.all((np.abs(p.values) >= 0.7) & (np.abs(p.values) <= 1.0))
    again = inspector.preset_sequence(T=10, write=2, read=8, seed=5, N=3)
    np.testing.assert_array_equal(p.x, again.x)
    assert not np.array_equal(p.x, inspector.preset_sequence(T=10, write=2, read=8, seed=6, N=3).x)
    for bad in ({"write": 0}, {"write": 5, "read": 5}, {"read": 20}, {"noise": -1.0}):
        with pytest.raises(ValueError):
            inspector.preset_sequence(T=10, **{"write": 2, "read": 8, **bad})


def test_preset_lstm_writes_holds_and_reads():
    p = inspector.preset_sequence()
    params = inspector.preset_params("lstm")
    assert params["W_x"].shape == (3, 16) and params["b"].shape == (16,)
    tr = inspector.inspect_gates("lstm", params, p.x)
    w, r = p.write - 1, p.read - 1
    assert np.all(tr["i"][w] > 0.9) and np.all(np.delete(tr["i"], w, axis=0) < 0.1)  # input gate: write only
    assert np.all(tr["o"][r] > 0.9) and np.all(np.delete(tr["o"], r, axis=0) < 0.1)  # output gate: read only
    assert np.all(tr["f"][w] < 0.1) and np.all(tr["f"][w + 1:] > 0.9)
    assert np.mean(np.abs(tr["h"][r])) > 0.5 > 0.05 > np.max(np.abs(np.delete(tr["h"], r, axis=0)))
    # the stored value's sign survives to the read: unit k holds tanh(gain_k * value)
    gains = params["W_x"][0, 12:]
    assert np.all(np.sign(tr["h"][r]) == np.sign(gains * p.values[0]))
    # a smaller forget bias loses the memory
    at_read = [np.mean(np.abs(inspector.inspect_gates("lstm", params, p.x, gate="f", bias_delta=d)["h"][r]))
               for d in (-3, -2, -1, 0, 1)]
    assert np.all(np.diff(at_read) > 0) and at_read[0] < 0.1


def test_preset_gru_writes_and_holds():
    p = inspector.preset_sequence()
    params = inspector.preset_params("gru")
    assert set(params) == {"W_x", "W_h", "b", "b_hn"} and params["W_x"].shape == (3, 12)
    tr = inspector.inspect_gates("gru", params, p.x)
    w = p.write - 1
    assert np.all(tr["z"][w] < 0.1) and np.all(np.delete(tr["z"], w, axis=0) > 0.9)
    assert np.max(np.abs(tr["h"][:w])) < 0.05 and np.all(np.mean(np.abs(tr["h"][w:]), axis=1) > 0.5)
    assert np.all(inspector.preset_params("gru", seed=1)["W_h"] != params["W_h"])
    with pytest.raises(ValueError, match="kind"):
        inspector.preset_params("rnn")


def test_summarize_step():
    p = inspector.preset_sequence()
    tr = inspector.inspect_gates("lstm", inspector.preset_params("lstm"), p.x)
    text = inspector.summarize_step(tr, "lstm", p.read, "f")
    assert text.startswith("at t = 12: mean f = ") and "mean |C| = " in text and "mean |h| = " in text
    assert f"mean |h| = {np.mean(np.abs(tr['h'][11])):.2f}" in text
    gtr = inspector.inspect_gates("gru", inspector.preset_params("gru"), p.x)
    assert inspector.summarize_step(gtr, "gru", 1).count("mean |h|") == 1
    with pytest.raises(ValueError, match="time step"):
        inspector.summarize_step(tr, "lstm", 0)
    with pytest.raises(ValueError, match="keys"):
        inspector.summarize_step(gtr, "lstm", 1)


# -- plot --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_plot_gate_panels_one_panel_per_symbol_in_its_colour(kind):
    p = inspector.preset_sequence()
    tr = inspector.inspect_gates(kind, inspector.preset_params(kind), p.x)
    fig = plt.figure()
    axes = inspector.plot_gate_panels(fig, tr, kind, t=5, x=p.x[0], x_labels=p.channels)
    names = ("x",) + inspector.PANELS[kind]
    assert len(axes) == len(names)
    for ax, name in zip(axes, names):
        assert matplotlib.colors.to_hex(ax.spines["left"].get_edgecolor()).lower() == symbol_color(name).lower()
        assert ax.get_title(loc="left").endswith(inspector.DESCRIPTIONS[name])
        assert len(ax.patches) == 2  # the step marker (white + black outline)
        assert ax.patches[-1].get_x() == pytest.approx(4.5)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == list(p.channels)
    assert axes[-1].get_xlabel() == "time step $t$"
    gate_axes = [ax for ax, n in zip(axes, names) if n in inspector.SIGMOID_GATES[kind]]
    assert all(ax.images[0].get_clim() == (0.0, 1.0) for ax in gate_axes)


def test_plot_gate_panels_on_given_axes_and_c_limit():
    tr = inspector.inspect_gates("lstm", _layer("lstm"), _x())
    fig, axes = plt.subplots(7, 1)
    used = inspector.plot_gate_panels(axes, tr, "lstm", c_limit=2.5)
    assert len(used) == 6 and used[4].images[0].get_clim() == (-2.5, 2.5)  # C
    assert all(len(ax.patches) == 0 for ax in used)  # no marker without t
    with pytest.raises(ValueError, match="need 7 axes"):
        inspector.plot_gate_panels(axes[:6], tr, "lstm", x=_x()[0])
    with pytest.raises(ValueError, match="time step"):
        inspector.plot_gate_panels(plt.figure(), tr, "lstm", t=7)
    with pytest.raises(ValueError, match="x_labels"):
        inspector.plot_gate_panels(plt.figure(), tr, "lstm", x=_x()[0], x_labels=["a"])


@pytest.mark.parametrize("kind", KINDS)
def test_inspector_figure_title_summarises_the_step(kind):
    p = inspector.preset_sequence()
    params = inspector.preset_params(kind)
    gate = inspector.GATES[kind][0]
    fig = inspector.inspector_figure(kind, params, p.x, t=p.read, gate=gate, bias_delta=-1.0, x_labels=p.channels)
    title = fig._suptitle.get_text()
    assert "shifted by -1.0" in title and "at t = 12" in title
    assert len(fig.axes) == 2 * (len(inspector.PANELS[kind]) + 1)  # panels and their colour bars
    no_input = inspector.inspector_figure(kind, params, p.x[0], show_input=False)
    assert no_input._suptitle is None and len(no_input.axes) == 2 * len(inspector.PANELS[kind])


# -- widgets -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_show_inspector_callback_draws_into_the_output(kind):
    p = inspector.preset_sequence()
    out = ipywidgets.Output()
    fig = inspector.show_inspector(out, kind, inspector.preset_params(kind), p.x, 4, inspector.GATES[kind][1], 1.5)
    assert "shifted by +1.5" in fig._suptitle.get_text()
    assert plt.get_fignums() == []  # closed after display


@pytest.mark.parametrize("kind", KINDS)
def test_gate_inspector_reacts_to_every_control(kind):
    p = inspector.preset_sequence()
    box = inspector.gate_inspector(kind, inspector.preset_params(kind), p.x, x_labels=p.channels)
    step, menu, shift, out = box.children
    assert isinstance(step, ipywidgets.IntSlider) and (step.min, step.max, step.value) == (1, 16, 16)
    assert [v for _, v in menu.options] == list(inspector.GATES[kind]) and menu.value == inspector.GATES[kind][0]
    assert (shift.min, shift.max, shift.value) == (-3.0, 3.0, 0.0) and isinstance(out, ipywidgets.Output)
    step.value = 3  # each fires the observer synchronously: must not raise
    menu.value = inspector.GATES[kind][-1]
    shift.value = -2.5
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="time step"):
        inspector.gate_inspector(kind, inspector.preset_params(kind), p.x, t=17)


@pytest.mark.parametrize("kind", KINDS)
def test_gate_inspector_static_frames_over_bias_shifts(kind):
    p = inspector.preset_sequence()
    s = inspector.gate_inspector_static(kind, inspector.preset_params(kind), p.x, shifts=(-2, 0, 2), t=p.read)
    assert list(s.slider.options) == ["-2", "+0", "+2"] and s.slider.index == 1
    assert len(s.stack.children) == 3 and all(bytes(c.value[:4]) == b"\x89PNG" for c in s.stack.children)
    assert s.link.source == (s.slider, "index") and s.link.target == (s.stack, "selected_index")
    assert len({bytes(c.value) for c in s.stack.children}) == 3  # the frames differ
    assert s.slider.description == f"${inspector.BIAS_LABELS[inspector.GATES[kind][0]]}$ shift"
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="at least one"):
        inspector.gate_inspector_static(kind, inspector.preset_params(kind), p.x, shifts=())


def test_gate_inspector_static_shares_the_cell_colour_scale(monkeypatch):
    p = inspector.preset_sequence()
    limits = []
    real = inspector.inspector_figure

    def spy(*args, **kw):
        limits.append(kw.get("c_limit"))
        return real(*args, **kw)

    monkeypatch.setattr(inspector, "inspector_figure", spy)
    inspector.gate_inspector_static("lstm", inspector.preset_params("lstm"), p.x, shifts=(-1, 0, 1))
    assert len(limits) == 3 and len(set(limits)) == 1 and limits[0] >= 1.0
