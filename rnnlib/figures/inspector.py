r"""The gate inspector: every gate and state of an LSTM or GRU over time, and what a bias shift does.

Three layers, as for every interactive figure of the book (STYLE 15):

* **compute** - :func:`inspect_gates` runs a layer over one sequence and returns each
  gate and state as a (T, H) array (time x unit), optionally with one gate's bias
  shifted (:func:`rnnlib.gates.with_gate_bias`). Pure NumPy, it lives in
  :mod:`rnnlib.experiments.inspector_compute` with the preset example and :func:`summarize_step`;
  the names are re-exported here, so ``inspector.inspect_gates`` works as before.
* **plot** - :func:`plot_gate_panels` draws those arrays as heatmaps stacked on one
  time axis, each framed in its symbol's colour (:mod:`rnnlib.figures.style`), with a marker
  at a chosen step; :func:`inspector_figure` is compute + plot in a new figure.
* **widgets** - :func:`gate_inspector` (live: sliders for the time step and a gate's
  bias shift, callback :func:`show_inspector`) and :func:`gate_inspector_static`
  (precomputed frames over bias shifts in a :func:`rnnlib.figures.widgets.static_slider`,
  which works in the HTML book without a kernel).

This module holds the plot and widget layers (matplotlib, ipywidgets) and the words
they print (:data:`DESCRIPTIONS`, :data:`BIAS_LABELS`).

A random layer's gates mean little to look at, so :func:`preset_sequence` and
:func:`preset_params` (from :mod:`rnnlib.experiments.inspector_compute`) give a small, seeded
"write, hold, read" example to inspect: the LSTM stores a value at a write marker and
shows it at a read marker.

Time steps are counted from 1 in the figures and arguments (``t``, ``write``, ``read``)
as in the book's equations; row ``t - 1`` of a (T, H) array is step ``t``.
"""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from rnnlib._checks import check_array
from rnnlib.experiments.inspector_compute import (GATES, MEMORY, PANELS, PRESET_CHANNELS, SIGMOID_GATES, PresetSequence,
                                _check_delta, _check_gate, _check_kind, _check_step, _trace_length,
                                inspect_gates, preset_params, preset_sequence, summarize_step)
from rnnlib.figures.plots import figure_to_png, plot_states
from rnnlib.figures.style import SYMBOL_LABELS, symbol_color
from rnnlib.figures.widgets import FALLBACK_DPI, LiveFigure, compress_png, live_text, static_slider

#: What each panel shows, in words.
DESCRIPTIONS = {
    "x": "input", "f": "forget gate", "i": "input gate", "o": "output gate",
    "c_tilde": "candidate", "c": "cell state", "h": "hidden state",
    "z": "update gate", "r": "reset gate", "h_tilde": "candidate",
}
#: Bias symbol of each gate, for labels (``b_f``, ``b_c`` ...).
BIAS_LABELS = {"f": "b_f", "i": "b_i", "o": "b_o", "c_tilde": "b_c", "z": "b_z", "r": "b_r", "h_tilde": "b_h"}


# ---------------------------------------------------------------------------
# plot
# ---------------------------------------------------------------------------
def _limits(name, values, c_limit):
    """(vmin, vmax, cmap) of a panel: gates in [0, 1], tanh outputs in [-1, 1], C in [-c_limit, c_limit]."""
    if name in ("f", "i", "o", "z", "r"):
        return 0.0, 1.0, "cividis"
    if name == "c":
        lim = c_limit if c_limit is not None else max(1.0, float(np.max(np.abs(values))))
        return -lim, lim, "RdBu_r"
    return -1.0, 1.0, "RdBu_r"


#: Height (inches) of one heatmap panel, of one labelled input channel (room for a
#: "small" tick label with a gap) and of a panel's title, in :func:`inspector_figure`.
PANEL_HEIGHT, CHANNEL_HEIGHT, TITLE_HEIGHT = 0.95, 0.17, 0.35


def panel_heights(kind, *, n_channels=None):
    """Heights (inches) of the panels of :func:`plot_gate_panels`, top to bottom.

    ``n_channels`` (the number of labelled input channels, or None for no input
    panel) makes the input panel tall enough for one readable label per channel.
    """
    kind = _check_kind(kind)
    heights = [PANEL_HEIGHT] * len(PANELS[kind])
    if n_channels is not None:
        heights.insert(0, max(PANEL_HEIGHT, CHANNEL_HEIGHT * int(n_channels) + TITLE_HEIGHT))
    return heights


