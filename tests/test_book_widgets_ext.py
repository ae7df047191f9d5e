"""tools/book_widgets.py, the parts that run without a Sphinx build: recognising a
FrameSlider in saved widget state, and writing slider labels with math.
(The build itself is checked in tests/browser/test_book_pages.py.)"""

import json
import sys
from pathlib import Path

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from ipywidgets.embed import embed_data  # noqa: E402

from rnnlib.figures import plots, widgets  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import book_widgets  # noqa: E402


def _png(color):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_facecolor(color)
    return plots.figure_to_png(fig)


def _state(widget):
    return json.loads(json.dumps(embed_data(views=[widget])["manager_state"]["state"]))


def test_frame_slider_is_found_in_saved_state():
    s = widgets.static_slider([_png("red"), _png("blue")], ["a", "b"], description="$b_f$ shift", index=1)
    found = book_widgets._frame_slider(_state(s), s.model_id)
    assert found is not None
    description, labels, index, pngs = found
    assert (description, labels, index) == ("$b_f$ shift", ["a", "b"], 1)
    assert pngs == [image.value for image in s.stack.children]


def test_other_widgets_are_not_frame_sliders():
    slider = ipywidgets.SelectionSlider(options=["a", "b"])
    stack = ipywidgets.Stack([ipywidgets.Image(value=_png("red"), format="png")] * 2)
    unlinked = ipywidgets.VBox([slider, stack])  # no jslink: moving it would show nothing
    assert book_widgets._frame_slider(_state(unlinked), unlinked.model_id) is None
    box = ipywidgets.VBox([ipywidgets.FloatSlider(), ipywidgets.Output()])
    assert book_widgets._frame_slider(_state(box), box.model_id) is None
    assert book_widgets._frame_slider({}, "missing") is None


def test_slider_description_math_is_left_to_mathjax():
    html = book_widgets._math_html("$b_f$ shift <1>")
    assert html == '<span class="math notranslate nohighlight">\\(b_f\\)</span> shift &lt;1&gt;'


def test_live_marker_matches_what_the_widgets_write():
    assert book_widgets.LIVE_MARKER in widgets.live_text("Some figure")
