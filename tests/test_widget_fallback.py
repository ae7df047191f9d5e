"""Static fallback of the widgets: the display bundle also carries a figure and a plain-text line.

Where no widget can be drawn (a notebook opened untrusted or before it runs,
the PDF, nbval, a viewer without JavaScript) Jupyter and myst-nb pick the
``image/png`` of the bundle; these tests check that it is there, that it is the
default frame, and that the frames are stored compressed.
"""

import matplotlib

matplotlib.use("Agg")

import base64  # noqa: E402
import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402
from PIL import Image  # noqa: E402

from rnnlib.experiments import radius as experiments  # noqa: E402
from rnnlib.figures import inspector, plots, widgets  # noqa: E402

SMALL = experiments.RadiusExperiment(hidden_size=8, input_size=3, steps=12, n_seeds=2)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), dtype=int)


def _figure_png(color="tab:blue"):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(np.sin(np.linspace(0, 6, 50)), color=color)
    ax.imshow(np.linspace(0, 1, 64).reshape(8, 8), cmap="cividis", extent=(0, 50, -1, 1))
    ax.set_title("a title")
    return plots.figure_to_png(fig)


def _bundle(widget):
    """What IPython would send to the front end for ``widget`` (data part)."""
    data, _metadata = DisplayFormatter().format(widget)
    return data


# --- compress_png ------------------------------------------------------------------
def test_compress_png_is_smaller_and_looks_the_same():
    raw = _figure_png()
    small = widgets.compress_png(raw)
    assert small[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(small)) as img:
        assert img.mode == "P"  # palette
    assert len(small) < 0.7 * len(raw), (len(small), len(raw))
    a, b = _pixels(raw), _pixels(small)
    assert a.shape == b.shape
    # quantisation to 256 colours moves a pixel by a few levels at most
    assert np.percentile(np.abs(a - b), 99) <= 8 and np.abs(a - b).mean() < 1.0
    assert widgets.compress_png(raw) == small  # deterministic


def test_compress_png_rejects_bad_input():
    with pytest.raises(ValueError, match="PNG"):
        widgets.compress_png(b"GIF89a....")
    with pytest.raises(ValueError, match="colors"):
        widgets.compress_png(_figure_png(), colors=1)


# --- FrameSlider ------------------------------------------------------------------
def test_frame_slider_bundle_carries_its_default_frame():
    frames = [_figure_png("red"), _figure_png("green"), _figure_png("blue")]
    s = widgets.static_slider(frames, ["a", "b", "c"], description="pick", index=1)
    data = _bundle(s)
    assert WIDGET_VIEW in data and data[WIDGET_VIEW]["model_id"] == s.model_id
    png = base64.b64decode(data["image/png"])
    assert png == s.stack.children[1].value  # the frame the slider starts at
    assert png != s.stack.children[0].value
    assert "FrameSlider(" not in data["text/plain"]
    assert "3 pre-rendered figures" in data["text/plain"] and "shown: b" in data["text/plain"]


def test_frame_slider_stores_compressed_frames():
    raw = _figure_png()
    s = widgets.static_slider([raw], ["only"])
    stored = s.stack.children[0].value
    assert len(stored) < 0.7 * len(raw)
    with Image.open(io.BytesIO(stored)) as img:
        assert img.mode == "P"


def test_set_fallback_rejects_bad_input():
    s = widgets.static_slider([_figure_png()], ["only"])
    with pytest.raises(ValueError, match="PNG"):
        s.set_fallback(b"not a png", "text")
    with pytest.raises(ValueError, match="non-empty"):
        s.set_fallback(_figure_png(), "  ")


# --- live widgets ---------------------------------------------------------------------
def test_radius_explorer_bundle_shows_its_starting_figure():
    box = widgets.radius_explorer(rho=1.5, input_scale=0.5, config=SMALL)
    assert isinstance(box, widgets.LiveFigure)
    data = _bundle(box)
    assert WIDGET_VIEW in data
    png = base64.b64decode(data["image/png"])
    expected = widgets.compress_png(plots.figure_to_png(
        widgets.radius_figure(1.5, input_scale=0.5, config=SMALL), dpi=widgets.FALLBACK_DPI))
    assert png == expected
    assert "1.50" in data["text/plain"] and "live widget" in data["text/plain"]
    assert "VBox(" not in data["text/plain"]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_inspector_bundle_shows_its_starting_figure(kind):
    p = inspector.preset_sequence()
    box = inspector.gate_inspector(kind, inspector.preset_params(kind), p.x, t=5, x_labels=p.channels)
    assert isinstance(box, widgets.LiveFigure)
    data = _bundle(box)
    png = base64.b64decode(data["image/png"])
    assert _pixels(png).shape[0] > 200  # a real figure, not a placeholder
    assert f"{kind.upper()} gate inspector" in data["text/plain"] and "step 5" in data["text/plain"]
