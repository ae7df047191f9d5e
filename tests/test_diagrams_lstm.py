"""Tests for rnnlib.diagrams_lstm: the LSTM cell diagram in the book's palette."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

from rnnlib.diagrams import Box  # noqa: E402
from rnnlib.diagrams_lstm import draw_lstm_cell  # noqa: E402
from rnnlib.style import lighten, symbol_color  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(10, 5))
    yield ax
    plt.close(fig)


def _box_at(ax, b: Box):
    """The rounded box patch drawn at Box ``b``."""
    (patch,) = [p for p in ax.patches if isinstance(p, FancyBboxPatch)
                and abs(p.get_x() + p.get_width() / 2 - b.cx) < 1e-9 and abs(p.get_y() + p.get_height() / 2 - b.cy) < 1e-9]
    return patch


def test_every_gate_and_state_box_has_its_palette_colour(ax):
    boxes = draw_lstm_cell(ax)
    for name, symbol in [("f", "f"), ("i", "i"), ("o", "o"), ("c_tilde", "c_tilde"), ("c_prev", "c"), ("c", "c"),
                         ("h_prev", "h"), ("h", "h"), ("h_out", "h"), ("x", "x")]:
        patch = _box_at(ax, boxes[name])
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
