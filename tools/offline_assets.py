"""Local copies of the JavaScript the book's HTML needs, so it works offline.

Out of the box, jupyter-book pages load MathJax, require.js and the ipywidgets
HTML manager from CDNs: without a network the math shows as raw TeX and the
widgets stay empty. This file handles that in two roles.

As a script (``python tools/offline_assets.py``, run by ``make book``) it
copies the few files needed from the pinned npm packages in ``node_modules/``
(installed by ``npm ci`` from ``package.json`` / ``package-lock.json``) into
``book/_offline/``:

======================================  =======================================
``mathjax/tex-chtml.js``                MathJax 3 (TeX base and AMS built in)
``mathjax/input/tex/extensions``        the other TeX packages, loaded on demand
``mathjax/output/chtml/fonts/woff-v2``  the fonts it loads, relative to itself
``requirejs/require.js``                AMD loader the widget manager needs
``html-manager/embed-amd.js``           renders the saved widget state
``html-manager/*.woff2, *.woff``        its icon fonts
``html-manager/offline-setup.js``       written here: where those fonts live,
                                        and a MathJax 2 -> 3 shim
======================================  =======================================

``_config.yml`` points Sphinx at the copies (``html_static_path``,
``mathjax_path``, ``nb_ipywidgets_js``).

As a Sphinx extension (``local_extensions`` in ``_config.yml``) it checks,
before the build, that every file the configuration points at was copied. If
one is missing (no npm on this machine), it puts the CDN defaults back and
prints that the HTML will need the network for math and widgets, so the book
still builds.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
OUT = ROOT / "book" / "_offline"

# npm package -> (source file or glob inside the package, destination folder in OUT)
FILES = {
    "mathjax": [
        # MathJax with the TeX packages the book uses built in (base, ams, ...);
        # any other package loads on demand from input/tex/extensions (1.16 MB
        # instead of the 1.33 MB of tex-chtml-full.js, on every page).
        ("es5/tex-chtml.js", "mathjax"),
        ("es5/input/tex/extensions/*.js", "mathjax/input/tex/extensions"),
        ("es5/output/chtml/fonts/woff-v2/*.woff", "mathjax/output/chtml/fonts/woff-v2"),
        ("LICENSE", "mathjax"),
    ],
    "requirejs": [
        ("require.js", "requirejs"),
    ],
    "@jupyter-widgets/html-manager": [
        ("dist/embed-amd.js", "html-manager"),
        ("dist/*.woff2", "html-manager"),
        ("dist/*.woff", "html-manager"),
    ],
}

# Loaded after require.js and before embed-amd.js (see nb_ipywidgets_js in
# _config.yml). Two fixes for the widget manager in a Sphinx page:
# 1. Each AMD module of the bundle loads its font files from the folder of its
#    own module URL, which require.js derives from the module name: by default
#    next to the *page*, where the fonts 404. Map the names to this folder,
#    where the fonts are copied (require.js picks the longest matching prefix).
# 2. ipywidgets 8 typesets widget labels with the MathJax 2 call
#    `MathJax.Hub.Queue(...)`; Sphinx loads MathJax 3, which has no `Hub`, so
#    every label threw a TypeError. Forward that call to MathJax 3.
SETUP_JS = """\
// Written by tools/offline_assets.py; see the comments there.
(function () {
  var here = document.currentScript.src.replace(/\\/[^/]*$/, "");
  require.config({ paths: {
    "@jupyter-widgets": here,
    "@jupyter-widgets/html-manager/dist": here
  } });

  // MathJax (deferred) has run by DOMContentLoaded; widgets render on "load".
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = { Queue: function (job) {  // job = ["Typeset", Hub, element]
      mj.startup.promise.then(function () { return mj.typesetPromise([job[2]]); });
    } };
  });
})();
"""

CDN_MESSAGE = """
========================================================================
 Offline assets missing ({missing}).
 The HTML will load MathJax, require.js and the widget manager from CDNs:
 it needs the network to show math and widgets.
 To build it for offline reading, install npm and run `make book`.
========================================================================
"""


def pinned_versions() -> dict[str, str]:
    """The exact version of each npm package, as pinned in package.json."""
    return json.loads((ROOT / "package.json").read_text())["dependencies"]


def copy_assets() -> list[Path]:
    """Copy the needed files from node_modules/ into a fresh OUT folder.

    Raises
    ------
    FileNotFoundError
        If a package is not installed or a listed file is missing from it.
    RuntimeError
        If an installed package is not the version pinned in package.json.
    """
    versions = pinned_versions()
    assert set(versions) == set(FILES), "package.json and FILES list different packages"
    if OUT.exists():
        shutil.rmtree(OUT)
    copied = []
    for package, entries in FILES.items():
        pkg_dir = NODE_MODULES / package
        manifest = pkg_dir / "package.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"{pkg_dir} is not installed: run `npm ci`")
        installed = json.loads(manifest.read_text())["version"]
        if installed != versions[package]:
            raise RuntimeError(
                f"{package} {installed} is installed but package.json pins "
                f"{versions[package]}: run `npm ci`"
            )
        for pattern, dest in entries:
            sources = sorted(pkg_dir.glob(pattern))
            if not sources:
                raise FileNotFoundError(f"{package}: nothing matches {pattern}")
            (OUT / dest).mkdir(parents=True, exist_ok=True)
            for src in sources:
                copied.append(Path(shutil.copy2(src, OUT / dest / src.name)))
    setup = OUT / "html-manager" / "offline-setup.js"
    setup.write_text(SETUP_JS)
    copied.append(setup)
    return copied


def main() -> int:
    if not NODE_MODULES.is_dir():
        print(CDN_MESSAGE.format(missing="no node_modules/; npm ci did not run"))
        if OUT.exists():  # stale copies must not hide the fallback
            shutil.rmtree(OUT)
        return 0
    copied = copy_assets()
    size = sum(p.stat().st_size for p in copied) / 1e6
    print(f"offline assets: {len(copied)} files ({size:.1f} MB) -> {OUT.relative_to(ROOT)}/")
    return 0


# --- Sphinx extension ---------------------------------------------------------


def _fall_back_to_cdn(app, config) -> None:
    """On config-inited: use the CDN defaults if a configured local file is missing."""
    from myst_nb.core.config import ipywidgets_js_factory
    from sphinx.ext.mathjax import MATHJAX_URL

    static_dirs = [Path(app.confdir, p) for p in config.html_static_path]
    wanted = [config.mathjax_path, *config.nb_ipywidgets_js]
    missing = [
        name
        for name in wanted
        if "://" not in name and not any((d / name).is_file() for d in static_dirs)
    ]
    if not missing:
        return
    print(CDN_MESSAGE.format(missing=", ".join(missing)))
    config.mathjax_path = MATHJAX_URL
    config.nb_ipywidgets_js = ipywidgets_js_factory()
    # a missing static folder is a Sphinx warning, and warnings fail the build
    config.html_static_path = [p for p in config.html_static_path if Path(app.confdir, p).is_dir()]


def setup(app):
    # priority < 500: before myst-nb and sphinx.ext.mathjax read these values
    app.connect("config-inited", _fall_back_to_cdn, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    sys.exit(main())
