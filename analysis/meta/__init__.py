"""The engine: random-effects meta-analysis of proportions, as R's metafor computes it.

Layers, bottom up: :mod:`~analysis.meta.estimators` (the vectorized model and its τ²
estimators), :mod:`~analysis.meta.escalc` (counts to the pooling scale),
:mod:`~analysis.meta.heterogeneity` (Q-profile intervals), :mod:`~analysis.meta.report`
(printed reports and the one number format), :mod:`~analysis.meta.results` (the result
types), :mod:`~analysis.meta.glmm` (the binomial-normal model),
:mod:`~analysis.meta.proportions` (the entry points), then the analyses built on them:
:mod:`~analysis.meta.regression`, :mod:`~analysis.meta.influence`,
:mod:`~analysis.meta.bias`, :mod:`~analysis.meta.gosh`, :mod:`~analysis.meta.simulation`,
and :mod:`~analysis.meta.single_arm` (exact rates and a trend test for one trial). The
engine knows nothing of files, prose, the paper or the book.
"""

from .bias import EggerTest, RankCorrelation, TrimAndFill, egger_test, peters_test, rank_correlation_test, trim_and_fill
from .effects import PooledEffect, cumulative, cumulative_proportions, effect_from_ci, pool_effects
from .escalc import TRANSFORMS, clopper_pearson
from .estimators import CI_METHODS, TAU2_METHODS, ConvergenceError, HKSJFallbackWarning, VarianceRatioWarning, fit_random_effects
from .gosh import GoshResult, gosh
from .heterogeneity import HeterogeneityCI, heterogeneity_ci
from .influence import influence, leave_one_out
from .proportions import mean_rate, pool_proportions, subgroup_analysis
from .regression import MetaRegression, design_matrix, meta_regression
from .results import PooledProportion, PooledProportionBatch, SubgroupAnalysis

__all__ = [
    "TRANSFORMS",
    "TAU2_METHODS",
    "CI_METHODS",
    "ConvergenceError",
    "VarianceRatioWarning",
    "HKSJFallbackWarning",
    "fit_random_effects",
    "pool_proportions",
    "pool_effects",
    "PooledEffect",
    "effect_from_ci",
    "cumulative",
    "cumulative_proportions",
    "subgroup_analysis",
    "mean_rate",
    "clopper_pearson",
    "PooledProportion",
    "PooledProportionBatch",
    "SubgroupAnalysis",
    "HeterogeneityCI",
    "heterogeneity_ci",
    "MetaRegression",
    "meta_regression",
    "design_matrix",
    "leave_one_out",
    "influence",
    "EggerTest",
    "egger_test",
    "peters_test",
    "rank_correlation_test",
    "trim_and_fill",
    "RankCorrelation",
    "TrimAndFill",
    "GoshResult",
    "gosh",
]
