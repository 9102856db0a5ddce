"""The review: what is specific to the 2020 paper (:mod:`~analysis.review.paper`), its
outcomes pooled by name from a study table (:mod:`~analysis.review.outcomes`), the
covariates' gaps (:mod:`~analysis.review.covariates`), two editions of the table side by
side (:mod:`~analysis.review.editions`), what a haematologist asks of the evidence
since 2020 (:mod:`~analysis.review.evidence`), the risk of bias and certainty of the
evidence (:mod:`~analysis.review.quality`) and the published numbers beside the
computed ones (:mod:`~analysis.review.reproduction`)."""

from . import editions, evidence, paper, quality, reproduction, response, toxicity
from .covariates import CovariateGaps, covariate_gaps, inferred_counts
from .outcomes import (
    MARKS,
    MODELS,
    DoseRegression,
    SubgroupComparison,
    compare_subgroups,
    dose_regression,
    fit_or_note,
    forest_marks,
    model_sensitivity,
    outcome_rows,
    paper_comparison,
    pool_outcome,
    pooled_table,
    rule_sensitivity,
    subgroup_outcome,
    subgroup_table,
    try_pool,
)

__all__ = [
    "paper",
    "editions",
    "evidence",
    "quality",
    "reproduction",
    "toxicity",
    "response",
    "CovariateGaps",
    "covariate_gaps",
    "inferred_counts",
    "MARKS",
    "MODELS",
    "DoseRegression",
    "SubgroupComparison",
    "compare_subgroups",
    "dose_regression",
    "fit_or_note",
    "forest_marks",
    "model_sensitivity",
    "outcome_rows",
    "paper_comparison",
    "pool_outcome",
    "pooled_table",
    "rule_sensitivity",
    "subgroup_outcome",
    "subgroup_table",
    "try_pool",
]
