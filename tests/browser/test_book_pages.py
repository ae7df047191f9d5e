"""The built HTML pages: weight, layout and controls (issue 13, sections 3-5).

* **weight**: what a page transfers on a first load (no cache), summed over every
  response: at most 4 MB for a chapter with widgets, 2.5 MB for any other page.
* **overflow**: at 1400 px and at 1000 px, no element of the article is wider than
  its box (an equation or a code line cut at the right edge, behind a scroll bar).
* **no dead controls**: a static page runs no Python, so it shows no ipywidgets
  slider or drop-down; live widgets are shown as their figure, with a note, and
  frame sliders as plain HTML (tools/book_widgets.py).

Uses the server of test_book_html.py and the browser of conftest.py; reads ``_build/html``.
"""

from __future__ import annotations

import json

import pytest

from test_book_html import DOCS, ROOT, SHOWN_IMAGES, is_local, site  # noqa: F401  (site: the fixture)

CHAPTER_WITH_WIDGETS_MB = 4.0
OTHER_PAGE_MB = 2.5


def has_widgets(doc: str) -> bool:
    path = ROOT / f"{doc}.ipynb"
    return path.is_file() and bool(json.loads(path.read_text()).get("metadata", {}).get("widgets"))


def first_load(browser, site, doc, width=1400):  # noqa: F811
    """Open ``doc`` in a fresh context; return (page, context, {url: bytes transferred})."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda route: route.continue_() if is_local(route.request.url) else route.abort())
    page = context.new_page()
    sizes = {}

    def on_response(response):
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # redirects and aborted requests have no body
            sizes.setdefault(response.url, 0)

    page.on("response", on_response)
    page.set_default_timeout(120_000)  # the machine may be busy
    page.goto(f"{site}/{doc}.html", wait_until="load")
    page.evaluate("() => window.MathJax?.startup?.promise ?? null")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    return page, context, sizes


@pytest.mark.parametrize("doc", DOCS)
def test_page_weight(browser, site, doc):  # noqa: F811
    page, context, sizes = first_load(browser, site, doc)
    context.close()
    total = sum(sizes.values()) / 1e6
    limit = CHAPTER_WITH_WIDGETS_MB if has_widgets(doc) else OTHER_PAGE_MB
    biggest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    listing = "\n".join(f"  {n / 1e3:7.0f} kB  {url.split('/', 3)[-1][:90]}" for url, n in biggest)
    print(f"{doc}: {total:.2f} MB in {len(sizes)} requests (limit {limit} MB)")
    assert total <= limit, f"{doc}: first load transfers {total:.2f} MB > {limit} MB; largest:\n{listing}"


# Elements wider than their box, inside the article: scroll boxes whose content is
# wider than the box (display math, code), and anything reaching past the article.
OVERFLOW_JS = """
(SELECTOR) => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const right = article.getBoundingClientRect().right + 1;
  const out = [];
  const describe = (el) => {
    const id = el.closest('[id]')?.id || '';
    const text = (el.innerText || el.getAttribute('alt') || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
    return `${el.tagName.toLowerCase()}.${[...el.classList].slice(0, 2).join('.')} #${id} "${text}"`;
  };
  const insideScrollBox = (el) => {  // reported once, as its box
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of article.querySelectorAll(SELECTOR)) {
    if (!el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    // a box that scrolls hides what does not fit behind a scroll bar (inline math's
    // overflow: hidden boxes are left out: their extra width is MathJax's off-screen
    // assistive MathML, not a visible glyph)
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      out.push(`${describe(el)}: content ${el.scrollWidth}px in a ${el.clientWidth}px box`);
    } else if (el.getBoundingClientRect().right > right && !insideScrollBox(el)) {
      out.push(`${describe(el)}: reaches ${Math.round(el.getBoundingClientRect().right)}px, article ends at ${Math.round(right)}px`);
    }
  }
  // report the outermost offender of each nest once
  return [...new Set(out)].slice(0, 30);
}
"""

# Clipped glyphs: display math whose rendered formula is taller than its box.
CLIPPED_MATH_JS = """
() => [...document.querySelectorAll('mjx-container[display="true"]')]
  .filter(c => c.scrollHeight > c.clientHeight + 1 && getComputedStyle(c).overflowY !== 'visible')
  .map(c => (c.closest('[id]')?.id || '?') + `: ${c.scrollHeight}px in ${c.clientHeight}px`)
"""


@pytest.mark.parametrize("width", [1400, 1000])
@pytest.mark.parametrize("doc", DOCS)
def test_nothing_wider_than_its_box(browser, site, doc, width):  # noqa: F811
    page, context, _ = first_load(browser, site, doc, width=width)
    try:
        page.wait_for_function(f"() => {SHOWN_IMAGES}.every(img => img.complete)")
        wide = page.evaluate(OVERFLOW_JS, ":not(pre)")
        clipped = page.evaluate(CLIPPED_MATH_JS)
    finally:
        context.close()
    assert wide == [], f"{doc} at {width}px: elements wider than their box:\n" + "\n".join(wide)
    assert clipped == [], f"{doc} at {width}px: display math clipped vertically: {clipped}"


# Code and printed text (<pre>) scroll sideways when too wide, hiding their end.
# _static/book.css sizes code so an 88-character line fits and wraps printed output.
@pytest.mark.parametrize("width", [1400, 1000])
@pytest.mark.parametrize("doc", DOCS)
def test_code_and_printed_text_fit(browser, site, doc, width):  # noqa: F811
    page, context, _ = first_load(browser, site, doc, width=width)
    try:
        wide = page.evaluate(OVERFLOW_JS, "pre")
    finally:
        context.close()
    assert wide == [], f"{doc} at {width}px: code or text wider than its box:\n" + "\n".join(wide)


@pytest.mark.parametrize("doc", DOCS)
def test_no_control_that_does_nothing(browser, site, doc):  # noqa: F811
    page, context, _ = first_load(browser, site, doc)
    try:
        page.wait_for_timeout(1000)  # the widget manager, if any, has drawn
        controls = page.locator(".jupyter-widgets .widget-slider, .jupyter-widgets select, "
                                ".jupyter-widgets .widget-dropdown").count()
    finally:
        context.close()
    assert controls == 0, f"{doc}: {controls} ipywidgets controls shown in a page that runs no Python"
