"""The notebooks as a reader runs them: JupyterLab in Chromium, with a real kernel.

The test starts its own Jupyter server on 127.0.0.1 (random token, its own
config, data, runtime and workspace folders) serving a temporary copy of
``book/``, with the JupyterLab settings ``make lab`` installs
(``tools/jupyter/overrides.json``), and drives it with Playwright:

* **before running** (issue 21 section 2): no raw MyST directive or role text
  is visible in the rendered Markdown cells, and the display equations are
  typeset (KaTeX, from jupyterlab-myst); the widget manager logs no
  "Unsatisfied version" warning;
* **Run All**; no two texts of a widget's controls overlap at a window width of
  1400 or 1000 px (the figures' own text: ``tests/test_figure_text.py``); then
  every live control (slider, drop-down) of every live
  widget is moved once, and the figure it draws must change within
  :data:`RESPONSE_S` seconds. A widget that never answers is *dead*: the bug of
  ipykernel 7.1-7.3 (ipykernel #1554).

Both UIs are driven: JupyterLab (``/lab``) and Notebook 7 (``/notebooks``, the
``notebook`` package on the same server, same settings). Controls are moved with
the keyboard (focus, then an arrow key), as a reader would: in Notebook 7 the
arrow keys moved the cell selection instead of the slider (jupyter/notebook
#7716) until ``overrides.json`` narrowed the four arrow-key shortcuts to focus
outside a widget; the test also checks that ArrowDown still moves the cell
selection.

``make browser`` (part of ``make test``) runs a seeded subset: per UI one
chapter with live widgets, one run (2 runs: 1 min 49 s for chapters 1 and 2,
3 min 27 s for chapters 1 and 5 while other jobs shared the 2 cores);
the seed and the choice are printed, and ``LAB_TEST_SEED`` repeats a run.
``make lab-test`` (``LAB_TEST_ALL=1``) runs every widget chapter (4) in each UI
``LAB_TEST_RUNS`` times (default 4): 16 runs per UI, 32 in all, 45-55 min (one
run of each chapter per UI took 5 min 48 s in JupyterLab, 6 min 48 s in Notebook 7). A run that fails
1 time in 7 passes 16 runs of one UI by luck with probability
(6/7)^16 = 8.5 %, all 32 with (6/7)^32 = 0.7 %; the 2 runs of ``make browser``
with (6/7)^2 = 73 % (a smoke test, not a measurement).

``LAB_KERNEL_PYTHONPATH`` (a folder) is put first on the kernel's
PYTHONPATH: e.g. ``pip install --no-deps --target /tmp/ipk710 ipykernel==7.1.0``
to measure the old kernel against the pinned one.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
RESPONSE_S = 30.0
RUN_ALL_S = 600.0
LIVE_CALLS = ("radius_explorer(", "gate_inspector(")

# The rendered Markdown of a cell (jupyterlab-myst: .jp-RenderedText; plain JupyterLab:
# .jp-RenderedMarkdown), i.e. what the input area shows besides the hidden editor.
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
RENDERED_MD = f"{NOTEBOOK} .jp-MarkdownCell .jp-InputArea > :not(.jp-InputPrompt):not(.jp-Editor):not(.jp-Toolbar)"

# MyST constructs that must not be visible as text once jupyterlab-myst renders a cell.
RAW_MYST = re.compile(
    r"\{(?:math|eq|ref|cite(?::[tp])?|numref|doc|exercise|solution(?:-start|-end)?|figure|glue)\}"
    r"|^:label:|```\{|:::\{|\(\w[\w-]*\)=",
    re.MULTILINE,
)


def live_chapters() -> list[str]:
    """Chapters whose code calls a live widget (one that needs a kernel)."""
    out = []
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if any(call in "".join(c["source"]) for c in cells if c["cell_type"] == "code" for call in LIVE_CALLS):
            out.append(path.stem)
    return out


UIS = ("lab", "notebook")  # JupyterLab, Notebook 7 (same server, same settings)


def _selection() -> list:
    """(ui, chapter, run) triples to test; the seeded subset carries its seed in the test id."""
    chapters = live_chapters()
    if os.environ.get("LAB_TEST_ALL"):
        runs = int(os.environ.get("LAB_TEST_RUNS", "4"))
        return [pytest.param(ui, c, k, id=f"{ui}-{c}-run{k}")
                for ui in UIS for c in chapters for k in range(runs)]
    seed = int(os.environ.get("LAB_TEST_SEED", secrets.randbelow(10_000)))
    rng = random.Random(seed)
    choice = {ui: rng.choice(chapters) for ui in UIS} if chapters else {}
    print(f"\ntest_lab: seeded subset, LAB_TEST_SEED={seed}: {choice} (all: {chapters})")
    return [pytest.param(ui, c, 0, id=f"{ui}-{c}-LAB_TEST_SEED={seed}") for ui, c in choice.items()]


SELECTION = _selection()


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests)")
    pytest.skip(reason)
    # (the browser fixture is in conftest.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of book/; yields (base URL, token)."""
    if shutil.which("jupyter", path=str(Path(sys.executable).parent)) is None:
        _unavailable("jupyter is not installed in this environment")
    tmp = tmp_path_factory.mktemp("lab")
    shutil.copytree(BOOK, tmp / "book", ignore=shutil.ignore_patterns("_offline", ".ipynb_checkpoints"))
    if (ROOT / "benchmarks").is_dir():
        (tmp / "benchmarks").symlink_to(ROOT / "benchmarks")
    settings = tmp / "app-settings"
    settings.mkdir()
    overrides = json.loads((ROOT / "tools" / "jupyter" / "overrides.json").read_text())
    # every cell rendered (not only those in view), so the Markdown check sees them all
    overrides["@jupyterlab/notebook-extension:tracker"] = {"windowingMode": "none"}
    (settings / "overrides.json").write_text(json.dumps(overrides))
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR", "IPYTHONDIR"):
        (tmp / name.lower()).mkdir()
        env[name] = str(tmp / name.lower())
    env["JUPYTER_PATH"] = ""
    paths = [os.environ.get("LAB_KERNEL_PYTHONPATH", ""), str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp}", f"--LabApp.app_settings_dir={settings}",
         "--LabApp.expose_app_in_browser=True", f"--JupyterNotebookApp.app_settings_dir={settings}",
         "--JupyterNotebookApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urlopen(f"{base}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"Jupyter server did not start:\n{(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
    version = subprocess.run([sys.executable, "-c", "import ipykernel; print(ipykernel.__version__)"],
                             env=env, capture_output=True, text=True).stdout.strip()
    print(f"\ntest_lab: JupyterLab at {base}, kernel ipykernel {version}")
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _open(browser, lab, chapter, ui="lab"):
    base, token = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    # ?reset: a fresh workspace, not the tabs the previous run left open
    url = (f"{base}/lab/tree/book/{chapter}.ipynb?reset&token={token}" if ui == "lab"
           else f"{base}/notebooks/book/{chapter}.ipynb?token={token}")
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=120_000,
    )
    page.wait_for_selector(RENDERED_MD, timeout=60_000)
    page.wait_for_timeout(2000)  # the last Markdown cells render
    return context, page, console


