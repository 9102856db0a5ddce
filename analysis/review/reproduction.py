"""Setting published numbers beside computed ones.

Keys are ``outcome:analysis:group:statistic`` as in ``data/published.csv``. Computed
values are on the printed scale (percent for proportions and I^2). The verdict is:

* ``match`` -- the computed value, rounded as the paper rounds, equals the printed one
  (for "p < x": the computed p is below x);
* ``close`` -- off by no more than :data:`TOLERANCE` for that statistic;
* ``differs`` -- further off;
* ``cannot compute`` -- the book has no computed value (a reason is given).

Each number also has a ``basis``: ``sourced`` when it is computed only from the published
table (and covariates taken from a cited source), ``inferred`` when it depends on study
covariates (median age, prior lines) that this book inferred because no source gave them.
A match of an inferred number shows that an assignment reproducing the paper exists, not
that the paper used it; the tallies keep the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..inputs.paths import ROOT
from ..inputs.studies import OUTCOMES
from ..meta.results import PooledProportion, SubgroupAnalysis
from ..meta.single_arm import response_by_dose
from ..text.labels import REPORT_ANALYSES, REPORT_OUTCOMES, REPORT_STATISTICS
from ..text.editions import NOT_THE_PAPER
from ..text.numbers import number, p_value, round_half_up, typeset
from ..text.reproduction import verdict_sentence
from .editions import pooled_side_by_side, side_by_side_display
from .outcomes import SubgroupComparison, pool_outcome, subgroup_outcome
from .paper import PAPER_ANALYSES

__all__ = [
    "TOLERANCE",
    "pooled_values",
    "subgroup_values",
    "rate_values",
    "descriptive_values",
    "paper_values",
    "compare",
    "summary_table",
    "readable",
    "regressions",
    "build_report",
    "ChapterComparison",
    "chapter_comparison",
    "load_baseline",
    "WhyClose",
    "why_close",
    "BASELINE",
    "COVARIATE_ANALYSES",
    "basis",
]

#: Analyses whose groups come from study covariates rather than the published table.
COVARIATE_ANALYSES = ("age", "prior_lines", "high_risk")

#: Largest difference still called "close", per statistic (percentage points for
#: proportions, I^2 points, relative for p-values and hazard ratios).
TOLERANCE: dict[str, float] = {
    "estimate": 1.0,
    "ci_low": 1.0,
    "ci_high": 1.0,
    "i2": 5.0,
    "percent": 0.1,
    "p": 0.25,
    "hr": 0.05,
    "median": 0.1,
}
_RELATIVE = {"p", "hr"}


def pooled_values(result: PooledProportion, outcome: str, analysis: str = "overall", group: str = "all") -> dict[str, float]:
    """Keyed printed-scale values of one pooled result."""
    s = result.summary()
    return {f"{outcome}:{analysis}:{group}:{stat}": float(s[stat]) for stat in ("estimate", "ci_low", "ci_high", "i2")}


def subgroup_values(result: SubgroupAnalysis, outcome: str, analysis: str) -> dict[str, float]:
    """Keyed values of every subgroup plus the between-subgroup p-value."""
    values: dict[str, float] = {f"{outcome}:{analysis}:test:p": result.p}
    for group, pooled in result.groups.items():
        values.update(pooled_values(pooled, outcome, analysis, group))
    return values


def rate_values(rates: pd.DataFrame, outcome: str, analysis: str, group_column: str) -> dict[str, float]:
    """Keyed ``estimate``/``ci_low``/``ci_high`` of a table of rates in percent (columns
    ``rate``, ``ci_low``, ``ci_high``; one row per group)."""
    values = {}
    for _, row in rates.iterrows():
        for statistic, column in (("estimate", "rate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            values[f"{outcome}:{analysis}:{row[group_column]}:{statistic}"] = float(row[column])
    return values


def descriptive_values(studies: pd.DataFrame) -> dict[str, float]:
    """Counts and shares of the study table as the paper reports them."""
    total = float(studies["n_total"].sum())
    values = {
        "descriptive:overall:all:studies": float(len(studies)),
        "descriptive:overall:all:products": float(studies["car_product"].nunique()),
        "descriptive:overall:all:patients": total,
        "descriptive:overall:all:n_safety": float(studies["n_safety"].sum()),
        "descriptive:overall:all:n_response": float(studies["n_response"].sum()),
    }
    for column, level in [("loading", "lentiviral"), ("loading", "retroviral"), ("loading", "transposon"), ("costim", "4-1BB")]:
        patients = float(studies.loc[studies[column] == level, "n_total"].sum())
        values[f"descriptive:{column}:{level}:patients"] = patients
        values[f"descriptive:{column}:{level}:percent"] = 100 * patients / total
    return values


def paper_values(studies: pd.DataFrame, **options: object) -> tuple[dict[str, float], dict[str, str]]:
    """Every number of the meta-analysis this study table can compute, keyed as in
    ``data/published.csv``, and the reason for each analysis it cannot run (a grouping
    column the table lacks, e.g. median age). ``options`` go to the pooling functions."""
    values = descriptive_values(studies)
    reasons: dict[str, str] = {}
    for outcome in OUTCOMES:
        values.update(pooled_values(pool_outcome(studies, outcome, **options), outcome))
    for outcome, by, exclude in PAPER_ANALYSES:
        if by not in studies:
            reasons[f"{outcome}:{by}"] = f"the study table has no {by!r} column"
            continue
        values.update(subgroup_values(subgroup_outcome(studies, outcome, by, exclude=exclude, **options), outcome, by))
    return values, reasons


#: Verdicts of the shipped data's report, committed; the build checks against it.
BASELINE = ROOT / "book" / "reproduction_baseline.csv"

_NOT_COMPUTABLE = {
    "pfs": "needs digitized Kaplan-Meier curves of the trials (none are available; see data/pfs)",
    "crb401_pfs": "needs the trial's digitized Kaplan-Meier curve",
}


def build_report(studies: pd.DataFrame, published: pd.DataFrame, doses: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reproduction report: every published number beside the computed one.

    ``doses`` (the CRB-401 dose table) adds the trial's Table 3. Numbers that cannot be
    computed carry the reason.
    """
    values, missing = paper_values(studies)
    if doses is not None:
        values.update(rate_values(response_by_dose(doses), "crb401_orr", "dose", "dose_group"))
    reasons = {}
    for key in published["key"]:
        outcome, analysis = key.split(":")[:2]
        if f"{outcome}:{analysis}" in missing:
            reasons[key] = missing[f"{outcome}:{analysis}"]
        elif outcome in _NOT_COMPUTABLE:
            reasons[key] = _NOT_COMPUTABLE[outcome]
    known = set(published["key"])
    return compare(published, {k: v for k, v in values.items() if k in known}, reasons, studies=studies)


