# Recurrent Layers, by Hand: set-up, book build and tests.
# Every target installs what it needs first, so each works on a fresh clone.
#
#   make book   build the HTML into _build/html (warnings are errors)
#   make test   unit tests, notebooks (nbval), book build, browser tests
#   make lab    open the notebooks in JupyterLab
#   make bench  benchmark grid vs PyTorch and the FLOP limit (not part of make test)
#   make clean  remove the build output

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST := OPENBLAS_NUM_THREADS=1 $(PY) -m pytest
NPM    := $(shell command -v npm 2>/dev/null)

# Written separately; see the placeholder rule below.
CHAPTER1 := book/01_simple_rnn.ipynb

.PHONY: help venv book test unit nbval browser lab bench clean

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

lab: venv
	$(VENV)/bin/jupyter lab book/

# --- tests --------------------------------------------------------------------

# In this order, so the browser tests look at a build made from the notebooks
# that nbval has just checked.
test: venv
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) book
	$(MAKE) browser

unit: venv
	$(PYTEST) tests --ignore=tests/browser

# Re-runs every chapter and compares its outputs with the stored ones.
nbval: venv $(CHAPTER1)
	$(PYTEST) --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg book/*.ipynb

# Against the existing _build/html (run `make book` first, or `make test`).
browser: venv
	$(PYTEST) tests/browser

# python -m rnnlib.experiments.bench --help for a subset of the grid; writes _build/bench.json.
# OpenBLAS 0.3.30 does not recognise some AVX-512 CPUs (e.g. the EPYCs these
# machines run on) and falls back to its Haswell (AVX2) kernels, while PyTorch's
# oneDNN uses AVX-512. On a CPU with avx512f the benchmark therefore asks
# OpenBLAS for its SkylakeX kernels (measured here: ~1.4x faster rnnlib), unless
# OPENBLAS_CORETYPE is already set. Tests and notebooks keep the default.
CORETYPE := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo 'OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-SkylakeX}')
bench: venv
	OPENBLAS_NUM_THREADS=1 $(CORETYPE) $(PY) -m rnnlib.experiments.bench
	OPENBLAS_NUM_THREADS=1 $(PY) -m rnnlib.experiments.minimal_bench  # chapter 9 (~1 h on a loaded 2-core machine)

clean:
	rm -rf _build book/_offline
