"""The Blelloch schedule (rnnlib.scan.blelloch_schedule) and its drawing (rnnlib.figures.scan_diagram)."""

import numpy as np
import pytest
from matplotlib.colors import to_hex

from rnnlib.figures.scan_diagram import draw_blelloch
from rnnlib.figures.style import symbol_color
from rnnlib.scan import _combine, blelloch_schedule, linear_recurrence


@pytest.mark.parametrize("T", [1, 2, 5, 8, 16])
def test_schedule_run_by_hand_is_the_recurrence(T):
    """Executing the listed operations one by one on the pairs gives h (h0 = 0)."""
    rng = np.random.default_rng(T)
    a, b = rng.uniform(0.2, 1, T), rng.standard_normal(T)
    P = 1 << max(T - 1, 0).bit_length()
    A, B = np.ones(P), np.zeros(P)
    A[:T], B[:T] = a, b
    elems = (A.copy(), B.copy())
    ops = blelloch_schedule(T)
    assert len(ops) == 2 * (P - 1)  # the work: up-sweep P - 1 combines, down-sweep P - 1
    for k, (phase, d, left, right) in enumerate(ops):
        if phase == "down" and (k == 0 or ops[k - 1][0] == "up"):
            A[P - 1], B[P - 1] = 1.0, 0.0  # the root gets the identity
        if phase == "up":
            A[right], B[right] = _combine(A[left], B[left], A[right], B[right])
        else:
            tA, tB = A[left], B[left]
            A[left], B[left] = A[right], B[right]
            A[right], B[right] = _combine(A[left], B[left], tA, tB)
    if P == 1:
        A[0], B[0] = 1.0, 0.0
    _, h = _combine(A, B, *elems)
    assert np.allclose(h[:T], linear_recurrence(a[None, :, None], b[None, :, None])[0, :, 0], rtol=1e-13)


def test_drawing_for_T8_has_every_node_arrow_and_the_counts(ax):
    counts = draw_blelloch(ax, T=8)
    assert counts == {"work": 22, "depth": 7, "loop_work": 8, "loop_depth": 8}
    arrows = [c for c in ax.texts if getattr(c, "arrow_patch", None) is not None]
    ups = [a for a in arrows if to_hex(a.arrow_patch.get_edgecolor()).upper() == symbol_color("z").upper()]
    downs = [a for a in arrows if to_hex(a.arrow_patch.get_edgecolor()).upper() == symbol_color("h").upper()]
    assert len(ups) == 2 * 7 and len(downs) == 4 * 7  # 7 combines each way; 2 and 4 arrows per combine
    labels = {t.get_text() for t in ax.texts}
    assert "$(a_{1}, b_{1})$" in labels and "$(a_{8}, b_{8})$" in labels
    assert "up-sweep, d = 4" in labels and "down-sweep, d = 1" in labels
    assert not ax.axison
