"""Palette, plot helpers, diagrams and widgets (Agg backend, callbacks called directly)."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from rnnlib.figures import diagrams, plots, style, widgets  # noqa: E402
from rnnlib.experiments import radius as experiments  # noqa: E402

SMALL = experiments.RadiusExperiment(hidden_size=8, input_size=3, steps=12, n_seeds=2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- palette ------------------------------------------------------------------
def test_palette_is_okabe_ito_and_distinct_where_it_matters():
    okabe = set(style.OKABE_ITO.values())
    assert len(okabe) == 8
    for symbol in ("x", "h", "y", "f", "i", "o", "c_tilde", "c", "z", "r", "h_tilde"):
        assert style.GATE_COLORS[symbol] in okabe
    groups = [("x", "h", "y"), ("f", "i", "o", "c_tilde", "c", "x", "h"), ("z", "r", "h_tilde", "x", "h")]
    for group in groups:
        colors = [style.GATE_COLORS[s] for s in group]
        assert len(set(colors)) == len(colors), group
    assert set(style.SYMBOL_LABELS) == set(style.GATE_COLORS)


def test_style_imports_no_matplotlib():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(style))
    names = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any("matplotlib" in (m or "") for m in names | mods)


def test_lighten_and_symbol_color():
    assert style.lighten("#000000", 0.5) == "#808080"
    assert style.lighten("#0072B2", 0.0) == "#0072B2"
    assert style.lighten("#0072B2", 1.0) == "#FFFFFF"
    with pytest.raises(ValueError):
        style.lighten("blue")
    with pytest.raises(KeyError, match="known symbols"):
        style.symbol_color("q")


# --- plot helpers -----------------------------------------------------------------
def test_plot_gradient_norms_uses_symbol_colour_and_log_scale():
    fig, ax = plt.subplots()
    line = plots.plot_gradient_norms(ax, np.arange(1, 6), 0.5 ** np.arange(1, 6), label="h")
    assert to_hex(line.get_color()).upper() == style.GATE_COLORS["h"]
    assert ax.get_yscale() == "log"
    assert line in ax.lines
    with pytest.raises(ValueError):
        plots.plot_gradient_norms(ax, np.arange(3), np.ones(4))


def test_plot_gradient_norm_family_colours_legend_and_highlight():
    fig, ax = plt.subplots()
    norms = np.array([0.5, 1.0, 2.0])[:, None] ** np.arange(1, 9)
    lines = plots.plot_gradient_norm_family(ax, np.arange(1, 9), norms, ["a", "b", "c"], highlight=1)
    assert [to_hex(l.get_color()).upper() for l in lines] == style.LINE_COLORS[:3]
    assert lines[1].get_linewidth() > lines[0].get_linewidth()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="label"):
        plots.plot_gradient_norm_family(ax, np.arange(1, 9), norms, ["a"])
    bare = plt.subplots()[1]
    plots.plot_gradient_norm_family(bare, np.arange(1, 9), norms, ["a", "b", "c"], legend=False)
    assert bare.get_legend() is None


def test_plot_reference_power():
    fig, ax = plt.subplots()
    line = plots.plot_reference_power(ax, np.arange(1, 4), 2.0)
    assert np.allclose(line.get_ydata(), [2.0, 4.0, 8.0])


def test_plot_states_heatmap_in_symbol_colour():
    fig, ax = plt.subplots()
    values = np.tanh(np.random.default_rng(0).standard_normal((10, 4)))
    image = plots.plot_states(ax, values, "h")
    assert image.get_array().shape == (4, 10)  # units on y, time on x
    assert image.get_clim() == (-1.0, 1.0)
    assert to_hex(ax.spines["left"].get_edgecolor()).upper() == style.GATE_COLORS["h"]
    assert ax.get_title() == "$h_t$"
    gate = plots.plot_states(plt.subplots()[1], np.full((3, 2), 0.5), "f", colorbar=False)
    assert gate.get_clim() == (0.0, 1.0) and gate.get_cmap().name == "cividis"


def test_figure_to_png_is_png_and_deterministic():
    def make():
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, 1])
        return fig

    a, b = plots.figure_to_png(make()), plots.figure_to_png(make())
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b
    with pytest.raises(TypeError):
        plots.figure_to_png("not a figure")


# --- diagrams -------------------------------------------------------------------
def _texts(ax):
    return {t.get_text() for t in ax.texts}


def test_compressed_diagram_has_every_label_in_the_palette():
    fig, ax = plt.subplots()
    boxes = diagrams.draw_rnn_compressed(ax)
    assert {"$x_{t}$", "$h_{t}$", "$y_{t}$", "$W_{xh}$", "$W_{hh}$", "$W_{hy}$"} <= _texts(ax)
    edge_colors = {to_hex(p.get_edgecolor()).upper() for p in ax.patches}
    assert {style.GATE_COLORS[s] for s in "xhy"} <= edge_colors
    assert boxes["h"].bottom[1] < boxes["h"].top[1]
    fig.canvas.draw()  # renders without error


def test_unfolded_diagram_has_one_column_per_step():
    fig, ax = plt.subplots()
    cols = diagrams.draw_rnn_unfolded(ax, times=("1", "2", "3", "4"))
    assert len(cols) == 4
    texts = _texts(ax)
    assert {"$x_{1}$", "$h_{4}$", "$y_{2}$"} <= texts
    assert sum(t.get_text() == "$W_{hh}$" for t in ax.texts) == 3
    default = plt.subplots()[1]
    diagrams.draw_rnn_unfolded(default)
    assert {"$h_{t-1}$", "$h_{t}$", "$h_{t+1}$"} <= _texts(default)
    fig.canvas.draw()


def test_primitives():
    fig, ax = plt.subplots()
    diagrams.setup_axes(ax, (0, 4), (0, 4))
    b = diagrams.box(ax, (1, 1), "$f_t$", symbol="f")
    n = diagrams.op_node(ax, (3, 3), "+")
    diagrams.arrow(ax, b.top, n.bottom, text="w", curve=0.2)
    diagrams.loop_arrow(ax, b, text="loop", side="left")
    with pytest.raises(ValueError):
        diagrams.loop_arrow(ax, b, side="up")
    assert {"$f_t$", "+", "w", "loop"} <= _texts(ax)
    fig.canvas.draw()


# --- widgets: callbacks called directly ------------------------------------------
def test_draw_radius_panel_returns_measurements():
    fig, ax = plt.subplots()
    res = widgets.draw_radius_panel(ax, 1.5, config=SMALL)
    assert set(res) == {"lags", "driven", "linear", "saturated"}
    assert res["lags"].tolist() == list(range(1, 13))
    assert 0.0 <= res["saturated"] <= 1.0
    assert len(ax.lines) >= 3 and ax.get_yscale() == "log"
    # zero input is the linear regime
    _, lin = experiments.radius_sweep([1.5], SMALL.linear())
    assert np.allclose(res["linear"], lin[0])


def test_radius_figure_and_show_callback():
    fig = widgets.radius_figure(0.9, config=SMALL)
    assert isinstance(fig, matplotlib.figure.Figure)
    out = ipywidgets.Output()
    widgets.show_radius_figure(out, 2.0, 0.5, SMALL)  # the live widget's callback body


def test_radius_explorer_reacts_to_its_sliders():
    box = widgets.radius_explorer(config=SMALL)
    rho_slider, scale_slider, out = box.children
    assert isinstance(rho_slider, ipywidgets.FloatSlider) and isinstance(out, ipywidgets.Output)
    rho_slider.value = 2.5  # fires the observer synchronously: must not raise
    scale_slider.value = 0.0


def _png(color):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_facecolor(color)
    return plots.figure_to_png(fig)


def test_static_slider_links_slider_to_stack_in_the_browser():
    frames = [plt.subplots(figsize=(1, 1))[0] for _ in range(2)] + [_png("red")]
    s = widgets.static_slider(frames, ["a", "b", "c"], description="pick", index=1)
    assert isinstance(s, ipywidgets.VBox) and list(s.children) == [s.slider, s.stack]
    assert isinstance(s.stack, ipywidgets.Stack) and len(s.stack.children) == 3
    assert all(isinstance(c, ipywidgets.Image) and c.format == "png" for c in s.stack.children)
    assert all(bytes(c.value[:4]) == b"\x89PNG" for c in s.stack.children)
    assert isinstance(s.link, ipywidgets.widgets.widget_link.Link)
    assert s.link.source == (s.slider, "index") and s.link.target == (s.stack, "selected_index")
    assert s.slider.index == s.stack.selected_index == 1
    assert list(s.slider.options) == ["a", "b", "c"]
    assert plt.get_fignums() == []  # the frame figures were rendered and closed


def test_static_slider_rejects_bad_input():
    with pytest.raises(ValueError, match="one label per frame"):
        widgets.static_slider([_png("red")], ["a", "b"])
    with pytest.raises(ValueError, match="PNG"):
        widgets.static_slider([b"not a png"], ["a"])
    with pytest.raises(TypeError):
        widgets.static_slider([np.zeros(3)], ["a"])
    with pytest.raises(ValueError, match="distinct"):
        widgets.static_slider([_png("red"), _png("blue")], ["a", "a"])


def test_radius_static_slider_has_one_frame_per_radius():
    s = widgets.radius_static_slider((0.5, 1.0, 3.0), config=SMALL)
    assert len(s.stack.children) == 3
    assert list(s.slider.options) == ["0.5", "1", "3"]
    assert s.slider.index == 1  # starts at radius 1
