"""Forest plots for pooled proportions, per study and by subgroup.

The layout follows the journal convention (R meta's ``forest()``): study labels and
counts on the left, squares sized by random-effects weight with exact 95% CIs in the
middle, the printed estimate, CI and weight on the right, a diamond for each pooled
estimate and a bar for the prediction interval.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Mapping

import matplotlib.pyplot as plt
from matplotlib import font_manager
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

import pandas as pd

from .gosh import GoshResult
from .outcomes import MARK_NOTES
from .phrasing import interval, p_value, plural, typeset
from .proportions import SCALE_LABELS, PooledProportion, SubgroupAnalysis

__all__ = ["forest_plot", "subgroup_forest_plot", "funnel_plot", "baujat_plot", "gosh_plot", "flow_diagram", "editions_plot", "subgroup_editions_plot", "bubble_plot", "drawable"]

_ROW_HEIGHT = 0.24  # inches per row
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
_POOLED_COLOUR = "#1f4e79"
_STUDY_COLOUR = "#4d4d4d"


@dataclass(frozen=True)
class _Row:
    kind: str  # "header", "study", "pooled", "pi" or "note"
    label: str
    counts: str = ""
    estimate: float = np.nan
    low: float = np.nan
    high: float = np.nan
    weight: float = np.nan


#: The most study rows a forest plot draws. A larger table draws the studies with the
#: largest weights (largest n where the model gives no weights), in their order, and a
#: note row says how many are not drawn; the pooled rows always use every study.
MAX_STUDY_ROWS = 60


def _drawn(studies: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, list[_Row]]:
    """``studies`` capped at ``limit`` rows (see :data:`MAX_STUDY_ROWS`), and the note
    row for the rest (none if every study is drawn)."""
    if len(studies) <= limit:
        return studies, []
    weighted = bool(studies["weight"].notna().all())
    size = studies["weight"] if weighted else studies["n"]
    keep = size.rank(method="first", ascending=False) <= limit
    hidden = int((~keep).sum())
    note = (f"… and {plural(hidden, 'more cohort')} with smaller {'weights' if weighted else 'samples'}, "
            f"not drawn (the pooled result uses all {len(studies):,})")
    return studies[keep], [_Row("note", note)]


def _study_rows(result: PooledProportion, marks: Mapping[str, str], limit: int = MAX_STUDY_ROWS) -> list[_Row]:
    studies, rest = _drawn(result.studies, limit)
    return [
        _Row("study", f"{s.study} {marks[s.study]}" if s.study in marks else s.study, f"{s.events}/{s.n}",
             100 * s.estimate, 100 * s.ci_low, 100 * s.ci_high, s.weight)
        for s in studies.itertuples()
    ] + rest


def _shown(rows: list[_Row], marks: Mapping[str, str]) -> set[str]:
    """The studies drawn in ``rows`` (their labels without marks)."""
    labels = {row.label for row in rows if row.kind == "study"}
    return {study for study in marks if f"{study} {marks[study]}" in labels} | labels


def _mark_rows(marks: Mapping[str, str], shown: set[str]) -> list[_Row]:
    """One footnote row per mark used by a study on the plot."""
    used = {symbol for label, mark in marks.items() if label in shown for symbol in mark}
    return [_Row("note", f"{symbol} {MARK_NOTES[symbol]}") for symbol in MARK_NOTES if symbol in used]


def _pooled_rows(result: PooledProportion, label: str) -> list[_Row]:
    # Two short note lines, so they fit the label column at any figure width.
    ci = result.heterogeneity_ci()
    i2_ci = "" if ci is None else f" [{interval(ci.i2_ci_low, ci.i2_ci_high, 0)}]"
    tau2_ci = "" if ci is None else f" [{interval(ci.tau2_ci_low, ci.tau2_ci_high, 2, '')}]"
    notes = [
        _Row("note", f"Heterogeneity: I² = {result.i2:.0f}%{i2_ci}, {p_value(result.q_p)}"),
        _Row("note", f"τ² = {result.tau2:.2f}{tau2_ci} on the {SCALE_LABELS[result.transform]}"),
    ]
    return [
        _Row(
            "pooled",
            f"{label} (k = {result.k})",
            f"{result.events_total}/{result.n_total}",
            100 * result.estimate,
            100 * result.ci_low,
            100 * result.ci_high,
            100.0,
        ),
        _Row("pi", f"Prediction interval ({'t, k − 2 df' if result.pi_method == 't' else 'normal quantile'})", "", np.nan,
             100 * result.pi_low, 100 * result.pi_high),
        *notes,
    ]


def _draw(rows: list[_Row], title: str, xlabel: str, reference: float | None,
          headers: tuple[str, str, str] = ("Study", "Events/N", "Weight"), xlim: tuple[float, float] = (-2, 102)) -> Figure:
    n = len(rows) + 1
    fig = plt.figure(figsize=(8.2, 0.9 + _ROW_HEIGHT * n))
    grid = fig.add_gridspec(1, 3, width_ratios=[3.9, 2.9, 2.6], wspace=0.02)
    left, mid, right = (fig.add_subplot(grid[0, i]) for i in range(3))
    for ax in (left, mid, right):
        ax.set_ylim(n - 0.5, -1.4)
    for ax in (left, right):
        ax.axis("off")
    # A GLMM has no study weights: equal markers then.
    weights = [r.weight for r in rows if r.kind == "study" and np.isfinite(r.weight)]
    max_weight = max(weights, default=1.0)

    left.text(0, -1.0, headers[0], weight="bold", va="center")
    left.text(0.97, -1.0, headers[1], weight="bold", va="center", ha="right")
    right.text(0.04, -1.0, "% [95% CI]", weight="bold", va="center")
    right.text(0.98, -1.0, headers[2], weight="bold", va="center", ha="right")
    for y, row in enumerate(rows):
        bold = row.kind in ("header", "pooled")
        style = "italic" if row.kind in ("pi", "note") else "normal"
        size = 7.5 if row.kind == "note" else 8
        indent = 0.03 if row.kind == "study" else 0.0
        left.text(indent, y, drawable(row.label), va="center", fontsize=size, weight="bold" if bold else "normal", style=style)
        left.text(0.97, y, row.counts, va="center", ha="right", fontsize=8, weight="bold" if bold else "normal")
        if row.kind == "study":
            mid.plot([row.low, row.high], [y, y], color=_STUDY_COLOUR, lw=1)
            # Marker area proportional to the study's weight.
            relative = row.weight / max_weight if np.isfinite(row.weight) else 0.5
            marker_size = 3 + 9 * np.sqrt(relative)
            mid.plot(row.estimate, y, marker="s", color=_STUDY_COLOUR, markersize=marker_size, lw=0, clip_on=False)
        elif row.kind == "pooled":
            mid.add_patch(
                Polygon(
                    [(row.low, y), (row.estimate, y - 0.35), (row.high, y), (row.estimate, y + 0.35)],
                    closed=True,
                    color=_POOLED_COLOUR,
                )
            )
        elif row.kind == "pi":
            mid.plot([row.low, row.high], [y, y], color=_POOLED_COLOUR, lw=3, solid_capstyle="butt")
        if row.kind in ("study", "pooled"):
            right.text(0.04, y, f"{row.estimate:5.1f} [{row.low:5.1f}; {row.high:5.1f}]", va="center", fontsize=8, family="monospace", weight="bold" if bold else "normal")
            weight = f"{row.weight:.1f}%" if row.kind == "study" and np.isfinite(row.weight) else ""
            right.text(0.98, y, weight, va="center", ha="right", fontsize=8)
        elif row.kind == "pi":
            right.text(0.04, y, f"      [{row.low:5.1f}; {row.high:5.1f}]", va="center", fontsize=8, family="monospace", style="italic")
    if reference is not None:
        mid.axvline(reference, color=_POOLED_COLOUR, lw=0.8, ls="--")
    mid.set_xlim(*xlim)
    if xlim == (-2, 102):
        mid.set_xticks([0, 20, 40, 60, 80, 100])
    mid.set_yticks([])
    for side in ("left", "right", "top"):
        mid.spines[side].set_visible(False)
    mid.set_xlabel(xlabel)
    fig.suptitle(title, x=0.02, ha="left", weight="bold")
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.5 / fig.get_figheight(), bottom=0.55 / fig.get_figheight())
    return fig


def forest_plot(result: PooledProportion, *, title: str = "", xlabel: str = "Proportion (%)",
                marks: Mapping[str, str] | None = None) -> Figure:
    """Forest plot of one meta-analysis: every study, the pooled diamond and the PI,
    and the result's notes (warnings) at the bottom. ``marks`` (study label -> symbols
    of :data:`analysis.outcomes.MARKS`) flags studies whose count or group is not
    simply read from a source; each symbol used is explained under the plot."""
    marks = marks or {}
    studies = _study_rows(result, marks)
    rows = studies + _pooled_rows(result, "Random-effects model")
    rows += _mark_rows(marks, _shown(studies, marks))
    rows += [_Row("note", f"Note: {note}") for note in result.notes]
    return _draw(rows, title, xlabel, reference=100 * result.estimate)


def subgroup_forest_plot(
    result: SubgroupAnalysis,
    *,
    overall: PooledProportion | None = None,
    title: str = "",
    xlabel: str = "Proportion (%)",
    marks: Mapping[str, str] | None = None,
) -> Figure:
    """Forest plot by subgroup: each block of studies with its own pooled diamond,
    optionally the overall result, and the test for subgroup differences; ``marks`` as
    in :func:`forest_plot`."""
    marks = marks or {}
    rows: list[_Row] = []
    shown: set[str] = set()
    total = sum(len(pooled.studies) for pooled in result.groups.values())
    for name, pooled in result.groups.items():
        rows.append(_Row("header", typeset(name)))
        # Each subgroup draws its share of MAX_STUDY_ROWS (at least 3 studies).
        studies = _study_rows(pooled, marks, max(3, -(-MAX_STUDY_ROWS * len(pooled.studies) // max(total, 1))))
        shown |= _shown(studies, marks)
        rows += studies + _pooled_rows(pooled, f"Subgroup {name}")[:1]
        rows.append(_Row("note", f"I² = {pooled.i2:.0f}%, τ² = {pooled.tau2:.2f}"))
    if overall is not None:
        rows += _pooled_rows(overall, "Overall")[:2]
        outside = overall.k - len(shown)
        if outside > 0:
            rows.append(_Row("note", f"Overall: all {overall.k} cohorts, {outside} of them in no subgroup shown"))
    rows.append(
        _Row(
            "note",
            f"Test for subgroup differences: Q = {result.q_between:.2f}, df = {result.df}, {p_value(result.p)}",
        )
    )
    rows += _mark_rows(marks, shown)
    rows += [_Row("note", f"Note: {note}") for note in result.notes]
    return _draw(rows, title, xlabel, reference=None if overall is None else 100 * overall.estimate)


def funnel_plot(result: PooledProportion, *, title: str = "", xlabel: str | None = None) -> Figure:
    """Funnel plot on the pooling scale: each study's transformed proportion against its
    standard error (inverted axis), with the pooled estimate and its pseudo 95% limits."""
    studies = result.studies
    se = np.sqrt(studies["vi"].to_numpy())
    fig, ax = plt.subplots(figsize=(6, 4.5))
    top = 1.05 * se.max()
    grid = np.linspace(0, top, 50)
    ax.fill_betweenx(grid, result.mu - 1.96 * grid, result.mu + 1.96 * grid, color="#e8eef5", zorder=0)
    ax.plot(result.mu - 1.96 * grid, grid, color=_POOLED_COLOUR, lw=0.8, ls="--")
    ax.plot(result.mu + 1.96 * grid, grid, color=_POOLED_COLOUR, lw=0.8, ls="--")
    ax.axvline(result.mu, color=_POOLED_COLOUR, lw=1)
    ax.scatter(studies["yi"], se, color=_STUDY_COLOUR, s=22, zorder=3)
    ax.set_ylim(top, 0)
    ax.set_xlabel(xlabel or f"Proportion on the {result.transform} scale")
    ax.set_ylabel("Standard error")
    ax.set_title(title, loc="left", weight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def leave_one_out_plot(table: pd.DataFrame, full: PooledProportion, *, title: str = "",
                       xlabel: str = "Proportion (%)") -> Figure:
    """Leave-one-out forest plot from :func:`analysis.leave_one_out`: the pooled result
    with each study omitted in turn (its I² beside it), then the result with all studies;
    the dashed line marks the latter."""
    drawn, rest = table, []
    if len(table) > MAX_STUDY_ROWS:  # the omissions that move the pooled rate most
        shift = (table["estimate"] - full.estimate).abs()
        drawn = table[shift.rank(method="first", ascending=False) <= MAX_STUDY_ROWS]
        rest = [_Row("note", f"… and {plural(len(table) - len(drawn), 'more cohort')} whose omission moves the "
                             "pooled rate less, not drawn")]
    rows = [_Row("study", r.study, f"{r.i2:.0f}%", 100 * r.estimate, 100 * r.ci_low, 100 * r.ci_high, np.nan)
            for r in drawn.itertuples()] + rest
    rows.append(_Row("pooled", f"All cohorts (k = {full.k})", f"{full.i2:.0f}%", 100 * full.estimate,
                     100 * full.ci_low, 100 * full.ci_high, np.nan))
    # Zoomed to the intervals: the shifts a single cohort causes are small on a 0-100 axis.
    low = min(r.low for r in rows if np.isfinite(r.low))
    high = max(r.high for r in rows if np.isfinite(r.high))
    pad = 0.05 * (high - low) or 1.0
    return _draw(rows, title, xlabel, reference=100 * full.estimate, headers=("Cohort left out", "I²", ""),
                 xlim=(max(-2.0, low - pad), min(102.0, high + pad)))


def baujat_plot(table: pd.DataFrame, *, title: str = "", label_top: int = 4) -> Figure:
    """Baujat plot from :func:`analysis.influence`: contribution to heterogeneity (x)
    against influence on the pooled result (y). Labelled: the ``label_top`` most extreme
    studies, every study flagged ``influential``, and every study far out on either axis
    (beyond the upper quartile plus 1.5 interquartile ranges)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(table["baujat_x"], table["baujat_y"], color=_STUDY_COLOUR, s=22)
    extremity = table["baujat_x"].rank() + table["baujat_y"].rank()
    labelled = extremity.nlargest(label_top).index
    if "influential" in table:
        labelled = labelled.union(table.index[table["influential"].astype(bool)])
    for axis in ("baujat_x", "baujat_y"):
        q1, q3 = table[axis].quantile([0.25, 0.75])
        labelled = labelled.union(table.index[table[axis] > q3 + 1.5 * (q3 - q1)])
    for i, (_, row) in enumerate(table.loc[labelled].iterrows()):
        # alternate above/below so that neighbouring labels do not overprint
        ax.annotate(drawable(row["study"]), (row["baujat_x"], row["baujat_y"]), fontsize=7,
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
    main.scatter(100 * table["estimate"], table["i2"], s=1, alpha=0.15, color=_POOLED_COLOUR, rasterized=True)
    top.hist(100 * table["estimate"], bins=80, color=_POOLED_COLOUR)
    side.hist(table["i2"], bins=80, orientation="horizontal", color=_POOLED_COLOUR)
    main.set_xlabel("Pooled proportion (%)")
    main.set_ylabel("I² (%)")
    for ax in (top, side):
        ax.axis("off")
    top.set_title(title, loc="left", weight="bold")
    return fig


def flow_diagram(stages: pd.DataFrame, *, title: str = "") -> Figure:
    """A study-selection flow (PRISMA style): one box per row of ``stages`` (columns
    ``stage``, ``count``, ``unit``), top to bottom, joined by arrows."""
    fig, ax = plt.subplots(figsize=(6.5, 1.0 + 1.1 * len(stages)))
    ax.set_xlim(0, 1)
    ax.set_ylim(len(stages) - 0.4, -0.6)
    ax.axis("off")
    for i, row in enumerate(stages.itertuples()):
        ax.text(0.5, i, f"{row.stage}\n{row.count:,} {row.unit}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.5", "facecolor": "#e8eef5", "edgecolor": _POOLED_COLOUR})
        if i:
            ax.annotate("", xy=(0.5, i - 0.32), xytext=(0.5, i - 0.68),
                        arrowprops={"arrowstyle": "-|>", "color": _POOLED_COLOUR})
    ax.set_title(title, loc="left", weight="bold")
    return fig


