"""The paper's subgroup tests taken together: each test for subgroup differences with
its Holm-adjusted p-value (statsmodels' ``multipletests``), and how many differences
survive the adjustment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..text.labels import FACTOR_LABELS, OUTCOME_LABELS
from ..text.numbers import p_value
from ..text.phrasing import ALPHA, multiplicity_sentence
from . import paper
from .outcomes import compare_subgroups

__all__ = ["SubgroupTests", "subgroup_tests", "TESTED"]

#: Every subgroup test the book reports: the paper's comparisons and ORR by product feature.
TESTED: tuple[tuple[str, str], ...] = (*paper.SUBGROUP_ANALYSES, *(("orr", by) for by in paper.ORR_FACTORS))


@dataclass(frozen=True)
class SubgroupTests:
    """One row per subgroup test the table supports (``table``: outcome, factor, p,
    Holm-adjusted p, below ``alpha`` before and after), the tests it cannot run, and the
    sentence."""

    table: pd.DataFrame
    not_run: tuple[str, ...]
    sentence: str

    def display(self) -> pd.DataFrame:
        """The tests for readers."""
        t = self.table
        return pd.DataFrame({
            "Comparison": [f"{OUTCOME_LABELS[o]} by {FACTOR_LABELS[b]}" for o, b in zip(t["outcome"], t["by"])],
            "p": t["p"].map(p_value), "Holm-adjusted p": t["p_holm"].map(p_value),
            "Significant": t["raw"].map({True: "yes", False: "no"}),
            "Significant after Holm": t["holm"].map({True: "yes", False: "no"}),
        })


def subgroup_tests(studies: pd.DataFrame, alpha: float = ALPHA) -> SubgroupTests:
    """Holm's step-down adjustment over every test of :data:`TESTED` the table supports
    (the family-wise error rate held at ``alpha``)."""
    rows, not_run = [], []
    for outcome, by in TESTED:
        comparison = compare_subgroups(studies, outcome, by, exclude=paper.excluded(by), alpha=alpha)
        if comparison.result is None or not np.isfinite(comparison.result.p):
            not_run.append(f"{OUTCOME_LABELS[outcome].lower()} by {FACTOR_LABELS[by]}")
            continue
        rows.append({"outcome": outcome, "by": by, "p": float(comparison.result.p)})
    table = pd.DataFrame(rows, columns=["outcome", "by", "p"])
    if len(table):
        holm, adjusted, _, _ = multipletests(table["p"], alpha=alpha, method="holm")
        table = table.assign(p_holm=adjusted, raw=table["p"] < alpha, holm=holm)
    else:
        table = table.assign(p_holm=[], raw=[], holm=[])
    sentence = multiplicity_sentence(len(table), int(table["raw"].sum()), int(table["holm"].sum()), alpha, not_run)
    return SubgroupTests(table, tuple(not_run), sentence)
