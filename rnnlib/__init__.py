"""rnnlib: the recurrent layers of "Recurrent Layers, by Hand", in NumPy.

The folder tree is the architecture. At the top level sits the numeric core,
which imports only NumPy (``import rnnlib`` loads nothing else):

* :mod:`rnnlib.activations` - stable sigmoid, tanh, softmax
* :mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`, :mod:`rnnlib.gru` - step and sequence
  forward/backward functions with explicit caches, one calling convention for
  the three (``state_next, cache = X_step_forward(x_t, state_prev, *params)``,
  ``dx, dstate0, grads = X_backward(dhs, cache, dstate_T=None)``, ...; the LSTM's
  state the pair ``(h, c)``; ``grads`` keyed like the layer's ``params``)
* :mod:`rnnlib.layers` - ``RNN``, ``LSTM``, ``GRU``, ``Linear``
* :mod:`rnnlib.stacked` - stacked, bidirectional and padded (``lengths``) runs
  of those layers, dropout between layers
* :mod:`rnnlib.embedding` - ``Embedding``, the token lookup table
* :mod:`rnnlib.scan` - the linear recurrence h = a h + b by loop, scan, log-scan, chunks
* :mod:`rnnlib.minimal`, :mod:`rnnlib.minimal_stack` - ``MinGRU``, ``MinLSTM``, ``MinimalStack``
* :mod:`rnnlib.gates` - one-matmul-per-gate cells, gate traces, LSTM variants
* :mod:`rnnlib.init` - initialisers
* :mod:`rnnlib.losses`, :mod:`rnnlib.optim` - losses, SGD/Adam, clipping
* :mod:`rnnlib.gradcheck` - finite-difference checks
* :mod:`rnnlib.torch_io` - PyTorch ``state_dict`` conversion (no torch import)
* :mod:`rnnlib.conventions` - Keras and CS231n layouts, the GRU's two forms and
  its update-gate convention

Above it, subpackages by concern, each importing only from the layers below
(the order of this list; ``tests/test_layering.py`` checks it):

* :mod:`rnnlib.data` - generated tasks and languages (NumPy)
* :mod:`rnnlib.training` - models with a readout, the training loop, character
  language models (tqdm)
* :mod:`rnnlib.experiments` - the chapters' measurements, slower baselines and
  the benchmark (``python -m rnnlib.experiments.bench``)
* :mod:`rnnlib.figures` - plots, diagrams, widgets, the gate inspector
  (matplotlib, ipywidgets)
* :mod:`rnnlib.exercises` - the self-checking exercises, one module a chapter
"""

from rnnlib import activations, gradcheck, gru, init, losses, lstm, optim, rnn
from rnnlib.embedding import Embedding
from rnnlib.activations import log_softmax, sigmoid, softmax, tanh
from rnnlib.gradcheck import check_grads, max_rel_error, numerical_gradient, rel_error
from rnnlib.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from rnnlib.init import init_params, orthogonal, uniform, xavier_uniform
from rnnlib.layers import GRU, LSTM, RNN, Linear, Recurrent
from rnnlib.losses import mse_loss, softmax_cross_entropy
from rnnlib.minimal import MinGRU, MinLSTM
from rnnlib.minimal_stack import MinimalStack
from rnnlib.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from rnnlib.optim import SGD, Adam, clip_grad_norm, global_norm
from rnnlib.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnnlib.scan import linear_recurrence, linear_recurrence_backward
from rnnlib.torch_io import from_torch_state_dict, to_torch_state_dict

__version__ = "0.1.0"

__all__ = [
    "RNN", "LSTM", "GRU", "Linear", "Recurrent", "Embedding",
    "sigmoid", "tanh", "softmax", "log_softmax",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "init_params", "uniform", "xavier_uniform", "orthogonal",
    "mse_loss", "softmax_cross_entropy",
    "SGD", "Adam", "clip_grad_norm", "global_norm",
    "numerical_gradient", "rel_error", "max_rel_error", "check_grads",
    "to_torch_state_dict", "from_torch_state_dict",
    "activations", "rnn", "lstm", "gru", "init", "losses", "optim", "gradcheck",
    "MinGRU", "MinLSTM", "MinimalStack", "linear_recurrence", "linear_recurrence_backward",
]
