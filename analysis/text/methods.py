"""Sentences of the methods chapter: the data described, the model taught by hand, the
coverage simulation and the diagnostics, each made from the numbers it states."""

from __future__ import annotations

import math

from typing import Mapping

import numpy as np

from ..meta.heterogeneity import HeterogeneityCI
from ..meta.results import PooledProportion
from .labels import OUTCOME_NOUNS
from .numbers import interval, join, level_text, number, p_value, percent, plural

__all__ = [
    "noted_sentence",
    "table_sentence",
    "products_sentence",
    "outcome_substitute_note",
    "engine_gap_sentence",
    "heterogeneity_ci_sentence",
    "estimators_sentence",
    "median_mean_sentence",
    "t_interval_sentence",
    "coverage_findings",
    "fairness_sentence",
    "mechanism_sentence",
    "small_k_sentence",
    "too_few_sentence",
    "leave_one_out_sentence",
    "influential_sentence",
    "gosh_sentence",
    "egger_sentence",
    "egger_unavailable",
    "small_study_sentence",
    "trim_fill_sentence",
    "small_study_unavailable",
    "common_random_sentence",
    "glmm_sentence",
]


def noted_sentence(noted: int) -> str:
    """``3 cohorts have`` (the subject of "… such a value")."""
    return plural(noted, "cohort") + (" has" if noted == 1 else " have")


def table_sentence(is_paper: bool) -> str:
    """What the study table is."""
    if is_paper:
        return "Table 1 of the paper, which data/studies.csv transcribes as published (its columns are documented in data/README.md)"
    return "a table other than the paper's Table 1; the chapters treat it the same way"


def products_sentence(k: int, products: int, patients: int) -> str:
    return f"Between them the {plural(k, 'cohort')} used {plural(products, 'CAR-T product')} in {plural(patients, 'patient')}."


def outcome_substitute_note(wanted: str, used: str) -> str:
    """Why the model is taught on another outcome than the one asked for ("" if not)."""
    if wanted == used:
        return ""
    return (f"No cohort of this table reports {OUTCOME_NOUNS.get(wanted, wanted)}, so the model is taught on "
            f"{OUTCOME_NOUNS.get(used, used)} instead.")


def engine_gap_sentence(gap: float) -> str:
    """How closely the by-hand computation and the engine agree."""
    return "the two agree to machine precision" if gap < 1e-12 else f"they differ by {gap:.1e}"


def heterogeneity_ci_sentence(ci: HeterogeneityCI | None) -> str:
    """τ² and I² with their Q-profile intervals, and whether the I² interval is wide."""
    if ci is None:
        return "With a single cohort there is nothing to put an interval on."
    level = f"{100 * ci.level:g}%"
    text = (f"Here τ² = {number(ci.tau2, 2)} with {level} CI {interval(ci.tau2_ci_low, ci.tau2_ci_high, 2, '')}, "
            f"and I² = {number(ci.i2, 0)}% with {level} CI {interval(ci.i2_ci_low, ci.i2_ci_high, 0)}")
    if ci.i2_ci_high - ci.i2_ci_low > 50:
        return text + ": the data are compatible with anything from little to a great deal of heterogeneity."
    return text + "."


def estimators_sentence(fits: Mapping[str, PooledProportion], k: int) -> str:
    """τ² and the pooled rate under each estimator (name -> fit)."""
    if k < 2:
        return "With a single cohort there is no τ² to estimate."
    return "For this outcome " + join([f"{name} gives τ² = {number(fit.tau2, 2)} (pooled rate {percent(100 * fit.estimate)})"
                                       for name, fit in fits.items()]) + "."


def median_mean_sentence(dl_median: float, dl_mean: float, glmm_median: float | None, glmm_mean: float | None,
                         glmm_note: str = "") -> str:
    """The median cohort's rate and the mean rate over cohorts (proportions), under DL and
    the GLMM (None, and why, when the GLMM could not be fitted)."""
    text = (f"For the DerSimonian–Laird fit, the median cohort's rate is {percent(100 * dl_median)} and the mean rate over "
            f"cohorts is {percent(100 * dl_mean)}")
    if glmm_median is None or glmm_mean is None:
        return text + f"; the GLMM cannot be fitted here ({glmm_note})."
    return text + f"; for the GLMM (a logit model too) they are {percent(100 * glmm_median)} and {percent(100 * glmm_mean)}."


