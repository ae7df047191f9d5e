"""Data: the generated tasks and languages the chapters train on.

* :mod:`rnnlib.data.tasks` - the adding problem and the copy task, with their
  baselines derived
* :mod:`rnnlib.data.toy_language` - the generated bracketed language of
  Chapter 5, its exact probability, a character codec

May import: NumPy and the numeric core (``rnnlib`` top-level modules).
Never imports training, experiments, figures or exercises.
"""
