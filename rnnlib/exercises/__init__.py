"""Automatic checks for the book's exercises.

:mod:`rnnlib.exercises._check` holds the framework, shared by every chapter:
an :class:`Exercise` runs the reader's function and a reference on seeded
inputs and returns a :class:`CheckResult` (plain text, never an exception),
naming the mistake when the output matches one of its catalogued
:class:`Mistake` implementations. One module per chapter defines the checks:

* :mod:`rnnlib.exercises.ch1` - the simple recurrent layer;
* :mod:`rnnlib.exercises.ch2` to :mod:`rnnlib.exercises.ch5` - the LSTM, the
  GRU, remembering across time and the counting cell;
* :mod:`rnnlib.exercises.ch6` to :mod:`rnnlib.exercises.ch9` - reading real
  code, deeper layers, sequence to sequence, recurrence without the loop;
* :mod:`rnnlib.exercises.ch10`, :mod:`rnnlib.exercises.ch11` - performance and
  PyTorch (all imported on first use, ``exercises.ch2``).

:mod:`rnnlib.exercises.student` writes the student edition of the chapters
(``make student``) and :mod:`rnnlib.exercises.grade` grades submitted notebooks
(``python -m rnnlib.exercises.grade NOTEBOOK.ipynb ... --csv grades.csv``).

A chapter module is the way in. Where the checks would make it too long, the
seeded cases, references and catalogues of mistakes sit in a private
``_chN_mistakes`` module (and Chapter 4's adding-batch check in ``_ch4_batch``);
the chapter module re-exports their public names.

Usage in a notebook::

    from rnnlib import exercises
    exercises.ch1.check_rnn_step(rnn_step)
"""

import importlib
import re

from . import ch1
from ._check import STATUSES, CheckResult, Exercise, Mistake, check_function

__all__ = ["CheckResult", "Exercise", "Mistake", "STATUSES", "check_function", "ch1"]


def __getattr__(name):
    """Import a chapter module (``ch2``, ``ch3``, ...) the first time it is used."""
    if re.fullmatch(r"ch\d+", name):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