def t_interval_sentence(t_fit: PooledProportion | None, z_low: float, z_high: float) -> str:
    """The t prediction interval beside the normal one (proportions)."""
    if t_fit is None:
        return "With fewer than three cohorts the t version has no degrees of freedom."
    return (f"Here it gives {interval(100 * t_fit.pi_low, 100 * t_fit.pi_high)} instead of "
            f"{interval(100 * z_low, 100 * z_high)}.")


def coverage_findings(coverages: Mapping[str, Mapping[str, tuple[float, float]]], nominal: float) -> str:
    """Per generating model, the range of coverage (percent, lowest and highest) of each
    method (model -> method label -> range), against the promised coverage."""
    parts = []
    for model, methods in coverages.items():
        (first, first_range), *rest = methods.items()
        others = [f"{label} in {interval(*r)}" for label, r in rest]
        parts.append(f"under the {model} model {first} covers the target in {interval(*first_range)} of meta-analyses"
                     + (f", {join(others)}" if others else ""))
    return "; ".join(parts) + f", against the promised {number(nominal, 0)}%."


def fairness_sentence(drop: float) -> str:
    """How much lower the GLMM's lowest coverage is when its model is wrong (points; a
    negative drop: higher)."""
    text = (f"The GLMM's lowest coverage is {number(abs(drop), 0)} points {'lower' if drop > 0 else 'higher'} when its model "
            "is wrong than when the data come from it")
    if drop >= 1:
        return text + ": part of its advantage under the first model is the home advantage of the model that made the data."
    return text + "."


def unfitted_glmm_sentence() -> str:
    """Why the GLMM is missing from a coverage comparison."""
    return ("The GLMM is left out: in some scenario every simulated meta-analysis had only studies with no events or "
            "only events (as when cohorts have one patient), and the GLMM has no estimate then.")


def mechanism_sentence(worst: float, threshold: float = 90.0) -> str:
    """Why an interval falls short with many studies, when the worst coverage (percent)
    of the normal-approximation methods is below ``threshold``; "" otherwise."""
    if worst >= threshold:
        return ""
    return ("Where an interval falls short with many studies, the fault lies in its centre rather than its width: for a rare "
            "event the logit of each small study is biased, and the 0.5 added to zero-event studies pushes the pooled rate; "
            "with many studies the interval narrows around the wrong value.")


def small_k_sentence(k: int, lowest: Mapping[str, float]) -> str:
    """The lowest coverage (percent) of each method (label -> value) with ``k`` studies."""
    return (f"For {k} studies — the size of many subgroups — the lowest coverage under the logit-normal model is "
            + join([f"{number(v)}% for {label}" for label, v in lowest.items()]) + ".")


def too_few_sentence(k: int) -> str:
    return f"With {plural(k, 'cohort')}, leave-one-out and influence diagnostics say little and are not run."


def leave_one_out_sentence(lowest: tuple[str, float], highest: tuple[str, float]) -> str:
    """The range of the pooled rate (proportions) with one cohort left out at a time."""
    return (f"Leaving out one cohort at a time moves the pooled rate between {percent(100 * lowest[1])} when {lowest[0]} is "
            f"left out and {percent(100 * highest[1])} when {highest[0]} is.")


def influential_sentence(influential: int) -> str:
    subject = "No cohort" if influential == 0 else plural(influential, "cohort")
    return f"{subject} {'meet' if influential > 1 else 'meets'} metafor's rule of thumb for an influential study."


def gosh_sentence(subsets: int, low: float, high: float) -> str:
    """Where 95% of the subset estimates (proportions) of a GOSH analysis lie."""
    return (f"Here it repeats the meta-analysis in {subsets:,} subsets of the cohorts: 95% of the subset estimates lie between "
            f"{percent(100 * low)} and {percent(100 * high)}.")


def egger_sentence(p: float, limit: float, pooled: float) -> str:
    """Egger's test and its limit estimate against the pooled rate (proportions). The
    funnel's axis is the logit's standard error, which the event rate drives as much as
    the cohort's size, so the sentence speaks of precision, not of size."""
    side = "above" if limit > pooled else "below"
    return (f"Egger's regression test for funnel asymmetry gives {p_value(p)}, and its \"limit\" estimate — the rate "
            f"extrapolated to a cohort of infinite precision — is {percent(100 * limit)}, {side} the pooled "
            f"{percent(100 * pooled)}. On the logit scale a cohort's standard error grows as its rate nears 0% or 100%, "
            "so precision here reflects the rates themselves as much as the cohorts' sizes; the limit is a diagnostic, "
            "not a corrected rate.")


