# Recurrent Layers, by Hand: set-up, book build and tests.
# Every target installs what it needs first, so each works on a fresh clone.
#
#   make book   build the HTML into _build/html (warnings are errors)
#   make test   unit tests, notebooks (nbval, under two OpenBLAS kernels), book, browser, PDF
#   make pdf    build the PDF into _build/pdf (needs TeX, see README)
#   make lab    open the notebooks in JupyterLab
#   make lab-test  drive JupyterLab in Chromium: every widget chapter, several runs
#   make bench  benchmark grid vs PyTorch and the FLOP limit (not part of make test)
#   make student  student notebooks (solutions removed, outputs cleared) into _build/student
#   make clean  remove the build output

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST := OPENBLAS_NUM_THREADS=1 $(PY) -m pytest
# nbval on both cores: one notebook per worker, its cells in order.
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg -n 2 --dist loadfile
NPM    := $(shell command -v npm 2>/dev/null)

# Written separately; see the placeholder rule below.
CHAPTER1 := book/01_simple_rnn.ipynb

.PHONY: help venv book pdf pdf-test test unit nbval nbval-kernel2 browser lab lab-setup lab-test bench student clean

help:
	@sed -n 's/^#   make/  make/p' Makefile

# --- set-up -------------------------------------------------------------------

# Python packages: (re)installed when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	touch $@

# JavaScript for the offline HTML (MathJax, require.js, widget manager), pinned
# in package-lock.json. Without npm the book still builds, but its HTML then
# loads these from CDNs (tools/offline_assets.py says so).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

venv: $(STAMP) $(if $(NPM),node_modules/.package-lock.json)

# Until chapter 1 exists, a one-cell placeholder keeps _toc.yml valid. Make runs
# this rule only if the file is missing, and mode "x" refuses to overwrite it.
$(CHAPTER1): | $(STAMP)
	@echo "$@ does not exist yet: writing a placeholder"
	$(PY) -c "$$PLACEHOLDER" $@

define PLACEHOLDER
import sys, nbformat as nbf
v4 = nbf.v4
nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
nb.cells = [
    v4.new_markdown_cell("# The simple recurrent layer\n\nThis chapter is being written."),
    v4.new_code_cell("print('placeholder')", execution_count=1,
                     outputs=[v4.new_output("stream", name="stdout", text="placeholder\n")]),
]
with open(sys.argv[1], "x") as f:
    nbf.write(nb, f)
endef
export PLACEHOLDER

# --- the book -----------------------------------------------------------------

# --all rebuilds every page, so a warning is reported (and fails) on every run,
# not only on the run that first met it.
book: venv $(CHAPTER1)
	$(PY) tools/offline_assets.py
	$(VENV)/bin/jupyter-book build . --all --warningiserror --keep-going

# The PDF: LaTeX through jupyter-book's pdflatex builder (engine xelatex).
# Needs TeX: tools/tex_prereqs.py names the Debian packages when some are missing.
PDF_NAME := recurrent-layers-by-hand.pdf
pdf: venv $(CHAPTER1)
	$(PY) tools/tex_prereqs.py
	$(VENV)/bin/jupyter-book build . --all --builder pdflatex --warningiserror --keep-going
	mkdir -p _build/pdf
	cp _build/latex/$(PDF_NAME) _build/pdf/$(PDF_NAME)
	@echo "PDF: _build/pdf/$(PDF_NAME)"

# Against the existing _build/pdf and _build/html (run `make pdf` and `make book` first).
pdf-test: venv
	$(PYTEST) tests/pdf

# JupyterLab settings for the reader (tools/jupyter/overrides.json): the widget
# manager saves widget state, so a saved notebook reopens with its widgets
# instead of "model not found". Trusting the notebooks lets Jupyter draw the
# widgets saved in them before anything runs (untrusted, it shows each
# widget's static figure instead).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
lab-setup: venv
	mkdir -p $(LAB_SETTINGS)
	cp tools/jupyter/overrides.json $(LAB_SETTINGS)/overrides.json
	$(VENV)/bin/jupyter trust book/*.ipynb

lab: lab-setup
	$(VENV)/bin/jupyter lab book/

# JupyterLab and Notebook 7 in Chromium, every chapter with widgets, several runs each
# (tests/browser/test_lab.py, 32 runs, ~50 min; `make browser` runs a seeded subset, ~2-4 min).
lab-test: venv lab-setup
	LAB_TEST_ALL=1 $(PYTEST) tests/browser/test_lab.py

# --- tests --------------------------------------------------------------------

# In this order, so the browser tests look at a build made from the notebooks
# that nbval has just checked.
test: venv
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) nbval-kernel2
	$(MAKE) book
	$(MAKE) browser
	$(MAKE) pdf
	$(MAKE) pdf-test

unit: venv
	$(PYTEST) -n 2 tests --ignore=tests/browser --ignore=tests/pdf

# Re-runs every chapter and compares its outputs with the stored ones.
nbval: venv $(CHAPTER1)
	$(PYTEST) $(NBVAL) book/*.ipynb

# The same, under an OpenBLAS kernel other than this machine's default (another CPU
# kind's floating-point path: Haswell on an AVX-512 CPU, SkylakeX where OpenBLAS
# defaults to Haswell on an AVX-512 CPU, else Sandybridge; tools/blas_kernel.py).
# The plugin -p tools.blas_kernel stops the run unless OpenBLAS reports that kernel.
nbval-kernel2: venv $(CHAPTER1)
	@core=$$($(PY) tools/blas_kernel.py choose) || exit 1; \
	echo "nbval-kernel2: OPENBLAS_CORETYPE=$$core"; \
	OPENBLAS_CORETYPE=$$core BLAS_KERNEL_EXPECTED=$$core $(PYTEST) -p tools.blas_kernel \
	  $(NBVAL) book/*.ipynb

# Against the existing _build/html (run `make book` first, or `make test`).
browser: venv
	$(PYTEST) tests/browser

# python -m rnnlib.experiments.bench --help for a subset of the grid; writes _build/bench.json.
# On some AVX-512 CPUs OpenBLAS 0.3.30 picks its Haswell (AVX2) kernels (the
# EPYCs of earlier machines; others of the same name get SkylakeX: check with
# threadpoolctl), while PyTorch's oneDNN uses AVX-512. On a CPU with avx512f the benchmark therefore asks
# OpenBLAS for its SkylakeX kernels (measured here: ~1.4x faster rnnlib), unless
# OPENBLAS_CORETYPE is already set. Tests and notebooks keep the default.
CORETYPE := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo 'OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-SkylakeX}')
bench: venv
	OPENBLAS_NUM_THREADS=1 $(CORETYPE) $(PY) -m rnnlib.experiments.bench
	OPENBLAS_NUM_THREADS=1 $(PY) -m rnnlib.experiments.minimal_bench  # chapter 9 (~1 h on a loaded 2-core machine)

# The student edition, from the same sources; grade submissions with
# python -m rnnlib.exercises.grade NOTEBOOK.ipynb ... --csv grades.csv
student: venv $(CHAPTER1)
	$(PY) -m rnnlib.exercises.student book/*.ipynb --out _build/student

clean:
	rm -rf _build book/_offline
