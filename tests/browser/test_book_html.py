"""The built HTML book, opened in Chromium with no network.

For every page of _toc.yml: it loads without console errors, every request
stays on 127.0.0.1, the math is typeset by MathJax, every image loads, and a
notebook page offers its .ipynb for download. The search page finds words
offline, widgets saved in a notebook render, and a slider linked in the
browser (ipywidgets.jslink) changes what its widget shows. Every citation
links to an entry of the References page, which lists every work of
references.bib, and the favicon loads. Each page leaves a full-page
screenshot in _build/screenshots/.

The tests look at ``_build/html`` as built by ``make book`` and fail if it is
missing. They skip, saying why, only when Chromium or the ``playwright``
module is not installed; under ``CI=true`` even that is a failure.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Console errors from the toolchain that are understood and harmless. (None
# at present: sphinx-thebe, whose doubled inline config threw "Identifier
# 'THEBE_JS_URL' has already been declared", is no longer loaded; see
# test_extensions_are_jupyter_books_without_thebe.)
KNOWN_ERRORS: set[str] = set()

# The page's images, less the hidden frames of a frame slider: those load lazily,
# when the slider shows them (tools/book_widgets.py; test_frame_slider_... checks it).
SHOWN_IMAGES = "[...document.images].filter(img => !(img.hidden && img.loading === 'lazy'))"

# Text that MathJax should have replaced: display/inline delimiters left in
# the visible text (code blocks are not looked at).
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$\n]*?\$")

# Visible text and images of an element, in document order, leaving out sliders
# (their readout changes whenever they move) and anything hidden.
VISIBLE_CONTENT_JS = """
(root) => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) out.push(text);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.matches('.widget-slider, script, style') || !node.checkVisibility()) return;
    if (node.tagName === 'IMG') out.push('img ' + node.src);
    node.childNodes.forEach(walk);
  };
  walk(root);
  return out;
}
"""

# Visible prose: everything but code, scripts and typeset math.
PROSE_JS = """
() => {
  const out = [];
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || node.matches(skip)) return;
    node.childNodes.forEach(walk);
  };
  walk(document.querySelector('main') || document.body);
  return out.join(' ');
}
"""


def toc_docs() -> list[str]:
    """Every page of _toc.yml, in reading order, as paths without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key))

    walk([toc])
    return docs


def linked_slider_views(doc: str) -> list[str]:
    """Model ids of the displayed widgets that hold a slider linked in the browser.

    Reads the widget state saved in the page's notebook: a slider is linked
    when an ``ipywidgets.jslink`` (LinkModel) has it at one end. Sliders with
    Python callbacks cannot do anything in a static page and are not listed.
    """
    path = ROOT / f"{doc}.ipynb"
    if not path.is_file():
        return []
    notebook = json.loads(path.read_text())
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    ref = lambda value: value.removeprefix("IPY_MODEL_")  # noqa: E731
    linked = {
        ref(model["state"][end][0])
        for model in state.values()
        if model["model_name"] in ("LinkModel", "DirectionalLinkModel")
        for end in ("source", "target")
    }
    sliders = {key for key, model in state.items() if model["model_name"].endswith("SliderModel")}

    def holds_linked_slider(model_id):
        children = state.get(model_id, {}).get("state", {}).get("children", [])
        return model_id in sliders & linked or any(holds_linked_slider(ref(c)) for c in children)

    views = [
        output["data"][WIDGET_VIEW]["model_id"]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]
    return [view for view in views if holds_linked_slider(view)]


