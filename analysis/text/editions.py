"""Sentences that set two editions of the study table side by side: the paper's 2020
table and an update (or a user's table)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..meta.results import SubgroupAnalysis
from .labels import FACTOR_LABELS, OUTCOME_LABELS, OUTCOME_NOUNS, group_label
from .numbers import join, p_value, percent, plural
from .phrasing import ALPHA, estimate_text, significant

__all__ = ["NOT_THE_PAPER", "describe_comparison", "findings_summary", "pooled_shift", "search_sentence", "flow_boxes",
           "sources_sentence", "UNCHANGED_NONE", "ALL_PRIMARY"]

#: The sensitivity analysis by source of a table whose every cohort is from a primary source.
ALL_PRIMARY = ("Every cohort of this table comes from a journal report or a regulator's document (or the table, as the "
               "paper's, gives no kind of source), so there is no analysis with conference and secondary sources to set "
               "beside the main one.")

#: The table cell of a finding whose compared groups all have new cohorts.
UNCHANGED_NONE = "—"

#: What a page says in place of the published-vs-computed comparison on another table.
NOT_THE_PAPER = (
    "This book was built from a table that is not the paper's Table 1, so its results are not compared with "
    "the numbers the 2020 paper published. Instead, the table below sets this table's pooled results beside "
    "those of the paper's 2020 table, computed by the same code."
)


def describe_comparison(result: SubgroupAnalysis, alpha: float = ALPHA) -> str:
    """A subgroup comparison in one clause: its lowest and highest subgroups and the
    test's verdict at ``alpha``."""
    groups = sorted(result.groups.items(), key=lambda item: item[1].estimate)
    (low, a), (high, b) = groups[0], groups[-1]
    verdict = "a difference beyond chance" if significant(result.p, alpha) else "no difference beyond chance"
    return (f"lowest with {group_label(low)} ({percent(100 * a.estimate)}), highest with {group_label(high)} "
            f"({percent(100 * b.estimate)}); {verdict} ({p_value(result.p)})")


def findings_summary(found: Sequence[Any], edition: str = "this table") -> str:
    """One sentence: how many of the paper's subgroup findings (each with ``outcome``,
    ``by`` and ``status``, :class:`analysis.review.editions.Finding`) hold, moved, or cannot
    be checked."""
    def names(status: str) -> list[str]:
        return [f"{OUTCOME_NOUNS.get(f.outcome, f.outcome)} by {FACTOR_LABELS.get(f.by, f.by)}" for f in found if f.status == status]

    parts = []
    for status, words in (("holds", "still hold{s}"), ("untested", "{are} untested"), ("moved", "moved"),
                          ("cannot be checked", "cannot be checked")):
        listed = names(status)
        if listed:
            verb = words.format(s="s" if len(listed) == 1 else "", are="is" if len(listed) == 1 else "are")
            parts.append(f"{plural(len(listed), 'comparison')} {verb} ({join(listed)})")
    untested = [f for f in found if f.status == "untested"]
    caveat = ""
    if untested:
        caveat = (" A comparison is untested when its verdict is unchanged but a compared group received no new cohort ("
                  + join([f"{' and '.join(group_label(g) for g in f.unchanged)} for {OUTCOME_NOUNS.get(f.outcome, f.outcome)} "
                          f"by {FACTOR_LABELS.get(f.by, f.by)}" for f in untested])
                  + "), so the new evidence could not test it there.")
    return (f"Of the paper's {plural(len(found), 'subgroup comparison')} (for CRS by binder origin it printed no test), "
            f"each run on the 2020 table and on {edition}: {join(parts, 'and')}.{caveat}")


