"""Sphinx extension: widgets in the HTML book show only what works, and pages stay light.

A static page runs no Python. Of the book's two kinds of widget
(:mod:`rnnlib.figures.widgets`):

* a **live** widget (``LiveFigure``: ``radius_explorer``, ``gate_inspector``)
  would show sliders that move and change nothing. Its output bundle also
  holds its starting figure (``image/png``) and a ``text/plain`` line with
  the marker :data:`LIVE_MARKER`; here its widget view is dropped, so the page
  shows that figure (alt text: the line), followed by a one-line note that it
  is live in Jupyter.
* a **frame slider** (``FrameSlider``: a slider ``jslink``-ed to a ``Stack``
  of images) does work in the browser, but the ipywidgets HTML manager it
  needs weighs 3.6 MB. Here it is rewritten as a plain ``<input type=range>``
  over ``<img>`` files (loaded when shown) and a few lines of JavaScript
  (:data:`SLIDER_JS`).

A page left with no widget view then loads neither the saved widget state nor
the widget manager. After the build (``build-finished``) every PNG in
``_images/`` is stored as a palette PNG (a third of the size, same look), and
the theme's ``fontawesome.js`` (1.5 MB of SVG icons the theme also draws from
its web font) is no longer loaded: the icons come from the font alone. Nor, on
any page but ``search.html``, are ``searchindex.js``, ``searchtools.js`` and
``language_data.js`` (110 kB, growing with the book): the theme loads them on
every page only for its search-as-you-type, which is off, so its search box
goes to ``search.html``, which loads them itself. A small
stylesheet (``_static/book-widgets.css``) lays out the sliders and gives display
math room above, so superscripts are not clipped.

Listed in ``_config.yml`` (``extensions``; ``tools/`` is on the path through
``local_extensions``). ``tests/browser/test_book_pages.py`` checks the result.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Written by ``rnnlib.figures.widgets.live_text`` into a live widget's text/plain.
LIVE_MARKER = "(live widget:"
LIVE_NOTE = ("Live in Jupyter: run the notebook (make lab) and its controls recompute this "
             "figure; the page shows it for the starting values.")
FONTAWESOME_JS = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
SEARCH_JS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools|_static/language_data|searchindex)\.js"></script>')

SLIDER_JS = """
(function () {
  function setUp(box) {
    var input = box.querySelector('input[type=range]');
    var out = box.querySelector('output');
    var frames = box.querySelectorAll('.frame-slider-frames img');
    function show() {
      var k = Number(input.value);
      frames.forEach(function (img, j) { img.hidden = j !== k; });
      out.textContent = frames[k].dataset.label;
      input.setAttribute('aria-valuetext', frames[k].dataset.label);
    }
    input.addEventListener('input', show);
    show();
  }
  document.querySelectorAll('.frame-slider').forEach(setUp);
})();
"""


def _ref(value: str) -> str:
    return value.removeprefix("IPY_MODEL_")


def _frame_slider(state: dict, model_id: str):
    """(description, labels, index, [png bytes]) if ``model_id`` is a FrameSlider, else None.

    A FrameSlider is a VBox of a SelectionSlider and a Stack of Images, the
    slider's ``index`` linked to the stack's ``selected_index`` by a jslink.
    """
    box = state.get(model_id, {})
    if box.get("model_name") != "VBoxModel":
        return None
    children = [_ref(c) for c in box["state"].get("children", [])]
    if len(children) != 2:
        return None
    slider, stack = (state.get(c, {}) for c in children)
    if slider.get("model_name") != "SelectionSliderModel" or stack.get("model_name") != "StackModel":
        return None
    linked = any(
        m.get("model_name") == "LinkModel"
        and [_ref(m["state"]["source"][0]), m["state"]["source"][1]] == [children[0], "index"]
        and [_ref(m["state"]["target"][0]), m["state"]["target"][1]] == [children[1], "selected_index"]
        for m in state.values()
    )
    if not linked:
        return None
    import base64

    pngs = []
    for image_id in (_ref(c) for c in stack["state"]["children"]):
        image = state.get(image_id, {})
        buffers = [b for b in image.get("buffers", []) if b.get("path") == ["value"]]
        if image.get("model_name") != "ImageModel" or len(buffers) != 1:
            return None
        pngs.append(base64.b64decode(buffers[0]["data"]))
    labels = [str(label) for label in slider["state"]["_options_labels"]]
    if len(labels) != len(pngs):
        return None
    index = slider["state"].get("index", 0) or 0
    return slider["state"].get("description", ""), labels, index, pngs


def _math_html(text: str) -> str:
    """Escape ``text``, turning ``$...$`` into Sphinx's inline math markup (MathJax typesets it)."""
    parts = re.split(r"\$([^$]+)\$", text)
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(f'<span class="math notranslate nohighlight">\\({html.escape(part)}\\)</span>')
        else:
            out.append(html.escape(part))
    return "".join(out)


def _mime_children(bundle):
    return {child.get("mime_type"): child for child in bundle.children}