def is_local(url: str) -> bool:
    """True for URLs served by the test server, or that need no network at all."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


def eventually(page, condition, timeout=5.0) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


def wait_for_widgets(page, timeout=30_000):
    """Wait until the widget manager has rendered a view for every widget output."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                 .every(tag => tag.previousElementSibling?.matches('.widget-subarea')
                               && tag.previousElementSibling.childElementCount > 0)""",
        timeout=timeout,
    )


DOCS = toc_docs()
SLIDER_DOCS = [doc for doc in DOCS if linked_slider_views(doc)] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no notebook in _toc.yml has a jslink-ed slider"))
]


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves _build/html without logging, but remembers every (path, status).

    Some requests never reach Playwright's page events (the browser's own
    favicon request, for one), so the server's record is the place to look.
    """

    served: list[tuple[str, int]] = []

    def log_message(self, *args):
        pass

    def log_request(self, code="-", size="-"):
        type(self).served.append((self.path, int(code)))


@pytest.fixture(scope="session")
def site():
    """Base URL of _build/html, served from a thread on a free port of 127.0.0.1."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML} has no built book: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Visit:
    """An open page and everything it did while loading."""

    page: object
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # console errors, failed loads

    def problem(self, message: str):
        if message not in KNOWN_ERRORS:
            self.problems.append(message)

    def screenshot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture(scope="session")
def open_page(browser, site):
    """Open a path of the site in a fresh context and wait until it has settled.

    Requests that would leave 127.0.0.1 are recorded and aborted (so a test
    cannot pass because the network happened to be there).
    """
    contexts = []

    def _open(path: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.route("**/*", lambda route: route.continue_() if is_local(route.request.url) else route.abort())
        page = context.new_page()
        visit = Visit(page)
        page.on("request", lambda r: visit.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and visit.problem(f"console: {m.text}"))
        page.on("pageerror", lambda e: visit.problem(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: visit.problem(f"failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and visit.problem(f"HTTP {r.status}: {r.url}"))
        page.goto(f"{site}/{path}", wait_until="load")
        # MathJax typesets after `load`; wait for it where the page loads it.
        page.evaluate("() => window.MathJax?.startup?.promise ?? null")
        page.wait_for_load_state("networkidle")
        return visit

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def loaded(open_page):
    """Each toc page opened once (with its screenshot), shared by the tests."""
    visits = {}

    def get(doc):
        if doc not in visits:
            visit = open_page(f"{doc}.html")
            page = visit.page
            page.wait_for_function(f"() => {SHOWN_IMAGES}.every(img => img.complete)")
            if page.locator(f'script[type="{WIDGET_VIEW}"]').count():
                try:
                    wait_for_widgets(page)
                except Exception as error:  # playwright's TimeoutError
                    pytest.fail(f"{doc}: saved widgets did not render: {error}\n" + "\n".join(visit.problems))
            visit.screenshot(doc.replace("/", "-"))
            visits[doc] = visit
        return visits[doc]

    return get


@pytest.mark.parametrize("doc", DOCS)
def test_page_loads_without_errors(loaded, doc):
    visit = loaded(doc)
    assert visit.page.title(), f"{doc}: page has no title"
    assert visit.problems == [], f"{doc}: errors while loading:\n" + "\n".join(visit.problems)


@pytest.mark.parametrize("doc", DOCS)
def test_no_request_leaves_localhost(loaded, doc):
    outside = [url for url in loaded(doc).requests if not is_local(url)]
    assert outside == [], f"{doc} tried to reach the network:\n" + "\n".join(outside)


@pytest.mark.parametrize("doc", DOCS)
def test_math_is_rendered(loaded, doc):
    page = loaded(doc).page
    n_math = page.locator(".math").count()  # Sphinx wraps each formula in .math
    if n_math == 0:
        assert RAW_TEX.search(page.evaluate(PROSE_JS)) is None, f"{doc}: raw TeX but no math markup"
        return
    unrendered = page.locator(".math:not(:has(mjx-container))").count()
    assert unrendered == 0, f"{doc}: {unrendered} of {n_math} formulas not typeset by MathJax"
    errors = page.locator("mjx-merror").all_inner_texts()
    assert errors == [], f"{doc}: MathJax could not typeset: {errors}"
    raw = RAW_TEX.findall(page.evaluate(PROSE_JS))
    assert raw == [], f"{doc}: raw TeX left in the visible text: {raw[:5]}"


@pytest.mark.parametrize("doc", DOCS)
def test_images_load(loaded, doc):
    broken = loaded(doc).page.evaluate(
        f"() => {SHOWN_IMAGES}.filter(img => !(img.complete && img.naturalWidth > 0))"
        ".map(img => img.src.slice(0, 80))"
    )
    assert broken == [], f"{doc}: images that did not load: {broken}"


# Output images that are figures of the text: not the theme's logo, not the
# pre-rendered frames inside a widget (those sit in a labelled slider).
FIGURE_IMAGES_JS = """
() => [...document.querySelectorAll('.cell_output img, figure img')]
      .filter(img => !img.closest('.jupyter-widgets, .widget-area'))
      .map(img => ({src: img.src.slice(-40), alt: (img.getAttribute('alt') || '').trim(),
                    caption: !!img.closest('figure')?.querySelector('figcaption')}))
