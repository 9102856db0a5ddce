"""Diagnostic plots: funnel, Baujat, GOSH, and the dose meta-regression's bubble plot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..meta.bias import TrimAndFill
from ..meta.escalc import TRANSFORMS
from ..meta.gosh import GoshResult
from ..meta.regression import MetaRegression
from ..meta.results import PooledProportion
from ..meta.single_arm import exact_rates
from ..text.numbers import p_value
from .theme import POOLED_COLOUR, STUDY_COLOUR, short_label

__all__ = ["funnel_plot", "size_funnel_plot", "baujat_plot", "gosh_plot", "bubble_plot", "dose_response_plot"]


def funnel_plot(result: PooledProportion, *, title: str = "", xlabel: str | None = None) -> Figure:
    """Funnel plot on the pooling scale: each study's transformed proportion against its
    standard error (inverted axis), with the pooled estimate and its pseudo 95% limits."""
    studies = result.studies
    se = np.sqrt(studies["vi"].to_numpy())
    fig, ax = plt.subplots(figsize=(6, 4.5))
    top = 1.05 * se.max()
    grid = np.linspace(0, top, 50)
    ax.fill_betweenx(grid, result.mu - 1.96 * grid, result.mu + 1.96 * grid, color="#e8eef5", zorder=0)
    ax.plot(result.mu - 1.96 * grid, grid, color=POOLED_COLOUR, lw=0.8, ls="--")
    ax.plot(result.mu + 1.96 * grid, grid, color=POOLED_COLOUR, lw=0.8, ls="--")
    ax.axvline(result.mu, color=POOLED_COLOUR, lw=1)
    ax.scatter(studies["yi"], se, color=STUDY_COLOUR, s=22, zorder=3)
    ax.set_ylim(top, 0)
    ax.set_xlabel(xlabel or f"Proportion on the {result.transform} scale")
    ax.set_ylabel("Standard error")
    ax.set_title(title, loc="left", weight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def size_funnel_plot(result: PooledProportion, filled: TrimAndFill | None = None, *, title: str = "",
                     what: str = "Rate") -> Figure:
    """Funnel against cohort size (Hunter et al.'s advice for proportions): each cohort's
    observed rate against its number of patients (log axis), the pooled rate, and the
    cohorts trim-and-fill would impute (open circles, at the size of the cohort each
    mirrors)."""
    studies = result.studies
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.axvline(100 * result.estimate, color=POOLED_COLOUR, lw=1, label="Pooled rate")
    ax.scatter(100 * studies["events"] / studies["n"], studies["n"], color=STUDY_COLOUR, s=22, zorder=3,
               label="Cohort as reported")
    if filled is not None and filled.k0:
        sizes = np.array(filled.filled_n)
        rates = 100 * TRANSFORMS[filled.transform].inverse(np.array(filled.filled_y), sizes)
        ax.scatter(rates, sizes, facecolors="none", edgecolors=STUDY_COLOUR, s=22, zorder=3,
                   label="Imputed by trim-and-fill")
    ax.set_yscale("log")
    ax.set_xlim(-2, 102)
    ax.set_xlabel(f"{what} reported by the cohort (%)")
    ax.set_ylabel("Patients in the cohort (log scale)")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    ax.set_title(title, loc="left", weight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def baujat_plot(table: pd.DataFrame, *, title: str = "", label_top: int = 4) -> Figure:
    """Baujat plot from :func:`analysis.influence`: contribution to heterogeneity (x)
    against influence on the pooled result (y). Labelled: the ``label_top`` most extreme
    studies, every study flagged ``influential``, and every study far out on either axis
    (beyond the upper quartile plus 1.5 interquartile ranges)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(table["baujat_x"], table["baujat_y"], color=STUDY_COLOUR, s=22)
    extremity = table["baujat_x"].rank() + table["baujat_y"].rank()
    labelled = extremity.nlargest(label_top).index
    if "influential" in table:
        labelled = labelled.union(table.index[table["influential"].astype(bool)])
    for axis in ("baujat_x", "baujat_y"):
        q1, q3 = table[axis].quantile([0.25, 0.75])
        labelled = labelled.union(table.index[table[axis] > q3 + 1.5 * (q3 - q1)])
    for i, (_, row) in enumerate(table.loc[labelled].iterrows()):
        # alternate above/below so that neighbouring labels do not overprint
        ax.annotate(short_label(row["study"], 32), (row["baujat_x"], row["baujat_y"]), fontsize=7,
                    xytext=(4, 4 if i % 2 == 0 else -10), textcoords="offset points")
    ax.set_xlabel("Contribution to heterogeneity")
    ax.set_ylabel("Influence on the pooled result")
    ax.set_title(title, loc="left", weight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def gosh_plot(result: GoshResult, *, title: str = "", max_points: int = 200_000, seed: int = 0) -> Figure:
    """GOSH plot: pooled proportion (%) against I^2 over the fitted subsets (a random
    ``max_points`` of them are drawn, so the figure stays light), with marginal
    histograms."""
    table = result.table
    if len(table) > max_points:
        table = table.sample(max_points, random_state=seed)
    fig = plt.figure(figsize=(6, 5))
    grid = fig.add_gridspec(2, 2, width_ratios=[4, 1], height_ratios=[1, 4], hspace=0.05, wspace=0.05)
    main = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=main)
    side = fig.add_subplot(grid[1, 1], sharey=main)
    main.scatter(100 * table["estimate"], table["i2"], s=1, alpha=0.15, color=POOLED_COLOUR, rasterized=True)
    top.hist(100 * table["estimate"], bins=80, color=POOLED_COLOUR)
    side.hist(table["i2"], bins=80, orientation="horizontal", color=POOLED_COLOUR)
    main.set_xlabel("Pooled proportion (%)")
    main.set_ylabel("I² (%)")
    for ax in (top, side):
        ax.axis("off")
    top.set_title(title, loc="left", weight="bold")
    return fig


def bubble_plot(rows: pd.DataFrame, result: MetaRegression, *, title: str = "", xlabel: str = "Dose (10⁶ cells, log scale)") -> Figure:
    """Each cohort's rate against its dose (``rows`` of
    :func:`analysis.review.outcomes.dose_regression`), bubbles sized by cohort size, with
    the meta-regression line back-transformed to a rate."""
    weight = rows["n"] / rows["n"].max()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.scatter(rows["dose"], 100 * rows["events"] / rows["n"], s=30 + 300 * weight, alpha=0.5, color=POOLED_COLOUR,
               edgecolor="white", label="cohort (area ∝ size)")
    grid = np.linspace(rows["log_dose"].min(), rows["log_dose"].max(), 100)
    coef = result.coefficients["estimate"]
    ax.plot(10 ** grid, 100 / (1 + np.exp(-(coef.iloc[0] + coef.iloc[1] * grid))), color="#b2182b",
            label=f"meta-regression ({p_value(result.qm_p)})")
    ax.set_xscale("log")
    ax.set_ylim(-2, 102)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Rate (%)")
    # Below the axes, so that the legend's sample bubble cannot pass for a cohort.
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return fig


def dose_response_plot(by_dose: pd.DataFrame) -> Figure:
    """Objective response (%) with exact CIs per dose (``dose_millions``, ``responders``,
    ``n``), on a log dose axis, each point labelled with its responders/n."""
    shown = exact_rates(by_dose["responders"], by_dose["n"])
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.errorbar(by_dose["dose_millions"], shown["rate"], yerr=[shown["rate"] - shown["ci_low"], shown["ci_high"] - shown["rate"]],
                fmt="s", color=POOLED_COLOUR, capsize=3)
    for x, row in zip(by_dose["dose_millions"], shown.itertuples()):
        ax.annotate(f"{row.events}/{row.n}", (x, row.rate), xytext=(6, -3), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_xticks(by_dose["dose_millions"], [f"{d:g}" for d in by_dose["dose_millions"]])
    ax.minorticks_off()
    ax.set_xlabel("Dose (× 10⁶ CAR+ T cells, log scale)")
    ax.set_ylabel("Objective response (%)")
    ax.set_ylim(0, 105)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
