r"""The LSTM cell drawn from the primitives of :mod:`rnnlib.figures.diagrams`, in the book's palette.

:func:`draw_lstm_cell` draws one cell: the cell state :math:`C` runs straight across
the top (one multiplication by :math:`f_t`, one addition), the four gate boxes sit
below it, fed by :math:`h_{t-1}` and :math:`x_t`, and the output path on the right
turns :math:`C_t` into :math:`h_t = o_t \odot \tanh(C_t)`. Every gate box, and the
arrow that leaves it, has its symbol's colour (:data:`rnnlib.figures.style.GATE_COLORS`).
"""

from __future__ import annotations

from matplotlib.patches import FancyBboxPatch

from rnnlib.figures.diagrams import arrow, box, label, op_node, setup_axes
from rnnlib.figures.style import NEUTRAL, SYMBOL_LABELS, symbol_color

#: Colour of the equations beside the cell: near black (contrast 16:1 on white).
LEGEND_TEXT = "#222222"

# x positions of the four gates and of the output path
_X_F, _X_I, _X_C, _X_O, _X_OUT = 2.0, 3.7, 5.2, 7.0, 8.6
_Y_CELL, _Y_PROD, _Y_GATE, _Y_BUS = 5.0, 3.9, 2.6, 0.9


def _line(ax, points, color=NEUTRAL, linewidth=1.6):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, linewidth=linewidth, solid_capstyle="round", zorder=1)


