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

Both carry a **static fallback** (:class:`StaticFallback`): their display
bundle holds, next to the widget view, the default figure as ``image/png``
and a ``text/plain`` line saying what the widget is. So wherever no widget
can be drawn -- a notebook opened untrusted or before it runs, the PDF,
nbval, a viewer without JavaScript -- a figure shows instead of the
widget's Python repr. In the HTML book the live widgets show only that
figure (tools/book_widgets.py drops their view: its sliders could not
recompute), the static ones stay sliders.

:func:`radius_figure` is the Chapter 1 figure both kinds show; later chapters
add their gate inspectors the same way. ipywidgets is imported here only.
"""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from typing import Sequence

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure
from PIL import Image as PILImage

from rnnlib.experiments.radius import RadiusExperiment, radius_sweep, states_for_radius
from rnnlib.figures.plots import figure_to_png, plot_gradient_norms, plot_reference_power
from rnnlib.figures.style import LINE_COLORS

RADIUS_YLIM = (1e-20, 1e20)
#: Resolution of the static fallback image of a live widget.
FALLBACK_DPI = 80


# ---------------------------------------------------------------------------
# Static fallback and compressed frames
# ---------------------------------------------------------------------------
def compress_png(png: bytes, colors=256) -> bytes:
    """The same picture as an optimised palette PNG (``colors`` colours, no dithering).

    Matplotlib writes 32-bit RGBA; the book's figures (lines, text, colour maps
    of at most 256 entries) fit a palette without visible change, at about a
    third of the size. Deterministic: same bytes in, same bytes out.
    """
    if not bytes(png[:8]) == b"\x89PNG\r\n\x1a\n":
        raise ValueError("png must be PNG bytes")
    if not 2 <= int(colors) <= 256:
        raise ValueError(f"colors must be in [2, 256]; got {colors}")
    with PILImage.open(io.BytesIO(png)) as img:
        img = img.convert("RGB").quantize(colors=int(colors), method=PILImage.Quantize.MEDIANCUT,
                                          dither=PILImage.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


class StaticFallback:
    """Mixin for a widget: its display bundle also carries a figure and a plain-text line.

    ``_repr_mimebundle_`` returns the widget view (what Jupyter draws with a
    kernel or saved widget state) plus ``image/png`` (:attr:`fallback_png`) and a
    ``text/plain`` description (:attr:`fallback_text`). Front ends that cannot
    draw the widget pick the image; the text is what a text-only reader sees.
    """

    fallback_png: bytes = b""
    fallback_text: str = ""

    def set_fallback(self, png: bytes, text: str):
        """Set the image (PNG bytes) and the one-line description shown without a widget."""
        if not bytes(png[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("the fallback image must be PNG bytes")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the fallback text must be a non-empty str; got {text!r}")
        self.fallback_png, self.fallback_text = bytes(png), text

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs) or {}  # the widget view
        if self.fallback_png:
            data["image/png"] = base64.b64encode(self.fallback_png).decode("ascii")
        if self.fallback_text:
            data["text/plain"] = self.fallback_text
        return data


class LiveFigure(StaticFallback, ipywidgets.VBox):
    """A VBox of controls over an Output that a Python callback redraws, with a static fallback.

    Returned by the live widgets (:func:`radius_explorer`,
    :func:`rnnlib.figures.inspector.gate_inspector`). Its fallback image is the
    figure for the starting values; its text says that the controls need a
    running kernel.
    """


def live_text(what: str) -> str:
    """The ``text/plain`` of a live widget: what it shows, and that it needs a kernel."""
    return (f"{what} (live widget: its controls recompute the figure when the notebook "
            "runs in Jupyter; shown here for the starting values)")


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
    LiveFigure
        A VBox; children: the radius slider, the input-scale slider, the Output.
        Its static fallback is the starting figure.
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
    fig = show_radius_figure(out, rho, input_scale, config)
    box = LiveFigure([rho_slider, scale_slider, out])
    box.set_fallback(compress_png(figure_to_png(fig, dpi=FALLBACK_DPI)),
                     live_text(f"Gradient norm against the lag for spectral radius {rho:.2f} and "
                               f"inputs of std {input_scale:g}"))
    return box


# ---------------------------------------------------------------------------
# Generic static slider (works in the HTML book without a kernel)
# ---------------------------------------------------------------------------
def _as_png(frame, dpi) -> bytes:
    """A frame as compressed PNG bytes (:func:`compress_png`)."""
    if isinstance(frame, (bytes, bytearray)):
        if not bytes(frame[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("a frame given as bytes must be a PNG image")
        return compress_png(bytes(frame))
    if isinstance(frame, Figure):
        return compress_png(figure_to_png(frame, dpi=dpi, close=True))
    raise TypeError(f"each frame must be a matplotlib Figure or PNG bytes; got {type(frame).__name__}")


class FrameSlider(StaticFallback, ipywidgets.VBox):
    """A slider over pre-rendered images, linked in the browser (no kernel needed).

    Its static fallback (:class:`StaticFallback`) is the frame at ``index``.

    Parameters
    ----------
    frames : sequence of matplotlib Figure or PNG bytes
        One image per slider position; figures are rendered and closed, and
        every frame is stored as a palette PNG (:func:`compress_png`).
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
        name = f" for {description}" if description else ""
        self.set_fallback(images[index].value,
                          f"Slider over {len(frames)} pre-rendered figures{name} "
                          f"({', '.join(labels)}); shown: {labels[index]}")


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


__all__ = ["compress_png", "StaticFallback", "LiveFigure", "live_text", "FALLBACK_DPI", "draw_radius_panel", "radius_figure", "show_radius_figure", "radius_explorer",
           "FrameSlider", "static_slider", "radius_static_slider"]
