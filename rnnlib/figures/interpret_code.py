r"""Which units of a character model follow which property of source code (chapter 6).

Builds on :mod:`rnnlib.figures.interpret`: :func:`best_units` ranks the units
of every recorded quantity (from :func:`~rnnlib.figures.interpret.record_activations`)
against every signal (from :func:`rnnlib.data.code_signals.code_signals`) with
:func:`~rnnlib.figures.interpret.rank_units`, and keeps the best unit per
model and signal; :func:`units_table` renders that as a Markdown table. The
strips themselves are :func:`~rnnlib.figures.interpret.plot_char_strip`.

References
----------
Karpathy, A., Johnson, J. & Fei-Fei, L. (2015). Visualizing and understanding
recurrent networks. arXiv:1506.02078.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlib.figures.interpret import rank_units

#: The quantities searched for units, per kind (the cell state and the hidden state of the LSTM).
SEARCHED = {"lstm": ("c", "h"), "gru": ("h",), "rnn": ("h",)}


class BestUnit(NamedTuple):
    """The unit of one model that best follows one signal."""

    model: str  # label of the model
    signal: str
    quantity: str  # "c" or "h"
    unit: int
    r: float  # Pearson correlation, with its sign


def best_units(traces, signals, *, kinds=None) -> list:
    """The best unit (largest :math:`|r|`) of each model for each signal.

    Parameters
    ----------
    traces : dict {label: dict of ndarray (L, H)}
        One :func:`~rnnlib.figures.interpret.record_activations` result per model.
    signals : dict {name: ndarray (L,)}
    kinds : dict {label: "lstm" | "gru" | "rnn"}, optional
        Which quantities to search (:data:`SEARCHED`); default: the label itself.

    Returns
    -------
    list of BestUnit
        Signals in the order of ``signals``, then models in the order of ``traces``.
    """
    if not isinstance(traces, dict) or not traces or not isinstance(signals, dict) or not signals:
        raise TypeError("traces and signals must be non-empty dicts")
    kinds = {label: label for label in traces} if kinds is None else kinds
    out = []
    for name, s in signals.items():
        for label, trace in traces.items():
            kind = kinds[label]
            if kind not in SEARCHED:
                raise ValueError(f"kinds[{label!r}] must be one of {sorted(SEARCHED)}; got {kind!r}")
            best = None
            for q in SEARCHED[kind]:
                rank = rank_units(trace[q], s, top=1)
                cand = BestUnit(label, name, q, int(rank.units[0]), float(rank.r[0]))
                if best is None or abs(cand.r) > abs(best.r):
                    best = cand
            out.append(best)
    return out


def units_table(rows, *, digits=2) -> str:
    """A Markdown table of :func:`best_units`' rows: one line per signal, one column per model."""
    rows = list(rows)
    if not rows or not all(isinstance(r, BestUnit) for r in rows):
        raise TypeError("rows must be a non-empty list of BestUnit (from best_units)")
    models = list(dict.fromkeys(r.model for r in rows))
    signals = list(dict.fromkeys(r.signal for r in rows))
    cell = {(r.signal, r.model): f"{r.r:+.{digits}f} ({r.quantity} {r.unit})" for r in rows}
    lines = ["| signal | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
    for s in signals:
        lines.append(f"| {s.replace('_', ' ')} | " + " | ".join(cell.get((s, m), "") for m in models) + " |")
    return "\n".join(lines)


def strongest(rows, signal) -> "BestUnit":
    """The row of ``signal`` with the largest :math:`|r|` over the models."""
    cands = [r for r in rows if r.signal == signal]
    if not cands:
        raise ValueError(f"no row for signal {signal!r}")
    return max(cands, key=lambda r: abs(r.r))


__all__ = ["SEARCHED", "BestUnit", "best_units", "units_table", "strongest"]


def plot_stream_curves(ax, curves, baselines=None, *, colors=None):
    """Held-out bits per character against the update step of :func:`rnnlib.training.stream.train_stream` runs.

    Parameters
    ----------
    ax : matplotlib Axes
    curves : dict {label: dict}
        Each with ``eval_steps`` (E,) and ``eval_bpc`` (E,) (a
        :class:`~rnnlib.training.stream.StreamHistory`'s, or a cached run's).
    baselines : dict {label: float}, optional
        Drawn as dashed horizontal lines.
    colors : dict {label: colour}, optional

    Returns
    -------
    list of Line2D
    """
    from rnnlib.figures.style import LINE_COLORS, NEUTRAL

    if not isinstance(curves, dict) or not curves:
        raise TypeError("curves must be a non-empty dict {label: {'eval_steps', 'eval_bpc'}}")
    colors = dict(zip(curves, LINE_COLORS)) if colors is None else colors
    lines = []
    for label, c in curves.items():
        steps, bpc = np.asarray(c["eval_steps"]), np.asarray(c["eval_bpc"])
        (line,) = ax.plot(steps[1:], bpc[1:], color=colors[label], linewidth=1.8, marker="o", markersize=2.5,
                          label=label)  # step 0 (about log2 V) left out: it squashes the scale
        lines.append(line)
    for k, (label, b) in enumerate((baselines or {}).items()):
        ax.axhline(float(b), color=NEUTRAL, linestyle=["--", ":", "-."][k % 3], linewidth=1.2,
                   label=f"{label} ({b:.2f})")
    ax.set_xlabel("update (one window of every stream)")
    ax.set_ylabel("held-out bits per character")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.legend(fontsize="small", frameon=False)
    return lines


__all__ += ["plot_stream_curves"]