"""


@pytest.mark.parametrize("doc", DOCS)
def test_figures_have_captions_and_alt_text(loaded, doc):
    """Every figure of a chapter carries a caption and a real alt text (not a file name)."""
    figures = loaded(doc).page.evaluate(FIGURE_IMAGES_JS)
    no_caption = [f["src"] for f in figures if not f["caption"]]
    no_alt = [f["src"] for f in figures if not f["alt"] or f["alt"].endswith(".png")]
    assert no_caption == [], f"{doc}: figures without a caption: {no_caption}"
    assert no_alt == [], f"{doc}: figures without alt text: {no_alt}"


@pytest.mark.parametrize("doc", [doc for doc in DOCS if (ROOT / f"{doc}.ipynb").is_file()])
def test_notebook_can_be_downloaded(loaded, doc):
    page = loaded(doc).page
    links = page.locator('a[href$=".ipynb"]')
    assert links.count() > 0, f"{doc}: no download link to the .ipynb"
    href = links.first.get_attribute("href")
    with urlopen(page.evaluate("(href) => new URL(href, document.baseURI).href", href)) as response:
        notebook = json.load(response)
    assert notebook["cells"], f"{doc}: the downloaded notebook has no cells"


@pytest.mark.parametrize("word, expected", [("recurrent", "book/intro.html"), ("sigmoid", "book/notation.html")])
def test_search_works_offline(open_page, word, expected):
    visit = open_page(f"search.html?q={word}")
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15_000)
    hrefs = [a.get_attribute("href") for a in visit.page.locator("#search-results ul.search li a").all()]
    assert any(expected in href for href in hrefs), f"searching {word!r} found {hrefs}, not {expected}"
    visit.screenshot(f"search-{word}")
    assert [url for url in visit.requests if not is_local(url)] == []
    assert visit.problems == [], "\n".join(visit.problems)


FRAME_SLIDER_DOCS = [doc for doc in DOCS if (HTML / f"{doc}.html").is_file()
                     and 'class="frame-slider"' in (HTML / f"{doc}.html").read_text()]


@pytest.mark.parametrize("doc", FRAME_SLIDER_DOCS or [
    pytest.param(None, marks=pytest.mark.skip(reason="no page has a frame slider"))])
def test_frame_slider_changes_what_is_shown(open_page, doc):
    """A frame slider (a FrameSlider, rewritten by tools/book_widgets.py) moves with the
    keyboard and shows another pre-rendered figure: no Python, no widget manager."""
    visit = open_page(f"{doc}.html")
    page = visit.page
    box = page.locator(".frame-slider").first
    box.scroll_into_view_if_needed()
    slider = box.locator("input[type=range]")
    shown = lambda: box.evaluate(VISIBLE_CONTENT_JS)  # noqa: E731
    value_before, shown_before = slider.input_value(), shown()
    assert any(item.startswith("img ") for item in shown_before), f"{doc}: the slider shows no figure"
    box.screenshot(path=SCREENSHOTS / f"{doc.replace('/', '-')}-slider-before.png")
    slider.focus()
    page.keyboard.press("ArrowLeft" if value_before == slider.get_attribute("max") else "ArrowRight")
    assert eventually(page, lambda: slider.input_value() != value_before), f"{doc}: the key did not move it"
    assert eventually(page, lambda: shown() != shown_before), f"{doc}: it moved but the figure did not change"
    assert eventually(page, lambda: box.evaluate(
        "(b) => [...b.querySelectorAll('img')].filter(i => !i.hidden).every(i => i.complete && i.naturalWidth)")), (
        f"{doc}: the new frame did not load")
    box.screenshot(path=SCREENSHOTS / f"{doc.replace('/', '-')}-slider-after.png")
    assert visit.problems == [], "\n".join(visit.problems)


@pytest.mark.parametrize("doc", SLIDER_DOCS)
def test_linked_slider_changes_what_is_shown(open_page, doc):
    """The first jslink-ed slider still drawn by the widget manager (if any) changes its widget.

    Frame sliders are rewritten without the widget manager (test above); this covers
    any other widget linked in the browser that a page still shows.
    """
    visit = open_page(f"{doc}.html")
    page = visit.page
    if page.locator(f'script[type="{WIDGET_VIEW}"]').count() == 0:
        pytest.skip(f"{doc}: no widget left for the widget manager (frame sliders are plain HTML)")
    wait_for_widgets(page)
    model_id = linked_slider_views(doc)[0]
    if not page.evaluate(
        """(id) => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                   .some(tag => JSON.parse(tag.textContent).model_id === id)""", model_id):
        pytest.skip(f"{doc}: its linked slider is drawn as a frame slider")
    page.evaluate(
        """(id) => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                   .find(tag => JSON.parse(tag.textContent).model_id === id)
                   .previousElementSibling.setAttribute("data-test-view", id)""",
        model_id,
    )
    area = page.locator(f'[data-test-view="{model_id}"]')
    handle = area.locator(".widget-slider .noUi-handle").first
    area.scroll_into_view_if_needed()
    value_before = handle.get_attribute("aria-valuenow")
    shown_before = area.evaluate(VISIBLE_CONTENT_JS)
    handle.focus()
    page.keyboard.press("ArrowRight")
    assert eventually(page, lambda: handle.get_attribute("aria-valuenow") != value_before), (
        f"{doc}: ArrowRight did not move the slider"
    )
    assert eventually(page, lambda: area.evaluate(VISIBLE_CONTENT_JS) != shown_before), (
        f"{doc}: the slider moved but nothing else on screen changed"
    )
    assert visit.problems == [], "\n".join(visit.problems)


# --- Citations -----------------------------------------------------------------

REFERENCES = "book/references"
BIB_KEY = re.compile(r"^@\w+\{([^,\s]+),", re.MULTILINE)


def page_source(doc: str) -> str:
    """The text a page is written in: a Markdown file, or a notebook's Markdown cells."""
    path = ROOT / f"{doc}.md"
    if path.is_file():
        return path.read_text()
    notebook = json.loads((ROOT / f"{doc}.ipynb").read_text())
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")