MARKDOWN_TEXT_JS = """
() => [...document.querySelectorAll(`RENDERED_MD`)].map(el => {
  const clone = el.cloneNode(true);
  clone.querySelectorAll('pre, code, .katex, script, style').forEach(n => n.remove());
  return clone.innerText;
})
"""

LIVE_WIDGETS_JS = """
() => [...document.querySelectorAll('NOTEBOOK .jp-OutputArea-output')]
  .filter(o => o.querySelector('.widget-output') && o.querySelector('.widget-slider, select'))
  .map((o, k) => { o.setAttribute('data-test-live', k); return k; })
"""


MARKDOWN_TEXT_JS = MARKDOWN_TEXT_JS.replace("RENDERED_MD", RENDERED_MD)
LIVE_WIDGETS_JS = LIVE_WIDGETS_JS.replace("NOTEBOOK", NOTEBOOK)


def _figure(area):
    return area.evaluate(
        "(el) => [...el.querySelectorAll('.widget-output img')].map(i => i.src.slice(-200)).join('|')"
    )


def _run_all(page):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const busy = [...w.node.querySelectorAll('.jp-InputArea-prompt')]
                                 .some(p => p.textContent.includes('*'));
                   return !busy && w.sessionContext.session.kernel.status === 'idle'; }""",
        timeout=RUN_ALL_S * 1000, polling=1000,
    )


def _move_every_control(page, area):
    """Move each slider and drop-down of a live widget once; return the controls that did nothing."""
    dead = []
    n_sliders = area.locator(".widget-slider .noUi-handle").count()
    for k in range(n_sliders):
        handle = area.locator(".widget-slider .noUi-handle").nth(k)
        before, value = _figure(area), handle.get_attribute("aria-valuenow")
        handle.focus()
        key = "ArrowLeft" if handle.get_attribute("aria-valuemax") == value else "ArrowRight"
        page.keyboard.press(key)
        if not _changes(page, lambda: _figure(area) != before):
            dead.append(f"slider {k} ({value} -> {handle.get_attribute('aria-valuenow')})")
    selects = area.locator("select")
    for k in range(selects.count()):
        select = selects.nth(k)
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("(s) => s.selectedIndex")
        before = _figure(area)
        select.select_option(index=(current + 1) % len(options))
        if not _changes(page, lambda: _figure(area) != before):
            dead.append(f"drop-down {k} (-> {options[(current + 1) % len(options)]!r})")
    return dead


WIDGET_OUTPUTS_JS = """
() => [...document.querySelectorAll('NOTEBOOK .jp-OutputArea-output')]
  .filter(o => o.querySelector('.jupyter-widgets, .widget-output')
               || /Error displaying widget|model not found/.test(o.innerText))
  .map(o => ({widget: !!o.querySelector('.jupyter-widgets'),
              image: !!o.querySelector('img'),
              error: /Error displaying widget|model not found/.test(o.innerText)}))
