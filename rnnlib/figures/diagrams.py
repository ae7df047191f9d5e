r"""Network diagrams drawn with matplotlib on a given ``ax``, in the book's palette.

Small primitives, from which every cell diagram of the book is assembled:

* :func:`setup_axes` - blank canvas with equal aspect and given limits;
* :func:`box` - a rounded box for a quantity (``x_t``, ``h_t``, a gate ...),
  filled with a light tint of its symbol's colour; returns a :class:`Box`
  whose ``top``/``bottom``/``left``/``right`` points anchor arrows;
* :func:`arrow` - a (possibly curved) arrow with an optional weight label;
* :func:`loop_arrow` - a self-loop on the side of a box (the recurrence);
* :func:`op_node` - a small circle holding an operation (``+``, ``⊙``, ``σ``),
  for the LSTM and GRU cells of later chapters;
* :func:`label` - free text.

Composites for Chapter 1: :func:`draw_rnn_compressed` (the network with its
recurrent loop) and :func:`draw_rnn_unfolded` (the same network unrolled over
time, the same weights at every step). Later chapters add their cells here
from the same primitives.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from rnnlib.figures.style import NEUTRAL, lighten, symbol_color


@dataclass(frozen=True)
class Box:
    """Where a drawn box sits: centre ``(cx, cy)``, ``width``, ``height``."""

    cx: float
    cy: float
    width: float
    height: float

    @property
    def top(self):
        return (self.cx, self.cy + self.height / 2)

    @property
    def bottom(self):
        return (self.cx, self.cy - self.height / 2)

    @property
    def left(self):
        return (self.cx - self.width / 2, self.cy)

    @property
    def right(self):
        return (self.cx + self.width / 2, self.cy)


def setup_axes(ax, xlim, ylim):
    """Prepare ``ax`` as a blank drawing canvas: limits, equal aspect, no axes."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def label(ax, xy, text, *, color="black", fontsize=12, **kw):
    """Write ``text`` (mathtext allowed) centred at ``xy``; returns the Text."""
    return ax.text(xy[0], xy[1], text, color=color, fontsize=fontsize,
                   ha=kw.pop("ha", "center"), va=kw.pop("va", "center"), **kw)


def box(ax, center, text, *, symbol=None, color=None, width=1.0, height=0.6, fontsize=14):
    """Draw a rounded box labelled ``text`` at ``center``.

    Parameters
    ----------
    ax : matplotlib Axes
    center : (float, float)
    text : str
        E.g. ``"$h_t$"``.
    symbol : str, optional
        Key of :data:`rnnlib.figures.style.GATE_COLORS`; sets the colour.
    color : str, optional
        Explicit colour (overrides ``symbol``); default neutral grey.
    width, height : float
    fontsize : float

    Returns
    -------
    Box
    """
    if color is None:
        color = symbol_color(symbol) if symbol is not None else NEUTRAL
    cx, cy = center
    patch = FancyBboxPatch((cx - width / 2, cy - height / 2), width, height,
                           boxstyle="round,pad=0.02,rounding_size=0.12",
                           facecolor=lighten(color, 0.55), edgecolor=color, linewidth=2.0, zorder=2)
    ax.add_patch(patch)
    label(ax, center, text, fontsize=fontsize, zorder=3)
    return Box(cx, cy, width, height)


def arrow(ax, start, end, *, text=None, color=NEUTRAL, text_offset=(0.0, 0.0), curve=0.0,
          fontsize=12, text_color="black"):
    """Draw an arrow from ``start`` to ``end``, optionally labelled at its midpoint.

    Parameters
    ----------
    ax : matplotlib Axes
    start, end : (float, float)
    text : str, optional
        Label, e.g. a weight ``"$W_{xh}$"``.
    color : str
    text_offset : (float, float)
        Shift of the label from the midpoint.
    curve : float
        Curvature (``arc3`` radius); 0 is straight.
    fontsize : float
    text_color : str

    Returns
    -------
    FancyArrowPatch
    """
    patch = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=color,
                            linewidth=1.6, connectionstyle=f"arc3,rad={curve}", zorder=1,
                            shrinkA=0, shrinkB=0)
    ax.add_patch(patch)
    if text is not None:
        mx = (start[0] + end[0]) / 2 + text_offset[0]
        my = (start[1] + end[1]) / 2 + text_offset[1]
        label(ax, (mx, my), text, color=text_color, fontsize=fontsize)
    return patch


