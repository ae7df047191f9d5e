r"""Looking inside a character model: record its units, rank them against a signal, draw them.

Karpathy, Johnson & Fei-Fei (2015) found single LSTM cells whose value tracks
a property of the text: inside a quote or not, how deep in brackets. The tools
to repeat that search:

* :func:`record_activations` - every gate and state of the model's recurrent
  layer after each character of a text, (L, H) each (from
  :func:`rnnlib.gates.lstm_trace` / :func:`~rnnlib.gates.gru_trace`);
* :func:`correlations`, :func:`rank_units` - Pearson correlation of each unit
  with a per-character signal (e.g. the bracket depth of
  :func:`rnnlib.data.toy_language.structure_signals`), units sorted by
  :math:`|r|`;
* :func:`gate_means_at` - a unit's mean gate values at given characters
  (what its gates do at ``(`` and ``)``);
* plots, each drawn on an ``ax`` it is given: :func:`plot_char_strip` (the
  text, each character on a background coloured by a unit's value),
  :func:`plot_unit_gates` (one strip per gate of one unit),
  :func:`plot_unit_vs_signal` and :func:`plot_bpc_curves`.

matplotlib is imported here; the recording and ranking functions are NumPy only.

References
----------
Karpathy, A., Johnson, J. & Fei-Fei, L. (2015). Visualizing and understanding
recurrent networks. arXiv:1506.02078.
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rnnlib._checks import check_array
from rnnlib.training.charlm import LN2, one_hot
from rnnlib.gates import gru_trace, lstm_trace
from rnnlib.layers import Recurrent
from rnnlib.training.model import SequenceModel
from rnnlib.figures.style import LINE_COLORS, NEUTRAL, SYMBOL_LABELS, symbol_color
from rnnlib.data.toy_language import NEWLINE, CharCodec

#: What :func:`record_activations` returns for each kind, in drawing order.
RECORDED = {"lstm": ("c", "h", "f", "i", "o", "c_tilde"), "gru": ("h", "z", "r", "h_tilde"), "rnn": ("h",)}
_WORDS = {"c": "cell state", "h": "hidden state", "f": "forget gate", "i": "input gate", "o": "output gate",
          "c_tilde": "candidate", "z": "update gate", "r": "reset gate", "h_tilde": "candidate"}
_GATES = ("f", "i", "o", "z", "r")  # sigmoid gates, values in (0, 1)


# ---------------------------------------------------------------------------
# recording and ranking (NumPy only)
# ---------------------------------------------------------------------------
def record_activations(model, codec, text, *, prime=NEWLINE) -> dict:
    r"""Every gate and state of the recurrent layer after each character of ``text``.

    Parameters
    ----------
    model : SequenceModel or RNN, LSTM, GRU
        The layer reads one-hot characters (input size ``codec.V``).
    codec : CharCodec
    text : str, length L
    prime : str
        Read first, from a zero state; its rows are not returned (default a
        newline: the state in which the corpus' lines start).

    Returns
    -------
    dict of ndarray (L, H), float64
        :data:`RECORDED` ``[kind]``: LSTM ``c, h, f, i, o, c_tilde``; GRU
        ``h, z, r, h_tilde``; tanh RNN ``h``. Row t is the value after
        reading character t (``text[t]``).
    """
    layer = model.rnn if isinstance(model, SequenceModel) else model
    if not isinstance(layer, Recurrent):
        raise TypeError(f"model must be a SequenceModel or an RNN/LSTM/GRU layer; got {type(model).__name__}")
    if not isinstance(codec, CharCodec):
        raise TypeError(f"codec must be a CharCodec; got {type(codec).__name__}")
    if codec.V != layer.input_size:
        raise ValueError(f"codec has V={codec.V} characters but the layer reads {layer.input_size}")
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str; got {text!r}")
    if not isinstance(prime, str):
        raise TypeError(f"prime must be a str; got {type(prime).__name__}")
    x = one_hot(codec.encode(prime + text), codec.V, layer.dtype)[None]  # (1, P + L, V)
    if layer.kind == "lstm":
        trace = lstm_trace(layer, x)
    elif layer.kind == "gru":
        trace = gru_trace(layer, x)
    else:
        trace = {"h": layer.forward(x)[0]}
    P = len(prime)
    return {k: np.asarray(trace[k][0, P:], dtype=np.float64) for k in RECORDED[layer.kind]}


def correlations(acts, signal) -> np.ndarray:
    r"""Pearson correlation of each unit with a signal over time.

    Parameters
    ----------
    acts : ndarray (L, H)
        One unit per column (e.g. the cell state from :func:`record_activations`).
    signal : ndarray (L,)
        E.g. the bracket depth after each character.

    Returns
    -------
    r : ndarray (H,)
        :math:`r_j = \frac{1}{L} \sum_t \frac{(a_{tj} - \bar a_j)(s_t - \bar s)}{\sigma_{a_j} \sigma_s}`,
        means and standard deviations over time (axis 0). A unit (or signal)
        that never changes has r = 0.
    """
    acts = check_array("acts", acts, ("L", "H"))
    signal = check_array("signal", np.asarray(signal, dtype=np.float64), ("L",), (acts.shape[0],))
    a = acts - acts.mean(axis=0)  # (L, H)
    s = signal - signal.mean()  # (L,)
    scale = np.sqrt(np.sum(a**2, axis=0) * np.sum(s**2))  # (H,)
    safe = np.where(scale > 0, scale, 1.0)
    return np.where(scale > 0, (s @ a) / safe, 0.0)


class UnitRanking(NamedTuple):
    """Result of :func:`rank_units`."""

    units: np.ndarray  # (K,) unit indices, largest |r| first
    r: np.ndarray  # (K,) their (signed) correlations


def rank_units(acts, signal, top=None) -> UnitRanking:
    """Units sorted by the size of their correlation with ``signal``, largest :math:`|r|` first.

    Parameters
    ----------
    acts : ndarray (L, H)
    signal : ndarray (L,)
    top : int, optional
        Keep only the first ``top`` units (default all H).

    Returns
    -------
    UnitRanking
        ``units`` (K,) and their signed ``r`` (K,); ties keep the lower index first.
    """
    r = correlations(acts, signal)
    order = np.argsort(-np.abs(r), kind="stable")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise ValueError(f"top must be a positive int; got {top!r}")
        order = order[:top]
    return UnitRanking(order, r[order])


def gate_means_at(trace, text, chars, unit) -> dict:
    """Mean value of each recorded quantity of one unit where given characters were read.

    Parameters
    ----------
    trace : dict of ndarray (L, H)
        From :func:`record_activations` over ``text`` (row t: after ``text[t]``).
    text : str, length L
    chars : str or dict {label: str}
        A str averages at each of its characters separately (keys: the
        characters); a dict averages over all occurrences of any character of
        each value (e.g. ``{"opening": "([{"}``).
    unit : int

    Returns
    -------
    dict
        ``{name: {key: mean}}`` for every key of ``trace``; NaN where no
        character of the group occurs.
    """
    if not isinstance(trace, dict) or not trace:
        raise TypeError("trace must be a dict of (L, H) arrays from record_activations")
    groups = {ch: ch for ch in chars} if isinstance(chars, str) else dict(chars)
    if not all(isinstance(g, str) and g for g in groups.values()):
        raise TypeError(f"chars must be a str or a dict {{label: str of characters}}; got {chars!r}")
    chars_at = np.array(list(text))
    where = {key: np.isin(chars_at, list(group)) for key, group in groups.items()}  # (L,) masks
    out = {}
    for name, a in trace.items():
        a = check_array(f"trace[{name!r}]", a, ("L", "H"), (len(text), None))
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < a.shape[1]:
            raise ValueError(f"unit must be an int in [0, {a.shape[1]}); got {unit!r}")
        out[name] = {key: (float(a[mask, unit].mean()) if mask.any() else float("nan"))
                     for key, mask in where.items()}
    return out


# ---------------------------------------------------------------------------
# plots (each on a given ax)
# ---------------------------------------------------------------------------
def _grid(text, width):
    """Row and column of each character, wrapping at newlines (shown as ↵) and every ``width`` characters."""
    rows, cols, r, c = [], [], 0, 0
    for ch in text:
        if c == width:
            r, c = r + 1, 0
        rows.append(r)
        cols.append(c)
        c += 1
        if ch == NEWLINE:
            r, c = r + 1, 0
    return np.array(rows), np.array(cols)


def plot_char_strip(ax, text, values, *, width=64, vmin=-1.0, vmax=1.0, cmap="RdBu_r", fontsize=9, title=None):
    r"""Draw ``text`` with each character on a background coloured by its value (Karpathy's figures).

    Parameters
    ----------
    ax : matplotlib Axes
    text : str, length L
    values : ndarray (L,)
        One number per character, e.g. one unit's cell state after reading it.
    width : int
        Characters per row; a newline (drawn as ↵) also starts a new row.
    vmin, vmax, cmap
        Colour scale (default diverging, [-1, 1]).
    fontsize : float
    title : str, optional

    Returns
    -------
    image : matplotlib AxesImage
        For a colour bar.
    """
    values = check_array("values", np.asarray(values, dtype=np.float64), ("L",), (len(text),))
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a positive int; got {width!r}")
    rows, cols = _grid(text, int(width))
    n_rows = int(rows.max()) + 1 if rows.size else 1
    grid = np.full((n_rows, int(width)), np.nan)
    grid[rows, cols] = values
    cm = plt.get_cmap(cmap).with_extremes(bad="white")
    image = ax.imshow(grid, cmap=cm, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest",
                      extent=(-0.5, width - 0.5, n_rows - 0.5, -0.5))
    norm = image.norm
    for ch, r, c, v in zip(text, rows, cols, values):
        shade = cm(norm(v))
        light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.5
        ax.text(c, r, "↵" if ch == NEWLINE else ch, ha="center", va="center", family="monospace",
                fontsize=fontsize, color="black" if light else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#BBBBBB")
    if title is not None:
        ax.set_title(title, loc="left", fontsize="medium")
    return image


def plot_unit_gates(axes_or_fig, text, trace, unit, *, names=None, width=64, c_limit=None, fontsize=9):
    r"""One :func:`plot_char_strip` per gate and state of one unit, stacked.

    Parameters
    ----------
    axes_or_fig : matplotlib Figure or sequence of Axes
        A figure gets one row of axes per panel.
    text : str, length L
    trace : dict of ndarray (L, H)
        From :func:`record_activations`.
    unit : int
    names : sequence of str, optional
        Panels, top to bottom (default every key of ``trace``, in its order).
    width : int
    c_limit : float, optional
        Colour limit of the cell state ``c`` (default its max |value| for this unit).
    fontsize : float

    Returns
    -------
    list of Axes

    Notes
    -----
    Sigmoid gates on [0, 1] with ``cividis`` (dark = closed, yellow = open),
    tanh quantities on [-1, 1] and the cell state on [-c_limit, c_limit] with
    ``RdBu_r``; each title in its symbol's colour (:mod:`rnnlib.figures.style`).
    """
    names = list(trace) if names is None else list(names)
    missing = [n for n in names if n not in trace]
    if missing:
        raise ValueError(f"trace has no {missing}; it has {list(trace)}")
    if isinstance(axes_or_fig, Figure):
        axes = list(np.atleast_1d(axes_or_fig.subplots(len(names), 1)))
    else:
        axes = list(np.ravel(axes_or_fig))
        if len(axes) < len(names):
            raise ValueError(f"need {len(names)} axes for panels {names}; got {len(axes)}")
    for ax, name in zip(axes, names):
        v = np.asarray(trace[name])[:, unit]
        if name in _GATES:
            lim, cmap = (0.0, 1.0), "cividis"
        elif name == "c":
            c = c_limit if c_limit is not None else max(float(np.max(np.abs(v))), 1e-6)
            lim, cmap = (-c, c), "RdBu_r"
        else:
            lim, cmap = (-1.0, 1.0), "RdBu_r"
        plot_char_strip(ax, text, v, width=width, vmin=lim[0], vmax=lim[1], cmap=cmap, fontsize=fontsize)
        label = SYMBOL_LABELS.get(name, name)
        ax.set_title(f"{label}  {_WORDS.get(name, name)} of unit {unit}  [{lim[0]:.3g}, {lim[1]:.3g}]", loc="left",
                     fontsize="medium", color=symbol_color(name))
    return axes[: len(names)]


def plot_unit_vs_signal(ax, values, signal, *, label="unit", signal_label="bracket depth", symbol="c",
                        flip_signal=False):
    """Draw a unit's value and a signal over the characters of a text, on two y axes.

    Parameters
    ----------
    ax : matplotlib Axes
    values : ndarray (L,)
    signal : ndarray (L,)
    label, signal_label : str
        Legend entries.
    symbol : str
        Colour of the unit's line (a key of :data:`rnnlib.figures.style.GATE_COLORS`).
    flip_signal : bool
        Draw the signal's axis upside down (labelled so), for a unit that
        falls as the signal rises (r < 0): the two curves then overlap.

    Returns
    -------
    ax2 : matplotlib Axes
        The twin axis that holds the signal.
    """
    values = check_array("values", np.asarray(values, dtype=np.float64), ("L",))
    signal = check_array("signal", np.asarray(signal, dtype=np.float64), ("L",), (values.size,))
    t = np.arange(1, values.size + 1)
    ax2 = ax.twinx()
    ax2.step(t, signal, where="mid", color=NEUTRAL, linewidth=1.2, label=signal_label)
    ax2.set_ylabel(signal_label + (" (axis reversed)" if flip_signal else ""), color=NEUTRAL)
    if flip_signal:
        ax2.invert_yaxis()
    ax.plot(t, values, color=symbol_color(symbol), linewidth=1.6, label=label)
    ax.set_ylabel(label, color=symbol_color(symbol))
    ax.set_xlabel("character")
    ax.set_xlim(0.5, values.size + 0.5)
    ax.set_zorder(ax2.get_zorder() + 1)  # the unit's line above the signal
    ax.patch.set_visible(False)
    return ax2


def plot_bpc_curves(ax, histories, baselines=None, *, colors=None):
    """Held-out bits per character against the training step, one line per run.

    Parameters
    ----------
    ax : matplotlib Axes
    histories : dict {str: History}
        ``"xent"`` runs of :func:`rnnlib.training.loop.train`; their ``eval_loss``
        (nats) is divided by ln 2.
    baselines : dict {str: float}, optional
        Bits per character of models that are not trained (e.g. the unigram
        and n-gram), drawn as dashed horizontal lines, labelled.
    colors : dict {str: colour}, optional
        Default: :data:`rnnlib.figures.style.LINE_COLORS` in order.

    Returns
    -------
    list of Line2D
        One per run.
    """
    if not isinstance(histories, dict) or not histories:
        raise TypeError("histories must be a non-empty dict {label: History}")
    for label, h in histories.items():
        if getattr(getattr(h, "config", None), "loss", None) != "xent":
            raise ValueError(f"histories[{label!r}] must be a History of an 'xent' run")
    colors = dict(zip(histories, LINE_COLORS)) if colors is None else colors
    lines = []
    for label, h in histories.items():
        (line,) = ax.plot(h.eval_steps, h.eval_loss / LN2, color=colors[label], linewidth=1.8, marker="o",
                          markersize=3, label=label)
        lines.append(line)
    styles = ["--", ":", "-."]
    for k, (label, bpc) in enumerate((baselines or {}).items()):
        ax.axhline(float(bpc), color=NEUTRAL, linestyle=styles[k % len(styles)], linewidth=1.2,
                   label=f"{label} ({bpc:.2f})")
    ax.set_xlabel("training step")
    ax.set_ylabel("bits per character")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.legend(fontsize="small", frameon=False)
    return lines


__all__ = ["RECORDED", "record_activations", "correlations", "UnitRanking", "rank_units", "gate_means_at",
           "plot_char_strip", "plot_unit_gates", "plot_unit_vs_signal", "plot_bpc_curves"]
