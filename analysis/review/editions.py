"""Two study tables side by side: the paper's 2020 table and another (an update, or a
user's table), pooled by the same code.

Used wherever a book is built from a table that is not the paper's (the comparison with
the published numbers does not apply then; the comparison with the 2020 table does) and
by the update chapter, which asks which of the 2020 findings still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..text.editions import describe_comparison
from ..text.labels import OUTCOME_LABELS
from ..text.numbers import number
from ..text.phrasing import ALPHA, estimate_text, significant
from . import paper
from .outcomes import compare_subgroups, try_pool

__all__ = ["side_by_side_display", "pooled_side_by_side", "subgroup_side_by_side", "Finding", "findings"]


def side_by_side_display(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`pooled_side_by_side` table for readers: human labels, one formatted
    estimate column."""
    def estimate(row: pd.Series) -> str:
        if not np.isfinite(row["estimate"]):
            return "—"
        return estimate_text(row["estimate"], row["ci_low"], row["ci_high"])

    return pd.DataFrame({
        "Outcome": table["outcome"].map(OUTCOME_LABELS),
        "Table": table["edition"],
        "Cohorts": table["k"],
        "Patients": table["patients"],
        "Pooled rate": table.apply(estimate, axis=1),
        "I² (%)": table["i2"].map(lambda v: number(v, 0)),
    })


def pooled_side_by_side(
    tables: Mapping[str, pd.DataFrame], outcomes: Sequence[str] = paper.OUTCOMES, **options: Any
) -> pd.DataFrame:
    """Each outcome pooled in each table: one row per (outcome, edition) with ``k``,
    ``patients``, ``estimate``, ``ci_low``, ``ci_high``, ``i2`` (percent) and a ``note``
    where the table cannot give the outcome."""
    rows = []
    for outcome in outcomes:
        for edition, studies in tables.items():
            result, note = try_pool(studies, outcome, **options)
            s = result.summary() if result is not None else {}
            rows.append({
                "outcome": outcome,
                "edition": edition,
                "k": int(s.get("k", 0)),
                "patients": int(s.get("n", 0)),
                **{key: float(s.get(key, np.nan)) for key in ("estimate", "ci_low", "ci_high", "i2")},
                "note": note,
            })
    return pd.DataFrame(rows)


def subgroup_side_by_side(
    tables: Mapping[str, pd.DataFrame],
    analyses: Sequence[tuple[str, str]] = paper.SUBGROUP_ANALYSES,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """The paper's subgroup comparisons in each table: one row per (analysis, edition,
    group) with the subgroup estimate and the test's p; a row with a ``note`` where the
    table cannot support the comparison."""
    rows = []
    for outcome, by in analyses:
        for edition, studies in tables.items():
            comparison = compare_subgroups(studies, outcome, by, exclude=paper.excluded(by), alpha=alpha)
            base = {"outcome": outcome, "factor": by, "edition": edition}
            if comparison.result is None:
                rows.append({**base, "group": "", "note": comparison.note})
                continue
            for group, result in comparison.result.groups.items():
                s = result.summary()
                rows.append({**base, "group": group, "k": s["k"], "estimate": s["estimate"],
                             "ci_low": s["ci_low"], "ci_high": s["ci_high"], "p": comparison.result.p, "note": ""})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Finding:
    """One of the paper's subgroup comparisons, run on two tables and set side by side."""

    outcome: str
    by: str
    status: str  # "holds", "untested" (holds, but a compared group has no new cohort), "moved" or "cannot be checked"
    then: str
    now: str
    #: The compared groups with the same cohorts in both tables: a verdict that holds
    #: there rests partly on unchanged data.
    unchanged: tuple[str, ...] = ()


def findings(
    before: pd.DataFrame, after: pd.DataFrame, alpha: float = ALPHA,
    analyses: Sequence[tuple[str, str]] = paper.SUBGROUP_ANALYSES,
) -> list[Finding]:
    """Each of the paper's subgroup comparisons in ``before`` (the 2020 table) and
    ``after``: it *holds* when the test's verdict at ``alpha`` is the same and, where it
    finds a difference, the same subgroups are lowest and highest, and it is *untested*
    when it would hold but a compared group has no cohort that ``before`` lacks;
    otherwise it *moved*."""
    out = []
    for outcome, by in analyses:
        old, new = (compare_subgroups(t, outcome, by, exclude=paper.excluded(by), alpha=alpha) for t in (before, after))
        if old.result is None or new.result is None:
            out.append(Finding(outcome, by, "cannot be checked", old.note or describe_comparison(old.result, alpha),
                               new.note or describe_comparison(new.result, alpha)))
            continue

        def ends(result) -> tuple[str, str]:
            ordered = sorted(result.groups, key=lambda g: result.groups[g].estimate)
            return ordered[0], ordered[-1]

        same_verdict = significant(old.result.p, alpha) == significant(new.result.p, alpha)
        same_order = ends(old.result) == ends(new.result)
        holds = same_verdict and (same_order or not significant(old.result.p, alpha))
        unchanged = tuple(g for g in old.result.groups if g in new.result.groups
                          and set(old.result.groups[g].studies["study"]) == set(new.result.groups[g].studies["study"]))
        # A verdict that holds while a compared group gained no cohort was not tested anew there.
        status = ("untested" if unchanged else "holds") if holds else "moved"
        out.append(Finding(outcome, by, status, describe_comparison(old.result, alpha), describe_comparison(new.result, alpha),
                           unchanged))
    return out
