"""The layering the style guide promises, checked.

The numeric core imports only NumPy (and other rnnlib core modules), so
``import rnnlib`` is fast and works on a headless machine; matplotlib,
ipywidgets, IPython and tqdm appear only in the modules above it; nothing in
rnnlib imports from ``book/``.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "rnnlib"
CORE = ["activations", "_checks", "rnn", "lstm", "gru", "layers", "init", "losses", "optim",
        "gradcheck", "torch_io", "gates", "conventions", "mixups", "gradient_flow", "experiments",
        "tasks", "model", "toy_language", "charlm", "compare"]
UPPER_ONLY = {"matplotlib", "ipywidgets", "IPython", "tqdm", "torch"}


def _top_level_imports(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_only_numpy(module):
    imports = _top_level_imports(PKG / f"{module}.py")
    third_party = imports - {"numpy", "__future__", "typing", "dataclasses", "numbers", "math",
                             "functools", "collections", "itertools", "warnings"}
    assert third_party == set(), f"rnnlib/{module}.py imports {sorted(third_party)}"


def test_import_rnnlib_loads_no_plotting_widget_or_torch_module():
    code = ("import sys, rnnlib; bad = sorted(m for m in sys.modules if m.split('.')[0] in %r); "
            "print(','.join(bad))" % (UPPER_ONLY,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import rnnlib pulled in: {out.stdout.strip()}"


def test_nothing_in_rnnlib_imports_from_book():
    for path in PKG.rglob("*.py"):
        assert "book" not in _top_level_imports(path), f"{path.name} imports from book/"