def plot_gate_panels(axes_or_fig, trace, kind, t=None, *, x=None, x_labels=None, c_limit=None):
    r"""Draw each gate and state of ``trace`` as a heatmap (time x unit), stacked on one time axis.

    Parameters
    ----------
    axes_or_fig : matplotlib Figure or sequence of Axes
        A figure gets one row of axes per panel (sharing the time axis); a sequence
        must hold at least as many axes as panels.
    trace : dict
        From :func:`inspect_gates`: :data:`PANELS` ``[kind]`` -> (T, H).
    kind : {"lstm", "gru"}
    t : int, optional
        A time step (1-based) to mark on every panel.
    x : ndarray (T, D), optional
        The input sequence, drawn as an extra first panel (colour of ``x``).
    x_labels : sequence of D str, optional
        Names of the input channels (y tick labels of the input panel).
    c_limit : float, optional
        Colour limit of the cell state (default max(1, max |C|)); fix it to compare figures.

    Returns
    -------
    list of Axes
        The panels, top to bottom.

    Notes
    -----
    Colours: sigmoid gates on [0, 1] (``cividis``), tanh outputs on [-1, 1] and the
    cell state on [-c_limit, c_limit] (``RdBu_r``); each frame and title in the
    symbol's colour from :data:`rnnlib.figures.style.GATE_COLORS`.
    """
    kind = _check_kind(kind)
    T = _trace_length(trace, kind)
    names = list(PANELS[kind])
    if x is not None:
        x = check_array("x", x, ("T", "D"), (T, None))
        if x_labels is not None and len(x_labels) != x.shape[1]:
            raise ValueError(f"x_labels must name the {x.shape[1]} input channels; got {list(x_labels)}")
        names.insert(0, "x")
    if t is not None:
        t = _check_step(t, T)
    if isinstance(axes_or_fig, Figure):
        ratios = panel_heights(kind, n_channels=None if x is None else (x.shape[1] if x_labels is not None else 1))
        axes = list(np.atleast_1d(axes_or_fig.subplots(len(names), 1, sharex=True,
                                                       gridspec_kw={"height_ratios": ratios})))
    else:
        axes = list(np.ravel(axes_or_fig))
        if len(axes) < len(names):
            raise ValueError(f"need {len(names)} axes for kind={kind!r}{' with x' if x is not None else ''}; "
                             f"got {len(axes)}")
    for ax, name in zip(axes, names):
        values = x if name == "x" else trace[name]  # (T, H) or (T, D)
        vmin, vmax, cmap = _limits(name, values, c_limit)
        plot_states(ax, values, name, vmin=vmin, vmax=vmax, cmap=cmap, colorbar=True, title="")
        ax.set_title(f"{SYMBOL_LABELS[name]}  {DESCRIPTIONS[name]}", loc="left", color=symbol_color(name),
                     fontsize="medium")
        ax.set_xlabel("")
        ax.set_ylabel("channel" if name == "x" else "unit", fontsize="small")
        n_rows = values.shape[1]
        if name == "x" and x_labels is not None:
            ax.set_yticks(range(n_rows), [str(s) for s in x_labels], fontsize="small")
        elif n_rows <= 8:
            ax.set_yticks(range(n_rows))
        if t is not None:  # white under black: visible on every colour map
            ax.axvspan(t - 0.5, t + 0.5, facecolor="none", edgecolor="white", linewidth=3.0)
            ax.axvspan(t - 0.5, t + 0.5, facecolor="none", edgecolor="black", linewidth=1.2)
    axes[len(names) - 1].set_xlabel("time step $t$")
    axes[len(names) - 1].set_xticks(range(1, T + 1, max(1, T // 16)))
    return axes[: len(names)]


def inspector_figure(kind, params, x, t=None, gate=None, bias_delta=0.0, *, state=None, x_labels=None,
                     c_limit=None, show_input=True, width=7.5) -> Figure:
    """A new figure: :func:`inspect_gates` drawn by :func:`plot_gate_panels` (the caller shows or closes it).

    Parameters
    ----------
    kind, params, state, gate, bias_delta
        As for :func:`inspect_gates`.
    x : ndarray (N, T, D) or (T, D)
    t : int, optional
        Step to mark (1-based); the title then summarises it (:func:`summarize_step`).
    x_labels, c_limit
        As for :func:`plot_gate_panels`.
    show_input : bool
        Draw the input of sequence 0 as a first panel.
    width : float
        Figure width in inches.

    Returns
    -------
    matplotlib Figure
    """
    trace = inspect_gates(kind, params, x, state=state, gate=gate, bias_delta=bias_delta)
    x0 = (x if np.ndim(x) == 2 else np.asarray(x)[0]) if show_input else None
    n_channels = None if x0 is None else (np.shape(x0)[1] if x_labels is not None else 1)
    fig = plt.figure(figsize=(width, sum(panel_heights(kind, n_channels=n_channels)) + 0.7),
                     layout="constrained")
    plot_gate_panels(fig, trace, kind, t, x=x0, x_labels=x_labels, c_limit=c_limit)
    title = []
    if gate is not None:
        title.append(f"${BIAS_LABELS[gate]}$ shifted by {bias_delta:+.1f}")
    if t is not None:
        title.append(summarize_step(trace, kind, t, gate))
    if title:
        fig.suptitle(";  ".join(title), fontsize="medium")
    return fig


# ---------------------------------------------------------------------------
# widgets
# ---------------------------------------------------------------------------
def show_inspector(out, kind, params, x, t=None, gate=None, bias_delta=0.0, **figure_kw):
    """Callback body of :func:`gate_inspector`: redraw :func:`inspector_figure` into the Output ``out``.

    Returns the (closed) figure.
    """
    fig = inspector_figure(kind, params, x, t, gate, bias_delta, **figure_kw)
    out.clear_output(wait=True)
    with out:
        display(fig)
    plt.close(fig)
    return fig


def gate_inspector(kind, params, x, *, t=None, gate=None, bias_delta=0.0, shift_range=3.0, **figure_kw):
    r"""Live inspector: a time-step slider, a gate menu and a bias-shift slider, redrawing the figure.

    The figure for the initial values is drawn at once, so the notebook stores it
    (and the HTML book shows it; there the sliders cannot redraw).

    Parameters
    ----------
    kind, params, x
        As for :func:`inspect_gates`.
    t : int, optional
        Initial step (default T).
    gate : str, optional
        Initial gate (default the first of :data:`GATES` ``[kind]``: ``f`` or ``z``).
    bias_delta : float
        Initial shift.
    shift_range : float
        The shift slider runs over [-shift_range, shift_range] in steps of 0.5.
    **figure_kw
        Passed to :func:`inspector_figure` (``x_labels``, ``state``, ``c_limit`` ...).

    Returns
    -------
    rnnlib.figures.widgets.LiveFigure
        A VBox; children: the step slider, the gate menu, the shift slider, the
        Output. Its static fallback is the starting figure.
    """
    kind = _check_kind(kind)
    T = np.shape(x)[0] if np.ndim(x) == 2 else np.shape(x)[1]
    t = T if t is None else _check_step(t, T)
    gate = GATES[kind][0] if gate is None else _check_gate(kind, gate)
    step = ipywidgets.IntSlider(value=t, min=1, max=T, description="step $t$", continuous_update=False)
    menu = ipywidgets.Dropdown(options=[(f"{DESCRIPTIONS[g]} ({BIAS_LABELS[g]})", g) for g in GATES[kind]],
                               value=gate, description="gate")
    shift = ipywidgets.FloatSlider(value=_check_delta(bias_delta), min=-shift_range, max=shift_range, step=0.5,
                                   description="bias shift", continuous_update=False, readout_format="+.1f")
    out = ipywidgets.Output()

    def on_change(_change):
        show_inspector(out, kind, params, x, step.value, menu.value, shift.value, **figure_kw)

    for w in (step, menu, shift):
        w.observe(on_change, names="value")
    fig = show_inspector(out, kind, params, x, t, gate, shift.value, **figure_kw)
    box = LiveFigure([step, menu, shift, out])
    what = (f"{kind.upper()} gate inspector: every gate and state as a heatmap over time, "
            f"step {t} marked, {BIAS_LABELS[gate]} shifted by {shift.value:+.1f}")
    box.set_fallback(compress_png(figure_to_png(fig, dpi=FALLBACK_DPI)), live_text(what))
    return box


def gate_inspector_static(kind, params, x, *, gate=None, shifts=(-3, -2, -1, 0, 1, 2, 3), t=None, index=None,
                          **figure_kw):
    r"""Static inspector: the figure precomputed for each bias shift of one gate, in a slider.

    Works in the HTML book without a kernel (:func:`rnnlib.figures.widgets.static_slider`).
    The cell state's colour scale is the same in every frame.

    Parameters
    ----------
    kind, params, x
        As for :func:`inspect_gates`.
    gate : str, optional
        Gate whose bias is shifted (default ``f`` for the LSTM, ``z`` for the GRU).
    shifts : sequence of float
        One frame per shift, in this order.
    t : int, optional
        Step marked and summarised in every frame.
    index : int, optional
        Initial frame (default the shift 0 if present, else the first).
    **figure_kw
        Passed to :func:`inspector_figure`.

    Returns
    -------
    rnnlib.figures.widgets.FrameSlider
    """
    kind = _check_kind(kind)
    gate = GATES[kind][0] if gate is None else _check_gate(kind, gate)
    shifts = [_check_delta(d) for d in shifts]
    if not shifts:
        raise ValueError("shifts must hold at least one bias shift")
    if "c_limit" not in figure_kw and kind == "lstm":  # one colour scale for C across the frames
        figure_kw["c_limit"] = max(1.0, max(float(np.max(np.abs(inspect_gates(kind, params, x, gate=gate,
                                                                               bias_delta=d)["c"])))
                                            for d in shifts))
    frames = [inspector_figure(kind, params, x, t, gate, d, **figure_kw) for d in shifts]
    if index is None:
        index = shifts.index(0.0) if 0.0 in shifts else 0
    return static_slider(frames, [f"{d:+g}" for d in shifts], description=f"${BIAS_LABELS[gate]}$ shift",
                         index=index)


__all__ = ["PANELS", "GATES", "SIGMOID_GATES", "MEMORY", "PRESET_CHANNELS", "inspect_gates", "PresetSequence",
           "preset_sequence", "preset_params", "summarize_step", "plot_gate_panels", "inspector_figure",
           "show_inspector", "gate_inspector", "gate_inspector_static", "panel_heights", "PANEL_HEIGHT",
           "CHANNEL_HEIGHT", "TITLE_HEIGHT"]
