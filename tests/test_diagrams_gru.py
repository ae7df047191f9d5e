"""Tests for rnnlib.figures.diagrams_gru: the GRU cell diagram in both forms, in the book's palette."""

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Circle

from rnnlib.figures.diagrams_gru import draw_gru_cell
from rnnlib.figures.style import lighten, symbol_color


def _texts(ax):
    return {t.get_text() for t in ax.texts}


@pytest.mark.parametrize("reset_after", [True, False])
def test_gates_candidate_and_states_have_their_palette_colour(ax, box_patch, reset_after):
    boxes = draw_gru_cell(ax, reset_after=reset_after)
    for name, symbol in [("z", "z"), ("r", "r"), ("h_tilde", "h_tilde"), ("h_prev", "h"), ("h", "h"), ("x", "x")]:
        patch = box_patch(ax, boxes[name])
        assert to_hex(patch.get_edgecolor()).upper() == symbol_color(symbol).upper(), name
        assert to_hex(patch.get_facecolor()).upper() == lighten(symbol_color(symbol), 0.55).upper(), name
    # the labels of z, r and the candidate are written in their colours
    for text, symbol in [("$z_t$", "z"), ("$r_t$", "r"), (r"$\tilde h_t$", "h_tilde")]:
        (t,) = [t for t in ax.texts if t.get_text() == text]
        assert to_hex(t.get_color()).upper() == symbol_color(symbol).upper(), text


@pytest.mark.parametrize("reset_after", [True, False])
def test_the_cell_has_its_operations_and_the_state_runs_along_the_top(ax, reset_after):
    boxes = draw_gru_cell(ax, reset_after=reset_after)
    assert {"keep", "one_minus", "write", "plus", "reset"} <= set(boxes)
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 5
    assert boxes["h_prev"].cy == boxes["keep"].cy == boxes["plus"].cy == boxes["h"].cy
    assert boxes["keep"].cx < boxes["plus"].cx  # z * h_{t-1} first, then the candidate is added
    assert boxes["z"].cy == boxes["r"].cy == boxes["h_tilde"].cy == boxes["reset"].cy
    assert {"$h_{t-1}$", "$x_t$", "$h_t$", r"$\sigma$", r"$\tanh$"} <= _texts(ax)
    assert not ax.axison


def test_the_two_forms_differ_only_where_the_reset_acts():
    fig, (a, b) = plt.subplots(1, 2)
    boxes_after, boxes_before = draw_gru_cell(a, reset_after=True), draw_gru_cell(b, reset_after=False)
    assert boxes_after == boxes_before  # same layout
    after, before = _texts(a), _texts(b)
    assert "$h_{t-1} W_{hh} + b_{hn}$" in after and "$h_{t-1} W_{hh} + b_{hn}$" not in before
    assert "$W_{hh}$" in before and "$W_{hh}$" not in after
    assert not any("b_{hn}" in t for t in before)  # the reset-before form has no b_hn
    assert any("PyTorch" in t for t in after) and any("Cho" in t for t in before)
    plt.close(fig)


def test_reset_after_is_the_default(ax):
    draw_gru_cell(ax)
    assert "$h_{t-1} W_{hh} + b_{hn}$" in _texts(ax)
