"""Analysis package of the BCMA CAR-T literate review.

Small, flat and typed: each module holds one concept and is used by the book's chapter
notebooks and tested against R (metafor) fixtures in ``tests/``.
"""

from .data import (
    CATEGORIES,
    OUTCOMES,
    RULE_OPTIONS,
    ExtractionRules,
    StudyDataError,
    load_covariates,
    load_published,
    load_studies,
    with_covariates,
)
from .bias import EggerTest, egger_test
from .estimators import ConvergenceError
from .gosh import GoshResult, gosh
from .heterogeneity import HeterogeneityCI, heterogeneity_ci
from .influence import influence, leave_one_out
from .outcomes import MODELS, model_sensitivity, outcome_rows, pool_outcome, rule_sensitivity, subgroup_outcome
from .proportions import (
    PooledProportion,
    PooledProportionBatch,
    SubgroupAnalysis,
    clopper_pearson,
    mean_rate,
    pool_proportions,
    subgroup_analysis,
)
from .regression import MetaRegression, meta_regression

__all__ = [
    "MODELS",
    "model_sensitivity",
    "ConvergenceError",
    "EggerTest",
    "GoshResult",
    "HeterogeneityCI",
    "MetaRegression",
    "PooledProportionBatch",
    "egger_test",
    "gosh",
    "heterogeneity_ci",
    "influence",
    "leave_one_out",
    "meta_regression",
    "CATEGORIES",
    "OUTCOMES",
    "RULE_OPTIONS",
    "ExtractionRules",
    "PooledProportion",
    "StudyDataError",
    "SubgroupAnalysis",
    "clopper_pearson",
    "mean_rate",
    "load_covariates",
    "with_covariates",
    "load_published",
    "load_studies",
    "outcome_rows",
    "pool_outcome",
    "subgroup_outcome",
    "pool_proportions",
    "rule_sensitivity",
    "subgroup_analysis",
]