def draw_lstm_cell(ax, *, show_equations=False):
    r"""Draw one LSTM cell on ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    show_equations : bool
        Also write the six equations to the right of the cell.

    Returns
    -------
    dict of Box
        Inputs ``x``, ``h_prev``, ``c_prev``; outputs ``c``, ``h`` (to the next step)
        and ``h_out`` (to the layer above); gates ``f``, ``i``, ``o``, ``c_tilde``;
        operations ``forget`` (:math:`\odot f_t`), ``add`` (+), ``write``
        (:math:`i_t \odot \tilde C_t`), ``tanh`` and ``read`` (:math:`o_t \odot`).

    Notes
    -----
    .. math::
        C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t ,\qquad h_t = o_t \odot \tanh(C_t),

    with :math:`f_t, i_t, o_t = \sigma(\cdot)` and :math:`\tilde C_t = \tanh(\cdot)` of
    :math:`x_t W_{x\ast} + h_{t-1} W_{h\ast} + b_\ast`.
    """
    right = 14.6 if show_equations else 10.9
    setup_axes(ax, (-1.9, right), (-1.2, 6.9))
    black = symbol_color("c")
    # the cell's outline
    ax.add_patch(FancyBboxPatch(
        (0.4, 0.2), 9.4, 5.5, boxstyle="round,pad=0.05,rounding_size=0.4",
        facecolor="#F4F4F4", edgecolor="#BBBBBB", linewidth=1.2, zorder=0))
    boxes = {}
    # inputs and outputs
    boxes["c_prev"] = box(ax, (-1.0, _Y_CELL), "$C_{t-1}$", symbol="c", width=1.2)
    boxes["h_prev"] = box(ax, (-1.0, _Y_BUS), "$h_{t-1}$", symbol="h", width=1.2)
    boxes["x"] = box(ax, (1.0, -0.6), "$x_t$", symbol="x", width=0.9)
    boxes["c"] = box(ax, (10.3, _Y_CELL), "$C_t$", symbol="c", width=0.9)
    boxes["h"] = box(ax, (10.3, _Y_BUS), "$h_t$", symbol="h", width=0.9)
    boxes["h_out"] = box(ax, (9.4, 6.4), "$h_t$", symbol="h", width=0.9)

    # the cell state: straight across, the constant error carousel
    boxes["forget"] = op_node(ax, (_X_F, _Y_CELL), r"$\times$", color=symbol_color("f"))
    boxes["add"] = op_node(ax, (_X_C, _Y_CELL), "+", color=black)
    arrow(ax, boxes["c_prev"].right, boxes["forget"].left, color=black)
    arrow(ax, boxes["forget"].right, boxes["add"].left, color=black)
    arrow(ax, boxes["add"].right, boxes["c"].left, color=black)
    label(ax, (3.1, _Y_CELL + 0.35), r"$f_t \odot C_{t-1}$", fontsize=10, color=black)

    # the input bus: h_{t-1} and x_t feed every gate
    _line(ax, [boxes["h_prev"].right, (_X_O, _Y_BUS)])
    _line(ax, [boxes["x"].top, (1.0, _Y_BUS)])
    label(ax, (1.55, _Y_BUS - 0.3), r"$[h_{t-1}, x_t]$", fontsize=9, color=NEUTRAL)

    gates = (("f", _X_F, r"$\sigma$"), ("i", _X_I, r"$\sigma$"), ("c_tilde", _X_C, r"$\tanh$"),
             ("o", _X_O, r"$\sigma$"))
    for name, gx, text in gates:
        b = box(ax, (gx, _Y_GATE), text, symbol=name, width=0.95, height=0.62, fontsize=13)
        boxes[name] = b
        arrow(ax, (gx, _Y_BUS), b.bottom)
        label(ax, (gx + 0.42, _Y_GATE + 0.62), SYMBOL_LABELS[name], color=symbol_color(name), fontsize=12)

    # forget: f_t multiplies the old cell state
    arrow(ax, boxes["f"].top, boxes["forget"].bottom, color=symbol_color("f"))
    # write: i_t * C~_t is added to the cell state
    boxes["write"] = op_node(ax, (_X_C, _Y_PROD), r"$\times$", color=symbol_color("i"))
    arrow(ax, boxes["c_tilde"].top, boxes["write"].bottom, color=symbol_color("c_tilde"))
    arrow(ax, boxes["i"].top, boxes["write"].left, color=symbol_color("i"), curve=-0.35)
    arrow(ax, boxes["write"].top, boxes["add"].bottom, color=symbol_color("i"))
    # read: h_t = o_t * tanh(C_t)
    boxes["tanh"] = op_node(ax, (_X_OUT, _Y_PROD), r"$\tanh$", radius=0.36, fontsize=8, color=black)
    boxes["read"] = op_node(ax, (_X_OUT, _Y_GATE), r"$\times$", color=symbol_color("o"))
    _line(ax, [(_X_OUT, _Y_CELL), boxes["tanh"].top], color=black)
    ax.plot([_X_OUT], [_Y_CELL], "o", color=black, markersize=4, zorder=3)
    arrow(ax, boxes["tanh"].bottom, boxes["read"].top, color=black)
    arrow(ax, boxes["o"].right, boxes["read"].left, color=symbol_color("o"))
    _line(ax, [boxes["read"].bottom, (_X_OUT, _Y_BUS)], color=symbol_color("h"))
    arrow(ax, (_X_OUT, _Y_BUS), boxes["h"].left, color=symbol_color("h"))
    ax.plot([_X_OUT], [_Y_BUS], "o", color=symbol_color("h"), markersize=4, zorder=3)
    _line(ax, [(_X_OUT, _Y_BUS), (9.4, _Y_BUS)], color=symbol_color("h"))
    arrow(ax, (9.4, _Y_BUS), boxes["h_out"].bottom, color=symbol_color("h"))

    if show_equations:
        eqs = [(r"$f_t = \sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f)$", "f"),
               (r"$i_t = \sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i)$", "i"),
               (r"$\tilde C_t = \tanh(x_t W_{xc} + h_{t-1} W_{hc} + b_c)$", "c_tilde"),
               (r"$o_t = \sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o)$", "o"),
               (r"$C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t$", "c"),
               (r"$h_t = o_t \odot \tanh(C_t)$", "h")]
        # dark text (yellow or pink text on white is hard to read), each line keyed by
        # a swatch in its symbol's colour
        for k, (text, name) in enumerate(eqs):
            y = 5.6 - 0.95 * k
            ax.plot([11.0], [y], "s", color=symbol_color(name), markersize=9, markeredgecolor=LEGEND_TEXT,
                    markeredgewidth=0.5, zorder=3)
            label(ax, (11.3, y), text, color=LEGEND_TEXT, fontsize=10, ha="left")
    return boxes


__all__ = ["draw_lstm_cell"]
