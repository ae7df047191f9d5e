"""Experiments: the measurements the chapters report, as functions.

* :mod:`rnnlib.experiments.radius` - Jacobian norms over the lag as the
  spectral radius varies (Chapter 1)
* :mod:`rnnlib.experiments.gradient_flow` - how much gradient reaches the
  first input, per model, seed and length (Chapters 2 and 3)
* :mod:`rnnlib.experiments.carousel` - which route that gradient takes:
  the cell path, the hidden paths, or both (Chapters 2 and 3)
* :mod:`rnnlib.experiments.mixups` - classic conversion mistakes, measured
* :mod:`rnnlib.experiments.compare` - the two GRU forms trained side by side
* :mod:`rnnlib.experiments.inspector_compute` - gate traces for the inspector
* :mod:`rnnlib.experiments.baselines`, :mod:`~rnnlib.experiments.timing`,
  :mod:`~rnnlib.experiments.bench` - the slower versions, the timers and the
  benchmark grid of Chapter 10 (``python -m rnnlib.experiments.bench``)

May import: NumPy, the numeric core, :mod:`rnnlib.data` and
:mod:`rnnlib.training` (torch only inside the benchmark, optional).
Never imports figures or exercises: no matplotlib, no ipywidgets.
"""