def small_study_sentence(tau: float, rank_p: float, peters_p: float, alpha: float = 0.05) -> str:
    """What the funnel against cohort size shows: the rank correlation of the rates with
    the cohorts' sizes (a direction only when the test finds one) and Peters' test."""
    if math.isfinite(rank_p) and rank_p < alpha:
        trend = (f"larger cohorts report {'higher' if tau > 0 else 'lower'} rates than smaller ones "
                 f"(Kendall's τ = {number(tau, 2)}, {p_value(rank_p)})")
    else:
        trend = (f"the rates show no trend with cohort size that the rank correlation can tell from chance "
                 f"(Kendall's τ = {number(tau, 2)}, {p_value(rank_p)})")
    verdict = "finds" if math.isfinite(peters_p) and peters_p < alpha else "does not find"
    return (f"Against cohort size, {trend}; Peters' regression on 1/n {verdict} small-study effects at the "
            f"{number(100 * alpha, 0)}% level ({p_value(peters_p)}).")


def trim_fill_sentence(k0: int, side: str, filled: float, low: float, high: float, pooled: float,
                       level: float = 0.95) -> str:
    """Trim-and-fill as a sensitivity analysis: how many cohorts it imputes and where the
    pooled rate moves."""
    if k0 == 0:
        return ("Trim-and-fill finds no cohorts missing from either side of the funnel, so the pooled rate "
                f"stays at {percent(100 * pooled)}.")
    direction = "higher" if filled > pooled else "lower"
    where = "below" if side == "left" else "above"
    return (f"Trim-and-fill imputes {plural(k0, 'cohort')} {where} the pooled value; with {'it' if k0 == 1 else 'them'} "
            f"the pooled rate would be {percent(100 * filled)} ({level_text(level)} CI {interval(100 * low, 100 * high)}), "
            f"{direction} than the {percent(100 * pooled)} of the cohorts as reported. It assumes that the asymmetry "
            "is publication bias, which for single-arm rates is a strong assumption: read it as a sensitivity "
            "analysis, not as a corrected estimate.")


def egger_unavailable(why: str) -> str:
    return f"Egger's regression test cannot be run on these cohorts: {why}."


def small_study_unavailable(why: str, what: str = "The small-study tests") -> str:
    return f"{what} cannot be run on these cohorts: {why}."


def common_random_sentence(common: PooledProportion, random: PooledProportion) -> str:
    """The common-effect and the random-effects result side by side, and the question
    each answers."""
    ratio = (random.ci_high - random.ci_low) / (common.ci_high - common.ci_low)
    largest = int(np.argmax(common.studies["weight"].to_numpy()))
    width = (f"{number(ratio, 1)} times as wide" if ratio >= 1.05 else
             "about as wide" if ratio > 0.95 else f"{number(1 / ratio, 1)} times narrower")
    return (f"The common-effect model assumes one true rate shared by every cohort and estimates it as "
            f"{percent(100 * common.estimate)} ({level_text(common.level)} CI {interval(100 * common.ci_low, 100 * common.ci_high)}); "
            f"the random-effects model lets each cohort have its own true rate and estimates the centre of their "
            f"distribution as {percent(100 * random.estimate)} ({level_text(random.level)} CI "
            f"{interval(100 * random.ci_low, 100 * random.ci_high)}), an interval {width}. The largest common-effect weight, "
            f"{percent(common.studies['weight'].iat[largest])} for {common.studies['study'].iat[largest]}, becomes "
            f"{percent(random.studies['weight'].iat[largest])} under random effects.")


def glmm_sentence(glmm: PooledProportion | None, normal: PooledProportion, note: str = "") -> str:
    """The binomial-normal model's pooled rate and τ² against the normal approximation's."""
    if glmm is None:
        return f"The binomial-normal model cannot be fitted to these cohorts: {note}."
    return (f"Fitted by maximum likelihood, the binomial-normal model gives a pooled rate of {percent(100 * glmm.estimate)} "
            f"with τ² = {number(glmm.tau2, 3)} on the logit scale, against {percent(100 * normal.estimate)} and "
            f"τ² = {number(normal.tau2, 3)} from the normal approximation with DerSimonian–Laird's τ².")
