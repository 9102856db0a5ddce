"""Summary figures: the study-selection flow, and estimates by edition of the study table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..text.labels import OUTCOME_LABELS
from ..text.numbers import p_value
from .theme import EDITION_COLOURS, POOLED_COLOUR, short_label

__all__ = ["flow_diagram", "update_flow_diagram", "cumulative_plot", "editions_plot", "subgroup_editions_plot", "model_panel_plot", "coverage_plot"]


def flow_diagram(stages: pd.DataFrame, *, title: str = "") -> Figure:
    """A study-selection flow (PRISMA style): one box per row of ``stages`` (columns
    ``stage``, ``count``, ``unit``), top to bottom, joined by arrows."""
    fig, ax = plt.subplots(figsize=(6.5, 1.0 + 1.1 * len(stages)))
    ax.set_xlim(0, 1)
    ax.set_ylim(len(stages) - 0.4, -0.6)
    ax.axis("off")
    for i, row in enumerate(stages.itertuples()):
        ax.text(0.5, i, f"{row.stage}\n{row.count:,} {row.unit}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.5", "facecolor": "#e8eef5", "edgecolor": POOLED_COLOUR})
        if i:
            ax.annotate("", xy=(0.5, i - 0.32), xytext=(0.5, i - 0.68),
                        arrowprops={"arrowstyle": "-|>", "color": POOLED_COLOUR})
    ax.set_title(title, loc="left", weight="bold")
    return fig




def _edition_rows(ax, table: pd.DataFrame, key: str, labels: dict[str, str], editions: list[str]) -> None:
    """One row per ``key`` value, one offset point with its 95% CI per edition."""
    names = list(dict.fromkeys(table[key]))
    offsets = np.linspace(0.18, -0.18, len(editions)) if len(editions) > 1 else [0.0]  # first edition on top
    for colour, offset, edition in zip(EDITION_COLOURS, offsets, editions):
        part = table[table["edition"] == edition].set_index(key).reindex(names)
        y = np.arange(len(names))[::-1] + offset
        ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
                    fmt="o", color=colour, ms=5, capsize=3, label=edition)
    # Labels are phrased for sentences ("a CD28 domain"); an axis needs no article.
    ax.set_yticks(np.arange(len(names))[::-1], [short_label(labels.get(n, n).removeprefix("a ")) for n in names])
    ax.set_xlim(0, 100)
    ax.spines[["top", "right"]].set_visible(False)


def editions_plot(table: pd.DataFrame, *, labels: dict[str, str], title: str = "") -> Figure:
    """Each outcome's pooled estimate and 95% CI in each edition of the study table
    (rows of :func:`analysis.review.editions.pooled_side_by_side`), one line per outcome."""
    editions = list(dict.fromkeys(table["edition"]))
    fig, ax = plt.subplots(figsize=(7.5, (0.25 + 0.2 * len(editions)) * table["outcome"].nunique() + 1.0))
    _edition_rows(ax, table, "outcome", labels, editions)
    ax.set_xlabel("Pooled rate (%), 95% CI")
    ax.legend(frameon=False, loc="lower right", fontsize=9)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return fig


def subgroup_editions_plot(table: pd.DataFrame, *, titles: dict[tuple[str, str], str], labels: dict[str, str],
                           title: str = "") -> Figure:
    """The subgroup estimates of each comparison in each edition (rows of
    :func:`analysis.review.editions.subgroup_side_by_side`): one panel per comparison, its
    test's p per edition in the panel title; a comparison an edition cannot make is
    said in its panel."""
    editions = list(dict.fromkeys(table["edition"]))
    panels = list(dict.fromkeys(zip(table["outcome"], table["factor"])))
    sizes = [max(1, table[(table["outcome"] == o) & (table["factor"] == f) & (table["group"] != "")]["group"].nunique())
             for o, f in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, sum(0.45 * n + 0.55 for n in sizes) + 0.9), sharex=True,
                             gridspec_kw={"height_ratios": [0.45 * n + 0.2 for n in sizes]}, squeeze=False)
    for ax, (outcome, factor) in zip(axes[:, 0], panels):
        part = table[(table["outcome"] == outcome) & (table["factor"] == factor)]
        fitted = part[part["group"] != ""]
        if not fitted.empty:
            _edition_rows(ax, fitted, "group", labels, editions)
        tests = []
        for edition in editions:
            rows = part[part["edition"] == edition]
            tests.append(f"{edition}: {p_value(float(rows['p'].iloc[0]))}" if (rows["group"] != "").any() else
                         f"{edition}: no comparison")
        # Two lines: the comparison, then each edition's test (one line overflows the figure).
        ax.set_title(f"{titles[(outcome, factor)]}\n{'; '.join(tests)}", loc="left", fontsize=9)
    axes[-1, 0].set_xlabel("Subgroup pooled rate (%), 95% CI")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, frameon=False, loc="upper right", ncol=len(names), fontsize=9)
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return fig


def model_panel_plot(panel: pd.DataFrame, outcomes: list[str]) -> Figure:
    """Each outcome's pooled estimate and CI under each model of the sensitivity panel
    (:func:`analysis.review.model_sensitivity`), one panel per outcome, the first model's
    estimate dashed."""
    fig, axes = plt.subplots(1, len(outcomes), figsize=(11, 3.2), sharey=True, squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        part = panel[panel["outcome"] == outcome].reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
                    fmt="o", color=POOLED_COLOUR, ms=4, capsize=2)
        if np.isfinite(part.loc[0, "estimate"]):
            ax.axvline(part.loc[0, "estimate"], color="#999999", lw=0.8, ls="--")
        ax.set_title(OUTCOME_LABELS.get(outcome, outcome), fontsize=9)
        ax.set_xlabel("%")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_yticks(y, [short_label(m) for m in part["model"]])
    fig.tight_layout()
    return fig


def coverage_plot(simulation: pd.DataFrame, nominal: float = 95.0) -> Figure:
    """Coverage (percent, with 95% Monte Carlo error bars) of each interval method against
    τ², one panel per generating model and number of studies
    (:func:`analysis.meta.simulation.coverage_simulation`)."""
    models = list(dict.fromkeys(simulation["model"]))
    ks = sorted(simulation["k"].unique())
    fig, axes = plt.subplots(len(models), len(ks), figsize=(4.5 * len(ks), 2.9 * len(models)), sharey=True, squeeze=False)
    for row, model in zip(axes, models):
        for ax, k in zip(row, ks):
            part = simulation[(simulation["k"] == k) & (simulation["model"] == model)]
            for method, group in part.groupby("method", sort=False):
                ax.errorbar(group["tau2"], 100 * group["coverage"], yerr=196 * group["mc_se"], marker="o", capsize=2,
                            label=method)
            ax.axhline(nominal, color="#999999", ls="--", lw=0.8)
            ax.set_title(f"{model} rates, k = {k} studies", fontsize=10)
            ax.set_xlabel("τ² (logit scale)")
            ax.spines[["top", "right"]].set_visible(False)
        row[0].set_ylabel(f"Coverage of the {nominal:g}% CI (%)")
    axes[0][-1].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def update_flow_diagram(boxes: dict[str, str], *, title: str = "") -> Figure:
    """The PRISMA 2020 flow diagram of an updated review: the previous review's cohorts
    on the left (less the rows replaced), the new searches in the middle, what was set
    aside on the right, and the cohorts of the update's main and sensitivity analyses at
    the bottom (``boxes`` from :func:`analysis.text.editions.flow_boxes`)."""
    fig, ax = plt.subplots(figsize=(9.5, 6.8))
    ax.set_xlim(0, 1)
    ax.set_ylim(6.4, -0.6)
    ax.axis("off")
    style = {"boxstyle": "round,pad=0.5", "facecolor": "#e8eef5", "edgecolor": POOLED_COLOUR}
    side = {"boxstyle": "round,pad=0.5", "facecolor": "#f5f5f5", "edgecolor": "#888888"}
    left, main, right = 0.13, 0.47, 0.82
    rows = {"search": 0.0, "used": 1.3, "assessed": 2.6, "new": 4.0, "total": 5.7}
    places = {"previous": (left, rows["search"]), "replaced": (left, rows["new"]), "identified": (main, rows["search"]),
              "screened_out": (right, rows["search"]), "used": (main, rows["used"]), "assessed": (main, rows["assessed"]),
              "excluded": (right, rows["assessed"]), "new": (main, rows["new"]), "sensitivity": (right, rows["new"]),
              "total": (main, rows["total"]), "total_all": (right, rows["total"])}
    for key, (x, y) in places.items():
        ax.text(x, y, boxes[key], ha="center", va="center", fontsize=8.5,
                bbox=side if key in ("screened_out", "excluded", "replaced") else style)
    blue, grey = {"arrowstyle": "-|>", "color": POOLED_COLOUR}, {"arrowstyle": "-|>", "color": "#888888"}
    half_height, half_width = 0.42, 0.13  # room the boxes take around their centres

    def down(start: str, end: str, style: dict) -> None:
        (x, y0), (_, y1) = places[start], places[end]
        ax.annotate("", xy=(x, y1 - half_height), xytext=(x, y0 + half_height), arrowprops=style)

    def across(start: str, end: str, style: dict) -> None:
        (x0, y), (x1, _) = places[start], places[end]
        ax.annotate("", xy=(x1 - half_width - 0.02, y), xytext=(x0 + half_width, y), arrowprops=style)

    for start, end in (("identified", "used"), ("used", "assessed"), ("assessed", "new"), ("new", "total"),
                       ("sensitivity", "total_all")):
        down(start, end, blue)
    down("previous", "replaced", grey)
    for start, end in (("identified", "screened_out"), ("assessed", "excluded"), ("new", "sensitivity")):
        across(start, end, grey)
    across("total", "total_all", blue)
    # The 2020 cohorts kept join the main analysis, down the left margin and across.
    ax.annotate("", xy=(main - half_width - 0.02, rows["total"]), xytext=(left, rows["new"] + half_height + 0.1),
                arrowprops={**blue, "connectionstyle": "angle,angleA=-90,angleB=180,rad=0"})
    ax.set_title(title, loc="left", weight="bold")
    return fig


def cumulative_plot(table: pd.DataFrame, *, labels: dict[str, str], title: str = "") -> Figure:
    """A cumulative meta-analysis per outcome (rows of
    :func:`analysis.review.evidence.cumulative_by_date`): the pooled rate and its 95% CI
    after each cohort is added, in order, one panel per outcome."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    steps = max(int((table["outcome"] == o).sum()) for o in outcomes)
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(7.5, 1.6 + 1.7 * len(outcomes)), sharex=False, squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes):
        part = table[table["outcome"] == outcome].reset_index(drop=True)
        x = np.arange(len(part))
        ax.fill_between(x, 100 * part["ci_low"], 100 * part["ci_high"], color=POOLED_COLOUR, alpha=0.15, lw=0)
        ax.plot(x, 100 * part["estimate"], "o-", color=POOLED_COLOUR, ms=4)
        ax.set_title(labels.get(outcome, outcome), loc="left", fontsize=10)
        ax.set_xlim(-0.5, steps - 0.5)
        low, high = 100 * part["ci_low"].min(), 100 * part["ci_high"].max()
        ax.set_ylim(max(0.0, low - 5), min(100.0, high + 5))
        ax.set_ylabel("Pooled rate (%)", fontsize=8)
        ax.set_xticks(x, [short_label(f"{a} ({d})" if d and d != "2020" else str(a), 40)
                          for a, d in zip(part["added"], part["date"])], rotation=35, ha="right", fontsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return fig
