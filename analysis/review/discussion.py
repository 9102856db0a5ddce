"""The discussion's numbers: the pooled outcomes, their heterogeneity, the GLMM beside
the paper's model, and the paper's subgroup comparisons, on any study table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from ..meta.proportions import mean_rate
from ..meta.results import PooledProportion
from ..text import overview as words
from ..text import phrasing
from . import paper
from .covariates import inferred_counts
from .outcomes import SubgroupComparison, fit_or_note, paper_comparison, try_pool

__all__ = ["DiscussionResults", "discussion_results"]


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
