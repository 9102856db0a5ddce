"""The discussion's numbers: the pooled outcomes, their heterogeneity, the GLMM beside
the paper's model, and the paper's subgroup comparisons, on any study table."""

from __future__ import annotations


from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..meta.proportions import mean_rate
from ..meta.results import PooledProportion
from ..text import overview as words
from ..text import phrasing
from ..text.numbers import number
from ..text.paper import leading_number
from . import paper
from .covariates import inferred_counts
from .outcomes import SubgroupComparison, fit_or_note, paper_comparison, try_pool

__all__ = ["DiscussionResults", "discussion_results", "table2_display", "ORR_PARTS"]


@dataclass(frozen=True)
class DiscussionResults:
    fits: Mapping[str, PooledProportion | None]
    glmm: Mapping[str, PooledProportion | None]
    comparisons: Mapping[str, SubgroupComparison]
    sentences: Mapping[str, str]


def discussion_results(studies: pd.DataFrame, is_paper: bool, covariates_file: str, *, alpha: float = phrasing.ALPHA,
                       exclude_groups: Sequence[str] = paper.NOT_COMPARED) -> DiscussionResults:
    fits = {o: try_pool(studies, o)[0] for o in paper.OUTCOMES}
    glmm = {o: fit_or_note(lambda o=o: try_pool(studies, o, method="glmm")[0])[0] for o in ("neurotox", "cr")}
    comparisons = {f"{o}_{by}": paper_comparison(studies, o, by, exclude_groups, alpha) for o, by in paper.SUBGROUP_ANALYSES}
    neuro_dl, neuro_glmm = fits.get("neurotox"), glmm.get("neurotox")
    both = neuro_dl is not None and neuro_glmm is not None
    sentences = {
        "summary": words.summary_sentence(fits),
        "heterogeneity": words.heterogeneity_range_sentence({o: f for o, f in fits.items() if f is not None and f.k >= 2}),
        "glmm": words.glmm_sentence(glmm, mean_rate(neuro_dl.mu, neuro_dl.tau2) if both else None,
                                    mean_rate(neuro_glmm.mu, neuro_glmm.tau2) if both else None),
        "inferred_groups": phrasing.inferred_sentence(inferred_counts(studies), len(studies), covariates_file),
        "limits_note": words.limits_note(is_paper),
        **{key: c.sentence for key, c in comparisons.items()},
    }
    return DiscussionResults(fits, glmm, comparisons, sentences)


#: Table 2 prints objective response and, under it, its parts: MRD-negative CR, the other
#: CRs, VGPR and PR (they add up to ORR). Row -> its label for readers.
ORR_PARTS: dict[str, str] = {
    "MRD-negative CR (%)": "of which MRD-negative CR (%)",
    "CR (%)": "of which CR, not MRD-negative (%)",
    "VGPR (%)": "of which VGPR (%)",
    "PR (%)": "of which PR (%)",
}
TOTAL_CR = "CR in all (%), computed: MRD-negative CR + other CR"


def table2_display(table2: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 2 for readers: the parts of ORR labelled as parts, and the total
    CR, which the table does not print, computed from its two CR rows (shown as computed)."""
    shown = table2.drop(columns="section").rename(columns={"characteristic": "Characteristic"})
    trials = [c for c in shown.columns if c != "Characteristic"]
    by_row = shown.set_index("Characteristic")
    if all(part in by_row.index for part in ("MRD-negative CR (%)", "CR (%)")):
        total = {"Characteristic": TOTAL_CR}
        for trial in trials:
            values = [leading_number(by_row.loc[part, trial]) for part in ("MRD-negative CR (%)", "CR (%)")]
            total[trial] = number(sum(values), 0) if all(v is not None for v in values) else "—"
        at = int(np.flatnonzero(shown["Characteristic"] == "CR (%)")[0]) + 1
        shown = pd.concat([shown.iloc[:at], pd.DataFrame([total]), shown.iloc[at:]], ignore_index=True)
    shown["Characteristic"] = shown["Characteristic"].replace(ORR_PARTS)
    return shown

