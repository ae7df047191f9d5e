r"""Where the gradient of a gated layer flows: path ablations behind chapters 2 and 3.

:mod:`rnnlib.experiments.gradient_flow` measures :math:`g_t = \lVert \partial (\sum h_T) /
\partial x_t \rVert`. This module asks *which route* that gradient takes back in time.

LSTM. One step back, the gradient reaching :math:`(h_t, C_t)` splits into

* the **cell path** :math:`C_t \to C_{t-1}`, a factor :math:`f_t` per unit (the "constant
  error carousel", eq. 2.15 of the book), and
* the **hidden paths** :math:`(h_t, C_t) \to h_{t-1}` through the four pre-activations
  and :math:`W_h`, which mix the units.

:func:`lstm_path_profile` runs the backward pass keeping all routes (``"full"``, the same
numbers as :func:`~rnnlib.experiments.gradient_flow.input_gradient_profile`), only the cell
path (``"cell"``: nothing enters :math:`h_{t-1}`) or only the hidden paths (``"hidden"``:
nothing enters :math:`C_{t-1}` directly). The full gradient is the sum over every mixed
sequence of routes, so it can exceed both pure ones.

GRU. With :math:`h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t` (reset after the
product) the routes are the **direct path** (a factor :math:`z_t`) and the hidden paths
through the gates and the candidate; :func:`gru_path_profile` ablates them the same way.

:func:`lyapunov_factor` is the per-step growth of the full backward product
:math:`\prod_t J_t` (:math:`J_t` the Jacobian of the state after step t with respect to the
state before it): the geometric mean, over a long sequence, of how much the largest
direction of the gradient is multiplied by each step back. :func:`path_summary` collects
these per seed, with the size of :math:`|C_t|` and the per-unit products of the keep gate.

Models are built as in :func:`~rnnlib.experiments.gradient_flow.gradient_norm_table`
(layer from ``default_rng(seed)``, input of length T from ``default_rng([seed, T])``), so the
``"full"`` entries reproduce that table. Float64 throughout.
"""

from __future__ import annotations

import numpy as np

from rnnlib._checks import check_size
from rnnlib.activations import sigmoid
from rnnlib.layers import GRU, LSTM

LSTM_PATHS = ("full", "cell", "hidden")
GRU_PATHS = ("full", "direct", "hidden")


def build(kind, seed, *, H=64, D=2, forget_bias=0.0, input_bias=0.0, update_bias=0.0):
    """Parameters ``(W_x, W_h, b, b_hn)`` of a float64 layer built like ``gradient_norm_table``'s.

    ``input_bias`` (LSTM only) is added to every entry of :math:`b_i` after the init, as
    ``forget_bias`` is to :math:`b_f`. ``b_hn`` is ``None`` for the LSTM.
    """
    if kind == "lstm":
        layer = LSTM(D, H, rng=np.random.default_rng(seed), forget_bias=forget_bias)
        p = {k: v.copy() for k, v in layer.params.items()}
        p["b"][H:2 * H] += input_bias  # gate order f, i, o, c_tilde
        return p["W_x"], p["W_h"], p["b"], None
    if kind == "gru":
        layer = GRU(D, H, rng=np.random.default_rng(seed), update_bias=update_bias)
        return layer.params["W_x"], layer.params["W_h"], layer.params["b"], layer.params["b_hn"]
    raise ValueError(f"kind must be 'lstm' or 'gru'; got {kind!r}")


