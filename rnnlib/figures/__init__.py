"""Figures and widgets: everything the reader sees drawn.

* :mod:`rnnlib.figures.style` - the book's one palette (Okabe-Ito, one colour
  per symbol)
* :mod:`rnnlib.figures.plots`, :mod:`~rnnlib.figures.curves` - plots of
  states, gradients and learning curves
* :mod:`rnnlib.figures.diagrams`, :mod:`~rnnlib.figures.diagrams_lstm`,
  :mod:`~rnnlib.figures.diagrams_gru` - the cell diagrams
* :mod:`rnnlib.figures.widgets`, :mod:`~rnnlib.figures.inspector` - live
  (ipywidgets) and static (browser-linked) sliders, the gate inspector
* :mod:`rnnlib.figures.scan_diagram` - Blelloch's parallel scan drawn for T = 8
* :mod:`rnnlib.figures.interpret` - recording activations, ranking units
  against a signal, Karpathy-style character strips

May import: matplotlib, ipywidgets, IPython, the numeric core, data, training
and experiments. Never imports exercises.
"""
