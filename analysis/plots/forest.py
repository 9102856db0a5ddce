"""Forest plots for pooled proportions, per study, by subgroup and leaving one out.

The layout follows the journal convention (R meta's ``forest()``): study labels and
counts on the left, squares sized by random-effects weight with exact CIs in the middle,
the printed estimate, CI and weight on the right, a diamond for each pooled estimate and
a bar for the prediction interval. Intervals are at the fit's own level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from ..meta.results import PooledProportion, SubgroupAnalysis
from ..text.labels import MARK_NOTES, SCALE_LABELS
from ..text.numbers import interval, level_text, number, p_value, plural, typeset
from .theme import MAX_LABEL, POOLED_COLOUR, STUDY_COLOUR, drawable, short_label

__all__ = ["MAX_STUDY_ROWS", "forest_plot", "subgroup_forest_plot", "leave_one_out_plot"]

_ROW_HEIGHT = 0.24  # inches per row


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
        _Row("note", f"Heterogeneity: I² = {number(result.i2, 0)}%{i2_ci}, {p_value(result.q_p)}"),
        _Row("note", f"τ² = {number(result.tau2, 2)}{tau2_ci} on the {SCALE_LABELS[result.transform]}"),
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


def _label_text(row: _Row) -> str:
    """A row's label as drawn: a note whole, any other label cut to fit its column (a
    study's marks kept)."""
    if row.kind == "note":
        return drawable(row.label)
    base, space, tail = row.label.rpartition(" ")
    if space and tail and set(tail) <= set(MARK_NOTES):
        return short_label(base, MAX_LABEL - len(tail) - 1) + " " + tail
    return short_label(row.label)


def _draw(rows: list[_Row], title: str, xlabel: str, reference: float | None, level: float,
          headers: tuple[str, str, str] = ("Study", "Events/N", "Weight"), xlim: tuple[float, float] = (-2, 102)) -> Figure:
    n = len(rows) + 1
    fig = plt.figure(figsize=(8.2, 0.9 + _ROW_HEIGHT * n))
    grid = fig.add_gridspec(1, 3, width_ratios=[3.9, 2.9, 2.6], wspace=0.02)
    left, mid, right = (fig.add_subplot(grid[0, i]) for i in range(3))
    for ax in (left, mid, right):
        ax.set_ylim(n - 0.5, -1.4)
        ax.patch.set_visible(False)  # a long note in the label column may run on under the plot
    for ax in (left, right):
        ax.axis("off")
    # A GLMM has no study weights: equal markers then.
    weights = [r.weight for r in rows if r.kind == "study" and np.isfinite(r.weight)]
    max_weight = max(weights, default=1.0)

    left.text(0, -1.0, headers[0], weight="bold", va="center")
    left.text(0.97, -1.0, headers[1], weight="bold", va="center", ha="right")
    right.text(0.04, -1.0, f"% [{level_text(level)} CI]", weight="bold", va="center")
    right.text(0.98, -1.0, headers[2], weight="bold", va="center", ha="right")
    for y, row in enumerate(rows):
        bold = row.kind in ("header", "pooled")
        style = "italic" if row.kind in ("pi", "note") else "normal"
        size = 7.5 if row.kind == "note" else 8
        indent = 0.03 if row.kind == "study" else 0.0
        left.text(indent, y, _label_text(row), va="center", fontsize=size, weight="bold" if bold else "normal", style=style)
        left.text(0.97, y, row.counts, va="center", ha="right", fontsize=8, weight="bold" if bold else "normal")
        if row.kind == "study":
            mid.plot([row.low, row.high], [y, y], color=STUDY_COLOUR, lw=1)
            # Marker area proportional to the study's weight.
            relative = row.weight / max_weight if np.isfinite(row.weight) else 0.5
            marker_size = 3 + 9 * np.sqrt(relative)
            mid.plot(row.estimate, y, marker="s", color=STUDY_COLOUR, markersize=marker_size, lw=0, clip_on=False)
        elif row.kind == "pooled":
            mid.add_patch(
                Polygon(
                    [(row.low, y), (row.estimate, y - 0.35), (row.high, y), (row.estimate, y + 0.35)],
                    closed=True,
                    color=POOLED_COLOUR,
                )
            )
        elif row.kind == "pi":
            mid.plot([row.low, row.high], [y, y], color=POOLED_COLOUR, lw=3, solid_capstyle="butt")
        if row.kind in ("study", "pooled"):
            right.text(0.04, y, f"{number(row.estimate):>5} [{number(row.low):>5}; {number(row.high):>5}]", va="center", fontsize=8, family="monospace", weight="bold" if bold else "normal")
            weight = f"{number(row.weight)}%" if row.kind == "study" and np.isfinite(row.weight) else ""
            right.text(0.98, y, weight, va="center", ha="right", fontsize=8)
        elif row.kind == "pi":
            right.text(0.04, y, f"      [{number(row.low):>5}; {number(row.high):>5}]", va="center", fontsize=8, family="monospace", style="italic")
    if reference is not None:
        mid.axvline(reference, color=POOLED_COLOUR, lw=0.8, ls="--")
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
    of :data:`analysis.review.outcomes.MARKS`) flags studies whose count or group is not
    simply read from a source; each symbol used is explained under the plot."""
    marks = marks or {}
    studies = _study_rows(result, marks)
    rows = studies + _pooled_rows(result, "Random-effects model")
    rows += _mark_rows(marks, _shown(studies, marks))
    rows += [_Row("note", f"Note: {note}") for note in result.notes]
    return _draw(rows, title, xlabel, reference=100 * result.estimate, level=result.level)


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
        rows += studies + _pooled_rows(pooled, f"Subgroup {typeset(name)}")[:1]
        rows.append(_Row("note", f"I² = {number(pooled.i2, 0)}%, τ² = {number(pooled.tau2, 2)}"))
    if overall is not None:
        rows += _pooled_rows(overall, "Overall")[:2]
        outside = overall.k - len(shown)
        if outside > 0:
            rows.append(_Row("note", f"Overall: all {overall.k} cohorts, {outside} of them in no subgroup shown"))
    rows.append(
        _Row(
            "note",
            f"Test for subgroup differences: Q = {number(result.q_between, 2)}, df = {result.df}, {p_value(result.p)}",
        )
    )
    rows += _mark_rows(marks, shown)
    rows += [_Row("note", f"Note: {note}") for note in result.notes]
    return _draw(rows, title, xlabel, reference=None if overall is None else 100 * overall.estimate, level=result.level)


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
    rows = [_Row("study", r.study, f"{number(r.i2, 0)}%", 100 * r.estimate, 100 * r.ci_low, 100 * r.ci_high, np.nan)
            for r in drawn.itertuples()] + rest
    rows.append(_Row("pooled", f"All cohorts (k = {full.k})", f"{number(full.i2, 0)}%", 100 * full.estimate,
                     100 * full.ci_low, 100 * full.ci_high, np.nan))
    # Zoomed to the intervals: the shifts a single cohort causes are small on a 0-100 axis.
    low = min(r.low for r in rows if np.isfinite(r.low))
    high = max(r.high for r in rows if np.isfinite(r.high))
    pad = 0.05 * (high - low) or 1.0
    return _draw(rows, title, xlabel, reference=100 * full.estimate, level=full.level, headers=("Cohort left out", "I²", ""),
                 xlim=(max(-2.0, low - pad), min(102.0, high + pad)))