class StaticWidgets(SphinxPostTransform):
    """Live widgets -> their figure and a note; frame sliders -> <input type=range> over images."""

    default_priority = 3  # before myst-nb's SelectMimeType (4) picks one output per bundle
    formats = ("html",)

    def run(self, **kwargs):
        docname = self.env.docname
        js_files = getattr(self.env, "nb_metadata", {}).get(docname, {}).get("js_files", {})
        state_script = js_files.get("ipywidgets_state")
        state = json.loads(state_script[1]["body"])["state"] if state_script else {}
        bundles = [n for n in self.document.findall(nodes.container) if n.get("nb_element") == "mime_bundle"]
        remaining, made_slider = 0, False
        for bundle in bundles:
            mimes = _mime_children(bundle)
            if WIDGET_VIEW not in mimes:
                continue
            text = mimes["text/plain"].astext() if "text/plain" in mimes else ""
            if LIVE_MARKER in text and "image/png" in mimes:
                self._show_figure(bundle, mimes, text)
                continue
            view = json.loads(_unwrap_view(mimes[WIDGET_VIEW]))
            found = _frame_slider(state, view.get("model_id", ""))
            if found is None:
                remaining += 1
                continue
            html_text = self._slider_html(docname, *found, alt=_alt_of(mimes))
            mimes[WIDGET_VIEW].children = [nodes.raw("", html_text, format="html")]
            made_slider = True
        if js_files and not remaining and state_script:
            for key in [k for k in js_files if k.startswith("ipywidgets_")]:
                del js_files[key]
        if made_slider:
            self.document.append(nodes.raw("", f"<script>{SLIDER_JS}</script>", format="html"))

    def _show_figure(self, bundle, mimes, text):
        bundle.remove(mimes[WIDGET_VIEW])
        description = text.split(LIVE_MARKER)[0].strip()
        for image in mimes["image/png"].findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = description
        note = nodes.paragraph("", LIVE_NOTE, classes=["live-widget-note"])
        anchor = bundle.parent if isinstance(bundle.parent, nodes.figure) else bundle
        anchor.parent.insert(anchor.parent.index(anchor) + 1, note)

    def _slider_html(self, docname, description, labels, index, pngs, alt=""):
        outdir = Path(self.app.builder.outdir) / "_images"
        outdir.mkdir(parents=True, exist_ok=True)
        images = []
        for k, (label, png) in enumerate(zip(labels, pngs)):
            name = f"frame-{hashlib.sha1(png).hexdigest()[:16]}.png"
            (outdir / name).write_bytes(png)
            src = posixpath.relpath(f"_images/{name}", posixpath.dirname(docname) or ".")
            what = f"{alt} " if alt else ""
            frame_alt = html.escape(f"{what}({description} = {label}, frame {k + 1} of {len(labels)})".strip())
            # the frame shown first loads with the page; the others when shown
            hidden = "" if k == index else ' loading="lazy" hidden'
            images.append(f'<img src="{src}" alt="{frame_alt}" data-label="{html.escape(label)}"{hidden}>')
        return (
            '<div class="frame-slider">'
            '<label class="frame-slider-control">'
            f'<span class="frame-slider-description">{_math_html(description)}</span>'
            f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{index}">'
            f'<output>{html.escape(labels[index])}</output></label>'
            f'<div class="frame-slider-frames">{"".join(images)}</div></div>'
        )


def _unwrap_view(container) -> str:
    """The JSON of a widget view from myst-nb's ``<script type=...>`` raw node."""
    raw = container.astext()
    return raw[raw.index(">") + 1: raw.rindex("</script>")]


def _alt_of(mimes) -> str:
    for image in mimes.get("image/png", nodes.container()).findall(nodes.image):
        if image.get("alt"):
            return image["alt"]
    return ""


SLIDER_CSS = """
.frame-slider-control { display: flex; align-items: center; gap: 0.75em; max-width: 640px; }
.frame-slider-control input[type=range] { flex: 1; }
.frame-slider-control output { min-width: 3em; font-variant-numeric: tabular-nums; }
.frame-slider-frames img { max-width: 100%; height: auto; }
.live-widget-note { font-size: 0.9em; font-style: italic; }
/* The theme's display-math box scrolls (overflow: auto) with room below only, so
   a superscript at the top (the transpose sign of W_h^T in eq. 2.13) was clipped. */
div.math mjx-container { padding-top: 0.35rem; }
"""


def compress_images(app, exception):
    """build-finished: palette PNGs in _images/; no fontawesome.js, nor search scripts
    outside the search page (unless the theme's search-as-you-type is on)."""
    if exception is not None or app.builder.format != "html":
        return
    from PIL import Image

    outdir = Path(app.builder.outdir)
    for path in sorted((outdir / "_images").glob("*.png")):
        raw = path.read_bytes()
        with Image.open(io.BytesIO(raw)) as img:
            if img.mode == "P":
                continue
            pal = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
        buf = io.BytesIO()
        pal.save(buf, format="PNG", optimize=True)
        if len(buf.getvalue()) < len(raw):
            path.write_bytes(buf.getvalue())
    search_as_you_type = app.config.html_theme_options.get("search_as_you_type", False)
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = FONTAWESOME_JS.sub("", text)
        if not search_as_you_type and page != outdir / "search.html":
            new = SEARCH_JS.sub("", new)
        if new != text:
            page.write_text(new, encoding="utf-8")


def _write_css(app):
    static = Path(app.builder.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "book-widgets.css").write_text(SLIDER_CSS)


def setup(app):
    app.add_post_transform(StaticWidgets)
    app.connect("builder-inited", _write_css)
    app.add_css_file("book-widgets.css")
    app.connect("build-finished", compress_images)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