def loop_arrow(ax, b: Box, *, text=None, side="right", color=NEUTRAL, size=0.6, fontsize=12):
    """A self-loop leaving and re-entering box ``b`` on one ``side`` ("right" or "left").

    Drawn as a cubic Bezier curve in data coordinates, so it scales with the box.
    """
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left'; got {side!r}")
    sgn = 1.0 if side == "right" else -1.0
    x0 = b.cx + sgn * b.width / 2
    dy = b.height / 4
    path = Path([(x0, b.cy + dy), (x0 + sgn * size * 1.3, b.cy + 3 * dy),
                 (x0 + sgn * size * 1.3, b.cy - 3 * dy), (x0, b.cy - dy)],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    patch = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=14, color=color,
                            linewidth=1.6, zorder=1)
    ax.add_patch(patch)
    if text is not None:
        label(ax, (x0 + sgn * (size + 0.3), b.cy), text, fontsize=fontsize)
    return patch


def op_node(ax, center, text, *, radius=0.18, color=NEUTRAL, fontsize=12):
    """A small circle holding an operation symbol (``"+"``, ``r"$\\odot$"``, ``r"$\\sigma$"``)."""
    ax.add_patch(Circle(center, radius, facecolor="white", edgecolor=color, linewidth=1.5, zorder=2))
    label(ax, center, text, fontsize=fontsize, zorder=3)
    return Box(center[0], center[1], 2 * radius, 2 * radius)


def _rnn_column(ax, cx, t, *, dy=1.5, weight_labels=True):
    """x, h and y boxes of one time step at x-position ``cx``; returns the three Boxes."""
    bx = box(ax, (cx, 0.0), f"$x_{{{t}}}$", symbol="x")
    bh = box(ax, (cx, dy), f"$h_{{{t}}}$", symbol="h")
    by = box(ax, (cx, 2 * dy), f"$y_{{{t}}}$", symbol="y")
    arrow(ax, bx.top, bh.bottom, text="$W_{xh}$" if weight_labels else None, text_offset=(0.38, 0.0))
    arrow(ax, bh.top, by.bottom, text="$W_{hy}$" if weight_labels else None, text_offset=(0.38, 0.0))
    return bx, bh, by


def draw_rnn_compressed(ax):
    """The simple RNN drawn compactly: ``x_t -> h_t -> y_t`` and a loop ``W_hh`` on ``h_t``.

    Returns
    -------
    dict of Box
        ``{"x": ..., "h": ..., "y": ...}``.
    """
    setup_axes(ax, (-1.3, 2.4), (-0.6, 3.6))
    bx, bh, by = _rnn_column(ax, 0.0, "t")
    loop_arrow(ax, bh, text="$W_{hh}$", side="right")
    return {"x": bx, "h": bh, "y": by}


def draw_rnn_unfolded(ax, times=("t-1", "t", "t+1"), *, spacing=2.2):
    """The simple RNN unrolled over ``times``: one column per step, ``W_hh`` links the states.

    Parameters
    ----------
    ax : matplotlib Axes
    times : sequence of str
        The time index written in each column.
    spacing : float
        Horizontal distance between columns.

    Returns
    -------
    list of dict of Box
        One ``{"x", "h", "y"}`` dict per column.
    """
    n = len(times)
    if n < 1:
        raise ValueError("times must name at least one step")
    width = spacing * (n - 1)
    setup_axes(ax, (-1.6, width + 1.6), (-0.6, 3.6))
    columns = []
    for k, t in enumerate(times):
        bx, bh, by = _rnn_column(ax, k * spacing, t)
        columns.append({"x": bx, "h": bh, "y": by})
    for left, right in zip(columns[:-1], columns[1:]):
        arrow(ax, left["h"].right, right["h"].left, text="$W_{hh}$", text_offset=(0.0, 0.25))
    # the state arrives from the step before the first and leaves after the last
    first, last = columns[0]["h"], columns[-1]["h"]
    arrow(ax, (first.left[0] - 0.9, first.cy), first.left)
    label(ax, (first.left[0] - 1.15, first.cy), r"$\cdots$")
    arrow(ax, last.right, (last.right[0] + 0.9, last.cy))
    label(ax, (last.right[0] + 1.15, last.cy), r"$\cdots$")
    return columns