def regressions(report: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """Keys that matched in ``baseline`` (columns key, verdict) but no longer match."""
    matched = set(baseline.loc[baseline["verdict"] == "match", "key"])
    now = report.set_index("key")["verdict"]
    return sorted(key for key in matched if now.get(key) != "match")


def _verdict(row: pd.Series, computed: float) -> tuple[str, str]:
    published = row["number"]
    if row["relation"] == "<":
        if computed < published:
            return "match", ""
        return "differs", f"computed {computed:.2g} is not below {published:g}"
    rounded = round_half_up(computed, int(row["decimals"]))
    if np.isclose(rounded, published, rtol=0, atol=1e-9):
        return "match", ""
    stat = row["statistic"]
    tolerance = TOLERANCE.get(stat, 0.0)
    signed = computed - published
    if stat in _RELATIVE:
        signed /= abs(published)
    # Short signed gaps (the tolerances are stated once, beside the table).
    gap = f"{'+' if signed > 0 else ''}{number(100 * signed, 0)}%" if stat in _RELATIVE else (
        f"{'+' if signed > 0 else ''}{number(signed, 2)}")
    what = REPORT_STATISTICS.get(stat, stat.replace("_", " "))
    if abs(signed) <= tolerance:
        return "close", f"{what} {gap}"
    bound = f"{100 * tolerance:g}%" if stat in _RELATIVE else f"{tolerance:g}"
    return "differs", f"{what} {gap}, beyond ±{bound}"


def basis(keys: pd.Series, studies: pd.DataFrame | None = None) -> pd.Series:
    """``sourced`` or ``inferred`` for each key: a covariate analysis is ``inferred``
    unless every cohort it groups has a sourced value in ``studies`` (the study table
    with covariates; without it, every covariate analysis counts as inferred)."""
    status = {}
    for by in COVARIATE_ANALYSES:
        column = f"{by}_status"
        grouped = studies[studies[by].notna()] if studies is not None and by in studies else None
        status[by] = ("sourced" if grouped is not None and column in grouped and len(grouped)
                      and (grouped[column] == "sourced").all() else "inferred")
    analysis = keys.str.split(":").str[1]
    return analysis.map(lambda a: status.get(a, "sourced"))


def compare(
    published: pd.DataFrame,
    computed: Mapping[str, float],
    reasons: Mapping[str, str] | None = None,
    studies: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per published number: printed value, computed value, difference, verdict
    and basis (see :func:`basis`; ``studies`` is the study table with covariates).

    ``published`` is :func:`analysis.load_published` (or rows of it); ``reasons`` maps
    keys to why a number cannot be computed or differs (shown in ``reason``).
    """
    reasons = dict(reasons or {})
    unknown = set(computed) - set(published["key"])
    if unknown:
        raise KeyError(f"computed keys not in the published table: {sorted(unknown)}")
    rows = []
    for _, row in published.iterrows():
        key = row["key"]
        value = computed.get(key)
        if value is None or not np.isfinite(value):
            verdict, reason, difference = "cannot compute", reasons.get(key, "not computed in this chapter"), np.nan
        else:
            verdict, reason = _verdict(row, float(value))
            reason = reasons.get(key, reason)
            difference = float(value) - row["number"]
        rows.append(
            {
                "key": key,
                "published": row["value"],
                "computed": np.nan if value is None else float(value),
                "difference": difference,
                "verdict": verdict,
                "reason": reason,
            }
        )
    report = pd.DataFrame(rows, columns=["key", "published", "computed", "difference", "verdict", "reason"])
    report["basis"] = basis(report["key"], studies)
    return report


_VERDICT_ORDER = ["differs", "close", "match"]


def _decimals(printed: str) -> int:
    return len(printed.lstrip("<").partition(".")[2])


def _as_printed(values: dict[str, tuple[str, float]], computed: bool) -> str:
    """``estimate (low–high); I² x%``, ``median (low–high)``, ``HR x``, ``p = x`` or
    ``patients 551`` from one result's statistics, as printed or as computed."""

    def show(stat: str) -> str:
        printed, value = values[stat]
        if not computed:
            return printed.lstrip("<")
        if not np.isfinite(value):
            return "—"
        return number(value, _decimals(printed))

    def with_ci(stat: str) -> str:
        text = show(stat)
        if "ci_low" in values and "ci_high" in values:
            text += f" ({show('ci_low')}–{show('ci_high')})"
        return text

    parts = []
    if "estimate" in values:
        parts.append(with_ci("estimate") + (f"; I² {show('i2')}%" if "i2" in values else ""))
    if "median" in values:
        parts.append(with_ci("median") + " months")
    if "hr" in values:
        parts.append(f"HR {show('hr')}")
    if "p" in values:
        printed, value = values["p"]
        if not computed:
            parts.append(f"p < {printed.lstrip('<')}" if printed.startswith("<") else f"p = {printed}")
        elif not np.isfinite(value):
            parts.append("p = —")
        else:
            parts.append(p_value(value))
    shown = {"estimate", "ci_low", "ci_high", "i2", "median", "hr", "p"}
    parts += [f"{REPORT_STATISTICS.get(stat, stat.replace('_', ' '))} {show(stat)}" for stat in values if stat not in shown]
    return "; ".join(parts)


def readable(report: pd.DataFrame) -> pd.DataFrame:
    """Every number of a :func:`compare` report for readers: what it is in words, the
    published and computed values, the difference, verdict, basis and note."""
    keys = report["key"].str.split(":", expand=True)
    return pd.DataFrame({
        "Outcome": keys[0].map(lambda v: REPORT_OUTCOMES.get(v, v)),
        # the statistic with its analysis: one column fewer, so the table fits the page
        "Analysis, statistic": [f"{REPORT_ANALYSES.get(a, a.replace('_', ' '))}: {REPORT_STATISTICS.get(v, v.replace('_', ' '))}"
                                for a, v in zip(keys[1], keys[3])],
        "Group": keys[2].map(lambda g: "the test" if g == "test" else typeset(g)),
        "Published": report["published"].astype(str),
        # A p-value is shown as journals print it, and its difference is not a distance.
        "Computed": [p_value(v).removeprefix("p ").removeprefix("= ") if stat == "p" and np.isfinite(v) else number(v, 3)
                     for v, stat in zip(report["computed"], keys[3])],
        "Difference": ["—" if stat == "p" else number(d, 3) for d, stat in zip(report["difference"], keys[3])],
        "Verdict": report["verdict"],
        "Basis": report["basis"] if "basis" in report else basis(report["key"]),
        "Note": report["reason"],
    })


def summary_table(report: pd.DataFrame) -> pd.DataFrame:
    """One row per result (outcome, analysis, group) of a :func:`compare` report: the
    published and computed values in the paper's format and the least good verdict."""
    keys = report["key"].str.split(":", expand=True)
    keys.columns = ["outcome", "analysis", "group", "statistic"]
    table = pd.concat([keys, report.drop(columns="key")], axis=1)
    if "basis" not in table:
        table["basis"] = basis(report["key"])
    rows = []
    for (outcome, analysis, group), block in table.groupby(["outcome", "analysis", "group"], sort=False):
        values = {r.statistic: (r.published, r.computed) for r in block.itertuples()}
        verdicts = [v for v in block["verdict"] if v != "cannot compute"]
        verdict = next((v for v in _VERDICT_ORDER if v in verdicts), "cannot compute")
        reasons = [r for r in dict.fromkeys(block["reason"]) if r]
        rows.append(
            {
                "outcome": REPORT_OUTCOMES.get(outcome, outcome),
                "analysis": REPORT_ANALYSES.get(analysis, analysis.replace("_", " ")),
                "group": "the test" if group == "test" else typeset(group),
                "published": _as_printed(values, computed=False),
                "computed": "—" if verdict == "cannot compute" else _as_printed(values, computed=True),
                "verdict": verdict,
                "basis": "inferred" if (block["basis"] == "inferred").any() else "sourced",
                "note": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ChapterComparison:
    """A results chapter's "Compared with the paper": on the paper's table its published
    numbers beside the computed ones (``report``, one row per number), else this table's
    pooled results beside the 2020 table's; the sentence that introduces it and the
    table a reader sees."""

    report: pd.DataFrame
    sentence: str
    shown: pd.DataFrame


def chapter_comparison(
    studies: pd.DataFrame,
    paper_studies: pd.DataFrame,
    published: pd.DataFrame | None,
    fits: Mapping[str, PooledProportion | None],
    comparisons: Sequence[SubgroupComparison],
    what: str,
) -> ChapterComparison:
    """The comparison block of a results chapter pooling the outcomes ``fits`` (outcome ->
    fit or None). With ``published`` (the paper's table was used) the chapter's own fits
    and ``comparisons`` are set beside the published numbers of those outcomes;
    otherwise (``published`` None) the outcomes are pooled in this table and in
    ``paper_studies`` (the 2020 table, read with the chapter's rules) side by side."""
    if published is None:
        report = pooled_side_by_side({"2020 table": paper_studies, "this table": studies}, list(fits))
        return ChapterComparison(report, NOT_THE_PAPER, side_by_side_display(report))
    computed: dict[str, float] = {}
    for outcome, fit in fits.items():
        if fit is not None:
            computed.update(pooled_values(fit, outcome))
    for comparison in comparisons:
        if comparison.result is not None:
            computed.update(subgroup_values(comparison.result, comparison.outcome, comparison.by))
    rows = published[published["outcome"].isin(list(fits))]
    report = compare(rows, {key: value for key, value in computed.items() if key in set(rows["key"])}, studies=studies)
    return ChapterComparison(report, verdict_sentence(report, what, tolerance=TOLERANCE), summary_table(report))


def load_baseline() -> pd.DataFrame:
    """The verdicts of the shipped data's report when it was last reviewed (:data:`BASELINE`)."""
    return pd.read_csv(BASELINE)


@dataclass(frozen=True)
class WhyClose:
    """Why numbers of a report are close rather than matching: cohorts whose counts are
    rebuilt exactly (``exact``) or not (``noted``), close and differing numbers by basis
    ((basis, verdict) -> count), the largest gap of each inferred analysis (its label ->
    points) and the numbers that cannot be computed (reason -> count)."""

    exact: int
    noted: int
    counts: dict[tuple[str, str], int]
    worst: dict[str, float]
    cannot: dict[str, int]


def why_close(report: pd.DataFrame, studies: pd.DataFrame) -> WhyClose:
    noted = int((studies["extraction_notes"] != "").sum())
    kinds = report.assign(analysis=report["key"].str.split(":").str[1])
    off = kinds[kinds["verdict"].isin(["close", "differs"])]
    counts = {(b, v): int(n) for (b, v), n in off.groupby(["basis", "verdict"]).size().items()}
    worst = {REPORT_ANALYSES.get(a, a.replace("_", " ")): float(g["difference"].abs().max())
             for a, g in kinds[kinds["basis"] == "inferred"].groupby("analysis")}
    cannot = {str(r): int(n) for r, n in report.loc[report["verdict"] == "cannot compute", "reason"].value_counts().items()}
    return WhyClose(len(studies) - noted, noted, counts, worst, cannot)
