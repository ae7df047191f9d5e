"""No text overlaps another in the widgets' figures (issue 21: chapter 5's inspector had
its 23 channel labels on top of each other): rnnlib.figures.plots.text_overlaps and the
figures of every widget, with the arguments the chapters use."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnlib  # noqa: E402
from rnnlib.experiments.inspector_compute import preset_params, preset_sequence  # noqa: E402
from rnnlib.figures import inspector, widgets  # noqa: E402
from rnnlib.figures.plots import text_overlaps  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_text_overlaps_finds_two_texts_in_one_place_and_only_those():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("title")
    ax.text(0.5, 0.5, "one")
    assert text_overlaps(fig) == []
    ax.text(0.5, 0.5, "two")
    assert text_overlaps(fig) == [("one", "two")]
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure; got Axes"):
        text_overlaps(ax)


def test_tick_labels_outside_the_view_do_not_count():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_yticks([-100, 0, 1, 100])  # -100 and 100 lie outside the view: not drawn
    ax.set_ylim(0, 1)
    assert text_overlaps(fig) == []


def test_dense_channel_labels_overlap_in_a_panel_of_the_old_height():
    """The check can fail: 23 labels in one 0.95-inch panel (the old layout) overlap."""
    fig, ax = plt.subplots(figsize=(9, 0.95))
    ax.imshow(np.zeros((23, 57)), aspect="auto")
    ax.set_yticks(range(23), [chr(97 + k) for k in range(23)], fontsize="small")
    assert len(text_overlaps(fig)) > 10


def _ch5_input(V=23, T=57, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(V)[rng.integers(0, V, T)][None]  # (1, T, V) one-hot characters
    labels = ["↵", "␣", *"()[]{}\"'", *"abcdefghijklm"][:V]
    return x, labels


@pytest.mark.parametrize("width", [7.5, 9.0])
def test_chapter5_inspector_labels_every_channel_without_overlap(width):
    x, labels = _ch5_input()
    layer = rnnlib.LSTM(x.shape[2], 64, rng=np.random.default_rng(0))
    fig = inspector.inspector_figure("lstm", layer, x, t=15, gate="f", x_labels=labels, c_limit=4.0,
                                     width=width)
    assert text_overlaps(fig) == []
    x_panel = fig.axes[0]
    assert [t.get_text() for t in x_panel.get_yticklabels()] == labels  # every channel named


@pytest.mark.parametrize("kind, gate", [("lstm", "o"), ("gru", "z")])
def test_chapter2_3_inspectors_have_no_overlapping_text(kind, gate):
    seq = preset_sequence()
    fig = inspector.inspector_figure(kind, preset_params(kind), seq.x, t=seq.read, gate=gate,
                                     bias_delta=3.0, x_labels=seq.channels)
    assert text_overlaps(fig) == []


@pytest.mark.parametrize("rho", [0.25, 1.0, 3.0])
def test_radius_figure_has_no_overlapping_text(rho):
    assert text_overlaps(widgets.radius_figure(rho, input_scale=3.0)) == []


def test_panel_heights_grow_with_the_labelled_channels():
    assert inspector.panel_heights("gru") == [inspector.PANEL_HEIGHT] * 4
    assert inspector.panel_heights("lstm", n_channels=3)[0] == inspector.PANEL_HEIGHT
    tall = inspector.panel_heights("lstm", n_channels=23)[0]
    assert tall == pytest.approx(23 * inspector.CHANNEL_HEIGHT + inspector.TITLE_HEIGHT)
    with pytest.raises(ValueError, match="kind"):
        inspector.panel_heights("rnn")