""".replace("NOTEBOOK", NOTEBOOK)
WIDGET_ERRORS_JS = """
() => [...document.querySelectorAll('NOTEBOOK .jp-OutputArea-output')]
  .filter(o => /Error displaying widget|model not found/.test(o.innerText)).length
""".replace("NOTEBOOK", NOTEBOOK)


def _save_and_reopen(browser, lab, ui, chapter, page, run):
    """Issue 21 section 3: save the run notebook, stop its kernel, reopen it without running.

    Every widget output must show the widget (from the saved widget state) or its
    static fallback figure, and none may read "Error displaying widget: model not found".
    """
    n_widgets = len(page.evaluate(WIDGET_OUTPUTS_JS))
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                           timeout=60_000)
    page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
    context, again, _console = _open(browser, lab, chapter, ui)
    try:
        again.wait_for_timeout(3000)  # the widget manager restores the saved state
        outputs = again.evaluate(WIDGET_OUTPUTS_JS)
        shown = sum(o["widget"] or o["image"] for o in outputs)
        errors = again.evaluate(WIDGET_ERRORS_JS)
        print(f"test_lab: {ui} {chapter} run {run} reopened: {shown} of {n_widgets} widget outputs "
              f"shown ({sum(o['widget'] for o in outputs)} as widgets), {errors} widget errors")
        if os.environ.get("LAB_TEST_SHOTS"):
            again.screenshot(path=str(Path(os.environ["LAB_TEST_SHOTS"]) / f"{ui}-{chapter}-{run}-reopened.png"))
        assert errors == 0, f"{ui} {chapter}: {errors} outputs read 'Error displaying widget' after reopening"
        assert n_widgets and shown >= n_widgets, (
            f"{ui} {chapter}: after reopening {shown} of {n_widgets} widget outputs show a widget or figure")
    finally:
        try:
            again.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
        except Exception:
            pass
        context.close()


WIDGET_TEXT_OVERLAPS_JS = """
() => {
  const leaves = [...document.querySelectorAll('NOTEBOOK .jp-OutputArea-output .jupyter-widgets *')]
    .filter(el => el.children.length === 0 && el.textContent.trim() && el.offsetParent !== null);
  const boxes = leaves.map(el => [el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  const out = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 1 && h > 1) out.push(`${a} / ${b}`);
    }
  return out;
}
""".replace("NOTEBOOK", NOTEBOOK)


def _widget_text_overlaps(page, widths=(1400, 1000)):
    """{width: overlapping texts} of the widgets' controls (labels, read-outs, menus) at each window width."""
    found = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(500)
        bad = page.evaluate(WIDGET_TEXT_OVERLAPS_JS)
        if bad:
            found[width] = bad[:5]
    page.set_viewport_size({"width": widths[0], "height": 1000})
    return found