def _lstm_forward(x, W_x, W_h, b):
    """States of an LSTM from zero: dict of (T, N, H) arrays (time-major)."""
    N, T, _ = x.shape
    H = W_h.shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    out = {k: np.empty((T, N, H)) for k in ("h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "tanh_c")}
    for t in range(T):
        a = x[:, t] @ W_x + h @ W_h + b  # (N, 4H)
        f, i, o = (sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
        c_tilde = np.tanh(a[:, 3 * H:])
        out["h_prev"][t], out["c_prev"][t] = h, c
        c = f * c + i * c_tilde  # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
        tanh_c = np.tanh(c)
        h = o * tanh_c  # h_t = o ⊙ tanh(C_t)
        for k, v in (("f", f), ("i", i), ("o", o), ("c_tilde", c_tilde), ("c", c), ("tanh_c", tanh_c)):
            out[k][t] = v
    return out


def lstm_path_profile(W_x, W_h, b, x, path="full"):
    r""":math:`g_t = \lVert \partial (\sum h_T) / \partial x_t \rVert` along the routes of ``path``.

    Parameters
    ----------
    W_x : ndarray (D, 4H)
    W_h : ndarray (H, 4H)
    b : ndarray (4H,)
        Gates stacked f, i, o, c_tilde (as :mod:`rnnlib.lstm`).
    x : ndarray (N, T, D)
    path : {"full", "cell", "hidden"}
        "cell" keeps only :math:`\partial C_t / \partial C_{t-1} = \mathrm{diag}(f_t)`;
        "hidden" keeps only the routes into :math:`h_{t-1}`.

    Returns
    -------
    g : ndarray (T,)
    """
    if path not in LSTM_PATHS:
        raise ValueError(f"path must be one of {LSTM_PATHS}; got {path!r}")
    s = _lstm_forward(np.asarray(x, float), W_x, W_h, b)
    T, N, H = s["c"].shape
    dh, dc = np.ones((N, H)), np.zeros((N, H))  # L = sum(h_T)
    g = np.empty(T)
    for t in reversed(range(T)):
        f, i, o, c_tilde, tanh_c = s["f"][t], s["i"][t], s["o"][t], s["c_tilde"][t], s["tanh_c"][t]
        do = dh * tanh_c  # h_t = o ⊙ tanh(C_t)
        dc = dc + dh * o * (1.0 - tanh_c**2)
        # C_t = f ⊙ C_{t-1} + i ⊙ C~_t
        da = np.concatenate([dc * s["c_prev"][t] * f * (1 - f), dc * c_tilde * i * (1 - i),
                             do * o * (1 - o), dc * i * (1 - c_tilde**2)], axis=1)  # (N, 4H)
        g[t] = np.linalg.norm(da @ W_x.T)
        dh = da @ W_h.T if path != "cell" else np.zeros_like(dh)  # hidden routes into h_{t-1}
        dc = dc * f if path != "hidden" else np.zeros_like(dc)  # the cell path
    return g


def gru_path_profile(W_x, W_h, b, b_hn, x, path="full"):
    r""":math:`g_t` of a GRU (reset after the product) along the routes of ``path``.

    Parameters
    ----------
    W_x : ndarray (D, 3H)
    W_h : ndarray (H, 3H)
    b : ndarray (3H,)
        Blocks z, r, h_tilde (as :mod:`rnnlib.gru`).
    b_hn : ndarray (H,)
    x : ndarray (N, T, D)
    path : {"full", "direct", "hidden"}
        "direct" keeps only :math:`\partial h_t / \partial h_{t-1} = \mathrm{diag}(z_t)`;
        "hidden" only the routes through the gates and the candidate.

    Returns
    -------
    g : ndarray (T,)
    """
    if path not in GRU_PATHS:
        raise ValueError(f"path must be one of {GRU_PATHS}; got {path!r}")
    x = np.asarray(x, float)
    N, T, _ = x.shape
    H = W_h.shape[0]
    h, saved = np.zeros((N, H)), []
    for t in range(T):
        ax, ah = x[:, t] @ W_x + b, h @ W_h  # (N, 3H) each
        z, r = sigmoid(ax[:, :H] + ah[:, :H]), sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        hn = ah[:, 2 * H:] + b_hn
        h_tilde = np.tanh(ax[:, 2 * H:] + r * hn)
        saved.append((h, z, r, hn, h_tilde))
        h = z * h + (1 - z) * h_tilde  # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t
    dh, g = np.ones((N, H)), np.empty(T)
    for t in reversed(range(T)):
        h_prev, z, r, hn, h_tilde = saved[t]
        dz = dh * (h_prev - h_tilde)
        dan = dh * (1 - z) * (1 - h_tilde**2)  # h~ = tanh(a_n + r ⊙ hn)
        daz, dar = dz * z * (1 - z), dan * hn * r * (1 - r)
        g[t] = np.linalg.norm(np.concatenate([daz, dar, dan], axis=1) @ W_x.T)
        hidden = np.concatenate([daz, dar, dan * r], axis=1) @ W_h.T
        dh = (dh * z if path != "hidden" else 0.0) + (hidden if path != "direct" else 0.0)
    return g


def _lstm_jacobian(s, t, W_h, n=0):
    """Jacobian (2H, 2H) of (h_t, C_t) with respect to (h_{t-1}, C_{t-1}) for batch row n."""
    H = W_h.shape[0]
    f, i, o, ct, th, cp = (s[k][t, n] for k in ("f", "i", "o", "c_tilde", "tanh_c", "c_prev"))
    Wf, Wi, Wo, Wc = (W_h[:, k * H:(k + 1) * H].T for k in range(4))  # (H, H): row = output unit
    dC_dh = (cp * f * (1 - f))[:, None] * Wf + (ct * i * (1 - i))[:, None] * Wi + (i * (1 - ct**2))[:, None] * Wc
    dh_dC = o * (1 - th**2)  # h_t = o ⊙ tanh(C_t)
    J = np.empty((2 * H, 2 * H))
    J[:H, :H] = dh_dC[:, None] * dC_dh + (th * o * (1 - o))[:, None] * Wo
    J[:H, H:] = np.diag(dh_dC * f)
    J[H:, :H] = dC_dh
    J[H:, H:] = np.diag(f)
    return J


def lyapunov_factor(W_x, W_h, b, x, burn_in=50):
    r"""Geometric-mean growth per step of the LSTM's backward product (largest direction).

    Multiplies a random unit vector by :math:`J_t^\top` for t = T-1, ..., 1, renormalising
    each step, and returns :math:`\exp` of the mean log growth after ``burn_in`` steps. The
    cell path alone would give :math:`\max_j \exp(\overline{\log f_j})`.

    Parameters
    ----------
    W_x, W_h, b : LSTM parameters (f, i, o, c_tilde stacked)
    x : ndarray (1, T, D)
    burn_in : int
        Steps discarded while the vector aligns with the growing direction.

    Returns
    -------
    float
    """
    s = _lstm_forward(np.asarray(x, float), W_x, W_h, b)
    T, H = s["c"].shape[0], W_h.shape[0]
    check_size("T - burn_in", T - 1 - burn_in)
    v = np.random.default_rng(0).standard_normal(2 * H)
    logs = []
    for t in reversed(range(1, T)):
        v = _lstm_jacobian(s, t, W_h).T @ v
        norm = np.linalg.norm(v)
        logs.append(np.log(norm))
        v /= norm
    return float(np.exp(np.mean(logs[burn_in:])))


def path_summary(kind, seeds=range(10), T=400, **settings):
    """Per seed: g_1 along each route, and what the gates and cell did (one dict of arrays).

    Parameters
    ----------
    kind : {"lstm", "gru"}
    seeds : iterable of int
    T : int
    **settings
        ``forget_bias``, ``input_bias`` (LSTM) or ``update_bias`` (GRU), as :func:`build`.

    Returns
    -------
    dict
        ``g_full``, ``g_cell`` / ``g_direct``, ``g_hidden`` (S,): g_1 along each route;
        ``keep_product_median``, ``keep_product_max`` (S,): per-unit products of f (or z)
        over steps 2..T, median and max over units; ``keep_mean`` (S,); for the LSTM also
        ``abs_c_median`` and ``abs_c_max`` (S,) over steps and units, and ``lyapunov`` (S,).
    """
    T = check_size("T", T)
    seeds = tuple(seeds)
    paths = LSTM_PATHS if kind == "lstm" else GRU_PATHS
    out = {k: [] for k in [f"g_{p}" for p in paths] + ["keep_product_median", "keep_product_max", "keep_mean"]}
    if kind == "lstm":
        out.update(abs_c_median=[], abs_c_max=[], lyapunov=[])
    for seed in seeds:
        W_x, W_h, b, b_hn = build(kind, seed, **settings)
        x = np.random.default_rng([seed, T]).standard_normal((1, T, W_x.shape[0]))
        for p in paths:
            prof = lstm_path_profile(W_x, W_h, b, x, p) if kind == "lstm" else gru_path_profile(W_x, W_h, b, b_hn, x, p)
            out[f"g_{p}"].append(prof[0])
        H = W_h.shape[0]
        if kind == "lstm":
            s = _lstm_forward(x, W_x, W_h, b)
            keep = s["f"][1:, 0]  # (T-1, H): f_2 .. f_T
            out["abs_c_median"].append(np.median(np.abs(s["c"])))
            out["abs_c_max"].append(np.max(np.abs(s["c"])))
            out["lyapunov"].append(lyapunov_factor(W_x, W_h, b, x, burn_in=min(50, T // 4)))
        else:
            h, zs = np.zeros((1, H)), []
            for t in range(T):
                ax, ah = x[:, t] @ W_x + b, h @ W_h
                z, r = sigmoid(ax[:, :H] + ah[:, :H]), sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
                h = z * h + (1 - z) * np.tanh(ax[:, 2 * H:] + r * (ah[:, 2 * H:] + b_hn))
                zs.append(z[0])
            keep = np.array(zs[1:])
        prod = np.exp(np.sum(np.log(keep), axis=0))  # (H,) per-unit product over steps 2..T
        out["keep_product_median"].append(np.median(prod))
        out["keep_product_max"].append(np.max(prod))
        out["keep_mean"].append(np.mean(keep))
    return {k: np.array(v) for k, v in out.items()}


SETTINGS = {  # name -> (kind, settings of build): the comparison of chapter 2
    "LSTM, b_f + 3": ("lstm", {"forget_bias": 3.0}),
    "LSTM, b_f + 3, b_i - 3": ("lstm", {"forget_bias": 3.0, "input_bias": -3.0}),
    "LSTM, b_f + 6, b_i - 3": ("lstm", {"forget_bias": 6.0, "input_bias": -3.0}),
    "GRU, b_z + 3": ("gru", {"update_bias": 3.0}),
}


def compare_settings(settings=None, seeds=range(10), T=400) -> dict:
    """:func:`path_summary` for every entry of ``settings`` (default :data:`SETTINGS`)."""
    settings = SETTINGS if settings is None else settings
    return {name: path_summary(kind, seeds, T, **kw) for name, (kind, kw) in settings.items()}


def _spread(v, fmt):
    def one(a):
        return "< 1e-300" if a < 1e-300 else fmt.format(a)
    return f"{one(np.median(v))} [{one(np.min(v))}, {one(np.max(v))}]"


def to_markdown(summaries: dict) -> str:
    """A Markdown table of :func:`compare_settings`: median [min, max] over seeds per column.

    Columns: mean keep gate (f or z); its product over the steps, per unit (median over
    units); g_1 along all routes, the cell (or direct) path only, the hidden paths only;
    the per-step growth of the backward product (LSTM only); median :math:`|C_t|` (LSTM).
    """
    head = ("| setting | mean f or z | product of f or z, per unit | all routes | cell / direct path only "
            "| hidden paths only | growth per step | median abs(C_t) |")
    lines = [head, "|---" * 8 + "|"]
    for name, s in summaries.items():
        direct = s["g_cell"] if "g_cell" in s else s["g_direct"]
        lstm = "lyapunov" in s
        cells = [_spread(s["keep_mean"], "{:.3f}"), _spread(s["keep_product_median"], "{:.1e}"),
                 _spread(s["g_full"], "{:.1e}"), _spread(direct, "{:.1e}"), _spread(s["g_hidden"], "{:.1e}"),
                 _spread(s["lyapunov"], "{:.3f}") if lstm else "n/a",
                 _spread(s["abs_c_median"], "{:.2f}") if lstm else "n/a"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
