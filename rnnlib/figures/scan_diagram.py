r"""Drawing of Blelloch's parallel prefix scan (up-sweep, down-sweep) on the pairs (a_t, b_t).

:func:`draw_blelloch` draws the schedule of :func:`rnnlib.scan.blelloch_schedule` on an
``ax``: one row of nodes per level, time along x, an arrow from each node that is
read to the node it updates. Up-sweep arrows are orange (the "keep" colour: they
multiply coefficients), down-sweep arrows blue (they carry states). Below it the
counts: combines (work) and levels (depth) against the loop's.
"""

from __future__ import annotations

from rnnlib.figures.style import symbol_color
from rnnlib.scan import blelloch_schedule


def draw_blelloch(ax, T=8):
    """Draw the scan for ``T`` elements on ``ax``; return ``{"work", "depth", "loop_work", "loop_depth"}``."""
    ops = blelloch_schedule(T)
    P = 1 << max(int(T) - 1, 0).bit_length()
    levels = []  # (phase, d) in order
    for phase, d, _, _ in ops:
        if not levels or levels[-1] != (phase, d):
            levels.append((phase, d))
    n_rows = len(levels) + 1
    colors = {"up": symbol_color("z"), "down": symbol_color("h")}
    for row in range(n_rows):
        y = n_rows - 1 - row
        ax.scatter(range(P), [y] * P, s=160, color="white", edgecolor="0.3", zorder=3)
    for i in range(P):
        ax.text(i, n_rows - 0.45, f"$(a_{{{i + 1}}}, b_{{{i + 1}}})$", ha="center", va="bottom", fontsize=8)
    for r, (phase, d) in enumerate(levels):
        y0, y1 = n_rows - 1 - r, n_rows - 2 - r
        for ph, dd, left, right in ops:
            if (ph, dd) != (phase, d):
                continue
            for src, dst in ((left, right), (right, right), (left, left), (right, left)):
                if phase == "up" and dst == left:
                    continue
                ax.annotate("", xy=(dst, y1), xytext=(src, y0),
                            arrowprops=dict(arrowstyle="->", color=colors[phase], lw=1.2))
        ax.text(P - 0.3, (y0 + y1) / 2, f"{phase}-sweep, d = {d}", va="center", fontsize=8,
                color=colors[phase])
    ax.text(-0.5, -0.8, "each row: one vectorised step; the last step (prefix then element) gives every $h_t$",
            fontsize=8, va="top")
    ax.set_xlim(-0.7, P + 2.2)
    ax.set_ylim(-1.2, n_rows + 0.3)
    ax.axis("off")
    return {"work": len(ops) + P, "depth": len(levels) + 1, "loop_work": T, "loop_depth": T}
