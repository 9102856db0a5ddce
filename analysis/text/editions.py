"""Sentences that set two editions of the study table side by side: the paper's 2020
table and an update (or a user's table)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..meta.results import SubgroupAnalysis
from .labels import FACTOR_LABELS, OUTCOME_LABELS, OUTCOME_NOUNS, group_label
from .numbers import join, p_value, percent, plural
from .phrasing import ALPHA, estimate_text, significant

__all__ = ["NOT_THE_PAPER", "describe_comparison", "findings_summary", "pooled_shift"]

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
    for status, words in (("holds", "still hold{s}"), ("moved", "moved"), ("cannot be checked", "cannot be checked")):
        listed = names(status)
        if listed:
            verb = words.format(s="s" if len(listed) == 1 else "")
            parts.append(f"{plural(len(listed), 'comparison')} {verb} ({join(listed)})")
    return (f"Of the {plural(len(found), 'subgroup difference')} the paper highlighted (for CRS by binder origin it "
            f"printed no test), each run on the 2020 table and on {edition}: {join(parts, 'and')}.")


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
