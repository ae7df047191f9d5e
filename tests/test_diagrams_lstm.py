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
    swatches = [line for line in ax.lines if line.get_marker() == "s"]
    assert [to_hex(line.get_color()).upper() for line in swatches] == [
        symbol_color(s).upper() for s in ("f", "i", "c_tilde", "o", "c", "h")]
    assert ax.get_xlim()[1] > 14


def _luminance(hex_color):
    from matplotlib.colors import to_rgb

    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(hex_color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_equations_beside_the_cell_are_readable(ax):
    """WCAG contrast of each equation's text on white is at least 4.5 (yellow was 1.2)."""
    draw_lstm_cell(ax, show_equations=True)
    legend = [t for t in ax.texts if t.get_position()[0] > 11]
    assert len(legend) == 6
    for text in legend:
        contrast = (1.0 + 0.05) / (_luminance(to_hex(text.get_color())) + 0.05)
        assert contrast >= 4.5, (text.get_text(), to_hex(text.get_color()), round(contrast, 2))
