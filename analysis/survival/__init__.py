"""Survival: Kaplan–Meier medians and marginal Cox models as R's survival package gives
them (:mod:`~analysis.survival.kaplan_meier`), and individual patient data rebuilt from
digitized curves with Guyot's algorithm (:mod:`~analysis.survival.reconstruct`)."""

from .kaplan_meier import (
    CONF_TYPES,
    CoxResult,
    KaplanMeier,
    MedianSurvival,
    compare_groups,
    group_medians,
    kaplan_meier,
    km_median,
    marginal_cox,
)
from .reconstruct import (
    RISE_TOLERANCE,
    CleaningStep,
    CurveError,
    Reconstruction,
    ReconstructionError,
    clean_curve,
    digitize_km,
    reconstruct_arms,
    reconstruct_ipd,
    round_trip,
)

__all__ = [
    "CONF_TYPES",
    "KaplanMeier",
    "MedianSurvival",
    "CoxResult",
    "kaplan_meier",
    "km_median",
    "marginal_cox",
    "group_medians",
    "compare_groups",
    "RISE_TOLERANCE",
    "CleaningStep",
    "CurveError",
    "Reconstruction",
    "ReconstructionError",
    "reconstruct_ipd",
    "reconstruct_arms",
    "clean_curve",
    "digitize_km",
    "round_trip",
]
