r"""Checks for the exercises of Chapter 7, "Deeper and both ways".

Each ``check_*`` function takes the reader's function and returns a
:class:`~rnnlib.exercises._check.CheckResult`; it names the catalogued mistake
when it recognises one.

==============================  ================================================
check                           the reader writes
==============================  ================================================
:func:`check_n_params`          ``n_params(kind, D, H, num_layers, bidirectional)``:
                                the parameters of the torch module
:func:`check_bidirectional`     ``bidirectional(x, run_fwd, run_bwd) -> (N, T, 2H)``
:func:`check_masked_rnn`        ``masked_rnn(x, lengths, W_xh, W_hh, b_h) -> (hs, h)``
:func:`check_embedding_grad`    ``embedding_grad(ids, de, V, padding_idx) -> dW (V, D)``
:func:`check_dropout`           ``dropout(h, p, u, training)``, ``u`` uniform draws
==============================  ================================================

The references, cases and catalogues live in :mod:`rnnlib.exercises._ch7_mistakes`;
this module re-exports their public names.
"""

from __future__ import annotations

from ._ch7_mistakes import (BIDIRECTIONAL_MISTAKES, DROPOUT_MISTAKES, EMBEDDING_GRAD_MISTAKES,  # noqa: F401
                            MASKED_RNN_MISTAKES, N_PARAMS_MISTAKES, bidirectional_cases,
                            bidirectional_reference, dropout_cases, dropout_reference,
                            embedding_grad_cases, embedding_grad_reference, masked_rnn_cases,
                            masked_rnn_reference, n_params_cases, n_params_reference)
from ._check import WIDTH, Exercise

_N_PARAMS = Exercise(
    name="n_params", width=WIDTH, reference=n_params_reference, make_cases=n_params_cases,
    mistakes=N_PARAMS_MISTAKES,
    hint=("per layer and direction G*H*(D_k + H + 2), G = 1, 4, 3 for rnn, lstm, gru; D_0 = D, "
          "D_k = dirs*H above."),
)
_BIDIRECTIONAL = Exercise(
    name="bidirectional", width=WIDTH, reference=bidirectional_reference, make_cases=bidirectional_cases,
    mistakes=BIDIRECTIONAL_MISTAKES,
    hint="concatenate run_fwd(x) and run_bwd(x[:, ::-1])[:, ::-1] on the last axis, forward first.",
)
_MASKED_RNN = Exercise(
    name="masked_rnn", width=WIDTH, reference=masked_rnn_reference, make_cases=masked_rnn_cases,
    mistakes=MASKED_RNN_MISTAKES,
    hint="m = (t < lengths)[:, None]; h = where(m, h_new, h); hs[:, t] = where(m, h_new, 0).",
)
_EMBEDDING_GRAD = Exercise(
    name="embedding_grad", width=WIDTH, reference=embedding_grad_reference,
    make_cases=embedding_grad_cases, mistakes=EMBEDDING_GRAD_MISTAKES,
    hint="dW = zeros((V, D)); np.add.at(dW, ids.ravel(), de.reshape(-1, D)); zero the padding row.",
)
_DROPOUT = Exercise(
    name="dropout", width=WIDTH, reference=dropout_reference, make_cases=dropout_cases,
    mistakes=DROPOUT_MISTAKES,
    hint="training: h * (u < 1 - p) / (1 - p); evaluation: h unchanged.",
)


def check_n_params(fn):
    """Check ``fn(kind, D, H, num_layers, bidirectional) -> int``: torch's parameter count."""
    return _N_PARAMS.check(fn)


def check_bidirectional(fn):
    """Check ``fn(x, run_fwd, run_bwd) -> (N, T, 2H)``: both directions, forward first."""
    return _BIDIRECTIONAL.check(fn)


def check_masked_rnn(fn):
    """Check ``fn(x, lengths, W_xh, W_hh, b_h) -> (hs (N, T, H), h (N, H))`` on a padded batch."""
    return _MASKED_RNN.check(fn)


def check_embedding_grad(fn):
    """Check ``fn(ids, de, V, padding_idx) -> dW (V, D)``: the scatter-add."""
    return _EMBEDDING_GRAD.check(fn)


def check_dropout(fn):
    """Check ``fn(h, p, u, training)``: inverted dropout with the uniform draws ``u``."""
    return _DROPOUT.check(fn)


EXERCISES = {
    "n_params": _N_PARAMS,
    "bidirectional": _BIDIRECTIONAL,
    "masked_rnn": _MASKED_RNN,
    "embedding_grad": _EMBEDDING_GRAD,
    "dropout": _DROPOUT,
}
"""Every exercise of the chapter, by the name of the function the reader writes."""
