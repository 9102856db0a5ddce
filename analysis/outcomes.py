"""Pooling an outcome of the study table by name.

Picks the outcome's denominator (``n_safety`` or ``n_response``), the study labels, and
the studies whose event count is known under the extraction rules in force: a study
whose count is missing (e.g. unreported neurotoxicity with ``unreported_neurotox=
"missing"``) is left out, and the result's ``k`` says how many studies were pooled.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from .data import OUTCOMES
from .proportions import PooledProportion, SubgroupAnalysis, pool_proportions, subgroup_analysis

__all__ = ["outcome_rows", "pool_outcome", "subgroup_outcome"]


def outcome_rows(studies: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Studies with a known count of ``outcome``, with ``events`` and ``n`` columns."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of {sorted(OUTCOMES)}")
    known = studies[studies[outcome].notna()].copy()
    known["events"] = known[outcome].astype(int)
    known["n"] = known[OUTCOMES[outcome]]
    return known


def pool_outcome(studies: pd.DataFrame, outcome: str, **options: Any) -> PooledProportion:
    """:func:`~analysis.pool_proportions` of one outcome column (options by name)."""
    rows = outcome_rows(studies, outcome)
    return pool_proportions(rows["events"], rows["n"], labels=rows["label"], **options)


def subgroup_outcome(
    studies: pd.DataFrame, outcome: str, by: str, *, exclude: Sequence[object] = (), **options: Any
) -> SubgroupAnalysis:
    """:func:`~analysis.subgroup_analysis` of one outcome by a category column."""
    rows = outcome_rows(studies, outcome)
    return subgroup_analysis(
        rows["events"], rows["n"], rows[by], labels=rows["label"], exclude=exclude, **options
    )
