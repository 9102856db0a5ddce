"""The plots' shared look: colours, and text drawn literally in any font."""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
from matplotlib import font_manager

__all__ = ["POOLED_COLOUR", "STUDY_COLOUR", "EDITION_COLOURS", "MAX_LABEL", "drawable", "short_label"]

POOLED_COLOUR = "#1f4e79"
STUDY_COLOUR = "#4d4d4d"
#: One colour per edition of the study table (2020, update, …).
EDITION_COLOURS = ["#1f4e79", "#b2182b", "#4d9221", "#7b3294"]
_MISSING_GLYPH = "□"


@functools.cache
def _font_charmap() -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]))
    return frozenset(font_manager.get_font(path).get_charmap())


def drawable(text: str) -> str:
    """``text`` as matplotlib should draw it literally: characters the plotting font
    cannot draw (e.g. CJK product names without a CJK font) shown as a placeholder,
    instead of a missing-glyph warning, and every ``$`` escaped, so that a name such as
    ``$\\href{...}$`` is text, not mathtext (which would fail to parse, or typeset it)."""
    charmap = _font_charmap()
    shown = "".join(c if c.isspace() or ord(c) in charmap else _MISSING_GLYPH for c in str(text))
    return shown.replace("$", r"\$")


#: The longest label a plot draws; a longer one is cut, with an ellipsis (the tables
#: beside the plot give it whole).
MAX_LABEL = 48


def short_label(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with ``…``, drawn literally (:func:`drawable`)."""
    text = str(text)
    return drawable(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")
