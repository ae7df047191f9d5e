"""Bad input: every entry point fails early, with a message a reader can act on.

Each case asserts the exception type and, with ``match``, that the message
names the argument and says what was expected and/or what was received. Every
case also asserts that the exception was raised by rnnlib's own ``raise``
statement (the last traceback frame is in the rnnlib package) and is a plain
``TypeError``/``ValueError``/``RuntimeError``: no bare NumPy error from deep
inside a matmul or a broadcast ever reaches the reader.
"""

from __future__ import annotations

import pathlib
import traceback

import numpy as np
import pytest

import rnnlib
from rnnlib import GRU, LSTM, RNN, Adam, Linear, SGD

RNNLIB_DIR = pathlib.Path(rnnlib.__file__).resolve().parent
N, T, D, H = 2, 5, 3, 4
rng = np.random.default_rng(0)
X = rng.standard_normal((N, T, D))
DHS = rng.standard_normal((N, T, H))
S = rng.standard_normal((N, H))


def _with(a, idx, value):
    a = a.copy()
    a[idx] = value
    return a


def _after_forward(layer, *args):
    layer.forward(X, *args)
    return layer


def _rnn_p():
    return RNN(D, H).params


def _lstm_p():
    return LSTM(D, H).params


def _gru_p(reset_after=True):
    return GRU(D, H, reset_after=reset_after).params


