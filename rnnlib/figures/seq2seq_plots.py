r"""Figures of the sequence-to-sequence chapter: attention maps and accuracy against epochs.

* :func:`plot_attention_map` - one sum's attention weights as a heat map:
  rows are output symbols, columns the characters the encoder read, each row
  sums to 1 (padding columns get 0);
* :func:`plot_attention_maps` - several sums side by side on a new figure;
* :func:`plot_accuracy_curves` - held-out exact-match accuracy against epochs
  for the benchmark runs (``benchmarks/seq2seq.json``), one colour per model,
  solid for reversed input, dashed for input in reading order.

Each ``plot_*`` helper draws on a given ``ax`` (or makes the figure, for the
grid) and returns it; colours from :data:`rnnlib.figures.style.LINE_COLORS`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from rnnlib.figures.style import LINE_COLORS, NEUTRAL

KIND_LABELS = {"repeat": "repeat vector (Keras)", "decoder": "decoder", "attention": "decoder + attention"}


def _check_map(alpha, source, output):
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim != 2:
        raise ValueError(f"alpha must be a 2-d array (output steps, source steps); got shape {alpha.shape}")
    if not isinstance(source, str) or len(source) != alpha.shape[1]:
        raise ValueError(f"source must be a str of {alpha.shape[1]} characters (one per column of alpha); "
                         f"got {source!r}")
    if not isinstance(output, str) or len(output) != alpha.shape[0]:
        raise ValueError(f"output must be a str of {alpha.shape[0]} characters (one per row of alpha); "
                         f"got {output!r}")
    return alpha


def plot_attention_map(ax, alpha, source, output, title=None):
    """Heat map of ``alpha`` (L, S): row t = output symbol ``output[t]``, column s = ``source[s]``.

    Padding characters (spaces) are shown as ``·``. Returns ``ax``.
    """
    alpha = _check_map(alpha, source, output)
    ax.imshow(alpha, cmap="Greys", vmin=0.0, vmax=1.0, aspect="equal")
    ax.set_xticks(range(len(source)), [c if c != " " else "·" for c in source])
    ax.set_yticks(range(len(output)), list(output))
    ax.tick_params(length=0)
    ax.set_xlabel("encoder reads")
    ax.set_ylabel("decoder writes")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_attention_maps(maps, ncols=4, size=2.4):
    """A figure with one attention map per entry of ``maps``.

    Parameters
    ----------
    maps : list of (alpha (L, S), source str, output str, title str)
    ncols : int
    size : float
        Inches per panel.

    Returns
    -------
    fig : matplotlib Figure
    """
    if not maps:
        raise ValueError("maps must hold at least one (alpha, source, output, title) tuple")
    ncols = min(ncols, len(maps))
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax, (alpha, source, output, title) in zip(axes.ravel(), maps):
        plot_attention_map(ax, alpha, source, output, title)
    for ax in axes.ravel()[len(maps):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_accuracy_curves(ax, runs, digits, metric="exact", target=0.99, keras_epochs=None):
    """Held-out accuracy against epochs for the runs with ``digits`` digits.

    Parameters
    ----------
    ax : matplotlib Axes
    runs : list of dict
        Records of :func:`rnnlib.experiments.seq2seq_bench.run` (``kind``,
        ``reverse``, ``digits``, ``history``).
    digits : int
    metric : {"exact", "per_digit"}
    target : float or None
        Drawn as a dotted horizontal line.
    keras_epochs : int or None
        Epochs the Keras example needed, drawn as a dotted vertical line.

    Returns
    -------
    ax
    """
    if metric not in ("exact", "per_digit"):
        raise ValueError(f"metric must be 'exact' or 'per_digit'; got {metric!r}")
    chosen = [r for r in runs if r["digits"] == digits]
    if not chosen:
        raise ValueError(f"no run with digits={digits} among {len(runs)} runs")
    kinds = [k for k in KIND_LABELS if any(r["kind"] == k for r in chosen)]
    for r in sorted(chosen, key=lambda r: (kinds.index(r["kind"]), not r["reverse"])):
        h = r["history"]
        ax.plot(h["epoch"], h[metric], color=LINE_COLORS[kinds.index(r["kind"])],
                linestyle="-" if r["reverse"] else "--",
                label=f"{KIND_LABELS[r['kind']]}, {'reversed' if r['reverse'] else 'in order'}")
    if target is not None:
        ax.axhline(target, color=NEUTRAL, linestyle=":", linewidth=1)
    if keras_epochs is not None:
        ax.axvline(keras_epochs, color=NEUTRAL, linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out exact match" if metric == "exact" else "held-out per-digit accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{digits} digits, {chosen[0]['n_train']:,} training problems", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return ax
