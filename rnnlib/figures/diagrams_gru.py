r"""The GRU cell diagram of Chapter 3, built from the primitives of :mod:`rnnlib.figures.diagrams`.

:func:`draw_gru_cell` draws one GRU step in either form. The state runs along
the top, from :math:`h_{t-1}` on the left to :math:`h_t` on the right; on its
way it is scaled by the update gate (:math:`z_t \odot h_{t-1}`) and receives
:math:`(1 - z_t) \odot \tilde h_t`. Below, the two gates and the candidate read
the input and the previous state. The only part that differs between the
forms is where the reset gate acts:

* reset after (``reset_after=True``): on :math:`h_{t-1} W_{hh} + b_{hn}`,
  the output of the recurrent product;
* reset before (``reset_after=False``): on :math:`h_{t-1}` itself, before the
  product with :math:`W_{hh}`.

Every line has the colour of the quantity it carries (:mod:`rnnlib.figures.style`):
the state blue, the input sky blue, z orange, r reddish purple, the candidate
vermillion.
"""

from __future__ import annotations

import matplotlib.patheffects as pe
from matplotlib.patches import FancyBboxPatch

from rnnlib.figures.diagrams import arrow, box, label, op_node, setup_axes
from rnnlib.figures.style import NEUTRAL, lighten, symbol_color

_LW = 1.6


def _line(ax, points, color, *, over=False):
    """A polyline through ``points`` (no arrow head); ``over`` draws a white halo to cross other lines."""
    xs, ys = zip(*points)
    kw = {"path_effects": [pe.Stroke(linewidth=6, foreground="white"), pe.Normal()]} if over else {}
    ax.plot(xs, ys, color=color, linewidth=_LW, solid_capstyle="round", zorder=1.5 if over else 1, **kw)


def _dot(ax, xy, color):
    """A junction where a line splits."""
    ax.plot([xy[0]], [xy[1]], "o", color=color, markersize=4.5, zorder=3)


