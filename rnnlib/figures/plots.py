r"""Plot helpers: each draws on a matplotlib ``ax`` it is given, in the book's palette.

The helpers never create figures or call ``plt.show()``; the notebook (or
:mod:`rnnlib.figures.widgets`) owns the figure, so the same helper serves a static
figure, one panel of a grid, a frame of a static slider and a live widget.
Colours come from :mod:`rnnlib.figures.style`.

* :func:`plot_gradient_norms` - one curve of a norm against the lag, log scale;
* :func:`plot_gradient_norm_family` - several such curves (one per radius, gate, model);
* :func:`plot_reference_power` - the guide :math:`\rho^k` of the linear regime;
* :func:`plot_states` - a heatmap of a quantity over time (states, gates);
* :func:`figure_to_png` - a figure as PNG bytes (for :mod:`rnnlib.figures.widgets`).

matplotlib is imported here only, never by the numeric core.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rnnlib.figures.style import LINE_COLORS, NEUTRAL, SYMBOL_LABELS, symbol_color

GRAD_NORM_LABEL = r"$\Vert \partial h_T / \partial h_{T-k} \Vert_2$"


def _style_log_axes(ax, xlabel, ylabel):
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", color="#DDDDDD", linewidth=0.6)
    ax.axhline(1.0, color=NEUTRAL, linewidth=0.8, linestyle=":")


def plot_gradient_norms(ax, lags, norms, *, label=None, color=None, symbol="h",
                        xlabel="lag $k = T - t$", ylabel=GRAD_NORM_LABEL, **line_kw):
    r"""Draw one curve of a gradient norm against the lag, log y-axis.

    Parameters
    ----------
    ax : matplotlib Axes
    lags : array (K,)
        The lags :math:`k` (x axis).
    norms : array (K,)
        The norm at each lag (y axis), e.g. from
        :func:`rnnlib.experiments.radius.jacobian_product_norms`.
    label : str, optional
        Legend entry.
    color : str, optional
        Line colour; by default the colour of ``symbol``.
    symbol : str
        Key of :data:`rnnlib.figures.style.GATE_COLORS` whose gradient this is.
    xlabel, ylabel : str
    **line_kw
        Passed to ``ax.plot`` (``linestyle``, ``linewidth``, ...).

    Returns
    -------
    line : matplotlib Line2D
    """
    lags, norms = np.asarray(lags), np.asarray(norms)
    if lags.shape != norms.shape or lags.ndim != 1:
        raise ValueError(f"lags and norms must be 1-D of the same length; got {lags.shape} and {norms.shape}")
    color = symbol_color(symbol) if color is None else color
    (line,) = ax.plot(lags, norms, color=color, label=label, **{"linewidth": 1.8, **line_kw})
    _style_log_axes(ax, xlabel, ylabel)
    return line


def plot_gradient_norm_family(ax, lags, norms, labels, *, colors=None, legend_title=None,
                              highlight=None, legend=True, **kw):
    """Draw several gradient-norm curves (one per row of ``norms``) with a legend.

    Parameters
    ----------
    ax : matplotlib Axes
    lags : array (K,)
    norms : array (M, K)
        One curve per row.
    labels : sequence of M str
    colors : sequence of M str, optional
        Default: :data:`rnnlib.figures.style.LINE_COLORS` in order.
    legend_title : str, optional
    highlight : int, optional
        Index of a curve to draw bold; the others are drawn faint.
    legend : bool
        Draw the legend (turn off for all but one panel of a shared figure).
    **kw
        Passed to :func:`plot_gradient_norms` (``xlabel``, ``ylabel``, ...).

    Returns
    -------
    lines : list of Line2D
    """
    norms = np.atleast_2d(np.asarray(norms))
    if len(labels) != norms.shape[0]:
        raise ValueError(f"need one label per curve: {norms.shape[0]} curves, {len(labels)} labels")
    if colors is None:
        if norms.shape[0] > len(LINE_COLORS):
            raise ValueError(f"at most {len(LINE_COLORS)} curves with the default colours; pass colors=")
        colors = LINE_COLORS[: norms.shape[0]]
    lines = []
    for m, (row, label, color) in enumerate(zip(norms, labels, colors)):
        style = {}
        if highlight is not None:
            style = {"linewidth": 2.6, "alpha": 1.0} if m == highlight else {"linewidth": 1.0, "alpha": 0.35}
        lines.append(plot_gradient_norms(ax, lags, row, label=label, color=color, **style, **kw))
    if legend:
        ax.legend(title=legend_title, fontsize="small", title_fontsize="small", frameon=False)
    return lines


def plot_reference_power(ax, lags, rho, *, label=None, **line_kw):
    r"""Draw the guide :math:`\rho^k` (dashed, neutral grey): the norm of :math:`W^k` up to a constant."""
    lags = np.asarray(lags, dtype=np.float64)
    label = rf"$\rho^k$, $\rho$ = {rho:g}" if label is None else label
    (line,) = ax.plot(lags, float(rho) ** lags, color=NEUTRAL,
                      **{"linestyle": "--", "linewidth": 1.0, "label": label, **line_kw})
    return line


def plot_states(ax, values, name, *, vmin=None, vmax=None, cmap=None, colorbar=True, title=None):
    """Heatmap of a quantity over time: time on the x axis, units on the y axis.

    Parameters
    ----------
    ax : matplotlib Axes
    values : array (T, H)
        E.g. the hidden states of one sequence, or a gate's values.
    name : str
        Its symbol (a key of :data:`rnnlib.figures.style.GATE_COLORS`): sets the
        colour of the frame and the title.
    vmin, vmax : float, optional
        Colour limits. Default: [-1, 1] with a diverging map if any value is
        negative (tanh outputs), else [0, 1] with ``cividis`` (gates).
    cmap : str, optional
        Both defaults are readable with colour-blindness (``RdBu_r``, ``cividis``).
    colorbar : bool
    title : str, optional
        Default: the symbol's label, e.g. ``$h_t$``.

    Returns
    -------
    image : matplotlib AxesImage
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (T, H); got {values.shape}")
    color = symbol_color(name)
    signed = bool(np.any(values < 0))
    if vmin is None:
        vmin = -1.0 if signed else 0.0
    if vmax is None:
        vmax = 1.0
    if cmap is None:
        cmap = "RdBu_r" if signed else "cividis"
    T, H = values.shape
    image = ax.imshow(values.T, aspect="auto", origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest", extent=(0.5, T + 0.5, -0.5, H - 0.5))
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("unit")
    ax.set_title(SYMBOL_LABELS.get(name, name) if title is None else title, color=color)
    for spine in ax.spines.values():
        spine.set_edgecolor(color)
        spine.set_linewidth(2.0)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    return image


def figure_to_png(fig, *, dpi=80, close=True) -> bytes:
    """Render a matplotlib figure to PNG bytes (and close it, by default).

    Deterministic for a given figure: no timestamp or software tag is written.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if close:
        plt.close(fig)
    return buf.getvalue()


def _drawn_texts(fig):
    """The non-empty Text artists ``fig`` draws: titles, axis labels, tick labels within the view, texts."""
    texts = [fig._suptitle, *fig.texts]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo - eps <= tick.get_loc() <= hi + eps:
                    texts += [tick.label1, tick.label2]
    unique = {id(t): t for t in texts if t is not None}  # the suptitle is also in fig.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def text_overlaps(fig, *, tolerance=0.5):
    """Pairs of texts of ``fig`` whose boxes overlap by more than ``tolerance`` pixels each way.

    Draws the figure at its own dpi and compares the window extents of every drawn
    text (titles, axis and tick labels within the view, colorbar ticks, legends,
    free texts).

    Returns
    -------
    list of (str, str)
        The overlapping texts, in drawing order; empty when nothing overlaps.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    found = []
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1:]:
            if (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
                    and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance):
                found.append((text_a, text_b))
    return found
