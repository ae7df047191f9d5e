r"""The book's one colour palette: a fixed Okabe–Ito colour for every symbol.

Okabe and Ito (2008) chose eight colours that stay distinguishable for the
common forms of colour blindness. This module names them (:data:`OKABE_ITO`)
and assigns each symbol of the book a colour (:data:`GATE_COLORS`), so that
``h`` is the same blue in every diagram, plot and widget of every chapter.
Plain hex strings only: no matplotlib here, so :mod:`rnnlib.figures.plots`,
:mod:`rnnlib.figures.diagrams` and anything else can import it.

Eight colours for eleven symbols means some symbols share one. The sharing
follows the *role* of a symbol, and each chapter's set stays distinct:

======================  ==============  ===================================
role                    colour          symbols
======================  ==============  ===================================
input                   sky blue        ``x``
hidden state            blue            ``h``
output                  yellow          ``y`` (box fills; weak as a line)
"keep the old state"    orange          ``f`` (LSTM), ``z`` (GRU)
"let new input in"      bluish green    ``i`` (LSTM)
"expose / reset"        reddish purple  ``o`` (LSTM), ``r`` (GRU)
candidate state         vermillion      ``c_tilde`` (LSTM), ``h_tilde`` (GRU)
cell state              black           ``c`` (LSTM)
======================  ==============  ===================================

So ``f, i, o, c_tilde, c`` are mutually distinct, ``z, r, h_tilde`` are
mutually distinct, and both sets differ from ``x`` and ``h``.

References
----------
M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people", 2008.
"""

from __future__ import annotations

#: The eight Okabe–Ito colours, by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: One colour per symbol, for the whole book.
GATE_COLORS = {
    "x": OKABE_ITO["sky_blue"],  # input x_t
    "h": OKABE_ITO["blue"],  # hidden state h_t
    "y": OKABE_ITO["yellow"],  # output y_t
    # LSTM (chapter 2)
    "f": OKABE_ITO["orange"],  # forget gate
    "i": OKABE_ITO["bluish_green"],  # input gate
    "o": OKABE_ITO["reddish_purple"],  # output gate
    "c_tilde": OKABE_ITO["vermillion"],  # candidate cell state
    "c": OKABE_ITO["black"],  # cell state
    # GRU (chapter 3)
    "z": OKABE_ITO["orange"],  # update gate (keeps the old state, like f)
    "r": OKABE_ITO["reddish_purple"],  # reset gate
    "h_tilde": OKABE_ITO["vermillion"],  # candidate state (like c_tilde)
}

#: TeX label of each symbol at time t, for diagrams, legends and titles.
SYMBOL_LABELS = {
    "x": r"$x_t$",
    "h": r"$h_t$",
    "y": r"$y_t$",
    "f": r"$f_t$",
    "i": r"$i_t$",
    "o": r"$o_t$",
    "c_tilde": r"$\tilde C_t$",
    "c": r"$C_t$",
    "z": r"$z_t$",
    "r": r"$r_t$",
    "h_tilde": r"$\tilde h_t$",
}

#: Colours for curves that are not symbols (e.g. one line per spectral
#: radius), in an order that reads well on white: yellow is left out.
LINE_COLORS = [
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
]

#: Neutral grey for arrows, guides and reference lines.
NEUTRAL = "#555555"


def symbol_color(symbol: str) -> str:
    """The hex colour of ``symbol`` (a key of :data:`GATE_COLORS`).

    Raises ``KeyError`` with the list of known symbols otherwise.
    """
    try:
        return GATE_COLORS[symbol]
    except KeyError:
        raise KeyError(f"no colour for symbol {symbol!r}; known symbols: {sorted(GATE_COLORS)}") from None


def lighten(color: str, amount: float = 0.7) -> str:
    """Mix a hex colour with white: ``amount`` 0 keeps it, 1 gives white.

    Used for box fills, so black text stays readable on any symbol colour.
    """
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        raise ValueError(f"color must be a hex string '#RRGGBB'; got {color!r}")
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1]; got {amount}")
    rgb = [int(color[k:k + 2], 16) for k in (1, 3, 5)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)
