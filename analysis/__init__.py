"""Analysis package of the BCMA CAR-T literate review.

Its subpackages are its layers, each importing only those below it:

- :mod:`analysis.meta` -- the engine: random-effects meta-analysis as metafor computes it;
- :mod:`analysis.survival` -- Kaplan–Meier, Cox and the Guyot reconstruction;
- :mod:`analysis.text` -- labels, number formats and the sentences made from numbers;
- :mod:`analysis.inputs` -- the only code that opens a data file, checked;
- :mod:`analysis.review` -- the 2020 paper's choices, its outcomes, editions, reproduction;
- :mod:`analysis.teaching` -- the model by hand and the exercises' worked answers;
- :mod:`analysis.plots` -- the figures;
- :mod:`analysis.book` -- glue, tables and notes for the chapter notebooks.

This face keeps the names code written against the README uses
(``analysis.pool_proportions``, ``analysis.load_studies``, …).
"""

from .inputs import (
    CATEGORIES,
    OUTCOMES,
    RULE_OPTIONS,
    ExtractionRules,
    InputError,
    StudyDataError,
    load_covariates,
    load_published,
    load_studies,
    with_covariates,
)
from .meta import (
    ConvergenceError,
    EggerTest,
    GoshResult,
    HeterogeneityCI,
    MetaRegression,
    PooledProportion,
    PooledProportionBatch,
    SubgroupAnalysis,
    clopper_pearson,
    egger_test,
    peters_test,
    rank_correlation_test,
    trim_and_fill,
    gosh,
    heterogeneity_ci,
    influence,
    leave_one_out,
    mean_rate,
    meta_regression,
    pool_effects,
    pool_proportions,
    subgroup_analysis,
)
from .review import MODELS, model_sensitivity, outcome_rows, pool_outcome, rule_sensitivity, subgroup_outcome

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "RULE_OPTIONS",
    "ExtractionRules",
    "InputError",
    "StudyDataError",
    "load_studies",
    "load_published",
    "load_covariates",
    "with_covariates",
    "ConvergenceError",
    "PooledProportion",
    "PooledProportionBatch",
    "SubgroupAnalysis",
    "pool_proportions",
    "pool_effects",
    "subgroup_analysis",
    "clopper_pearson",
    "mean_rate",
    "HeterogeneityCI",
    "heterogeneity_ci",
    "MetaRegression",
    "meta_regression",
    "leave_one_out",
    "influence",
    "EggerTest",
    "egger_test",
    "peters_test",
    "rank_correlation_test",
    "trim_and_fill",
    "GoshResult",
    "gosh",
    "MODELS",
    "model_sensitivity",
    "outcome_rows",
    "pool_outcome",
    "rule_sensitivity",
    "subgroup_outcome",
]