def _arrow_down_moves_cells(page):
    """In command mode, ArrowDown on a focused cell selects the next cell (the shortcut kept working)."""
    active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
                            nb.activeCellIndex = 0; nb.mode = 'command'; nb.activeCell.node.focus(); }""")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    return page.evaluate(active) == 1


def _changes(page, condition, timeout=RESPONSE_S):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(200)
    return True


@pytest.mark.parametrize("ui, chapter, run",
                         SELECTION or [pytest.param("lab", None, 0, marks=pytest.mark.skip("no live widgets"))])
def test_chapter_renders_and_its_live_widgets_respond(browser, lab, ui, chapter, run):
    context, page, console = _open(browser, lab, chapter, ui)
    try:
        texts = page.evaluate(MARKDOWN_TEXT_JS)
        raw = sorted({m.group(0) for t in texts for m in RAW_MYST.finditer(t)})
        assert texts, f"{chapter}: no rendered Markdown cell"
        assert raw == [], f"{chapter}: raw MyST visible in the rendered Markdown: {raw}"
        n_display = page.locator(f"{NOTEBOOK} .jp-MarkdownCell .katex-display").count()
        source = json.loads((BOOK / f"{chapter}.ipynb").read_text())
        wants_display = any("{math}" in "".join(c["source"]) or "$$" in "".join(c["source"])
                            for c in source["cells"] if c["cell_type"] == "markdown")
        assert not wants_display or n_display > 0, f"{chapter}: no display equation typeset"
        assert page.locator(f"{NOTEBOOK} .jp-MarkdownCell .katex-error").count() == 0, f"{chapter}: KaTeX errors"

        assert _arrow_down_moves_cells(page), f"{ui} {chapter}: ArrowDown no longer moves the cell selection"

        _run_all(page)
        errors = page.locator(f"{NOTEBOOK} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = page.locator(f"{NOTEBOOK} .jp-OutputArea-output .ansi-red-fg").count()
        assert tracebacks == 0, f"{chapter}: a cell raised ({errors.count()} stderr outputs)"
        live = page.evaluate(LIVE_WIDGETS_JS)
        assert live, f"{chapter}: no live widget rendered after Run All"
        overlaps = _widget_text_overlaps(page)
        assert overlaps == {}, f"{ui} {chapter}: widget texts overlap at these window widths: {overlaps}"
        dead = {}
        for k in live:
            area = page.locator(f'[data-test-live="{k}"]')
            area.scroll_into_view_if_needed()
            assert _figure(area), f"{chapter}: live widget {k} shows no figure"
            bad = _move_every_control(page, area)
            if bad:
                dead[k] = bad
        print(f"test_lab: {ui} {chapter} run {run}: {len(live)} live widgets, dead controls: {dead or 'none'}")
        assert dead == {}, f"{chapter} run {run}: live controls that never redrew: {dead}"
        unsatisfied = [m for m in console if "Unsatisfied version" in m]
        assert unsatisfied == [], f"{chapter}: {unsatisfied[:3]}"
        _save_and_reopen(browser, lab, ui, chapter, page, run)
    finally:
        if os.environ.get("LAB_TEST_SHOTS"):  # a folder: screenshot of the page as the test left it
            page.screenshot(path=str(Path(os.environ["LAB_TEST_SHOTS"]) / f"{ui}-{chapter}-{run}.png"),
                            full_page=False)
        try:  # each run gets a fresh kernel; stop this one
            page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
        except Exception:
            pass
        context.close()


def test_the_overlap_check_sees_overlapping_widget_texts(browser):
    """The check of widget texts can fail: two labels drawn on top of each other are found."""
    page = browser.new_page(viewport={"width": 1000, "height": 600})
    try:
        page.set_content(
            '<div class="jp-NotebookPanel"><div class="jp-OutputArea-output"><div class="jupyter-widgets"'
            ' style="position:relative;height:80px">'
            '<span style="position:absolute;left:0;top:0">step t</span>'
            '<span style="position:absolute;left:10px;top:4px">bias shift</span>'
            '<span style="position:absolute;left:300px;top:0">apart</span></div></div></div>')
        assert page.evaluate(WIDGET_TEXT_OVERLAPS_JS) == ["step t / bias shift"]
    finally:
        page.close()
