"""Survival figures. Kept apart from the package's face (``analysis.plots``), so that only
the chapters that draw curves depend on the survival layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..survival.kaplan_meier import kaplan_meier
from .theme import EDITION_COLOURS

__all__ = ["reconstruction_plot"]


def reconstruction_plot(original: pd.DataFrame, time: str, event: str, rebuilt: pd.DataFrame, group: str,
                        names: dict, *, title: str = "", unit: str = "Months") -> Figure:
    """Kaplan–Meier curves of known patients (``original``) and of the patients rebuilt
    from their digitized curves (``rebuilt``: ``time``, ``event``), by ``group``."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (value, name), colour in zip(names.items(), EDITION_COLOURS):
        real = kaplan_meier(original.loc[original[group] == value, time], original.loc[original[group] == value, event]).table
        copy = kaplan_meier(rebuilt.loc[rebuilt[group] == value, "time"], rebuilt.loc[rebuilt[group] == value, "event"]).table
        ax.step(real["time"], real["survival"], where="post", color=colour, lw=2, alpha=0.4, label=f"{name}, original")
        ax.step(copy["time"], copy["survival"], where="post", color=colour, lw=1, ls="--", label=f"{name}, reconstructed")
    ax.set_xlabel(unit)
    ax.set_ylabel("Survival")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
