"""Tests for rnnlib.figures.diagrams_lstm: the LSTM cell diagram in the book's palette."""

from matplotlib.colors import to_hex
from matplotlib.patches import Circle

from rnnlib.figures.diagrams_lstm import draw_lstm_cell
from rnnlib.figures.style import lighten, symbol_color


def test_every_gate_and_state_box_has_its_palette_colour(ax, box_patch):
    boxes = draw_lstm_cell(ax)
    for name, symbol in [("f", "f"), ("i", "i"), ("o", "o"), ("c_tilde", "c_tilde"), ("c_prev", "c"), ("c", "c"),
                         ("h_prev", "h"), ("h", "h"), ("h_out", "h"), ("x", "x")]:
        patch = box_patch(ax, boxes[name])
        assert to_hex(patch.get_edgecolor()).upper() == symbol_color(symbol).upper(), name
        assert to_hex(patch.get_facecolor()).upper() == lighten(symbol_color(symbol), 0.55).upper(), name


def test_the_cell_has_its_operations_and_labels(ax):
    boxes = draw_lstm_cell(ax)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 5  # forget x, add +, write x, tanh, read x
    assert {"forget", "add", "write", "tanh", "read"} <= set(boxes)
    assert to_hex(circles[0].get_edgecolor()).upper() == symbol_color("f").upper()  # C_{t-1} * f_t
    texts = {t.get_text() for t in ax.texts}
    for s in ("$f_t$", "$i_t$", "$o_t$", r"$\tilde C_t$", "$C_{t-1}$", "$h_{t-1}$", "$x_t$", "$C_t$", "$h_t$"):
        assert s in texts, s
    # the cell state runs straight across: C_{t-1}, the forget node, the add node and C_t at one height
    assert boxes["c_prev"].cy == boxes["forget"].cy == boxes["add"].cy == boxes["c"].cy
    assert not ax.axison


def test_show_equations_writes_all_six(ax):
    draw_lstm_cell(ax, show_equations=True)
    eqs = [t for t in ax.texts if "=" in t.get_text()]
    assert len(eqs) == 6
    assert to_hex(eqs[0].get_color()).upper() == symbol_color("f").upper()
    assert ax.get_xlim()[1] > 14
