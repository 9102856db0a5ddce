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
    load_published,
    load_studies,
)
from .outcomes import outcome_rows, pool_outcome, rule_sensitivity, subgroup_outcome
from .proportions import (
    PooledProportion,
    SubgroupAnalysis,
    clopper_pearson,
    pool_proportions,
    subgroup_analysis,
)

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "RULE_OPTIONS",
    "ExtractionRules",
    "PooledProportion",
    "StudyDataError",
    "SubgroupAnalysis",
    "clopper_pearson",
    "load_published",
    "load_studies",
    "outcome_rows",
    "pool_outcome",
    "subgroup_outcome",
    "pool_proportions",
    "rule_sensitivity",
    "subgroup_analysis",
]