_EDITION_COLOURS = ["#1f4e79", "#b2182b", "#4d9221", "#7b3294"]


def _edition_rows(ax, table: pd.DataFrame, key: str, labels: dict[str, str], editions: list[str]) -> None:
    """One row per ``key`` value, one offset point with its 95% CI per edition."""
    names = list(dict.fromkeys(table[key]))
    offsets = np.linspace(0.18, -0.18, len(editions)) if len(editions) > 1 else [0.0]  # first edition on top
    for colour, offset, edition in zip(_EDITION_COLOURS, offsets, editions):
        part = table[table["edition"] == edition].set_index(key).reindex(names)
        y = np.arange(len(names))[::-1] + offset
        ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
                    fmt="o", color=colour, ms=5, capsize=3, label=edition)
    # Labels are phrased for sentences ("a CD28 domain"); an axis needs no article.
    ax.set_yticks(np.arange(len(names))[::-1], [drawable(labels.get(n, n).removeprefix("a ")) for n in names])
    ax.set_xlim(0, 100)
    ax.spines[["top", "right"]].set_visible(False)


def editions_plot(table: pd.DataFrame, *, labels: dict[str, str], title: str = "") -> Figure:
    """Each outcome's pooled estimate and 95% CI in each edition of the study table
    (rows of :func:`analysis.editions.pooled_side_by_side`), one line per outcome."""
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
    :func:`analysis.editions.subgroup_side_by_side`): one panel per comparison, its
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


def bubble_plot(rows: pd.DataFrame, result, *, title: str = "", xlabel: str = "Dose (10⁶ cells, log scale)") -> Figure:
    """Each cohort's rate against its dose (``rows`` of
    :func:`analysis.outcomes.dose_regression`), bubbles sized by cohort size, with
    the meta-regression line back-transformed to a rate."""
    weight = rows["n"] / rows["n"].max()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.scatter(rows["dose"], 100 * rows["events"] / rows["n"], s=30 + 300 * weight, alpha=0.5, color=_POOLED_COLOUR,
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
