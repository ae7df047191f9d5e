"""Training: models built from the core layers and the loop that trains them.

* :mod:`rnnlib.training.model` - ``SequenceModel``: a recurrent layer with a
  linear readout, many-to-one or many-to-many, its loss and gradient
* :mod:`rnnlib.training.loop` - ``TrainConfig``, ``train`` (Adam, clipping,
  held-out evaluation, truncated BPTT, tqdm for long runs)
* :mod:`rnnlib.training.charlm` - character language models: one-hot windows,
  sampling with temperature, bits per character, the n-gram baseline

May import: NumPy, tqdm, the numeric core and :mod:`rnnlib.data`.
Never imports experiments, figures or exercises.
"""
