"""The risk-of-bias traffic-light figure (the layout of robvis): one row per cohort, one
column per item and the overall judgement, each judgement a coloured disc with a symbol
so that it reads without colour too."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..text.labels import ROB_ITEM_LABELS
from .theme import drawable, short_label

__all__ = ["risk_of_bias_plot", "JUDGEMENT_STYLE"]

#: Colour and symbol of each judgement.
JUDGEMENT_STYLE: dict[str, tuple[str, str]] = {
    "low": ("#1a9850", "+"), "unclear": ("#fdd835", "?"), "some concerns": ("#fdd835", "!"), "high": ("#d73027", "−"),
}


def risk_of_bias_plot(table: pd.DataFrame, items: list[str], *, title: str = "") -> Figure:
    """``table``: one row per cohort with ``label``, the ``items`` columns and ``overall``."""
    columns = [*items, "overall"]
    rows = len(table)
    # room above for the rotated item names, whatever the number of rows
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(columns) + 2.2, 2.4 + 0.26 * max(rows, 1)))
    for r, (_, row) in enumerate(table.iterrows()):
        for c, column in enumerate(columns):
            colour, symbol = JUDGEMENT_STYLE[row[column]]
            ax.scatter(c, r, s=120, color=colour, edgecolors="#333333", linewidths=0.5, zorder=2)
            ax.text(c, r, symbol, ha="center", va="center", fontsize=8, weight="bold", zorder=3)
    ax.set_xticks(range(len(columns)), [ROB_ITEM_LABELS[c] for c in columns], rotation=45, ha="left", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(rows), [drawable(short_label(label, 40)) for label in table["label"]], fontsize=7)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.axvline(len(items) - 0.5, color="#999999", lw=0.8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    handles = [plt.Line2D([], [], marker="o", ls="", color=JUDGEMENT_STYLE[j][0], markeredgecolor="#333333",
                          label=f"{JUDGEMENT_STYLE[j][1]} {j}") for j in ("low", "unclear", "high")]
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title, x=0.02, ha="left", weight="bold", fontsize=10)
    fig.tight_layout()
    return fig
