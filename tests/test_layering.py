"""The layering the folder tree shows, checked.

``rnnlib/`` top-level modules are the numeric core: they import only NumPy and
each other, so ``import rnnlib`` is fast and works on a headless machine.
Above the core, subpackages by concern, in this order:

    core < data < training < experiments < figures < exercises

A module may import from its own layer and the layers below it, never from a
layer above. matplotlib, ipywidgets and IPython appear only in ``figures`` and
``exercises``; tqdm from ``training`` up; nothing in rnnlib imports ``book/``.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "rnnlib"
LAYERS = ["core", "data", "training", "experiments", "figures", "exercises"]
STDLIB_OK = {"__future__", "typing", "dataclasses", "numbers", "math", "functools",
             "collections", "itertools", "warnings", "re", "os", "sys", "time", "json",
             "argparse", "platform", "contextlib", "io", "base64", "copy", "inspect",
             "textwrap", "importlib", "pathlib", "statistics", "resource", "gc",
             "signal", "threading", "traceback", "string", "hashlib", "csv", "shutil",
             "tempfile", "subprocess", "zlib", "struct", "heapq", "bisect", "enum",
             "sysconfig", "glob", "html", "abc", "types", "operator", "random"}
# third-party packages each layer may import (cumulative upward)
THIRD_PARTY = {"core": {"numpy"}, "data": {"numpy"}, "training": {"numpy", "tqdm"},
               "experiments": {"numpy", "tqdm", "torch", "threadpoolctl"},
               "figures": {"numpy", "tqdm", "matplotlib", "ipywidgets", "IPython", "PIL"},
               "exercises": {"numpy", "tqdm", "matplotlib", "ipywidgets", "IPython",
                             "nbclient", "nbformat"}}
UPPER_ONLY = {"matplotlib", "ipywidgets", "IPython", "tqdm", "torch"}


def _layer_of(path):
    rel = path.relative_to(PKG)
    return "core" if len(rel.parts) == 1 else rel.parts[0]


def _imports(path):
    """(top-level package names, rnnlib layers) imported anywhere in the file."""
    tree = ast.parse(path.read_text())
    here = path.relative_to(PKG.parent).with_suffix("").parts
    names, layers = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                mod = ".".join(base + ((node.module,) if node.module else ()))
                mods = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            else:
                mods = [node.module] + ([f"{node.module}.{a.name}" for a in node.names]
                                        if node.module == "rnnlib" else [])
        else:
            continue
        for mod in mods:
            parts = mod.split(".")
            if parts[0] == "rnnlib":
                sub = parts[1] if len(parts) > 1 else None
                layers.add(sub if sub in LAYERS else "core")
            else:
                names.add(parts[0])
    return names, layers


MODULES = sorted(p for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_imports_only_from_its_layer_and_below(path):
    layer = _layer_of(path)
    names, layers = _imports(path)
    above = {lay for lay in layers if LAYERS.index(lay) > LAYERS.index(layer)}
    assert not above, f"rnnlib/{path.relative_to(PKG)} ({layer}) imports upward: {above}"
    third = names - STDLIB_OK - THIRD_PARTY[layer]
    assert not third, f"rnnlib/{path.relative_to(PKG)} ({layer}) imports {sorted(third)}"


def test_every_layer_is_a_package_with_a_docstring_saying_what_it_may_import():
    for layer in LAYERS[1:]:
        init = PKG / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc, f"rnnlib/{layer}/__init__.py needs a docstring"


def test_the_core_is_flat_and_numpy_only():
    for path in PKG.glob("*.py"):
        names, layers = _imports(path)
        assert layers <= {"core"}, f"{path.name} imports {layers}"
        assert names - STDLIB_OK <= {"numpy"}, f"{path.name} imports {names - STDLIB_OK}"


def test_import_rnnlib_loads_no_plotting_widget_or_torch_module():
    code = ("import sys, rnnlib; bad = sorted(m for m in sys.modules if m.split('.')[0] in %r); "
            "print(','.join(bad))" % (UPPER_ONLY,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import rnnlib pulled in: {out.stdout.strip()}"


def test_nothing_in_rnnlib_imports_from_book():
    for path in PKG.rglob("*.py"):
        names, _ = _imports(path)
        assert "book" not in names, f"{path.name} imports from book/"
