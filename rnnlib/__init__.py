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

Plots, widgets and exercise checks sit above the core in their own modules
and are imported explicitly (``import rnnlib.plots``), so ``import rnnlib``
stays fast and needs no display.
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
