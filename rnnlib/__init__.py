"""rnnlib: the recurrent layers of "Recurrent Layers, by Hand", in NumPy.

The numeric core imports only NumPy:

* :mod:`rnnlib.activations` - stable sigmoid, tanh, softmax
* :mod:`rnnlib.rnn`, :mod:`rnnlib.lstm`, :mod:`rnnlib.gru` - step and sequence
  forward/backward functions with explicit caches
* :mod:`rnnlib.layers` - ``RNN``, ``LSTM``, ``GRU``, ``Linear``
* :mod:`rnnlib.init` - initialisers
* :mod:`rnnlib.losses`, :mod:`rnnlib.optim` - losses, SGD/Adam, clipping
* :mod:`rnnlib.gradcheck` - finite-difference checks
* :mod:`rnnlib.torch_io` - PyTorch ``state_dict`` conversion (no torch import)
* :mod:`rnnlib.gates` - one-matmul-per-gate cells, gate traces, LSTM variants
* :mod:`rnnlib.conventions`, :mod:`rnnlib.mixups` - Keras/CS231n layouts, the
  GRU update convention, and the classic conversion mistakes, measured
* :mod:`rnnlib.gradient_flow`, :mod:`rnnlib.experiments` - gradient-norm
  measurements (input gradients over T; Jacobian products over the lag)
* :mod:`rnnlib.tasks`, :mod:`rnnlib.model` - the adding and copy tasks, a
  recurrent layer with a linear readout
* :mod:`rnnlib.toy_language`, :mod:`rnnlib.charlm` - generated bracketed text,
  a character codec, sampling, bits per character, an n-gram baseline
* :mod:`rnnlib.compare`, :mod:`rnnlib.baselines`, :mod:`rnnlib.bench` - the
  measured comparisons of Chapters 3 and 6 (``python -m rnnlib.bench``)

Above the core, imported explicitly (``from rnnlib import plots``), so
``import rnnlib`` stays fast and needs no display:

* :mod:`rnnlib.training` (tqdm) - the training loop
* :mod:`rnnlib.style` - the book's one colour palette
* :mod:`rnnlib.plots`, :mod:`rnnlib.curves`, :mod:`rnnlib.diagrams`,
  :mod:`rnnlib.diagrams_lstm`, :mod:`rnnlib.diagrams_gru` (matplotlib)
* :mod:`rnnlib.widgets`, :mod:`rnnlib.inspector` (ipywidgets) - live and
  static (browser-linked) widgets, the gate inspector
* :mod:`rnnlib.interpret` (matplotlib) - recording activations, ranking
  units against a signal, Karpathy-style character strips
* :mod:`rnnlib.exercises` - the self-checking exercises, one module a chapter
"""

from . import activations, gradcheck, gru, init, losses, lstm, optim, rnn
from .activations import log_softmax, sigmoid, softmax, tanh
from .gradcheck import check_grads, numerical_gradient, rel_error
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .init import init_params, orthogonal, uniform, xavier_uniform
from .layers import GRU, LSTM, RNN, Linear, Recurrent
from .losses import mse_loss, softmax_cross_entropy
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .optim import SGD, Adam, clip_grad_norm, global_norm
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .torch_io import from_torch_state_dict, to_torch_state_dict

__version__ = "0.1.0"

__all__ = [
    "RNN", "LSTM", "GRU", "Linear", "Recurrent",
    "sigmoid", "tanh", "softmax", "log_softmax",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "init_params", "uniform", "xavier_uniform", "orthogonal",
    "mse_loss", "softmax_cross_entropy",
    "SGD", "Adam", "clip_grad_norm", "global_norm",
    "numerical_gradient", "rel_error", "check_grads",
    "to_torch_state_dict", "from_torch_state_dict",
    "activations", "rnn", "lstm", "gru", "init", "losses", "optim", "gradcheck",
]
