r"""Training curves for chapter 4: loss against step, and the gradient reaching the past.

Each helper draws on a matplotlib ``ax`` it is given (it never creates a
figure or calls ``plt.show()``) from a dict ``{label: History}`` of
:func:`rnnlib.training.loop.train` runs, one colour per run in dict order:

* :func:`plot_training_curves` - held-out loss (or training loss, or
  accuracy) against the training step, log scale, with the task's
  baseline as a dashed line;
* :func:`plot_gradient_norms_over_training` - the norm of the loss gradient
  reaching an early input (the adding problem's first marker) at each
  evaluation, log scale.

Colours come from :data:`rnnlib.figures.style.LINE_COLORS` (Okabe–Ito); matplotlib is
imported here and in the other plotting modules only.
"""

from __future__ import annotations

import numpy as np

try:
    from rnnlib.figures.style import LINE_COLORS, NEUTRAL
except ImportError:  # pragma: no cover - style.py is the book's palette; this is its Okabe–Ito fallback
    LINE_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
    NEUTRAL = "#555555"

METRICS = ("eval", "train", "accuracy")
_LOSS_NAMES = {"mse": "MSE", "xent": "cross-entropy (nats per step)"}


def _check_histories(histories, colors):
    if not isinstance(histories, dict) or not histories:
        raise TypeError(f"histories must be a non-empty dict {{label: History}}; got {type(histories).__name__}")
    for label, h in histories.items():
        if not hasattr(h, "eval_loss") or not hasattr(h, "config"):
            raise TypeError(f"histories[{label!r}] must be a History from rnnlib.training.loop.train; "
                            f"got {type(h).__name__}")
    if colors is None:
        if len(histories) > len(LINE_COLORS):
            raise ValueError(f"at most {len(LINE_COLORS)} runs with the default colours; pass colors=")
        return dict(zip(histories, LINE_COLORS))
    missing = [k for k in histories if k not in colors]
    if missing:
        raise ValueError(f"colors must give a colour for every label; missing {missing}")
    return colors


def _moving_average(a, window):
    """Trailing mean over ``window`` steps (shorter at the start), same length as ``a``."""
    c = np.cumsum(np.insert(np.asarray(a, dtype=np.float64), 0, 0.0))
    n = np.arange(1, a.size + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def _loss_name(losses):
    """``{"mse"}`` -> "MSE"; several loss kinds are joined with " / "."""
    return " / ".join(_LOSS_NAMES.get(k, k) for k in sorted(losses))


def _grid(ax):
    ax.grid(True, which="major", color="#DDDDDD", linewidth=0.6)


def plot_training_curves(ax, histories, baseline=None, metric="eval", *, colors=None, smooth=50):
    """Draw one learning curve per run, with the memoryless baseline.

    Parameters
    ----------
    ax : matplotlib Axes
    histories : dict {str: History}
        Runs to compare; the keys are the legend labels.
    baseline : float, optional
        Drawn as a dashed grey line labelled "baseline" (e.g.
        :data:`rnnlib.data.tasks.ADDING_BASELINE_MSE`, :func:`rnnlib.data.tasks.copy_baseline`).
    metric : {"eval", "train", "accuracy"}
        ``"eval"``: held-out loss at each evaluation (log y). ``"train"``:
        training-batch loss, trailing mean over ``smooth`` steps (log y).
        ``"accuracy"``: held-out accuracy (``"xent"`` runs, linear y).
    colors : dict {str: colour}, optional
        Default: :data:`rnnlib.figures.style.LINE_COLORS` in order.
    smooth : int
        Window of the trailing mean for ``metric="train"`` (1: raw).

    Returns
    -------
    lines : list of Line2D
        One per run (the baseline line is not included).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}; got {metric!r}")
    colors = _check_histories(histories, colors)
    if isinstance(smooth, bool) or not isinstance(smooth, (int, np.integer)) or smooth < 1:
        raise ValueError(f"smooth must be a positive int; got {smooth!r}")
    loss_name = _loss_name({h.config.loss for h in histories.values()})
    lines = []
    for label, h in histories.items():
        if metric == "eval":
            x, y, style = h.eval_steps, h.eval_loss, {"marker": "o", "markersize": 3}
        elif metric == "train":
            x, y, style = np.arange(1, h.train_loss.size + 1), _moving_average(h.train_loss, smooth), {}
        else:
            if h.eval_accuracy.size == 0:
                raise ValueError(f"histories[{label!r}] has no accuracy (a {h.config.loss!r} run); "
                                 "use metric='eval'")
            x, y, style = h.eval_steps, h.eval_accuracy, {"marker": "o", "markersize": 3}
        (line,) = ax.plot(x, y, color=colors[label], label=label, linewidth=1.8, **style)
        lines.append(line)
    if baseline is not None:
        ax.axhline(float(baseline), color=NEUTRAL, linestyle="--", linewidth=1.2, label="baseline")
    ax.set_xlabel("training step")
    if metric == "accuracy":
        ax.set_ylabel("held-out accuracy")
    else:
        ax.set_yscale("log")
        where = "held-out" if metric == "eval" else f"training (mean of {smooth} steps)"
        ax.set_ylabel(f"{where} {loss_name}")
    _grid(ax)
    ax.legend(fontsize="small", frameon=False)
    return lines


def _probe_ylabel(labels):
    if labels == {"first_marker"}:
        return r"$\Vert \partial \ell / \partial x_{t_1} \Vert$ (first marker)"
    if labels == {"t = 0"}:
        return r"$\Vert \partial \ell / \partial x_1 \Vert$"
    return r"$\Vert \partial \ell / \partial x_t \Vert$ at " + ", ".join(sorted(labels))


def plot_gradient_norms_over_training(ax, histories, *, colors=None):
    r"""Draw, per run, the loss gradient reaching the probed input at each evaluation.

    Parameters
    ----------
    ax : matplotlib Axes
    histories : dict {str: History}
        Runs trained with the probe on (``probe_size > 0``); the y values are
        ``History.input_grad_at``, the mean over held-out sequences of
        :math:`\lVert \partial \ell_n / \partial x_{n,t} \rVert` at the probed
        step (the first marker with ``probe_position=tasks.first_marker``).
    colors : dict {str: colour}, optional

    Returns
    -------
    lines : list of Line2D

    Notes
    -----
    Log y-axis; exact zeros (a gradient that cannot reach the input, as with
    truncated BPTT) are left out of the curve.
    """
    colors = _check_histories(histories, colors)
    lines = []
    for label, h in histories.items():
        if h.input_grad_at.size == 0:
            raise ValueError(f"histories[{label!r}] has no input-gradient probe (trained with probe_size=0)")
        y = np.where(h.input_grad_at > 0, h.input_grad_at, np.nan)
        (line,) = ax.plot(h.eval_steps, y, color=colors[label], label=label, linewidth=1.8,
                          marker="o", markersize=3)
        lines.append(line)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(_probe_ylabel({h.probe_label for h in histories.values()}))
    _grid(ax)
    ax.legend(fontsize="small", frameon=False)
    return lines