def _sd(kind="lstm"):
    return rnnlib.to_torch_state_dict({"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind](D, H))


R = RuntimeError
V = ValueError
TE = TypeError

CASES = {
    # -- x ------------------------------------------------------------------------
    "x-rank": (lambda: RNN(D, H).forward(X[0]), V, r"x must have 3 dimensions \(N, T, D=3\); got shape \(5, 3\)"),
    "x-rank-4": (lambda: LSTM(D, H).forward(X[None]), V, r"x must have 3 dimensions .*got shape \(1, 2, 5, 3\)"),
    "x-feature-size": (lambda: GRU(D, H).forward(np.zeros((N, T, 7))), V,
                       r"x must have shape \(N, T, D=3\); got shape \(2, 5, 7\) \(axis 2, D, is 7, expected 3\)"),
    "x-empty": (lambda: RNN(D, H).forward(np.zeros((0, T, D))), V, r"x has an empty axis N"),
    "x-nan": (lambda: LSTM(D, H).forward(_with(X, (0, 1, 2), np.nan)), V,
              r"x contains 1 NaN or inf value\(s\); all entries must be finite"),
    "x-inf": (lambda: GRU(D, H).forward(_with(X, (1, 0, 0), -np.inf)), V, r"x contains 1 NaN or inf"),
    "x-int": (lambda: RNN(D, H).forward(np.ones((N, T, D), dtype=int)), TE,
              r"x must be a float32 or float64 array; got dtype int64 \(convert with x.astype\(np.float64\)\)"),
    "x-object": (lambda: RNN(D, H).forward(np.empty((N, T, D), dtype=object)), TE,
                 r"x must be a float32 or float64 array; got dtype object"),
    "x-bool": (lambda: RNN(D, H).forward(np.ones((N, T, D), dtype=bool)), TE, r"x must be a float32 .*got dtype bool"),
    "x-none": (lambda: RNN(D, H).forward(None), TE, r"x must be a NumPy array of shape \(N, T, D=3\); got NoneType"),
    "x-ragged-list": (lambda: RNN(D, H).forward([[[1.0, 2.0, 3.0]], [[1.0]]]), V,
                      r"x must be an array of shape \(N, T, D=3\); got a ragged nested list"),
    "x-list-of-arrays": (lambda: RNN(D, H).forward([X[0], X[1]]), TE, r"x must be a NumPy array .*got a list of arrays"),
    # -- state ------------------------------------------------------------------------
    "rnn-state-shape": (lambda: RNN(D, H).forward(X, np.zeros((N, H + 1))), V,
                        r"state must have shape \(N=2, H=4\); got shape \(2, 5\)"),
    "gru-state-batch": (lambda: GRU(D, H).forward(X, np.zeros((N + 1, H))), V,
                        r"state must have shape \(N=2, H=4\); got shape \(3, 4\) \(axis 0, N, is 3, expected 2\)"),
    "rnn-state-tuple": (lambda: RNN(D, H).forward(X, (S, S)), TE,
                        r"state for RNN must be an array h \(N, H\); got a tuple \(only the LSTM has a \(h, c\) state\)"),
    "gru-state-tuple": (lambda: GRU(D, H).forward(X, (S,)), TE, r"state for GRU must be an array h \(N, H\); got a tuple"),
    "lstm-state-not-tuple": (lambda: LSTM(D, H).forward(X, S), TE,
                             r"state for LSTM must be a tuple \(h, c\) of arrays \(N, H\); got ndarray"),
    "lstm-state-3-tuple": (lambda: LSTM(D, H).forward(X, (S, S, S)), TE, r"state for LSTM must be a tuple \(h, c\).*length 3"),
    "lstm-state-c-shape": (lambda: LSTM(D, H).forward(X, (S, S[:, :2])), V,
                           r"state\[1\] \(c\) must have shape \(N=2, H=4\); got shape \(2, 2\)"),
    "lstm-state-h-nan": (lambda: LSTM(D, H).forward(X, (_with(S, (0, 0), np.nan), S)), V,
                         r"state\[0\] \(h\) contains 1 NaN or inf"),
    "rnn-state-inf": (lambda: RNN(D, H).forward(X, _with(S, (1, 1), np.inf)), V, r"state contains 1 NaN or inf"),
    "state-int": (lambda: GRU(D, H).forward(X, np.zeros((N, H), dtype=np.int32)), TE,
                  r"state must be a float32 or float64 array; got dtype int32"),
    # -- backward -------------------------------------------------------------------
    "backward-before-forward": (lambda: LSTM(D, H).backward(DHS), R,
                                r"LSTM.backward called before forward: run forward\(x\) first"),
    "dhs-shape": (lambda: _after_forward(RNN(D, H)).backward(DHS[:, :-1]), V,
                  r"dhs must have shape \(N=2, T=5, H=4\); got shape \(2, 4, 4\)"),
    "dhs-rank": (lambda: _after_forward(GRU(D, H)).backward(DHS[:, 0]), V, r"dhs must have 3 dimensions"),
    "dhs-nan": (lambda: _after_forward(LSTM(D, H)).backward(_with(DHS, (0, 0, 0), np.nan)), V,
                r"dhs contains 1 NaN or inf"),
    "dhs-int": (lambda: _after_forward(RNN(D, H)).backward(np.ones((N, T, H), int)), TE,
                r"dhs must be a float32 or float64 array; got dtype int64"),
    "dstate-shape": (lambda: _after_forward(RNN(D, H)).backward(DHS, np.zeros((N, 2))), V,
                     r"dstate must have shape \(N=2, H=4\); got shape \(2, 2\)"),
    "lstm-dstate-not-tuple": (lambda: _after_forward(LSTM(D, H)).backward(DHS, S), TE,
                              r"dstate for LSTM must be a tuple \(h, c\)"),
    "gru-dstate-tuple": (lambda: _after_forward(GRU(D, H)).backward(DHS, (S, S)), TE,
                         r"dstate for GRU must be an array h"),
    "dstate-inf": (lambda: _after_forward(LSTM(D, H)).backward(DHS, (S, _with(S, (0, 0), np.inf))), V,
                   r"dstate\[1\] \(c\) contains 1 NaN or inf"),
    "backward-after-set_params": (lambda: _after_forward(RNN(D, H)).set_params(_rnn_p()).backward(DHS), R,
                                  r"RNN.backward called before forward"),
    # -- sizes, dtype, options ----------------------------------------------------------------
    "input_size-zero": (lambda: RNN(0, H), V, r"input_size must be a positive int; got 0"),
    "hidden_size-negative": (lambda: LSTM(D, -2), V, r"hidden_size must be a positive int; got -2"),
    "input_size-float": (lambda: GRU(2.5, H), TE, r"input_size must be a positive int; got float 2.5"),
    "hidden_size-bool": (lambda: RNN(D, True), TE, r"hidden_size must be a positive int; got bool True"),
    "hidden_size-str": (lambda: LSTM(D, "4"), TE, r"hidden_size must be a positive int; got str '4'"),
    "in_features-zero": (lambda: Linear(0, 2), V, r"in_features must be a positive int; got 0"),
    "out_features-float": (lambda: Linear(2, 1.0), TE, r"out_features must be a positive int; got float 1.0"),
    "dtype-int": (lambda: RNN(D, H, dtype=np.int64), TE, r"dtype must be np.float32 or np.float64; got int64"),
    "dtype-float16": (lambda: Linear(2, 3, dtype=np.float16), TE, r"dtype must be np.float32 or np.float64; got float16"),
    "dtype-nonsense": (lambda: GRU(D, H, dtype="banana"), TE, r"dtype must be np.float32 or np.float64; got 'banana'"),
    "init-unknown": (lambda: LSTM(D, H, init="he"), V,
                     r"init must be one of \('uniform', 'xavier', 'orthogonal'\); got 'he'"),
    "scheme-unknown": (lambda: rnnlib.init_params("rnn", D, H, rng, scheme="he"), V,
                       r"scheme must be one of \('uniform', 'xavier', 'orthogonal'\); got 'he'"),
    "kind-unknown-init": (lambda: rnnlib.init_params("cnn", D, H, rng), V,
                          r"kind must be one of \('rnn', 'lstm', 'gru'\); got 'cnn'"),
    "kind-unknown-torch": (lambda: rnnlib.from_torch_state_dict(_sd(), "transformer"), V,
                           r"kind must be one of \('rnn', 'lstm', 'gru'\); got 'transformer'"),
    "seed-str": (lambda: RNN(D, H, seed="abc"), TE, r"seed must be a non-negative int \(or None\); got 'abc'"),
    "seed-negative": (lambda: Linear(2, 3, seed=-1), TE, r"seed must be a non-negative int \(or None\); got -1"),
    "rng-not-generator": (lambda: RNN(D, H, rng=np.random.RandomState(0)), TE,
                          r"rng must be a np.random.Generator.*got RandomState"),
    "linear-rng": (lambda: Linear(2, 3, rng=1), TE, r"rng must be a np.random.Generator; got int"),
    "reset_after-str": (lambda: GRU(D, H, reset_after="yes"), TE, r"reset_after must be True or False; got 'yes'"),
    "forget_bias-on-gru": (lambda: rnnlib.init_params("gru", D, H, rng, forget_bias=1.0), V,
                           r"forget_bias applies to kind='lstm' only; got kind='gru'"),
    "update_bias-on-lstm": (lambda: rnnlib.init_params("lstm", D, H, rng, update_bias=1.0), V,
                            r"update_bias applies to kind='gru' only; got kind='lstm'"),
    "forget_bias-on-rnn-layer": (lambda: RNN(D, H, forget_bias=1.0), V, r"forget_bias applies to kind='lstm' only"),
    "uniform-negative-shape": (lambda: rnnlib.uniform((-1, 2), H, rng), V, r"shape\[0\] must be a positive int; got -1"),
    "uniform-rng": (lambda: rnnlib.uniform((2, 2), H, 0), TE, r"rng must be a np.random.Generator"),
    "xavier-fan_in": (lambda: rnnlib.xavier_uniform(0, 3, rng), V, r"fan_in must be a positive int; got 0"),
    "orthogonal-cols": (lambda: rnnlib.orthogonal(3, 2.0, rng), TE, r"cols must be a positive int; got float 2.0"),
    # -- parameters, state dicts --------------------------------------------------------
    "set_params-missing-key": (lambda: LSTM(D, H).set_params({k: v for k, v in _lstm_p().items() if k != "b"}), V,
                               r"params must have exactly the keys \['W_h', 'W_x', 'b'\]; missing \['b'\], unexpected \[\]"),
    "set_params-extra-key": (lambda: RNN(D, H).set_params({**_rnn_p(), "W_x": np.zeros((D, H))}), V,
                             r"params must have exactly the keys .*unexpected \['W_x'\]"),
    "set_params-shape": (lambda: LSTM(D, H).set_params({**_lstm_p(), "W_h": np.zeros((H, H))}), V,
                         r"params\['W_h'\] must have shape \(H=4, 4H=16\); got shape \(4, 4\)"),
    "set_params-nan": (lambda: RNN(D, H).set_params({**_rnn_p(), "b_h": np.full(H, np.nan)}), V,
                       r"params\['b_h'\] contains 4 NaN or inf"),
    "set_params-not-dict": (lambda: GRU(D, H).set_params([1, 2]), TE, r"params must be a dict of arrays; got list"),
    "from_params-missing": (lambda: LSTM.from_params({"W_x": np.zeros((D, 4 * H))}), V,
                            r"params must contain 'W_h'; got keys \['W_x'\]"),
    "from_params-rank": (lambda: RNN.from_params({**_rnn_p(), "W_xh": np.zeros(D)}), V,
                         r"params\['W_xh'\] must have 2 dimensions \(D, GH\); got shape \(3,\)"),
    "from_params-not-dict": (lambda: GRU.from_params(None), TE, r"params must be a dict of arrays; got NoneType"),
    "gru-b_hn-missing-step": (lambda: rnnlib.gru_step_forward(X[:, 0], S, **{k: v for k, v in _gru_p().items() if k != "b_hn"}),
                              V, r"b_hn \(H,\) is required when reset_after=True"),
    "gru-b_hn-present-before": (lambda: rnnlib.gru_forward(X, S, **_gru_p(), reset_after=False), V,
                                r"b_hn must be None when reset_after=False \(the reset-before form has one bias\)"),
    "gru-b_hn-shape": (lambda: rnnlib.gru_forward(X, S, **{**_gru_p(), "b_hn": np.zeros(H + 1)}), V,
                       r"b_hn must have shape \(H=4\); got shape \(5,\)"),
    "gru-layer-b_hn-absent": (lambda: GRU(D, H).set_params(_gru_p(reset_after=False)), V,
                              r"params must have exactly the keys .*missing \['b_hn'\]"),
    "gru-layer-b_hn-present": (lambda: GRU(D, H, reset_after=False).set_params(_gru_p()), V,
                               r"params must have exactly the keys .*unexpected \['b_hn'\]"),
    "gru-from_params-b_hn-absent": (lambda: GRU.from_params(_gru_p(reset_after=False), reset_after=True), V,
                                    r"missing \['b_hn'\]"),
    "gru-to-torch-reset-before": (lambda: rnnlib.to_torch_state_dict(GRU(D, H, reset_after=False)), V,
                                  r"reset_after=False: torch.nn.GRU implements only the reset-after form"),
    "sd-missing-key": (lambda: rnnlib.from_torch_state_dict({k: v for k, v in _sd().items() if k != "weight_hh_l0"}, "lstm"),
                       V, r"state_dict is missing \['weight_hh_l0'\]"),
    "sd-wrong-shape": (lambda: rnnlib.from_torch_state_dict({**_sd(), "weight_hh_l0": np.zeros((4 * H, H + 1))}, "lstm"),
                       V, r"state_dict\['weight_hh_l0'\] must have shape \(G\*H=16, H=4\); got shape \(16, 5\)"),
    "sd-rnn-as-gru": (lambda: rnnlib.from_torch_state_dict(_sd("rnn"), "gru"), V,
                      r"state_dict\['weight_ih_l0'\] must have 3\*H rows for kind='gru'; got shape \(4, 3\)"),
    "sd-extra-key": (lambda: rnnlib.from_torch_state_dict({**_sd("rnn"), "weight_hr_l0": np.zeros((2, 2))}, "rnn"), V,
                     r"state_dict has unexpected keys \['weight_hr_l0'\]"),
    "sd-not-dict": (lambda: rnnlib.from_torch_state_dict(None, "rnn"), TE, r"state_dict must be a dict; got NoneType"),
    "to-torch-not-layer": (lambda: rnnlib.to_torch_state_dict({"W": 1}), TE, r"layer must be an rnnlib RNN, LSTM or GRU; got dict"),
    # -- step and sequence functions ---------------------------------------------------------
    "rnn-step-x_t-D": (lambda: rnnlib.rnn_step_forward(np.zeros((N, D + 1)), S, **_rnn_p()), V,
                       r"x_t must have shape \(N, D=3\); got shape \(2, 4\)"),
    "rnn-step-h_prev-N": (lambda: rnnlib.rnn_step_forward(X[:, 0], S[:1], **_rnn_p()), V,
                          r"h_prev must have shape \(N=2, H=4\); got shape \(1, 4\)"),
    "rnn-W_hh-not-square": (lambda: rnnlib.rnn_forward(X, S, **{**_rnn_p(), "W_hh": np.zeros((H, H + 1))}), V,
                            r"W_hh must have shape \(H=4, H=4\); got shape \(4, 5\)"),
    "rnn-b_h-shape": (lambda: rnnlib.rnn_forward(X, S, **{**_rnn_p(), "b_h": np.zeros((1, H))}), V,
                      r"b_h must have 1 dimensions \(H=4\); got shape \(1, 4\)"),
    "lstm-W_x-not-4H": (lambda: rnnlib.lstm_forward(X, (S, S), np.zeros((D, 15)), np.zeros((H, 16)), np.zeros(16)), V,
                        r"W_x must have shape \(D, 4H\) \(gates f, i, o, c_tilde stacked\); got \(3, 15\)"),
    "lstm-c0-shape": (lambda: rnnlib.lstm_forward(X, (S, S[:, :1]), **_lstm_p()), V,
                      r"state0\[1\] \(c0\) must have shape \(N=2, H=4\); got shape \(2, 1\)"),
    "lstm-state0-array": (lambda: rnnlib.lstm_forward(X, S, **_lstm_p()), TE,
                          r"state0 must be a pair \(h0, c0\) of arrays \(N, H\): the LSTM's state is h and c; "
                          r"got ndarray of shape \(2, 4\)"),
    "lstm-step-state-triple": (lambda: rnnlib.lstm_step_forward(X[:, 0], (S, S, S), **_lstm_p()), TE,
                               r"state_prev must be a pair \(h_prev, c_prev\) .*got tuple of length 3"),
    "lstm-step-c_prev-nan": (lambda: rnnlib.lstm_step_forward(X[:, 0], (S, _with(S, (0, 0), np.nan)), **_lstm_p()), V,
                             r"state_prev\[1\] \(c_prev\) contains 1 NaN or inf"),
    "gru-W_x-not-3H": (lambda: rnnlib.gru_forward(X, S, np.zeros((D, 11)), np.zeros((H, 12)), np.zeros(12), np.zeros(H)), V,
                       r"W_x must have shape \(D, 3H\) \(z, r, h_tilde stacked\); got \(3, 11\)"),
    "gru-h0-int": (lambda: rnnlib.gru_forward(X, np.zeros((N, H), int), **_gru_p()), TE,
                   r"h0 must be a float32 or float64 array; got dtype int64"),
    "rnn-step-backward-shape": (lambda: rnnlib.rnn_step_backward(np.zeros((N, H + 1)), rnnlib.rnn_step_forward(X[:, 0], S, **_rnn_p())[1]),
                                V, r"dh_next must have shape \(N=2, H=4\); got shape \(2, 5\)"),
    "lstm-step-backward-dc": (lambda: rnnlib.lstm_step_backward((S, S[:1]), rnnlib.lstm_step_forward(X[:, 0], (S, S), **_lstm_p())[1]),
                              V, r"dstate_next\[1\] \(dc_next\) must have shape \(N=2, H=4\); got shape \(1, 4\)"),
    "lstm-step-backward-array": (lambda: rnnlib.lstm_step_backward(S, rnnlib.lstm_step_forward(X[:, 0], (S, S), **_lstm_p())[1]),
                                 TE, r"dstate_next must be a pair \(dh_next, dc_next\) .*\(either may be None\)"),
    "gru-step-backward-nan": (lambda: rnnlib.gru_step_backward(_with(S, (0, 0), np.nan), rnnlib.gru_step_forward(X[:, 0], S, **_gru_p())[1]),
                              V, r"dh_next contains 1 NaN or inf"),
    "rnn-backward-dhs": (lambda: rnnlib.rnn_backward(DHS[:1], rnnlib.rnn_forward(X, S, **_rnn_p())[2]), V,
                         r"dhs must have shape \(N=2, T=5, H=4\); got shape \(1, 5, 4\)"),
    "lstm-backward-dc_T": (lambda: rnnlib.lstm_backward(DHS, rnnlib.lstm_forward(X, (S, S), **_lstm_p())[2], (None, S[:, :2])), V,
                           r"dstate_T\[1\] \(dc_T\) must have shape \(N=2, H=4\); got shape \(2, 2\)"),
    "gru-backward-dh_T-inf": (lambda: rnnlib.gru_backward(DHS, rnnlib.gru_forward(X, S, **_gru_p())[2], _with(S, (0, 0), np.inf)), V,
                              r"dstate_T contains 1 NaN or inf"),
    "rnn-backward-dstate_T-pair": (lambda: rnnlib.rnn_backward(DHS, rnnlib.rnn_forward(X, S, **_rnn_p())[2], (S, S)), TE,
                                   r"dstate_T must be a NumPy array of shape \(N=2, H=4\); got a tuple of arrays"),
    "split_gates-lstm": (lambda: rnnlib.lstm.split_gates(np.zeros((2, 6))), V,
                         r"a must have a last axis of size 4H \(f, i, o, c_tilde stacked\); got shape \(2, 6\)"),
    "split_gates-gru": (lambda: rnnlib.gru.split_gates(np.zeros(4)), V, r"a must have a last axis of size 3H .*got shape \(4,\)"),
    "stack_gates-mismatch": (lambda: rnnlib.lstm.stack_gates(np.zeros(2), np.zeros(3), np.zeros(2), np.zeros(2)), V,
                             r"f, i, o, c_tilde must all have the same shape \(\.\.\., H\); got \[\(2,\), \(3,\), \(2,\), \(2,\)\]"),
    "stack_gates-gru-mismatch": (lambda: rnnlib.gru.stack_gates(np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((1, 2))), V,
                                 r"z, r, h_tilde must all have the same shape"),
    # -- Linear ----------------------------------------------------------------------------
    "linear-h-features": (lambda: Linear(H, 2).forward(np.zeros((N, T, H + 1))), V,
                          r"h must have shape \(n0, n1, in=4\); got shape \(2, 5, 5\)"),
    "linear-h-scalar": (lambda: Linear(H, 2).forward(np.float64(1.0)), TE, r"h must be an array \(\.\.\., 4\)"),
    "linear-h-int": (lambda: Linear(H, 2).forward(np.ones((N, H), int)), TE, r"h must be a float32 or float64 array"),
    "linear-backward-before-forward": (lambda: Linear(H, 2).backward(np.zeros((N, 2))), R,
                                       r"Linear.backward called before forward: run forward\(h\) first"),
    "linear-dy-shape": (lambda: (lambda lin: (lin.forward(S), lin.backward(np.zeros((N, 3)))))(Linear(H, 2)), V,
                        r"dy must have shape \(n0=2, out=2\); got shape \(2, 3\)"),
    # -- losses ------------------------------------------------------------------------------
    "mse-shape": (lambda: rnnlib.mse_loss(np.zeros((N, 1)), np.zeros(N)), V,
                  r"target must have 2 dimensions \(n0=2, n1=1\); got shape \(2,\)"),
    "mse-nan": (lambda: rnnlib.mse_loss(np.full((N, 1), np.nan), np.zeros((N, 1))), V, r"pred contains 2 NaN or inf"),
    "sce-labels-float": (lambda: rnnlib.softmax_cross_entropy(np.zeros((N, 3)), np.array([0.0, 1.0])), TE,
                         r"labels must be an integer array; got dtype float64"),
    "sce-labels-shape": (lambda: rnnlib.softmax_cross_entropy(np.zeros((N, T, 3)), np.zeros(N, int)), V,
                         r"labels must have shape \(2, 5\) \(logits without its last axis\); got \(2,\)"),
    "sce-labels-range": (lambda: rnnlib.softmax_cross_entropy(np.zeros((N, 3)), np.array([0, 3])), V,
                         r"labels must lie in \[0, 3\); got values in \[0, 3\]"),
    "sce-labels-negative": (lambda: rnnlib.softmax_cross_entropy(np.zeros((N, 3)), np.array([-1, 2])), V,
                            r"labels must lie in \[0, 3\); got values in \[-1, 2\]"),
    "sce-logits-list": (lambda: rnnlib.softmax_cross_entropy([[0.0, 1.0]], np.array([0])), TE,
                        r"logits must be an array \(\.\.\., V\); got list"),
    "sce-logits-inf": (lambda: rnnlib.softmax_cross_entropy(np.array([[np.inf, 0.0]]), np.array([0])), V,
                       r"logits contains 1 NaN or inf"),
    # -- optimisers and clipping ---------------------------------------------------------------
    "opt-grads-keys": (lambda: SGD({"W": np.zeros((2, 3)), "b": np.zeros(3)}).step({"W": np.zeros((2, 3)), "c": np.zeros(3)}), V,
                       r"grads must have the same keys as params; missing \['b'\], unexpected \['c'\]"),
    "opt-grads-shape": (lambda: Adam({"W": np.zeros((2, 3))}).step({"W": np.zeros((3, 2))}), V,
                        r"grads\['W'\] must have shape \(2, 3\); got \(3, 2\)"),
    "opt-grads-list": (lambda: SGD({"W": np.zeros(2)}).step({"W": [1.0, 2.0]}), TE,
                       r"grads\['W'\] must be a float ndarray of shape \(2,\); got list"),
    "opt-grads-object": (lambda: Adam({"W": np.zeros(2)}).step({"W": np.array([None, None])}), TE,
                         r"grads\['W'\] must be a float ndarray of shape \(2,\); got ndarray of dtype object"),
    "opt-grads-not-dict": (lambda: Adam({"W": np.zeros(2)}).step([np.zeros(2)]), TE, r"grads must be a dict of arrays; got list"),
    "opt-params-empty": (lambda: SGD({}), TE, r"params must be a non-empty dict of arrays; got dict"),
    "opt-params-int": (lambda: Adam({"W": np.zeros(2, int)}), TE, r"params\['W'\] must be a float ndarray; got ndarray"),
    "opt-lr-negative": (lambda: SGD({"W": np.zeros(2)}, lr=-0.1), V, r"lr must be a positive number; got -0.1"),
    "opt-lr-str": (lambda: Adam({"W": np.zeros(2)}, lr="0.1"), V, r"lr must be a positive number; got '0.1'"),
    "opt-momentum-one": (lambda: SGD({"W": np.zeros(2)}, momentum=1.0), V, r"momentum must lie in \[0, 1\); got 1.0"),
    "opt-momentum-str": (lambda: SGD({"W": np.zeros(2)}, momentum="0.9"), V, r"momentum must lie in \[0, 1\); got '0.9'"),
    "opt-beta2": (lambda: Adam({"W": np.zeros(2)}, beta2=1.0), V, r"beta2 must lie in \[0, 1\); got 1.0"),
    "clip-max_norm-zero": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, 0.0), V,
                           r"max_norm must be a positive number; got 0.0"),
    "clip-max_norm-negative": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, -1), V,
                               r"max_norm must be a positive number; got -1"),
    "clip-max_norm-nan": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, float("nan")), V,
                          r"max_norm must be a positive number; got nan"),
    "clip-max_norm-str": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, "5"), V,
                          r"max_norm must be a positive number; got '5'"),
    "clip-max_norm-none": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, None), V,
                           r"max_norm must be a positive number; got None"),
    "clip-max_norm-bool": (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, True), V,
                           r"max_norm must be a positive number; got True"),
    "clip-grads-int": (lambda: rnnlib.clip_grad_norm({"W": np.array([3, 4])}, 1.0), TE,
                       r"grads\['W'\] must be a float ndarray \(clipped in place\); got ndarray of dtype int64"),
    "clip-grads-str": (lambda: rnnlib.clip_grad_norm({"W": "abc"}, 1.0), TE, r"grads\['W'\] must be a numeric array; got str"),
    "clip-grads-not-dict": (lambda: rnnlib.clip_grad_norm([np.ones(2)], 1.0), TE, r"grads must be a dict of arrays; got list"),
    # -- gradient checks -------------------------------------------------------------------
    "numgrad-int-x": (lambda: rnnlib.numerical_gradient(lambda v: v, np.arange(3)), TE,
                      r"x must be a float ndarray \(float64 for gradient checks\); got ndarray of dtype int64"),
    "numgrad-df-shape": (lambda: rnnlib.numerical_gradient(lambda v: v, np.ones(3), np.ones(4)), V,
                         r"df must have the shape of f's output \(3,\); got \(4,\)"),
    "rel_error-shapes": (lambda: rnnlib.rel_error(np.ones((2, 1)), np.ones(2)), V,
                         r"a and b must have the same shape; got \(2, 1\) and \(2,\)"),
    "check_grads-rng": (lambda: rnnlib.check_grads(lambda v: v, np.ones(2), np.ones(2), rng=None), TE,
                        r"rng must be a np.random.Generator; got NoneType"),
}