BIB_KEYS = set(BIB_KEY.findall((ROOT / "references.bib").read_text()))
# A page cites with {cite} roles or, as tools/portable_notebooks.py writes them,
# Markdown links to a key of references.bib: [Cho et al. (2014)](#cho2014learning).
CITE_LINK = re.compile(r"\]\(#([^)\s]+)\)")
CITING_DOCS = [doc for doc in DOCS if doc != REFERENCES
               and ("{cite" in page_source(doc) or BIB_KEYS & set(CITE_LINK.findall(page_source(doc))))]


def test_references_page_is_in_the_toc():
    assert REFERENCES in DOCS, f"{REFERENCES} is not listed in _toc.yml"
    assert CITING_DOCS, "no page of _toc.yml uses a {cite} role"


def test_references_page_lists_every_work(loaded):
    """One bibliography entry per key of references.bib, each with a label and text.

    The {bibliography} directive lists the works cited somewhere in the book, so
    an entry of references.bib that nothing cites is missing here, and fails.
    """
    keys = BIB_KEY.findall((ROOT / "references.bib").read_text())
    page = loaded(REFERENCES).page
    entries = page.locator('[role="doc-biblioentry"]')
    assert entries.count() == len(keys), (
        f"References lists {entries.count()} works, references.bib has {len(keys)}: {keys}"
    )
    for entry in entries.all():
        label = entry.locator(".label").inner_text().strip()
        text = entry.inner_text().replace(label, "").strip()
        assert label and len(text) > 20, f"empty bibliography entry: {entry.inner_text()!r}"


