r"""Interactive figures: thin ipywidgets wrappers over rnnlib's compute and plot functions.

Each interactive figure has three layers (STYLE 15): a pure compute function
(:mod:`rnnlib.experiments.radius`), a function that draws on an ``ax``
(:mod:`rnnlib.figures.plots`), and here a thin wrapper. Everything a widget calls is
a plain function that can be unit-tested directly, because an exception
inside an ipywidgets callback does not fail a notebook run or a book build.

Two kinds of widget:

* **live** (:func:`radius_explorer`): sliders whose callback recomputes and
  redraws. Needs a running kernel; in the static HTML it shows the figure
  drawn for the default values.
* **static** (:class:`FrameSlider`, :func:`static_slider`): the figures are
  rendered in advance, one PNG per slider position, into an
  ``ipywidgets.Stack`` of ``ipywidgets.Image``; the slider's ``index`` is
  ``ipywidgets.jslink``-ed to the stack's ``selected_index``. The link runs
  in the browser, so the slider works in the HTML book with no kernel.
  Generic: any list of figures or PNG bytes and labels.

:func:`radius_figure` is the Chapter 1 figure both kinds show; later chapters
add their gate inspectors the same way. ipywidgets is imported here only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from rnnlib.experiments.radius import RadiusExperiment, radius_sweep, states_for_radius
from rnnlib.figures.plots import figure_to_png, plot_gradient_norms, plot_reference_power
from rnnlib.figures.style import LINE_COLORS

RADIUS_YLIM = (1e-20, 1e20)


# ---------------------------------------------------------------------------
# Chapter 1: the spectral-radius figure (plain functions, used by both widgets)
# ---------------------------------------------------------------------------
def draw_radius_panel(ax, rho, *, input_scale=1.0, config: RadiusExperiment = RadiusExperiment(),
                      ylim=RADIUS_YLIM):
    r"""Draw :math:`\lVert \partial h_T / \partial h_{T-k} \rVert` against ``k`` for one radius ``rho``.

    Three curves: the RNN driven by inputs of standard deviation
    ``input_scale`` (tanh saturates), the same RNN with zero inputs (the
    linear regime), and the guide :math:`\rho^k`.

    Returns
    -------
    dict
        ``lags``, ``driven`` and ``linear`` norms (T,), and ``saturated``:
        the fraction of driven states with :math:`|h| > 0.95` (first draw).
    """
    driven_cfg = replace(config, input_scale=float(input_scale))
    lags, driven = radius_sweep([rho], driven_cfg)
    _, linear = radius_sweep([rho], driven_cfg.linear())
    hs = states_for_radius(rho, driven_cfg)
    saturated = float(np.mean(np.abs(hs) > 0.95))
    plot_gradient_norms(ax, lags, linear[0], label="zero input (linear regime)",
                        color=LINE_COLORS[1], linestyle="-.")
    plot_gradient_norms(ax, lags, driven[0], label=f"inputs of std {input_scale:g}", symbol="h")
    plot_reference_power(ax, lags, rho)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, lags[-1] + 1)
    ax.set_title(rf"$\rho(W_{{hh}})$ = {rho:.2f}: {saturated:.0%} of driven states have $|h| > 0.95$",
                 fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="lower left")
    return {"lags": lags, "driven": driven[0], "linear": linear[0], "saturated": saturated}


def radius_figure(rho, *, input_scale=1.0, config: RadiusExperiment = RadiusExperiment(),
                  figsize=(6.4, 3.6)) -> Figure:
    """A new figure with :func:`draw_radius_panel` for ``rho`` (the caller shows or closes it)."""
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    draw_radius_panel(ax, rho, input_scale=input_scale, config=config)
    return fig


def show_radius_figure(out, rho, input_scale=1.0, config: RadiusExperiment = RadiusExperiment()):
    """Callback body of :func:`radius_explorer`: redraw into the Output widget ``out``."""
    fig = radius_figure(rho, input_scale=input_scale, config=config)
    out.clear_output(wait=True)
    with out:
        display(fig)
    plt.close(fig)
    return fig


def radius_explorer(rho=1.0, input_scale=1.0, config: RadiusExperiment = RadiusExperiment()):
    """Live widget: sliders for the spectral radius and the input scale, redrawing the figure.

    The figure for the initial values is drawn at once, so it is stored with
    the notebook and visible in the HTML book (where the sliders cannot redraw).

    Returns
    -------
    ipywidgets.VBox
        Children: the radius slider, the input-scale slider, the Output.
    """
    rho_slider = ipywidgets.FloatSlider(value=rho, min=0.25, max=3.0, step=0.05, continuous_update=False,
                                        description="radius ρ", readout_format=".2f")
    scale_slider = ipywidgets.FloatSlider(value=input_scale, min=0.0, max=3.0, step=0.25,
                                          continuous_update=False, description="input std",
                                          readout_format=".2f")
    out = ipywidgets.Output()

    def on_change(_change):
        show_radius_figure(out, rho_slider.value, scale_slider.value, config)

    rho_slider.observe(on_change, names="value")
    scale_slider.observe(on_change, names="value")
    show_radius_figure(out, rho, input_scale, config)
    return ipywidgets.VBox([rho_slider, scale_slider, out])


# ---------------------------------------------------------------------------
# Generic static slider (works in the HTML book without a kernel)
# ---------------------------------------------------------------------------
def _as_png(frame, dpi) -> bytes:
    if isinstance(frame, (bytes, bytearray)):
        if not bytes(frame[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("a frame given as bytes must be a PNG image")
        return bytes(frame)
    if isinstance(frame, Figure):
        return figure_to_png(frame, dpi=dpi, close=True)
    raise TypeError(f"each frame must be a matplotlib Figure or PNG bytes; got {type(frame).__name__}")


class FrameSlider(ipywidgets.VBox):
    """A slider over pre-rendered images, linked in the browser (no kernel needed).

    Parameters
    ----------
    frames : sequence of matplotlib Figure or PNG bytes
        One image per slider position; figures are rendered and closed.
    labels : sequence of str
        The slider's readout at each position (same length as ``frames``).
    description : str
        Text left of the slider.
    index : int
        Initial position.
    dpi : int
        Resolution used to render figures.
    width : str
        CSS max-width of the images.

    Attributes
    ----------
    slider : ipywidgets.SelectionSlider
    stack : ipywidgets.Stack
        One ``ipywidgets.Image`` child per frame.
    link : ipywidgets.Link
        ``jslink((slider, "index"), (stack, "selected_index"))``.
    """

    def __init__(self, frames: Sequence, labels: Sequence[str], *, description="", index=0, dpi=80,
                 width="640px"):
        frames, labels = list(frames), [str(s) for s in labels]
        if not frames:
            raise ValueError("need at least one frame")
        if len(frames) != len(labels):
            raise ValueError(f"need one label per frame: {len(frames)} frames, {len(labels)} labels")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be distinct; got {labels}")
        if not 0 <= index < len(frames):
            raise ValueError(f"index must be in [0, {len(frames) - 1}]; got {index}")
        images = [ipywidgets.Image(value=_as_png(f, dpi), format="png",
                                   layout=ipywidgets.Layout(width="100%", max_width=width, height="auto"))
                  for f in frames]
        self.stack = ipywidgets.Stack(images, selected_index=index)
        self.slider = ipywidgets.SelectionSlider(options=labels, index=index, description=description,
                                                 continuous_update=True,
                                                 layout=ipywidgets.Layout(width="100%", max_width=width))
        self.link = ipywidgets.jslink((self.slider, "index"), (self.stack, "selected_index"))
        super().__init__([self.slider, self.stack])


def static_slider(frames, labels, *, description="", index=0, dpi=80, width="640px") -> FrameSlider:
    """Build a :class:`FrameSlider` (see there); kept as a function for symmetry with the live widgets."""
    return FrameSlider(frames, labels, description=description, index=index, dpi=dpi, width=width)


def radius_static_slider(radii=(0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 2.5, 3.0), *, input_scale=1.0,
                         config: RadiusExperiment = RadiusExperiment(), index=None,
                         dpi=100) -> FrameSlider:
    """The spectral-radius figure precomputed for each of ``radii``, in a :class:`FrameSlider`.

    ``index`` defaults to the position of radius 1.0 if present, else 0.
    """
    radii = [float(r) for r in radii]
    if index is None:
        index = radii.index(1.0) if 1.0 in radii else 0
    frames = [radius_figure(rho, input_scale=input_scale, config=config) for rho in radii]
    return static_slider(frames, [f"{rho:g}" for rho in radii], description="radius ρ", index=index,
                         dpi=dpi)


__all__ = ["draw_radius_panel", "radius_figure", "show_radius_figure", "radius_explorer",
           "FrameSlider", "static_slider", "radius_static_slider"]