@pytest.mark.parametrize("call, exc, match", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_reported_by_rnnlib(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert type(info.value).__module__ == "builtins", type(info.value)  # not a NumPy exception class
    raised_in = pathlib.Path(str(info.traceback[-1].path)).resolve().parent
    assert raised_in == RNNLIB_DIR, f"raised from {info.traceback[-1].path}, not by rnnlib itself"


# Malformed calls of every kind, each with the argument its message must name.
# Broader than the table above: no exact wording, just "named, and raised by rnnlib".
SWEEP = [
    (lambda: RNN(D, H).forward(np.zeros((N, T))), "x"),
    (lambda: LSTM(D, H).forward(np.zeros((N, T, D), np.complex128)), "x"),
    (lambda: GRU(D, H).forward("not an array"), "x"),
    (lambda: GRU(D, H).forward(X, [[0.0] * H] * (N + 1)), "state"),
    (lambda: LSTM(D, H).forward(X, [S, S[:1]]), "state"),
    (lambda: LSTM(D, H).forward(X, None), None),  # valid: no error expected
    (lambda: _after_forward(LSTM(D, H)).backward(DHS.astype(np.float16)), "dhs"),
    (lambda: _after_forward(GRU(D, H, reset_after=False)).backward(DHS[..., :2]), "dhs"),
    (lambda: _after_forward(RNN(D, H)).backward(DHS, [S]), "dstate"),
    (lambda: rnnlib.rnn_forward(X, S, np.zeros((D + 1, H)), np.zeros((H, H)), np.zeros(H)), "x"),
    (lambda: rnnlib.lstm_forward(X, (S, S), np.zeros((D, 4 * H)), np.zeros((H + 1, 4 * H)), np.zeros(4 * H)), "W_h"),
    (lambda: rnnlib.gru_forward(X, S, np.zeros((D, 3 * H)), np.zeros((H, 3 * H)), np.zeros(3 * H + 1), np.zeros(H)), "b"),
    (lambda: rnnlib.gru_step_forward(X[:, 0], S, np.zeros((D, 3 * H)), np.zeros((H, 3 * H)), np.zeros(3 * H), None), "b_hn"),
    (lambda: rnnlib.lstm_step_forward(X[:, 0].tolist(), [S, S.tolist()], **_lstm_p()), None),  # lists are fine
    (lambda: rnnlib.rnn_step_forward(X[:, 0], S, **{**_rnn_p(), "W_xh": _rnn_p()["W_xh"].astype(np.float16)}), "W_xh"),
    (lambda: Linear(H, 3).forward(S.astype(int)), "h"),
    (lambda: Linear(H, 3).forward([[1.0, 2.0], [3.0]]), "h"),
    (lambda: rnnlib.mse_loss(np.zeros(3), [[0.0, 0.0, 0.0]]), "target"),
    (lambda: rnnlib.softmax_cross_entropy(np.zeros((2, 3)), [[0], [1]]), "labels"),
    (lambda: rnnlib.softmax_cross_entropy(np.zeros((2, 3)), ["a", "b"]), "labels"),
    (lambda: rnnlib.from_torch_state_dict({k: v.tolist() for k, v in _sd().items()}, "lstm"), None),  # lists are fine
    (lambda: rnnlib.from_torch_state_dict({**_sd(), "bias_ih_l0": "zeros"}, "lstm"), "bias_ih_l0"),
    (lambda: rnnlib.from_torch_state_dict({**_sd(), "weight_ih_l0": np.zeros((4 * H, D, 1))}, "lstm"), "weight_ih_l0"),
    (lambda: LSTM(D, H).set_params({**_lstm_p(), "b": [0.0] * (4 * H - 1)}), "params['b']"),
    (lambda: GRU.from_params({**_gru_p(), "W_h": np.zeros((H, 3 * H + 1))}), "params"),
    (lambda: SGD({"W": np.zeros(2)}).step({"W": np.zeros(3)}), "grads['W']"),
    (lambda: SGD({"W": np.zeros(2)}, lr=np.float32(0.1)).step({"W": np.ones(2)}), None),  # NumPy scalars are fine
    (lambda: Adam({"W": np.zeros(2)}, beta1=None), "beta1"),
    (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, [1.0]), "max_norm"),
    (lambda: rnnlib.clip_grad_norm({"W": np.ones(2)}, np.float32(1.0)), None),
    (lambda: rnnlib.global_norm({"W": np.array(["a"])}), "grads['W']"),
    (lambda: rnnlib.init_params("lstm", D, H, rng, dtype=np.int8), "dtype"),
    (lambda: rnnlib.init_params("lstm", 0, H, rng), "input_size"),
    (lambda: rnnlib.uniform((2, 2.5), H, rng), "shape[1]"),
    (lambda: rnnlib.uniform(3, 0, rng), "hidden_size"),
    (lambda: rnnlib.orthogonal(-1, 3, rng), "rows"),
    (lambda: rnnlib.lstm.split_gates(np.float64(1.0)), "a"),
]


def test_no_bare_numpy_error_escapes():
    problems = []
    for k, (call, name) in enumerate(SWEEP):
        try:
            call()
        except (TypeError, ValueError, RuntimeError) as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            if name is None:
                problems.append(f"case {k}: unexpected {type(exc).__name__}: {exc}")
            elif type(exc).__module__ != "builtins" or pathlib.Path(frame.filename).resolve().parent != RNNLIB_DIR:
                problems.append(f"case {k}: bare {type(exc).__module__}.{type(exc).__name__} from "
                                f"{frame.filename}:{frame.lineno}: {exc}")
            elif name not in str(exc):
                problems.append(f"case {k}: message does not name {name!r}: {exc}")
        except Exception as exc:  # anything else (FloatingPointError, LinAlgError, ...) is a leak
            problems.append(f"case {k}: {type(exc).__module__}.{type(exc).__name__}: {exc}")
        else:
            if name is not None:
                problems.append(f"case {k}: no error for a malformed {name}")
    assert not problems, "\n".join(problems)