def pooled_shift(outcome: str, before: Mapping[str, float], after: Mapping[str, float], edition: str = "this table") -> str:
    """How an outcome's pooled estimate moved between the two tables, and whether the new
    estimate lies inside the 2020 confidence interval."""
    label = OUTCOME_LABELS.get(outcome, outcome)
    if not (np.isfinite(before["estimate"]) and np.isfinite(after["estimate"])):
        return f"{label}: cannot be compared (one table does not report it)."
    inside = before["ci_low"] <= after["estimate"] <= before["ci_high"]
    where = "inside" if inside else "outside"
    return (f"{label}: {estimate_text(before['estimate'], before['ci_low'], before['ci_high'], int(before['k']))} in the 2020 table, "
            f"{estimate_text(after['estimate'], after['ci_low'], after['ci_high'], int(after['k']))} in {edition}; "
            f"the new estimate lies {where} the 2020 interval.")


def search_sentence(searches: int, records: int, used: int, places: Mapping[str, int], first: str, last: str) -> str:
    """How the update was searched: the number of searches (per place searched), the
    records they returned and how many of them supplied a number, and when."""
    where = join([f"{count} in the {place}" for place, count in places.items()])
    when = f"on {first}" if first == last else f"between {first} and {last}"
    return (f"The update rests on {plural(searches, 'search', 'searches')} ({where}), run {when}: they returned "
            f"{plural(records, 'record')}, of which {used} supplied at least one number or fact of the table; the "
            "search log lists each search with what it found and why the rest was set aside.")


def flow_boxes(flow: Any) -> dict[str, str]:
    """The boxes of the update's PRISMA 2020 flow diagram (an
    :class:`analysis.review.update.UpdateFlow`), by place: ``previous``, ``replaced``,
    ``identified``, ``screened_out``, ``used``, ``assessed``, ``excluded``, ``new``,
    ``sensitivity``, ``total``, ``total_all``."""
    excluded = "\n".join(f"{reason}: {count}" for reason, count in flow.excluded.items()) or "none"
    return {
        "previous": f"Cohorts in the 2020 table\n(Roex et al. 2020): {flow.previous}",
        "replaced": f"2020 rows replaced by\ntheir full reports: {flow.replaced}",
        "identified": f"Records returned by\n{plural(flow.searches, 'search', 'searches')}: {flow.records:,}",
        "screened_out": f"Records set aside (no number,\nnot BCMA CAR-T in myeloma,\nor a duplicate): {flow.records - flow.used:,}",
        "used": f"Records that supplied\na number or fact: {flow.used:,}",
        "assessed": f"Cohorts assessed: {flow.assessed}",
        "excluded": f"Cohorts excluded: {flow.assessed - flow.primary - flow.sensitivity}\n{excluded}",
        "new": (f"Cohorts from a journal\nor a regulator: {flow.primary}\n({flow.replacing} full reports,\n"
                f"{flow.primary - flow.replacing} new cohorts)"),
        "sensitivity": f"From conference abstracts\nor secondary reports only: {flow.sensitivity}",
        "total": (f"Main analysis: {flow.total_main} cohorts\n"
                  f"({flow.previous} − {flow.replaced} + {flow.primary})"),
        "total_all": f"Sensitivity analysis:\n{flow.total_all} cohorts ({flow.total_main} + {flow.sensitivity})",
    }


def sources_sentence(outcome: str, main: Mapping[str, float], every: Mapping[str, float]) -> str:
    """An outcome pooled from primary sources only and with conference and secondary
    sources too (each with ``estimate``, ``ci_low``, ``ci_high``, ``k``)."""
    label = OUTCOME_LABELS.get(outcome, outcome)
    if not (np.isfinite(main["estimate"]) and np.isfinite(every["estimate"])):
        return f"{label}: cannot be compared (one analysis has no cohort reporting it)."
    if int(main["k"]) == int(every["k"]) and main["estimate"] == every["estimate"]:
        return f"{label}: no conference or secondary source adds a cohort, so both analyses give the same estimate."
    inside = main["ci_low"] <= every["estimate"] <= main["ci_high"]
    return (f"{label}: {estimate_text(main['estimate'], main['ci_low'], main['ci_high'], int(main['k']))} from primary "
            f"sources, {estimate_text(every['estimate'], every['ci_low'], every['ci_high'], int(every['k']))} with the others; "
            f"the second lies {'inside' if inside else 'outside'} the first's interval.")