@pytest.mark.parametrize("doc", CITING_DOCS)
def test_citations_link_to_the_references_page(loaded, doc):
    """Every {cite} role became a link to an entry that exists on the References page."""
    page = loaded(doc).page
    assert "{cite" not in page.evaluate(PROSE_JS), f"{doc}: a {{cite}} role was left as text"
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('main a[href]')]"
        ".map(a => a.href).filter(href => new URL(href).pathname.endsWith('/book/references.html'))"
    )
    fragments = {urlsplit(href).fragment for href in hrefs}
    references = loaded(REFERENCES).page
    entry_ids = set(references.evaluate(
        "() => [...document.querySelectorAll('[role=\"doc-biblioentry\"]')].map(e => e.id)"
    ))
    cited = fragments & entry_ids
    assert cited, f"{doc}: no citation links to an entry of the References page ({sorted(fragments)})"
    dangling = [f for f in fragments if f and references.locator(f'[id="{f}"]').count() != 1]
    assert dangling == [], f"{doc}: links to missing anchors on the References page: {dangling}"


# --- Favicon and extensions -----------------------------------------------------


@pytest.mark.parametrize("path", ["", "book/intro.html", "book/references.html"])
def test_favicon_loads(browser, site, path):
    """The browser's own favicon requests are answered 200.

    Chromium asks for the page's <link rel="icon">, or for /favicon.ico when
    the page declares none (the root index.html, a bare redirect). It skips
    that request while Playwright intercepts requests, so this context has no
    route (the other tests check that nothing leaves 127.0.0.1), and the
    request never shows among the page's events: the server's record is read.
    """
    context = browser.new_context()
    try:
        page = context.new_page()
        before = len(_QuietHandler.served)
        page.goto(f"{site}/{path}", wait_until="load")
        page.wait_for_url("**/book/*.html")
        favicons = lambda: [(p, code) for p, code in _QuietHandler.served[before:] if "favicon" in p]  # noqa: E731
        assert eventually(page, favicons), f"/{path}: the browser asked for no favicon"
        page.wait_for_timeout(500)  # the root page: the redirect target asks too
        assert all(code == 200 for _, code in favicons()), f"/{path}: favicon requests answered {favicons()}"
    finally:
        context.close()


def test_favicon_at_the_site_root(site):
    """/favicon.ico exists too, for pages without an icon link (the root index.html redirect)."""
    with urlopen(f"{site}/favicon.ico") as response:
        assert response.status == 200
        assert response.read(4) == b"\x00\x00\x01\x00", "not an ICO file"


def test_extensions_are_jupyter_books_without_thebe():
    """_config.yml replaces jupyter-book's extension list to leave out sphinx_thebe.

    So the list must stay jupyter-book's defaults minus sphinx_thebe, in order,
    followed by the book's own: an upgrade that changes the defaults fails here.
    The built pages must carry nothing of thebe.
    """
    from jupyter_book.config import get_default_sphinx_config

    defaults = [ext for ext in get_default_sphinx_config()["extensions"] if ext != "sphinx_thebe"]
    ours = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["extensions"]
    assert ours[: len(defaults)] == defaults
    assert "sphinx_thebe" not in ours
    pages = [HTML / f"{doc}.html" for doc in DOCS]
    with_thebe = [p.name for p in pages if p.is_file() and "thebe" in p.read_text().lower()]
    assert with_thebe == [], f"pages that still load thebe: {with_thebe}"
