r"""GRU against GRU, and GRU against LSTM: the measurements of Chapter 3.

* :func:`count_matmuls` - run a function and record every matrix product it
  computes (``@`` / ``np.matmul``), with the operand shapes. It shows why
  libraries prefer the reset-after GRU: one fused product :math:`h_{t-1} W_h`
  per step serves all three blocks, while the reset-before form needs a second
  product that must wait for :math:`r_t`.
* :func:`n_params` - parameter counts by formula, for rnnlib, PyTorch and
  Keras layouts of the GRU and the LSTM.
* :func:`two_forms_models`, :func:`train_two_forms` - train the two GRU forms
  from the *same* initial function on the adding problem (several seeds) and
  collect the final held-out losses.

The training uses :mod:`rnnlib.training.model`, :mod:`rnnlib.training.loop` and
:mod:`rnnlib.data.tasks`; nothing here imports matplotlib or torch.

References
----------
Cho, K. et al. (2014). Learning phrase representations using RNN encoder-decoder
for statistical machine translation. EMNLP (arXiv:1406.1078v3).
Chung, J. et al. (2014). Empirical evaluation of gated recurrent neural networks
on sequence modeling. arXiv:1412.3555.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from rnnlib._checks import check_size
from rnnlib.conventions import gru_as_other_form
from rnnlib.layers import GRU
from rnnlib.training.model import SequenceModel
from rnnlib.data.tasks import ADDING_BASELINE_MSE, adding_problem
from rnnlib.training.loop import TrainConfig, train

FORMS = ("after", "before")
"""The two GRU forms, in the order of every array here: reset after / before the matmul."""

LIBRARIES = ("rnnlib", "torch", "keras")


# -- counting matrix products ----------------------------------------------------------

def count_matmuls(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` and record the shapes of every matrix product it computes.

    Parameters
    ----------
    fn : callable
    *args, **kwargs
        Passed to ``fn``; NumPy arrays among them are passed as views of a
        recording subclass of ``np.ndarray`` (values unchanged, not copied).

    Returns
    -------
    result
        What ``fn`` returned.
    products : list of (tuple, tuple)
        ``(shape of A, shape of B)`` for each ``A @ B`` (or ``np.matmul``) in
        which at least one operand is a given array or a slice of one, in call order.

    Notes
    -----
    A product between two arrays computed inside ``fn`` is not seen, nor is
    ``np.dot``, nor a product with a *copy* of a given array (e.g. the
    column-major weight copy the sequence functions make for float32 batches,
    :func:`rnnlib._loops.step_matmul_operands`). rnnlib's cells multiply their
    weights with ``@`` / ``np.matmul`` only, and in float64 every product of a
    cell involves a given weight or a slice of it, so all of them are seen.
    """
    products = []

    class _Recorded(np.ndarray):
        def __array_ufunc__(self, ufunc, method, *inputs, **kw):
            plain = [a.view(np.ndarray) if isinstance(a, _Recorded) else a for a in inputs]
            if "out" in kw:
                kw["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Recorded) else o for o in kw["out"])
            if ufunc is np.matmul and method == "__call__":
                products.append((np.shape(plain[0]), np.shape(plain[1])))
            return getattr(ufunc, method)(*plain, **kw)

    def wrap(a):
        return a.view(_Recorded) if isinstance(a, np.ndarray) else a

    result = fn(*[wrap(a) for a in args], **{k: wrap(v) for k, v in kwargs.items()})
    return result, products


# -- parameter counts -------------------------------------------------------------------

def n_params(kind, D, H, *, reset_after=True, library="rnnlib") -> int:
    r"""Number of trainable numbers of one recurrent layer, by formula.

    Parameters
    ----------
    kind : {"gru", "lstm"}
    D, H : int
        Input and hidden size.
    reset_after : bool
        GRU form (ignored for the LSTM). PyTorch has only the reset-after form.
    library : {"rnnlib", "torch", "keras"}
        Whose layout to count.

    Returns
    -------
    int

    Notes
    -----
    With G blocks (3 for the GRU, 4 for the LSTM) every layout has
    :math:`G(DH + H^2)` weights; they differ in the biases:

    ======  =====================  ======================  ===========================
    kind    rnnlib                 torch                   keras
    ======  =====================  ======================  ===========================
    GRU     :math:`3H` (+ H b_hn)  :math:`2 \cdot 3H`      :math:`2 \cdot 3H` (after),
                                                           :math:`3H` (before)
    LSTM    :math:`4H`             :math:`2 \cdot 4H`      :math:`4H`
    ======  =====================  ======================  ===========================

    torch keeps two full bias vectors ``bias_ih`` and ``bias_hh``; outside the
    GRU's candidate block they are only ever added, so half of them are redundant.
    """
    if kind not in ("gru", "lstm"):
        raise ValueError(f"kind must be 'gru' or 'lstm'; got {kind!r}")
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {LIBRARIES}; got {library!r}")
    D, H = check_size("D", D), check_size("H", H)
    if kind == "gru" and library == "torch" and not reset_after:
        raise ValueError("torch.nn.GRU has only the reset-after form (reset_after=True)")
    G = 3 if kind == "gru" else 4
    weights = G * (D * H + H * H)
    if library == "torch":
        biases = 2 * G * H
    elif kind == "lstm" or not reset_after:
        biases = G * H
    else:  # GRU reset-after: rnnlib adds b_hn (H,); Keras keeps a second (3H,) bias row
        biases = G * H + (H if library == "rnnlib" else G * H)
    return weights + biases


# -- training the two forms ---------------------------------------------------------------

def two_forms_models(hidden_size, seed, *, input_size=2, output_size=1):
    """Two GRU models, reset-after and reset-before, that start as the same function up to the reset.

    Parameters
    ----------
    hidden_size : int
    seed : int
        Initialises the reset-after model (``SequenceModel("gru", ..., seed=seed)``).
    input_size, output_size : int

    Returns
    -------
    dict
        ``{"after": SequenceModel, "before": SequenceModel}``. The reset-before
        layer gets :func:`rnnlib.conventions.gru_as_other_form` of the
        reset-after weights (``b_hn`` folded into the candidate bias) and a copy
        of the same readout, so the two compute the same thing wherever r = 1.
    """
    after = SequenceModel("gru", input_size, hidden_size, output_size, seed=seed, reset_after=True)
    layer = GRU.from_params(gru_as_other_form(after.rnn.params))
    before = SequenceModel(layer, output_size=output_size, seed=seed)
    for k, v in after.out.params.items():  # the same readout, copied in place
        before.out.params[k][...] = v
    return {"after": after, "before": before}


class TwoFormsResult(NamedTuple):
    """Result of :func:`train_two_forms`."""

    seeds: tuple  # (S,)
    final_loss: np.ndarray  # (2, S): held-out MSE after training; rows FORMS ("after", "before")
    histories: dict  # (form, seed) -> rnnlib.training.loop.History
    baseline: float  # MSE of the best memoryless prediction (1/6)
    config: TrainConfig
    T: int
    hidden_size: int

    def to_markdown(self, fmt="{:.1e}") -> str:
        """The final losses as a Markdown table: one row per form, one column per seed, and the median."""
        lines = ["| GRU form | " + " | ".join(f"seed {s}" for s in self.seeds) + " | median |",
                 "|---|" + "---|" * (len(self.seeds) + 1)]
        for form, row in zip(FORMS, self.final_loss):
            cells = [fmt.format(v) for v in row] + [fmt.format(np.median(row))]
            lines.append(f"| reset {form} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def train_two_forms(T=30, hidden_size=24, seeds=(0, 1, 2), config: TrainConfig | None = None) -> TwoFormsResult:
    r"""Train both GRU forms on the adding problem of length ``T`` for each seed.

    Parameters
    ----------
    T : int
        Sequence length of the adding problem (:func:`rnnlib.data.tasks.adding_problem`).
    hidden_size : int
    seeds : sequence of int
        Seed s initialises both models (:func:`two_forms_models`) and the data
        (``config.seed = s``): the two forms see the same batches.
    config : TrainConfig, optional
        Default: 300 Adam steps, batch 32, lr 1e-2, clip 1, evaluation every 50
        steps on 256 held-out sequences, no input-gradient probe (about 1 s
        per run on one thread at the default sizes).

    Returns
    -------
    TwoFormsResult
    """
    T, hidden_size = check_size("T", T), check_size("hidden_size", hidden_size)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if config is None:
        config = TrainConfig(steps=300, batch_size=32, lr=1e-2, clip=1.0, eval_every=50,
                             eval_size=256, probe_size=0)
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig; got {type(config).__name__}")

    def task(N, rng):
        return adding_problem(N, T, rng)

    final = np.empty((len(FORMS), len(seeds)))
    histories = {}
    for s, seed in enumerate(seeds):
        models = two_forms_models(hidden_size, seed)
        for k, form in enumerate(FORMS):
            history = train(models[form], task, replace(config, seed=seed))
            histories[(form, seed)] = history
            final[k, s] = history.final_eval_loss
    return TwoFormsResult(seeds, final, histories, ADDING_BASELINE_MSE, config, T, hidden_size)


__all__ = ["FORMS", "LIBRARIES", "count_matmuls", "n_params", "two_forms_models", "TwoFormsResult",
           "train_two_forms"]