def draw_gru_cell(ax, reset_after=True):
    r"""Draw one GRU step on ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    reset_after : bool
        Draw the reset-after form (PyTorch, cuDNN, Keras ``reset_after=True``)
        or the reset-before form (Cho et al. 2014 v3, d2l).

    Returns
    -------
    dict of Box
        ``h_prev``, ``x``, ``h`` (the boxes outside the cell), ``z``, ``r``,
        ``h_tilde`` (the two gates and the candidate) and the operation nodes
        ``keep`` (:math:`z \odot h_{t-1}`), ``one_minus`` (:math:`1 - z`),
        ``write`` (:math:`(1 - z) \odot \tilde h`), ``plus``, ``reset``.
    """
    cz, cr, ch, cx, chh = (symbol_color(s) for s in ("z", "r", "h_tilde", "x", "h"))
    setup_axes(ax, (-2.3, 14.3), (-2.1, 7.0))
    ax.add_patch(FancyBboxPatch((0.0, 0.0), 12.0, 6.4, boxstyle="round,pad=0.05,rounding_size=0.3",
                                facecolor=lighten(NEUTRAL, 0.93), edgecolor=NEUTRAL, linewidth=1.2, zorder=0))
    y_top, y_z, y_hline, y_gate, y_h, y_x = 5.6, 4.6, 3.7, 2.4, 0.75, 1.2
    x_split, x_z, x_r, x_reset, x_keep, x_minus, x_write = 0.6, 2.3, 4.2, 6.6, 8.0, 9.0, 10.2
    b = {}
    b["h_prev"] = box(ax, (-1.35, y_top), r"$h_{t-1}$", symbol="h", width=1.4)
    b["h"] = box(ax, (13.3, y_top), r"$h_t$", symbol="h", width=1.2)
    b["x"] = box(ax, (1.5, -1.35), r"$x_t$", symbol="x", width=1.2)

    # -- the top line: h_{t-1} -> (z ⊙ .) -> (+) -> h_t
    b["keep"] = op_node(ax, (x_keep, y_top), r"$\odot$", radius=0.27)
    b["plus"] = op_node(ax, (x_write, y_top), "+", radius=0.27)
    _line(ax, [b["h_prev"].right, (x_split, y_top)], chh)
    arrow(ax, (x_split, y_top), b["keep"].left, color=chh)
    arrow(ax, b["keep"].right, b["plus"].left, color=chh)
    arrow(ax, b["plus"].right, b["h"].left, color=chh)
    _dot(ax, (x_split, y_top), chh)

    # -- h_{t-1} and x_t run along the bottom and feed both gates and the candidate
    _line(ax, [(x_split, y_top), (x_split, y_h), (x_r, y_h)], chh)
    _line(ax, [b["x"].top, (b["x"].cx, y_x)], cx, over=True)  # crosses the h_{t-1} line
    _line(ax, [(b["x"].cx, y_x), (x_write + 0.25, y_x)], cx)
    label(ax, (3.25, y_h - 0.32), r"$h_{t-1}$", color=chh, fontsize=11)
    label(ax, (5.4, y_x + 0.32), r"$x_t$", color=cx, fontsize=11)
    b["z"] = box(ax, (x_z, y_gate), r"$\sigma$", symbol="z", width=0.9, height=0.7)
    b["r"] = box(ax, (x_r, y_gate), r"$\sigma$", symbol="r", width=0.9, height=0.7)
    b["h_tilde"] = box(ax, (x_write, y_gate), r"$\tanh$", symbol="h_tilde", width=1.2, height=0.7)
    for gx in (x_z, x_r):
        _dot(ax, (gx, y_h), chh)
        _dot(ax, (gx, y_x), cx)
        _line(ax, [(gx, y_h), (gx, y_x)], NEUTRAL, over=True)
        arrow(ax, (gx, y_x), (gx, y_gate - 0.35), color=NEUTRAL)
    # the candidate: x_t through W_xh from below
    arrow(ax, (x_write + 0.25, y_x), (x_write + 0.25, y_gate - 0.35), color=cx,
          text=r"$W_{xh}$", text_offset=(0.55, 0.0), fontsize=11)

    # -- update gate: z scales the old state, 1 - z scales the candidate
    b["one_minus"] = op_node(ax, (x_minus, y_z), r"$1\!-$", radius=0.3, fontsize=11)
    b["write"] = op_node(ax, (x_write, y_z), r"$\odot$", radius=0.27)
    _line(ax, [b["z"].top, (x_z, y_z), (x_keep, y_z)], cz, over=True)
    label(ax, (x_z + 0.85, y_z + 0.3), r"$z_t$", color=cz, fontsize=14)
    arrow(ax, (x_keep, y_z), b["keep"].bottom, color=cz)
    _dot(ax, (x_keep, y_z), cz)
    arrow(ax, (x_keep, y_z), b["one_minus"].left, color=cz)
    arrow(ax, b["one_minus"].right, b["write"].left, color=cz)
    arrow(ax, b["write"].top, b["plus"].bottom, color=ch)
    arrow(ax, b["h_tilde"].top, b["write"].bottom, color=ch)
    label(ax, (x_write + 0.45, (y_gate + y_z) / 2), r"$\tilde h_t$", color=ch, fontsize=14)

    # -- reset gate: where it meets the recurrent product is the difference between the forms
    b["reset"] = op_node(ax, (x_reset, y_gate), r"$\odot$", radius=0.27)
    arrow(ax, b["r"].right, b["reset"].left, color=cr)
    label(ax, ((x_r + x_reset) / 2, y_gate + 0.32), r"$r_t$", color=cr, fontsize=14)
    _line(ax, [(x_split, y_hline), (x_reset, y_hline)], chh)
    _line(ax, [(x_z, y_hline - 0.001), (x_z, y_hline + 0.001)], cz, over=True)  # z passes over this line
    _dot(ax, (x_split, y_hline), chh)
    if reset_after:  # r ⊙ (h_{t-1} W_hh + b_hn): the product first
        arrow(ax, (x_reset, y_hline), b["reset"].top, color=chh)
        label(ax, (x_reset - 1.6, y_hline + 0.32), r"$h_{t-1} W_{hh} + b_{hn}$", color=chh, fontsize=11)
        arrow(ax, b["reset"].right, b["h_tilde"].left, color=NEUTRAL)
    else:  # (r ⊙ h_{t-1}) W_hh: the reset first
        arrow(ax, (x_reset, y_hline), b["reset"].top, color=chh)
        label(ax, (x_reset - 1.0, y_hline + 0.32), r"$h_{t-1}$", color=chh, fontsize=11)
        arrow(ax, b["reset"].right, b["h_tilde"].left, color=NEUTRAL, text=r"$W_{hh}$",
              text_offset=(-0.1, 0.32), fontsize=11)
    label(ax, ((x_reset + x_write) / 2 - 0.2, y_gate - 0.45), r"$+\, x_t W_{xh} + b_h$", fontsize=10)
    title = ("reset after the product (PyTorch, cuDNN, Keras)" if reset_after
             else "reset before the product (Cho et al. 2014, d2l)")
    label(ax, (6.0, 6.8), title, fontsize=12, color="black")
    return b


__all__ = ["draw_gru_cell"]
