"""Shared test fixtures: a headless matplotlib and a fresh axis per test."""

import matplotlib

matplotlib.use("Agg")  # before any pyplot import: the tests never open a window
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


@pytest.fixture
def ax():
    """A fresh matplotlib axis, closed after the test."""
    fig, ax = plt.subplots(figsize=(10, 5))
    yield ax
    plt.close(fig)


@pytest.fixture
def box_patch():
    """``box_patch(ax, b)``: the one rounded box patch drawn centred at ``rnnlib.figures.diagrams.Box`` ``b``."""
    def find(ax, b):
        (patch,) = [p for p in ax.patches if isinstance(p, FancyBboxPatch)
                    and abs(p.get_x() + p.get_width() / 2 - b.cx) < 1e-9
                    and abs(p.get_y() + p.get_height() / 2 - b.cy) < 1e-9]
        return patch
    return find
